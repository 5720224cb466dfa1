//! Load: 20 simulated stations record results concurrently against one box over HTTP,
//! paced at a target rate, while a board client follows the live stream. Prints p50/p99
//! latency of a save, results/s, and how long a saved result takes to appear on the board.
//!
//! Run: `cargo bench -p checkup-edge --bench stations -- [RATE] [SECONDS]` (default 200/s for
//! 20 s; RATE 0 means as fast as possible).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkup_edge::config::{CardConfig, CardMode, Config, StaffConfig};
use checkup_edge::log::store::Draft;
use checkup_edge::{Edge, auth};
use checkup_protocol::{Actor, EventBody, Role, SessionOpened, StationKind};
use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

const STATIONS: usize = 20;
const SESSIONS: usize = 600;

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[(((v.len() - 1) as f64) * p).round() as usize]
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rate = args.first().copied().unwrap_or(200);
    let seconds = args.get(1).copied().unwrap_or(20);
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("tempdir");
    let config = Config {
        venue_id: "bench".into(),
        data_dir: dir.path().to_path_buf(),
        staff: vec![StaffConfig {
            id: "N1".into(),
            name: "bench".into(),
            role: Role::Nurse,
            stations: vec![],
            rank: Default::default(),
            pin_hash: auth::hash_pin("3333").expect("hash"),
        }],
        card: CardConfig {
            mode: CardMode::Off,
        },
        ..Config::default()
    };
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let edge = Edge::open(&config).expect("open");
    let store = edge.state().store.clone();
    // The day's sessions, opened by reception.
    let sessions: Vec<(Uuid, String)> = (0..SESSIONS)
        .map(|i| (Uuid::now_v7(), format!("{:010}", 1_000_000 + i)))
        .collect();
    let drafts = sessions
        .iter()
        .map(|(sid, rid)| Draft {
            id: None,
            actor: Actor {
                staff_id: "R1".into(),
                role: Role::Reception,
            },
            body: EventBody::SessionOpened(SessionOpened {
                session_id: *sid,
                resident_id: rid.clone(),
                stations: StationKind::ALL.to_vec(),
                card: None,
                insurer: None,
            }),
        })
        .collect();
    store.append_local_blocking(drafts).expect("sessions");
    // Each session's first systolic reading: the stations' writes correct it (an item holds
    // one result; a new value for it is a correction with its reason).
    let firsts: Vec<Uuid> = sessions.iter().map(|_| Uuid::now_v7()).collect();
    let drafts = sessions
        .iter()
        .zip(&firsts)
        .map(|((sid, rid), first)| Draft {
            id: Some(*first),
            actor: Actor {
                staff_id: "N1".into(),
                role: Role::Nurse,
            },
            body: EventBody::MeasurementRecorded(checkup_protocol::MeasurementRecorded {
                session_id: *sid,
                resident_id: rid.clone(),
                station: StationKind::BloodPressure,
                item_code: "9A751000000000001".into(),
                value: checkup_protocol::MeasuredValue::Number(120.0),
                unit: "mmHg".into(),
                confirmed: false,
                answered: None,
            }),
        })
        .collect();
    store.append_local_blocking(drafts).expect("first readings");
    let sessions: Vec<(Uuid, String, Uuid)> = sessions
        .into_iter()
        .zip(firsts)
        .map(|((sid, rid), first)| (sid, rid, first))
        .collect();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(edge.serve(listener, async move {
        let _ = stop_rx.await;
    }));

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let (latencies, board_lag, done, elapsed) = client_rt.block_on(async move {
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
        let login = http.post(format!("{base}/api/login")).json(&json!({"staff_id": "N1", "pin": "3333"})).send().await.expect("login");
        let cookie = login.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").split(';').next().unwrap_or("").to_string();
        // Board follower: (events count, arrival time) of every board message.
        let board: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
        let resp = http.get(format!("{base}/api/board/events")).header("cookie", &cookie).send().await.expect("sse");
        let b2 = board.clone();
        let follower = tokio::spawn(async move {
            let mut stream = resp.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(i) = buf.find("\n\n") {
                    let frame: String = buf.drain(..i + 2).collect();
                    for line in frame.lines() {
                        if let Some(data) = line.strip_prefix("data:")
                            && let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim())
                        {
                            let n = v["events"].as_u64().unwrap_or(0);
                            b2.lock().expect("lock").push((n, Instant::now()));
                        }
                    }
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let per_station = if rate == 0 { None } else { Some(Duration::from_secs_f64(STATIONS as f64 / rate as f64)) };
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let sessions = Arc::new(sessions);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for st in 0..STATIONS {
            let (http, cookie, base, sessions) = (http.clone(), cookie.clone(), base.clone(), sessions.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                let mut i = st;
                let mut next = Instant::now();
                while Instant::now() < deadline {
                    if let Some(p) = per_station {
                        tokio::time::sleep_until(next.into()).await;
                        next += p;
                    }
                    let (sid, rid, first) = &sessions[i % sessions.len()];
                    i += STATIONS;
                    let body = json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_corrected", "payload": {
                        "session_id": sid, "resident_id": rid, "corrects": first,
                        "item_code": "9A751000000000001", "value": 110 + (i % 60), "unit": "mmHg", "reason": "再測定"}}});
                    let t0 = Instant::now();
                    let r = http.post(format!("{base}/api/events")).header("cookie", &cookie).json(&body).send().await.expect("send");
                    assert_eq!(r.status(), 201);
                    let v: serde_json::Value = r.json().await.expect("json");
                    out.push((t0, t0.elapsed(), v["seq"].as_u64().unwrap_or(0)));
                }
                out
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("station"));
        }
        let elapsed = start.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        follower.abort();
        let board = board.lock().expect("lock").clone();
        let mut lat: Vec<f64> = all.iter().map(|(_, d, _)| d.as_secs_f64() * 1e3).collect();
        let mut lag: Vec<f64> = all
            .iter()
            .filter_map(|(t0, _, seq)| board.iter().find(|(n, _)| n >= seq).map(|(_, at)| at.duration_since(*t0).as_secs_f64() * 1e3))
            .collect();
        let n = all.len();
        (std::mem::take(&mut lat), std::mem::take(&mut lag), n, elapsed)
    });
    let (mut lat, mut lag) = (latencies, board_lag);
    let _ = stop_tx.send(());
    let _ = server_rt.block_on(server);
    let target = if rate == 0 {
        "as fast as possible".to_string()
    } else {
        format!("{rate}/s")
    };
    println!("{STATIONS} stations, {SESSIONS} open sessions, target {target}, {seconds} s");
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| results saved | {done} |");
    println!(
        "| results/s achieved | {:.0} |",
        done as f64 / elapsed.as_secs_f64()
    );
    println!("| save latency p50 | {:.2} ms |", pct(&mut lat, 0.5));
    println!("| save latency p99 | {:.2} ms |", pct(&mut lat, 0.99));
    println!("| save → on the board p50 | {:.1} ms |", pct(&mut lag, 0.5));
    println!(
        "| save → on the board p99 | {:.1} ms |",
        pct(&mut lag, 0.99)
    );
}
