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
use checkup_protocol::{
    Actor, Event, EventBody, FORMAT_VERSION, RecordViewed, Role, StationKind, items,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{self, Staff};
use crate::error::ApiError;
use crate::server::AppState;
use crate::store::{Draft, Outcome};

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
    let (token, staff) = sign_in(&state, req.staff_id, req.pin, client_of(&extensions)).await?;
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
    client: Option<std::net::IpAddr>,
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
    req.body.validate()?;
    authorize(&staff, &req.body)?;
    // A retry of an already stored event (same id) is answered by the store as a replay;
    // only new events are checked against the current state.
    let is_retry = match req.id {
        Some(id) => state.store.get(id)?.is_some(),
        None => false,
    };
    if !is_retry {
        check_against_state(&state, &req.body)?;
    }

    let outcome = append_as(&state, &staff, req.id, req.body).await?;
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

/// Append one event recorded by `staff` (with a client-chosen id, if any) and return what
/// the store did with it: new, or a replay of the same id.
pub(crate) async fn append_as(
    state: &AppState,
    staff: &Staff,
    id: Option<Uuid>,
    body: EventBody,
) -> Result<crate::store::Outcome, ApiError> {
    let draft = Draft {
        id,
        actor: Actor {
            staff_id: staff.id.clone(),
            role: staff.role,
        },
        body,
    };
    state
        .store
        .append_local(vec![draft])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no outcome"))
}

/// Role and station binding for appending `body`.
fn authorize(staff: &Staff, body: &EventBody) -> Result<(), ApiError> {
    let kind = body.kind();
    if !staff.role.may_append(kind) {
        return Err(ApiError::forbidden(format!(
            "role {} may not record {}",
            staff.role,
            kind.as_str()
        )));
    }
    if staff.role == Role::Station {
        let station = match body {
            EventBody::MeasurementRecorded(p) => Some(p.station),
            EventBody::MeasurementCorrected(p) => items::item(&p.item_code).map(|i| i.station),
            EventBody::StationVisited(p) => Some(p.station),
            _ => None,
        };
        if let Some(st) = station
            && !staff.stations.contains(&st)
        {
            return Err(ApiError::forbidden(format!(
                "{} is not bound to the {} station",
                staff.id,
                st.as_str()
            )));
        }
    }
    Ok(())
}

/// Weight: a value more than 20 % away from last year's must be confirmed (DESIGN.md).
const WEIGHT: &str = "9N006000000000001";

/// Checks that need the venue's state: the session exists and is open, a correction
/// corrects a result of the same item.
fn check_against_state(state: &AppState, body: &EventBody) -> Result<(), ApiError> {
    let p = state.store.projection();
    let not_open = |id: Uuid| {
        ApiError::new(
            StatusCode::CONFLICT,
            "session_not_open",
            format!("session {id} is not open at this venue"),
        )
    };
    match body {
        EventBody::SessionOpened(o) => {
            if p.session_by_id(o.session_id)
                .is_some_and(|s| s.opened.is_some())
            {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("session {} is already open", o.session_id),
                ));
            }
            Ok(())
        }
        EventBody::SessionClosed(c) => match p.session_by_id(c.session_id) {
            Some(s) if s.opened.is_some() => Ok(()),
            _ => Err(not_open(c.session_id)),
        },
        EventBody::MeasurementRecorded(m) => match p.session_by_id(m.session_id) {
            Some(s) if s.opened.is_some() && s.closed.is_none() => {
                if s.resident_id != m.resident_id {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_payload",
                        "resident_id does not match the session's resident",
                    ));
                }
                if let (checkup_protocol::MeasuredValue::Number(v), false) = (&m.value, m.confirmed)
                    && let Some(last) = state
                        .roster
                        .last_values(&m.resident_id)
                        .ok()
                        .and_then(|h| {
                            h.into_iter()
                                .find(|r| r.item_code == m.item_code && r.item_code == WEIGHT)
                        })
                        .and_then(|r| r.value.parse::<f64>().ok())
                    && last > 0.0
                    && ((v - last) / last).abs() > 0.2
                {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_payload",
                        format!(
                            "invalid payload.confirmed: weight {v} kg differs from last year's {last} kg by more than 20%: staff must confirm"
                        ),
                    ));
                }
                if !s.stations.contains(&m.station) {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_payload",
                        format!(
                            "the session's course does not include {}",
                            m.station.as_str()
                        ),
                    ));
                }
                Ok(())
            }
            _ => Err(not_open(m.session_id)),
        },
        EventBody::MeasurementCorrected(c) => {
            let s = p
                .session_by_id(c.session_id)
                .ok_or_else(|| not_open(c.session_id))?;
            let corrected = s
                .results
                .get(&c.item_code)
                .is_some_and(|v| v.iter().any(|r| r.event_id == c.corrects));
            if corrected {
                Ok(())
            } else {
                Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_payload",
                    format!(
                        "{} is not a result of {} in this session",
                        c.corrects, c.item_code
                    ),
                ))
            }
        }
        EventBody::StationVisited(v) => match p.session_by_id(v.session_id) {
            Some(s) if s.opened.is_some() && s.closed.is_none() => {
                if s.resident_id != v.resident_id || !s.stations.contains(&v.station) {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_payload",
                        "the station or resident does not belong to this session",
                    ));
                }
                Ok(())
            }
            _ => Err(not_open(v.session_id)),
        },
        EventBody::RecordViewed(_) => Ok(()),
        // Recorded by the box when a scan or case is shown, never typed in.
        EventBody::CaseViewed(_) => Err(ApiError::forbidden(
            "case views are recorded by the box when a scan or case is shown",
        )),
        EventBody::NoticeIntakeSaved(n) => {
            if p.cases().iter().any(|c| c.case_id == n.case_id) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("case {} is already saved", n.case_id),
                ));
            }
            Ok(())
        }
    }
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
/// a copy). Verified one by one; all or nothing.
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
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_event", e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(ApiError::malformed("expected a JSON array of events"));
    };
    let mut events = Vec::with_capacity(items.len());
    for (i, v) in items.into_iter().enumerate() {
        let at = |e: checkup_protocol::ProtocolError| {
            let mut err = ApiError::from(e);
            err.message = format!("event {i}: {}", err.message);
            err
        };
        let e = Event::from_value(v).map_err(at)?;
        e.verify_with(state.keyring.as_ref()).map_err(at)?;
        if e.venue != state.store.options().venue {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "wrong_venue",
                format!("event {i} belongs to venue {:?}", e.venue),
            ));
        }
        events.push(e);
    }
    let outcomes = state.store.append_signed(events).await?;
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
        "open_sessions": p.open_sessions().len(), "events": p.event_count(),
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
    let audit = Draft {
        id: None,
        actor: Actor {
            staff_id: staff.id.clone(),
            role: staff.role,
        },
        body: EventBody::RecordViewed(RecordViewed {
            resident_id: resident,
            purpose: format!("GET /api/sessions/{id}"),
        }),
    };
    let _: Vec<Outcome> = state.store.append_local(vec![audit]).await?;
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
    let p = state.store.projection();
    let stats = state.store.stats();
    Json(json!({
        "status": "ok", "venue": state.venue.id, "node": state.venue.node,
        "events": p.event_count(),
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
    Ok(Json(json!({
        "node": state.venue.node,
        "events": p.event_count(),
        "stored": ids.len(),
        "ids_digest": ids_digest,
        "projection_digest": p.digest(),
        "held": p.held().contiguous_summary(),
        "gaps": p.held().has_gaps(),
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
