//! Server-rendered pages for tablets: sign-in and the venue board. Japanese first, English
//! with `?lang=en` (remembered in a cookie). Assets are compiled into the binary; nothing is
//! fetched from outside the box.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::api::{self, set_cookie, station_label};
use crate::auth::{self, Staff};
use crate::server::AppState;
use checkup_protocol::Role;

/// Script shared by the tablet pages, compiled in.
pub const COMMON_JS: &str = include_str!("../assets/common.js");

/// The stylesheet, compiled in.
pub const APP_CSS: &str = include_str!("../assets/app.css");

/// Page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 日本語 (default).
    Ja,
    /// English.
    En,
}

impl Lang {
    pub(crate) fn t<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

/// Language from `?lang=`, else the `lang` cookie, else Japanese. Returns whether the query
/// asked for a change (so the cookie is set).
pub(crate) fn lang_of(headers: &HeaderMap, q: &LangQuery) -> (Lang, bool) {
    let parse = |s: &str| match s {
        "en" => Some(Lang::En),
        "ja" => Some(Lang::Ja),
        _ => None,
    };
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

pub(crate) fn page(lang: Lang, title: &str, header_extra: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Checkup Edge" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                header {
                    h1 { (title) }
                    (header_extra)
                    a.lang href=(if lang == Lang::Ja { "?lang=en" } else { "?lang=ja" }) {
                        (if lang == Lang::Ja { "English" } else { "日本語" })
                    }
                }
                main { (body) }
            }
        }
    }
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

pub(crate) fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<Staff> {
    auth::token_from_headers(headers).and_then(|t| state.auth.lookup(&t))
}

/// `GET /`: the venue board, for checkup roles.
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
        return with_lang_cookie(forbidden_page(lang, &staff), lang, set);
    }
    let v = api::venue_json(&state);
    let num = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
    let progress = state.store.projection().station_progress();
    let body = html! {
        section.summary aria-label=(lang.t("概要", "Summary")) {
            div { (lang.t("予約", "Booked")) b data-testid="booked" { (num("booked")) } }
            div { (lang.t("受付済", "Checked in")) b data-testid="opened" { (num("sessions_opened")) } }
            div { (lang.t("受診中", "In progress")) b data-testid="open" { (num("open_sessions")) } }
        }
        section.station #board-sessions {
            h2 { (lang.t("受診中の方", "In progress")) }
            table #sessions {
                thead { tr {
                    th { (lang.t("氏名", "Name")) }
                    th { (lang.t("残りの検査", "Remaining")) }
                    th { (lang.t("次のおすすめ", "Suggested next")) }
                    th { (lang.t("状態", "State")) }
                } }
                tbody {}
            }
        }
        section.station #link {
            h2 { (lang.t("会場の連携", "Venue link")) }
            p #link-state { "—" }
        }
        ul.stations aria-label=(lang.t("検査会場", "Stations")) {
            @for s in &state.venue.stations {
                @let pr = progress.get(&s.kind).copied().unwrap_or_default();
                li.station data-station=(s.id) data-kind=(s.kind.as_str()) {
                    h2 {
                        a href=(format!("/station/{}", s.kind.as_str())) { (station_label(s.kind, &s.label)) }
                        span.en { (s.kind.label_en()) }
                    }
                    div.counts {
                        span.waiting { (lang.t("待ち ", "Waiting ")) b.w { (pr.waiting) } }
                        span.done { (lang.t("完了 ", "Done ")) b.d { (pr.done) } }
                    }
                    div.median { (lang.t("所要時間（中央値） ", "Median time ")) span.m { "—" } }
                }
            }
        }
    };
    let body = html! { (body) script { (maud::PreEscaped(BOARD_JS)) } };
    let markup = page(lang, &state.venue.name, who(lang, &staff), body);
    with_lang_cookie(Html(markup.into_string()).into_response(), lang, set)
}

const BOARD_JS: &str = include_str!("../assets/board.js");

/// The 403 page for a signed-in staff member whose role may not open a page.
pub(crate) fn forbidden_page(lang: Lang, staff: &Staff) -> Response {
    let body = html! {
        p.error role="alert" {
            (lang.t("この画面を見る権限がありません。", "Your role cannot open this page."))
        }
    };
    let markup = page(
        lang,
        lang.t("権限がありません", "Not allowed"),
        who(lang, staff),
        body,
    );
    (StatusCode::FORBIDDEN, Html(markup.into_string())).into_response()
}

pub(crate) fn who(lang: Lang, staff: &Staff) -> Markup {
    html! {
        span.who { (staff.name) "（" (staff.role.label_ja()) "）" }
        nav.actions {
            form method="post" action="/logout" {
                button type="submit" { (lang.t("ログアウト", "Sign out")) }
            }
        }
    }
}

fn login_markup(lang: Lang, venue: &str, error: Option<&str>) -> Markup {
    let body = html! {
        form.login method="post" action="/login" {
            h2 { (lang.t("職員ログイン", "Staff sign-in")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            label for="staff_id" { (lang.t("職員ID", "Staff ID")) }
            input #staff_id name="staff_id" autocomplete="username" autocapitalize="characters" required;
            label for="pin" { (lang.t("暗証番号（PIN）", "PIN")) }
            input #pin name="pin" type="password" inputmode="numeric" autocomplete="current-password" required;
            button type="submit" { (lang.t("ログイン", "Sign in")) }
        }
    };
    page(lang, venue, html! {}, body)
}

/// `GET /login`
pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (lang, set) = lang_of(&headers, &q);
    let markup = login_markup(lang, &state.venue.name, None);
    with_lang_cookie(Html(markup.into_string()).into_response(), lang, set)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    staff_id: String,
    pin: String,
}

/// `POST /login` (form)
pub(crate) async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let (lang, _) = lang_of(&headers, &LangQuery::default());
    let client = auth::Client::of(&extensions);
    match api::sign_in(&state, form.staff_id.trim().to_owned(), form.pin, client).await {
        Ok((token, staff)) => {
            tracing::info!(staff = %staff.id, role = %staff.role, "signed in");
            let mut resp = Redirect::to("/").into_response();
            set_cookie(&mut resp, &state.auth.cookie(&token));
            resp
        }
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            let secs = e.retry_after.unwrap_or(30);
            let msg = match lang {
                Lang::Ja => format!("暗証番号の誤りが続いたため、{secs}秒間サインインできません。"),
                Lang::En => format!("Too many wrong PINs: try again in {secs} seconds."),
            };
            let markup = login_markup(lang, &state.venue.name, Some(&msg));
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
            let markup = login_markup(lang, &state.venue.name, Some(msg));
            (StatusCode::UNAUTHORIZED, Html(markup.into_string())).into_response()
        }
    }
}

/// `POST /logout` (form)
pub(crate) async fn logout_submit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(t) = auth::token_from_headers(&headers) {
        state.auth.sign_out(&t);
    }
    let mut resp = Redirect::to("/login").into_response();
    set_cookie(&mut resp, &auth::clear_cookie());
    resp
}

/// `GET /assets/app.css`
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
