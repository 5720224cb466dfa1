//! Pre-answers of the 標準的な質問票 on the resident's own phone, central's side of the
//! office and of the boxes: one-time links for the 受診券, the answers given through them for
//! the venue boxes, and the same answers as a file for a box that cannot reach central.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /v1/questionnaire/invitations` | central admin | `[{resident_id, checkup}]` → per resident a one-time link `/q/{token}` and its QR code (SVG); a new link revokes the earlier one of the same resident and checkup; audited |
//! | `GET /v1/questionnaire/answers?checkup=` | central admin | every pre-answer of the checkup as one [`PreAnswers`] file (for a box without a link to central); audited |
//! | `POST /v1/questionnaire/answers/lookup` | an enrolled box | [`AnswersLookup`] → [`PreAnswers`] of the residents it names; audited |
//!
//! A checkup is named by its fiscal year (`"2026"`: April 2026 to March 2027): a resident has
//! one 特定健診 a year, whatever the venue and day they book, so the link printed on the
//! 受診券 in spring still matches the venue day chosen later.
//!
//! A token is 32 random bytes (256 bits, 64 hex digits) from the operating system; central
//! keeps only its SHA-256, so neither a copy of the database nor its backups hold a usable
//! link. Guessing one is infeasible (2^256 tokens against at most a few hundred thousand
//! issued), which is why the resident routes need no rate limit of their own.
//!
//! What a box sees: only the residents it names (it never lists the checkup), and only
//! answer codes, language and time — no name, no address, nothing of the register. A box
//! names the residents of its own roster, which already carries their names and birth dates,
//! so the lookup reveals nothing the box does not already hold beyond the answers it needs at
//! check-in. Every lookup is in the audit trail under the box's node id.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::{AnswersLookup, ErrorAnswer, MAX_LOOKUP, PreAnswers, is_checkup};
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::extract::{Body, Query};
use super::session::{Signed, staff};
use crate::server::AppState;

/// Most links one request issues.
pub const MAX_INVITATIONS: usize = 10_000;

/// One resident to invite.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvitationRequest {
    /// Resident number.
    resident_id: String,
    /// The checkup: its fiscal year, four digits (`"2026"`).
    checkup: String,
}

/// A link issued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IssuedInvitation {
    /// Resident number.
    resident_id: String,
    /// The checkup.
    checkup: String,
    /// The one-time token (shown once: central keeps only its SHA-256).
    token: String,
    /// The link's path, `/q/{token}`.
    path: String,
    /// The whole link as central was reached for this request (scheme and `Host`).
    url: String,
    /// The link as a QR code, an SVG document, for printing on the 受診券.
    qr_svg: String,
}

/// Links issued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Issued {
    /// One per resident asked for, in the request's order.
    invitations: Vec<IssuedInvitation>,
}

