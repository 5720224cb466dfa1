//! Venue replication figures, printed as a table:
//!
//! - `latency`: 10 boxes (each its own event store, HTTP server and MQTT client) share the
//!   embedded rumqttd broker on loopback; stations record 50 events/s in total, spread over
//!   the boxes; for every event and every other box, the time from the origin's append call
//!   (the station saving) to the event being committed at that box. p50/p90/p99/max.
//! - `catchup`: the same venue; one box is stopped while the nine others record 10,000
//!   events; the time from its restart until it holds all of them.
//!
//! `cargo bench -p checkup-edge --bench replication [-- latency|catchup] [SECONDS] [--secure]`
//!
//! `--secure`: every box enrolled with a CA made for the run — stores encrypted with
//! SQLCipher, MQTT over TLS with client certificates through the broker's TLS gate
//! (`--tls` or `--sqlcipher` alone to tell their costs apart).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkup_edge::Edge;
use checkup_edge::config::{CardConfig, CardMode, Config, PeerConfig, ReplicationConfig};
use checkup_edge::log::store::{Draft, EventStore};
use checkup_protocol::{Actor, EventBody, NodeKey, Role, SessionOpened, StationKind};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const BOXES: usize = 10;

struct Running {
    store: EventStore,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn config(
    dir: &std::path::Path,
    venue: &str,
    i: usize,
    keys: &[NodeKey],
    broker: SocketAddr,
) -> Config {
    Config {
        venue_id: venue.into(),
        node_id: format!("edge-{i:02}"),
        data_dir: dir.join(format!("edge-{i:02}")),
        card: CardConfig {
            mode: CardMode::Off,
        },
        peers: keys
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, k)| PeerConfig {
                node: format!("edge-{j:02}"),
                public_key: k.verifying_key().to_base64(),
            })
            .collect(),
        replication: ReplicationConfig {
            broker: Some(broker.to_string()),
            discovery: false,
            ..Default::default()
        },
        tls: PKI.get().map(|pki| {
            let node = format!("edge-{i:02}");
            let out = dir.join(format!("tls-{node}"));
            if !out.join(format!("{node}.crt")).exists() {
                checkup_provisioning::ca::enrol_box(pki, &node, venue, &[], &out, 30)
                    .expect("enrol");
            }
            checkup_provisioning::tls::TlsFiles {
                cert: out.join(format!("{node}.crt")),
                key: out.join(format!("{node}.key")),
                ca: pki.join("ca.crt"),
                crl: Some(pki.join("crl.pem")),
            }
        }),
        secrets: checkup_edge::config::Secrets {
            data_key: SQLCIPHER
                .get()
                .is_some_and(|on| *on)
                .then(checkup_edge::at_rest::DataKey::generate),
            ..Default::default()
        },
        ..Config::default()
    }
}

/// `--secure` or `--tls`: the run's CA.
static PKI: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
/// `--secure` or `--sqlcipher`: encrypted stores.
static SQLCIPHER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// The venue's broker: with `--secure`, behind the TLS gate with a certificate of its own.
fn broker(dir: &std::path::Path, venue: &str) -> checkup_edge::replication::broker::EmbeddedBroker {
    let gate = PKI.get().map(|pki| {
        let out = dir.join("tls-broker");
        let e = checkup_provisioning::ca::enrol_box(
            pki,
            "broker",
            venue,
            &["127.0.0.1".into()],
            &out,
            30,
        )
        .expect("enrol broker");
        let (creds, trust) = checkup_provisioning::tls::TlsFiles {
            cert: e.cert,
            key: e.key,
            ca: e.ca,
            crl: Some(pki.join("crl.pem")),
        }
        .load()
        .expect("load");
        checkup_edge::replication::broker::GateOptions {
            config: checkup_provisioning::tls::server_config(
                &creds,
                checkup_provisioning::tls::ClientAuth::Required(&trust),
            )
            .expect("gate"),
            venue: venue.to_owned(),
        }
    });
    checkup_edge::replication::broker::start("127.0.0.1:0".parse().expect("addr"), gate.as_ref())
        .expect("broker")
}

