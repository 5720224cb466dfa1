//! Central's HTTP API.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /healthz` | anyone | liveness, events held, batches refused by reason (no personal data) |
//! | `POST /v1/batches` | an enrolled box (`Authorization: Bearer <secret>`) | a JSON array of signed events, validated whole and stored exactly once; answers `{"acked": {node: seq}, "new", "duplicate"}` |
//! | `POST /v1/login` | staff | `{"staff_id","pin"}` → session cookie |
//! | `GET /v1/residents?q=&birth=` | central admin, caseworker | search the register by id, name or kana (and birth date) |
//! | `POST /v1/residents` | central admin | import register rows (CSV: `resident_id,name,name_kana,birth_date,sex,address`) |
//! | `GET /v1/residents/{id}/record` | central admin | the resident's record (健康かるて); audited |
//! | `GET /v1/export.csv?from=&to=` | central admin | one row per resident per item, current values; audited |

use std::collections::BTreeMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use serde::Deserialize;
use serde_json::json;

use crate::db::{DbError, EventRow, ExportRow, Resident, current_results};
use crate::ingest::{BatchError, check_batch};
use crate::server::AppState;

/// An error answered as `{"error": code, "message": …}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Equivocation { .. } => {
                ApiError::new(StatusCode::CONFLICT, "seq_conflict", e.to_string())
            }
            _ => {
                tracing::error!(error = %e, "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "storage failed; retry later",
                )
            }
        }
    }
}

/// `GET /healthz`: liveness, events held, and batches refused since start by reason (no
/// personal data).
pub(crate) async fn healthz(State(s): State<AppState>) -> Result<Response, ApiError> {
    let events = s.db.event_count().await?;
    let rejected = s.rejected.snapshot();
    let handshakes = s
        .handshakes
        .get()
        .map_or(0, |h| h.refused.load(std::sync::atomic::Ordering::Relaxed));
    Ok(Json(json!({
        "status": "ok", "events": events, "rejected": rejected,
        "tls_handshakes_refused": handshakes,
    }))
    .into_response())
}

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
fn client_node(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<axum::extract::ConnectInfo<checkup_provisioning::tls::Peer>>()
        .and_then(|c| c.0.node.clone())
}

