//! Reads of the child-welfare compartment are audited: showing a scan, a crop of it or the
//! case list (plain or live) appends a `case_viewed` event naming what was shown before the
//! data is returned; the log withholds these events from every other role; the inbox list
//! carries no content. A real notice is read by the real OCR worker (Tesseract).

mod common;

use std::time::{Duration, Instant};

use checkup_edge::log::store::{EventStore, StoreOptions};
use checkup_protocol::{NodeKey, Role};
use checkup_tests::notice_corpus::{Layout, example, render_example};
use common::{Client, TestBox, staff};
use serde_json::{Value, json};

/// How many events the venue admin's log read withholds, and the kinds it shows.
async fn admin_view(admin: &Client) -> (u64, Vec<String>) {
    let (st, log) = admin.get("/api/events?limit=10000").await;
    assert_eq!(st, 200, "{log}");
    let kinds = log["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["body"]["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (log["withheld"].as_u64().unwrap_or(0), kinds)
}

async fn get_status(c: &Client, path: &str) -> u16 {
    c.http
        .get(format!("{}{path}", c.base))
        .header("cookie", &c.cookie)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_scan_a_crop_and_the_case_list_is_audited_for_child_welfare_only() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = common::config(dir.path());
    config
        .staff
        .push(staff("K1", "2468", Role::Caseworker, &[]));
    let b = TestBox::start_with(dir, config).await;
    let clerk = b.client("C1", "5555").await;
    let caseworker = b.client("K1", "2468").await;
    let admin = b.client("A1", "9999").await;
    let auditor = b.client("U1", "8888").await;

    let t = example("notice-0001.png");
    let mut png = std::io::Cursor::new(Vec::new());
    render_example(&t, Layout::Table, false)
        .expect("render")
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let (st, scan) = clerk
        .post_raw("/api/intake/scans?name=notice-0001.png", png.into_inner())
        .await;
    assert_eq!(st, 202, "{scan}");
    let id = scan["id"].as_str().expect("id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, list) = clerk.get("/api/intake/scans").await;
        let s = &list["scans"][0];
        if s["status"] == "ready" {
            // The list says what and where, never what was read.
            assert!(s.get("result").is_none(), "{s}");
            assert!(!list.to_string().contains(&t.child_name), "{list}");
            break;
        }
        assert_ne!(s["status"], "failed", "{s}");
        assert!(Instant::now() < deadline, "the notice was never read");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (withheld0, _) = admin_view(&admin).await;

    // One scan with what was read: recorded by the time the answer arrives.
    let (st, read) = clerk.get(&format!("/api/intake/scans/{id}")).await;
    assert_eq!(st, 200, "{read}");
    assert_eq!(
        read["result"]["fields"]["child_name"]["value"],
        t.child_name.as_str()
    );
    assert_eq!(admin_view(&admin).await.0, withheld0 + 1);

    // A crop of it.
    let crop = format!("/api/intake/scans/{id}/crops/child_name");
    assert_eq!(get_status(&clerk, &crop).await, 200);
    assert_eq!(admin_view(&admin).await.0, withheld0 + 2);
    // No crop, nothing shown, nothing recorded.
    let none = format!("/api/intake/scans/{id}/crops/phone");
    assert_eq!(get_status(&clerk, &none).await, 404);
    assert_eq!(admin_view(&admin).await.0, withheld0 + 2);

    // Required fields empty, or a date that is no date: refused, saying which, nothing saved.
    let (st, refused) = clerk
        .post(
            &format!("/api/intake/scans/{id}/case"),
            &json!({"fields": {"child_name": t.child_name, "summary": t.summary}}),
        )
        .await;
    assert_eq!(st, 422, "{refused}");
    assert_eq!(refused["error"], "missing_fields", "{refused}");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("通告日") && message.contains("生年月日") && !message.contains("児童氏名"),
        "{refused}"
    );
    let (st, refused) = clerk
        .post(
            &format!("/api/intake/scans/{id}/case"),
            &json!({"fields": {"notice_date": t.notice_date, "child_name": t.child_name,
                "child_birth_date": "日年月日", "abuse_type": t.abuse_type}}),
        )
        .await;
    assert_eq!(st, 422, "{refused}");
    assert_eq!(refused["error"], "invalid_field", "{refused}");
    assert_eq!(admin_view(&admin).await.0, withheld0 + 2);

    // Saved as a case (the save itself is a child-case event).
    let fields = json!({
        "notice_date": t.notice_date, "reporting_agency": t.reporting_agency,
        "child_name": t.child_name, "child_birth_date": t.child_birth_date,
        "child_sex": t.child_sex, "child_address": t.child_address,
        "guardian_name": t.guardian_name, "abuse_type": t.abuse_type, "summary": t.summary,
    });
    let (st, saved) = clerk
        .post(
            &format!("/api/intake/scans/{id}/case"),
            &json!({"fields": fields}),
        )
        .await;
    assert_eq!(st, 201, "{saved}");
    let case_id = saved["case_id"].as_str().expect("case").to_owned();
    assert_eq!(admin_view(&admin).await.0, withheld0 + 3);

    // The case list, for the clerk and for the caseworker.
    for who in [&clerk, &caseworker] {
        let (st, cases) = who.get("/api/cases").await;
        assert_eq!(st, 200, "{cases}");
        assert_eq!(cases["cases"][0]["case_id"], case_id.as_str());
    }
    assert_eq!(admin_view(&admin).await.0, withheld0 + 5);

    // The live case list: its first list is recorded before it is sent.
    let mut live = caseworker
        .http
        .get(caseworker.base.clone() + "/api/cases/events")
        .header("cookie", &caseworker.cookie)
        .send()
        .await
        .expect("stream");
    let first = tokio::time::timeout(Duration::from_secs(10), live.chunk())
        .await
        .expect("first list in time")
        .expect("stream")
        .expect("a frame");
    assert!(String::from_utf8_lossy(&first).contains(&case_id));
    assert_eq!(admin_view(&admin).await.0, withheld0 + 6);
    // Its own views do not make it send again (no list, no view, in a loop).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(admin_view(&admin).await.0, withheld0 + 6);
    drop(live);

    // Withheld from every role outside the compartment; no child-welfare kind shown.
    for who in [&admin, &auditor] {
        let (withheld, kinds) = admin_view(who).await;
        assert_eq!(withheld, withheld0 + 6);
        assert!(
            !kinds
                .iter()
                .any(|k| k == "case_viewed" || k == "notice_intake_saved"),
            "{kinds:?}"
        );
    }
    // Typed in, a view is refused: only the box records them.
    let forged = json!({"body": {"kind": "case_viewed",
        "payload": {"case_ids": [case_id], "purpose": "typed"}}});
    let (st, v) = clerk.post("/api/events", &forged).await;
    assert_eq!(st, 403, "{v}");

    // In the store: each view with its actor, the scan and the cases shown.
    let (venue, node, key_path) = (
        b.config.venue_id.clone(),
        b.config.node_id.clone(),
        b.config.key_path(),
    );
    let dir = b.stop().await;
    let key: [u8; 32] = std::fs::read(key_path)
        .expect("key")
        .try_into()
        .expect("32 bytes");
    let store = EventStore::open(
        &dir.path().join("events.sqlite3"),
        StoreOptions {
            training: false,
            venue,
            node,
            max_batch_events: 64,
            key: None,
        },
        NodeKey::from_bytes(&key),
    )
    .expect("store");
    let views: Vec<Value> = store
        .read_after(0, 100_000)
        .expect("read")
        .iter()
        .map(|r| serde_json::to_value(r.event.as_ref()).expect("json"))
        .filter(|e| e["body"]["kind"] == "case_viewed")
        .collect();
    let summary: Vec<(String, Value, Value, String)> = views
        .iter()
        .map(|e| {
            let p = &e["body"]["payload"];
            (
                e["actor"]["staff_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                p["scan_id"].clone(),
                p["case_ids"].clone(),
                p["purpose"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let one = json!([case_id]);
    assert_eq!(
        summary,
        vec![
            (
                "C1".into(),
                json!(id),
                Value::Null,
                format!("GET /api/intake/scans/{id}")
            ),
            ("C1".into(), json!(id), Value::Null, format!("GET {crop}")),
            (
                "C1".into(),
                Value::Null,
                one.clone(),
                "GET /api/cases".into()
            ),
            (
                "K1".into(),
                Value::Null,
                one.clone(),
                "GET /api/cases".into()
            ),
            (
                "K1".into(),
                Value::Null,
                one,
                "GET /api/cases/events".into()
            ),
        ]
    );
}
