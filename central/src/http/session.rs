//! Staff sign-in (`POST /v1/login`), sign-out (`POST /v1/logout`) and the session check
//! every staff route makes: a `cc_session` cookie, signed out after the configured idle
//! time, of a role the route allows.
//!
//! Sessions live in the database (`staff_sessions`, by the SHA-256 of the token — the token
//! itself is only in the cookie), so every central process on one database honours a
//! sign-in made at another, and a restart signs nobody out. A request marks its session
//! seen only when the mark is [`touch_every`] old (5 s, or a quarter of a short idle
//! timeout): a page's burst of requests costs one read each and at most one write, and a
//! session may end up to that much before `idle_timeout_secs` of true inactivity.
//!
//! The sign-in answer says what the staff member may do (from [`crate::access`]), so the
//! page shows her only the sections she can use.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::ApiError;
use super::extract::Body;
use crate::server::AppState;

/// Body of `POST /v1/login`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// Staff id.
    staff_id: String,
    /// PIN.
    pin: String,
}

/// Who signed in.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SignedIn {
    /// Staff id.
    staff_id: String,
    /// Display name.
    name: String,
    /// Role.
    role: Role,
    /// The role in Japanese (看護師・保健師, 児童福祉司…).
    role_ja: &'static str,
    /// 職階.
    rank: crate::access::Rank,
    /// What she may do, as the staff page shows it.
    can: Can,
}

/// What a signed-in staff member may do ([`crate::access`]); the server decides each request
/// again, this only spares her sections she cannot use.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Can {
    /// Search the register and read records (each read decided by duty).
    records: bool,
    /// Raise high-risk flags.
    raise_flags: bool,
    /// See the high-risk flags, live.
    see_flags: bool,
    /// The child-welfare intake queue.
    cases: bool,
    /// CSV and 特定健診 exports.
    exports: bool,
    /// A resident's access report (開示請求).
    access_report: bool,
    /// The reads outside duty of her department (係長 and above).
    review_reads: bool,
}

impl Can {
    fn of(v: &crate::access::Viewer) -> Can {
        use crate::access;
        Can {
            records: matches!(
                v.role,
                Role::CentralAdmin | Role::Nurse | Role::Doctor | Role::Caseworker
            ),
            raise_flags: access::raises_flags(v),
            see_flags: access::sees_flags(v),
            cases: access::case_queue(v),
            exports: v.role == Role::CentralAdmin,
            access_report: access::access_report(v),
            review_reads: access::reviews_flagged(v).is_some(),
        }
    }
}

/// `POST /v1/login`
#[utoipa::path(
    post,
    path = "/v1/login",
    tag = "staff",
    description = "Sign in with staff id and PIN; the answer sets the `cc_session` cookie.",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; `Set-Cookie: cc_session=…`", body = SignedIn),
        (status = 400, description = "`malformed`", body = ErrorAnswer),
        (status = 401, description = "`wrong_credentials`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
    ),
    security(()),
)]
pub(crate) async fn login(
    State(s): State<AppState>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let req: LoginRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", e.to_string()))?;
    let staff = s.staff.get(&req.staff_id).cloned();
    let hash = staff
        .as_ref()
        .map(|m| m.pin_hash.clone())
        .unwrap_or_default();
    let pin = req.pin.clone();
    let ok = tokio::task::spawn_blocking(move || checkup_provisioning::pin::verify(&hash, &pin))
        .await
        .unwrap_or(false);
    let Some(staff) = staff.filter(|_| ok) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_credentials",
            "unknown staff id or wrong PIN",
        ));
    };
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let token = hex::encode(raw);
    s.owner
        .create_staff_session(&token_digest(&token), &staff.id, s.idle)
        .await?;
    let can = s
        .viewers
        .get(&staff.id)
        .map(Can::of)
        .ok_or_else(|| ApiError::internal("a configured staff member without a viewer"))?;
    let mut resp = Json(SignedIn {
        role_ja: staff.role.label_ja(),
        rank: staff.duty.rank,
        staff_id: staff.id,
        name: staff.name,
        role: staff.role,
        can,
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "cc_session={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        s.idle.as_secs()
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `POST /v1/logout`
#[utoipa::path(
    post,
    path = "/v1/logout",
    tag = "staff",
    description = "Sign out: the session of the `cc_session` cookie ends at every central \
                   process, and the cookie is cleared.",
    responses(
        (status = 204, description = "Signed out (also when the session had already ended)"),
        (status = 401, description = "`sign_in_required` (no cookie)", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn logout(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = cookie_token(&headers)?;
    s.owner.delete_staff_session(&token_digest(token)).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("cc_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

/// How old a session's seen-mark may grow before a request renews it: 5 s, or a quarter
/// of a shorter idle timeout (so activity always renews well before it ends).
pub(crate) fn touch_every(idle: Duration) -> Duration {
    (idle / 4).min(Duration::from_secs(5))
}

/// The SHA-256 (hex) of a session token, as `staff_sessions` keys it.
fn token_digest(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// The `cc_session` cookie's token.
fn cookie_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    session_token(headers)
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "sign_in_required", "sign in"))
}

/// The session token of a request's `cc_session` cookie.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("cc_session="))
        .filter(|t| !t.is_empty())
}

/// Whether the session `token` is still open (signed in, not idle past the limit, at any
/// central process), without counting this as activity: a live stream asks this to end
/// with its session.
pub(crate) async fn session_open(s: &AppState, token: &str) -> bool {
    // Renewing only a mark as old as the idle limit renews nothing that is still open.
    s.owner
        .touch_staff_session(&token_digest(token), s.idle, s.idle)
        .await
        .is_ok_and(|held| held.is_some())
}

/// A signed-in staff member of a request, with her municipality's view of the store.
pub(crate) struct Signed {
    /// Staff id.
    pub id: String,
    /// As the access rules see her.
    pub viewer: crate::access::Viewer,
    /// The store as her municipality's: on PostgreSQL every query runs as its database
    /// role, under row-level security.
    pub db: std::sync::Arc<dyn crate::db::Store>,
}

/// The signed-in staff member of a request, if their role is one of `roles`.
pub(crate) async fn staff(
    s: &AppState,
    headers: &HeaderMap,
    roles: &[Role],
) -> Result<Signed, ApiError> {
    let (id, _) = staff_id(s, headers, roles).await?;
    let viewer =
        s.viewers.get(&id).cloned().ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "sign_in_required", "sign in")
        })?;
    let db = s.owner.scoped(&viewer.municipality)?;
    Ok(Signed { id, viewer, db })
}

/// The id and role of the signed-in staff member of a request (its session held at any
/// central process), if the role is one of `roles`.
async fn staff_id(
    s: &AppState,
    headers: &HeaderMap,
    roles: &[Role],
) -> Result<(String, Role), ApiError> {
    let token = cookie_token(headers)?;
    let id = s
        .owner
        .touch_staff_session(&token_digest(token), s.idle, touch_every(s.idle))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                "session expired; sign in again",
            )
        })?;
    let role =
        s.staff.get(&id).map(|m| m.role).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "sign_in_required", "sign in")
        })?;
    if !roles.contains(&role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("role {role} may not do this"),
        ));
    }
    Ok((id, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_renewed_well_before_it_can_end() {
        assert_eq!(
            touch_every(Duration::from_secs(900)),
            Duration::from_secs(5)
        );
        assert_eq!(
            touch_every(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        for idle in [1, 3, 20, 900, 86_400] {
            let idle = Duration::from_secs(idle);
            assert!(touch_every(idle) * 4 <= idle);
        }
    }
}
