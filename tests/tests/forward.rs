//! Three edge boxes (real processes, their own SQLite files) record and forward to central
//! (a real `checkup-central` process) while central is SIGKILLed and restarted several times
//! and one box is SIGKILLed mid-forward and restarted. Afterwards central holds every event
//! of every box exactly once — on SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use checkup_protocol::NodeKey;
use checkup_tests::venue::{self, Staff};
use checkup_tests::{Process, binary};
use serde_json::Value;
use uuid::Uuid;

const BOXES: usize = 3;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn sha256_hex(s: &str) -> String {
    use std::fmt::Write;
    // The test computes the digest with the same tool an administrator would.
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().map(|mut i| i.write_all(s.as_bytes()));
            c.wait_with_output()
        })
        .expect("sha256sum");
    let mut hex = String::new();
    let _ = write!(
        hex,
        "{}",
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or("")
    );
    hex
}

struct Setup {
    central_config: PathBuf,
    central_url: String,
    box_configs: Vec<PathBuf>,
    _dir: tempfile::TempDir,
}

fn setup(database: &str) -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let central_url = format!("http://127.0.0.1:{port}");
    let venue = format!("fwd-{}", Uuid::now_v7().simple());
    // PINs as `venue::STAFF` has them (R1 1111, A1 9999).
    let hash = |pin: &str| {
        let out = std::process::Command::new(
            binary("checkup-provisioning", "checkup-provision").expect("bin"),
        )
        .arg("hash-pin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().map(|mut i| i.write_all(pin.as_bytes()));
            c.wait_with_output()
        })
        .expect("hash-pin");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let (r1_hash, a1_hash) = (hash("1111"), hash("9999"));
    let mut central = format!(
        "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ndatabase = \"{database}\"\nmax_batch_events = 500\n",
        dir.path().join("central").display()
    );
    let mut box_configs = Vec::new();
    for i in 1..=BOXES {
        let node = format!("edge-{i:02}");
        let data = dir.path().join(&node);
        std::fs::create_dir_all(&data).expect("dir");
        let key = NodeKey::generate();
        std::fs::write(data.join("node.key"), key.to_bytes()).expect("key");
        let secret = format!("secret-{node}-{}", Uuid::now_v7().simple());
        central.push_str(&format!(
            "\n[[boxes]]\nnode = \"{node}\"\nvenue = \"{venue}\"\nmunicipality = \"midori\"\npublic_key = \"{}\"\nsecret_sha256 = \"{}\"\n",
            key.verifying_key().to_base64(),
            sha256_hex(&secret)
        ));
        let cfg = format!(
            "venue_id = \"{venue}\"\nnode_id = \"{node}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
             [card]\nmode = \"off\"\n\n[replication]\ndiscovery = false\n\n\
             [central]\nurl = \"{central_url}\"\nsecret = \"{secret}\"\nbatch_events = 100\nbatch_age_ms = 200\nmax_backoff_secs = 2\n\n\
             [[staff]]\nid = \"R1\"\nname = \"受付\"\nrole = \"reception\"\npin_hash = \"{r1_hash}\"\n\n\
             [[staff]]\nid = \"A1\"\nname = \"管理\"\nrole = \"venue_admin\"\npin_hash = \"{a1_hash}\"\n",
            data.display()
        );
        let p = data.join("edge.toml");
        std::fs::write(&p, cfg).expect("config");
        box_configs.push(p);
    }
    let central_config = dir.path().join("central.toml");
    std::fs::write(&central_config, central).expect("central config");
    Setup {
        central_config,
        central_url,
        box_configs,
        _dir: dir,
    }
}

fn start_central(s: &Setup) -> Process {
    let bin = binary("checkup-central", "checkup-central").expect("central binary");
    let cfg = s.central_config.display().to_string();
    Process::start(&bin, &["run", "--config", &cfg], Duration::from_secs(30))
        .expect("central starts")
}

fn start_box(config: &Path) -> Process {
    let bin = binary("checkup-edge", "checkup-edge").expect("edge binary");
    let cfg = config.display().to_string();
    Process::start(&bin, &["run", "--config", &cfg], Duration::from_secs(30)).expect("box starts")
}

