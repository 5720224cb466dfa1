//! Staff sign-in and role checks.
//!
//! Staff sign in on a tablet with their staff id and PIN; PINs are stored only as Argon2id
//! hashes. A successful sign-in creates a random session token held in an `HttpOnly`,
//! `SameSite=Strict` cookie; the server keeps the token's staff, role and station binding
//! and forgets it after `auth.idle_timeout_secs` without a request. Every route checks the
//! role on the server through the [`Staff`] extractor. Repeated wrong PINs lock the staff id
//! (and a client trying many ids) with a growing back-off: [`crate::lockout`].
//!
//! # Idle sign-out, not a fixed session length
//!
//! Every request the session is looked up for counts as activity and restarts the idle
//! period on the server. The cookie's `Max-Age` (the idle period) is renewed to match by
//! [`session_cookies`], on the response to an authenticated request once at least
//! [`RENEW_AFTER`] has passed since the cookie was last set, so a tablet in use keeps its
//! session however long the day is, without a `Set-Cookie` on every poll. With no request
//! for the idle period, both the server and the browser forget the session.
//!
//! # Known devices
//!
//! A successful sign-in also sets the `ce_device` cookie (`HttpOnly`, `SameSite=Strict`,
//! [`DEVICE_MAX_AGE`]): a device id and the staff ids that signed in on this browser (the
//! latest [`DEVICE_MAX_STAFF`]), sealed with HMAC-SHA-256 under a key derived from the node
//! key, so it survives a restart of the box and cannot be made or altered elsewhere. The
//! lockout treats a sign-in from a device that names the staff id apart from every other
//! client ([`crate::lockout`]): a flood of wrong PINs from the Wi-Fi does not lock staff out
//! of their own tablets.
//!
//! # Resident mode
//!
//! Staff may hand their signed-in tablet to a resident to answer the questionnaire
//! ([`Auth::lock_to_resident`]). The session then stays on the server, but [`Auth::lookup`]
//! no longer finds its staff member: only [`Auth::resident`] does, for the resident's own
//! pages ([`crate::http::resident`] decides what is reachable). A staff PIN ends it, with a
//! new session for whoever typed it.
//!
//! Time is read from a [`Clock`], which tests move forward instead of waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use checkup_protocol::{Role, StationKind};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::config::StaffConfig;
use crate::lockout::{Lockout, Policy};

/// Name of the session cookie.
pub const COOKIE: &str = "ce_session";

/// Name of the device cookie (see "Known devices").
pub const DEVICE_COOKIE: &str = "ce_device";

/// The session cookie of a training box. Cookies are kept per host, not per port: a tablet
/// signed in on a real box that opens the rehearsal beside it (same address, another port)
/// must not have its real session replaced by a trainee's, nor the other way round.
pub const TRAINING_COOKIE: &str = "ce_training_session";

/// The device cookie of a training box (see [`TRAINING_COOKIE`]).
pub const TRAINING_DEVICE_COOKIE: &str = "ce_training_device";

/// How long a browser keeps the device cookie (renewed at every sign-in).
pub const DEVICE_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Staff ids a device cookie names at most (the latest to sign in on it).
pub const DEVICE_MAX_STAFF: usize = 16;

/// The session cookie is set again on a response once this long has passed since it was
/// last set (and the request was authenticated).
pub const RENEW_AFTER: Duration = Duration::from_secs(60);

/// The time sign-in, lockout and idle sign-out go by: the monotonic clock, plus an offset
/// that tests (and drills) move forward instead of waiting.
#[derive(Debug, Default)]
pub struct Clock {
    ahead_ms: AtomicU64,
}

