//! The writer thread: takes every waiting request, commits them in one transaction (group
//! commit), and hands the committed group to the syncer to be flushed and answered.
//!
//! This node's own events arrive already sealed (seq, HLC, signature) by the callers (see
//! [`super::sequencer`]); the writer commits them strictly in seq order. Events signed by
//! peers are checked for replays and conflicts here, against the log.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use checkup_protocol::{Event, HlcClock};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::sequencer::{InFlight, Sequencer};
use super::syncer::SyncJob;
use super::{StoreError, StoreOptions, chain, schema};

/// Checkpoint after this many commits (each writes a few pages; SQLite's own default
/// is about every 1000 pages).
const CHECKPOINT_EVERY_COMMITS: u32 = 256;
/// Checkpoint when no request arrived for this long.
const IDLE_CHECKPOINT_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// What became of one appended event.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Newly stored.
    Appended(Arc<Event>),
    /// Was already stored (same id, or same node and seq with the same content): nothing
    /// changed. Carries the stored event.
    Existing(Arc<Event>),
}

impl Outcome {
    /// The event, new or existing.
    pub fn event(&self) -> &Arc<Event> {
        match self {
            Outcome::Appended(e) | Outcome::Existing(e) => e,
        }
    }

    /// Whether this append stored something new.
    pub fn is_new(&self) -> bool {
        matches!(self, Outcome::Appended(_))
    }
}

pub(super) type Reply = oneshot::Sender<Result<Vec<Outcome>, StoreError>>;

pub(super) enum Request {
    /// New events of this node, sealed by the caller, with seqs `first_seq..` in order.
    Sealed {
        epoch: u64,
        first_seq: u64,
        events: Vec<Arc<Event>>,
        /// Client ids the caller claimed; released once the request is answered.
        claimed: Vec<Uuid>,
        reply: Reply,
    },
    /// A reservation that will never be handed over (the caller panicked while sealing).
    Abandoned { epoch: u64 },
    /// Events signed by peers.
    Signed { events: Vec<Event>, reply: Reply },
    /// Answer once everything committed so far is flushed.
    Flush(oneshot::Sender<Result<(), StoreError>>),
}

pub(super) struct SealedReq {
    events: Vec<Arc<Event>>,
    claimed: Vec<Uuid>,
    reply: Reply,
}

pub(super) struct Writer {
    pub(super) conn: Connection,
    pub(super) rx: Receiver<Request>,
    pub(super) sequencer: Arc<Sequencer>,
    pub(super) in_flight: Arc<InFlight>,
    /// The next seq of this node to commit.
    pub(super) expected_seq: u64,
    /// Sealed requests that arrived ahead of a missing seq, by first seq.
    pub(super) held: BTreeMap<u64, SealedReq>,
    pub(super) options: StoreOptions,
    /// Committed groups go here to be flushed and acknowledged.
    pub(super) sync: Sender<SyncJob>,
    /// Set when a flush failed: nothing more is accepted.
    pub(super) poisoned: Arc<AtomicBool>,
    /// Commits since the last checkpoint.
    pub(super) since_checkpoint: u32,
    /// Whether the syncer is waiting for the disk.
    pub(super) flushing: Arc<super::syncer::Flushing>,
    /// The hash chain's last link (committed).
    pub(super) chain: chain::Link,
    /// Seals the chain's head.
    pub(super) sealer: chain::Sealer,
}

fn unavailable(why: &str) -> StoreError {
    StoreError::Unavailable(why.to_owned())
}

