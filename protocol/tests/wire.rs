//! The wire format seen from outside: round trips, rejection of bad input, signatures, and
//! property tests over generated events and arbitrary bytes.

use std::collections::HashMap;

use checkup_protocol::{
    Actor, Event, EventBody, FORMAT_VERSION, Hlc, MeasuredValue, MeasurementRecorded, NodeKey,
    ProtocolError, PublicKey, Received, Role, SessionOpened, StationKind,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

fn nurse() -> Actor {
    Actor {
        staff_id: "N001".into(),
        role: Role::Nurse,
    }
}

fn weight(kg: f64) -> EventBody {
    EventBody::MeasurementRecorded(MeasurementRecorded {
        session_id: Uuid::now_v7(),
        resident_id: "R-000123".into(),
        station: StationKind::Measurement,
        item_code: "9N006000000000001".into(),
        value: MeasuredValue::Number(kg),
        unit: "kg".into(),
        confirmed: false,
        answered: None,
    })
}

fn sealed(key: &NodeKey, body: EventBody) -> Event {
    Event::seal(
        Uuid::now_v7(),
        "venue-1",
        "edge-01",
        7,
        Hlc {
            ms: 1_764_050_000_000,
            c: 3,
        },
        nurse(),
        body,
        key,
    )
}

#[test]
fn a_sealed_event_round_trips_and_verifies() {
    let key = NodeKey::generate();
    let e = sealed(&key, weight(62.5));
    let back = Event::from_json(e.to_json().as_bytes()).expect("parses");
    assert_eq!(back, e);
    back.verify(&key.verifying_key()).expect("verifies");
    let ring: HashMap<String, PublicKey> =
        HashMap::from([("edge-01".to_string(), key.verifying_key())]);
    back.verify_with(&ring).expect("verifies through keyring");
}

#[test]
fn an_altered_event_fails_verification() {
    let key = NodeKey::generate();
    let e = sealed(&key, weight(62.5));
    let mut v: Value = serde_json::from_str(&e.to_json()).expect("json");
    v["body"]["payload"]["value"] = json!(72.5);
    let altered = Event::from_value(v).expect("still well-formed");
    assert!(matches!(
        altered.verify(&key.verifying_key()),
        Err(ProtocolError::BadSignature { seq: 7, .. })
    ));
}

#[test]
fn another_nodes_key_fails_verification() {
    let e = sealed(&NodeKey::generate(), weight(62.5));
    let other = NodeKey::generate();
    assert_eq!(
        e.verify(&other.verifying_key()).map_err(|e| e.code()),
        Err("bad_signature")
    );
    let ring: HashMap<String, PublicKey> = HashMap::new();
    assert!(matches!(e.verify_with(&ring), Err(ProtocolError::UnknownNode(n)) if n == "edge-01"));
}

#[test]
fn batch_verification_accepts_good_batches_and_names_the_first_bad_event() {
    let key = NodeKey::generate();
    let ring: HashMap<String, PublicKey> =
        HashMap::from([("edge-01".to_string(), key.verifying_key())]);
    let mut batch: Vec<Event> = (0..64).map(|_| sealed(&key, weight(60.0))).collect();
    Event::verify_all(&batch, &ring).expect("good batch");
    Event::verify_all(&[], &ring).expect("empty batch");
    // An altered event in the middle.
    let mut v: Value = serde_json::from_str(&batch[40].to_json()).expect("json");
    v["body"]["payload"]["value"] = json!(70.0);
    batch[40] = Event::from_value(v).expect("well-formed");
    let (i, e) = Event::verify_all(&batch, &ring).expect_err("bad");
    assert_eq!((i, e.code()), (40, "bad_signature"));
    // A garbage signature and an unknown node are named too.
    batch[40] = sealed(&key, weight(60.0));
    batch[10].sig = "!!!".into();
    assert_eq!(
        Event::verify_all(&batch, &ring).map_err(|(i, _)| i),
        Err(10)
    );
    let other = sealed(&NodeKey::generate(), weight(60.0));
    let mut foreign = other.clone();
    foreign.node = "edge-09".into();
    assert!(matches!(
        Event::verify_all(&[foreign], &ring),
        Err((0, ProtocolError::UnknownNode(_)))
    ));
}

#[test]
fn a_received_event_with_a_field_the_sender_did_not_sign_fails() {
    let key = NodeKey::generate();
    let ring: HashMap<String, PublicKey> =
        HashMap::from([("edge-01".to_string(), key.verifying_key())]);
    let good = sealed(&key, weight(60.0));
    let mut v: Value = serde_json::from_str(&good.to_json()).expect("json");
    v["body"]["payload"]["value"] = json!(61.0);
    let altered = Event::receive(&v.to_string()).expect("well-formed");
    let ok = Event::receive(&good.to_json()).expect("well-formed");
    let (i, e) = Received::verify_all(&[ok, altered], &ring).expect_err("altered");
    assert_eq!((i, e.code()), (1, "bad_signature"));
}

#[test]
fn garbage_signature_is_a_bad_signature_not_a_panic() {
    let key = NodeKey::generate();
    let mut e = sealed(&key, weight(62.5));
    for sig in ["", "!!!", "AAAA", &"A".repeat(200)] {
        e.sig = sig.to_string();
        assert_eq!(
            e.verify(&key.verifying_key()).map_err(|e| e.code()),
            Err("bad_signature")
        );
    }
}

#[test]
fn unknown_format_version_is_named_as_such() {
    let key = NodeKey::generate();
    let mut v: Value = serde_json::from_str(&sealed(&key, weight(60.0)).to_json()).expect("json");
    v["format"] = json!(2);
    // Even with an otherwise unknown shape, the version is reported first.
    v["new_field_from_the_future"] = json!(true);
    assert_eq!(
        Event::from_value(v),
        Err(ProtocolError::UnknownVersion {
            found: 2,
            supported: FORMAT_VERSION
        })
    );
}

#[test]
fn malformed_events_are_rejected_with_a_reason() {
    let key = NodeKey::generate();
    let good: Value = serde_json::from_str(&sealed(&key, weight(60.0)).to_json()).expect("json");
    let cases: Vec<(&str, Value)> = vec![
        ("not an object", json!([1, 2, 3])),
        ("no format", {
            let mut v = good.clone();
            v.as_object_mut().map(|m| m.remove("format"));
            v
        }),
        ("format a string", {
            let mut v = good.clone();
            v["format"] = json!("1");
            v
        }),
        ("unknown kind", {
            let mut v = good.clone();
            v["body"]["kind"] = json!("resident_deleted");
            v
        }),
        ("extra field", {
            let mut v = good.clone();
            v["extra"] = json!(1);
            v
        }),
        ("seq negative", {
            let mut v = good.clone();
            v["seq"] = json!(-1);
            v
        }),
        ("missing payload field", {
            let mut v = good.clone();
            v["body"]["payload"]
                .as_object_mut()
                .map(|m| m.remove("unit"));
            v
        }),
    ];
    for (what, v) in cases {
        let err = Event::from_value(v).expect_err(what);
        assert_eq!(err.code(), "malformed_event", "{what}: {err}");
    }
    assert_eq!(
        Event::from_json(b"{not json").map_err(|e| e.code()),
        Err("malformed_event")
    );
    assert_eq!(
        Event::from_json(b"").map_err(|e| e.code()),
        Err("malformed_event")
    );
}

#[test]
fn out_of_range_payloads_are_invalid() {
    let key = NodeKey::generate();
    let impossible = sealed(&key, weight(1000.0));
    let err = Event::from_json(impossible.to_json().as_bytes()).expect_err("1000 kg");
    assert!(
        matches!(
            err,
            ProtocolError::InvalidPayload {
                field: "payload.value",
                ..
            }
        ),
        "{err}"
    );

    let unconfirmed = sealed(&key, weight(180.0));
    let err = Event::from_json(unconfirmed.to_json().as_bytes()).expect_err("needs confirmation");
    assert!(matches!(
        err,
        ProtocolError::InvalidPayload {
            field: "payload.confirmed",
            ..
        }
    ));

    let no_stations = sealed(
        &key,
        EventBody::SessionOpened(SessionOpened {
            session_id: Uuid::now_v7(),
            resident_id: "R-1".into(),
            stations: vec![],
            card: None,
            insurer: None,
        }),
    );
    assert_eq!(
        Event::from_json(no_stations.to_json().as_bytes()).map_err(|e| e.code()),
        Err("invalid_payload")
    );

    let mut v: Value = serde_json::from_str(&sealed(&key, weight(60.0)).to_json()).expect("json");
    v["seq"] = json!(0);
    assert_eq!(
        Event::from_value(v).map_err(|e| e.code()),
        Err("invalid_payload")
    );
}

fn check_in(insurer: Option<checkup_protocol::InsurerIdentity>) -> EventBody {
    EventBody::SessionOpened(SessionOpened {
        session_id: Uuid::now_v7(),
        resident_id: "R-1".into(),
        stations: vec![StationKind::Measurement],
        card: None,
        insurer,
    })
}

#[test]
fn a_check_in_carries_the_insurer_identity_signed_and_old_check_ins_still_parse() {
    let key = NodeKey::generate();
    let insurer = checkup_protocol::InsurerIdentity::new(
        "01130012",
        Some("１２３".into()),
        "45",
        Some("01".into()),
        Some("26000000123".into()),
        Some("2027-03-31".into()),
    )
    .expect("valid");
    let e = sealed(&key, check_in(Some(insurer.clone())));
    let received = Event::receive(&e.to_json()).expect("parses");
    assert_eq!(received.event, e);
    e.verify(&key.verifying_key()).expect("verifies");
    // The identity is covered by the signature.
    let forged = e.to_json().replace("01130012", "01040013");
    let forged = Event::from_json(forged.as_bytes()).expect("still well-formed");
    assert!(forged.verify(&key.verifying_key()).is_err());

    // A check-in without one (an older box's) is written and read as before.
    let old = sealed(&key, check_in(None));
    assert!(!old.to_json().contains("insurer"));
    let back = Event::from_json(old.to_json().as_bytes()).expect("parses");
    back.verify(&key.verifying_key()).expect("verifies");

    // A bad identity is refused, naming its field.
    let bad = sealed(
        &key,
        check_in(Some(checkup_protocol::InsurerIdentity {
            insurer_number: "01130013".into(),
            ..insurer
        })),
    );
    match Event::from_json(bad.to_json().as_bytes()) {
        Err(ProtocolError::InvalidPayload { field, reason }) => {
            assert_eq!(field, "payload.insurer.insurer_number");
            assert!(reason.contains("検証番号"), "{reason}");
        }
        other => panic!("expected an invalid payload, got {other:?}"),
    }
}

fn arb_body() -> impl Strategy<Value = EventBody> {
    (
        "[A-Za-z0-9-]{1,64}",
        prop::sample::select(vec![
            ("9N001000000000001", 120.0, 199.0),
            ("9N006000000000001", 25.0, 149.0),
            ("9A751000000000001", 80.0, 179.0),
        ]),
        0.0f64..1.0,
    )
        .prop_map(|(resident, (code, lo, hi), t)| {
            let station = if code.starts_with("9A") {
                StationKind::BloodPressure
            } else {
                StationKind::Measurement
            };
            let item = checkup_protocol::items::item(code);
            let unit = item.map(|i| i.unit).unwrap_or("");
            // Values carry the item's precision (more decimals are refused).
            let scale = match item.map(|i| i.kind) {
                Some(checkup_protocol::ItemValueKind::Numeric { decimals, .. }) => {
                    10f64.powi(i32::from(decimals))
                }
                _ => 1.0,
            };
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id: Uuid::now_v7(),
                resident_id: resident,
                station,
                item_code: code.into(),
                value: MeasuredValue::Number(((lo + t * (hi - lo)) * scale).round() / scale),
                unit: unit.into(),
                confirmed: false,
                answered: None,
            })
        })
}

