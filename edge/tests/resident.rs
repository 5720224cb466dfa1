//! A resident's own questionnaire answers handed on by staff
//! (`POST /api/questionnaire/sessions/{id}/answers`), and resident mode: a staff tablet
//! handed to the resident reaches nothing but the resident's page and calls (every other
//! route of the OpenAPI document refused), records for the locked session only, and comes
//! back with a staff PIN checked as at sign-in.

mod common;

use checkup_protocol::{Role, StationKind};
use common::{Client, TestBox, staff};
use serde_json::{Value, json};
use uuid::Uuid;

const Q1: &str = "9N701000000000011"; // 血圧を下げる薬
const Q2: &str = "9N706000000000011"; // 血糖
const Q3: &str = "9N711000000000011"; // 脂質
const Q4: &str = "9N716000000000011"; // 脳卒中

async fn check_in(reception: &Client, resident: &str) -> Uuid {
    let (st, v) = reception
        .post(
            "/api/reception/check-in",
            &json!({"id": Uuid::now_v7(), "resident_id": resident}),
        )
        .await;
    assert_eq!(st, 201, "check-in {resident}: {v}");
    serde_json::from_value(v["session_id"].clone()).expect("session id")
}

async fn record(c: &Client, session: Uuid) -> Value {
    let (st, v) = c.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(st, 200, "{v}");
    v
}

fn answers_path(session: Uuid) -> String {
    format!("/api/questionnaire/sessions/{session}/answers")
}

fn answer(item: &str, code: &str) -> Value {
    json!({"item_code": item, "code": code})
}

/// A box whose staff include a station technician bound to 問診.
async fn start() -> TestBox {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path());
    config.staff.push(staff(
        "Q1",
        "7777",
        Role::Station,
        &[StationKind::Questionnaire],
    ));
    TestBox::start_with(dir, config).await
}

#[tokio::test]
async fn staff_hand_on_answers_recorded_once_corrected_on_change_refused_whole() {
    let b = start().await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;
    let session = check_in(&reception, "0000000001").await;
    let path = answers_path(session);

    let body = |lang: &str, answers: Vec<Value>| json!({"via": "tablet", "lang": lang, "answers": answers});
    let (st, v) = nurse
        .post(&path, &body("vi", vec![answer(Q1, "1"), answer(Q2, "2")]))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["recorded"].as_u64(), v["corrected"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(v["events"].as_array().map(Vec::len), Some(2));

    // The same again (a retry) changes nothing.
    let (st, v) = nurse
        .post(&path, &body("vi", vec![answer(Q1, "1"), answer(Q2, "2")]))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["unchanged"], 2, "{v}");
    assert_eq!(v["events"], json!([]), "{v}");

    // A changed answer is a correction naming the channel; reception may hand it on too.
    let (st, v) = reception
        .post(
            &path,
            &body("pt-BR", vec![answer(Q1, "2"), answer(Q2, "2")]),
        )
        .await;
    assert_eq!(st, 200, "reception hands on answers: {v}");
    assert_eq!(
        (v["corrected"].as_u64(), v["unchanged"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let r = record(&nurse, session).await;
    let q1 = r["session"]["results"][Q1].as_array().expect("Q1 results");
    assert_eq!(q1.len(), 2);
    assert_eq!(q1[0]["answered"], json!({"via": "tablet", "lang": "vi"}));
    assert_eq!(q1[1]["answered"], json!({"via": "tablet", "lang": "pt-BR"}));
    assert!(
        q1[1]["reason"]
            .as_str()
            .is_some_and(|s| s.contains("会場タブレット")),
        "{}",
        q1[1]
    );
    assert_eq!(r["current"][Q1]["value"], "2");

    // One bad code refuses the whole submission: nothing of it is stored.
    for (bad, code) in [
        (vec![answer(Q3, "1"), answer(Q4, "7")], "invalid_payload"),
        (
            vec![answer(Q3, "1"), answer("9N999000000000011", "1")],
            "invalid_payload",
        ),
        (vec![answer(Q3, "1"), answer(Q3, "2")], "invalid_payload"),
    ] {
        let (st, v) = nurse.post(&path, &body("ja", bad)).await;
        assert_eq!((st, v["error"].as_str()), (422, Some(code)), "{v}");
    }
    let r = record(&nurse, session).await;
    assert!(
        r["current"].get(Q3).is_none(),
        "nothing stored: {}",
        r["current"]
    );

    // Language, channel and body refusals.
    let (st, v) = nurse.post(&path, &body("xx", vec![answer(Q3, "1")])).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unknown_language")),
        "{v}"
    );
    let (st, v) = nurse.post(&path, &body("", vec![answer(Q3, "1")])).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unknown_language")),
        "{v}"
    );
    for via in ["interview", "phone"] {
        let (st, v) = nurse
            .post(
                &path,
                &json!({"via": via, "lang": "ja", "answers": [answer(Q3, "1")]}),
            )
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (422, Some("invalid_payload")),
            "{via}: {v}"
        );
    }
    let (st, v) = nurse
        .post(&path, &json!({"via": "fax", "lang": "ja", "answers": []}))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("malformed_request")),
        "{v}"
    );
    let r = record(&nurse, session).await;
    assert!(
        r["current"].get(Q3).is_none(),
        "nothing stored: {}",
        r["current"]
    );

    // Roles: the child-welfare clerk and a technician of another station are refused.
    for (id, pin) in [("C1", "5555"), ("S1", "2222")] {
        let c = b.client(id, pin).await;
        let (st, v) = c.post(&path, &body("ja", vec![answer(Q3, "1")])).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("forbidden_role")),
            "{id}: {v}"
        );
    }
    let q = b.client("Q1", "7777").await;
    let (st, v) = q.post(&path, &body("ko", vec![answer(Q3, "1")])).await;
    assert_eq!(st, 200, "the 問診 technician hands on answers: {v}");

    // A closed or unknown session.
    let (st, v) = reception
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "session_closed",
                "payload": {"session_id": session}}}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = nurse.post(&path, &body("ja", vec![answer(Q4, "1")])).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("session_not_open")),
        "{v}"
    );
    let (st, v) = nurse
        .post(
            &answers_path(Uuid::now_v7()),
            &body("ja", vec![answer(Q4, "1")]),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("session_not_open")),
        "{v}"
    );
    b.stop().await;
}

