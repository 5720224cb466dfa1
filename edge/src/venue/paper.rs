//! A scanned paper questionnaire read back into the session it was printed for, whoever
//! passes it on: a staff member's upload (`POST /api/questionnaire/paper`) or the scanner's
//! folder ([`crate::paper_inbox`], as [`inbox_actor`]). One command, [`Core::read_paper`].
//!
//! Reading is box detection only (`checkup_drivers::questionnaire_form`): each page's QR
//! code names the session, resident, page and language. A file is refused whole when no
//! page can be read, when its pages name more than one session, a session that is not open
//! here, another session than the one the staff member has open, or another resident than
//! the session's. Otherwise, under the session's result lock and as one batch:
//!
//! - every item with exactly one ticked box and nothing unclear is the resident's answer,
//!   via paper in the form's language ([`Core::answer_questionnaire`]'s decisions: new,
//!   unchanged, or a correction naming the channel);
//! - each page read is a `questionnaire_paper_read` event naming the items it decided and
//!   those it sent to the nurse, with the reason and the marks seen. The projection keeps
//!   an item in the session's `paper_review` until an answer of it is recorded after that
//!   read, so the review survives a reload and is seen on every tablet and box.
//!
//! An item answered on one page of the file is not sent to review from another copy of the
//! same page in that file.

use std::collections::BTreeSet;

use checkup_drivers::questionnaire_form::{self as form, ItemOutcome, ReadError};
use checkup_drivers::scan::{Limits, Reader, ScanError};
use checkup_protocol::questionnaire::{Answered, Channel, Lang};
use checkup_protocol::{EventBody, PaperMark, PaperReviewItem, QuestionnairePaperRead, Role};
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;

use super::questionnaire::{Answer, Submitted};
use super::{Core, VenueError};
use crate::auth::Staff;

/// Pages of a scanned file read at most (a form has up to three).
pub const MAX_PAGES: usize = 6;

/// The staff id the scanner's folder acts under. Configured staff may not take it
/// (`system:` ids are refused by the configuration check).
pub const INBOX_STAFF_ID: &str = "system:paper-inbox";

/// The actor of what the scanner's folder records: the box itself, on behalf of the venue
/// (role `venue_admin`, which may pass a resident's own answers on but record nothing by
/// hand), named so the log tells it from every person.
pub fn inbox_actor() -> Staff {
    Staff {
        id: INBOX_STAFF_ID.into(),
        name: "スキャナの取り込みフォルダ / scanner folder".into(),
        role: Role::VenueAdmin,
        stations: Vec::new(),
        rank: Default::default(),
    }
}

/// A scanned file to read.
#[derive(Debug, Clone)]
pub struct PaperScan {
    /// File name (its extension tells the type when the content does not).
    pub name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The session the staff member has open: a form of another session is refused.
    pub expected: Option<Uuid>,
    /// Size and pixel limits.
    pub limits: Limits,
}

/// Why a scanned file was refused whole (nothing is recorded). Each has a stable code
/// ([`PaperError::code`]); the messages are Japanese / English.
#[derive(Debug, Error)]
pub enum PaperError {
    /// The file is not an image or PDF that can be decoded within the limits.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// No page could be read as a form: the reason of each page.
    #[error("質問票として読めませんでした / no page could be read as a questionnaire form: {0}")]
    Unreadable(String),
    /// The QR code names no session of this box.
    #[error("この質問票の受診はこの会場にありません / the form names no session of this box")]
    UnknownSession,
    /// The pages name more than one session.
    #[error(
        "この用紙には別の受診者の質問票が混ざっています / the file holds forms of more than one session"
    )]
    MixedSessions,
    /// The form is of another session than the one the staff member has open.
    #[error(
        "この質問票は別の受診者のものです / the form belongs to session {form}, not {expected}"
    )]
    OtherSession {
        /// The form's session.
        form: Uuid,
        /// The session named by the staff member.
        expected: Uuid,
    },
    /// The form's resident is not the session's.
    #[error("質問票の受診者IDが受診記録と一致しません / the form's resident is not the session's")]
    ResidentMismatch,
    /// The rules refused (session not open, …) or the store failed.
    #[error(transparent)]
    Venue(#[from] VenueError),
    /// The work directory could not be made, or the reading task failed.
    #[error("読み取りに失敗しました / reading failed: {0}")]
    Internal(String),
}

impl PaperError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            PaperError::Scan(e) => e.code(),
            PaperError::Unreadable(_) => "form_unreadable",
            PaperError::UnknownSession => "not_found",
            PaperError::MixedSessions => "mixed_sessions",
            PaperError::OtherSession { .. } => "other_session",
            PaperError::ResidentMismatch => "form_resident_mismatch",
            PaperError::Venue(e) => e.code(),
            PaperError::Internal(_) => "internal",
        }
    }
}

/// An item answered from paper.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaperAnswer {
    /// Number on the form.
    pub number: u8,
    /// Item code.
    pub item_code: String,
    /// Answer code.
    pub code: String,
}

/// An item the nurse must look at.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

/// One page of the file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaperPage {
    /// Page of the file (1-based).
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaperResult {
    /// The session the form belongs to.
    pub session_id: Uuid,
    /// The language of the form.
    pub lang: String,
    /// Each page of the file.
    pub pages: Vec<PaperPage>,
    /// What was recorded from the answers taken (and the pages' read events).
    pub submitted: Submitted,
}

/// Each page of a file (1-based) with what its reading gave.
type ReadPages = Vec<(usize, Result<form::PageRead, ReadError>)>;

