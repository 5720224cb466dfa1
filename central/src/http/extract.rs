//! axum's extractors with every rejection answered as the JSON error ([`ApiError`]): a query
//! string, path segment or body axum cannot take (too large, malformed) is refused as
//! `{"error": code, "message": text}` like every other refusal, never as axum's plain-text
//! answer. Handlers use these instead of axum's own.
//!
//! A query string or path carrying a NUL character (`%00`) is refused too: no resident id,
//! name or case id has one, and PostgreSQL cannot store one (it would fail the audit entry
//! and answer 503 for what is the caller's mistake).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::ApiError;

/// The query string, deserialised; malformed or carrying a NUL → 400 `malformed_query`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        without_nul(parts.uri.query().unwrap_or(""), "malformed_query")?;
        let axum::extract::Query(v) =
            axum::extract::Query::from_request_parts(parts, state).await?;
        Ok(Query(v))
    }
}

/// Path segments, deserialised; malformed or carrying a NUL → 400 `malformed_path`.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        without_nul(parts.uri.path(), "malformed_path")?;
        let axum::extract::Path(v) = axum::extract::Path::from_request_parts(parts, state).await?;
        Ok(Path(v))
    }
}

/// Refuse a URL part that carries a NUL character (percent-encoded: a URL has no other way).
fn without_nul(raw: &str, code: &'static str) -> Result<(), ApiError> {
    if raw
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            "the URL carries a NUL character (%00)",
        ));
    }
    Ok(())
}

/// The raw body, up to the general limit; larger → 413 `body_too_large`.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(ApiError::from)
    }
}

/// An axum rejection as the JSON error: the code from its status, axum's text as the
/// message.
fn rejection(status: StatusCode, text: String, malformed: &'static str) -> ApiError {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => malformed,
    };
    if status.is_server_error() {
        tracing::error!(%status, text, "request extraction failed");
    }
    ApiError::new(status, code, text)
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        rejection(r.status(), r.body_text(), "malformed_query")
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        rejection(r.status(), r.body_text(), "malformed_path")
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        rejection(r.status(), r.body_text(), "malformed_request")
    }
}

/// The router's answer for a path it does not serve: 404 `no_such_route`.
pub async fn no_such_route() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "そのページはありません / no such route",
    )
    .into_response()
}

/// The router's answer for a method a path does not take: 405 `method_not_allowed`.
pub async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "この操作はできません / method not allowed for this route",
    )
    .into_response()
}