/// A request with `cookie`, redirects not followed: (status, Location, JSON body).
async fn call(b: &TestBox, cookie: &str, method: &str, path: &str) -> (u16, String, Value) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let r = http
        .request(m, b.url(path))
        .header("cookie", cookie)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, location, v)
}

/// Every (method, path) of the box's OpenAPI document, path parameters filled in.
async fn documented(b: &TestBox) -> Vec<(String, String)> {
    let doc: Value = reqwest::get(b.url("/openapi.json"))
        .await
        .expect("document")
        .json()
        .await
        .expect("json");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let filled = path
            .replace("{kind}", "questionnaire")
            .replace("{session_id}", &Uuid::now_v7().to_string())
            .replace("{id}", &Uuid::now_v7().to_string())
            .replace("{resident_id}", "0000000001")
            .replace("{", "")
            .replace("}", "");
        for method in item.as_object().expect("item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.to_uppercase(), filled.clone()));
            }
        }
    }
    assert!(out.len() > 30, "the document lists the routes: {out:?}");
    out
}

#[tokio::test]
async fn a_handed_over_tablet_reaches_only_the_residents_page_and_a_staff_pin_takes_it_back() {
    let b = start().await;
    let reception = b.client("R1", "1111").await;
    let nurse = b.client("N1", "3333").await;
    let session = check_in(&reception, "0000000002").await;
    // An answer given before (as if on the phone, here handed on as paper) is shown chosen.
    let (st, v) = nurse
        .post(
            &answers_path(session),
            &json!({"via": "paper", "lang": "ja", "answers": [answer(Q1, "2")]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");

    // Who may hand a tablet over, and for which sessions.
    for (id, pin) in [("C1", "5555"), ("S1", "2222")] {
        let c = b.client(id, pin).await;
        let (st, v) = c
            .post("/api/resident-mode", &json!({"session_id": session}))
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("forbidden_role")),
            "{id}: {v}"
        );
    }
    let (st, v) = reception
        .post("/api/resident-mode", &json!({"session_id": Uuid::now_v7()}))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("session_not_open")),
        "{v}"
    );
    let (st, v) = reception.post("/api/resident-mode", &json!({})).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("malformed_request")),
        "{v}"
    );
    let (st, v) = reception.get("/api/resident-mode").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("not_in_resident_mode")),
        "{v}"
    );

    let tablet = b.client("R1", "1111").await;
    let (st, v) = tablet
        .post("/api/resident-mode", &json!({"session_id": session}))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["page"], "/resident");
    let short = v["short_id"].as_str().expect("short id").to_owned();

    // Every route of the document but the resident's own is refused to the locked cookie:
    // pages are sent to /resident, everything else answers 403 resident_mode.
    let reachable = checkup_edge::http::resident::REACHABLE;
    let mut checked = 0;
    for (method, path) in documented(&b).await {
        if reachable.iter().any(|(m, p)| *m == method && *p == path) {
            continue;
        }
        let (st, location, v) = call(&b, &tablet.cookie, &method, &path).await;
        let page = method == "GET"
            && !path.starts_with("/api/")
            && !["/openapi.json", "/healthz", "/favicon.svg"].contains(&path.as_str())
            && !path.starts_with("/assets/");
        if page || path == "/login" || path == "/logout" {
            assert_eq!(
                (st, location.as_str()),
                (303, "/resident"),
                "{method} {path}"
            );
        } else {
            assert_eq!(
                (st, v["error"].as_str()),
                (403, Some("resident_mode")),
                "{method} {path}: {v}"
            );
        }
        checked += 1;
    }
    assert!(checked > 30);
    for (method, path, want) in [
        ("GET", "/api/events", 403),
        ("GET", "/api/board", 403),
        ("POST", "/api/logout", 403),
        ("POST", "/api/resident-mode", 403),
        ("GET", "/api/no-such-route", 403),
        ("GET", "/reception", 303),
        ("GET", "/station/questionnaire", 303),
        ("GET", "/intake", 303),
        ("GET", "/", 303),
        ("GET", "/no-such-page", 303),
    ] {
        let (st, _, v) = call(&b, &tablet.cookie, method, path).await;
        assert_eq!(st, want, "{method} {path}: {v}");
    }
    // Nor does the staff answers route take a session from the locked cookie.
    let (st, v) = tablet
        .post(
            &answers_path(session),
            &json!({"via": "tablet", "lang": "ja", "answers": [answer(Q3, "1")]}),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (403, Some("resident_mode")),
        "{v}"
    );

    // What the resident's page may use.
    let (st, v) = tablet.get("/api/resident-mode").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["short_id"], short.as_str());
    assert_eq!(v["answers"], json!([{"item_code": Q1, "code": "2"}]));
    let (st, v) = tablet.get("/api/questionnaire?lang=vi").await;
    assert_eq!((st, v["lang"].as_str()), (200, Some("vi")));
    let page = tablet
        .http
        .get(b.url("/resident?lang=vi"))
        .header("cookie", &tablet.cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("<html lang=\"vi\" dir=\"ltr\">"), "{html}");
    assert!(html.contains(&format!("No. {short}")));
    assert!(
        !html.contains("試験") && !html.contains("0000000002"),
        "nothing personal"
    );
    assert!(!html.contains("nav class=\"pages\""), "no staff navigation");
    assert!(
        html.contains(&format!("name=\"{Q1}\" value=\"2\" checked")),
        "the held answer is chosen"
    );
    let chooser = call(&b, &tablet.cookie, "GET", "/resident").await;
    assert_eq!(chooser.0, 200);

    // The resident's submit: the locked session, via tablet; no session id is taken.
    let (st, v) = tablet
        .post(
            "/api/resident-mode/answers",
            &json!({"lang": "pt-BR", "answers": [answer(Q1, "1"), answer(Q2, "2")],
                    "session_id": Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("malformed_request")),
        "{v}"
    );
    let (st, v) = tablet
        .post(
            "/api/resident-mode/answers",
            &json!({"lang": "klingon", "answers": []}),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unknown_language")),
        "{v}"
    );
    let (st, v) = tablet
        .post(
            "/api/resident-mode/answers",
            &json!({"lang": "pt-BR", "answers": [answer(Q1, "1"), answer(Q2, "5")]}),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("invalid_payload")),
        "{v}"
    );
    let (st, v) = tablet
        .post(
            "/api/resident-mode/answers",
            &json!({"lang": "pt-BR", "answers": [answer(Q1, "1"), answer(Q2, "2")]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["recorded"].as_u64(), v["corrected"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let r = record(&nurse, session).await;
    for q in [Q1, Q2] {
        let last = r["session"]["results"][q]
            .as_array()
            .and_then(|a| a.last())
            .cloned()
            .expect("answered");
        assert_eq!(
            last["answered"],
            json!({"via": "tablet", "lang": "pt-BR"}),
            "{q}"
        );
        assert_eq!(
            last["staff_id"], "R1",
            "recorded under the staff who handed it over"
        );
    }

    // Taking it back: a wrong PIN is refused and counted, a non-checkup role cannot, five
    // wrong PINs lock the id (even its right PIN), another staff member's right PIN unlocks.
    let exit = |id: &str, pin: &str| json!({"staff_id": id, "pin": pin});
    let (st, v) = tablet
        .post("/api/resident-mode/exit", &exit("N1", "0000"))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (401, Some("wrong_credentials")),
        "{v}"
    );
    let (st, v) = tablet
        .post("/api/resident-mode/exit", &exit("C1", "5555"))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (403, Some("forbidden_role")),
        "{v}"
    );
    let (st, v) = tablet
        .post("/api/resident-mode/exit", &json!({"pin": "1"}))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("malformed_request")),
        "{v}"
    );
    for _ in 0..4 {
        let (st, _) = tablet
            .post("/api/resident-mode/exit", &exit("N1", "0001"))
            .await;
        assert_eq!(st, 401);
    }
    let (st, v) = tablet
        .post("/api/resident-mode/exit", &exit("N1", "3333"))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (429, Some("locked")),
        "counted as at sign-in: {v}"
    );
    let (st, _, _) = call(&b, &tablet.cookie, "GET", "/api/board").await;
    assert_eq!(st, 403, "still locked");

    let r = tablet
        .http
        .post(b.url("/api/resident-mode/exit"))
        .header("cookie", &tablet.cookie)
        .json(&exit("A1", "9999"))
        .send()
        .await
        .expect("exit");
    assert_eq!(r.status(), 200);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ce_session="))
        .and_then(|v| v.split(';').next())
        .expect("a new session")
        .to_owned();
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        (v["staff_id"].as_str(), v["home"].as_str()),
        (Some("A1"), Some("/"))
    );
    // The locked session is gone; the new one is the venue admin's.
    let (st, _, _) = call(&b, &tablet.cookie, "GET", "/api/board").await;
    assert_eq!(st, 401, "the handed-over session ended");
    let (st, _, v) = call(&b, &cookie, "GET", "/api/board").await;
    assert_eq!(st, 200, "{v}");
    let (st, _, v) = call(&b, &cookie, "POST", "/api/resident-mode/exit").await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("not_in_resident_mode")),
        "{v}"
    );
    let (st, location, _) = call(&b, &cookie, "GET", "/resident").await;
    assert_eq!((st, location.as_str()), (303, "/"));
    b.stop().await;
}

#[tokio::test]
async fn the_questionnaire_technician_and_doctor_may_hand_over() {
    let b = start().await;
    let reception = b.client("R1", "1111").await;
    for (id, pin, resident) in [
        ("Q1", "7777", "0000000003"),
        ("D1", "4444", "0000000004"),
        ("A1", "9999", "0000000005"),
    ] {
        let session = check_in(&reception, resident).await;
        let c = b.client(id, pin).await;
        let (st, v) = c
            .post("/api/resident-mode", &json!({"session_id": session}))
            .await;
        assert_eq!(st, 200, "{id}: {v}");
        let (st, _, _) = call(&b, &c.cookie, "GET", "/api/venue").await;
        assert_eq!(st, 403, "{id} locked");
    }
    b.stop().await;
}
