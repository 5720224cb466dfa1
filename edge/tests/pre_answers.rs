//! Phone answers given before the day reach the box and become the session's answers at
//! check-in: fetched from central with the box's secret (only the roster's residents, only
//! valid answers kept), or imported from central's file; reception sees 事前回答あり in the
//! search and the check-in answer; each answer is recorded `via: phone` in its language, once.
//!
//! Central here is a stand-in answering `POST /v1/questionnaire/answers/lookup` like the real
//! one (central's own tests cover its side), plus one resident the box did not ask for and
//! one answer that is not a code of its item: the box keeps neither.

mod common;

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use checkup_protocol::central::{AnswerCode, AnswersLookup, PreAnswer, PreAnswers};
use checkup_protocol::questionnaire::{Lang, QUESTIONS};
use common::{TestBox, config};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "box-secret";

fn answers(first: &str) -> Vec<AnswerCode> {
    QUESTIONS
        .iter()
        .filter(|q| q.required)
        .enumerate()
        .map(|(i, q)| AnswerCode {
            item_code: q.code.into(),
            code: if i == 0 { first.into() } else { "2".into() },
        })
        .collect()
}

fn pre(resident: &str, lang: Lang, first: &str) -> PreAnswer {
    PreAnswer {
        resident_id: resident.into(),
        checkup: "2026".into(),
        lang,
        answered_ms: 1_790_000_000_000,
        answers: answers(first),
    }
}

