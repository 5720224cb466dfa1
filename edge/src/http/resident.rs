//! Resident mode: a signed-in staff member hands their tablet to the resident at hand, who
//! answers the questionnaire on it themselves, and a staff PIN takes it back.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/resident-mode` | reception, venue admin, who works at 問診 | lock this browser's session to one open checkup session's questionnaire |
//! | `GET /resident` | the locked browser | the resident's page: language, questions, review, submit |
//! | `GET /api/resident-mode` | the locked browser | the session's short number and its answers so far |
//! | `POST /api/resident-mode/answers` | the locked browser | the resident's answers (`via` tablet, the locked session) |
//! | `POST /api/resident-mode/exit` | the locked browser | a checkup staff member's id and PIN end it |
//!
//! The lock lives on the server, on the staff session ([`crate::auth::Auth::lock_to_resident`]),
//! never in the browser. While it holds, [`guard`] lets through only [`REACHABLE`]; every
//! other page is answered with a redirect to `/resident` and every other API with 403
//! `resident_mode`, whatever route is added later. The submit takes no session id from the
//! client: it is the one the lock names. Ending it checks the PIN exactly as sign-in does
//! (wrong PINs count and lock out) and opens a new session for the staff member who typed
//! it, so the tablet is theirs afterwards.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use checkup_protocol::questionnaire::{self, Channel, Lang};
use checkup_protocol::{Answered, Role, StationKind};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Query};
use super::questionnaire::{answer_lang, may_hand_on_answers, not_for_role};
use super::{AppState, set_cookie};
use crate::auth::{self, Auth, Staff};
use crate::ui::resident::{ResidentView, page_markup};
use crate::venue::questionnaire::{Answer, Submitted};

/// What a browser in resident mode may reach (method, path); nothing else.
pub const REACHABLE: &[(&str, &str)] = &[
    ("GET", "/resident"),
    ("GET", "/assets/app.css"),
    ("GET", "/favicon.svg"),
    ("GET", "/api/questionnaire"),
    ("GET", "/api/resident-mode"),
    ("POST", "/api/resident-mode/answers"),
    ("POST", "/api/resident-mode/exit"),
];

/// Whether a locked browser may reach `method path`.
pub fn reachable(method: &Method, path: &str) -> bool {
    REACHABLE
        .iter()
        .any(|(m, p)| method.as_str() == *m && path == *p)
}

/// The refusal of a staff API to a browser in resident mode.
pub fn refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "resident_mode",
        "この端末は受診者の回答用です。係員の暗証番号で戻してください / this browser is handed to a resident: a staff PIN ends resident mode",
    )
}

/// Middleware: a browser whose session is in resident mode reaches only [`REACHABLE`];
/// other pages redirect to `/resident`, other addresses answer 403 `resident_mode`.
pub async fn guard(
    State(auth): State<Arc<Auth>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let locked = auth
        .token(req.headers())
        .and_then(|t| auth.locked_to(&t))
        .is_some();
    if !locked || reachable(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let page = req.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/assets/")
        && !matches!(path, "/openapi.json" | "/healthz" | "/favicon.svg");
    if page || path == "/logout" || path == "/login" {
        Redirect::to("/resident").into_response()
    } else {
        refused().into_response()
    }
}

/// The checkup session's number as the resident's page shows it (no name, nothing else):
/// the last four hex digits of its id, upper case.
pub fn short_id(session: Uuid) -> String {
    let s = session.simple().to_string();
    s[s.len().saturating_sub(4)..].to_uppercase()
}

/// Body of `POST /api/resident-mode`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HandOver {
    /// The resident's open checkup session.
    session_id: Uuid,
}

/// Resident mode began.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct HandedOver {
    /// The session the browser is locked to.
    session_id: Uuid,
    /// Its short number as the resident's page shows it.
    short_id: String,
    /// Where the browser goes now: `/resident`.
    page: String,
}

