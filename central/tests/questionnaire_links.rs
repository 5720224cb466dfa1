//! Pre-answers through one-time links, against a real central on SQLite and on this
//! machine's PostgreSQL: links are issued to the central admin only, with a QR code; a new
//! link revokes the old; the resident's page works without an account and once; bad answers
//! store nothing; a token opens nothing of the staff side; a box gets only the residents it
//! names, with its own secret.

use checkup_central::config::{BoxConfig, Config, StaffConfig, secret_digest};
use checkup_central::server::Central;
use checkup_protocol::{NodeKey, Role};
use serde_json::{Value, json};

const SECRET: &str = "box-one-secret";

struct Fixture {
    url: String,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    pg_db: Option<checkup_tests::pg::TempDatabase>,
}

async fn fixture(postgres: bool) -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let key = NodeKey::generate();
    let pg_db = if postgres {
        Some(
            checkup_tests::pg::TempDatabase::create("checkup_qlinks")
                .await
                .expect("database"),
        )
    } else {
        None
    };
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database: pg_db.as_ref().map_or("sqlite".into(), |d| d.url()),
        boxes: vec![BoxConfig {
            node: "edge-01".into(),
            venue: "midori-day1".into(),
            municipality: "midori".into(),
            public_key: key.verifying_key().to_base64(),
            secret_sha256: secret_digest(SECRET),
        }],
        staff: vec![
            StaffConfig {
                id: "C1".into(),
                name: "保健 太郎".into(),
                role: Role::CentralAdmin,
                pin_hash: checkup_provisioning::pin::hash("1234").expect("hash"),
                duty: Default::default(),
            },
            StaffConfig {
                id: "W1".into(),
                name: "相談 花子".into(),
                role: Role::Caseworker,
                pin_hash: checkup_provisioning::pin::hash("5678").expect("hash"),
                duty: Default::default(),
            },
        ],
        ..Config::default()
    };
    let central = Central::open(&config).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = central
            .serve(listener, async move {
                let _ = rx.await;
            })
            .await;
    });
    Fixture {
        url,
        http: reqwest::Client::new(),
        stop: Some(tx),
        _dir: dir,
        pg_db,
    }
}

impl Fixture {
    async fn login(&self, id: &str, pin: &str) -> String {
        let r = self
            .http
            .post(format!("{}/v1/login", self.url))
            .json(&json!({"staff_id": id, "pin": pin}))
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

    async fn send(&self, r: reqwest::RequestBuilder) -> (u16, Value) {
        let r = r.send().await.expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn invite(&self, cookie: &str, rows: Value) -> (u16, Value) {
        self.send(
            self.http
                .post(format!("{}/v1/questionnaire/invitations", self.url))
                .header("cookie", cookie)
                .json(&rows),
        )
        .await
    }

    async fn answer(&self, token: &str, body: Value) -> (u16, Value) {
        self.send(
            self.http
                .post(format!("{}/api/q/{token}/answers", self.url))
                .json(&body),
        )
        .await
    }

    async fn page(&self, token: &str, lang: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}/q/{token}?lang={lang}", self.url))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }

    async fn lookup(&self, secret: Option<&str>, body: Value) -> (u16, Value) {
        let mut r = self
            .http
            .post(format!("{}/v1/questionnaire/answers/lookup", self.url))
            .json(&body);
        if let Some(s) = secret {
            r = r.bearer_auth(s);
        }
        self.send(r).await
    }

    async fn finish(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(db) = self.pg_db.take() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            db.drop_now().await;
        }
    }
}

/// Every required item answered "no" (code 2), the smoking item "no" too.
fn complete_answers() -> Vec<Value> {
    checkup_protocol::questionnaire::QUESTIONS
        .iter()
        .filter(|q| q.required)
        .map(|q| json!({"item_code": q.code, "code": q.answers.codes()[q.answers.codes().len() - 1]}))
        .collect()
}

fn token_of(issued: &Value, i: usize) -> String {
    issued["invitations"][i]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn scenario(postgres: bool) {
    let f = fixture(postgres).await;
    let admin = f.login("C1", "1234").await;
    let worker = f.login("W1", "5678").await;

    // Only the central admin issues links; bad rows refuse the whole request.
    let rows = json!([
        {"resident_id": "R0001", "checkup": "2026"},
        {"resident_id": "R0002", "checkup": "2026"},
        {"resident_id": "R0003", "checkup": "2026"},
    ]);
    assert_eq!(f.invite(&worker, rows.clone()).await.0, 403);
    assert_eq!(f.invite("cc_session=nope", rows.clone()).await.0, 401);
    for (bad, code) in [
        (
            json!([{"resident_id": "R1", "checkup": "FY26"}]),
            "bad_checkup",
        ),
        (
            json!([{"resident_id": "", "checkup": "2026"}]),
            "bad_resident_id",
        ),
        (
            json!([{"resident_id": "R1", "checkup": "2026"}, {"resident_id": "R1", "checkup": "2026"}]),
            "duplicate_resident",
        ),
        (json!({"resident_id": "R1"}), "malformed_request"),
        (
            json!([{"resident_id": "R1", "checkup": "2026", "x": 1}]),
            "malformed_request",
        ),
    ] {
        let (s, b) = f.invite(&admin, bad.clone()).await;
        assert_eq!((s, b["error"].as_str()), (400, Some(code)), "{bad}");
    }
    let too_many: Vec<Value> = (0..10_001)
        .map(|i| json!({"resident_id": format!("R{i}"), "checkup": "2026"}))
        .collect();
    let (s, b) = f.invite(&admin, Value::Array(too_many)).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("too_many")));
    let (s, issued) = f.invite(&admin, rows).await;
    assert_eq!(s, 200, "{issued}");
    let inv = &issued["invitations"];
    assert_eq!(inv.as_array().map(Vec::len), Some(3));
    for i in 0..3 {
        let token = token_of(&issued, i);
        assert_eq!(token.len(), 64, "256-bit token");
        assert_eq!(inv[i]["path"], format!("/q/{token}"));
        assert!(
            inv[i]["url"]
                .as_str()
                .unwrap_or("")
                .ends_with(&format!("/q/{token}"))
        );
        assert!(inv[i]["qr_svg"].as_str().unwrap_or("").contains("<svg"));
    }
    let (t1, t2, t3) = (
        token_of(&issued, 0),
        token_of(&issued, 1),
        token_of(&issued, 2),
    );

