//! Pre-answers end to end with real processes and real headless Chromium: a demo central
//! and a demo box that forwards to it (plain HTTP, `--insecure-dev`); three residents answer
//! on central's /q/ page at a phone viewport in English, Simplified Chinese and Korean; the
//! box fetches with its secret; reception sees 事前回答あり, checks each in, and the session
//! holds the answers via phone in the resident's language (tests/e2e/pre-answers.js).

use std::path::PathBuf;
use std::process::Command;

/// Demo roster residents of the 特定健診 course (`checkup_edge::demo::roster`, i = 1, 2, 3):
/// number and birth date.
const RESIDENTS: [(&str, &str); 3] = [
    ("0001000137", "1959-06-12"),
    ("0001000174", "1972-11-23"),
    ("0001000211", "1985-04-06"),
];

/// The fiscal year of now in Japan (the box's default checkup).
fn fiscal_year() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = (secs + 9 * 3600).div_euclid(86_400);
    let date = time::Date::from_julian_day(2_440_588 + days as i32).expect("date");
    let year = if u8::from(date.month()) >= 4 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{year:04}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_answers_on_the_phone_reach_reception() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let e2e = root.join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists(),
        "tests/e2e/node_modules missing (make test installs it)"
    );
    let pair = checkup_tests::central::demo_pair();
    let (mut central, mut edge) = (pair.central, pair.edge);

    let shots = checkup_tests::chromium::screenshots();
    let people: Vec<String> = RESIDENTS
        .iter()
        .map(|(id, birth)| format!("{id}={birth}"))
        .collect();
    let out = Command::new("node")
        .arg(e2e.join("pre-answers.js"))
        .arg(&central.url)
        .arg(&edge.url)
        .arg(&shots)
        .arg(fiscal_year())
        .args(&people)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("pre-answers complete"), "{stdout}");
    assert!(stdout.contains("axe pages: 11"), "{stdout}");
    let status = edge.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");
    let status = central.terminate().expect("terminate");
    assert!(status.success(), "central exit: {status}");
}
