//! HTTP, and only HTTP: the route table, the handlers' state, the one staff guard, and
//! errors turned into JSON answers. Each handler parses its request, calls the day's rules
//! ([`crate::venue::Core`]) or a read, and answers; pages are rendered by [`crate::ui`] from
//! the data the handler prepares.
//!
//! | file | routes |
//! |---|---|
//! | [`auth`] | `POST /api/login`, `POST /api/logout` |
//! | [`pages`] | `GET /` (the board page), `GET/POST /login`, `POST /logout`, `GET /assets/app.css` |
//! | [`events`] | `POST/GET /api/events`, `POST /api/replicate`, `GET /api/sessions/{id}` (audited) |
//! | [`status`] | `GET /healthz`, `GET /api/venue`, `GET /api/replication/state`, `GET /api/forward/status` |
//! | [`board`] | `GET /api/board`, `GET /api/board/events` (live) |
//! | [`reception`] | `GET /reception`, card readers and taps, `POST /api/card/read`, `POST /api/reception/check-in`, demo taps |
//! | [`roster`] | `POST /api/roster/import`, `GET /api/roster/search`, `POST /api/roster/history`, `GET /api/residents/{id}/history` |
//! | [`station`] | `GET /station/{kind}` |
//! | [`intake`] | `GET /intake`, `GET /cases`, the notice inbox, crops, saving a case, the case list |
//! | [`error`] | `{"error": code, "message": text}` answers |

pub mod auth;
pub mod board;
pub mod error;
pub mod events;
pub mod intake;
pub mod pages;
pub mod reception;
pub mod roster;
pub mod station;
pub mod status;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use checkup_protocol::{PublicKey, Role};

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
    /// Card readers.
    pub cards: Arc<Cards>,
    /// Replication link state and rejected messages.
    pub replication: Arc<crate::replication::mqtt::ReplicationStatus>,
    /// Forwarding to central.
    pub forward: Arc<std::sync::Mutex<crate::forward::ForwardStatus>>,
    /// Scanned police notices waiting for review.
    pub inbox: Arc<crate::intake::inbox::Inbox>,
    /// The day's rules: every write goes through it.
    pub core: crate::venue::Core,
    /// Wrong card PINs per reception staff member and client (see
    /// [`crate::venue::CARD_PIN_POLICY`]).
    pub card_pins: Arc<crate::lockout::Lockout>,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        crate::auth::token_from_headers(&parts.headers)
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
/// limits of their own).
pub fn router(state: AppState, max_body: usize) -> Router {
    Router::new()
        .route("/", get(pages::venue_page))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout_submit))
        .route("/assets/app.css", get(pages::css))
        .route("/healthz", get(status::healthz))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/events", post(events::append).get(events::read_events))
        .route("/api/replicate", post(events::replicate))
        .route("/api/replication/state", get(status::replication_state))
        .route("/api/forward/status", get(status::forward_status))
        .route("/api/venue", get(status::venue))
        .route("/api/sessions/{id}", get(events::session))
        .route("/reception", get(reception::page))
        .route("/station/{kind}", get(station::page))
        .route("/api/board", get(board::board))
        .route("/api/board/events", get(board::events))
        .route("/api/card/events", get(reception::events))
        .route("/api/card/readers", get(reception::readers))
        .route("/api/card/read", post(reception::read))
        .route("/api/station/tap", post(reception::station_tap))
        .route("/api/demo/tap", post(reception::demo_tap))
        .route("/api/demo/untap", post(reception::demo_untap))
        .route(
            "/api/roster/import",
            // A municipality's whole roster in one file (far over the general limit).
            error::body_limit(
                post(roster::roster_import),
                crate::roster::import::MAX_ROSTER_BYTES,
            ),
        )
        .route("/api/roster/search", get(roster::roster_search))
        .route("/api/roster/history", post(roster::history_import))
        .route("/api/residents/{id}/history", get(roster::history))
        .route("/api/reception/check-in", post(reception::check_in))
        .route("/intake", get(intake::intake_page))
        .route("/cases", get(intake::cases_page))
        .route(
            "/api/intake/scans",
            post(intake::upload)
                .get(intake::scans)
                // A scan may be far larger than an event; the inbox checks its own limit.
                .layer(DefaultBodyLimit::max(
                    usize::try_from(state.inbox.max_file_bytes()).unwrap_or(usize::MAX),
                )),
        )
        .route("/api/intake/scans/{id}", get(intake::scan))
        .route("/api/intake/scans/{id}/crops/{field}", get(intake::crop))
        .route("/api/intake/scans/{id}/case", post(intake::save_case))
        .route("/api/intake/events", get(intake::scan_events))
        .route("/api/cases", get(intake::cases))
        .route("/api/cases/events", get(intake::case_events))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            crate::auth::session_cookies,
        ))
        .with_state(state)
}
