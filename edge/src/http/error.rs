//! HTTP error answers: a status and a JSON body `{"error": code, "message": text}` with a
//! stable machine-readable code — the [`ErrorBody`] schema of the OpenAPI document, the
//! same [`ErrorAnswer`] central answers with.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::central::ErrorAnswer;
use checkup_protocol::{BatchError, ProtocolError};
use serde::Serialize;

use crate::log::store::StoreError;
use crate::venue::VenueError;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. `malformed_event`, `forbidden_role`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for 429 answers.
    pub retry_after: Option<u64>,
    /// PIN tries the card has left, for a wrong card PIN.
    pub tries_left: Option<u8>,
    /// What a sign-off left missing, for `incomplete_station`.
    pub missing: Option<Vec<String>>,
    /// What must be recorded before the sign-off, confirmation or not (`incomplete_station`
    /// at 問診: the required answers).
    pub required: Option<Vec<String>>,
}

/// Every refusal's body: `error` (a stable code) and `message`, as central answers
/// (`ErrorAnswer`), and for some refusals a field more.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Code and message.
    #[serde(flatten)]
    pub answer: ErrorAnswer,
    /// Seconds to wait before trying again (429 `locked`; also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// PIN tries the card has left (422 `wrong_pin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u8>,
    /// What is missing (422 `incomplete_station`): item codes, or at 診察 station kinds.
    /// A sign-off that lists them all in `payload.missing` (with `confirmed`) is accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
    /// Those of `missing` no confirmation covers (422 `incomplete_station` at 問診: the
    /// answers the report requires, 服薬 1–3 and 喫煙, by item code): record them first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
}

impl ApiError {
    /// Build an error answer.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            tries_left: None,
            missing: None,
            required: None,
        }
    }

    /// 429: refused for `secs` seconds (sign-in lockout).
    pub fn locked(secs: u64, message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "locked", message)
        }
    }

    /// 401: no valid session.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "not_signed_in",
            "sign in with your staff id and PIN",
        )
    }

    /// 403: the role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden_role", message)
    }

    /// 400: malformed request body.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_request", message)
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        let status = match e {
            ProtocolError::InvalidPayload { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Invalid(e) => ApiError::from(e),
            e @ StoreError::TrainingMismatch { training } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                if training {
                    "training_event"
                } else {
                    "real_event_in_training"
                },
                e.to_string(),
            ),
            StoreError::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the box is shutting down; retry on the next box or after restart",
            ),
            other => {
                tracing::error!(error = %other, "event store error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    other.to_string(),
                )
            }
        }
    }
}

impl From<VenueError> for ApiError {
    fn from(e: VenueError) -> Self {
        let status = match e {
            VenueError::Forbidden(_) => StatusCode::FORBIDDEN,
            VenueError::Invalid(p) => return ApiError::from(p),
            VenueError::Store(s) => return ApiError::from(s),
            VenueError::NotBooked(_) => StatusCode::NOT_FOUND,
            VenueError::AlreadyCheckedIn { .. }
            | VenueError::CardInUse { .. }
            | VenueError::SessionNotOpen(_)
            | VenueError::Conflict(_) => StatusCode::CONFLICT,
            VenueError::Mismatch(_)
            | VenueError::ConfirmationRequired(_)
            | VenueError::Incomplete { .. }
            | VenueError::CorrectionRequired { .. }
            | VenueError::ReasonRequired
            | VenueError::SystolicNotAboveDiastolic { .. }
            | VenueError::UnknownCourse(_)
            | VenueError::UseCommand(_) => StatusCode::UNPROCESSABLE_ENTITY,
            VenueError::Roster(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %e, "venue command failed");
        }
        let (missing, required) = match &e {
            VenueError::Incomplete {
                missing, required, ..
            } => (
                Some(missing.clone()),
                Some(required.clone()).filter(|r| !r.is_empty()),
            ),
            _ => (None, None),
        };
        ApiError {
            missing,
            required,
            ..ApiError::new(status, e.code(), e.to_string())
        }
    }
}

/// Run blocking work (Argon2, SQLite reads, imports) off the async threads. A task that
/// panicked or was cancelled is a 500 naming `what`.
pub async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, what, "blocking task failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{what} failed"),
        )
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            answer: ErrorAnswer {
                error: self.code.to_owned(),
                message: self.message,
            },
            retry_after_secs: self.retry_after,
            tries_left: self.tries_left,
            missing: self.missing,
            required: self.required,
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is still on the wire unread: say the connection
            // ends here so no client sends its next request down it.
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        resp
    }
}