    // Re-issuing for R0003 revokes its first link.
    let (s, again) = f
        .invite(&admin, json!([{"resident_id": "R0003", "checkup": "2026"}]))
        .await;
    assert_eq!(s, 200);
    let t3b = token_of(&again, 0);
    assert_ne!(t3, t3b);

    // The page: Japanese first, any of the eight languages, no staff link.
    let (s, html) = f.page(&t1, "").await;
    assert_eq!(s, 200);
    assert!(html.contains("<html lang=\"ja\""), "{}", &html[..200]);
    for tag in ["ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR", "tl"] {
        assert!(html.contains(&format!("?lang={tag}\"")), "{tag} offered");
    }
    assert_eq!(html.matches("<fieldset class=\"q\"").count(), 22);
    assert!(
        !html.contains("/v1/"),
        "the resident page names no staff route"
    );
    let (s, xx) = f.page(&t1, "xx").await;
    assert_eq!(s, 200);
    assert!(
        xx.contains("<html lang=\"ja\""),
        "an unknown language shows Japanese"
    );
    let (s, en) = f.page(&t1, "en").await;
    assert_eq!(s, 200);
    assert!(en.contains("<html lang=\"en\""));
    assert!(en.contains("Are you currently taking medicine to lower your blood pressure?"));

    // Unknown, malformed and revoked tokens: the same 404 and the same text.
    let unknown = "0".repeat(64);
    let (s1, p1) = f.page(&unknown, "en").await;
    let (s2, p2) = f.page(&t3, "en").await;
    let (s3, p3) = f.page("short", "en").await;
    assert_eq!((s1, s2, s3), (404, 404, 404));
    assert!(p1.contains("This link cannot be used."));
    assert_eq!(p1, p2, "no hint whether a token existed");
    assert_eq!(p1, p3);
    // A JSON client gets the JSON error.
    let (s, b) = f
        .send(
            f.http
                .get(format!("{}/q/{unknown}", f.url))
                .header("accept", "application/json"),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (404, Some("link_invalid")));

