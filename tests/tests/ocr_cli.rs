//! `checkup-edge ocr notice` on real Tesseract: clean notices in both layouts are read into
//! the right normalised fields and matched against the register; damaged and foreign files
//! give an error object without stopping the batch; the output keeps the order of the files.

use std::process::Command;

use checkup_tests::binary;
use checkup_tests::notice_corpus::{Layout, example, render_example};
use serde_json::Value;

#[test]
fn notices_are_read_in_order_and_bad_files_do_not_stop_the_batch() {
    let dir = tempfile::tempdir().expect("dir");
    let mut files = Vec::new();
    for (i, layout) in [Layout::Colon, Layout::Table].into_iter().enumerate() {
        let name = format!("n{i}.png");
        let t = example(&name);
        let img = render_example(&t, layout, i == 0).expect("render");
        let p = dir.path().join(&name);
        img.to_rgb8().save(&p).expect("save");
        files.push(p);
    }
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"this is not an image").expect("write");
    let cut = dir.path().join("cut.png");
    let bytes = std::fs::read(&files[0]).expect("read");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
    let register = dir.path().join("register.csv");
    std::fs::write(
        &register,
        "resident_id,name,name_kana,birth_date,sex,address\n\
         1400000042,山田　太郎,ヤマダ　タロウ,2016-05-06,male,神奈川県横浜市港北区日吉3丁目5番8号\n\
         1400000043,山田　花子,ヤマダ　ハナコ,2018-01-01,female,神奈川県横浜市港北区日吉3丁目5番8号\n",
    )
    .expect("register");

    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let out = Command::new(bin)
        .args(["ocr", "notice"])
        .arg(&files[0])
        .arg(&junk)
        .arg(&files[1])
        .arg(&cut)
        .arg("--residents")
        .arg(&register)
        .arg("--json")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows[0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("n0.png"))
    );
    assert_eq!(rows[1]["error"]["code"], "not_an_image");
    assert!(
        rows[2]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("n1.png"))
    );
    assert_eq!(rows[3]["error"]["code"], "corrupt_image");
    for r in [&rows[0], &rows[2]] {
        let f = &r["fields"];
        for key in checkup_drivers::notice::read::FIELD_NAMES {
            let c = f[key]["confidence"].as_f64().expect("confidence");
            assert!((0.0..=1.0).contains(&c), "{key}: {c}");
            assert_eq!(f[key]["bbox"].as_array().map(Vec::len), Some(4), "{key}");
        }
        let t = example("");
        assert_eq!(
            f["child_birth_date"]["value"],
            t.child_birth_date.as_str(),
            "{r}"
        );
        assert_eq!(f["notice_date"]["value"], t.notice_date.as_str(), "{r}");
        assert_eq!(f["child_sex"]["value"], t.child_sex.as_str(), "{r}");
        assert_eq!(f["abuse_type"]["value"], t.abuse_type.as_str(), "{r}");
        assert_eq!(f["child_name"]["value"], t.child_name.as_str(), "{r}");
        assert_eq!(r["resident_id"], "1400000042", "{r}");
    }
}

#[test]
fn a_scanner_pdf_is_rendered_and_read_and_bad_pdfs_get_clear_errors() {
    use checkup_drivers::scan::{Limits, read_bytes};
    let dir = tempfile::tempdir().expect("dir");
    let t = example("n.pdf");
    let img = render_example(&t, Layout::Colon, false)
        .expect("render")
        .to_luma8();
    let pdf = checkup_tests::pdf::from_page(&img, 300.0).expect("pdf");
    let (w, h) = img.dimensions();

    // Rendered at 300 dpi: the page comes back at the size it was scanned.
    let pages = read_bytes("n.pdf", &pdf, &Limits::default()).expect("pdf pages");
    assert_eq!(pages.len(), 1);
    let (pw, ph) = pages[0].image.dimensions();
    assert!(
        pw.abs_diff(w) <= 2 && ph.abs_diff(h) <= 2,
        "{pw}×{ph} vs {w}×{h}"
    );

    // Limits hold before rendering; a damaged PDF is a clear error.
    let small = Limits {
        max_pixels: u64::from(w) * u64::from(h) / 2,
        ..Limits::default()
    };
    let err = read_bytes("n.pdf", &pdf, &small).expect_err("too big");
    assert_eq!(err.code(), "too_many_pixels", "{err}");
    let cut = &pdf[..pdf.len() / 2];
    let err = read_bytes("cut.pdf", cut, &Limits::default()).expect_err("damaged");
    assert!(
        matches!(err.code(), "pdf_unreadable" | "corrupt_image"),
        "{err}"
    );
    let err = read_bytes("fake.pdf", b"%PDF-1.4\nnothing here", &Limits::default())
        .expect_err("not a pdf");
    assert_eq!(err.code(), "pdf_unreadable", "{err}");

    // The CLI reads the notice from the PDF.
    let p = dir.path().join("n.pdf");
    std::fs::write(&p, &pdf).expect("write");
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let out = Command::new(bin)
        .args(["ocr", "notice"])
        .arg(&p)
        .arg("--json")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row: Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = &row["fields"];
    assert_eq!(
        f["child_birth_date"]["value"],
        t.child_birth_date.as_str(),
        "{row}"
    );
    assert_eq!(f["abuse_type"]["value"], t.abuse_type.as_str(), "{row}");
    assert_eq!(f["child_sex"]["value"], t.child_sex.as_str(), "{row}");
}
