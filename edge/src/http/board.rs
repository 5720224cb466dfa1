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
use serde_json::{Value, json};

use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::ApiError;

fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// The board as JSON.
pub fn board_json(state: &AppState) -> Value {
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
    let expected_wait = |k: StationKind| -> u64 {
        let waiting = progress.get(&k).map_or(0, |x| x.waiting) as u64;
        waiting * medians.get(&k).copied().flatten().unwrap_or(5 * 60_000)
    };
    let stations: Vec<Value> = StationKind::ALL
        .into_iter()
        .map(|k| {
            let pr = progress.get(&k).copied().unwrap_or_default();
            json!({"kind": k, "label": k.label_ja(), "label_en": k.label_en(), "waiting": pr.waiting,
                   "done": pr.done, "median_ms": medians.get(&k).copied().flatten()})
        })
        .collect();
    let sessions: Vec<Value> = p
        .open_sessions()
        .into_iter()
        .map(|s| {
            let remaining = s.remaining();
            let next = remaining
                .iter()
                .copied()
                .min_by_key(|k| (expected_wait(*k), *k));
            let name = state
                .roster
                .get(&s.resident_id)
                .ok()
                .flatten()
                .map(|r| r.name)
                .unwrap_or_default();
            json!({"session_id": s.session_id, "resident_id": s.resident_id, "name": name,
                   "remaining": remaining, "finished": s.finished(), "next": next,
                   "conflicts": s.conflicts()})
        })
        .collect();
    use std::sync::atomic::Ordering::Relaxed;
    let r = &state.replication;
    let (broker, serving) = r.broker();
    let replication = json!({
        "connected": r.link.is_connected(),
        "broker": broker.as_ref().map(|b| b.to_string()),
        "broker_node": broker.and_then(|b| b.node),
        "serving_broker": serving,
        "connections": r.link.connections.load(Relaxed),
        "applied": r.link.applied.load(Relaxed),
        "rejected": {
            "foreign": r.rejects.foreign.load(Relaxed),
            "malformed": r.rejects.malformed.load(Relaxed),
            "unauthenticated": r.rejects.unauthenticated.load(Relaxed),
            "impersonation": r.rejects.impersonation.load(Relaxed),
        },
        "held": ledger.held().summary(),
        // Per box of the venue: the highest event seen from it, how much of it is held
        // without gaps, and the difference (what anti-entropy still has to fetch).
        "boxes": ledger.held().summary().iter().map(|(node, head)| {
            let held = ledger.held().contiguous(node);
            json!({"node": node, "head": head, "held": held, "lag": head.saturating_sub(held),
                   "this_box": *node == state.venue.node})
        }).collect::<Vec<_>>(),
    });
    let forwarding = state.forward.lock().map(|f| f.clone()).unwrap_or_default();
    json!({"stations": stations, "sessions": sessions, "events": ledger.event_count(),
           "replication": replication, "forwarding": forwarding})
}

/// `GET /api/board`
pub(crate) async fn board(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    Ok(Json(board_json(&state)).into_response())
}

/// `GET /api/board/events`: the board now, then again after every change (changes within
/// 20 ms are sent as one update).
pub(crate) async fn events(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    let rx = state.store.subscribe();
    let first = board_json(&state).to_string();
    let stream = futures::stream::unfold(
        (rx, state, Some(first)),
        |(mut rx, state, first)| async move {
            if let Some(f) = first {
                return Some((Ok(Event::default().data(f)), (rx, state, None)));
            }
            match rx.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Coalesce a burst.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    while rx.try_recv().is_ok() {}
                    let data = board_json(&state).to_string();
                    Some((Ok(Event::default().data(data)), (rx, state, None)))
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
