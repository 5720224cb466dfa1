//! What an attacker tried against access by rank and duty, kept as regression tests: a
//! purpose of invisible characters only; refused reads (in the trail for the auditor, not in
//! the resident's access report); the live flag stream after sign-out and idle time, and a
//! flag stored after a later one; a caseworker opening records by naming people on her own
//! case; and, on PostgreSQL with two municipalities, the other municipality's case and
//! resident ids on every route.

mod common;

use std::time::{Duration, Instant};

use checkup_protocol::Role;
use common::{Served, TestBox, duty, staff};
use futures_util::StreamExt;
use serde_json::{Value, json};

const M: &str = "012025";

fn enc(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Read a server-sent event stream until `until` is in it or it ends; what was read and
/// whether it ended.
async fn read_stream(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    until: &str,
    within: Duration,
) -> (String, bool) {
    let mut seen = String::new();
    let r = tokio::time::timeout(within, async {
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else { return true };
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(until) {
                return false;
            }
        }
        true
    })
    .await;
    (seen, r.unwrap_or(false))
}

async fn stream(
    c: &Served,
    cookie: &str,
) -> impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + use<> {
    let r = c
        .http
        .get(format!("{}/v1/flags/stream", c.url))
        .header("cookie", cookie)
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status(), 200);
    r.bytes_stream()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invisible_purpose_is_no_purpose_and_refusals_stay_out_of_the_report() {
    let b = TestBox::new("edge-a1", "hakodate-2026-11-25", M);
    let c = Served::start(
        false,
        &[&b],
        vec![
            staff("C1", Role::CentralAdmin, duty(M, "係員", &[], &[])),
            staff("AU", Role::Auditor, duty(M, "係員", &[], &[])),
            staff("N1", Role::Nurse, duty(M, "係員", &["北1"], &[])),
        ],
    )
    .await;
    let (c1, au, n1) = (
        c.login("C1").await,
        c.login("AU").await,
        c.login("N1").await,
    );
    c.register(&c1, &[("R2", "南野二子", "南2")]).await;
    assert_eq!(c.send(&b, &b.checkup("R2", 152.0)).await.0, 200);
    for nothing in [
        "\u{200b}",
        "\u{202e}",
        "\u{2060}\u{feff}",
        "\u{3000}\u{200b}",
        "…",
    ] {
        let (s, v) = c
            .get(
                &n1,
                &format!("/v1/residents/R2/record?purpose={}", enc(nothing)),
            )
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (403, Some("purpose_required")),
            "{nothing:?}: {v}"
        );
    }
    let (s, v) = c
        .post(
            &n1,
            "/v1/residents/R2/flags",
            "application/json",
            json!({"kind": "other", "note": "気がかり", "purpose": "\u{200b}"}).to_string(),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (403, Some("purpose_required")),
        "{v}"
    );
    let (s, v) = c.get(&n1, "/v1/residents/R2/record?purpose=家庭訪問").await;
    assert_eq!(s, 200, "{v}");
    // The refusals are in the trail, for the auditor…
    let db = checkup_central::db::open(&c.config).await.expect("db");
    let refused: Vec<String> = db
        .audit_snapshot()
        .await
        .expect("snapshot")
        .entries
        .into_iter()
        .filter(|e| e.action == "refused_read" && e.staff_id == "N1")
        .map(|e| e.subject)
        .collect();
    assert_eq!(refused.len(), 6, "{refused:?}");
    assert!(
        refused.iter().all(|s| s == "R2: purpose_required"),
        "{refused:?}"
    );
    drop(db);
    // …not in the resident's report: only what showed her data.
    let (s, v) = c.get(&au, "/v1/residents/R2/access-report").await;
    assert_eq!(s, 200, "{v}");
    let entries = v["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{v}");
    assert_eq!(entries[0]["purpose"], "家庭訪問");
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flag_stream_ends_with_sign_out_and_with_idle_time() {
    let b = TestBox::new("edge-a1", "hakodate-2026-11-25", M);
    let c = Served::start_with(
        false,
        &[&b],
        vec![staff("W1", Role::Caseworker, duty(M, "係員", &[], &[]))],
        |config| config.idle_timeout_secs = 2,
    )
    .await;
    // Sign-out: the open stream says so and ends at once.
    let w1 = c.login("W1").await;
    let mut body = stream(&c, &w1).await;
    let r = c
        .http
        .post(format!("{}/v1/logout", c.url))
        .header("cookie", &w1)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);
    let (seen, _) = read_stream(&mut body, "event: signed_out", Duration::from_secs(3)).await;
    assert!(seen.contains("event: signed_out"), "{seen:?}");
    let (_, ended) = read_stream(&mut body, "never", Duration::from_secs(3)).await;
    assert!(ended, "the stream goes on after sign-out");
    assert_eq!(c.get(&w1, "/v1/flags").await.0, 401);
    // Idle time: an open stream is no activity; it ends when the session does.
    let w1 = c.login("W1").await;
    let mut body = stream(&c, &w1).await;
    let opened = Instant::now();
    let (seen, _) = read_stream(&mut body, "event: signed_out", Duration::from_secs(6)).await;
    assert!(seen.contains("event: signed_out"), "{seen:?}");
    assert!(
        opened.elapsed() >= Duration::from_secs(2),
        "{:?}",
        opened.elapsed()
    );
    assert_eq!(c.get(&w1, "/v1/flags").await.0, 401);
    c.finish().await;
}

