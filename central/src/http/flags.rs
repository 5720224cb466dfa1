//! High-risk flags from health to child welfare: a nurse flags a resident (特定妊婦, a child
//! who missed checkups) with what she saw (`POST /v1/residents/{id}/flags`); the
//! child-welfare side lists them (`GET /v1/flags`) and sees each new one live
//! (`GET /v1/flags/stream`, server-sent events).
//!
//! The stream reads the flags table itself, every [`POLL`] and at once when a flag is raised
//! in this process, so a flag raised through any central process of the municipality
//! reaches every caseworker within a second, without a broker between the processes. Each
//! read looks [`LOOKBACK_MS`] behind the newest flag it sent (flags it sent are not sent
//! again): a flag is stamped before it is stored, so one stamped earlier may be stored after
//! a later one (two nurses at once, two processes). The stream ends with its session
//! (sign-out, idle time) with a `signed_out` event. Each raise and each listing is audited;
//! the stream's opening is audited as one listing.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::access::{audit_read, decide_record};
use super::extract::{Body, Path, Query};
use super::session::{session_open, session_token, staff};
use crate::access;
use crate::db::RiskFlag;
use crate::server::AppState;

/// How often an open stream looks for flags raised through other processes.
pub const POLL: Duration = Duration::from_millis(250);

/// How far behind the newest flag sent a stream looks again for flags stored late.
pub const LOOKBACK_MS: i64 = 10_000;

/// The kinds of flag.
pub const KINDS: [(&str, &str); 3] = [
    ("specified_pregnancy", "特定妊婦"),
    ("missed_checkups", "乳幼児健診未受診"),
    ("other", "その他の気がかり"),
];

/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Body of `POST /v1/residents/{id}/flags`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RaiseFlag {
    /// `specified_pregnancy` (特定妊婦), `missed_checkups` (乳幼児健診未受診) or `other`.
    kind: String,
    /// What was seen (1 to 2000 characters).
    note: String,
    /// Why, when the resident is outside the nurse's districts and caseload.
    #[serde(default)]
    purpose: Option<String>,
}

/// The flags of the municipality.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Flags {
    /// Oldest first.
    flags: Vec<RiskFlag>,
}

/// `?after=`: flags raised at or after this Unix millisecond.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct After {
    /// Unix milliseconds. Default 0 (every flag).
    #[serde(default)]
    after: i64,
}

fn bad(code: &'static str, m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, m)
}

/// `POST /v1/residents/{id}/flags`
#[utoipa::path(
    post,
    path = "/v1/residents/{id}/flags",
    tag = "flags",
    description = "Flag a resident for the child-welfare side (health department staff who may \
                   read the resident's record; outside one's duties with a `purpose`). Shown \
                   live to the caseworkers; audited.",
    params(("id" = String, Path, description = "Resident number")),
    request_body(content = RaiseFlag, content_type = "application/json"),
    responses(
        (status = 200, description = "Raised", body = RiskFlag),
        (status = 400, description = "`malformed_request`, `bad_kind`, `bad_note`, `unknown_resident`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`, `purpose_required`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn raise(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    if !access::raises_flags(&st.viewer) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "フラグは保健部門が付けます / the health department raises flags",
        ));
    }
    let req: RaiseFlag =
        serde_json::from_slice(&body).map_err(|e| bad("malformed_request", e.to_string()))?;
    if !KINDS.iter().any(|(k, _)| *k == req.kind) {
        return Err(bad(
            "bad_kind",
            "kind は specified_pregnancy, missed_checkups, other のいずれかです",
        ));
    }
    let note = req.note.trim();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS || note.contains('\0') {
        return Err(bad(
            "bad_note",
            format!(
                "所見を1〜{MAX_NOTE_CHARS}文字で書いてください / note: 1 to {MAX_NOTE_CHARS} characters"
            ),
        ));
    }
    if st.db.resident(&id).await?.is_none() {
        return Err(bad(
            "unknown_resident",
            format!("住民 {id} は登録されていません / no such resident"),
        ));
    }
    let read = decide_record(&st, &id, req.purpose.as_deref()).await?;
    let flag = RiskFlag {
        flag_id: uuid::Uuid::now_v7().to_string(),
        resident_id: id.clone(),
        kind: req.kind,
        note: note.to_owned(),
        raised_by: st.id.clone(),
        raised_ms: crate::audit::now_ms(),
    };
    st.db.raise_flag(flag.clone()).await?;
    audit_read(
        &st,
        "raise_flag",
        &format!("{id}: {}", flag.kind),
        Some(&id),
        &read,
    )
    .await?;
    let _ = s.flag_raised.send(());
    Ok(Json(flag).into_response())
}

fn may_see(st: &super::session::Signed) -> Result<(), ApiError> {
    if access::sees_flags(&st.viewer) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "フラグは子ども家庭部門と保健の係長以上が見ます / child welfare and health 係長+ see flags",
        ))
    }
}

/// `GET /v1/flags?after=`
#[utoipa::path(
    get,
    path = "/v1/flags",
    tag = "flags",
    description = "The municipality's high-risk flags raised at or after `after` (child-welfare \
                   staff; health 係長 and above); audited.",
    params(After),
    responses(
        (status = 200, description = "Flags", body = Flags),
        (status = 400, description = "`malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    may_see(&st)?;
    // The store answers flags raised after its argument: at or after `after` is asked.
    let flags = st.db.risk_flags(q.after.saturating_sub(1), 1000).await?;
    st.db
        .audit(&st.id, "list_flags", &format!("{} flags", flags.len()))
        .await?;
    Ok(Json(Flags { flags }).into_response())
}

/// `GET /v1/flags/stream?after=`
#[utoipa::path(
    get,
    path = "/v1/flags/stream",
    tag = "flags",
    description = "Server-sent events: each flag raised at or after `after` as a `flag` event \
                   (JSON of a flag), then each new one within a second of being raised \
                   (child-welfare staff; health 係長 and above); a `signed_out` event ends \
                   it when the session ends (sign-out, idle time). Opening it is audited.",
    params(After),
    responses(
        (status = 200, description = "`text/event-stream` of `flag` events", content_type = "text/event-stream", body = String),
        (status = 400, description = "`malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn stream(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    may_see(&st)?;
    st.db.audit(&st.id, "stream_flags", "open").await?;
    let token = session_token(&headers).unwrap_or_default().to_owned();
    let db = st.db.clone();
    let mut raised = s.flag_raised.subscribe();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(64);
    tokio::spawn(async move {
        let floor = q.after;
        let mut newest = q.after;
        let mut seen = std::collections::HashSet::new();
        loop {
            if !session_open(&s, &token).await {
                let _ = tx
                    .send(Ok(Event::default().event("signed_out").data(
                        "サインインし直してください / signed out: sign in again",
                    )))
                    .await;
                return;
            }
            let from = newest
                .saturating_sub(LOOKBACK_MS)
                .max(floor)
                .saturating_sub(1);
            match db.risk_flags(from, 1000).await {
                Ok(flags) => {
                    for f in flags {
                        if !seen.insert(f.flag_id.clone()) {
                            continue;
                        }
                        newest = newest.max(f.raised_ms);
                        let Ok(json) = serde_json::to_string(&f) else {
                            continue;
                        };
                        if tx
                            .send(Ok(Event::default().event("flag").data(json)))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "flag stream: reading flags failed"),
            }
            tokio::select! {
                _ = tx.closed() => return,
                _ = raised.recv() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    });
    let events =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
