//! Injury photos on a child case end to end in real headless Chromium
//! (`tests/e2e/case-photos.js`) on two boxes of one venue replicating over the Mosquitto on
//! 127.0.0.1:1883 (a venue id of its own, so its own topics), each with a data key: a nurse
//! gets 403 on the case page and the photo APIs; the caseworker (係員) on box 1 takes photos
//! of a case through the page's camera input — phone JPEGs carrying GPS, make, model, serial,
//! a maker note and XMP; the caseworker 係長 on box 2, the case open, sees each appear live
//! with nothing of the camera's metadata left; a file that is no photo is refused in
//! Japanese; offline, the form says photos are not held and 「もう一度送る」 sends the photo
//! kept in the page once the network is back; a send whose answer is lost (cut in the
//! browser after the box answered) and is sent again is kept once. The latency from the caseworker's file to the supervisor's loaded image is
//! printed for `docs/benchmarks.md` (no timed assertion). Screenshots go to
//! `docs/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use checkup_protocol::NodeKey;
use checkup_tests::venue::Staff;
use checkup_tests::{Process, binary, hash_pin};
use serde_json::json;
use uuid::Uuid;

/// (id, role, rank, PIN).
type Member<'a> = (&'a str, &'a str, &'a str, &'a str);

fn write_box(dir: &Path, venue: &str, i: usize, keys: &[NodeKey], staff: &[Member<'_>]) -> PathBuf {
    let node = format!("edge-{i:02}");
    let data = dir.join(&node);
    std::fs::create_dir_all(&data).expect("dir");
    std::fs::write(data.join("node.key"), keys[i - 1].to_bytes()).expect("key");
    // The data key off the data directory, as on a real box.
    let data_key = dir.join(format!("{node}.data.key"));
    let hex: String = rand_key().iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&data_key, hex).expect("data key");
    let mut toml = format!(
        "venue_id = \"{venue}\"\nnode_id = \"{node}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
         [card]\nmode = \"off\"\n\n[store]\nkey_file = \"{}\"\n\n\
         [replication]\nbroker = \"127.0.0.1:1883\"\ndiscovery = false\n",
        data.display(),
        data_key.display()
    );
    for (j, key) in keys.iter().enumerate() {
        if j + 1 != i {
            toml.push_str(&format!(
                "\n[[peers]]\nnode = \"edge-{:02}\"\npublic_key = \"{}\"\n",
                j + 1,
                key.verifying_key().to_base64()
            ));
        }
    }
    for (id, role, rank, pin) in staff {
        toml.push_str(&format!(
            "\n[[staff]]\nid = \"{id}\"\nname = \"{id}\"\nrole = \"{role}\"\nrank = \"{rank}\"\npin_hash = \"{}\"\n",
            hash_pin(pin)
        ));
    }
    let config = data.join("edge.toml");
    std::fs::write(&config, toml).expect("config");
    config
}

/// 32 random bytes (a fresh ed25519 seed is one).
fn rand_key() -> Vec<u8> {
    NodeKey::generate().to_bytes().to_vec()
}

/// A case saved by the clerk on `base` (typed in from a blank scan); its id.
async fn saved_case(base: &str, child: &str) -> String {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let clerk = Staff::login_pin(http, base, "C1", "5551")
        .await
        .expect("clerk signs in");
    let mut png = std::io::Cursor::new(Vec::new());
    image::GrayImage::from_pixel(200, 100, image::Luma([255]))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let (st, scan) = clerk
        .post_bytes("/api/intake/scans?name=blank.png", png.into_inner())
        .await
        .expect("upload");
    assert_eq!(st, 202, "{scan}");
    let id = scan["id"].as_str().expect("id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    while clerk.get("/api/intake/scans").await.expect("inbox")["scans"][0]["status"] == "reading" {
        assert!(Instant::now() < deadline, "the scan was never read");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fields = json!({
        "notice_date": "2026-11-20", "child_name": child, "child_birth_date": "2019-05-01",
        "abuse_type": "physical", "summary": "右上腕にあざ",
    });
    let (st, saved) = clerk
        .post(
            &format!("/api/intake/scans/{id}/case"),
            &json!({"fields": fields}),
        )
        .await
        .expect("save");
    assert_eq!(st, 201, "{saved}");
    saved["case_id"].as_str().expect("case").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caseworker_s_photo_reaches_the_supervisor_live_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let e2e = root.join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").exists()
            && e2e.join("node_modules/axe-core").exists(),
        "tests/e2e/node_modules missing: run `npm ci --prefix tests/e2e` (make test does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let venue = format!("photos-{}", Uuid::now_v7().simple());
    let keys = [NodeKey::generate(), NodeKey::generate()];
    let c1 = write_box(
        dir.path(),
        &venue,
        1,
        &keys,
        &[
            ("C1", "child_welfare_clerk", "係員", "5551"),
            ("K1", "caseworker", "係員", "1357"),
        ],
    );
    let c2 = write_box(
        dir.path(),
        &venue,
        2,
        &keys,
        &[
            ("L1", "caseworker", "係長", "2468"),
            ("N2", "nurse", "係長", "1111"),
        ],
    );
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let start = |c: &Path| {
        Process::start(
            &bin,
            &["run", "--config", &c.to_string_lossy(), "--insecure-dev"],
            Duration::from_secs(60),
        )
        .expect("box")
    };
    let mut p1 = start(&c1);
    let mut p2 = start(&c2);

    let child = "佐藤陽菜";
    let case = saved_case(&p1.url, child).await;
    // Five phone photos (each its own picture, so each is a photo of its own).
    let mut photos = Vec::new();
    for i in 0..5u32 {
        let path = dir.path().join(format!("IMG_{i:04}.jpg"));
        let jpeg = checkup_tests::photos::camera_jpeg(1600 + 8 * i, 1200).expect("photo");
        assert!(!checkup_tests::photos::metadata_left(&jpeg).is_empty());
        std::fs::write(&path, jpeg).expect("photo");
        photos.push(path);
    }
    let not_photo = dir.path().join("memo.jpg");
    std::fs::write(&not_photo, "これは写真ではありません").expect("file");

    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let out = Command::new("node")
        .arg(e2e.join("case-photos.js"))
        .arg(&p1.url)
        .arg(&p2.url)
        .arg(&case)
        .arg(child)
        .arg(&shots)
        .arg(&not_photo)
        .args(&photos)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("case photos complete"), "{stdout}");
    // The measured latency, for docs/benchmarks.md (printed, never asserted).
    for line in stdout.lines().filter(|l| l.starts_with("photo")) {
        eprintln!("{line}");
    }
    for p in [&mut p1, &mut p2] {
        let status = p.terminate().expect("terminate");
        assert!(status.success(), "box exit: {status}");
    }
    // Sealed at rest on both boxes: no JPEG header (SOI + JFIF, as the box encodes) nor the
    // phone's (SOI + APP1 Exif) in any file of either data directory.
    for node in ["edge-01", "edge-02"] {
        let data = dir.path().join(node);
        for needle in [
            &b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"[..],
            b"Exif\x00\x00",
            checkup_tests::photos::MAKE.as_bytes(),
        ] {
            let found = checkup_tests::files_containing_bytes(&data, needle);
            assert!(found.is_empty(), "{node}: {needle:?} in {found:?}");
        }
    }
}
