//! Case photos: what a caseworker's tablet sends (a camera capture or an uploaded file),
//! made fit to keep in the child-welfare compartment.
//!
//! [`prepare`] takes the bytes as received and gives back a new JPEG: decoded within
//! [`MAX_UPLOAD_BYTES`] and [`MAX_PIXELS`] (checked from the header before any pixel is),
//! turned upright by its EXIF orientation, scaled down to
//! [`checkup_protocol::notice::MAX_PHOTO_SIDE`], and encoded afresh — so nothing of the
//! original's metadata survives: no EXIF (GPS, camera make, model, serial, time), no XMP, no
//! maker notes, no thumbnail, no ICC or comment segment. Only when the box keeps locations
//! (`intake.keep_photo_location`) is the GPS position read from the EXIF, and it is kept
//! beside the photo in the event, never in the JPEG.
//!
//! The photo is then an event of the log (`case_photo_added`), which is SQLCipher under the
//! box's data key ([`crate::at_rest`]), replicated to the venue's boxes and forwarded to
//! central like the case itself.

use std::io::Cursor;

use checkup_protocol::PhotoLocation;
use checkup_protocol::notice::{MAX_PHOTO_BYTES, MAX_PHOTO_SIDE};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

/// Largest file taken from a tablet.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Most pixels of a photo taken in (a 48-megapixel phone camera's largest).
pub const MAX_PIXELS: u64 = 48_000_000;
/// JPEG qualities tried, best first, until the photo fits [`MAX_PHOTO_BYTES`].
const QUALITIES: [u8; 4] = [85, 75, 60, 45];

/// Why a photo was refused. Each has a stable code and a message in Japanese and English.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Nothing sent.
    #[error("写真が空です / the photo is empty")]
    Empty,
    /// Over [`MAX_UPLOAD_BYTES`].
    #[error(
        "写真が大きすぎます（{0}バイト、上限{MAX_UPLOAD_BYTES}バイト＝10MB） / the photo is {0} bytes; at most {MAX_UPLOAD_BYTES}"
    )]
    TooLarge(usize),
    /// Not a JPEG or PNG.
    #[error(
        "写真（JPEGまたはPNG）ではありません。カメラの形式を「互換性優先」（JPEG）にしてください / not a photo: send a JPEG or PNG ({0})"
    )]
    NotAnImage(String),
    /// Over [`MAX_PIXELS`].
    #[error(
        "画素数が多すぎます（{width}×{height}、上限{MAX_PIXELS}画素） / {width} × {height} pixels is over the limit of {MAX_PIXELS}"
    )]
    TooManyPixels {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// The file is a JPEG or PNG but its pixels do not decode.
    #[error("写真が壊れていて読めません / the photo does not decode: {0}")]
    Corrupt(String),
    /// The re-encoded photo does not fit (should not happen within the limits).
    #[error("写真を保存用に変換できません / the photo cannot be re-encoded: {0}")]
    Encode(String),
}

impl PhotoError {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::Empty => "empty_file",
            PhotoError::TooLarge(_) => "photo_too_large",
            PhotoError::NotAnImage(_) => "not_an_image",
            PhotoError::TooManyPixels { .. } => "too_many_pixels",
            PhotoError::Corrupt(_) => "corrupt_image",
            PhotoError::Encode(_) => "encode_failed",
        }
    }
}

/// A photo ready to keep.
#[derive(Clone, PartialEq)]
pub struct Prepared {
    /// The new JPEG, without any metadata segment.
    pub jpeg: Vec<u8>,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// The GPS position, when asked for and present.
    pub location: Option<PhotoLocation>,
    /// Whether the original carried EXIF or XMP (now dropped).
    pub had_metadata: bool,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("jpeg_bytes", &self.jpeg.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("location", &self.location.is_some())
            .field("had_metadata", &self.had_metadata)
            .finish()
    }
}

/// Make a received photo fit to keep (see the module's comment). `keep_location`: read the
/// GPS position from its EXIF into [`Prepared::location`].
pub fn prepare(bytes: &[u8], keep_location: bool) -> Result<Prepared, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(PhotoError::TooLarge(bytes.len()));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::NotAnImage(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png) => {}
        Some(other) => return Err(PhotoError::NotAnImage(format!("{other:?}"))),
        None => return Err(PhotoError::NotAnImage("unknown format".into())),
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width == 0 || height == 0 {
        return Err(PhotoError::TooManyPixels { width, height });
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    decoder
        .set_limits(limits)
        .map_err(|_| PhotoError::TooManyPixels { width, height })?;
    let exif = decoder.exif_metadata().ok().flatten();
    let xmp = decoder.xmp_metadata().ok().flatten();
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let location = if keep_location {
        exif.as_deref().and_then(gps_location)
    } else {
        None
    };
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    img.apply_orientation(orientation);
    if img.width().max(img.height()) > MAX_PHOTO_SIDE {
        img = img.resize(
            MAX_PHOTO_SIDE,
            MAX_PHOTO_SIDE,
            image::imageops::FilterType::Triangle,
        );
    }
    let rgb = img.into_rgb8();
    let mut last = 0;
    for quality in QUALITIES {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
            .encode_image(&rgb)
            .map_err(|e| PhotoError::Encode(e.to_string()))?;
        if jpeg.len() <= MAX_PHOTO_BYTES {
            return Ok(Prepared {
                jpeg,
                width: rgb.width(),
                height: rgb.height(),
                location,
                had_metadata: exif.is_some() || xmp.is_some(),
            });
        }
        last = jpeg.len();
    }
    Err(PhotoError::Encode(format!(
        "{last} bytes at the lowest quality; at most {MAX_PHOTO_BYTES}"
    )))
}

