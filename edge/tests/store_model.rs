//! Model check of the event store: random sequences of local appends (with and without
//! client-chosen ids, replays included), peer-signed appends (duplicates and forged
//! conflicts included) and reopenings, compared after every step with a plain in-memory
//! model of what must be stored.

use std::collections::{BTreeMap, HashMap};

use checkup_edge::log::store::{Draft, EventStore, StoreError, StoreOptions};
use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, Role, SessionClosed};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    /// Append `n` local drafts; `Some(k)` gives the first draft client id number k.
    Local {
        n: usize,
        client_id: Option<u8>,
        variant: u8,
    },
    /// Append peer event number `seq` of edge-02; `forged` changes its content.
    Peer { seq: u64, forged: bool },
    /// Close the store and open it again.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..4, proptest::option::of(0u8..6), 0u8..2).prop_map(|(n, client_id, variant)| Op::Local { n, client_id, variant }),
        3 => (1u64..8, proptest::bool::weighted(0.15)).prop_map(|(seq, forged)| Op::Peer { seq, forged }),
        1 => Just(Op::Reopen),
    ]
}

fn options() -> StoreOptions {
    StoreOptions {
        training: false,
        venue: "v".into(),
        node: "edge-01".into(),
        max_batch_events: 64,
        key: None,
    }
}

fn body(tag: u128) -> EventBody {
    EventBody::SessionClosed(SessionClosed {
        session_id: Uuid::from_u128(tag + 1),
        reason: None,
    })
}

fn actor() -> Actor {
    Actor {
        staff_id: "R1".into(),
        role: Role::Reception,
    }
}

fn peer_event(key: &NodeKey, seq: u64, forged: bool) -> Event {
    let tag = if forged {
        1_000 + u128::from(seq)
    } else {
        u128::from(seq)
    };
    Event::seal(
        Uuid::from_u128(0xfeed_0000 + tag),
        "v",
        "edge-02",
        seq,
        Hlc { ms: seq, c: 0 },
        actor(),
        body(tag),
        key,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_store_matches_its_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.sqlite3");
        let key = NodeKey::from_bytes(&[1; 32]);
        let peer = NodeKey::from_bytes(&[2; 32]);
        let mut store = EventStore::open(&path, options(), key.clone()).expect("open");
        // Model: (node, seq) -> event id; client id -> variant it was first stored with.
        let mut model: BTreeMap<(String, u64), Uuid> = BTreeMap::new();
        let mut client_ids: HashMap<u8, u8> = HashMap::new();
        let mut next_local = 1u64;

        for op in ops {
            match op {
                Op::Local { n, client_id, variant } => {
                    let drafts: Vec<Draft> = (0..n)
                        .map(|i| Draft {
                            id: if i == 0 { client_id.map(|k| Uuid::from_u128(0xc1_0000 + u128::from(k))) } else { None },
                            actor: actor(),
                            body: body(u128::from(variant) * 100 + if i == 0 { client_id.map_or(50, u128::from) } else { 60 + i as u128 }),
                        })
                        .collect();
                    let result = store.append_local_blocking(drafts);
                    match client_id.and_then(|k| client_ids.get(&k).map(|v| (k, *v))) {
                        Some((_, v)) if v != variant => {
                            prop_assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
                        }
                        known => {
                            let outcomes = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                            prop_assert_eq!(outcomes.len(), n);
                            for (i, o) in outcomes.iter().enumerate() {
                                let replay = i == 0 && known.is_some();
                                prop_assert_eq!(o.is_new(), !replay);
                                if o.is_new() {
                                    prop_assert_eq!(o.event().seq, next_local);
                                    model.insert(("edge-01".into(), next_local), o.event().id);
                                    next_local += 1;
                                }
                                o.event().verify(&key.verifying_key()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                            }
                            if let Some(k) = client_id {
                                client_ids.entry(k).or_insert(variant);
                            }
                        }
                    }
                }
                Op::Peer { seq, forged } => {
                    let e = peer_event(&peer, seq, forged);
                    let result = store.append_signed_blocking(vec![e.clone()]);
                    match model.get(&("edge-02".to_string(), seq)) {
                        Some(id) if *id != e.id => {
                            prop_assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
                        }
                        Some(_) => {
                            let o = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                            prop_assert!(!o[0].is_new());
                        }
                        None => {
                            let o = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                            prop_assert!(o[0].is_new());
                            model.insert(("edge-02".into(), seq), e.id);
                        }
                    }
                }
                Op::Reopen => {
                    store.close_blocking();
                    store = EventStore::open(&path, options(), key.clone()).expect("reopen");
                }
            }
            // The log holds exactly the model, each event once.
            let stored = store.read_after(0, 100_000).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got: BTreeMap<(String, u64), Uuid> =
                stored.iter().map(|s| ((s.event.node.clone(), s.event.seq), s.event.id)).collect();
            prop_assert_eq!(got.len(), stored.len(), "no (node, seq) twice");
            prop_assert_eq!(&got, &model);
            prop_assert_eq!(store.ledger().event_count(), model.len() as u64);
            prop_assert_eq!(store.ledger().max_seq("edge-01"), next_local - 1);
        }
        store.close_blocking();
    }
}

/// Many threads append at once, half of them retrying ids that others are saving at the
/// same moment: every id is stored once, every request gets that one event back, and the
/// node's sequence has no gaps.
#[test]
fn concurrent_appends_with_shared_ids_store_each_once_without_gaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.sqlite3");
    let store = EventStore::open(&path, options(), NodeKey::from_bytes(&[1; 32])).expect("open");
    let threads = 12u128;
    let per_thread = 150u128;
    let answers: Vec<Vec<(Uuid, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = store.clone();
                s.spawn(move || {
                    let mut got = Vec::new();
                    for i in 0..per_thread {
                        // Pairs of threads share ids: (0,1), (2,3), … save the same events.
                        let shared = (t / 2) * 10_000 + i;
                        let drafts = vec![
                            Draft {
                                id: Some(Uuid::from_u128(0xaa00_0000 + shared)),
                                actor: actor(),
                                body: body(shared),
                            },
                            Draft {
                                id: None,
                                actor: actor(),
                                body: body(1_000_000 + t * 10_000 + i),
                            },
                        ];
                        let outcomes = store.append_local_blocking(drafts).expect("append");
                        for o in outcomes {
                            got.push((o.event().id, o.event().seq));
                        }
                    }
                    got
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let stored = store.read_after(0, 1_000_000).expect("read");
    let seqs: Vec<u64> = {
        let mut v: Vec<u64> = stored.iter().map(|s| s.event.seq).collect();
        v.sort_unstable();
        v
    };
    let expected_events = (threads / 2 * per_thread + threads * per_thread) as usize;
    assert_eq!(
        stored.len(),
        expected_events,
        "each shared id once, each fresh draft once"
    );
    assert_eq!(
        seqs,
        (1..=expected_events as u64).collect::<Vec<_>>(),
        "no gaps, no doubles"
    );
    let by_id: HashMap<Uuid, u64> = stored.iter().map(|s| (s.event.id, s.event.seq)).collect();
    for (id, seq) in answers.into_iter().flatten() {
        assert_eq!(
            by_id.get(&id),
            Some(&seq),
            "every answer names the stored event"
        );
    }
    store.close_blocking();
}
