//! The child-welfare compartment: a police notice (児童通告書) reviewed by a clerk and saved
//! as a case ([`NoticeIntakeSaved`]), photos a caseworker attaches to the case
//! ([`CasePhotoAdded`]), and the audit of who was shown a scan, cases or photos
//! ([`CaseViewed`]).
//!
//! Only the child-welfare roles may append or read these events (see
//! [`crate::Role::may_see_child_cases`]); every other role's view of the log leaves them out.
//! Values are stored normalised: dates `YYYY-MM-DD`, sex `male|female`, abuse type
//! `physical|psychological|neglect|sexual`, names and addresses without spaces.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ProtocolError;

/// The fields of a notice, in the order a clerk reviews them.
pub const NOTICE_FIELDS: [&str; 9] = [
    "notice_date",
    "reporting_agency",
    "child_name",
    "child_birth_date",
    "child_sex",
    "child_address",
    "guardian_name",
    "abuse_type",
    "summary",
];

/// The closed vocabulary of abuse types.
pub const ABUSE_TYPES: [&str; 4] = ["physical", "psychological", "neglect", "sexual"];

/// Longest summary, in characters.
pub const MAX_SUMMARY_LEN: usize = 4000;
/// Longest other field, in characters.
pub const MAX_FIELD_LEN: usize = 200;

/// Payload of [`crate::EventBody::NoticeIntakeSaved`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeIntakeSaved {
    /// The new case (UUIDv7).
    pub case_id: Uuid,
    /// Every field of [`NOTICE_FIELDS`], as saved by the clerk.
    pub fields: BTreeMap<String, NoticeField>,
    /// The child in the resident register, when matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
    /// The scanned page the fields were read from.
    pub source: NoticeSource,
}

/// One reviewed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeField {
    /// The saved value (empty: not on the notice).
    pub value: String,
    /// How sure the reader was of what it read, 0..=1 (kept after a correction).
    pub confidence: f64,
    /// The clerk typed a different value from what was read.
    pub corrected: bool,
}

/// Where a notice came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeSource {
    /// File name as uploaded or dropped in the hot folder.
    pub file: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

impl NoticeIntakeSaved {
    /// The value of a field ("" when absent).
    pub fn value(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", |f| f.value.as_str())
    }

    /// Payload rules: exactly the known fields, normalised values, lengths, confidences.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.case_id.is_nil() {
            return Err(ProtocolError::invalid(
                "payload.case_id",
                "must not be the nil UUID",
            ));
        }
        if let Some(unknown) = self
            .fields
            .keys()
            .find(|k| !NOTICE_FIELDS.contains(&k.as_str()))
        {
            return Err(ProtocolError::invalid(
                "payload.fields",
                format!("unknown field {unknown:?}"),
            ));
        }
        for name in NOTICE_FIELDS {
            let Some(f) = self.fields.get(name) else {
                return Err(ProtocolError::invalid(
                    "payload.fields",
                    format!("missing field {name:?}"),
                ));
            };
            check_field(name, f)?;
        }
        if self.value("child_name").is_empty() {
            return Err(ProtocolError::invalid(
                "payload.fields",
                "a case needs the child's name",
            ));
        }
        if let Some(r) = &self.resident_id {
            crate::event::check_id("payload.resident_id", r)?;
        }
        let file_ok = !self.source.file.trim().is_empty()
            && self.source.file.chars().count() <= 255
            && !self.source.file.chars().any(char::is_control);
        if !file_ok {
            return Err(ProtocolError::invalid(
                "payload.source.file",
                "must be 1 to 255 characters without control characters",
            ));
        }
        let hex_ok = self.source.sha256.len() == 64
            && self
                .source
                .sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !hex_ok {
            return Err(ProtocolError::invalid(
                "payload.source.sha256",
                "must be 64 lowercase hex digits",
            ));
        }
        Ok(())
    }
}

/// Most cases one [`CaseViewed`] names; a longer list shown at once is recorded as several
/// events.
pub const MAX_VIEWED_CASES: usize = 100;

/// Payload of [`crate::EventBody::CaseViewed`]: a child-welfare role was shown a scanned
/// notice (its record or a crop of it) or saved cases. The box records it, durably, before
/// the data is returned, as `record_viewed` is for health records; it is part of the
/// child-welfare compartment and of no health record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CaseViewed {
    /// The scan shown, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<Uuid>,
    /// The cases shown (the scan's case, or the rows of a case list), at most
    /// [`MAX_VIEWED_CASES`], each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_ids: Vec<Uuid>,
    /// What screen or API showed it.
    pub purpose: String,
}

