//! The paper questionnaire closed by the nurse at 問診, in real headless Chromium (Debian
//! `chromium`, driven by playwright-core) against a demo box over HTTPS, for residents in
//! English, Korean and Tagalog (`tests/e2e/paper.js`): the form printed from the station
//! page to PDF, rendered by `pdftoppm`, filled in and scanned in image space by
//! `paper-mark` (the corpus's marks and degradation), read back through the page's file
//! input; exactly the double-ticked and the faint item listed for review with their
//! reasons, resolved by the nurse with the answer buttons (recorded as interview answers),
//! the clear ones recorded via paper; sign-off; axe-core clean with the review list. The
//! screenshot goes to `docs/screenshots/paper-review.png`.
//!
//! Needs root (the demo's virtual card reader), `chromium`, `pdftoppm` and
//! `tests/e2e/node_modules` (`make test` installs them).

use std::ffi::OsStr;

use checkup_tests::chromium::{demo_box, screenshots};

#[test]
fn the_nurse_prints_reads_back_and_resolves_the_paper_questionnaire_in_three_languages() {
    let shots = screenshots();
    let demo = demo_box(&["playwright-core", "axe-core"]);
    let mark = OsStr::new(env!("CARGO_BIN_EXE_paper-mark"));
    demo.run("paper.js", &[shots.as_os_str(), mark], "paper complete");
    demo.stop();
    assert!(
        shots.join("paper-review.png").exists(),
        "screenshot paper-review.png"
    );
}
