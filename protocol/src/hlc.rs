//! Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a logical counter.
//!
//! Timestamps from one clock are strictly increasing even when the wall clock steps back,
//! and observing a peer's timestamp moves the local clock past it, so "happened after"
//! survives replication between boxes whose clocks disagree by a few seconds.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A hybrid logical clock timestamp. Ordering is by `ms`, then `c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Hlc {
    /// Physical component: milliseconds since the Unix epoch.
    pub ms: u64,
    /// Logical component, for events within the same millisecond.
    pub c: u32,
}

/// A clock handing out [`Hlc`] timestamps. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct HlcClock {
    /// The last timestamp issued or observed; every new one is greater.
    last: Mutex<Hlc>,
    /// Source of wall-clock milliseconds (replaced in tests).
    wall: fn() -> u64,
}

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Default for HlcClock {
    fn default() -> Self {
        Self::new()
    }
}

impl HlcClock {
    /// A clock on the system wall clock.
    pub fn new() -> Self {
        Self::with_wall(system_ms)
    }

    /// A clock on a given wall-clock source.
    pub fn with_wall(wall: fn() -> u64) -> Self {
        HlcClock {
            last: Mutex::new(Hlc { ms: 0, c: 0 }),
            wall,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Hlc> {
        // A poisoned clock still holds a valid timestamp; keep going.
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new timestamp, greater than every one issued or observed before.
    pub fn now(&self) -> Hlc {
        let wall = (self.wall)();
        let mut last = self.lock();
        let next = if wall > last.ms {
            Hlc { ms: wall, c: 0 }
        } else {
            Hlc {
                ms: last.ms,
                c: last.c.saturating_add(1),
            }
        };
        *last = next;
        next
    }

    /// Move the clock past a timestamp seen on another node's event.
    pub fn observe(&self, seen: Hlc) {
        let mut last = self.lock();
        if seen > *last {
            *last = seen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_increase_when_the_wall_clock_stands_still() {
        let clock = HlcClock::with_wall(|| 1000);
        let a = clock.now();
        let b = clock.now();
        assert!(b > a);
        assert_eq!(b, Hlc { ms: 1000, c: 1 });
    }

    #[test]
    fn observing_a_later_peer_moves_the_clock_past_it() {
        let clock = HlcClock::with_wall(|| 1000);
        clock.observe(Hlc { ms: 5000, c: 7 });
        assert_eq!(clock.now(), Hlc { ms: 5000, c: 8 });
    }
}
