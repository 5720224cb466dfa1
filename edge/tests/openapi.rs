//! The box's OpenAPI document against the box itself: it is served without sign-in, every
//! operation it names is one the router serves (path and method), and every refusal axum
//! itself would make — an unknown route, a wrong method, a malformed query or path, a body
//! too large or of the wrong type — is the documented JSON error, not axum's plain text.
//! (That every route the router serves is in the document is `http::openapi`'s unit test;
//! schemathesis drives the whole document in `tests/tests/schemathesis.rs`.)

mod common;

use checkup_edge::http::openapi;
use common::TestBox;
use serde_json::Value;

/// A client that does not follow redirects (pages answer 303 to `/login`).
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `status` and the JSON error code of an answer, after checking it is the JSON error.
async fn refusal(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.text().await.expect("body");
    assert!(
        ct.starts_with("application/json"),
        "{status}: a refusal must be JSON, got {ct:?}: {text}"
    );
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert!(v["message"].is_string(), "{v}");
    (status, v["error"].as_str().unwrap_or("").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_served_and_names_only_routes_the_box_serves() {
    let b = TestBox::start().await;
    let r = http()
        .get(b.url("/openapi.json"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200, "served without sign-in");
    let served: Value = r.json().await.expect("JSON");
    let expected = serde_json::to_value(openapi::document()).expect("document");
    assert_eq!(
        served, expected,
        "the served document is the handlers' document"
    );
    assert!(
        served["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        served["openapi"]
    );

    let admin = b.client("A1", "9999").await;
    let mut operations = 0;
    for (path, item) in served["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            operations += 1;
            // Fill path parameters with something of the right shape.
            let url = b.url(
                &path
                    .replace("{id}", "0000000001")
                    .replace("{kind}", "measurement")
                    .replace("{field}", "child_name")
                    .replace("{case_id}", "x"),
            );
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            if path == "/api/logout" || path == "/logout" {
                continue; // would end the admin's session; served as tested elsewhere
            }
            let r = http()
                .request(method.clone(), &url)
                .header("cookie", &admin.cookie)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
            let json = r
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            // An event stream never ends: its headers are the answer.
            if json {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                assert!(
                    !matches!(
                        v["error"].as_str(),
                        Some("no_such_route" | "method_not_allowed")
                    ),
                    "{method} {path}: documented but not served: {status} {v}"
                );
            }
        }
    }
    assert!(operations >= 40, "{operations} operations");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_refusals_are_the_json_error() {
    let b = TestBox::start().await;
    let admin = b.client("A1", "9999").await;
    let c = http();
    let get = |path: &str| c.get(b.url(path)).header("cookie", &admin.cookie).send();

    // Unknown route and method.
    let r = get("/api/nothing-here").await.expect("get");
    assert_eq!(refusal(r).await, (404, "no_such_route".into()));
    let r = c
        .delete(b.url("/api/events"))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .expect("delete");
    assert_eq!(refusal(r).await, (405, "method_not_allowed".into()));

    // A query that does not deserialise, and a path segment that is not a UUID.
    let r = get("/api/events?limit=many").await.expect("get");
    assert_eq!(refusal(r).await, (400, "malformed_query".into()));
    let r = get("/api/sessions/not-a-uuid").await.expect("get");
    assert_eq!(refusal(r).await, (400, "malformed_path".into()));
    let r = get("/?lang=ja&lang=en").await.expect("get");
    assert_eq!(refusal(r).await, (400, "malformed_query".into()));

    // The sign-in form: not a form, and a form without its fields.
    let r = c
        .post(b.url("/login"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(refusal(r).await, (415, "unsupported_media_type".into()));
    let r = c
        .post(b.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("staff_id=A1")
        .send()
        .await
        .expect("post");
    assert_eq!(refusal(r).await, (422, "malformed_request".into()));

    // A body over the general limit, on a route without a limit of its own.
    let r = c
        .post(b.url("/api/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..]),
        "413 says the connection closes"
    );
    assert_eq!(refusal(r).await, (413, "body_too_large".into()));
    b.stop().await;
}
