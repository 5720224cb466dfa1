//! What boxes send: `POST /v1/batches` (a batch of signed events, received whole by the
//! shared receiver with central's rules, [`crate::ingest`], then stored exactly once) and
//! `POST /v1/wipes` (a forced wipe, into the audit trail). A box authenticates with its
//! enrolled secret and, when central has TLS, its own client certificate; every refusal
//! of the box's making is counted by code in [`Rejections`] (`GET /healthz`).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Event;
use checkup_protocol::central::{BatchAck, ErrorAnswer, ForcedWipe, WipeRecorded};
use serde_json::json;

use super::ApiError;
use crate::db::EventRow;
use crate::ingest::check_batch;
use crate::server::AppState;

/// Batches refused since start, by error code (`bad_signature`, `unauthenticated`, …): a
/// forged or altered event shows up here as well as in the log.
#[derive(Debug, Default)]
pub struct Rejections(std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>);

impl Rejections {
    fn count(&self, code: &'static str) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(code).or_default() += 1;
    }

    /// The counts so far.
    pub fn snapshot(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// `POST /v1/batches`; every refusal of the box's making (not a storage failure) is
/// counted in [`Rejections`].
#[utoipa::path(
    post,
    path = "/v1/batches",
    tag = "boxes",
    description = "A JSON array of signed events from an enrolled box, received whole and \
                   stored exactly once. With TLS, the box's own client certificate is required \
                   too.",
    request_body(content = Vec<Event>, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored; the box's forwarding watermark per node", body = BatchAck),
        (status = 400, description = "`malformed_batch`", body = ErrorAnswer),
        (status = 401, description = "`unauthenticated`, `client_certificate_required`", body = ErrorAnswer),
        (status = 403, description = "`certificate_mismatch`", body = ErrorAnswer),
        (status = 409, description = "`seq_conflict`: another event under a held node and seq", body = ErrorAnswer),
        (status = 413, description = "`batch_too_large`", body = ErrorAnswer),
        (status = 422, description = "`malformed_event`, `unknown_format_version`, `bad_signature`, `unknown_node`, `invalid_payload`, `foreign_municipality`, `wrong_venue`, `node_mismatch`, `training_event` (a training event: never stored, recorded in the audit trail)", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("box" = [])),
)]
pub(crate) async fn batches(
    State(s): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let rejected = s.rejected.clone();
    let client_node = client_node(&extensions);
    let result = ingest_batch(s, client_node, headers, body).await;
    if let Err(e) = &result
        && e.status.is_client_error()
    {
        rejected.count(e.code);
    }
    result
}

/// The node id of the connection's verified client certificate, if any.
pub(crate) fn client_node(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<axum::extract::ConnectInfo<checkup_provisioning::tls::Peer>>()
        .and_then(|c| c.0.node.clone())
}

/// The enrolled box making a request: its secret, and (with TLS) its own client
/// certificate.
pub(crate) fn enrolled_box(
    s: &AppState,
    client_node: Option<&str>,
    headers: &HeaderMap,
) -> Result<crate::server::EnrolledBox, ApiError> {
    let unauth = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "an enrolled box's secret is required",
        )
    };
    let secret = bearer(headers).ok_or_else(unauth)?;
    let digest = crate::config::secret_digest(secret);
    let enrolled = s.boxes.get(&digest).cloned().ok_or_else(unauth)?;
    if s.require_client_cert {
        // Mutual TLS: the certificate (checked against the CA and its revocation list in the
        // handshake) must be the box's own; a stolen secret alone forwards nothing.
        match client_node {
            None => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "client_certificate_required",
                    "boxes forward over mutual TLS with their enrolled certificate",
                ));
            }
            Some(n) if n != enrolled.node => {
                tracing::warn!(certificate = n, secret = %enrolled.node, "forwarding with another box's secret");
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "certificate_mismatch",
                    format!("the client certificate names {n}, not the box this secret enrols"),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(enrolled)
}

