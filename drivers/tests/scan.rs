//! Scanned-page input: every accepted format and every bad input the hot folder or an upload
//! can bring — a decompression bomb refused before decoding, truncated and non-image files,
//! damaged PDFs, oversize files, too many pages, pages past the ones asked for left
//! undecoded, the per-page and whole-file pixel limits.

use std::io::Cursor;

use checkup_drivers::scan::{Limits, Reader, ScanError, read_bytes, read_file};
use image::{GrayImage, ImageFormat, Luma};

fn page(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([((x * 7 + y * 3) % 256) as u8]))
}

fn encode(img: &GrayImage, f: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, f).expect("encode");
    out.into_inner()
}

fn tiff_pages(n: usize) -> Vec<u8> {
    tiff_of(&(0..n).map(|i| (40 + i as u32, 30)).collect::<Vec<_>>())
}

/// A TIFF of grey pages of the given sizes.
fn tiff_of(sizes: &[(u32, u32)]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut enc = tiff::encoder::TiffEncoder::new(&mut out).expect("tiff");
        for &(w, h) in sizes {
            let p = page(w, h);
            enc.write_image::<tiff::encoder::colortype::Gray8>(p.width(), p.height(), p.as_raw())
                .expect("page");
        }
    }
    out.into_inner()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn png_jpeg_and_multi_page_tiff_become_grey_pages() {
    let l = Limits::default();
    let p = page(64, 48);
    for f in [ImageFormat::Png, ImageFormat::Jpeg] {
        let pages = read_bytes("x", &encode(&p, f), &l).expect("read");
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].image.dimensions(), (64, 48));
    }
    let pages = read_bytes("scan.tif", &tiff_pages(3), &l).expect("tiff");
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.number, p.image.width()))
            .collect::<Vec<_>>(),
        vec![(1, 40), (2, 41), (3, 42)]
    );
    assert_eq!(pages[1].image.as_raw(), page(41, 30).as_raw());
    let dir = tempfile::tempdir().expect("dir");
    let f = dir.path().join("a.png");
    std::fs::write(&f, encode(&p, ImageFormat::Png)).expect("write");
    assert_eq!(read_file(&f, &l).expect("file").len(), 1);
}

#[test]
fn a_decompression_bomb_is_refused_before_decoding() {
    // A real PNG whose header is rewritten to claim 100,000 × 100,000 pixels.
    let mut png = encode(&page(8, 8), ImageFormat::Png);
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let e = read_bytes("bomb.png", &png, &Limits::default()).expect_err("refused");
    assert!(
        matches!(
            e,
            ScanError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.code(), "too_many_pixels");
}

#[test]
fn damaged_and_foreign_files_get_clear_errors() {
    let l = Limits::default();
    let png = encode(&page(64, 64), ImageFormat::Png);
    let e = read_bytes("cut.png", &png[..png.len() / 2], &l).expect_err("truncated");
    assert_eq!(e.code(), "corrupt_image", "{e}");
    assert!(e.to_string().contains("cut.png"));
    let tif = tiff_pages(2);
    let e = read_bytes("cut.tif", &tif[..tif.len() / 3], &l).expect_err("truncated tiff");
    assert_eq!(e.code(), "corrupt_image", "{e}");
    for junk in [&b"hello"[..], b""] {
        let e = read_bytes("x.bin", junk, &l).expect_err("not an image");
        assert_eq!(e.code(), "not_an_image");
    }
    // PDFs go to poppler; a damaged one is named as such (rendering is tested end to end
    // in tests/tests/ocr_cli.rs).
    let e = read_bytes("x.pdf", b"%PDF-1.4 damaged", &l).expect_err("damaged pdf");
    assert_eq!(e.code(), "pdf_unreadable", "{e}");
    let small = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        read_bytes("big.png", &png, &small).expect_err("big").code(),
        "file_too_large"
    );
    let one = Limits {
        max_pages: 1,
        ..Limits::default()
    };
    assert_eq!(
        read_bytes("two.tif", &tif, &one).expect_err("pages").code(),
        "too_many_pages"
    );
    let e = read_file(std::path::Path::new("/nonexistent/scan.png"), &l).expect_err("missing");
    assert_eq!(e.code(), "io");
}

#[test]
fn memory_bomb_pages_after_the_first_are_counted_never_decoded() {
    // Page 2 is over the pixel limit: reading page 1 alone never decodes (nor refuses) it,
    // reading every page refuses the file before decoding anything.
    let tif = tiff_of(&[(40, 30), (3000, 3000), (42, 30)]);
    let l = Limits {
        max_pixels: 1_000_000,
        ..Limits::default()
    };
    let first = Reader::new(l).first_pages(1);
    let pages = first.read_bytes("scan.tif", &tif).expect("first page");
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].image.as_raw(), page(40, 30).as_raw());
    let e = Reader::new(l)
        .read_bytes("scan.tif", &tif)
        .expect_err("page 2");
    assert!(
        matches!(
            e,
            ScanError::TooManyPixels {
                page: 2,
                width: 3000,
                ..
            }
        ),
        "{e}"
    );
    // The page count covers the pages not decoded.
    let two = Limits {
        max_pages: 2,
        ..Limits::default()
    };
    let e = Reader::new(two).first_pages(1).read_bytes("scan.tif", &tif);
    assert_eq!(e.expect_err("3 pages").code(), "too_many_pages");
}

#[test]
fn pixels_in_all_and_decoded_bytes_are_limited_before_decoding() {
    // 1200 + 1230 + 1260 pixels.
    let tif = tiff_pages(3);
    let l = Limits {
        max_total_pixels: 3000,
        ..Limits::default()
    };
    let e = read_bytes("scan.tif", &tif, &l).expect_err("in all");
    assert!(
        matches!(
            e,
            ScanError::TooManyPixelsInAll {
                pages: 3,
                pixels: 3690,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.code(), "too_many_pixels_in_all");
    let two = Reader::new(l).first_pages(2).read_bytes("scan.tif", &tif);
    assert_eq!(two.expect("two pages").len(), 2);
    // Samples: a 64 × 48 RGB PNG decodes to 9216 bytes, a grey TIFF page of 40 × 30 to 1200.
    let small = Limits {
        max_page_bytes: 5000,
        ..Limits::default()
    };
    let rgb = image::DynamicImage::ImageLuma8(page(64, 48)).to_rgb8();
    let mut png = Cursor::new(Vec::new());
    rgb.write_to(&mut png, ImageFormat::Png).expect("png");
    let e = read_bytes("rgb.png", png.get_ref(), &small).expect_err("bytes");
    assert!(
        matches!(e, ScanError::PageTooLarge { bytes: 9216, .. }),
        "{e}"
    );
    assert_eq!(e.code(), "page_too_large");
    let tiny = Limits {
        max_page_bytes: 1000,
        ..Limits::default()
    };
    let e = read_bytes("scan.tif", &tif, &tiny).expect_err("bytes");
    assert!(
        matches!(
            e,
            ScanError::PageTooLarge {
                page: 1,
                bytes: 1200,
                ..
            }
        ),
        "{e}"
    );
}
