//! Central's 特定健診 section in real headless Chromium: a demo box forwards a checkup day
//! ([`checkup_tests::tokutei_day`]) to a demo central; central is then run (`checkup-central
//! run`, as an operator does) on the same database with `[tokutei]` pointing at MHLW's files
//! in `../shared/standards/tokutei-v4`. The central admin C001 signs in, chooses the period
//! and an insurer, checks: the 国保's failures are listed (the resident who left before 問診,
//! each missing item) and the download stays disabled; the 協会けんぽ passes and its zip is
//! downloaded — every DATA file and the index of it accepted by `xmllint --schema`. axe-core
//! finds no violation on the page (`tests/e2e/tokutei-export.js`); screenshots
//! `docs/screenshots/10-central-tokutei-{failures,ok}.png`.

use std::process::Command;
use std::time::Duration;

use checkup_tests::chromium::{e2e_dir, screenshots};
use checkup_tests::tokutei_day::{self, KOKUHO, KYOKAI, LEFT, standards, unzip, xmllint};
use checkup_tests::{Process, binary, hash_pin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokutei_export_in_chromium() {
    for module in ["playwright-core", "axe-core"] {
        assert!(
            e2e_dir().join("node_modules").join(module).exists(),
            "tests/e2e/node_modules/{module} missing: run `npm ci --prefix tests/e2e` (make test does)"
        );
    }
    let pair = checkup_tests::central::demo_pair();
    let (dir, central_data, mut central, mut edge) =
        (&pair.dir, &pair.central_data, pair.central, pair.edge);
    let bx = edge.url.trim_end_matches('/').to_owned();
    let cx = central.url.trim_end_matches('/').to_owned();
    let tokutei_day::Day { day, .. } = tokutei_day::day(&bx, &cx).await;
    assert!(edge.terminate().expect("box").success());
    assert!(central.terminate().expect("central").success());

    // The same database under an operator's configuration with [tokutei].
    let xsd = standards().join("XSD");
    let config = dir.path().join("central.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
             [[staff]]\nid = \"C001\"\nname = \"保健 太郎\"\nrole = \"central_admin\"\npin_hash = \"{}\"\n\n\
             [tokutei]\ninstitution_number = \"1312345678\"\ninstitution_name = \"みどり市保健センター\"\n\
             xsd_dir = \"{}\"\nitem_table = \"{}\"\n\n[tokutei.doctors]\nD001 = \"医師 誠\"\n",
            central_data,
            hash_pin("1234"),
            xsd.display(),
            standards().join("items-hc24.csv").display()
        ),
    )
    .expect("config");
    let mut central = Process::start(
        &binary("checkup-central", "checkup-central").expect("binary"),
        &[
            "run",
            "--config",
            &config.display().to_string(),
            "--insecure-dev",
        ],
        Duration::from_secs(60),
    )
    .expect("central");

    let zip = dir.path().join("download.zip");
    let out = Command::new("node")
        .arg(e2e_dir().join("tokutei-export.js"))
        .arg(central.url.trim_end_matches('/'))
        .args([&day, KOKUHO, KYOKAI, LEFT])
        .arg(&zip)
        .arg(screenshots())
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tokutei-export.js failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("tokutei export complete"), "{stdout}");

    // What the browser saved: the archive, valid against MHLW's schemas.
    let files = unzip(&zip, &dir.path().join("unpacked"));
    let data: Vec<_> = files
        .iter()
        .filter(|f| f.parent().and_then(|p| p.file_name()) == Some("DATA".as_ref()))
        .collect();
    assert_eq!(data.len(), 2, "two 協会けんぽ examinees: {files:?}");
    for f in &data {
        xmllint(&xsd.join("hc08_V08.xsd"), f);
    }
    let index: Vec<_> = files
        .iter()
        .filter(|f| f.file_name() == Some("ix08_V08.xml".as_ref()))
        .collect();
    assert_eq!(index.len(), 1, "{files:?}");
    xmllint(&xsd.join("ix08_V08.xsd"), index[0]);

    let status = central.terminate().expect("terminate");
    assert!(status.success(), "central exit: {status}");
}
