//! The paper questionnaire at the box: the printable form of a resident's session
//! (`GET /questionnaire/paper/{session_id}?lang=`) and a scanned form read back
//! (`POST /api/questionnaire/paper`).
//!
//! Reading and recording is [`crate::venue::Core::read_paper`] (the same command the
//! scanner's folder uses): every item with exactly one ticked box and nothing unclear is
//! taken (via paper, in the language of the form); every other item goes to the nurse with
//! its reason, stored in the session (`paper_review`) so it is seen after a reload and on
//! every tablet. This is the checkup side: the child-welfare scan inbox is not touched (its
//! limits are only borrowed for the file size).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_drivers::questionnaire_form::{self as form, PrintPage};
use checkup_drivers::scan::Limits;
use serde::Deserialize;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Query};
use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::venue::paper::{PaperError, PaperResult, PaperScan};

/// The query of the printable form.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct PaperQuery {
    /// The resident's language, printed beside the Japanese: `ja` (default), `ja-easy`,
    /// `en`, `zh-Hans`, `ko`, `vi`, `pt-BR` or `tl`.
    lang: Option<String>,
}

fn session_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse::<Uuid>()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such session"))
}

/// `GET /questionnaire/paper/{session_id}?lang=`: the form to print, A4, positioned in mm.
#[utoipa::path(
    get,
    path = "/questionnaire/paper/{session_id}",
    tag = "questionnaire",
    description = "The paper questionnaire of an open session, as an HTML page laid out in \
                   millimetres for A4 (print it, or save it as PDF, at 100 % with no margins). \
                   Each page carries a QR code naming the session, the resident, the page and \
                   the language, and four corner squares for reading it back. Audited as a \
                   read of the resident.",
    params(("session_id" = String, Path, description = "Session id (UUID)"), PaperQuery),
    responses(
        (status = 200, description = "The printable form", content_type = "text/html", body = String),
        (status = 400, description = "`unknown_language`, `malformed_query`, `malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`session_not_open`", body = ErrorBody),
        (status = 422, description = "`resident_id_unprintable`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn print_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PaperQuery>,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    let lang = super::questionnaire::parse_lang(q.lang.as_deref())?;
    let id = session_id(&id)?;
    let (resident, open) = state
        .store
        .projection()
        .session_by_id(id)
        .map(|s| {
            (
                s.resident_id.clone(),
                s.opened.is_some() && s.closed.is_none(),
            )
        })
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no session {id}"),
            )
        })?;
    if !open {
        return Err(crate::venue::VenueError::SessionNotOpen(id).into());
    }
    state
        .core
        .audit_read(
            &staff,
            vec![resident.clone()],
            &format!("GET /questionnaire/paper/{id}"),
        )
        .await?;
    let pages = PrintPage::form(&id.to_string(), &resident, lang);
    let html = form::document(&pages).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "resident_id_unprintable",
            format!("この受診者IDは質問票に印刷できません / {e}"),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// The query of a scanned form's upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct ScanQuery {
    /// The session the staff member has open: a form of another session is refused.
    session: Option<String>,
    /// File name (its extension tells the type when the content does not).
    name: Option<String>,
}

fn paper_error(e: PaperError) -> ApiError {
    use checkup_drivers::scan::ScanError;
    let status = match &e {
        // The rules' and the store's own answers.
        PaperError::Venue(_) => None,
        PaperError::Scan(ScanError::FileTooLarge { .. }) => Some(StatusCode::PAYLOAD_TOO_LARGE),
        PaperError::Scan(ScanError::Io { .. }) | PaperError::Internal(_) => {
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        }
        PaperError::UnknownSession => Some(StatusCode::NOT_FOUND),
        PaperError::OtherSession { .. } => Some(StatusCode::CONFLICT),
        PaperError::Scan(_)
        | PaperError::Unreadable(_)
        | PaperError::MixedSessions
        | PaperError::ResidentMismatch => Some(StatusCode::UNPROCESSABLE_ENTITY),
    };
    match (e, status) {
        (PaperError::Venue(v), _) => v.into(),
        (e, status) => ApiError::new(
            status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.code(),
            e.to_string(),
        ),
    }
}

/// `POST /api/questionnaire/paper`: a scanned paper questionnaire (the file is the body).
#[utoipa::path(
    post,
    path = "/api/questionnaire/paper",
    operation_id = "paper_upload",
    tag = "questionnaire",
    description = "Read a scanned paper questionnaire (PDF, TIFF, PNG or JPEG as the body; up \
                   to six pages) by box detection. Items with exactly one ticked box and \
                   nothing unclear are recorded as the resident's answers (via paper, in the \
                   form's language); the others come back for the nurse with the reason and \
                   stay in the session's `paper_review` (`GET /api/sessions/{id}`) until an \
                   answer is recorded after the read. Each page read is a \
                   `questionnaire_paper_read` event. The QR code names the session: a form of a closed session, of another resident, or \
                   of another session than `session` is refused whole.",
    params(ScanQuery),
    request_body(content = super::extract::FileBytes, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Read; answers taken, the rest for review", body = PaperResult),
        (status = 400, description = "`empty_file`, `malformed_query`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`session_not_open`, `other_session`", body = ErrorBody),
        (status = 413, description = "`file_too_large`, `body_too_large`", body = ErrorBody),
        (status = 422, description = "`form_unreadable` (no page read: the reason of each is in the message), `mixed_sessions`, `form_resident_mismatch`, `not_an_image`, `corrupt_image`, `pdf_unreadable`, `too_many_pages`, `too_many_pixels`, `page_too_large`, `too_many_pixels_in_all`, `invalid_payload`", body = ErrorBody),
        (status = 500, description = "`io`, `internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ScanQuery>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    if body.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_file",
            "the file is empty",
        ));
    }
    let expected = match q.session.as_deref() {
        Some(s) => Some(s.parse::<Uuid>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_query",
                "session is not a session id",
            )
        })?),
        None => None,
    };
    let limits = Limits {
        max_file_bytes: state.inbox.max_file_bytes(),
        ..Limits::default()
    };
    let scan = PaperScan {
        name: q.name.unwrap_or_else(|| "questionnaire".into()),
        bytes: body.to_vec(),
        expected,
        limits,
    };
    let read = state
        .core
        .read_paper(&staff, scan)
        .await
        .map_err(paper_error)?;
    Ok(Json(read).into_response())
}
