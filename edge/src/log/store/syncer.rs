//! The syncer thread: makes committed groups durable with one `fdatasync` of the WAL for
//! everything committed since the last one, then publishes and acknowledges them.
//!
//! The writer commits with `synchronous=OFF` (SQLite writes the WAL frames but does not
//! flush them) and hands each committed group here. While this thread waits for the disk,
//! the writer already plans, signs and commits the next group, so signing and SQLite work
//! overlap the flush instead of adding to it. Nothing is acknowledged, shown in the
//! projection or published before the flush that covers it has returned.
//!
//! If a flush fails the store is poisoned: everything waiting is refused, and so is every
//! later append, until the box is restarted (the kernel may have dropped the dirty pages;
//! retrying fsync would lie).

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, RwLock};

use checkup_protocol::Event;
use tokio::sync::broadcast;

use uuid::Uuid;

use super::sequencer::InFlight;
use super::writer::{Outcome, Reply};
use super::{StoreError, StoreStats};
use crate::log::projection::Projection;

/// Work for the syncer.
pub(super) enum SyncJob {
    /// A committed group: its new events and the answers to send once durable.
    Commit {
        new: Vec<Arc<Event>>,
        answers: Vec<(Reply, Result<Vec<Outcome>, StoreError>)>,
        /// Client ids to release once answered.
        release: Vec<Uuid>,
    },
    /// Answer once everything handed in so far is flushed.
    Flushed(tokio::sync::oneshot::Sender<Result<(), StoreError>>),
}

pub(super) struct Syncer {
    pub(super) rx: Receiver<SyncJob>,
    /// A descriptor of the WAL file; `fdatasync` on it flushes SQLite's writes.
    pub(super) wal: File,
    pub(super) projection: Arc<RwLock<Projection>>,
    pub(super) ledger: Arc<RwLock<super::Ledger>>,
    pub(super) committed: broadcast::Sender<Arc<Event>>,
    pub(super) stats: Arc<StoreStats>,
    pub(super) poisoned: Arc<AtomicBool>,
    pub(super) in_flight: Arc<InFlight>,
    /// Tells the writer when a flush is in progress.
    pub(super) flushing: Arc<Flushing>,
}

/// "A flush is in progress", which the writer can wait on.
#[derive(Default)]
pub(super) struct Flushing {
    busy: std::sync::Mutex<bool>,
    idle: std::sync::Condvar,
}

impl Flushing {
    fn set(&self, busy: bool) {
        let mut b = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        *b = busy;
        if !busy {
            self.idle.notify_all();
        }
    }

    /// Wait (at most `limit`) until no flush is in progress.
    pub(super) fn wait_idle(&self, limit: std::time::Duration) {
        let b = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self
            .idle
            .wait_timeout_while(b, limit, |busy| *busy)
            .map_err(|e| e.into_inner());
    }
}

impl Syncer {
    pub(super) fn run(self) {
        loop {
            let first = match self.rx.recv() {
                Ok(j) => j,
                Err(_) => break,
            };
            let mut jobs = vec![first];
            while let Ok(j) = self.rx.try_recv() {
                jobs.push(j);
            }
            let flushed = if self.poisoned.load(Ordering::SeqCst) {
                Err("an earlier flush failed".to_string())
            } else {
                self.flushing.set(true);
                let r = self.wal.sync_data().map_err(|e| e.to_string());
                self.flushing.set(false);
                r
            };
            if let Err(e) = &flushed {
                if !self.poisoned.swap(true, Ordering::SeqCst) {
                    tracing::error!(error = %e, "flushing the event log failed; the store refuses further appends until restarted");
                }
            } else {
                self.stats.syncs.fetch_add(1, Ordering::Relaxed);
            }
            let mut barriers = Vec::new();
            let mut groups = Vec::new();
            let mut release = Vec::new();
            for job in jobs {
                match job {
                    SyncJob::Flushed(done) => barriers.push(done),
                    SyncJob::Commit {
                        new,
                        answers,
                        release: ids,
                    } => {
                        groups.push((new, answers));
                        release.extend(ids);
                    }
                }
            }
            if flushed.is_ok() {
                // Lock order, here and in every reader holding both: projection, then ledger.
                let mut p = self.projection.write().unwrap_or_else(|e| e.into_inner());
                let mut l = self.ledger.write().unwrap_or_else(|e| e.into_inner());
                for (new, _) in &groups {
                    for e in new {
                        l.observe(e);
                        p.apply(e);
                    }
                }
            }
            for (new, answers) in groups {
                match &flushed {
                    Ok(()) => {
                        self.stats.commits.fetch_add(1, Ordering::Relaxed);
                        self.stats
                            .events
                            .fetch_add(new.len() as u64, Ordering::Relaxed);
                        self.stats
                            .requests
                            .fetch_add(answers.len() as u64, Ordering::Relaxed);
                        for e in new {
                            // No subscriber is not an error.
                            let _ = self.committed.send(e);
                        }
                        for (reply, answer) in answers {
                            let _ = reply.send(answer);
                        }
                    }
                    Err(msg) => {
                        for (reply, _) in answers {
                            let _ = reply.send(Err(StoreError::Unavailable(format!(
                                "flushing the log failed: {msg}"
                            ))));
                        }
                    }
                }
            }
            self.in_flight.release(release);
            for b in barriers {
                let _ =
                    b.send(flushed.clone().map_err(|m| {
                        StoreError::Unavailable(format!("flushing the log failed: {m}"))
                    }));
            }
        }
    }
}
