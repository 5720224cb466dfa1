//! The child-welfare intake queue (`GET /v1/notices`, `GET /v1/notices/{case_id}`): police
//! notices saved as cases at the boxes, for the child-welfare roles only; every listing and
//! every case read is audited.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::Serialize;

use super::ApiError;
use super::extract::{Path, Query};
use super::session::{Signed, staff};
use crate::server::AppState;

/// Roles that may see the child-welfare intake queue.
const CHILD_CASE_ROLES: [Role; 2] = [Role::ChildWelfareClerk, Role::Caseworker];

/// The intake queue.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Queue {
    /// The latest 500 cases.
    cases: Vec<QueuedCase>,
}

/// A case in the queue.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct QueuedCase {
    /// Case id.
    case_id: String,
    /// Venue it was saved at.
    venue: String,
    /// Box it was saved on.
    node: String,
    /// Clerk who saved it.
    saved_by: String,
    /// When (milliseconds since the epoch).
    saved_ms: i64,
    /// The child's name.
    child_name: String,
    /// The child's birth date.
    child_birth_date: String,
    /// Abuse type code.
    abuse_type: String,
    /// The matched resident, if any.
    resident_id: Option<String>,
}

/// `GET /v1/notices`: the child-welfare intake queue (child-welfare roles only; listing is
/// audited as one access).
#[utoipa::path(
    get,
    path = "/v1/notices",
    tag = "notices",
    description = "The child-welfare intake queue (child-welfare clerk, caseworker); audited.",
    responses(
        (status = 200, description = "The queue", body = Queue),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn notices(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Signed {
        id: who,
        db,
        viewer,
        ..
    } = staff(&s, &headers, &CHILD_CASE_ROLES).await?;
    if !crate::access::case_queue(&viewer) {
        return Err(super::access::refused(crate::access::Refusal::Forbidden(
            "受付一覧は子ども家庭部門のものです / the intake queue is child welfare's",
        )));
    }
    let rows = db.notices(None, 500).await?;
    db.audit(&who, "list_notices", &rows.len().to_string())
        .await?;
    let cases = rows
        .into_iter()
        .map(|n| QueuedCase {
            case_id: n.case_id,
            venue: n.venue,
            node: n.node,
            saved_by: n.staff_id,
            saved_ms: n.saved_ms,
            child_name: n.child_name,
            child_birth_date: n.child_birth_date,
            abuse_type: n.abuse_type,
            resident_id: n.resident_id,
        })
        .collect();
    Ok(Json(Queue { cases }).into_response())
}

/// One case with every reviewed field.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Notice {
    /// Case id.
    case_id: String,
    /// The event that saved it.
    event_id: String,
    /// Venue.
    venue: String,
    /// Box.
    node: String,
    /// Clerk who saved it.
    saved_by: String,
    /// When (milliseconds since the epoch).
    saved_ms: i64,
    /// The reviewed notice (`notice_intake_saved` payload).
    notice: checkup_protocol::NoticeIntakeSaved,
}

/// `GET /v1/notices/{case_id}`: one case with every reviewed field (audited).
#[utoipa::path(
    get,
    path = "/v1/notices/{case_id}",
    tag = "notices",
    description = "One case with every reviewed field (child-welfare clerk, caseworker; a \
                   health 係長 or above with a `purpose`, crossing departments); audited \
                   with the purpose.",
    params(("case_id" = String, Path, description = "Case id"), super::access::PurposeQuery),
    responses(
        (status = 200, description = "The case", body = Notice),
        (status = 400, description = "`malformed_path`, `malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`, `purpose_required`", body = ErrorAnswer),
        (status = 404, description = "`not_found`", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn notice(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
    Query(q): Query<super::access::PurposeQuery>,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    let read = crate::access::child_case(&st.viewer, q.purpose.as_deref())
        .map_err(super::access::refused)?;
    let db = st.db.clone();
    let row = db.notice(&case_id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no case {case_id}"),
        )
    })?;
    super::access::audit_read(&st, "view_notice", &case_id, None, &read).await?;
    let notice = serde_json::from_str(&row.notice).map_err(ApiError::internal)?;
    Ok(Json(Notice {
        case_id: row.case_id,
        event_id: row.event_id,
        venue: row.venue,
        node: row.node,
        saved_by: row.staff_id,
        saved_ms: row.saved_ms,
        notice,
    })
    .into_response())
}
