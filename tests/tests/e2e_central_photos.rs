//! A child case's photos on central's staff page, walked in real headless Chromium
//! (`tests/e2e/central-case-photos.js`) against a real `checkup-central` that a box's signed
//! batch reached with a case and two photos: the caseworker assigned to the case sees them
//! as thumbnails under the case (the photo answered `no-store`); a caseworker not on the
//! case sees the case but not the photos, told why in Japanese and English. Afterwards
//! `checkup-central audit verify` passes with the views in the trail. axe-core finds nothing;
//! every control is at least 48 px high. Screenshots `docs/screenshots/central-case-photos*.png`.

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use checkup_protocol::{
    Actor, CasePhotoAdded, Event, EventBody, Hlc, NodeKey, NoticeField, NoticeIntakeSaved,
    NoticeSource, Role,
};
use checkup_tests::central::{free_port, sha256_hex};
use checkup_tests::chromium::{e2e_dir, screenshots};
use checkup_tests::{Process, binary, hash_pin};
use serde_json::json;
use uuid::Uuid;

/// 2026-11-25 10:00 JST.
const DAY_MS: u64 = 1_795_568_400_000;

/// (id, role, rank, PIN).
const STAFF: &[(&str, &str, &str, &str)] = &[
    ("K001", "caseworker", "係員", "2468"),
    ("K002", "caseworker", "係員", "1470"),
    ("K010", "caseworker", "係長", "8642"),
];

/// The box's events: a case and two photos of it.
fn batch(key: &NodeKey, venue: &str, case: Uuid) -> Vec<Event> {
    let seal = |seq: u64, role: Role, staff: &str, body| {
        Event::seal(
            Uuid::now_v7(),
            venue,
            "edge-01",
            seq,
            Hlc {
                ms: DAY_MS + seq * 1000,
                c: 0,
            },
            Actor {
                staff_id: staff.into(),
                role,
            },
            body,
            key,
        )
    };
    let mut fields = std::collections::BTreeMap::new();
    for (k, v) in [
        ("notice_date", "2026-11-20"),
        ("reporting_agency", "中央警察署"),
        ("child_name", "南野五子"),
        ("child_birth_date", "2021-04-01"),
        ("child_sex", "female"),
        ("child_address", "北海道函館市1-2-3"),
        ("guardian_name", "保護者一郎"),
        ("abuse_type", "physical"),
        ("summary", "腕にあざがある。"),
    ] {
        fields.insert(
            k.to_owned(),
            NoticeField {
                value: v.into(),
                confidence: 0.9,
                corrected: false,
            },
        );
    }
    let photo = |(w, h): (u32, u32), note: Option<&str>| {
        let jpeg = checkup_tests::photos::box_jpeg(w, h).expect("jpeg");
        EventBody::CasePhotoAdded(CasePhotoAdded {
            case_id: case,
            photo_id: Uuid::now_v7(),
            jpeg: base64::engine::general_purpose::STANDARD.encode(jpeg),
            width: w,
            height: h,
            note: note.map(str::to_owned),
            location: None,
        })
    };
    vec![
        seal(
            1,
            Role::ChildWelfareClerk,
            "J001",
            EventBody::NoticeIntakeSaved(NoticeIntakeSaved {
                case_id: case,
                fields,
                resident_id: None,
                source: NoticeSource {
                    file: "scan.pdf".into(),
                    sha256: "0".repeat(64),
                },
            }),
        ),
        seal(
            2,
            Role::Caseworker,
            "K001",
            photo((640, 480), Some("右上腕のあざ")),
        ),
        seal(3, Role::Caseworker, "K001", photo((320, 240), None)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_photos_walked_in_chromium() {
    for module in ["playwright-core", "axe-core"] {
        assert!(
            e2e_dir().join("node_modules").join(module).exists(),
            "tests/e2e/node_modules/{module} missing: run `npm ci --prefix tests/e2e` (make test does)"
        );
    }
    let dir = tempfile::tempdir().expect("dir");
    let key = NodeKey::generate();
    let secret = format!("secret-{}", Uuid::now_v7().simple());
    let venue = "hakodate-2026-11-25";
    let port = free_port();
    let mut cfg = format!(
        "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ndatabase = \"sqlite\"\n\n\
         [[boxes]]\nnode = \"edge-01\"\nvenue = \"{venue}\"\nmunicipality = \"012025\"\n\
         public_key = \"{}\"\nsecret_sha256 = \"{}\"\n",
        dir.path().join("central").display(),
        key.verifying_key().to_base64(),
        sha256_hex(&secret)
    );
    for (id, role, rank, pin) in STAFF {
        cfg.push_str(&format!(
            "\n[[staff]]\nid = \"{id}\"\nname = \"{id} さん\"\nrole = \"{role}\"\npin_hash = \"{}\"\nduty = {{ rank = \"{rank}\" }}\n",
            hash_pin(pin)
        ));
    }
    let config = dir.path().join("central.toml");
    std::fs::write(&config, cfg).expect("config");
    let bin = binary("checkup-central", "checkup-central").expect("binary");
    let config_arg = config.display().to_string();
    let mut central = Process::start(
        &bin,
        &["run", "--config", &config_arg, "--insecure-dev"],
        Duration::from_secs(60),
    )
    .expect("central");
    let url = central.url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::new();

    let case = Uuid::now_v7();
    let r = http
        .post(format!("{url}/v1/batches"))
        .bearer_auth(&secret)
        .json(&batch(&key, venue, case))
        .send()
        .await
        .expect("batch");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    // The child-welfare 係長 assigns K001.
    let r = http
        .post(format!("{url}/v1/login"))
        .json(&json!({"staff_id": "K010", "pin": "8642"}))
        .send()
        .await
        .expect("login");
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_owned();
    let r = http
        .post(format!("{url}/v1/notices/{case}/caseworkers"))
        .header("cookie", &cookie)
        .json(&json!({"staff_id": "K001"}))
        .send()
        .await
        .expect("assign");
    assert_eq!(r.status(), 200);

    let shots = screenshots();
    let out = Command::new("node")
        .arg(e2e_dir().join("central-case-photos.js"))
        .arg(&url)
        .arg(&shots)
        .arg(case.to_string())
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "central-case-photos.js failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("central case photos walk complete"),
        "{stdout}"
    );
    for name in ["central-case-photos", "central-case-photos-refused"] {
        assert!(shots.join(format!("{name}.png")).exists());
    }
    let status = central.terminate().expect("terminate");
    assert!(status.success(), "central exit: {status}");
    // The trail, with the page's views and refusals in it, verifies.
    let verify = Command::new(&bin)
        .args(["audit", "verify", "--config", &config_arg])
        .output()
        .expect("audit verify");
    assert!(
        verify.status.success(),
        "audit verify: {}\n{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