impl CaseViewed {
    /// Payload rules: a scan or at least one case, no nil ids, no case twice, at most
    /// [`MAX_VIEWED_CASES`] cases, a purpose of 1 to 1000 characters.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.scan_id.is_none() && self.case_ids.is_empty() {
            return Err(ProtocolError::invalid(
                "payload",
                "a view names a scan_id or case_ids",
            ));
        }
        if self.scan_id.is_some_and(|id| id.is_nil()) {
            return Err(ProtocolError::invalid(
                "payload.scan_id",
                "must not be the nil UUID",
            ));
        }
        if self.case_ids.len() > MAX_VIEWED_CASES {
            return Err(ProtocolError::invalid(
                "payload.case_ids",
                format!(
                    "{} cases; at most {MAX_VIEWED_CASES} (record a longer list as several views)",
                    self.case_ids.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for id in &self.case_ids {
            if id.is_nil() {
                return Err(ProtocolError::invalid(
                    "payload.case_ids",
                    "must not hold the nil UUID",
                ));
            }
            if !seen.insert(id) {
                return Err(ProtocolError::invalid(
                    "payload.case_ids",
                    format!("case {id} is listed twice"),
                ));
            }
        }
        crate::event::check_text("payload.purpose", &self.purpose)
    }
}

fn check_field(name: &'static str, f: &NoticeField) -> Result<(), ProtocolError> {
    let field = "payload.fields";
    let bad = |why: String| Err(ProtocolError::invalid(field, format!("{name}: {why}")));
    if !(f.confidence.is_finite() && (0.0..=1.0).contains(&f.confidence)) {
        return bad("confidence must be between 0 and 1".into());
    }
    let v = f.value.as_str();
    let max = if name == "summary" {
        MAX_SUMMARY_LEN
    } else {
        MAX_FIELD_LEN
    };
    let n = v.chars().count();
    if n > max {
        return bad(format!("{n} characters; at most {max}"));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return bad("contains control characters".into());
    }
    if v.is_empty() {
        return Ok(());
    }
    match name {
        "notice_date" | "child_birth_date" if !is_iso_date(v) => {
            return bad(format!("{v:?} is not a date YYYY-MM-DD"));
        }
        "child_sex" if !matches!(v, "male" | "female") => {
            return bad(format!("{v:?} is not male or female"));
        }
        "abuse_type" if !ABUSE_TYPES.contains(&v) => {
            return bad(format!("{v:?} is not one of {}", ABUSE_TYPES.join(", ")));
        }
        "child_name" | "guardian_name" | "child_address" if v.chars().any(char::is_whitespace) => {
            return bad("must be written without spaces".into());
        }
        _ => {}
    }
    Ok(())
}

/// `YYYY-MM-DD` naming a real day (1868 onwards: the 和暦 eras a notice can print).
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    if !s
        .bytes()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return false;
    }
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1868..=2200).contains(&y) && (1..=days).contains(&d)
}

/// Largest photo kept, in bytes of JPEG (the box re-encodes every photo within it).
pub const MAX_PHOTO_BYTES: usize = 1_500_000;
/// Longest side of a photo kept, in pixels (the box scales larger ones down).
pub const MAX_PHOTO_SIDE: u32 = 2048;

/// Where a photo was taken, kept only when the box's `photos.keep_location` says so.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhotoLocation {
    /// Latitude, degrees (north positive).
    pub lat: f64,
    /// Longitude, degrees (east positive).
    pub lon: f64,
}

/// Payload of [`crate::EventBody::CasePhotoAdded`]: a caseworker attached a photo (an
/// injury) to a case. The photo is the box's re-encoding of what the tablet sent: a plain
/// JPEG with no EXIF, XMP or maker notes (so no GPS, camera make, model or serial); where it
/// was taken is kept apart, in `location`, only when the box is set to keep it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CasePhotoAdded {
    /// The case (a saved notice's `case_id`).
    pub case_id: Uuid,
    /// The photo (UUIDv7).
    pub photo_id: Uuid,
    /// The JPEG, standard base64, at most [`MAX_PHOTO_BYTES`] decoded.
    pub jpeg: String,
    /// Width in pixels, 1 to [`MAX_PHOTO_SIDE`].
    pub width: u32,
    /// Height in pixels, 1 to [`MAX_PHOTO_SIDE`].
    pub height: u32,
    /// A caption (「右上腕のあざ」), at most [`MAX_FIELD_LEN`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where it was taken, when kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<PhotoLocation>,
}

