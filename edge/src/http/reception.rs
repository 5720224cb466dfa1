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
//! | `POST /api/card/read` | reception | `{reader?, pin?, confirm_last_try?}` → the card's identity (PIN entry paused after repeated wrong PINs: [`crate::venue::CARD_PIN_POLICY`]) |
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
use serde::Deserialize;
use serde_json::json;

use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::{self, Staff};
use crate::http::error::ApiError;

/// The roster failed (a disk error): the answer for every route that reads it.
pub(crate) fn roster_unavailable(e: rusqlite::Error) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "roster_unavailable",
        e.to_string(),
    )
}

/// A booked resident, or 404.
pub(crate) fn booked(
    state: &AppState,
    resident_id: &str,
) -> Result<crate::roster::Resident, ApiError> {
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

/// `GET /api/card/events`: the current readers, then every change, as SSE.
pub(crate) async fn events(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
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
    require(&staff, &[Role::Station, Role::Nurse, Role::Doctor])?;
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
    require(&staff, &[Role::Reception, Role::VenueAdmin])?;
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

/// `POST /api/card/read`: read the tapped card. The PIN is used for one VERIFY and dropped.
pub(crate) async fn read(
    State(state): State<AppState>,
    staff: Staff,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::Reception])?;
    let req: ReadRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let pin = match req.pin.as_deref() {
        Some(p) => Some(Pin::parse(p).map_err(card_error)?),
        None => None,
    };
    let client = super::client_of(&extensions);
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
    require(&staff, &[Role::Reception, Role::VenueAdmin])?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TapRequest {
    resident_id: String,
    /// `mynumber` or `venue`.
    card: String,
}

/// `POST /api/demo/tap`: put a booked resident's card on the demo's virtual reader.
pub(crate) async fn demo_tap(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::Reception, Role::VenueAdmin])?;
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
            pin: crate::demo::demo_pin(&r.resident_id),
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
    require(&staff, &[Role::Reception, Role::VenueAdmin])?;
    if let Some(slot) = state.cards.virtual_card() {
        slot.remove();
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /reception`
pub(crate) async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(staff) = auth::token_from_headers(&headers).and_then(|t| state.auth.lookup(&t)) else {
        return Redirect::to("/login").into_response();
    };
    if require(&staff, &[Role::Reception, Role::VenueAdmin]).is_err() {
        return super::pages::forbidden_page(crate::ui::Lang::Ja, &staff);
    }
    let demo = if state.cards.virtual_card().is_some() {
        crate::demo::roster()
            .into_iter()
            .step_by(23)
            .take(8)
            .map(|r| crate::ui::reception::DemoResident {
                name: r.name,
                resident_id: r.resident_id,
            })
            .collect()
    } else {
        Vec::new()
    };
    let view = crate::ui::reception::ReceptionView {
        venue_name: state.venue.name.clone(),
        staff_name: staff.name.clone(),
        demo,
    };
    Html(crate::ui::reception::page_markup(&view).into_string()).into_response()
}
