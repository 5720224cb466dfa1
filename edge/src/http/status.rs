//! What the box reports about itself: liveness, the venue's progress, replication and
//! forwarding.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /healthz` | anyone | liveness; no personal data |
//! | `GET /api/venue` | checkup roles | stations and progress |
//! | `GET /api/replication/state` | venue admin | events held, version vector, digests, broker |
//! | `GET /api/forward/status` | venue admin | forwarding to central |

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use checkup_protocol::{Role, StationKind};
use serde::Serialize;

use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::{ApiError, ErrorBody};

/// The venue's progress (`GET /api/venue`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Venue {
    /// Venue id.
    venue_id: String,
    /// Display name.
    venue_name: String,
    /// This box's node id.
    node: String,
    /// Residents booked.
    booked: u64,
    /// Sessions opened so far.
    sessions_opened: u64,
    /// Sessions open now.
    open_sessions: u64,
    /// Events in this box's log.
    events: u64,
    /// The stations set up.
    stations: Vec<VenueStation>,
}

/// A station of the venue and its queue.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct VenueStation {
    /// Station id from the configuration.
    id: String,
    /// What it does.
    kind: StationKind,
    /// Its label.
    label: String,
    /// Residents still to visit it.
    waiting: usize,
    /// Residents done with it.
    done: usize,
}

