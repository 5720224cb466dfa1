//! The paper questionnaire at the box: the printable form of an open session, and a
//! scanned form read back (answers taken, unclear items returned for review, forms of
//! other or closed sessions and unreadable files refused with their codes); the items for
//! review kept in the session (after a new read of it, after a restart, until answered);
//! the scanner's folder (`paper_inbox`): a form dropped in is read and moved to `done/`, a
//! file that is no form (or of no open session) to `failed/` with its reason and nothing
//! recorded, a file still being written or too new left alone.

mod common;

use checkup_drivers::questionnaire_form::FormId;
use checkup_drivers::questionnaire_form::layout;
use checkup_drivers::questionnaire_form::raster::{self, Pen};
use checkup_protocol::questionnaire::Lang;
use common::TestBox;
use serde_json::{Value, json};
use uuid::Uuid;

fn png(img: &image::GrayImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

async fn upload(c: &common::Client, query: &str, body: Vec<u8>) -> (u16, Value) {
    let r = c
        .http
        .post(format!("{}/api/questionnaire/paper{query}", c.base))
        .header("cookie", &c.cookie)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json::<Value>().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn print_read_back_and_refusals() {
    let tb = TestBox::start().await;
    let reception = tb.client("R1", "1111").await;
    let nurse = tb.client("N1", "3333").await;
    let session = Uuid::now_v7();
    let resident = "0000000042";
    let (st, v) = reception
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "session_opened", "payload": {
                "session_id": session, "resident_id": resident,
                "stations": ["measurement", "questionnaire"]}}}),
        )
        .await;
    assert_eq!(st, 201, "{v}");

    // The printable form: HTML, four corner squares a page.
    let r = nurse
        .http
        .get(format!(
            "{}/questionnaire/paper/{session}?lang=en",
            nurse.base
        ))
        .header("cookie", &nurse.cookie)
        .send()
        .await
        .expect("print");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    let pages = raster::pages(Lang::En) as usize;
    assert_eq!(html.matches("class=\"fid\"").count(), 4 * pages);
    assert!(html.contains("@page{size:A4;margin:0}"));
    let (st, v) = nurse
        .get(&format!("/questionnaire/paper/{session}?lang=xx"))
        .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("unknown_language")));
    let (st, _) = nurse
        .get(&format!("/questionnaire/paper/{}", Uuid::now_v7()))
        .await;
    assert_eq!(st, 404);
    let clerk = tb.client("C1", "5555").await;
    let (st, _) = clerk.get(&format!("/questionnaire/paper/{session}")).await;
    assert_eq!(
        st, 403,
        "the child-welfare side may not print residents' forms"
    );

    // A scanned page 1: item 1 ticked 2, item 2 cancelled 1 and ticked 2, item 3 two ticks.
    let id = FormId {
        session: session.to_string(),
        resident: resident.into(),
        page: 1,
        pages: pages as u8,
        lang: Lang::En,
    };
    let items = &layout::cached(Lang::En).pages[0].items;
    let marks = [
        (items[0].item_code, "2", Pen::Tick),
        (items[1].item_code, "1", Pen::Fill),
        (items[1].item_code, "2", Pen::Tick),
        (items[2].item_code, "1", Pen::Tick),
        (items[2].item_code, "2", Pen::Tick),
    ];
    let page = png(&raster::page(&id, 200.0, &marks).expect("raster"));
    let (st, v) = upload(&nurse, &format!("?session={session}"), page.clone()).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["lang"], "en");
    assert_eq!(v["submitted"]["recorded"], 2, "{v}");
    let p = &v["pages"][0];
    assert_eq!(p["answers"].as_array().map(Vec::len), Some(2));
    assert_eq!(p["review"][0]["number"], 3);
    assert_eq!(p["review"][0]["reason"], "several_ticked");
    // The same page again changes nothing.
    let (st, v) = upload(&nurse, "", page.clone()).await;
    assert_eq!((st, v["submitted"]["unchanged"].as_u64()), (200, Some(2)));

    // Another session named by the staff member: refused whole.
    let (st, v) = upload(
        &nurse,
        &format!("?session={}", Uuid::now_v7()),
        page.clone(),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("other_session")),
        "{v}"
    );
    // A form printed for another resident under this session's id.
    let forged = FormId {
        resident: "0000000099".into(),
        ..id.clone()
    };
    let (st, v) = upload(
        &nurse,
        "",
        png(&raster::page(&forged, 200.0, &[]).expect("raster")),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("form_resident_mismatch")),
        "{v}"
    );
    // Not a form, not an image, nothing.
    let blank = png(&image::GrayImage::from_pixel(
        1654,
        2339,
        image::Luma([250]),
    ));
    let (st, v) = upload(&nurse, "", blank).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("form_unreadable")),
        "{v}"
    );
    let (st, v) = upload(&nurse, "", b"hello".to_vec()).await;
    assert_eq!(st, 422, "{v}");
    let (st, v) = upload(&nurse, "", Vec::new()).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("empty_file")), "{v}");
    let (st, _) = upload(&clerk, "", page.clone()).await;
    assert_eq!(st, 403);

    // Once the session is closed its form is refused.
    let (st, v) = reception
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "session_closed",
                "payload": {"session_id": session, "reason": "test"}}}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = upload(&nurse, "", page).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("session_not_open")),
        "{v}"
    );
    tb.stop().await;
}

