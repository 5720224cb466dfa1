//! A card tap on the box's reader reaches the reception page live, and the PIN typed on the
//! tablet reads the card on this box. Real pcscd + vpcd (private, loopback-only namespace),
//! our emulator as the card, the demo roster.

mod common;

use std::time::Duration;

use checkup_drivers::emulator::vpcd::VirtualCard;
use checkup_drivers::virtual_reader::VirtualReader;
use checkup_edge::cards::Cards;
use checkup_edge::demo::demo_pin;
use common::TestBox;
use futures::StreamExt;
use serde_json::{Value, json};

/// Read SSE `data:` lines until one satisfies `want`.
async fn next_sse(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        while let Some(i) = buf.find("\n\n") {
            let frame: String = buf.drain(..i + 2).collect();
            for line in frame.lines() {
                if let Some(data) = line.strip_prefix("data:")
                    && let Ok(v) = serde_json::from_str::<Value>(data.trim())
                    && want(&v)
                {
                    return v;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("event in time")
            .expect("stream open")
            .expect("chunk");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tap_reaches_reception_live_and_the_pin_reads_the_card() {
    let rdir = tempfile::tempdir().expect("tempdir");
    let reader = VirtualReader::start(rdir.path())
        .expect("virtual reader (needs root, pcscd, vsmartcard-vpcd)");
    // SAFETY: this test binary has one test; set before any PC/SC context is opened.
    unsafe { std::env::set_var("PCSCLITE_CSOCK_NAME", reader.socket_path()) };
    let slot =
        VirtualCard::start(reader.reader_addr(0), Some(reader.netns_path())).expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    checkup_edge::demo::load_roster(dir.path(), None).expect("roster");
    let config = common::config(dir.path());
    let cards = Cards::watch(Some(slot)).expect("watcher");
    let b = TestBox::start_with_cards(dir, config, cards).await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;

    // Only reception (and the venue admin) get the card stream; only reception reads cards.
    let (s, _) = nurse.get("/api/card/readers").await;
    assert_eq!(s, 403);
    let (s, _) = nurse.post("/api/card/read", &json!({})).await;
    assert_eq!(s, 403);

    let resp = reception
        .http
        .get(format!("{}/api/card/events", reception.base))
        .header("cookie", &reception.cookie)
        .send()
        .await
        .expect("sse");
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    next_sse(&mut stream, &mut buf, |v| v["type"] == "snapshot").await;

    let resident = checkup_edge::demo::roster()
        .into_iter()
        .nth(2)
        .expect("resident");
    let (s, v) = reception
        .post(
            "/api/demo/tap",
            &json!({"resident_id": resident.resident_id, "card": "mynumber"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let e = next_sse(&mut stream, &mut buf, |v| v["type"] == "card_present").await;
    assert_eq!(
        (e["reader"].as_str(), e["hint"].as_str()),
        (Some("Virtual PCD 00 00"), Some("ic"))
    );

    // The page first asks without a PIN: a My Number card needs one, and no try is spent.
    let (s, v) = reception.post("/api/card/read", &json!({})).await;
    assert_eq!((s, v["error"].as_str()), (422, Some("pin_required")), "{v}");
    let (s, v) = reception
        .post("/api/card/read", &json!({"pin": "0000"}))
        .await;
    assert_eq!(
        (s, v["error"].as_str(), v["tries_left"].as_u64()),
        (422, Some("wrong_pin"), Some(2)),
        "{v}"
    );
    let (s, v) = reception
        .post(
            "/api/card/read",
            &json!({"pin": demo_pin(&resident.resident_id)}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["kind"], "mynumber");
    assert_eq!(v["name"], resident.name.as_str());
    assert_eq!(v["birth_date"], resident.birth_date.as_str());
    assert_eq!(v["sex"], resident.sex.as_str());
    assert_eq!(v["match"]["outcome"], "exact", "{v}");
    assert_eq!(
        v["match"]["candidate"]["resident"]["resident_id"],
        resident.resident_id.as_str()
    );

    // A venue card is read without a PIN.
    let (s, _) = reception
        .post(
            "/api/demo/tap",
            &json!({"resident_id": resident.resident_id, "card": "venue"}),
        )
        .await;
    assert_eq!(s, 200);
    next_sse(&mut stream, &mut buf, |v| v["type"] == "card_removed").await;
    let e = next_sse(&mut stream, &mut buf, |v| v["type"] == "card_present").await;
    assert_eq!(e["hint"], "contactless");
    let (s, v) = reception.post("/api/card/read", &json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["kind"], "contactless");
    assert_eq!(v["uid"].as_str().map(str::len), Some(16));
    let uid = v["uid"].as_str().unwrap_or_default().to_owned();

    // Check in with the venue card bound; at a station the same card finds the session.
    let station = b.client("S1", "2222").await;
    let (s, _) = station.post("/api/station/tap", &json!({})).await;
    assert_eq!(s, 404, "not bound yet");
    let (s, v) = reception
        .post("/api/reception/check-in", &json!({"id": uuid::Uuid::now_v7(), "resident_id": resident.resident_id, "card_uid": uid}))
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = station.post("/api/station/tap", &json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["resident_id"], resident.resident_id.as_str());
    assert_eq!(v["session_id"], v["session_id"]);
    let (s, _) = reception.post("/api/station/tap", &json!({})).await;
    assert_eq!(s, 403, "reception does not use the station lookup");

    // The reception page carries the PIN pad and the demo tap buttons.
    let page = reception
        .http
        .get(format!("{}/reception", reception.base))
        .header("cookie", &reception.cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("pin-pad") && page.contains("data-card=\"mynumber\""),
        "{page}"
    );

    // Three wrong card PINs in a row (the last confirmed as the final try, which blocks the
    // card) pause PIN entry for this staff member: the next card is refused with a wait,
    // even with its right PIN; a card read without a PIN is not affected.
    let others: Vec<_> = checkup_edge::demo::roster()
        .into_iter()
        .skip(3)
        .take(2)
        .collect();
    let tap = |r: &str| json!({"resident_id": r, "card": "mynumber"});
    let (s, _) = reception
        .post("/api/demo/tap", &tap(&others[0].resident_id))
        .await;
    assert_eq!(s, 200);
    next_sse(&mut stream, &mut buf, |v| v["type"] == "card_present").await;
    for (pin, confirm) in [("0000", false), ("0000", false), ("0000", true)] {
        let (s, v) = reception
            .post(
                "/api/card/read",
                &json!({"pin": pin, "confirm_last_try": confirm}),
            )
            .await;
        assert_eq!(s, 422, "{v}");
        assert!(
            matches!(v["error"].as_str(), Some("wrong_pin" | "pin_blocked")),
            "{v}"
        );
    }
    let (s, _) = reception
        .post("/api/demo/tap", &tap(&others[1].resident_id))
        .await;
    assert_eq!(s, 200);
    next_sse(&mut stream, &mut buf, |v| {
        v["type"] == "card_present" && v["hint"] == "ic"
    })
    .await;
    let (s, v) = reception
        .post(
            "/api/card/read",
            &json!({"pin": demo_pin(&others[1].resident_id)}),
        )
        .await;
    assert_eq!(s, 429, "{v}");
    assert_eq!(v["error"], "locked");
    assert!(
        v["retry_after_secs"]
            .as_u64()
            .is_some_and(|w| (1..=30).contains(&w)),
        "{v}"
    );
    let (s, v) = reception.post("/api/card/read", &json!({})).await;
    assert_eq!((s, v["error"].as_str()), (422, Some("pin_required")), "{v}");
    drop(stream);
    b.stop().await;
}
