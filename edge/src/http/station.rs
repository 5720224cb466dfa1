//! `GET /station/{kind}`: a station's page for the staff who work there (診察 for doctors
//! only: [`crate::venue::may_work_at`]), with the station's items and limits handed to the
//! page ([`crate::ui::station`]).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use checkup_protocol::StationKind;
use checkup_protocol::items::{ItemValueKind, QUALITATIVE_VALUES};
use serde_json::json;

use super::AppState;
use super::extract::Path;
use crate::auth;
use crate::http::error::ErrorBody;

/// The station's items in the order they are measured: each blood pressure reading's
/// systolic then diastolic, first reading then second; others as the protocol lists them.
fn taken_order(kind: StationKind) -> Vec<&'static checkup_protocol::items::Item> {
    let mut items: Vec<_> = kind.items().collect();
    let rank = |code: &str| {
        crate::venue::rules::BP_PAIRS
            .iter()
            .enumerate()
            .find_map(|(n, (sys, dia))| {
                if *sys == code {
                    Some(2 * n)
                } else if *dia == code {
                    Some(2 * n + 1)
                } else {
                    None
                }
            })
            .unwrap_or(0)
    };
    items.sort_by_key(|i| rank(i.code));
    items
}

/// `GET /station/{kind}`
#[utoipa::path(
    get,
    path = "/station/{kind}",
    operation_id = "station_page",
    tag = "pages",
    description = "A station's page for the staff who work there (診察 for doctors only).",
    params(("kind" = String, Path, description = "Station kind, e.g. `measurement`")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to `/login`", headers(("Location" = String, description = "`/login`"))),
        (status = 400, description = "`malformed_path`", body = ErrorBody),
        (status = 403, description = "The staff member does not work there (page)", content_type = "text/html", body = String),
        (status = 404, description = "No such station (page)", content_type = "text/html", body = String),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
) -> Response {
    let Some(staff) = auth::token_from_headers(&headers).and_then(|t| state.auth.lookup(&t)) else {
        return Redirect::to("/login").into_response();
    };
    let (lang, _) = super::pages::lang_of(&headers, &super::pages::LangQuery::default());
    let Ok(kind) = kind.parse::<StationKind>() else {
        let markup = crate::ui::not_found(lang, Some(&crate::ui::Who::from(&staff)));
        return (StatusCode::NOT_FOUND, Html(markup.into_string())).into_response();
    };
    if !crate::venue::may_work_at(&staff, kind) {
        return super::pages::forbidden_page(lang, &staff);
    }
    let items: Vec<serde_json::Value> = taken_order(kind)
        .into_iter()
        .map(|i| {
            let limits = match i.kind {
                ItemValueKind::Numeric { min, max, soft_min, soft_max, decimals } => {
                    json!({"min": min, "max": max, "soft_min": soft_min, "soft_max": soft_max, "decimals": decimals})
                }
                ItemValueKind::Qualitative => json!({"values": QUALITATIVE_VALUES}),
            };
            json!({"code": i.code, "name": i.name_ja, "name_en": i.name_en, "unit": i.unit, "limits": limits})
        })
        .collect();
    let names: serde_json::Map<String, serde_json::Value> = checkup_protocol::items::ITEMS
        .iter()
        .map(|i| {
            (
                i.code.to_owned(),
                json!(format!("{} / {}", i.name_ja, i.name_en)),
            )
        })
        .collect();
    let station_names: serde_json::Map<String, serde_json::Value> = StationKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_owned(),
                json!(format!("{} / {}", k.label_ja(), k.label_en())),
            )
        })
        .collect();
    let config = json!({
        "station": kind,
        "items": items,
        "doctor": kind == StationKind::Doctor,
        "names": names,
        "station_names": station_names,
        "pairs": crate::venue::rules::BP_PAIRS,
    })
    .to_string();
    let view = crate::ui::station::StationView {
        kind,
        who: crate::ui::Who::from(&staff),
        config,
    };
    Html(crate::ui::station::page_markup(&view).into_string()).into_response()
}
