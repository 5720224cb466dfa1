//! The 特定健診 XML archive from the web page: the insurers a period holds, the check of an
//! insurer's records (every failure by resident and item, in Japanese), and the archive
//! itself as a download — built in a temporary directory and streamed, only when nothing
//! fails. Central admin only; each check and each download is audited. The gathering,
//! checking and writing are [`crate::tokutei::export`]'s, the same the command line runs.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::export::valid_date;
use super::extract::{Body, Query};
use super::session::{Signed, staff};
use crate::db::InsurerCount;
use crate::server::AppState;
use crate::tokutei::archive::ExportError;
use crate::tokutei::export::{Built, Outcome, RunError, Settings, build, export};
use crate::tokutei::validate::Failure;

/// A period of checkup days.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Period {
    /// First day, `YYYY-MM-DD`.
    from: String,
    /// Last day, `YYYY-MM-DD`, not before `from`.
    to: String,
}

/// An insurer and a period.
#[derive(Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArchiveRequest {
    /// 保険者番号 (6 or 8 digits).
    insurer: String,
    /// First day, `YYYY-MM-DD`.
    from: String,
    /// Last day, `YYYY-MM-DD`, not before `from`.
    to: String,
}

/// The insurers of a period (`GET /v1/tokutei/insurers`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Insurers {
    /// First day.
    from: String,
    /// Last day.
    to: String,
    /// Each insurer with checkups of its insured in the period, by number.
    insurers: Vec<InsurerCount>,
}

/// One reason a record cannot go into the archive.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FailureAnswer {
    /// Central's resident id (empty for the archive as a whole).
    resident_id: String,
    /// The resident's name from the register, when there is one.
    resident_name: Option<String>,
    /// The item's 17-digit code, when the failure is about an item.
    item_code: Option<String>,
    /// The item's or field's name in Japanese.
    item_name_ja: String,
    /// What is wrong, in Japanese.
    message_ja: String,
}

/// The check of an insurer's records (`POST /v1/tokutei/check`; also beside the error of a
/// refused `GET /v1/tokutei/archive`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CheckAnswer {
    /// 保険者番号.
    insurer: String,
    /// First day.
    from: String,
    /// Last day.
    to: String,
    /// Checkups (examinees) of the insurer in the period.
    examinees: usize,
    /// No failure: the archive can be downloaded.
    ok: bool,
    /// Every failure, by resident and item (empty when `ok`).
    failures: Vec<FailureAnswer>,
}

/// A refused download (422): the shared error, with the check's fields beside it.
#[derive(Serialize)]
struct Refused {
    /// `records_failed`.
    error: &'static str,
    /// How many failures, in Japanese and English.
    message: String,
    /// The check, every failure listed.
    #[serde(flatten)]
    check: CheckAnswer,
}

fn bad_range() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_range",
        "from and to are dates YYYY-MM-DD, from ≤ to",
    )
}

fn check_period(from: &str, to: &str) -> Result<(), ApiError> {
    if !valid_date(from) || !valid_date(to) || from > to {
        return Err(bad_range());
    }
    Ok(())
}

fn check_request(r: &ArchiveRequest) -> Result<(), ApiError> {
    let digits = r.insurer.bytes().all(|b| b.is_ascii_digit());
    if !digits || !(r.insurer.len() == 6 || r.insurer.len() == 8) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_insurer",
            "保険者番号は6桁または8桁の数字です / an insurer number is 6 or 8 digits",
        ));
    }
    check_period(&r.from, &r.to)
}

/// The settings, or 503 `tokutei_not_configured` saying what is missing.
fn settings(s: &AppState) -> Result<&Settings, ApiError> {
    s.tokutei_export.as_ref().as_ref().map_err(|why| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "tokutei_not_configured",
            why.clone(),
        )
    })
}

fn run_error(e: RunError) -> ApiError {
    match e {
        RunError::Db(e) => e.into(),
        RunError::Archive(ExportError::Empty) => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_checkups",
            "この期間にこの保険者の健診はありません / no checkup of this insurer in the period",
        ),
        RunError::Archive(e @ ExportError::Xsd(_)) => {
            tracing::error!(error = %e, "MHLW schemas");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "tokutei_not_configured",
                format!("厚労省のXMLスキーマを読めません / the MHLW schemas: {e}"),
            )
        }
        RunError::Archive(e) => ApiError::internal(e),
    }
}

/// Today in Japan: the archive's creation date.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
}

/// The failures with the residents' names from the register.
async fn answer_failures(
    db: &dyn crate::db::Store,
    failures: Vec<Failure>,
) -> Result<Vec<FailureAnswer>, ApiError> {
    let mut names = std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(failures.len());
    for f in failures {
        if !f.resident_id.is_empty() && !names.contains_key(&f.resident_id) {
            let name = db.resident(&f.resident_id).await?.map(|r| r.name);
            names.insert(f.resident_id.clone(), name);
        }
        out.push(FailureAnswer {
            resident_name: names.get(&f.resident_id).cloned().flatten(),
            resident_id: f.resident_id,
            item_code: f.item_code,
            item_name_ja: f.item_name_ja,
            message_ja: f.message_ja,
        });
    }
    Ok(out)
}

