//! The clerk's review pages and the caseworkers' live case list.
//!
//! - `GET /intake` (child-welfare clerk): upload scans, see the inbox (uploads and hot-folder
//!   files) live, open one: every field beside the image crop it was read from, fields below
//!   the review threshold or flagged by the box (label text, foreign characters:
//!   [`crate::intake::flags`]) highlighted with their reason, correct by typing, save as a
//!   case.
//! - `GET /cases` (clerk and caseworker): saved cases, live — a case saved on any box of the
//!   venue appears as soon as replication brings the event.
//!
//! API: `POST /api/intake/scans?name=FILE` (the file as the body), `GET /api/intake/scans`,
//! `GET /api/intake/scans/{id}`, `GET /api/intake/scans/{id}/crops/{field}`,
//! `POST /api/intake/scans/{id}/case`, `GET /api/intake/events` (SSE),
//! `GET /api/cases`, `GET /api/cases/events` (SSE). Every other role gets 403.
//!
//! Photos of a case (injuries): `POST /api/cases/{id}/photos?note=TEXT` (a caseworker; the
//! photo as the body, from the tablet's camera or a file, at most 10 MB; an optional
//! `Idempotency-Key` header, one per photo chosen, makes a resend after a lost answer keep
//! it once), stripped of its metadata and re-encoded by [`crate::intake::photo`] and kept as
//! a `case_photo_added` event; `GET /api/cases/{id}/photos` and `GET /api/cases/{id}/photos/{photo}` (the JPEG),
//! for a child-welfare 係長 and above or one of the case's caseworkers
//! ([`crate::venue::rules::may_see_case_photos`]). The case list carries each case's photos
//! to those who may see them, and its live stream sends the list again when a photo arrives
//! from any box of the venue.
//!
//! Reads are audited like health-record reads: whatever shows a notice's content — a scan
//! with what was read (`GET /api/intake/scans/{id}`), a field's crop, the case list
//! (`GET /api/cases` and each update of `GET /api/cases/events`) — first appends a
//! `case_viewed` event naming the scan and the cases shown (a photo's view names its case,
//! the photo in the purpose) (at most
//! [`checkup_protocol::notice::MAX_VIEWED_CASES`] an event; a longer list gives several, appended together), durably,
//! and returns nothing if that fails. The event is in the child-welfare compartment: the
//! log withholds it from every other role. The inbox list and its live updates carry what
//! each scan is and where it is in its life, never what was read.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use checkup_drivers::notice::{fields as nf, wareki};
use checkup_protocol::notice::NOTICE_FIELDS;
use checkup_protocol::{EventBody, EventKind, NoticeField, NoticeIntakeSaved, NoticeSource, Role};
use futures::stream::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::extract::{Body, Path, Query};
use super::{AppState, require};

/// Who works the intake.
const CLERK: &[Role] = &[Role::ChildWelfareClerk];
/// Who may see the child-welfare compartment.
const CHILD_WELFARE: &[Role] = &[Role::ChildWelfareClerk, Role::Caseworker];
/// Who photographs a case.
const CASEWORKER: &[Role] = &[Role::Caseworker];
use super::pages::{LangQuery, visitor};
use crate::auth::Staff;
use crate::http::error::{ApiError, ErrorBody};
use crate::intake::inbox::{InboxError, Origin, Scan, Status};
use crate::ui::Who;

/// Record, durably, that `staff` is being shown scan `scan` and/or `cases` (`case_viewed`
/// events, [`checkup_protocol::notice::MAX_VIEWED_CASES`] cases each, appended together), before the data goes out.
async fn audit_view(
    state: &AppState,
    staff: &Staff,
    scan: Option<Uuid>,
    cases: &[Uuid],
    purpose: String,
) -> Result<(), ApiError> {
    Ok(state
        .core
        .audit_case_read(staff, scan, cases, &purpose)
        .await?)
}

/// A scan as the inbox lists it: what it is and where it is in its life, never what was
/// read (that is shown, and audited, one scan at a time).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ListedScan {
    /// Scan id.
    id: Uuid,
    /// File name as received.
    file: String,
    /// Upload or hot folder.
    origin: Origin,
    /// Milliseconds since the epoch when received.
    received_ms: u64,
    /// Where it is.
    status: Status,
    /// Why it could not be read: `{code, message}`.
    error: Option<Value>,
    /// The case it was saved as.
    case_id: Option<Uuid>,
}

fn listed(s: &Scan) -> ListedScan {
    ListedScan {
        id: s.id,
        file: s.file.clone(),
        origin: s.origin,
        received_ms: s.received_ms,
        status: s.status,
        error: s.error.clone(),
        case_id: s.case_id,
    }
}

