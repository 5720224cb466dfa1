//! The export for the municipal health management system (`GET /v1/export.csv`): one CSV
//! row per resident per item per checkup in a date range, current values after
//! corrections; audited.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use serde::Deserialize;

use super::ApiError;
use super::session::staff;
use crate::db::{ExportRow, current_results};
use crate::server::AppState;

#[derive(Deserialize)]
pub(crate) struct ExportQuery {
    from: String,
    to: String,
}

fn valid_date(d: &str) -> bool {
    time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// `GET /v1/export.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`
pub(crate) async fn export(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    if !valid_date(&q.from) || !valid_date(&q.to) || q.from > q.to {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_range",
            "from and to are dates YYYY-MM-DD, from ≤ to",
        ));
    }
    let rows = s.db.results_between(&q.from, &q.to).await?;
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
    s.db.audit(
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