/// `POST /api/resident-mode`
#[utoipa::path(
    post,
    path = "/api/resident-mode",
    tag = "questionnaire",
    description = "Hand this browser to the resident of an open checkup session (reception, \
                   venue admin, who works at 問診): until a staff PIN ends it, the browser's \
                   session opens only that resident's questionnaire page.",
    request_body(content = HandOver, content_type = "application/json"),
    responses(
        (status = 200, description = "Resident mode began", body = HandedOver),
        (status = 400, description = "`malformed_request`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`; `resident_mode`: already handed over", body = ErrorBody),
        (status = 409, description = "`session_not_open`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`: the resident's course has no 問診", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<HandedOver>, ApiError> {
    if !may_hand_on_answers(&staff) {
        return Err(not_for_role(&staff));
    }
    let req: HandOver =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    {
        let p = state.store.projection();
        let Some(s) = p
            .session_by_id(req.session_id)
            .filter(|s| s.opened.is_some() && s.closed.is_none())
        else {
            return Err(crate::venue::VenueError::SessionNotOpen(req.session_id).into());
        };
        if !s.stations.contains(&StationKind::Questionnaire) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_payload",
                "この方のコースに問診はありません / the resident's course has no questionnaire",
            ));
        }
    }
    let token = state
        .auth
        .token(&headers)
        .ok_or_else(ApiError::unauthenticated)?;
    if !state.auth.lock_to_resident(&token, req.session_id) {
        return Err(ApiError::unauthenticated());
    }
    tracing::info!(staff = %staff.id, session = %req.session_id, "tablet handed to the resident");
    Ok(Json(HandedOver {
        session_id: req.session_id,
        short_id: short_id(req.session_id),
        page: "/resident".into(),
    }))
}

/// The locked browser's staff member and session, or the refusal: 401 without a live
/// session, 409 `not_in_resident_mode` for a staff session that is not handed over.
fn locked(state: &AppState, headers: &HeaderMap) -> Result<(Staff, Uuid), ApiError> {
    let token = state
        .auth
        .token(headers)
        .ok_or_else(ApiError::unauthenticated)?;
    if let Some(l) = state.auth.resident(&token) {
        return Ok(l);
    }
    if state.auth.lookup(&token).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_in_resident_mode",
            "この端末は受診者モードではありません / this browser is not in resident mode",
        ));
    }
    Err(ApiError::unauthenticated())
}

/// One answer the session holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Held {
    /// Item code.
    item_code: String,
    /// Answer code.
    code: String,
}

/// What the resident's page needs of the session: its short number and the answers it holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ResidentState {
    /// The session's short number (no name or other personal data).
    short_id: String,
    /// Whether the session is still open (answers can be given).
    open: bool,
    /// The questionnaire answers the session already holds (e.g. given on the phone).
    answers: Vec<Held>,
}

/// The questionnaire answers `session` holds, by item code.
fn held_answers(state: &AppState, session: Uuid) -> (bool, Vec<(String, String)>) {
    let p = state.store.projection();
    let Some(s) = p.session_by_id(session) else {
        return (false, Vec::new());
    };
    let open = s.opened.is_some() && s.closed.is_none();
    let answers = questionnaire::QUESTIONS
        .iter()
        .filter_map(|q| {
            let cur = s.current(q.code)?;
            match &cur.value {
                checkup_protocol::MeasuredValue::Text(code) => {
                    Some((q.code.to_owned(), code.clone()))
                }
                _ => None,
            }
        })
        .collect();
    (open, answers)
}

/// `GET /api/resident-mode`
#[utoipa::path(
    get,
    path = "/api/resident-mode",
    tag = "questionnaire",
    description = "For the browser in resident mode: the session's short number and the \
                   questionnaire answers it already holds (to show them chosen). Each call \
                   counts as activity of the session.",
    responses(
        (status = 200, description = "The locked session", body = ResidentState),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 409, description = "`not_in_resident_mode`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ResidentState>, ApiError> {
    let (_, session) = locked(&state, &headers)?;
    let (open, answers) = held_answers(&state, session);
    Ok(Json(ResidentState {
        short_id: short_id(session),
        open,
        answers: answers
            .into_iter()
            .map(|(item_code, code)| Held { item_code, code })
            .collect(),
    }))
}

/// Body of `POST /api/resident-mode/answers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResidentAnswers {
    /// The language the resident read the questions in.
    lang: String,
    /// The answers, at most one per item.
    answers: Vec<Answer>,
}

