//! Access by role, rank and duty (issue 21), on SQLite and on PostgreSQL, through the real
//! HTTP API: a nurse reads her districts and caseload and others only with a purpose that
//! is flagged for her section chief; a caseworker crosses into health only for the children
//! and guardians of her own cases, with a purpose; 係長 and above cross with a purpose;
//! child cases stay in child welfare; every read is in the audit trail with its purpose, the
//! trail still verifies, and a resident's access report lists who read what, when and why.
//! High-risk flags go from a nurse to the caseworkers' live stream.

mod common;

use std::time::{Duration, Instant};

use checkup_protocol::Role;
use common::{Served, TestBox, duty, staff};
use futures_util::StreamExt;
use serde_json::{Value, json};

const M: &str = "012025";

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn rules(postgres: bool) {
    let b = TestBox::new("edge-a1", "hakodate-2026-11-25", M);
    let c = Served::start(
        postgres,
        &[&b],
        vec![
            staff("C1", Role::CentralAdmin, duty(M, "係員", &[], &[])),
            staff("AU", Role::Auditor, duty(M, "係員", &[], &[])),
            staff("N1", Role::Nurse, duty(M, "係員", &["北1"], &["R3"])),
            staff("N2", Role::Nurse, duty(M, "係長", &[], &[])),
            staff("W1", Role::Caseworker, duty(M, "係員", &[], &[])),
            staff("W2", Role::Caseworker, duty(M, "主任", &[], &[])),
            staff("WC", Role::Caseworker, duty(M, "係長", &[], &[])),
            staff("CL", Role::ChildWelfareClerk, duty(M, "係員", &[], &[])),
        ],
    )
    .await;
    let login = |id: &'static str| c.login(id);
    let (c1, au, n1, n2) = (
        login("C1").await,
        login("AU").await,
        login("N1").await,
        login("N2").await,
    );
    let (w1, w2, wc, cl) = (
        login("W1").await,
        login("W2").await,
        login("WC").await,
        login("CL").await,
    );
    c.register(
        &c1,
        &[
            ("R1", "北野一子", "北1"),
            ("R2", "南野二子", "南2"),
            ("R3", "南野三子", "南2"),
            ("R5", "南野五子", "南2"),
            ("R6", "南野六郎", "南2"),
        ],
    )
    .await;
    let mut events = Vec::new();
    for (r, h) in [
        ("R1", 151.0),
        ("R2", 152.0),
        ("R3", 153.0),
        ("R5", 125.0),
        ("R6", 170.0),
    ] {
        events.extend(b.checkup(r, h));
    }
    let (case, notice) = b.notice("R5", "南野五子");
    events.push(notice);
    let (s, v) = c.send(&b, &events).await;
    assert_eq!(s, 200, "{v}");
    let record = |who: String, r: &'static str, purpose: Option<&'static str>| {
        let path = match purpose {
            Some(p) => format!("/v1/residents/{r}/record?purpose={}", enc(p)),
            None => format!("/v1/residents/{r}/record"),
        };
        let c = &c;
        async move { c.get(&who, &path).await }
    };

    // District and caseload: in duty.
    let (s, v) = record(n1.clone(), "R1", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["checkups"][0]["items"][0]["value"], "151", "{v}");
    assert_eq!(record(n1.clone(), "R3", None).await.0, 200);
    // Outside: a purpose, then allowed and flagged.
    let (s, v) = record(n1.clone(), "R2", None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (403, Some("purpose_required")),
        "{v}"
    );
    let (s, v) = record(n1.clone(), "R2", Some("   ")).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (403, Some("purpose_required")),
        "{v}"
    );
    assert_eq!(
        record(n1.clone(), "R2", Some("転入前の健診結果の確認"))
            .await
            .0,
        200
    );
    // The health 係長 reads anyone, unflagged.
    assert_eq!(record(n2.clone(), "R2", None).await.0, 200);
    // The section chief sees the flagged read; the nurse does not review.
    let (s, v) = c.get(&n2, "/v1/access/flagged").await;
    assert_eq!(s, 200, "{v}");
    let flagged = v["entries"].as_array().expect("entries");
    assert_eq!(flagged.len(), 1, "{v}");
    assert_eq!(flagged[0]["staff_id"], "N1");
    assert_eq!(flagged[0]["staff_name"], "N1 さん");
    assert_eq!(flagged[0]["resident_id"], "R2");
    assert_eq!(flagged[0]["purpose"], "転入前の健診結果の確認");
    assert_eq!(c.get(&n1, "/v1/access/flagged").await.0, 403);
    assert_eq!(c.get(&w2, "/v1/access/flagged").await.0, 403);
    // The child-welfare chief's review holds no health reads.
    let (s, v) = c.get(&wc, "/v1/access/flagged").await;
    assert_eq!(
        (s, v["entries"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{v}"
    );

    // A caseworker: nothing before the case is hers.
    let (s, v) = record(w1.clone(), "R5", Some("乳幼児健診の受診状況")).await;
    assert_eq!((s, v["error"].as_str()), (403, Some("forbidden")), "{v}");
    // Only a child-welfare 係長 assigns, and only caseworkers of the municipality.
    let assign = |who: String, staff_id: &'static str| {
        let c = &c;
        async move {
            c.post(
                &who,
                &format!("/v1/notices/{case}/caseworkers"),
                "application/json",
                json!({ "staff_id": staff_id }).to_string(),
            )
            .await
        }
    };
    assert_eq!(assign(w1.clone(), "W1").await.0, 403);
    assert_eq!(assign(n2.clone(), "W1").await.0, 403);
    let (s, v) = assign(wc.clone(), "N1").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("not_a_caseworker")),
        "{v}"
    );
    let (s, v) = assign(wc.clone(), "W1").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["caseworkers"], json!(["W1"]));
    // The guardian is named on the case (by her own caseworker).
    let member = |who: String, r: &'static str, rel: &'static str| {
        let c = &c;
        async move {
            c.post(
                &who,
                &format!("/v1/notices/{case}/members"),
                "application/json",
                json!({ "resident_id": r, "relation": rel }).to_string(),
            )
            .await
        }
    };
    assert_eq!(
        member(w2.clone(), "R6", "guardian").await.0,
        403,
        "not W2's case"
    );
    assert_eq!(member(w1.clone(), "R6", "uncle").await.0, 400);
    assert_eq!(member(w1.clone(), "R404", "guardian").await.0, 400);
    let (s, v) = member(w1.clone(), "R6", "guardian").await;
    assert_eq!(s, 200, "{v}");
    // Her case's child and guardian, with a purpose; nobody else, not even with one.
    let (s, v) = record(w1.clone(), "R5", None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (403, Some("purpose_required")),
        "{v}"
    );
    let (s, v) = record(w1.clone(), "R5", Some("乳幼児健診の受診状況")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["checkups"][0]["items"][0]["value"], "125", "{v}");
    assert_eq!(
        record(w1.clone(), "R6", Some("保護者の健康状態")).await.0,
        200
    );
    assert_eq!(record(w1.clone(), "R2", Some("念のため")).await.0, 403);
    assert_eq!(record(w2.clone(), "R5", Some("念のため")).await.0, 403);
    // The child-welfare 係長 crosses with a purpose.
    assert_eq!(record(wc.clone(), "R2", None).await.0, 403);
    assert_eq!(
        record(wc.clone(), "R2", Some("要保護児童対策地域協議会"))
            .await
            .0,
        200
    );
    // The auditor reads the trail, not records; the clerk no health records.
    assert_eq!(record(au.clone(), "R2", Some("x")).await.0, 403);
    assert_eq!(record(cl.clone(), "R5", Some("x")).await.0, 403);

    // Child cases: child welfare's; a health 係長 with a purpose; no one else.
    let case_path = format!("/v1/notices/{case}");
    assert_eq!(c.get(&w2, &case_path).await.0, 200);
    assert_eq!(c.get(&cl, &case_path).await.0, 200);
    assert_eq!(c.get(&n1, &format!("{case_path}?purpose=x")).await.0, 403);
    assert_eq!(c.get(&c1, &case_path).await.0, 403);
    let (s, v) = c.get(&n2, &case_path).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (403, Some("purpose_required")),
        "{v}"
    );
    assert_eq!(
        c.get(
            &n2,
            &format!("{case_path}?purpose={}", enc("ケース会議の準備"))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        c.get(&n2, "/v1/notices").await.0,
        403,
        "the queue stays in child welfare"
    );

    // High-risk flags: W1 listens; N1 flags R1 (her district); W1 sees it live.
    let stream = c
        .http
        .get(format!("{}/v1/flags/stream", c.url))
        .header("cookie", &w1)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    let raised_at = Instant::now();
    let (s, v) = c
        .post(
            &n1,
            "/v1/residents/R1/flags",
            "application/json",
            json!({"kind": "specified_pregnancy", "note": "妊娠届出時、支援者がいないと話す"})
                .to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let flag_id = v["flag_id"].as_str().expect("id").to_owned();
    let mut seen = String::new();
    let arrived = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            if seen.contains(&flag_id) {
                return Instant::now();
            }
        }
        panic!("stream ended: {seen}");
    })
    .await
    .expect("the flag reaches the caseworker's stream");
    println!(
        "flag to caseworker stream: {} ms ({})",
        arrived.duration_since(raised_at).as_millis(),
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    assert!(seen.contains("event: flag"), "{seen}");
    assert!(seen.contains("妊娠届出時"), "{seen}");
    // Outside her duty N1 states why; bad flags are refused; others may not flag or list.
    let flag = |who: String, r: &'static str, body: Value| {
        let c = &c;
        async move {
            c.post(
                &who,
                &format!("/v1/residents/{r}/flags"),
                "application/json",
                body.to_string(),
            )
            .await
        }
    };
    let (s, v) = flag(
        n1.clone(),
        "R2",
        json!({"kind": "missed_checkups", "note": "1歳6か月児健診未受診"}),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (403, Some("purpose_required")),
        "{v}"
    );
    let (s, v) = flag(n1.clone(), "R2", json!({"kind": "missed_checkups", "note": "1歳6か月児健診未受診", "purpose": "未受診者の家庭訪問"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        flag(n1.clone(), "R1", json!({"kind": "gossip", "note": "x"}))
            .await
            .0,
        400
    );
    assert_eq!(
        flag(n1.clone(), "R1", json!({"kind": "other", "note": "  "}))
            .await
            .0,
        400
    );
    assert_eq!(
        flag(n1.clone(), "R404", json!({"kind": "other", "note": "x"}))
            .await
            .0,
        400
    );
    assert_eq!(
        flag(w1.clone(), "R1", json!({"kind": "other", "note": "x"}))
            .await
            .0,
        403
    );
    assert_eq!(
        flag(c1.clone(), "R1", json!({"kind": "other", "note": "x"}))
            .await
            .0,
        403
    );
    let (s, v) = c.get(&w2, "/v1/flags").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["flags"].as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(c.get(&n1, "/v1/flags").await.0, 403);
    assert_eq!(c.get(&n2, "/v1/flags").await.0, 200);
    assert_eq!(c.get(&c1, "/v1/flags").await.0, 403);

    // The access report for R2 (開示請求): who, when, why — in order.
    assert_eq!(c.get(&n1, "/v1/residents/R2/access-report").await.0, 403);
    let (s, v) = c.get(&au, "/v1/residents/R2/access-report").await;
    assert_eq!(s, 200, "{v}");
    let lines: Vec<(String, String, Option<String>, Option<String>)> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["staff_id"].as_str().unwrap_or("").to_owned(),
                e["action"].as_str().unwrap_or("").to_owned(),
                e["purpose"].as_str().map(str::to_owned),
                e["flagged_for"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let s = |x: &str| Some(x.to_owned());
    assert_eq!(
        lines,
        vec![
            (
                "N1".into(),
                "view_record".into(),
                s("転入前の健診結果の確認"),
                s("health")
            ),
            ("N2".into(), "view_record".into(), None, None),
            (
                "WC".into(),
                "view_record".into(),
                s("要保護児童対策地域協議会"),
                None
            ),
            (
                "N1".into(),
                "raise_flag".into(),
                s("未受診者の家庭訪問"),
                s("health")
            ),
        ],
        "{v}"
    );
    assert!(v["entries"][0]["at_ms"].as_i64().is_some_and(|t| t > 0));
    // Refused reads are not reads: none of W1's, W2's or the auditor's refusals are there.
    let (_, v) = c.get(&c1, "/v1/residents/R5/access-report").await;
    let r5: Vec<&str> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["staff_id"].as_str())
        .collect();
    assert_eq!(r5, vec!["W1"], "{v}");

    // And the trail with these entries still verifies.
    let db = checkup_central::db::open(&c.config).await.expect("db");
    let snapshot = db.audit_snapshot().await.expect("snapshot");
    let keys: std::collections::HashMap<String, checkup_protocol::PublicKey> =
        std::collections::HashMap::from([(b.node.clone(), b.key.verifying_key())]);
    let verified = checkup_central::audit::verify(&snapshot, &keys).expect("the trail verifies");
    assert!(verified.entries > 20, "{}", verified.entries);
    drop(db);
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_by_rank_and_duty_on_sqlite() {
    rules(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_by_rank_and_duty_on_postgresql() {
    rules(true).await;
}
