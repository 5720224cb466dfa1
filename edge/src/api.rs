//! The JSON API: sign-in, appending and reading events, the venue state, and audited reads
//! of a session's record.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/login` | anyone | `{staff_id, pin}` → session cookie |
//! | `POST /api/logout` | signed in | ends the session |
//! | `POST /api/events` | role allowed for the kind | append one event draft |
//! | `GET /api/events?after=POS&limit=N` | venue admin, auditor | the log in arrival order |
//! | `POST /api/replicate` | venue admin | import events signed by enrolled peers |
//! | `GET /api/venue` | checkup roles | stations and progress |
//! | `GET /api/sessions/{id}` | checkup roles | one session's results (audited) |

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::{Event, EventBody, FORMAT_VERSION, Role, StationKind};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{self, Staff};
use crate::error::ApiError;
use crate::server::AppState;

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        auth::token_from_headers(&parts.headers)
            .and_then(|t| state.auth.lookup(&t))
            .ok_or_else(ApiError::unauthenticated)
    }
}

pub(crate) fn require_checkup_role(staff: &Staff) -> Result<(), ApiError> {
    if staff.role.is_checkup_role() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "role {} has no access to checkup data",
            staff.role
        )))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    staff_id: String,
    pin: String,
}

/// `POST /api/login`
pub(crate) async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: LoginRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let client = auth::Client::of(&extensions);
    let (token, staff) = sign_in(&state, req.staff_id, req.pin, client).await?;
    let mut resp = Json(json!({
        "staff_id": staff.id, "name": staff.name, "role": staff.role,
        "stations": staff.stations,
    }))
    .into_response();
    set_cookie(&mut resp, &state.auth.cookie(&token));
    Ok(resp)
}

/// The caller's address, when the server was started with connection info.
pub(crate) fn client_of(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<checkup_provisioning::tls::Peer>>()
        .map(|c| c.0.addr.ip())
}

/// Verify a PIN on a blocking thread (Argon2 is deliberately slow).
pub(crate) async fn sign_in(
    state: &AppState,
    staff_id: String,
    pin: String,
    client: auth::Client,
) -> Result<(String, Staff), ApiError> {
    let auth = state.auth.clone();
    let result =
        crate::error::blocking("sign-in", move || auth.sign_in(&staff_id, &pin, client)).await?;
    result.map_err(|e| match e {
        auth::SignInError::Wrong => {
            ApiError::new(StatusCode::UNAUTHORIZED, "wrong_credentials", e.to_string())
        }
        auth::SignInError::Locked(d) => ApiError::locked(d.as_secs(), e.to_string()),
    })
}

pub(crate) fn set_cookie(resp: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `POST /api/logout`
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(t) = auth::token_from_headers(&headers) {
        state.auth.sign_out(&t);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut resp, &auth::clear_cookie());
    resp
}

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
    let rows = crate::error::blocking("reading the log", move || store.read_after(q.after, limit))
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
    if staff.role != Role::VenueAdmin {
        return Err(ApiError::forbidden(
            "only the venue admin may import signed events",
        ));
    }
    let (keys, venue) = (state.keyring.clone(), state.store.options().venue.clone());
    let events = crate::error::blocking("verifying a batch", move || {
        let rules = crate::replication::wire::rules(&venue);
        checkup_protocol::receive_events(&body, keys.as_ref(), &rules)
    })
    .await??;
    let outcomes = state.core.import(events).await?;
    let appended = outcomes.iter().filter(|o| o.is_new()).count();
    Ok(Json(json!({"appended": appended, "existing": outcomes.len() - appended})).into_response())
}

/// `GET /api/venue`
pub(crate) async fn venue(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require_checkup_role(&staff)?;
    Ok(Json(venue_json(&state)).into_response())
}

