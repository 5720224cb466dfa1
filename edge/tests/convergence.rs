//! Property: whatever order replication delivers the venue's events in — interleaved across
//! nodes, reordered within a node, duplicated, in batches of any size — a box ends with the
//! same event set and the same projection (results, corrections, conflicts, visits,
//! closings, the paper questionnaire's items waiting for review) as a box that received them in order, and rebuilds the same state from disk.

use checkup_edge::log::store::{EventStore, StoreOptions};
use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementCorrected, MeasurementRecorded,
    NodeKey, Role, SessionClosed, SessionOpened, StationKind, StationVisited,
};
use proptest::prelude::*;
use uuid::Uuid;

const VENUE: &str = "prop-venue";
const NODES: [&str; 3] = ["edge-01", "edge-02", "edge-03"];
/// 問1 (blood pressure medication), the item paper reads and answers name here.
const Q1: &str = "9N701000000000011";

/// One thing a node records.
#[derive(Debug, Clone)]
enum Op {
    Open(usize),
    Height(usize, u16),
    Correct(usize, u16),
    Visit(usize, bool),
    Close(usize),
    /// A paper page read: Q1 sent to review (true) or read clearly (false).
    PaperRead(usize, bool),
    /// Q1 answered (asked by the nurse).
    Answer(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4usize).prop_map(Op::Open),
        (0..4usize, 1400..1900u16).prop_map(|(s, h)| Op::Height(s, h)),
        (0..4usize, 1400..1900u16).prop_map(|(s, h)| Op::Correct(s, h)),
        (0..4usize, any::<bool>()).prop_map(|(s, d)| Op::Visit(s, d)),
        (0..4usize).prop_map(Op::Close),
        (0..4usize, any::<bool>()).prop_map(|(s, r)| Op::PaperRead(s, r)),
        (0..4usize).prop_map(Op::Answer),
    ]
}

/// The venue's events: each node's ops in its own seq order, HLCs from a shared clock with
/// ties, so that the same item is often recorded by two nodes (a conflict).
fn events(plan: &[(usize, Op, u8)], keys: &[NodeKey]) -> Vec<Event> {
    let sessions: Vec<Uuid> = (0..4u128).map(|i| Uuid::from_u128(0xabc0 + i)).collect();
    let mut seqs = [0u64; 3];
    let mut last_height: [Option<Uuid>; 4] = [None; 4];
    let mut clock = 1_000u64;
    let mut out = Vec::new();
    for (i, (node, op, tick)) in plan.iter().enumerate() {
        clock += u64::from(*tick % 3);
        seqs[*node] += 1;
        let id = Uuid::from_u128(0x1_0000_0000 + i as u128);
        let resident = |s: usize| format!("00000000{s:02}");
        let body = match op {
            Op::Open(s) => EventBody::SessionOpened(SessionOpened {
                session_id: sessions[*s],
                resident_id: resident(*s),
                stations: vec![StationKind::Measurement, StationKind::Doctor],
                card: None,
                insurer: None,
            }),
            Op::Height(s, h) => {
                last_height[*s] = Some(id);
                EventBody::MeasurementRecorded(MeasurementRecorded {
                    session_id: sessions[*s],
                    resident_id: resident(*s),
                    station: StationKind::Measurement,
                    item_code: "9N001000000000001".into(),
                    value: MeasuredValue::Number(f64::from(*h) / 10.0),
                    unit: "cm".into(),
                    confirmed: false,
                    answered: None,
                })
            }
            Op::Correct(s, h) => EventBody::MeasurementCorrected(MeasurementCorrected {
                session_id: sessions[*s],
                resident_id: resident(*s),
                corrects: last_height[*s].unwrap_or(id),
                item_code: "9N001000000000001".into(),
                value: MeasuredValue::Number(f64::from(*h) / 10.0),
                unit: "cm".into(),
                reason: "再測定".into(),
                confirmed: false,
                answered: None,
            }),
            Op::Visit(s, doctor) => EventBody::StationVisited(StationVisited {
                session_id: sessions[*s],
                resident_id: resident(*s),
                station: if *doctor {
                    StationKind::Doctor
                } else {
                    StationKind::Measurement
                },
                note: None,
                confirmed: false,
                missing: Vec::new(),
            }),
            Op::Close(s) => EventBody::SessionClosed(SessionClosed {
                session_id: sessions[*s],
                reason: None,
            }),
            Op::PaperRead(s, review) => {
                EventBody::QuestionnairePaperRead(checkup_protocol::QuestionnairePaperRead {
                    session_id: sessions[*s],
                    resident_id: resident(*s),
                    lang: checkup_protocol::Lang::En,
                    page: 1,
                    answered: if *review { vec![] } else { vec![Q1.into()] },
                    review: if *review {
                        vec![checkup_protocol::PaperReviewItem {
                            item_code: Q1.into(),
                            reason: "faint".into(),
                            marked: vec![],
                        }]
                    } else {
                        vec![]
                    },
                })
            }
            Op::Answer(s) => EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id: sessions[*s],
                resident_id: resident(*s),
                station: StationKind::Questionnaire,
                item_code: Q1.into(),
                value: MeasuredValue::Text("1".into()),
                unit: String::new(),
                confirmed: false,
                answered: None,
            }),
        };
        let actor = Actor {
            staff_id: format!("S{node}"),
            role: Role::Nurse,
        };
        out.push(Event::seal(
            id,
            VENUE,
            NODES[*node],
            seqs[*node],
            Hlc { ms: clock, c: 0 },
            actor,
            body,
            &keys[*node],
        ));
    }
    out
}

