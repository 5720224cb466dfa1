//! The stations' clinical safety, the tablets' outbox and honest feedback in real headless
//! Chromium (Debian `chromium`, driven by playwright-core from npm) against a demo box over
//! HTTPS: urine results start empty, corrections ask a reason, systolic ≤ diastolic is
//! refused, completing with items missing names them, writes survive an outage
//! (`context.setOffline`) and a reload and are applied once, and messages come from the
//! box's error codes in the page's language, with axe-core clean in each state
//! (`tests/e2e/station-safety.js`).
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use checkup_tests::chromium::demo_box;

#[test]
fn station_pages_are_safe_and_never_lose_a_write() {
    let demo = demo_box(&["playwright-core", "axe-core"]);
    demo.run("station-safety.js", &[], "station safety complete");
    demo.stop();
}
