//! HTTP, and only HTTP: the route table, the handlers' state, the one staff guard, and
//! errors turned into JSON answers. Each handler parses its request, calls the day's rules
//! ([`crate::venue::Core`]) or a read, and answers; pages are rendered by [`crate::ui`] from
//! the data the handler prepares.
//!
//! | file | routes |
//! |---|---|
//! | [`auth`] | `POST /api/login`, `POST /api/logout` |
//! | [`pages`] | `GET /` (the board page), `GET/POST /login`, `POST /logout`, `GET /assets/app.css`, `GET /favicon.svg`, the 404 page |
//! | [`events`] | `POST/GET /api/events`, `POST /api/replicate`, `GET /api/sessions/{id}` (audited) |
//! | [`status`] | `GET /healthz`, `GET /api/venue`, `GET /api/replication/state`, `GET /api/forward/status` |
//! | [`board`] | `GET /api/board`, `GET /api/board/events` (live) |
//! | [`reception`] | `GET /reception`, card readers and taps, `POST /api/card/read`, `POST /api/reception/check-in`, demo taps |
//! | [`roster`] | `POST /api/roster/import`, `GET /api/roster/search`, `POST /api/roster/history`, `GET /api/residents/{id}/history`, `POST /api/roster/pre-answers/fetch`, `POST /api/roster/pre-answers` |
//! | [`station`] | `GET /station/{kind}`, `GET /api/station/{kind}/due` (arrival order) |
//! | [`intake`] | `GET /intake`, `GET /cases`, the notice inbox, crops, saving a case, the case list |
//! | [`questionnaire`] | `GET /api/questionnaire?lang=` (no sign-in), `POST /api/questionnaire/sessions/{id}/answers` |
//! | [`resident`] | resident mode: `GET /resident`, `POST/GET /api/resident-mode`, the resident's answers, the exit with a staff PIN; the guard that keeps a handed-over browser to those |
//! | [`paper`] | `GET /questionnaire/paper/{session_id}?lang=` (the form to print), `POST /api/questionnaire/paper` (a scanned form read back) |
//! | [`error`] | `{"error": code, "message": text}` answers |
//! | [`extract`] | axum's extractors, their refusals answered as those JSON errors |
//! | [`openapi`] | `GET /openapi.json`: the OpenAPI 3.1 document made from the handlers' annotations |
//! | [`training`] | training mode: the band on every page, refused actions recorded, `GET /training/summary`, `POST /training/end` |
//! | [`training_switch`] | a real box's switch that starts a rehearsal beside it: `GET /api/training`, `POST /api/training/start`, `POST /api/training/stop` (venue admin) |

pub mod auth;
pub mod board;
pub mod error;
pub mod events;
pub mod extract;
pub mod intake;
pub mod openapi;
pub mod pages;
pub mod paper;
pub mod questionnaire;
pub mod reception;
pub mod resident;
pub mod roster;
pub mod station;
pub mod status;
pub mod training;
pub mod training_switch;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use checkup_protocol::{PublicKey, Role};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::auth::{Auth, Staff};
use crate::cards::Cards;
use crate::config::StationConfig;
use crate::log::store::EventStore;
use crate::roster::Roster;
pub use error::ApiError;

/// What the pages say about the venue.
#[derive(Debug)]
pub struct VenueInfo {
    /// Venue id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// This box's node id.
    pub node: String,
    /// Stations set up.
    pub stations: Vec<StationConfig>,
    /// Residents booked (roster size at start).
    pub booked: usize,
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The event log and projection.
    pub store: EventStore,
    /// Staff and sessions.
    pub auth: Arc<Auth>,
    /// Venue description.
    pub venue: Arc<VenueInfo>,
    /// Public keys of the nodes whose signed events are accepted (this one included).
    pub keyring: Arc<HashMap<String, PublicKey>>,
    /// The day's roster.
    pub roster: Arc<Roster>,
    /// Fetches the residents' phone answers from central.
    pub pre_answers: Arc<crate::pre_answers::Fetcher>,
    /// Card readers.
    pub cards: Arc<Cards>,
    /// Replication link state and rejected messages.
    pub replication: Arc<crate::replication::mqtt::ReplicationStatus>,
    /// Forwarding to central.
    pub forward: Arc<std::sync::Mutex<crate::forward::ForwardStatus>>,
    /// Scanned police notices waiting for review.
    pub inbox: Arc<crate::intake::inbox::Inbox>,
    /// Keep where a case photo was taken (`intake.keep_photo_location`).
    pub keep_photo_location: bool,
    /// The day's rules: every write goes through it.
    pub core: crate::venue::Core,
    /// Wrong card PINs per reception staff member and client (see
    /// [`crate::venue::CARD_PIN_POLICY`]).
    pub card_pins: Arc<crate::lockout::Lockout>,
    /// Cancelled when the box begins to stop: the live streams end with it (see
    /// [`until_stopping`]).
    pub stopping: tokio_util::sync::CancellationToken,
    /// The training session, on a training box (`checkup-edge training`): every page is
    /// marked and refused actions are recorded ([`training::mark`]).
    pub training: Option<Arc<crate::training::Session>>,
    /// On a real box: the venue admin's switch that starts a rehearsal beside it
    /// ([`training_switch`]); None on a training box or with `[training] switch = false`.
    pub training_switch: Option<Arc<crate::training::switch::Switch>>,
}