/// A central holding answers of 0000000001 (en), 0000000002 (ko), 0000000003 (a bad code)
/// and R-NOT-BOOKED; it answers every lookup with the right secret with all of them.
async fn central() -> String {
    let app = Router::new().route(
        "/v1/questionnaire/answers/lookup",
        post(
            |headers: HeaderMap, Json(req): Json<AnswersLookup>| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if auth != format!("Bearer {SECRET}") {
                    return Err((
                        StatusCode::UNAUTHORIZED,
                        Json(json!({"error": "unauthenticated", "message": "no"})),
                    ));
                }
                assert_eq!(req.checkup, "2026");
                assert_eq!(
                    req.resident_ids.len(),
                    300,
                    "the whole roster is asked about"
                );
                Ok(Json(PreAnswers {
                    checkup: req.checkup,
                    answers: vec![
                        pre("0000000001", Lang::En, "1"),
                        pre("0000000002", Lang::Ko, "2"),
                        pre("0000000003", Lang::Vi, "9"),
                        pre("R-NOT-BOOKED", Lang::En, "1"),
                    ],
                }))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn box_with(central: Option<String>, secret: &str) -> TestBox {
    let dir = tempfile::tempdir().expect("dir");
    let mut c = config(dir.path());
    c.central.url = central;
    c.central.secret = Some(secret.into());
    c.central.pre_answers_every_secs = 0;
    c.central.checkup = Some("2026".into());
    TestBox::start_with(dir, c).await
}

async fn check_in(client: &common::Client, id: Uuid, resident: &str) -> (u16, Value) {
    client
        .post(
            "/api/reception/check-in",
            &json!({"id": id, "resident_id": resident}),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_answers_are_fetched_and_recorded_at_check_in() {
    let url = central().await;
    let b = box_with(Some(url.clone()), SECRET).await;
    let admin = b.client("A1", "9999").await;
    let reception = b.client("R1", "1111").await;

    // Only the venue admin fetches.
    assert_eq!(
        reception
            .post("/api/roster/pre-answers/fetch", &json!({}))
            .await
            .0,
        403
    );
    let (s, f) = admin
        .post("/api/roster/pre-answers/fetch", &json!({}))
        .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["asked"], 300);
    assert_eq!(
        f["received"], 2,
        "the bad answer and the unasked resident are dropped: {f}"
    );
    assert_eq!(f["stored"], 2);
    // Fetching again changes nothing.
    let (_, f) = admin
        .post("/api/roster/pre-answers/fetch", &json!({}))
        .await;
    assert_eq!(f["stored"], 0);

    // Reception's search flags them.
    let (s, found) = reception
        .get("/api/roster/search?q=&birth=1960-01-01")
        .await;
    assert_eq!(s, 200);
    let flag = |id: &str| {
        found["residents"]
            .as_array()
            .expect("residents")
            .iter()
            .find(|r| r["resident_id"] == id)
            .map(|r| r["pre_answered"].clone())
    };
    assert_eq!(flag("0000000001"), Some(json!(true)));
    assert_eq!(flag("0000000002"), Some(json!(true)));
    assert_eq!(flag("0000000003"), Some(json!(false)));

    // Check-in records the answers, via phone, in the resident's language.
    let id = Uuid::now_v7();
    let (s, c) = check_in(&reception, id, "0000000001").await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["pre_answered"], true);
    let n = answers("1").len();
    assert_eq!(c["pre_answers_recorded"], n);
    let session = c["session_id"].as_str().expect("session").to_owned();
    let (s, rec) = reception.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(s, 200);
    for a in answers("1") {
        let entry = &rec["session"]["results"][&a.item_code][0];
        assert_eq!(entry["value"], json!(a.code), "{}", a.item_code);
        assert_eq!(entry["answered"]["via"], "phone");
        assert_eq!(entry["answered"]["lang"], "en");
    }
    // A retried check-in records nothing twice.
    let (s, c) = check_in(&reception, id, "0000000001").await;
    assert_eq!(
        (s, &c["pre_answered"], &c["pre_answers_recorded"]),
        (200, &json!(true), &json!(0))
    );
    let (_, rec) = reception.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(
        rec["session"]["results"][&answers("1")[0].item_code]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // In Korean for the second resident; nothing for the one whose answer was refused.
    let (_, c) = check_in(&reception, Uuid::now_v7(), "0000000002").await;
    assert_eq!(c["pre_answered"], true);
    let (_, rec) = reception
        .get(&format!(
            "/api/sessions/{}",
            c["session_id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        rec["session"]["results"][&answers("1")[0].item_code][0]["answered"]["lang"],
        "ko"
    );
    let (_, c) = check_in(&reception, Uuid::now_v7(), "0000000003").await;
    assert_eq!(
        (&c["pre_answered"], &c["pre_answers_recorded"]),
        (&json!(false), &json!(0))
    );

    // Offline: central's file. A bad answer refuses the whole file; residents not on the
    // roster are left out.
    let mut bad = PreAnswers {
        checkup: "2026".into(),
        answers: vec![
            pre("0000000004", Lang::PtBr, "1"),
            pre("0000000005", Lang::Tl, "7"),
        ],
    };
    let (s, e) = admin
        .post(
            "/api/roster/pre-answers",
            &serde_json::to_value(&bad).expect("json"),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("bad_pre_answers_file"))
    );
    let (s, e) = admin
        .post_raw("/api/roster/pre-answers", b"{not json".to_vec())
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("bad_pre_answers_file"))
    );
    bad.answers[1] = pre("R-NOT-BOOKED", Lang::Tl, "1");
    let (s, f) = admin
        .post(
            "/api/roster/pre-answers",
            &serde_json::to_value(&bad).expect("json"),
        )
        .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(
        (f["received"].as_u64(), f["stored"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        reception
            .post(
                "/api/roster/pre-answers",
                &serde_json::to_value(&bad).expect("json")
            )
            .await
            .0,
        403
    );
    let (_, c) = check_in(&reception, Uuid::now_v7(), "0000000004").await;
    assert_eq!(c["pre_answered"], true);

    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_without_central_or_with_a_wrong_secret_is_refused() {
    let b = box_with(None, SECRET).await;
    let admin = b.client("A1", "9999").await;
    let (s, e) = admin
        .post("/api/roster/pre-answers/fetch", &json!({}))
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("no_central")));
    b.stop().await;

    let b = box_with(Some(central().await), "another-secret").await;
    let admin = b.client("A1", "9999").await;
    let (s, e) = admin
        .post("/api/roster/pre-answers/fetch", &json!({}))
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (502, Some("central_refused")),
        "{e}"
    );
    b.stop().await;
}
