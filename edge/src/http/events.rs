//! The event log over HTTP: appending a staff member's event (through the core), reading
//! the log, importing peers' signed events, and an audited read of a session's record.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/events` | role allowed for the kind | append one event draft |
//! | `GET /api/events?after=POS&limit=N` | venue admin, auditor | the log in arrival order |
//! | `POST /api/replicate` | venue admin | import events signed by enrolled peers |
//! | `GET /api/sessions/{id}` | checkup roles | one session's results (audited) |

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::{Event, EventBody, FORMAT_VERSION, Hlc, MeasuredValue, Role, StationKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::extract::{Body, Path, Query};
use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::{ApiError, ErrorBody};
use crate::log::projection::SessionState;

/// Body of `POST /api/events`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppendRequest {
    /// Optional; when given must be the format this box speaks (1).
    #[serde(default)]
    #[allow(dead_code)]
    #[schema(value_type = u64, minimum = 1, maximum = 1)]
    format: Option<u64>,
    /// Client-chosen id, so that retrying a save is idempotent.
    #[serde(default)]
    id: Option<Uuid>,
    /// Kind and payload.
    body: EventBody,
}

/// An event appended (or found already appended).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Appended {
    /// Event id.
    id: Uuid,
    /// The box that recorded it.
    node: String,
    /// Its sequence number on that box.
    seq: u64,
    /// Its timestamp.
    hlc: Hlc,
    /// The id was already in the log: this is the earlier event.
    replayed: bool,
}

/// `POST /api/events`: append one event recorded by the signed-in staff member.
#[utoipa::path(
    post,
    path = "/api/events",
    tag = "events",
    description = "Append one event recorded by the signed-in staff member (the role must be \
                   allowed to record its kind). Retrying with the same `id` is idempotent.",
    request_body(content = AppendRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Appended", body = Appended),
        (status = 200, description = "Already appended (same id)", body = Appended),
        (status = 400, description = "`malformed_event`, `unknown_format_version`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_booked`", body = ErrorBody),
        (status = 409, description = "`conflict`, `session_not_open`, `already_checked_in`, `card_in_use`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`, `confirmation_required`, `incomplete_station` (with `missing`, and at 問診 `required`: answers no confirmation covers), `correction_required`, `reason_required`, `systolic_not_above_diastolic`, `unknown_course`, `use_command`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`, `roster_unavailable`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn append(
    State(state): State<AppState>,
    staff: Staff,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_event", e.to_string()))?;
    if let Some(f) = value.get("format")
        && f.as_u64() != Some(u64::from(FORMAT_VERSION))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_format_version",
            format!("format {f} is not supported (this box speaks {FORMAT_VERSION})"),
        ));
    }
    let req: AppendRequest = serde_json::from_value(value)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_event", e.to_string()))?;
    if req.id.is_some_and(|id| id.is_nil()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_event",
            "id must not be nil",
        ));
    }
    let outcome = state.core.record(&staff, req.id, req.body).await?;
    let status = if outcome.is_new() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let e = outcome.event();
    Ok((
        status,
        Json(Appended {
            id: e.id,
            node: e.node.clone(),
            seq: e.seq,
            hlc: e.hlc,
            replayed: !outcome.is_new(),
        }),
    )
        .into_response())
}

/// Which part of the log to read.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReadQuery {
    /// Read events after this position (0: from the start).
    #[serde(default)]
    after: i64,
    /// At most this many (clamped to 1..=10000).
    #[serde(default = "default_limit")]
    #[param(default = 1000)]
    limit: usize,
}

/// A page of the log.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct LogPage {
    /// Events in arrival order (child-welfare events only for the child-welfare roles).
    events: Vec<Event>,
    /// The position to read after next.
    next: i64,
    /// Events of the page withheld from this role.
    withheld: usize,
}

fn default_limit() -> usize {
    1000
}

