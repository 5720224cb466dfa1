//! The pages' own routes: the venue board page, sign-in and sign-out forms, the stylesheet,
//! and the page language (`?lang=en`, remembered in a cookie). The markup is [`crate::ui`]'s.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::{Form, Query};
use super::{AppState, set_cookie};
use crate::auth::{self, Staff};
use crate::http::error::ErrorBody;
use crate::ui::{self, APP_CSS, FAVICON_SVG, Lang, Who};
use checkup_protocol::Role;

/// The page language.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LangQuery {
    /// `ja` or `en`; remembered in the `lang` cookie. Anything else is ignored.
    lang: Option<String>,
}

/// Language from `?lang=`, else the `lang` cookie, else Japanese. Returns whether the query
/// asked for a change (so the cookie is set).
pub(crate) fn lang_of(headers: &HeaderMap, q: &LangQuery) -> (Lang, bool) {
    let parse = Lang::parse;
    if let Some(l) = q.lang.as_deref().and_then(parse) {
        return (l, true);
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| parse(v));
    (cookie.unwrap_or(Lang::Ja), false)
}

pub(crate) fn with_lang_cookie(mut resp: Response, lang: Lang, set: bool) -> Response {
    if set {
        set_cookie(
            &mut resp,
            &format!(
                "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
                lang.code()
            ),
        );
    }
    resp
}

/// Who opens a page, in which language, once they may: signed in (else the answer is the
/// sign-in page) and in one of the page's roles (else the 403 page).
pub(crate) struct Visitor {
    /// The page language.
    pub lang: Lang,
    /// Whether the language was chosen now (and is remembered in a cookie).
    set: bool,
    /// The staff member.
    pub staff: Staff,
}

impl Visitor {
    /// The page's answer, remembering the language when it was chosen.
    pub fn answer(&self, resp: Response) -> Response {
        with_lang_cookie(resp, self.lang, self.set)
    }
}

/// The visitor of a page for `roles`, or the answer they get instead.
pub(crate) fn visitor(
    state: &AppState,
    headers: &HeaderMap,
    q: &LangQuery,
    roles: &[Role],
) -> Result<Visitor, Box<Response>> {
    let (lang, set) = lang_of(headers, q);
    let Some(staff) = signed_in(state, headers) else {
        return Err(Box::new(with_lang_cookie(
            Redirect::to("/login").into_response(),
            lang,
            set,
        )));
    };
    if super::require(&staff, roles).is_err() {
        return Err(Box::new(with_lang_cookie(
            forbidden_page(lang, &staff),
            lang,
            set,
        )));
    }
    Ok(Visitor { lang, set, staff })
}

pub(crate) fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<Staff> {
    state
        .auth
        .token(headers)
        .and_then(|t| state.auth.lookup(&t))
}

/// `GET /`: the venue board, for checkup roles.
#[utoipa::path(
    get,
    path = "/",
    tag = "pages",
    description = "The venue board page for the checkup roles; the child-welfare roles are sent \
                   to their pages, anyone not signed in to `/login`; the roles with no page on \
                   a venue box (auditor, central admin) get a page saying where their work is.",
    params(LangQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "To `/login`, `/intake` or `/cases`",
            headers(("Location" = String, description = "Where to go"))),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn venue_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (lang, set) = lang_of(&headers, &q);
    let Some(staff) = signed_in(&state, &headers) else {
        return with_lang_cookie(Redirect::to("/login").into_response(), lang, set);
    };
    // The child-welfare roles have their own pages.
    match staff.role {
        Role::ChildWelfareClerk => {
            return with_lang_cookie(Redirect::to("/intake").into_response(), lang, set);
        }
        Role::Caseworker => {
            return with_lang_cookie(Redirect::to("/cases").into_response(), lang, set);
        }
        _ => {}
    }
    if !staff.role.is_checkup_role() {
        // Audit and central administration are done on central: their own page here says so.
        let markup = ui::elsewhere(lang, &Who::from(&staff), &state.venue.name);
        return with_lang_cookie(Html(markup.into_string()).into_response(), lang, set);
    }
    let view = super::status::venue_view(&state);
    // The venue admin of a real box: the 「練習モード」 switch.
    let switch = match (&state.training_switch, &state.training, staff.role) {
        (Some(sw), None, Role::VenueAdmin) => {
            let s = super::training_switch::training_state_for(sw, &headers).await;
            Some(ui::training::SwitchView {
                running: s.running,
                url: s.url,
                residents: 40,
                max_residents: crate::training::switch::MAX_RESIDENTS,
            })
        }
        _ => None,
    };
    let markup = ui::board::page_markup(lang, &Who::from(&staff), &view, switch.as_ref());
    with_lang_cookie(Html(markup.into_string()).into_response(), lang, set)
}

