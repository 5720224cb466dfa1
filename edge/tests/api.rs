//! The JSON API seen from a tablet: sign-in, role checks, and every kind of bad input.

mod common;

use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, Role, SessionClosed};
use common::{TestBox, height, open_session};
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn no_login_is_refused_everywhere_but_healthz() {
    let b = TestBox::start().await;
    let http = reqwest::Client::new();
    let r = http.get(b.url("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "ok");
    for (method, path) in [
        ("GET", "/api/venue"),
        ("GET", "/api/events"),
        ("POST", "/api/events"),
        ("POST", "/api/replicate"),
    ] {
        let req = if method == "GET" {
            http.get(b.url(path))
        } else {
            http.post(b.url(path)).body("{}")
        };
        let r = req.send().await.expect("request");
        assert_eq!(r.status(), 401, "{method} {path}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"], "not_signed_in");
    }
    // A forged cookie is no better.
    let r = http
        .get(b.url("/api/venue"))
        .header("cookie", "ce_session=00ff")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
    // The page redirects to sign-in.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(b.url("/"))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/login")
    );
    b.stop().await;
}

#[tokio::test]
async fn wrong_pin_is_refused_without_saying_which_part_was_wrong() {
    let b = TestBox::start().await;
    let http = reqwest::Client::new();
    for (id, pin) in [("R1", "0000"), ("nobody", "1111")] {
        let r = http
            .post(b.url("/api/login"))
            .json(&json!({"staff_id": id, "pin": pin}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 401);
        assert!(r.headers().get("set-cookie").is_none());
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"], "wrong_credentials");
    }
    let r = http
        .post(b.url("/api/login"))
        .body("not json")
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 400);
    b.stop().await;
}

#[tokio::test]
async fn repeated_wrong_pins_lock_the_staff_id_with_retry_after_even_for_the_right_pin() {
    let b = TestBox::start().await;
    let http = reqwest::Client::new();
    let login = |pin: &'static str| {
        http.post(b.url("/api/login"))
            .json(&json!({"staff_id": "N1", "pin": pin}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(login("0000").await.expect("login").status(), 401);
    }
    // Locked: the right PIN is refused too, with how long to wait.
    let r = login("3333").await.expect("login");
    assert_eq!(r.status(), 429);
    let wait: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(r.headers().get("set-cookie").is_none());
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "locked");
    // The sign-in page says so in Japanese; another staff member is not affected.
    let r = http
        .post(b.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("staff_id=N1&pin=3333")
        .send()
        .await
        .expect("form");
    assert_eq!(r.status(), 429);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("サインインできません")
    );
    b.client("R1", "1111").await;
    b.stop().await;
}

#[tokio::test]
async fn a_session_and_its_results_are_recorded_and_replays_are_idempotent() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let station = b.client("S1", "2222").await;
    let session = Uuid::now_v7();
    let (s, v) = reception
        .post("/api/events", &open_session(session, "0000000042"))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["seq"], 1);

    let h = height(session, "0000000042", 165.2);
    let (s, first) = station.post("/api/events", &h).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["replayed"], false);
    // The tablet lost Wi-Fi mid-save and retries with the same event id.
    let (s, again) = station.post("/api/events", &h).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["replayed"], true);
    assert_eq!(again["seq"], first["seq"]);
    assert_eq!(again["id"], first["id"]);
    // Same id, different content: a conflict, not an overwrite.
    let mut other = h.clone();
    other["body"]["payload"]["value"] = json!(170.0);
    let (s, v) = station.post("/api/events", &other).await;
    assert_eq!(s, 409, "{v}");

    let (s, v) = station.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["current"]["9N001000000000001"]["value"], 165.2);

    // Exactly three events plus the audited read, in order, without gaps.
    let admin = b.client("A1", "9999").await;
    let (s, log) = admin.get("/api/events?after=0").await;
    assert_eq!(s, 200);
    let events = log["events"].as_array().expect("events");
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| e["body"]["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["session_opened", "measurement_recorded", "record_viewed"]
    );
    let seqs: Vec<u64> = events.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(
        events[2]["actor"]["staff_id"], "S1",
        "the read is audited with the reader"
    );
    b.stop().await;
}

