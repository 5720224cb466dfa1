//! Central's 特定健診 web API over HTTP, on SQLite, with data in through the real ingest: a
//! demo box forwards a checkup day ([`checkup_tests::tokutei_day`]) to a demo central. That
//! central has no `[tokutei]`: the check and the download answer a clear 503. Central is
//! then reopened on the same database with `[tokutei]` pointing at MHLW's files in
//! `../shared/standards/tokutei-v4`: the period's insurers are listed with their counts; the
//! 国保's check names the resident who left before 問診 and each missing item, and its
//! download is refused (422) with the same failures; the 協会けんぽ's check passes and its
//! download is a zip named by the standard whose every DATA file (and index) `xmllint
//! --schema` accepts. Staff who are not central admin are refused (403), nobody signed out
//! gets in (401), bad input is a 400 and a period without checkups a 404; each check and
//! download is in the audit trail, and no archive is left on the server.

use std::path::Path;

use checkup_central::config::{Config, StaffConfig, TokuteiConfig};
use checkup_central::db::Store;
use checkup_central::server::Central;
use checkup_protocol::Role;
use checkup_tests::tokutei_day::{self, Client, KOKUHO, KYOKAI, LEFT, standards, unzip, xmllint};
use serde_json::{Value, json};

fn staff(id: &str, role: Role, pin: &str) -> StaffConfig {
    StaffConfig {
        id: id.into(),
        name: format!("職員 {id}"),
        role,
        pin_hash: checkup_provisioning::pin::hash(pin).expect("hash"),
        duty: Default::default(),
    }
}

