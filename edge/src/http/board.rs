//! The progress board: every open session, where each resident is and what remains, queue
//! length and median time per station, a suggested next station; live over server-sent
//! events to every open board.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use checkup_protocol::StationKind;
use futures::stream::Stream;
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::{ApiError, ErrorBody};
use crate::venue::spread::{self, Walker};

fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// The progress board (`GET /api/board` and each update of `GET /api/board/events`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Board {
    /// Every station kind with its queue.
    stations: Vec<BoardStation>,
    /// Open sessions.
    sessions: Vec<BoardSession>,
    /// Residents checked in today (sessions opened).
    opened: u64,
    /// Residents checked in and not yet through every station.
    in_progress: u64,
    /// Events in this box's log.
    events: u64,
    /// The replication link.
    replication: BoardReplication,
    /// Forwarding to central.
    forwarding: crate::forward::ForwardStatus,
}

/// A station kind on the board.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BoardStation {
    /// The kind.
    kind: StationKind,
    /// Japanese label.
    label: &'static str,
    /// English label.
    label_en: &'static str,
    /// Residents whose next station this is (the one they are at, else the suggested one).
    waiting: usize,
    /// Open sessions that still have this station to do (waiting here or elsewhere).
    due: usize,
    /// Sessions done there.
    done: usize,
    /// Median milliseconds the station takes (null before any session finished it).
    median_ms: Option<u64>,
}

/// An open session on the board.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BoardSession {
    /// Session id.
    session_id: Uuid,
    /// Resident number.
    resident_id: String,
    /// Name from the roster (empty if not booked).
    name: String,
    /// Stations still to visit.
    remaining: Vec<StationKind>,
    /// Every station is done.
    finished: bool,
    /// Next station: the one already begun, else the suggested one (shortest expected wait:
    /// residents headed there × the station's median; 診察 last).
    next: Option<StationKind>,
    /// Items recorded twice by different stations.
    conflicts: Vec<String>,
}

/// The replication link as the board shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BoardReplication {
    /// Connected to the venue's broker.
    connected: bool,
    /// The broker, `host:port`.
    broker: Option<String>,
    /// The box serving it (null: an external broker).
    broker_node: Option<String>,
    /// This box serves the venue's broker.
    serving_broker: bool,
    /// Connections made since start.
    connections: u64,
    /// Events applied from peers.
    applied: u64,
    /// Messages refused, by reason.
    rejected: Rejected,
    /// Per node, the highest seq seen.
    held: BTreeMap<String, u64>,
    /// Per box of the venue: the highest event seen from it, how much of it is held
    /// without gaps, and the difference (what anti-entropy still has to fetch).
    boxes: Vec<BoardBox>,
}

/// Replication messages refused, by reason.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Rejected {
    /// From another venue.
    foreign: u64,
    /// Not a valid message.
    malformed: u64,
    /// Signed by no enrolled box.
    unauthenticated: u64,
    /// Sent by one box in another's name.
    impersonation: u64,
}

/// One box of the venue as this box holds it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct BoardBox {
    /// Node id.
    node: String,
    /// Highest seq seen.
    head: u64,
    /// Highest seq held without gaps.
    held: u64,
    /// `head - held`.
    lag: u64,
    /// It is this box.
    this_box: bool,
}

