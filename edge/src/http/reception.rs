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
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use checkup_drivers::card::{CardError, CardReading, Pin, ReadOptions};
use checkup_drivers::emulator::{EmulatedCard, Faults, Profile};
use checkup_protocol::{Role, StationKind};
use futures::stream::Stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::extract::Body;
use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::cards::ReaderState;
use crate::http::error::{ApiError, ErrorBody};
use crate::identity::MatchOutcome;

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
#[utoipa::path(
    get,
    path = "/api/card/events",
    operation_id = "card_events",
    tag = "reception",
    description = "Server-sent events: `{\"type\": \"snapshot\", \"readers\": […]}` now, then every \
                   reader change and tap (checkup roles). The stream does not end.",
    responses(
        (status = 200, description = "An endless stream of reader events", content_type = "text/event-stream", body = String),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
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
    Ok(
        Sse::new(super::until_stopping(&state.stopping, first.chain(live)))
            .keep_alive(KeepAlive::default()),
    )
}

/// The session a venue card is bound to.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StationTap {
    /// The open session.
    session_id: Uuid,
    /// Its resident.
    resident_id: String,
    /// Name from the roster.
    name: String,
    /// Stations still to visit.
    remaining: Vec<StationKind>,
}

/// `POST /api/station/tap`: a station taps the resident's venue card; the box reads its UID
/// and finds the open session it was bound to at reception. (A My Number card would need
/// the PIN again, so stations work with the venue card or pick from the list.)
#[utoipa::path(
    post,
    path = "/api/station/tap",
    tag = "reception",
    description = "Read the venue card in the reader and find the open session it was bound to \
                   at reception (station, nurse, doctor).",
    responses(
        (status = 200, description = "The card's session", body = StationTap),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`no_session_for_card`", body = ErrorBody),
        (status = 409, description = "`no_reader`, `card_removed`, `timeout`, `reader_unplugged`", body = ErrorBody),
        (status = 422, description = "`use_venue_card`, PIN refusals", body = ErrorBody),
        (status = 502, description = "`unknown_card`, `malformed_card_data`, `pcsc_error`", body = ErrorBody),
        (status = 503, description = "`reader_busy`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
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
    Ok(Json(StationTap {
        session_id,
        resident_id,
        name,
        remaining,
    })
    .into_response())
}

/// The card readers.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Readers {
    /// Each reader and what is in it.
    readers: Vec<ReaderState>,
}

/// `GET /api/card/readers`
#[utoipa::path(
    get,
    path = "/api/card/readers",
    tag = "reception",
    description = "The card readers and what is in them (reception, venue admin).",
    responses(
        (status = 200, description = "Readers", body = Readers),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn readers(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::Reception, Role::VenueAdmin])?;
    Ok(Json(Readers {
        readers: state.cards.readers(),
    })
    .into_response())
}

/// Body of `POST /api/card/read`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadRequest {
    /// The reader (default: the one with a card).
    #[serde(default)]
    reader: Option<String>,
    /// The resident's PIN for a My Number card (4 digits); used once and dropped.
    #[serde(default)]
    pin: Option<String>,
    /// Staff confirmed sending the PIN although only one try is left.
    #[serde(default)]
    confirm_last_try: bool,
}

/// What a card read yields: the card's items and, for a My Number card, its match
/// against the roster.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CardRead {
    /// The card's items.
    #[serde(flatten)]
    reading: CardReading,
    /// For a My Number card: the roster entries it matches.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    matched: Option<MatchOutcome>,
    /// Of the residents matched, those already checked in (an open session): the page
    /// offers them no second check-in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checked_in: Vec<String>,
    /// Of the residents matched, those who answered the questionnaire on their phone
    /// (事前回答あり).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pre_answered: Vec<String>,
}

