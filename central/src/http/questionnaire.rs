//! The 標準的な質問票 as data: `GET /api/questionnaire?lang=`, the same document the boxes
//! serve. No sign-in: it holds no personal data, and residents' phones read it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::central::ErrorAnswer;
use checkup_protocol::questionnaire::{self, Lang, QuestionnaireView};
use serde::Deserialize;

use super::ApiError;
use super::extract::Query;

/// The query of `GET /api/questionnaire`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct LangQuery {
    /// `ja` (default), `ja-easy`, `en`, `zh-Hans`, `ko`, `vi`, `pt-BR` or `tl`.
    lang: Option<String>,
}

/// The language asked for, or the documented refusal.
pub(crate) fn parse_lang(tag: Option<&str>) -> Result<Lang, ApiError> {
    Lang::requested(tag)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unknown_language", e.to_string()))
}

/// `GET /api/questionnaire?lang=`: the 22 items in one language, each with its code, the
/// question, and its answers with their codes, the Japanese beside every text.
#[utoipa::path(
    get,
    path = "/api/questionnaire",
    tag = "questionnaire",
    params(LangQuery),
    description = "The standard questionnaire (標準的な質問票, 22 items) in one language: item \
                   codes, questions and answers with their codes, and the Japanese beside \
                   each. No sign-in: it holds no personal data.",
    responses(
        (status = 200, description = "The questionnaire", body = QuestionnaireView),
        (status = 400, description = "`unknown_language`, `bad_request`", body = ErrorAnswer),
    ),
    security(()),
)]
pub(crate) async fn questionnaire(Query(q): Query<LangQuery>) -> Response {
    match parse_lang(q.lang.as_deref()) {
        Ok(lang) => Json(questionnaire::view(lang)).into_response(),
        Err(e) => e.into_response(),
    }
}
