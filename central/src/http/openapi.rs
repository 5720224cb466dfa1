//! Central's OpenAPI 3.1 document, made from the handlers' `#[utoipa::path]` annotations as
//! [`super::routes`] registers them (a route cannot be served without being documented), and
//! served at `GET /openapi.json` without sign-in.
//!
//! Refusals are [`ErrorAnswer`] (`{"error": code, "message": text}`); each operation lists
//! the codes it can answer in the descriptions of its responses. Staff routes need the
//! `cc_session` cookie from `POST /v1/login`; boxes send `Authorization: Bearer <secret>`.

use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use checkup_protocol::central::ErrorAnswer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's fixed parts; the paths come from [`super::routes`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Checkup Edge central",
        description = "The municipality's central system: boxes forward signed events and \
                       forced wipes; health-department and child-welfare staff read records, \
                       export results and read the child-welfare intake queue. Every refusal \
                       is `{\"error\": code, \"message\": text}` (`ErrorAnswer`)."
    ),
    modifiers(&Schemes),
    components(schemas(ErrorAnswer)),
    tags(
        (name = "pages", description = "The staff page"),
        (name = "status", description = "Liveness"),
        (name = "boxes", description = "What enrolled boxes send"),
        (name = "staff", description = "Sign-in"),
        (name = "records", description = "The resident register, records and the export"),
        (name = "questionnaire", description = "The standard questionnaire (標準的な質問票) in the residents' languages"),
        (name = "resident", description = "A resident's own questionnaire page through a one-time link (no sign-in)"),
        (name = "notices", description = "The child-welfare intake queue"),
        (name = "tokutei", description = "MHLW 特定健診 XML archives: insurers of a period, the check, the download"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// The security schemes: staff's `cc_session` cookie, a box's bearer secret.
struct Schemes;

impl Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "cc_session",
                "Staff session from `POST /v1/login`",
            ))),
        );
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An enrolled box's forwarding secret".into());
        components.add_security_scheme("box", SecurityScheme::Http(bearer));
    }
}

/// Central's whole document, as `GET /openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    super::routes().into_openapi()
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

    /// The route table ([`super::super::routes`]) and the router built from it.
    const ROUTE_TABLE: &str = include_str!("mod.rs");
    const SERVER: &str = include_str!("../server.rs");

    #[test]
    fn every_route_of_the_router_is_in_the_document() {
        for src in [ROUTE_TABLE, SERVER] {
            let undocumented = table::undocumented(src);
            assert!(
                undocumented.is_empty(),
                "routes added without `routes!` (so without documentation): {undocumented:?}"
            );
        }
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
    fn every_refusal_is_the_shared_error() {
        let doc = serde_json::to_value(super::document()).expect("document");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                for (status, r) in op["responses"].as_object().expect("responses") {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            r["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorAnswer",
                            "{method} {path} {status}"
                        );
                        let described = r["description"].as_str().unwrap_or("");
                        assert!(
                            described.contains('`'),
                            "{method} {path} {status} names its error codes: {described:?}"
                        );
                    }
                }
            }
        }
    }
}
