//! Central's OpenAPI document against central itself (on the real PostgreSQL of this
//! machine): it is served without sign-in, every operation it names is one the router
//! serves, and every refusal axum itself would make — an unknown route, a wrong method, a
//! query that does not deserialise, a body that is not JSON — is the documented JSON
//! error. A NUL character in a URL or a register row is the caller's mistake (400, a row
//! error), not a storage failure (503). (That every route the router serves is in the
//! document is `http::openapi`'s unit test; schemathesis drives the whole document in
//! `tests/tests/schemathesis.rs`.)

use checkup_central::config::{BoxConfig, Config, StaffConfig, secret_digest};
use checkup_central::http::openapi;
use checkup_central::server::Central;
use checkup_protocol::{NodeKey, Role};
use serde_json::{Value, json};

const SECRET: &str = "openapi-test-secret";

struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    db: checkup_tests::pg::TempDatabase,
    _dir: tempfile::TempDir,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().expect("dir");
    let db = checkup_tests::pg::TempDatabase::create("checkup_openapi")
        .await
        .expect("PostgreSQL");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database: db.url(),
        boxes: vec![BoxConfig {
            node: "edge-01".into(),
            venue: "venue-1".into(),
            municipality: "midori".into(),
            public_key: NodeKey::generate().verifying_key().to_base64(),
            secret_sha256: secret_digest(SECRET),
        }],
        staff: vec![StaffConfig {
            id: "C1".into(),
            name: "管理".into(),
            role: Role::CentralAdmin,
            pin_hash: checkup_provisioning::pin::hash("1234").expect("hash"),
            duty: Default::default(),
        }],
        ..Config::default()
    };
    let central = Central::open(&config).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(central.serve(listener, async move {
        let _ = rx.await;
    }));
    Running {
        url,
        stop: Some(stop),
        task,
        db,
        _dir: dir,
    }
}

impl Running {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = self.task.await;
        self.db.drop_now().await;
    }

    /// The admin's session cookie.
    async fn admin(&self) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/login", self.url))
            .json(&json!({"staff_id": "C1", "pin": "1234"}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200);
        r.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("cookie")
            .to_owned()
    }
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
async fn the_document_is_served_and_names_only_routes_central_serves() {
    let c = start().await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/openapi.json", c.url))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200, "served without sign-in");
    let served: Value = r.json().await.expect("JSON");
    let expected = serde_json::to_value(openapi::document()).expect("document");
    assert_eq!(served, expected);
    assert!(
        served["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        served["openapi"]
    );
    let cookie = c.admin().await;
    let mut operations = 0;
    for (path, item) in served["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("item") {
            operations += 1;
            let url = format!(
                "{}{}",
                c.url,
                path.replace("{id}", "0000000001")
                    .replace("{case_id}", "x")
                    .replace("{photo_id}", "x")
            );
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = http
                .request(method.clone(), &url)
                .header("cookie", &cookie)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
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
    assert_eq!(operations, 33, "every route of central");
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_refusals_and_nul_characters_are_the_json_error() {
    let c = start().await;
    let http = reqwest::Client::new();
    let cookie = c.admin().await;
    let get = |path: &str| {
        http.get(format!("{}{path}", c.url))
            .header("cookie", &cookie)
            .send()
    };

    let r = get("/v1/nothing-here").await.expect("get");
    assert_eq!(refusal(r).await, (404, "no_such_route".into()));
    let r = http
        .delete(format!("{}/v1/residents", c.url))
        .send()
        .await
        .expect("delete");
    assert_eq!(refusal(r).await, (405, "method_not_allowed".into()));

    // The export without its period.
    let r = get("/v1/export.csv?from=2026-01-01").await.expect("get");
    assert_eq!(refusal(r).await, (400, "malformed_query".into()));

    // A forced wipe that is not JSON, or not a wipe.
    let wipe = |body: &'static str, content_type: &'static str| {
        http.post(format!("{}/v1/wipes", c.url))
            .bearer_auth(SECRET)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let r = wipe("\0", "application/json").await.expect("post");
    assert_eq!(refusal(r).await, (400, "malformed_request".into()));
    let r = wipe("{\"reason\": \"disk died\"}", "text/plain")
        .await
        .expect("post");
    assert_eq!(refusal(r).await, (400, "malformed_request".into()));

    // A body over the limit.
    let r = http
        .post(format!("{}/v1/residents", c.url))
        .header("cookie", &cookie)
        .body(vec![b'a'; 3 * 1024 * 1024])
        .send()
        .await
        .expect("post");
    // The unread rest of the body ends the connection, so the pooled client
    // below opens a new one rather than writing into a closing socket.
    assert_eq!(
        r.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..]),
        "413 says the connection closes"
    );
    assert_eq!(refusal(r).await, (413, "body_too_large".into()));

    // NUL in a query or a path: the caller's mistake, not a storage failure.
    let r = get("/v1/residents?q=%00").await.expect("get");
    assert_eq!(refusal(r).await, (400, "malformed_query".into()));
    let r = get("/v1/residents/a%00b/record").await.expect("get");
    assert_eq!(refusal(r).await, (400, "malformed_path".into()));

    // NUL in a register row: that row refused, the others imported.
    let csv = "resident_id,name,name_kana,birth_date,sex,address\n\
               0000000001,試験\0一郎,シケン,1960-01-01,male,みどり市\n\
               0000000002,試験　花子,シケン,1962-02-02,female,みどり市\n";
    let r = http
        .post(format!("{}/v1/residents", c.url))
        .header("cookie", &cookie)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(v["imported"], 1, "{v}");
    assert_eq!(v["errors"][0]["line"], 2, "{v}");

    // 郵便番号 (the optional column, under its Japanese header): written as NNN-NNNN; a
    // row whose code is not 7 digits is refused and named, the others imported.
    let csv = "resident_id,name,name_kana,birth_date,sex,address,郵便番号\n\
               0000000003,試験　三郎,シケン,1961-03-03,male,みどり市,〒１２３－４５６７\n\
               0000000004,試験　四郎,シケン,1961-04-04,male,みどり市,123-456\n";
    let r = http
        .post(format!("{}/v1/residents", c.url))
        .header("cookie", &cookie)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(v["imported"], 1, "{v}");
    assert_eq!(v["errors"][0]["line"], 3, "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("郵便番号")),
        "{v}"
    );
    let r = http
        .get(format!("{}/v1/residents?q=0000000003", c.url))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    let v: Value = r.json().await.expect("JSON");
    assert_eq!(v["residents"][0]["postal_code"], "123-4567", "{v}");
    c.stop().await;
}

/// Central serves the same questionnaire as the boxes, without sign-in, in every language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_questionnaire_is_served_without_sign_in() {
    let c = start().await;
    let http = reqwest::Client::new();
    for tag in ["ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR", "tl"] {
        let r = http
            .get(format!("{}/api/questionnaire?lang={tag}", c.url))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "{tag}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["items"].as_array().map(Vec::len), Some(22), "{tag}");
        assert_eq!(v["languages"].as_array().map(Vec::len), Some(8));
    }
    let r = http
        .get(format!("{}/api/questionnaire?lang=xx", c.url))
        .send()
        .await
        .expect("get");
    assert_eq!(refusal(r).await, (400, "unknown_language".into()));
    c.stop().await;
}