fn store(dir: &std::path::Path) -> EventStore {
    EventStore::open(
        &dir.join("events.sqlite3"),
        StoreOptions {
            training: false,
            venue: VENUE.into(),
            node: "edge-09".into(),
            max_batch_events: 16,
            key: None,
        },
        // The receiving box's own key, the same at every open (it seals the log's head).
        NodeKey::from_bytes(&[9; 32]),
    )
    .expect("open store")
}

/// (event count, stored ids, projection digest) after delivering `batches`, and after a
/// reopen (projection rebuilt from disk).
fn deliver(batches: Vec<Vec<Event>>) -> (u64, Vec<String>, String, String) {
    let dir = tempfile::tempdir().expect("dir");
    let s = store(dir.path());
    for b in batches {
        s.append_signed_blocking(b).expect("append");
    }
    let (n, digest) = {
        let p = s.projection();
        (s.ledger().event_count(), p.digest())
    };
    let ids = s.sorted_ids().expect("ids");
    s.close_blocking();
    let s = store(dir.path());
    let rebuilt = s.projection().digest();
    s.close_blocking();
    (n, ids, digest, rebuilt)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn any_delivery_order_gives_the_same_state(
        plan in proptest::collection::vec((0..3usize, op(), any::<u8>()), 1..40),
        order in proptest::collection::vec(any::<u32>(), 80),
        dups in proptest::collection::vec(any::<u16>(), 0..20),
        cuts in proptest::collection::vec(1..8usize, 1..20),
    ) {
        let keys: Vec<NodeKey> = (0..3).map(|_| NodeKey::generate()).collect();
        let all = events(&plan, &keys);
        let reference = deliver(vec![all.clone()]);
        prop_assert_eq!(reference.0, all.len() as u64);
        prop_assert_eq!(&reference.2, &reference.3);

        // Shuffle (keyed by `order`), add duplicates, cut into batches.
        let mut shuffled: Vec<(u32, Event)> = all
            .iter()
            .enumerate()
            .map(|(i, e)| (order[i % order.len()].wrapping_mul(i as u32 + 1), e.clone()))
            .collect();
        shuffled.sort_by_key(|(k, _)| *k);
        let mut stream: Vec<Event> = shuffled.into_iter().map(|(_, e)| e).collect();
        for d in &dups {
            let e = all[*d as usize % all.len()].clone();
            let at = *d as usize % (stream.len() + 1);
            stream.insert(at, e);
        }
        let mut batches = Vec::new();
        let mut rest = stream.as_slice();
        let mut c = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*c.next().unwrap_or(&1)).min(rest.len());
            let (head, tail) = rest.split_at(n);
            // A batch must not repeat an event within itself for the store's all-or-nothing
            // rule to apply per event; duplicates across batches are the replication case.
            let mut b: Vec<Event> = Vec::new();
            for e in head {
                if !b.iter().any(|x| x.id == e.id) {
                    b.push(e.clone());
                }
            }
            batches.push(b);
            rest = tail;
        }
        let got = deliver(batches);
        prop_assert_eq!(got.0, reference.0, "event count");
        prop_assert_eq!(&got.1, &reference.1, "event set");
        prop_assert_eq!(&got.2, &reference.2, "projection");
        prop_assert_eq!(&got.3, &reference.2, "projection rebuilt from disk");
    }
}
