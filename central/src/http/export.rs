//! The export for the municipal health management system (`GET /v1/export.csv`): one CSV
//! row per resident per item per checkup in a date range, current values after
//! corrections; audited.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::Deserialize;

use super::ApiError;
use super::extract::Query;
use super::session::{Signed, staff};
use crate::db::{ExportRow, current_results};
use crate::server::AppState;

/// The period to export.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// First day, `YYYY-MM-DD`.
    from: String,
    /// Last day, `YYYY-MM-DD`, not before `from`.
    to: String,
}

pub(crate) fn valid_date(d: &str) -> bool {
    time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// `GET /v1/export.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`
#[utoipa::path(
    get,
    path = "/v1/export.csv",
    tag = "records",
    description = "One CSV row per resident per item per checkup in the period \
                   (`resident_id,item_code,value,unit,date,venue`), current values after \
                   corrections (central admin); audited.",
    params(ExportQuery),
    responses(
        (status = 200, description = "The export", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"checkup-results.csv\"`"))),
        (status = 400, description = "`bad_range`, `malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn export(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    if !valid_date(&q.from) || !valid_date(&q.to) || q.from > q.to {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_range",
            "from and to are dates YYYY-MM-DD, from ≤ to",
        ));
    }
    let rows = db.results_between(&q.from, &q.to).await?;
    let mut out: Vec<ExportRow> = current_results(&rows)
        .into_iter()
        .map(|r| ExportRow {
            resident_id: r.resident_id.clone(),
            item_code: r.item_code.clone(),
            value: r.value.clone(),
            unit: r.unit.clone(),
            date: r.day.clone(),
            venue: r.venue.clone(),
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.date, &a.resident_id, &a.item_code).cmp(&(&b.date, &b.resident_id, &b.item_code))
    });
    db.audit(
        &who,
        "export",
        &format!("{}..{} ({} rows)", q.from, q.to, out.len()),
    )
    .await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &out {
        w.serialize(r).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
    }
    if out.is_empty() {
        w.write_record(["resident_id", "item_code", "value", "unit", "date", "venue"])
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?;
    }
    let body = w
        .into_inner()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"checkup-results.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
