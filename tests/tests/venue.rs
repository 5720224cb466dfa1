//! Four edge boxes — separate processes, separate SQLite files, each in its own network
//! namespace on a venue LAN — find each other, record concurrently, survive one box being
//! cut off (it keeps recording) and the hub being killed, and converge: every box holds the
//! identical event set and projection, every acknowledged event is there once, and all use
//! one broker. Run with the embedded broker (mDNS, hub failover) and with Mosquitto.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkup_tests::venue::{self, BrokerKind, Staff, Venue};
use serde_json::Value;
use uuid::Uuid;

/// Failover time in these tests (the default is 30 s; the benchmark measures that one).
const FAILOVER_SECS: u64 = 5;
/// The box whose LAN link is cut (0-based).
const CUT: usize = 2;

struct Shared {
    acked: Mutex<Vec<String>>,
    /// Events acknowledged by the cut-off box while its LAN link was down.
    acked_while_cut: std::sync::atomic::AtomicU64,
    cut: AtomicBool,
    sessions: Mutex<Vec<(Uuid, String)>>,
    stop: AtomicBool,
}

/// Record on box `url` until told to stop: open a session, then heights for sessions opened
/// anywhere (two boxes measuring the same resident make conflicts). Signs in again after
/// the box restarts; failures while the box is down are not acknowledged and not counted.
async fn writer(url: String, n: usize, shared: Arc<Shared>) {
    let mut i = 0u64;
    let mut staff: Option<(Staff, Staff)> = None;
    while !shared.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(60)).await;
        if staff.is_none() {
            // The residents this writer opens sessions for are booked on its box.
            let residents: Vec<String> = (1..6000)
                .step_by(3)
                .map(|i| format!("{n:02}{i:08}"))
                .collect();
            if venue::book(&url, &residents).await.is_err() {
                continue;
            }
            let r = Staff::login(&url, "R1").await;
            let s = Staff::login(&url, "N1").await;
            if let (Ok(r), Ok(s)) = (r, s) {
                staff = Some((r, s));
            } else {
                continue;
            }
        }
        let Some((reception, nurse)) = staff.clone() else {
            continue;
        };
        i += 1;
        let body = if i % 3 == 1 {
            let sid = Uuid::now_v7();
            let resident = format!("{n:02}{i:08}");
            shared
                .sessions
                .lock()
                .expect("lock")
                .push((sid, resident.clone()));
            (reception, venue::open_session(sid, &resident))
        } else {
            let pick = {
                let s = shared.sessions.lock().expect("lock");
                if s.is_empty() {
                    continue;
                }
                s[(i as usize * 7 + n) % s.len()].clone()
            };
            let cm = 150.0 + (i % 40) as f64 / 2.0;
            (nurse, venue::height(pick.0, &pick.1, cm))
        };
        let id = body.1["id"].as_str().unwrap_or_default().to_owned();
        match body.0.post("/api/events", &body.1).await {
            Ok((201, _)) => {
                if n == CUT && shared.cut.load(Ordering::Relaxed) {
                    shared.acked_while_cut.fetch_add(1, Ordering::Relaxed);
                }
                shared.acked.lock().expect("lock").push(id);
            }
            Ok((401, _)) | Err(_) => staff = None,
            // A session another box opened that this one has not received yet.
            Ok(_) => {}
        }
    }
}

async fn states(admins: &[Option<Staff>]) -> Vec<Option<Value>> {
    let mut out = Vec::new();
    for a in admins {
        out.push(match a {
            Some(a) => a.get("/api/replication/state").await.ok(),
            None => None,
        });
    }
    out
}

