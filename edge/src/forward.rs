//! Store-and-forward to central: every event this box holds reaches central exactly once,
//! through outages and restarts.
//!
//! ```text
//! event store ──(per node: events above central's ack)──► batch ──POST /v1/batches──► central
//!      ▲                                                                   │
//!      └───────── durable watermark (forward.sqlite3) ◄── acked heads ─────┘
//! ```
//!
//! - The watermark is, per node, the highest seq central has acknowledged holding every
//!   event up to. It is kept in `forward.sqlite3` (synchronous=FULL) and only ever raised
//!   from central's answers, so a restart resumes where central stands, never skips.
//!   An answer is a [`BatchAck`] (the type central writes it with); a success whose body
//!   is not one is a failure like a refusal, shown on the status and retried.
//! - A batch goes when `batch_events` are waiting or the oldest has waited `batch_age_ms`.
//!   Central is idempotent by (node, seq), so a batch resent after a crash between
//!   central's commit and our watermark write costs a round trip, not a duplicate.
//! - Failures back off exponentially (base 500 ms, cap `max_backoff_secs`) with full
//!   jitter, so boxes coming back together do not hammer central in step.
//! - Several centrals (`[central] urls`, central processes on one database behind one
//!   address or listed one by one) are taken in turn ([`Rotation`]): each batch goes to the
//!   next URL, so the load alternates; a failed batch is sent again at once to the next
//!   URL, and the box backs off only when every URL has failed in a row. Central stores
//!   exactly once by (node, seq) in its one database, so a batch one process stored and
//!   died before answering costs the next process a round trip of duplicates, not a
//!   duplicate event.
//! - Every box forwards everything it holds, so the venue's events reach central from any
//!   surviving box; central's answer covers all nodes, so boxes skip what another sent.
//! - The status (queue depth, oldest unforwarded event's age, last success and error, disk
//!   use against its bound) is on the board and `GET /api/forward/status`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use checkup_protocol::central::{BatchAck, ErrorAnswer};
use rusqlite::{Connection, params};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::CentralConfig;
use crate::log::store::EventStore;

/// Errors of the watermark file.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// SQLite.
    #[error("forward watermark: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The HTTP client could not be built (e.g. its TLS configuration).
    #[error("HTTP client for central: {0}")]
    Client(String),
}

/// What the board and the admin see.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ForwardStatus {
    /// A central is configured.
    pub enabled: bool,
    /// Events held but not yet acknowledged by central.
    pub queue_depth: u64,
    /// Age of the oldest unacknowledged event, in seconds.
    pub oldest_unforwarded_secs: Option<u64>,
    /// When central last acknowledged a batch (Unix seconds).
    pub last_success: Option<u64>,
    /// The last failure, if the last attempt failed.
    pub last_error: Option<String>,
    /// Events central acknowledged since start.
    pub forwarded: u64,
    /// Bytes used by the data directory.
    pub disk_bytes: u64,
    /// The configured bound.
    pub disk_limit_bytes: u64,
    /// Disk use is above 80 % of the bound.
    pub disk_alarm: bool,
    /// Per node, central's acknowledged head.
    pub acked: BTreeMap<String, u64>,
}

/// The watermark file.
pub struct Watermark {
    conn: Mutex<Connection>,
}