/// The 403 page for a signed-in staff member whose role may not open a page.
pub(crate) fn forbidden_page(lang: Lang, staff: &Staff) -> Response {
    let markup = ui::forbidden(lang, &Who::from(staff));
    (StatusCode::FORBIDDEN, Html(markup.into_string())).into_response()
}

/// `GET /login`
#[utoipa::path(
    get,
    path = "/login",
    tag = "pages",
    description = "The sign-in page.",
    params(LangQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
    ),
    security(()),
)]
pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (lang, set) = lang_of(&headers, &q);
    let markup = ui::login::page_markup(lang, &state.venue.name, None);
    with_lang_cookie(Html(markup.into_string()).into_response(), lang, set)
}

/// The sign-in form.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginForm {
    /// Staff id.
    staff_id: String,
    /// PIN.
    pin: String,
}

/// `POST /login` (form)
#[utoipa::path(
    post,
    path = "/login",
    tag = "pages",
    description = "The sign-in form: to the role's own page with the session cookie, or the \
                   page again saying what was wrong.",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: to the role's own page (`/reception`, \
            `/station/{kind}`, `/`, `/intake`, `/cases`), `Set-Cookie: ce_session=…`",
            headers(("Location" = String, description = "The role's own page"))),
        (status = 400, description = "`malformed_request`: not a form", body = ErrorBody),
        (status = 401, description = "Wrong staff id or PIN (the page again)", content_type = "text/html", body = String),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not a form", body = ErrorBody),
        (status = 422, description = "`malformed_request`: a field is missing", body = ErrorBody),
        (status = 429, description = "Too many wrong PINs (the page again)", content_type = "text/html", body = String,
            headers(("Retry-After" = u64, description = "Seconds until sign-in is possible again"))),
    ),
    security(()),
)]
pub(crate) async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let (lang, _) = lang_of(&headers, &LangQuery::default());
    let client = auth::Client::of(&extensions);
    match super::auth::sign_in(&state, form.staff_id.trim().to_owned(), form.pin, client).await {
        Ok((token, staff)) => {
            tracing::info!(staff = %staff.id, role = %staff.role, "signed in");
            let mut resp = Redirect::to(&ui::home_of(&Who::from(&staff))).into_response();
            set_cookie(&mut resp, &state.auth.cookie(&token));
            resp
        }
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            let secs = e.retry_after.unwrap_or(30);
            let msg = match lang {
                Lang::Ja => format!("暗証番号の誤りが続いたため、{secs}秒間サインインできません。"),
                Lang::En => format!("Too many wrong PINs: try again in {secs} seconds."),
            };
            let markup = ui::login::page_markup(lang, &state.venue.name, Some(&msg));
            let mut resp =
                (StatusCode::TOO_MANY_REQUESTS, Html(markup.into_string())).into_response();
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
            resp
        }
        Err(_) => {
            let msg = lang.t(
                "職員IDまたは暗証番号が違います。",
                "Staff ID or PIN is wrong.",
            );
            let markup = ui::login::page_markup(lang, &state.venue.name, Some(msg));
            (StatusCode::UNAUTHORIZED, Html(markup.into_string())).into_response()
        }
    }
}

/// `POST /logout` (form)
#[utoipa::path(
    post,
    path = "/logout",
    tag = "pages",
    description = "End the session and go to the sign-in page.",
    responses(
        (status = 303, description = "To `/login`", headers(("Location" = String, description = "`/login`"))),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn logout_submit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(t) = state.auth.token(&headers) {
        state.auth.sign_out(&t);
    }
    let mut resp = Redirect::to("/login").into_response();
    set_cookie(&mut resp, &state.auth.clear_cookie());
    resp
}

/// `GET /assets/app.css`
#[utoipa::path(
    get,
    path = "/assets/app.css",
    tag = "pages",
    description = "The pages' stylesheet.",
    responses((status = 200, description = "CSS", content_type = "text/css", body = String)),
    security(()),
)]
pub(crate) async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        APP_CSS,
    )
        .into_response()
}

/// `GET /favicon.svg`
#[utoipa::path(
    get,
    path = "/favicon.svg",
    tag = "pages",
    description = "The icon of the pages.",
    responses((status = 200, description = "SVG", content_type = "image/svg+xml", body = String)),
    security(()),
)]
pub(crate) async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON_SVG,
    )
        .into_response()
}

/// The answer for an address the box does not serve: the 404 page (with the way back) to a
/// browser asking for a page, the JSON `no_such_route` to anything else (the API's clients).
pub(crate) async fn not_found(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let wants_page = !uri.path().starts_with("/api/")
        && headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/html"));
    if !wants_page {
        return super::extract::no_such_route().await;
    }
    let (lang, _) = lang_of(&headers, &LangQuery::default());
    let who = signed_in(&state, &headers).map(|s| Who::from(&s));
    let markup = ui::not_found(lang, who.as_ref());
    (StatusCode::NOT_FOUND, Html(markup.into_string())).into_response()
}
