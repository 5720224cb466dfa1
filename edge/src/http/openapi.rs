//! The box's OpenAPI 3.1 document, made from the handlers' `#[utoipa::path]` annotations as
//! [`super::routes`] registers them (a route cannot be served without being documented), and
//! served at `GET /openapi.json` without sign-in.
//!
//! Refusals are the shared [`ErrorBody`] schema (`{"error": code, "message": text}`); each
//! operation lists the codes it can answer in the descriptions of its responses. Staff
//! routes need the `ce_session` cookie from `POST /api/login` (or the sign-in form).

use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ErrorBody;

/// The document's fixed parts; the paths come from [`super::routes`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Checkup Edge box",
        description = "The venue box's HTTP API: staff sign-in, the day's event log, reception, \
                       stations, the progress board, the roster, child-welfare intake. Every \
                       refusal is `{\"error\": code, \"message\": text}` (`ErrorBody`). Staff \
                       routes need the `ce_session` cookie from `POST /api/login`. A browser handed to a \
                       resident (`POST /api/resident-mode`) reaches only the resident's page and \
                       calls until a staff PIN ends it: every other API answers 403 \
                       `resident_mode`, every other page redirects to `/resident`."
    ),
    modifiers(&SessionCookie),
    components(schemas(ErrorBody)),
    tags(
        (name = "pages", description = "HTML pages for the tablets (Japanese first)"),
        (name = "auth", description = "Sign-in and sign-out"),
        (name = "events", description = "The event log"),
        (name = "status", description = "Liveness, venue progress, replication, forwarding"),
        (name = "board", description = "The progress board"),
        (name = "reception", description = "Card readers, check-in, station taps, demo taps"),
        (name = "roster", description = "The day's roster and earlier results"),
        (name = "questionnaire", description = "The standard questionnaire (標準的な質問票) in the residents' languages"),
        (name = "intake", description = "Child-welfare intake: scanned police notices and cases"),
        (name = "training", description = "The venue admin's switch that starts a rehearsal (練習モード) beside a real box"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// The `session` security scheme: the `ce_session` cookie.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::COOKIE,
                "Staff session from `POST /api/login` or the sign-in form",
            ))),
        );
    }
}

/// The box's whole document, as `GET /openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    super::routes(0).into_openapi()
}

/// The served document, rendered once.
#[derive(Clone)]
pub struct Document(Arc<String>);

impl Document {
    /// Render `doc` as JSON.
    pub fn new(doc: &utoipa::openapi::OpenApi) -> Document {
        Document(Arc::new(doc.to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "OpenAPI document not rendered");
            String::from("{}")
        })))
    }
}

/// `GET /openapi.json`
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "meta",
    description = "This document: OpenAPI 3.1, made from the handlers. No sign-in needed.",
    responses(
        (status = 200, description = "The OpenAPI document", body = serde_json::Value),
    ),
    security(()),
)]
pub(crate) async fn document_json(Extension(doc): Extension<Document>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.as_ref().clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use checkup_tests::openapi as table;

    const ROUTE_TABLE: &str = include_str!("mod.rs");

    #[test]
    fn every_route_of_the_router_is_in_the_document() {
        let undocumented = table::undocumented(ROUTE_TABLE);
        assert!(
            undocumented.is_empty(),
            "routes added without `routes!` (so without documentation): {undocumented:?}"
        );
        let handlers = table::handlers(ROUTE_TABLE);
        let doc = serde_json::to_value(super::document()).expect("document");
        let operations = table::operations(&doc);
        assert_eq!(
            handlers.len(),
            operations.len(),
            "each handler in the route table is one documented operation:\n{handlers:?}\n{operations:?}"
        );
        let ids: BTreeSet<&str> = operations.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(
            ids.len(),
            operations.len(),
            "operation ids are unique: {operations:?}"
        );
    }

    #[test]
    fn every_operation_describes_its_refusals_as_the_shared_error() {
        let doc = serde_json::to_value(super::document()).expect("document");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                let responses = op["responses"].as_object().expect("responses");
                assert!(!responses.is_empty(), "{method} {path}");
                for (status, r) in responses {
                    let json = &r["content"]["application/json"]["schema"]["$ref"];
                    if status.starts_with('4') || status.starts_with('5') {
                        let html = r["content"].get("text/html").is_some();
                        assert!(
                            html || json == "#/components/schemas/ErrorBody",
                            "{method} {path} {status}: {r}"
                        );
                        let described = r["description"].as_str().unwrap_or("");
                        assert!(
                            html || described.contains('`'),
                            "{method} {path} {status} names its error codes: {described:?}"
                        );
                    }
                }
            }
        }
    }
}