/// `GET /api/venue`
#[utoipa::path(
    get,
    path = "/api/venue",
    tag = "status",
    description = "The venue's stations and progress (checkup roles).",
    responses(
        (status = 200, description = "Progress", body = Venue),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn venue(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    Ok(Json(venue_json(&state)).into_response())
}

pub(crate) fn venue_json(state: &AppState) -> Venue {
    let p = state.store.projection();
    let progress = p.station_progress();
    Venue {
        venue_id: state.venue.id.clone(),
        venue_name: state.venue.name.clone(),
        node: state.venue.node.clone(),
        booked: state.venue.booked as u64,
        sessions_opened: p.sessions_opened() as u64,
        open_sessions: p.open_sessions().len() as u64,
        events: state.store.ledger().event_count(),
        stations: state
            .venue
            .stations
            .iter()
            .map(|s| {
                let pr = progress.get(&s.kind).copied().unwrap_or_default();
                VenueStation {
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

/// The venue's progress as the board page and `GET /api/venue` show it.
pub(crate) fn venue_view(state: &AppState) -> crate::ui::board::BoardView {
    let board = super::board::board_json(state);
    // One tile per station kind, however many tables the venue set up for it (two blood
    // pressure tables share one queue).
    let mut stations: Vec<crate::ui::board::StationTile> = Vec::new();
    for s in &state.venue.stations {
        if let Some(t) = stations.iter_mut().find(|t| t.kind == s.kind) {
            t.tables.push(station_label(s.kind, &s.label));
            continue;
        }
        let (waiting, done) = board.counts(s.kind);
        stations.push(crate::ui::board::StationTile {
            id: s.id.clone(),
            kind: s.kind,
            tables: vec![station_label(s.kind, &s.label)],
            waiting,
            done,
        });
    }
    crate::ui::board::BoardView {
        venue_name: state.venue.name.clone(),
        booked: state.venue.booked as u64,
        opened: board.opened(),
        open: board.in_progress(),
        stations,
    }
}

pub(crate) fn station_label(kind: StationKind, label: &str) -> String {
    if label.is_empty() {
        kind.label_ja().to_owned()
    } else {
        label.to_owned()
    }
}

/// Liveness (`GET /healthz`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    status: &'static str,
    /// Venue id.
    venue: String,
    /// Node id.
    node: String,
    /// Events in the log.
    events: u64,
    /// Event store statistics.
    store: StoreHealth,
}

/// How the event store commits.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StoreHealth {
    /// Commits since start.
    commits: u64,
    /// Mean events per commit, one decimal.
    events_per_commit: f64,
}

/// `GET /healthz`: liveness for operators and load balancers; no personal data.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "status",
    description = "Liveness for operators and load balancers; no personal data, no sign-in.",
    responses((status = 200, description = "Alive", body = Health)),
    security(()),
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let ledger = state.store.ledger();
    let stats = state.store.stats();
    Json(Health {
        status: "ok",
        venue: state.venue.id.clone(),
        node: state.venue.node.clone(),
        events: ledger.event_count(),
        store: StoreHealth {
            commits: stats.commits.load(std::sync::atomic::Ordering::Relaxed),
            events_per_commit: (stats.events_per_commit() * 10.0).round() / 10.0,
        },
    })
    .into_response()
}

/// What this box holds (`GET /api/replication/state`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReplicationState {
    /// This box's node id.
    node: String,
    /// Events in the log.
    events: u64,
    /// Event ids stored.
    stored: usize,
    /// SHA-256 (hex) of the sorted event ids, one a line.
    ids_digest: String,
    /// Digest of the projection.
    projection_digest: String,
    /// Per node, the highest seq held without gaps.
    held: BTreeMap<String, u64>,
    /// Some node's events are held with gaps.
    gaps: bool,
    /// The broker in use, `host:port`.
    broker: Option<String>,
    /// Which box serves it (null: an external broker): what every box must agree on.
    broker_node: Option<String>,
    /// This box serves the venue's broker.
    serving_broker: bool,
    /// Times this box began serving the venue's broker since it started (hub failover).
    broker_starts: u64,
    /// The longest silence of the broker in use that ended with it answering again, in
    /// milliseconds: how close a Wi-Fi cut came to a failover (`hub_silence_secs`).
    longest_silence_ms: u64,
    /// Connected to the broker.
    connected: bool,
    /// This box's broker gate (when it serves the venue's broker over TLS): refusals.
    gate: Option<GateState>,
}

/// Refusals of this box's broker gate.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct GateState {
    /// TLS handshakes refused.
    handshakes_refused: u64,
    /// MQTT connects refused.
    connects_refused: u64,
    /// Publishes refused.
    publishes_refused: u64,
    /// Subscriptions refused.
    subscribes_refused: u64,
    /// Malformed packets.
    malformed: u64,
}

/// `GET /api/replication/state` (venue admin): what this box holds, to compare boxes —
/// event count, version vector, a digest of the event id set and of the projection, and
/// the broker in use.
#[utoipa::path(
    get,
    path = "/api/replication/state",
    tag = "status",
    description = "What this box holds, to compare boxes (venue admin).",
    responses(
        (status = 200, description = "Held events and broker", body = ReplicationState),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
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
    Ok(Json(ReplicationState {
        node: state.venue.node.clone(),
        events: ledger.event_count(),
        stored: ids.len(),
        ids_digest,
        projection_digest: p.digest(),
        held: ledger.held().contiguous_summary(),
        gaps: ledger.held().has_gaps(),
        broker: broker.as_ref().map(|b| b.to_string()),
        broker_node: broker.as_ref().and_then(|b| b.node.clone()),
        serving_broker: serving,
        broker_starts: state
            .replication
            .broker_starts
            .load(std::sync::atomic::Ordering::Relaxed),
        longest_silence_ms: state
            .replication
            .longest_silence_ms
            .load(std::sync::atomic::Ordering::Relaxed),
        connected: state.replication.link.is_connected(),
        gate: state.replication.gate().map(|g| {
            use std::sync::atomic::Ordering::Relaxed;
            GateState {
                handshakes_refused: g.handshakes.refused.load(Relaxed),
                connects_refused: g.connects.load(Relaxed),
                publishes_refused: g.publishes.load(Relaxed),
                subscribes_refused: g.subscribes.load(Relaxed),
                malformed: g.malformed.load(Relaxed),
            }
        }),
    })
    .into_response())
}

/// `GET /api/forward/status` (venue admin): queue depth, oldest unforwarded event, last
/// success and error, disk use against its bound.
#[utoipa::path(
    get,
    path = "/api/forward/status",
    tag = "status",
    description = "Forwarding to central: queue depth, oldest unforwarded event, last success \
                   and error, disk use against its bound (venue admin).",
    responses(
        (status = 200, description = "Forwarding", body = crate::forward::ForwardStatus),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn forward_status(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::VenueAdmin])?;
    let s = state.forward.lock().map(|g| g.clone()).unwrap_or_default();
    Ok(Json(s).into_response())
}
