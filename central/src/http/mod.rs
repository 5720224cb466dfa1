//! Central's HTTP API: one file per concern, the error answer they share.
//!
//! | route | who | what | file |
//! |---|---|---|---|
//! | `GET /healthz` | anyone | liveness, events held, batches stored by this process and refused by reason (no personal data) | here |
//! | `POST /v1/batches` | an enrolled box (`Authorization: Bearer <secret>`) | a JSON array of signed events, received whole ([`checkup_protocol::batch`]) and stored exactly once; answers a [`checkup_protocol::central::BatchAck`] | [`ingest`] |
//! | `POST /v1/wipes` | an enrolled box | a forced wipe into the audit trail | [`ingest`] |
//! | `POST /v1/login` | staff | `{"staff_id","pin"}` → session cookie (sessions in the database: any central process honours them), and what she may do | [`session`] |
//! | `POST /v1/logout` | staff | end the session (and its live flag stream) | [`session`] |
//! | `GET /v1/residents?q=&birth=` | central admin, nurse, doctor, caseworker | search the register by id, name or kana (and birth date) | [`records`] |
//! | `POST /v1/residents` | central admin | import register rows (CSV: `resident_id,name,name_kana,birth_date,sex,address`, optional `postal_code` (郵便番号)) | [`records`] |
//! | `GET /v1/residents/{id}/record?purpose=` | by [`crate::access`]: admin; health staff in duty (else with `purpose`, flagged); caseworkers for their cases' people with `purpose` | the resident's record (健康かるて); audited with purpose | [`records`] |
//! | `GET /v1/residents/{id}/tokutei.zip` | central admin | the resident's every checkup as standard 特定健診 documents, for the central they move to; audited | [`transfer`] |
//! | `POST /v1/residents/{id}/imports` | central admin | import another municipality's documents for the local resident; audited | [`transfer`] |
//! | `GET /v1/export.csv?from=&to=` | central admin | one row per resident per item, current values; audited | [`export`] |
//! | `GET /api/questionnaire?lang=` | anyone | the 標準的な質問票 in one language (no personal data) | [`questionnaire`] |
//! | `POST /v1/questionnaire/invitations` | central admin | one-time questionnaire links (`/q/{token}`) with their QR codes for the 受診券 | [`invitations`] |
//! | `GET /v1/questionnaire/answers?checkup=` | central admin | every pre-answer of a checkup, the file for a box offline; audited | [`invitations`] |
//! | `POST /v1/questionnaire/answers/lookup` | an enrolled box | the pre-answers of the residents it names; audited | [`invitations`] |
//! | `GET /q/{token}`, `POST /api/q/{token}/answers` | a resident with a one-time link | the questionnaire on their phone before the day | [`resident`] |
//! | `GET /v1/tokutei/insurers?from=&to=` | central admin | the insurers with checkups in the period, with counts | [`tokutei`] |
//! | `POST /v1/tokutei/check` | central admin | `{"insurer","from","to"}` → examinees and every failure (resident, item, Japanese); audited | [`tokutei`] |
//! | `GET /v1/tokutei/archive?insurer=&from=&to=` | central admin | the MHLW 特定健診 zip, only when nothing fails (else 422 with the failures); 503 `tokutei_not_configured` without `[tokutei]`; audited | [`tokutei`] |
//! | `GET /v1/notices`, `GET /v1/notices/{case_id}` | child-welfare clerk, caseworker (a case also health 係長+ with `purpose`) | the child-welfare intake queue; audited | [`notices`] |
//! | `GET /v1/notices/{case_id}/photos`, `…/photos/{photo_id}` | child-welfare 係長+, the case's assigned caseworkers | the case's photos forwarded from the boxes (list; the JPEG, `no-store`); every view and refusal audited | [`photos`] |
//! | `POST /v1/notices/{case_id}/caseworkers`, `…/members` | child-welfare 係長+ (members also the case's caseworker) | who works a case, its children and guardians | [`access`] |
//! | `GET /v1/residents/{id}/access-report` | central admin, auditor | who read the resident's data, when, why (開示請求) | [`access`] |
//! | `GET /v1/access/flagged` | 係長+ | reads outside duties in her department | [`access`] |
//! | `POST /v1/residents/{id}/flags`, `GET /v1/flags`, `GET /v1/flags/stream` | health staff raise; child welfare (and health 係長+) see, live | high-risk flags | [`flags`] |
//!
//! | `GET /openapi.json` | anyone | the OpenAPI 3.1 document made from the handlers' annotations | [`openapi`] |
//!
//! Every refusal is an [`ApiError`], answered as a
//! [`checkup_protocol::central::ErrorAnswer`] `{"error": code, "message": text}`; axum's own
//! refusals too ([`extract`]). The route table is [`routes`]: each handler carries its
//! documentation (`#[utoipa::path]`), so a route cannot be served without being documented.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::BatchError;
use checkup_protocol::central::ErrorAnswer;
use serde::Serialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::DbError;
use crate::server::AppState;