async fn late_flag(postgres: bool) {
    let b = TestBox::new("edge-a1", "hakodate-2026-11-25", M);
    let c = Served::start(
        postgres,
        &[&b],
        vec![
            staff("C1", Role::CentralAdmin, duty(M, "係員", &[], &[])),
            staff("N1", Role::Nurse, duty(M, "係員", &["北1"], &[])),
            staff("W1", Role::Caseworker, duty(M, "係員", &[], &[])),
        ],
    )
    .await;
    let (c1, n1, w1) = (
        c.login("C1").await,
        c.login("N1").await,
        c.login("W1").await,
    );
    c.register(&c1, &[("R1", "北野一子", "北1"), ("R2", "北野二子", "北1")])
        .await;
    let mut body = stream(&c, &w1).await;
    let (s, v) = c
        .post(
            &n1,
            "/v1/residents/R1/flags",
            "application/json",
            json!({"kind": "specified_pregnancy", "note": "支援者なし"}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let first = v["flag_id"].as_str().expect("id").to_owned();
    let (seen, _) = read_stream(&mut body, &first, Duration::from_secs(5)).await;
    assert!(seen.contains(&first), "{seen}");
    // Another process stamped a flag a moment earlier and stored it only now.
    let db = checkup_central::db::open(&c.config).await.expect("db");
    db.prepare_municipalities(&[M.into()], Some(M))
        .await
        .expect("prepare");
    let late = checkup_central::db::RiskFlag {
        flag_id: uuid::Uuid::now_v7().to_string(),
        resident_id: "R2".into(),
        kind: "missed_checkups".into(),
        note: "遅れて保存されたフラグ".into(),
        raised_by: "N1".into(),
        raised_ms: v["raised_ms"].as_i64().expect("ms") - 2000,
    };
    db.scoped(M)
        .expect("scoped")
        .raise_flag(late.clone())
        .await
        .expect("stored");
    let (seen, _) = read_stream(&mut body, &late.flag_id, Duration::from_secs(5)).await;
    assert!(
        seen.contains(&late.flag_id),
        "the late flag never came: {seen}"
    );
    assert!(!seen.contains(&first), "a flag sent twice: {seen}");
    drop(db);
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_stored_after_a_later_one_still_reaches_the_stream_on_sqlite() {
    late_flag(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_stored_after_a_later_one_still_reaches_the_stream_on_postgresql() {
    late_flag(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caseworker_naming_someone_on_her_case_is_flagged_for_her_chief() {
    let b = TestBox::new("edge-a1", "hakodate-2026-11-25", M);
    let c = Served::start(
        false,
        &[&b],
        vec![
            staff("C1", Role::CentralAdmin, duty(M, "係員", &[], &[])),
            staff("W1", Role::Caseworker, duty(M, "係員", &[], &[])),
            staff("WC", Role::Caseworker, duty(M, "係長", &[], &[])),
        ],
    )
    .await;
    let (c1, w1, wc) = (
        c.login("C1").await,
        c.login("W1").await,
        c.login("WC").await,
    );
    c.register(
        &c1,
        &[
            ("R5", "南野五子", "南2"),
            ("R6", "南野六郎", "南2"),
            ("R7", "無関係七子", "東"),
        ],
    )
    .await;
    let (case, notice) = b.notice("R5", "南野五子");
    assert_eq!(c.send(&b, &[notice]).await.0, 200);
    let post = |who: &str, path: String, body: Value| {
        let (c, who) = (&c, who.to_owned());
        async move {
            c.post(&who, &path, "application/json", body.to_string())
                .await
        }
    };
    // She cannot assign herself, nor name people on a case not hers.
    let (s, _) = post(
        &w1,
        format!("/v1/notices/{case}/caseworkers"),
        json!({"staff_id": "W1"}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = post(
        &w1,
        format!("/v1/notices/{case}/members"),
        json!({"resident_id": "R7", "relation": "guardian"}),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(
        c.get(&w1, "/v1/residents/R7/record?purpose=確認").await.0,
        403
    );
    // Assigned, she names someone: the record opens to her, and her chief sees who she named.
    let (s, v) = post(
        &wc,
        format!("/v1/notices/{case}/caseworkers"),
        json!({"staff_id": "W1"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = post(
        &wc,
        format!("/v1/notices/{case}/members"),
        json!({"resident_id": "R6", "relation": "guardian"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = post(
        &w1,
        format!("/v1/notices/{case}/members"),
        json!({"resident_id": "R7", "relation": "guardian"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        c.get(&w1, "/v1/residents/R7/record?purpose=確認").await.0,
        200
    );
    let (s, v) = c.get(&wc, "/v1/access/flagged").await;
    assert_eq!(s, 200, "{v}");
    let named: Vec<(&str, &str, &str)> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["staff_id"].as_str().unwrap_or(""),
                e["action"].as_str().unwrap_or(""),
                e["resident_id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(named, vec![("W1", "case_member", "R7")], "{v}");
    c.finish().await;
}

/// 函館市 and 小樽市.
const A: &str = "012025";
const B: &str = "012033";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_municipality_ids_get_nowhere_on_any_route() {
    let ba = TestBox::new("edge-hakodate-1", "hakodate-2026-11-25", A);
    let bb = TestBox::new("edge-otaru-1", "otaru-2026-11-25", B);
    let c = Served::start(
        true,
        &[&ba, &bb],
        vec![
            staff("CA", Role::CentralAdmin, duty(A, "係員", &[], &[])),
            staff("CB", Role::CentralAdmin, duty(B, "係員", &[], &[])),
            staff("AA", Role::Auditor, duty(A, "係員", &[], &[])),
            staff("NA", Role::Nurse, duty(A, "係員", &["東"], &[])),
            staff("HA", Role::Nurse, duty(A, "係長", &[], &[])),
            staff("NB", Role::Nurse, duty(B, "係員", &["中央"], &[])),
            staff("WA", Role::Caseworker, duty(A, "係員", &[], &[])),
            staff("KA", Role::Caseworker, duty(A, "係長", &[], &[])),
            staff("WB", Role::Caseworker, duty(B, "係員", &[], &[])),
            staff("KB", Role::Caseworker, duty(B, "係長", &[], &[])),
        ],
    )
    .await;
    let login = |id: &'static str| c.login(id);
    let (ca, cb, aa, na, ha) = (
        login("CA").await,
        login("CB").await,
        login("AA").await,
        login("NA").await,
        login("HA").await,
    );
    let (nb, wa, ka, kb) = (
        login("NB").await,
        login("WA").await,
        login("KA").await,
        login("KB").await,
    );
    c.register(&ca, &[("R1", "函館花子", "東")]).await;
    c.register(
        &cb,
        &[("R1", "小樽海子", "中央"), ("R9", "小樽九郎", "中央")],
    )
    .await;
    let mut events = bb.checkup("R9", 170.0);
    let (b_case, notice) = bb.notice("R9", "小樽九郎");
    events.push(notice);
    assert_eq!(c.send(&bb, &events).await.0, 200);
    let (a_case, notice) = ba.notice("R1", "函館花子");
    assert_eq!(c.send(&ba, &[notice]).await.0, 200);
    let (s, _) = c
        .post(
            &kb,
            &format!("/v1/notices/{b_case}/caseworkers"),
            "application/json",
            json!({"staff_id": "WB"}).to_string(),
        )
        .await;
    assert_eq!(s, 200);
    // B's reads and flags, to look for from A.
    assert_eq!(c.get(&nb, "/v1/residents/R1/record").await.0, 200);
    assert_eq!(
        c.get(
            &nb,
            &format!("/v1/residents/R9/record?purpose={}", enc("小樽の理由"))
        )
        .await
        .0,
        200
    );
    let (s, v) = c
        .post(
            &nb,
            "/v1/residents/R9/flags",
            "application/json",
            json!({"kind": "other", "note": "小樽の所見"}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let mut a_stream = stream(&c, &wa).await;

    let post = |who: &str, path: String, body: Value| {
        let (c, who) = (&c, who.to_owned());
        async move {
            c.post(&who, &path, "application/json", body.to_string())
                .await
        }
    };
    // B's case from A: not found on every case route, however A's staff try.
    assert_eq!(c.get(&wa, &format!("/v1/notices/{b_case}")).await.0, 404);
    assert_eq!(
        c.get(
            &ha,
            &format!("/v1/notices/{b_case}?purpose={}", enc("会議"))
        )
        .await
        .0,
        404
    );
    let (s, v) = post(
        &ka,
        format!("/v1/notices/{b_case}/caseworkers"),
        json!({"staff_id": "WA"}),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    let (s, v) = post(
        &ka,
        format!("/v1/notices/{b_case}/members"),
        json!({"resident_id": "R1", "relation": "guardian"}),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    // B's caseworker on A's case, B's resident on A's case: refused.
    let (s, v) = post(
        &ka,
        format!("/v1/notices/{a_case}/caseworkers"),
        json!({"staff_id": "WB"}),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("not_a_caseworker")),
        "{v}"
    );
    let (s, v) = post(
        &ka,
        format!("/v1/notices/{a_case}/members"),
        json!({"resident_id": "R9", "relation": "guardian"}),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unknown_resident")),
        "{v}"
    );
    // B's resident from A: no record, no flag, nothing in A's reports.
    let (s, v) = c.get(&ha, "/v1/residents/R9/record").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["resident"].is_null(),
            v["checkups"].as_array().map(Vec::len)
        ),
        (true, Some(0)),
        "{v}"
    );
    let (s, v) = c
        .get(
            &na,
            &format!("/v1/residents/R9/record?purpose={}", enc("試し")),
        )
        .await;
    assert_eq!(
        (s, v["checkups"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{v}"
    );
    let (s, v) = post(
        &na,
        "/v1/residents/R9/flags".into(),
        json!({"kind": "other", "note": "x", "purpose": "試し"}),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unknown_resident")),
        "{v}"
    );
    let (_, v) = c.get(&aa, "/v1/residents/R9/access-report").await;
    let who: Vec<&str> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["staff_id"].as_str())
        .collect();
    assert_eq!(who, vec!["HA", "NA"], "only A's own reads: {v}");
    let (_, v) = c.get(&aa, "/v1/residents/R1/access-report").await;
    assert!(
        !v.to_string().contains("NB"),
        "B's read of its own R1 in A's report: {v}"
    );
    let (_, v) = c.get(&ha, "/v1/access/flagged").await;
    assert!(
        !v.to_string().contains("小樽の理由"),
        "B's flagged read in A's review: {v}"
    );
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(1), "{v}");
    let (_, v) = c.get(&wa, "/v1/flags").await;
    assert_eq!(v["flags"].as_array().map(Vec::len), Some(0), "{v}");
    let (seen, _) = read_stream(&mut a_stream, "小樽", Duration::from_secs(2)).await;
    assert!(!seen.contains("小樽") && !seen.contains("R9"), "{seen}");
    c.finish().await;
}
