//! My Number card, card-face input support application (券面事項入力補助AP): tries left,
//! PIN verification and the basic four items (name, address, birth date, sex) from EF 0002.
//!
//! PIN rules (DESIGN.md): never retry automatically; report tries left without spending
//! one; refuse to send when one try is left unless staff confirmed. The individual number
//! (EF 0001) is never selected here.

use serde::Serialize;
use time::Date;

use super::Transport;
use super::apdu::{self, Response};
use super::error::CardError;
use super::tlv;

/// Largest EF 0002 this reader accepts; a card claiming more answers nonsense.
pub const MAX_BASIC_FOUR_LEN: usize = 2048;
/// Bytes read first: enough for the outer tag and the longest length form.
const HEADER_READ: u8 = 5;
/// Largest chunk per READ BINARY.
pub const MAX_CHUNK: usize = 255;

/// A 4-digit PIN. Its `Debug` prints nothing; it is cleared when dropped.
#[derive(Clone, Default)]
pub struct Pin([u8; 4]);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        // Best effort: overwrite the digits before the memory is freed.
        for b in self.0.iter_mut() {
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl Pin {
    /// Parse 4 ASCII digits (surrounding whitespace ignored).
    pub fn parse(s: &str) -> Result<Pin, CardError> {
        let s = s.trim();
        let bytes: [u8; 4] = s.as_bytes().try_into().map_err(|_| CardError::PinFormat)?;
        if bytes.iter().all(u8::is_ascii_digit) {
            Ok(Pin(bytes))
        } else {
            Err(CardError::PinFormat)
        }
    }
}

/// Sex as ISO 5218 codes it on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// `1`
    Male,
    /// `2`
    Female,
    /// `9` (not applicable)
    Other,
}

/// The card-face basic four items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct BasicFour {
    /// Name as printed on the card.
    pub name: String,
    /// Address as printed on the card.
    pub address: String,
    /// Birth date, serialised `YYYY-MM-DD`.
    #[serde(serialize_with = "iso_date")]
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = Date))]
    pub birth_date: Date,
    /// Sex.
    pub sex: Sex,
}

fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!(
        "{:04}-{:02}-{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    ))
}

fn transmit(t: &mut impl Transport, command: &[u8]) -> Result<Response, CardError> {
    Response::parse(t.transmit(command)?)
}

/// Select the card-face application (answers whether this is a My Number card).
pub fn select_application(t: &mut impl Transport) -> Result<bool, CardError> {
    Ok(transmit(t, &apdu::SELECT_CARD_FACE_AP)?.is_ok())
}

/// Tries left on the card-face PIN, without spending one. `Ok(0)` means blocked.
pub fn tries_left(t: &mut impl Transport) -> Result<u8, CardError> {
    transmit(t, &apdu::SELECT_PIN_EF)?.ok("SELECT PIN EF")?;
    let r = transmit(t, &apdu::VERIFY_TRIES_LEFT)?;
    match (r.sw1, r.sw2) {
        (0x63, sw2) if sw2 & 0xF0 == 0xC0 => Ok(sw2 & 0x0F),
        (0x69, 0x83) => Ok(0),
        // Already verified in this session: the card does not say; treat as full.
        (0x90, 0x00) => Ok(3),
        (sw1, sw2) => Err(CardError::BadStatus {
            command: "VERIFY (tries left)",
            sw1,
            sw2,
        }),
    }
}

/// Verify the PIN, respecting the one-try-left rule.
pub fn verify_pin(
    t: &mut impl Transport,
    pin: &Pin,
    confirm_last_try: bool,
) -> Result<(), CardError> {
    match tries_left(t)? {
        0 => return Err(CardError::PinBlocked),
        1 if !confirm_last_try => return Err(CardError::OneTryLeft),
        _ => {}
    }
    let r = transmit(t, &apdu::verify(&pin.0))?;
    match (r.sw1, r.sw2) {
        (0x90, 0x00) => Ok(()),
        (0x63, sw2) if sw2 & 0xF0 == 0xC0 => match sw2 & 0x0F {
            0 => Err(CardError::PinBlocked),
            n => Err(CardError::WrongPin { tries_left: n }),
        },
        (0x69, 0x83) => Err(CardError::PinBlocked),
        (sw1, sw2) => Err(CardError::BadStatus {
            command: "VERIFY",
            sw1,
            sw2,
        }),
    }
}

