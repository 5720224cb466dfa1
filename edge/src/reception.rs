//! Reception: the card tap reaches the reception page live (server-sent events), the
//! resident types the PIN on the tablet, and this box reads the card. In the demo, the page
//! can "tap" a booked resident's card on the virtual reader.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /reception` | reception, venue admin | the reception page |
//! | `GET /api/card/events` | reception, venue admin, station staff | SSE: readers and taps, live |
//! | `POST /api/station/tap` | station, nurse, doctor | the venue card in the reader → its open session |
//! | `GET /api/card/readers` | reception, venue admin | readers and what is in them |
//! | `POST /api/card/read` | reception | `{reader?, pin?, confirm_last_try?}` → the card's identity (PIN entry paused after repeated wrong PINs: [`CARD_PIN_POLICY`]) |
//! | `POST /api/demo/tap`, `POST /api/demo/untap` | reception, venue admin | demo only |
//! | `GET /api/roster/search?q=&birth=` | reception, venue admin | residents without a card (audited) |
//! | `POST /api/reception/check-in` | reception, venue admin | open the resident's session (stations from the course) |
//! | `POST /api/roster/history` | venue admin | earlier results (`resident_id,item_code,value,unit,date`) |
//! | `GET /api/residents/{id}/history` | checkup roles | last year's value of each item (audited) |
//! | `POST /api/roster/import` | venue admin | CSV (UTF-8 or Shift_JIS) → added/updated/unchanged + row errors |

use std::convert::Infallible;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use checkup_drivers::card::{CardError, Pin, ReadOptions};
use checkup_drivers::emulator::{EmulatedCard, Faults, Profile};
use checkup_protocol::Role;
use futures::stream::Stream;
use maud::{PreEscaped, html};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, Staff};
use crate::error::ApiError;
use crate::server::AppState;

/// The roster failed (a disk error): the answer for every route that reads it.
fn roster_unavailable(e: rusqlite::Error) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "roster_unavailable",
        e.to_string(),
    )
}

/// A booked resident, or 404.
fn booked(state: &AppState, resident_id: &str) -> Result<crate::roster::Resident, ApiError> {
    state
        .roster
        .get(resident_id)
        .map_err(roster_unavailable)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such resident in the roster",
            )
        })
}

fn require_card_events(staff: &Staff) -> Result<(), ApiError> {
    if matches!(
        staff.role,
        Role::Reception | Role::VenueAdmin | Role::Station | Role::Nurse | Role::Doctor
    ) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "role {} has no card reader",
            staff.role
        )))
    }
}

fn require_reception(staff: &Staff) -> Result<(), ApiError> {
    if matches!(staff.role, Role::Reception | Role::VenueAdmin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "role {} does not work at reception",
            staff.role
        )))
    }
}

/// `GET /api/card/events`: the current readers, then every change, as SSE.
pub(crate) async fn events(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    require_card_events(&staff)?;
    let rx = state.cards.subscribe();
    let snapshot = json!({"type": "snapshot", "readers": state.cards.readers()});
    let first =
        futures::stream::once(async move { Ok(Event::default().data(snapshot.to_string())) });
    let live = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let data = serde_json::to_string(&e).unwrap_or_default();
                    return Some((Ok(Event::default().data(data)), rx));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    use futures::StreamExt;
    Ok(Sse::new(first.chain(live)).keep_alive(KeepAlive::default()))
}

