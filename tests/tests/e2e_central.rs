//! Central's staff page in real headless Chromium: a demo central receives a forwarded batch
//! (session, height, correction) over its real HTTP API, then a health-department member
//! signs in, imports the register, finds the resident by kana and birth date, reads the
//! record with the correction's history and downloads the export.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementCorrected, MeasurementRecorded,
    NodeKey, Role, SessionOpened, StationKind,
};
use checkup_tests::{Process, binary};
use uuid::Uuid;

/// 2026-11-25 10:00 JST.
const MS: u64 = 1_795_568_400_000;

fn seal(key: &NodeKey, seq: u64, body: EventBody) -> Event {
    Event::seal(
        Uuid::now_v7(),
        "demo-venue",
        "edge-01",
        seq,
        Hlc {
            ms: MS + seq * 1000,
            c: 0,
        },
        Actor {
            staff_id: "N1".into(),
            role: Role::Nurse,
        },
        body,
        key,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_record_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let e2e = root.join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists(),
        "tests/e2e/node_modules missing (make test installs it)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let edge_dir = dir.path().join("edge");
    std::fs::create_dir_all(&edge_dir).expect("dir");
    let key = NodeKey::generate();
    std::fs::write(edge_dir.join("node.key"), key.to_bytes()).expect("key");
    let bin = binary("checkup-central", "checkup-central").expect("binary");
    let data = dir.path().join("central").display().to_string();
    let edge = edge_dir.display().to_string();
    let mut central = Process::start(
        &bin,
        &[
            "demo",
            "--insecure-dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data,
            "--edge-data-dir",
            &edge,
        ],
        Duration::from_secs(60),
    )
    .expect("central");

    let session = Uuid::now_v7();
    let resident = "0000000042".to_string();
    let opened = seal(
        &key,
        1,
        EventBody::SessionOpened(SessionOpened {
            session_id: session,
            resident_id: resident.clone(),
            stations: vec![StationKind::Measurement],
            card: None,
            insurer: None,
        }),
    );
    let height = seal(
        &key,
        2,
        EventBody::MeasurementRecorded(MeasurementRecorded {
            session_id: session,
            resident_id: resident.clone(),
            station: StationKind::Measurement,
            item_code: "9N001000000000001".into(),
            value: MeasuredValue::Number(165.2),
            unit: "cm".into(),
            confirmed: false,
            answered: None,
        }),
    );
    let corrected = seal(
        &key,
        3,
        EventBody::MeasurementCorrected(MeasurementCorrected {
            session_id: session,
            resident_id: resident,
            corrects: height.id,
            item_code: "9N001000000000001".into(),
            value: MeasuredValue::Number(156.2),
            unit: "cm".into(),
            reason: "転記ミス".into(),
            confirmed: false,
            answered: None,
        }),
    );
    let r = reqwest::Client::new()
        .post(format!("{}/v1/batches", central.url))
        .bearer_auth("demo-forwarding-secret")
        .json(&vec![opened, height, corrected])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);

    let shots = root.join("docs/screenshots");
    let out = Command::new("node")
        .arg(e2e.join("central-record.js"))
        .arg(&central.url)
        .arg(&shots)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("central record complete"), "{stdout}");
    assert!(shots.join("7-central-record.png").exists());
    let status = central.terminate().expect("terminate");
    assert!(status.success(), "central exit: {status}");
}