pub(crate) fn venue_json(state: &AppState) -> Value {
    let p = state.store.projection();
    let progress = p.station_progress();
    let stations: Vec<Value> = state
        .venue
        .stations
        .iter()
        .map(|s| {
            let pr = progress.get(&s.kind).copied().unwrap_or_default();
            json!({
                "id": s.id, "kind": s.kind, "label": station_label(s.kind, &s.label),
                "waiting": pr.waiting, "done": pr.done,
            })
        })
        .collect();
    json!({
        "venue_id": state.venue.id, "venue_name": state.venue.name, "node": state.venue.node,
        "booked": state.venue.booked, "sessions_opened": p.sessions_opened(),
        "open_sessions": p.open_sessions().len(), "events": state.store.ledger().event_count(),
        "stations": stations,
    })
}

pub(crate) fn station_label(kind: StationKind, label: &str) -> String {
    if label.is_empty() {
        kind.label_ja().to_owned()
    } else {
        label.to_owned()
    }
}

/// `GET /api/sessions/{id}`: a session's results. The read is audited: a `record_viewed`
/// event is durable before the data is returned.
pub(crate) async fn session(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    require_checkup_role(&staff)?;
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

/// `GET /healthz`: liveness for operators and load balancers; no personal data.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let ledger = state.store.ledger();
    let stats = state.store.stats();
    Json(json!({
        "status": "ok", "venue": state.venue.id, "node": state.venue.node,
        "events": ledger.event_count(),
        "store": {
            "commits": stats.commits.load(std::sync::atomic::Ordering::Relaxed),
            "events_per_commit": (stats.events_per_commit() * 10.0).round() / 10.0,
        },
    }))
    .into_response()
}

/// `GET /api/replication/state` (venue admin): what this box holds, to compare boxes —
/// event count, version vector, a digest of the event id set and of the projection, and
/// the broker in use.
pub(crate) async fn replication_state(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    if staff.role != Role::VenueAdmin {
        return Err(ApiError::forbidden(
            "only the venue admin may read the replication state",
        ));
    }
    let store = state.store.clone();
    let ids = crate::error::blocking("reading event ids", move || store.sorted_ids())
        .await?
        .map_err(ApiError::from)?;
    let ids_digest = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for id in &ids {
            h.update(id.as_bytes());
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    };
    let (broker, serving) = state.replication.broker();
    let p = state.store.projection();
    let ledger = state.store.ledger();
    Ok(Json(json!({
        "node": state.venue.node,
        "events": ledger.event_count(),
        "stored": ids.len(),
        "ids_digest": ids_digest,
        "projection_digest": p.digest(),
        "held": ledger.held().contiguous_summary(),
        "gaps": ledger.held().has_gaps(),
        "broker": broker.as_ref().map(|b| b.to_string()),
        // Which box serves it (null: an external broker): what every box must agree on.
        "broker_node": broker.as_ref().and_then(|b| b.node.clone()),
        "serving_broker": serving,
        "connected": state.replication.link.is_connected(),
        // This box's broker gate (when it serves the venue's broker over TLS): refusals.
        "gate": state.replication.gate().map(|g| {
            use std::sync::atomic::Ordering::Relaxed;
            json!({
                "handshakes_refused": g.handshakes.refused.load(Relaxed),
                "connects_refused": g.connects.load(Relaxed),
                "publishes_refused": g.publishes.load(Relaxed),
                "subscribes_refused": g.subscribes.load(Relaxed),
                "malformed": g.malformed.load(Relaxed),
            })
        }),
    }))
    .into_response())
}

/// `GET /api/forward/status` (venue admin): queue depth, oldest unforwarded event, last
/// success and error, disk use against its bound.
pub(crate) async fn forward_status(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    if staff.role != Role::VenueAdmin {
        return Err(ApiError::forbidden(
            "only the venue admin may read the forwarding state",
        ));
    }
    let s = state.forward.lock().map(|g| g.clone()).unwrap_or_default();
    Ok(Json(s).into_response())
}