impl Watermark {
    /// Open (creating) `forward.sqlite3` in `dir`.
    pub fn open(dir: &Path) -> Result<Watermark, ForwardError> {
        let conn = Connection::open(dir.join("forward.sqlite3"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS acked (node TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
        )?;
        Ok(Watermark {
            conn: Mutex::new(conn),
        })
    }

    /// Per node, the acknowledged head.
    pub fn load(&self) -> Result<BTreeMap<String, u64>, ForwardError> {
        let c = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = c.prepare("SELECT node, seq FROM acked")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = BTreeMap::new();
        for r in rows {
            let (n, s) = r?;
            out.insert(n, s as u64);
        }
        Ok(out)
    }

    /// Raise the heads (never lower them), durably.
    pub fn raise(&self, acked: &BTreeMap<String, u64>) -> Result<(), ForwardError> {
        let mut c = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = c.transaction()?;
        for (n, s) in acked {
            tx.execute(
                "INSERT INTO acked VALUES (?1, ?2)
                 ON CONFLICT (node) DO UPDATE SET seq = max(seq, excluded.seq)",
                params![n, *s as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Bytes held by the files under `dir` (what `central.max_disk_mb` bounds).
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Full-jitter exponential back-off: a random delay in [d/2, d] where d doubles per failure.
fn backoff(failures: u32, cap: Duration) -> Duration {
    let base = Duration::from_millis(500);
    let d = base
        .saturating_mul(1u32 << failures.min(16))
        .min(cap)
        .max(base);
    let mut r = [0u8; 2];
    let _ = getrandom::fill(&mut r);
    let frac = 0.5 + f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX) / 2.0;
    d.mul_f64(frac)
}

/// The centrals a box forwards to, taken in turn.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// `…/v1/batches` of each central, in the configured order.
    endpoints: Vec<String>,
    /// Index of the central the next batch goes to.
    next: usize,
    /// Failures since the last acknowledgement, in this round of the rotation.
    failed_in_row: usize,
}

impl Rotation {
    /// The rotation over the base URLs `urls` (none: forwarding is off).
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> Option<Rotation> {
        let endpoints: Vec<String> = urls
            .into_iter()
            .map(|u| format!("{}/v1/batches", u.trim_end_matches('/')))
            .collect();
        (!endpoints.is_empty()).then_some(Rotation {
            endpoints,
            next: 0,
            failed_in_row: 0,
        })
    }

    /// Where the next batch goes.
    pub fn endpoint(&self) -> &str {
        &self.endpoints[self.next]
    }

    /// A batch was acknowledged: the next goes to the next central.
    pub fn acknowledged(&mut self) {
        self.failed_in_row = 0;
        self.next = (self.next + 1) % self.endpoints.len();
    }

    /// A batch failed: move to the next central. True when every central has now failed
    /// in a row — time to back off (the count starts again for the round after).
    pub fn failed(&mut self) -> bool {
        self.next = (self.next + 1) % self.endpoints.len();
        self.failed_in_row += 1;
        if self.failed_in_row >= self.endpoints.len() {
            self.failed_in_row = 0;
            true
        } else {
            false
        }
    }
}

/// The HTTP client for central: with the box's TLS (mutual TLS, central checked against
/// the municipality's CA), or plain without (`--insecure-dev`).
pub fn central_client(
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<reqwest::Client, ForwardError> {
    checkup_provisioning::tls::install_provider();
    let mut builder = reqwest::Client::builder().timeout(timeout);
    if let Some(tls) = tls {
        builder = builder.use_preconfigured_tls((*tls).clone());
    }
    builder
        .build()
        .map_err(|e| ForwardError::Client(e.to_string()))
}

/// Start forwarding `store`'s events to central until `shutdown`; a training box
/// (`training`) forwards nothing.
pub fn start(
    store: EventStore,
    config: CentralConfig,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    data_dir: PathBuf,
    status: std::sync::Arc<Mutex<ForwardStatus>>,
    shutdown: CancellationToken,
    training: bool,
) -> Result<tokio::task::JoinHandle<()>, ForwardError> {
    if training {
        // A rehearsal never reaches central, whatever the configuration says.
        if !config.all_urls().is_empty() {
            tracing::error!(
                "training mode: events are never forwarded to central; the configured central is ignored"
            );
        }
        if let Ok(mut s) = status.lock() {
            s.enabled = false;
            s.last_error = Some(
                "練習モード: 中央には送りません / training mode: nothing is forwarded to central"
                    .into(),
            );
        }
        return Ok(tokio::spawn(async {}));
    }
    let watermark = std::sync::Arc::new(Watermark::open(&data_dir)?);
    let mut acked = watermark.load()?;
    let Some(mut rotation) = Rotation::new(config.all_urls()) else {
        return Ok(tokio::spawn(async {}));
    };
    let secret = config.secret.clone().unwrap_or_default();
    let client = central_client(tls, Duration::from_secs(30))?;
    if let Ok(mut s) = status.lock() {
        s.enabled = true;
        s.disk_limit_bytes = config.max_disk_mb.saturating_mul(1024 * 1024);
        s.acked = acked.clone();
    }
    Ok(tokio::spawn(async move {
        let mut committed = store.subscribe();
        let mut failures = 0u32;
        let mut pending_since: Option<Instant> = None;
        let mut last_disk = Instant::now() - Duration::from_secs(3600);
        let cap = Duration::from_secs(config.max_backoff_secs.max(1));
        loop {
            if last_disk.elapsed() > Duration::from_secs(30) {
                last_disk = Instant::now();
                let dir = data_dir.clone();
                let used = tokio::task::spawn_blocking(move || dir_size(&dir))
                    .await
                    .unwrap_or(0);
                if let Ok(mut s) = status.lock() {
                    s.disk_bytes = used;
                    let alarm = s.disk_limit_bytes > 0 && used * 5 >= s.disk_limit_bytes * 4;
                    if alarm && !s.disk_alarm {
                        tracing::error!(
                            used,
                            limit = s.disk_limit_bytes,
                            "data directory above 80 % of its bound: forward and wipe, or make room"
                        );
                    }
                    s.disk_alarm = alarm;
                }
            }
            // What is waiting: per node, held contiguously beyond central's ack.
            let (held, oldest) = {
                let l = store.ledger();
                (l.held().contiguous_summary(), l.max_hlc())
            };
            let depth: u64 = held
                .iter()
                .map(|(n, h)| h.saturating_sub(acked.get(n).copied().unwrap_or(0)))
                .sum();
            if depth == 0 {
                pending_since = None;
            } else {
                pending_since.get_or_insert_with(Instant::now);
            }
            let first_pending = oldest_pending(&store, &held, &acked);
            if let Ok(mut s) = status.lock() {
                s.queue_depth = depth;
                s.oldest_unforwarded_secs = first_pending
                    .map(|ms| unix_now().saturating_sub(ms / 1000))
                    .or(oldest.filter(|_| depth > 0).map(|_| 0));
            }
            let due = depth >= config.batch_events as u64
                || pending_since
                    .is_some_and(|t| t.elapsed() >= Duration::from_millis(config.batch_age_ms));
            if !due {
                let wait = if depth == 0 {
                    Duration::from_secs(5)
                } else {
                    Duration::from_millis(config.batch_age_ms)
                        .saturating_sub(pending_since.map_or(Duration::ZERO, |t| t.elapsed()))
                };
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = committed.recv() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let body = {
                let store = store.clone();
                let (held, acked) = (held.clone(), acked.clone());
                let max = config.batch_events;
                tokio::task::spawn_blocking(move || batch(&store, &held, &acked, max))
                    .await
                    .unwrap_or_default()
            };
            let Some((body, n)) = body else {
                continue;
            };
            let endpoint = rotation.endpoint().to_owned();
            let sent = client
                .post(&endpoint)
                .bearer_auth(&secret)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let outcome = match sent {
                Ok(r) => read_answer(r).await,
                Err(e) => Err(format!("central unreachable: {e}")),
            };
            match outcome {
                Ok(ack) => {
                    let before: u64 = acked.values().sum();
                    for (node, seq) in &ack.acked {
                        let e = acked.entry(node.clone()).or_insert(0);
                        *e = (*e).max(*seq);
                    }
                    let (w, wm) = (acked.clone(), watermark.clone());
                    let durable = tokio::task::spawn_blocking(move || wm.raise(&w)).await;
                    if let Ok(Err(e)) = durable {
                        tracing::error!(error = %e, "cannot record central's acknowledgement; will resend");
                    }
                    failures = 0;
                    rotation.acknowledged();
                    let after: u64 = acked.values().sum();
                    if let Ok(mut s) = status.lock() {
                        s.last_success = Some(unix_now());
                        s.last_error = None;
                        s.forwarded += after.saturating_sub(before);
                        s.acked = acked.clone();
                    }
                    tracing::debug!(events = n, %endpoint, "batch acknowledged by central");
                }
                Err(msg) => {
                    if !rotation.failed() {
                        tracing::warn!(error = %msg, %endpoint, next = rotation.endpoint(), "forwarding failed; trying the next central at once");
                        if let Ok(mut s) = status.lock() {
                            s.last_error = Some(msg);
                        }
                        continue;
                    }
                    failures = failures.saturating_add(1);
                    let wait = backoff(failures, cap);
                    tracing::warn!(error = %msg, retry_in_ms = wait.as_millis() as u64, "forwarding failed");
                    if let Ok(mut s) = status.lock() {
                        s.last_error = Some(msg);
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }))
}

/// Central's answer to a batch: a [`BatchAck`] on success. A success whose body is not
/// one (a missing or renamed `acked`) is an error like any refusal — never "nothing
/// acknowledged" — so it shows on the status and the batch is sent again.
async fn read_answer(r: reqwest::Response) -> Result<BatchAck, String> {
    let status = r.status();
    let body = r
        .bytes()
        .await
        .map_err(|e| format!("central's answer ({status}): {e}"))?;
    if status.is_success() {
        serde_json::from_slice(&body).map_err(|e| {
            format!(
                "central answered {status} without an acknowledgement ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        })
    } else {
        Err(match serde_json::from_slice::<ErrorAnswer>(&body) {
            Ok(a) => format!("central answered {status}: {}: {}", a.error, a.message),
            Err(_) => format!(
                "central answered {status}: {}",
                String::from_utf8_lossy(&body)
            ),
        })
    }
}

/// HLC ms of the oldest event not yet acknowledged (the first unacked seq of each node).
fn oldest_pending(
    store: &EventStore,
    held: &BTreeMap<String, u64>,
    acked: &BTreeMap<String, u64>,
) -> Option<u64> {
    let mut oldest: Option<u64> = None;
    for (node, h) in held {
        let a = acked.get(node).copied().unwrap_or(0);
        if *h <= a {
            continue;
        }
        if let Ok(rows) = store.read_node_json(node, a, 1)
            && let Some((_, json)) = rows.first()
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(json)
            && let Some(ms) = v["hlc"]["ms"].as_u64()
        {
            oldest = Some(oldest.map_or(ms, |o| o.min(ms)));
        }
    }
    oldest
}

/// Most bytes of events in one batch (central takes 8 MiB by default; a case photo is an
/// event of up to 2 MB): a batch is cut before the event that would take it past this, and
/// always holds at least one.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Up to `max` events above the acks, node by node, as a JSON array of the stored texts,
/// cut at [`BATCH_BYTES`].
fn batch(
    store: &EventStore,
    held: &BTreeMap<String, u64>,
    acked: &BTreeMap<String, u64>,
    max: usize,
) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::with_capacity(max * 600);
    body.push(b'[');
    let mut n = 0;
    for (node, h) in held {
        let a = acked.get(node).copied().unwrap_or(0);
        if *h <= a || n >= max {
            continue;
        }
        let want = ((*h - a) as usize).min(max - n);
        let rows = store.read_node_json(node, a, want).ok()?;
        for (_, json) in rows {
            if n > 0 && body.len() + json.len() + 2 > BATCH_BYTES {
                body.push(b']');
                return Some((body, n));
            }
            if n > 0 {
                body.push(b',');
            }
            body.extend_from_slice(json.as_bytes());
            n += 1;
        }
    }
    body.push(b']');
    (n > 0).then_some((body, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_of_case_photos_stay_within_central_s_body_limit() {
        use base64::Engine as _;
        use checkup_protocol::{Actor, EventBody, NodeKey, Role};
        let dir = tempfile::tempdir().expect("dir");
        let store = EventStore::open(
            &dir.path().join("events.sqlite3"),
            crate::log::store::StoreOptions {
                venue: "v".into(),
                node: "edge-01".into(),
                max_batch_events: 64,
                key: None,
                training: false,
            },
            NodeKey::generate(),
        )
        .expect("store");
        let max = checkup_protocol::notice::MAX_PHOTO_BYTES;
        let drafts = (0..6)
            .map(|i| {
                let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, i];
                jpeg.resize(max, 0x55);
                crate::log::store::Draft {
                    id: None,
                    actor: Actor {
                        staff_id: "K1".into(),
                        role: Role::Caseworker,
                    },
                    body: EventBody::CasePhotoAdded(checkup_protocol::CasePhotoAdded {
                        case_id: uuid::Uuid::now_v7(),
                        photo_id: uuid::Uuid::now_v7(),
                        jpeg: base64::engine::general_purpose::STANDARD.encode(&jpeg),
                        width: 2048,
                        height: 1536,
                        note: None,
                        location: None,
                    }),
                }
            })
            .collect();
        store.append_local_blocking(drafts).expect("appended");
        let held = BTreeMap::from([("edge-01".to_owned(), 6u64)]);
        let mut acked = BTreeMap::new();
        let mut sent = 0;
        while let Some((body, n)) = batch(&store, &held, &acked, 500) {
            assert!(
                body.len() <= 8 * 1024 * 1024, // central takes 8 MiB a batch by default
                "{} bytes in {n} events",
                body.len()
            );
            let events: Vec<serde_json::Value> = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(events.len(), n);
            sent += n;
            acked.insert("edge-01".to_owned(), sent as u64);
        }
        assert_eq!(sent, 6, "every photo sent");
        store.close_blocking();
    }

    #[test]
    fn batches_alternate_and_a_failure_moves_on_at_once_then_backs_off() {
        assert!(Rotation::new([]).is_none());
        let mut r = Rotation::new(["http://a/", "http://b", "http://c"]).expect("three");
        let mut to = Vec::new();
        for _ in 0..4 {
            to.push(r.endpoint().to_owned());
            r.acknowledged();
        }
        assert_eq!(
            to,
            [
                "http://a/v1/batches",
                "http://b/v1/batches",
                "http://c/v1/batches",
                "http://a/v1/batches"
            ]
        );
        // Now at b: b fails, then c — each moves on at once; a third failure in a row
        // (every central) is the time to back off.
        assert_eq!(r.endpoint(), "http://b/v1/batches");
        assert!(!r.failed());
        assert_eq!(r.endpoint(), "http://c/v1/batches");
        assert!(!r.failed());
        assert_eq!(r.endpoint(), "http://a/v1/batches");
        assert!(r.failed(), "all three failed in a row");
        // After the back-off, a whole round again before the next one.
        assert!(!r.failed());
        assert!(!r.failed());
        assert!(r.failed());
        // A success in between starts the count again.
        assert!(!r.failed());
        r.acknowledged();
        assert!(!r.failed());
        assert!(!r.failed());
        assert!(r.failed());
        // One central: every failure backs off, as before.
        let mut one = Rotation::new(["http://a"]).expect("one");
        assert!(one.failed());
        one.acknowledged();
        assert_eq!(one.endpoint(), "http://a/v1/batches");
        assert!(one.failed());
    }

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let cap = Duration::from_secs(60);
        for f in 0..20 {
            let d = backoff(f, cap);
            assert!(d >= Duration::from_millis(250) && d <= cap, "{f}: {d:?}");
        }
        assert!(backoff(12, cap) >= Duration::from_secs(30));
    }

    #[test]
    fn the_watermark_only_rises_and_survives_reopening() {
        let dir = tempfile::tempdir().expect("dir");
        let w = Watermark::open(dir.path()).expect("open");
        w.raise(&BTreeMap::from([("a".into(), 5), ("b".into(), 2)]))
            .expect("raise");
        w.raise(&BTreeMap::from([("a".into(), 3)])).expect("raise");
        drop(w);
        let w = Watermark::open(dir.path()).expect("reopen");
        assert_eq!(
            w.load().expect("load"),
            BTreeMap::from([("a".into(), 5), ("b".into(), 2)])
        );
    }
}