    // Bad submissions store nothing and leave the link open.
    let mut bad_code = complete_answers();
    bad_code[0]["code"] = json!("7");
    let mut dup = complete_answers();
    dup.push(dup[0].clone());
    for (body, code) in [
        (json!({"lang": "en", "answers": bad_code}), "unknown_answer"),
        (json!({"lang": "en", "answers": dup}), "duplicate_item"),
        (
            json!({"lang": "en", "answers": [{"item_code": "9N999000000000011", "code": "1"}]}),
            "unknown_item",
        ),
        (
            json!({"lang": "en", "answers": complete_answers()[1..]}),
            "incomplete",
        ),
        (
            json!({"lang": "xx", "answers": complete_answers()}),
            "unknown_language",
        ),
        (json!({"answers": complete_answers()}), "malformed_request"),
    ] {
        let (s, b) = f.answer(&t1, body.clone()).await;
        assert_eq!((s, b["error"].as_str()), (400, Some(code)), "{body}");
    }
    assert_eq!(f.page(&t1, "en").await.0, 200, "still open");
    let (s, b) = f
        .lookup(
            Some(SECRET),
            json!({"checkup": "2026", "resident_ids": ["R0001"]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["answers"], json!([]), "nothing stored");

    // The first complete submission is stored; the link is used up.
    let mut answers = complete_answers();
    answers.push(json!({"item_code": "9N741000000000011", "code": "1"}));
    let (s, b) = f
        .answer(&t1, json!({"lang": "en", "answers": answers}))
        .await;
    assert_eq!((s, b["stored"].as_bool()), (200, Some(true)), "{b}");
    // The same answers again (the phone lost the first response and the resident pressed
    // send again): told they are stored, nothing changes.
    let (s, b) = f
        .answer(&t1, json!({"lang": "en", "answers": answers.clone()}))
        .await;
    assert_eq!(
        (s, b["stored"].as_bool()),
        (200, Some(true)),
        "a resend: {b}"
    );
    // Other answers, or the same in another language, are refused: the link is used up.
    let (s, b) = f
        .answer(&t1, json!({"lang": "en", "answers": complete_answers()}))
        .await;
    assert_eq!((s, b["error"].as_str()), (410, Some("link_used")));
    let (s, b) = f
        .answer(&t1, json!({"lang": "ko", "answers": answers.clone()}))
        .await;
    assert_eq!((s, b["error"].as_str()), (410, Some("link_used")));
    let (s, used) = f.page(&t1, "ko").await;
    assert_eq!(s, 410);
    assert!(used.contains("data-state=\"used\""));
    assert!(!used.contains("<fieldset"));
    // Revoked and unknown links take no answers either.
    for t in [&t3, &unknown] {
        let (s, b) = f
            .answer(t, json!({"lang": "en", "answers": complete_answers()}))
            .await;
        assert_eq!((s, b["error"].as_str()), (404, Some("link_invalid")));
    }
    let (s, _) = f
        .answer(
            &t3b,
            json!({"lang": "zh-Hans", "answers": complete_answers()}),
        )
        .await;
    assert_eq!(s, 200);

    // A token is no staff credential: as a cookie, a bearer or beside the page's own
    // request, every staff route answers 401.
    for path in [
        "/v1/residents?q=R",
        "/v1/residents/R0001/record",
        "/v1/export.csv?from=2026-04-01&to=2027-03-31",
        "/v1/notices",
        "/v1/questionnaire/answers?checkup=2026",
    ] {
        for req in [
            f.http.get(format!("{}{path}", f.url)),
            f.http
                .get(format!("{}{path}", f.url))
                .header("cookie", format!("cc_session={t2}"))
                .header("referer", format!("{}/q/{t2}", f.url)),
            f.http.get(format!("{}{path}", f.url)).bearer_auth(&t2),
        ] {
            assert_eq!(f.send(req).await.0, 401, "{path}");
        }
    }
    assert_eq!(
        f.lookup(
            Some(&t2),
            json!({"checkup": "2026", "resident_ids": ["R0001"]})
        )
        .await
        .0,
        401
    );

    // A box: its own secret, only the residents it names.
    assert_eq!(
        f.lookup(None, json!({"checkup": "2026", "resident_ids": ["R0001"]}))
            .await
            .0,
        401
    );
    let (s, b) = f
        .lookup(Some(SECRET), json!({"checkup": "26", "resident_ids": []}))
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("bad_checkup")));
    let many: Vec<String> = (0..5001).map(|i| format!("R{i}")).collect();
    let (s, b) = f
        .lookup(
            Some(SECRET),
            json!({"checkup": "2026", "resident_ids": many}),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("too_many")));
    let (s, b) = f
        .lookup(
            Some(SECRET),
            json!({"checkup": "2026", "resident_ids": [], "all": true}),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("malformed_request")));
    let (s, b) = f
        .lookup(
            Some(SECRET),
            json!({"checkup": "2026", "resident_ids": ["R0002", "R0003"]}),
        )
        .await;
    assert_eq!(s, 200);
    let got = b["answers"].as_array().expect("answers");
    assert_eq!(
        got.len(),
        1,
        "R0001 was not asked for; R0002 did not answer: {b}"
    );
    assert_eq!(got[0]["resident_id"], "R0003");
    assert_eq!(got[0]["lang"], "zh-Hans");
    let (s, b) = f
        .lookup(
            Some(SECRET),
            json!({"checkup": "2026", "resident_ids": ["R0001"]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["answers"][0]["lang"], "en");
    assert_eq!(b["answers"][0]["answers"].as_array().map(Vec::len), Some(5));
    assert!(b["answers"][0].get("name").is_none());
    let (s, b) = f
        .lookup(
            Some(SECRET),
            json!({"checkup": "2027", "resident_ids": ["R0001"]}),
        )
        .await;
    assert_eq!((s, b["answers"].as_array().map(Vec::len)), (200, Some(0)));

    // The admin's file for a box offline holds every answer of the checkup.
    let (s, b) = f
        .send(
            f.http
                .get(format!("{}/v1/questionnaire/answers?checkup=2026", f.url))
                .header("cookie", &admin),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["answers"].as_array().map(Vec::len), Some(2));
    let (s, _) = f
        .send(
            f.http
                .get(format!("{}/v1/questionnaire/answers?checkup=2026", f.url))
                .header("cookie", &worker),
        )
        .await;
    assert_eq!(s, 403);

    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_pages_and_lookup_on_sqlite() {
    scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_pages_and_lookup_on_postgresql() {
    scenario(true).await;
}