async fn start(c: &Config, key: &NodeKey) -> Running {
    std::fs::create_dir_all(&c.data_dir).expect("dir");
    std::fs::write(c.data_dir.join("node.key"), key.to_bytes()).expect("key");
    let edge = Edge::open_with_cards(c, checkup_edge::cards::Cards::disabled()).expect("open");
    let store = edge.state().store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let stop = CancellationToken::new();
    let s = stop.clone();
    let task = tokio::spawn(async move {
        let _ = edge
            .serve(listener, async move { s.cancelled().await })
            .await;
    });
    Running { store, stop, task }
}

async fn connected(boxes: &[&Running]) {
    // Each box has asked on connecting; one event from each proves the links are up.
    let deadline = Instant::now() + Duration::from_secs(20);
    for b in boxes {
        append(&b.store).await;
    }
    let want = boxes.len() as u64;
    loop {
        let ok = boxes.iter().all(|b| b.store.ledger().event_count() >= want);
        if ok {
            return;
        }
        assert!(Instant::now() < deadline, "boxes never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn append(store: &EventStore) -> Uuid {
    let id = Uuid::now_v7();
    let draft = Draft {
        id: Some(id),
        actor: Actor {
            staff_id: "R1".into(),
            role: Role::Reception,
        },
        body: EventBody::SessionOpened(SessionOpened {
            session_id: Uuid::now_v7(),
            resident_id: "0000000001".into(),
            stations: vec![StationKind::Measurement],
            card: None,
            insurer: None,
        }),
    };
    store.append_local(vec![draft]).await.expect("append");
    id
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn latency(seconds: u64) {
    let dir = tempfile::tempdir().expect("dir");
    let venue = format!("bench-{}", Uuid::now_v7().simple());
    let broker = broker(dir.path(), &venue);
    let keys: Vec<NodeKey> = (0..BOXES).map(|_| NodeKey::generate()).collect();
    let mut boxes = Vec::new();
    for i in 0..BOXES {
        boxes.push(start(&config(dir.path(), &venue, i, &keys, broker.addr), &keys[i]).await);
    }
    connected(&boxes.iter().collect::<Vec<_>>()).await;

    let sent: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    let lat: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut watchers = Vec::new();
    for (i, b) in boxes.iter().enumerate() {
        let mut rx = b.store.subscribe();
        let (sent, lat) = (sent.clone(), lat.clone());
        let me = format!("edge-{i:02}");
        watchers.push(tokio::spawn(async move {
            while let Ok(e) = rx.recv().await {
                let now = Instant::now();
                if e.node == me {
                    continue;
                }
                let t0 = sent.lock().expect("lock").get(&e.id).copied();
                if let Some(t0) = t0 {
                    lat.lock()
                        .expect("lock")
                        .push(now.saturating_duration_since(t0));
                }
            }
        }));
    }
    let total = seconds * 50;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for n in 0..total {
        tick.tick().await;
        let b = &boxes[n as usize % BOXES];
        // From the origin station's save (the append call) to the commit at each other
        // box: origin durability, publish, broker, verification and durable commit.
        let id = Uuid::now_v7();
        let draft = Draft {
            id: Some(id),
            actor: Actor {
                staff_id: "S1".into(),
                role: Role::Reception,
            },
            body: EventBody::SessionOpened(SessionOpened {
                session_id: Uuid::now_v7(),
                resident_id: format!("{n:010}"),
                stations: vec![StationKind::Measurement],
                card: None,
                insurer: None,
            }),
        };
        sent.lock().expect("lock").insert(id, Instant::now());
        b.store.append_local(vec![draft]).await.expect("append");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut v = lat.lock().expect("lock").clone();
    v.sort();
    let expected = total as usize * (BOXES - 1);
    println!(
        "| latency | {BOXES} boxes, 50 events/s, {seconds} s | {} of {expected} deliveries | p50 {} ms | p90 {} ms | p99 {} ms | max {} ms |",
        v.len(),
        ms(pct(&v, 0.5)),
        ms(pct(&v, 0.9)),
        ms(pct(&v, 0.99)),
        ms(pct(&v, 1.0)),
    );
    for b in boxes {
        b.stop.cancel();
        let _ = b.task.await;
    }
    for w in watchers {
        w.abort();
    }
}

async fn catchup(missed: usize) {
    let dir = tempfile::tempdir().expect("dir");
    let venue = format!("bench-{}", Uuid::now_v7().simple());
    let broker = broker(dir.path(), &venue);
    let keys: Vec<NodeKey> = (0..BOXES).map(|_| NodeKey::generate()).collect();
    let configs: Vec<Config> = (0..BOXES)
        .map(|i| config(dir.path(), &venue, i, &keys, broker.addr))
        .collect();
    let mut boxes = Vec::new();
    for i in 0..BOXES {
        boxes.push(start(&configs[i], &keys[i]).await);
    }
    connected(&boxes.iter().collect::<Vec<_>>()).await;
    let late = boxes.pop().expect("box");
    late.stop.cancel();
    let _ = late.task.await;
    let before = late.store.ledger().event_count();

    // The others record while it is away, in station-sized batches.
    let per_box = missed / boxes.len();
    let mut tasks = Vec::new();
    for b in &boxes {
        let store = b.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut left = per_box;
            while left > 0 {
                let n = left.min(50);
                let drafts = (0..n)
                    .map(|k| Draft {
                        id: None,
                        actor: Actor {
                            staff_id: "R1".into(),
                            role: Role::Reception,
                        },
                        body: EventBody::SessionOpened(SessionOpened {
                            session_id: Uuid::now_v7(),
                            resident_id: format!("{k:010}"),
                            stations: vec![StationKind::Measurement],
                            card: None,
                            insurer: None,
                        }),
                    })
                    .collect();
                store.append_local(drafts).await.expect("append");
                left -= n;
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let missed = per_box * boxes.len();
    let want = before + missed as u64;
    // All ten boxes share two cores here: let the nine finish replicating among themselves
    // first, so that only the returning box's catch-up is timed.
    let deadline = Instant::now() + Duration::from_secs(120);
    while boxes.iter().any(|b| b.store.ledger().event_count() < want) {
        assert!(Instant::now() < deadline, "the nine never converged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // …and their stores checkpoint after the burst.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let t0 = Instant::now();
    let back = start(&configs[BOXES - 1], &keys[BOXES - 1]).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last_print = Instant::now();
    while back.store.ledger().event_count() < want {
        assert!(Instant::now() < deadline, "never caught up");
        tokio::time::sleep(Duration::from_millis(2)).await;
        if std::env::var_os("BENCH_TRACE").is_some()
            && last_print.elapsed() > Duration::from_millis(100)
        {
            last_print = Instant::now();
            eprintln!("{:?} {}", t0.elapsed(), back.store.ledger().event_count());
        }
    }
    let took = t0.elapsed();
    println!(
        "| catch-up | 1 box of {BOXES} missed {missed} events from {} boxes | held all after {} ms (restart included) | {:.0} events/s |",
        boxes.len(),
        ms(took),
        missed as f64 / took.as_secs_f64()
    );
    back.stop.cancel();
    let _ = back.task.await;
    for b in boxes {
        b.stop.cancel();
        let _ = b.task.await;
    }
}

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    checkup_provisioning::tls::install_provider();
    let flag = |f: &str| std::env::args().any(|a| a == f);
    let (tls, sqlcipher) = (
        flag("--secure") || flag("--tls"),
        flag("--secure") || flag("--sqlcipher"),
    );
    let pki_dir = tempfile::tempdir().expect("dir");
    if tls {
        checkup_provisioning::ca::create_ca(pki_dir.path(), "bench", 30).expect("ca");
        let _ = PKI.set(pki_dir.path().to_path_buf());
        println!("Security: MQTT over TLS with client certificates through the gate.");
    }
    let _ = SQLCIPHER.set(sqlcipher);
    if sqlcipher {
        println!("Security: SQLCipher stores.");
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let which = args.first().cloned().unwrap_or_default();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("| case | setup | result | | | | |");
    println!("|---|---|---|---|---|---|---|");
    if which.is_empty() || which == "latency" {
        rt.block_on(latency(seconds));
    }
    if which.is_empty() || which == "catchup" {
        rt.block_on(catchup(10_000));
    }
}