/// The GPS position in an EXIF block (TIFF data, with or without the `Exif\0\0` header).
pub fn gps_location(exif: &[u8]) -> Option<PhotoLocation> {
    use exif::{In, Tag, Value};
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let parsed = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let degrees = |tag: Tag| -> Option<f64> {
        match &parsed.get_field(tag, In::PRIMARY)?.value {
            Value::Rational(v) if v.len() == 3 && v.iter().all(|r| r.denom != 0) => {
                Some(v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0)
            }
            _ => None,
        }
    };
    let reference = |tag: Tag| -> Option<u8> {
        match &parsed.get_field(tag, In::PRIMARY)?.value {
            Value::Ascii(v) => v.first().and_then(|s| s.first()).copied(),
            _ => None,
        }
    };
    let mut lat = degrees(Tag::GPSLatitude)?;
    let mut lon = degrees(Tag::GPSLongitude)?;
    if reference(Tag::GPSLatitudeRef) == Some(b'S') {
        lat = -lat;
    }
    if reference(Tag::GPSLongitudeRef) == Some(b'W') {
        lon = -lon;
    }
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
        .then_some(PhotoLocation { lat, lon })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_photo_is_refused_with_its_code() {
        assert_eq!(
            prepare(b"", false).map(|_| ()).unwrap_err().code(),
            "empty_file"
        );
        assert_eq!(
            prepare(b"%PDF-1.7 not a photo", false)
                .map(|_| ())
                .unwrap_err()
                .code(),
            "not_an_image"
        );
        let big = vec![0u8; MAX_UPLOAD_BYTES + 1];
        assert_eq!(
            prepare(&big, false).map(|_| ()).unwrap_err().code(),
            "photo_too_large"
        );
        // A JPEG's signature and nothing after it.
        assert_eq!(
            prepare(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0], false)
                .map(|_| ())
                .unwrap_err()
                .code(),
            "corrupt_image"
        );
    }

    #[test]
    fn gps_make_model_serial_xmp_and_maker_note_are_stripped() {
        use checkup_tests::photos;
        let camera = photos::camera_jpeg(640, 480).expect("camera photo");
        // The photo as the phone wrote it carries all of it (so this test can fail).
        assert!(photos::metadata_left(&camera).len() >= 8);
        let p = prepare(&camera, false).expect("prepared");
        assert!(p.had_metadata);
        assert_eq!(photos::metadata_left(&p.jpeg), Vec::<String>::new());
        assert_eq!(p.location, None);
        assert_eq!((p.width, p.height), (640, 480));
        // Read back by an independent decoder: the same picture.
        let back = image::load_from_memory(&p.jpeg).expect("decodes").to_rgb8();
        let px = back.get_pixel(100, 100).0;
        let want = photos::pattern(100, 100);
        assert!(
            px.iter().zip(want).all(|(a, b)| a.abs_diff(b) < 40),
            "{px:?} vs {want:?}"
        );
    }

    #[test]
    fn the_location_is_kept_beside_the_photo_only_when_asked() {
        use checkup_tests::photos;
        let camera = photos::camera_jpeg(320, 240).expect("camera photo");
        let p = prepare(&camera, true).expect("prepared");
        let at = p.location.expect("location kept");
        assert!((at.lat - photos::LAT).abs() < 1e-5, "{at:?}");
        assert!((at.lon - photos::LON).abs() < 1e-5, "{at:?}");
        // Beside the photo, never in it.
        assert_eq!(photos::metadata_left(&p.jpeg), Vec::<String>::new());
        // A photo without EXIF has no location to keep.
        let plain = prepare(&p.jpeg, true).expect("prepared");
        assert_eq!(plain.location, None);
        assert!(!plain.had_metadata);
    }

    #[test]
    fn a_large_photo_is_scaled_down_within_the_limits() {
        let img = image::RgbImage::from_fn(3000, 1000, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        });
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .expect("png");
        let p = prepare(&png, false).expect("prepared");
        assert_eq!((p.width, p.height), (MAX_PHOTO_SIDE, 683));
        assert!(p.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert!(p.jpeg.len() <= MAX_PHOTO_BYTES);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// A camera photo damaged anywhere (bytes overwritten, cut short) is refused with a
        /// code or kept as a fresh JPEG without metadata; the parser never panics.
        #[test]
        fn a_damaged_photo_is_refused_or_kept_clean(
            at in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 0..8),
            cut in proptest::option::of(0usize..4096),
        ) {
            let mut bytes = checkup_tests::photos::camera_jpeg(64, 48).expect("camera photo");
            for (i, b) in at {
                let n = bytes.len();
                bytes[i % n] = b;
            }
            if let Some(c) = cut {
                bytes.truncate(c % (bytes.len() + 1));
            }
            let _ = gps_location(&bytes);
            match prepare(&bytes, true) {
                Ok(p) => {
                    proptest::prop_assert!(p.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
                    proptest::prop_assert!(p.jpeg.len() <= MAX_PHOTO_BYTES);
                    proptest::prop_assert_eq!(
                        checkup_tests::photos::metadata_left(&p.jpeg),
                        Vec::<String>::new()
                    );
                }
                Err(e) => proptest::prop_assert!(!e.code().is_empty()),
            }
        }

        /// Arbitrary bytes: a typed refusal, never a panic.
        #[test]
        fn arbitrary_bytes_are_refused_with_a_code(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let _ = gps_location(&bytes);
            if let Err(e) = prepare(&bytes, false) {
                proptest::prop_assert!(!e.code().is_empty());
            }
        }
    }
}