/// Read EF 0002 whole: the first bytes, then the rest in chunks of at most 255 bytes.
pub fn read_basic_four_ef(t: &mut impl Transport) -> Result<Vec<u8>, CardError> {
    transmit(t, &apdu::SELECT_BASIC_FOUR_EF)?.ok("SELECT EF 0002")?;
    let mut data = transmit(t, &apdu::read_binary(0, HEADER_READ))?.ok("READ BINARY")?;
    if data.is_empty() {
        return Err(CardError::MalformedCardData("EF 0002 is empty".into()));
    }
    let (_, header_len, value_len) = match tlv::header(&data) {
        Ok(h) => h,
        // Fewer header bytes than asked for: the card sent less than a header.
        Err(e) => return Err(CardError::MalformedCardData(e.to_string())),
    };
    let total = header_len + value_len;
    if total > MAX_BASIC_FOUR_LEN {
        return Err(CardError::MalformedCardData(format!(
            "EF 0002 claims {total} bytes (at most {MAX_BASIC_FOUR_LEN})"
        )));
    }
    data.truncate(total);
    while data.len() < total {
        let want = (total - data.len()).min(MAX_CHUNK);
        let chunk =
            transmit(t, &apdu::read_binary(data.len() as u16, want as u8))?.ok("READ BINARY")?;
        if chunk.is_empty() {
            return Err(CardError::MalformedCardData(format!(
                "EF 0002 ended at {} of {total} bytes",
                data.len()
            )));
        }
        let take = chunk.len().min(total - data.len());
        data.extend_from_slice(&chunk[..take]);
    }
    Ok(data)
}

/// Decode EF 0002 (`FF 20` { `DF 21` header, `DF 22` name, `DF 23` address, `DF 24` birth
/// date, `DF 25` sex }).
pub fn parse_basic_four(data: &[u8]) -> Result<BasicFour, CardError> {
    let bad = |m: String| CardError::MalformedCardData(m);
    let (outer, _) = tlv::parse_one(data).map_err(|e| bad(e.to_string()))?;
    if outer.tag != 0xFF20 {
        return Err(bad(format!(
            "EF 0002 starts with tag {:X}, not FF20",
            outer.tag
        )));
    }
    let items = tlv::parse_all(outer.value).map_err(|e| bad(e.to_string()))?;
    let find = |tag: u32, what: &str| {
        items
            .iter()
            .find(|t| t.tag == tag)
            .map(|t| t.value)
            .ok_or_else(|| bad(format!("{what} ({tag:X}) is missing")))
    };
    let text = |tag: u32, what: &str| -> Result<String, CardError> {
        let v = find(tag, what)?;
        let s = std::str::from_utf8(v).map_err(|_| bad(format!("{what} is not UTF-8")))?;
        let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        if s.is_empty() {
            return Err(bad(format!("{what} is empty")));
        }
        Ok(s.to_owned())
    };
    let name = text(0xDF22, "name")?;
    let address = text(0xDF23, "address")?;
    let birth = find(0xDF24, "birth date")?;
    let birth_date =
        parse_yyyymmdd(birth).ok_or_else(|| bad("birth date is not YYYYMMDD".into()))?;
    let sex = match find(0xDF25, "sex")? {
        b"1" => Sex::Male,
        b"2" => Sex::Female,
        b"9" => Sex::Other,
        other => return Err(bad(format!("sex code {other:?} is not 1, 2 or 9"))),
    };
    Ok(BasicFour {
        name,
        address,
        birth_date,
        sex,
    })
}

