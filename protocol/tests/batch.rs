//! Properties of the batch receiver (what central, venue replication and an admin's import
//! all parse boxes' batches with): arbitrary bytes are refused with a reason, never a
//! panic; valid batches are accepted whole, in order, with each event's JSON as received;
//! a batch with any one byte changed is either refused or — when the change is outside
//! what is signed (JSON whitespace) — accepted with exactly the same events; and every
//! refusal of one event names that event.

use std::collections::HashMap;

use checkup_protocol::{
    Actor, BatchRules, Event, EventBody, Hlc, NodeKey, PublicKey, Refusal, Role, SessionClosed,
    VenueRule, receive_batch,
};
use proptest::prelude::*;
use uuid::Uuid;

/// Event `seq` of `node` at `venue`, signed with `key` (its ids follow from `seq`).
fn ev(key: &NodeKey, venue: &str, node: &str, seq: u64) -> Event {
    Event::seal(
        Uuid::from_u128(seq as u128 + 1),
        venue,
        node,
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
}

/// Events 1 to `n` of `node`.
fn batch(key: &NodeKey, venue: &str, node: &str, n: u64) -> Vec<Event> {
    (1..=n).map(|seq| ev(key, venue, node, seq)).collect()
}

fn json(es: &[Event]) -> Vec<u8> {
    serde_json::to_vec(es).expect("json")
}

#[test]
fn each_refusal_names_its_event_code_status_and_class() {
    let (k1, k2) = (NodeKey::generate(), NodeKey::generate());
    let keys: HashMap<String, PublicKey> = HashMap::from([
        ("edge-01".into(), k1.verifying_key()),
        ("edge-02".into(), k2.verifying_key()),
    ]);
    let venues = ["v1".to_string(), "v2".to_string()];
    let here = BatchRules::new(VenueRule::Only("v1"), 1 << 20);
    let central = BatchRules::new(VenueRule::Municipality(&venues), 1 << 20).max_events(2);
    let topic = here.only_node("edge-01");

    let good = json(&[ev(&k1, "v1", "edge-01", 1), ev(&k2, "v1", "edge-02", 1)]);
    let accepted = receive_batch(&good, &keys, &here).expect("accepted");
    assert_eq!(accepted.len(), 2);
    assert_eq!(
        serde_json::from_str::<Event>(&accepted[1].json).expect("json"),
        accepted[1].event
    );
    assert!(receive_batch(&good, &keys, &central).is_ok());

    let other_venue = json(&[ev(&k1, "v1", "edge-01", 1), ev(&k1, "v2", "edge-01", 2)]);
    let forged = json(&[ev(&k1, "v1", "edge-01", 1), ev(&k1, "v1", "edge-02", 2)]);
    let stranger = json(&[ev(&NodeKey::generate(), "v1", "edge-77", 1)]);
    let three = json(&[
        ev(&k1, "v1", "edge-01", 1),
        ev(&k1, "v1", "edge-01", 2),
        ev(&k1, "v1", "edge-01", 3),
    ]);
    type Case<'a> = (
        &'a [u8],
        &'a BatchRules<'a>,
        &'a str,
        u16,
        Option<usize>,
        Refusal,
    );
    let cases: Vec<Case> = vec![
        (
            b"{nope",
            &here,
            "malformed_batch",
            400,
            None,
            Refusal::Malformed,
        ),
        (
            b"{}",
            &central,
            "malformed_batch",
            400,
            None,
            Refusal::Malformed,
        ),
        (
            br#"[{"format": 9}]"#,
            &here,
            "unknown_format_version",
            422,
            Some(0),
            Refusal::Malformed,
        ),
        (
            b"[1]",
            &here,
            "malformed_event",
            422,
            Some(0),
            Refusal::Malformed,
        ),
        (
            &other_venue,
            &here,
            "wrong_venue",
            422,
            Some(1),
            Refusal::Foreign,
        ),
        (
            &forged,
            &here,
            "bad_signature",
            422,
            Some(1),
            Refusal::Unauthenticated,
        ),
        (
            &forged,
            &topic,
            "node_mismatch",
            422,
            Some(1),
            Refusal::Impersonation,
        ),
        (
            &stranger,
            &central,
            "unknown_node",
            422,
            Some(0),
            Refusal::Unauthenticated,
        ),
        (
            &three,
            &central,
            "batch_too_large",
            413,
            None,
            Refusal::Malformed,
        ),
    ];
    for (body, rules, code, status, index, class) in cases {
        let e = receive_batch(body, &keys, rules).expect_err("refused");
        assert_eq!(
            (e.code(), e.status(), e.index(), e.refusal()),
            (code, status, index, class),
            "{e}"
        );
    }
    let foreign = json(&[ev(&k1, "v3", "edge-01", 1)]);
    let e = receive_batch(&foreign, &keys, &central).expect_err("foreign");
    assert_eq!((e.code(), e.index()), ("foreign_municipality", Some(0)));
    let small = BatchRules::new(VenueRule::Only("v1"), 10);
    let e = receive_batch(&good, &keys, &small).expect_err("too many bytes");
    assert_eq!((e.code(), e.status()), ("batch_too_large", 413));
}