/// `POST /api/resident-mode/answers`
#[utoipa::path(
    post,
    path = "/api/resident-mode/answers",
    tag = "questionnaire",
    description = "The resident's own answers from the browser in resident mode: recorded \
                   for the session the browser is locked to, `via` tablet (never a session \
                   named by the client). New items are recorded, equal answers left, changed \
                   ones corrected; stored whole or not at all.",
    request_body(content = ResidentAnswers, content_type = "application/json"),
    responses(
        (status = 200, description = "What the submission changed", body = Submitted),
        (status = 400, description = "`malformed_request`, `unknown_language`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 409, description = "`not_in_resident_mode`, `session_not_open`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`: an item or answer code that is not on the questionnaire, or an item twice", body = ErrorBody),
        (status = 503, description = "`store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<Submitted>, ApiError> {
    let (staff, session) = locked(&state, &headers)?;
    let req: ResidentAnswers =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let answered = Answered {
        via: Channel::Tablet,
        lang: answer_lang(&req.lang)?,
    };
    let done = state
        .core
        .answer_questionnaire(&staff, session, &req.answers, answered)
        .await?;
    Ok(Json(done))
}

/// Body of `POST /api/resident-mode/exit`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exit {
    /// The staff id of whoever takes the tablet back.
    staff_id: String,
    /// Their PIN.
    pin: String,
}

/// Resident mode ended: the staff member now signed in on this browser.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TakenBack {
    /// Staff id.
    staff_id: String,
    /// Display name.
    name: String,
    /// Their role.
    role: Role,
    /// Their own page, where the browser goes now.
    home: String,
}

/// `POST /api/resident-mode/exit`
#[utoipa::path(
    post,
    path = "/api/resident-mode/exit",
    tag = "questionnaire",
    description = "End resident mode with the id and PIN of a checkup staff member of this \
                   venue, checked as at sign-in (wrong PINs count and lock out). The browser \
                   is then signed in as that staff member (`Set-Cookie: ce_session=…`), the \
                   resident's session ended.",
    request_body(content = Exit, content_type = "application/json"),
    responses(
        (status = 200, description = "Taken back; `Set-Cookie: ce_session=…`", body = TakenBack),
        (status = 400, description = "`malformed_request`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`, `wrong_credentials`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`: not a checkup staff member", body = ErrorBody),
        (status = 409, description = "`not_in_resident_mode`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 429, description = "`locked`: too many wrong PINs; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a PIN is taken again"))),
        (status = 500, description = "`internal`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn exit(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (handed_by, session) = locked(&state, &headers)?;
    let req: Exit =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let client = auth::Client::of(&extensions);
    let (token, staff) =
        super::auth::sign_in(&state, req.staff_id.trim().to_owned(), req.pin, client).await?;
    if !staff.role.is_checkup_role() {
        state.auth.sign_out(&token);
        return Err(ApiError::forbidden(format!(
            "{}の権限では受診者モードを終了できません / role {} may not end resident mode",
            staff.role.label_ja(),
            staff.role
        )));
    }
    if let Some(old) = state.auth.token(&headers) {
        state.auth.sign_out(&old);
    }
    tracing::info!(
        staff = %staff.id,
        handed_by = %handed_by.id,
        session = %session,
        "tablet taken back from the resident"
    );
    let home = crate::ui::home_of(&crate::ui::Who::from(&staff));
    let mut resp = Json(TakenBack {
        staff_id: staff.id,
        name: staff.name,
        role: staff.role,
        home,
    })
    .into_response();
    set_cookie(&mut resp, &state.auth.cookie(&token));
    Ok(resp)
}

/// The query of `GET /resident`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct PageQuery {
    /// The language chosen; without it (or with one not offered) the language chooser.
    lang: Option<String>,
}

/// `GET /resident`
#[utoipa::path(
    get,
    path = "/resident",
    tag = "pages",
    params(PageQuery),
    description = "The resident's questionnaire page, for the browser in resident mode: the \
                   language chooser, then in the chosen language the questions one per \
                   screen (answers the session holds already chosen), a review and submit. \
                   A signed-in staff browser not in resident mode is sent to its own page, \
                   anyone else to sign-in.",
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Not in resident mode: to the staff member's page or `/login`",
            headers(("Location" = String, description = "Where to go"))),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(token) = state.auth.token(&headers) else {
        return Redirect::to("/login").into_response();
    };
    let Some((_, session)) = state.auth.resident(&token) else {
        return match state.auth.lookup(&token) {
            Some(staff) => {
                Redirect::to(&crate::ui::home_of(&crate::ui::Who::from(&staff))).into_response()
            }
            None => Redirect::to("/login").into_response(),
        };
    };
    let lang = q.lang.as_deref().and_then(Lang::from_tag);
    let (open, answers) = held_answers(&state, session);
    let view = ResidentView {
        short_id: short_id(session),
        open,
        questionnaire: lang.map(questionnaire::view),
        answers: answers.into_iter().collect(),
        languages: Lang::ALL
            .into_iter()
            .map(|l| crate::ui::resident::Choice {
                tag: l.tag(),
                html_lang: l.html_lang(),
                name: questionnaire::texts(l).name.clone(),
                prompt: questionnaire::texts(l).ui("choose_language").to_owned(),
            })
            .collect(),
    };
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Html(page_markup(&view).into_string()),
    )
        .into_response()
}
