//! The checkup day in real headless Chromium (Debian `chromium`, driven by playwright-core
//! from npm): roster import → reception taps a virtual card → session opens → measurement →
//! blood pressure (two readings) → the other stations → the doctor sees it all → the board
//! shows the resident finished — over HTTPS with the demo box's certificate, which Chromium
//! accepts by its pinned key. Screenshots go to `docs/screenshots/`.
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use checkup_tests::{Process, binary};

#[test]
fn a_checkup_day_in_chromium() {
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
    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
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
        .arg(e2e.join("checkup-day.js"))
        .arg(&boxp.url)
        .arg(&shots)
        .arg(&spki)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("checkup day complete"), "{stdout}");
    // A clean stop: the box removes its virtual reader (pcscd and namespace).
    let status = boxp.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");
    for name in [
        "1-reception-pin",
        "2-reception-checked-in",
        "3-measurement",
        "4-blood-pressure",
        "5-doctor",
        "6-board-finished",
    ] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "screenshot {name}"
        );
    }
}
