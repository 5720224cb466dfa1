//! Central ingest throughput, printed as a table, beside the physical limit of the same
//! database in the same run:
//!
//! - `ingest`: 8 boxes post batches of 500 signed events concurrently over HTTP to a real
//!   central (validation, signature checks, idempotent insert, node heads, derived rows);
//! - `raw`: the same rows bulk-inserted straight into a table of the same shape —
//!   PostgreSQL `COPY`, SQLite one prepared insert per row in one transaction.
//!
//! `cargo bench -p checkup-central --bench ingest [-- EVENTS_PER_BOX [sqlite|postgres]]`
//! (default 12,500 per box, so 100,000 events; both stores). PostgreSQL: 127.0.0.1:5432, a database created and dropped here.

use std::time::{Duration, Instant};

use checkup_central::config::{BoxConfig, Config, secret_digest};
use checkup_central::server::Central;
use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementRecorded, NodeKey, Role, StationKind,
};
use uuid::Uuid;

const BOXES: usize = 8;
const BATCH: usize = 500;

fn events(per_box: usize) -> (Vec<NodeKey>, Vec<Vec<Event>>) {
    let keys: Vec<NodeKey> = (0..BOXES).map(|_| NodeKey::generate()).collect();
    let all = keys
        .iter()
        .enumerate()
        .map(|(b, key)| {
            (1..=per_box as u64)
                .map(|seq| {
                    Event::seal(
                        Uuid::now_v7(),
                        "bench-venue",
                        &format!("edge-{b:02}"),
                        seq,
                        Hlc {
                            ms: 1_795_568_400_000 + seq,
                            c: 0,
                        },
                        Actor {
                            staff_id: "N1".into(),
                            role: Role::Nurse,
                        },
                        EventBody::MeasurementRecorded(MeasurementRecorded {
                            session_id: Uuid::now_v7(),
                            resident_id: format!("{:010}", seq % 5000),
                            station: StationKind::Measurement,
                            item_code: "9N001000000000001".into(),
                            value: MeasuredValue::Number(150.0 + (seq % 400) as f64 / 10.0),
                            unit: "cm".into(),
                            confirmed: false,
                            answered: None,
                        }),
                        key,
                    )
                })
                .collect()
        })
        .collect();
    (keys, all)
}

async fn ingest(database: &str, keys: &[NodeKey], all: &[Vec<Event>]) -> Duration {
    let dir = tempfile::tempdir().expect("dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database: database.into(),
        boxes: keys
            .iter()
            .enumerate()
            .map(|(b, k)| BoxConfig {
                node: format!("edge-{b:02}"),
                venue: "bench-venue".into(),
                municipality: "bench".into(),
                public_key: k.verifying_key().to_base64(),
                secret_sha256: secret_digest(&format!("secret-{b}")),
            })
            .collect(),
        ..Config::default()
    };
    let central = Central::open(&config).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/v1/batches", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = central
            .serve(listener, async move {
                let _ = rx.await;
            })
            .await;
    });
    // Bodies prepared before the clock starts, as a box sends stored JSON.
    let bodies: Vec<Vec<Vec<u8>>> = all
        .iter()
        .map(|evs| {
            evs.chunks(BATCH)
                .map(|c| serde_json::to_vec(c).expect("json"))
                .collect()
        })
        .collect();
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (b, batches) in bodies.into_iter().enumerate() {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for body in batches {
                let r = http
                    .post(&url)
                    .bearer_auth(format!("secret-{b}"))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                assert!(r.status().is_success(), "{}", r.status());
            }
        }));
    }
    for t in tasks {
        t.await.expect("box");
    }
    let took = t.elapsed();
    eprintln!(
        "  {database}: {:.2} s wall, {:.2} s CPU (both cores: {:.0} %)",
        took.as_secs_f64(),
        cpu_seconds() - cpu0,
        100.0 * (cpu_seconds() - cpu0) / took.as_secs_f64() / 2.0
    );
    let _ = tx.send(());
    let _ = server.await;
    took
}