/// Wait until `pred` holds for the states of boxes `which` (in that order).
async fn wait_for(
    v: &Venue,
    which: &[usize],
    what: &str,
    timeout: Duration,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    let mut admins: Vec<Option<Staff>> = vec![None; which.len()];
    loop {
        for (i, &b) in which.iter().enumerate() {
            if admins[i].is_none() {
                admins[i] = Staff::login(&v.boxes[b].url, "A1").await.ok();
            }
        }
        let got = states(&admins).await;
        let all: Option<Vec<Value>> = got.iter().cloned().collect();
        if let Some(all) = &all
            && pred(all)
        {
            return all.clone();
        }
        for (i, s) in got.iter().enumerate() {
            if s.is_none() {
                admins[i] = None;
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; states: {}",
            serde_json::to_string_pretty(&got).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every box connected, to the same broker (the same serving box, or the same external
/// address).
fn one_broker(states: &[Value]) -> bool {
    let key = |s: &Value| {
        if s["broker_node"].is_null() {
            s["broker"].clone()
        } else {
            s["broker_node"].clone()
        }
    };
    let first = key(&states[0]);
    !first.is_null()
        && states
            .iter()
            .all(|s| s["connected"] == true && key(s) == first)
}

async fn scenario(kind: BrokerKind) {
    if let Some(why) = venue::netns_unavailable() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let mut v = Venue::new(4, kind, FAILOVER_SECS).expect("venue");
    for i in 0..4 {
        v.start(i).expect("box starts");
    }
    let t = Instant::now();
    let all = [0, 1, 2, 3];
    let s = wait_for(
        &v,
        &all,
        "all boxes on one broker",
        Duration::from_secs(30),
        one_broker,
    )
    .await;
    eprintln!(
        "{kind:?}: 4 boxes on broker {} after {:?}",
        s[0]["broker"],
        t.elapsed()
    );
    if kind == BrokerKind::Embedded {
        assert_eq!(s[0]["serving_broker"], true, "the hub serves the broker");
    }

    let shared = Arc::new(Shared {
        acked: Mutex::default(),
        acked_while_cut: Default::default(),
        cut: AtomicBool::new(false),
        sessions: Mutex::default(),
        stop: AtomicBool::new(false),
    });
    let writers: Vec<_> = v
        .boxes
        .iter()
        .enumerate()
        .map(|(n, b)| tokio::spawn(writer(b.url.clone(), n, shared.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Box 3 loses the venue LAN; it keeps recording over its management link.
    v.set_link(CUT, false).expect("link down");
    shared.cut.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The hub dies.
    v.kill(0);
    let killed = Instant::now();
    // Box 1 is down and box 3 cut off: boxes 2 and 4 must find a broker again.
    let s = wait_for(
        &v,
        &[1, 3],
        "boxes 2 and 4 on one broker",
        Duration::from_secs(FAILOVER_SECS + 40),
        one_broker,
    )
    .await;
    eprintln!(
        "{kind:?}: box 1 (the hub) killed; boxes 2 and 4 replicating through {} after {:?}",
        s[0]["broker"],
        killed.elapsed()
    );
    if kind == BrokerKind::Embedded {
        assert_eq!(s[0]["serving_broker"], true, "edge-02 took over");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Everything heals: box 3's link comes back, the old hub restarts.
    v.set_link(CUT, true).expect("link up");
    shared.cut.store(false, Ordering::Relaxed);
    v.start(0).expect("hub restarts");
    tokio::time::sleep(Duration::from_secs(3)).await;
    shared.stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    let acked: Vec<String> = shared.acked.lock().expect("lock").clone();
    let unique: HashSet<&String> = acked.iter().collect();
    assert_eq!(unique.len(), acked.len());
    let while_cut = shared.acked_while_cut.load(Ordering::Relaxed);
    eprintln!(
        "{kind:?}: {} events acknowledged ({while_cut} by box 3 while cut off)",
        acked.len()
    );
    assert!(while_cut > 0, "the cut-off box kept recording");

    let t = Instant::now();
    let s = wait_for(
        &v,
        &all,
        "identical event sets and projections on one broker",
        Duration::from_secs(90),
        |st| {
            one_broker(st)
                && st.iter().all(|s| {
                    s["gaps"] == false
                        && s["ids_digest"] == st[0]["ids_digest"]
                        && s["projection_digest"] == st[0]["projection_digest"]
                        && s["stored"] == st[0]["stored"]
                        && s["stored"].as_u64().unwrap_or(0) >= acked.len() as u64
                })
        },
    )
    .await;
    eprintln!(
        "{kind:?}: converged {:?} after healing: {} events on every box, broker of {}",
        t.elapsed(),
        s[0]["stored"],
        s[0]["broker_node"]
    );
    if kind == BrokerKind::Embedded {
        assert_eq!(
            s.iter().filter(|x| x["serving_broker"] == true).count(),
            1,
            "exactly one box serves the broker: {s:?}"
        );
        assert_eq!(s[0]["serving_broker"], false, "the old hub joined as a box");
        assert_eq!(
            s[0]["broker_node"], "edge-02",
            "the lowest live box took over"
        );
    }
    // Every acknowledged event is on the box read, exactly once (ids are unique keys and
    // every box holds the same set).
    let admin = Staff::login(&v.boxes[3].url, "A1").await.expect("admin");
    let mut ids = HashSet::new();
    let mut after = 0i64;
    let mut read = 0usize;
    loop {
        let page = admin
            .get(&format!("/api/events?after={after}&limit=5000"))
            .await
            .expect("events");
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            break;
        }
        read += events.len();
        for e in &events {
            ids.insert(e["id"].as_str().unwrap_or_default().to_owned());
        }
        after = page["next"].as_i64().unwrap_or(after);
    }
    assert_eq!(read, ids.len(), "no event stored twice");
    assert_eq!(read as u64, s[3]["stored"].as_u64().unwrap_or(0));
    let missing: Vec<&String> = acked.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(missing.is_empty(), "acknowledged events lost: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_boxes_converge_through_cut_off_and_hub_failover_embedded_broker() {
    scenario(BrokerKind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_boxes_converge_through_cut_off_and_box_kill_mosquitto() {
    scenario(BrokerKind::Mosquitto).await;
}