impl Writer {
    pub(super) fn run(mut self) {
        tracing::debug!("event store writer started");
        loop {
            let first = match self.rx.recv_timeout(IDLE_CHECKPOINT_AFTER) {
                Ok(r) => r,
                Err(RecvTimeoutError::Timeout) => {
                    if self.since_checkpoint > 0 {
                        self.checkpoint("PASSIVE");
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break, // every handle dropped or closed
            };
            // While the syncer waits for the disk, a commit made now could not be
            // acknowledged before its next flush anyway: let requests queue up, so that
            // flush covers one larger commit (fewer WAL pages per event) instead of many.
            self.flushing.wait_idle(std::time::Duration::from_millis(2));
            let mut group = vec![first];
            let mut events = 0;
            while events < self.options.max_batch_events {
                match self.rx.try_recv() {
                    Ok(r) => {
                        events += match &r {
                            Request::Sealed { events, .. } => events.len(),
                            Request::Signed { events, .. } => events.len(),
                            _ => 0,
                        };
                        group.push(r);
                    }
                    Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
                }
            }
            self.handle(group);
            if self.since_checkpoint >= CHECKPOINT_EVERY_COMMITS {
                self.checkpoint("PASSIVE");
            }
        }
        for (_, held) in std::mem::take(&mut self.held) {
            self.refuse(held.reply, held.claimed, unavailable("the store closed"));
        }
        self.checkpoint("TRUNCATE");
        tracing::info!("event store closed");
    }

    fn refuse(&self, reply: Reply, claimed: Vec<Uuid>, err: StoreError) {
        let _ = reply.send(Err(err));
        self.in_flight.release(claimed);
    }

    /// Forget every uncommitted event of this node: rewind the counter to the first
    /// uncommitted seq in a new epoch and refuse what is held.
    fn reset(&mut self, why: &str) {
        let epoch = self.sequencer.rewind(self.expected_seq);
        tracing::warn!(
            epoch,
            next_seq = self.expected_seq,
            why,
            "local sequence rewound"
        );
        for (_, held) in std::mem::take(&mut self.held) {
            self.refuse(
                held.reply,
                held.claimed,
                unavailable(&format!("not stored ({why}); retry")),
            );
        }
    }

    fn handle(&mut self, group: Vec<Request>) {
        let mut signed = Vec::new();
        let mut flushes = Vec::new();
        for req in group {
            match req {
                Request::Sealed {
                    epoch,
                    first_seq,
                    events,
                    claimed,
                    reply,
                } => {
                    if epoch != self.sequencer.epoch() || self.poisoned.load(Ordering::SeqCst) {
                        self.refuse(reply, claimed, unavailable("the log was reset; retry"));
                    } else {
                        self.held.insert(
                            first_seq,
                            SealedReq {
                                events,
                                claimed,
                                reply,
                            },
                        );
                    }
                }
                Request::Abandoned { epoch } => {
                    if epoch == self.sequencer.epoch() {
                        self.reset("a reservation was abandoned");
                    }
                }
                Request::Signed { events, reply } => signed.push((events, reply)),
                Request::Flush(reply) => flushes.push(reply),
            }
        }
        // This node's events, in seq order, as far as they are contiguous.
        let mut ready = Vec::new();
        let mut cursor = self.expected_seq;
        while let Some(req) = self.held.remove(&cursor) {
            cursor += req.events.len() as u64;
            ready.push(req);
        }
        if self.poisoned.load(Ordering::SeqCst) {
            for r in ready {
                self.refuse(
                    r.reply,
                    r.claimed,
                    unavailable("an earlier flush failed; restart the box"),
                );
            }
            for (_, reply) in signed {
                let _ = reply.send(Err(unavailable("an earlier flush failed; restart the box")));
            }
        } else if !ready.is_empty() || !signed.is_empty() {
            self.commit(ready, signed, cursor);
        }
        for f in flushes {
            if self.sync.send(SyncJob::Flushed(f)).is_err() {
                tracing::error!("the log flusher stopped");
            }
        }
    }

    fn commit(&mut self, ready: Vec<SealedReq>, signed: Vec<(Vec<Event>, Reply)>, cursor: u64) {
        let mut taken_ids: HashMap<Uuid, Arc<Event>> = HashMap::new();
        let mut taken_keys: HashMap<(String, u64), Arc<Event>> = HashMap::new();
        let node = self.options.node.clone();
        let clock = &self.sequencer.clock;
        let mut planned_signed = Vec::with_capacity(signed.len());
        let mut link = self.chain;
        let result = (|| -> Result<(), StoreError> {
            let tx = self.conn.transaction()?;
            let before = link;
            for r in &ready {
                for e in &r.events {
                    insert(&tx, e, &mut link)?;
                    taken_ids.insert(e.id, e.clone());
                }
            }
            for (events, reply) in signed {
                let plan = if events.iter().any(|e| e.node == node) {
                    Err(StoreError::Conflict(format!(
                        "events of node {node} are only written by this box"
                    )))
                } else {
                    match plan_signed(&tx, events, clock, &mut taken_ids, &mut taken_keys) {
                        Ok(p) => p,
                        Err(StoreError::Sqlite(e)) => return Err(StoreError::Sqlite(e)),
                        Err(other) => Err(other),
                    }
                };
                if let Ok(outcomes) = &plan {
                    for o in outcomes {
                        if let Outcome::Appended(e) = o {
                            insert(&tx, e, &mut link)?;
                        }
                    }
                }
                planned_signed.push((plan, reply));
            }
            if link != before {
                chain::set_head(&tx, tx.last_insert_rowid(), &link, &self.sealer)?;
            }
            tx.commit()?;
            Ok(())
        })();

        match result {
            Ok(()) => {
                self.chain = link;
                self.expected_seq = cursor;
                self.since_checkpoint += 1;
                let mut new = Vec::new();
                let mut answers = Vec::new();
                let mut release = Vec::new();
                for r in ready {
                    new.extend(r.events.iter().cloned());
                    let outcomes = r.events.into_iter().map(Outcome::Appended).collect();
                    answers.push((r.reply, Ok(outcomes)));
                    release.extend(r.claimed);
                }
                for (plan, reply) in planned_signed {
                    if let Ok(outcomes) = &plan {
                        new.extend(outcomes.iter().filter_map(|o| match o {
                            Outcome::Appended(e) => Some(e.clone()),
                            Outcome::Existing(_) => None,
                        }));
                    }
                    answers.push((reply, plan));
                }
                if let Err(std::sync::mpsc::SendError(SyncJob::Commit {
                    answers, release, ..
                })) = self.sync.send(SyncJob::Commit {
                    new,
                    answers,
                    release,
                }) {
                    for (reply, _) in answers {
                        let _ = reply.send(Err(unavailable("the log flusher stopped")));
                    }
                    self.in_flight.release(release);
                }
            }
            Err(err) => {
                // Nothing of the group is stored. This node's uncommitted seqs are given up
                // (a new epoch starts at the first of them) and every caller is told, so
                // each can retry with the same event ids.
                tracing::error!(error = %err, "event store commit failed; group refused");
                let msg = err.to_string();
                for r in ready {
                    self.refuse(r.reply, r.claimed, StoreError::Unavailable(msg.clone()));
                }
                for (_, reply) in planned_signed {
                    let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
                self.reset("a commit failed");
            }
        }
    }

    /// Wait until the syncer has flushed everything handed to it.
    fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.sync.send(SyncJob::Flushed(tx)).is_ok() {
            let _ = rx.blocking_recv();
        }
    }

    /// Copy the WAL into the database. Runs with `synchronous=FULL`, so SQLite flushes
    /// the WAL before copying and the database file after, before the WAL may be reused.
    fn checkpoint(&mut self, mode: &str) {
        self.flush();
        let result = self
            .conn
            .pragma_update(None, "synchronous", "FULL")
            .and_then(|_| {
                self.conn
                    .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
            })
            .and_then(|_| self.conn.pragma_update(None, "synchronous", "OFF"));
        if let Err(e) = result {
            tracing::warn!(error = %e, mode, "WAL checkpoint failed");
        }
        self.since_checkpoint = 0;
    }
}

fn plan_signed(
    tx: &Connection,
    events: Vec<Event>,
    clock: &HlcClock,
    taken_ids: &mut HashMap<Uuid, Arc<Event>>,
    taken_keys: &mut HashMap<(String, u64), Arc<Event>>,
) -> Result<Result<Vec<Outcome>, StoreError>, StoreError> {
    let mut out = Vec::with_capacity(events.len());
    let mut local_ids = HashMap::new();
    let mut local_keys = HashMap::new();
    for e in events {
        let key = (e.node.clone(), e.seq);
        let by_key = match taken_keys.get(&key).or_else(|| local_keys.get(&key)) {
            Some(x) => Some(Arc::clone(x)),
            None => lookup_key(tx, &e.node, e.seq)?,
        };
        if let Some(stored) = by_key {
            if *stored != e {
                return Ok(Err(StoreError::Conflict(format!(
                    "{}/{} is already stored as a different event",
                    e.node, e.seq
                ))));
            }
            out.push(Outcome::Existing(stored));
            continue;
        }
        let by_id = match taken_ids.get(&e.id).or_else(|| local_ids.get(&e.id)) {
            Some(x) => Some(Arc::clone(x)),
            None => lookup_id(tx, e.id)?,
        };
        if by_id.is_some() {
            return Ok(Err(StoreError::Conflict(format!(
                "event id {} is already stored under another (node, seq)",
                e.id
            ))));
        }
        clock.observe(e.hlc);
        let e = Arc::new(e);
        local_ids.insert(e.id, e.clone());
        local_keys.insert(key, e.clone());
        out.push(Outcome::Appended(e));
    }
    taken_ids.extend(local_ids);
    taken_keys.extend(local_keys);
    Ok(Ok(out))
}

fn lookup_id(tx: &Connection, id: Uuid) -> Result<Option<Arc<Event>>, StoreError> {
    let row: Option<(i64, String)> = tx
        .prepare_cached("SELECT pos, json FROM events WHERE id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(pos, json)| schema::decode(pos, &json).map(Arc::new))
        .transpose()
}

fn lookup_key(tx: &Connection, node: &str, seq: u64) -> Result<Option<Arc<Event>>, StoreError> {
    let row: Option<(i64, String)> = tx
        .prepare_cached("SELECT pos, json FROM events WHERE node = ?1 AND seq = ?2")?
        .query_row(params![node, seq as i64], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(pos, json)| schema::decode(pos, &json).map(Arc::new))
        .transpose()
}

/// Insert one event, extending the hash chain from `link` (see [`super::chain`]).
fn insert(tx: &Connection, e: &Event, link: &mut chain::Link) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO events (node, seq, id, hlc_ms, hlc_c, kind, resident, json, chain)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let json = e.to_json();
    let next = chain::next(link, &json);
    stmt.execute(params![
        e.node,
        e.seq as i64,
        e.id.to_string(),
        e.hlc.ms as i64,
        e.hlc.c as i64,
        e.body.kind().as_str(),
        e.body.resident_id(),
        json,
        next.as_slice(),
    ])?;
    *link = next;
    Ok(())
}