/// The inbox (`GET /api/intake/scans` and each update of `GET /api/intake/events`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Scans {
    /// Every scan, newest first.
    scans: Vec<ListedScan>,
}

/// `GET /intake`
#[utoipa::path(
    get,
    path = "/intake",
    tag = "pages",
    description = "The clerk's review page (child-welfare clerk).",
    params(super::pages::LangQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to `/login`", headers(("Location" = String, description = "`/login`"))),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
        (status = 403, description = "The role may not (page)", content_type = "text/html", body = String),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn intake_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let v = match visitor(&state, &headers, &q, CLERK) {
        Ok(v) => v,
        Err(answer) => return *answer,
    };
    let markup = crate::ui::intake::intake_page(v.lang, &Who::from(&v.staff));
    v.answer(Html(markup.into_string()).into_response())
}

/// `GET /cases`
#[utoipa::path(
    get,
    path = "/cases",
    tag = "pages",
    description = "Saved cases, live (child-welfare clerk and caseworker).",
    params(super::pages::LangQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to `/login`", headers(("Location" = String, description = "`/login`"))),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
        (status = 403, description = "The role may not (page)", content_type = "text/html", body = String),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn cases_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let v = match visitor(&state, &headers, &q, CHILD_WELFARE) {
        Ok(v) => v,
        Err(answer) => return *answer,
    };
    let markup = crate::ui::intake::cases_page(
        v.lang,
        &Who::from(&v.staff),
        v.staff.role == Role::ChildWelfareClerk,
        v.staff.role == Role::Caseworker,
    );
    v.answer(Html(markup.into_string()).into_response())
}

/// The uploaded file's name.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    /// File name (default `scan`).
    name: Option<String>,
}

fn inbox_error(e: InboxError) -> ApiError {
    match e {
        InboxError::TooLarge(..) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            e.to_string(),
        ),
        InboxError::Empty => ApiError::new(StatusCode::BAD_REQUEST, "empty_file", e.to_string()),
        InboxError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
        InboxError::Io(_) => {
            tracing::error!(error = %e, "intake storage failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage",
                "the scan could not be stored",
            )
        }
    }
}

