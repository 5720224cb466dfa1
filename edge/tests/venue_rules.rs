//! The day's rules hold below HTTP, whichever route a write takes: each test is named after
//! a fault a probe of the box found, and fails if the rule is removed from the core.

mod common;

use common::{Client, TestBox, open_session};
use serde_json::{Value, json};
use uuid::Uuid;

fn resident(i: u32) -> String {
    format!("{i:010}")
}

async fn check_in(
    reception: &Client,
    id: Uuid,
    resident: &str,
    card_uid: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({"id": id, "resident_id": resident});
    if let Some(uid) = card_uid {
        body["card_uid"] = json!(uid);
    }
    reception.post("/api/reception/check-in", &body).await
}

async fn close(reception: &Client, session: &Value) {
    let (st, v) = reception
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "session_closed",
                "payload": {"session_id": session}}}),
        )
        .await;
    assert_eq!(st, 201, "close {session}: {v}");
}

/// Every event of the log, as the venue admin reads it.
async fn log(admin: &Client) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (st, v) = admin
            .get(&format!("/api/events?after={after}&limit=1000"))
            .await;
        assert_eq!(st, 200, "{v}");
        let events = v["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            return out;
        }
        after = v["next"].as_i64().expect("next");
        out.extend(events);
    }
}

async fn open_sessions_of(admin: &Client, resident: &str) -> usize {
    let events = log(admin).await;
    let opened: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["body"]["kind"] == "session_opened" && e["body"]["payload"]["resident_id"] == resident
        })
        .collect();
    let closed: Vec<&Value> = events
        .iter()
        .filter(|e| e["body"]["kind"] == "session_closed")
        .map(|e| &e["body"]["payload"]["session_id"])
        .collect();
    opened
        .iter()
        .filter(|e| !closed.contains(&&e["body"]["payload"]["session_id"]))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_of_a_malformed_resident_id_makes_no_poisoned_event() {
    let b = TestBox::start().await;
    let nurse = b.client("N1", "3333").await;
    let admin = b.client("A1", "9999").await;
    let before = log(&admin).await.len();
    let long = "A".repeat(65);
    for id in ["a%20b", "%E5%B1%B1", long.as_str(), "0000999999"] {
        let (st, v) = nurse.get(&format!("/api/residents/{id}/history")).await;
        assert!(
            st == 404 || st == 422 || st == 400,
            "{id}: {st} {v} (no record of a resident who is not booked)"
        );
        assert!(v["error"].is_string(), "{id}: a coded error: {v}");
    }
    let events = log(&admin).await;
    assert_eq!(events.len(), before, "no event was stored: {events:?}");
    // A booked resident's read is audited, and every event of the log is one peers accept.
    let (st, _) = nurse
        .get(&format!("/api/residents/{}/history", resident(3)))
        .await;
    assert_eq!(st, 200);
    let events = log(&admin).await;
    assert_eq!(events.len(), before + 1);
    for e in events {
        checkup_protocol::Event::from_value(e.clone())
            .unwrap_or_else(|err| panic!("an event peers would refuse: {err}: {e}"));
    }
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_venue_card_is_never_bound_to_two_residents() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let uid = "04a1b2c3d4e5f6";
    let (st, first) = check_in(&reception, Uuid::now_v7(), &resident(10), Some(uid)).await;
    assert_eq!(st, 201, "{first}");
    let (st, v) = check_in(&reception, Uuid::now_v7(), &resident(11), Some(uid)).await;
    assert_eq!((st, v["error"].as_str()), (409, Some("card_in_use")), "{v}");
    // Through the raw event route too.
    let raw = json!({"id": Uuid::now_v7(), "body": {"kind": "session_opened", "payload": {
        "session_id": Uuid::now_v7(), "resident_id": resident(12),
        "stations": ["measurement"], "card": {"kind": "contactless", "uid": uid}}}});
    let (st, v) = reception.post("/api/events", &raw).await;
    assert_eq!((st, v["error"].as_str()), (409, Some("card_in_use")), "{v}");
    // Once the first session is closed the card may be handed to the next resident.
    close(&reception, &first["session_id"]).await;
    let (st, v) = check_in(&reception, Uuid::now_v7(), &resident(11), Some(uid)).await;
    assert_eq!(st, 201, "{v}");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_resident_never_has_two_open_sessions_and_only_booked_residents_have_one() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let admin = b.client("A1", "9999").await;
    let r = resident(20);
    let (st, v) = reception
        .post("/api/events", &open_session(Uuid::now_v7(), &r))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = reception
        .post("/api/events", &open_session(Uuid::now_v7(), &r))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("already_checked_in")),
        "{v}"
    );
    let (st, v) = check_in(&reception, Uuid::now_v7(), &r, None).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("already_checked_in")),
        "{v}"
    );
    // A raw opening takes only stations of the resident's booked course (特定健診 here).
    let ecg = json!({"id": Uuid::now_v7(), "body": {"kind": "session_opened", "payload": {
        "session_id": Uuid::now_v7(), "resident_id": resident(21),
        "stations": ["measurement", "ecg"]}}});
    let (st, v) = reception.post("/api/events", &ecg).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("invalid_payload")),
        "{v}"
    );
    let (st, v) = reception
        .post("/api/events", &open_session(Uuid::now_v7(), "0000999999"))
        .await;
    assert_eq!((st, v["error"].as_str()), (404, Some("not_booked")), "{v}");
    assert_eq!(open_sessions_of(&admin, &r).await, 1);
    assert_eq!(open_sessions_of(&admin, "0000999999").await, 0);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_under_the_nil_id_is_refused_and_nothing_is_signed() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let admin = b.client("A1", "9999").await;
    let before = log(&admin).await.len();
    let (st, v) = check_in(&reception, Uuid::nil(), &resident(35), None).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("invalid_payload")),
        "{v}"
    );
    assert_eq!(log(&admin).await.len(), before, "nothing was signed");
    // A resident id of any length is answered without being echoed back whole.
    let long = "9".repeat(100_000);
    let (st, v) = check_in(&reception, Uuid::now_v7(), &long, None).await;
    assert!(st == 404 || st == 422, "{st}");
    assert!(v.to_string().len() < 2_000, "the answer repeats the input");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_check_in_with_another_resident_is_a_conflict() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let admin = b.client("A1", "9999").await;
    let id = Uuid::now_v7();
    let (st, first) = check_in(&reception, id, &resident(30), None).await;
    assert_eq!(st, 201, "{first}");
    let (st, v) = check_in(&reception, id, &resident(31), None).await;
    assert_eq!((st, v["error"].as_str()), (409, Some("conflict")), "{v}");
    let (st, v) = check_in(&reception, id, &resident(30), Some("0a0b")).await;
    assert_eq!((st, v["error"].as_str()), (409, Some("conflict")), "{v}");
    // The true retry answers the session it opened.
    let (st, again) = check_in(&reception, id, &resident(30), None).await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(again["session_id"], first["session_id"]);
    assert_eq!(again["replayed"], true);
    // The other resident can still be checked in, with a fresh id.
    assert_eq!(open_sessions_of(&admin, &resident(31)).await, 0);
    let (st, v) = check_in(&reception, Uuid::now_v7(), &resident(31), None).await;
    assert_eq!(st, 201, "{v}");
    b.stop().await;
}

