//! Sign-in and sign-out over the JSON API (the pages' forms are in [`super::pages`]).
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/login` | anyone | `{staff_id, pin}` → session cookie (wrong PINs lock out: [`crate::lockout`]) |
//! | `POST /api/logout` | signed in | ends the session |

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::{Role, StationKind};
use serde::{Deserialize, Serialize};

use super::extract::Body;
use super::{AppState, set_cookie};
use crate::auth::{self, Staff};
use crate::http::error::{ApiError, ErrorBody};

/// Body of `POST /api/login`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// Staff id as provisioned.
    staff_id: String,
    /// The staff member's PIN.
    pin: String,
}

/// Who signed in.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SignedIn {
    /// Staff id.
    staff_id: String,
    /// Display name.
    name: String,
    /// The role they act in.
    role: Role,
    /// Stations they work at (station role).
    stations: Vec<StationKind>,
}

/// `POST /api/login`
#[utoipa::path(
    post,
    path = "/api/login",
    tag = "auth",
    description = "Sign in with staff id and PIN; the answer sets the `ce_session` cookie. \
                   Repeated wrong PINs lock the staff id out for a while.",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; `Set-Cookie: ce_session=…`", body = SignedIn),
        (status = 400, description = "`malformed_request`", body = ErrorBody),
        (status = 401, description = "`wrong_credentials`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 429, description = "`locked`: too many wrong PINs; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until sign-in is possible again"))),
        (status = 500, description = "`internal`", body = ErrorBody),
    ),
    security(()),
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let req: LoginRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let client = auth::Client::of(&extensions);
    let (token, staff) = sign_in(&state, req.staff_id, req.pin, client).await?;
    let mut resp = Json(SignedIn {
        staff_id: staff.id,
        name: staff.name,
        role: staff.role,
        stations: staff.stations,
    })
    .into_response();
    set_cookie(&mut resp, &state.auth.cookie(&token));
    Ok(resp)
}

/// Verify a PIN on a blocking thread (Argon2 is deliberately slow).
pub(crate) async fn sign_in(
    state: &AppState,
    staff_id: String,
    pin: String,
    client: auth::Client,
) -> Result<(String, Staff), ApiError> {
    let auth = state.auth.clone();
    let result =
        crate::http::error::blocking("sign-in", move || auth.sign_in(&staff_id, &pin, client))
            .await?;
    result.map_err(|e| match e {
        auth::SignInError::Wrong => {
            ApiError::new(StatusCode::UNAUTHORIZED, "wrong_credentials", e.to_string())
        }
        auth::SignInError::Locked(d) => ApiError::locked(d.as_secs(), e.to_string()),
    })
}

/// `POST /api/logout`
#[utoipa::path(
    post,
    path = "/api/logout",
    tag = "auth",
    description = "End the session (if any) and clear the cookie.",
    responses((status = 204, description = "Signed out")),
    security((), ("session" = [])),
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(t) = state.auth.token(&headers) {
        state.auth.sign_out(&t);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut resp, &state.auth.clear_cookie());
    resp
}
