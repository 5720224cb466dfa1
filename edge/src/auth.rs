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
//! [`renew_session`], on the response to an authenticated request once at least
//! [`RENEW_AFTER`] has passed since the cookie was last set, so a tablet in use keeps its
//! session however long the day is, without a `Set-Cookie` on every poll. With no request
//! for the idle period, both the server and the browser forget the session.
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
use checkup_protocol::{Role, StationKind};

use crate::config::StaffConfig;
use crate::lockout::{Lockout, Policy};

/// Name of the session cookie.
pub const COOKIE: &str = "ce_session";

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
}

struct Session {
    staff: Staff,
    /// The last request the session was looked up for.
    last_seen: Instant,
    /// When the cookie was last set (at sign-in, then by [`renew_session`]).
    cookie_set: Instant,
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
        }
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
        let c = session_cookie(token, self.idle);
        if self.secure { c + "; Secure" } else { c }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Check id and PIN (slow: Argon2; call from a blocking thread) and open a session.
    /// Returns the new token. `client` is the caller's address, for the lockout.
    pub fn sign_in(
        &self,
        staff_id: &str,
        pin: &str,
        client: Option<IpAddr>,
    ) -> Result<(String, Staff), SignInError> {
        if let Some(wait) = self.lockout.locked(staff_id, client, self.clock.now()) {
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
                if let Some(lock) = self.lockout.failed(staff_id, client, self.clock.now()) {
                    tracing::warn!(
                        lock_secs = lock.as_secs(),
                        client = ?client,
                        "sign-in locked after repeated wrong PINs"
                    );
                }
                return Err(SignInError::Wrong);
            }
        };
        self.lockout.succeeded(staff_id);
        let staff = Staff {
            id: member.id.clone(),
            name: member.name.clone(),
            role: member.role,
            stations: member.stations.clone(),
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
            },
        );
        Ok((token, staff))
    }

    /// The staff member behind a token, refreshing its idle timer; `None` when unknown or
    /// idle too long.
    pub fn lookup(&self, token: &str) -> Option<Staff> {
        let mut sessions = self.sessions();
        let now = self.clock.now();
        let s = sessions.get_mut(token)?;
        if now.duration_since(s.last_seen) >= self.idle {
            sessions.remove(token);
            return None;
        }
        s.last_seen = now;
        Some(s.staff.clone())
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

    /// End a session.
    pub fn sign_out(&self, token: &str) {
        self.sessions().remove(token);
    }

    /// Idle timeout.
    pub fn idle(&self) -> Duration {
        self.idle
    }
}

fn new_token() -> String {
    let mut b = [0u8; 32];
    // Without an OS random source no session can be made safely.
    getrandom::fill(&mut b).expect("operating system random source unavailable");
    hex::encode(b)
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(token: &str, idle: Duration) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        idle.as_secs()
    )
}

/// Middleware: on the response to a request with a live session, renew the session cookie
/// when due ([`Auth::renewed_cookie`]), unless the response sets the cookie itself (sign-in,
/// sign-out).
pub async fn renew_session(
    axum::extract::State(auth): axum::extract::State<Arc<Auth>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let token = token_from_headers(req.headers());
    let mut resp = next.run(req).await;
    let Some(token) = token else {
        return resp;
    };
    let sets_own = resp
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(format!("{COOKIE}=").as_bytes()));
    if !sets_own
        && let Some(cookie) = auth.renewed_cookie(&token)
        && let Ok(v) = axum::http::HeaderValue::from_str(&cookie)
    {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    resp
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session token from a `Cookie` header, if present.
pub fn token_from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
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
            auth.sign_in("N1", "1234", None).err(),
            Some(SignInError::Wrong)
        );
        assert_eq!(
            auth.sign_in("nobody", "4321", None).err(),
            Some(SignInError::Wrong)
        );
        let (token, s) = auth.sign_in("N1", "4321", None).expect("right PIN");
        assert_eq!(s.role, Role::Nurse);
        assert!(auth.lookup(&token).is_some());
        auth.clock().advance(Duration::from_millis(250));
        assert!(auth.lookup(&token).is_none(), "idle session is gone");
    }

    #[test]
    fn five_wrong_pins_lock_the_id_even_for_the_right_pin() {
        let auth = Auth::new(&[staff("N1", "4321", Role::Nurse)], Duration::from_secs(60));
        for _ in 0..5 {
            assert_eq!(
                auth.sign_in("N1", "0000", None).err(),
                Some(SignInError::Wrong)
            );
        }
        match auth.sign_in("N1", "4321", None) {
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
        assert_eq!(token_from_headers(&h).as_deref(), Some("abc"));
    }
}