impl Clock {
    /// Now.
    pub fn now(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Move this clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.ahead_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// A signed-in staff member, as handlers see them.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Staff id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Station kinds they may record for (role `station`).
    pub stations: Vec<StationKind>,
    /// 職階.
    pub rank: checkup_protocol::Rank,
}

/// Hash a PIN for the configuration (Argon2id, random salt).
pub fn hash_pin(pin: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash PIN: {e}"))
}

/// The staff on duty and their signed-in sessions.
pub struct Auth {
    /// Staff by id, from the configuration.
    staff: HashMap<String, StaffConfig>,
    /// Live sessions by token.
    sessions: Mutex<HashMap<String, Session>>,
    /// Idle sign-out.
    idle: Duration,
    /// Hash verified for unknown staff ids, so that "no such staff" takes as long as
    /// "wrong PIN" and staff ids cannot be probed by timing.
    dummy_hash: String,
    /// Failed PINs per staff id and client.
    lockout: Lockout,
    /// Served over HTTPS: session cookies are `Secure` (never sent over plain HTTP).
    secure: bool,
    /// What time it is.
    clock: Arc<Clock>,
    /// Seals device cookies.
    devices: Devices,
    /// Names of the session and device cookies ([`COOKIE`], or a training box's
    /// [`TRAINING_COOKIE`]).
    names: (&'static str, &'static str),
}

struct Session {
    staff: Staff,
    /// The last request the session was looked up for.
    last_seen: Instant,
    /// When the cookie was last set (at sign-in, then by [`session_cookies`]).
    cookie_set: Instant,
    /// The device cookie to set with the new session (taken by [`session_cookies`]).
    device: Option<String>,
    /// Resident mode: the checkup session whose questionnaire this browser is handed over
    /// for (see "Resident mode").
    resident: Option<uuid::Uuid>,
}

/// Who is signing in: the client's address and the device cookie its browser sent.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The peer address (None: unknown, e.g. a test without connection info).
    pub addr: Option<IpAddr>,
    /// The `ce_device` cookie, as sent.
    pub device: Option<String>,
}

/// The device cookie of a request, put in its extensions by [`session_cookies`].
#[derive(Debug, Clone)]
struct DeviceCookie(String);

impl Client {
    /// The client of a request: its address (connection info) and device cookie.
    pub fn of(extensions: &axum::http::Extensions) -> Client {
        Client {
            addr: extensions
                .get::<axum::extract::ConnectInfo<checkup_provisioning::tls::Peer>>()
                .map(|c| c.0.addr.ip()),
            device: extensions.get::<DeviceCookie>().map(|d| d.0.clone()),
        }
    }
}

/// A device cookie that verified: the device's id and the staff ids it names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KnownDevice {
    id: String,
    staff: Vec<String>,
}

/// Makes and checks device cookies: `id.staff.mac`, the id 16 random bytes in hex, the
/// staff ids newline-separated in unpadded base64url, the HMAC-SHA-256 of both in hex.
struct Devices {
    key: [u8; 32],
}

impl Devices {
    fn mac(&self, id: &str, staff: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(staff.as_bytes());
        mac
    }

    fn seal(&self, device: &KnownDevice) -> String {
        let staff =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(device.staff.join("\n"));
        let tag = self.mac(&device.id, &staff).finalize().into_bytes();
        format!("{}.{staff}.{}", device.id, hex::encode(tag))
    }

    fn open(&self, cookie: &str) -> Option<KnownDevice> {
        let mut parts = cookie.split('.');
        let (id, staff, tag) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || id.len() != 32 || hex::decode(id).is_err() {
            return None;
        }
        self.mac(id, staff)
            .verify_slice(&hex::decode(tag).ok()?)
            .ok()?;
        let staff = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(staff)
            .ok()?;
        let staff = String::from_utf8(staff).ok()?;
        Some(KnownDevice {
            id: id.to_owned(),
            staff: staff
                .split('\n')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// The key that seals this box's device cookies, from its node key (so cookies outlive a
/// restart of the box but no other box or person can make them).
pub fn device_key(node: &checkup_protocol::NodeKey) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"checkup-edge/device-cookie\n");
    h.update(node.to_bytes());
    h.finalize().into()
}

/// Why a sign-in failed. Deliberately does not say which of id or PIN was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignInError {
    /// Unknown staff id or wrong PIN.
    #[error("staff id or PIN is wrong")]
    Wrong,
    /// Too many wrong PINs for this id or from this client: refused, right PIN or not,
    /// for this long (see [`crate::lockout`]).
    #[error("too many wrong PINs: try again in {} s", .0.as_secs().max(1))]
    Locked(Duration),
}

impl Auth {
    /// Build from the configured staff.
    pub fn new(staff: &[StaffConfig], idle: Duration) -> Auth {
        Auth {
            staff: staff.iter().map(|s| (s.id.clone(), s.clone())).collect(),
            sessions: Mutex::new(HashMap::new()),
            idle,
            dummy_hash: hash_pin("0000-not-a-pin").unwrap_or_default(),
            lockout: Lockout::new(Policy::default()),
            secure: false,
            clock: Arc::default(),
            devices: Devices {
                key: random_bytes(),
            },
            names: (COOKIE, DEVICE_COOKIE),
        }
    }

