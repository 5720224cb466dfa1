//! Durable append throughput of the edge event store, in process and over HTTP, beside the
//! raw SQLite ceiling, and projection rebuild time. Prints a table.
//!
//! Run: `cargo bench -p checkup-edge --bench append` (optionally `-- --quick`, and a case
//! name such as `http16` to run only the cases whose name contains it). With `--secure`, the
//! store is encrypted with SQLCipher (a data key) and HTTP is HTTPS with the box's
//! certificate from a CA made for the run: the same cases, security on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use checkup_edge::config::{Config, StaffConfig};
use checkup_edge::log::store::{Draft, EventStore, StoreOptions};
use checkup_edge::{Edge, auth};
use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementRecorded, NodeKey, Role, StationKind,
};
use uuid::Uuid;

fn body(i: u64) -> EventBody {
    EventBody::MeasurementRecorded(MeasurementRecorded {
        session_id: Uuid::now_v7(),
        resident_id: format!("{:010}", 1_000_000 + i % 600),
        station: StationKind::Measurement,
        item_code: "9N006000000000001".into(),
        value: MeasuredValue::Number(50.0 + (i % 400) as f64 / 10.0),
        unit: "kg".into(),
        confirmed: false,
        answered: None,
    })
}

fn draft(i: u64) -> Draft {
    Draft {
        id: None,
        actor: Actor {
            staff_id: "S001".into(),
            role: Role::Station,
        },
        body: body(i),
    }
}

/// `--secure`: SQLCipher and HTTPS.
static SECURE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

fn secure() -> bool {
    *SECURE.get().unwrap_or(&false)
}

fn options() -> StoreOptions {
    StoreOptions {
        training: false,
        venue: "bench".into(),
        node: "edge-01".into(),
        max_batch_events: 4096,
        key: secure().then(checkup_edge::at_rest::DataKey::generate),
    }
}

struct Row {
    what: String,
    events: u64,
    elapsed: Duration,
}

