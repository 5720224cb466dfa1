//! Camera photos for the case-photo tests: a real JPEG carrying what a phone writes into it —
//! EXIF (written with kamadak-exif) with a GPS position, the camera's make, model and serial
//! number and a maker note, and an XMP packet naming the position again — over a pixel
//! pattern a test can look for.

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::ImageEncoder;

/// The camera's make in the EXIF.
pub const MAKE: &str = "CheckupTestCam";
/// The camera's model in the EXIF.
pub const MODEL: &str = "InjuryCam X9";
/// The camera body's serial number in the EXIF.
pub const SERIAL: &str = "SN-4242-7777-0815";
/// The maker note's bytes (what vendors hide device ids in).
pub const MAKER_NOTE: &[u8] = b"MAKERNOTE:device-tracking-id-31337";
/// The XMP packet's namespace, as found in a JPEG with XMP.
pub const XMP_NS: &[u8] = b"http://ns.adobe.com/xap/1.0/";
/// Where the photo was taken: Tokyo Station.
pub const LAT: f64 = 35.681236;
/// Where the photo was taken: Tokyo Station.
pub const LON: f64 = 139.767125;

/// The picture, (x, y) → RGB: like a photo of skin with a bruise — smooth shading, an oval
/// darker patch, and a little sensor noise (a pattern of sharp edges everywhere would make
/// a JPEG several times the size of a real photo's).
pub fn pattern(x: u32, y: u32) -> [u8; 3] {
    let (fx, fy) = (f64::from(x), f64::from(y));
    let shade = 20.0 * (fx / 90.0).sin() + 15.0 * (fy / 70.0).cos();
    let (dx, dy) = ((fx - 400.0) / 180.0, (fy - 300.0) / 110.0);
    let bruise = (1.0 - (dx * dx + dy * dy)).max(0.0);
    // Deterministic noise of a few levels.
    let h = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503);
    let noise = f64::from((h >> 13) % 9) - 4.0;
    let c =
        |base: f64, bruised: f64| (base + shade - bruised * bruise + noise).clamp(0.0, 255.0) as u8;
    [c(214.0, 110.0), c(170.0, 60.0), c(150.0, -10.0)]
}

/// The raw RGB bytes of the pattern's first row, `width` pixels (what a box storing decoded
/// pixels would hold).
pub fn pattern_row(width: u32) -> Vec<u8> {
    (0..width).flat_map(|x| pattern(x, 0)).collect()
}

fn dms(deg: f64) -> Vec<Rational> {
    let d = deg.trunc();
    let m = ((deg - d) * 60.0).trunc();
    let s = (deg - d - m / 60.0) * 3600.0;
    vec![
        Rational::from((d as u32, 1)),
        Rational::from((m as u32, 1)),
        Rational::from(((s * 10_000.0).round() as u32, 10_000)),
    ]
}

/// The EXIF block (TIFF data) a phone would write: GPS, make, model, serial, maker note.
pub fn camera_exif() -> anyhow::Result<Vec<u8>> {
    let fields = [
        Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![MAKE.as_bytes().to_vec()]),
        },
        Field {
            tag: Tag::Model,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![MODEL.as_bytes().to_vec()]),
        },
        Field {
            tag: Tag::BodySerialNumber,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![SERIAL.as_bytes().to_vec()]),
        },
        Field {
            tag: Tag::MakerNote,
            ifd_num: In::PRIMARY,
            value: Value::Undefined(MAKER_NOTE.to_vec(), 0),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"N".to_vec()]),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(dms(LAT)),
        },
        Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"E".to_vec()]),
        },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(dms(LON)),
        },
    ];
    let mut w = Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    w.write(&mut out, false)
        .map_err(|e| anyhow::anyhow!("EXIF: {e}"))?;
    Ok(out.into_inner())
}

/// A JPEG segment: marker, length, payload.
fn segment(marker: u8, payload: &[u8]) -> anyhow::Result<Vec<u8>> {
    let len = u16::try_from(payload.len() + 2)?;
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&len.to_be_bytes());
    s.extend_from_slice(payload);
    Ok(s)
}

/// A `width` × `height` camera JPEG of the pixel pattern, with the EXIF of
/// [`camera_exif`] (APP1 `Exif`) and an XMP packet (APP1) naming the position, right
/// after the start of image, as phones write them.
pub fn camera_jpeg(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(pattern(x, y)));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 95).write_image(
        img.as_raw(),
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    anyhow::ensure!(plain.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(camera_exif()?);
    let mut xmp = XMP_NS.to_vec();
    xmp.push(0);
    xmp.extend_from_slice(
        format!(
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
             <rdf:Description xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" exif:GPSLatitude=\"{LAT}N\" \
             exif:GPSLongitude=\"{LON}E\" tiff:Make=\"{MAKE}\" xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\"/>\
             </rdf:RDF></x:xmpmeta>"
        )
        .as_bytes(),
    );
    let mut out = plain[..2].to_vec();
    out.extend(segment(0xE1, &app1)?);
    out.extend(segment(0xE1, &xmp)?);
    out.extend_from_slice(&plain[2..]);
    Ok(out)
}

/// A `width` × `height` JPEG of the pixel pattern as a box keeps a photo: encoded afresh,
/// nothing but the image (what a box forwards to central in `case_photo_added`).
pub fn box_jpeg(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(pattern(x, y)));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).write_image(
        img.as_raw(),
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    anyhow::ensure!(out.starts_with(&[0xFF, 0xD8, 0xFF]), "not a JPEG");
    Ok(out)
}

/// What of a camera's metadata a JPEG still holds, by name (empty: none).
pub fn metadata_left(jpeg: &[u8]) -> Vec<String> {
    let mut left = Vec::new();
    let has = |needle: &[u8]| jpeg.windows(needle.len()).any(|w| w == needle);
    if let Ok(e) = exif::Reader::new().read_from_container(&mut Cursor::new(jpeg)) {
        for f in e.fields() {
            left.push(format!("EXIF {}", f.tag));
        }
        if e.fields().next().is_none() {
            left.push("an EXIF block".into());
        }
    }
    for (name, needle) in [
        ("Exif header", &b"Exif\0\0"[..]),
        ("XMP", XMP_NS),
        ("make", MAKE.as_bytes()),
        ("model", MODEL.as_bytes()),
        ("serial", SERIAL.as_bytes()),
        ("maker note", MAKER_NOTE),
        ("GPS", b"GPS"),
    ] {
        if has(needle) {
            left.push(name.to_owned());
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_camera_photo_carries_what_a_phone_writes() {
        let jpeg = camera_jpeg(64, 48).expect("jpeg");
        let left = metadata_left(&jpeg);
        for want in [
            "EXIF Make",
            "EXIF Model",
            "EXIF GPSLatitude",
            "EXIF GPSLongitude",
            "EXIF BodySerialNumber",
            "EXIF MakerNote",
            "XMP",
        ] {
            assert!(left.iter().any(|l| l == want), "{want} in {left:?}");
        }
        // And it is a JPEG an image library reads.
        let img = image::load_from_memory(&jpeg).expect("decodes");
        assert_eq!((img.width(), img.height()), (64, 48));
    }
}
