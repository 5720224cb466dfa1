//! Every route refuses the roles it is not for (HTTP 403), and everyone without a session
//! (HTTP 401 for the API, a redirect to sign-in for pages).

mod common;

use common::TestBox;

/// (method, path, roles allowed by staff id).
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("GET", "/api/venue", &["R1", "S1", "N1", "A1"]),
    ("GET", "/api/board", &["R1", "S1", "N1", "A1"]),
    ("GET", "/api/events", &["A1", "U1"]),
    ("POST", "/api/replicate", &["A1"]),
    ("GET", "/api/card/readers", &["R1", "A1"]),
    ("POST", "/api/card/read", &["R1"]),
    ("POST", "/api/roster/import", &["A1"]),
    ("GET", "/api/roster/search?q=abc", &["R1", "A1"]),
    ("POST", "/api/reception/check-in", &["R1", "A1"]),
    ("POST", "/api/demo/untap", &["R1", "A1"]),
    // The child-welfare compartment: the clerk only (no caseworker on this box).
    ("GET", "/api/intake/scans", &["C1"]),
    ("POST", "/api/intake/scans?name=x.png", &["C1"]),
    (
        "GET",
        "/api/intake/scans/01890a5d-ac96-774b-bcce-b302099a8057",
        &["C1"],
    ),
    (
        "POST",
        "/api/intake/scans/01890a5d-ac96-774b-bcce-b302099a8057/case",
        &["C1"],
    ),
    ("GET", "/api/cases", &["C1"]),
];

const STAFF: &[(&str, &str)] = &[
    ("R1", "1111"),
    ("S1", "2222"),
    ("N1", "3333"),
    ("A1", "9999"),
    ("C1", "5555"),
    ("U1", "8888"),
];

#[tokio::test]
async fn each_route_refuses_the_wrong_roles() {
    let b = TestBox::start().await;
    let mut clients = Vec::new();
    for (id, pin) in STAFF {
        clients.push((*id, b.client(id, pin).await));
    }
    for (method, path, allowed) in ROUTES {
        for (id, c) in &clients {
            let req = if *method == "GET" {
                c.http.get(format!("{}{path}", c.base))
            } else {
                c.http.post(format!("{}{path}", c.base)).body("{}")
            };
            let status = req
                .header("cookie", &c.cookie)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16();
            if allowed.contains(id) {
                assert_ne!(status, 403, "{id} is allowed {method} {path}");
                assert_ne!(status, 401, "{id} is signed in for {method} {path}");
            } else {
                assert_eq!(status, 403, "{id} must be refused {method} {path}");
            }
        }
        let anon = reqwest::Client::new();
        let req = if *method == "GET" {
            anon.get(b.url(path))
        } else {
            anon.post(b.url(path)).body("{}")
        };
        assert_eq!(
            req.send().await.expect("request").status(),
            401,
            "no session: {method} {path}"
        );
    }
    // Pages: checkup pages refuse child-welfare and audit roles (the board's address gives
    // the auditor a page saying where its work is); without a session, sign in.
    let pages: &[(&str, &[&str])] = &[
        ("/", &["R1", "S1", "N1", "A1"]),
        ("/reception", &["R1", "A1"]),
        ("/station/measurement", &["S1", "N1"]),
        ("/station/blood_pressure", &["N1"]),
        ("/intake", &["C1"]),
        ("/cases", &["C1"]),
    ];
    for (path, allowed) in pages {
        for (id, c) in &clients {
            let r = c
                .http
                .get(format!("{}{path}", c.base))
                .header("cookie", &c.cookie)
                .send()
                .await
                .expect("page");
            let status = r.status().as_u16();
            if *path == "/" && *id == "C1" {
                // The clerk's home is the notice intake, never the checkup board.
                assert_eq!(r.url().path(), "/intake", "C1 is sent on from /");
                assert_eq!(status, 200);
                continue;
            }
            if *path == "/" && !allowed.contains(id) && !["C1", "K1"].contains(id) {
                // A role with no page on the box (the auditor) gets a page of its own
                // saying so, never the board.
                let html = r.text().await.expect("page");
                assert_eq!(status, 200, "{id} at /");
                assert!(
                    !html.contains("ul class=\"stations\""),
                    "{id} sees the board"
                );
                assert!(html.contains("本庁"), "{id}: {html}");
                continue;
            }
            if allowed.contains(id) {
                assert_eq!(status, 200, "{id} opens {path}");
            } else {
                assert_eq!(status, 403, "{id} must be refused {path}");
            }
        }
        let anon = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        assert_eq!(
            anon.get(b.url(path)).send().await.expect("page").status(),
            303,
            "{path} without a session"
        );
    }
    b.stop().await;
}
