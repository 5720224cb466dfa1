//! Access by role, rank and duty on central's staff page, walked as its users in real
//! headless Chromium (`tests/e2e/central-access.js`) against `checkup-central demo
//! --sample-day 40`: the district nurse reads her district at once and another district
//! only after the page asked her for a purpose beside the record; her 特定妊婦 flag appears
//! in the caseworker's list on another tablet without reloading (the time is printed); the
//! health 係長 reviews the out-of-district read with its purpose; the auditor's access report
//! (開示請求) names the nurse's read. axe-core finds nothing on any of these pages and every
//! control is at least 48 px high. Screenshots `docs/screenshots/central-access-*.png`.

use std::process::Command;
use std::time::Duration;

use checkup_tests::chromium::{e2e_dir, screenshots};
use checkup_tests::{Process, binary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_walked_in_chromium() {
    for module in ["playwright-core", "axe-core"] {
        assert!(
            e2e_dir().join("node_modules").join(module).exists(),
            "tests/e2e/node_modules/{module} missing: run `npm ci --prefix tests/e2e` (make test does)"
        );
    }
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("central").display().to_string();
    let mut central = Process::start(
        &binary("checkup-central", "checkup-central").expect("binary"),
        &[
            "demo",
            "--insecure-dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data,
            "--sample-day",
            "40",
        ],
        Duration::from_secs(120),
    )
    .expect("central");
    let shots = screenshots();
    let out = Command::new("node")
        .arg(e2e_dir().join("central-access.js"))
        .arg(central.url.trim_end_matches('/'))
        .arg(&shots)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "central-access.js failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("central access walk complete"), "{stdout}");
    let latency = stdout
        .lines()
        .find_map(|l| l.strip_prefix("flag from the nurse's press to the caseworker's row: "))
        .and_then(|l| l.trim_end_matches(" ms").parse::<u64>().ok())
        .expect("the flag's time printed");
    println!("flag, nurse's press → caseworker's row: {latency} ms");
    assert!(latency < 3000, "the flag took {latency} ms to appear");
    for name in ["purpose", "flag-live", "review", "report"] {
        assert!(shots.join(format!("central-access-{name}.png")).exists());
    }
    let status = central.terminate().expect("terminate");
    assert!(status.success(), "central exit: {status}");
}
