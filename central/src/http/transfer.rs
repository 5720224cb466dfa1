//! A resident's record that moves with them (`GET /v1/residents/{id}/tokutei.zip`,
//! `POST /v1/residents/{id}/imports`): every checkup exported as standard 特定健診
//! documents, and such documents imported for the resident's local number at another
//! municipality's central ([`crate::tokutei::transfer`]); central admin only, audited.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::Serialize;

use super::ApiError;
use super::extract::{Body, Path};
use super::session::{Signed, staff};
use crate::server::AppState;
use crate::tokutei::archive::ExportError;
use crate::tokutei::export::{RunError, Settings};
use crate::tokutei::transfer::{self, ImportError, RecordExport, RecordExportError, SettingsError};

/// What an import stored.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ImportAnswer {
    /// Documents in the archive.
    documents: usize,
    /// Newly stored checkups.
    new: usize,
    /// Checkups held already (imported before): not stored again.
    held: usize,
}

fn settings(s: &AppState) -> Result<Settings, ApiError> {
    let t = (*s.tokutei).clone().unwrap_or_default();
    transfer::settings(&t, None).map_err(|e: SettingsError| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "tokutei_not_configured",
            e.to_string(),
        )
    })
}

fn not_configured(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "tokutei_not_configured",
        format!("特定健診の設定（[tokutei]）を確認してください / check [tokutei]: {e}"),
    )
}

/// `GET /v1/residents/{id}/tokutei.zip`
#[utoipa::path(
    get,
    path = "/v1/residents/{id}/tokutei.zip",
    operation_id = "export_record",
    tag = "records",
    description = "The resident's every checkup as standard 特定健診 documents (MHLW 第4期 \
                   hc08, one per checkup, oldest first) in the standard archive \
                   (`ix08_V08.xml`, `DATA/`, `XSD/`), every file validated against MHLW's \
                   XSDs first; for the central of the municipality the resident moves to \
                   (central admin); audited.",
    params(("id" = String, Path, description = "Resident number")),
    responses(
        (status = 200, description = "The archive", content_type = "application/zip", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"{archive}.zip\"`"))),
        (status = 400, description = "`malformed_path`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 404, description = "`no_such_resident`, `no_checkups`", body = ErrorAnswer),
        (status = 422, description = "`export_refused`: checkups that cannot be standard documents, each listed in the message (one per line)", body = ErrorAnswer),
        (status = 503, description = "`tokutei_not_configured`, `storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn export(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    let settings = settings(&s)?;
    let dir = tempfile::tempdir().map_err(ApiError::internal)?;
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    let outcome = transfer::export_record(db.as_ref(), &settings, &id, today, dir.path()).await;
    let (path, n) = match outcome {
        Ok(RecordExport::Written(path, n)) => (path, n),
        Ok(RecordExport::Refused(failures)) => {
            db.audit(&who, "export_record_refused", &id).await?;
            let n = failures.len();
            let mut message = format!(
                "標準様式の文書にできない健診があります（{n} 件）。何も書き出していません / {n} failure(s): nothing exported"
            );
            for f in &failures {
                message.push('\n');
                message.push_str(&f.to_string());
            }
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "export_refused",
                message,
            ));
        }
        Err(e @ RecordExportError::NoResident(_)) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_resident",
                e.to_string(),
            ));
        }
        Err(e @ RecordExportError::NoCheckups(_)) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_checkups",
                e.to_string(),
            ));
        }
        Err(RecordExportError::Run(RunError::Db(e))) => return Err(e.into()),
        Err(RecordExportError::Run(RunError::Archive(
            e @ (ExportError::Spec(_) | ExportError::Xsd(_)),
        ))) => return Err(not_configured(e)),
        Err(RecordExportError::Run(e)) => return Err(ApiError::internal(e)),
    };
    let bytes = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tokutei.zip".into());
    db.audit(
        &who,
        "export_record",
        &format!("{id} ({n} checkups, {name})"),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A zip's bytes as a body in the OpenAPI document (a string of `format: binary`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct ArchiveBytes(#[allow(dead_code)] Vec<u8>);

/// `POST /v1/residents/{id}/imports` (the archive as the body)
#[utoipa::path(
    post,
    path = "/v1/residents/{id}/imports",
    operation_id = "import_record",
    tag = "records",
    description = "Import a resident's checkups written by another municipality's central \
                   (a standard 特定健診 archive, as `GET /v1/residents/{id}/tokutei.zip` \
                   gives) for the local resident `id`. Refused whole, nothing stored, when \
                   the body is not a zip or not an archive, when a file fails MHLW's XSDs, or \
                   when a document's birth date or sex is not the local register entry's. \
                   The same checkups imported again store nothing new (central admin); \
                   audited.",
    params(("id" = String, Path, description = "The local resident number")),
    request_body(content = ArchiveBytes, content_type = "application/octet-stream",
        description = "The archive's zip, as bytes (any content type is read as the zip)"),
    responses(
        (status = 200, description = "Imported", body = ImportAnswer),
        (status = 400, description = "`not_a_zip`, `not_an_archive`, `malformed_path`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 404, description = "`no_such_resident`", body = ErrorAnswer),
        (status = 409, description = "`register_unreadable`: the register entry's birth date or sex cannot be read", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 422, description = "`resident_mismatch`, `schema_invalid`, `unreadable_document`: every problem listed in the message (one per line)", body = ErrorAnswer),
        (status = 503, description = "`tokutei_not_configured`, `storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn import(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
    let settings = settings(&s)?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    match transfer::import_record(db.as_ref(), &settings, &id, &body, &who, now_ms).await {
        Ok(o) => {
            db.audit(
                &who,
                "import_record",
                &format!("{id}: {} new, {} held", o.new, o.held),
            )
            .await?;
            Ok(Json(ImportAnswer {
                documents: o.documents,
                new: o.new,
                held: o.held,
            })
            .into_response())
        }
        Err(ImportError::Db(e)) => Err(e.into()),
        Err(ImportError::Xsd(e)) => Err(not_configured(e)),
        Err(e) => {
            let code = e.code();
            db.audit(&who, "import_record_refused", &format!("{id}: {code}"))
                .await?;
            let message = e.to_string();
            match e {
                ImportError::NotZip(_) | ImportError::NotArchive(_) => {
                    Err(ApiError::new(StatusCode::BAD_REQUEST, code, message))
                }
                ImportError::NoResident(_) => {
                    Err(ApiError::new(StatusCode::NOT_FOUND, code, message))
                }
                ImportError::Refused(problems) => {
                    let n = problems.len();
                    let mut message = format!(
                        "取り込みませんでした（{n} 件の問題） / nothing imported ({n} problem(s))"
                    );
                    for p in &problems {
                        message.push('\n');
                        message.push_str(&p.to_string());
                    }
                    Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        code,
                        message,
                    ))
                }
                _ => Err(ApiError::new(StatusCode::CONFLICT, code, message)),
            }
        }
    }
}
