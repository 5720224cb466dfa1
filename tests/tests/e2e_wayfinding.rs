//! Finding one's way, reception, the board and intake in real headless Chromium (Debian
//! `chromium`, playwright-core and axe-core from npm) against a demo box over HTTPS: each
//! role lands on its own framed page; styled 403 and 404 pages lead back; the PIN pad fits a
//! landscape 1024×768 tablet and the screen is cleared after check-in; the board fills a
//! 1920×1080 TV, in English too, with counts that mean what they say and a live state that
//! goes red offline; intake shows codes as words and refuses empty required fields; axe-core
//! finds no violation on any page or state visited (`tests/e2e/wayfinding.js`).
//! Screenshots of every role's main page go to `docs/screenshots/`.
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use checkup_tests::{Process, binary};

#[test]
fn every_page_findable_and_accessible_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let e2e = root.join("tests/e2e");
    for module in ["playwright-core", "axe-core"] {
        assert!(
            e2e.join("node_modules").join(module).exists(),
            "tests/e2e/node_modules/{module} missing: run `npm ci --prefix tests/e2e` (make test does)"
        );
    }
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
        .arg(e2e.join("wayfinding.js"))
        .arg(&boxp.url)
        .arg(&shots)
        .arg(&spki)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status = boxp.terminate().expect("terminate");
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("wayfinding complete"), "{stdout}");
    assert!(status.success(), "box exit: {status}");
    for name in [
        "role-reception-1024x768",
        "role-station-1024x768",
        "role-nurse-1024x768",
        "role-doctor-1024x768",
        "role-venue-admin-1024x768",
        "role-clerk-1024x768",
        "role-caseworker-1024x768",
        "role-auditor-1024x768",
        "403-1024x768",
        "404-1024x768",
        "board-1920x1080",
        "board-en-1920x1080",
    ] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "screenshot {name}"
        );
    }
}
