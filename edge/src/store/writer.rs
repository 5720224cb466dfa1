//! The writer thread: takes every waiting request, commits them in one transaction (group
//! commit), then updates the projection, publishes the events and replies.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use checkup_protocol::{Actor, Event, EventBody, HlcClock, NodeKey};
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::syncer::SyncJob;
use super::{Draft, StoreError, StoreOptions, schema};

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

/// Checkpoint after this many commits (each writes a few pages; SQLite's own default
/// is about every 1000 pages).
const CHECKPOINT_EVERY_COMMITS: u32 = 256;
/// Checkpoint when no request arrived for this long.
const IDLE_CHECKPOINT_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Groups with at least this many new local events are signed on every core.
const PARALLEL_SIGNING_FROM: usize = 32;

pub(super) type Reply = oneshot::Sender<Result<Vec<Outcome>, StoreError>>;

pub(super) enum Request {
    Local { drafts: Vec<Draft>, reply: Reply },
    Signed { events: Vec<Event>, reply: Reply },
}

/// A request without its reply channel.
enum Work {
    Local(Vec<Draft>),
    Signed(Vec<Event>),
}

impl Request {
    fn split(self) -> (Work, Reply) {
        match self {
            Request::Local { drafts, reply } => (Work::Local(drafts), reply),
            Request::Signed { events, reply } => (Work::Signed(events), reply),
        }
    }
}

impl Request {
    fn len(&self) -> usize {
        match self {
            Request::Local { drafts, .. } => drafts.len(),
            Request::Signed { events, .. } => events.len(),
        }
    }
}

pub(super) struct Writer {
    pub(super) conn: Connection,
    pub(super) rx: Receiver<Request>,
    pub(super) key: NodeKey,
    pub(super) clock: HlcClock,
    /// Next sequence number for this node's own events.
    pub(super) next_seq: u64,
    pub(super) options: StoreOptions,
    /// Committed groups go here to be flushed and acknowledged.
    pub(super) sync: Sender<SyncJob>,
    /// Set when a flush failed: nothing more is accepted.
    pub(super) poisoned: Arc<AtomicBool>,
    /// Commits since the last checkpoint.
    pub(super) since_checkpoint: u32,
}

