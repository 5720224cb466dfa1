//! Sign-in lockout: failed PINs counted per staff id and per client address, with a back-off
//! that doubles while the failures go on.
//!
//! A four-digit PIN falls to a few thousand guesses, so guessing must be slow. After
//! [`Policy::per_staff`] failed PINs in a row for one staff id, that id is locked for
//! [`Policy::first_lock`], doubled at every further failure up to [`Policy::max_lock`];
//! while locked, even the right PIN is refused (so a lock gives nothing away) and no Argon2
//! work is spent. A client address (one tablet, or an intruder on the Wi-Fi) trying many
//! ids is limited the same way after [`Policy::per_client`] failures. A right PIN clears
//! its staff id's count, never the client's; counts are forgotten after [`Policy::forget`]
//! without a failure. The table is bounded: the stalest entries go first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures lock what, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failed PINs in a row that lock one staff id.
    pub per_staff: u32,
    /// Failed PINs from one client address (any ids) that lock the address.
    pub per_client: u32,
    /// The first lock; each further failure doubles it.
    pub first_lock: Duration,
    /// The longest lock.
    pub max_lock: Duration,
    /// Failures are forgotten after this long without another.
    pub forget: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            per_staff: 5,
            per_client: 20,
            first_lock: Duration::from_secs(30),
            max_lock: Duration::from_secs(15 * 60),
            forget: Duration::from_secs(30 * 60),
        }
    }
}

/// Entries kept at most (staff ids and addresses together).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Staff(u64),
    Client(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// The failure table.
#[derive(Debug, Default)]
pub struct Lockout {
    policy: Policy,
    table: Mutex<HashMap<Key, Failures>>,
}

fn staff_key(staff_id: &str) -> Key {
    use std::hash::{Hash, Hasher};
    // Unknown ids are counted too (they are what probing sends); hashed so the table does
    // not keep what strangers typed.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    staff_id.hash(&mut h);
    Key::Staff(h.finish())
}

impl Lockout {
    /// A table with `policy`.
    pub fn new(policy: Policy) -> Lockout {
        Lockout {
            policy,
            table: Mutex::new(HashMap::new()),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long sign-in stays refused for this staff id from this client (None: try).
    pub fn locked(&self, staff_id: &str, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let table = self.table();
        [Some(staff_key(staff_id)), client.map(Key::Client)]
            .into_iter()
            .flatten()
            .filter_map(|k| table.get(&k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// Count a failed PIN; returns the lock it caused, if any.
    pub fn failed(&self, staff_id: &str, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let p = self.policy;
        let mut table = self.table();
        if table.len() >= MAX_ENTRIES {
            table.retain(|_, f| now.duration_since(f.last) < p.forget);
            if table.len() >= MAX_ENTRIES
                && let Some(stalest) = table.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| *k)
            {
                table.remove(&stalest);
            }
        }
        let mut lock = None;
        let keys = [
            Some((staff_key(staff_id), p.per_staff)),
            client.map(|c| (Key::Client(c), p.per_client)),
        ];
        for (key, limit) in keys.into_iter().flatten() {
            let f = table.entry(key).or_insert(Failures {
                count: 0,
                last: now,
                locked_until: None,
            });
            if now.duration_since(f.last) >= p.forget {
                f.count = 0;
                f.locked_until = None;
            }
            f.count = f.count.saturating_add(1);
            f.last = now;
            if f.count >= limit {
                let doublings = (f.count - limit).min(16);
                let d = p
                    .first_lock
                    .saturating_mul(1u32 << doublings)
                    .min(p.max_lock);
                f.locked_until = Some(now + d);
                lock = Some(lock.map_or(d, |l: Duration| l.max(d)));
            }
        }
        lock
    }

    /// A right PIN: the staff id's failures are cleared (the client's are not).
    pub fn succeeded(&self, staff_id: &str) {
        self.table().remove(&staff_key(staff_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn a_staff_id_locks_after_five_failures_with_a_doubling_back_off() {
        let l = Lockout::new(Policy::default());
        let t0 = Instant::now();
        for i in 0..4 {
            assert_eq!(l.failed("N1", None, t0 + i * SEC), None);
            assert_eq!(l.locked("N1", None, t0 + i * SEC), None);
        }
        assert_eq!(l.failed("N1", None, t0 + 4 * SEC), Some(30 * SEC));
        assert_eq!(l.locked("N1", None, t0 + 5 * SEC), Some(29 * SEC));
        assert_eq!(
            l.locked("N2", None, t0 + 5 * SEC),
            None,
            "others unaffected"
        );
        // After the lock, the next failure doubles it.
        assert_eq!(l.locked("N1", None, t0 + 35 * SEC), None);
        assert_eq!(l.failed("N1", None, t0 + 35 * SEC), Some(60 * SEC));
        assert_eq!(l.failed("N1", None, t0 + 100 * SEC), Some(120 * SEC));
        // Never beyond the longest lock.
        let mut t = t0 + 300 * SEC;
        for _ in 0..20 {
            let d = l.failed("N1", None, t).expect("locked");
            assert!(d <= 15 * 60 * SEC);
            t += d;
        }
        // A right PIN clears the count.
        l.succeeded("N1");
        assert_eq!(l.locked("N1", None, t), None);
        assert_eq!(l.failed("N1", None, t), None);
    }

    #[test]
    fn a_client_trying_many_ids_is_locked_and_failures_are_forgotten() {
        let l = Lockout::new(Policy::default());
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        let other: IpAddr = "192.0.2.8".parse().expect("ip");
        let t0 = Instant::now();
        for i in 0..19u32 {
            assert_eq!(l.failed(&format!("X{i}"), Some(ip), t0), None);
        }
        assert_eq!(l.failed("X19", Some(ip), t0), Some(30 * SEC));
        assert_eq!(l.locked("R1", Some(ip), t0 + SEC), Some(29 * SEC));
        assert_eq!(l.locked("R1", Some(other), t0 + SEC), None);
        // Long after, the count starts again.
        let later = t0 + 31 * 60 * SEC;
        assert_eq!(l.locked("R1", Some(ip), later), None);
        assert_eq!(l.failed("X0", Some(ip), later), None);
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = Lockout::new(Policy::default());
        let t0 = Instant::now();
        for i in 0..(MAX_ENTRIES as u32 + 50) {
            l.failed(
                &format!("guess-{i}"),
                None,
                t0 + Duration::from_millis(u64::from(i)),
            );
        }
        assert!(l.table().len() <= MAX_ENTRIES);
    }
}