/// Every `.zip` under `dir`.
fn zips_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(zips_under(&p));
        } else if p.extension().is_some_and(|x| x == "zip") {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokutei_check_and_download_over_http() {
    let pair = checkup_tests::central::demo_pair();
    let (dir, central_data, mut central, mut edge) =
        (&pair.dir, &pair.central_data, pair.central, pair.edge);
    let bx = edge.url.trim_end_matches('/').to_owned();
    let cx = central.url.trim_end_matches('/').to_owned();
    let tokutei_day::Day { day, .. } = tokutei_day::day(&bx, &cx).await;
    let kyokai = json!({"insurer": KYOKAI, "from": day, "to": day});
    let kokuho = json!({"insurer": KOKUHO, "from": day, "to": day});
    let query = |b: &Value| {
        format!(
            "insurer={}&from={}&to={}",
            b["insurer"].as_str().expect("insurer"),
            day,
            day
        )
    };

    // The demo central has no [tokutei]: a clear error, not a panic.
    let admin = Client::login(&cx, "/v1/login", json!({"staff_id": "C001", "pin": "1234"})).await;
    let (st, v) = admin.post("/v1/tokutei/check", &kyokai).await;
    assert_eq!(st, 503, "{v}");
    assert_eq!(v["error"], "tokutei_not_configured", "{v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("[tokutei]")),
        "{v}"
    );
    let (st, v) = admin
        .get(&format!("/v1/tokutei/archive?{}", query(&kyokai)))
        .await;
    assert_eq!(st, 503, "{v}");
    assert_eq!(v["error"], "tokutei_not_configured", "{v}");
    assert!(edge.terminate().expect("box").success());
    assert!(central.terminate().expect("central").success());

    // The same database, reopened with [tokutei].
    let xsd = standards().join("XSD");
    let config = Config {
        data_dir: central_data.into(),
        staff: vec![
            staff("C001", Role::CentralAdmin, "1234"),
            staff("K001", Role::Caseworker, "2468"),
        ],
        tokutei: Some(TokuteiConfig {
            institution_number: Some("1312345678".into()),
            institution_name: Some("みどり市保健センター".into()),
            xsd_dir: Some(xsd.clone()),
            item_table: Some(standards().join("items-hc24.csv")),
            doctors: [("D001".to_owned(), "医師 誠".to_owned())].into(),
            ..TokuteiConfig::default()
        }),
        ..Config::default()
    };
    let opened = Central::open(&config).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let cx = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(opened.serve(listener, async move {
        let _ = rx.await;
    }));

    // Signed out, and signed in without the role: refused on every route.
    let nobody = Client {
        http: reqwest::Client::new(),
        base: cx.clone(),
        cookie: String::new(),
    };
    let caseworker =
        Client::login(&cx, "/v1/login", json!({"staff_id": "K001", "pin": "2468"})).await;
    for (who, want) in [(&nobody, 401), (&caseworker, 403)] {
        let (st, v) = who
            .get(&format!("/v1/tokutei/insurers?from={day}&to={day}"))
            .await;
        assert_eq!(st, want, "{v}");
        let (st, v) = who.post("/v1/tokutei/check", &kyokai).await;
        assert_eq!(st, want, "{v}");
        let (st, v) = who
            .get(&format!("/v1/tokutei/archive?{}", query(&kyokai)))
            .await;
        assert_eq!(st, want, "{v}");
    }

    let admin = Client::login(&cx, "/v1/login", json!({"staff_id": "C001", "pin": "1234"})).await;
    // The period's insurers, with how many checkups each: the four of the day.
    let (st, v) = admin
        .get(&format!("/v1/tokutei/insurers?from={day}&to={day}"))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["insurers"],
        json!([
            {"insurer_number": KYOKAI, "checkups": 2},
            {"insurer_number": KOKUHO, "checkups": 2},
        ]),
        "{v}"
    );
    let (st, v) = admin
        .get("/v1/tokutei/insurers?from=2000-01-01&to=2000-12-31")
        .await;
    assert_eq!((st, v["insurers"].clone()), (200, json!([])), "{v}");

    // The 国保: the resident who left before 問診 lacks the required answers.
    let (st, checked) = admin.post("/v1/tokutei/check", &kokuho).await;
    assert_eq!(st, 200, "{checked}");
    assert_eq!(checked["ok"], false, "{checked}");
    assert_eq!(checked["examinees"], 2, "{checked}");
    let failures = checked["failures"].as_array().expect("failures").clone();
    for item in [
        "9N701000000000011",
        "9N706000000000011",
        "9N711000000000011",
        "9N736000000000011",
    ] {
        let f = failures
            .iter()
            .find(|f| f["resident_id"] == LEFT && f["item_code"] == item)
            .unwrap_or_else(|| panic!("{item} of {LEFT} not listed: {checked}"));
        assert_eq!(f["resident_name"], "田中　満", "{f}");
        assert!(
            f["item_name_ja"].as_str().is_some_and(|n| !n.is_empty())
                && f["message_ja"].as_str().is_some_and(|m| !m.is_empty()),
            "{f}"
        );
    }
    assert!(
        failures.iter().all(|f| f["resident_id"] == LEFT),
        "only the resident who left: {checked}"
    );
    let (st, refused) = admin
        .get(&format!("/v1/tokutei/archive?{}", query(&kokuho)))
        .await;
    assert_eq!(st, 422, "{refused}");
    assert_eq!(refused["error"], "records_failed", "{refused}");
    assert_eq!(refused["failures"], checked["failures"], "{refused}");

    // The 協会けんぽ: passes, and downloads.
    let (st, v) = admin.post("/v1/tokutei/check", &kyokai).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (
            v["ok"].clone(),
            v["examinees"].clone(),
            v["failures"].clone()
        ),
        (json!(true), json!(2), json!([])),
        "{v}"
    );
    let r = admin
        .http
        .get(format!("{cx}/v1/tokutei/archive?{}", query(&kyokai)))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .expect("download");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/zip")
    );
    let disposition = r
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .expect("content-disposition")
        .to_owned();
    let name = disposition
        .strip_prefix("attachment; filename=\"")
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{disposition}"))
        .to_owned();
    assert!(
        name.starts_with(&format!("1312345678_{KYOKAI}_")) && name.ends_with("_1.zip"),
        "{name}"
    );
    let bytes = r.bytes().await.expect("body");
    let zip = dir.path().join(&name);
    std::fs::write(&zip, &bytes).expect("write");
    let files = unzip(&zip, &dir.path().join("unpacked"));
    let data: Vec<_> = files
        .iter()
        .filter(|f| f.parent().and_then(|p| p.file_name()) == Some("DATA".as_ref()))
        .collect();
    assert_eq!(data.len(), 2, "two 協会けんぽ examinees: {files:?}");
    for f in &data {
        xmllint(&xsd.join("hc08_V08.xsd"), f);
    }
    let index: Vec<_> = files
        .iter()
        .filter(|f| f.file_name() == Some("ix08_V08.xml".as_ref()))
        .collect();
    assert_eq!(index.len(), 1, "{files:?}");
    xmllint(&xsd.join("ix08_V08.xsd"), index[0]);
    assert!(
        zips_under(Path::new(central_data)).is_empty(),
        "an archive was left on the server"
    );

    // Bad input and an empty period.
    for (body, code) in [
        (
            json!({"insurer": "12ab", "from": day, "to": day}),
            "bad_insurer",
        ),
        (
            json!({"insurer": KYOKAI, "from": day, "to": "2000-01-01"}),
            "bad_range",
        ),
        (
            json!({"insurer": KYOKAI, "from": "yesterday", "to": day}),
            "bad_range",
        ),
        (json!({"insurer": KYOKAI}), "malformed_request"),
    ] {
        let (st, v) = admin.post("/v1/tokutei/check", &body).await;
        assert_eq!((st, v["error"].as_str()), (400, Some(code)), "{body}: {v}");
    }
    let (st, v) = admin
        .post(
            "/v1/tokutei/check",
            &json!({"insurer": "06139994", "from": day, "to": day}),
        )
        .await;
    assert_eq!((st, v["error"].as_str()), (404, Some("no_checkups")), "{v}");
    let (st, v) = admin
        .get(&format!(
            "/v1/tokutei/archive?insurer=06139994&from={day}&to={day}"
        ))
        .await;
    assert_eq!((st, v["error"].as_str()), (404, Some("no_checkups")), "{v}");

    // Each check and download in the audit trail, by the admin.
    let store =
        checkup_central::db::sqlite::Sqlite::open(&Path::new(central_data).join("central.sqlite3"))
            .expect("sqlite");
    let trail = store.audit_snapshot().await.expect("audit");
    let by_admin = |action: &str| {
        trail
            .entries
            .iter()
            .filter(|e| e.action == action && e.staff_id == "C001")
            .map(|e| e.subject.clone())
            .collect::<Vec<_>>()
    };
    let exports = by_admin("tokutei_export");
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert!(exports[0].contains(&name), "{exports:?}");
    assert_eq!(by_admin("tokutei_export_refused").len(), 1);
    assert_eq!(by_admin("tokutei_check").len(), 2);

    let _ = stop.send(());
    task.await.expect("join").expect("serve");
}