impl CasePhotoAdded {
    /// The JPEG's bytes, if `jpeg` is base64 of a JPEG within [`MAX_PHOTO_BYTES`].
    pub fn jpeg_bytes(&self) -> Result<Vec<u8>, ProtocolError> {
        use base64::Engine as _;
        // Base64 is 4 characters for 3 bytes: refuse a long text before decoding it.
        if self.jpeg.len() > MAX_PHOTO_BYTES.div_ceil(3) * 4 {
            return Err(ProtocolError::invalid(
                "payload.jpeg",
                format!("more than {MAX_PHOTO_BYTES} bytes"),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.jpeg)
            .map_err(|e| ProtocolError::invalid("payload.jpeg", format!("not base64: {e}")))?;
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(ProtocolError::invalid(
                "payload.jpeg",
                format!("more than {MAX_PHOTO_BYTES} bytes"),
            ));
        }
        if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Err(ProtocolError::invalid("payload.jpeg", "not a JPEG"));
        }
        Ok(bytes)
    }

    /// Payload rules: ids, a JPEG within the limits, its size, a caption's length, a
    /// location on the globe.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.case_id.is_nil() {
            return Err(ProtocolError::invalid(
                "payload.case_id",
                "must not be the nil UUID",
            ));
        }
        if self.photo_id.is_nil() {
            return Err(ProtocolError::invalid(
                "payload.photo_id",
                "must not be the nil UUID",
            ));
        }
        for (field, v) in [
            ("payload.width", self.width),
            ("payload.height", self.height),
        ] {
            if v == 0 || v > MAX_PHOTO_SIDE {
                return Err(ProtocolError::invalid(
                    field,
                    format!("must be 1 to {MAX_PHOTO_SIDE} pixels"),
                ));
            }
        }
        self.jpeg_bytes()?;
        if let Some(n) = &self.note
            && (n.chars().count() > MAX_FIELD_LEN || n.chars().any(char::is_control))
        {
            return Err(ProtocolError::invalid(
                "payload.note",
                format!("at most {MAX_FIELD_LEN} characters, no control characters"),
            ));
        }
        if let Some(l) = self.location {
            let ok = l.lat.is_finite()
                && l.lon.is_finite()
                && (-90.0..=90.0).contains(&l.lat)
                && (-180.0..=180.0).contains(&l.lon);
            if !ok {
                return Err(ProtocolError::invalid(
                    "payload.location",
                    "latitude -90 to 90, longitude -180 to 180",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NoticeIntakeSaved {
        let mut fields = BTreeMap::new();
        for (k, v) in [
            ("notice_date", "2026-11-20"),
            ("reporting_agency", "北警察署"),
            ("child_name", "山田花子"),
            ("child_birth_date", "2019-05-01"),
            ("child_sex", "female"),
            ("child_address", "東京都千代田区一番町1-1"),
            ("guardian_name", "山田太郎"),
            ("abuse_type", "neglect"),
            ("summary", "夜間に一人で外にいた。"),
        ] {
            fields.insert(
                k.to_owned(),
                NoticeField {
                    value: v.into(),
                    confidence: 0.9,
                    corrected: false,
                },
            );
        }
        NoticeIntakeSaved {
            case_id: Uuid::now_v7(),
            fields,
            resident_id: Some("0000012345".into()),
            source: NoticeSource {
                file: "scan-001.png".into(),
                sha256: "a".repeat(64),
            },
        }
    }

    #[test]
    fn a_reviewed_notice_is_valid() {
        sample().validate().expect("valid");
    }

    #[test]
    fn values_must_be_normalised_and_complete() {
        let cases: [(&str, &str); 7] = [
            ("child_birth_date", "令和元年5月1日"),
            ("notice_date", "2026-02-30"),
            ("child_sex", "女"),
            ("abuse_type", "身体的虐待"),
            ("child_name", "山田 花子"),
            ("child_name", ""),
            ("summary", "\u{7}"),
        ];
        for (k, v) in cases {
            let mut n = sample();
            if let Some(f) = n.fields.get_mut(k) {
                f.value = v.into();
            }
            assert!(n.validate().is_err(), "{k} = {v:?} must be refused");
        }
        let mut n = sample();
        n.fields.remove("summary");
        assert!(n.validate().is_err(), "a missing field");
        let mut n = sample();
        n.fields.insert(
            "phone".into(),
            NoticeField {
                value: "1".into(),
                confidence: 1.0,
                corrected: false,
            },
        );
        assert!(n.validate().is_err(), "an unknown field");
        let mut n = sample();
        if let Some(f) = n.fields.get_mut("summary") {
            f.confidence = f64::NAN;
        }
        assert!(n.validate().is_err(), "a NaN confidence");
        let mut n = sample();
        n.source.sha256 = "xyz".into();
        assert!(n.validate().is_err(), "a bad digest");
    }

    #[test]
    fn case_views_name_what_was_shown_within_bounds() {
        let view = |scan: Option<Uuid>, cases: Vec<Uuid>, purpose: &str| CaseViewed {
            scan_id: scan,
            case_ids: cases,
            purpose: purpose.into(),
        };
        let a = Uuid::now_v7();
        view(Some(a), vec![], "GET /api/intake/scans/x")
            .validate()
            .expect("a scan");
        view(None, vec![a, Uuid::now_v7()], "GET /api/cases")
            .validate()
            .expect("cases");
        let many: Vec<Uuid> = (0..MAX_VIEWED_CASES).map(|_| Uuid::now_v7()).collect();
        view(None, many.clone(), "GET /api/cases")
            .validate()
            .expect("the most cases");
        let refused = [
            view(None, vec![], "GET /api/cases"),
            view(Some(Uuid::nil()), vec![], "x"),
            view(None, vec![Uuid::nil()], "x"),
            view(None, vec![a, a], "x"),
            view(None, [many, vec![a]].concat(), "x"),
            view(Some(a), vec![], " "),
            view(Some(a), vec![], &"x".repeat(1001)),
        ];
        for v in refused {
            assert!(v.validate().is_err(), "{v:?} must be refused");
        }
        // Unknown payload fields are refused.
        let json = format!(r#"{{"scan_id":"{a}","purpose":"x","resident_id":"1"}}"#);
        assert!(serde_json::from_str::<CaseViewed>(&json).is_err());
    }

    #[test]
    fn iso_dates_are_checked_for_real_days() {
        assert!(is_iso_date("2019-05-01"));
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2019-5-01"));
        assert!(!is_iso_date("2019-13-01"));
        assert!(!is_iso_date("+019-05-01"));
    }

    #[test]
    fn a_case_photo_is_a_jpeg_within_the_limits() {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        jpeg.extend(std::iter::repeat_n(7u8, 1000));
        let photo = CasePhotoAdded {
            case_id: Uuid::now_v7(),
            photo_id: Uuid::now_v7(),
            jpeg: b64(&jpeg),
            width: 640,
            height: 480,
            note: Some("右上腕のあざ".into()),
            location: Some(PhotoLocation {
                lat: 35.68,
                lon: 139.76,
            }),
        };
        photo.validate().expect("valid");
        assert_eq!(photo.jpeg_bytes().expect("bytes"), jpeg);
        let json = serde_json::to_string(&photo).expect("json");
        assert_eq!(
            serde_json::from_str::<CasePhotoAdded>(&json).expect("back"),
            photo
        );
        let field = |p: CasePhotoAdded| p.validate().map_err(|e| e.to_string()).unwrap_err();
        // Not a JPEG (a PNG), not base64, too large, no size, a nil id, off the globe.
        let e = field(CasePhotoAdded {
            jpeg: b64(b"\x89PNG\r\n\x1a\nabc"),
            ..photo.clone()
        });
        assert!(e.contains("payload.jpeg"), "{e}");
        let e = field(CasePhotoAdded {
            jpeg: "not base64!".into(),
            ..photo.clone()
        });
        assert!(e.contains("payload.jpeg"), "{e}");
        let mut big = jpeg.clone();
        big.resize(MAX_PHOTO_BYTES + 1, 0);
        let e = field(CasePhotoAdded {
            jpeg: b64(&big),
            ..photo.clone()
        });
        assert!(e.contains("payload.jpeg"), "{e}");
        let e = field(CasePhotoAdded {
            width: 0,
            ..photo.clone()
        });
        assert!(e.contains("payload.width"), "{e}");
        let e = field(CasePhotoAdded {
            height: MAX_PHOTO_SIDE + 1,
            ..photo.clone()
        });
        assert!(e.contains("payload.height"), "{e}");
        let e = field(CasePhotoAdded {
            case_id: Uuid::nil(),
            ..photo.clone()
        });
        assert!(e.contains("payload.case_id"), "{e}");
        let e = field(CasePhotoAdded {
            location: Some(PhotoLocation {
                lat: 91.0,
                lon: 0.0,
            }),
            ..photo.clone()
        });
        assert!(e.contains("payload.location"), "{e}");
        let e = field(CasePhotoAdded {
            note: Some("あ".repeat(MAX_FIELD_LEN + 1)),
            ..photo
        });
        assert!(e.contains("payload.note"), "{e}");
    }
}
