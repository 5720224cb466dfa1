//! The box's reading of central's answers ([`checkup_protocol::central`]): a 200 whose body
//! is not the expected answer is a failure — for the forwarder, shown on the status and
//! retried, never "central holds nothing"; for a forced wipe, "not recorded", so nothing is
//! wiped.
//!
//! Central here is a stand-in that answers with a fixed body: the real central cannot be
//! made to send a wrong answer (its answer is the same type the box reads).

mod common;

use axum::Router;
use axum::routing::post;
use common::{TestBox, open_session};
use serde_json::Value;
use uuid::Uuid;

/// A central answering every request on `route` `200 OK` with `body`; its URL.
async fn central_answering(
    route: &str,
    body: &'static str,
) -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new().route(
        route,
        post(move || async move { ([("content-type", "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// The forwarding status once the first attempt has an outcome (a success or an error).
async fn first_outcome(admin: &common::Client) -> Value {
    // A guard against a hang, not a measurement: the first batch goes within batch_age_ms.
    for _ in 0..600 {
        let (s, v) = admin.get("/api/forward/status").await;
        assert_eq!(s, 200, "{v}");
        if !v["last_success"].is_null() || !v["last_error"].is_null() {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the forwarder never tried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_refuses_an_ack_without_acked() {
    let (url, central) = central_answering("/v1/batches", r#"{"new": 1, "duplicate": 0}"#).await;
    let dir = tempfile::tempdir().expect("dir");
    let mut config = common::config(dir.path());
    config.central.url = Some(url);
    config.central.secret = Some("box-secret".into());
    config.central.batch_events = 1;
    config.central.batch_age_ms = 10;
    let b = TestBox::start_with(dir, config).await;
    let reception = b.client("R1", "1111").await;
    let (s, v) = reception
        .post("/api/events", &open_session(Uuid::now_v7(), "0000000042"))
        .await;
    assert_eq!(s, 201, "{v}");

    let admin = b.client("A1", "9999").await;
    let status = first_outcome(&admin).await;
    assert!(
        status["last_success"].is_null(),
        "an answer without `acked` is no acknowledgement: {status}"
    );
    let error = status["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("acked"), "{status}");
    assert_eq!(status["queue_depth"], 1, "still to forward: {status}");
    assert_eq!(status["acked"], serde_json::json!({}), "{status}");
    central.abort();
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_wipe_is_not_recorded_without_central_saying_so() {
    let (url, central) = central_answering("/v1/wipes", "{}").await;
    let dir = tempfile::tempdir().expect("dir");
    let mut config = common::config(dir.path());
    config.central.url = Some(url);
    config.central.secret = Some("box-secret".into());
    let lost = std::collections::BTreeMap::from([("edge-01".to_string(), 3)]);
    let r = checkup_edge::wipe::record_forced(&config, "disk failed", &lost).await;
    assert!(
        matches!(&r, Err(checkup_edge::wipe::WipeError::NotRecorded(m)) if m.contains("recorded")),
        "{r:?}"
    );
    central.abort();
}
