//! Sign-in lockout: failed PINs counted per staff id, per client address and per staff id on
//! a known device, with a back-off that doubles while the failures go on.
//!
//! A four-digit PIN falls to a few thousand guesses, so guessing must be slow; and a flood
//! of wrong PINs from the Wi-Fi must not stop staff from working. The policy:
//!
//! 1. **Unknown clients** (no proof of an earlier sign-in of this staff id on this browser):
//!    after [`Policy::per_staff`] failed PINs in a row for one staff id, that id is locked
//!    for [`Policy::first_lock`], doubled at every further failure up to
//!    [`Policy::max_lock`]; a client address (one tablet, or an intruder on the Wi-Fi)
//!    trying many ids is locked the same way after [`Policy::per_client`] failures. While
//!    either lock holds, even the right PIN is refused (so a lock gives nothing away) and
//!    no Argon2 work is spent.
//! 2. **Known devices**: a browser on which this staff member signed in before carries a
//!    device cookie naming them, sealed by the box ([`crate::auth`]). A sign-in there is
//!    checked against that staff id's failures *on that device* only, with the same limits
//!    and back-off; failures from other clients and addresses never block it, and its own
//!    failures block only itself. An intruder without the cookie cannot make one (it is
//!    sealed with a key derived from the node key) and so cannot lock staff out of their
//!    tablets; a stolen tablet still guesses only as slowly as rule 1 allows, per staff id.
//! 3. A right PIN clears the count it was checked against: the device's for a known device,
//!    the staff id's otherwise; never the address's (the intruder stays throttled).
//! 4. Locks refuse sign-ins only: sessions already open are never ended by them.
//!
//! Counts are forgotten after [`Policy::forget`] without a failure. The table is bounded:
//! the stalest entries go first.

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
    /// A staff id on a known device (hashed with the device's id).
    Device(u64),
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

fn device_key(staff_id: &str, device: &str) -> Key {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (staff_id, device).hash(&mut h);
    Key::Device(h.finish())
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
        self.locked_by([Some(staff_key(staff_id)), client.map(Key::Client)], now)
    }

    /// How long sign-in stays refused for this staff id on `device`, a device it signed in
    /// on before (None: try). Failures elsewhere do not count here.
    pub fn locked_on_device(&self, staff_id: &str, device: &str, now: Instant) -> Option<Duration> {
        self.locked_by([Some(device_key(staff_id, device)), None], now)
    }

    fn locked_by(&self, keys: [Option<Key>; 2], now: Instant) -> Option<Duration> {
        let table = self.table();
        keys.into_iter()
            .flatten()
            .filter_map(|k| table.get(&k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// Count a failed PIN; returns the lock it caused, if any.
    pub fn failed(&self, staff_id: &str, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let p = self.policy;
        self.failed_by(
            [
                Some((staff_key(staff_id), p.per_staff)),
                client.map(|c| (Key::Client(c), p.per_client)),
            ],
            now,
        )
    }

    /// Count a failed PIN for this staff id on a device it signed in on before; returns the
    /// lock it caused, if any.
    pub fn failed_on_device(&self, staff_id: &str, device: &str, now: Instant) -> Option<Duration> {
        let p = self.policy;
        self.failed_by(
            [Some((device_key(staff_id, device), p.per_staff)), None],
            now,
        )
    }

    fn failed_by(&self, keys: [Option<(Key, u32)>; 2], now: Instant) -> Option<Duration> {
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

    /// A right PIN on a known device: that device's failures for the staff id are cleared
    /// (the staff id's and the addresses' stay, they may be someone else's guessing).
    pub fn succeeded_on_device(&self, staff_id: &str, device: &str) {
        self.table().remove(&device_key(staff_id, device));
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
    fn failures_elsewhere_never_lock_a_known_device() {
        let l = Lockout::new(Policy::default());
        let t0 = Instant::now();
        for i in 0..60u32 {
            let ip = IpAddr::from([192, 0, 2, 10 + (i % 3) as u8]);
            l.failed("N1", Some(ip), t0);
        }
        assert!(l.locked("N1", None, t0).is_some(), "unknown clients locked");
        assert_eq!(l.locked_on_device("N1", "tablet-7", t0), None);
        // The device's own failures lock only the device.
        for _ in 0..4 {
            assert_eq!(l.failed_on_device("N1", "tablet-7", t0), None);
        }
        assert_eq!(l.failed_on_device("N1", "tablet-7", t0), Some(30 * SEC));
        assert!(l.locked_on_device("N1", "tablet-7", t0).is_some());
        assert_eq!(l.locked_on_device("N1", "tablet-8", t0), None);
        assert_eq!(l.locked_on_device("R1", "tablet-7", t0), None);
        l.succeeded_on_device("N1", "tablet-7");
        assert_eq!(l.locked_on_device("N1", "tablet-7", t0), None);
        assert!(
            l.locked("N1", None, t0).is_some(),
            "the staff id's lock stays"
        );
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
