//! The venue admin's training switch, as real processes: a real box (`checkup-edge run
//! --insecure-dev`) starts a rehearsal (`checkup-edge training`) as its child from
//! `POST /api/training/start`, and stops it.
//!
//! - only the venue admin may start (403 with a Japanese and English message for reception);
//!   a second start while one runs is 409;
//! - the rehearsal answers on its own port with the 「練習モード」 band (`x-training-mode`),
//!   the real box's pages never; an event made in the rehearsal is not in the real box's
//!   store, and the real data directory gains no file; the rehearsal's own directory is a
//!   sibling, `<data_dir>-training`;
//! - a rehearsal has no switch of its own (404);
//! - stop: the child has exited, printed its summary (returned) and left no directory;
//! - a real box killed outright (SIGKILL) leaves no rehearsal running (PR_SET_PDEATHSIG);
//! - a box run from an enrolment bundle hands its certificate to the rehearsal in memory:
//!   the rehearsal answers HTTPS that a client trusting only the municipality's CA accepts,
//!   and no private key is written to its directory;
//! - in Chromium, on a demo box (HTTPS), the venue admin presses 「練習を始める」, follows the
//!   link to the rehearsal (the box's own certificate: the browser trusts it) and sees the
//!   band; then stops it from the page.
//!
//! Runs as root (the rehearsal's virtual card reader; without it the rehearsal runs without
//! cards); the browser test needs `chromium` and `tests/e2e/node_modules`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checkup_provisioning::ca;
use checkup_tests::central::{free_port, https_client};
use checkup_tests::chromium::{demo_box, screenshots};
use checkup_tests::{Process, binary, files_containing, hash_pin};
use serde_json::{Value, json};
use uuid::Uuid;

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Whether process `pid` exists (a zombie counts as gone).
fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim().to_owned()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

/// Ends, when dropped (a failed test too), every process still running on `dir` (SIGTERM,
/// then SIGKILL after 30 s), before the temporary directory is removed under it.
struct NoStray(PathBuf);

impl Drop for NoStray {
    fn drop(&mut self) {
        let needle = self.0.display().to_string();
        let pids: Vec<u64> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
            })
            .collect();
        let send = |sig| {
            for pid in &pids {
                if let Ok(p) = libc::pid_t::try_from(*pid) {
                    // SAFETY: kill(2) has no memory-safety conditions.
                    unsafe { libc::kill(p, sig) };
                }
            }
        };
        send(libc::SIGTERM);
        if !wait_until(Duration::from_secs(30), || pids.iter().all(|p| !alive(*p))) {
            send(libc::SIGKILL);
        }
    }
}

fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// Sign in; the session cookie (`name=value`).
async fn sign_in(http: &reqwest::Client, url: &str, staff: &str, pin: &str) -> String {
    let r = http
        .post(format!("{url}/api/login"))
        .json(&json!({"staff_id": staff, "pin": pin}))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(r.status(), 200, "{staff} signs in at {url}");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.contains("_session="))
        .expect("session cookie")
        .to_owned()
}

