//! The checkup day in real headless Chromium (Debian `chromium`, driven by playwright-core
//! from npm): roster import → reception taps a virtual card → session opens → measurement →
//! blood pressure (two readings) → the other stations → the doctor sees it all → the board
//! shows the resident finished — over HTTPS with the demo box's certificate, which Chromium
//! accepts by its pinned key. Screenshots go to `docs/screenshots/`.
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use checkup_tests::chromium::{demo_box, screenshots};

#[test]
fn a_checkup_day_in_chromium() {
    let shots = screenshots();
    let demo = demo_box(&["playwright-core", "axe-core"]);
    demo.run(
        "checkup-day.js",
        &[shots.as_os_str()],
        "checkup day complete",
    );
    demo.stop();
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
