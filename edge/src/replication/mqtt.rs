//! The MQTT side of replication: publish this box's events, apply everyone else's, and ask
//! for what is missing after every (re)connection.
//!
//! - Every event this box commits is published (QoS 1) on `checkup/{venue}/events/{node}`.
//! - Every event arriving on another node's topic is validated ([`super::wire`]) and
//!   appended as a signed event; replays are no-ops (idempotent by node and seq).
//! - On each ConnAck the box subscribes again and publishes its contiguous summary on
//!   `…/sync/request`; every other box answers on `…/sync/reply/{asker}` with the events above
//!   that summary. Nothing depends on the broker keeping messages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use checkup_protocol::PublicKey;
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use tokio_util::sync::CancellationToken;

use super::wire::{self, RejectCounters, SyncRequest};
use crate::store::EventStore;

/// Most events in one published message.
const BATCH: usize = 200;

/// Link state, for the board.
#[derive(Debug, Default)]
pub struct LinkState {
    /// Connected to the broker now.
    pub connected: std::sync::atomic::AtomicBool,
    /// Events received from peers and newly stored.
    pub applied: std::sync::atomic::AtomicU64,
    /// Connections made (1 + reconnects).
    pub connections: std::sync::atomic::AtomicU64,
}

/// Link state and rejected messages, shared with the board.
#[derive(Debug, Default)]
pub struct ReplicationStatus {
    /// Link state.
    pub link: LinkState,
    /// Rejected messages by reason.
    pub rejects: RejectCounters,
}

/// Start replicating through the broker at `host:port` until `shutdown`.
pub fn start(
    store: EventStore,
    keys: Arc<HashMap<String, PublicKey>>,
    host: String,
    port: u16,
    status: Arc<ReplicationStatus>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let venue = store.options().venue.clone();
    let node = store.options().node.clone();
    let mut opts = MqttOptions::new(format!("checkup-edge-{venue}-{node}"), host, port);
    opts.set_keep_alive(Duration::from_secs(10));
    opts.set_max_packet_size(wire::MAX_PAYLOAD + 1024, wire::MAX_PAYLOAD + 1024);
    let (client, mut eventloop) = AsyncClient::new(opts, 1024);

    // Publisher: this box's committed events, in batches.
    let mut committed = store.subscribe();
    let (pc, pn, pv, ps) = (
        client.clone(),
        node.clone(),
        venue.clone(),
        shutdown.clone(),
    );
    tokio::spawn(async move {
        let topic = wire::events_topic(&pv, &pn);
        loop {
            let first = tokio::select! {
                _ = ps.cancelled() => break,
                r = committed.recv() => r,
            };
            let mut batch = Vec::new();
            match first {
                Ok(e) if e.node == pn => batch.push(e),
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    // Peers will ask for what we skipped (anti-entropy).
                    tracing::warn!(skipped = n, "replication publisher lagged");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
            while batch.len() < BATCH {
                match committed.try_recv() {
                    Ok(e) if e.node == pn => batch.push(e),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let payload =
                match serde_json::to_vec(&batch.iter().map(|e| e.as_ref()).collect::<Vec<_>>()) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot encode events");
                        continue;
                    }
                };
            if let Err(e) = pc
                .publish(topic.clone(), QoS::AtLeastOnce, false, payload)
                .await
            {
                tracing::warn!(error = %e, "publish failed; peers will ask for these events");
            }
        }
    });

    tokio::spawn(async move {
        let (link, counters) = (&status.link, &status.rejects);
        let events_filter = format!("checkup/{venue}/events/+");
        let request_topic = wire::sync_request_topic(&venue);
        let reply_topic = wire::sync_reply_topic(&venue, &node);
        loop {
            let polled = tokio::select! {
                _ = shutdown.cancelled() => break,
                p = eventloop.poll() => p,
            };
            match polled {
                Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                    link.connected
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    link.connections
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    for t in [&events_filter, &request_topic, &reply_topic] {
                        let _ = client.subscribe(t.clone(), QoS::AtLeastOnce).await;
                    }
                    let summary = {
                        let p = store.projection();
                        p.held().contiguous_summary()
                    };
                    let req = SyncRequest {
                        from: node.clone(),
                        summary,
                    };
                    if let Ok(body) = serde_json::to_vec(&req) {
                        let _ = client
                            .publish(request_topic.clone(), QoS::AtLeastOnce, false, body)
                            .await;
                    }
                    tracing::info!("replication connected; asked peers for what is missing");
                }
                Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                    let topic = p.topic.clone();
                    if topic == request_topic {
                        answer_request(&store, &client, &venue, &node, &p.payload).await;
                    } else if topic == reply_topic {
                        apply(
                            &store,
                            counters,
                            link,
                            wire::decode_reply(&p.payload, &venue, keys.as_ref()),
                        )
                        .await;
                    } else if topic == wire::events_topic(&venue, &node) {
                        // Our own events, echoed back.
                    } else {
                        apply(
                            &store,
                            counters,
                            link,
                            wire::decode_events(&topic, &p.payload, &venue, keys.as_ref()),
                        )
                        .await;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    if link
                        .connected
                        .swap(false, std::sync::atomic::Ordering::Relaxed)
                    {
                        tracing::warn!(error = %e, "replication link lost; retrying");
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
        }
        let _ = client.disconnect().await;
    })
}

async fn apply(
    store: &EventStore,
    counters: &RejectCounters,
    link: &LinkState,
    decoded: Result<Vec<checkup_protocol::Event>, wire::ReplicationError>,
) {
    match decoded {
        Ok(events) if !events.is_empty() => match store.append_signed(events).await {
            Ok(outcomes) => {
                let n = outcomes.iter().filter(|o| o.is_new()).count() as u64;
                link.applied
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "replicated events refused by the store"),
        },
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "replication message rejected");
            counters.count(&e);
        }
    }
}

/// Answer a peer's sync request with every event above its summary, in batches.
async fn answer_request(
    store: &EventStore,
    client: &AsyncClient,
    venue: &str,
    me: &str,
    payload: &[u8],
) {
    let Ok(req) = serde_json::from_slice::<SyncRequest>(payload) else {
        tracing::warn!("malformed sync request ignored");
        return;
    };
    if req.from == me
        || req.from.is_empty()
        || req.from.contains('/')
        || req.from.contains('+')
        || req.from.contains('#')
    {
        return;
    }
    let store2 = store.clone();
    let summary = req.summary.clone();
    let wanted = tokio::task::spawn_blocking(move || -> Vec<Arc<checkup_protocol::Event>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let Ok(rows) = store2.read_after(after, 5000) else {
                break;
            };
            let Some(last) = rows.last() else { break };
            after = last.pos;
            out.extend(
                rows.into_iter()
                    .map(|r| r.event)
                    .filter(|e| e.seq > summary.get(&e.node).copied().unwrap_or(0)),
            );
        }
        out
    })
    .await
    .unwrap_or_default();
    let topic = wire::sync_reply_topic(venue, &req.from);
    for chunk in wanted.chunks(BATCH) {
        if let Ok(body) = serde_json::to_vec(&chunk.iter().map(|e| e.as_ref()).collect::<Vec<_>>())
        {
            let _ = client
                .publish(topic.clone(), QoS::AtLeastOnce, false, body)
                .await;
        }
    }
}