/// `POST /api/station/tap`: a station taps the resident's venue card; the box reads its UID
/// and finds the open session it was bound to at reception. (A My Number card would need
/// the PIN again, so stations work with the venue card or pick from the list.)
pub(crate) async fn station_tap(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    if !matches!(staff.role, Role::Station | Role::Nurse | Role::Doctor) {
        return Err(ApiError::forbidden(
            "only station staff look residents up by card here",
        ));
    }
    let reading = state
        .cards
        .read(None, ReadOptions::default())
        .await
        .map_err(card_error)?;
    let checkup_drivers::card::CardReading::Contactless { uid } = reading else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "use_venue_card",
            "at a station, tap the venue card (or choose from the list)",
        ));
    };
    let found = {
        let p = state.store.projection();
        p.open_session_by_card(&uid)
            .map(|s| (s.session_id, s.resident_id.clone(), s.remaining()))
    };
    let (session_id, resident_id, remaining) = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_session_for_card",
            "this card is not bound to an open session",
        )
    })?;
    let name = state
        .roster
        .get(&resident_id)
        .ok()
        .flatten()
        .map(|r| r.name)
        .unwrap_or_default();
    Ok(Json(json!({"session_id": session_id, "resident_id": resident_id, "name": name, "remaining": remaining})).into_response())
}