impl Row {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

fn raw_sqlite(dir: &std::path::Path, events: u64, per_tx: u64) -> Row {
    let key = NodeKey::generate();
    let path = dir.join(format!("raw-{per_tx}.sqlite3"));
    let mut conn = rusqlite::Connection::open(&path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("sync");
    conn.execute_batch(
        "CREATE TABLE events (pos INTEGER PRIMARY KEY, node TEXT NOT NULL, seq INTEGER NOT NULL,
         id TEXT NOT NULL UNIQUE, hlc_ms INTEGER NOT NULL, hlc_c INTEGER NOT NULL,
         kind TEXT NOT NULL, resident TEXT, json TEXT NOT NULL, UNIQUE (node, seq));",
    )
    .expect("schema");
    // Pre-build the rows: this measures SQLite alone.
    let rows: Vec<Event> = (1..=events)
        .map(|i| {
            let actor = Actor {
                staff_id: "S001".into(),
                role: Role::Station,
            };
            Event::seal(
                Uuid::now_v7(),
                "bench",
                "edge-01",
                i,
                Hlc { ms: i, c: 0 },
                actor,
                body(i),
                &key,
            )
        })
        .collect();
    let jsons: Vec<String> = rows.iter().map(|e| e.to_json()).collect();
    let start = Instant::now();
    for (chunk, js) in rows
        .chunks(per_tx as usize)
        .zip(jsons.chunks(per_tx as usize))
    {
        let tx = conn.transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare_cached("INSERT INTO events (node, seq, id, hlc_ms, hlc_c, kind, resident, json) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)")
                .expect("prepare");
            for (e, j) in chunk.iter().zip(js) {
                stmt.execute(rusqlite::params![
                    e.node,
                    e.seq as i64,
                    e.id.to_string(),
                    e.hlc.ms as i64,
                    e.hlc.c as i64,
                    e.body.kind().as_str(),
                    e.body.resident_id(),
                    j
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    Row {
        what: format!("raw SQLite, {per_tx} row(s) per fsynced transaction"),
        events,
        elapsed: start.elapsed(),
    }
}

fn in_process(dir: &std::path::Path, writers: u64, per_writer: u64) -> Row {
    let path = dir.join(format!("inproc-{writers}.sqlite3"));
    let store = EventStore::open(&path, options(), NodeKey::generate()).expect("open");
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..per_writer {
                    store
                        .append_local_blocking(vec![draft(w * per_writer + i)])
                        .expect("append");
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let epc = store.stats().events_per_commit();
    let eps = store.stats().events_per_sync();
    store.close_blocking();
    Row {
        what: format!(
            "store, in process, {writers} writer(s), 1 event per append ({epc:.1} events/commit, {eps:.1}/flush)"
        ),
        events: writers * per_writer,
        elapsed,
    }
}

fn in_process_tasks(dir: &std::path::Path, writers: u64, per_writer: u64) -> Row {
    let path = dir.join(format!("tasks-{writers}.sqlite3"));
    let store = EventStore::open(&path, options(), NodeKey::generate()).expect("open");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for i in 0..per_writer {
                        store
                            .append_local(vec![draft(w * per_writer + i)])
                            .await
                            .expect("append");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
    });
    let elapsed = start.elapsed();
    let epc = store.stats().events_per_commit();
    let eps = store.stats().events_per_sync();
    store.close_blocking();
    Row {
        what: format!(
            "store, in process, {writers} async tasks on 2 threads, 1 event per append ({epc:.1} events/commit, {eps:.1}/flush)"
        ),
        events: writers * per_writer,
        elapsed,
    }
}

fn in_process_presigned(dir: &std::path::Path, writers: u64, per_writer: u64) -> Row {
    // Events signed elsewhere (replicated from peers): no signing on the write path.
    let path = dir.join(format!("signed-{writers}.sqlite3"));
    let store = EventStore::open(&path, options(), NodeKey::generate()).expect("open");
    let key = NodeKey::generate();
    let events: Vec<Vec<Event>> = (0..writers)
        .map(|w| {
            (1..=per_writer)
                .map(|i| {
                    let actor = Actor {
                        staff_id: "S001".into(),
                        role: Role::Station,
                    };
                    Event::seal(
                        Uuid::now_v7(),
                        "bench",
                        &format!("peer-{w}"),
                        i,
                        Hlc { ms: i, c: 0 },
                        actor,
                        body(i),
                        &key,
                    )
                })
                .collect()
        })
        .collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for evs in events {
            let store = store.clone();
            s.spawn(move || {
                for e in evs {
                    store.append_signed_blocking(vec![e]).expect("append");
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let epc = store.stats().events_per_commit();
    let eps = store.stats().events_per_sync();
    store.close_blocking();
    Row {
        what: format!(
            "store, in process, {writers} writer(s), peer-signed events ({epc:.1} events/commit, {eps:.1}/flush)"
        ),
        events: writers * per_writer,
        elapsed,
    }
}

fn in_process_batched(dir: &std::path::Path, writers: u64, per_append: u64, appends: u64) -> Row {
    let path = dir.join(format!("batched-{writers}-{per_append}.sqlite3"));
    let store = EventStore::open(&path, options(), NodeKey::generate()).expect("open");
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..appends {
                    let base = (w * appends + i) * per_append;
                    store
                        .append_local_blocking((base..base + per_append).map(draft).collect())
                        .expect("append");
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let epc = store.stats().events_per_commit();
    let eps = store.stats().events_per_sync();
    store.close_blocking();
    Row {
        what: format!(
            "store, in process, {writers} writer(s), {per_append} events per append ({epc:.1} events/commit, {eps:.1}/flush)"
        ),
        events: writers * appends * per_append,
        elapsed,
    }
}

fn over_http(dir: &std::path::Path, clients: u64, per_client: u64) -> Row {
    let data = dir.join(format!("http-{clients}"));
    let config = Config {
        venue_id: "bench".into(),
        data_dir: data,
        staff: vec![StaffConfig {
            id: "S001".into(),
            name: "bench".into(),
            role: Role::Station,
            stations: vec![StationKind::Measurement],
            rank: Default::default(),
            pin_hash: auth::hash_pin("2221").expect("hash"),
        }],
        card: checkup_edge::config::CardConfig {
            mode: checkup_edge::config::CardMode::Off,
        },
        ..Config::default()
    };
    let mut config = config;
    let mut trust = None;
    if secure() {
        let pki = dir.join(format!("pki-{clients}"));
        std::fs::create_dir_all(&pki).expect("dir");
        checkup_provisioning::ca::create_ca(&pki, "bench", 30).expect("ca");
        let e = checkup_provisioning::ca::enrol_box(
            &pki,
            "edge-01",
            "bench",
            &["127.0.0.1".into()],
            &pki.join("edge-01"),
            30,
        )
        .expect("enrol");
        config.tls = Some(checkup_provisioning::tls::TlsFiles {
            cert: e.cert,
            key: e.key,
            ca: e.ca.clone(),
            crl: Some(pki.join("crl.pem")),
        });
        config.secrets.data_key = Some(checkup_edge::at_rest::DataKey::generate());
        let t = checkup_provisioning::tls::Trust::load(&e.ca, None).expect("trust");
        trust = Some(
            checkup_provisioning::tls::client_config(
                &t,
                None,
                checkup_provisioning::tls::ServerCheck::Host,
            )
            .expect("client tls"),
        );
    }
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let edge = Edge::open(&config).expect("open");
    let store = edge.state().store.clone();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(edge.serve(listener, async move {
        let _ = stop_rx.await;
    }));
    // One open session per client, each with a first weight that the client's writes then
    // correct: an item holds one result, and a new value for it is a correction with its
    // reason. Each client's writes are decided in its own session, side by side with the
    // others'.
    let sessions: Vec<(Uuid, Uuid, String)> = (0..clients)
        .map(|c| {
            let (session, first) = (Uuid::now_v7(), Uuid::now_v7());
            let resident = format!("{:010}", 1_000_000 + c);
            store
                .append_local_blocking(vec![
                    Draft {
                        id: None,
                        actor: Actor {
                            staff_id: "R001".into(),
                            role: Role::Reception,
                        },
                        body: EventBody::SessionOpened(checkup_protocol::SessionOpened {
                            session_id: session,
                            resident_id: resident.clone(),
                            stations: vec![StationKind::Measurement],
                            card: None,
                            insurer: None,
                        }),
                    },
                    Draft {
                        id: Some(first),
                        actor: Actor {
                            staff_id: "S001".into(),
                            role: Role::Station,
                        },
                        body: EventBody::MeasurementRecorded(MeasurementRecorded {
                            session_id: session,
                            resident_id: resident.clone(),
                            station: StationKind::Measurement,
                            item_code: "9N006000000000001".into(),
                            value: MeasuredValue::Number(60.0),
                            unit: "kg".into(),
                            confirmed: false,
                            answered: None,
                        }),
                    },
                ])
                .expect("session");
            (session, first, resident)
        })
        .collect();
    let sessions = Arc::new(sessions);
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let base = format!("{}://{addr}", if secure() { "https" } else { "http" });
    let elapsed = client_rt.block_on(async move {
        let mut builder = reqwest::Client::builder().pool_max_idle_per_host(64);
        if let Some(t) = trust {
            builder = builder.use_preconfigured_tls((*t).clone());
        }
        let client = builder.build().expect("client");
        let login = client
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"staff_id": "S001", "pin": "2221"}))
            .send()
            .await
            .expect("login");
        let cookie = login.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").split(';').next().unwrap_or("").to_string();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let client = client.clone();
            let cookie = cookie.clone();
            let url = format!("{base}/api/events");
            let sessions = sessions.clone();
            tasks.push(tokio::spawn(async move {
                let (session, first, resident) = &sessions[c as usize];
                for i in 0..per_client {
                    let body = serde_json::json!({"body": {"kind": "measurement_corrected", "payload": {
                        "session_id": session, "resident_id": resident, "corrects": first,
                        "item_code": "9N006000000000001", "value": 50.0 + ((c * per_client + i) % 400) as f64 / 10.0,
                        "unit": "kg", "reason": "再計測"}}});
                    let r = client.post(&url).header("cookie", &cookie).json(&body).send().await.expect("send");
                    assert_eq!(r.status(), 201, "{:?}", r.text().await);
                }
            }));
        }
        for t in tasks {
            t.await.expect("client task");
        }
        start.elapsed()
    });
    let _ = stop_tx.send(());
    let _ = server_rt.block_on(server);
    Row {
        what: format!("HTTP POST /api/events, {clients} client(s), keep-alive"),
        events: clients * per_client,
        elapsed,
    }
}

fn rebuild(dir: &std::path::Path, events: u64) -> Row {
    let path = dir.join("rebuild.sqlite3");
    let store = EventStore::open(&path, options(), NodeKey::generate()).expect("open");
    // 500 sessions, each with its measurements.
    let mut i = 0;
    while i < events {
        let n = 1000.min(events - i);
        store
            .append_local_blocking((i..i + n).map(draft).collect())
            .expect("fill");
        i += n;
    }
    store.close_blocking();
    // Opening the store reads the log in HLC order and folds the projection and ledger.
    let start = Instant::now();
    let store = EventStore::open(&path, options(), NodeKey::generate()).expect("reopen");
    let elapsed = start.elapsed();
    assert_eq!(store.ledger().event_count(), events);
    store.close_blocking();
    Row {
        what: format!("projection rebuild from the log ({events} events)"),
        events,
        elapsed,
    }
}

fn signing(events: u64) -> Row {
    let key = NodeKey::generate();
    let start = Instant::now();
    for i in 0..events {
        let actor = Actor {
            staff_id: "S001".into(),
            role: Role::Station,
        };
        std::hint::black_box(Event::seal(
            Uuid::now_v7(),
            "bench",
            "edge-01",
            i + 1,
            Hlc { ms: i, c: 0 },
            actor,
            body(i),
            &key,
        ));
    }
    Row {
        what: "seal (canonical encoding + ed25519 sign), 1 thread".into(),
        events,
        elapsed: start.elapsed(),
    }
}

/// A named benchmark case.
type Case<'a> = Box<dyn Fn() -> Row + 'a>;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let _ = SECURE.set(std::env::args().any(|a| a == "--secure"));
    checkup_provisioning::tls::install_provider();
    let scale = if quick { 1 } else { 4 };
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("tempdir");
    let dir = dir.path();
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let cases: Vec<(&str, Case<'_>)> = vec![
        ("raw1", Box::new(|| raw_sqlite(dir, 2_000, 1))),
        ("raw100", Box::new(|| raw_sqlite(dir, 50_000 * scale, 100))),
        ("seal", Box::new(|| signing(20_000 * scale))),
        ("local1", Box::new(|| in_process(dir, 1, 2_000))),
        ("local16", Box::new(|| in_process(dir, 16, 3_000 * scale))),
        (
            "tasks16",
            Box::new(|| in_process_tasks(dir, 16, 3_000 * scale)),
        ),
        (
            "signed16",
            Box::new(|| in_process_presigned(dir, 16, 3_000 * scale)),
        ),
        (
            "batch8",
            Box::new(|| in_process_batched(dir, 1, 8, 3_000 * scale)),
        ),
        (
            "batch16x8",
            Box::new(|| in_process_batched(dir, 16, 8, 1_000 * scale)),
        ),
        ("http1", Box::new(|| over_http(dir, 1, 2_000))),
        ("http16", Box::new(|| over_http(dir, 16, 2_000 * scale))),
        ("rebuild", Box::new(|| rebuild(dir, 100_000))),
    ];
    let rows: Vec<Arc<Row>> = cases
        .iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .map(|(_, run)| Arc::new(run()))
        .collect();
    if secure() {
        println!("Security on: SQLCipher store, HTTPS.");
    }
    println!("| measurement | events | seconds | events/s |");
    println!("|---|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.3} | {:.0} |",
            r.what,
            r.events,
            r.elapsed.as_secs_f64(),
            r.rate()
        );
    }
}