const RESIDENT: &str = "0000000042";

async fn open(reception: &common::Client, resident: &str) -> Uuid {
    let session = Uuid::now_v7();
    let (st, v) = reception
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "session_opened", "payload": {
                "session_id": session, "resident_id": resident,
                "stations": ["measurement", "questionnaire"]}}}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    session
}

/// Page 1 of the English form of `session`: item 1 ticked 2, item 2 ticked 1, item 3 ticked
/// twice (for review), item 4 faint (for review).
fn filled_page(session: Uuid, resident: &str) -> (Vec<u8>, [&'static str; 4]) {
    let id = FormId {
        session: session.to_string(),
        resident: resident.into(),
        page: 1,
        pages: raster::pages(Lang::En),
        lang: Lang::En,
    };
    let items = &layout::cached(Lang::En).pages[0].items;
    let codes = [
        items[0].item_code,
        items[1].item_code,
        items[2].item_code,
        items[3].item_code,
    ];
    let marks = [
        (codes[0], "2", Pen::Tick),
        (codes[1], "1", Pen::Tick),
        (codes[2], "1", Pen::Tick),
        (codes[2], "2", Pen::Tick),
        (codes[3], "1", Pen::Faint),
    ];
    (
        png(&raster::page(&id, 200.0, &marks).expect("raster")),
        codes,
    )
}

async fn session_view(c: &common::Client, session: Uuid) -> Value {
    let (st, v) = c.get(&format!("/api/sessions/{session}")).await;
    assert_eq!(st, 200, "{v}");
    v["session"].clone()
}

fn review_codes(session: &Value) -> Vec<String> {
    session["paper_review"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_review_is_the_sessions_until_an_answer_is_recorded_after_it() {
    let tb = TestBox::start().await;
    let reception = tb.client("R1", "1111").await;
    let nurse = tb.client("N1", "3333").await;
    let session = open(&reception, RESIDENT).await;
    let (page, codes) = filled_page(session, RESIDENT);
    let (st, v) = upload(&nurse, &format!("?session={session}"), page).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["submitted"]["recorded"], 2, "{v}");

    // A new read of the session (a reload, another tablet) holds the two items for review,
    // with the reason, the marks and the form's language.
    let s = session_view(&nurse, session).await;
    let mut want = vec![codes[2].to_string(), codes[3].to_string()];
    want.sort();
    assert_eq!(review_codes(&s), want, "{s}");
    let double = &s["paper_review"][codes[2]];
    assert_eq!(double["reason"], "several_ticked");
    assert_eq!(double["lang"], "en");
    assert_eq!(double["page"], 1);
    assert_eq!(double["staff_id"], "N1");
    let marked: Vec<(String, String)> = double["marked"]
        .as_array()
        .expect("marked")
        .iter()
        .map(|m| (m["code"].to_string(), m["mark"].to_string()))
        .collect();
    assert_eq!(
        marked,
        vec![
            ("\"1\"".into(), "\"ticked\"".into()),
            ("\"2\"".into(), "\"ticked\"".into())
        ]
    );
    assert_eq!(s["paper_review"][codes[3]]["reason"], "faint");
    // Seen from another staff member's tablet too.
    let other = tb.client("D1", "4444").await;
    assert_eq!(review_codes(&session_view(&other, session).await), want);

    // The page read is an event of the log, by whoever passed the page on.
    let admin = tb.client("A1", "9999").await;
    let (st, log) = admin.get("/api/events?limit=1000").await;
    assert_eq!(st, 200, "{log}");
    let reads: Vec<&Value> = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["body"]["kind"] == "questionnaire_paper_read")
        .collect();
    assert_eq!(reads.len(), 1, "{log}");
    assert_eq!(reads[0]["actor"]["staff_id"], "N1");
    assert_eq!(
        reads[0]["body"]["payload"]["answered"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // It is never typed in as a raw event.
    let (st, v) = nurse
        .post(
            "/api/events",
            &json!({"body": {"kind": "questionnaire_paper_read", "payload":
                reads[0]["body"]["payload"].clone()}}),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (403, Some("forbidden_role")),
        "{v}"
    );

    // The nurse asks and records item 3: it leaves the review, item 4 stays.
    let (st, v) = nurse
        .post(
            "/api/events",
            &json!({"body": {"kind": "measurement_recorded", "payload": {
                "session_id": session, "resident_id": RESIDENT, "station": "questionnaire",
                "item_code": codes[2], "value": "1", "unit": "",
                "answered": {"via": "interview", "lang": "en"}}}}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let s = session_view(&nurse, session).await;
    assert_eq!(review_codes(&s), vec![codes[3].to_string()], "{s}");

    // The review is rebuilt from the log when the box opens again.
    let dir = tb.stop().await;
    let config = common::config(dir.path());
    let tb = TestBox::start_with(dir, config).await;
    let nurse = tb.client("N1", "3333").await;
    let s = session_view(&nurse, session).await;
    assert_eq!(review_codes(&s), vec![codes[3].to_string()], "{s}");
    tb.stop().await;
}

/// A box watching `inbox` (under its data directory's parent temp dir).
async fn box_with_inbox() -> (TestBox, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path());
    let inbox = dir.path().join("paper-inbox");
    config.paper_inbox = Some(inbox.clone());
    (TestBox::start_with(dir, config).await, inbox)
}

/// Wait (up to 20 s) until `path` exists.
async fn appears(path: &std::path::Path) -> bool {
    for _ in 0..200 {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

async fn log_len(admin: &common::Client) -> usize {
    let (st, log) = admin.get("/api/events?limit=10000").await;
    assert_eq!(st, 200, "{log}");
    log["events"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_form_dropped_in_the_folder_is_read_recorded_and_moved_to_done() {
    let (tb, inbox) = box_with_inbox().await;
    assert!(inbox.join("done").is_dir() && inbox.join("failed").is_dir());
    let reception = tb.client("R1", "1111").await;
    let nurse = tb.client("N1", "3333").await;
    let session = open(&reception, RESIDENT).await;
    let (page, codes) = filled_page(session, RESIDENT);
    std::fs::write(inbox.join("scan-0001.png"), &page).expect("drop");
    assert!(
        appears(&inbox.join("done/scan-0001.png")).await,
        "not moved to done/"
    );
    assert!(!inbox.join("scan-0001.png").exists(), "still in the folder");
    assert_eq!(
        std::fs::read(inbox.join("done/scan-0001.png")).expect("done"),
        page,
        "kept as scanned (the box has no data key)"
    );
    let s = session_view(&nurse, session).await;
    for (code, want) in [(codes[0], "2"), (codes[1], "1")] {
        let r = &s["results"][code][0];
        assert_eq!(r["value"], want, "{s}");
        assert_eq!(r["answered"]["via"], "paper");
        assert_eq!(r["answered"]["lang"], "en");
        assert_eq!(
            r["staff_id"], "system:paper-inbox",
            "the folder's own actor"
        );
    }
    let mut want = vec![codes[2].to_string(), codes[3].to_string()];
    want.sort();
    assert_eq!(review_codes(&s), want, "{s}");
    assert_eq!(
        s["paper_review"][codes[2]]["staff_id"],
        "system:paper-inbox"
    );

    // Nothing is read twice: the same page dropped again is read again (a new file) and
    // changes no answer.
    let admin = tb.client("A1", "9999").await;
    let before = log_len(&admin).await;
    std::fs::write(inbox.join("scan-0001.png"), &page).expect("drop again");
    assert!(
        appears(&inbox.join("done/scan-0001-1.png")).await,
        "{:?}",
        std::fs::read_dir(inbox.join("done")).map(|d| d.count())
    );
    let s2 = session_view(&nurse, session).await;
    assert_eq!(s2["results"][codes[0]].as_array().map(Vec::len), Some(1));
    // One more page read event (and the audited reads of the session).
    let (_, log) = admin.get("/api/events?limit=10000").await;
    let reads = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["body"]["kind"] == "questionnaire_paper_read")
        .count();
    assert_eq!(reads, 2);
    assert!(log_len(&admin).await > before);
    tb.stop().await;
}

#[tokio::test]
async fn a_file_that_is_no_form_of_an_open_session_goes_to_failed_with_its_reason() {
    let (tb, inbox) = box_with_inbox().await;
    let reception = tb.client("R1", "1111").await;
    let admin = tb.client("A1", "9999").await;
    let session = open(&reception, RESIDENT).await;
    let before = log_len(&admin).await;
    let blank = png(&image::GrayImage::from_pixel(
        1654,
        2339,
        image::Luma([250]),
    ));
    let (foreign, _) = filled_page(Uuid::now_v7(), RESIDENT);
    let (other_resident, _) = filled_page(session, "0000000099");
    let cases: [(&str, Vec<u8>, &str, &str); 4] = [
        (
            "blank.png",
            blank,
            "form_unreadable",
            "質問票として読めませんでした",
        ),
        (
            "notes.txt",
            b"hello".to_vec(),
            "not_an_image",
            "画像（PNG・JPEG・TIFF）またはPDFではありません",
        ),
        (
            "foreign.png",
            foreign,
            "not_found",
            "この質問票の受診はこの会場にありません",
        ),
        (
            "forged.png",
            other_resident,
            "form_resident_mismatch",
            "質問票の受診者IDが受診記録と一致しません",
        ),
    ];
    for (name, bytes, _, _) in &cases {
        std::fs::write(inbox.join(name), bytes).expect("drop");
    }
    for (name, bytes, code, ja) in &cases {
        let reason = inbox.join(format!("failed/{name}.reason.txt"));
        assert!(appears(&reason).await, "{name}: no reason beside it");
        assert_eq!(
            std::fs::read(inbox.join("failed").join(name)).expect("kept"),
            *bytes,
            "{name} kept as it was"
        );
        assert!(!inbox.join(name).exists(), "{name} still in the folder");
        let text = std::fs::read_to_string(&reason).expect("reason");
        assert!(text.contains(code), "{name}: {text}");
        assert!(text.contains(ja), "{name}: {text}");
        assert!(
            text.contains("Nothing of this file was recorded"),
            "{name}: {text}"
        );
        assert!(!inbox.join("done").join(name).exists());
    }
    // Nothing recorded: the log holds only the audited reads of this test.
    let (_, log) = admin.get("/api/events?limit=10000").await;
    let written = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .skip(before)
        .filter(|e| e["body"]["kind"] != "record_viewed")
        .count();
    assert_eq!(written, 0, "{log}");

    // Once the session is closed, its own form is refused too.
    let (st, v) = reception
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "session_closed",
                "payload": {"session_id": session, "reason": "test"}}}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (page, _) = filled_page(session, RESIDENT);
    std::fs::write(inbox.join("late.png"), &page).expect("drop");
    let reason = inbox.join("failed/late.png.reason.txt");
    assert!(
        appears(&reason).await,
        "no reason for a closed session's form"
    );
    let text = std::fs::read_to_string(&reason).expect("reason");
    assert!(
        text.contains("session_not_open") && text.contains("この受診は開いていません"),
        "{text}"
    );
    tb.stop().await;
}

#[tokio::test]
async fn a_file_still_being_written_is_left_until_it_is_whole() {
    let (tb, inbox) = box_with_inbox().await;
    let reception = tb.client("R1", "1111").await;
    let nurse = tb.client("N1", "3333").await;
    let session = open(&reception, "0000000043").await;
    let (page, codes) = filled_page(session, "0000000043");
    let path = inbox.join("slow.png");
    // The scanner writes the file in eight parts over about six seconds (three looks of
    // the folder): it must be left alone until the last part is there.
    let parts: Vec<&[u8]> = page.chunks(page.len().div_ceil(8)).collect();
    let mut f = std::fs::File::create(&path).expect("create");
    for part in &parts {
        use std::io::Write;
        f.write_all(part).expect("write");
        f.flush().expect("flush");
        tokio::time::sleep(std::time::Duration::from_millis(750)).await;
        assert!(path.exists(), "taken while being written");
        assert!(
            !inbox.join("failed/slow.png").exists() && !inbox.join("done/slow.png").exists(),
            "a half-written file was taken"
        );
    }
    drop(f);
    assert!(
        appears(&inbox.join("done/slow.png")).await,
        "the whole file was not taken"
    );
    let s = session_view(&nurse, session).await;
    assert_eq!(s["results"][codes[0]][0]["value"], "2", "{s}");
    tb.stop().await;
}

/// The folder's rule on its own, with the clock given: a file is taken only when it is
/// unchanged since the last look and at least two seconds old.
#[tokio::test]
async fn a_file_newer_than_two_seconds_is_not_taken_even_if_unchanged() {
    use checkup_edge::paper_inbox::{Fate, PaperInbox, SETTLE};
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::config(dir.path());
    let edge = checkup_edge::Edge::open(&config).expect("open");
    let folder = dir.path().join("inbox");
    let mut inbox = PaperInbox::open(
        &folder,
        edge.state().core.clone(),
        checkup_edge::at_rest::Files::new(None),
        checkup_drivers::scan::Limits::default(),
    )
    .expect("inbox");
    std::fs::write(folder.join("a.txt"), b"not a form").expect("drop");
    let written = std::fs::metadata(folder.join("a.txt"))
        .and_then(|m| m.modified())
        .expect("mtime");
    let soon = written + std::time::Duration::from_millis(500);
    assert!(inbox.pass(soon).await.is_empty(), "first look: only noted");
    assert!(inbox.pass(soon).await.is_empty(), "unchanged but too new");
    assert!(folder.join("a.txt").exists());
    let later = written + SETTLE + std::time::Duration::from_millis(100);
    let fates = inbox.pass(later).await;
    assert_eq!(fates.len(), 1, "{fates:?}");
    assert!(
        matches!(&fates[0].1, Fate::Failed { code, .. } if code == "not_an_image"),
        "{fates:?}"
    );
    assert!(folder.join("failed/a.txt.reason.txt").exists());
    // A file that grew between two looks is noted again, not taken.
    std::fs::write(folder.join("b.png"), b"x").expect("drop");
    let t = std::fs::metadata(folder.join("b.png"))
        .and_then(|m| m.modified())
        .expect("mtime")
        + std::time::Duration::from_secs(10);
    assert!(inbox.pass(t).await.is_empty());
    std::fs::write(folder.join("b.png"), b"xy").expect("grow");
    assert!(inbox.pass(t).await.is_empty(), "grew since the last look");
    assert_eq!(inbox.pass(t).await.len(), 1, "unchanged and old: taken");
}
