//! Scale-out on PostgreSQL with real processes (issue 21): several stateless
//! `checkup-central` processes on one database, boxes forwarding to any of them, and the
//! record reads answered from a streaming hot standby.
//!
//! - `two_centrals_share_one_database_…`: two central processes on one fresh database of
//!   the machine's PostgreSQL; one real box lists both (`[central] urls`) and records a few
//!   thousand events while central 1 is SIGKILLed mid-stream (twice) and restarted. The
//!   database ends with every event of the box exactly once (count = the box's count = its
//!   highest seq = the node's head, no gap), both processes took batches, and a staff
//!   sign-in at one process is honoured at the other (sign-out and idle time-out too).
//! - `record_reads_come_from_the_hot_standby_…`: a primary cluster of the test's own
//!   (`initdb`) and a hot standby of it (`pg_basebackup -R`); central on both. A day is
//!   ingested over HTTP; with the standby's replay paused a new checkup is stored but the
//!   record does not show it yet (the record is read from the standby), and shows it once
//!   replay resumes; with the standby down the record is refused (503) while ingest goes
//!   on; with the primary down ingest is refused (503, nothing lost: the batch is stored
//!   once the primary is back) and so is the record — its access cannot be audited.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementRecorded, NodeKey, Role, SessionOpened,
    StationKind,
};
use checkup_tests::central::{Setup, free_port, setup, sha256_hex, start_box};
use checkup_tests::venue::{self, Load, Staff};
use checkup_tests::{Process, binary, hash_pin};
use serde_json::{Value, json};
use uuid::Uuid;

