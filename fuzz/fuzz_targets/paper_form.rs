//! Fuzz the paper questionnaire reader's inputs: the QR payload parser on arbitrary text,
//! and the page reader on arbitrary small grey images (first four bytes: width and height
//! factors, the rest the pixels, tiled). Always a page or a typed error, never a panic; a
//! page read only ever answers an item with exactly one ticked box.
#![no_main]

use checkup_drivers::questionnaire_form::{BoxMark, FormId, ItemOutcome, read_page};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(id) = FormId::decode(s) {
            assert_eq!(FormId::decode(&id.encode().expect("re-encode")).ok(), Some(id));
        }
    }
    if data.len() < 8 {
        return;
    }
    let w = 600 + u32::from(data[0]) * 4;
    let h = 800 + u32::from(data[1]) * 4;
    let px = &data[4..];
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        // Coarse 8×8 tiles so a few bytes can draw squares.
        let i = ((y / 8) * (w / 8) + x / 8) as usize % px.len();
        image::Luma([px[i]])
    });
    if let Ok(page) = read_page(&img) {
        for it in &page.items {
            if matches!(it.outcome, ItemOutcome::Answer { .. }) {
                let ticked = it.boxes.iter().filter(|b| b.mark == BoxMark::Ticked).count();
                assert_eq!(ticked, 1);
            }
        }
    }
});
