//! The day's roster over HTTP: the reservation system's file, earlier results, finding a
//! resident without a card, and last year's values at the stations. Every resident shown
//! is an audited read, recorded before the data is returned.
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/roster/import` | venue admin | CSV (UTF-8 or Shift_JIS) → added/updated/unchanged + row errors; up to the roster's own size limit |
//! | `GET /api/roster/search?q=&birth=` | reception, venue admin | residents without a card (audited) |
//! | `POST /api/roster/history` | venue admin | earlier results (`resident_id,item_code,value,unit,date`) |
//! | `GET /api/residents/{id}/history` | checkup roles | last year's value of each item (audited; booked residents only) |

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use serde::Deserialize;
use serde_json::json;

use super::reception::{booked, roster_unavailable};
use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::ApiError;

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
    require(&staff, &[Role::Reception, Role::VenueAdmin])?;
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

/// `POST /api/roster/import`: the reservation system's CSV (UTF-8 or Shift_JIS). Good rows
/// are imported (idempotently), bad rows reported with line numbers.
pub(crate) async fn roster_import(
    State(state): State<AppState>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::VenueAdmin])?;
    let (rows, errors) = crate::roster::import::parse(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_roster_file", e.to_string()))?;
    let roster = state.roster.clone();
    let (added, updated, unchanged) =
        crate::http::error::blocking("roster import", move || roster.import(&rows))
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
    require(&staff, &[Role::VenueAdmin])?;
    let (rows, errors) = crate::roster::import::parse_history(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_history_file", e.to_string()))?;
    let roster = state.roster.clone();
    let n = rows.len();
    let changed =
        crate::http::error::blocking("history import", move || roster.import_history(&rows))
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
    require(&staff, CHECKUP_ROLES)?;
    // Only a booked resident's values are shown, and the read is audited first.
    booked(&state, &id)?;
    state
        .core
        .audit_read(&staff, vec![id.clone()], "last year's values")
        .await?;
    let values = state.roster.last_values(&id).map_err(roster_unavailable)?;
    Ok(Json(json!({"resident_id": id, "values": values})).into_response())
}
