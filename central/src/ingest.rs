//! Whole-batch validation of forwarded events.
//!
//! A batch is a JSON array of signed events. It is accepted only if every event parses,
//! passes the payload rules, carries a valid signature by its node's enrolled key and
//! belongs to an accepted venue; otherwise the first offending event is named and nothing of
//! the batch is taken. The summary gives, per node, the sequence range the batch covers.

use std::collections::{BTreeMap, HashMap};

use checkup_protocol::{Event, ProtocolError, PublicKey, Received};
use serde_json::value::RawValue;

/// Why a batch was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BatchError {
    /// Not a JSON array.
    #[error("batch is not a JSON array of events: {0}")]
    Malformed(String),
    /// Event `index` failed validation or verification.
    #[error("event {index}: {error}")]
    Event {
        /// Position in the batch.
        index: usize,
        /// What is wrong.
        error: ProtocolError,
    },
    /// Event `index` belongs to a venue this central does not serve.
    #[error("event {index}: venue {venue:?} is not served here")]
    ForeignVenue {
        /// Position in the batch.
        index: usize,
        /// Its venue.
        venue: String,
    },
    /// More events than allowed.
    #[error("batch of {0} events is over the limit of {1}")]
    TooLarge(usize, usize),
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

/// An accepted event and its JSON exactly as the box sent it (what the signature covers).
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The verified event.
    pub event: Event,
    /// The received JSON of this event.
    pub json: String,
}

/// Check a batch; return its events and per-node ranges.
pub fn check_batch(
    bytes: &[u8],
    keys: &HashMap<String, PublicKey>,
    venues: &[String],
    max_events: usize,
) -> Result<(Vec<Accepted>, BTreeMap<String, NodeRange>), BatchError> {
    // Each event is kept as its raw text and parsed once: the signature is checked over
    // that text and the text is what is stored.
    let items: Vec<&RawValue> = serde_json::from_slice(bytes).map_err(|e| {
        BatchError::Malformed(if e.is_data() {
            "expected an array of events".into()
        } else {
            e.to_string()
        })
    })?;
    if items.len() > max_events {
        return Err(BatchError::TooLarge(items.len(), max_events));
    }
    let mut received = Vec::with_capacity(items.len());
    let mut ranges: BTreeMap<String, NodeRange> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        let rec = Event::receive(item.get()).map_err(|error| BatchError::Event { index, error })?;
        let e = &rec.event;
        if !venues.contains(&e.venue) {
            return Err(BatchError::ForeignVenue {
                index,
                venue: e.venue.clone(),
            });
        }
        let r = ranges.entry(e.node.clone()).or_insert(NodeRange {
            min_seq: e.seq,
            max_seq: e.seq,
            count: 0,
        });
        r.min_seq = r.min_seq.min(e.seq);
        r.max_seq = r.max_seq.max(e.seq);
        r.count += 1;
        received.push(rec);
    }
    // Signatures last, all at once (batch verification).
    Received::verify_all(&received, keys)
        .map_err(|(index, error)| BatchError::Event { index, error })?;
    let accepted = received
        .into_iter()
        .zip(items)
        .map(|(r, raw)| Accepted {
            event: r.event,
            json: raw.get().to_owned(),
        })
        .collect();
    Ok((accepted, ranges))
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_protocol::{Actor, EventBody, Hlc, NodeKey, Role, SessionClosed};
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
    fn a_batch_is_accepted_whole_or_refused_at_the_first_bad_event() {
        let key = NodeKey::generate();
        let keys = HashMap::from([("edge-01".to_string(), key.verifying_key())]);
        let venues = vec!["v1".to_string()];
        let good = serde_json::to_vec(&vec![ev(&key, "v1", 1), ev(&key, "v1", 2)]).expect("json");
        let (events, ranges) = check_batch(&good, &keys, &venues, 100).expect("accepted");
        assert_eq!(events.len(), 2);
        assert_eq!(
            ranges["edge-01"],
            NodeRange {
                min_seq: 1,
                max_seq: 2,
                count: 2
            }
        );

        let foreign =
            serde_json::to_vec(&vec![ev(&key, "v1", 1), ev(&key, "v2", 2)]).expect("json");
        assert!(matches!(
            check_batch(&foreign, &keys, &venues, 100),
            Err(BatchError::ForeignVenue { index: 1, .. })
        ));
        let other = NodeKey::generate();
        let forged = serde_json::to_vec(&vec![ev(&other, "v1", 1)]).expect("json");
        assert!(matches!(
            check_batch(&forged, &keys, &venues, 100),
            Err(BatchError::Event {
                index: 0,
                error: ProtocolError::BadSignature { .. }
            })
        ));
        assert!(matches!(
            check_batch(b"{}", &keys, &venues, 100),
            Err(BatchError::Malformed(_))
        ));
        assert!(matches!(
            check_batch(&good, &keys, &venues, 1),
            Err(BatchError::TooLarge(2, 1))
        ));
    }
}