/// Of `ids`, the residents with an open session now.
pub(crate) fn checked_in_of(state: &AppState, ids: &[String]) -> Vec<String> {
    let p = state.store.projection();
    let open: std::collections::BTreeSet<&str> = p
        .open_sessions()
        .into_iter()
        .map(|s| s.resident_id.as_str())
        .collect();
    ids.iter()
        .filter(|id| open.contains(id.as_str()))
        .cloned()
        .collect()
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
#[utoipa::path(
    post,
    path = "/api/card/read",
    operation_id = "card_read",
    tag = "reception",
    description = "Read the tapped card (reception). The PIN is used for one VERIFY and dropped; \
                   repeated wrong PINs pause PIN entry. A My Number card's items are matched \
                   against the roster (an audited read).",
    request_body(content = ReadRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The card", body = CardRead),
        (status = 400, description = "`malformed_request`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 409, description = "`no_reader`, `card_removed`, `timeout`, `reader_unplugged`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`wrong_pin` (with `tries_left`), `pin_blocked`, `one_try_left`, `pin_required`, `pin_format`", body = ErrorBody),
        (status = 429, description = "`locked`: PIN entry paused; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until PIN entry is possible again"))),
        (status = 502, description = "`unknown_card`, `malformed_card_data`, `pcsc_error`", body = ErrorBody),
        (status = 503, description = "`reader_busy`, `roster_unavailable`, `store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    staff: Staff,
    extensions: axum::http::Extensions,
    Body(body): Body,
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
            let mut matched = None;
            let mut checked_in = Vec::new();
            let mut pre_answered = Vec::new();
            if let CardReading::Mynumber(b) = &reading {
                let roster = state.roster.all().map_err(roster_unavailable)?;
                let items = serde_json::to_value(b).unwrap_or_default();
                let birth = items["birth_date"].as_str().unwrap_or_default().to_owned();
                let sex = items["sex"].as_str().unwrap_or_default().to_owned();
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
                checked_in = checked_in_of(&state, &shown);
                pre_answered = state
                    .roster
                    .pre_answered(&shown)
                    .map_err(roster_unavailable)?
                    .into_iter()
                    .collect();
                state
                    .core
                    .audit_read(&staff, shown, "reception card match")
                    .await?;
                matched = Some(outcome);
            }
            Ok(Json(CardRead {
                reading,
                matched,
                checked_in,
                pre_answered,
            })
            .into_response())
        }
        Err(e) => {
            let tries_left = if let CardError::WrongPin { tries_left } = e {
                Some(tries_left)
            } else {
                None
            };
            Err(ApiError {
                tries_left,
                ..card_error(e)
            })
        }
    }
}

/// Body of `POST /api/reception/check-in`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckInRequest {
    /// Client-chosen event id (a retried check-in is idempotent).
    id: uuid::Uuid,
    /// The booked resident.
    resident_id: String,
    /// Lowercase hex UID of a venue card bound to the session, if one was tapped.
    #[serde(default)]
    card_uid: Option<String>,
    /// A My Number card was used.
    #[serde(default)]
    mynumber: bool,
}

/// A session opened at reception.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CheckedIn {
    /// The session.
    session_id: Uuid,
    /// Stations of the resident's course.
    stations: Vec<StationKind>,
    /// Their Japanese labels.
    station_labels: Vec<&'static str>,
    /// The `session_opened` event.
    event: Uuid,
    /// The id was already used: this is the earlier check-in.
    replayed: bool,
    /// The resident answered the questionnaire on their phone (事前回答あり): the answers
    /// are the session's now.
    pre_answered: bool,
    /// Of those answers, how many were recorded by this check-in (0 on a retry).
    pre_answers_recorded: usize,
}

/// `POST /api/reception/check-in`: open the resident's checkup session with the stations of
/// their course.
#[utoipa::path(
    post,
    path = "/api/reception/check-in",
    tag = "reception",
    description = "Open the booked resident's checkup session with the stations of their course \
                   (reception, venue admin). Retrying with the same `id` is idempotent.",
    request_body(content = CheckInRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Session opened", body = CheckedIn),
        (status = 200, description = "Already opened (same id)", body = CheckedIn),
        (status = 400, description = "`malformed_request`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_booked`", body = ErrorBody),
        (status = 409, description = "`already_checked_in`, `card_in_use`, `conflict`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`, `unknown_course`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`, `store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn check_in(
    State(state): State<AppState>,
    staff: Staff,
    Body(body): Body,
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
    // The phone answers become the session's right after it opens. The check-in stands
    // if they cannot be recorded now: the nurse asks at 問診 instead.
    let (pre_answered, pre_answers_recorded) = match state
        .core
        .record_pre_answers(&staff, opened.session_id, &opened.resident_id)
        .await
    {
        Ok(Some(s)) => (true, s.recorded + s.corrected),
        Ok(None) => (false, 0),
        Err(err) => {
            tracing::warn!(session = %opened.session_id, error = %err, "pre-answers not recorded at check-in");
            (true, 0)
        }
    };
    let status = if outcome.is_new() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(CheckedIn {
            session_id: opened.session_id,
            stations: opened.stations.clone(),
            station_labels: labels,
            event: e.id,
            replayed: !outcome.is_new(),
            pre_answered,
            pre_answers_recorded,
        }),
    )
        .into_response())
}

