//! Photos of a child case on a box (issue 22): who may take and see them, what is kept of
//! them, and what reaches the disk.
//!
//! - Every role outside child welfare — each checkup role (reception, station, nurse,
//!   doctor, venue admin), the central admin and the auditor, enumerated from `Role::ALL`,
//!   a 係長 among them — gets 403 on the upload, the list and the photo; a clerk may not
//!   take one; a caseworker who is not on the case and a 係員 clerk get 403 `not_on_case`;
//!   the caseworker who took it and the child-welfare 係長 (caseworker or clerk) see it.
//! - Every photo or list shown appends one `case_viewed` event (withheld from the admin's
//!   log), every refusal none.
//! - A real camera JPEG with GPS, make, model, serial, maker note and XMP comes back with
//!   none of it; a photo too large, too many pixels or not an image is refused with a
//!   Japanese message, and nothing already kept is lost.
//! - Sent again with its `Idempotency-Key` (an answer lost), a photo is kept once and the
//!   photo kept is the answer (200); another key is another photo; a malformed key is
//!   refused (400) and keeps nothing; a body over 10 MB is refused naming 「上限 10 MB」.
//! - Sealed at rest: with a data key no file under the data directory holds the JPEG's
//!   header (SOI + JFIF), a run of its bytes, runs of its base64 (as the event holds it), the
//!   pattern's raw pixels or the camera's make; the same day without a key is the control
//!   where the photo is found.

mod common;

use std::time::{Duration, Instant};

use checkup_protocol::{Rank, Role};
use checkup_tests::photos;
use common::{Client, TestBox, staff};
use serde_json::{Value, json};

/// PIN of every staff member of these tests but the defaults.
const PIN: &str = "1357";

fn id_of(role: Role, rank: Rank) -> String {
    format!("{}-{rank:?}", role.as_str())
}

/// The box's staff: the defaults, and for every role one 係員 and one 係長 (a station
/// technician bound to the measurement station), plus a second caseworker.
fn config(dir: &std::path::Path, key: bool) -> checkup_edge::config::Config {
    let mut config = common::config(dir);
    for role in Role::ALL {
        for rank in [Rank::Staff, Rank::Chief] {
            let stations: &[checkup_protocol::StationKind] = if role == Role::Station {
                &[checkup_protocol::StationKind::Measurement]
            } else {
                &[]
            };
            let mut s = staff(&id_of(role, rank), PIN, role, stations);
            s.rank = rank;
            config.staff.push(s);
        }
    }
    config.staff.push(staff("K2", PIN, Role::Caseworker, &[]));
    if key {
        config.secrets.data_key = Some(checkup_edge::at_rest::DataKey::generate());
    }
    config
}

