//! Fuzz the case-photo intake (what a caseworker's tablet sends) and the EXIF GPS reader:
//! arbitrary bytes give a fresh JPEG within the limits or a typed refusal, never a panic;
//! whatever is kept carries no EXIF or XMP segment.
#![no_main]

use checkup_edge::intake::photo::{gps_location, prepare};
use checkup_protocol::notice::{MAX_PHOTO_BYTES, MAX_PHOTO_SIDE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gps_location(data);
    match prepare(data, true) {
        Ok(p) => {
            assert!(p.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
            assert!(p.jpeg.len() <= MAX_PHOTO_BYTES);
            assert!(p.width.max(p.height) <= MAX_PHOTO_SIDE);
            assert!(!p.jpeg.windows(6).any(|w| w == b"Exif\0\0"), "no EXIF kept");
        }
        Err(e) => assert!(!e.code().is_empty()),
    }
});