/// `POST /api/intake/scans?name=FILE`: the file is the body. Answers 202 with the scan;
/// reading follows on the OCR worker.
#[utoipa::path(
    post,
    path = "/api/intake/scans",
    tag = "intake",
    description = "Upload a scanned police notice (PDF, TIFF, PNG or JPEG as the body; \
                   child-welfare clerk). Reading follows on the OCR worker.",
    params(UploadQuery),
    request_body(content = super::extract::FileBytes, content_type = "application/octet-stream"),
    responses(
        (status = 202, description = "Taken in; being read", body = ListedScan),
        (status = 400, description = "`empty_file`, `malformed_query`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 413, description = "`file_too_large`, `body_too_large`", body = ErrorBody),
        (status = 500, description = "`storage`, `internal`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<UploadQuery>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require(&staff, CLERK)?;
    let inbox = state.inbox.clone();
    let name = q.name.unwrap_or_else(|| "scan".into());
    let scan = crate::http::error::blocking("storing a scan", move || {
        inbox.add(&name, &body, Origin::Upload)
    })
    .await?
    .map_err(inbox_error)?;
    Ok((StatusCode::ACCEPTED, Json(listed(&scan))).into_response())
}

/// `GET /api/intake/scans`
#[utoipa::path(
    get,
    path = "/api/intake/scans",
    tag = "intake",
    description = "The inbox: what each scan is and where it is in its life, never what was read \
                   (child-welfare clerk).",
    responses(
        (status = 200, description = "The inbox", body = Scans),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn scans(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, CLERK)?;
    Ok(Json(scans_json(&state)).into_response())
}

fn scan_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse::<Uuid>()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such scan"))
}

/// `GET /api/intake/scans/{id}`: the scan with what was read; audited (`case_viewed`).
#[utoipa::path(
    get,
    path = "/api/intake/scans/{id}",
    tag = "intake",
    description = "A scan with what was read (child-welfare clerk); audited (`case_viewed`).",
    params(("id" = String, Path, description = "Scan id (UUID)")),
    responses(
        (status = 200, description = "The scan", body = Scan),
        (status = 400, description = "`malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn scan(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require(&staff, CLERK)?;
    let id = scan_id(&id)?;
    let s = state
        .inbox
        .get(id)
        .ok_or_else(|| inbox_error(InboxError::NotFound(id)))?;
    let case: Vec<Uuid> = s.case_id.into_iter().collect();
    audit_view(
        &state,
        &staff,
        Some(id),
        &case,
        format!("GET /api/intake/scans/{id}"),
    )
    .await?;
    Ok(Json(s).into_response())
}

/// `GET /api/intake/scans/{id}/crops/{field}`: PNG; audited (`case_viewed`).
#[utoipa::path(
    get,
    path = "/api/intake/scans/{id}/crops/{field}",
    tag = "intake",
    description = "The image crop a field was read from (child-welfare clerk); audited \
                   (`case_viewed`).",
    params(
        ("id" = String, Path, description = "Scan id (UUID)"),
        ("field" = String, Path, description = "One of the notice's nine fields, e.g. `child_name`"),
    ),
    responses(
        (status = 200, description = "PNG", content_type = "image/png", body = super::extract::FileBytes,
            headers(("Cache-Control" = String, description = "`private, no-store`"))),
        (status = 400, description = "`malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn crop(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, field)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    require(&staff, CLERK)?;
    let id = scan_id(&id)?;
    let inbox = state.inbox.clone();
    let name = field.clone();
    let png = crate::http::error::blocking("reading a crop", move || inbox.crop(id, &name))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no crop"))?;
    let case: Vec<Uuid> = state
        .inbox
        .get(id)
        .and_then(|s| s.case_id)
        .into_iter()
        .collect();
    // `field` is one of the nine names (the crop exists), so the purpose stays short.
    audit_view(
        &state,
        &staff,
        Some(id),
        &case,
        format!("GET /api/intake/scans/{id}/crops/{field}"),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        png,
    )
        .into_response())
}

/// Body of `POST /api/intake/scans/{id}/case`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SaveRequest {
    /// The clerk's values by field name (all nine).
    fields: BTreeMap<String, String>,
    /// Matched resident, or empty.
    #[serde(default)]
    resident_id: Option<String>,
}

/// A typed value into the stored form: 和暦 dates to ISO, 男/女 to male/female, the abuse
/// type to its code, names and addresses without spaces. Unrecognised values are kept as
/// typed so validation names them.
/// The fields a case cannot be saved without, with their names for the message.
const REQUIRED: [(&str, &str, &str); 4] = [
    ("notice_date", "通告日", "notice date"),
    ("child_name", "児童氏名", "child's name"),
    ("child_birth_date", "生年月日", "birth date"),
    ("abuse_type", "虐待の種別", "abuse type"),
];

/// Refuse a case with a required field empty (`missing_fields`) or a date, sex or abuse type
/// that cannot be read as one (`invalid_field`), naming the fields in Japanese and English.
fn check_required(fields: &BTreeMap<String, NoticeField>) -> Result<(), ApiError> {
    let value = |k: &str| fields.get(k).map_or("", |f| f.value.as_str());
    let missing: Vec<(&str, &str)> = REQUIRED
        .iter()
        .filter(|(k, _, _)| value(k).is_empty())
        .map(|(_, ja, en)| (*ja, *en))
        .collect();
    if !missing.is_empty() {
        let ja: Vec<&str> = missing.iter().map(|m| m.0).collect();
        let en: Vec<&str> = missing.iter().map(|m| m.1).collect();
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_fields",
            format!(
                "必須の項目が空です: {} / Required fields are empty: {}",
                ja.join("、"),
                en.join(", ")
            ),
        ));
    }
    let mut bad: Vec<(&str, &str)> = Vec::new();
    for (k, ja, en) in [
        ("notice_date", "通告日", "notice date"),
        ("child_birth_date", "生年月日", "birth date"),
    ] {
        if !checkup_protocol::notice::is_iso_date(value(k)) {
            bad.push((ja, en));
        }
    }
    let sex = value("child_sex");
    if !matches!(sex, "" | "male" | "female") {
        bad.push(("性別", "sex"));
    }
    if !checkup_protocol::notice::ABUSE_TYPES.contains(&value("abuse_type")) {
        bad.push(("虐待の種別", "abuse type"));
    }
    if bad.is_empty() {
        return Ok(());
    }
    let ja: Vec<&str> = bad.iter().map(|m| m.0).collect();
    let en: Vec<&str> = bad.iter().map(|m| m.1).collect();
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        format!(
            "読み取れない値があります（日付は 2015-04-01 または 平成27年4月1日 の形で）: {} / \
             Cannot be read as a value (dates as 2015-04-01): {}",
            ja.join("、"),
            en.join(", ")
        ),
    ))
}