/// The HTML of `url` as the holder of `cookie`.
async fn page(http: &reqwest::Client, url: &str, cookie: &str) -> String {
    http.get(url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("page")
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    cookie: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = http.request(method, url).header("cookie", cookie);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A real box on a configuration of its own: venue admin A1, reception R1, no card reader.
fn real_box(dir: &Path) -> (Process, PathBuf) {
    let data = dir.join("box");
    std::fs::create_dir_all(&data).expect("dir");
    let mut cfg = format!(
        "venue_id = \"sw-{}\"\nnode_id = \"edge-01\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
         [card]\nmode = \"off\"\n\n[replication]\ndiscovery = false\n",
        Uuid::now_v7().simple(),
        data.display()
    );
    for (id, pin, role) in [("A1", "9999", "venue_admin"), ("R1", "1111", "reception")] {
        cfg.push_str(&format!(
            "\n[[staff]]\nid = \"{id}\"\nname = \"{id} さん\"\nrole = \"{role}\"\npin_hash = \"{}\"\n",
            hash_pin(pin)
        ));
    }
    let path = dir.join("edge.toml");
    std::fs::write(&path, cfg).expect("config");
    let bin = binary("checkup-edge", "checkup-edge").expect("edge binary");
    let p = Process::start(
        &bin,
        &[
            "run",
            "--config",
            &path.display().to_string(),
            "--insecure-dev",
        ],
        Duration::from_secs(60),
    )
    .expect("real box starts");
    (p, data)
}

const START: &str = "/api/training/start";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_venue_admin_starts_and_stops_a_rehearsal_beside_a_real_box() {
    let dir = tempfile::tempdir().expect("dir");
    let _no_stray = NoStray(dir.path().to_path_buf());
    let (mut real, data) = real_box(dir.path());
    let training_dir = dir.path().join("box-training");
    let http = reqwest::Client::new();
    let admin = sign_in(&http, &real.url, "A1", "9999").await;
    let reception = sign_in(&http, &real.url, "R1", "1111").await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let options = json!({"residents": 6, "speed": 60, "autopilot": false});

    let (status, s) = call(
        &http,
        get.clone(),
        &format!("{}/api/training", real.url),
        &admin,
        None,
    )
    .await;
    assert_eq!((status, &s["running"]), (200, &json!(false)), "{s}");

    // Only the venue admin: reception is refused, in Japanese and English, and nothing runs.
    let (status, e) = call(
        &http,
        post.clone(),
        &format!("{}{START}", real.url),
        &reception,
        Some(options.clone()),
    )
    .await;
    assert_eq!(status, 403, "reception may not start a rehearsal: {e}");
    let msg = e["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("会場管理者") && msg.contains("venue admin"),
        "{msg}"
    );
    assert!(!training_dir.exists(), "nothing started for reception");
    let (status, _) = call(
        &http,
        get.clone(),
        &format!("{}/api/training", real.url),
        &reception,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, e) = call(
        &http,
        post.clone(),
        &format!("{}{START}", real.url),
        &admin,
        Some(json!({"residents": 0, "speed": 60})),
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("bad_training_options")),
        "{e}"
    );

    let real_files = files_under(&data);
    let board = |cookie: String| {
        let (http, url) = (http.clone(), real.url.clone());
        async move {
            call(
                &http,
                reqwest::Method::GET,
                &format!("{url}/api/board"),
                &cookie,
                None,
            )
            .await
            .1
        }
    };
    let before = board(admin.clone()).await;

    // The venue admin starts one.
    let (status, s) = call(
        &http,
        post.clone(),
        &format!("{}{START}", real.url),
        &admin,
        Some(options.clone()),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["running"], true, "{s}");
    let url = s["url"]
        .as_str()
        .expect("url")
        .trim_end_matches('/')
        .to_owned();
    let pid = s["pid"].as_u64().expect("pid");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_ne!(url, real.url);
    assert!(alive(pid), "the rehearsal runs");
    assert!(
        training_dir.join("TRAINING-MODE").exists(),
        "its directory is beside the real one"
    );

    // A second start while it runs.
    let (status, e) = call(
        &http,
        post.clone(),
        &format!("{}{START}", real.url),
        &admin,
        Some(options.clone()),
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (409, Some("training_running")),
        "{e}"
    );

    // The rehearsal's pages carry the band; the real box's never.
    let r = http
        .get(format!("{url}/login"))
        .send()
        .await
        .expect("rehearsal");
    assert_eq!(
        r.headers().get("x-training-mode").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert!(r.text().await.expect("page").contains("training-band"));
    let r = http
        .get(format!("{}/login", real.url))
        .send()
        .await
        .expect("real");
    assert!(r.headers().get("x-training-mode").is_none());
    assert!(!r.text().await.expect("page").contains("training-band"));

    // An event made in the rehearsal stays there.
    let trainee = sign_in(&http, &url, "R001", "1111").await;
    let (status, c) = call(
        &http,
        post.clone(),
        &format!("{url}/api/reception/check-in"),
        &trainee,
        Some(json!({"id": Uuid::now_v7(), "resident_id": "9900000002"})),
    )
    .await;
    assert_eq!(status, 201, "check-in in the rehearsal: {c}");
    let after = board(admin.clone()).await;
    assert_eq!(
        after["opened"], before["opened"],
        "the real box's board: {after}"
    );
    assert_eq!(after["opened"], 0, "{after}");
    assert_eq!(
        files_under(&data),
        real_files,
        "the real data directory is untouched"
    );

    // A rehearsal never starts another: the training box has no switch.
    let trainer = sign_in(&http, &url, "A001", "9991").await;
    let (status, e) = call(
        &http,
        post.clone(),
        &format!("{url}{START}"),
        &trainer,
        Some(options.clone()),
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (404, Some("no_training_switch")),
        "{e}"
    );
    let (status, _) = call(
        &http,
        get.clone(),
        &format!("{url}/api/training"),
        &trainer,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        !page(&http, &format!("{url}/"), &trainer)
            .await
            .contains("training-switch"),
        "no switch in a rehearsal"
    );

    // The page shows it running, with its link.
    let admins = page(&http, &format!("{}/", real.url), &admin).await;
    assert!(
        admins.contains("training-switch") && admins.contains(&format!("{url}/")),
        "the admin's page links the rehearsal"
    );
    assert!(
        !page(&http, &format!("{}/", real.url), &reception)
            .await
            .contains("training-switch"),
        "reception's board has no switch"
    );

    // Stop: the child exits, prints its summary, leaves nothing.
    let (status, e) = call(
        &http,
        post.clone(),
        &format!("{}/api/training/stop", real.url),
        &reception,
        None,
    )
    .await;
    assert_eq!(status, 403, "{e}");
    let (status, stopped) = call(
        &http,
        post.clone(),
        &format!("{}/api/training/stop", real.url),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["stopped"], true);
    let summary = stopped["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("研修のまとめ") && summary.contains("R001"),
        "{summary}"
    );
    assert!(!alive(pid), "the rehearsal has exited");
    assert!(
        !training_dir.exists(),
        "its data is wiped: {:?}",
        files_under(&training_dir)
    );
    let (_, s) = call(
        &http,
        get.clone(),
        &format!("{}/api/training", real.url),
        &admin,
        None,
    )
    .await;
    assert_eq!(s["running"], false, "{s}");
    assert!(
        http.get(format!("{url}/login")).send().await.is_err(),
        "nothing answers on its port"
    );
    assert_eq!(
        files_under(&data),
        real_files,
        "the real data directory is untouched"
    );

    // Started again, then the real box is killed outright: the rehearsal does not live on.
    let (status, s) = call(
        &http,
        post.clone(),
        &format!("{}{START}", real.url),
        &admin,
        Some(options),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let pid = s["pid"].as_u64().expect("pid");
    let url = s["url"]
        .as_str()
        .expect("url")
        .trim_end_matches('/')
        .to_owned();
    assert!(alive(pid));
    real.kill9();
    assert!(
        wait_until(Duration::from_secs(30), || !alive(pid)),
        "the rehearsal {pid} outlived its box"
    );
    assert!(
        http.get(format!("{url}/login")).send().await.is_err(),
        "nothing answers on its port"
    );
    // Ended by SIGTERM, it wiped its directory itself.
    assert!(
        wait_until(Duration::from_secs(10), || !training_dir.exists()),
        "left: {:?}",
        files_under(&training_dir)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_from_a_bundle_lends_its_certificate_to_the_rehearsal_never_writing_it() {
    let dir = tempfile::tempdir().expect("dir");
    let _no_stray = NoStray(dir.path().to_path_buf());
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).expect("dir");
    ca::create_ca(&pki, "みどり市", 30).expect("CA");
    let venue = format!("sw-{}", Uuid::now_v7().simple());
    let day = format!(
        "venue_id = \"{venue}\"\nvenue_name = \"みどり市 保健センター\"\nmunicipality = \"midori\"\n\
         listen = \"127.0.0.1:0\"\ncentral_url = \"https://127.0.0.1:{}\"\n\n\
         [[staff]]\nid = \"A1\"\nname = \"管理\"\nrole = \"venue_admin\"\npin_hash = \"{}\"\n\n\
         [[boxes]]\nnode = \"edge-01\"\nhosts = [\"127.0.0.1\"]\n",
        free_port(),
        hash_pin("9999"),
    );
    std::fs::write(dir.path().join("day.toml"), day).expect("day");
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, "みどり市 練習の日 2026 秋\n").expect("passphrase");
    let out = dir.path().join("bundles");
    let made = std::process::Command::new(
        binary("checkup-provisioning", "checkup-provision").expect("bin"),
    )
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
    let data = dir.path().join("edge-01-data");
    let real = Process::start(
        &binary("checkup-edge", "checkup-edge").expect("bin"),
        &[
            "run",
            "--bundle",
            &out.join("edge-01.bundle").display().to_string(),
            "--passphrase-file",
            &passphrase.display().to_string(),
            "--data-dir",
            &data.display().to_string(),
        ],
        Duration::from_secs(30),
    )
    .expect("box from its bundle");
    assert!(real.url.starts_with("https://"), "{}", real.url);
    // Trusts the municipality's CA and nothing else, and checks the host.
    let http = https_client(&pki, None);
    let admin = sign_in(&http, &real.url, "A1", "9999").await;
    let (status, s) = call(
        &http,
        reqwest::Method::POST,
        &format!("{}{START}", real.url),
        &admin,
        Some(json!({"residents": 4, "speed": 60, "autopilot": true})),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let url = s["url"]
        .as_str()
        .expect("url")
        .trim_end_matches('/')
        .to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let r = http
        .get(format!("{url}/login"))
        .send()
        .await
        .expect("the rehearsal over HTTPS with the box's certificate");
    assert_eq!(
        r.headers().get("x-training-mode").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let training_dir = dir.path().join("edge-01-data-training");
    assert!(training_dir.join("TRAINING-MODE").exists());
    assert!(
        files_containing(&training_dir, "PRIVATE KEY").is_empty(),
        "a key in the clear"
    );
    assert!(
        files_containing(&training_dir, "BEGIN CERTIFICATE").is_empty(),
        "the rehearsal made certificates of its own"
    );
    let (status, stopped) = call(
        &http,
        reqwest::Method::POST,
        &format!("{}/api/training/stop", real.url),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, &stopped["stopped"]),
        (200, &json!(true)),
        "{stopped}"
    );
    assert!(!training_dir.exists());
    drop(real);
}

#[test]
fn the_venue_admin_starts_a_rehearsal_from_the_page_in_chromium() {
    let shots = screenshots();
    let b = demo_box(&["playwright-core"]);
    let training_dir = PathBuf::from(format!("{}-training", b.data_dir.display()));
    let out = b.run(
        "training-switch.js",
        &[shots.as_os_str()],
        "training-switch complete",
    );
    assert!(out.contains("rehearsal at https://"), "{out}");
    assert!(
        wait_until(Duration::from_secs(10), || !training_dir.exists()),
        "the rehearsal's data is wiped: {:?}",
        files_under(&training_dir)
    );
    assert!(shots.join("training-switch-1024x768.png").exists());
    assert!(
        shots
            .join("training-switch-rehearsal-1024x768.png")
            .exists()
    );
    b.stop();
}
