//! The stations' clinical safety, the tablets' outbox and honest feedback in real headless
//! Chromium (Debian `chromium`, driven by playwright-core from npm) against a demo box over
//! HTTPS: urine results start empty, corrections ask a reason, systolic ≤ diastolic is
//! refused, completing with items missing names them, writes survive an outage
//! (`context.setOffline`) and a reload and are applied once, and messages come from the
//! box's error codes in the page's language (`tests/e2e/station-safety.js`).
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use checkup_tests::{Process, binary};

#[test]
fn station_pages_are_safe_and_never_lose_a_write() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let e2e = root.join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists(),
        "tests/e2e/node_modules missing: run `npm ci --prefix tests/e2e` (make test does)"
    );
    assert!(
        PathBuf::from("/usr/bin/chromium").exists(),
        "Debian chromium missing (make test installs it)"
    );
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("box").to_string_lossy().into_owned();
    let mut boxp = Process::start(
        &bin,
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--mqtt-port",
            "0",
            "--data-dir",
            &data,
        ],
        Duration::from_secs(60),
    )
    .expect("demo box");
    assert!(boxp.url.starts_with("https://"), "{}", boxp.url);
    // Chromium accepts the box's own certificate (its key pinned), nothing else.
    let cert = dir.path().join("box/pki/edge-01/edge-01.crt");
    let spki = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | base64",
        )
        .arg("sh")
        .arg(&cert)
        .output()
        .expect("openssl");
    let spki = String::from_utf8_lossy(&spki.stdout).trim().to_owned();
    assert_eq!(spki.len(), 44, "SPKI hash of {}", cert.display());
    let out = Command::new("node")
        .arg(e2e.join("station-safety.js"))
        .arg(&boxp.url)
        .arg(&spki)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("station safety complete"), "{stdout}");
    let status = boxp.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");
}