fn normalise(field: &str, typed: &str) -> String {
    let t = typed.trim();
    if t.is_empty() {
        return String::new();
    }
    match field {
        "notice_date" | "child_birth_date" => {
            if checkup_protocol::notice::is_iso_date(t) {
                t.to_owned()
            } else {
                wareki::parse(t).unwrap_or_else(|_| t.to_owned())
            }
        }
        "child_sex" => match t {
            "male" | "female" => t.to_owned(),
            _ => nf::sex(t).map_or_else(|| t.to_owned(), str::to_owned),
        },
        "abuse_type" => {
            if checkup_protocol::notice::ABUSE_TYPES.contains(&t) {
                t.to_owned()
            } else {
                nf::abuse_type(t)
                    .filter(|(_, closeness)| *closeness >= 0.99)
                    .map_or_else(|| t.to_owned(), |(k, _)| k.as_str().to_owned())
            }
        }
        "child_name" | "guardian_name" => nf::name(t),
        "child_address" | "reporting_agency" => nf::compact(t),
        _ => t.to_owned(),
    }
}

/// A notice saved as a case.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CaseSaved {
    /// The case.
    case_id: Uuid,
    /// The `notice_intake_saved` event (absent when the scan was already saved).
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<Uuid>,
    /// The scan was already saved: this is its case.
    replayed: bool,
}

/// `POST /api/intake/scans/{id}/case`: save the reviewed notice as a case (a
/// notice-intake event). Saving a scan twice gives the first case back.
#[utoipa::path(
    post,
    path = "/api/intake/scans/{id}/case",
    tag = "intake",
    description = "Save the reviewed notice as a case (child-welfare clerk); refused while the \
                   notice date, the child's name, birth date or abuse type is empty or cannot \
                   be read. Saving a scan twice gives the first case back.",
    params(("id" = String, Path, description = "Scan id (UUID)")),
    request_body(content = SaveRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Saved", body = CaseSaved),
        (status = 200, description = "Already saved", body = CaseSaved),
        (status = 400, description = "`malformed_request`, `malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`still_reading`, `conflict`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`missing_fields` (notice date, child's name, birth date or \
            abuse type empty), `invalid_field` (a date, sex or abuse type that cannot be read), \
            `invalid_payload`", body = ErrorBody),
        (status = 500, description = "`storage`, `internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn save_case(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require(&staff, CLERK)?;
    let req: SaveRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("a case is {{\"fields\": {{…}}}}: {e}")))?;
    let id = scan_id(&id)?;
    let scan = state
        .inbox
        .get(id)
        .ok_or_else(|| inbox_error(InboxError::NotFound(id)))?;
    if let (Status::Saved, Some(case_id)) = (scan.status, scan.case_id) {
        return Ok(Json(CaseSaved {
            case_id,
            event_id: None,
            replayed: true,
        })
        .into_response());
    }
    if scan.status == Status::Reading {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "still_reading",
            "the scan is still being read",
        ));
    }
    if let Some(unknown) = req
        .fields
        .keys()
        .find(|k| !NOTICE_FIELDS.contains(&k.as_str()))
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
            format!("unknown field {unknown:?}"),
        ));
    }
    let read = scan.result.as_ref().map(|r| &r["fields"]);
    let mut fields = BTreeMap::new();
    for name in NOTICE_FIELDS {
        let typed = req.fields.get(name).map(String::as_str).unwrap_or("");
        let value = normalise(name, typed);
        let was = read
            .and_then(|f| f[name]["value"].as_str())
            .unwrap_or_default();
        let confidence = read
            .and_then(|f| f[name]["confidence"].as_f64())
            .unwrap_or(0.0)
            .clamp(0.0, 1.0);
        fields.insert(
            name.to_owned(),
            NoticeField {
                corrected: value != was,
                value,
                confidence,
            },
        );
    }
    check_required(&fields)?;
    let case_id = Uuid::now_v7();
    let notice = NoticeIntakeSaved {
        case_id,
        fields,
        resident_id: req
            .resident_id
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
        source: NoticeSource {
            file: scan.file.clone(),
            sha256: scan.sha256.clone(),
        },
    };
    // The event id is derived from the scan, so a save retried after a lost answer (or
    // from two tablets at once) is stored once.
    let event_id = Uuid::new_v8(*id.as_bytes());
    let outcome = state.core.save_case(&staff, event_id, notice).await?;
    let saved_case = match &outcome.event().body {
        EventBody::NoticeIntakeSaved(n) => n.case_id,
        _ => case_id,
    };
    let inbox = state.inbox.clone();
    crate::http::error::blocking("marking a scan saved", move || {
        inbox.mark_saved(id, saved_case)
    })
    .await?
    .map_err(inbox_error)?;
    tracing::info!(scan = %id, case = %saved_case, staff = %staff.id, "notice saved as a case");
    Ok((
        StatusCode::CREATED,
        Json(CaseSaved {
            case_id: saved_case,
            event_id: Some(outcome.event().id),
            replayed: !outcome.is_new(),
        }),
    )
        .into_response())
}

