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
//! | `POST /api/roster/pre-answers/fetch` | venue admin | fetch the residents' phone answers from central now (also on a timer and after each roster import) |
//! | `POST /api/roster/pre-answers` | venue admin | import central's pre-answers file (`GET /v1/questionnaire/answers` on central) on a box without a link to central |

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use serde::{Deserialize, Serialize};

use super::extract::{Body, Path, Query};
use super::reception::{booked, roster_unavailable};
use super::{AppState, CHECKUP_ROLES, require};
use crate::auth::Staff;
use crate::http::error::{ApiError, ErrorBody};
use crate::roster::import::RowError;
use crate::roster::{HistoryRow, Resident};

/// Whom to find.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// Kana or kanji name, any width, spaces ignored.
    #[serde(default)]
    q: String,
    /// Birth date, `YYYY-MM-DD`.
    #[serde(default)]
    birth: String,
}

/// A resident found, and whether they answered the questionnaire on their phone.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FoundResident {
    /// The roster entry.
    #[serde(flatten)]
    resident: Resident,
    /// Their phone answers (事前回答) are on this box: check-in records them.
    pre_answered: bool,
}

/// Residents found.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Found {
    /// At most 20.
    residents: Vec<FoundResident>,
    /// Of these, the resident numbers already checked in (an open session): the page offers
    /// them no second check-in.
    checked_in: Vec<String>,
}

/// `GET /api/roster/search?q=&birth=`: find a booked resident without a card (reception).
/// Every resident shown is an audited read.
#[utoipa::path(
    get,
    path = "/api/roster/search",
    tag = "roster",
    description = "Find a booked resident without a card by name (two characters or more) \
                   and/or birth date (reception, venue admin). Every resident shown is an \
                   audited read.",
    params(SearchQuery),
    responses(
        (status = 200, description = "At most 20 residents", body = Found),
        (status = 400, description = "`malformed_request`: neither name nor birth date; `malformed_query`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`, `store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn roster_search(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::Reception, Role::VenueAdmin])?;
    let key = crate::identity::normalize::name_key(&q.q);
    if key.chars().count() < 2 && q.birth.is_empty() {
        return Err(ApiError::malformed(
            "give at least two characters of the name, or the birth date",
        ));
    }
    let all = state.roster.all().map_err(roster_unavailable)?;
    let hits: Vec<Resident> = all
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
    let ids: Vec<String> = hits.iter().map(|r| r.resident_id.clone()).collect();
    let checked_in = super::reception::checked_in_of(&state, &ids);
    let pre = state
        .roster
        .pre_answered(&ids)
        .map_err(roster_unavailable)?;
    Ok(Json(Found {
        residents: hits
            .into_iter()
            .map(|r| FoundResident {
                pre_answered: pre.contains(&r.resident_id),
                resident: r,
            })
            .collect(),
        checked_in,
    })
    .into_response())
}

/// A roster file taken in.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RosterImported {
    /// Residents new to the roster.
    added: usize,
    /// Residents whose entry changed.
    updated: usize,
    /// Residents already as in the file.
    unchanged: usize,
    /// Rows refused, with line numbers.
    errors: Vec<RowError>,
}

/// `POST /api/roster/import`: the reservation system's CSV (UTF-8 or Shift_JIS). Good rows
/// are imported (idempotently), bad rows reported with line numbers.
#[utoipa::path(
    post,
    path = "/api/roster/import",
    tag = "roster",
    description = "The reservation system's CSV (UTF-8 or Shift_JIS; \
                   `resident_id,name,name_kana,birth_date,sex,address,course,booked_at`), up to \
                   the roster's own size limit (venue admin). Good rows are imported \
                   (idempotently), bad rows reported with line numbers.",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "Imported", body = RosterImported),
        (status = 400, description = "`bad_roster_file`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn roster_import(
    State(state): State<AppState>,
    staff: Staff,
    Body(body): Body,
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
    // The new residents' phone answers, from central when it can be reached.
    state.pre_answers.fetch_soon();
    Ok(Json(RosterImported {
        added,
        updated,
        unchanged,
        errors,
    })
    .into_response())
}

/// Earlier results taken in.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct HistoryImported {
    /// Good rows in the file.
    rows: usize,
    /// Rows that changed what is held.
    changed: usize,
    /// Rows refused, with line numbers.
    errors: Vec<RowError>,
}

