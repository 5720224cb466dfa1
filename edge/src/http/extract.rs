//! axum's extractors with every rejection answered as the JSON error ([`ApiError`]): a query
//! string, path segment, form or body axum cannot take (too large, wrong content type,
//! malformed) is refused as `{"error": code, "message": text}` like every other refusal,
//! never as axum's plain-text answer. Handlers use these instead of axum's own.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FormRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::MethodRouter;

use super::ApiError;

/// The query string, deserialised; malformed → 400 `malformed_query`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path segments, deserialised; malformed → 400 `malformed_path`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// An `application/x-www-form-urlencoded` body; refusals as [`rejection`] maps them.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct Form<T>(pub T);

/// The raw body, up to the route's limit; larger → 413 `body_too_large` naming the limit.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|r| match (r.status(), limit) {
                (StatusCode::PAYLOAD_TOO_LARGE, Some(max)) => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!(
                        "送られたデータが大きすぎます（上限 {size}） / the request body is larger than this route's limit of {size}",
                        size = size_text(max)
                    ),
                ),
                _ => ApiError::from(r),
            })
    }
}

/// `bytes` as people read a limit: `10 MB`, `1.5 MB`, `64 KB`, `512 B` (1 MB = 1024 KB =
/// 1 048 576 bytes, as the limits are set).
pub fn size_text(bytes: usize) -> String {
    const KB: usize = 1024;
    const MB: usize = 1024 * KB;
    let (unit, name) = match bytes {
        b if b >= MB => (MB, "MB"),
        b if b >= KB => (KB, "KB"),
        _ => return format!("{bytes} B"),
    };
    // One decimal, dropped when it is zero.
    let tenths = (bytes.saturating_mul(10) + unit / 2) / unit;
    if tenths.is_multiple_of(10) {
        format!("{} {name}", tenths / 10)
    } else {
        format!("{}.{} {name}", tenths / 10, tenths % 10)
    }
}

/// A file's bytes as a body in the OpenAPI document (a string of `format: binary`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// The body limit in force for a request, so that a refusal can name it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// `route` with a body limit of its own, `max` bytes instead of the general one; a larger
/// body is answered 413 `body_too_large`, naming the limit.
pub fn body_limit<S>(route: MethodRouter<S>, max: usize) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route
        .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(max))
        .layer::<_, std::convert::Infallible>(Extension(BodyLimit(max)))
}

/// An axum rejection as the JSON error: the code from its status, axum's text as the
/// message.
pub fn rejection(status: StatusCode, text: String, malformed: &'static str) -> ApiError {
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

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        rejection(r.status(), r.body_text(), "malformed_request")
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        rejection(r.status(), r.body_text(), "malformed_request")
    }
}

/// The router's answer for a path it does not serve: 404 `no_such_route`.
pub async fn no_such_route() -> axum::response::Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "そのページはありません / no such route",
    )
    .into_response()
}

/// The router's answer for a method a path does not take: 405 `method_not_allowed`.
pub async fn method_not_allowed() -> axum::response::Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "この操作はできません / method not allowed for this route",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn a_limit_reads_in_mb_kb_or_bytes() {
        assert_eq!(size_text(10 * 1024 * 1024), "10 MB");
        assert_eq!(size_text(3 * 1024 * 1024 / 2), "1.5 MB");
        assert_eq!(size_text(64 * 1024), "64 KB");
        assert_eq!(size_text(1000), "1000 B");
        assert_eq!(size_text(0), "0 B");
    }
}
