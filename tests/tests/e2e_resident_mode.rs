//! Resident mode in real headless Chromium (Debian `chromium`, driven by playwright-core from
//! npm) against a demo box over HTTPS: reception and the 問診 station hand a tablet to the
//! resident at hand, three residents answer the questionnaire in Tiếng Việt, Português and
//! やさしい日本語, the handed-over tablet reaches no staff page or API, a wrong staff PIN is
//! refused and the right one takes it back, and the box holds each answer as given on the
//! tablet in the language chosen; axe-core clean on the resident page in all eight languages
//! (`tests/e2e/resident-mode.js`).
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use checkup_tests::chromium::{demo_box, screenshots};

#[test]
fn residents_answer_on_a_handed_over_tablet_in_their_language() {
    let shots = screenshots();
    let demo = demo_box(&["playwright-core", "axe-core"]);
    demo.run(
        "resident-mode.js",
        &[shots.as_os_str()],
        "resident mode complete",
    );
    demo.stop();
    for name in [
        "resident-hand-over-reception-1024x768",
        "resident-language-1024x768",
        "resident-question-vi-1024x768",
        "resident-review-pt-BR-1024x768",
        "resident-staff-pin-1024x768",
    ] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "screenshot {name}"
        );
    }
}