fn scans_json(state: &AppState) -> Scans {
    Scans {
        scans: state.inbox.list().iter().map(listed).collect(),
    }
}

/// The inbox as one server-sent event's data.
fn scans_event(state: &AppState) -> SseEvent {
    SseEvent::default().data(serde_json::to_string(&scans_json(state)).unwrap_or_default())
}

/// `GET /api/intake/events`: the inbox now and after every change.
#[utoipa::path(
    get,
    path = "/api/intake/events",
    tag = "intake",
    description = "Server-sent events: the inbox (`Scans` as JSON in each event's data) now and \
                   after every change (child-welfare clerk). The stream does not end.",
    responses(
        (status = 200, description = "An endless stream of inboxes", content_type = "text/event-stream", body = String),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn scan_events(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    require(&staff, CLERK)?;
    let stopping = state.stopping.clone();
    let rx = state.inbox.subscribe();
    let first = scans_event(&state);
    let stream = futures::stream::unfold(
        (rx, state, Some(first)),
        |(mut rx, state, first)| async move {
            if let Some(f) = first {
                return Some((Ok(f), (rx, state, None)));
            }
            match rx.recv().await {
                Ok(()) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    while rx.try_recv().is_ok() {}
                    Some((Ok(scans_event(&state)), (rx, state, None)))
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
            }
        },
    );
    Ok(Sse::new(super::until_stopping(&stopping, stream)).keep_alive(KeepAlive::default()))
}

/// The case list (`GET /api/cases` and each update of `GET /api/cases/events`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Cases {
    /// Saved cases, newest first.
    cases: Vec<ListedCase>,
}

/// A saved case.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ListedCase {
    /// Case id.
    case_id: Uuid,
    /// When it was saved (milliseconds since the epoch).
    saved_ms: u64,
    /// The box it was saved on.
    node: String,
    /// The clerk who saved it.
    saved_by: String,
    /// The matched resident, if any.
    resident_id: Option<String>,
    /// The reviewed fields by name.
    fields: BTreeMap<String, NoticeField>,
    /// The scanned file's name.
    file: String,
    /// Photos attached to the case (whether or not they are shown to this viewer).
    photo_count: usize,
    /// The photos, oldest first, for a viewer who may see them (a child-welfare 係長 and
    /// above, or one of the case's caseworkers); else empty.
    photos: Vec<ListedPhoto>,
}

/// A photo of a case, as listed (the JPEG is `url`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ListedPhoto {
    /// Photo id.
    photo_id: Uuid,
    /// When it was attached (milliseconds since the epoch).
    taken_ms: u64,
    /// The caseworker who took it.
    taken_by: String,
    /// The box it was taken on.
    node: String,
    /// Pixels.
    width: u32,
    /// Pixels.
    height: u32,
    /// Caption.
    note: Option<String>,
    /// Where it was taken, when the box keeps locations.
    location: Option<checkup_protocol::PhotoLocation>,
    /// The JPEG (`GET`, audited).
    url: String,
}

fn listed_photo(case_id: Uuid, p: &crate::log::projection::CasePhoto) -> ListedPhoto {
    ListedPhoto {
        photo_id: p.photo_id,
        taken_ms: p.hlc.ms,
        taken_by: p.taken_by.clone(),
        node: p.node.clone(),
        width: p.width,
        height: p.height,
        note: p.note.clone(),
        location: p.location,
        url: format!("/api/cases/{case_id}/photos/{}", p.photo_id),
    }
}

/// The case list as `staff` may see it, and the ids of the cases in it.
fn cases_json(state: &AppState, staff: &Staff) -> (Cases, Vec<Uuid>) {
    let p = state.store.projection();
    let mut ids = Vec::new();
    let cases = p
        .cases()
        .into_iter()
        .map(|c| {
            ids.push(c.case_id);
            let photos = p.case_photos(c.case_id);
            let shown = crate::venue::rules::may_see_case_photos(staff, &p, c.case_id);
            ListedCase {
                photo_count: photos.len(),
                photos: if shown {
                    photos.iter().map(|x| listed_photo(c.case_id, x)).collect()
                } else {
                    Vec::new()
                },
                case_id: c.case_id,
                saved_ms: c.hlc.ms,
                node: c.node.clone(),
                saved_by: c.saved_by.clone(),
                resident_id: c.notice.resident_id.clone(),
                fields: c.notice.fields.clone(),
                file: c.notice.source.file.clone(),
            }
        })
        .collect();
    (Cases { cases }, ids)
}

