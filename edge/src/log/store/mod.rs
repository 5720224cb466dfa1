//! The edge box's event store: an append-only, durable log of signed events in SQLite.
//!
//! # Invariants
//!
//! 1. **Acknowledged means durable.** An append's reply is sent only after the SQLite
//!    transaction holding it has committed in WAL mode *and* the WAL file has been flushed
//!    with `fdatasync` — the same guarantee as `synchronous=FULL`, which flushes the WAL
//!    at every commit. An HTTP 2xx is sent only after that reply, so an acknowledged event
//!    survives `kill -9` and power loss.
//! 2. **One writer, group commit, flushing off the writer.** A single writer thread owns
//!    the write connection. Callers send requests over a channel; the writer takes every
//!    request already waiting (up to `max_batch_events`), signs the new events and commits
//!    them in one transaction with `synchronous=OFF`, then hands the group to the syncer
//!    thread ([`syncer`]). The syncer flushes the WAL once for every group committed
//!    since its previous flush and only then updates the projection, publishes and
//!    answers. Durability costs one flush per *batch of groups*, and the next group is
//!    prepared while the disk works.
//! 3. **Sequence numbers without gaps.** The writer alone assigns this node's `seq` (and
//!    the HLC timestamp) and signs the event, in the same thread that commits it. A failed
//!    transaction rolls the counter back, so the log holds `1..=n` for this node and
//!    "highest contiguous seq" (forwarding, anti-entropy) is simply the count.
//! 4. **Only valid events are signed.** Every draft is checked with the protocol's own
//!    validation (the rules peers and central apply on receipt) before it gets a sequence
//!    number, so the box never signs an event that its peers or central would refuse.
//! 5. **Idempotent by (node, seq) and by event id.** Appending an event that is already
//!    stored (a replayed replication message, a tablet retrying a save with the same
//!    event id) answers with the stored event and changes nothing. A *different* event
//!    under an existing (node, seq) or id is a conflict and is refused.
//! 6. **Projections follow durable commits.** The in-memory [`Projection`] is rebuilt from
//!    the log at open and updated by the syncer after each flush, before replies are sent,
//!    so a caller that got its reply sees its event in the projection, and nothing that
//!    could still be lost is ever shown.
//! 7. **Checkpoints are safe.** The writer connection never checkpoints on its own
//!    (`wal_autocheckpoint=0`). Every 256 commits, when idle, and at close, the writer waits
//!    for the syncer to flush, switches to `synchronous=FULL` and checkpoints, so SQLite
//!    flushes the WAL before copying it and the database file before the WAL is reused.
//!
//! # On-disk layout
//!
//! `events(pos INTEGER PRIMARY KEY, node, seq, id UNIQUE, hlc_ms, hlc_c, kind, resident,
//! json)` with `UNIQUE(node, seq)`; `pos` is the local arrival order used by readers'
//! cursors. `json` is the exact wire form, so a forwarded event is byte-identical to the
//! stored one and its signature still verifies. `meta` holds the schema version, venue and
//! node id, and the hash chain's sealed head ([`chain`]); opening a data directory of
//! another node or venue, or one whose chain does not hold, is refused.
//!
//! # Shutdown
//!
//! [`EventStore::close`] drops the request channel; the writer finishes every request it
//! has already received, checkpoints the WAL and exits; `close` waits for it.

pub mod chain;
mod ledger;
mod schema;
mod sequencer;
mod syncer;
pub mod version_vector;
mod writer;

pub use ledger::Ledger;
pub use version_vector::VersionVector;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use checkup_protocol::{Actor, Event, EventBody, HlcClock, NodeKey};
use rusqlite::Connection;
use thiserror::Error;
use tokio::sync::{broadcast, oneshot};
use uuid::Uuid;

use crate::log::projection::Projection;

pub use writer::Outcome;

/// An event as a staff member's action produces it, before the store gives it a sequence
/// number, a timestamp and a signature.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Client-chosen event id, so a retried save is recognised; `None` to let the store
    /// choose a fresh UUIDv7.
    pub id: Option<Uuid>,
    /// Who acts.
    pub actor: Actor,
    /// What happened.
    pub body: EventBody,
}

