//! Access by rank and duty over HTTP: the decisions of [`crate::access`] applied to a
//! request (a refusal answered as 403 `forbidden` or `purpose_required`), the read audited
//! with its resident, purpose and flag; a resident's access report for a disclosure request
//! (開示請求, `GET /v1/residents/{id}/access-report`), the reads flagged for a section chief
//! (`GET /v1/access/flagged`), and who works a child case
//! (`POST /v1/notices/{case_id}/caseworkers`, `POST /v1/notices/{case_id}/members`).
//!
//! A refused read is audited too (`refused_read`, the resident in the subject), for the
//! auditor who looks for someone trying residents one after another; it is not in the
//! resident's access report, which answers who *saw* their data: a refusal showed nothing.
//! A caseworker below 係長 naming someone on her own case opens that person's health record
//! to her, so the naming is flagged for her section chief (`GET /v1/access/flagged`) like a
//! read outside duty.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::extract::{Body, Path};
use super::session::{Signed, staff};
use crate::access::{self, Read, Refusal, Subject};
use crate::db::{AccessEntry, AuditRow, CaseMember};
use crate::server::AppState;

/// `?purpose=`: why a read outside one's duties or across departments is made.
#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub(crate) struct PurposeQuery {
    /// 閲覧の目的 (required outside one's districts and caseload, and across departments).
    #[serde(default)]
    pub purpose: Option<String>,
}

/// A refusal of the rules as an answer.
pub(crate) fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::PurposeRequired(m) => ApiError::new(StatusCode::FORBIDDEN, "purpose_required", m),
        Refusal::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
    }
}

/// May the signed-in staff member read `resident_id`'s health record?
pub(crate) async fn decide_record(
    st: &Signed,
    resident_id: &str,
    purpose: Option<&str>,
) -> Result<Read, ApiError> {
    let register = st.db.resident(resident_id).await?;
    let on_own_cases = st.viewer.department == Some(access::Department::ChildWelfare)
        && st.db.on_cases_of(&st.id, resident_id).await?;
    let subject = Subject {
        resident_id,
        district: register
            .as_ref()
            .map(|r| r.district.as_str())
            .filter(|d| !d.is_empty()),
        on_own_cases,
    };
    match access::health_record(&st.viewer, &subject, purpose) {
        Ok(read) => Ok(read),
        Err(r) => {
            let code = match r {
                Refusal::PurposeRequired(_) => "purpose_required",
                Refusal::Forbidden(_) => "forbidden",
            };
            st.db
                .audit(&st.id, "refused_read", &format!("{resident_id}: {code}"))
                .await?;
            Err(refused(r))
        }
    }
}

/// Audit a read of `resident_id`'s data (or of a case, `resident_id` `None`) as decided.
pub(crate) async fn audit_read(
    st: &Signed,
    action: &str,
    subject: &str,
    resident_id: Option<&str>,
    read: &Read,
) -> Result<(), ApiError> {
    st.db
        .record_access(AccessEntry {
            staff_id: st.id.clone(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            resident_id: resident_id.map(str::to_owned),
            purpose: read.purpose().map(str::to_owned),
            flagged_for: read
                .flagged()
                .then(|| st.viewer.department.map(|d| d.as_str().to_owned()))
                .flatten(),
        })
        .await?;
    Ok(())
}

/// One line of an access report or review list.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AccessLine {
    /// The audit entry.
    #[serde(flatten)]
    entry: AuditRow,
    /// The staff member's name, when she is configured here.
    staff_name: Option<String>,
}

/// A list of audit entries.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AccessLines {
    /// The resident (access report) or the department (review).
    about: String,
    /// The entries.
    entries: Vec<AccessLine>,
}

fn lines(s: &AppState, about: String, rows: Vec<AuditRow>) -> AccessLines {
    AccessLines {
        about,
        entries: rows
            .into_iter()
            .map(|entry| AccessLine {
                staff_name: s.viewers.get(&entry.staff_id).map(|v| v.name.clone()),
                entry,
            })
            .collect(),
    }
}

/// `GET /v1/residents/{id}/access-report`
#[utoipa::path(
    get,
    path = "/v1/residents/{id}/access-report",
    tag = "access",
    description = "Who read or changed the resident's data, when and why: the access report \
                   for a disclosure request (開示請求), oldest first (central admin, auditor); \
                   audited itself.",
    params(("id" = String, Path, description = "Resident number")),
    responses(
        (status = 200, description = "The report", body = AccessLines),
        (status = 400, description = "`malformed_path`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn access_report(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &[Role::CentralAdmin, Role::Auditor]).await?;
    let rows = st.db.access_report(&id).await?;
    st.db
        .audit(
            &st.id,
            "access_report",
            &format!("{id}: {} entries", rows.len()),
        )
        .await?;
    Ok(Json(lines(&s, id, rows)).into_response())
}

/// `GET /v1/access/flagged`
#[utoipa::path(
    get,
    path = "/v1/access/flagged",
    tag = "access",
    description = "Reads made outside the readers' districts and caseloads in the section \
                   chief's department, newest first, with their purposes, and (child welfare) \
                   the people caseworkers named on their own cases (係長 and above); \
                   audited.",
    responses(
        (status = 200, description = "The reads", body = AccessLines),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn flagged(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    let department = access::reviews_flagged(&st.viewer).ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "係長以上が確認します / reviewed by 係長 and above",
        )
    })?;
    let rows = st.db.flagged_reads(department.as_str(), 500).await?;
    st.db
        .audit(&st.id, "review_flagged", department.as_str())
        .await?;
    Ok(Json(lines(&s, department.as_str().to_owned(), rows)).into_response())
}