    /// A training box's cookie names ([`TRAINING_COOKIE`]) when `training`.
    pub fn with_training_cookies(mut self, training: bool) -> Auth {
        if training {
            self.names = (TRAINING_COOKIE, TRAINING_DEVICE_COOKIE);
        }
        self
    }

    /// The session token from a request's `Cookie` header, if present.
    pub fn token(&self, headers: &axum::http::HeaderMap) -> Option<String> {
        cookie_from_headers(headers, self.names.0)
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self) -> String {
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
            self.names.0
        )
    }

    /// Seal device cookies with `key` (see [`device_key`]; default: a key of this run only).
    pub fn with_device_key(mut self, key: [u8; 32]) -> Auth {
        self.devices = Devices { key };
        self
    }

    /// The clock sessions and lockouts go by.
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// Mark session cookies `Secure` (the box serves HTTPS).
    pub fn with_secure_cookies(mut self, secure: bool) -> Auth {
        self.secure = secure;
        self
    }

    /// The `Set-Cookie` value for a new session.
    pub fn cookie(&self, token: &str) -> String {
        let c = named_session_cookie(self.names.0, token, self.idle);
        if self.secure { c + "; Secure" } else { c }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Check id and PIN (slow: Argon2; call from a blocking thread) and open a session.
    /// Returns the new token. `client` is the caller's address and device cookie, for the
    /// lockout.
    pub fn sign_in(
        &self,
        staff_id: &str,
        pin: &str,
        client: Client,
    ) -> Result<(String, Staff), SignInError> {
        let device = client.device.as_deref().and_then(|d| self.devices.open(d));
        let known = device
            .as_ref()
            .filter(|d| d.staff.iter().any(|s| s == staff_id))
            .map(|d| d.id.as_str());
        let now = self.clock.now();
        let locked = match known {
            Some(id) => self.lockout.locked_on_device(staff_id, id, now),
            None => self.lockout.locked(staff_id, client.addr, now),
        };
        if let Some(wait) = locked {
            return Err(SignInError::Locked(wait));
        }
        let (hash, member) = match self.staff.get(staff_id) {
            Some(m) => (m.pin_hash.as_str(), Some(m)),
            None => (self.dummy_hash.as_str(), None),
        };
        let ok = PasswordHash::new(hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(pin.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        let member = match (ok, member) {
            (true, Some(m)) => m,
            _ => {
                let now = self.clock.now();
                let lock = match known {
                    Some(id) => self.lockout.failed_on_device(staff_id, id, now),
                    None => self.lockout.failed(staff_id, client.addr, now),
                };
                if let Some(lock) = lock {
                    tracing::warn!(
                        lock_secs = lock.as_secs(),
                        client = ?client.addr,
                        known_device = known.is_some(),
                        "sign-in locked after repeated wrong PINs"
                    );
                }
                return Err(SignInError::Wrong);
            }
        };
        match known {
            Some(id) => self.lockout.succeeded_on_device(staff_id, id),
            None => self.lockout.succeeded(staff_id),
        }
        // This browser now knows this staff member (the latest ones kept).
        let mut device = device.unwrap_or_else(|| KnownDevice {
            id: hex::encode(&random_bytes()[..16]),
            staff: Vec::new(),
        });
        device.staff.retain(|s| s != &member.id);
        device.staff.push(member.id.clone());
        let excess = device.staff.len().saturating_sub(DEVICE_MAX_STAFF);
        device.staff.drain(..excess);
        let device = self.devices.seal(&device);
        let staff = Staff {
            id: member.id.clone(),
            name: member.name.clone(),
            role: member.role,
            stations: member.stations.clone(),
            rank: member.rank,
        };
        let token = new_token();
        let now = self.clock.now();
        let mut sessions = self.sessions();
        sessions.retain(|_, s| now.duration_since(s.last_seen) < self.idle);
        sessions.insert(
            token.clone(),
            Session {
                staff: staff.clone(),
                last_seen: now,
                cookie_set: now,
                device: Some(device),
                resident: None,
            },
        );
        Ok((token, staff))
    }

    /// The staff member behind a token, refreshing its idle timer; `None` when unknown,
    /// idle too long, or handed over to a resident ([`Auth::resident`]).
    pub fn lookup(&self, token: &str) -> Option<Staff> {
        match self.touch(token)? {
            (staff, None) => Some(staff),
            (_, Some(_)) => None,
        }
    }

    /// A live session's staff and resident-mode lock, refreshing its idle timer.
    fn touch(&self, token: &str) -> Option<(Staff, Option<uuid::Uuid>)> {
        let mut sessions = self.sessions();
        let now = self.clock.now();
        let s = sessions.get_mut(token)?;
        if now.duration_since(s.last_seen) >= self.idle {
            sessions.remove(token);
            return None;
        }
        s.last_seen = now;
        Some((s.staff.clone(), s.resident))
    }

    /// A session in resident mode: the staff member who handed the browser over and the
    /// checkup session it is locked to, refreshing its idle timer; `None` when the token is
    /// unknown, idle too long, or not in resident mode.
    pub fn resident(&self, token: &str) -> Option<(Staff, uuid::Uuid)> {
        match self.touch(token)? {
            (staff, Some(session)) => Some((staff, session)),
            (_, None) => None,
        }
    }

    /// The checkup session a live token is locked to (resident mode), without counting as
    /// activity: the guard in front of every route asks this.
    pub fn locked_to(&self, token: &str) -> Option<uuid::Uuid> {
        let sessions = self.sessions();
        let s = sessions.get(token)?;
        if self.clock.now().duration_since(s.last_seen) >= self.idle {
            return None;
        }
        s.resident
    }

    /// Hand the browser of `token` over to the resident of checkup session `session`:
    /// from now on the token opens only that resident's questionnaire. False when the token
    /// is not a live session.
    pub fn lock_to_resident(&self, token: &str, session: uuid::Uuid) -> bool {
        let mut sessions = self.sessions();
        let now = self.clock.now();
        match sessions.get_mut(token) {
            Some(s) if now.duration_since(s.last_seen) < self.idle => {
                s.resident = Some(session);
                s.last_seen = now;
                true
            }
            _ => false,
        }
    }

    /// The renewed `Set-Cookie` for a live session that was active at least [`RENEW_AFTER`]
    /// after its cookie was last set; `None` when no renewal is due (or the session is gone).
    pub fn renewed_cookie(&self, token: &str) -> Option<String> {
        let now = self.clock.now();
        {
            let mut sessions = self.sessions();
            let s = sessions.get_mut(token)?;
            if now.duration_since(s.last_seen) >= self.idle
                || s.last_seen.duration_since(s.cookie_set) < RENEW_AFTER
            {
                return None;
            }
            s.cookie_set = now;
        }
        Some(self.cookie(token))
    }

    /// The `Set-Cookie` of the device cookie for the session just opened as `token` (once).
    fn device_cookie(&self, token: &str) -> Option<String> {
        let device = self.sessions().get_mut(token)?.device.take()?;
        let c = format!(
            "{}={device}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            self.names.1,
            DEVICE_MAX_AGE.as_secs()
        );
        Some(if self.secure { c + "; Secure" } else { c })
    }

    /// End a session.
    pub fn sign_out(&self, token: &str) {
        self.sessions().remove(token);
    }

    /// Idle timeout.
    pub fn idle(&self) -> Duration {
        self.idle
    }
}

fn random_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    // Without an OS random source no session can be made safely.
    getrandom::fill(&mut b).expect("operating system random source unavailable");
    b
}

fn new_token() -> String {
    hex::encode(random_bytes())
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(token: &str, idle: Duration) -> String {
    named_session_cookie(COOKIE, token, idle)
}

fn named_session_cookie(name: &str, token: &str, idle: Duration) -> String {
    format!(
        "{name}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        idle.as_secs()
    )
}

/// Middleware for the session and device cookies: hands the request's device cookie to
/// sign-in ([`Client::of`]); sets the device cookie with a new session; and on the response
/// to a request with a live session, renews the session cookie when due
/// ([`Auth::renewed_cookie`]), unless the response sets it itself (sign-in, sign-out).
pub async fn session_cookies(
    axum::extract::State(auth): axum::extract::State<Arc<Auth>>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let token = auth.token(req.headers());
    if let Some(d) = cookie_from_headers(req.headers(), auth.names.1) {
        req.extensions_mut().insert(DeviceCookie(d));
    }
    let mut resp = next.run(req).await;
    let prefix = format!("{}=", auth.names.0);
    let set_session: Option<String> = resp
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix(&prefix))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .next();
    let add = match (set_session, token) {
        (Some(new), _) if !new.is_empty() => auth.device_cookie(&new),
        (Some(_), _) | (None, None) => None,
        (None, Some(token)) => auth.renewed_cookie(&token),
    };
    if let Some(v) = add.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    resp
}

fn cookie_from_headers(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(id: &str, pin: &str, role: Role) -> StaffConfig {
        StaffConfig {
            id: id.into(),
            name: id.into(),
            role,
            stations: vec![],
            rank: Default::default(),
            pin_hash: hash_pin(pin).expect("hash"),
        }
    }

    #[test]
    fn sign_in_checks_the_pin_and_idle_sessions_expire() {
        let auth = Auth::new(
            &[staff("N1", "4321", Role::Nurse)],
            Duration::from_millis(200),
        );
        assert_eq!(
            auth.sign_in("N1", "1234", Client::default()).err(),
            Some(SignInError::Wrong)
        );
        assert_eq!(
            auth.sign_in("nobody", "4321", Client::default()).err(),
            Some(SignInError::Wrong)
        );
        let (token, s) = auth
            .sign_in("N1", "4321", Client::default())
            .expect("right PIN");
        assert_eq!(s.role, Role::Nurse);
        assert!(auth.lookup(&token).is_some());
        auth.clock().advance(Duration::from_millis(250));
        assert!(auth.lookup(&token).is_none(), "idle session is gone");
    }

    #[test]
    fn a_session_handed_to_a_resident_no_longer_finds_its_staff_member() {
        let auth = Auth::new(
            &[staff("R1", "1111", Role::Reception)],
            Duration::from_secs(60),
        );
        let (token, _) = auth
            .sign_in("R1", "1111", Client::default())
            .expect("right PIN");
        let session = uuid::Uuid::now_v7();
        assert!(auth.locked_to(&token).is_none());
        assert!(auth.lock_to_resident(&token, session));
        assert!(auth.lookup(&token).is_none(), "staff routes find no one");
        assert_eq!(auth.locked_to(&token), Some(session));
        let (who, locked) = auth.resident(&token).expect("resident mode");
        assert_eq!((who.id.as_str(), locked), ("R1", session));
        assert!(!auth.lock_to_resident("no-such-token", session));
        auth.clock().advance(Duration::from_secs(61));
        assert!(auth.resident(&token).is_none() && auth.locked_to(&token).is_none());
    }

    #[test]
    fn five_wrong_pins_lock_the_id_even_for_the_right_pin() {
        let auth = Auth::new(&[staff("N1", "4321", Role::Nurse)], Duration::from_secs(60));
        for _ in 0..5 {
            assert_eq!(
                auth.sign_in("N1", "0000", Client::default()).err(),
                Some(SignInError::Wrong)
            );
        }
        match auth.sign_in("N1", "4321", Client::default()) {
            Err(SignInError::Locked(d)) => assert!(d <= Duration::from_secs(30)),
            other => panic!("expected a lock, got {other:?}"),
        }
    }

    #[test]
    fn the_cookie_is_httponly_and_samesite_strict() {
        let c = session_cookie("abc", Duration::from_secs(60));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"));
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "lang=ja; ce_session=abc".parse().expect("header"),
        );
        let auth = Auth::new(&[], Duration::from_secs(60));
        assert_eq!(auth.token(&h).as_deref(), Some("abc"));
        // A training box's session is another cookie: a tablet signed in on both (same
        // host, other port) keeps both sessions.
        let training = Auth::new(&[], Duration::from_secs(60)).with_training_cookies(true);
        assert_eq!(training.token(&h), None);
        assert!(training.cookie("t").starts_with("ce_training_session=t;"));
        h.insert(
            axum::http::header::COOKIE,
            "ce_session=abc; ce_training_session=t"
                .parse()
                .expect("header"),
        );
        assert_eq!(auth.token(&h).as_deref(), Some("abc"));
        assert_eq!(training.token(&h).as_deref(), Some("t"));
    }
}