/// Errors from the event store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite failed (disk full, I/O error, corrupt file).
    #[error("event store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The commit failed (disk full, I/O error); nothing of the request was stored.
    #[error("not stored, the event store failed: {0}")]
    Unavailable(String),
    /// A different event already holds this id or (node, seq).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The draft breaks the protocol's rules, which every peer and central apply: the box
    /// never signs what others would refuse. Nothing was stored.
    #[error("{0}")]
    Invalid(#[from] checkup_protocol::ProtocolError),
    /// The data directory belongs to another node or venue, or has a newer schema.
    #[error("data directory {path}: {reason}")]
    WrongStore {
        /// The database file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// A training event offered to a real box's store, or a real event to a training box's
    /// (`checkup-edge training`): a rehearsal is never mixed into a real day. Nothing of
    /// the call was stored.
    #[error("{}", if *training {
        "a training event (練習モード) is never stored with a real day's events"
    } else {
        "a real event is never stored in a training box (練習モード)"
    })]
    TrainingMismatch {
        /// Whether the refused event is a training event.
        training: bool,
    },
    /// The store is shutting down (or its writer died) and accepts nothing more.
    #[error("event store is closed")]
    Closed,
    /// A stored row could not be decoded (the file was edited or is corrupt).
    #[error("stored event at pos {pos} is unreadable: {reason}")]
    Corrupt {
        /// Row position.
        pos: i64,
        /// Decoder message.
        reason: String,
    },
}

/// Settings of the store, from the box configuration.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Venue this box serves; every local event carries it.
    pub venue: String,
    /// This box's node id.
    pub node: String,
    /// Most events committed in one transaction.
    pub max_batch_events: usize,
    /// The box's data key: the file is encrypted with SQLCipher (None: plain SQLite).
    pub key: Option<crate::at_rest::DataKey>,
    /// A training box (`checkup-edge training`): every local event is sealed as a training
    /// event, and only training events are accepted from elsewhere (a real box: only real
    /// ones).
    pub training: bool,
}

/// A stored event with its local position.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Local arrival order, for cursors.
    pub pos: i64,
    /// The event.
    pub event: Arc<Event>,
}

/// Counters of the writer, for the admin page and benchmarks.
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Transactions committed (one fsync each).
    pub commits: std::sync::atomic::AtomicU64,
    /// Events newly stored.
    pub events: std::sync::atomic::AtomicU64,
    /// Requests answered.
    pub requests: std::sync::atomic::AtomicU64,
    /// Flushes of the log (one covers every commit since the previous one).
    pub syncs: std::sync::atomic::AtomicU64,
}

impl StoreStats {
    /// Average events per flush of the log.
    pub fn events_per_sync(&self) -> f64 {
        use std::sync::atomic::Ordering::Relaxed;
        let s = self.syncs.load(Relaxed);
        if s == 0 {
            0.0
        } else {
            self.events.load(Relaxed) as f64 / s as f64
        }
    }

    /// Average events per committed transaction.
    pub fn events_per_commit(&self) -> f64 {
        use std::sync::atomic::Ordering::Relaxed;
        let c = self.commits.load(Relaxed);
        if c == 0 {
            0.0
        } else {
            self.events.load(Relaxed) as f64 / c as f64
        }
    }
}

/// Requests with at least this many new events are signed on every core.
const PARALLEL_SEALING_FROM: usize = 8;

/// Client ids claimed by a request; released on drop unless handed to the writer.
struct Claims<'a> {
    in_flight: &'a sequencer::InFlight,
    ids: Vec<Uuid>,
}

impl Drop for Claims<'_> {
    fn drop(&mut self) {
        self.in_flight.release(std::mem::take(&mut self.ids));
    }
}

/// Reports a reservation that was never handed to the writer (a panic while sealing), so
/// the writer rewinds instead of waiting forever for the missing seqs.
struct AbandonGuard<'a> {
    store: &'a EventStore,
    epoch: u64,
    armed: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self
                .store
                .send(writer::Request::Abandoned { epoch: self.epoch });
        }
    }
}