fn parse_yyyymmdd(b: &[u8]) -> Option<Date> {
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let month = time::Month::try_from(n(4..6) as u8).ok()?;
    Date::from_calendar_date(n(0..4) as i32, month, n(6..8) as u8).ok()
}

/// The whole read: select, PIN, EF 0002, decode.
pub fn read_basic_four(
    t: &mut impl Transport,
    pin: &Pin,
    confirm_last_try: bool,
) -> Result<BasicFour, CardError> {
    if !select_application(t)? {
        return Err(CardError::UnknownCard);
    }
    verify_pin(t, pin, confirm_last_try)?;
    parse_basic_four(&read_basic_four_ef(t)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::tlv::encode;
    use proptest::prelude::*;

    fn ef(name: &str, address: &str, birth: &str, sex: &str, long: bool) -> Vec<u8> {
        let mut inner = encode(0xDF21, &[0u8; 8], long);
        inner.extend(encode(0xDF22, name.as_bytes(), long));
        inner.extend(encode(0xDF23, address.as_bytes(), long));
        inner.extend(encode(0xDF24, birth.as_bytes(), long));
        inner.extend(encode(0xDF25, sex.as_bytes(), long));
        encode(0xFF20, &inner, long)
    }

    #[test]
    fn the_basic_four_decode() {
        let b = parse_basic_four(&ef(
            "髙橋　節子",
            "みどり市中央1丁目2番3号",
            "19520314",
            "2",
            false,
        ))
        .expect("decodes");
        assert_eq!(b.name, "髙橋　節子");
        assert_eq!(b.sex, Sex::Female);
        assert_eq!(
            serde_json::to_value(&b).expect("json")["birth_date"],
            "1952-03-14"
        );
        assert!(
            parse_basic_four(&ef("a", "b", "19520314", "1", true)).is_ok(),
            "82 forms"
        );
    }

    #[test]
    fn nonsense_is_malformed_card_data() {
        for data in [
            ef("a", "b", "19521314", "1", false),
            ef("a", "b", "1952031", "1", false),
            ef("a", "b", "19520314", "3", false),
            ef("", "b", "19520314", "1", false),
            encode(0xFF21, b"x", false),
            vec![0xFF, 0x20, 0x10, 0xDF],
            {
                let mut v = ef("a", "b", "19520314", "1", false);
                v[5] = 0x7F;
                v
            },
        ] {
            assert_eq!(
                parse_basic_four(&data).map_err(|e| e.code()),
                Err("malformed_card_data")
            );
        }
        let mut not_utf8 = vec![0xDF, 0x22, 0x02, 0xFF, 0xFE];
        not_utf8.extend(encode(0xDF23, b"b", false));
        assert!(parse_basic_four(&encode(0xFF20, &not_utf8, false)).is_err());
    }

    #[test]
    fn the_pin_never_prints() {
        let p = Pin::parse("1234").expect("pin");
        assert_eq!(format!("{p:?}"), "Pin(****)");
        assert_eq!(Pin::parse("12a4").err(), Some(CardError::PinFormat));
        assert_eq!(Pin::parse("12345").err(), Some(CardError::PinFormat));
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_error(data in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_basic_four(&data);
        }

        #[test]
        fn generated_cards_decode(
            name in "[ぁ-んァ-ン一-龥]{1,20}", address in "[ぁ-ん一-龥0-9]{1,60}",
            y in 1900i32..2025, m in 1u8..=12, d in 1u8..=28, sex in prop::sample::select(vec!["1", "2", "9"]),
            long in any::<bool>()
        ) {
            let birth = format!("{y:04}{m:02}{d:02}");
            let b = parse_basic_four(&ef(&name, &address, &birth, sex, long)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(b.name, name);
            prop_assert_eq!(b.address, address);
        }
    }
}
