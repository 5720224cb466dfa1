//! Police notice intake end to end in real headless Chromium (`tests/e2e/notice-intake.js`)
//! on two boxes of one venue replicating over the Mosquitto on 127.0.0.1:1883 (a venue id of
//! its own, so its own topics): the role check (a nurse gets 403 everywhere), the clerk's
//! upload → review beside the crops → correction → save, the caseworker on the other box
//! seeing the case live, a PDF from the scanner's hot folder, and the admin's log withholding
//! the case. Real Tesseract reads the notice. Screenshots go to `docs/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use checkup_protocol::NodeKey;
use checkup_tests::notice_corpus::{Layout, example, render_example};
use checkup_tests::{Process, binary, hash_pin};
use uuid::Uuid;

struct Box_ {
    config: PathBuf,
}

fn write_box(
    dir: &Path,
    venue: &str,
    i: usize,
    keys: &[NodeKey],
    staff: &[(&str, &str, &str)],
    hot_folder: Option<&Path>,
) -> Box_ {
    let node = format!("edge-{i:02}");
    let data = dir.join(&node);
    std::fs::create_dir_all(&data).expect("dir");
    std::fs::write(data.join("node.key"), keys[i - 1].to_bytes()).expect("key");
    let mut toml = format!(
        "venue_id = \"{venue}\"\nnode_id = \"{node}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
         [card]\nmode = \"off\"\n\n[replication]\nbroker = \"127.0.0.1:1883\"\ndiscovery = false\n",
        data.display()
    );
    if let Some(h) = hot_folder {
        toml.push_str(&format!("\n[intake]\nhot_folder = \"{}\"\n", h.display()));
    }
    for (j, key) in keys.iter().enumerate() {
        if j + 1 != i {
            toml.push_str(&format!(
                "\n[[peers]]\nnode = \"edge-{:02}\"\npublic_key = \"{}\"\n",
                j + 1,
                key.verifying_key().to_base64()
            ));
        }
    }
    for (id, role, pin) in staff {
        toml.push_str(&format!(
            "\n[[staff]]\nid = \"{id}\"\nname = \"{id}\"\nrole = \"{role}\"\npin_hash = \"{}\"\n",
            hash_pin(pin)
        ));
    }
    let config = data.join("edge.toml");
    std::fs::write(&config, toml).expect("config");
    Box_ { config }
}

#[test]
fn a_police_notice_from_scan_to_a_live_case_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let e2e = root.join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists()
            && e2e.join("node_modules/axe-core").exists(),
        "tests/e2e/node_modules missing: run `npm ci --prefix tests/e2e` (make test does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let venue = format!("intake-{}", Uuid::now_v7().simple());
    let keys = [NodeKey::generate(), NodeKey::generate()];
    let hot = dir.path().join("scanner");
    std::fs::create_dir_all(&hot).expect("hot folder");
    let b1 = write_box(
        dir.path(),
        &venue,
        1,
        &keys,
        &[
            ("C1", "child_welfare_clerk", "5551"),
            ("N1", "nurse", "1111"),
        ],
        Some(&hot),
    );
    let b2 = write_box(
        dir.path(),
        &venue,
        2,
        &keys,
        &[("K1", "caseworker", "2468"), ("A1", "venue_admin", "9999")],
        None,
    );
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let start = |b: &Box_| {
        Process::start(
            &bin,
            &[
                "run",
                "--config",
                &b.config.to_string_lossy(),
                "--insecure-dev",
            ],
            Duration::from_secs(60),
        )
        .expect("box")
    };
    let mut p1 = start(&b1);
    let mut p2 = start(&b2);

    let mut t = example("notice-0001.png");
    // A Latin letter in the guardian's name: characters foreign to a name, which the box
    // flags for review with its reason whatever the OCR's confidence.
    t.guardian_name = "山田Ａ子".into();
    let png = dir.path().join(&t.file);
    render_example(&t, Layout::Table, false)
        .expect("render")
        .to_rgb8()
        .save(&png)
        .expect("png");
    // The scanner's PDF: written under a temporary name, then renamed, as scanners do.
    let page = render_example(&t, Layout::Colon, false)
        .expect("render")
        .to_luma8();
    let pdf = checkup_tests::pdf::from_page(&page, 300.0).expect("pdf");
    std::fs::write(hot.join("scanner-0001.pdf.part"), &pdf).expect("pdf");
    std::fs::rename(
        hot.join("scanner-0001.pdf.part"),
        hot.join("scanner-0001.pdf"),
    )
    .expect("rename");

    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let out = Command::new("node")
        .arg(e2e.join("notice-intake.js"))
        .arg(&p1.url)
        .arg(&p2.url)
        .arg(&png)
        .arg(&shots)
        .arg(&t.child_name)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("notice intake complete"), "{stdout}");
    // The hot folder's file moved out once held; nothing refused.
    assert!(hot.join("taken/scanner-0001.pdf").exists());
    assert!(!hot.join("scanner-0001.pdf").exists());
    for p in [&mut p1, &mut p2] {
        let status = p.terminate().expect("terminate");
        assert!(status.success(), "box exit: {status}");
    }
}
