//! Training mode over HTTP: the mark on every page and the record of refused actions
//! ([`mark`], a layer over every route), and the trainer's pages:
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /training/summary` | venue admin | the trainer's summary so far (404 on a real box) |
//! | `POST /training/end` | venue admin | end the session: the box stops, prints the summary and wipes the training data (404 on a real box) |
//!
//! The rules are [`crate::training`]'s; the markup [`crate::ui::training`]'s.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use checkup_protocol::Role;

use super::AppState;
use super::pages::{LangQuery, visitor};
use crate::http::error::{ApiError, ErrorBody};
use crate::ui::{self, Who};

/// Largest page the band is put into (pages are far smaller).
const MAX_PAGE: usize = 32 * 1024 * 1024;

/// In training mode: every HTML answer gets the 「練習モード」 band after `<body>` and the
/// title prefix, and every refused action (a 4xx answer to anything but a read of a page
/// or file) is recorded for the trainer's summary with who did it. On a real box: nothing.
pub(crate) async fn mark(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(session) = state.training.clone() else {
        return next.run(req).await;
    };
    let signed_in = state
        .auth
        .token(req.headers())
        .and_then(|t| state.auth.lookup(&t));
    if let Some(s) = &signed_in {
        session.seen(s.role);
    }
    let staff = signed_in.map(|s| s.id);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let status = resp.status();
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let refused = status.is_client_error()
        && status != StatusCode::NOT_FOUND
        && (method != axum::http::Method::GET || status == StatusCode::FORBIDDEN);
    if !html && !refused {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "answer too large to mark",
        )
            .into_response();
    };
    if refused {
        let code = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| refusal_code(status).to_owned());
        session.slip(staff, format!("{method} {path}"), status.as_u16(), code);
    }
    if !html {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let page = String::from_utf8_lossy(&bytes);
    let band = ui::training::band(&session.now(), session.progress()).into_string();
    let marked = mark_page(&page, &band);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert("x-training-mode", HeaderValue::from_static("1"));
    Response::from_parts(parts, axum::body::Body::from(marked))
}

/// The error code of a refusal answered without a JSON body (a page: 403 for a role that
/// may not see it), so the summary never reads 「403 403」.
fn refusal_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "not_signed_in",
        StatusCode::FORBIDDEN => "forbidden_role",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        _ => "refused",
    }
}

/// `page` with `band` right after its `<body …>` tag (or first, for a page without one) and
/// its `<title>` prefixed.
pub(crate) fn mark_page(page: &str, band: &str) -> String {
    let mut out = String::with_capacity(page.len() + band.len() + 64);
    let titled = match page.find("<title>") {
        Some(i) => {
            let at = i + "<title>".len();
            format!(
                "{}{}{}",
                &page[..at],
                ui::training::TITLE_PREFIX,
                &page[at..]
            )
        }
        None => page.to_owned(),
    };
    match titled
        .find("<body")
        .and_then(|i| titled[i..].find('>').map(|j| i + j + 1))
    {
        Some(at) => {
            out.push_str(&titled[..at]);
            out.push_str(band);
            out.push_str(&titled[at..]);
        }
        None => {
            out.push_str(band);
            out.push_str(&titled);
        }
    }
    out
}

fn not_training() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_training",
        "this box is not in training mode (checkup-edge training)",
    )
}

/// `GET /training/summary`
#[utoipa::path(
    get,
    path = "/training/summary",
    tag = "pages",
    description = "Training mode: the trainer's summary so far — what each trainee recorded, \
                   corrections, mistakes and refused actions, time per station (venue admin).",
    params(LangQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "To `/login`",
            headers(("Location" = String, description = "Where to go"))),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
        (status = 403, description = "Not the venue admin (the page)", content_type = "text/html", body = String),
        (status = 404, description = "`not_training`: a real box", body = ErrorBody),
        (status = 503, description = "`store_unavailable`", body = ErrorBody),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn summary_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    super::extract::Query(q): super::extract::Query<LangQuery>,
) -> Response {
    let Some(session) = state.training.clone() else {
        return not_training().into_response();
    };
    let v = match visitor(&state, &headers, &q, &[Role::VenueAdmin]) {
        Ok(v) => v,
        Err(resp) => return *resp,
    };
    let store = state.store.clone();
    let summary =
        tokio::task::spawn_blocking(move || crate::training::summary::summarize(&store, &session))
            .await;
    match summary {
        Ok(Ok(s)) => {
            let markup = ui::training::summary_page(v.lang, &Who::from(&v.staff), &s);
            v.answer(Html(markup.into_string()).into_response())
        }
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            .into_response(),
    }
}

/// The form of `POST /training/end`: `confirm=1` on the second step.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct EndForm {
    /// `1`: the venue admin confirmed; anything else shows the confirmation.
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /training/end` (form)
#[utoipa::path(
    post,
    path = "/training/end",
    tag = "pages",
    description = "Training mode: end the session (venue admin). Without `confirm=1` the \
                   answer is the confirmation page (what is wiped, the way back); with it the \
                   box stops, shows and prints the trainer's summary and wipes the training \
                   data directory.",
    request_body(content = EndForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The confirmation page, or the session ends (a page with the final summary)", content_type = "text/html", body = String),
        (status = 400, description = "`malformed_request`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not a form", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_training`: a real box", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn end(
    State(state): State<AppState>,
    staff: crate::auth::Staff,
    headers: HeaderMap,
    super::extract::Form(form): super::extract::Form<EndForm>,
) -> Result<Response, ApiError> {
    let Some(session) = state.training.clone() else {
        return Err(not_training());
    };
    super::require(&staff, &[Role::VenueAdmin])?;
    let (lang, _) = super::pages::lang_of(&headers, &LangQuery::default());
    if form.confirm.as_deref() != Some("1") {
        let markup = ui::training::end_confirm_page(lang, &Who::from(&staff));
        return Ok(Html(markup.into_string()).into_response());
    }
    // The final summary is made before the session ends (the data is wiped after).
    let store = state.store.clone();
    let s2 = session.clone();
    let summary =
        tokio::task::spawn_blocking(move || crate::training::summary::summarize(&store, &s2)).await;
    let summary = match summary {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the summary for the end page");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "the summary for the end page");
            None
        }
    };
    tracing::info!(staff = %staff.id, "training session ended from the page");
    session.end.cancel();
    let markup = ui::training::ended_page(lang, summary.as_ref());
    Ok(Html(markup.into_string()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_page_is_named_by_its_code_not_its_status_twice() {
        assert_eq!(refusal_code(StatusCode::FORBIDDEN), "forbidden_role");
        assert_eq!(refusal_code(StatusCode::UNAUTHORIZED), "not_signed_in");
        assert_eq!(refusal_code(StatusCode::IM_A_TEAPOT), "refused");
    }

    #[test]
    fn the_band_goes_after_body_and_the_title_is_prefixed() {
        let p = mark_page(
            "<!DOCTYPE html><html><head><title>受付</title></head><body class=\"x\"><main>m</main></body></html>",
            "<div id=\"training-band\">練習モード</div>",
        );
        assert!(
            p.contains("<title>【練習モード Training】受付</title>"),
            "{p}"
        );
        assert!(
            p.contains("<body class=\"x\"><div id=\"training-band\">練習モード</div><main>"),
            "{p}"
        );
        let bare = mark_page("<p>fragment</p>", "<b>練習</b>");
        assert!(bare.starts_with("<b>練習</b>"));
    }
}