/// CPU time of this process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 (11 and 12 after the command name).
    (ticks(11) + ticks(12)) / 100.0
}

fn raw_rows(all: &[Vec<Event>]) -> Vec<(String, i64, String, String)> {
    all.iter()
        .flatten()
        .map(|e| {
            (
                e.node.clone(),
                e.seq as i64,
                e.id.to_string(),
                serde_json::to_string(e).expect("json"),
            )
        })
        .collect()
}

fn raw_sqlite(rows: &[(String, i64, String, String)]) -> Duration {
    let dir = tempfile::tempdir().expect("dir");
    let mut c = rusqlite::Connection::open(dir.path().join("raw.sqlite3")).expect("open");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("sync");
    c.execute_batch(
        "CREATE TABLE raw (node TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,
         body TEXT NOT NULL, PRIMARY KEY (node, seq)) WITHOUT ROWID",
    )
    .expect("table");
    let t = Instant::now();
    let tx = c.transaction().expect("tx");
    {
        let mut st = tx
            .prepare("INSERT INTO raw VALUES (?1, ?2, ?3, ?4)")
            .expect("prepare");
        for r in rows {
            st.execute(rusqlite::params![r.0, r.1, r.2, r.3])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    t.elapsed()
}

async fn raw_postgres(url: &str, rows: &[(String, i64, String, String)]) -> Duration {
    use futures_util::SinkExt;
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    c.batch_execute(
        "CREATE TABLE raw (node TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL UNIQUE,
         body JSONB NOT NULL, PRIMARY KEY (node, seq))",
    )
    .await
    .expect("table");
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).expect("csv");
    }
    let data = w.into_inner().expect("csv");
    let t = Instant::now();
    let sink = c
        .copy_in("COPY raw FROM STDIN (FORMAT csv)")
        .await
        .expect("copy");
    let mut sink = Box::pin(sink);
    for chunk in data.chunks(1 << 20) {
        sink.send(bytes::Bytes::copy_from_slice(chunk))
            .await
            .expect("send");
    }
    sink.as_mut().finish().await.expect("finish");
    t.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let per_box: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(12_500);
    let only = args.get(1).cloned().unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (keys, all) = events(per_box);
    let n = (per_box * BOXES) as f64;
    let rows = raw_rows(&all);
    println!(
        "| store | central ingest ({BOXES} boxes × batches of {BATCH}) | raw bulk insert | ingest / raw |"
    );
    println!("|---|---:|---:|---:|");
    let row = |name: &str, i: Duration, r: Duration| {
        println!(
            "| {name} | {:.0} events/s ({:.2} s) | {:.0} rows/s ({:.2} s) | {:.0} % |",
            n / i.as_secs_f64(),
            i.as_secs_f64(),
            n / r.as_secs_f64(),
            r.as_secs_f64(),
            100.0 * r.as_secs_f64() / i.as_secs_f64()
        );
    };
    if only.is_empty() || only == "sqlite" {
        let sqlite_ingest = rt.block_on(ingest("sqlite", &keys, &all));
        let sqlite_raw = raw_sqlite(&rows);
        row("SQLite", sqlite_ingest, sqlite_raw);
    }
    if !(only.is_empty() || only == "postgres") {
        return;
    }
    let temp = || checkup_tests::pg::TempDatabase::create("checkup_bench");
    let db = rt.block_on(temp()).expect("database");
    let raw_db = rt.block_on(temp()).expect("database");
    let pg_ingest = rt.block_on(ingest(&db.url(), &keys, &all));
    let pg_raw = rt.block_on(raw_postgres(&raw_db.url(), &rows));
    row("PostgreSQL", pg_ingest, pg_raw);
    rt.block_on(async {
        db.drop_now().await;
        raw_db.drop_now().await;
    });
}