proptest! {
    #[test]
    fn any_valid_event_round_trips_and_verifies(
        body in arb_body(), seq in 1u64..1_000_000, ms in 0u64..4_000_000_000_000, c in 0u32..1000
    ) {
        let key = NodeKey::from_bytes(&[9u8; 32]);
        let e = Event::seal(Uuid::now_v7(), "v", "n", seq, Hlc { ms, c }, nurse(), body, &key);
        let back = Event::from_json(e.to_json().as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(back.verify(&key.verifying_key()).is_ok());
        prop_assert_eq!(back, e);
    }

    #[test]
    fn a_received_event_covers_the_same_bytes_its_sender_signed(
        body in arb_body(), seq in 1u64..1_000_000, ms in 0u64..4_000_000_000_000, c in 0u32..1000
    ) {
        let key = NodeKey::from_bytes(&[5u8; 32]);
        let ring: HashMap<String, PublicKey> = HashMap::from([("n".to_string(), key.verifying_key())]);
        let e = Event::seal(Uuid::now_v7(), "v", "n", seq, Hlc { ms, c }, nurse(), body, &key);
        let r = Event::receive(&e.to_json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&r.signed, &e.canonical_bytes());
        prop_assert_eq!(&r.event, &e);
        prop_assert!(Received::verify_all(&[r], &ring).is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Event::from_json(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = Event::receive(text);
        }
    }

    #[test]
    fn flipping_any_byte_of_the_wire_form_never_verifies_silently(
        body in arb_body(), pos in any::<prop::sample::Index>(), flip in 1u8..=255
    ) {
        let key = NodeKey::from_bytes(&[3u8; 32]);
        let e = Event::seal(Uuid::now_v7(), "v", "n", 1, Hlc { ms: 1, c: 0 }, nurse(), body, &key);
        let mut wire = e.to_json().into_bytes();
        let i = pos.index(wire.len());
        wire[i] ^= flip;
        if let Ok(parsed) = Event::from_json(&wire) {
            // Either the change did not alter meaning (e.g. it hit insignificant bytes and
            // the parse is identical) or the signature must fail.
            if parsed != e {
                prop_assert!(parsed.verify(&key.verifying_key()).is_err());
            }
        }
    }
}