#[tokio::test]
async fn corrections_keep_the_original_and_need_a_reason() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let station = b.client("S1", "2222").await;
    let session = Uuid::now_v7();
    reception
        .post("/api/events", &open_session(session, "0000000007"))
        .await;
    let (_, rec) = station
        .post("/api/events", &height(session, "0000000007", 156.0))
        .await;
    let correction = |reason: &str| {
        json!({"body": {"kind": "measurement_corrected", "payload": {
            "session_id": session, "resident_id": "0000000007", "corrects": rec["id"],
            "item_code": "9N001000000000001", "value": 165.0, "unit": "cm", "reason": reason}}})
    };
    let (s, v) = station.post("/api/events", &correction("  ")).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"], "reason_required");
    let (s, v) = station
        .post(
            "/api/events",
            &correction("数字の入れ替わり / digits swapped"),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (_, v) = station.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(v["current"]["9N001000000000001"]["value"], 165.0);
    assert_eq!(
        v["session"]["results"]["9N001000000000001"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Correcting something that is not a result of this item.
    let mut bad = correction("x");
    bad["body"]["payload"]["corrects"] = json!(Uuid::now_v7());
    let (s, _) = station.post("/api/events", &bad).await;
    assert_eq!(s, 422);
    b.stop().await;
}

#[tokio::test]
async fn malformed_events_get_a_clear_error_and_store_nothing() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let station = b.client("S1", "2222").await;
    let session = Uuid::now_v7();
    reception
        .post("/api/events", &open_session(session, "0000000001"))
        .await;
    let good = height(session, "0000000001", 160.0);
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("not JSON", b"{\"body\": ".to_vec(), 400, "malformed_event"),
        ("empty body", Vec::new(), 400, "malformed_event"),
        ("array", b"[]".to_vec(), 400, "malformed_event"),
        (
            "unknown kind",
            mutate(&|v| v["body"]["kind"] = json!("resident_deleted"))
                .to_string()
                .into_bytes(),
            400,
            "malformed_event",
        ),
        (
            "unknown field",
            mutate(&|v| v["extra"] = json!(1)).to_string().into_bytes(),
            400,
            "malformed_event",
        ),
        (
            "value is a string",
            mutate(&|v| v["body"]["payload"]["value"] = json!("160"))
                .to_string()
                .into_bytes(),
            422,
            "invalid_payload",
        ),
        (
            "impossible height",
            mutate(&|v| v["body"]["payload"]["value"] = json!(1600.0))
                .to_string()
                .into_bytes(),
            422,
            "invalid_payload",
        ),
        (
            "negative height",
            mutate(&|v| v["body"]["payload"]["value"] = json!(-1))
                .to_string()
                .into_bytes(),
            422,
            "invalid_payload",
        ),
        (
            "wrong unit",
            mutate(&|v| v["body"]["payload"]["unit"] = json!("m"))
                .to_string()
                .into_bytes(),
            422,
            "invalid_payload",
        ),
        (
            "unknown item",
            mutate(&|v| v["body"]["payload"]["item_code"] = json!("9N999000000000001"))
                .to_string()
                .into_bytes(),
            422,
            "invalid_payload",
        ),
        (
            "BMI typed in",
            mutate(&|v| {
                v["body"]["payload"]["item_code"] = json!("9N011000000000001");
                v["body"]["payload"]["unit"] = json!("kg/m2");
                v["body"]["payload"]["value"] = json!(22.0)
            })
            .to_string()
            .into_bytes(),
            422,
            "invalid_payload",
        ),
        (
            "soft limit unconfirmed",
            mutate(&|v| v["body"]["payload"]["value"] = json!(205.0))
                .to_string()
                .into_bytes(),
            422,
            "invalid_payload",
        ),
        (
            "nil id",
            mutate(&|v| v["id"] = json!(Uuid::nil()))
                .to_string()
                .into_bytes(),
            400,
            "malformed_event",
        ),
        (
            "unknown format version",
            mutate(&|v| v["format"] = json!(2)).to_string().into_bytes(),
            400,
            "unknown_format_version",
        ),
        (
            "format as text",
            mutate(&|v| v["format"] = json!("1"))
                .to_string()
                .into_bytes(),
            400,
            "unknown_format_version",
        ),
        (
            "session never opened",
            mutate(&|v| v["body"]["payload"]["session_id"] = json!(Uuid::now_v7()))
                .to_string()
                .into_bytes(),
            409,
            "session_not_open",
        ),
        (
            "resident of another session",
            mutate(&|v| v["body"]["payload"]["resident_id"] = json!("0000000999"))
                .to_string()
                .into_bytes(),
            422,
            "invalid_payload",
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, v) = station.post_raw("/api/events", body).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (status, Some(code)),
            "{what}: {v}"
        );
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what} explains itself"
        );
    }
    // An over-large body is refused before parsing.
    let huge = vec![b' '; 2 * 1024 * 1024];
    let (s, _) = station.post_raw("/api/events", huge).await;
    assert_eq!(s, 413);
    // A confirmed soft-limit value is accepted.
    let mut confirmed = good.clone();
    confirmed["body"]["payload"]["value"] = json!(205.0);
    confirmed["body"]["payload"]["confirmed"] = json!(true);
    let (s, v) = station.post("/api/events", &confirmed).await;
    assert_eq!(s, 201, "{v}");
    // Nothing but the opening and the confirmed value was stored.
    let admin = b.client("A1", "9999").await;
    let (_, log) = admin.get("/api/events").await;
    assert_eq!(log["events"].as_array().map(Vec::len), Some(2));
    b.stop().await;
}

