//! What central accepts from a box: the shared batch receiver
//! ([`checkup_protocol::batch`]) with central's rules — events of the venues of the sending
//! box's municipality, in batches of at most the configured events and bytes — and the
//! per-node extent of an accepted batch (`checkup-central check-batch`).

use std::collections::{BTreeMap, HashMap};

use checkup_protocol::{Accepted, BatchError, BatchRules, PublicKey, VenueRule, receive_batch};

/// Receive a batch of a box whose municipality has `venues`: all of it, or the first
/// offending event named.
pub fn check_batch(
    bytes: &[u8],
    keys: &HashMap<String, PublicKey>,
    venues: &[String],
    max_events: usize,
    max_bytes: usize,
) -> Result<Vec<Accepted>, BatchError> {
    let rules = BatchRules::new(VenueRule::Municipality(venues), max_bytes).max_events(max_events);
    receive_batch(bytes, keys, &rules)
}

/// Per-node extent of an accepted batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRange {
    /// Lowest seq in the batch.
    pub min_seq: u64,
    /// Highest seq in the batch.
    pub max_seq: u64,
    /// Events of this node.
    pub count: usize,
}

/// The per-node extents of `events`.
pub fn ranges(events: &[Accepted]) -> BTreeMap<String, NodeRange> {
    let mut out: BTreeMap<String, NodeRange> = BTreeMap::new();
    for a in events {
        let e = &a.event;
        let r = out.entry(e.node.clone()).or_insert(NodeRange {
            min_seq: e.seq,
            max_seq: e.seq,
            count: 0,
        });
        r.min_seq = r.min_seq.min(e.seq);
        r.max_seq = r.max_seq.max(e.seq);
        r.count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, Role, SessionClosed};
    use uuid::Uuid;

    fn ev(key: &NodeKey, venue: &str, seq: u64) -> Event {
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
            "edge-01",
            seq,
            Hlc { ms: seq, c: 0 },
            actor,
            body,
            key,
        )
    }

    #[test]
    fn a_batch_of_the_municipality_is_accepted_with_its_ranges() {
        let key = NodeKey::generate();
        let keys = HashMap::from([("edge-01".to_string(), key.verifying_key())]);
        let venues = vec!["v1".to_string(), "v2".to_string()];
        let good = serde_json::to_vec(&vec![ev(&key, "v1", 3), ev(&key, "v2", 1)]).expect("json");
        let events = check_batch(&good, &keys, &venues, 100, 1 << 20).expect("accepted");
        assert_eq!(
            ranges(&events)["edge-01"],
            NodeRange {
                min_seq: 1,
                max_seq: 3,
                count: 2
            }
        );
        let foreign = serde_json::to_vec(&vec![ev(&key, "v3", 1)]).expect("json");
        let e = check_batch(&foreign, &keys, &venues, 100, 1 << 20).expect_err("foreign");
        assert_eq!((e.code(), e.index()), ("foreign_municipality", Some(0)));
        let e = check_batch(&good, &keys, &venues, 1, 1 << 20).expect_err("too many");
        assert_eq!((e.code(), e.status()), ("batch_too_large", 413));
    }
}
