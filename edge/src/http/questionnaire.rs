//! The 標準的な質問票 over HTTP:
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /api/questionnaire?lang=` | anyone | the 22 items as data in one language (no personal data: the resident's tablet and paper pages read it) |
//! | `POST /api/questionnaire/sessions/{session_id}/answers` | reception, venue admin, who works at 問診 | a resident's own answers (tablet or paper) handed on by staff |
//!
//! Both are thin: the answers go to [`crate::venue::Core::answer_questionnaire`], which
//! every channel shares.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::questionnaire::{self, Channel, Lang, QuestionnaireView};
use checkup_protocol::{Answered, Role, StationKind};
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Path, Query};
use crate::auth::Staff;
use crate::venue::questionnaire::{Answer, Submitted};

/// The query of `GET /api/questionnaire`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct LangQuery {
    /// `ja` (default), `ja-easy`, `en`, `zh-Hans`, `ko`, `vi`, `pt-BR` or `tl`.
    lang: Option<String>,
}

/// The language asked for (Japanese when none is), or the documented refusal.
pub(crate) fn parse_lang(tag: Option<&str>) -> Result<Lang, ApiError> {
    Lang::requested(tag)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unknown_language", e.to_string()))
}

/// The language a resident answered in: one of the eight tags, else 400 `unknown_language`.
pub(crate) fn answer_lang(tag: &str) -> Result<Lang, ApiError> {
    // An answer names its language: an empty tag is refused, not read as Japanese.
    if tag.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_language",
            "an answer names the language it was given in: one of ja, ja-easy, en, zh-Hans, ko, vi, pt-BR, tl",
        ));
    }
    parse_lang(Some(tag))
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
        (status = 400, description = "`unknown_language`, `bad_request`", body = ErrorBody),
    ),
    security(()),
)]
pub(crate) async fn questionnaire(Query(q): Query<LangQuery>) -> Response {
    match parse_lang(q.lang.as_deref()) {
        Ok(lang) => Json(questionnaire::view(lang)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Whether `staff` may hand on a resident's own answers and hand a tablet over to a
/// resident: reception, venue admin, and everyone who works at 問診 (nurses, doctors,
/// station technicians bound to it).
pub(crate) fn may_hand_on_answers(staff: &Staff) -> bool {
    matches!(staff.role, Role::Reception | Role::VenueAdmin)
        || crate::venue::may_work_at(staff, StationKind::Questionnaire)
}

/// The refusal for staff who may not hand on answers.
pub(crate) fn not_for_role(staff: &Staff) -> ApiError {
    ApiError::forbidden(format!(
        "{}の権限では質問票の回答を扱えません / role {} may not hand on questionnaire answers",
        staff.role.label_ja(),
        staff.role
    ))
}

/// Body of `POST /api/questionnaire/sessions/{session_id}/answers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswersRequest {
    /// How the resident answered: `tablet` or `paper` (`phone` answers come from central,
    /// `interview` ones are the nurse's, recorded at the station).
    via: Channel,
    /// The language the resident read the questions in (`ja`, `ja-easy`, `en`, `zh-Hans`,
    /// `ko`, `vi`, `pt-BR`, `tl`).
    lang: String,
    /// The answers, at most one per item.
    answers: Vec<Answer>,
}

/// Parse an answers body: malformed JSON → 400 `malformed_request`, unknown language →
/// 400 `unknown_language`.
fn parse_answers(body: &[u8]) -> Result<(Channel, Lang, Vec<Answer>), ApiError> {
    let req: AnswersRequest =
        serde_json::from_slice(body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let lang = answer_lang(&req.lang)?;
    Ok((req.via, lang, req.answers))
}

/// `POST /api/questionnaire/sessions/{session_id}/answers`
#[utoipa::path(
    post,
    path = "/api/questionnaire/sessions/{session_id}/answers",
    tag = "questionnaire",
    params(("session_id" = Uuid, Path, description = "The resident's open checkup session")),
    description = "A resident's own questionnaire answers, handed on by staff (reception, venue \
                   admin, who works at 問診): each new item is recorded, an equal answer is left \
                   as it is (a retry changes nothing), a changed one is corrected with a reason \
                   naming the channel. Stored whole or not at all. `via` is `tablet` or `paper`.",
    request_body(content = AnswersRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What the submission changed", body = Submitted),
        (status = 400, description = "`malformed_request`, `malformed_path`, `unknown_language`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`; `resident_mode`: this browser is handed to a resident", body = ErrorBody),
        (status = 409, description = "`session_not_open`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`: an item or answer code that is not on the questionnaire, an item twice, a channel staff do not hand on, or a course without 問診", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn answers(
    State(state): State<AppState>,
    staff: Staff,
    Path(session_id): Path<Uuid>,
    Body(body): Body,
) -> Result<Json<Submitted>, ApiError> {
    if !may_hand_on_answers(&staff) {
        return Err(not_for_role(&staff));
    }
    let (via, lang, answers) = parse_answers(&body)?;
    if via == Channel::Phone {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
            "スマートフォンの回答は本庁から届きます / phone answers come from central, not from staff",
        ));
    }
    let done = state
        .core
        .answer_questionnaire(&staff, session_id, &answers, Answered { via, lang })
        .await?;
    Ok(Json(done))
}
