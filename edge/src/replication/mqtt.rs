//! The MQTT side of replication: publish this box's events, apply everyone else's, and ask
//! for what is missing.
//!
//! - Every event this box commits is published (QoS 1) on `checkup/{venue}/events/{node}`.
//! - Every event arriving on another node's topic is validated ([`super::wire`]) off the
//!   async threads and appended as a signed event; replays are no-ops (idempotent by node
//!   and seq), and the order of arrival does not matter (the projection orders by HLC).
//! - A box publishes its contiguous summary on `…/sync/request` on every connection, every
//!   few seconds, when a peer's summary shows more than it holds, and when it sees a gap.
//!   Answers go to `…/sync/reply/{asker}`: a node's events are sent by that node while it is
//!   heard from, and by every box that holds them otherwise. Nothing depends on the broker
//!   keeping messages.
//! - The broker is whatever [`super::hub`] chooses; when the choice changes the client
//!   disconnects and connects to the new one.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkup_protocol::PublicKey;
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::hub::BrokerAddr;
use super::wire::{self, RejectCounters, SyncRequest};
use crate::log::store::EventStore;

/// MQTT keep-alive: a ping when nothing else was sent for this long, and the link counts as
/// lost when the previous ping went unanswered — a stalled link is noticed in 2–4 s, before
/// [`super::failover`]'s `silent_confirm` (6 s) runs out. The minimum rumqttc takes is 1 s;
/// 2 s leaves a loaded box a second to answer.
pub const KEEP_ALIVE: Duration = Duration::from_secs(2);
/// Seconds a (re)connection may take: a connect attempted during a Wi-Fi cut gives up soon
/// enough to retry once the network is back.
const CONNECT_TIMEOUT_SECS: u64 = 3;
/// Most events in one published message.
const BATCH: usize = 200;
/// Most bytes of events in one published message (a case photo is an event of up to 2 MB):
/// a message is cut before the event that would take it past this, and always holds at
/// least one event (an event is at most about 2 MB, within [`wire::MAX_PAYLOAD`]).
const BATCH_BYTES: usize = wire::MAX_PAYLOAD / 2;
/// Summary published at least this often: every box's heartbeat on the broker, which the
/// others hear ([`ReplicationStatus::heard_ago`]).
const HEARTBEAT: Duration = Duration::from_secs(5);
/// A node not heard from for this long no longer answers alone for its events.
const HEARD_RECENTLY: Duration = Duration::from_secs(12);
/// Extra requests (peer ahead, gap seen) at most this often.
const REQUEST_EVERY: Duration = Duration::from_millis(500);

/// Link state, for the board and the broker choice.
#[derive(Debug)]
pub struct LinkState {
    /// Connected to the broker now.
    connected: AtomicBool,
    /// When `connected` last changed (or the link was created).
    since: Mutex<Instant>,
    /// Events received from peers and newly stored.
    pub applied: AtomicU64,
    /// Connections made (1 + reconnects).
    pub connections: AtomicU64,
    /// The broker (its node) that last sent this box anything over the link, and when: the
    /// broker's own sign of life, which ends a silence of its probes ([`super::failover`]).
    answered: Mutex<Option<(Option<String>, Instant)>>,
}

impl Default for LinkState {
    fn default() -> Self {
        LinkState {
            connected: AtomicBool::new(false),
            since: Mutex::new(Instant::now()),
            applied: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            answered: Mutex::new(None),
        }
    }
}

impl LinkState {
    /// Connected to the broker now.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Relaxed)
    }

    /// How long the link has been down (zero while connected).
    pub fn down_for(&self) -> Duration {
        if self.is_connected() {
            return Duration::ZERO;
        }
        self.since.lock().map(|t| t.elapsed()).unwrap_or_default()
    }

    /// How long ago the broker served by `node` last sent this box a packet over the link
    /// (None: never, or another broker did since).
    pub fn answered_ago(&self, node: &str) -> Option<Duration> {
        let g = self.answered.lock().ok()?;
        match g.as_ref()? {
            (Some(n), at) if n == node => Some(at.elapsed()),
            _ => None,
        }
    }

    /// Record a packet from the broker served by `node`.
    fn answered_now(&self, node: Option<&str>) {
        if let Ok(mut g) = self.answered.lock() {
            *g = Some((node.map(str::to_owned), Instant::now()));
        }
    }

    /// Record a change of state; returns the previous one.
    fn set(&self, up: bool) -> bool {
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        let was = self.connected.swap(up, Relaxed);
        if was != up {
            *since = Instant::now();
        }
        was
    }
}

