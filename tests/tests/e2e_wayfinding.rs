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

use checkup_tests::chromium::{demo_box, screenshots};

#[test]
fn every_page_findable_and_accessible_in_chromium() {
    let shots = screenshots();
    let demo = demo_box(&["playwright-core", "axe-core"]);
    demo.run("wayfinding.js", &[shots.as_os_str()], "wayfinding complete");
    demo.stop();
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