/// The board.
pub(crate) fn board_json(state: &AppState) -> Board {
    let p = state.store.projection();
    let ledger = state.store.ledger();
    let progress = p.station_progress();
    // Median minutes a station takes: from the previous station's completion (or the
    // opening) to this station's, over every session that finished the station.
    let mut durations: BTreeMap<StationKind, Vec<u64>> = BTreeMap::new();
    for s in p.all_sessions() {
        let Some(opened) = s.opened else { continue };
        let mut done: Vec<(u64, StationKind)> = s
            .stations
            .iter()
            .filter_map(|k| s.done_at(*k).map(|h| (h.ms, *k)))
            .collect();
        done.sort();
        let mut prev = opened.ms;
        for (at, k) in done {
            durations
                .entry(k)
                .or_default()
                .push(at.saturating_sub(prev));
            prev = at;
        }
    }
    let medians: BTreeMap<StationKind, Option<u64>> = StationKind::ALL
        .into_iter()
        .map(|k| (k, median(durations.remove(&k).unwrap_or_default())))
        .collect();
    let open = p.open_sessions();
    // A station begun (something recorded there) and not done is where the resident is;
    // otherwise the one with the shortest expected wait, counting those already headed
    // there (`venue::spread`).
    let walkers: Vec<Walker> = open
        .iter()
        .map(|s| {
            let remaining = s.remaining();
            let begun = remaining
                .iter()
                .copied()
                .find(|k| s.first_at_station.contains_key(k));
            Walker { remaining, begun }
        })
        .collect();
    let nexts = spread::suggest(&walkers, &medians);
    let sessions: Vec<BoardSession> = open
        .into_iter()
        .zip(walkers)
        .zip(nexts)
        .map(|((s, w), next)| {
            let name = state
                .roster
                .get(&s.resident_id)
                .ok()
                .flatten()
                .map(|r| r.name)
                .unwrap_or_default();
            BoardSession {
                session_id: s.session_id,
                resident_id: s.resident_id.clone(),
                name,
                finished: s.finished(),
                next,
                conflicts: s.conflicts().into_iter().map(str::to_owned).collect(),
                remaining: w.remaining,
            }
        })
        .collect();
    use std::sync::atomic::Ordering::Relaxed;
    let r = &state.replication;
    let (broker, serving) = r.broker();
    let held = ledger.held().summary();
    let boxes = held
        .iter()
        .map(|(node, head)| {
            let contiguous = ledger.held().contiguous(node);
            BoardBox {
                node: node.clone(),
                head: *head,
                held: contiguous,
                lag: head.saturating_sub(contiguous),
                this_box: *node == state.venue.node,
            }
        })
        .collect();
    let replication = BoardReplication {
        connected: r.link.is_connected(),
        broker: broker.as_ref().map(|b| b.to_string()),
        broker_node: broker.and_then(|b| b.node),
        serving_broker: serving,
        connections: r.link.connections.load(Relaxed),
        applied: r.link.applied.load(Relaxed),
        rejected: Rejected {
            foreign: r.rejects.foreign.load(Relaxed),
            malformed: r.rejects.malformed.load(Relaxed),
            unauthenticated: r.rejects.unauthenticated.load(Relaxed),
            impersonation: r.rejects.impersonation.load(Relaxed),
        },
        held,
        boxes,
    };
    let mut next_here: BTreeMap<StationKind, usize> = BTreeMap::new();
    for s in sessions.iter().filter(|s| !s.finished) {
        if let Some(k) = s.next {
            *next_here.entry(k).or_default() += 1;
        }
    }
    let stations = StationKind::ALL
        .into_iter()
        .map(|k| {
            let pr = progress.get(&k).copied().unwrap_or_default();
            BoardStation {
                kind: k,
                label: k.label_ja(),
                label_en: k.label_en(),
                waiting: next_here.get(&k).copied().unwrap_or(0),
                due: pr.waiting,
                done: pr.done,
                median_ms: medians.get(&k).copied().flatten(),
            }
        })
        .collect();
    let in_progress = sessions.iter().filter(|s| !s.finished).count() as u64;
    let forwarding = state.forward.lock().map(|f| f.clone()).unwrap_or_default();
    Board {
        stations,
        opened: p.sessions_opened() as u64,
        in_progress,
        sessions,
        events: ledger.event_count(),
        replication,
        forwarding,
    }
}

/// A board as one server-sent event's data.
fn board_event(state: &AppState) -> Event {
    Event::default().data(serde_json::to_string(&board_json(state)).unwrap_or_default())
}

/// `GET /api/board`
#[utoipa::path(
    get,
    path = "/api/board",
    tag = "board",
    description = "Every open session, where each resident is and what remains, queue length \
                   and median time per station, a suggested next station (checkup roles).",
    responses(
        (status = 200, description = "The board", body = Board),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn board(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    Ok(Json(board_json(&state)).into_response())
}

/// `GET /api/board/events`: the board now, then again after every change (changes within
/// 20 ms are sent as one update).
#[utoipa::path(
    get,
    path = "/api/board/events",
    operation_id = "board_events",
    tag = "board",
    description = "Server-sent events: the board (`Board` as JSON in each event's data) now, \
                   then after every change (checkup roles). The stream does not end.",
    responses(
        (status = 200, description = "An endless stream of boards", content_type = "text/event-stream", body = String),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    let stopping = state.stopping.clone();
    let rx = state.store.subscribe();
    let first = board_event(&state);
    let stream = futures::stream::unfold(
        (rx, state, Some(first)),
        |(mut rx, state, first)| async move {
            if let Some(f) = first {
                return Some((Ok(f), (rx, state, None)));
            }
            match rx.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Coalesce a burst.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    while rx.try_recv().is_ok() {}
                    Some((Ok(board_event(&state)), (rx, state, None)))
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
            }
        },
    );
    Ok(Sse::new(super::until_stopping(&stopping, stream)).keep_alive(KeepAlive::default()))
}

impl Board {
    /// Residents checked in today.
    pub(crate) fn opened(&self) -> u64 {
        self.opened
    }

    /// Residents checked in and not through every station.
    pub(crate) fn in_progress(&self) -> u64 {
        self.in_progress
    }

    /// A station kind's `(waiting, done)`.
    pub(crate) fn counts(&self, kind: StationKind) -> (usize, usize) {
        self.stations
            .iter()
            .find(|s| s.kind == kind)
            .map_or((0, 0), |s| (s.waiting, s.done))
    }
}