/// The case list, its showing to `staff` recorded first.
async fn cases_shown(state: &AppState, staff: &Staff, purpose: &str) -> Result<Cases, ApiError> {
    let (cases, ids) = cases_json(state, staff);
    audit_view(state, staff, None, &ids, purpose.to_owned()).await?;
    Ok(cases)
}

/// `GET /api/cases`: audited (`case_viewed` naming the cases listed).
#[utoipa::path(
    get,
    path = "/api/cases",
    tag = "intake",
    description = "Saved cases (child-welfare clerk and caseworker); audited (`case_viewed` \
                   naming the cases listed).",
    responses(
        (status = 200, description = "The cases", body = Cases),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn cases(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, CHILD_WELFARE)?;
    Ok(Json(cases_shown(&state, &staff, "GET /api/cases").await?).into_response())
}

/// `GET /api/cases/events`: the cases now, and again whenever a new one arrives (saved here
/// or replicated from another box). Each list sent is audited first, like `GET /api/cases`;
/// should recording fail, the stream ends instead.
#[utoipa::path(
    get,
    path = "/api/cases/events",
    tag = "intake",
    description = "Server-sent events: the cases (`Cases` as JSON in each event's data) now and \
                   whenever a new one arrives (child-welfare clerk and caseworker). Each list \
                   sent is audited first. The stream does not end.",
    responses(
        (status = 200, description = "An endless stream of case lists", content_type = "text/event-stream", body = String),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn case_events(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    const PURPOSE: &str = "GET /api/cases/events";
    require(&staff, CHILD_WELFARE)?;
    let stopping = state.stopping.clone();
    let rx = state.store.subscribe();
    let first = cases_data(cases_shown(&state, &staff, PURPOSE).await?);
    let stream = futures::stream::unfold(
        (rx, state, staff, Some(first)),
        |(mut rx, state, staff, first)| async move {
            if let Some(f) = first {
                return Some((Ok(SseEvent::default().data(f)), (rx, state, staff, None)));
            }
            loop {
                match rx.recv().await {
                    // Only a saved case or a photo changes this list (not the views this
                    // stream records).
                    Ok(e)
                        if !matches!(
                            e.body.kind(),
                            EventKind::NoticeIntakeSaved | EventKind::CasePhotoAdded
                        ) =>
                    {
                        continue;
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        while rx.try_recv().is_ok() {}
                        let data = match cases_shown(&state, &staff, PURPOSE).await {
                            Ok(v) => cases_data(v),
                            Err(e) => {
                                tracing::error!(error = %e.message, "case view not recorded; live case list ended");
                                return None;
                            }
                        };
                        return Some((
                            Ok(SseEvent::default().data(data)),
                            (rx, state, staff, None),
                        ));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(super::until_stopping(&stopping, stream)).keep_alive(KeepAlive::default()))
}

fn case_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse::<Uuid>().map_err(|_| no_case())
}

fn no_case() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "その事案はありません / no such case",
    )
}

fn photo_error(e: crate::intake::photo::PhotoError) -> ApiError {
    use crate::intake::photo::PhotoError as E;
    let status = match e {
        E::TooLarge(_) | E::TooManyPixels { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        E::Empty | E::NotAnImage(_) | E::Corrupt(_) => StatusCode::BAD_REQUEST,
        E::Encode(_) => {
            tracing::error!(error = %e, "a case photo could not be re-encoded");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// `staff` may not see this case's photos.
fn not_on_case() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_on_case",
        "この事案の写真は、担当の児童福祉司と係長以上が見られます / a case's photos are for its caseworkers and 係長 and above",
    )
}

/// The caption of a photo (`?note=`).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PhotoQuery {
    /// Caption (「右上腕のあざ」), at most 200 characters.
    note: Option<String>,
}

/// The header naming one photo as the tablet chose it, so that a resend is kept once.
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Length bounds of an [`IDEMPOTENCY_KEY`] (a UUID is 36).
const IDEMPOTENCY_KEY_LEN: std::ops::RangeInclusive<usize> = 8..=64;

/// The upload's `Idempotency-Key`, if sent: 8 to 64 of `A-Z a-z 0-9 -`, else 400
/// `invalid_idempotency_key`.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k)
            if IDEMPOTENCY_KEY_LEN.contains(&k.len())
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            Ok(Some(k.to_owned()))
        }
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "送信番号（Idempotency-Key）は英数字とハイフンの8〜64文字です。画面を読み込み直してください / the Idempotency-Key header must be 8 to 64 characters of A-Z, a-z, 0-9 and -",
        )),
    }
}