/// Record session openings on a box until stopped; count the acknowledged ones.
async fn writer(url: Arc<std::sync::Mutex<String>>, acked: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut staff: Option<Staff> = None;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let base = url.lock().map(|u| u.clone()).unwrap_or_default();
        if staff.is_none() {
            staff = Staff::login(&base, "R1").await.ok();
            continue;
        }
        let Some(s) = &staff else { continue };
        n += 1;
        let body = venue::open_session(Uuid::now_v7(), &format!("{n:010}"));
        match s.post("/api/events", &body).await {
            Ok((201, _)) => {
                acked.fetch_add(1, Ordering::Relaxed);
            }
            _ => staff = None,
        }
    }
}

async fn json(url: &str) -> Option<Value> {
    reqwest::get(url).await.ok()?.json().await.ok()
}

async fn scenario(database: &str) {
    let s = setup(database);
    let mut central = start_central(&s);
    let mut boxes: Vec<Process> = s.box_configs.iter().map(|c| start_box(c)).collect();
    let urls: Vec<Arc<std::sync::Mutex<String>>> = boxes
        .iter()
        .map(|b| Arc::new(std::sync::Mutex::new(b.url.clone())))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Vec<Arc<AtomicU64>> = (0..BOXES).map(|_| Arc::default()).collect();
    let writers: Vec<_> = (0..BOXES)
        .map(|i| tokio::spawn(writer(urls[i].clone(), acked[i].clone(), stop.clone())))
        .collect();

    // Central dies and comes back, three times; box 2 dies mid-forward once.
    for round in 0..3 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        central.kill9();
        if round == 1 {
            boxes[1].kill9();
            tokio::time::sleep(Duration::from_millis(300)).await;
            boxes[1] = start_box(&s.box_configs[1]);
            if let Ok(mut u) = urls[1].lock() {
                *u = boxes[1].url.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(1200)).await;
        central = start_central(&s);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Box 3 is killed while forwarding a backlog, then restarted.
    boxes[2].kill9();
    boxes[2] = start_box(&s.box_configs[2]);
    if let Ok(mut u) = urls[2].lock() {
        *u = boxes[2].url.clone();
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }

    // Every event of every box reaches central, once.
    let mut stored = Vec::new();
    for b in &boxes {
        let h = json(&format!("{}/healthz", b.url))
            .await
            .expect("box health");
        stored.push(h["events"].as_u64().unwrap_or(0));
    }
    let total: u64 = stored.iter().sum();
    for (i, a) in acked.iter().enumerate() {
        let a = a.load(Ordering::Relaxed);
        assert!(a > 0, "box {} recorded nothing", i + 1);
        assert!(stored[i] >= a, "box {} lost acknowledged events", i + 1);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = json(&format!("{}/healthz", s.central_url))
            .await
            .and_then(|v| v["events"].as_u64());
        if held == Some(total) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "central holds {held:?} of {total} events (boxes: {stored:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each box's forwarder agrees: nothing left to send, and central's heads are its seqs.
    for (i, b) in boxes.iter().enumerate() {
        let admin = Staff::login(&b.url, "A1").await.expect("admin");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let f = admin.get("/api/forward/status").await.expect("status");
            let node = format!("edge-{:02}", i + 1);
            if f["queue_depth"] == 0 && f["acked"][&node].as_u64() == Some(stored[i]) {
                break;
            }
            assert!(Instant::now() < deadline, "box {} forwarder: {f}", i + 1);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    eprintln!(
        "{database}: {total} events from {BOXES} boxes at central exactly once (acknowledged to stations: {:?})",
        acked
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect::<Vec<_>>()
    );
    central.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_survives_central_and_box_kills_on_sqlite() {
    scenario("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_survives_central_and_box_kills_on_postgresql() {
    let db = checkup_tests::pg::TempDatabase::create("checkup_fwd")
        .await
        .expect("database");
    scenario(&db.url()).await;
    db.drop_now().await;
}