fn visited(session: &Value, r: &str, station: &str, confirmed: bool) -> Value {
    let mut body = json!({"id": Uuid::now_v7(), "body": {"kind": "station_visited", "payload": {
        "session_id": session, "resident_id": r, "station": station}}});
    if confirmed {
        body["body"]["payload"]["confirmed"] = json!(true);
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_doctor_signs_off_the_doctor_and_never_an_empty_record_unasked() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;
    let doctor = b.client("D1", "4444").await;
    let r = resident(40);
    let (st, opened) = check_in(&reception, Uuid::now_v7(), &r, None).await;
    assert_eq!(st, 201, "{opened}");
    let session = &opened["session_id"];
    // A nurse may not complete 診察, nor open its page.
    let (st, v) = nurse
        .post("/api/events", &visited(session, &r, "doctor", false))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (403, Some("forbidden_role")),
        "{v}"
    );
    let page = nurse
        .http
        .get(format!("{}/station/doctor", nurse.base))
        .header("cookie", &nurse.cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 403);
    // The doctor, with nothing recorded: refused unless confirmed, and told what is missing.
    let (st, v) = doctor
        .post("/api/events", &visited(session, &r, "doctor", false))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    assert!(
        v["missing"]
            .as_array()
            .is_some_and(|m| m.iter().any(|s| s == "measurement")),
        "lists what is missing: {v}"
    );
    assert!(
        v["message"].as_str().unwrap_or("").contains("既往歴"),
        "names the doctor's required items first: {v}"
    );
    // A measurement station signed off with its items missing, likewise.
    let (st, v) = nurse
        .post("/api/events", &visited(session, &r, "measurement", false))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    // Confirmed without listing what is missing: refused, with the list to confirm.
    let (st, v) = doctor
        .post("/api/events", &visited(session, &r, "doctor", true))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    let missing = v["missing"].clone();
    assert!(
        missing
            .as_array()
            .is_some_and(|m| m.iter().any(|s| s == "measurement")),
        "lists what is missing: {v}"
    );
    // The doctor's own required items are never confirmed away: recorded first.
    let mut listed = visited(session, &r, "doctor", true);
    listed["body"]["payload"]["missing"] = missing;
    let (st, v) = doctor.post("/api/events", &listed).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    for (item, value) in [
        (HISTORY, "2"),
        (SYMPTOMS, "2"),
        (SIGNS, "2"),
        (DIAGNOSIS, "異常なし"),
    ] {
        let (st, v) = doctor
            .post("/api/events", &found(session, &r, "doctor", item, value))
            .await;
        assert_eq!(st, 201, "{item}: {v}");
    }
    listed["id"] = json!(Uuid::now_v7());
    let (st, v) = doctor.post("/api/events", &listed).await;
    assert_eq!(st, 201, "confirmed, listed: {v}");
    b.stop().await;
}