/// The enrolled box making a request: its secret, and (with TLS) its own client
/// certificate.
fn enrolled_box(
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
    let (keys, max) = (s.keys.clone(), s.max_batch_events);
    let checked = tokio::task::spawn_blocking(move || {
        let (events, _) = check_batch(&bytes, &keys, &venues, max)?;
        Ok::<_, BatchError>(
            events
                .into_iter()
                .map(EventRow::from_accepted)
                .collect::<Vec<_>>(),
        )
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let rows = checked.map_err(|e| {
        let (status, code) = match &e {
            BatchError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed_batch"),
            BatchError::TooLarge(..) => (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large"),
            BatchError::ForeignVenue { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "foreign_municipality")
            }
            BatchError::Event { error, .. } => (StatusCode::UNPROCESSABLE_ENTITY, error.code()),
        };
        tracing::warn!(node = %enrolled.node, error = %e, "batch refused");
        ApiError::new(status, code, e.to_string())
    })?;
    let n = rows.len();
    let done = s.db.ingest(rows).await?;
    tracing::debug!(node = %enrolled.node, events = n, new = done.new, "batch stored");
    Ok(
        Json(json!({"acked": done.acked, "new": done.new, "duplicate": done.duplicate}))
            .into_response(),
    )
}

/// A box wiped before central held all its events: what it says it lost and why.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForcedWipe {
    reason: String,
    /// Events central lacked, per node, as the box counted them.
    unforwarded: std::collections::BTreeMap<String, u64>,
}

/// `POST /v1/wipes`: a box records a forced wipe (`checkup-edge wipe --force --reason`)
/// before it wipes; the entry goes into the hash-chained audit trail. Authenticated like a
/// batch (the box's secret and, with TLS, its own certificate).
pub(crate) async fn wipes(
    State(s): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Json(w): Json<ForcedWipe>,
) -> Result<Response, ApiError> {
    let client_node = client_node(&extensions);
    let enrolled = match enrolled_box(&s, client_node.as_deref(), &headers) {
        Ok(b) => b,
        Err(e) => {
            s.rejected.count(e.code);
            return Err(e);
        }
    };
    let reason = w.reason.trim();
    if reason.chars().count() < 4 || reason.chars().count() > 500 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_reason",
            "a forced wipe needs a reason of 4 to 500 characters",
        ));
    }
    let subject = json!({"reason": reason, "unforwarded": w.unforwarded}).to_string();
    s.db.audit(&enrolled.node, "box_wiped_forced", &subject)
        .await?;
    tracing::warn!(node = %enrolled.node, reason, "forced wipe recorded");
    Ok(Json(json!({"recorded": true})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    staff_id: String,
    pin: String,
}

/// Roles that may see the child-welfare intake queue.
const CHILD_CASE_ROLES: [Role; 2] = [Role::ChildWelfareClerk, Role::Caseworker];

/// `GET /v1/notices`: the child-welfare intake queue (child-welfare roles only; listing is
/// audited as one access).
pub(crate) async fn notices(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &CHILD_CASE_ROLES)?;
    let rows = s.db.notices(500).await?;
    s.db.audit(&who, "list_notices", &rows.len().to_string())
        .await?;
    let cases: Vec<serde_json::Value> = rows
        .iter()
        .map(|n| {
            json!({"case_id": n.case_id, "venue": n.venue, "node": n.node, "saved_by": n.staff_id,
                   "saved_ms": n.saved_ms, "child_name": n.child_name,
                   "child_birth_date": n.child_birth_date, "abuse_type": n.abuse_type,
                   "resident_id": n.resident_id})
        })
        .collect();
    Ok(Json(json!({"cases": cases})).into_response())
}

/// `GET /v1/notices/{case_id}`: one case with every reviewed field (audited).
pub(crate) async fn notice(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &CHILD_CASE_ROLES)?;
    let row = s.db.notice(&case_id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no case {case_id}"),
        )
    })?;
    s.db.audit(&who, "view_notice", &case_id).await?;
    let notice: serde_json::Value = serde_json::from_str(&row.notice).unwrap_or_default();
    Ok(Json(
        json!({"case_id": row.case_id, "event_id": row.event_id, "venue": row.venue,
                   "node": row.node, "saved_by": row.staff_id, "saved_ms": row.saved_ms,
                   "notice": notice}),
    )
    .into_response())
}

/// `POST /v1/login`
pub(crate) async fn login(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
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
    if let Ok(mut g) = s.sessions.lock() {
        g.insert(token.clone(), (staff.id.clone(), std::time::Instant::now()));
    }
    let mut resp =
        Json(json!({"staff_id": staff.id, "name": staff.name, "role": staff.role})).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "cc_session={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        s.idle.as_secs()
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// The signed-in staff member of a request, if their role is one of `roles`.
fn staff(s: &AppState, headers: &HeaderMap, roles: &[Role]) -> Result<(String, Role), ApiError> {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("cc_session="))
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "sign_in_required", "sign in"))?;
    let id = {
        let mut g = s.sessions.lock().unwrap_or_else(|e| e.into_inner());
        match g.get_mut(token) {
            Some((id, last)) if last.elapsed() < s.idle => {
                *last = std::time::Instant::now();
                id.clone()
            }
            _ => {
                g.remove(token);
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "sign_in_required",
                    "session expired; sign in again",
                ));
            }
        }
    };
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

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    birth: Option<String>,
}

/// `GET /v1/residents?q=&birth=`
pub(crate) async fn search(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin, Role::Caseworker])?;
    let birth = q.birth.filter(|b| !b.is_empty());
    let found = s.db.search(q.q.trim(), birth.as_deref()).await?;
    s.db.audit(&who, "search", &format!("q={} birth={:?}", q.q, birth))
        .await?;
    Ok(Json(json!({"residents": found})).into_response())
}

