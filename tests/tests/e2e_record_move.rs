//! A moved resident's record on central's staff page in real headless Chromium: a central
//! (its `[tokutei]` sender E市保健センター, MHLW's schemas from `../shared/standards`)
//! receives two years of a resident's checkups through its real ingest, exports them over
//! HTTP as standard documents and imports them for another resident number (as the central
//! of the municipality the resident moved to would); the page then shows both years marked
//! 「転入前の記録（E市保健センターから）」, and axe-core finds nothing in the record section.

use std::path::{Path, PathBuf};
use std::process::Command;

use checkup_central::config::{BoxConfig, Config, StaffConfig, TokuteiConfig, secret_digest};
use checkup_central::server::Central;
use checkup_protocol::{
    Actor, Event, EventBody, Hlc, InsurerIdentity, MeasuredValue, MeasurementRecorded, NodeKey,
    Role, SessionOpened, StationKind,
};
use uuid::Uuid;

/// 2025-06-10 10:00 JST and 2026-06-09 10:00 JST.
const DAYS_MS: [u64; 2] = [1_749_517_200_000, 1_780_966_800_000];

fn standards() -> PathBuf {
    std::env::var_os("CHECKUP_STANDARDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards"))
        .join("tokutei-v4")
}

fn seal(key: &NodeKey, seq: u64, ms: u64, body: EventBody) -> Event {
    Event::seal(
        Uuid::now_v7(),
        "city-day1",
        "edge-01",
        seq,
        Hlc { ms, c: 0 },
        Actor {
            staff_id: "N1".into(),
            role: Role::Nurse,
        },
        body,
        key,
    )
}

type Server = (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

/// A central on SQLite in `dir`, the box of `key` enrolled, C1 its admin, sending as
/// institution `number`.
async fn start(key: &NodeKey, dir: &Path, number: &str, name: &str) -> Server {
    let config = Config {
        data_dir: dir.to_path_buf(),
        boxes: vec![BoxConfig {
            node: "edge-01".into(),
            venue: "city-day1".into(),
            municipality: "city".into(),
            public_key: key.verifying_key().to_base64(),
            secret_sha256: secret_digest("box-secret"),
        }],
        staff: vec![StaffConfig {
            id: "C1".into(),
            name: "保健 太郎".into(),
            role: Role::CentralAdmin,
            pin_hash: checkup_provisioning::pin::hash("1234").expect("hash"),
            duty: Default::default(),
        }],
        tokutei: Some(TokuteiConfig {
            institution_number: Some(number.into()),
            institution_name: Some(name.into()),
            xsd_dir: Some(standards().join("XSD")),
            item_table: Some(standards().join("items-hc24.csv")),
            ..TokuteiConfig::default()
        }),
        ..Config::default()
    };
    let central = Central::open(&config).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        central
            .serve(listener, async move {
                let _ = stopped.await;
            })
            .await
    });
    (url, stop, server)
}

/// C1's session cookie at `url`.
async fn login(http: &reqwest::Client, url: &str) -> String {
    let login = http
        .post(format!("{url}/v1/login"))
        .json(&serde_json::json!({"staff_id": "C1", "pin": "1234"}))
        .send()
        .await
        .expect("login");
    login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_record_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let e2e = root.join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists(),
        "tests/e2e/node_modules missing (make test installs it)"
    );
    // E市's central holds the checkups; みどり市's, where the resident moved, imports them
    // (a central refuses its own documents back).
    let key = NodeKey::generate();
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (url_a, stop_a, server_a) =
        start(&key, dir_a.path(), "2712345678", "E市保健センター").await;
    let (url, stop, server) = start(&key, dir_b.path(), "1312345670", "みどり市保健センター").await;

    // Two years of checkups through the real ingest.
    let mut events = Vec::new();
    for (year, ms) in DAYS_MS.into_iter().enumerate() {
        let session = Uuid::now_v7();
        let seq = events.len() as u64 + 1;
        events.push(seal(
            &key,
            seq,
            ms,
            EventBody::SessionOpened(SessionOpened {
                session_id: session,
                resident_id: "0000000042".into(),
                stations: vec![StationKind::Measurement],
                card: None,
                insurer: Some(InsurerIdentity {
                    insurer_number: "138057".into(),
                    symbol: None,
                    number: "７８９".into(),
                    branch: None,
                    ticket_number: None,
                    ticket_expiry: None,
                }),
            }),
        ));
        for (i, (code, value)) in [
            ("9N001000000000001", 158.4),
            ("9N006000000000001", 55.0),
            ("9N016160100000001", if year == 0 { 79.0 } else { 82.5 }),
        ]
        .into_iter()
        .enumerate()
        {
            let seq = events.len() as u64 + 1;
            events.push(seal(
                &key,
                seq,
                ms + 1000 * (i as u64 + 1),
                EventBody::MeasurementRecorded(MeasurementRecorded {
                    session_id: session,
                    resident_id: "0000000042".into(),
                    station: StationKind::Measurement,
                    item_code: code.into(),
                    value: MeasuredValue::Number(value),
                    unit: if code == "9N006000000000001" {
                        "kg"
                    } else {
                        "cm"
                    }
                    .into(),
                    confirmed: false,
                    answered: None,
                }),
            ));
        }
    }
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{url_a}/v1/batches"))
        .bearer_auth("box-secret")
        .json(&events)
        .send()
        .await
        .expect("batch");
    assert_eq!(r.status(), 200);
    let cookie_a = login(&http, &url_a).await;
    let cookie = login(&http, &url).await;
    for (u, c, row) in [
        (
            &url_a,
            &cookie_a,
            "0000000042,健診　花子,ケンシン　ハナコ,1960-04-01,女,E市本町1-1",
        ),
        (
            &url,
            &cookie,
            "M-7781,健診　花子,ケンシン　ハナコ,1960-04-01,女,みどり市中央2-3",
        ),
    ] {
        let r = http
            .post(format!("{u}/v1/residents"))
            .header("cookie", c)
            .header("content-type", "text/csv")
            .body(format!(
                "resident_id,name,name_kana,birth_date,sex,address\n{row}\n"
            ))
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), 200);
    }
    let zip = http
        .get(format!("{url_a}/v1/residents/0000000042/tokutei.zip"))
        .header("cookie", &cookie_a)
        .send()
        .await
        .expect("export");
    assert_eq!(zip.status(), 200);
    let zip = zip.bytes().await.expect("zip");
    let r = http
        .post(format!("{url}/v1/residents/M-7781/imports"))
        .header("cookie", &cookie)
        .body(zip)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 200);
    let _ = stop_a.send(());
    server_a.await.expect("join").expect("server");

    let shots = root.join("docs/screenshots");
    let out = Command::new("node")
        .arg(e2e.join("central-moved-record.js"))
        .arg(&url)
        .arg(&shots)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("moved record complete"), "{stdout}");
    assert!(shots.join("7b-central-moved-record.png").exists());
    let _ = stop.send(());
    server.await.expect("join").expect("server");
}