const HISTORY: &str = "9N056000000000011";
const HISTORY_TEXT: &str = "9N056160400000049";
const SYMPTOMS: &str = "9N061000000000011";
const SYMPTOMS_TEXT: &str = "9N061160800000049";
const SIGNS: &str = "9N066000000000011";
const SIGNS_TEXT: &str = "9N066160800000049";
const DIAGNOSIS: &str = "9N511000000000049";
const HOURS_SINCE_MEAL: &str = "9N141000000000011";

/// A finding or judgement recorded at `station` (a code or a text).
fn found(session: &Value, r: &str, station: &str, item: &str, value: &str) -> Value {
    json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_recorded", "payload": {
        "session_id": session, "resident_id": r, "station": station,
        "item_code": item, "value": value, "unit": ""}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_never_signs_off_without_the_findings_and_the_text_of_each_finding_noted() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;
    let doctor = b.client("D1", "4444").await;
    let r = resident(45);
    let (st, opened) = check_in(&reception, Uuid::now_v7(), &r, None).await;
    assert_eq!(st, 201, "{opened}");
    let session = &opened["session_id"];
    let admin = b.client("A1", "9999").await;
    // Codes outside each item's own list, and bad texts, are refused and nothing is stored.
    let before = log(&admin).await.len();
    let long = "あ".repeat(257);
    for (item, value, why) in [
        (HISTORY, "3", "a code 2001 does not have"),
        (
            SYMPTOMS,
            "特記すべきことあり",
            "the label instead of the code",
        ),
        (SIGNS, "", "no code"),
        (DIAGNOSIS, long.as_str(), "257 characters"),
        (DIAGNOSIS, "異常なし\u{7}", "a control character"),
        (DIAGNOSIS, "異常なし\t要再検", "a tab"),
        (DIAGNOSIS, " 異常なし", "untrimmed"),
        (DIAGNOSIS, "   ", "blank"),
        (HISTORY_TEXT, "胃潰瘍\r\n", "a carriage return"),
    ] {
        let (st, v) = doctor
            .post("/api/events", &found(session, &r, "doctor", item, value))
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (422, Some("invalid_payload")),
            "{why}: {v}"
        );
    }
    let (st, v) = doctor
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_recorded", "payload": {
            "session_id": session, "resident_id": &r, "station": "doctor",
            "item_code": HISTORY, "value": 1, "unit": ""}}}),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("invalid_payload")),
        "a number: {v}"
    );
    // 採血時間 at the draw: its own codes 2–4 only.
    for bad in ["1", "5", "食後10時間以上"] {
        let (st, v) = nurse
            .post(
                "/api/events",
                &found(session, &r, "blood_draw", HOURS_SINCE_MEAL, bad),
            )
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (422, Some("invalid_payload")),
            "{bad}: {v}"
        );
    }
    assert_eq!(log(&admin).await.len(), before, "nothing refused is stored");
    let (st, v) = nurse
        .post(
            "/api/events",
            &found(session, &r, "blood_draw", HOURS_SINCE_MEAL, "2"),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    // Nothing found yet: refused, confirmed and listed or not, naming the four required.
    let (st, v) = doctor
        .post("/api/events", &visited(session, &r, "doctor", true))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    assert_eq!(
        v["required"],
        json!([HISTORY, SYMPTOMS, SIGNS, DIAGNOSIS]),
        "{v}"
    );
    let mut listed = visited(session, &r, "doctor", true);
    listed["body"]["payload"]["missing"] = v["missing"].clone();
    let (st, v) = doctor.post("/api/events", &listed).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap_or("").contains("既往歴"),
        "names the required items: {v}"
    );
    // 既往歴 なし, 自覚症状 あり without its text, 他覚症状 なし, 診断: the text is required.
    for (item, value) in [
        (HISTORY, "2"),
        (SYMPTOMS, "1"),
        (SIGNS, "2"),
        (
            DIAGNOSIS,
            "腹囲が基準を超えています。\n生活習慣の改善を指導",
        ),
    ] {
        let (st, v) = doctor
            .post("/api/events", &found(session, &r, "doctor", item, value))
            .await;
        assert_eq!(st, 201, "{item}: {v}");
    }
    let (st, v) = doctor
        .post("/api/events", &visited(session, &r, "doctor", true))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    assert_eq!(v["required"], json!([SYMPTOMS_TEXT]), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("自覚症状（所見）"),
        "{v}"
    );
    // The texts of findings recorded なし are not asked for.
    let missing = v["missing"].to_string();
    assert!(
        !missing.contains(HISTORY_TEXT) && !missing.contains(SIGNS_TEXT),
        "{v}"
    );
    // With the text: only the other stations are left, confirmed and listed.
    let (st, v) = doctor
        .post(
            "/api/events",
            &found(session, &r, "doctor", SYMPTOMS_TEXT, "時々頭痛がある"),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = doctor
        .post("/api/events", &visited(session, &r, "doctor", true))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    assert!(
        v.get("required").is_none(),
        "nothing required is missing: {v}"
    );
    assert!(
        v["missing"].as_array().is_some_and(|m| m.iter().all(|x| x
            .as_str()
            .is_some_and(|x| x.parse::<checkup_protocol::StationKind>().is_ok()))),
        "only stations left: {v}"
    );
    listed["body"]["payload"]["missing"] = v["missing"].clone();
    listed["id"] = json!(Uuid::now_v7());
    let (st, v) = doctor.post("/api/events", &listed).await;
    assert_eq!(st, 201, "signed off: {v}");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_is_stored_with_the_items_precision_only() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let station = b.client("S1", "2222").await;
    let r = resident(50);
    let (st, opened) = check_in(&reception, Uuid::now_v7(), &r, None).await;
    assert_eq!(st, 201, "{opened}");
    let sid: Uuid = serde_json::from_value(opened["session_id"].clone()).expect("uuid");
    let (st, v) = station
        .post("/api/events", &common::height(sid, &r, 165.123456789))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("invalid_payload")),
        "{v}"
    );
    // Within rounding noise of one place is still more places than one.
    for cm in [165.1001, 165.1000001] {
        let (st, v) = station
            .post("/api/events", &common::height(sid, &r, cm))
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (422, Some("invalid_payload")),
            "{cm}: {v}"
        );
    }
    let (st, v) = station
        .post("/api/events", &common::height(sid, &r, 165.1))
        .await;
    assert_eq!(st, 201, "{v}");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_is_never_saved_without_its_scan() {
    let b = TestBox::start().await;
    let clerk = b.client("C1", "5555").await;
    let fields: serde_json::Map<String, Value> = checkup_protocol::notice::NOTICE_FIELDS
        .iter()
        .map(|f| {
            // A well-formed notice (a case needs the child's name; the rest may be blank).
            let value = if *f == "child_name" {
                "山田花子"
            } else {
                ""
            };
            (
                f.to_string(),
                json!({"value": value, "confidence": 1.0, "corrected": true}),
            )
        })
        .collect();
    let raw = json!({"id": Uuid::now_v7(), "body": {"kind": "notice_intake_saved", "payload": {
        "case_id": Uuid::now_v7(), "fields": fields,
        "source": {"file": "none.png", "sha256": "0".repeat(64)}}}});
    let (st, v) = clerk.post("/api/events", &raw).await;
    assert_eq!((st, v["error"].as_str()), (422, Some("use_command")), "{v}");
    let (st, v) = clerk.get("/api/cases").await;
    assert_eq!(st, 200);
    assert_eq!(v["cases"].as_array().map(Vec::len), Some(0), "{v}");
    b.stop().await;
}

