//! Station pages: a nurse, technician or doctor picks the resident (from the residents due
//! at this station, live), records this station's items with hard limits (refused) and soft
//! limits (confirm), sees BMI derived, saves with one tap (retried with the same event id if
//! the Wi-Fi drops), and signs the visit off. The doctor's page shows the whole record.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use checkup_protocol::StationKind;
use checkup_protocol::items::{ItemValueKind, QUALITATIVE_VALUES};
use maud::{PreEscaped, html};
use serde_json::json;

use crate::auth;
use crate::server::AppState;

const STATION_JS: &str = include_str!("../assets/station.js");

/// `GET /station/{kind}`
pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
) -> Response {
    let Some(staff) = auth::token_from_headers(&headers).and_then(|t| state.auth.lookup(&t)) else {
        return Redirect::to("/login").into_response();
    };
    let Ok(kind) = kind.parse::<StationKind>() else {
        return (
            StatusCode::NOT_FOUND,
            Html("<p>そのような検査はありません / No such station</p>"),
        )
            .into_response();
    };
    let allowed = crate::venue::may_work_at(&staff, kind);
    if !allowed {
        return (
            StatusCode::FORBIDDEN,
            Html("<p>この検査の権限がありません / Not allowed at this station</p>"),
        )
            .into_response();
    }
    let items: Vec<serde_json::Value> = kind
        .items()
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
    let config = json!({"station": kind, "items": items, "doctor": kind == StationKind::Doctor, "names": names}).to_string();
    let markup = html! {
        (maud::DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (kind.label_ja()) " — Checkup Edge" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body data-config=(config) {
                header {
                    h1 { (kind.label_ja()) " " span.en { (kind.label_en()) } }
                    span.who { (staff.name) }
                    a.lang href="/" { "会場 / Venue" }
                }
                main {
                    section .station {
                        h2 { "ここで受ける方 " span.en { "Residents due here" } }
                        ul #due .demo-list {}
                    }
                    section #entry .station hidden {
                        h2 #entry-title {}
                        div #record {}
                        form #items {}
                        p #bmi {}
                        p #entry-message .error hidden role="alert" {}
                        button type="button" #save { "保存 / Save" }
                        " "
                        button type="button" #done { "この検査を完了 / Station done" }
                    }
                }
                script { (PreEscaped(crate::web::COMMON_JS)) }
                script { (PreEscaped(STATION_JS)) }
            }
        }
    };
    Html(markup.into_string()).into_response()
}