/// `POST /api/roster/history`: earlier results of booked residents
/// (`resident_id,item_code,value,unit,date`), shown at the stations as last year's values.
#[utoipa::path(
    post,
    path = "/api/roster/history",
    tag = "roster",
    description = "Earlier results of booked residents as CSV \
                   (`resident_id,item_code,value,unit,date`), shown at the stations as last \
                   year's values (venue admin).",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "Imported", body = HistoryImported),
        (status = 400, description = "`bad_history_file`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn history_import(
    State(state): State<AppState>,
    staff: Staff,
    Body(body): Body,
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
    Ok(Json(HistoryImported {
        rows: n,
        changed,
        errors,
    })
    .into_response())
}

/// A resident's earlier values.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct History {
    /// The resident.
    resident_id: String,
    /// The latest earlier value of each item.
    values: Vec<HistoryRow>,
}

/// `GET /api/residents/{id}/history`: the latest earlier value of each item (audited).
#[utoipa::path(
    get,
    path = "/api/residents/{id}/history",
    tag = "roster",
    description = "A booked resident's latest earlier value of each item (checkup roles; \
                   audited).",
    params(("id" = String, Path, description = "Resident number")),
    responses(
        (status = 200, description = "Earlier values", body = History),
        (status = 400, description = "`malformed_path`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 404, description = "`not_found`: not on the roster", body = ErrorBody),
        (status = 422, description = "`invalid_payload`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`, `store_unavailable`, `shutting_down`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require(&staff, CHECKUP_ROLES)?;
    // Only a booked resident's values are shown, and the read is audited first.
    booked(&state, &id)?;
    state
        .core
        .audit_read(&staff, vec![id.clone()], "last year's values")
        .await?;
    let values = state.roster.last_values(&id).map_err(roster_unavailable)?;
    Ok(Json(History {
        resident_id: id,
        values,
    })
    .into_response())
}

/// `POST /api/roster/pre-answers/fetch`: fetch the roster's phone answers from central now.
#[utoipa::path(
    post,
    path = "/api/roster/pre-answers/fetch",
    tag = "roster",
    description = "Fetch the questionnaire answers the roster's residents gave on their phones \
                   from central now (venue admin), with the box's own credentials; the box \
                   also fetches on a timer and after each roster import.",
    responses(
        (status = 200, description = "Fetched", body = crate::pre_answers::Fetched),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 409, description = "`no_central`: no central is configured", body = ErrorBody),
        (status = 502, description = "`central_refused`, `central_unreachable`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn pre_answers_fetch(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::VenueAdmin])?;
    use crate::pre_answers::FetchError;
    match state.pre_answers.fetch().await {
        Ok(f) => Ok(Json(f).into_response()),
        Err(FetchError::NotConfigured) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_central",
            "central が設定されていません。ファイルで取り込んでください / no central is configured: import central's file instead",
        )),
        Err(FetchError::Roster(e)) => Err(roster_unavailable(e)),
        Err(e @ FetchError::Refused { .. }) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "central_refused",
            e.to_string(),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "central_unreachable",
            e.to_string(),
        )),
    }
}

/// `POST /api/roster/pre-answers`: central's pre-answers file, for a box offline.
#[utoipa::path(
    post,
    path = "/api/roster/pre-answers",
    tag = "roster",
    description = "Import central's pre-answers file (`GET /v1/questionnaire/answers?checkup=` \
                   on central) on a box that cannot reach central (venue admin). Only residents \
                   of the roster are kept; every answer is checked against the questionnaire.",
    request_body(content = checkup_protocol::central::PreAnswers, content_type = "application/json"),
    responses(
        (status = 200, description = "Imported", body = crate::pre_answers::Fetched),
        (status = 400, description = "`bad_pre_answers_file`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 503, description = "`roster_unavailable`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn pre_answers_import(
    State(state): State<AppState>,
    staff: Staff,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require(&staff, &[Role::VenueAdmin])?;
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_pre_answers_file", m);
    let file: checkup_protocol::central::PreAnswers =
        serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    for a in &file.answers {
        crate::pre_answers::check(a).map_err(|m| bad(format!("{}: {m}", a.resident_id)))?;
    }
    let roster = state.roster.clone();
    let checkup = file.checkup.clone();
    let (received, asked, stored) = crate::http::error::blocking("pre-answers import", move || {
        let ids: std::collections::HashSet<String> = roster.ids()?.into_iter().collect();
        let keep: Vec<_> = file
            .answers
            .into_iter()
            .filter(|a| ids.contains(&a.resident_id))
            .collect();
        let n = keep.len();
        roster.store_pre_answers(&keep).map(|s| (n, ids.len(), s))
    })
    .await?
    .map_err(roster_unavailable)?;
    tracing::info!(
        checkup,
        received,
        stored,
        "pre-answers imported from a file"
    );
    Ok(Json(crate::pre_answers::Fetched {
        checkup,
        asked,
        received,
        stored,
    })
    .into_response())
}