/// `GET /v1/tokutei/insurers?from=&to=`
#[utoipa::path(
    get,
    path = "/v1/tokutei/insurers",
    tag = "tokutei",
    description = "The insurers whose insured residents had checkups in the period, each with \
                   how many, by insurer number: what a 特定健診 archive can be made for \
                   (central admin).",
    params(Period),
    responses(
        (status = 200, description = "The insurers", body = Insurers),
        (status = 400, description = "`bad_range`, `malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn insurers(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Period>,
) -> Result<Response, ApiError> {
    let Signed { db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    check_period(&q.from, &q.to)?;
    let insurers = db.insurers_between(&q.from, &q.to).await?;
    Ok(Json(Insurers {
        from: q.from,
        to: q.to,
        insurers,
    })
    .into_response())
}

/// `POST /v1/tokutei/check` `{"insurer","from","to"}`
#[utoipa::path(
    post,
    path = "/v1/tokutei/check",
    tag = "tokutei",
    description = "Check an insurer's checkups of the period against MHLW's business rules and \
                   XSDs, as the archive would hold them: how many examinees, and every failure \
                   by resident and item in Japanese. Nothing is written (central admin; \
                   audited).",
    request_body = ArchiveRequest,
    responses(
        (status = 200, description = "Checked (`ok` false: failures listed)", body = CheckAnswer),
        (status = 400, description = "`malformed_request`, `bad_insurer`, `bad_range`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 404, description = "`no_checkups`: none of this insurer in the period", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
        (status = 503, description = "`tokutei_not_configured` (no `[tokutei]`, or its files \
                                      cannot be read), `storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn check(
    State(s): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    let r: ArchiveRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))?;
    check_request(&r)?;
    let settings = settings(&s)?;
    let outcome = export(
        db.as_ref(),
        settings,
        &r.insurer,
        (&r.from, &r.to),
        today(),
        None,
    )
    .await
    .map_err(run_error)?;
    let examinees = db
        .checkups_of_insurer(&r.insurer, &r.from, &r.to)
        .await?
        .len();
    let failures = match outcome {
        Outcome::Refused(f) => f,
        Outcome::Checked(_) | Outcome::Written(..) => Vec::new(),
    };
    db.audit(
        &who,
        "tokutei_check",
        &format!(
            "{} {}..{} ({examinees} examinees, {} failures)",
            r.insurer,
            r.from,
            r.to,
            failures.len()
        ),
    )
    .await?;
    Ok(Json(CheckAnswer {
        ok: failures.is_empty(),
        failures: answer_failures(db.as_ref(), failures).await?,
        insurer: r.insurer,
        from: r.from,
        to: r.to,
        examinees,
    })
    .into_response())
}

/// `GET /v1/tokutei/archive?insurer=&from=&to=`
#[utoipa::path(
    get,
    path = "/v1/tokutei/archive",
    tag = "tokutei",
    description = "The insurer's 特定健診 archive of the period (MHLW 第4期: `ix08_V08.xml`, \
                   `DATA/` hc08 documents, `XSD/`) as a zip named by the standard, built only \
                   when every record passes the checks — otherwise 422 with every failure. \
                   Nothing is kept on the server (central admin; audited).",
    params(ArchiveRequest),
    responses(
        (status = 200, description = "The archive", content_type = "application/zip", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"{sender}_{insurer}_{YYYYMMDD}{n}_{実施区分}.zip\"`"))),
        (status = 400, description = "`bad_insurer`, `bad_range`, `malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 404, description = "`no_checkups`: none of this insurer in the period", body = ErrorAnswer),
        (status = 422, description = "`records_failed`: nothing built; beside `error` and \
                                      `message`, the fields of the check (`examinees`, `ok`, \
                                      `failures` by resident and item)", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
        (status = 503, description = "`tokutei_not_configured` (no `[tokutei]`, or its files \
                                      cannot be read), `storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn archive(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(r): Query<ArchiveRequest>,
) -> Result<Response, ApiError> {
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    check_request(&r)?;
    let settings = settings(&s)?;
    let built = build(db.as_ref(), settings, &r.insurer, (&r.from, &r.to), today())
        .await
        .map_err(run_error)?;
    match built {
        Built::Archive {
            file_name,
            bytes,
            examinees,
        } => {
            db.audit(
                &who,
                "tokutei_export",
                &format!(
                    "{} {}..{} ({examinees} examinees) {file_name}",
                    r.insurer, r.from, r.to
                ),
            )
            .await?;
            let disposition =
                HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
                    .map_err(ApiError::internal)?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/zip"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                bytes,
            )
                .into_response())
        }
        Built::Refused(failures) => {
            let examinees = db
                .checkups_of_insurer(&r.insurer, &r.from, &r.to)
                .await?
                .len();
            db.audit(
                &who,
                "tokutei_export_refused",
                &format!(
                    "{} {}..{} ({examinees} examinees, {} failures)",
                    r.insurer,
                    r.from,
                    r.to,
                    failures.len()
                ),
            )
            .await?;
            let n = failures.len();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(Refused {
                    error: "records_failed",
                    message: format!(
                        "{n} 件の不備があるため書き出しません / not built: {n} failure(s)"
                    ),
                    check: CheckAnswer {
                        ok: false,
                        failures: answer_failures(db.as_ref(), failures).await?,
                        insurer: r.insurer,
                        from: r.from,
                        to: r.to,
                        examinees,
                    },
                }),
            )
                .into_response())
        }
    }
}