/// A photo attached.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PhotoAdded {
    /// The case.
    case_id: Uuid,
    /// The photo.
    photo_id: Uuid,
    /// The `case_photo_added` event.
    event_id: Uuid,
    /// Pixels kept (scaled down to 2048 on the longer side).
    width: u32,
    /// Pixels kept.
    height: u32,
    /// The original carried EXIF or XMP metadata, now removed.
    metadata_removed: bool,
    /// Where it was taken was kept (`intake.keep_photo_location` and a GPS position).
    location_kept: bool,
    /// The same photo was already attached: this is it.
    replayed: bool,
}

/// `POST /api/cases/{id}/photos?note=TEXT`: the photo is the body.
#[utoipa::path(
    post,
    path = "/api/cases/{id}/photos",
    tag = "intake",
    description = "Attach a photo to a case (caseworker): a JPEG or PNG from the tablet's camera \
                   or a file, at most 10 MB and 48 megapixels, as the body. The box drops its \
                   metadata (GPS, camera make, model, serial, XMP, maker notes — the position \
                   is kept apart only with `intake.keep_photo_location`), turns it upright, \
                   scales it to 2048 pixels on the longer side and keeps it as a new JPEG in \
                   the log, replicated to the venue's boxes and forwarded to central. The same \
                   photo sent twice is kept once: by its `Idempotency-Key` when sent (one per \
                   photo chosen; the same key again answers 200 with the photo kept), else by \
                   its bytes.",
    params(
        ("id" = String, Path, description = "Case id (UUID)"),
        PhotoQuery,
        ("Idempotency-Key" = Option<String>, Header,
            description = "One id per photo chosen (8 to 64 of A-Z a-z 0-9 -, e.g. a UUID): \
                           resent with the same key, the photo is kept once"),
    ),
    request_body(content = super::extract::FileBytes, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Attached", body = PhotoAdded),
        (status = 200, description = "Already attached", body = PhotoAdded),
        (status = 400, description = "`empty_file`, `not_an_image`, `corrupt_image`, `malformed_query`, `malformed_path`, `invalid_idempotency_key`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict` (the key was used for another photo)", body = ErrorBody),
        (status = 413, description = "`photo_too_large`, `too_many_pixels`, `body_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_payload` (a caption too long), `mismatch`", body = ErrorBody),
        (status = 500, description = "`encode_failed`, `internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn add_photo(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PhotoQuery>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    use base64::Engine as _;
    use sha2::Digest as _;
    require(&staff, CASEWORKER)?;
    let case = case_id(&id)?;
    let key = idempotency_key(&headers)?;
    if !state.store.projection().has_case(case) {
        return Err(no_case());
    }
    let note = q
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(n) = &note
        && (n.chars().count() > checkup_protocol::notice::MAX_FIELD_LEN
            || n.chars().any(char::is_control))
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
            "説明は200文字までです / a caption is at most 200 characters, no control characters",
        ));
    }
    // The event id is derived from the case, the caseworker and the photo's idempotency key
    // (or, without one, the bytes sent): an upload retried after a lost answer finds the
    // event already stored and is answered with it (the same key with another photo is a
    // conflict).
    let mut h = sha2::Sha256::new();
    h.update(case.as_bytes());
    h.update(staff.id.as_bytes());
    match &key {
        Some(k) => {
            h.update([1]);
            h.update(k.as_bytes());
        }
        None => {
            h.update([0]);
            h.update(&body);
        }
    }
    let digest = h.finalize();
    let mut id16 = [0u8; 16];
    id16.copy_from_slice(&digest[..16]);
    let event_id = Uuid::new_v8(id16);
    let keep = state.keep_photo_location;
    let started = std::time::Instant::now();
    let prepared = crate::http::error::blocking("preparing a case photo", move || {
        crate::intake::photo::prepare(&body, keep)
    })
    .await?
    .map_err(photo_error)?;
    let photo = checkup_protocol::CasePhotoAdded {
        case_id: case,
        photo_id: Uuid::now_v7(),
        jpeg: base64::engine::general_purpose::STANDARD.encode(&prepared.jpeg),
        width: prepared.width,
        height: prepared.height,
        note,
        location: prepared.location,
    };
    let prepared_ms = started.elapsed().as_millis() as u64;
    let outcome = match state.core.add_case_photo(&staff, event_id, photo).await {
        Err(crate::venue::VenueError::Conflict(_)) if key.is_some() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "この送信番号は別の写真で使われています。写真を選び直してください / this Idempotency-Key was used for another photo: choose the photo again",
            ));
        }
        other => other?,
    };
    let stored_ms = started.elapsed().as_millis() as u64 - prepared_ms;
    let EventBody::CasePhotoAdded(kept) = &outcome.event().body else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the stored event is not a photo",
        ));
    };
    tracing::info!(case = %case, photo = %kept.photo_id, staff = %staff.id,
        bytes = prepared.jpeg.len(), metadata_removed = prepared.had_metadata, prepared_ms, stored_ms,
        "case photo attached");
    let replayed = !outcome.is_new();
    Ok((
        if replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(PhotoAdded {
            case_id: case,
            photo_id: kept.photo_id,
            event_id: outcome.event().id,
            width: kept.width,
            height: kept.height,
            metadata_removed: prepared.had_metadata,
            location_kept: kept.location.is_some(),
            replayed,
        }),
    )
        .into_response())
}