/// Per-request result while a group is being assembled.
enum Planned {
    /// Outcomes in request order; the new events among them still to be inserted.
    Ok(Vec<Outcome>),
    /// The request is refused as a whole; nothing of it is written.
    Refused(StoreError),
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
            let mut group = vec![first];
            let mut events = group[0].len();
            while events < self.options.max_batch_events {
                match self.rx.try_recv() {
                    Ok(r) => {
                        events += r.len();
                        group.push(r);
                    }
                    Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
                }
            }
            self.commit_group(group);
            if self.since_checkpoint >= CHECKPOINT_EVERY_COMMITS {
                self.checkpoint("PASSIVE");
            }
        }
        self.checkpoint("TRUNCATE");
        tracing::info!("event store closed");
    }

    /// Wait until the syncer has flushed everything handed to it.
    fn flush(&self) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.sync.send(SyncJob::Barrier(tx)).is_ok() {
            let _ = rx.recv();
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

    fn commit_group(&mut self, group: Vec<Request>) {
        let seq_before = self.next_seq;
        let (works, replies): (Vec<Work>, Vec<Reply>) =
            group.into_iter().map(Request::split).unzip();
        if self.poisoned.load(Ordering::SeqCst) {
            for reply in replies {
                let _ = reply.send(Err(StoreError::Unavailable(
                    "an earlier flush of the log failed; restart the box".into(),
                )));
            }
            return;
        }
        let mut planned = Vec::with_capacity(replies.len());
        // Ids and (node, seq) keys taken earlier in this same group.
        let mut taken_ids: HashMap<Uuid, Arc<Event>> = HashMap::new();
        let mut taken_keys: HashMap<(String, u64), Arc<Event>> = HashMap::new();
        let mut taken_local: HashMap<Uuid, (Actor, EventBody)> = HashMap::new();

        let result = (|| -> Result<(), StoreError> {
            let tx = self.conn.transaction()?;
            // 1. Plan: find replays and conflicts, give new local events seq and HLC.
            let mut local_plans = Vec::new();
            for work in works {
                let plan = match work {
                    Work::Local(drafts) => plan_local(
                        &tx,
                        drafts,
                        &mut self.next_seq,
                        &self.clock,
                        &self.options,
                        &taken_ids,
                        &mut taken_local,
                    )
                    .map(|p| match p {
                        Ok(slots) => {
                            local_plans.push((planned.len(), slots));
                            Planned::Ok(Vec::new())
                        }
                        Err(refused) => Planned::Refused(refused),
                    }),
                    Work::Signed(events) => {
                        plan_signed(&tx, events, &self.clock, &mut taken_ids, &mut taken_keys)
                    }
                };
                let plan = match plan {
                    Ok(p) => p,
                    Err(StoreError::Sqlite(e)) => return Err(StoreError::Sqlite(e)),
                    Err(other) => Planned::Refused(other),
                };
                planned.push(plan);
            }
            // 2. Sign the group's new local events on every core: signing is the costliest
            //    step of an append, and the order of signing does not matter.
            let key = &self.key;
            let o = &self.options;
            let seal_slots = |slots: &mut Vec<LocalSlot>| -> Vec<LocalOutcome> {
                std::mem::take(slots)
                    .into_iter()
                    .map(|slot| match slot {
                        LocalSlot::New(u) => {
                            LocalOutcome::Done(Outcome::Appended(Arc::new(Event::seal(
                                u.id, &o.venue, &o.node, u.seq, u.hlc, u.actor, u.body, key,
                            ))))
                        }
                        LocalSlot::Existing(e) => LocalOutcome::Done(Outcome::Existing(e)),
                        LocalSlot::SameAs(id) => LocalOutcome::SameAs(id),
                    })
                    .collect()
            };
            let new_local: usize = local_plans.iter().map(|(_, s)| s.len()).sum();
            // Waking the pool costs more than signing a handful of events here.
            let sealed: Vec<Vec<LocalOutcome>> = if new_local >= PARALLEL_SIGNING_FROM {
                local_plans
                    .par_iter_mut()
                    .map(|(_, slots)| seal_slots(slots))
                    .collect()
            } else {
                local_plans
                    .iter_mut()
                    .map(|(_, slots)| seal_slots(slots))
                    .collect()
            };
            let mut signed_by_id: HashMap<Uuid, Arc<Event>> = HashMap::new();
            for outs in &sealed {
                for out in outs {
                    if let LocalOutcome::Done(Outcome::Appended(e)) = out {
                        signed_by_id.insert(e.id, e.clone());
                    }
                }
            }
            for ((index, _), outs) in local_plans.iter().zip(sealed) {
                let resolved = outs
                    .into_iter()
                    .map(|out| match out {
                        LocalOutcome::Done(o) => Ok(o),
                        LocalOutcome::SameAs(id) => signed_by_id
                            .get(&id)
                            .cloned()
                            .map(Outcome::Existing)
                            .ok_or_else(|| {
                                StoreError::Conflict(format!("event id {id} lost in group"))
                            }),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                planned[*index] = Planned::Ok(resolved);
            }
            // 3. Write every new event, then one commit (one fsync) for the group.
            for plan in &planned {
                if let Planned::Ok(outcomes) = plan {
                    for o in outcomes {
                        if let Outcome::Appended(e) = o {
                            insert(&tx, e)?;
                        }
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })();

        match result {
            Ok(()) => {
                self.since_checkpoint += 1;
                let new: Vec<Arc<Event>> = planned
                    .iter()
                    .filter_map(|p| match p {
                        Planned::Ok(os) => Some(os),
                        Planned::Refused(_) => None,
                    })
                    .flatten()
                    .filter_map(|o| match o {
                        Outcome::Appended(e) => Some(e.clone()),
                        Outcome::Existing(_) => None,
                    })
                    .collect();
                let answers = planned
                    .into_iter()
                    .zip(replies)
                    .map(|(plan, reply)| {
                        let answer = match plan {
                            Planned::Ok(os) => Ok(os),
                            Planned::Refused(err) => Err(err),
                        };
                        (reply, answer)
                    })
                    .collect();
                if let Err(std::sync::mpsc::SendError(SyncJob::Commit { answers, .. })) =
                    self.sync.send(SyncJob::Commit { new, answers })
                {
                    for (reply, _) in answers {
                        let _ = reply.send(Err(StoreError::Unavailable(
                            "the log flusher stopped".into(),
                        )));
                    }
                }
            }
            Err(err) => {
                // Nothing of the group is stored: give the sequence numbers back and tell
                // every caller, so each can retry (with the same event ids) or report.
                self.next_seq = seq_before;
                tracing::error!(error = %err, "event store commit failed; group refused");
                let msg = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
            }
        }
    }
}

/// A new local event with its seq and HLC, not yet signed.
struct Unsigned {
    id: Uuid,
    seq: u64,
    hlc: checkup_protocol::Hlc,
    actor: Actor,
    body: EventBody,
}

/// What one draft of a local request will become.
enum LocalSlot {
    /// A new event, to be signed and stored.
    New(Box<Unsigned>),
    /// Already stored before this group.
    Existing(Arc<Event>),
    /// A replay of a new event earlier in this same group (same client id).
    SameAs(Uuid),
}

enum LocalOutcome {
    Done(Outcome),
    SameAs(Uuid),
}

/// Plan a local request: `Ok(Err(_))` refuses it as a whole (conflict) without consuming
/// sequence numbers.
fn plan_local(
    tx: &Connection,
    drafts: Vec<Draft>,
    next_seq: &mut u64,
    clock: &HlcClock,
    o: &StoreOptions,
    taken_ids: &HashMap<Uuid, Arc<Event>>,
    taken_local: &mut HashMap<Uuid, (Actor, EventBody)>,
) -> Result<Result<Vec<LocalSlot>, StoreError>, StoreError> {
    let conflict = |id: Uuid| {
        Ok(Err(StoreError::Conflict(format!(
            "event id {id} is already used by a different event"
        ))))
    };
    let mut seen_in_request = std::collections::HashSet::new();
    // First pass: replays and conflicts, before any sequence number is taken.
    let mut kinds: Vec<Option<LocalSlot>> = Vec::with_capacity(drafts.len());
    for d in &drafts {
        let Some(id) = d.id else {
            kinds.push(None);
            continue;
        };
        if !seen_in_request.insert(id) {
            return Ok(Err(StoreError::Conflict(format!(
                "event id {id} appears twice in one request"
            ))));
        }
        if let Some((actor, body)) = taken_local.get(&id) {
            if *actor != d.actor || *body != d.body {
                return conflict(id);
            }
            kinds.push(Some(LocalSlot::SameAs(id)));
            continue;
        }
        if taken_ids.contains_key(&id) {
            return conflict(id);
        }
        match lookup_id(tx, id)? {
            Some(e) if e.body != d.body || e.actor != d.actor || e.node != o.node => {
                return conflict(id);
            }
            Some(e) => kinds.push(Some(LocalSlot::Existing(e))),
            None => kinds.push(None),
        }
    }
    let mut out = Vec::with_capacity(drafts.len());
    for (d, kind) in drafts.into_iter().zip(kinds) {
        if let Some(k) = kind {
            out.push(k);
            continue;
        }
        let seq = *next_seq;
        *next_seq += 1;
        let id = d.id.unwrap_or_else(Uuid::now_v7);
        if d.id.is_some() {
            taken_local.insert(id, (d.actor.clone(), d.body.clone()));
        }
        out.push(LocalSlot::New(Box::new(Unsigned {
            id,
            seq,
            hlc: clock.now(),
            actor: d.actor,
            body: d.body,
        })));
    }
    Ok(Ok(out))
}

fn plan_signed(
    tx: &Connection,
    events: Vec<Event>,
    clock: &HlcClock,
    taken_ids: &mut HashMap<Uuid, Arc<Event>>,
    taken_keys: &mut HashMap<(String, u64), Arc<Event>>,
) -> Result<Planned, StoreError> {
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
                return Ok(Planned::Refused(StoreError::Conflict(format!(
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
            return Ok(Planned::Refused(StoreError::Conflict(format!(
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
    Ok(Planned::Ok(out))
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

fn insert(tx: &Connection, e: &Event) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO events (node, seq, id, hlc_ms, hlc_c, kind, resident, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        e.node,
        e.seq as i64,
        e.id.to_string(),
        e.hlc.ms as i64,
        e.hlc.c as i64,
        e.body.kind().as_str(),
        e.body.resident_id(),
        e.to_json(),
    ])?;
    Ok(())
}
