//! Command APDUs the reader sends and the decoding of response APDUs (data + status word).

use super::error::CardError;

/// SELECT the card-face input support application (券面事項入力補助AP).
pub const SELECT_CARD_FACE_AP: [u8; 15] = [
    0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08,
];
/// SELECT EF 0011 (the card-face AP's PIN).
pub const SELECT_PIN_EF: [u8; 7] = [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x11];
/// SELECT EF 0002 (basic four items).
pub const SELECT_BASIC_FOUR_EF: [u8; 7] = [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x02];
/// VERIFY without data: reports tries left without spending one.
pub const VERIFY_TRIES_LEFT: [u8; 4] = [0x00, 0x20, 0x00, 0x80];
/// PC/SC pseudo-APDU GET DATA (UID / FeliCa IDm).
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];
/// The EF that holds the individual number; never selected by this reader.
pub const INDIVIDUAL_NUMBER_EF: u16 = 0x0001;

/// VERIFY with a 4-digit PIN (ASCII digits).
pub fn verify(pin_digits: &[u8; 4]) -> [u8; 9] {
    let mut c = [0x00, 0x20, 0x00, 0x80, 0x04, 0, 0, 0, 0];
    c[5..].copy_from_slice(pin_digits);
    c
}

/// READ BINARY of `le` bytes (1..=256; 0 encodes 256) at `offset` of the selected EF.
pub fn read_binary(offset: u16, le: u8) -> [u8; 5] {
    let [hi, lo] = offset.to_be_bytes();
    [0x00, 0xB0, hi & 0x7F, lo, le]
}

/// A response split into data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Data bytes.
    pub data: Vec<u8>,
    /// First status byte.
    pub sw1: u8,
    /// Second status byte.
    pub sw2: u8,
}

impl Response {
    /// Split raw response bytes; fewer than two bytes is malformed.
    pub fn parse(mut raw: Vec<u8>) -> Result<Response, CardError> {
        if raw.len() < 2 {
            return Err(CardError::MalformedCardData(format!(
                "response of {} bytes has no status word",
                raw.len()
            )));
        }
        let sw2 = raw.pop().unwrap_or(0);
        let sw1 = raw.pop().unwrap_or(0);
        Ok(Response {
            data: raw,
            sw1,
            sw2,
        })
    }

    /// Whether the status is 90 00.
    pub fn is_ok(&self) -> bool {
        self.sw1 == 0x90 && self.sw2 == 0x00
    }

    /// Ok, or the status word as an error naming `command`.
    pub fn ok(self, command: &'static str) -> Result<Vec<u8>, CardError> {
        if self.is_ok() {
            Ok(self.data)
        } else {
            Err(CardError::BadStatus {
                command,
                sw1: self.sw1,
                sw2: self.sw2,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commands_match_the_design() {
        assert_eq!(read_binary(0x0100, 0xFF), [0x00, 0xB0, 0x01, 0x00, 0xFF]);
        assert_eq!(
            verify(b"1234"),
            [0x00, 0x20, 0x00, 0x80, 0x04, b'1', b'2', b'3', b'4']
        );
    }

    proptest! {
        #[test]
        fn any_response_decodes_or_errors(raw in prop::collection::vec(any::<u8>(), 0..300)) {
            let n = raw.len();
            match Response::parse(raw) {
                Ok(r) => prop_assert_eq!(r.data.len() + 2, n),
                Err(e) => { prop_assert!(n < 2); prop_assert_eq!(e.code(), "malformed_card_data"); }
            }
        }
    }
}