/// Link state, the broker in use and rejected messages, shared with the board.
#[derive(Debug, Default)]
pub struct ReplicationStatus {
    /// Link state.
    pub link: LinkState,
    /// Rejected messages by reason.
    pub rejects: RejectCounters,
    /// The broker in use and whether this box serves it.
    broker: Mutex<(Option<BrokerAddr>, bool)>,
    /// The refusals of this box's broker gate, once it serves the venue's broker with TLS.
    gate: Mutex<Option<Arc<super::gate::GateStats>>>,
    /// When a peer was last heard through the broker (an event or its heartbeat).
    heard: Mutex<Option<Instant>>,
    /// Embedded brokers this box has started since it started.
    pub broker_starts: AtomicU64,
    /// The longest silence of the broker in use that ended with the broker answering again
    /// (milliseconds): how close a Wi-Fi cut came to a failover.
    pub longest_silence_ms: AtomicU64,
}

impl ReplicationStatus {
    /// Record the broker chosen.
    pub fn set_broker(&self, broker: Option<BrokerAddr>, serving: bool) {
        if let Ok(mut g) = self.broker.lock() {
            *g = (broker, serving);
        }
    }

    /// Record the gate of the broker this box started.
    pub fn set_gate(&self, gate: Option<Arc<super::gate::GateStats>>) {
        if let Ok(mut g) = self.gate.lock() {
            *g = gate;
        }
    }

    /// The gate's refusals, if this box runs a gated broker.
    pub fn gate(&self) -> Option<Arc<super::gate::GateStats>> {
        self.gate.lock().ok().and_then(|g| g.clone())
    }

    /// The broker in use and whether this box serves it.
    pub fn broker(&self) -> (Option<BrokerAddr>, bool) {
        self.broker.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// How long ago a peer was last heard through the broker (None: never).
    pub fn heard_ago(&self) -> Option<Duration> {
        self.heard.lock().ok().and_then(|g| g.map(|t| t.elapsed()))
    }

    fn heard_now(&self) {
        if let Ok(mut g) = self.heard.lock() {
            *g = Some(Instant::now());
        }
    }
}

/// Everything a session with one broker shares.
struct Shared {
    /// Where received events are imported (the core's one path for every write).
    core: crate::venue::Core,
    store: EventStore,
    keys: Arc<HashMap<String, PublicKey>>,
    status: Arc<ReplicationStatus>,
    venue: String,
    node: String,
    /// When each peer was last heard from.
    heard: Mutex<HashMap<String, Instant>>,
    /// When this box last asked.
    asked: Mutex<Option<Instant>>,
    /// TLS with this box's client certificate (None: plain MQTT, `--insecure-dev`).
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// Replicate through whichever broker `target` names, until `shutdown`.
pub fn start(
    core: crate::venue::Core,
    keys: Arc<HashMap<String, PublicKey>>,
    tls: Option<Arc<rustls::ClientConfig>>,
    mut target: watch::Receiver<Option<BrokerAddr>>,
    status: Arc<ReplicationStatus>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let store = core.store().clone();
    let shared = Arc::new(Shared {
        venue: store.options().venue.clone(),
        node: store.options().node.clone(),
        core,
        store,
        keys,
        status,
        heard: Mutex::default(),
        asked: Mutex::default(),
        tls,
    });
    tokio::spawn(async move {
        loop {
            let current = target.borrow_and_update().clone();
            let session = CancellationToken::new();
            let running = current
                .map(|addr| tokio::spawn(session_with(shared.clone(), addr, session.clone())));
            tokio::select! {
                _ = shutdown.cancelled() => {}
                changed = target.changed() => {
                    if changed.is_err() {
                        // The chooser is gone: keep the current broker until shutdown.
                        shutdown.cancelled().await;
                    }
                }
            }
            session.cancel();
            if let Some(r) = running {
                let _ = r.await;
            }
            shared.status.link.set(false);
            if shutdown.is_cancelled() {
                break;
            }
        }
    })
}

/// One connection to one broker (with rumqttc's reconnects) until `stop`.
async fn session_with(shared: Arc<Shared>, addr: BrokerAddr, stop: CancellationToken) {
    let (venue, node) = (shared.venue.clone(), shared.node.clone());
    let mut opts = MqttOptions::new(
        format!("checkup-edge-{venue}-{node}"),
        addr.host.clone(),
        addr.port,
    );
    opts.set_keep_alive(KEEP_ALIVE);
    opts.set_max_packet_size(wire::MAX_PAYLOAD + 4096, wire::MAX_PAYLOAD + 4096);
    if let Some(tls) = &shared.tls {
        opts.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(tls.clone()),
        ));
    }
    let (client, mut eventloop) = AsyncClient::new(opts, 4096);
    // Events are small and latency matters: no Nagle delay on our side of the link.
    let mut net = rumqttc::NetworkOptions::new();
    net.set_tcp_nodelay(true);
    net.set_connection_timeout(CONNECT_TIMEOUT_SECS);
    eventloop.network_options = net;
    tracing::info!(broker = %addr, "replication connecting");