/// `POST /v1/residents` (CSV)
pub(crate) async fn import_residents(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_ref());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.deserialize::<Resident>().enumerate() {
        match rec {
            Ok(r) if !r.resident_id.is_empty() => rows.push(r),
            Ok(_) => errors.push(json!({"line": i + 2, "message": "empty resident_id"})),
            Err(e) => errors.push(json!({"line": i + 2, "message": e.to_string()})),
        }
    }
    let n = s.db.upsert_residents(rows).await?;
    s.db.audit(&who, "import_residents", &format!("{n} rows"))
        .await?;
    Ok(Json(json!({"imported": n, "errors": errors})).into_response())
}

/// `GET /v1/residents/{id}/record`: every checkup with its results and corrections, and the
/// year-over-year series of each item.
pub(crate) async fn record(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    let rows = s.db.results_of(&id).await?;
    s.db.audit(&who, "view_record", &id).await?;
    let current: Vec<_> = current_results(&rows);
    let mut checkups: BTreeMap<(String, String), Vec<serde_json::Value>> = BTreeMap::new();
    for r in &current {
        let history: Vec<_> = rows
            .iter()
            .filter(|x| x.session_id == r.session_id && x.item_code == r.item_code)
            .map(|x| {
                json!({"value": x.value, "unit": x.unit, "staff_id": x.staff_id,
                            "corrects": x.corrects, "reason": x.reason, "event_id": x.event_id})
            })
            .collect();
        checkups
            .entry((r.day.clone(), r.session_id.clone()))
            .or_default()
            .push(
                json!({"item_code": r.item_code, "value": r.value, "unit": r.unit,
                       "name_ja": checkup_protocol::items::item(&r.item_code).map(|i| i.name_ja),
                       "name_en": checkup_protocol::items::item(&r.item_code).map(|i| i.name_en),
                       "history": history}),
            );
    }
    let mut series: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    for r in &current {
        series
            .entry(r.item_code.as_str())
            .or_default()
            .push(json!({"date": r.day, "value": r.value, "unit": r.unit, "venue": r.venue}));
    }
    let resident =
        s.db.search(&id, None)
            .await?
            .into_iter()
            .find(|r| r.resident_id == id);
    Ok(Json(json!({
        "resident_id": id,
        "resident": resident,
        "checkups": checkups.into_iter().map(|((day, session), items)| json!({
            "date": day, "session_id": session, "items": items})).collect::<Vec<_>>(),
        "series": series,
    }))
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ExportQuery {
    from: String,
    to: String,
}

fn valid_date(d: &str) -> bool {
    time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// `GET /v1/export.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`
pub(crate) async fn export(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    if !valid_date(&q.from) || !valid_date(&q.to) || q.from > q.to {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_range",
            "from and to are dates YYYY-MM-DD, from ≤ to",
        ));
    }
    let rows = s.db.results_between(&q.from, &q.to).await?;
    let mut out: Vec<ExportRow> = current_results(&rows)
        .into_iter()
        .map(|r| ExportRow {
            resident_id: r.resident_id.clone(),
            item_code: r.item_code.clone(),
            value: r.value.clone(),
            unit: r.unit.clone(),
            date: r.day.clone(),
            venue: r.venue.clone(),
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.date, &a.resident_id, &a.item_code).cmp(&(&b.date, &b.resident_id, &b.item_code))
    });
    s.db.audit(
        &who,
        "export",
        &format!("{}..{} ({} rows)", q.from, q.to, out.len()),
    )
    .await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &out {
        w.serialize(r).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
    }
    if out.is_empty() {
        w.write_record(["resident_id", "item_code", "value", "unit", "date", "venue"])
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?;
    }
    let body = w
        .into_inner()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"checkup-results.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