/// Body of `POST /v1/notices/{case_id}/caseworkers`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Assignment {
    /// The caseworker's staff id.
    staff_id: String,
}

/// Body of `POST /v1/notices/{case_id}/members`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Member {
    /// The resident (宛名番号).
    resident_id: String,
    /// `child`, `guardian` or `sibling`.
    relation: String,
}

/// Who works a case and who is on it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CasePeople {
    /// Case id.
    case_id: String,
    /// Assigned caseworkers.
    caseworkers: Vec<String>,
    /// Children and guardians.
    members: Vec<CaseMember>,
}

fn bad(code: &'static str, m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, m)
}

/// The case, or 404 (in the staff member's municipality only).
async fn known_case(st: &Signed, case_id: &str) -> Result<(), ApiError> {
    st.db.notice(case_id).await?.map(|_| ()).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no case {case_id}"),
        )
    })
}

async fn people(st: &Signed, case_id: String) -> Result<Response, ApiError> {
    let (caseworkers, members) = st.db.case_people(&case_id).await?;
    Ok(Json(CasePeople {
        case_id,
        caseworkers,
        members,
    })
    .into_response())
}

/// `POST /v1/notices/{case_id}/caseworkers`
#[utoipa::path(
    post,
    path = "/v1/notices/{case_id}/caseworkers",
    tag = "notices",
    description = "Assign a caseworker of the municipality to a case (child-welfare 係長 and \
                   above); she then reads the health records of the case's children and \
                   guardians, each read with its purpose. Audited.",
    params(("case_id" = String, Path, description = "Case id")),
    request_body(content = Assignment, content_type = "application/json"),
    responses(
        (status = 200, description = "The case's people", body = CasePeople),
        (status = 400, description = "`malformed_request`, `not_a_caseworker`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 404, description = "`not_found`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn assign(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    if !access::manages_cases(&st.viewer) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "担当の割り当ては子ども家庭の係長以上です / child-welfare 係長 and above assign cases",
        ));
    }
    let a: Assignment =
        serde_json::from_slice(&body).map_err(|e| bad("malformed_request", e.to_string()))?;
    let worker = s
        .viewers
        .get(&a.staff_id)
        .filter(|v| v.role == Role::Caseworker && v.municipality == st.viewer.municipality);
    if worker.is_none() {
        return Err(bad(
            "not_a_caseworker",
            format!(
                "{} はこの自治体のケースワーカーではありません / not a caseworker here",
                a.staff_id
            ),
        ));
    }
    known_case(&st, &case_id).await?;
    st.db.assign_case(&case_id, &a.staff_id, &st.id).await?;
    st.db
        .audit(
            &st.id,
            "assign_case",
            &format!("{case_id} → {}", a.staff_id),
        )
        .await?;
    people(&st, case_id).await
}

/// `POST /v1/notices/{case_id}/members`
#[utoipa::path(
    post,
    path = "/v1/notices/{case_id}/members",
    tag = "notices",
    description = "Name a child, guardian or sibling on a case (child-welfare 係長 and above, \
                   or a caseworker assigned to it; a caseworker's naming is flagged for her \
                   section chief). Audited.",
    params(("case_id" = String, Path, description = "Case id")),
    request_body(content = Member, content_type = "application/json"),
    responses(
        (status = 200, description = "The case's people", body = CasePeople),
        (status = 400, description = "`malformed_request`, `bad_relation`, `unknown_resident`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 404, description = "`not_found`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn add_member(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    let m: Member =
        serde_json::from_slice(&body).map_err(|e| bad("malformed_request", e.to_string()))?;
    if !matches!(m.relation.as_str(), "child" | "guardian" | "sibling") {
        return Err(bad(
            "bad_relation",
            "relation は child, guardian, sibling のいずれかです / relation is child, guardian or sibling",
        ));
    }
    known_case(&st, &case_id).await?;
    let assigned =
        st.viewer.role == Role::Caseworker && st.db.case_people(&case_id).await?.0.contains(&st.id);
    if !(access::manages_cases(&st.viewer) || assigned) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "担当ケースではありません / not your case",
        ));
    }
    if st.db.resident(&m.resident_id).await?.is_none() {
        return Err(bad(
            "unknown_resident",
            format!(
                "住民 {} は登録されていません / no such resident",
                m.resident_id
            ),
        ));
    }
    st.db
        .add_case_member(CaseMember {
            case_id: case_id.clone(),
            resident_id: m.resident_id.clone(),
            relation: m.relation.clone(),
            added_by: st.id.clone(),
            added_ms: crate::audit::now_ms(),
        })
        .await?;
    st.db
        .record_access(AccessEntry {
            staff_id: st.id.clone(),
            action: "case_member".into(),
            subject: format!("{case_id}: {} {}", m.relation, m.resident_id),
            resident_id: Some(m.resident_id),
            // Her own naming opens the record to her: her section chief sees it.
            flagged_for: (!access::manages_cases(&st.viewer))
                .then(|| access::Department::ChildWelfare.as_str().to_owned()),
            ..AccessEntry::default()
        })
        .await?;
    people(&st, case_id).await
}
