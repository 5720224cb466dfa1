//! A child case's photos at central, on SQLite and on PostgreSQL, through the real HTTP API:
//! a box forwards a case with two photos (JPEGs as a box keeps them); the caseworker
//! assigned to the case lists them and fetches each — the very bytes forwarded, a JPEG,
//! `no-store`, `nosniff`, inline — and so do the child-welfare 係長; a caseworker or clerk
//! below 係長 not on the case is refused `not_on_case`, every health role and rank, the admin
//! and the auditor `forbidden`; another municipality's chief does not find the case
//! (PostgreSQL). Each view is one audit entry naming who and which case or photo, each
//! refusal one `refused_read`, and the trail still verifies.

mod common;

use checkup_protocol::Role;
use common::{DAY_MS, Served, TestBox, duty, staff};
use serde_json::{Value, json};

const M: &str = "012025";
const OTHER: &str = "012033";

/// A GET answered with bytes: status, headers, body.
async fn fetch(c: &Served, cookie: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = c
        .http
        .get(format!("{}{path}", c.url))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("body").to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn photos(postgres: bool) {
    let b = TestBox::new("edge-c1", "hakodate-2026-11-25", M);
    let other = TestBox::new("edge-o1", "otaru-2026-11-25", OTHER);
    let mut people = vec![
        staff("C1", Role::CentralAdmin, duty(M, "係員", &[], &[])),
        staff("AU", Role::Auditor, duty(M, "課長", &[], &[])),
        staff("W1", Role::Caseworker, duty(M, "係員", &[], &[])),
        staff("W2", Role::Caseworker, duty(M, "主任", &[], &[])),
        staff("WC", Role::Caseworker, duty(M, "係長", &[], &[])),
        staff("CL", Role::ChildWelfareClerk, duty(M, "係員", &[], &[])),
        staff("CC", Role::ChildWelfareClerk, duty(M, "課長", &[], &[])),
        staff("N1", Role::Nurse, duty(M, "係員", &["北1"], &["R5"])),
        staff("N2", Role::Nurse, duty(M, "係長", &[], &[])),
        staff("N3", Role::Nurse, duty(M, "課長", &[], &[])),
        staff("D1", Role::Doctor, duty(M, "係長", &[], &[])),
    ];
    let mut boxes = vec![&b];
    if postgres {
        people.push(staff("OC", Role::Caseworker, duty(OTHER, "係長", &[], &[])));
        boxes.push(&other);
    }
    let c = Served::start(postgres, &boxes, people).await;

    // The box forwards a case and two photos of it, and a case with none.
    let (w, h) = (640, 480);
    let jpeg1 = checkup_tests::photos::box_jpeg(w, h).expect("jpeg");
    let jpeg2 = checkup_tests::photos::box_jpeg(320, 240).expect("jpeg");
    let (case, notice) = b.notice("R5", "南野五子");
    let (bare, bare_notice) = b.notice("R6", "南野六子");
    let (p1, e1) = b.photo(
        case,
        "W1",
        DAY_MS + 60_000,
        &jpeg1,
        (w, h),
        Some("右上腕のあざ"),
    );
    let (p2, e2) = b.photo(case, "W1", DAY_MS + 120_000, &jpeg2, (320, 240), None);
    let (s, v) = c.send(&b, &[notice, bare_notice, e1, e2]).await;
    assert_eq!(s, 200, "{v}");

    let mut cookies = std::collections::HashMap::new();
    for id in [
        "C1", "AU", "W1", "W2", "WC", "CL", "CC", "N1", "N2", "N3", "D1",
    ] {
        cookies.insert(id, c.login(id).await);
    }
    if postgres {
        cookies.insert("OC", c.login("OC").await);
    }
    // The child-welfare 係長 assigns W1.
    let (s, v) = c
        .post(
            &cookies["WC"],
            &format!("/v1/notices/{case}/caseworkers"),
            "application/json",
            json!({"staff_id": "W1"}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    let list = format!("/v1/notices/{case}/photos");
    let one = |p: uuid::Uuid| format!("/v1/notices/{case}/photos/{p}");
    // What the trail must hold afterwards: (staff, action, subject).
    let mut expected: Vec<(String, String, String)> = Vec::new();

    // The assigned caseworker: the list with every detail, then the bytes as forwarded.
    let (s, v) = c.get(&cookies["W1"], &list).await;
    assert_eq!(s, 200, "{v}");
    expected.push((
        "W1".into(),
        "list_case_photos".into(),
        format!("{case}: 2 photos"),
    ));
    let listed = v["photos"].as_array().expect("photos");
    assert_eq!(listed.len(), 2, "{v}");
    assert_eq!(v["case_id"], case.to_string());
    assert_eq!(listed[0]["photo_id"], p1.to_string());
    assert_eq!(listed[0]["taken_by"], "W1");
    assert_eq!(listed[0]["node"], "edge-c1");
    assert_eq!(listed[0]["taken_ms"], json!(DAY_MS + 60_000));
    assert_eq!(listed[0]["width"], 640);
    assert_eq!(listed[0]["height"], 480);
    assert_eq!(listed[0]["bytes"], json!(jpeg1.len()), "{v}");
    assert_eq!(listed[0]["note"], "右上腕のあざ");
    assert_eq!(listed[0]["url"], one(p1));
    assert_eq!(listed[1]["photo_id"], p2.to_string());
    assert_eq!(listed[1]["bytes"], json!(jpeg2.len()), "{v}");
    assert_eq!(listed[1]["note"], Value::Null);
    for (p, jpeg) in [(p1, &jpeg1), (p2, &jpeg2)] {
        let (s, hd, body) = fetch(&c, &cookies["W1"], &one(p)).await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(&body, jpeg, "the bytes as forwarded");
        assert!(body.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
        assert_eq!(header(&hd, "content-type"), "image/jpeg");
        assert_eq!(header(&hd, "cache-control"), "no-store");
        assert_eq!(header(&hd, "x-content-type-options"), "nosniff");
        assert_eq!(
            header(&hd, "content-disposition"),
            format!("inline; filename=\"{p}.jpg\"")
        );
        expected.push(("W1".into(), "view_case_photo".into(), format!("{case}/{p}")));
    }

    // The child-welfare 係長 and above, assigned or not.
    for who in ["WC", "CC"] {
        let (s, v) = c.get(&cookies[who], &list).await;
        assert_eq!(
            (s, v["photos"].as_array().map(Vec::len)),
            (200, Some(2)),
            "{who}: {v}"
        );
        expected.push((
            who.into(),
            "list_case_photos".into(),
            format!("{case}: 2 photos"),
        ));
        let (s, _, body) = fetch(&c, &cookies[who], &one(p2)).await;
        assert_eq!((s, &body), (200, &jpeg2), "{who}");
        expected.push((who.into(), "view_case_photo".into(), format!("{case}/{p2}")));
    }
    // A case without photos: an empty list, still a view.
    let (s, v) = c
        .get(&cookies["WC"], &format!("/v1/notices/{bare}/photos"))
        .await;
    assert_eq!(
        (s, v["photos"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{v}"
    );
    expected.push((
        "WC".into(),
        "list_case_photos".into(),
        format!("{bare}: 0 photos"),
    ));

    // Child welfare below 係長, not on the case: `not_on_case`; everyone else `forbidden`.
    for (who, code) in [
        ("W2", "not_on_case"),
        ("CL", "not_on_case"),
        ("N1", "forbidden"),
        ("N2", "forbidden"),
        ("N3", "forbidden"),
        ("D1", "forbidden"),
        ("C1", "forbidden"),
        ("AU", "forbidden"),
    ] {
        let (s, v) = c.get(&cookies[who], &list).await;
        assert_eq!((s, v["error"].as_str()), (403, Some(code)), "{who}: {v}");
        let m = v["message"].as_str().unwrap_or("");
        assert!(
            m.contains("写真") && m.contains("photos"),
            "{who}: Japanese and English: {m}"
        );
        expected.push((
            who.into(),
            "refused_read".into(),
            format!("{case}/photos: {code}"),
        ));
        let (s, _, body) = fetch(&c, &cookies[who], &one(p1)).await;
        let v: Value = serde_json::from_slice(&body).expect("json error");
        assert_eq!((s, v["error"].as_str()), (403, Some(code)), "{who}: {v}");
        expected.push((
            who.into(),
            "refused_read".into(),
            format!("{case}/photos/{p1}: {code}"),
        ));
    }
    // W2 is assigned after all: now she sees them.
    let (s, _) = c
        .post(
            &cookies["WC"],
            &format!("/v1/notices/{case}/caseworkers"),
            "application/json",
            json!({"staff_id": "W2"}).to_string(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(c.get(&cookies["W2"], &list).await.0, 200);
    expected.push((
        "W2".into(),
        "list_case_photos".into(),
        format!("{case}: 2 photos"),
    ));

    // Not found: a case unknown, a photo unknown or not of this case, an id not a UUID.
    let unknown = uuid::Uuid::now_v7();
    let (s, v) = c
        .get(&cookies["W1"], &format!("/v1/notices/{unknown}/photos"))
        .await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    assert_eq!(c.get(&cookies["W1"], &one(unknown)).await.0, 404);
    assert_eq!(
        c.get(&cookies["WC"], &format!("/v1/notices/{bare}/photos/{p1}"))
            .await
            .0,
        404,
        "a photo is found only under its own case"
    );
    assert_eq!(
        c.get(
            &cookies["W1"],
            &format!("/v1/notices/{case}/photos/not-a-uuid")
        )
        .await
        .0,
        404
    );
    // Another municipality's child-welfare chief finds no such case.
    if postgres {
        let (s, v) = c.get(&cookies["OC"], &list).await;
        assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
        assert_eq!(c.get(&cookies["OC"], &one(p1)).await.0, 404);
    }

    // The trail: exactly one entry per view and per refusal, and it verifies.
    let db = checkup_central::db::open(&c.config).await.expect("db");
    let snapshot = db.audit_snapshot().await.expect("snapshot");
    let held: Vec<(String, String, String)> = snapshot
        .entries
        .iter()
        .filter(|e| {
            matches!(
                e.action.as_str(),
                "list_case_photos" | "view_case_photo" | "refused_read"
            )
        })
        .map(|e| (e.staff_id.clone(), e.action.clone(), e.subject.clone()))
        .collect();
    assert_eq!(held, expected);
    assert!(
        snapshot
            .entries
            .iter()
            .filter(|e| e.action == "view_case_photo")
            .all(|e| e.at_ms > 0 && e.access.resident_id.is_none()),
        "when, and no resident's access report names a child's case photos"
    );
    let mut keys: std::collections::HashMap<String, checkup_protocol::PublicKey> =
        std::collections::HashMap::from([(b.node.clone(), b.key.verifying_key())]);
    keys.insert(other.node.clone(), other.key.verifying_key());
    let verified = checkup_central::audit::verify(&snapshot, &keys).expect("the trail verifies");
    assert!(
        verified.entries as usize >= expected.len(),
        "{}",
        verified.entries
    );
    drop(db);
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_photos_under_centrals_rules_on_sqlite() {
    photos(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_photos_under_centrals_rules_on_postgresql() {
    photos(true).await;
}
