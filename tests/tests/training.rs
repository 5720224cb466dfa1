//! Training mode (`checkup-edge training`) as real processes:
//!
//! - a full training day — the scripted flow sped up, the script playing the staff
//!   (`--autopilot`), awkward cases included — on a box configured to forward to a real
//!   central that has enrolled it: central holds no event afterwards and no batch even
//!   reached it, the trainer's summary is printed, and nothing is left of the box's data
//!   directory;
//! - in Chromium, every page of a training box (enumerated from its OpenAPI document) shows
//!   the 「練習モード」 band and title prefix to every role and to nobody signed in
//!   (`tests/e2e/training-mark.js`), and the session ends from the trainer's summary page,
//!   leaving no file.
//!
//! Central refusing a training batch posted to it directly is `central/tests/ingest.rs`
//! (`central_refuses_training_events_*`).
//!
//! Needs root (the virtual card reader), and for the browser test `chromium` and
//! `tests/e2e/node_modules`.

use std::path::Path;
use std::time::{Duration, Instant};

use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, Role};
use checkup_tests::central::{free_port, sha256_hex};
use checkup_tests::chromium::{screenshots, training_box};
use checkup_tests::{Process, binary};
use uuid::Uuid;

/// Every file under `dir` (empty if `dir` is gone).
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

async fn healthz(http: &reqwest::Client, central: &str) -> serde_json::Value {
    http.get(format!("{central}/healthz"))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_training_day_reaches_central_with_nothing_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("training");
    std::fs::create_dir_all(&data).expect("dir");
    // The box's node key, made first so that central enrols this very box: a training box
    // that forwarded would be heard (and counted) by central, not turned away at the door.
    let key = NodeKey::generate();
    std::fs::write(data.join("node.key"), key.to_bytes()).expect("key");
    let secret = format!("secret-{}", Uuid::now_v7().simple());
    let port = free_port();
    let central_url = format!("http://127.0.0.1:{port}");
    let central_cfg = dir.path().join("central.toml");
    std::fs::write(
        &central_cfg,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ndatabase = \"sqlite\"\n\n\
             [[boxes]]\nnode = \"edge-01\"\nvenue = \"training-venue\"\nmunicipality = \"midori\"\n\
             public_key = \"{}\"\nsecret_sha256 = \"{}\"\n",
            dir.path().join("central").display(),
            key.verifying_key().to_base64(),
            sha256_hex(&secret)
        ),
    )
    .expect("central config");
    let central = Process::start(
        &binary("checkup-central", "checkup-central").expect("central"),
        &[
            "run",
            "--config",
            &central_cfg.display().to_string(),
            "--insecure-dev",
        ],
        Duration::from_secs(30),
    )
    .expect("central starts");
    let http = reqwest::Client::new();
    assert_eq!(healthz(&http, &central.url).await["events"], 0);

    // The day: 24 residents at ×600 (a resident every 0.15 s instead of 90 s), the script
    // playing reception, 身体計測 and 血圧; the session ends with the script.
    let out = tokio::task::spawn_blocking({
        let data = data.clone();
        let central_url = central_url.clone();
        let secret = secret.clone();
        move || {
            let mut child = std::process::Command::new(
                binary("checkup-edge", "checkup-edge").expect("edge binary"),
            )
            .args([
                "training",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                &data.display().to_string(),
                "--speed",
                "600",
                "--residents",
                "24",
                "--autopilot",
                "--end-when-done",
                // Plain HTTP, as the central of this test (an enrolled box forwards over
                // HTTPS only).
                "--insecure-dev",
                "--central-url",
                &central_url,
                "--central-secret",
                &secret,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("training box");
            let deadline = Instant::now() + Duration::from_secs(240);
            while child.try_wait().expect("wait").is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            child.wait_with_output().expect("output")
        }
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "training: {}\n{stdout}\n{stderr}",
        out.status
    );
    // Central holds nothing, and no batch even reached it (a forwarded training batch would
    // be counted as a `training_event` refusal).
    let h = healthz(&http, &central.url).await;
    assert_eq!(h["events"], 0, "{h}");
    assert_eq!(h["rejected"], serde_json::json!({}), "{h}");
    assert_eq!(h["batches_stored"], 0, "{h}");
    // The trainer's summary: every resident came, trainees named, mistakes and corrections.
    assert!(stdout.contains("研修のまとめ"), "{stdout}");
    assert!(stdout.contains("来場 24/24 人"), "{stdout}");
    assert!(stdout.contains("■ R001 受付 花子"), "{stdout}");
    assert!(stdout.contains("■ S002 血圧 和子"), "{stdout}");
    assert!(stdout.contains("身体計測: "), "time per station: {stdout}");
    assert!(
        stdout.contains("収縮期血圧（1回目）: 250 → 152 mmHg"),
        "the corrected value, by the item's name: {stdout}"
    );
    assert!(
        stdout.contains("収縮期血圧（1回目）: 250 mmHg"),
        "the unusual value confirmed: {stdout}"
    );
    assert!(
        !stdout.contains("pin_required"),
        "asking for the PIN is not a mistake: {stdout}"
    );
    if !stderr.contains("no virtual card reader") {
        assert!(stdout.contains("wrong_pin"), "the wrong PIN: {stdout}");
    }
    assert!(
        stderr.contains("training mode: events are never forwarded"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pre-answers fetched"),
        "a training box asks central for nothing: {stderr}"
    );
    // Nothing is left of the training compartment.
    let left = files_under(&data);
    assert!(left.is_empty(), "files left: {left:?}");
    assert!(!data.exists(), "{} still exists", data.display());

    // Central was listening for this box all along: a real event of its key and secret is
    // stored.
    let real = Event::seal(
        Uuid::now_v7(),
        "training-venue",
        "edge-01",
        1,
        Hlc {
            ms: 1_795_568_400_000,
            c: 0,
        },
        Actor {
            staff_id: "R001".into(),
            role: Role::Reception,
        },
        EventBody::SessionClosed(checkup_protocol::SessionClosed {
            session_id: Uuid::now_v7(),
            reason: None,
        }),
        &key,
    );
    let r = http
        .post(format!("{}/v1/batches", central.url))
        .bearer_auth(&secret)
        .json(&[real])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    assert_eq!(healthz(&http, &central.url).await["events"], 1);
    drop(central);
}

#[test]
fn every_page_of_a_training_box_shows_the_training_mark_in_chromium() {
    let shots = screenshots();
    let b = training_box(&["playwright-core"], &["--speed", "1"]);
    let data = b.data_dir.clone();
    let out = b.run(
        "training-mark.js",
        &[shots.as_os_str()],
        "training-mark complete",
    );
    assert!(out.contains("training mark on "), "{out}");
    // Ended from the summary page: the box stops by itself and leaves no file.
    b.wait_exit(Duration::from_secs(30));
    let left = files_under(&data);
    assert!(left.is_empty(), "files left: {left:?}");
    for name in ["training-reception-1024x768", "training-summary-1024x768"] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "screenshot {name}"
        );
    }
}