/// SHA-256 of a token, hex: the only form central stores.
pub(crate) fn token_digest(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Whether `s` has the shape of a token (64 lowercase hex digits).
pub(crate) fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn qr_svg(url: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// The base of central's own links for this request: scheme and the `Host` asked for.
fn base_url(s: &AppState, headers: &HeaderMap) -> String {
    let scheme = if s.require_client_cert {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// `POST /v1/questionnaire/invitations`
#[utoipa::path(
    post,
    path = "/v1/questionnaire/invitations",
    operation_id = "questionnaire_invitations",
    tag = "questionnaire",
    description = "Issue one-time questionnaire links (central admin): a JSON array of \
                   `{resident_id, checkup}` (checkup = fiscal year, four digits; at most \
                   10,000) → per resident a 256-bit token, its link `/q/{token}` and the link \
                   as an SVG QR code for the 受診券. Only the token's SHA-256 is stored; a new \
                   link revokes the earlier one of the same resident and checkup. Refused \
                   whole when a row is bad; audited.",
    request_body(content = Vec<InvitationRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Issued", body = Issued),
        (status = 400, description = "`malformed_request`, `bad_resident_id`, `bad_checkup`, `duplicate_resident`, `too_many`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn invite(
    State(s): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    let rows: Vec<InvitationRequest> =
        serde_json::from_slice(&body).map_err(|e| bad("malformed_request", e.to_string()))?;
    if rows.len() > MAX_INVITATIONS {
        return Err(bad(
            "too_many",
            format!("at most {MAX_INVITATIONS} residents per request"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, r) in rows.iter().enumerate() {
        if !valid_resident_id(&r.resident_id) {
            return Err(bad(
                "bad_resident_id",
                format!(
                    "row {}: a resident number is 1 to 64 visible characters",
                    i + 1
                ),
            ));
        }
        if !is_checkup(&r.checkup) {
            return Err(bad(
                "bad_checkup",
                format!(
                    "row {}: a checkup is its fiscal year, four digits (\"2026\")",
                    i + 1
                ),
            ));
        }
        if !seen.insert((r.resident_id.as_str(), r.checkup.as_str())) {
            return Err(bad(
                "duplicate_resident",
                format!("row {}: {} is asked for twice", i + 1, r.resident_id),
            ));
        }
    }
    let base = base_url(&s, &headers);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(ApiError::internal)?;
        let token = hex::encode(raw);
        db.issue_invitation(&token_digest(&token), &r.resident_id, &r.checkup, now_ms())
            .await?;
        let path = format!("/q/{token}");
        let url = format!("{base}{path}");
        let qr = qr_svg(&url)?;
        out.push(IssuedInvitation {
            resident_id: r.resident_id,
            checkup: r.checkup,
            token,
            path,
            url,
            qr_svg: qr,
        });
    }
    let ids: Vec<&str> = out.iter().map(|i| i.resident_id.as_str()).collect();
    db.audit(&who, "questionnaire_invite", &ids.join(","))
        .await?;
    Ok(Json(Issued { invitations: out }).into_response())
}

/// A resident number as central takes it: 1 to 64 characters, none a control character.
pub(crate) fn valid_resident_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= 64
        && !id.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Which checkup.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CheckupQuery {
    /// The fiscal year, four digits (`2026`).
    checkup: String,
}

/// `GET /v1/questionnaire/answers?checkup=`
#[utoipa::path(
    get,
    path = "/v1/questionnaire/answers",
    operation_id = "pre_answers_export",
    tag = "questionnaire",
    description = "Every answer residents gave on their phones for one checkup, as the file a \
                   venue admin imports on a box that cannot reach central (central admin); \
                   audited.",
    params(CheckupQuery),
    responses(
        (status = 200, description = "The pre-answers", body = PreAnswers),
        (status = 400, description = "`malformed_query`, `bad_checkup`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn export(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CheckupQuery>,
) -> Result<Response, ApiError> {
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    if !is_checkup(&q.checkup) {
        return Err(bad(
            "bad_checkup",
            "a checkup is its fiscal year, four digits (\"2026\")",
        ));
    }
    let answers = db.pre_answers(&q.checkup, None).await?;
    db.audit(
        &who,
        "questionnaire_export",
        &format!("checkup={} residents={}", q.checkup, answers.len()),
    )
    .await?;
    let mut resp = Json(PreAnswers {
        checkup: q.checkup.clone(),
        answers,
    })
    .into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
        "attachment; filename=\"pre-answers-{}.json\"",
        q.checkup
    )) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `POST /v1/questionnaire/answers/lookup`
#[utoipa::path(
    post,
    path = "/v1/questionnaire/answers/lookup",
    operation_id = "pre_answers_lookup",
    tag = "boxes",
    description = "An enrolled box fetches the pre-answers of the residents of its roster \
                   (at most 5,000 per request): only those it names, and only answer codes, \
                   language and time. Authenticated like a batch (the box's secret and, with \
                   TLS, its own certificate); audited.",
    request_body(content = AnswersLookup, content_type = "application/json"),
    responses(
        (status = 200, description = "The pre-answers of the residents named who answered", body = PreAnswers),
        (status = 400, description = "`malformed_request`, `bad_checkup`, `too_many`", body = ErrorAnswer),
        (status = 401, description = "`unauthenticated`, `client_certificate_required`", body = ErrorAnswer),
        (status = 403, description = "`certificate_mismatch`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("box" = [])),
)]
pub(crate) async fn lookup(
    State(s): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let node = super::ingest::client_node(&extensions);
    let enrolled = super::ingest::enrolled_box(&s, node.as_deref(), &headers)?;
    let req: AnswersLookup =
        serde_json::from_slice(&body).map_err(|e| bad("malformed_request", e.to_string()))?;
    if !is_checkup(&req.checkup) {
        return Err(bad(
            "bad_checkup",
            "a checkup is its fiscal year, four digits (\"2026\")",
        ));
    }
    if req.resident_ids.len() > MAX_LOOKUP {
        return Err(bad(
            "too_many",
            format!("at most {MAX_LOOKUP} residents per lookup"),
        ));
    }
    let asked = req.resident_ids.len();
    let ids: Vec<String> = req
        .resident_ids
        .into_iter()
        .filter(|id| valid_resident_id(id))
        .collect();
    let db = s.owner.scoped(&enrolled.municipality)?;
    let answers = db.pre_answers(&req.checkup, Some(ids)).await?;
    db.audit(
        &enrolled.node,
        "questionnaire_lookup",
        &format!(
            "checkup={} asked={asked} found={}",
            req.checkup,
            answers.len()
        ),
    )
    .await?;
    tracing::info!(node = %enrolled.node, asked, found = answers.len(), "pre-answers looked up");
    Ok(Json(PreAnswers {
        checkup: req.checkup,
        answers,
    })
    .into_response())
}