/// A live stream (`text/event-stream`) that ends when the box begins to stop. A graceful
/// shutdown waits for every open response, and a board or tablet left open never ends its
/// own, so without this one open page would keep the box from ever stopping.
pub(crate) fn until_stopping<S: futures::Stream>(
    stopping: &tokio_util::sync::CancellationToken,
    stream: S,
) -> impl futures::Stream<Item = S::Item> + use<S> {
    use futures::StreamExt;
    let stop = stopping.clone();
    stream.take_until(async move { stop.cancelled().await })
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state
            .auth
            .token(&parts.headers)
            .and_then(|t| state.auth.lookup(&t))
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The one staff guard: `staff` acts in one of `roles`, else 403 naming the role.
pub fn require(staff: &Staff, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&staff.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{}の権限ではできません / role {} may not do this",
            staff.role.label_ja(),
            staff.role
        )))
    }
}

/// The checkup side's roles (everyone who may see residents' checkup data).
pub const CHECKUP_ROLES: &[Role] = &[
    Role::Reception,
    Role::Station,
    Role::Nurse,
    Role::Doctor,
    Role::VenueAdmin,
];

/// The caller's address, when the server was started with connection info.
pub fn client_of(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<checkup_provisioning::tls::Peer>>()
        .map(|c| c.0.addr.ip())
}

/// Append a `Set-Cookie` header.
pub fn set_cookie(resp: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The box's routes over `state`; bodies up to `max_body` bytes (the roster and scans have
/// limits of their own). The route table is [`routes`]; `GET /openapi.json` serves the
/// document it makes; paths and methods it lacks are answered with the JSON error too.
pub fn router(state: AppState, max_body: usize) -> Router {
    let max_scan = usize::try_from(state.inbox.max_file_bytes()).unwrap_or(usize::MAX);
    let (router, document) = routes(max_scan).split_for_parts();
    router
        .fallback(pages::not_found)
        .method_not_allowed_fallback(extract::method_not_allowed)
        .layer(axum::Extension(openapi::Document::new(&document)))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::Extension(extract::BodyLimit(max_body)))
        // A browser handed to a resident reaches only the resident's page and its calls.
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            resident::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            crate::auth::session_cookies,
        ))
        // Outermost: every answer, the 404 page and the resident guard's included.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            training::mark,
        ))
        .with_state(state)
}

/// The route table: every route with its documentation (`#[utoipa::path]` on each handler),
/// so that a route cannot be served without being in the OpenAPI document. `max_scan` is the
/// body limit of a scan upload.
pub fn routes(max_scan: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(openapi::document_json))
        .routes(routes!(pages::venue_page))
        .routes(routes!(pages::login_page, pages::login_submit))
        .routes(routes!(pages::logout_submit))
        .routes(routes!(pages::css))
        .routes(routes!(pages::favicon))
        .routes(routes!(status::healthz))
        .routes(routes!(questionnaire::questionnaire))
        .routes(routes!(questionnaire::answers))
        .routes(routes!(resident::page))
        .routes(routes!(resident::start, resident::current))
        .routes(routes!(resident::submit))
        .routes(routes!(resident::exit))
        .routes(routes!(paper::print_page))
        // A scanned form is a file like a scan: the scan limit.
        .routes(limited(routes!(paper::upload), max_scan))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(events::append, events::read_events))
        .routes(routes!(events::replicate))
        .routes(routes!(status::replication_state))
        .routes(routes!(status::forward_status))
        .routes(routes!(status::venue))
        .routes(routes!(events::session))
        .routes(routes!(reception::page))
        .routes(routes!(station::page))
        .routes(routes!(station::due))
        .routes(routes!(board::board))
        .routes(routes!(board::events))
        .routes(routes!(reception::events))
        .routes(routes!(reception::readers))
        .routes(routes!(reception::read))
        .routes(routes!(reception::station_tap))
        .routes(routes!(reception::demo_tap))
        .routes(routes!(reception::demo_untap))
        // A municipality's whole roster in one file (far over the general limit).
        .routes(limited(
            routes!(roster::roster_import),
            crate::roster::import::MAX_ROSTER_BYTES,
        ))
        .routes(routes!(roster::roster_search))
        .routes(routes!(roster::history_import))
        .routes(routes!(roster::pre_answers_fetch))
        // Central's file of a whole checkup's phone answers.
        .routes(limited(
            routes!(roster::pre_answers_import),
            crate::roster::import::MAX_ROSTER_BYTES,
        ))
        .routes(routes!(roster::history))
        .routes(routes!(reception::check_in))
        .routes(routes!(intake::intake_page))
        .routes(routes!(intake::cases_page))
        // A scan may be far larger than an event; the inbox checks its own limit.
        .routes(limited(routes!(intake::upload, intake::scans), max_scan))
        .routes(routes!(intake::scan))
        .routes(routes!(intake::crop))
        .routes(routes!(intake::save_case))
        .routes(routes!(intake::scan_events))
        .routes(routes!(intake::cases))
        .routes(routes!(intake::case_events))
        // A photo from a tablet: up to 10 MB, refused beyond with its own Japanese message.
        .routes(limited(
            routes!(intake::add_photo, intake::photos),
            crate::intake::photo::MAX_UPLOAD_BYTES,
        ))
        .routes(routes!(intake::photo))
        .routes(routes!(training::summary_page))
        .routes(routes!(training::end))
        .routes(routes!(training_switch::training_state))
        .routes(routes!(training_switch::start))
        .routes(routes!(training_switch::stop))
}

/// Routes with a body limit of their own ([`extract::body_limit`]).
fn limited(
    (schemas, paths, route): UtoipaMethodRouter<AppState>,
    max: usize,
) -> UtoipaMethodRouter<AppState> {
    (schemas, paths, extract::body_limit(route, max))
}