async fn status_of(c: &Client, method: reqwest::Method, path: &str, body: Vec<u8>) -> (u16, Value) {
    let r = c
        .http
        .request(method, format!("{}{path}", c.base))
        .header("cookie", &c.cookie)
        .body(body)
        .send()
        .await
        .expect("request");
    let st = r.status().as_u16();
    let bytes = r.bytes().await.expect("body");
    (st, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn get_bytes(c: &Client, path: &str) -> (u16, Option<String>, Vec<u8>) {
    let r = c
        .http
        .get(format!("{}{path}", c.base))
        .header("cookie", &c.cookie)
        .send()
        .await
        .expect("request");
    let st = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (st, ct, r.bytes().await.expect("body").to_vec())
}

/// Child-case events the venue admin's log withholds: one more for every view recorded.
async fn withheld(admin: &Client) -> u64 {
    let (st, log) = admin.get("/api/events?limit=10000").await;
    assert_eq!(st, 200, "{log}");
    log["withheld"].as_u64().expect("withheld")
}

/// A case saved by the clerk from a scan (typed in; the scan is a blank page).
async fn saved_case(clerk: &Client) -> String {
    let mut png = std::io::Cursor::new(Vec::new());
    image::GrayImage::from_pixel(200, 100, image::Luma([255]))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let (st, scan) = clerk
        .post_raw("/api/intake/scans?name=blank.png", png.into_inner())
        .await;
    assert_eq!(st, 202, "{scan}");
    let id = scan["id"].as_str().expect("id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, list) = clerk.get("/api/intake/scans").await;
        if list["scans"][0]["status"] != "reading" {
            break;
        }
        assert!(Instant::now() < deadline, "the scan was never read");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fields = json!({
        "notice_date": "2026-11-20", "child_name": "山田花子", "child_birth_date": "2019-05-01",
        "abuse_type": "physical", "summary": "右上腕にあざ",
    });
    let (st, saved) = clerk
        .post(
            &format!("/api/intake/scans/{id}/case"),
            &json!({"fields": fields}),
        )
        .await;
    assert_eq!(st, 201, "{saved}");
    saved["case_id"].as_str().expect("case").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_for_the_case_s_caseworkers_and_chiefs_and_every_view_is_audited() {
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path(), false);
    let b = TestBox::start_with(dir, config).await;
    let admin = b.client("A1", "9999").await;
    let clerk = b.client("C1", "5555").await;
    let case = saved_case(&clerk).await;
    let photos_path = format!("/api/cases/{case}/photos");
    let camera = photos::camera_jpeg(800, 600).expect("camera photo");

    // The caseworker takes one.
    let worker = b.client(&id_of(Role::Caseworker, Rank::Staff), PIN).await;
    let (st, added) = status_of(
        &worker,
        reqwest::Method::POST,
        &format!("{photos_path}?note=右上腕のあざ"),
        camera.clone(),
    )
    .await;
    assert_eq!(st, 201, "{added}");
    assert_eq!(added["metadata_removed"], true, "{added}");
    assert_eq!(added["location_kept"], false, "{added}");
    let photo = added["photo_id"].as_str().expect("photo").to_owned();
    let photo_path = format!("{photos_path}/{photo}");
    // Sent again (an answer lost on the Wi-Fi): kept once.
    let (st, again) = status_of(&worker, reqwest::Method::POST, &photos_path, camera.clone()).await;
    assert_eq!(
        (st, again["replayed"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["photo_id"], photo.as_str());

    // A photo typed in as a raw event (its metadata intact) is refused: only the upload,
    // which strips it, adds a photo.
    let camera_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&camera)
    };
    let raw = json!({"id": uuid::Uuid::now_v7(), "body": {"kind": "case_photo_added", "payload": {
        "case_id": case, "photo_id": uuid::Uuid::now_v7(), "width": 800, "height": 600,
        "jpeg": camera_b64}}});
    let (st, v) = worker.post("/api/events", &raw).await;
    assert_eq!((st, v["error"].as_str()), (422, Some("use_command")), "{v}");

    // Every role outside child welfare, whatever its rank: 403 on all three, nothing
    // recorded.
    let before = withheld(&admin).await;
    let mut refused = Vec::new();
    for role in Role::ALL.into_iter().filter(|r| !r.may_see_child_cases()) {
        for rank in [Rank::Staff, Rank::Chief] {
            let c = b.client(&id_of(role, rank), PIN).await;
            let up = status_of(&c, reqwest::Method::POST, &photos_path, camera.clone()).await;
            let list = status_of(&c, reqwest::Method::GET, &photos_path, Vec::new()).await;
            let one = get_bytes(&c, &photo_path).await;
            assert_eq!(up.0, 403, "{role} {rank:?} upload: {}", up.1);
            assert_eq!(up.1["error"], "forbidden_role", "{role}");
            assert_eq!(list.0, 403, "{role} {rank:?} list: {}", list.1);
            assert_eq!(one.0, 403, "{role} {rank:?} photo");
            assert!(!one.2.starts_with(&[0xFF, 0xD8]), "{role}: no JPEG");
            refused.push(role);
        }
    }
    // Every checkup role was among them.
    for role in Role::ALL.into_iter().filter(|r| r.is_checkup_role()) {
        assert!(refused.contains(&role), "{role} not tried");
    }
    assert!(refused.contains(&Role::Auditor) && refused.contains(&Role::CentralAdmin));
    // A clerk does not take photos; a clerk or caseworker not on the case does not see them.
    let (st, e) = status_of(&clerk, reqwest::Method::POST, &photos_path, camera.clone()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("forbidden_role")),
        "{e}"
    );
    for (id, pin) in [("C1", "5555"), ("K2", PIN)] {
        let c = b.client(id, pin).await;
        let (st, e) = status_of(&c, reqwest::Method::GET, &photos_path, Vec::new()).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (403, Some("not_on_case")),
            "{id}: {e}"
        );
        assert!(
            e["message"]
                .as_str()
                .unwrap_or_default()
                .contains("係長以上"),
            "{e}"
        );
        assert_eq!(get_bytes(&c, &photo_path).await.0, 403, "{id}");
        // The case list says a photo is there, and shows it not.
        let (_, cases) = c.get("/api/cases").await;
        assert_eq!(cases["cases"][0]["photo_count"], 1, "{cases}");
        assert_eq!(cases["cases"][0]["photos"], json!([]), "{cases}");
    }
    // The case lists just read are views like any (recorded); the refusals are not.
    assert_eq!(withheld(&admin).await, before + 2);

    // The caseworker who took it, and the 係長 of child welfare (caseworker and clerk), see
    // it; each view recorded before it is shown.
    for (id, pin) in [
        (id_of(Role::Caseworker, Rank::Staff), PIN),
        (id_of(Role::Caseworker, Rank::Chief), PIN),
        (id_of(Role::ChildWelfareClerk, Rank::Chief), PIN),
    ] {
        let c = b.client(&id, pin).await;
        let n = withheld(&admin).await;
        let (st, list) = c.get(&photos_path).await;
        assert_eq!(st, 200, "{id}: {list}");
        assert_eq!(list["photos"][0]["photo_id"], photo.as_str(), "{list}");
        assert_eq!(list["photos"][0]["note"], "右上腕のあざ", "{list}");
        assert_eq!(
            withheld(&admin).await,
            n + 1,
            "{id}: the list's view recorded"
        );
        let (st, ct, jpeg) = get_bytes(&c, &photo_path).await;
        assert_eq!(st, 200, "{id}");
        assert_eq!(ct.as_deref(), Some("image/jpeg"));
        assert_eq!(
            withheld(&admin).await,
            n + 2,
            "{id}: the photo's view recorded"
        );
        // What comes back has no metadata, and is the picture.
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert_eq!(photos::metadata_left(&jpeg), Vec::<String>::new(), "{id}");
        let img = image::load_from_memory(&jpeg).expect("decodes");
        assert_eq!((img.width(), img.height()), (800, 600));
        let (_, cases) = c.get("/api/cases").await;
        assert_eq!(cases["cases"][0]["photos"][0]["photo_id"], photo.as_str());
    }

    // Bounded: too large, too many pixels, not an image — refused with a Japanese message;
    // nothing kept is lost.
    let n = withheld(&admin).await;
    let big = vec![0xFFu8; 10 * 1024 * 1024 + 1];
    let (st, e) = status_of(&worker, reqwest::Method::POST, &photos_path, big).await;
    assert_eq!(st, 413, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("大きすぎ"),
        "{e}"
    );
    let mut huge = std::io::Cursor::new(Vec::new());
    image::GrayImage::new(8000, 6100)
        .write_to(&mut huge, image::ImageFormat::Png)
        .expect("png");
    let (st, e) = status_of(
        &worker,
        reqwest::Method::POST,
        &photos_path,
        huge.into_inner(),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (413, Some("too_many_pixels")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap_or_default().contains("画素数"),
        "{e}"
    );
    let (st, e) = status_of(
        &worker,
        reqwest::Method::POST,
        &photos_path,
        b"%PDF-1.7 this is a document, not a photo".to_vec(),
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("not_an_image")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap_or_default().contains("写真"),
        "{e}"
    );
    let (st, e) = status_of(&worker, reqwest::Method::POST, &photos_path, Vec::new()).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("empty_file")), "{e}");
    // No such case.
    let (st, _) = status_of(
        &worker,
        reqwest::Method::POST,
        &format!("/api/cases/{}/photos", uuid::Uuid::now_v7()),
        camera.clone(),
    )
    .await;
    assert_eq!(st, 404);
    assert_eq!(withheld(&admin).await, n, "refusals record nothing");
    let (_, list) = worker.get(&photos_path).await;
    assert_eq!(list["photos"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(get_bytes(&worker, &photo_path).await.0, 200);
    b.stop().await;
}

/// Files under `dir` holding `needle`.
fn holding(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    checkup_tests::files_containing_bytes(dir, needle)
}

/// A day with one photo on a case (with or without a data key); the box stopped; what of
/// the photo is found under the data directory, by needle.
async fn photo_on_disk(key: bool) -> Vec<(&'static str, Vec<String>)> {
    use base64::Engine as _;
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path(), key);
    let b = TestBox::start_with(dir, config).await;
    let clerk = b.client("C1", "5555").await;
    let case = saved_case(&clerk).await;
    let worker = b.client(&id_of(Role::Caseworker, Rank::Staff), PIN).await;
    let camera = photos::camera_jpeg(640, 480).expect("camera photo");
    let (st, added) = status_of(
        &worker,
        reqwest::Method::POST,
        &format!("/api/cases/{case}/photos"),
        camera,
    )
    .await;
    assert_eq!(st, 201, "{added}");
    let (st, _, jpeg) = get_bytes(
        &worker,
        &format!(
            "/api/cases/{case}/photos/{}",
            added["photo_id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(st, 200);
    let dir = b.stop().await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    let mid = jpeg.len() / 2;
    let needles: Vec<(&'static str, Vec<u8>)> = vec![
        // SOI and the JFIF header the box's encoder writes.
        ("JPEG signature (FF D8 FF E0 … JFIF)", jpeg[..11].to_vec()),
        ("48 bytes of the JPEG", jpeg[mid..mid + 48].to_vec()),
        ("the pattern's pixels", photos::pattern_row(32)),
        ("the camera's make", photos::MAKE.as_bytes().to_vec()),
    ];
    let mut found: Vec<(&'static str, Vec<String>)> = needles
        .into_iter()
        .map(|(what, n)| (what, holding(dir.path(), &n)))
        .collect();
    // Runs of its base64 (as the event holds it) across the photo: the event's JSON is
    // stored over SQLite's overflow pages, each starting with a pointer, so any one run may
    // straddle two pages.
    let step = b64.len() / 16;
    let runs: Vec<String> = (0..16)
        .flat_map(|i| holding(dir.path(), &b64.as_bytes()[i * step..i * step + 40]))
        .collect();
    found.push(("runs of its base64", runs));
    drop(dir);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_sealed_at_rest_under_the_data_key() {
    for (what, files) in photo_on_disk(true).await {
        assert!(files.is_empty(), "{what} found in the clear: {files:?}");
    }
    // The control: the same day without a key, where the photo is found in the log.
    let plain = photo_on_disk(false).await;
    let found = |what: &str| {
        plain
            .iter()
            .find(|(w, _)| *w == what)
            .is_some_and(|(_, f)| !f.is_empty())
    };
    assert!(found("runs of its base64"), "{plain:?}");
    // Never the camera's make, key or no key: it was stripped before anything was kept.
    assert!(!found("the camera's make"), "{plain:?}");
}

/// `POST` of `body` to `path` with an `Idempotency-Key` header.
async fn post_keyed(c: &Client, path: &str, key: &str, body: Vec<u8>) -> (u16, Value) {
    let r = c
        .http
        .post(format!("{}{path}", c.base))
        .header("cookie", &c.cookie)
        .header("idempotency-key", key)
        .body(body)
        .send()
        .await
        .expect("request");
    let st = r.status().as_u16();
    let bytes = r.bytes().await.expect("body");
    (st, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A photo sent again with its key after a lost answer is kept once (200, the photo kept);
/// another key is another photo, even of the same bytes; the same key with another photo is
/// a conflict; a malformed key is refused (400) and keeps nothing. A body over the route's
/// limit is refused naming it in MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_resent_with_its_idempotency_key_is_kept_once() {
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path(), false);
    let b = TestBox::start_with(dir, config).await;
    let clerk = b.client("C1", "5555").await;
    let case = saved_case(&clerk).await;
    let photos_path = format!("/api/cases/{case}/photos");
    let camera = photos::camera_jpeg(640, 480).expect("camera photo");
    let worker = b.client(&id_of(Role::Caseworker, Rank::Staff), PIN).await;
    let count = |list: &Value| list["photos"].as_array().map(Vec::len);

    let key = uuid::Uuid::new_v4().to_string();
    let (st, first) = post_keyed(&worker, &photos_path, &key, camera.clone()).await;
    assert_eq!(st, 201, "{first}");
    let photo = first["photo_id"].as_str().expect("photo").to_owned();
    // The answer was lost; the page sends it again with the same key (and a caption typed
    // meanwhile): the photo already kept.
    let (st, again) = post_keyed(
        &worker,
        &format!("{photos_path}?note=右腕"),
        &key,
        camera.clone(),
    )
    .await;
    assert_eq!(
        (st, again["replayed"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["photo_id"], photo.as_str(), "{again}");
    let (_, list) = worker.get(&photos_path).await;
    assert_eq!(count(&list), Some(1), "{list}");

    // Another key: another photo, even of the same bytes.
    let (st, other) = post_keyed(&worker, &photos_path, "photo-0002-abc", camera.clone()).await;
    assert_eq!(st, 201, "{other}");
    assert_ne!(other["photo_id"], photo.as_str(), "{other}");
    let (_, list) = worker.get(&photos_path).await;
    assert_eq!(count(&list), Some(2), "{list}");

    // The same key with another photo: refused, nothing kept.
    let another = photos::camera_jpeg(320, 240).expect("camera photo");
    let (st, e) = post_keyed(&worker, &photos_path, &key, another.clone()).await;
    assert_eq!((st, e["error"].as_str()), (409, Some("conflict")), "{e}");

    // Malformed keys: 400 with a Japanese and English message, nothing kept.
    let long = "k".repeat(65);
    for bad in [
        "short",
        long.as_str(),
        "has space 123",
        "semi;colon12",
        "under_score_1",
    ] {
        let (st, e) = post_keyed(&worker, &photos_path, bad, another.clone()).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (400, Some("invalid_idempotency_key")),
            "{bad:?}: {e}"
        );
        let m = e["message"].as_str().unwrap_or_default();
        assert!(
            m.contains("送信番号") && m.contains("Idempotency-Key"),
            "{m}"
        );
    }
    let (_, list) = worker.get(&photos_path).await;
    assert_eq!(count(&list), Some(2), "{list}");

    // Over 10 MB: refused naming the limit as people read it.
    let (st, e) = post_keyed(&worker, &photos_path, &key, vec![0xFF; 11 << 20]).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (413, Some("body_too_large")),
        "{e}"
    );
    let m = e["message"].as_str().unwrap_or_default();
    assert!(m.contains("上限 10 MB") && !m.contains("10485760"), "{m}");
    b.stop().await;
}