/// 16 requests at once, `rounds` times: exactly one wins each round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_openings_for_one_resident_or_one_card_open_exactly_one_session() {
    const ROUNDS: usize = 50;
    const AT_ONCE: usize = 16;
    let b = TestBox::start().await;
    let reception = std::sync::Arc::new(b.client("R1", "1111").await);
    let admin = b.client("A1", "9999").await;
    for round in 0..ROUNDS {
        // One resident, 16 check-ins and 16 raw openings at once.
        let r = resident(100 + (round % 2) as u32);
        let mut tasks = Vec::new();
        for i in 0..2 * AT_ONCE {
            let c = reception.clone();
            let r = r.clone();
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    check_in(&c, Uuid::now_v7(), &r, None).await
                } else {
                    c.post("/api/events", &open_session(Uuid::now_v7(), &r))
                        .await
                }
            }));
        }
        let mut won = Vec::new();
        for t in tasks {
            let (st, v) = t.await.expect("join");
            match st {
                201 => won.push(v),
                409 => assert_eq!(v["error"], "already_checked_in", "{v}"),
                other => panic!("round {round}: {other} {v}"),
            }
        }
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one session opens, not {}",
            won.len()
        );
        assert_eq!(open_sessions_of(&admin, &r).await, 1, "round {round}");
        let session = won[0].get("session_id").cloned().unwrap_or(Value::Null);
        let session = if session.is_null() {
            // A raw opening answers with its event; find its session in the log.
            let events = log(&admin).await;
            events
                .iter()
                .rev()
                .find(|e| {
                    e["body"]["kind"] == "session_opened"
                        && e["body"]["payload"]["resident_id"] == r
                })
                .map(|e| e["body"]["payload"]["session_id"].clone())
                .expect("the opening")
        } else {
            session
        };
        close(&reception, &session).await;

        // One venue card, 32 residents at once: 16 check-ins and 16 raw openings.
        let uid = format!("{:016x}", 0xca4d_0000 + round as u64);
        let mut tasks = Vec::new();
        for i in 0..2 * AT_ONCE {
            let c = reception.clone();
            let uid = uid.clone();
            let r = resident(200 + i as u32);
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    check_in(&c, Uuid::now_v7(), &r, Some(&uid)).await
                } else {
                    let raw = json!({"id": Uuid::now_v7(), "body": {"kind": "session_opened",
                        "payload": {"session_id": Uuid::now_v7(), "resident_id": r,
                        "stations": ["measurement"], "card": {"kind": "contactless", "uid": uid}}}});
                    c.post("/api/events", &raw).await
                }
            }));
        }
        let mut won = Vec::new();
        for t in tasks {
            let (st, v) = t.await.expect("join");
            match st {
                201 => won.push(v),
                409 => assert_eq!(v["error"], "card_in_use", "{v}"),
                other => panic!("round {round}: {other} {v}"),
            }
        }
        assert_eq!(
            won.len(),
            1,
            "round {round}: one card, one session, not {}",
            won.len()
        );
        let session = match won[0].get("session_id") {
            Some(s) => s.clone(),
            None => log(&admin)
                .await
                .iter()
                .rev()
                .find(|e| e["body"]["payload"]["card"]["uid"] == uid.as_str())
                .map(|e| e["body"]["payload"]["session_id"].clone())
                .expect("the opening with the card"),
        };
        close(&reception, &session).await;
    }
    b.stop().await;
}

