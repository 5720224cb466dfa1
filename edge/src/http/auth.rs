//! Sign-in and sign-out over the JSON API (the pages' forms are in [`super::pages`]).
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/login` | anyone | `{staff_id, pin}` → session cookie (wrong PINs lock out: [`crate::lockout`]) |
//! | `POST /api/logout` | signed in | ends the session |

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{AppState, set_cookie};
use crate::auth::{self, Staff};
use crate::http::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    staff_id: String,
    pin: String,
}

/// `POST /api/login`
pub(crate) async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: LoginRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let client = auth::Client::of(&extensions);
    let (token, staff) = sign_in(&state, req.staff_id, req.pin, client).await?;
    let mut resp = Json(json!({
        "staff_id": staff.id, "name": staff.name, "role": staff.role,
        "stations": staff.stations,
    }))
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
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(t) = auth::token_from_headers(&headers) {
        state.auth.sign_out(&t);
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut resp, &auth::clear_cookie());
    resp
}
