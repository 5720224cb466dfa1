//! The event log over HTTP: appending a staff member's event (through the core), reading
//! the log, importing peers' signed events, and an audited read of a session's record.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/events` | role allowed for the kind | append one event draft |
//! | `GET /api/events?after=POS&limit=N` | venue admin, auditor | the log in arrival order |
//! | `POST /api/replicate` | venue admin | import events signed by enrolled peers |
//! | `GET /api/sessions/{id}` | checkup roles | one session's results (audited) |

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::{Event, EventBody, FORMAT_VERSION, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::ApiError;

/// Body of `POST /api/events`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendRequest {
    /// Optional; when given must be [`FORMAT_VERSION`].
    #[serde(default)]
    #[allow(dead_code)]
    format: Option<u64>,
    /// Client-chosen id, so that retrying a save is idempotent.
    #[serde(default)]
    id: Option<Uuid>,
    /// Kind and payload.
    body: EventBody,
}

/// `POST /api/events`: append one event recorded by the signed-in staff member.
pub(crate) async fn append(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
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
        Json(json!({
            "id": e.id, "node": e.node, "seq": e.seq, "hlc": e.hlc,
            "replayed": !outcome.is_new(),
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ReadQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    1000
}

/// `GET /api/events`
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
    Ok(Json(json!({"events": events, "next": next, "withheld": withheld.len()})).into_response())
}

/// `POST /api/replicate`: events signed by enrolled peers (or by this box, restored from
/// a copy), received as replication receives them; all or nothing.
pub(crate) async fn replicate(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
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
    Ok(Json(json!({"appended": appended, "existing": outcomes.len() - appended})).into_response())
}

/// `GET /api/sessions/{id}`: a session's results. The read is audited: a `record_viewed`
/// event is durable before the data is returned.
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
    let current: serde_json::Map<String, Value> = s
        .results
        .iter()
        .filter_map(|(code, v)| {
            v.last()
                .map(|r| (code.clone(), json!({"value": r.value, "unit": r.unit})))
        })
        .collect();
    Ok(Json(json!({
        "session": s, "current": current, "remaining": s.remaining(),
    }))
    .into_response())
}