fn venues() -> Vec<String> {
    vec!["v1".to_string(), "v2".to_string()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_refused_not_a_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let keys: HashMap<String, PublicKey> = HashMap::new();
        let venues = venues();
        for rules in [
            BatchRules::new(VenueRule::Only("v1"), 1 << 20).only_node("edge-01"),
            BatchRules::new(VenueRule::Municipality(&venues), 1 << 20).max_events(100),
        ] {
            match receive_batch(&data, &keys, &rules) {
                Ok(events) => prop_assert!(events.is_empty()),
                Err(e) => {
                    prop_assert!(!e.code().is_empty());
                    prop_assert!(matches!(e.status(), 400 | 413 | 422));
                }
            }
        }
    }

    #[test]
    fn valid_batches_pass_and_one_changed_byte_never_smuggles_a_change(
        n in 1u64..12, at in any::<usize>(), to in any::<u8>()
    ) {
        let key = NodeKey::generate();
        let keys = HashMap::from([("edge-01".to_string(), key.verifying_key())]);
        let venues = venues();
        let rules = BatchRules::new(VenueRule::Municipality(&venues), 1 << 20).max_events(100);
        let events = batch(&key, "v2", "edge-01", n);
        let body = serde_json::to_vec(&events).expect("json");
        let got = receive_batch(&body, &keys, &rules).expect("valid");
        for (a, e) in got.iter().zip(&events) {
            prop_assert_eq!(&a.json, &e.to_json());
        }
        let got: Vec<_> = got.into_iter().map(|a| a.event).collect();
        prop_assert_eq!(&got, &events);
        let mut changed = body.clone();
        let i = at % changed.len();
        prop_assume!(changed[i] != to);
        changed[i] = to;
        if let Ok(got) = receive_batch(&changed, &keys, &rules) {
            let got: Vec<_> = got.into_iter().map(|a| a.event).collect();
            prop_assert_eq!(got, events);
        }
    }

    #[test]
    fn one_bad_event_anywhere_is_named_and_refuses_the_batch(
        n in 1u64..10, bad in any::<usize>(), kind in 0u8..4
    ) {
        let key = NodeKey::generate();
        let keys = HashMap::from([("edge-01".to_string(), key.verifying_key())]);
        let mut events = batch(&key, "v1", "edge-01", n);
        let bad = bad % events.len();
        let seq = events[bad].seq;
        let code = match kind {
            0 => {
                events[bad] = ev(&key, "v9", "edge-01", seq);
                "wrong_venue"
            }
            1 => {
                events[bad] = ev(&NodeKey::generate(), "v1", "edge-01", seq);
                "bad_signature"
            }
            2 => {
                events[bad] = ev(&key, "v1", "edge-02", seq);
                "node_mismatch"
            }
            _ => {
                events[bad].hlc.ms += 1;
                "bad_signature"
            }
        };
        let body = serde_json::to_vec(&events).expect("json");
        let rules = BatchRules::new(VenueRule::Only("v1"), 1 << 20).only_node("edge-01");
        let e = receive_batch(&body, &keys, &rules).expect_err("refused");
        prop_assert_eq!((e.code(), e.index(), e.status()), (code, Some(bad), 422));
    }
}

/// A training event (`"training": true`, signed with the rest) is refused by every real
/// receiver and a real event by a training one, naming the event; the mark cannot be
/// stripped or added without breaking the signature; a real event's encoding has no
/// `training` key, so events written before the mark existed verify as before.
#[test]
fn training_events_only_reach_training_receivers() {
    let k = NodeKey::generate();
    let keys: HashMap<String, PublicKey> = HashMap::from([("edge-01".into(), k.verifying_key())]);
    let real = ev(&k, "v1", "edge-01", 1);
    let rehearsal = Event::seal_as(
        Uuid::from_u128(7),
        "v1",
        "edge-01",
        2,
        Hlc { ms: 2, c: 0 },
        real.actor.clone(),
        real.body.clone(),
        true,
        &k,
    );
    assert!(!real.to_json().contains("training"));
    assert!(rehearsal.to_json().contains("\"training\":true"));
    let rules = BatchRules::new(VenueRule::Only("v1"), 1 << 20);
    let e = receive_batch(&json(&[real.clone(), rehearsal.clone()]), &keys, &rules)
        .expect_err("a training event among real ones");
    assert_eq!(
        (e.code(), e.index(), e.status(), e.refusal()),
        ("training_event", Some(1), 422, Refusal::Foreign)
    );
    let training = rules.training(true);
    assert_eq!(
        receive_batch(&json(std::slice::from_ref(&rehearsal)), &keys, &training)
            .expect("a training box takes training events")
            .len(),
        1
    );
    let e = receive_batch(&json(std::slice::from_ref(&real)), &keys, &training)
        .expect_err("a real event to a training box");
    assert_eq!(e.code(), "real_event_in_training");
    // Stripping the mark (to slip a rehearsal into a real day) breaks the signature.
    let stripped = rehearsal.to_json().replace(",\"training\":true", "");
    let stripped = stripped.replace("\"training\":true,", "");
    assert!(!stripped.contains("training"));
    let e = receive_batch(format!("[{stripped}]").as_bytes(), &keys, &rules)
        .expect_err("a stripped mark");
    assert_eq!(e.code(), "bad_signature");
}
