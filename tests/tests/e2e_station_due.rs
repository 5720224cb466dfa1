//! The station's list of residents due, in real headless Chromium (Debian `chromium`, driven
//! by playwright-core from npm) against a demo box over HTTPS: residents listed in the order
//! reception checked them in and kept live, searchable by name, kana or resident number, the
//! page in Japanese first and in English with `?lang=en`, and axe-core clean in both
//! languages; then 採血時間 recorded at 採血 and the doctor's required findings (既往歴,
//! 自覚症状 with its text, 他覚症状, 診断) as large answer buttons and labelled text areas,
//! the sign-off refused until they are recorded (`tests/e2e/station-due.js`).
//!
//! Needs root (the demo's virtual card reader), `chromium` and `tests/e2e/node_modules`
//! (`make test` installs both).

use checkup_tests::chromium::demo_box;

#[test]
fn station_lists_residents_due_in_arrival_order_searchable_in_both_languages() {
    let demo = demo_box(&["playwright-core", "axe-core"]);
    demo.run("station-due.js", &[], "station due list complete");
    demo.stop();
}