/// Which of a resident's cards the demo puts on the reader.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DemoCard {
    /// Their My Number card (the demo PIN).
    Mynumber,
    /// A venue contactless card.
    Venue,
}

/// Body of `POST /api/demo/tap`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TapRequest {
    /// A booked resident.
    resident_id: String,
    /// Which card.
    card: DemoCard,
}

/// The card on the virtual reader.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Tapped {
    /// Whose card.
    tapped: String,
    /// Which card.
    card: DemoCard,
}

/// `POST /api/demo/tap`: put a booked resident's card on the demo's virtual reader.
#[utoipa::path(
    post,
    path = "/api/demo/tap",
    tag = "reception",
    description = "Demo only: put a booked resident's card on the virtual reader (reception, \
                   venue admin).",
    request_body(content = TapRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The card is on the reader", body = Tapped),
        (status = 400, description = "`malformed_request`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`no_virtual_reader`, `not_found`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn demo_tap(
    State(state): State<AppState>,
    staff: Staff,
    Body(body): Body,
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
    let profile = match req.card {
        DemoCard::Mynumber => Profile::Mynumber {
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
        DemoCard::Venue => Profile::Contactless {
            uid: format!(
                "{:016x}",
                r.resident_id
                    .bytes()
                    .fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b))
                        .wrapping_mul(0x100000001b3))
            ),
        },
    };
    slot.remove();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    slot.insert(EmulatedCard::new(profile, Faults::default()));
    Ok(Json(Tapped {
        tapped: r.resident_id,
        card: req.card,
    })
    .into_response())
}

/// `POST /api/demo/untap`
#[utoipa::path(
    post,
    path = "/api/demo/untap",
    tag = "reception",
    description = "Demo only: take the card off the virtual reader (reception, venue admin).",
    responses(
        (status = 204, description = "No card on the reader"),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
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
#[utoipa::path(
    get,
    path = "/reception",
    operation_id = "reception_page",
    tag = "pages",
    description = "The reception page (reception, venue admin).",
    params(super::pages::LangQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to `/login`", headers(("Location" = String, description = "`/login`"))),
        (status = 400, description = "`malformed_query`", body = ErrorBody),
        (status = 403, description = "The role may not (page)", content_type = "text/html", body = String),
    ),
    security((), ("session" = [])),
)]
pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    super::extract::Query(q): super::extract::Query<super::pages::LangQuery>,
) -> Response {
    let v = match super::pages::visitor(&state, &headers, &q, &[Role::Reception, Role::VenueAdmin])
    {
        Ok(v) => v,
        Err(answer) => return *answer,
    };
    let (lang, staff) = (v.lang, &v.staff);
    let demo = if let (Some(session), Some(_)) = (&state.training, state.cards.virtual_card()) {
        // Training: the training roster's residents from the one who has just arrived on.
        let (sent, _) = session.progress();
        crate::training::roster::roster(state.venue.booked)
            .into_iter()
            .skip(sent.saturating_sub(1))
            .take(8)
            .map(|r| crate::ui::reception::DemoResident {
                name: r.name,
                resident_id: r.resident_id,
            })
            .collect()
    } else if state.cards.virtual_card().is_some() {
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
        who: crate::ui::Who::from(staff),
        demo,
        training: state.training.is_some(),
    };
    v.answer(Html(crate::ui::reception::page_markup(lang, &view).into_string()).into_response())
}