/// A serde-named enum value as its name (`several_ticked`, `ticked`, …).
fn name_of(v: impl Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Decode the file and read each page (blocking: pixels and PDF rendering).
fn read_pages(scan: &PaperScan) -> Result<ReadPages, PaperError> {
    // PDFs are rendered in a private directory removed when done.
    let work = tempfile::tempdir().map_err(|e| PaperError::Internal(e.to_string()))?;
    let pages = Reader::new(scan.limits)
        .first_pages(MAX_PAGES)
        .work_dir(work.path())
        .read_bytes(&scan.name, &scan.bytes)?;
    Ok(pages
        .iter()
        .map(|p| (p.number, form::read_page(&p.image)))
        .collect())
}

impl Core {
    /// Read a scanned paper questionnaire passed on by `staff` (a person's upload, or
    /// [`inbox_actor`] for the scanner's folder) and record what it gives; see the module
    /// documentation. Refused whole, with nothing recorded, on any [`PaperError`].
    pub async fn read_paper(
        &self,
        staff: &Staff,
        scan: PaperScan,
    ) -> Result<PaperResult, PaperError> {
        let expected = scan.expected;
        let read = tokio::task::spawn_blocking(move || read_pages(&scan))
            .await
            .map_err(|e| PaperError::Internal(e.to_string()))??;
        let mut session: Option<(Uuid, form::FormId)> = None;
        let mut failures = Vec::new();
        for (n, r) in &read {
            match r {
                Ok(page) => {
                    let id = page
                        .id
                        .session
                        .parse::<Uuid>()
                        .map_err(|_| PaperError::UnknownSession)?;
                    match &session {
                        None => session = Some((id, page.id.clone())),
                        Some((s, _)) if *s != id => return Err(PaperError::MixedSessions),
                        Some(_) => {}
                    }
                }
                Err(e) => failures.push(format!("p{n}: {e}")),
            }
        }
        let Some((sid, fid)) = session else {
            return Err(PaperError::Unreadable(failures.join("; ")));
        };
        if let Some(e) = expected
            && e != sid
        {
            return Err(PaperError::OtherSession {
                form: sid,
                expected: e,
            });
        }
        let resident = self
            .store
            .projection()
            .session_by_id(sid)
            .map(|s| s.resident_id.clone())
            .ok_or(PaperError::UnknownSession)?;
        if resident != fid.resident {
            return Err(PaperError::ResidentMismatch);
        }
        let (pages, mut answers, reads) = outcomes(read, sid, &resident, fid.lang);
        // The same page scanned twice gives the same answers twice: keep one.
        answers.sort_by(|a, b| a.item_code.cmp(&b.item_code));
        answers.dedup_by(|a, b| a.item_code == b.item_code && a.code == b.code);
        let answered = Answered {
            via: Channel::Paper,
            lang: fid.lang,
        };
        super::questionnaire::check_answers(&answers, answered)?;
        let submitted = self
            .submit_answers(staff, sid, &answers, answered, reads)
            .await?;
        Ok(PaperResult {
            session_id: sid,
            lang: fid.lang.tag().into(),
            pages,
            submitted,
        })
    }
}

/// What each page gave: the pages as shown to the nurse, the answers taken, and one
/// `questionnaire_paper_read` per page read (an item answered on any page of the file is
/// not sent to review from another).
fn outcomes(
    read: ReadPages,
    session: Uuid,
    resident: &str,
    lang: Lang,
) -> (Vec<PaperPage>, Vec<Answer>, Vec<EventBody>) {
    let answered_anywhere: BTreeSet<&'static str> = read
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flat_map(|p| p.items.iter())
        .filter(|it| matches!(it.outcome, ItemOutcome::Answer { .. }))
        .map(|it| it.item_code)
        .collect();
    let mut answers = Vec::new();
    let mut pages = Vec::new();
    let mut reads = Vec::new();
    for (n, r) in &read {
        let page = match r {
            Err(e) => {
                pages.push(PaperPage {
                    file_page: *n,
                    form_page: None,
                    error: Some(e.code().into()),
                    message: Some(e.to_string()),
                    answers: vec![],
                    unanswered: vec![],
                    review: vec![],
                });
                continue;
            }
            Ok(page) => page,
        };
        let mut out = PaperPage {
            file_page: *n,
            form_page: Some(page.id.page),
            error: None,
            message: None,
            answers: vec![],
            unanswered: vec![],
            review: vec![],
        };
        let mut event = QuestionnairePaperRead {
            session_id: session,
            resident_id: resident.to_owned(),
            lang,
            page: page.id.page,
            answered: vec![],
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
                    if !event.answered.iter().any(|c| c == it.item_code) {
                        event.answered.push(it.item_code.into());
                    }
                }
                ItemOutcome::Unanswered => out.unanswered.push(it.number),
                ItemOutcome::Review { reason } => {
                    out.review.push(PaperReview {
                        number: it.number,
                        item_code: it.item_code.into(),
                        reason: name_of(reason),
                        reason_ja: reason.label_ja().into(),
                        boxes: it
                            .boxes
                            .iter()
                            .map(|b| format!("{}:{}", b.code, name_of(b.mark)))
                            .collect(),
                    });
                    if !answered_anywhere.contains(it.item_code)
                        && !event.review.iter().any(|r| r.item_code == it.item_code)
                    {
                        event.review.push(PaperReviewItem {
                            item_code: it.item_code.into(),
                            reason: name_of(reason),
                            marked: it
                                .boxes
                                .iter()
                                .filter(|b| b.mark != form::BoxMark::Empty)
                                .map(|b| PaperMark {
                                    code: b.code.into(),
                                    mark: name_of(b.mark),
                                })
                                .collect(),
                        });
                    }
                }
            }
        }
        pages.push(out);
        reads.push(EventBody::QuestionnairePaperRead(event));
    }
    (pages, answers, reads)
}