#[tokio::test]
async fn roles_are_checked_on_the_server() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let station = b.client("S1", "2222").await;
    let nurse = b.client("N1", "3333").await;
    let clerk = b.client("C1", "5555").await;
    let auditor = b.client("U1", "8888").await;
    let session = Uuid::now_v7();

    // Only reception (or the venue admin) opens sessions.
    for c in [&station, &nurse, &clerk, &auditor] {
        let (s, v) = c
            .post("/api/events", &open_session(session, "0000000005"))
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (403, Some("forbidden_role")),
            "{v}"
        );
    }
    let (s, _) = reception
        .post("/api/events", &open_session(session, "0000000005"))
        .await;
    assert_eq!(s, 201);
    // Reception does not record results; child welfare never touches checkup data.
    for c in [&reception, &clerk, &auditor] {
        let (s, _) = c
            .post("/api/events", &height(session, "0000000005", 150.0))
            .await;
        assert_eq!(s, 403);
    }
    // A station technician records only at the stations they are bound to.
    let bp = json!({"body": {"kind": "measurement_recorded", "payload": {
        "session_id": session, "resident_id": "0000000005", "station": "blood_pressure",
        "item_code": "9A751000000000001", "value": 120, "unit": "mmHg"}}});
    let (s, v) = station.post("/api/events", &bp).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = nurse.post("/api/events", &bp).await;
    assert_eq!(s, 201, "{v}");
    // Record views are written by the server, never typed in.
    let view = json!({"body": {"kind": "record_viewed", "payload": {"resident_id": "0000000005", "purpose": "x"}}});
    let (s, _) = nurse.post("/api/events", &view).await;
    assert_eq!(s, 403);
    // Reading the raw log is for the venue admin and the auditor.
    for c in [&reception, &station, &nurse, &clerk] {
        let (s, _) = c.get("/api/events").await;
        assert_eq!(s, 403);
    }
    let (s, _) = auditor.get("/api/events").await;
    assert_eq!(s, 200);
    // Child-welfare roles see no checkup data.
    let (s, _) = clerk.get("/api/venue").await;
    assert_eq!(s, 403);
    let (s, _) = clerk.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(s, 403);
    b.stop().await;
}

