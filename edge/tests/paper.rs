//! The paper questionnaire at the box: the printable form of an open session, and a
//! scanned form read back (answers taken, unclear items returned for review, forms of
//! other or closed sessions and unreadable files refused with their codes).

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