/// A configuration for one central process of `s`, listening on `port`, with the keys
/// `top` (before any table) and central staff C1 (central admin, PIN 1234).
fn central_config(s: &Setup, port: u16, top: &str) -> PathBuf {
    let text = std::fs::read_to_string(&s.central_config).expect("central config");
    let listen = text
        .lines()
        .find(|l| l.starts_with("listen"))
        .expect("listen")
        .to_owned();
    let text = text.replace(&listen, &format!("listen = \"127.0.0.1:{port}\""));
    let text = format!(
        "{top}{text}\n[[staff]]\nid = \"C1\"\nname = \"保健 太郎\"\nrole = \"central_admin\"\npin_hash = \"{}\"\n",
        hash_pin("1234")
    );
    let path = s.dir().join(format!("central-{port}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}

/// Start `checkup-central run` on plain HTTP.
fn start_central_at(config: &Path) -> Process {
    let bin = binary("checkup-central", "checkup-central").expect("central binary");
    let cfg = config.display().to_string();
    Process::start(
        &bin,
        &["run", "--config", &cfg, "--insecure-dev"],
        Duration::from_secs(30),
    )
    .expect("central starts")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn health(base: &str) -> Option<Value> {
    http()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

/// Batches `base` stored since it started (`None`: not answering).
async fn batches_stored(base: &str) -> Option<u64> {
    health(base).await?["batches_stored"].as_u64()
}

/// Sign in at central `base` as C1; the `cc_session=…` cookie.
async fn central_login(base: &str) -> String {
    let r = http()
        .post(format!("{base}/v1/login"))
        .json(&json!({"staff_id": "C1", "pin": "1234"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200, "sign-in at {base}");
    r.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_owned()
}

/// GET `path` at `base` with `cookie`: status and body.
async fn get(base: &str, cookie: &str, path: &str) -> (u16, Value) {
    let r = http()
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn pg(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    tokio::spawn(conn);
    c
}

/// Reception on the box records `load` until `stop`, counting what the box stored.
async fn writer(base: String, load: Load, recorded: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let staff = venue::login_retry(&base, "R1").await.expect("reception");
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match staff.post("/api/events", &load.event(n)).await {
            Ok((201, _)) => {
                recorded.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
            other => panic!("box refused event {n}: {other:?}"),
        }
    }
}

const WRITERS: u32 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_centrals_share_one_database_and_lose_nothing_when_one_is_killed_mid_stream() {
    let db = checkup_tests::pg::TempDatabase::create("checkup_scale")
        .await
        .expect("database");
    let s = setup(&db.url(), 1);
    let (port1, port2) = (free_port(), free_port());
    let cfg1 = central_config(&s, port1, "idle_timeout_secs = 3\n");
    let cfg2 = central_config(&s, port2, "idle_timeout_secs = 3\n");
    let (url1, url2) = (
        format!("http://127.0.0.1:{port1}"),
        format!("http://127.0.0.1:{port2}"),
    );
    // The box lists both centrals, and sends small batches so that the stream is long.
    let box_cfg = &s.box_configs[0];
    let text = std::fs::read_to_string(box_cfg).expect("box config");
    let text = text
        .replace(
            &format!("url = \"{}\"", s.central_url),
            &format!("urls = [\"{url1}\", \"{url2}\"]"),
        )
        .replace("batch_events = 100", "batch_events = 20");
    assert!(text.contains("urls = ["), "{text}");
    std::fs::write(box_cfg, text).expect("box config");
    let edge = start_box(box_cfg);

    // Reception records, first with no central up: a backlog of about 1500 events.
    let loads: Vec<Load> = (0..WRITERS).map(Load::new).collect();
    let residents: Vec<String> = loads.iter().flat_map(Load::residents).collect();
    venue::book(&edge.url, &residents).await.expect("roster");
    let recorded = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = loads
        .into_iter()
        .map(|l| tokio::spawn(writer(edge.url.clone(), l, recorded.clone(), stop.clone())))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while recorded.load(Ordering::Relaxed) < 1500 {
        assert!(Instant::now() < deadline, "the box records too slowly");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Both centrals come up; central 1 is killed as soon as it has stored a batch, while the
    // backlog and new events still flow — twice — then comes back for good.
    let events = pg(&db.url()).await;
    let count = async || -> i64 {
        events
            .query_one("SELECT count(*) FROM events", &[])
            .await
            .map_or(-1, |r| r.get(0))
    };
    let mut central2 = start_central_at(&cfg2);
    let mut central1 = start_central_at(&cfg1);
    let started = Instant::now();
    let mut taken_by_1 = 0u64;
    let mut kills = Vec::new();
    for round in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let seen = loop {
            if let Some(n) = batches_stored(&url1).await
                && n > 0
            {
                break n;
            }
            assert!(
                Instant::now() < deadline,
                "central 1 took no batch (round {round})"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        central1.kill9();
        let at_kill = count().await;
        let on_box = recorded.load(Ordering::Relaxed) as i64;
        assert!(
            at_kill < on_box,
            "round {round}: the stream had ended before the kill ({at_kill} of {on_box})"
        );
        taken_by_1 += seen;
        kills.push((at_kill, on_box));
        tokio::time::sleep(Duration::from_millis(800)).await;
        central1 = start_central_at(&cfg1);
        // More events while central 1 is back, for the next round.
        let target = recorded.load(Ordering::Relaxed) + 300;
        while recorded.load(Ordering::Relaxed) < target {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Central 1's last life takes batches too; then reception stops.
    let deadline = Instant::now() + Duration::from_secs(30);
    while batches_stored(&url1).await.unwrap_or(0) == 0 {
        assert!(
            Instant::now() < deadline,
            "restarted central 1 took no batch"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    let total = recorded.load(Ordering::Relaxed);
    let on_box = health(&edge.url).await.expect("box health")["events"]
        .as_u64()
        .expect("box events");
    assert_eq!(on_box, total, "the box holds what reception recorded");

    // Everything arrives, once.
    let deadline = Instant::now() + Duration::from_secs(90);
    while count().await != total as i64 {
        assert!(
            Instant::now() < deadline,
            "database holds {} of {total} events",
            count().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_in = started.elapsed();
    let row = events
        .query_one(
            "SELECT count(*), count(DISTINCT id), max(seq), min(seq),
                    (SELECT contiguous FROM node_heads WHERE node = 'edge-01')
             FROM events WHERE node = 'edge-01'",
            &[],
        )
        .await
        .expect("query");
    let (n, ids, max, min, head): (i64, i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    assert_eq!(
        (n, ids, min, max, head),
        (total as i64, total as i64, 1, total as i64, total as i64),
        "(events, distinct ids, min seq, max seq, head) of edge-01"
    );
    let nodes: i64 = events
        .query_one("SELECT count(*) FROM node_heads", &[])
        .await
        .expect("heads")
        .get(0);
    assert_eq!(nodes, 1);
    // The box agrees: nothing left to send, central's head is its last seq.
    let admin = Staff::login(&edge.url, "A1").await.expect("admin");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let f = admin.get("/api/forward/status").await.expect("status");
        if f["queue_depth"] == 0 && f["acked"]["edge-01"].as_u64() == Some(total) {
            break;
        }
        assert!(Instant::now() < deadline, "forwarder: {f}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let last_life_1 = batches_stored(&url1).await.unwrap_or(0);
    let taken_by_2 = batches_stored(&url2).await.unwrap_or(0);
    assert!(taken_by_2 > 0 && last_life_1 > 0);
    eprintln!(
        "{total} events exactly once; central 1 stored at least {} batches over three lives \
         (killed at {kills:?} = (events in the database, events on the box)), central 2 stored \
         {taken_by_2}; all in {:.1} s after the centrals started",
        taken_by_1 + last_life_1,
        all_in.as_secs_f64()
    );

    // A sign-in at one process is honoured at the other; the database holds the token's
    // digest, never the token.
    let cookie = central_login(&url1).await;
    let token = cookie.trim_start_matches("cc_session=");
    let held = async |key: &str| -> i64 {
        events
            .query_one(
                "SELECT count(*) FROM staff_sessions WHERE token_sha256 = $1",
                &[&key],
            )
            .await
            .expect("sessions")
            .get(0)
    };
    assert_eq!((held(token).await, held(&sha256_hex(token)).await), (0, 1));
    let search = "/v1/residents?q=x";
    assert_eq!(get(&url2, &cookie, search).await.0, 200, "cookie of 1 at 2");
    assert_eq!(get(&url1, &cookie, search).await.0, 200);
    // Activity at either keeps it (5 s of requests, idle time-out 3 s).
    for i in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let base = if i % 2 == 0 { &url1 } else { &url2 };
        assert_eq!(get(base, &cookie, search).await.0, 200, "request {i}");
    }
    // Signing out at 2 ends it at 1.
    let r = http()
        .post(format!("{url2}/v1/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);
    assert!(
        r.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("Max-Age=0")),
        "the cookie is cleared"
    );
    let (st, v) = get(&url1, &cookie, search).await;
    assert_eq!((st, v["error"].as_str()), (401, Some("sign_in_required")));
    // Idle for longer than the time-out: ended everywhere.
    let cookie = central_login(&url2).await;
    assert_eq!(get(&url1, &cookie, search).await.0, 200);
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let (st, v) = get(&url1, &cookie, search).await;
    assert_eq!(st, 401, "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("expired"),
        "{v}"
    );
    assert_eq!(get(&url2, &cookie, search).await.0, 401);

    central1.kill9();
    central2.kill9();
    drop(edge);
    drop(events);
    db.drop_now().await;
}

// ---------------------------------------------------------------------------------------
// The hot standby.

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL tool run as the `postgres` user (the server refuses to run as root).
fn pg_tool(tool: &str) -> Command {
    let path = Path::new(PG_BIN).join(tool);
    assert!(
        path.exists(),
        "{} is missing: the standby test needs PostgreSQL 15's server binaries (apt-get install postgresql-15)",
        path.display()
    );
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn run_ok(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two clusters of the test's own: a primary and its streaming hot standby. Both are
/// stopped when dropped (also when the test panics).
struct Clusters {
    dir: tempfile::TempDir,
    primary_port: u16,
    standby_port: u16,
}

impl Clusters {
    fn data(&self, which: &str) -> PathBuf {
        self.dir.path().join(which)
    }

    fn url(port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/checkup")
    }

    fn pg_ctl(&self, which: &str, args: &[&str]) {
        let mut c = pg_tool("pg_ctl");
        c.arg("-D").arg(self.data(which)).args(args);
        if args.first() == Some(&"start") {
            c.arg("-l")
                .arg(self.dir.path().join(format!("{which}.log")));
        }
        run_ok(c, &format!("pg_ctl {which} {args:?}"));
    }

    /// `initdb` a primary, start it, create database `checkup`, `pg_basebackup -R` a
    /// standby from it and start that.
    async fn start() -> Clusters {
        let dir = tempfile::tempdir().expect("dir");
        let mut chown = Command::new("chown");
        chown.arg("postgres:postgres").arg(dir.path());
        if unsafe { libc::geteuid() } == 0 {
            run_ok(chown, "chown the clusters' directory to postgres");
        }
        let c = Clusters {
            dir,
            primary_port: free_port(),
            standby_port: free_port(),
        };
        let primary = c.data("primary");
        let mut initdb = pg_tool("initdb");
        initdb
            .arg("-D")
            .arg(&primary)
            .args(["-U", "postgres", "-A", "trust", "--no-sync"]);
        run_ok(initdb, "initdb");
        let sockets = c.dir.path().display().to_string();
        append(
            &primary.join("postgresql.conf"),
            &format!(
                "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{sockets}'\n\
                 wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n",
                c.primary_port
            ),
        );
        append(
            &primary.join("pg_hba.conf"),
            "\nhost replication all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n",
        );
        c.pg_ctl("primary", &["start", "-w"]);
        let admin = pg(&format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            c.primary_port
        ))
        .await;
        admin
            .batch_execute("CREATE DATABASE checkup")
            .await
            .expect("create database");
        let mut backup = pg_tool("pg_basebackup");
        backup
            .args(["-h", "127.0.0.1", "-p", &c.primary_port.to_string()])
            .args(["-U", "postgres", "-R", "-X", "stream", "-c", "fast", "-D"])
            .arg(c.data("standby"));
        run_ok(backup, "pg_basebackup");
        append(
            &c.data("standby").join("postgresql.conf"),
            &format!("\nport = {}\n", c.standby_port),
        );
        c.pg_ctl("standby", &["start", "-w"]);
        let standby = pg(&Clusters::url(c.standby_port)).await;
        let recovering: bool = standby
            .query_one("SELECT pg_is_in_recovery()", &[])
            .await
            .expect("standby")
            .get(0);
        assert!(recovering, "the standby is in recovery");
        c
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for which in ["standby", "primary"] {
            if self.data(which).join("postmaster.pid").exists() {
                let mut c = pg_tool("pg_ctl");
                c.arg("-D")
                    .arg(self.data(which))
                    .args(["stop", "-m", "immediate", "-w"]);
                let _ = c.output();
            }
        }
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Until the standby has replayed everything the primary has written; how long it took.
async fn replayed(primary: &tokio_postgres::Client, standby: &tokio_postgres::Client) -> Duration {
    let t = Instant::now();
    let lsn: String = primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .expect("primary lsn")
        .get(0);
    loop {
        let caught_up: bool = standby
            .query_one(
                "SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::text::pg_lsn) >= 0, false)",
                &[&lsn],
            )
            .await
            .expect("standby lsn")
            .get(0);
        if caught_up {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "standby never caught up with {lsn}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// 2026-11-25 09:00 JST.
const DAY_MS: u64 = 1_795_564_800_000;

/// Sign event `seq` of box edge-01.
fn seal(key: &NodeKey, venue: &str, seq: u64, body: EventBody) -> Event {
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
            staff_id: "N1".into(),
            role: Role::Nurse,
        },
        body,
        key,
    )
}

/// A checkup of `resident` (opening and height) from seq `seq`.
fn checkup(key: &NodeKey, venue: &str, seq: u64, resident: &str, cm: f64) -> Vec<Event> {
    let session = Uuid::now_v7();
    vec![
        seal(
            key,
            venue,
            seq,
            EventBody::SessionOpened(SessionOpened {
                session_id: session,
                resident_id: resident.into(),
                stations: vec![StationKind::Measurement],
                card: None,
                insurer: None,
            }),
        ),
        seal(
            key,
            venue,
            seq + 1,
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id: session,
                resident_id: resident.into(),
                station: StationKind::Measurement,
                item_code: "9N001000000000001".into(),
                value: MeasuredValue::Number(cm),
                unit: "cm".into(),
                confirmed: false,
                answered: None,
            }),
        ),
    ]
}

/// POST a batch as box edge-01: status and body.
async fn post_batch(base: &str, secret: &str, events: &[Event]) -> (u16, Value) {
    let r = http()
        .post(format!("{base}/v1/batches"))
        .bearer_auth(secret)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(events).expect("json"))
        .send()
        .await
        .expect("post");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// How many checkups the record of `resident` shows (`None`: refused, with the status).
async fn checkups_shown(base: &str, cookie: &str, resident: &str) -> Result<usize, (u16, Value)> {
    let (st, v) = get(base, cookie, &format!("/v1/residents/{resident}/record")).await;
    if st != 200 {
        return Err((st, v));
    }
    Ok(v["checkups"].as_array().map_or(0, Vec::len))
}

const RESIDENTS: u64 = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_reads_come_from_the_hot_standby_and_ingest_from_the_primary() {
    let clusters = Clusters::start().await;
    let (primary_url, standby_url) = (
        Clusters::url(clusters.primary_port),
        Clusters::url(clusters.standby_port),
    );
    let s = setup(&primary_url, 1);
    let port = free_port();
    let cfg = central_config(&s, port, &format!("database_standby = \"{standby_url}\"\n"));
    let central = start_central_at(&cfg);
    let base = central.url.clone();
    let key_bytes: [u8; 32] = std::fs::read(s.dir().join("edge-01/node.key"))
        .expect("node key")
        .try_into()
        .expect("32 bytes");
    let key = NodeKey::from_bytes(&key_bytes);
    let secret = s.secrets[0].clone();

    // The register and a day: a checkup (opening, height) for each of 150 residents.
    let cookie = central_login(&base).await;
    let ids: Vec<String> = (0..RESIDENTS).map(|i| format!("{:010}", 500 + i)).collect();
    let mut csv = String::from("resident_id,name,name_kana,birth_date,sex,address\n");
    for id in &ids {
        csv.push_str(&format!(
            "{id},試験 花子,シケン ハナコ,1960-04-01,female,みどり市1-{id}\n"
        ));
    }
    let r = http()
        .post(format!("{base}/v1/residents"))
        .header("cookie", &cookie)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 200);
    let mut day = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        day.extend(checkup(
            &key,
            &s.venue,
            1 + 2 * i as u64,
            id,
            150.0 + i as f64 / 10.0,
        ));
    }
    for chunk in day.chunks(100) {
        let (st, v) = post_batch(&base, &secret, chunk).await;
        assert_eq!(st, 200, "{v}");
    }
    let mut next_seq = day.len() as u64 + 1;
    let primary = pg(&primary_url).await;
    let standby = pg(&standby_url).await;
    let lag = replayed(&primary, &standby).await;
    let someone = &ids[7];
    assert_eq!(checkups_shown(&base, &cookie, someone).await, Ok(1));
    let (st, found) = get(&base, &cookie, &format!("/v1/residents?q={someone}")).await;
    assert_eq!(st, 200);
    assert_eq!(found["residents"][0]["name"], "試験 花子");

    // Replay paused: a new checkup is stored (at the primary), the record does not show it.
    standby
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replay");
    let (st, v) = post_batch(
        &base,
        &secret,
        &checkup(&key, &s.venue, next_seq, someone, 170.0),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    next_seq += 2;
    let on_primary: i64 = primary
        .query_one(
            "SELECT count(*) FROM sessions WHERE resident_id = $1",
            &[someone],
        )
        .await
        .expect("primary")
        .get(0);
    assert_eq!(on_primary, 2, "the primary holds the new checkup");
    assert_eq!(
        checkups_shown(&base, &cookie, someone).await,
        Ok(1),
        "the record is read from the standby, paused before the new checkup"
    );
    standby
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .expect("resume replay");
    replayed(&primary, &standby).await;
    assert_eq!(checkups_shown(&base, &cookie, someone).await, Ok(2));

    // Standby down: the record is refused, ingest goes on at the primary.
    clusters.pg_ctl("standby", &["stop", "-m", "fast", "-w"]);
    let refused = checkups_shown(&base, &cookie, someone).await;
    assert!(
        matches!(&refused, Err((503, v)) if v["error"] == "storage_unavailable"),
        "{refused:?}"
    );
    let (st, v) = post_batch(
        &base,
        &secret,
        &checkup(&key, &s.venue, next_seq, someone, 171.0),
    )
    .await;
    assert_eq!(st, 200, "ingest without the standby: {v}");
    next_seq += 2;
    clusters.pg_ctl("standby", &["start", "-w"]);
    let standby = pg(&standby_url).await;
    replayed(&primary, &standby).await;
    // The pool's connections to the stopped standby are recycled on first use.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match checkups_shown(&base, &cookie, someone).await {
            Ok(3) => break,
            other => assert!(
                Instant::now() < deadline,
                "after the standby's return: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Primary down: ingest is refused with a clear answer — and so is the record, whose
    // access could not be audited; nothing is lost once the primary is back.
    drop(primary);
    clusters.pg_ctl("primary", &["stop", "-m", "fast", "-w"]);
    let late = checkup(&key, &s.venue, next_seq, someone, 172.0);
    let (st, v) = post_batch(&base, &secret, &late).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (503, Some("storage_unavailable")),
        "{v}"
    );
    let refused = checkups_shown(&base, &cookie, someone).await;
    assert!(matches!(&refused, Err((503, _))), "{refused:?}");
    clusters.pg_ctl("primary", &["start", "-w"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (st, v) = post_batch(&base, &secret, &late).await;
        if st == 200 {
            assert_eq!(v["acked"]["edge-01"], next_seq + 1, "{v}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the primary's return: {st} {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let total = next_seq + 1;
    let primary = pg(&primary_url).await;
    replayed(&primary, &standby).await;
    for (name, c) in [("primary", &primary), ("standby", &standby)] {
        let row = c
            .query_one(
                "SELECT count(*), count(DISTINCT seq), max(seq) FROM events WHERE node = 'edge-01'",
                &[],
            )
            .await
            .expect("count");
        let (n, distinct, max): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            (n, distinct, max),
            (total as i64, total as i64, total as i64),
            "{name}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match checkups_shown(&base, &cookie, someone).await {
            Ok(4) => break,
            other => assert!(Instant::now() < deadline, "at the end: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "{total} events on the primary and the standby; the standby replayed the day {:.0} ms after its last batch",
        lag.as_secs_f64() * 1000.0
    );
    drop(central);
}
