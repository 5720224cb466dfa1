//! The paper questionnaire at the box: the printable form of a resident's session
//! (`GET /questionnaire/paper/{session_id}?lang=`) and a scanned form read back
//! (`POST /api/questionnaire/paper`).
//!
//! Reading is box detection only (`checkup_drivers::questionnaire_form`): each page's QR
//! code names the session, resident, page and language; every item with exactly one
//! ticked box and nothing unclear is taken through [`crate::venue::Core::answer_questionnaire`]
//! (via paper, in the language of the form); every other item goes back to the nurse with
//! its reason. This is the checkup side: the child-welfare scan inbox is not touched (its
//! limits are only borrowed for the file size).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_drivers::questionnaire_form::{self as form, ItemOutcome, PrintPage};
use checkup_drivers::scan::{Limits, Reader};
use checkup_protocol::questionnaire::{Answered, Channel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Query};
use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::venue::questionnaire::{Answer, Submitted};

/// Pages of a scanned file read at most (a form has up to three).
pub const MAX_PAGES: usize = 6;

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

/// An item answered from paper.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaperAnswer {
    /// Number on the form.
    pub number: u8,
    /// Item code.
    pub item_code: String,
    /// Answer code.
    pub code: String,
}

/// An item the nurse must look at.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaperReview {
    /// Number on the form.
    pub number: u8,
    /// Item code.
    pub item_code: String,
    /// `several_ticked`, `faint`, `unclear` or `box_not_found`.
    pub reason: String,
    /// The reason in Japanese.
    pub reason_ja: String,
    /// What each box held (`code:mark`, mark one of empty, ticked, filled, faint,
    /// unclear, not_found).
    pub boxes: Vec<String>,
}

/// One page of the uploaded file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaperPage {
    /// Page of the uploaded file (1-based).
    pub file_page: usize,
    /// Page of the form, from its QR code (absent when the page was not read).
    pub form_page: Option<u8>,
    /// Why the page could not be read (`fiducials_not_found`, `qr_not_found`, …): the
    /// whole page goes to the nurse.
    pub error: Option<String>,
    /// The message for it.
    pub message: Option<String>,
    /// Items answered.
    pub answers: Vec<PaperAnswer>,
    /// Items with nothing ticked.
    pub unanswered: Vec<u8>,
    /// Items for the nurse.
    pub review: Vec<PaperReview>,
}

/// What a scanned form gave.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaperResult {
    /// The session the form belongs to.
    pub session_id: Uuid,
    /// The language of the form.
    pub lang: String,
    /// Each page of the file.
    pub pages: Vec<PaperPage>,
    /// What was recorded from the answers taken.
    pub submitted: Submitted,
}

fn scan_error(e: checkup_drivers::scan::ScanError) -> ApiError {
    use checkup_drivers::scan::ScanError;
    let status = match &e {
        ScanError::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        ScanError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.code(), e.to_string())
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
                   form's language); the others come back for the nurse with the reason. The QR \
                   code names the session: a form of a closed session, of another resident, or \
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
    let name = q.name.unwrap_or_else(|| "questionnaire".into());
    let read = super::error::blocking("reading a paper questionnaire", move || {
        // PDFs are rendered in a private directory removed when done.
        let work = tempfile::tempdir()
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "io", e.to_string()))?;
        let pages = Reader::new(limits)
            .first_pages(MAX_PAGES)
            .work_dir(work.path())
            .read_bytes(&name, &body)
            .map_err(scan_error)?;
        Ok::<_, ApiError>(
            pages
                .iter()
                .map(|p| (p.number, form::read_page(&p.image)))
                .collect::<Vec<_>>(),
        )
    })
    .await??;
    let mut session: Option<(Uuid, form::FormId)> = None;
    let mut failures = Vec::new();
    for (n, r) in &read {
        match r {
            Ok(page) => {
                let Ok(id) = page.id.session.parse::<Uuid>() else {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "the form names no session of this box",
                    ));
                };
                match &session {
                    None => session = Some((id, page.id.clone())),
                    Some((s, _)) if *s != id => {
                        return Err(ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "mixed_sessions",
                            "この用紙には別の受診者の質問票が混ざっています / the file holds forms of more than one session",
                        ));
                    }
                    Some(_) => {}
                }
            }
            Err(e) => failures.push(format!("p{n}: {e}")),
        }
    }
    let Some((sid, fid)) = session else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_unreadable",
            format!(
                "質問票として読めませんでした / no page could be read as a questionnaire form: {}",
                failures.join("; ")
            ),
        ));
    };
    if let Some(e) = expected
        && e != sid
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "other_session",
            format!(
                "この質問票は別の受診者のものです / the form belongs to session {sid}, not {e}"
            ),
        ));
    }
    let resident = state
        .store
        .projection()
        .session_by_id(sid)
        .map(|s| s.resident_id.clone())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no session {sid}"),
            )
        })?;
    if resident != fid.resident {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_resident_mismatch",
            "質問票の受診者IDが受診記録と一致しません / the form's resident is not the session's",
        ));
    }
    let mut answers = Vec::new();
    let mut pages = Vec::new();
    for (n, r) in read {
        match r {
            Err(e) => pages.push(PaperPage {
                file_page: n,
                form_page: None,
                error: Some(e.code().into()),
                message: Some(e.to_string()),
                answers: vec![],
                unanswered: vec![],
                review: vec![],
            }),
            Ok(page) => {
                let mut out = PaperPage {
                    file_page: n,
                    form_page: Some(page.id.page),
                    error: None,
                    message: None,
                    answers: vec![],
                    unanswered: vec![],
                    review: vec![],
                };
                for it in &page.items {
                    match &it.outcome {
                        ItemOutcome::Answer { code } => {
                            answers.push(Answer {
                                item_code: it.item_code.into(),
                                code: (*code).into(),
                            });
                            out.answers.push(PaperAnswer {
                                number: it.number,
                                item_code: it.item_code.into(),
                                code: (*code).into(),
                            });
                        }
                        ItemOutcome::Unanswered => out.unanswered.push(it.number),
                        ItemOutcome::Review { reason } => out.review.push(PaperReview {
                            number: it.number,
                            item_code: it.item_code.into(),
                            reason: serde_json::to_value(reason)
                                .ok()
                                .and_then(|v| v.as_str().map(String::from))
                                .unwrap_or_default(),
                            reason_ja: reason.label_ja().into(),
                            boxes: it
                                .boxes
                                .iter()
                                .map(|b| {
                                    format!(
                                        "{}:{}",
                                        b.code,
                                        serde_json::to_value(b.mark)
                                            .ok()
                                            .and_then(|v| v.as_str().map(String::from))
                                            .unwrap_or_default()
                                    )
                                })
                                .collect(),
                        }),
                    }
                }
                pages.push(out);
            }
        }
    }
    // The same page scanned twice gives the same answers twice: keep one.
    answers.sort_by(|a, b| a.item_code.cmp(&b.item_code));
    answers.dedup_by(|a, b| a.item_code == b.item_code && a.code == b.code);
    let submitted = state
        .core
        .answer_questionnaire(
            &staff,
            sid,
            &answers,
            Answered {
                via: Channel::Paper,
                lang: fid.lang,
            },
        )
        .await?;
    Ok(Json(PaperResult {
        session_id: sid,
        lang: fid.lang.tag().into(),
        pages,
        submitted,
    })
    .into_response())
}