    let publisher = tokio::spawn(publish_own(shared.clone(), client.clone(), stop.clone()));
    let events_filter = format!("checkup/{venue}/events/+");
    let request_topic = wire::sync_request_topic(&venue);
    let reply_topic = wire::sync_reply_topic(&venue, &node);
    let own_topic = wire::events_topic(&venue, &node);
    let link = &shared.status.link;
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        let polled = tokio::select! {
            _ = stop.cancelled() => break,
            _ = heartbeat.tick() => {
                if link.is_connected() {
                    ask(&shared, &client, true);
                }
                continue;
            }
            p = eventloop.poll() => p,
        };
        if let Ok(MqttEvent::Incoming(_)) = &polled {
            link.answered_now(addr.node.as_deref());
        }
        match polled {
            Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                link.set(true);
                link.connections.fetch_add(1, Relaxed);
                for t in [&events_filter, &request_topic, &reply_topic] {
                    let _ = client.try_subscribe(t.clone(), QoS::AtLeastOnce);
                }
                ask(&shared, &client, true);
                tracing::info!(broker = %addr, "replication connected; asked peers for what is missing");
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                let topic = p.topic.clone();
                if topic == request_topic {
                    on_request(&shared, &client, &p.payload);
                } else if topic == own_topic {
                    // Our own events, echoed back.
                } else {
                    let reply = topic == reply_topic;
                    if !reply && let Some(from) = topic.rsplit('/').next() {
                        heard(&shared, from);
                    }
                    tokio::spawn(apply(
                        shared.clone(),
                        client.clone(),
                        topic,
                        p.payload,
                        reply,
                    ));
                }
            }
            Ok(_) => {}
            Err(e) => {
                if link.set(false) {
                    tracing::warn!(broker = %addr, error = %e, "replication link lost; retrying");
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
        }
    }
    link.set(false);
    publisher.abort();
    let _ = client.try_disconnect();
    // Let the disconnect go out, briefly.
    let _ = tokio::time::timeout(Duration::from_millis(100), eventloop.poll()).await;
}

