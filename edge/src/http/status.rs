//! What the box reports about itself: liveness, the venue's progress, replication and
//! forwarding.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /healthz` | anyone | liveness; no personal data |
//! | `GET /api/venue` | checkup roles | stations and progress |
//! | `GET /api/replication/state` | venue admin | events held, version vector, digests, broker |
//! | `GET /api/forward/status` | venue admin | forwarding to central |

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use checkup_protocol::{Role, StationKind};
use serde_json::{Value, json};

use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::ApiError;

/// `GET /api/venue`
pub(crate) async fn venue(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    Ok(Json(venue_json(&state)).into_response())
}

pub(crate) fn venue_json(state: &AppState) -> Value {
    let v = venue_view(state);
    let stations: Vec<Value> = v
        .stations
        .iter()
        .map(|s| {
            json!({
                "id": s.id, "kind": s.kind, "label": s.label,
                "waiting": s.waiting, "done": s.done,
            })
        })
        .collect();
    json!({
        "venue_id": state.venue.id, "venue_name": v.venue_name, "node": state.venue.node,
        "booked": v.booked, "sessions_opened": v.opened,
        "open_sessions": v.open, "events": state.store.ledger().event_count(),
        "stations": stations,
    })
}

/// The venue's progress as the board page and `GET /api/venue` show it.
pub(crate) fn venue_view(state: &AppState) -> crate::ui::board::BoardView {
    let p = state.store.projection();
    let progress = p.station_progress();
    crate::ui::board::BoardView {
        venue_name: state.venue.name.clone(),
        booked: state.venue.booked as u64,
        opened: p.sessions_opened() as u64,
        open: p.open_sessions().len() as u64,
        stations: state
            .venue
            .stations
            .iter()
            .map(|s| {
                let pr = progress.get(&s.kind).copied().unwrap_or_default();
                crate::ui::board::StationTile {
                    id: s.id.clone(),
                    kind: s.kind,
                    label: station_label(s.kind, &s.label),
                    waiting: pr.waiting,
                    done: pr.done,
                }
            })
            .collect(),
    }
}

pub(crate) fn station_label(kind: StationKind, label: &str) -> String {
    if label.is_empty() {
        kind.label_ja().to_owned()
    } else {
        label.to_owned()
    }
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
    require(&staff, &[Role::VenueAdmin])?;
    let store = state.store.clone();
    let ids = crate::http::error::blocking("reading event ids", move || store.sorted_ids())
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
    require(&staff, &[Role::VenueAdmin])?;
    let s = state.forward.lock().map(|g| g.clone()).unwrap_or_default();
    Ok(Json(s).into_response())
}
