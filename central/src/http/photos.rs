//! A child case's photos at central (`GET /v1/notices/{case_id}/photos`, `GET
//! /v1/notices/{case_id}/photos/{photo_id}`): the injury photos caseworkers attached at the
//! boxes, forwarded with the case, shown under central's rule ([`crate::access::case_photos`]:
//! the child-welfare 係長 and above of the municipality, and the caseworkers assigned to the
//! case).
//!
//! A photo is its `case_photo_added` event as the box signed it: a plain JPEG (re-encoded by
//! the box, without EXIF) in base64 in the payload. The box seals its own store under its
//! data key, but what it forwards is the signed event in the clear inside the TLS batch, so
//! central holds the bytes as it holds the case's fields (`notice_intake_saved`), with no key
//! of its own to apply; the JPEG is read out of the event only when a photo is fetched.
//!
//! Every view is an audit entry: the listing (`list_case_photos`, the case and how many),
//! each photo (`view_case_photo`, case and photo), and each refusal (`refused_read`, the case
//! or photo and the code). A case of another municipality is not found (404), as every case
//! route answers. A photo is answered `no-store`, `nosniff`, `inline`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::central::ErrorAnswer;
use checkup_protocol::{Event, EventBody, Role};
use serde::Serialize;
use uuid::Uuid;

use super::ApiError;
use super::extract::Path;
use super::session::{Signed, staff};
use crate::access::{self, Department, Read, Refusal};
use crate::server::AppState;

/// The photos of a case.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CasePhotos {
    /// Case id.
    case_id: String,
    /// The photos, oldest first.
    photos: Vec<ListedPhoto>,
}

/// A photo of a case, as listed (the JPEG is `url`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ListedPhoto {
    /// Photo id.
    photo_id: String,
    /// When it was attached at the box (milliseconds since the epoch).
    taken_ms: i64,
    /// The caseworker who took it (her staff id at the box).
    taken_by: String,
    /// The box it was taken on.
    node: String,
    /// The JPEG's size in bytes.
    bytes: i64,
    /// Width in pixels.
    width: i64,
    /// Height in pixels.
    height: i64,
    /// Caption (「右上腕のあざ」).
    note: Option<String>,
    /// The JPEG (`GET`, audited).
    url: String,
}

/// The JPEG of a photo (the documented body of `200`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct JpegBytes(#[allow(dead_code)] Vec<u8>);

fn not_found(what: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
}

/// May the signed-in staff member see case `case_id`'s photos? The case must be of her
/// municipality (404); a refusal is audited as `refused_read` of `subject`.
async fn decide(st: &Signed, case_id: &str, subject: &str) -> Result<Read, ApiError> {
    st.db
        .notice(case_id)
        .await?
        .ok_or_else(|| not_found(format!("ケース {case_id} はありません / no case {case_id}")))?;
    let assigned =
        st.viewer.role == Role::Caseworker && st.db.case_people(case_id).await?.0.contains(&st.id);
    let refusal = match access::case_photos(&st.viewer, assigned) {
        Ok(read) => return Ok(read),
        Err(Refusal::Forbidden(m) | Refusal::PurposeRequired(m)) => m,
    };
    // Child welfare but not on the case, or not child welfare at all.
    let code = if st.viewer.department == Some(Department::ChildWelfare)
        && !matches!(st.viewer.role, Role::CentralAdmin | Role::Auditor)
    {
        "not_on_case"
    } else {
        "forbidden"
    };
    st.db
        .audit(&st.id, "refused_read", &format!("{subject}: {code}"))
        .await?;
    Err(ApiError::new(StatusCode::FORBIDDEN, code, refusal))
}

/// `GET /v1/notices/{case_id}/photos`
#[utoipa::path(
    get,
    path = "/v1/notices/{case_id}/photos",
    tag = "notices",
    description = "The photos (injuries) caseworkers attached to a case at the boxes, oldest \
                   first: id, when, by whom, size, dimensions, caption (child-welfare 係長 and \
                   above, and the caseworkers assigned to the case). Audited, refusals too.",
    params(("case_id" = String, Path, description = "Case id")),
    responses(
        (status = 200, description = "The photos", body = CasePhotos),
        (status = 400, description = "`malformed_path`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden` (not child welfare), `not_on_case` (child welfare, below 係長, not assigned)", body = ErrorAnswer),
        (status = 404, description = "`not_found` (no such case in the municipality)", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn case_photos(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    let read = decide(&st, &case_id, &format!("{case_id}/photos")).await?;
    let rows = st.db.case_photos(&case_id).await?;
    super::access::audit_read(
        &st,
        "list_case_photos",
        &format!("{case_id}: {} photos", rows.len()),
        None,
        &read,
    )
    .await?;
    let photos = rows
        .into_iter()
        .map(|p| ListedPhoto {
            url: format!("/v1/notices/{case_id}/photos/{}", p.photo_id),
            photo_id: p.photo_id,
            taken_ms: p.taken_ms,
            taken_by: p.taken_by,
            node: p.node,
            bytes: p.bytes,
            width: p.width,
            height: p.height,
            note: p.note,
        })
        .collect();
    Ok(Json(CasePhotos { case_id, photos }).into_response())
}

/// `GET /v1/notices/{case_id}/photos/{photo_id}`
#[utoipa::path(
    get,
    path = "/v1/notices/{case_id}/photos/{photo_id}",
    tag = "notices",
    description = "One photo of a case: the JPEG as the box forwarded it (child-welfare 係長 \
                   and above, and the caseworkers assigned to the case); `no-store`, \
                   `nosniff`, inline. Each fetch audited, refusals too.",
    params(
        ("case_id" = String, Path, description = "Case id"),
        ("photo_id" = String, Path, description = "Photo id (UUID)"),
    ),
    responses(
        (status = 200, description = "The JPEG", content_type = "image/jpeg", body = JpegBytes,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("X-Content-Type-Options" = String, description = "`nosniff`"),
                ("Content-Disposition" = String, description = "`inline; filename=\"{photo_id}.jpg\"`"),
            )),
        (status = 400, description = "`malformed_path`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden` (not child welfare), `not_on_case` (child welfare, below 係長, not assigned)", body = ErrorAnswer),
        (status = 404, description = "`not_found` (no such case in the municipality, or no such photo of it)", body = ErrorAnswer),
        (status = 500, description = "`internal`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn case_photo(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((case_id, photo_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    let read = decide(&st, &case_id, &format!("{case_id}/photos/{photo_id}")).await?;
    let no_photo = || not_found(format!("その写真はありません / no photo {photo_id}"));
    let photo = photo_id.parse::<Uuid>().map_err(|_| no_photo())?;
    let json = st
        .db
        .case_photo_event(&case_id, &photo.to_string())
        .await?
        .ok_or_else(no_photo)?;
    // Stored only after the batch receiver checked it: a failure here is central's own.
    let event: Event = serde_json::from_str(&json).map_err(ApiError::internal)?;
    let EventBody::CasePhotoAdded(p) = event.body else {
        return Err(ApiError::internal("a case photo's event holds no photo"));
    };
    if p.photo_id != photo || p.case_id.to_string() != case_id {
        return Err(no_photo());
    }
    let jpeg = p.jpeg_bytes().map_err(ApiError::internal)?;
    super::access::audit_read(
        &st,
        "view_case_photo",
        &format!("{case_id}/{photo}"),
        None,
        &read,
    )
    .await?;
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{photo}.jpg\""))
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        jpeg,
    )
        .into_response())
}