/// Publish this box's committed events, in batches, while the session lasts.
async fn publish_own(shared: Arc<Shared>, client: AsyncClient, stop: CancellationToken) {
    let mut committed = shared.store.subscribe();
    let me = shared.node.clone();
    let topic = wire::events_topic(&shared.venue, &me);
    loop {
        let first = tokio::select! {
            _ = stop.cancelled() => break,
            r = committed.recv() => r,
        };
        let mut batch = Vec::new();
        match first {
            Ok(e) if e.node == me => batch.push(e),
            Ok(_) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                // Peers will ask for what was skipped (anti-entropy).
                tracing::warn!(skipped = n, "replication publisher lagged");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        }
        while batch.len() < BATCH {
            match committed.try_recv() {
                Ok(e) if e.node == me => batch.push(e),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        for payload in payloads(&batch) {
            if let Err(e) = client
                .publish(topic.clone(), QoS::AtLeastOnce, false, payload)
                .await
            {
                tracing::warn!(error = %e, "publish failed; peers will ask for these events");
            }
        }
    }
}

/// `events` as JSON arrays of at most [`BATCH_BYTES`] each (an event alone when larger).
fn payloads(events: &[Arc<checkup_protocol::Event>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut body = vec![b'['];
    for e in events {
        let json = match serde_json::to_vec(e.as_ref()) {
            Ok(j) => j,
            Err(err) => {
                tracing::error!(error = %err, "cannot encode an event; peers will ask for it");
                continue;
            }
        };
        if body.len() > 1 && body.len() + json.len() + 2 > BATCH_BYTES {
            body.push(b']');
            out.push(std::mem::replace(&mut body, vec![b'[']));
        }
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(&json);
    }
    if body.len() > 1 {
        body.push(b']');
        out.push(body);
    }
    out
}

fn heard(shared: &Shared, node: &str) {
    shared.status.heard_now();
    if let Ok(mut g) = shared.heard.lock() {
        g.insert(node.to_owned(), Instant::now());
    }
}

/// Publish this box's contiguous summary (always when `force`, else at most every
/// [`REQUEST_EVERY`]).
fn ask(shared: &Shared, client: &AsyncClient, force: bool) {
    {
        let Ok(mut last) = shared.asked.lock() else {
            return;
        };
        if !force && last.is_some_and(|t| t.elapsed() < REQUEST_EVERY) {
            return;
        }
        *last = Some(Instant::now());
    }
    let summary = shared.store.ledger().held().contiguous_summary();
    let req = SyncRequest {
        from: shared.node.clone(),
        summary,
    };
    if let Ok(body) = serde_json::to_vec(&req) {
        let _ = client.try_publish(
            wire::sync_request_topic(&shared.venue),
            QoS::AtLeastOnce,
            false,
            body,
        );
    }
}

/// A peer's summary: send what it lacks that this box should send, and ask in turn if the
/// peer holds more than this box.
fn on_request(shared: &Arc<Shared>, client: &AsyncClient, payload: &[u8]) {
    let req = match serde_json::from_slice::<SyncRequest>(payload) {
        Ok(r) if valid_node(&r.from) => r,
        Ok(_) | Err(_) => {
            tracing::warn!("malformed sync request rejected");
            shared.status.rejects.malformed.fetch_add(1, Relaxed);
            return;
        }
    };
    if req.from == shared.node {
        return;
    }
    heard(shared, &req.from);
    let (mine, behind) = {
        let l = shared.store.ledger();
        let held = l.held();
        let mine: BTreeMap<String, u64> = held.contiguous_summary();
        let behind = req
            .summary
            .iter()
            .any(|(n, &s)| *n != shared.node && s > held.contiguous(n));
        (mine, behind)
    };
    if behind {
        ask(shared, client, false);
    }
    // Ranges to send: a node's own events come from that node while it is heard from.
    let now = Instant::now();
    let heard = shared.heard.lock().map(|g| g.clone()).unwrap_or_default();
    let ranges: Vec<(String, u64, u64)> = mine
        .into_iter()
        .filter_map(|(n, have)| {
            let theirs = req.summary.get(&n).copied().unwrap_or(0);
            if have <= theirs {
                return None;
            }
            let origin_live = n != shared.node
                && n != req.from
                && heard
                    .get(&n)
                    .is_some_and(|t| now.duration_since(*t) < HEARD_RECENTLY);
            (!origin_live).then_some((n, theirs, have))
        })
        .collect();
    if ranges.is_empty() {
        return;
    }
    let (shared, client, to) = (shared.clone(), client.clone(), req.from);
    tokio::spawn(async move { send_ranges(shared, client, to, ranges).await });
}

/// Send `ranges` (node, after, up to) to `to`, in batches of stored JSON.
async fn send_ranges(
    shared: Arc<Shared>,
    client: AsyncClient,
    to: String,
    ranges: Vec<(String, u64, u64)>,
) {
    let topic = wire::sync_reply_topic(&shared.venue, &to);
    for (node, mut after, upto) in ranges {
        while after < upto {
            let store = shared.store.clone();
            let n = node.clone();
            let rows = tokio::task::spawn_blocking(move || store.read_node_json(&n, after, BATCH))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            // Cut before the row that would take the message past its size (never below one).
            let mut size = 2;
            let fit = rows
                .iter()
                .position(|(_, json)| {
                    size += json.len() + 1;
                    size > BATCH_BYTES
                })
                .map_or(rows.len(), |i| i.max(1));
            let rows = &rows[..fit];
            let Some(&(last, _)) = rows.last() else { break };
            after = last;
            let mut body =
                Vec::with_capacity(rows.iter().map(|r| r.1.len() + 1).sum::<usize>() + 2);
            body.push(b'[');
            for (i, (_, json)) in rows.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(json.as_bytes());
            }
            body.push(b']');
            if client
                .publish(topic.clone(), QoS::AtLeastOnce, false, body)
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

fn valid_node(n: &str) -> bool {
    !n.is_empty() && n.len() <= 64 && !n.contains(['/', '+', '#'])
}

/// Validate (off the async threads: signatures) and store a message of events.
async fn apply(
    shared: Arc<Shared>,
    client: AsyncClient,
    topic: String,
    payload: bytes::Bytes,
    reply: bool,
) {
    let (venue, keys) = (shared.venue.clone(), shared.keys.clone());
    let decoded = tokio::task::spawn_blocking(move || {
        if reply {
            wire::decode_reply(&payload, &venue, keys.as_ref())
        } else {
            wire::decode_events(&topic, &payload, &venue, keys.as_ref())
        }
    })
    .await;
    let Ok(decoded) = decoded else { return };
    let (link, counters) = (&shared.status.link, &shared.status.rejects);
    match decoded {
        Ok(events) if !events.is_empty() => match shared.core.import(events).await {
            Ok(outcomes) => {
                let n = outcomes.iter().filter(|o| o.is_new()).count() as u64;
                link.applied.fetch_add(n, Relaxed);
                if n > 0 && shared.store.ledger().held().has_gaps() {
                    ask(&shared, &client, false);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, Role};

    /// A case photo event whose JPEG is `bytes` long.
    fn photo(key: &NodeKey, seq: u64, bytes: usize) -> Arc<Event> {
        use base64::Engine as _;
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        jpeg.resize(bytes, 0x55);
        Arc::new(Event::seal(
            uuid::Uuid::now_v7(),
            "v",
            "edge-01",
            seq,
            Hlc { ms: seq, c: 0 },
            Actor {
                staff_id: "K1".into(),
                role: Role::Caseworker,
            },
            EventBody::CasePhotoAdded(checkup_protocol::CasePhotoAdded {
                case_id: uuid::Uuid::now_v7(),
                photo_id: uuid::Uuid::now_v7(),
                jpeg: base64::engine::general_purpose::STANDARD.encode(&jpeg),
                width: 2048,
                height: 1536,
                note: None,
                location: None,
            }),
            key,
        ))
    }

    #[test]
    fn messages_of_large_events_stay_within_the_broker_s_packet_size() {
        let key = NodeKey::generate();
        // Six photos of the largest size kept.
        let max = checkup_protocol::notice::MAX_PHOTO_BYTES;
        let events: Vec<Arc<Event>> = (1..=6).map(|s| photo(&key, s, max)).collect();
        let out = payloads(&events);
        assert!(out.len() >= 3, "{} messages", out.len());
        let mut seen = 0;
        for p in &out {
            assert!(p.len() <= wire::MAX_PAYLOAD, "{} bytes", p.len());
            let decoded: Vec<Event> = serde_json::from_slice(p).expect("a JSON array of events");
            seen += decoded.len();
        }
        assert_eq!(seen, events.len(), "every event sent once");
        // Small events still go together.
        let small: Vec<Arc<Event>> = (1..=50).map(|s| photo(&key, s, 100)).collect();
        assert_eq!(payloads(&small).len(), 1);
    }
}
