//! Central's hash-chained audit trail with real processes, and the forced wipe it records.
//!
//! A box records the day while central is down and is then stopped: `checkup-edge wipe
//! --force` is refused (exit 5) while central cannot record it, and goes ahead once central
//! has written the reason and the lost events into its audit trail. A second box forwards
//! its events. `checkup-central audit verify` passes on the result, and fails (exit 4),
//! naming the place, on copies of the database where an audit entry was edited, one was
//! deleted, the last one was cut off, an ingested event was deleted, or one was edited.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checkup_tests::binary;
use checkup_tests::central::{setup, start_box, start_central};
use checkup_tests::venue::{self, Staff};
use uuid::Uuid;

fn run(bin: &str, package: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(binary(package, bin).expect("bin"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Run SQL on an SQLite file with Python's own sqlite3 (any tool an intruder might use).
fn sql(db: &Path, statement: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nr=c.execute(sys.argv[2]).fetchall()\nc.commit()\nprint(r)",
        ])
        .arg(db)
        .arg(statement)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `checkup-edge wipe --force` with the reason the tests give.
fn forced_wipe(config: &str) -> (Option<i32>, String) {
    run(
        "checkup-edge",
        "checkup-edge",
        &[
            "wipe",
            "--config",
            config,
            "--force",
            "--reason",
            "箱が故障、データは紙で保存済み",
        ],
    )
}

async fn record(base: &str, n: usize) {
    let residents: Vec<String> = (0..n).map(|i| format!("{:010}", 100 + i)).collect();
    venue::book(base, &residents).await.expect("roster");
    let reception = Staff::login(base, "R1").await.expect("reception");
    for i in 0..n {
        let (st, v) = reception
            .post(
                "/api/events",
                &venue::open_session(Uuid::now_v7(), &format!("{:010}", 100 + i)),
            )
            .await
            .expect("event");
        assert_eq!(st, 201, "{v}");
    }
}

/// A copy of central's configuration pointing at a copy of its database, tampered with.
fn tampered(central_config: &Path, db: &Path, dir: &Path, name: &str, statement: &str) -> PathBuf {
    let copy_dir = dir.join(name);
    std::fs::create_dir_all(&copy_dir).expect("dir");
    std::fs::copy(db, copy_dir.join("central.sqlite3")).expect("copy");
    sql(&copy_dir.join("central.sqlite3"), statement);
    let text = std::fs::read_to_string(central_config).expect("config");
    let data_line = text
        .lines()
        .find(|l| l.starts_with("data_dir"))
        .expect("data_dir")
        .to_owned();
    let cfg = copy_dir.join("central.toml");
    std::fs::write(
        &cfg,
        text.replace(
            &data_line,
            &format!("data_dir = \"{}\"", copy_dir.display()),
        ),
    )
    .expect("config");
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_wipes_are_recorded_and_any_tampering_is_found() {
    let s = setup("sqlite", 2);
    let (cfg1, cfg2) = (&s.box_configs[0], &s.box_configs[1]);
    let data1 = cfg1.parent().expect("dir").to_path_buf();

    // Box 1 records with central down, then is stopped.
    let mut edge1 = start_box(cfg1);
    record(&edge1.url, 4).await;
    edge1.terminate().expect("stops");
    let c1 = cfg1.display().to_string();
    let (code, text) = run("checkup-edge", "checkup-edge", &["wipe", "--config", &c1]);
    assert_eq!(code, Some(3), "{text}");
    let (code, text) = forced_wipe(&c1);
    assert_eq!(
        code,
        Some(5),
        "central down: not recorded, not wiped: {text}"
    );
    assert!(data1.join("events.sqlite3").exists());

    // Central up: box 2 forwards; box 1's forced wipe is recorded, then done.
    let mut central = start_central(&s);
    let mut edge2 = start_box(cfg2);
    record(&edge2.url, 5).await;
    let health = format!("{}/healthz", central.url);
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(&health)
        .await
        .ok()
        .map(|r| r.status().is_success())
        != Some(true)
        || reqwest::get(&health)
            .await
            .expect("health")
            .json::<serde_json::Value>()
            .await
            .expect("json")["events"]
            .as_u64()
            < Some(5)
    {
        assert!(Instant::now() < deadline, "box 2 never forwarded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    edge2.terminate().expect("stops");
    let (code, text) = forced_wipe(&c1);
    assert_eq!(code, Some(0), "{text}");
    assert!(!data1.join("events.sqlite3").exists());
    central.terminate().expect("central stops");

    let db = s.dir().join("central/central.sqlite3");
    let rows = sql(
        &db,
        "SELECT staff_id, action, subject FROM audit WHERE action = 'box_wiped_forced'",
    );
    assert!(
        rows.contains("箱が故障") && rows.contains(r#""unforwarded":{"edge-01":4}"#),
        "{rows}"
    );

    let cc = s.central_config.display().to_string();
    let (code, text) = run(
        "checkup-central",
        "checkup-central",
        &["audit", "verify", "--config", &cc],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("5 events vouched for"), "{text}");

    let dir = s.dir();
    let cases: [(&str, String, &str); 5] = [
        (
            "edited-entry",
            "UPDATE audit SET subject = replace(subject, '故障', '紛失') WHERE action = 'box_wiped_forced'".into(),
            "was changed",
        ),
        (
            "deleted-entry",
            "DELETE FROM audit WHERE id = (SELECT min(id) FROM audit)".into(),
            "are missing",
        ),
        (
            "cut-end",
            "DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)".into(),
            "ends at entry",
        ),
        (
            "deleted-event",
            "DELETE FROM events WHERE node = 'edge-02' AND seq = 3".into(),
            "deleted (edge-02 seq 3)",
        ),
        (
            "edited-event",
            "UPDATE events SET body = replace(body, '0000000102', '0000000199') WHERE node = 'edge-02'".into(),
            "was altered",
        ),
    ];
    for (name, statement, want) in cases {
        let cfg = tampered(&s.central_config, &db, dir, name, &statement);
        let (code, text) = run(
            "checkup-central",
            "checkup-central",
            &["audit", "verify", "--config", &cfg.display().to_string()],
        );
        assert_eq!(code, Some(4), "{name}: {text}");
        assert!(text.contains(want), "{name}: {text}");
    }
}
