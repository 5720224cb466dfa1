//! Roster import over HTTP: UTF-8 and Shift_JIS files, bad rows reported by line, re-import
//! idempotent, only the venue admin may import; a municipality's whole roster fits the
//! route's own body limit while other routes keep the general one.

mod common;

use common::TestBox;

const CSV: &str = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n\
0000000101,髙橋　節子,タカハシ　セツコ,1952-03-14,female,みどり市中央1丁目2番3号,特定健診,09:00\n\
0000000102,渡邊　健一,ワタナベ　ケンイチ,1958-04-22,male,みどり市緑町2丁目5番8号,特定健診,09:05\n\
0000000103,壊れた　行,コワレタ　ギョウ,1958-13-22,male,みどり市,特定健診,09:10\n";

#[tokio::test]
async fn roster_files_import_idempotently_with_row_errors() {
    let b = TestBox::start_without_roster().await;
    let admin = b.client("A1", "9999").await;
    let (s, v) = admin
        .post_raw("/api/roster/import", CSV.as_bytes().to_vec())
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["added"].as_u64(),
            v["updated"].as_u64(),
            v["unchanged"].as_u64()
        ),
        (Some(2), Some(0), Some(0))
    );
    assert_eq!(v["errors"][0]["line"], 4);
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("birth_date")),
        "{v}"
    );

    // The same file again changes nothing; a changed row is an update.
    let (_, v) = admin
        .post_raw("/api/roster/import", CSV.as_bytes().to_vec())
        .await;
    assert_eq!(
        (v["added"].as_u64(), v["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    let moved = CSV.replace("緑町2丁目5番8号", "緑町3丁目1番1号");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&moved);
    let (s, v) = admin
        .post_raw("/api/roster/import", sjis.into_owned())
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["added"].as_u64(),
            v["updated"].as_u64(),
            v["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "Shift_JIS file read"
    );

    // Not a roster at all.
    let (s, v) = admin
        .post_raw("/api/roster/import", vec![0xFF, 0xFE, 0x00, 0xD8])
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_roster_file")));
    // Only the venue admin imports.
    let reception = b.client("R1", "1111").await;
    let (s, _) = reception
        .post_raw("/api/roster/import", CSV.as_bytes().to_vec())
        .await;
    assert_eq!(s, 403);
    b.stop().await;
}

#[tokio::test]
async fn reception_searches_and_checks_in_once() {
    let b = TestBox::start_without_roster().await;
    let admin = b.client("A1", "9999").await;
    admin
        .post_raw("/api/roster/import", CSV.as_bytes().to_vec())
        .await;
    let reception = b.client("R1", "1111").await;
    // Half-width kana, no space, finds the full-width roster entry.
    let (s, v) = reception
        .get("/api/roster/search?q=%EF%BE%80%EF%BD%B6%EF%BE%8A%EF%BD%BC")
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["residents"][0]["resident_id"], "0000000101", "{v}");
    let (s, _) = reception.get("/api/roster/search?q=%E9%AB%99").await;
    assert_eq!(s, 400, "one character is too broad a search");

    let id = uuid::Uuid::now_v7();
    let body = serde_json::json!({"id": id, "resident_id": "0000000101", "mynumber": true});
    let (s, v) = reception.post("/api/reception/check-in", &body).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["stations"].as_array().map(Vec::len), Some(6));
    // The tablet retries the same check-in: answered, not doubled.
    let (s, v) = reception.post("/api/reception/check-in", &body).await;
    assert_eq!((s, v["replayed"].as_bool()), (200, Some(true)), "{v}");
    // A second check-in of the same resident is refused while the session is open.
    let again = serde_json::json!({"id": uuid::Uuid::now_v7(), "resident_id": "0000000101"});
    let (s, v) = reception.post("/api/reception/check-in", &again).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (409, Some("already_checked_in")),
        "{v}"
    );
    // Not on the roster; wrong role.
    let (s, _) = reception
        .post(
            "/api/reception/check-in",
            &serde_json::json!({"id": uuid::Uuid::now_v7(), "resident_id": "9999999999"}),
        )
        .await;
    assert_eq!(s, 404);
    let nurse = b.client("N1", "3333").await;
    let (s, _) = nurse.post("/api/reception/check-in", &again).await;
    assert_eq!(s, 403);
    let (s, _) = nurse.get("/api/roster/search?q=abc").await;
    assert_eq!(s, 403);
    // The search was audited: one record_viewed for the resident shown.
    let (_, log) = admin.get("/api/events").await;
    let views = log["events"].as_array().map(|e| {
        e.iter()
            .filter(|e| e["body"]["kind"] == "record_viewed")
            .count()
    });
    assert_eq!(views, Some(1), "{log}");
    b.stop().await;
}