pub mod access;
pub mod export;
pub mod extract;
pub mod flags;
pub mod ingest;
pub mod invitations;
pub mod notices;
pub mod openapi;
pub mod photos;
pub mod questionnaire;
pub mod records;
pub mod resident;
pub mod session;
pub mod tokutei;
pub mod transfer;

/// Central's route table, each route with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(openapi::document_json))
        .routes(routes!(crate::web::page))
        .routes(routes!(healthz))
        .routes(routes!(questionnaire::questionnaire))
        .routes(routes!(ingest::batches))
        .routes(routes!(ingest::wipes))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(records::search, records::import_residents))
        .routes(routes!(records::record))
        .routes(routes!(transfer::export))
        .routes(routes!(transfer::import))
        .routes(routes!(export::export))
        .routes(routes!(tokutei::insurers))
        .routes(routes!(tokutei::check))
        .routes(routes!(tokutei::archive))
        .routes(routes!(notices::notices))
        .routes(routes!(notices::notice))
        .routes(routes!(photos::case_photos))
        .routes(routes!(photos::case_photo))
        .routes(routes!(access::assign))
        .routes(routes!(access::add_member))
        .routes(routes!(access::access_report))
        .routes(routes!(access::flagged))
        .routes(routes!(flags::raise))
        .routes(routes!(flags::list))
        .routes(routes!(flags::stream))
        .routes(routes!(invitations::invite))
        .routes(routes!(invitations::export))
        .routes(routes!(invitations::lookup))
        .routes(routes!(resident::page))
        .routes(routes!(resident::answers))
}

/// An error answered as `{"error": code, "message": …}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 500 for a failure of central's own making.
    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorAnswer {
            error: self.code.to_owned(),
            message: self.message,
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is still on the wire unread: say the connection
            // ends here so no client sends its next request down it.
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        resp
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Equivocation { .. } => {
                ApiError::new(StatusCode::CONFLICT, "seq_conflict", e.to_string())
            }
            _ => {
                tracing::error!(error = %e, "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "storage failed; retry later",
                )
            }
        }
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// Liveness (`GET /healthz`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    status: &'static str,
    /// Events held.
    events: u64,
    /// Batches refused since start, by error code.
    rejected: BTreeMap<&'static str, u64>,
    /// Batches this process stored since it started (of several central processes on one
    /// database, each counts its own).
    batches_stored: u64,
    /// TLS handshakes refused since start.
    tls_handshakes_refused: u64,
}

/// `GET /healthz`: liveness, events held, and batches refused since start by reason (no
/// personal data).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "status",
    description = "Liveness, events held, batches refused since start by reason (no personal \
                   data, no sign-in).",
    responses(
        (status = 200, description = "Alive", body = Health),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(()),
)]
pub(crate) async fn healthz(State(s): State<AppState>) -> Result<Response, ApiError> {
    let events = s.owner.event_count().await?;
    let rejected = s.rejected.snapshot();
    let handshakes = s
        .handshakes
        .get()
        .map_or(0, |h| h.refused.load(std::sync::atomic::Ordering::Relaxed));
    Ok(Json(Health {
        status: "ok",
        events,
        rejected,
        batches_stored: s.batches_stored.load(std::sync::atomic::Ordering::Relaxed),
        tls_handshakes_refused: handshakes,
    })
    .into_response())
}