#[tokio::test]
async fn signed_events_from_peers_are_verified_and_duplicates_are_harmless() {
    let peer_key = NodeKey::generate();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path());
    config.peers.push(checkup_edge::config::PeerConfig {
        node: "edge-02".into(),
        public_key: peer_key.verifying_key().to_base64(),
    });
    let b = TestBox::start_with(dir, config).await;
    let admin = b.client("A1", "9999").await;
    let actor = Actor {
        staff_id: "R9".into(),
        role: Role::Reception,
    };
    let close = |seq: u64, key: &NodeKey, node: &str, venue: &str| {
        let body = EventBody::SessionClosed(SessionClosed {
            session_id: Uuid::now_v7(),
            reason: None,
        });
        Event::seal(
            Uuid::now_v7(),
            venue,
            node,
            seq,
            Hlc {
                ms: 1_000 + seq,
                c: 0,
            },
            actor.clone(),
            body,
            key,
        )
    };
    let e1 = close(1, &peer_key, "edge-02", "test-venue");
    let e2 = close(2, &peer_key, "edge-02", "test-venue");
    let batch = |es: &[&Event]| {
        Value::Array(
            es.iter()
                .map(|e| serde_json::to_value(e).expect("json"))
                .collect(),
        )
    };

    let (s, v) = admin.post("/api/replicate", &batch(&[&e1, &e2])).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["appended"].as_u64(), v["existing"].as_u64()),
        (Some(2), Some(0))
    );
    // The same batch again (a replayed MQTT message): nothing changes.
    let (s, v) = admin.post("/api/replicate", &batch(&[&e1, &e2])).await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["appended"].as_u64(), v["existing"].as_u64()),
        (Some(0), Some(2))
    );
    // A different event claiming edge-02/2: refused, and the batch's new event with it.
    let e3 = close(3, &peer_key, "edge-02", "test-venue");
    let forged_dup = close(2, &peer_key, "edge-02", "test-venue");
    let (s, v) = admin
        .post("/api/replicate", &batch(&[&e3, &forged_dup]))
        .await;
    assert_eq!((s, v["error"].as_str()), (409, Some("conflict")), "{v}");
    // Bad signature, unknown node, other venue, unknown version: each named, 422 as at
    // central (the batch receiver is the same).
    let mut tampered = serde_json::to_value(&e3).expect("json");
    tampered["hlc"]["ms"] = json!(5);
    let (s, v) = admin
        .post("/api/replicate", &Value::Array(vec![tampered]))
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("bad_signature")),
        "{v}"
    );
    let stranger = close(1, &NodeKey::generate(), "edge-77", "test-venue");
    let (s, v) = admin.post("/api/replicate", &batch(&[&stranger])).await;
    assert_eq!((s, v["error"].as_str()), (422, Some("unknown_node")), "{v}");
    let foreign = close(3, &peer_key, "edge-02", "other-venue");
    let (s, v) = admin.post("/api/replicate", &batch(&[&foreign])).await;
    assert_eq!((s, v["error"].as_str()), (422, Some("wrong_venue")), "{v}");
    let mut future = serde_json::to_value(&e3).expect("json");
    future["format"] = json!(9);
    let (s, v) = admin
        .post("/api/replicate", &Value::Array(vec![future]))
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("unknown_format_version")),
        "{v}"
    );
    // Only the venue admin imports.
    let reception = b.client("R1", "1111").await;
    let (s, _) = reception.post("/api/replicate", &batch(&[&e3])).await;
    assert_eq!(s, 403);

    let (_, log) = admin.get("/api/events").await;
    assert_eq!(
        log["events"].as_array().map(Vec::len),
        Some(2),
        "only e1 and e2 are stored"
    );
    b.stop().await;
}

#[tokio::test]
async fn the_venue_page_is_japanese_first_and_switches_to_english() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    let get = |path: &str| {
        reception
            .http
            .get(format!("{}{}", reception.base, path))
            .header("cookie", &reception.cookie)
            .send()
    };
    let r = get("/").await.expect("page");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("text");
    assert!(
        html.contains("lang=\"ja\"") && html.contains("身体計測") && html.contains("待ち"),
        "{html}"
    );
    let r = get("/?lang=en").await.expect("page");
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.starts_with("lang=en")))
    );
    let html = r.text().await.expect("text");
    assert!(
        html.contains("lang=\"en\"") && html.contains("Waiting"),
        "{html}"
    );
    // A child-welfare clerk is signed in but never shown the checkup board: sent on to the
    // notice intake, in the language chosen.
    let clerk = b.client("C1", "5555").await;
    let r = clerk
        .http
        .get(format!("{}/", clerk.base))
        .header("cookie", &clerk.cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(r.url().path(), "/intake");
    let html = r.text().await.expect("text");
    assert!(
        html.contains("児童通告書の受付") && !html.contains("受診中の方"),
        "{html}"
    );
    b.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let b = TestBox::start().await;
    let nurse = b.client("N1", "3333").await;
    let (s, _) = nurse.get("/api/venue").await;
    assert_eq!(s, 200);
    let (s, _) = nurse.post("/api/logout", &json!({})).await;
    assert_eq!(s, 204);
    let (s, _) = nurse.get("/api/venue").await;
    assert_eq!(s, 401);
    b.stop().await;
}