/// Handle to the event store. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Requests to the writer; `None` once closed.
    tx: Mutex<Option<std::sync::mpsc::Sender<writer::Request>>>,
    /// The writer thread, joined on close.
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Read-only connection for cursors and lookups (WAL lets it read during commits).
    reader: Mutex<Connection>,
    /// Current state, kept by the syncer.
    projection: Arc<RwLock<Projection>>,
    /// What is held of each node's sequence, kept by the syncer.
    ledger: Arc<RwLock<Ledger>>,
    /// Every committed event, for live pages and replication.
    committed: broadcast::Sender<Arc<Event>>,
    /// Writer counters.
    stats: Arc<StoreStats>,
    /// Seqs, timestamps for this node's events.
    sequencer: Arc<sequencer::Sequencer>,
    /// Client ids of unanswered requests.
    in_flight: Arc<sequencer::InFlight>,
    /// The node's signing key.
    key: NodeKey,
    /// Where the database lives.
    path: PathBuf,
    options: StoreOptions,
}

impl EventStore {
    /// Open (or create) the store at `path`, rebuild the projection from the log and start
    /// the writer thread.
    pub fn open(path: &Path, options: StoreOptions, key: NodeKey) -> Result<Self, StoreError> {
        let sealer = chain::Sealer::new(&key, &options.venue, &options.node);
        let (conn, chain_head, sealer) = schema::open_write(path, &options, sealer)?;
        let reader = schema::open_read(path, options.key.as_ref())?;
        let started = std::time::Instant::now();
        let mut projection = Projection::default();
        let mut ledger = Ledger::default();
        schema::for_each_in_hlc_order(&reader, |e| {
            ledger.observe(&e);
            projection.apply(&e);
        })?;
        tracing::info!(
            events = ledger.event_count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "projection rebuilt from the event log"
        );
        let clock = HlcClock::new();
        if let Some(max) = ledger.max_hlc() {
            clock.observe(max);
        }
        let next_seq = ledger.max_seq(&options.node) + 1;
        let ledger = Arc::new(RwLock::new(ledger));
        let sequencer = Arc::new(sequencer::Sequencer::new(next_seq, clock));
        let in_flight = Arc::new(sequencer::InFlight::default());
        let projection = Arc::new(RwLock::new(projection));
        let (committed, _) = broadcast::channel(4096);
        let (tx, rx) = std::sync::mpsc::channel();
        let stats = Arc::new(StoreStats::default());
        let poisoned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let wal = schema::open_wal_for_flush(path)?;
        // From here on SQLite does not flush at commit: the syncer does, before any answer.
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (sync_tx, sync_rx) = std::sync::mpsc::channel();
        let flushing = Arc::new(syncer::Flushing::default());
        let syncer = syncer::Syncer {
            flushing: flushing.clone(),
            rx: sync_rx,
            wal,
            projection: projection.clone(),
            ledger: ledger.clone(),
            committed: committed.clone(),
            stats: stats.clone(),
            poisoned: poisoned.clone(),
            in_flight: in_flight.clone(),
        };
        let w = writer::Writer {
            conn,
            rx,
            sequencer: sequencer.clone(),
            in_flight: in_flight.clone(),
            expected_seq: next_seq,
            held: Default::default(),
            options: options.clone(),
            sync: sync_tx,
            poisoned,
            since_checkpoint: 0,
            flushing,
            chain: chain_head,
            sealer,
        };
        let spawn_err = |e: std::io::Error| StoreError::WrongStore {
            path: path.to_path_buf(),
            reason: format!("cannot start the store's threads: {e}"),
        };
        let syncer = std::thread::Builder::new()
            .name("event-store-syncer".into())
            .spawn(move || syncer.run())
            .map_err(spawn_err)?;
        let thread = std::thread::Builder::new()
            .name("event-store-writer".into())
            .spawn(move || {
                w.run();
                // The writer dropped its sender: the syncer drains and stops.
                let _ = syncer.join();
            })
            .map_err(spawn_err)?;
        Ok(EventStore {
            inner: Arc::new(Inner {
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                reader: Mutex::new(reader),
                projection,
                ledger,
                committed,
                stats,
                sequencer,
                in_flight,
                key,
                path: path.to_path_buf(),
                options,
            }),
        })
    }