/// The photos of a case (`GET /api/cases/{id}/photos`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Photos {
    /// The case.
    case_id: Uuid,
    /// Its photos, oldest first.
    photos: Vec<ListedPhoto>,
}

/// The photos of `case` if `staff` may see them.
fn case_photos(
    state: &AppState,
    staff: &Staff,
    case: Uuid,
) -> Result<Vec<crate::log::projection::CasePhoto>, ApiError> {
    let p = state.store.projection();
    if !p.has_case(case) {
        return Err(no_case());
    }
    if !crate::venue::rules::may_see_case_photos(staff, &p, case) {
        return Err(not_on_case());
    }
    Ok(p.case_photos(case).to_vec())
}

/// `GET /api/cases/{id}/photos`: audited (`case_viewed`).
#[utoipa::path(
    get,
    path = "/api/cases/{id}/photos",
    tag = "intake",
    description = "The photos of a case (a child-welfare 係長 and above, or one of the case's \
                   caseworkers); audited (`case_viewed`).",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses(
        (status = 200, description = "The photos", body = Photos),
        (status = 400, description = "`malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`, `not_on_case`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn photos(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require(&staff, CHILD_WELFARE)?;
    let case = case_id(&id)?;
    let list = case_photos(&state, &staff, case)?;
    audit_view(
        &state,
        &staff,
        None,
        &[case],
        format!("GET /api/cases/{case}/photos"),
    )
    .await?;
    Ok(Json(Photos {
        case_id: case,
        photos: list.iter().map(|x| listed_photo(case, x)).collect(),
    })
    .into_response())
}

/// `GET /api/cases/{id}/photos/{photo}`: JPEG; audited (`case_viewed`).
#[utoipa::path(
    get,
    path = "/api/cases/{id}/photos/{photo}",
    tag = "intake",
    description = "A photo of a case, the JPEG the box kept (a child-welfare 係長 and above, or \
                   one of the case's caseworkers); audited (`case_viewed`).",
    params(
        ("id" = String, Path, description = "Case id (UUID)"),
        ("photo" = String, Path, description = "Photo id (UUID)"),
    ),
    responses(
        (status = 200, description = "JPEG", content_type = "image/jpeg", body = super::extract::FileBytes,
            headers(("Cache-Control" = String, description = "`private, no-store`"))),
        (status = 400, description = "`malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`, `not_on_case`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn photo(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    require(&staff, CHILD_WELFARE)?;
    let case = case_id(&id)?;
    let no_photo = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "その写真はありません / no such photo",
        )
    };
    let photo = photo.parse::<Uuid>().map_err(|_| no_photo())?;
    let event_id = case_photos(&state, &staff, case)?
        .iter()
        .find(|x| x.photo_id == photo)
        .map(|x| x.event_id)
        .ok_or_else(no_photo)?;
    let store = state.store.clone();
    let event = crate::http::error::blocking("reading a case photo", move || store.get(event_id))
        .await??
        .ok_or_else(no_photo)?;
    let EventBody::CasePhotoAdded(p) = &event.body else {
        return Err(no_photo());
    };
    let jpeg = p.jpeg_bytes()?;
    audit_view(
        &state,
        &staff,
        None,
        &[case],
        format!("GET /api/cases/{case}/photos/{photo}"),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        jpeg,
    )
        .into_response())
}

/// A case list as one server-sent event's data.
fn cases_data(cases: Cases) -> String {
    serde_json::to_string(&cases).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn typed_corrections_are_normalised() {
        assert_eq!(
            normalise("child_birth_date", "令和元年５月１日"),
            "2019-05-01"
        );
        assert_eq!(normalise("child_birth_date", "2019-05-01"), "2019-05-01");
        assert_eq!(normalise("child_sex", "女"), "female");
        assert_eq!(normalise("abuse_type", "ネグレクト"), "neglect");
        assert_eq!(normalise("child_name", "山田 花子"), "山田花子");
        assert_eq!(normalise("summary", "  "), "");
        // Not recognised: kept, so that validation names it.
        assert_eq!(normalise("child_sex", "不明"), "不明");
    }
}