/// The session cookie as a browser keeps it: its value until `Max-Age` runs out.
struct BrowserCookie {
    value: String,
    expires: std::time::Instant,
}

impl BrowserCookie {
    /// Take a `Set-Cookie` of the session from `r`, received at `now`.
    fn update(this: &mut Option<BrowserCookie>, r: &reqwest::Response, now: std::time::Instant) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().expect("ascii");
            let Some(rest) = v.strip_prefix("ce_session=") else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default().to_owned();
            let max_age: u64 = v
                .split(';')
                .find_map(|a| a.trim().strip_prefix("Max-Age="))
                .and_then(|a| a.parse().ok())
                .expect("Max-Age");
            *this = Some(BrowserCookie {
                value,
                expires: now + std::time::Duration::from_secs(max_age),
            });
        }
    }

    /// The `Cookie` header the browser sends at `now` (None: it has dropped the cookie).
    fn header(this: &Option<BrowserCookie>, now: std::time::Instant) -> Option<String> {
        this.as_ref()
            .filter(|c| now < c.expires)
            .map(|c| format!("ce_session={}", c.value))
    }
}

#[tokio::test]
async fn a_nurse_working_past_15_minutes_stays_signed_in_and_an_idle_one_is_signed_out() {
    let dir = tempfile::tempdir().expect("dir");
    let config = common::config(dir.path());
    let idle = std::time::Duration::from_secs(config.auth.idle_timeout_secs);
    assert_eq!(idle.as_secs(), 15 * 60);
    let edge = checkup_edge::Edge::open(&config).expect("open");
    let clock = edge.state().auth.clock().clone();
    let b = TestBox::serve(dir, config, edge).await;
    let http = reqwest::Client::new();
    let r = http
        .post(b.url("/api/login"))
        .json(&json!({"staff_id": "N1", "pin": "3333"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let mut cookie = None;
    BrowserCookie::update(&mut cookie, &r, clock.now());

    // A busy morning: a request every two minutes for an hour.
    let step = std::time::Duration::from_secs(120);
    for minute in (2..=60).step_by(2) {
        clock.advance(step);
        let now = clock.now();
        let header = BrowserCookie::header(&cookie, now)
            .unwrap_or_else(|| panic!("the tablet dropped the session cookie at minute {minute}"));
        let r = http
            .get(b.url("/api/venue"))
            .header("cookie", header)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200, "signed out at minute {minute}");
        BrowserCookie::update(&mut cookie, &r, now);
    }
    // Polls within a minute of the last renewal do not set the cookie again.
    let r = http
        .get(b.url("/api/venue"))
        .header(
            "cookie",
            BrowserCookie::header(&cookie, clock.now()).expect("cookie"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("set-cookie").is_none(),
        "renewed on every poll"
    );

    // Then the tablet is left alone for the idle period: signed out, on both sides.
    let last = cookie.as_ref().map(|c| c.value.clone()).expect("cookie");
    clock.advance(idle);
    assert!(
        BrowserCookie::header(&cookie, clock.now()).is_none(),
        "the browser keeps an idle session's cookie"
    );
    let r = http
        .get(b.url("/api/venue"))
        .header("cookie", format!("ce_session={last}"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401, "an idle session still works");
    assert!(r.headers().get("set-cookie").is_none());
    b.stop().await;
}

/// A browser at `addr` (a loopback address of its own): signs in, keeping the cookies the
/// box sets.
struct Tablet {
    http: reqwest::Client,
    base: String,
    device: Option<String>,
    session: Option<String>,
}

impl Tablet {
    fn at(b: &TestBox, addr: [u8; 4]) -> Tablet {
        Tablet {
            http: reqwest::Client::builder()
                .local_address(std::net::IpAddr::from(addr))
                .build()
                .expect("client"),
            base: b.url(""),
            device: None,
            session: None,
        }
    }

    /// Sign in as `staff_id`; the status.
    async fn sign_in(&mut self, staff_id: &str, pin: &str) -> u16 {
        let mut req = self
            .http
            .post(format!("{}/api/login", self.base))
            .json(&json!({"staff_id": staff_id, "pin": pin}));
        if let Some(d) = &self.device {
            req = req.header("cookie", format!("ce_device={d}"));
        }
        let r = req.send().await.expect("login");
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().expect("ascii");
            let value = |name: &str| {
                v.strip_prefix(name)
                    .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
            };
            if let Some(d) = value("ce_device=") {
                self.device = Some(d);
            }
            if let Some(s) = value("ce_session=") {
                self.session = Some(s);
            }
        }
        r.status().as_u16()
    }

    /// The status of a request with the session (403 for roles without the venue page,
    /// 401 when signed out).
    async fn venue(&self) -> u16 {
        self.http
            .get(format!("{}/api/venue", self.base))
            .header(
                "cookie",
                format!("ce_session={}", self.session.as_deref().unwrap_or_default()),
            )
            .send()
            .await
            .expect("venue")
            .status()
            .as_u16()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_pins_from_one_phone_does_not_lock_staff_out_of_their_tablets() {
    let b = TestBox::start().await;
    let staff = [
        ("R1", "1111"),
        ("S1", "2222"),
        ("N1", "3333"),
        ("A1", "9999"),
        ("C1", "5555"),
        ("U1", "8888"),
    ];
    // Every staff member signed in on their own tablet earlier in the day.
    let mut tablets = Vec::new();
    for (i, (id, pin)) in staff.iter().enumerate() {
        let mut t = Tablet::at(&b, [127, 0, 0, 10 + i as u8]);
        assert_eq!(t.sign_in(id, pin).await, 200, "{id}");
        tablets.push(t);
    }
    // A phone on the Wi-Fi, from three addresses, floods wrong PINs for every staff id.
    let mut phone: Vec<Tablet> = (2..5).map(|a| Tablet::at(&b, [127, 0, 0, a])).collect();
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..10 {
        for (i, (id, _)) in staff.iter().enumerate() {
            let from = &mut phone[(round + i) % 3];
            *statuses.entry(from.sign_in(id, "0000").await).or_insert(0) += 1;
        }
    }
    assert_eq!(statuses.values().sum::<i32>(), 60);
    assert!(statuses.get(&429).is_some_and(|n| *n > 0), "{statuses:?}");
    // The phone stays throttled, right PIN or not; so does any other unknown client.
    for p in &mut phone {
        assert_eq!(p.sign_in("N1", "3333").await, 429);
    }
    let mut stranger = Tablet::at(&b, [127, 0, 0, 9]);
    assert_eq!(stranger.sign_in("N1", "3333").await, 429);
    // Sessions already open go on.
    for t in &tablets {
        assert_ne!(t.venue().await, 401, "a session ended by the flood");
    }
    // Every staff member signs in again on their own tablet at once.
    for (t, (id, pin)) in tablets.iter_mut().zip(staff) {
        assert_eq!(
            t.sign_in(id, pin).await,
            200,
            "{id} locked out of their tablet"
        );
        assert_ne!(t.venue().await, 401);
    }
    // A tablet's cookie names only who signed in on it: another staff id is not let through.
    assert_eq!(tablets[0].sign_in("N1", "3333").await, 429);
    // A forged device cookie counts as an unknown client.
    let mut forger = Tablet::at(&b, [127, 0, 0, 8]);
    forger.device = tablets[2].device.as_ref().map(|d| {
        let (id, rest) = d.split_at(32);
        format!("{}{rest}", id.replace(|c: char| c != '0', "0"))
    });
    assert_eq!(forger.sign_in("N1", "3333").await, 429);
    b.stop().await;
}

#[tokio::test]
async fn a_station_lists_its_residents_due_in_the_order_they_checked_in() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    // Checked in in an order that is neither the residents' numbers nor their session ids.
    let arrivals = ["0000000050", "0000000010", "0000000030"];
    let mut sessions: Vec<Uuid> = arrivals.iter().map(|_| Uuid::now_v7()).collect();
    sessions.reverse();
    for (r, s) in arrivals.iter().zip(&sessions) {
        let (st, v) = reception.post("/api/events", &open_session(*s, r)).await;
        assert_eq!(st, 201, "{v}");
    }
    let station = b.client("S1", "2222").await;
    let (st, v) = station.get("/api/station/measurement/due").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["station"], "measurement");
    let listed: Vec<&str> = v["residents"]
        .as_array()
        .expect("residents")
        .iter()
        .filter_map(|r| r["resident_id"].as_str())
        .collect();
    assert_eq!(listed, arrivals, "{v}");
    let times: Vec<u64> = v["residents"]
        .as_array()
        .expect("residents")
        .iter()
        .filter_map(|r| r["checked_in_ms"].as_u64())
        .collect();
    assert_eq!(times.len(), 3, "{v}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{v}");
    assert_eq!(v["residents"][0]["name"], "試験　50郎");
    assert_eq!(v["residents"][0]["name_kana"], "シケン　イチロウ");
    assert_eq!(v["residents"][0]["session_id"], json!(sessions[0]));
    // Only those who work there; no such station; signed in.
    let (st, v) = station.get("/api/station/blood_pressure/due").await;
    assert_eq!((st, v["error"].as_str()), (403, Some("forbidden_role")));
    let (st, v) = reception.get("/api/station/measurement/due").await;
    assert_eq!((st, v["error"].as_str()), (403, Some("forbidden_role")));
    let (st, v) = station.get("/api/station/karaoke/due").await;
    assert_eq!((st, v["error"].as_str()), (404, Some("no_such_station")));
    let r = reqwest::Client::new()
        .get(b.url("/api/station/measurement/due"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
    let nurse = b.client("N1", "3333").await;
    let (st, v) = nurse.get("/api/station/blood_pressure/due").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["residents"].as_array().map(Vec::len), Some(3), "{v}");
    b.stop().await;
}

#[tokio::test]
async fn the_station_page_follows_the_page_language() {
    let b = TestBox::start().await;
    let station = b.client("S1", "2222").await;
    let get = |path: &str| {
        station
            .http
            .get(format!("{}{}", station.base, path))
            .header("cookie", &station.cookie)
            .send()
    };
    let html = get("/station/measurement")
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        html.contains("lang=\"ja\"")
            && html.contains("ここで受ける方")
            && html.contains("?lang=en"),
        "{html}"
    );
    let r = get("/station/measurement?lang=en").await.expect("page");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.starts_with("lang=en")))
    );
    let html = r.text().await.expect("text");
    assert!(
        html.contains("lang=\"en\"")
            && html.contains("Residents due here")
            && !html.contains("ここで受ける方"),
        "{html}"
    );
    b.stop().await;
}

