//! 問診 as the nurse uses it, in real headless Chromium (Debian `chromium`, driven by
//! playwright-core from npm) against a demo box over HTTPS: the 22 questions in Japanese
//! with each answer, how and in which language it was given, an amendment with its reason,
//! the sign-off refused while 喫煙 (required) is unanswered and accepted once it is asked,
//! the page in English with `?lang=en`, axe-core clean (`tests/e2e/monshin.js`). The
//! screenshot goes to `docs/screenshots/monshin.png`.
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use checkup_tests::chromium::{demo_box, screenshots};

#[test]
fn the_nurse_goes_through_the_questionnaire_and_signs_off_only_with_the_required_answers() {
    let shots = screenshots();
    let demo = demo_box(&["playwright-core", "axe-core"]);
    demo.run("monshin.js", &[shots.as_os_str()], "monshin complete");
    demo.stop();
    assert!(shots.join("monshin.png").exists(), "screenshot monshin.png");
}