async fn ingest_batch(
    s: AppState,
    client_node: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let enrolled = enrolled_box(&s, client_node.as_deref(), &headers)?;
    let bytes: Bytes = axum::body::to_bytes(body, s.max_batch_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                format!("a batch is at most {} bytes", s.max_batch_bytes),
            )
        })?;
    let venues = s
        .venues
        .get(&enrolled.municipality)
        .cloned()
        .unwrap_or_default();
    let (keys, max_events, max_bytes) = (s.keys.clone(), s.max_batch_events, s.max_batch_bytes);
    let checked = tokio::task::spawn_blocking(move || {
        check_batch(&bytes, &keys, &venues, max_events, max_bytes).map(|events| {
            events
                .into_iter()
                .map(EventRow::from_accepted)
                .collect::<Vec<_>>()
        })
    })
    .await
    .map_err(ApiError::internal)?;
    let rows = match checked {
        Ok(rows) => rows,
        Err(e @ checkup_protocol::BatchError::TrainingMismatch { index, .. }) => {
            // A rehearsal's events never reach the real records: refused whole, and the
            // attempt goes into the hash-chained audit trail as well as the log.
            tracing::error!(node = %enrolled.node, index, "a batch of training events (練習モード) refused");
            let subject = json!({"index": index, "error": e.to_string()}).to_string();
            s.owner
                .scoped(&enrolled.municipality)?
                .audit(&enrolled.node, "training_batch_refused", &subject)
                .await?;
            return Err(ApiError::from(e));
        }
        Err(e) => {
            tracing::warn!(node = %enrolled.node, error = %e, "batch refused");
            return Err(ApiError::from(e));
        }
    };
    let n = rows.len();
    // As the box's municipality: on PostgreSQL its rows are written under its role.
    let done = s.owner.scoped(&enrolled.municipality)?.ingest(rows).await?;
    s.batches_stored
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::debug!(node = %enrolled.node, events = n, new = done.new, "batch stored");
    Ok(Json(BatchAck {
        acked: done.acked,
        new: done.new as u64,
        duplicate: done.duplicate as u64,
    })
    .into_response())
}

/// `POST /v1/wipes`: a box records a forced wipe (`checkup-edge wipe --force --reason`)
/// before it wipes; the entry goes into the hash-chained audit trail. Authenticated like a
/// batch (the box's secret and, with TLS, its own certificate).
#[utoipa::path(
    post,
    path = "/v1/wipes",
    tag = "boxes",
    description = "An enrolled box records a forced wipe before it wipes; the entry goes into \
                   the hash-chained audit trail.",
    request_body(content = ForcedWipe, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = WipeRecorded),
        (status = 400, description = "`malformed_request`, `bad_reason` (4 to 500 characters)", body = ErrorAnswer),
        (status = 401, description = "`unauthenticated`, `client_certificate_required`", body = ErrorAnswer),
        (status = 403, description = "`certificate_mismatch`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("box" = [])),
)]
pub(crate) async fn wipes(
    State(s): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    super::extract::Body(body): super::extract::Body,
) -> Result<Response, ApiError> {
    let client_node = client_node(&extensions);
    let enrolled = match enrolled_box(&s, client_node.as_deref(), &headers) {
        Ok(b) => b,
        Err(e) => {
            s.rejected.count(e.code);
            return Err(e);
        }
    };
    let w: ForcedWipe = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))?;
    let reason = w.reason.trim();
    if reason.chars().count() < 4 || reason.chars().count() > 500 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_reason",
            "a forced wipe needs a reason of 4 to 500 characters",
        ));
    }
    let subject = json!({"reason": reason, "unforwarded": w.unforwarded}).to_string();
    s.owner
        .scoped(&enrolled.municipality)?
        .audit(&enrolled.node, "box_wiped_forced", &subject)
        .await?;
    tracing::warn!(node = %enrolled.node, reason, "forced wipe recorded");
    Ok(Json(WipeRecorded { recorded: true }).into_response())
}