    /// The store's settings.
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    /// Writer counters.
    pub fn stats(&self) -> &StoreStats {
        &self.inner.stats
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn send(&self, req: writer::Request) -> Result<(), StoreError> {
        let guard = self.inner.tx.lock().map_err(|_| StoreError::Closed)?;
        let tx = guard.as_ref().ok_or(StoreError::Closed)?;
        tx.send(req).map_err(|_| StoreError::Closed)
    }

    /// Append events recorded on this box. Each new draft gets the next sequence number,
    /// an HLC timestamp and the node's signature (computed on the calling thread). A draft
    /// whose client id is already stored is answered with the stored event; the same id
    /// with different content is a conflict. All new drafts of one call commit together
    /// or not at all. Returns when they are durable.
    pub async fn append_local(&self, drafts: Vec<Draft>) -> Result<Vec<Outcome>, StoreError> {
        let inner = &self.inner;
        for d in &drafts {
            if d.id.is_some_and(|id| id.is_nil()) {
                return Err(StoreError::Invalid(
                    checkup_protocol::ProtocolError::InvalidPayload {
                        field: "id",
                        reason: "must not be the nil UUID".into(),
                    },
                ));
            }
            d.actor.validate()?;
            d.body.validate()?;
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(id) = drafts
            .iter()
            .filter_map(|d| d.id)
            .find(|id| !seen.insert(*id))
        {
            return Err(StoreError::Conflict(format!(
                "event id {id} appears twice in one request"
            )));
        }
        // 1. Claim client ids (waiting behind a request with the same id) and find replays.
        let mut claims = Claims {
            in_flight: &inner.in_flight,
            ids: Vec::new(),
        };
        let mut existing: Vec<Option<Arc<Event>>> = Vec::with_capacity(drafts.len());
        for d in &drafts {
            let Some(id) = d.id else {
                existing.push(None);
                continue;
            };
            loop {
                match inner.in_flight.claim(id, &d.actor, &d.body) {
                    sequencer::Claim::Mine => break,
                    sequencer::Claim::Busy => inner.in_flight.wait_released(id).await,
                    sequencer::Claim::Conflict => {
                        return Err(StoreError::Conflict(format!(
                            "event id {id} is already used by a different event"
                        )));
                    }
                }
            }
            claims.ids.push(id);
            let found = self.get(id)?;
            if let Some(e) = &found
                && (e.body != d.body || e.actor != d.actor || e.node != inner.options.node)
            {
                return Err(StoreError::Conflict(format!(
                    "event id {id} is already used by a different event"
                )));
            }
            existing.push(found);
        }
        let new_count = existing.iter().filter(|e| e.is_none()).count();
        if new_count == 0 {
            // Only replays: answer once they are known to be flushed.
            let (reply, rx) = oneshot::channel();
            self.send(writer::Request::Flush(reply))?;
            rx.await.map_err(|_| StoreError::Closed)??;
            return Ok(existing
                .into_iter()
                .flatten()
                .map(Outcome::Existing)
                .collect());
        }
        // 2. Reserve, seal and hand over without an await in between, so a cancelled
        //    request cannot strand a reserved sequence number.
        let rx = {
            let r = inner.sequencer.reserve(new_count);
            let guard = AbandonGuard {
                store: self,
                epoch: r.epoch,
                armed: true,
            };
            let o = &inner.options;
            let mut sealed = Vec::with_capacity(new_count);
            let mut hlcs = r.hlcs.into_iter();
            let mut seq = r.first_seq;
            let mut unsigned = Vec::with_capacity(new_count);
            for (d, e) in drafts.into_iter().zip(&existing) {
                if e.is_none() {
                    let hlc = hlcs.next().unwrap_or_else(|| inner.sequencer.clock.now());
                    unsigned.push((d.id.unwrap_or_else(Uuid::now_v7), seq, hlc, d.actor, d.body));
                    seq += 1;
                }
            }
            let seal = |(id, seq, hlc, actor, body): (
                Uuid,
                u64,
                checkup_protocol::Hlc,
                Actor,
                EventBody,
            )| {
                Arc::new(Event::seal_as(
                    id, &o.venue, &o.node, seq, hlc, actor, body, o.training, &inner.key,
                ))
            };
            if unsigned.len() >= PARALLEL_SEALING_FROM {
                use rayon::prelude::*;
                sealed.par_extend(unsigned.into_par_iter().map(seal));
            } else {
                sealed.extend(unsigned.into_iter().map(seal));
            }
            let (reply, rx) = oneshot::channel();
            let sent = self.send(writer::Request::Sealed {
                epoch: r.epoch,
                first_seq: r.first_seq,
                events: sealed,
                claimed: std::mem::take(&mut claims.ids),
                reply,
            });
            let mut guard = guard;
            guard.armed = false;
            sent?;
            rx
        };
        let appended = rx.await.map_err(|_| StoreError::Closed)??;
        // Replays in a mixed request were committed before this one, so the flush that
        // made the new events durable covers them too.
        let mut appended = appended.into_iter();
        existing
            .into_iter()
            .map(|e| match e {
                Some(e) => Some(Outcome::Existing(e)),
                None => appended.next(),
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| StoreError::Unavailable("the writer answered short".into()))
    }

    /// Blocking form of [`EventStore::append_local`] for non-async callers.
    pub fn append_local_blocking(&self, drafts: Vec<Draft>) -> Result<Vec<Outcome>, StoreError> {
        futures::executor::block_on(self.append_local(drafts))
    }

    /// Append events signed elsewhere (a peer's, replayed from replication). The caller
    /// has verified signatures. Already-stored events are reported as such; a different
    /// event under a stored (node, seq) or id is a conflict, and nothing of the call is
    /// applied. Events claiming this node are refused: only this box writes them.
    pub async fn append_signed(&self, events: Vec<Event>) -> Result<Vec<Outcome>, StoreError> {
        let training = self.options().training;
        if let Some(e) = events.iter().find(|e| e.training != training) {
            return Err(StoreError::TrainingMismatch {
                training: e.training,
            });
        }
        let (reply, rx) = oneshot::channel();
        self.send(writer::Request::Signed { events, reply })?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Blocking form of [`EventStore::append_signed`].
    pub fn append_signed_blocking(&self, events: Vec<Event>) -> Result<Vec<Outcome>, StoreError> {
        futures::executor::block_on(self.append_signed(events))
    }

    /// Up to `limit` events after local position `after`, in arrival order.
    pub fn read_after(&self, after: i64, limit: usize) -> Result<Vec<Stored>, StoreError> {
        let conn = self.inner.reader.lock().map_err(|_| StoreError::Closed)?;
        schema::read_after(&conn, after, limit)
    }

    /// Up to `limit` of `node`'s events with seq above `after`, as stored JSON, in seq order.
    pub fn read_node_json(
        &self,
        node: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let conn = self.inner.reader.lock().map_err(|_| StoreError::Closed)?;
        schema::read_node_json(&conn, node, after, limit)
    }

    /// Every stored event id, sorted (to compare the event sets of two boxes).
    pub fn sorted_ids(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.inner.reader.lock().map_err(|_| StoreError::Closed)?;
        schema::sorted_ids(&conn)
    }

    /// The event with this id, if stored.
    pub fn get(&self, id: Uuid) -> Result<Option<Arc<Event>>, StoreError> {
        let conn = self.inner.reader.lock().map_err(|_| StoreError::Closed)?;
        schema::get_by_id(&conn, id)
    }

    /// Read access to the current state.
    pub fn projection(&self) -> std::sync::RwLockReadGuard<'_, Projection> {
        // A panic while holding the lock is a bug already logged; the state is still the
        // last consistent one, since the writer applies whole batches.
        self.inner
            .projection
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// What the store holds of each node's sequence (durable events only). A caller that
    /// also holds [`EventStore::projection`] takes the projection first.
    pub fn ledger(&self) -> std::sync::RwLockReadGuard<'_, Ledger> {
        self.inner.ledger.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribe to events as they commit.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.committed.subscribe()
    }

    /// Stop accepting appends, let the writer finish what it has, checkpoint and close.
    pub async fn close(&self) {
        let tx = self.inner.tx.lock().ok().and_then(|mut g| g.take());
        drop(tx);
        let thread = self.inner.thread.lock().ok().and_then(|mut g| g.take());
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }

    /// Blocking form of [`EventStore::close`].
    pub fn close_blocking(&self) {
        let tx = self.inner.tx.lock().ok().and_then(|mut g| g.take());
        drop(tx);
        let thread = self.inner.thread.lock().ok().and_then(|mut g| g.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}
