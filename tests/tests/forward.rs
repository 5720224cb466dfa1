//! Three edge boxes (real processes, their own SQLite files) record and forward to central
//! (a real `checkup-central` process) while central is SIGKILLed and restarted several times
//! and one box is SIGKILLed mid-forward and restarted. Afterwards central holds every event
//! of every box exactly once — on SQLite and on PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use checkup_tests::Process;
use checkup_tests::central::{setup, start_box, start_central};
use checkup_tests::venue::{self, Load, Staff};
use serde_json::Value;

const BOXES: usize = 3;

/// Record the day (sessions opened and closed) on box `i` until stopped; count the
/// acknowledged events.
async fn writer(
    i: u32,
    url: Arc<std::sync::Mutex<String>>,
    acked: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let load = Load::new(i);
    let mut staff: Option<Staff> = None;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let base = url.lock().map(|u| u.clone()).unwrap_or_default();
        if staff.is_none() {
            if venue::book(&base, &load.residents()).await.is_ok() {
                staff = Staff::login(&base, "R1").await.ok();
            }
            continue;
        }
        let Some(s) = &staff else { continue };
        let body = load.event(n);
        n += 1;
        match s.post("/api/events", &body).await {
            Ok((201, _)) => {
                acked.fetch_add(1, Ordering::Relaxed);
            }
            // An opening refused (its resident still open after a crash): skip its closing.
            Ok((409, _)) if !n.is_multiple_of(2) => n += 1,
            _ => staff = None,
        }
    }
}

async fn json(url: &str) -> Option<Value> {
    reqwest::get(url).await.ok()?.json().await.ok()
}

async fn scenario(database: &str) {
    let s = setup(database, BOXES);
    let mut central = start_central(&s);
    let mut boxes: Vec<Process> = s.box_configs.iter().map(|c| start_box(c)).collect();
    let urls: Vec<Arc<std::sync::Mutex<String>>> = boxes
        .iter()
        .map(|b| Arc::new(std::sync::Mutex::new(b.url.clone())))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Vec<Arc<AtomicU64>> = (0..BOXES).map(|_| Arc::default()).collect();
    let writers: Vec<_> = (0..BOXES)
        .map(|i| {
            tokio::spawn(writer(
                i as u32,
                urls[i].clone(),
                acked[i].clone(),
                stop.clone(),
            ))
        })
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
