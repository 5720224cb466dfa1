//! Properties of the batch check (the parser of everything boxes forward): arbitrary bytes
//! are refused with a reason, never a panic; valid batches are accepted whole with the right
//! per-node ranges; a batch with any one byte changed is either refused or — when the change
//! is outside what is signed (JSON whitespace) — accepted with exactly the same events.

use std::collections::HashMap;

use checkup_central::ingest::check_batch;
use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, PublicKey, Role, SessionClosed};
use proptest::prelude::*;
use uuid::Uuid;

fn batch(key: &NodeKey, n: u64) -> Vec<Event> {
    (1..=n)
        .map(|seq| {
            Event::seal(
                Uuid::from_u128(seq as u128 + 1),
                "v1",
                "edge-01",
                seq,
                Hlc { ms: seq, c: 0 },
                Actor {
                    staff_id: "R1".into(),
                    role: Role::Reception,
                },
                EventBody::SessionClosed(SessionClosed {
                    session_id: Uuid::from_u128(seq as u128 + 1000),
                    reason: None,
                }),
                key,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_refused_not_a_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let keys: HashMap<String, PublicKey> = HashMap::new();
        let venues = vec!["v1".to_string()];
        if let Ok((events, _)) = check_batch(&data, &keys, &venues, 100) {
            prop_assert!(events.is_empty());
        }
    }

    #[test]
    fn valid_batches_pass_and_one_changed_byte_never_smuggles_a_change(
        n in 1u64..12, at in any::<usize>(), to in any::<u8>()
    ) {
        let key = NodeKey::generate();
        let keys = HashMap::from([("edge-01".to_string(), key.verifying_key())]);
        let venues = vec!["v1".to_string()];
        let events = batch(&key, n);
        let body = serde_json::to_vec(&events).expect("json");
        let (got, ranges) = check_batch(&body, &keys, &venues, 100).expect("valid");
        let got: Vec<_> = got.into_iter().map(|a| a.event).collect();
        prop_assert_eq!(&got, &events);
        prop_assert_eq!(ranges["edge-01"].max_seq, n);
        let mut changed = body.clone();
        let i = at % changed.len();
        prop_assume!(changed[i] != to);
        changed[i] = to;
        if let Ok((got, _)) = check_batch(&changed, &keys, &venues, 100) {
            let got: Vec<_> = got.into_iter().map(|a| a.event).collect();
            prop_assert_eq!(got, events);
        }
    }
}
