//! The resident register and record: search (`GET /v1/residents`), import of register rows
//! (`POST /v1/residents`, CSV) and a resident's record across years and venues
//! (`GET /v1/residents/{id}/record`, 健康かるて), current values with their corrections;
//! every access audited.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use serde::Deserialize;
use serde_json::json;

use super::ApiError;
use super::session::staff;
use crate::db::{Resident, current_results};
use crate::server::AppState;

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    birth: Option<String>,
}

/// `GET /v1/residents?q=&birth=`
pub(crate) async fn search(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin, Role::Caseworker])?;
    let birth = q.birth.filter(|b| !b.is_empty());
    let found = s.db.search(q.q.trim(), birth.as_deref()).await?;
    s.db.audit(&who, "search", &format!("q={} birth={:?}", q.q, birth))
        .await?;
    Ok(Json(json!({"residents": found})).into_response())
}

/// `POST /v1/residents` (CSV)
pub(crate) async fn import_residents(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_ref());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.deserialize::<Resident>().enumerate() {
        match rec {
            Ok(r) if !r.resident_id.is_empty() => rows.push(r),
            Ok(_) => errors.push(json!({"line": i + 2, "message": "empty resident_id"})),
            Err(e) => errors.push(json!({"line": i + 2, "message": e.to_string()})),
        }
    }
    let n = s.db.upsert_residents(rows).await?;
    s.db.audit(&who, "import_residents", &format!("{n} rows"))
        .await?;
    Ok(Json(json!({"imported": n, "errors": errors})).into_response())
}

/// `GET /v1/residents/{id}/record`: every checkup with its results and corrections, and the
/// year-over-year series of each item.
pub(crate) async fn record(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    let rows = s.db.results_of(&id).await?;
    s.db.audit(&who, "view_record", &id).await?;
    let current: Vec<_> = current_results(&rows);
    let mut checkups: BTreeMap<(String, String), Vec<serde_json::Value>> = BTreeMap::new();
    for r in &current {
        let history: Vec<_> = rows
            .iter()
            .filter(|x| x.session_id == r.session_id && x.item_code == r.item_code)
            .map(|x| {
                json!({"value": x.value, "unit": x.unit, "staff_id": x.staff_id,
                            "corrects": x.corrects, "reason": x.reason, "event_id": x.event_id})
            })
            .collect();
        checkups
            .entry((r.day.clone(), r.session_id.clone()))
            .or_default()
            .push(
                json!({"item_code": r.item_code, "value": r.value, "unit": r.unit,
                       "name_ja": checkup_protocol::items::item(&r.item_code).map(|i| i.name_ja),
                       "name_en": checkup_protocol::items::item(&r.item_code).map(|i| i.name_en),
                       "history": history}),
            );
    }
    let mut series: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    for r in &current {
        series
            .entry(r.item_code.as_str())
            .or_default()
            .push(json!({"date": r.day, "value": r.value, "unit": r.unit, "venue": r.venue}));
    }
    let resident =
        s.db.search(&id, None)
            .await?
            .into_iter()
            .find(|r| r.resident_id == id);
    Ok(Json(json!({
        "resident_id": id,
        "resident": resident,
        "checkups": checkups.into_iter().map(|((day, session), items)| json!({
            "date": day, "session_id": session, "items": items})).collect::<Vec<_>>(),
        "series": series,
    }))
    .into_response())
}
