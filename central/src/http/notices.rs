//! The child-welfare intake queue (`GET /v1/notices`, `GET /v1/notices/{case_id}`): police
//! notices saved as cases at the boxes, for the child-welfare roles only; every listing and
//! every case read is audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use serde_json::json;

use super::ApiError;
use super::session::staff;
use crate::server::AppState;

/// Roles that may see the child-welfare intake queue.
const CHILD_CASE_ROLES: [Role; 2] = [Role::ChildWelfareClerk, Role::Caseworker];

/// `GET /v1/notices`: the child-welfare intake queue (child-welfare roles only; listing is
/// audited as one access).
pub(crate) async fn notices(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &CHILD_CASE_ROLES)?;
    let rows = s.db.notices(None, 500).await?;
    s.db.audit(&who, "list_notices", &rows.len().to_string())
        .await?;
    let cases: Vec<serde_json::Value> = rows
        .iter()
        .map(|n| {
            json!({"case_id": n.case_id, "venue": n.venue, "node": n.node, "saved_by": n.staff_id,
                   "saved_ms": n.saved_ms, "child_name": n.child_name,
                   "child_birth_date": n.child_birth_date, "abuse_type": n.abuse_type,
                   "resident_id": n.resident_id})
        })
        .collect();
    Ok(Json(json!({"cases": cases})).into_response())
}

/// `GET /v1/notices/{case_id}`: one case with every reviewed field (audited).
pub(crate) async fn notice(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &CHILD_CASE_ROLES)?;
    let row = s.db.notice(&case_id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no case {case_id}"),
        )
    })?;
    s.db.audit(&who, "view_notice", &case_id).await?;
    let notice: serde_json::Value = serde_json::from_str(&row.notice).unwrap_or_default();
    Ok(Json(
        json!({"case_id": row.case_id, "event_id": row.event_id, "venue": row.venue,
                   "node": row.node, "saved_by": row.staff_id, "saved_ms": row.saved_ms,
                   "notice": notice}),
    )
    .into_response())
}