#[tokio::test]
async fn last_years_values_are_shown_and_a_big_weight_change_must_be_confirmed() {
    let b = TestBox::start_without_roster().await;
    let admin = b.client("A1", "9999").await;
    admin
        .post_raw("/api/roster/import", CSV.as_bytes().to_vec())
        .await;
    let history = "resident_id,item_code,value,unit,date\n\
                   0000000101,9N006000000000001,50.0,kg,2024-11-20\n\
                   0000000101,9N006000000000001,60.0,kg,2025-11-21\n\
                   0000000101,9N001000000000001,abc,cm,2025-11-21\n\
                   0000000102,9N006000000000001,60.0,kg,2025-11-21\n";
    let (s, v) = admin
        .post_raw("/api/roster/history", history.as_bytes().to_vec())
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["rows"].as_u64(), v["errors"][0]["line"].as_u64()),
        (Some(3), Some(4)),
        "{v}"
    );
    let reception = b.client("R1", "1111").await;
    let (s, v) = reception
        .post(
            "/api/reception/check-in",
            &serde_json::json!({"id": uuid::Uuid::now_v7(), "resident_id": "0000000101"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let session = v["session_id"].clone();
    let station = b.client("S1", "2222").await;
    let (s, v) = station.get("/api/residents/0000000101/history").await;
    assert_eq!(s, 200);
    assert_eq!(
        v["values"][0]["value"], "60.0",
        "the latest earlier value: {v}"
    );
    let (s, v) = reception
        .post(
            "/api/reception/check-in",
            &serde_json::json!({"id": uuid::Uuid::now_v7(), "resident_id": "0000000102"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let other = v["session_id"].clone();
    let weight_of = |session: &serde_json::Value, resident: &str, kg: f64, confirmed: bool| {
        serde_json::json!({"body": {"kind": "measurement_recorded", "payload": {
        "session_id": session, "resident_id": resident, "station": "measurement",
        "item_code": "9N006000000000001", "value": kg, "unit": "kg", "confirmed": confirmed}}})
    };
    let weight = |kg: f64, confirmed: bool| weight_of(&session, "0000000101", kg, confirmed);
    let (s, v) = station.post("/api/events", &weight(74.0, false)).await;
    assert_eq!(s, 422, "23% heavier than last year needs confirmation: {v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("last year")),
        "{v}"
    );
    let (s, _) = station.post("/api/events", &weight(74.0, true)).await;
    assert_eq!(s, 201);
    // The weight is now recorded: another value for it is a correction, not a new result.
    let (s, v) = station.post("/api/events", &weight(63.0, false)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("correction_required")),
        "{v}"
    );
    // Another resident, 60 kg last year: 5 % more is ordinary.
    let (s, v) = station
        .post("/api/events", &weight_of(&other, "0000000102", 63.0, false))
        .await;
    assert_eq!(s, 201, "5% is ordinary: {v}");
    b.stop().await;
}

/// A roster of `n` residents as a municipality's reservation system exports it.
fn municipal_roster(n: usize) -> String {
    let mut csv =
        String::from("resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{:010},髙橋　節子{i},タカハシ　セツコ,{}-{:02}-{:02},{},みどり市中央{}丁目{}番{}号　みどりハイツ{}号室,特定健診,{:02}:{:02}\n",
            1_000_000 + i,
            1940 + i % 45,
            1 + i % 12,
            1 + i % 28,
            if i % 2 == 0 { "female" } else { "male" },
            1 + i % 9,
            1 + i % 30,
            1 + i % 20,
            100 + i % 900,
            9 + (i / 12) % 8,
            (i % 12) * 5,
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_roster_of_60000_residents_imports_under_its_own_body_limit() {
    use checkup_edge::roster::import::MAX_ROSTER_BYTES;
    let b = TestBox::start().await;
    let admin = b.client("A1", "9999").await;
    let csv = municipal_roster(60_000);
    assert!(
        csv.len() > 8 * 1024 * 1024,
        "a realistic roster: {} bytes",
        csv.len()
    );
    let (s, v) = admin.post_raw("/api/roster/import", csv.into_bytes()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["added"].as_u64(), Some(60_000), "{v}");
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(0), "{v}");
    let reception = b.client("R1", "1111").await;
    // 節子59999
    let (s, v) = reception
        .get("/api/roster/search?q=%E7%AF%80%E5%AD%9059999")
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["residents"][0]["resident_id"], "0001059999", "{v}");

    // Over the roster's own limit: refused before parsing, with a JSON error.
    let (s, v) = admin
        .post_raw("/api/roster/import", vec![b'a'; MAX_ROSTER_BYTES + 1])
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (413, Some("body_too_large")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("{} MB", MAX_ROSTER_BYTES / (1024 * 1024)))),
        "{v}"
    );
    // Every other route keeps the general limit.
    let (s, _) = admin
        .post_raw("/api/roster/history", vec![b' '; 1024 * 1024 + 1])
        .await;
    assert_eq!(s, 413);
    let (s, _) = admin
        .post_raw("/api/events", vec![b' '; 1024 * 1024 + 1])
        .await;
    assert_eq!(s, 413);
    b.stop().await;
}

#[tokio::test]
async fn check_ins_carry_the_rosters_insurer_identity() {
    let b = TestBox::start_without_roster().await;
    let admin = b.client("A1", "9999").await;
    let csv = "宛名番号,氏名,カナ氏名,生年月日,性別,住所,コース,予約時刻,保険者番号,記号,番号,枝番,受診券整理番号,受診券有効期限\n\
        0000000201,保険　一郎,ホケン　イチロウ,1960-01-01,男,みどり市,特定健診,09:00,01130012,1234,56,01,26000000123,2027-03-31\n\
        0000000202,国保　花子,コクホ　ハナコ,1958-05-05,女,みどり市,特定健診,09:05,１３８０５７,,789,,,\n\
        0000000203,無保　三郎,ムホ　サブロウ,1955-09-09,男,みどり市,特定健診,09:10,,,,,,\n\
        0000000204,誤記　四郎,ゴキ　シロウ,1955-09-09,男,みどり市,特定健診,09:15,01130012,1234,56,01,2600000012,2027-03-31\n";
    let (s, v) = admin
        .post_raw("/api/roster/import", csv.as_bytes().to_vec())
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["added"], 3, "{v}");
    assert_eq!(v["errors"][0]["line"], 5, "{v}");
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("受診券整理番号 (ticket_number)")),
        "{v}"
    );

    let reception = b.client("R1", "1111").await;
    for resident in ["0000000201", "0000000203"] {
        let (s, v) = reception
            .post(
                "/api/reception/check-in",
                &serde_json::json!({"id": uuid::Uuid::now_v7(), "resident_id": resident}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    // A raw opening may not name an insurer of its own …
    let mut forged = common::open_session(uuid::Uuid::now_v7(), "0000000202");
    forged["body"]["payload"]["insurer"] =
        serde_json::json!({"insurer_number": "01130012", "number": "1"});
    let (s, v) = reception.post("/api/events", &forged).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("invalid_payload")),
        "{v}"
    );
    // … and one naming none gets the roster's.
    let (s, v) = reception
        .post(
            "/api/events",
            &common::open_session(uuid::Uuid::now_v7(), "0000000202"),
        )
        .await;
    assert_eq!(s, 201, "{v}");

    let (_, log) = admin.get("/api/events").await;
    let insurer_of = |resident: &str| {
        log["events"]
            .as_array()
            .and_then(|events| {
                events.iter().find(|e| {
                    e["body"]["kind"] == "session_opened"
                        && e["body"]["payload"]["resident_id"] == resident
                })
            })
            .map(|e| e["body"]["payload"]["insurer"].clone())
    };
    assert_eq!(
        insurer_of("0000000201"),
        Some(
            serde_json::json!({"insurer_number": "01130012", "symbol": "1234",
            "number": "56", "branch": "01", "ticket_number": "26000000123",
            "ticket_expiry": "2027-03-31"})
        )
    );
    assert_eq!(
        insurer_of("0000000202"),
        Some(serde_json::json!({"insurer_number": "138057", "number": "789"})),
        "full-width digits read as digits"
    );
    assert_eq!(insurer_of("0000000203"), Some(serde_json::Value::Null));

    // A changed identity is an update of the roster entry.
    let changed = csv.replace(",789,", ",790,");
    let (_, v) = admin
        .post_raw("/api/roster/import", changed.into_bytes())
        .await;
    assert_eq!(
        (v["updated"].as_u64(), v["unchanged"].as_u64()),
        (Some(1), Some(2)),
        "{v}"
    );
    b.stop().await;
}