/// `GET /api/card/readers`
pub(crate) async fn readers(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require_reception(&staff)?;
    Ok(Json(json!({"readers": state.cards.readers()})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadRequest {
    #[serde(default)]
    reader: Option<String>,
    #[serde(default)]
    pin: Option<String>,
    #[serde(default)]
    confirm_last_try: bool,
}

fn card_error(e: CardError) -> ApiError {
    let status = match e {
        CardError::WrongPin { .. }
        | CardError::PinBlocked
        | CardError::OneTryLeft
        | CardError::PinRequired
        | CardError::PinFormat => StatusCode::UNPROCESSABLE_ENTITY,
        CardError::CardRemoved
        | CardError::Timeout
        | CardError::NoReader
        | CardError::ReaderUnplugged => StatusCode::CONFLICT,
        CardError::ReaderBusy => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// Card PIN entry: three wrong card PINs in a row from one reception staff member (on any
/// cards, with no right one between) pause PIN entry for 30 s, doubling while it goes on;
/// ten from one client address likewise. The card's own counter (three tries, then blocked
/// until the city office resets it) still protects each card; this slows trying many.
pub const CARD_PIN_POLICY: crate::lockout::Policy = crate::lockout::Policy {
    per_staff: 3,
    per_client: 10,
    first_lock: std::time::Duration::from_secs(30),
    max_lock: std::time::Duration::from_secs(15 * 60),
    forget: std::time::Duration::from_secs(30 * 60),
};

/// `POST /api/card/read`: read the tapped card. The PIN is used for one VERIFY and dropped.
pub(crate) async fn read(
    State(state): State<AppState>,
    staff: Staff,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Result<Response, ApiError> {
    if staff.role != Role::Reception {
        return Err(ApiError::forbidden("only reception reads residents' cards"));
    }
    let req: ReadRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let pin = match req.pin.as_deref() {
        Some(p) => Some(Pin::parse(p).map_err(card_error)?),
        None => None,
    };
    let client = crate::api::client_of(&extensions);
    let now = std::time::Instant::now();
    if pin.is_some()
        && let Some(wait) = state.card_pins.locked(&staff.id, client, now)
    {
        return Err(ApiError::locked(
            wait.as_secs(),
            format!(
                "too many wrong card PINs: PIN entry pauses for {} s",
                wait.as_secs().max(1)
            ),
        ));
    }
    let pin_sent = pin.is_some();
    let options = ReadOptions {
        pin,
        confirm_last_try: req.confirm_last_try,
    };
    let result = state.cards.read(req.reader, options).await;
    if pin_sent {
        match &result {
            Ok(_) => state.card_pins.succeeded(&staff.id),
            Err(CardError::WrongPin { .. } | CardError::PinBlocked) => {
                if let Some(lock) = state.card_pins.failed(&staff.id, client, now) {
                    tracing::warn!(staff = %staff.id, lock_secs = lock.as_secs(),
                        "card PIN entry paused after repeated wrong PINs");
                }
            }
            Err(_) => {}
        }
    }
    match result {
        Ok(reading) => {
            let mut body = serde_json::to_value(&reading).unwrap_or_default();
            if let checkup_drivers::card::CardReading::Mynumber(b) = &reading {
                let roster = state.roster.all().map_err(roster_unavailable)?;
                let birth = body["birth_date"].as_str().unwrap_or_default().to_owned();
                let sex = body["sex"].as_str().unwrap_or_default().to_owned();
                let outcome =
                    crate::identity::match_card(&b.name, &birth, &sex, &b.address, &roster);
                // Showing roster entries is reading residents' records: audit each one.
                let shown: Vec<String> = match &outcome {
                    crate::identity::MatchOutcome::Exact { candidate } => {
                        vec![candidate.resident.resident_id.clone()]
                    }
                    crate::identity::MatchOutcome::Choose { candidates } => candidates
                        .iter()
                        .map(|c| c.resident.resident_id.clone())
                        .collect(),
                    crate::identity::MatchOutcome::NotFound => Vec::new(),
                };
                state
                    .core
                    .audit_read(&staff, shown, "reception card match")
                    .await?;
                body["match"] = serde_json::to_value(&outcome).unwrap_or_default();
            }
            Ok(Json(body).into_response())
        }
        Err(e) => {
            let tries = if let CardError::WrongPin { tries_left } = e {
                Some(tries_left)
            } else {
                None
            };
            let err = card_error(e);
            let mut body = json!({"error": err.code, "message": err.message});
            if let Some(t) = tries {
                body["tries_left"] = t.into();
            }
            Ok((err.status, Json(body)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    /// Kana or kanji name, any width, spaces ignored.
    #[serde(default)]
    q: String,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    birth: String,
}

/// `GET /api/roster/search?q=&birth=`: find a booked resident without a card (reception).
/// Every resident shown is an audited read.
pub(crate) async fn roster_search(
    State(state): State<AppState>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<SearchQuery>,
) -> Result<Response, ApiError> {
    require_reception(&staff)?;
    let key = crate::identity::normalize::name_key(&q.q);
    if key.chars().count() < 2 && q.birth.is_empty() {
        return Err(ApiError::malformed(
            "give at least two characters of the name, or the birth date",
        ));
    }
    let all = state.roster.all().map_err(roster_unavailable)?;
    let hits: Vec<crate::roster::Resident> = all
        .into_iter()
        .filter(|r| {
            (key.is_empty()
                || crate::identity::normalize::name_key(&r.name).contains(&key)
                || crate::identity::normalize::name_key(&r.name_kana).contains(&key))
                && (q.birth.is_empty() || r.birth_date == q.birth)
        })
        .take(20)
        .collect();
    state
        .core
        .audit_read(
            &staff,
            hits.iter().map(|r| r.resident_id.clone()).collect(),
            "reception search",
        )
        .await?;
    Ok(Json(json!({"residents": hits})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInRequest {
    /// Client-chosen event id (a retried check-in is idempotent).
    id: uuid::Uuid,
    resident_id: String,
    /// Lowercase hex UID of a venue card bound to the session, if one was tapped.
    #[serde(default)]
    card_uid: Option<String>,
    /// A My Number card was used.
    #[serde(default)]
    mynumber: bool,
}

/// `POST /api/reception/check-in`: open the resident's checkup session with the stations of
/// their course.
pub(crate) async fn check_in(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !matches!(staff.role, Role::Reception | Role::VenueAdmin) {
        return Err(ApiError::forbidden("only reception checks residents in"));
    }
    let req: CheckInRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let card = match (req.card_uid, req.mynumber) {
        (Some(uid), _) => Some(checkup_protocol::CardRef::Contactless { uid }),
        (None, true) => Some(checkup_protocol::CardRef::Mynumber),
        (None, false) => None,
    };
    let check_in = crate::venue::CheckIn {
        id: req.id,
        resident_id: req.resident_id,
        card,
    };
    let outcome = state.core.check_in(&staff, check_in).await?;
    let e = outcome.event();
    let checkup_protocol::EventBody::SessionOpened(opened) = &e.body else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "unexpected event",
        ));
    };
    let labels: Vec<&str> = opened.stations.iter().map(|s| s.label_ja()).collect();
    let status = if outcome.is_new() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(
            json!({"session_id": opened.session_id, "stations": opened.stations,
                    "station_labels": labels, "event": e.id, "replayed": !outcome.is_new()}),
        ),
    )
        .into_response())
}

/// `POST /api/roster/import`: the reservation system's CSV (UTF-8 or Shift_JIS). Good rows
/// are imported (idempotently), bad rows reported with line numbers.
pub(crate) async fn roster_import(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, ApiError> {
    if staff.role != Role::VenueAdmin {
        return Err(ApiError::forbidden(
            "only the venue admin imports the roster",
        ));
    }
    let (rows, errors) = crate::roster::import::parse(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_roster_file", e.to_string()))?;
    let roster = state.roster.clone();
    let (added, updated, unchanged) =
        crate::error::blocking("roster import", move || roster.import(&rows))
            .await?
            .map_err(roster_unavailable)?;
    tracing::info!(
        added,
        updated,
        unchanged,
        rejected = errors.len(),
        "roster imported"
    );
    Ok(
        Json(json!({"added": added, "updated": updated, "unchanged": unchanged, "errors": errors}))
            .into_response(),
    )
}

/// `POST /api/roster/history`: earlier results of booked residents
/// (`resident_id,item_code,value,unit,date`), shown at the stations as last year's values.
pub(crate) async fn history_import(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, ApiError> {
    if staff.role != Role::VenueAdmin {
        return Err(ApiError::forbidden(
            "only the venue admin imports earlier results",
        ));
    }
    let (rows, errors) = crate::roster::import::parse_history(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_history_file", e.to_string()))?;
    let roster = state.roster.clone();
    let n = rows.len();
    let changed = crate::error::blocking("history import", move || roster.import_history(&rows))
        .await?
        .map_err(roster_unavailable)?;
    Ok(Json(json!({"rows": n, "changed": changed, "errors": errors})).into_response())
}

/// `GET /api/residents/{id}/history`: the latest earlier value of each item (audited).
pub(crate) async fn history(
    State(state): State<AppState>,
    staff: Staff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    crate::api::require_checkup_role(&staff)?;
    // Only a booked resident's values are shown, and the read is audited first.
    booked(&state, &id)?;
    state
        .core
        .audit_read(&staff, vec![id.clone()], "last year's values")
        .await?;
    let values = state.roster.last_values(&id).map_err(roster_unavailable)?;
    Ok(Json(json!({"resident_id": id, "values": values})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TapRequest {
    resident_id: String,
    /// `mynumber` or `venue`.
    card: String,
}

/// The demo PIN of a resident's My Number card: the last four digits of the resident number.
pub fn demo_pin(resident_id: &str) -> String {
    let digits: String = resident_id.chars().filter(char::is_ascii_digit).collect();
    format!("{:0>4}", &digits[digits.len().saturating_sub(4)..])
}

/// `POST /api/demo/tap`: put a booked resident's card on the demo's virtual reader.
pub(crate) async fn demo_tap(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_reception(&staff)?;
    let Some(slot) = state.cards.virtual_card() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_virtual_reader",
            "this box has no virtual card reader",
        ));
    };
    let req: TapRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let r = booked(&state, &req.resident_id)?;
    let profile = match req.card.as_str() {
        "mynumber" => Profile::Mynumber {
            name: r.name.clone(),
            address: r.address.clone(),
            birth_date: r.birth_date.replace('-', ""),
            sex: match r.sex.as_str() {
                "male" => "1",
                "female" => "2",
                _ => "9",
            }
            .into(),
            pin: demo_pin(&r.resident_id),
            tries_left: 3,
            individual_number: "000000000000".into(),
        },
        "venue" => Profile::Contactless {
            uid: format!(
                "{:016x}",
                r.resident_id
                    .bytes()
                    .fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b))
                        .wrapping_mul(0x100000001b3))
            ),
        },
        other => {
            return Err(ApiError::malformed(format!(
                "card must be mynumber or venue, not {other:?}"
            )));
        }
    };
    slot.remove();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    slot.insert(EmulatedCard::new(profile, Faults::default()));
    Ok(Json(json!({"tapped": r.resident_id, "card": req.card})).into_response())
}

/// `POST /api/demo/untap`
pub(crate) async fn demo_untap(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require_reception(&staff)?;
    if let Some(slot) = state.cards.virtual_card() {
        slot.remove();
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

const RECEPTION_JS: &str = include_str!("../assets/reception.js");

/// `GET /reception`
pub(crate) async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(staff) = auth::token_from_headers(&headers).and_then(|t| state.auth.lookup(&t)) else {
        return Redirect::to("/login").into_response();
    };
    if !matches!(staff.role, Role::Reception | Role::VenueAdmin) {
        return (
            StatusCode::FORBIDDEN,
            Html("<p>受付の権限がありません / Not allowed</p>"),
        )
            .into_response();
    }
    let demo: Vec<crate::roster::Resident> = if state.cards.virtual_card().is_some() {
        crate::demo::roster()
            .into_iter()
            .step_by(23)
            .take(8)
            .collect()
    } else {
        Vec::new()
    };
    let markup = html! {
        (maud::DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "受付 — Checkup Edge" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                header {
                    h1 { "受付 Reception — " (state.venue.name) }
                    span.who { (staff.name) }
                    a.lang href="/" { "会場 / Venue" }
                }
                main {
                    section #card-status .station aria-live="polite" {
                        h2 #status-title { "カードをかざしてください" }
                        p #status-detail .en { "Tap the resident's card on the reader" }
                    }
                    section #pin-pad .station hidden {
                        h2 { "暗証番号（4桁）を入力してください " span.en { "Resident enters the 4-digit PIN" } }
                        p #pin-dots aria-label="PIN" { "○○○○" }
                        div .keys {
                            @for k in ["1","2","3","4","5","6","7","8","9","消","0","OK"] {
                                button type="button" .key data-key=(k) { (k) }
                            }
                        }
                        label #last-try hidden { input #confirm-last-try type="checkbox"; " 残り1回です。本人確認のうえ送信します / One try left: staff confirms" }
                    }
                    section #result .station hidden {
                        h2 { "読み取り結果 " span.en { "Card reading" } }
                        dl #result-fields {}
                    }
                    section #candidates .station hidden {
                        h2 { "予約者 " span.en { "Booked resident" } }
                        ul #candidate-list .demo-list {}
                    }
                    section #checked-in .station hidden aria-live="polite" {
                        h2 #checked-in-title { "受付しました" }
                        p #checked-in-stations {}
                    }
                    section .station #search {
                        h2 { "カードがない方を検索 " span.en { "Find a resident without a card" } }
                        form #search-form {
                            label for="search-q" { "氏名・カナ / Name or kana" }
                            input #search-q name="q" autocomplete="off";
                            label for="search-birth" { "生年月日 / Birth date" }
                            input #search-birth name="birth" type="date";
                            button type="submit" { "検索 / Search" }
                        }
                    }
                    @if !demo.is_empty() {
                        section .station #demo {
                            h2 { "デモ: カードをタップ " span.en { "Demo: tap a booked resident's card" } }
                            p .en { "My Number demo PIN = last 4 digits of the resident number" }
                            ul .demo-list {
                                @for r in &demo {
                                    li {
                                        (r.name) " (" (r.resident_id) ") "
                                        button type="button" .tap data-resident=(r.resident_id) data-card="mynumber" { "マイナンバーカード" }
                                        " "
                                        button type="button" .tap data-resident=(r.resident_id) data-card="venue" { "会場カード" }
                                    }
                                }
                            }
                            button type="button" #untap { "カードを離す / Remove card" }
                        }
                    }
                }
                script { (PreEscaped(crate::web::COMMON_JS)) }
                script { (PreEscaped(RECEPTION_JS)) }
            }
        }
    };
    Html(markup.into_string()).into_response()
}
