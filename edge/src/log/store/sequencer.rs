//! Sequence numbers, timestamps and signatures for this node's own events, handed out on
//! the caller's thread so that signing (the costliest step of an append) runs in parallel
//! on every core instead of on the single writer.
//!
//! Gap-freedom is kept by three rules:
//!
//! 1. Reserving seqs and handing the signed events to the writer happen in one synchronous
//!    stretch of code (no `.await` in between), so a cancelled request cannot leave a
//!    reserved seq behind. A drop guard reports a reservation that was never handed over
//!    (a panic while signing) as *abandoned*.
//! 2. The writer commits this node's events strictly in seq order, holding back any that
//!    arrive ahead of a missing one until it arrives.
//! 3. When a commit fails or a reservation is abandoned, the writer bumps the *epoch*,
//!    rewinds the counter to the first uncommitted seq and refuses everything of the old
//!    epoch that is waiting or still arriving. Callers see "not stored, retry".
//!
//! Client-chosen event ids make retried saves idempotent. An id is *in flight* from the
//! moment a request claims it until its outcome is durable and answered; a second request
//! with the same id waits for the first instead of racing it to a second seq.

use std::collections::HashMap;
use std::sync::Mutex;

use checkup_protocol::{Actor, EventBody, Hlc, HlcClock};
use tokio::sync::Notify;
use uuid::Uuid;

/// The counter shared by callers (who reserve) and the writer (who rewinds).
#[derive(Debug)]
pub(super) struct Sequencer {
    state: Mutex<SeqState>,
    /// Timestamps for new local events; observes peers' events.
    pub(super) clock: HlcClock,
}

#[derive(Debug)]
struct SeqState {
    next_seq: u64,
    epoch: u64,
}

/// A contiguous range of reserved seqs with their timestamps.
pub(super) struct Reservation {
    pub(super) epoch: u64,
    pub(super) first_seq: u64,
    pub(super) hlcs: Vec<Hlc>,
}

impl Sequencer {
    pub(super) fn new(next_seq: u64, clock: HlcClock) -> Self {
        Sequencer {
            state: Mutex::new(SeqState { next_seq, epoch: 0 }),
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SeqState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserve `n` consecutive seqs. Timestamps are taken under the same lock, so they
    /// increase with the seq.
    pub(super) fn reserve(&self, n: usize) -> Reservation {
        let mut s = self.lock();
        let first_seq = s.next_seq;
        s.next_seq += n as u64;
        let hlcs = (0..n).map(|_| self.clock.now()).collect();
        Reservation {
            epoch: s.epoch,
            first_seq,
            hlcs,
        }
    }

    /// The current epoch.
    pub(super) fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Start a new epoch at `next_seq` (the first uncommitted seq). Returns the new epoch.
    pub(super) fn rewind(&self, next_seq: u64) -> u64 {
        let mut s = self.lock();
        s.epoch += 1;
        s.next_seq = next_seq;
        s.epoch
    }
}

/// Client ids of requests not yet answered, with what they carry.
#[derive(Default)]
pub(super) struct InFlight {
    ids: Mutex<HashMap<Uuid, (Actor, EventBody)>>,
    released: Notify,
}

/// What claiming an id found.
pub(super) enum Claim {
    /// Claimed: this request owns the id until it is released.
    Mine,
    /// Another request with the same content holds it: wait and look again.
    Busy,
    /// Another request holds it with different content.
    Conflict,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Actor, EventBody)>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Try to claim `id` for a draft with this content.
    pub(super) fn claim(&self, id: Uuid, actor: &Actor, body: &EventBody) -> Claim {
        let mut ids = self.lock();
        match ids.get(&id) {
            None => {
                ids.insert(id, (actor.clone(), body.clone()));
                Claim::Mine
            }
            Some((a, b)) if a == actor && b == body => Claim::Busy,
            Some(_) => Claim::Conflict,
        }
    }

    /// Release ids and wake whoever waits on one of them.
    pub(super) fn release(&self, ids: impl IntoIterator<Item = Uuid>) {
        let mut any = false;
        {
            let mut map = self.lock();
            for id in ids {
                any |= map.remove(&id).is_some();
            }
        }
        if any {
            self.released.notify_waiters();
        }
    }

    /// Wait until `id` is no longer in flight.
    pub(super) async fn wait_released(&self, id: Uuid) {
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.lock().contains_key(&id) {
                return;
            }
            notified.await;
        }
    }
}