/// `GET /api/events`
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "events",
    description = "The log in arrival order (venue admin, auditor and the child-welfare roles; \
                   the child-welfare compartment only for the latter).",
    params(ReadQuery),
    responses(
        (status = 200, description = "A page of the log", body = LogPage),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn read_events(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ReadQuery>,
) -> Result<Response, ApiError> {
    if !staff.role.may_read_log() {
        return Err(ApiError::forbidden(format!(
            "role {} may not read the event log",
            staff.role
        )));
    }
    let limit = q.limit.clamp(1, 10_000);
    let store = state.store.clone();
    let rows =
        crate::http::error::blocking("reading the log", move || store.read_after(q.after, limit))
            .await??;
    let next = rows.last().map(|r| r.pos).unwrap_or(q.after);
    // The child-welfare compartment stays out of every other role's view of the log; the
    // count says that something was withheld.
    let (events, withheld): (Vec<&Event>, Vec<&Event>) = rows
        .iter()
        .map(|r| r.event.as_ref())
        .partition(|e| !e.body.kind().is_child_case() || staff.role.may_see_child_cases());
    Ok(Json(LogPage {
        events: events.into_iter().cloned().collect(),
        next,
        withheld: withheld.len(),
    })
    .into_response())
}

/// Events imported.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Imported {
    /// Events new to this box.
    appended: usize,
    /// Events it already held.
    existing: usize,
}

/// `POST /api/replicate`: events signed by enrolled peers (or by this box, restored from
/// a copy), received as replication receives them; all or nothing.
#[utoipa::path(
    post,
    path = "/api/replicate",
    tag = "events",
    description = "Import a JSON array of events signed by enrolled boxes of this venue, as \
                   replication receives them; all or nothing (venue admin).",
    request_body(content = Vec<Event>, content_type = "application/json"),
    responses(
        (status = 200, description = "Imported", body = Imported),
        (status = 400, description = "`malformed_batch`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 409, description = "`conflict`", body = ErrorBody),
        (status = 413, description = "`batch_too_large`, `body_too_large`", body = ErrorBody),
        (status = 422, description = "`malformed_event`, `unknown_format_version`, `bad_signature`, `unknown_node`, `invalid_payload`, `wrong_venue`, `node_mismatch`, `training_event` (a training event to a real box), `real_event_in_training` (a real event to a training box)", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`, `roster_unavailable`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn replicate(
    State(state): State<AppState>,
    staff: Staff,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::VenueAdmin])?;
    let (keys, venue) = (state.keyring.clone(), state.store.options().venue.clone());
    let events = crate::http::error::blocking("verifying a batch", move || {
        let rules = crate::replication::wire::rules(&venue);
        checkup_protocol::receive_events(&body, keys.as_ref(), &rules)
    })
    .await??;
    let outcomes = state.core.import(events).await?;
    let appended = outcomes.iter().filter(|o| o.is_new()).count();
    Ok(Json(Imported {
        appended,
        existing: outcomes.len() - appended,
    })
    .into_response())
}

/// A session's results (`GET /api/sessions/{id}`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SessionRecord {
    /// The session with every value recorded.
    session: SessionState,
    /// The current value of each item, by item code.
    current: BTreeMap<String, CurrentValue>,
    /// Stations still to visit.
    remaining: Vec<StationKind>,
}

/// An item's current value.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CurrentValue {
    /// The value.
    value: MeasuredValue,
    /// Its unit.
    unit: String,
}

/// `GET /api/sessions/{id}`: a session's results. The read is audited: a `record_viewed`
/// event is durable before the data is returned.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}",
    tag = "events",
    description = "A session's results (checkup roles). Audited: a `record_viewed` event is \
                   durable before the data is returned.",
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = SessionRecord),
        (status = 400, description = "`malformed_path`: not a UUID", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn session(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    let resident = state
        .store
        .projection()
        .session_by_id(id)
        .map(|s| s.resident_id.clone())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no session {id}"),
            )
        })?;
    state
        .core
        .audit_read(&staff, vec![resident], &format!("GET /api/sessions/{id}"))
        .await?;
    let p = state.store.projection();
    let s = p.session_by_id(id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no session {id}"),
        )
    })?;
    let current = s
        .results
        .iter()
        .filter_map(|(code, v)| {
            v.last().map(|r| {
                (
                    code.clone(),
                    CurrentValue {
                        value: r.value.clone(),
                        unit: r.unit.clone(),
                    },
                )
            })
        })
        .collect();
    Ok(Json(SessionRecord {
        session: s.clone(),
        current,
        remaining: s.remaining(),
    })
    .into_response())
}
