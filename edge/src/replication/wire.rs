//! Topics and payloads of venue replication, and the checks every received message passes.
//!
//! ```text
//! checkup/{venue}/events/{node}      a box's own signed events (JSON array), QoS 1
//! checkup/{venue}/sync/request       {"from": node, "summary": {node: highest seq}}
//! checkup/{venue}/sync/reply/{node}  events another box lacked (JSON array)
//! ```
//!
//! A message of events is received by the batch receiver every receiver of events uses
//! ([`checkup_protocol::batch`]) with a box's rules ([`rules`]); its refusals are counted by
//! class ([`RejectCounters`]).

use std::sync::atomic::{AtomicU64, Ordering};

use checkup_protocol::{
    BatchError, BatchRules, Event, Keyring, Refusal, VenueRule, receive_events,
};

/// Topic on which `node` publishes its own events.
pub fn events_topic(venue: &str, node: &str) -> String {
    format!("checkup/{venue}/events/{node}")
}

/// Why a received message was not applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReplicationError {
    /// The topic is not one of this venue's.
    #[error("topic {0:?} is not this venue's")]
    ForeignTopic(String),
    /// The batch of events was refused ([`checkup_protocol::batch`]).
    #[error("{0}")]
    Batch(#[from] BatchError),
}

/// Rejected messages by reason, for the board and the logs.
#[derive(Debug, Default)]
pub struct RejectCounters {
    /// Topics and events of other venues.
    pub foreign: AtomicU64,
    /// Oversized, malformed JSON or events, unknown versions.
    pub malformed: AtomicU64,
    /// Bad signatures and unknown nodes.
    pub unauthenticated: AtomicU64,
    /// Events under another node's topic.
    pub impersonation: AtomicU64,
}

impl RejectCounters {
    /// Count one rejection.
    pub fn count(&self, e: &ReplicationError) {
        let c = match e {
            ReplicationError::ForeignTopic(_) => &self.foreign,
            ReplicationError::Batch(b) => match b.refusal() {
                Refusal::Foreign => &self.foreign,
                Refusal::Impersonation => &self.impersonation,
                Refusal::Unauthenticated => &self.unauthenticated,
                Refusal::Malformed => &self.malformed,
            },
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Largest message accepted.
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// What a box accepts from its venue's peers: events of its venue, in messages of at most
/// [`MAX_PAYLOAD`] bytes.
pub fn rules(venue: &str) -> BatchRules<'_> {
    BatchRules::new(VenueRule::Only(venue), MAX_PAYLOAD)
}

/// Validate a message on `checkup/{venue}/events/{node}`: every event parses, passes the
/// payload rules, belongs to this venue, is signed by the enrolled key of the topic's node,
/// and is that node's. All or nothing.
pub fn decode_events(
    topic: &str,
    payload: &[u8],
    venue: &str,
    keys: &impl Keyring,
) -> Result<Vec<Event>, ReplicationError> {
    let prefix = format!("checkup/{venue}/events/");
    let topic_node = topic
        .strip_prefix(&prefix)
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| ReplicationError::ForeignTopic(topic.to_owned()))?;
    Ok(receive_events(
        payload,
        keys,
        &rules(venue).only_node(topic_node),
    )?)
}

/// Topic on which a box asks the others for what it lacks.
pub fn sync_request_topic(venue: &str) -> String {
    format!("checkup/{venue}/sync/request")
}

/// Topic on which `node` receives the events it asked for.
pub fn sync_reply_topic(venue: &str, node: &str) -> String {
    format!("checkup/{venue}/sync/reply/{node}")
}

/// A request for missing events: the asker's contiguous summary.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// The asking node.
    pub from: String,
    /// Per node, the highest contiguous seq the asker holds.
    pub summary: std::collections::BTreeMap<String, u64>,
}

/// Validate a reply to this box's sync request: events of any node of this venue, each
/// signed by its node's enrolled key.
pub fn decode_reply(
    payload: &[u8],
    venue: &str,
    keys: &impl Keyring,
) -> Result<Vec<Event>, ReplicationError> {
    Ok(receive_events(payload, keys, &rules(venue))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_protocol::{Actor, EventBody, Hlc, NodeKey, PublicKey, Role, SessionClosed};
    use std::collections::HashMap;
    use uuid::Uuid;

    fn ev(key: &NodeKey, venue: &str, node: &str, seq: u64) -> Event {
        let body = EventBody::SessionClosed(SessionClosed {
            session_id: Uuid::now_v7(),
            reason: None,
        });
        let actor = Actor {
            staff_id: "R1".into(),
            role: Role::Reception,
        };
        Event::seal(
            Uuid::now_v7(),
            venue,
            node,
            seq,
            Hlc { ms: seq, c: 0 },
            actor,
            body,
            key,
        )
    }

    #[test]
    fn every_bad_message_is_rejected_and_counted() {
        let k2 = NodeKey::generate();
        let k3 = NodeKey::generate();
        let keys: HashMap<String, PublicKey> = HashMap::from([
            ("edge-02".into(), k2.verifying_key()),
            ("edge-03".into(), k3.verifying_key()),
        ]);
        let counters = RejectCounters::default();
        let topic = events_topic("v1", "edge-02");
        let json = |es: &[Event]| serde_json::to_vec(es).expect("json");
        let good = decode_events(&topic, &json(&[ev(&k2, "v1", "edge-02", 1)]), "v1", &keys)
            .expect("good");
        assert_eq!(good.len(), 1);
        let cases: Vec<(String, Vec<u8>)> = vec![
            (
                events_topic("v2", "edge-02"),
                json(&[ev(&k2, "v1", "edge-02", 1)]),
            ),
            (topic.clone(), json(&[ev(&k2, "v2", "edge-02", 1)])),
            (topic.clone(), json(&[ev(&k3, "v1", "edge-03", 1)])),
            (topic.clone(), json(&[ev(&k3, "v1", "edge-02", 1)])),
            (topic.clone(), b"{not json".to_vec()),
            (topic.clone(), b"{}".to_vec()),
            (topic.clone(), br#"[{"format": 9}]"#.to_vec()),
        ];
        for (t, p) in &cases {
            let e = decode_events(t, p, "v1", &keys).expect_err("rejected");
            counters.count(&e);
        }
        assert_eq!(counters.foreign.load(Ordering::Relaxed), 2);
        assert_eq!(counters.impersonation.load(Ordering::Relaxed), 1);
        assert_eq!(counters.unauthenticated.load(Ordering::Relaxed), 1);
        assert_eq!(counters.malformed.load(Ordering::Relaxed), 3);
    }
}