/// The 問診 items required for the report: 服薬 1–3 and 喫煙.
const REQUIRED: [&str; 4] = [
    "9N701000000000011",
    "9N706000000000011",
    "9N711000000000011",
    "9N736000000000011",
];

/// An answer the nurse asked at 問診 (`answered.via = interview`).
fn asked(session: &Value, r: &str, item: &str, code: &str) -> Value {
    json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_recorded", "payload": {
        "session_id": session, "resident_id": r, "station": "questionnaire",
        "item_code": item, "value": code, "unit": "",
        "answered": {"via": "interview", "lang": "ja"}}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_questionnaire_is_never_signed_off_without_its_required_answers() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;
    let r = resident(60);
    let (st, opened) = check_in(&reception, Uuid::now_v7(), &r, None).await;
    assert_eq!(st, 201, "{opened}");
    let session = &opened["session_id"];
    // Nothing answered: refused, the required items named, unconfirmed or confirmed with
    // every missing item listed.
    let (st, v) = nurse
        .post("/api/events", &visited(session, &r, "questionnaire", false))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    assert_eq!(v["required"], json!(REQUIRED), "{v}");
    assert_eq!(v["missing"].as_array().map(Vec::len), Some(22), "{v}");
    let mut listed = visited(session, &r, "questionnaire", true);
    listed["body"]["payload"]["missing"] = v["missing"].clone();
    let (st, v) = nurse.post("/api/events", &listed).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "confirmed with nothing answered: {v}"
    );
    assert_eq!(v["required"], json!(REQUIRED), "{v}");
    // 服薬 1–3 answered, 喫煙 not: still refused, naming 喫煙 alone.
    for item in &REQUIRED[..3] {
        let (st, v) = nurse
            .post("/api/events", &asked(session, &r, item, "2"))
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let (st, v) = nurse.post("/api/events", &listed).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "confirmed with 喫煙 unanswered: {v}"
    );
    assert_eq!(v["required"], json!([REQUIRED[3]]), "{v}");
    let message = v["message"].as_str().unwrap_or("");
    assert!(message.contains("喫煙") && message.contains("必須"), "{v}");
    assert!(
        !message.contains("服薬"),
        "names only what is required and missing: {v}"
    );
    // The due list still has the resident at 問診.
    let (st, due) = nurse.get("/api/station/questionnaire/due").await;
    assert_eq!(st, 200, "{due}");
    assert!(due.to_string().contains(&r), "{due}");
    // 喫煙 answered: the other questions may be left unanswered, confirmed and listed.
    let (st, v) = nurse
        .post("/api/events", &asked(session, &r, REQUIRED[3], "3"))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = nurse
        .post("/api/events", &visited(session, &r, "questionnaire", false))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("incomplete_station")),
        "{v}"
    );
    assert!(
        v.get("required").is_none(),
        "nothing required is missing: {v}"
    );
    assert_eq!(v["missing"].as_array().map(Vec::len), Some(18), "{v}");
    listed["body"]["payload"]["missing"] = v["missing"].clone();
    listed["id"] = json!(Uuid::now_v7());
    let (st, v) = nurse.post("/api/events", &listed).await;
    assert_eq!(st, 201, "confirmed with the optional questions listed: {v}");
    let (_, due) = nurse.get("/api/station/questionnaire/due").await;
    assert!(
        !due.to_string().contains(&r),
        "signed off, no longer due: {due}"
    );
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_question_answered_still_waits_for_the_nurse_to_sign_off() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;
    let r = resident(61);
    let (st, opened) = check_in(&reception, Uuid::now_v7(), &r, None).await;
    assert_eq!(st, 201, "{opened}");
    let session = &opened["session_id"];
    for q in checkup_protocol::questionnaire::QUESTIONS {
        let (st, v) = nurse
            .post("/api/events", &asked(session, &r, q.code, "1"))
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let (st, rec) = nurse
        .get(&format!("/api/sessions/{}", session.as_str().unwrap_or("")))
        .await;
    assert_eq!(st, 200, "{rec}");
    assert!(
        rec["remaining"]
            .as_array()
            .is_some_and(|r| r.iter().any(|s| s == "questionnaire")),
        "all 22 answered, not yet gone through: {rec}"
    );
    let (_, due) = nurse.get("/api/station/questionnaire/due").await;
    assert!(due.to_string().contains(&r), "{due}");
    let (st, v) = nurse
        .post("/api/events", &visited(session, &r, "questionnaire", false))
        .await;
    assert_eq!(st, 201, "nothing missing: {v}");
    let (_, rec) = nurse
        .get(&format!("/api/sessions/{}", session.as_str().unwrap_or("")))
        .await;
    assert!(
        rec["remaining"]
            .as_array()
            .is_some_and(|r| !r.iter().any(|s| s == "questionnaire")),
        "{rec}"
    );
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_draft_never_claims_the_resident_answered_themselves() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;
    let admin = b.client("A1", "9999").await;
    let r = resident(62);
    let (st, opened) = check_in(&reception, Uuid::now_v7(), &r, None).await;
    assert_eq!(st, 201, "{opened}");
    let session = &opened["session_id"];
    let before = log(&admin).await.len();
    for via in ["tablet", "phone", "paper"] {
        let mut draft = asked(session, &r, REQUIRED[0], "1");
        draft["body"]["payload"]["answered"]["via"] = json!(via);
        let (st, v) = nurse.post("/api/events", &draft).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (422, Some("use_command")),
            "{via}: {v}"
        );
    }
    assert_eq!(log(&admin).await.len(), before, "nothing was signed");
    // Asked by the nurse, or typed in without a channel: recorded.
    let (st, v) = nurse
        .post("/api/events", &asked(session, &r, REQUIRED[0], "1"))
        .await;
    assert_eq!(st, 201, "{v}");
    let mut typed = asked(session, &r, REQUIRED[1], "2");
    typed["body"]["payload"]
        .as_object_mut()
        .map(|p| p.remove("answered"));
    let (st, v) = nurse.post("/api/events", &typed).await;
    assert_eq!(st, 201, "{v}");
    b.stop().await;
}
