//! Enrolment bundles end to end with real processes: `checkup-provision bundle` makes a
//! venue day's bundles and central's trust list; `checkup-central` runs with them; a box
//! runs from its bundle alone (`checkup-edge run --bundle`) — HTTPS, the day's staff and
//! roster, forwarding over mutual TLS — and leaves no key and no resident's name in the
//! clear on its disk. A wrong passphrase is refused.

use std::process::Command;
use std::time::{Duration, Instant};

use checkup_provisioning::ca;
use checkup_tests::central::{free_port, https_client, tls_section};
use checkup_tests::venue::Staff;
use checkup_tests::{Process, binary, files_containing, hash_pin};
use uuid::Uuid;

const ROSTER: &str = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n\
0000000101,髙橋　節子,タカハシ　セツコ,1952-03-14,female,みどり市中央1丁目2番3号,特定健診,09:00\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_runs_from_its_bundle_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).expect("dir");
    ca::create_ca(&pki, "みどり市", 30).expect("CA");
    let central_port = free_port();
    let venue = format!("day-{}", Uuid::now_v7().simple());
    std::fs::write(dir.path().join("roster.csv"), ROSTER).expect("roster");
    let day = format!(
        "venue_id = \"{venue}\"\nvenue_name = \"みどり市 保健センター\"\nmunicipality = \"midori\"\n\
         listen = \"127.0.0.1:0\"\ncentral_url = \"https://127.0.0.1:{central_port}\"\nroster = \"{}\"\n\n\
         [[stations]]\nid = \"bp-1\"\nkind = \"blood_pressure\"\n\n\
         [[staff]]\nid = \"R1\"\nname = \"受付\"\nrole = \"reception\"\npin_hash = \"{}\"\n\n\
         [[staff]]\nid = \"A1\"\nname = \"管理\"\nrole = \"venue_admin\"\npin_hash = \"{}\"\n\n\
         [[boxes]]\nnode = \"edge-01\"\nhosts = [\"127.0.0.1\"]\n\n\
         [[boxes]]\nnode = \"edge-02\"\nhosts = [\"127.0.0.1\"]\n",
        dir.path().join("roster.csv").display(),
        hash_pin("1111"),
        hash_pin("9999"),
    );
    std::fs::write(dir.path().join("day.toml"), day).expect("day");
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, "みどり市 健診 2026 秋\n").expect("passphrase");
    let out = dir.path().join("bundles");
    let provision = binary("checkup-provisioning", "checkup-provision").expect("bin");
    let made = Command::new(&provision)
        .args(["bundle", "--ca"])
        .arg(&pki)
        .arg("--day")
        .arg(dir.path().join("day.toml"))
        .arg("--out")
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&passphrase)
        .output()
        .expect("bundle");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let bundle = out.join("edge-01.bundle");
    for needle in ["PRIVATE KEY", "節子", "pin_hash", &venue] {
        assert!(
            files_containing(&out, needle)
                .iter()
                .all(|f| f.ends_with("central-boxes.toml")),
            "{needle:?} readable in a bundle"
        );
    }

    // Central trusts the day's boxes and the CA.
    let central_dir = pki.join("central");
    ca::enrol_box(
        &pki,
        "central",
        "municipal",
        &["127.0.0.1".into()],
        &central_dir,
        30,
    )
    .expect("enrol central");
    let boxes = std::fs::read_to_string(out.join("central-boxes.toml")).expect("central boxes");
    let central_toml = dir.path().join("central.toml");
    std::fs::write(
        &central_toml,
        format!(
            "listen = \"127.0.0.1:{central_port}\"\ndata_dir = \"{}\"\n{boxes}\n{}",
            dir.path().join("central").display(),
            tls_section(&pki, &central_dir, "central")
        ),
    )
    .expect("central config");
    let central = Process::start(
        &binary("checkup-central", "checkup-central").expect("bin"),
        &["run", "--config", &central_toml.display().to_string()],
        Duration::from_secs(30),
    )
    .expect("central");

    let edge_bin = binary("checkup-edge", "checkup-edge").expect("bin");
    let data = dir.path().join("edge-01-data");
    let data_arg = data.display().to_string();
    let bundle_arg = bundle.display().to_string();
    // A wrong passphrase: a clear refusal, nothing started.
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "みどり市 健診 2026 冬\n").expect("wrong");
    let r = Command::new(&edge_bin)
        .args([
            "run",
            "--bundle",
            &bundle_arg,
            "--data-dir",
            &data_arg,
            "--passphrase-file",
        ])
        .arg(&wrong)
        .output()
        .expect("run");
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("does not open with this passphrase"), "{err}");

    let edge = Process::start(
        &edge_bin,
        &[
            "run",
            "--bundle",
            &bundle_arg,
            "--passphrase-file",
            &passphrase.display().to_string(),
            "--data-dir",
            &data_arg,
        ],
        Duration::from_secs(30),
    )
    .expect("box from its bundle");
    assert!(edge.url.starts_with("https://"), "{}", edge.url);
    let http = https_client(&pki, None);
    let reception = Staff::login_with(http.clone(), &edge.url, "R1")
        .await
        .expect("the day's staff sign in");
    let found = reception
        .get("/api/roster/search?birth=1952-03-14")
        .await
        .expect("search");
    assert!(
        found.to_string().contains("節子"),
        "the day's roster: {found}"
    );
    reception.open_session("0000000101").await;
    let health = format!("{}/healthz", central.url);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h: serde_json::Value = match http.get(&health).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        if h["events"].as_u64() >= Some(1) {
            break;
        }
        assert!(Instant::now() < deadline, "never forwarded: {h}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(edge);
    for needle in ["節子", "髙橋", "PRIVATE KEY", "1952-03-14", "0000000101"] {
        let found = files_containing(&data, needle);
        assert!(found.is_empty(), "{needle:?} in the clear in {found:?}");
    }
    assert!(
        !data.join("node.key").exists(),
        "the signing key stays in the bundle"
    );

    // A revoked box gets no new bundle (its peers' next bundles leave it out).
    let revoked = Command::new(&provision)
        .args(["revoke", "--ca"])
        .arg(&pki)
        .args(["--node", "edge-02"])
        .output()
        .expect("revoke");
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let again = Command::new(&provision)
        .args(["bundle", "--ca"])
        .arg(&pki)
        .arg("--day")
        .arg(dir.path().join("day.toml"))
        .arg("--out")
        .arg(dir.path().join("bundles-2"))
        .arg("--passphrase-file")
        .arg(&passphrase)
        .output()
        .expect("bundle");
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("edge-02 is revoked"), "{err}");
}
