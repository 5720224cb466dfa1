//! `GET /station/{kind}`: a station's page for the staff who work there (診察 for doctors
//! only: [`crate::venue::may_work_at`]), in the page language (`?lang=`, the `lang` cookie),
//! with the station's items and limits handed to the page ([`crate::ui::station`]) — at 問診
//! also the 22 questions in Japanese and English, the channels and the languages' names; and
//! `GET /api/station/{kind}/due`: the residents due there, in the order they checked in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use checkup_protocol::StationKind;
use checkup_protocol::items::{ItemValueKind, QUALITATIVE_VALUES};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::AppState;
use super::extract::{Path, Query};
use super::pages::{LangQuery, lang_of, with_lang_cookie};
use crate::auth::Staff;
use crate::http::error::{ApiError, ErrorBody};

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
    params(("kind" = String, Path, description = "Station kind, e.g. `measurement`"), LangQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to `/login`", headers(("Location" = String, description = "`/login`"))),
        (status = 400, description = "`malformed_path`, `malformed_query`", body = ErrorBody),
        (status = 403, description = "The staff member does not work there (page)", content_type = "text/html", body = String),
        (status = 404, description = "No such station (page)", content_type = "text/html", body = String),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let (lang, set) = lang_of(&headers, &q);
    let Some(staff) = state
        .auth
        .token(&headers)
        .and_then(|t| state.auth.lookup(&t))
    else {
        return with_lang_cookie(Redirect::to("/login").into_response(), lang, set);
    };
    let Ok(kind) = kind.parse::<StationKind>() else {
        let markup = crate::ui::not_found(lang, Some(&crate::ui::Who::from(&staff)));
        let resp = (StatusCode::NOT_FOUND, Html(markup.into_string())).into_response();
        return with_lang_cookie(resp, lang, set);
    };
    if !crate::venue::may_work_at(&staff, kind) {
        return with_lang_cookie(super::pages::forbidden_page(lang, &staff), lang, set);
    }
    let items: Vec<serde_json::Value> = taken_order(kind)
        .into_iter()
        .map(|i| {
            let limits = match i.kind {
                ItemValueKind::Numeric { min, max, soft_min, soft_max, decimals } => {
                    json!({"min": min, "max": max, "soft_min": soft_min, "soft_max": soft_max, "decimals": decimals})
                }
                ItemValueKind::Qualitative => json!({"values": QUALITATIVE_VALUES}),
                ItemValueKind::Coded(set) => {
                    let ja = checkup_protocol::questionnaire::texts(checkup_protocol::questionnaire::Lang::Ja);
                    let answers: Vec<serde_json::Value> = set
                        .codes()
                        .iter()
                        .map(|c| json!({"code": c, "text": ja.answer(set, c).unwrap_or(c)}))
                        .collect();
                    json!({"answers": answers})
                }
                ItemValueKind::Choice(choices) => {
                    let choices: Vec<serde_json::Value> = choices
                        .iter()
                        .map(|c| json!({"code": c.code, "text": c.label_ja, "text_en": c.label_en}))
                        .collect();
                    json!({"choices": choices})
                }
                ItemValueKind::Text { max_chars } => json!({"max_chars": max_chars}),
            };
            // A finding's text is asked for when the finding is 「特記すべきことあり」.
            let detail_of = checkup_protocol::items::detail_of(i.code)
                .map(|coded| json!({"item": coded, "when": checkup_protocol::items::FINDING_PRESENT}));
            json!({"code": i.code, "name": i.name_ja, "name_en": i.name_en, "unit": i.unit, "limits": limits,
                   "required": checkup_protocol::items::REQUIRED.contains(&i.code), "detail_of": detail_of})
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
    let questionnaire = if kind == StationKind::Questionnaire {
        questionnaire_config()
    } else {
        serde_json::Value::Null
    };
    // The doctor reads the questionnaire's answers as texts, not codes.
    let answer_texts = if kind == StationKind::Doctor {
        answer_texts()
    } else {
        serde_json::Value::Null
    };
    let config = json!({
        "station": kind,
        "answer_texts": answer_texts,
        "items": items,
        "questionnaire": questionnaire,
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
    let resp = Html(crate::ui::station::page_markup(lang, &view).into_string()).into_response();
    with_lang_cookie(resp, lang, set)
}

/// What the 問診 page shows besides the items: each question in Japanese and English
/// (number, the item table's short name, the full question, required or not, the answers'
/// texts), how an answer was given (the channels' labels) and the languages' names.
fn questionnaire_config() -> serde_json::Value {
    use checkup_protocol::questionnaire::{self as q, Channel, Lang};
    let ja = q::view(Lang::Ja);
    let en = q::view(Lang::En);
    let questions: Vec<serde_json::Value> = ja
        .items
        .iter()
        .zip(en.items.iter())
        .map(|(j, e)| {
            let item = checkup_protocol::items::item(&j.code);
            let answers: Vec<serde_json::Value> = j
                .answers
                .iter()
                .zip(e.answers.iter())
                .map(|(a, b)| json!({"code": a.code, "text": a.text, "text_en": b.text}))
                .collect();
            json!({
                "number": j.number,
                "code": j.code,
                "name": item.map_or("", |i| i.name_ja),
                "name_en": item.map_or("", |i| i.name_en),
                "question": j.question,
                "question_en": e.question,
                "required": j.required,
                "answers": answers,
            })
        })
        .collect();
    let channels: serde_json::Map<String, serde_json::Value> = [
        Channel::Phone,
        Channel::Tablet,
        Channel::Paper,
        Channel::Interview,
    ]
    .into_iter()
    .map(|c| {
        let tag = serde_json::to_value(c)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        (
            tag,
            json!([c.label_ja(), crate::venue::questionnaire::channel_en(c)]),
        )
    })
    .collect();
    let languages: serde_json::Map<String, serde_json::Value> = Lang::ALL
        .into_iter()
        .map(|l| {
            let (ja, en) = language_names(l);
            (l.tag().to_owned(), json!([ja, en]))
        })
        .collect();
    let order: Vec<&str> = Lang::ALL.iter().map(|l| l.tag()).collect();
    json!({"questions": questions, "channels": channels, "languages": languages, "language_order": order})
}

/// Each questionnaire item's answers by code, in Japanese and English, and each coded
/// finding's ([`ItemValueKind::Choice`]) labels.
fn answer_texts() -> serde_json::Value {
    use checkup_protocol::questionnaire::{self as q, Lang};
    let ja = q::view(Lang::Ja);
    let en = q::view(Lang::En);
    let map: serde_json::Map<String, serde_json::Value> = ja
        .items
        .iter()
        .zip(en.items.iter())
        .map(|(j, e)| {
            let answers: serde_json::Map<String, serde_json::Value> = j
                .answers
                .iter()
                .zip(e.answers.iter())
                .map(|(a, b)| (a.code.clone(), json!([a.text, b.text])))
                .collect();
            (j.code.clone(), serde_json::Value::Object(answers))
        })
        .collect();
    let mut map = map;
    for i in checkup_protocol::items::ITEMS {
        if let ItemValueKind::Choice(choices) = i.kind {
            let labels: serde_json::Map<String, serde_json::Value> = choices
                .iter()
                .map(|c| (c.code.to_owned(), json!([c.label_ja, c.label_en])))
                .collect();
            map.insert(i.code.to_owned(), serde_json::Value::Object(labels));
        }
    }
    serde_json::Value::Object(map)
}

/// A questionnaire language as staff read its name: in Japanese and in English.
fn language_names(l: checkup_protocol::questionnaire::Lang) -> (&'static str, &'static str) {
    use checkup_protocol::questionnaire::Lang;
    match l {
        Lang::Ja => ("日本語", "Japanese"),
        Lang::JaEasy => ("やさしい日本語", "Easy Japanese"),
        Lang::En => ("英語", "English"),
        Lang::ZhHans => ("中国語（簡体字）", "Chinese (Simplified)"),
        Lang::Ko => ("韓国語", "Korean"),
        Lang::Vi => ("ベトナム語", "Vietnamese"),
        Lang::PtBr => ("ポルトガル語（ブラジル）", "Portuguese (Brazil)"),
        Lang::Tl => ("タガログ語", "Tagalog"),
    }
}

/// A resident due at a station.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DueResident {
    /// The open session.
    session_id: Uuid,
    /// Resident number.
    resident_id: String,
    /// Name from the roster (empty if not booked).
    name: String,
    /// Name in kana from the roster (empty if not booked).
    name_kana: String,
    /// When reception checked them in (milliseconds since the Unix epoch).
    checked_in_ms: u64,
}

/// The residents due at a station.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Due {
    /// The station.
    station: StationKind,
    /// Open sessions that still have this station to do, in the order they checked in
    /// (oldest first).
    residents: Vec<DueResident>,
}

/// `GET /api/station/{kind}/due`
#[utoipa::path(
    get,
    path = "/api/station/{kind}/due",
    operation_id = "station_due",
    tag = "reception",
    description = "The residents who still have this station to do, in the order reception \
                   checked them in, oldest first (the staff who work there: 診察 for doctors \
                   only). The station page reads it again on every update of \
                   `GET /api/board/events`.",
    params(("kind" = String, Path, description = "Station kind, e.g. `measurement`")),
    responses(
        (status = 200, description = "The residents due", body = Due),
        (status = 400, description = "`malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`no_such_station`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn due(
    State(state): State<AppState>,
    staff: Staff,
    Path(kind): Path<String>,
) -> Result<Response, ApiError> {
    let kind = kind.parse::<StationKind>().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_station",
            "no station of this kind",
        )
    })?;
    if !crate::venue::may_work_at(&staff, kind) {
        return Err(ApiError::forbidden("you do not work at this station"));
    }
    let mut due: Vec<(u64, u32, Uuid, String)> = {
        let p = state.store.projection();
        p.open_sessions()
            .into_iter()
            .filter(|s| s.remaining().contains(&kind))
            .filter_map(|s| {
                s.opened
                    .map(|h| (h.ms, h.c, s.session_id, s.resident_id.clone()))
            })
            .collect()
    };
    // Arrival order: reception's check-in time, oldest first.
    due.sort();
    let residents = due
        .into_iter()
        .map(|(ms, _, session_id, resident_id)| {
            let r = state.roster.get(&resident_id).ok().flatten();
            DueResident {
                session_id,
                name: r.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
                name_kana: r.map(|r| r.name_kana).unwrap_or_default(),
                resident_id,
                checked_in_ms: ms,
            }
        })
        .collect();
    Ok(Json(Due {
        station: kind,
        residents,
    })
    .into_response())
}
