//! The station's list of residents due, in real headless Chromium (Debian `chromium`, driven
//! by playwright-core from npm) against a demo box over HTTPS: residents listed in the order
//! reception checked them in and kept live, searchable by name, kana or resident number, the
//! page in Japanese first and in English with `?lang=en`, and axe-core clean in both
//! languages (`tests/e2e/station-due.js`).
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use checkup_tests::{Process, binary};

#[test]
fn station_lists_residents_due_in_arrival_order_searchable_in_both_languages() {
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
        .arg(e2e.join("station-due.js"))
        .arg(&boxp.url)
        .arg(&spki)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("station due list complete"), "{stdout}");
    let status = boxp.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");
}