/// The questionnaire is served without sign-in in every language, the same 22 items in the
/// same order with the same answer codes, the Japanese beside each text; an unknown
/// language is the documented refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_questionnaire_is_served_in_every_language_without_sign_in() {
    let b = TestBox::start().await;
    let http = reqwest::Client::new();
    let mut shapes = Vec::new();
    for tag in ["ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR", "tl"] {
        let r = http
            .get(b.url(&format!("/api/questionnaire?lang={tag}")))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "{tag}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["lang"], tag);
        let items = v["items"].as_array().expect("items");
        assert_eq!(items.len(), 22, "{tag}");
        for i in items {
            assert!(
                !i["question"].as_str().unwrap_or("").is_empty(),
                "{tag} {i}"
            );
            assert!(!i["question_ja"].as_str().unwrap_or("").is_empty());
        }
        let shape: Vec<(String, Vec<String>)> = items
            .iter()
            .map(|i| {
                (
                    i["code"].as_str().unwrap_or("").to_owned(),
                    i["answers"]
                        .as_array()
                        .map(|a| a.iter().map(|x| x["code"].to_string()).collect())
                        .unwrap_or_default(),
                )
            })
            .collect();
        shapes.push(shape);
    }
    assert!(
        shapes.windows(2).all(|w| w[0] == w[1]),
        "same items, same codes"
    );
    assert_eq!(shapes[0][0].0, "9N701000000000011");
    assert_eq!(shapes[0][21].0, "9N808000000000011");
    let r = http
        .get(b.url("/api/questionnaire?lang=fr"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "unknown_language");
    let v: Value = http
        .get(b.url("/api/questionnaire"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["lang"], "ja", "Japanese when no language is asked for");
    b.stop().await;
}
