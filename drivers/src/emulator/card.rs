//! Emulated cards: what they hold and how they answer.

use serde::{Deserialize, Serialize};

use crate::card::tlv::encode;

/// ATR of the emulated My Number card (contact interface, ISO 7816).
pub const MYNUMBER_ATR: &[u8] = &[0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];
/// ATR a PC/SC reader presents for a contactless storage card (FeliCa).
pub const CONTACTLESS_ATR: &[u8] = &[
    0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x11, 0x00, 0x3B, 0x00,
    0x00, 0x00, 0x00, 0x42,
];
/// ATR of a card that is neither (a bank card, say).
pub const UNKNOWN_ATR: &[u8] = &[
    0x3B, 0x68, 0x00, 0x00, 0x80, 0x66, 0xB0, 0x07, 0x01, 0x01, 0x07,
];

/// What the card is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Profile {
    /// A My Number card.
    Mynumber {
        /// Name (UTF-8).
        name: String,
        /// Address (UTF-8).
        address: String,
        /// `YYYYMMDD`.
        birth_date: String,
        /// `1`, `2` or `9`.
        sex: String,
        /// Card-face PIN, 4 digits.
        pin: String,
        /// Tries left (3 fresh, 0 blocked).
        tries_left: u8,
        /// 12 digits; our reader must never select EF 0001.
        individual_number: String,
    },
    /// A contactless venue card.
    Contactless {
        /// UID bytes as lowercase hex.
        uid: String,
    },
    /// A card that answers neither application.
    Unknown,
}

/// Failures to inject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay every answer by this many milliseconds.
    pub delay_ms: u64,
    /// Vanish (drop the connection) when asked for this READ BINARY (1-based).
    pub remove_on_read: Option<u32>,
    /// Corrupt EF 0002 (a length that overruns its parent).
    pub malformed_tlv: bool,
    /// Truncate EF 0002 after this many bytes.
    pub truncate_ef: Option<usize>,
    /// Use the `82` long length form everywhere.
    pub long_form: bool,
    /// Answer READ BINARY with at most this many bytes (a card with small buffers).
    pub chunk_limit: Option<usize>,
    /// Answer every command with this status word instead.
    pub status_word: Option<[u8; 2]>,
}

/// What the emulator does with a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Send these response bytes.
    Respond(Vec<u8>),
    /// Disappear (card pulled out of the reader's field).
    Remove,
}

/// An emulated card with its session state.
#[derive(Debug, Clone)]
pub struct EmulatedCard {
    /// Profile.
    pub profile: Profile,
    /// Faults.
    pub faults: Faults,
    /// Whether the card-face application is selected.
    ap_selected: bool,
    /// Selected EF.
    ef: Option<u16>,
    /// PIN verified in this session.
    verified: bool,
    /// READ BINARY commands seen.
    reads: u32,
    /// Every command received (tests check what the reader asked).
    pub log: Vec<Vec<u8>>,
}

fn sw(a: u8, b: u8) -> Answer {
    Answer::Respond(vec![a, b])
}

impl EmulatedCard {
    /// A fresh card.
    pub fn new(profile: Profile, faults: Faults) -> Self {
        EmulatedCard {
            profile,
            faults,
            ap_selected: false,
            ef: None,
            verified: false,
            reads: 0,
            log: Vec::new(),
        }
    }

    /// The ATR.
    pub fn atr(&self) -> &'static [u8] {
        match self.profile {
            Profile::Mynumber { .. } => MYNUMBER_ATR,
            Profile::Contactless { .. } => CONTACTLESS_ATR,
            Profile::Unknown => UNKNOWN_ATR,
        }
    }

    /// Power cycle or reset: session state is lost, the PIN counter is not.
    pub fn reset(&mut self) {
        self.ap_selected = false;
        self.ef = None;
        self.verified = false;
    }

    /// The EF 0002 contents for this profile and faults.
    pub fn basic_four_ef(&self) -> Vec<u8> {
        let Profile::Mynumber {
            name,
            address,
            birth_date,
            sex,
            ..
        } = &self.profile
        else {
            return Vec::new();
        };
        let long = self.faults.long_form;
        // DF21: offsets of the four items (the real card's header); content not interpreted.
        let mut inner = encode(0xDF21, &[0u8; 8], long);
        inner.extend(encode(0xDF22, name.as_bytes(), long));
        inner.extend(encode(0xDF23, address.as_bytes(), long));
        inner.extend(encode(0xDF24, birth_date.as_bytes(), long));
        inner.extend(encode(0xDF25, sex.as_bytes(), long));
        if self.faults.malformed_tlv {
            // DF22's length claims more than its parent holds.
            if let Some(p) = inner.windows(2).position(|w| w == [0xDF, 0x22]) {
                inner[p + 2] = 0x7F;
            }
        }
        let mut ef = encode(0xFF20, &inner, long);
        if let Some(n) = self.faults.truncate_ef {
            ef.truncate(n);
        }
        ef
    }

    /// Answer one command APDU.
    pub fn answer(&mut self, apdu: &[u8]) -> Answer {
        self.log.push(apdu.to_vec());
        if let Some([a, b]) = self.faults.status_word {
            return sw(a, b);
        }
        if apdu.len() < 4 {
            return sw(0x67, 0x00);
        }
        let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
        let data = if apdu.len() > 5 {
            let lc = usize::from(apdu[4]);
            apdu.get(5..5 + lc).unwrap_or(&[])
        } else {
            &[]
        };
        match &mut self.profile {
            Profile::Unknown => sw(0x6A, 0x82),
            Profile::Contactless { uid } => {
                if (cla, ins, p1, p2) == (0xFF, 0xCA, 0x00, 0x00) {
                    let mut r = hex_bytes(uid);
                    r.extend([0x90, 0x00]);
                    Answer::Respond(r)
                } else {
                    sw(0x6A, 0x81)
                }
            }
            Profile::Mynumber { .. } => self.answer_mynumber(cla, ins, p1, p2, data, apdu),
        }
    }

    fn answer_mynumber(
        &mut self,
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: &[u8],
        apdu: &[u8],
    ) -> Answer {
        const AP: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
        if cla == 0xFF && ins == 0xCA {
            // Contact-interface My Number cards have no UID to give.
            return sw(0x6A, 0x81);
        }
        match (ins, p1) {
            (0xA4, 0x04) => {
                if data == AP {
                    self.ap_selected = true;
                    self.ef = None;
                    sw(0x90, 0x00)
                } else {
                    sw(0x6A, 0x82)
                }
            }
            (0xA4, 0x02) if self.ap_selected && data.len() == 2 => {
                let id = u16::from_be_bytes([data[0], data[1]]);
                match id {
                    0x0011 | 0x0002 | 0x0001 => {
                        self.ef = Some(id);
                        sw(0x90, 0x00)
                    }
                    _ => sw(0x6A, 0x82),
                }
            }
            (0x20, 0x00) if p2 == 0x80 && self.ef == Some(0x0011) => {
                self.verify(data, apdu.len() == 4)
            }
            (0xB0, _) => self.read_binary(p1, p2, apdu.get(4).copied()),
            _ => sw(0x6D, 0x00),
        }
    }

    fn verify(&mut self, data: &[u8], no_data: bool) -> Answer {
        let Profile::Mynumber {
            pin, tries_left, ..
        } = &mut self.profile
        else {
            return sw(0x6D, 0x00);
        };
        if *tries_left == 0 {
            return sw(0x69, 0x83);
        }
        if no_data {
            return if self.verified {
                sw(0x90, 0x00)
            } else {
                sw(0x63, 0xC0 | *tries_left)
            };
        }
        if data == pin.as_bytes() {
            *tries_left = 3;
            self.verified = true;
            sw(0x90, 0x00)
        } else {
            *tries_left -= 1;
            if *tries_left == 0 {
                sw(0x69, 0x83)
            } else {
                sw(0x63, 0xC0 | *tries_left)
            }
        }
    }

    fn read_binary(&mut self, p1: u8, p2: u8, le: Option<u8>) -> Answer {
        self.reads += 1;
        if self.faults.remove_on_read == Some(self.reads) {
            return Answer::Remove;
        }
        let content = match self.ef {
            Some(0x0002) if self.verified => self.basic_four_ef(),
            Some(0x0001) if self.verified => {
                let Profile::Mynumber {
                    individual_number, ..
                } = &self.profile
                else {
                    return sw(0x69, 0x86);
                };
                let mut v = vec![0xD0, 0x0C];
                v.extend(individual_number.as_bytes());
                v
            }
            Some(0x0002) | Some(0x0001) => return sw(0x69, 0x82),
            _ => return sw(0x69, 0x86),
        };
        let offset = usize::from(p1 & 0x7F) << 8 | usize::from(p2);
        if offset > content.len() {
            return sw(0x6B, 0x00);
        }
        let mut n = match le {
            Some(0) | None => 256,
            Some(n) => usize::from(n),
        };
        if let Some(limit) = self.faults.chunk_limit {
            n = n.min(limit.max(1));
        }
        let end = (offset + n).min(content.len());
        let mut r = content[offset..end].to_vec();
        r.extend([0x90, 0x00]);
        Answer::Respond(r)
    }
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// A transport straight into an emulated card, for unit tests of the reader logic.
pub struct Direct(pub EmulatedCard);

impl crate::card::Transport for Direct {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, crate::card::CardError> {
        match self.0.answer(command) {
            Answer::Respond(r) => Ok(r),
            Answer::Remove => Err(crate::card::CardError::CardRemoved),
        }
    }

    fn atr(&self) -> &[u8] {
        self.0.atr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{self, CardError, CardReading, Pin, ReadOptions};

    pub(crate) fn card(pin: &str, tries: u8) -> Profile {
        Profile::Mynumber {
            name: "渡邊　健一".into(),
            address: "みどり市緑町2丁目5番8号".into(),
            birth_date: "19580422".into(),
            sex: "1".into(),
            pin: pin.into(),
            tries_left: tries,
            individual_number: "123456789012".into(),
        }
    }

    fn read(t: &mut Direct, pin: &str, confirm: bool) -> Result<CardReading, CardError> {
        card::read_card(
            t,
            &ReadOptions {
                pin: Some(Pin::parse(pin).expect("pin")),
                confirm_last_try: confirm,
            },
        )
    }

    #[test]
    fn pin_rules_hold_on_the_emulated_card() {
        let mut t = Direct(EmulatedCard::new(card("1234", 3), Faults::default()));
        assert_eq!(
            read(&mut t, "0000", false),
            Err(CardError::WrongPin { tries_left: 2 })
        );
        assert_eq!(
            read(&mut t, "0000", false),
            Err(CardError::WrongPin { tries_left: 1 })
        );
        assert_eq!(
            read(&mut t, "1234", false),
            Err(CardError::OneTryLeft),
            "refused without confirmation"
        );
        let ok = read(&mut t, "1234", true).expect("confirmed");
        assert!(matches!(ok, CardReading::Mynumber(b) if b.name == "渡邊　健一"));
        assert!(
            t.0.log
                .iter()
                .all(|c| c != &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01]),
            "EF 0001 never selected"
        );
        let mut blocked = Direct(EmulatedCard::new(card("1234", 0), Faults::default()));
        assert_eq!(read(&mut blocked, "1234", true), Err(CardError::PinBlocked));
    }

    #[test]
    fn faults_give_typed_errors() {
        let with = |f: Faults| Direct(EmulatedCard::new(card("1234", 3), f));
        assert_eq!(
            read(
                &mut with(Faults {
                    remove_on_read: Some(2),
                    ..Faults::default()
                }),
                "1234",
                false
            ),
            Err(CardError::CardRemoved)
        );
        assert_eq!(
            read(
                &mut with(Faults {
                    malformed_tlv: true,
                    ..Faults::default()
                }),
                "1234",
                false
            )
            .map_err(|e| e.code()),
            Err("malformed_card_data")
        );
        assert_eq!(
            read(
                &mut with(Faults {
                    truncate_ef: Some(20),
                    ..Faults::default()
                }),
                "1234",
                false
            )
            .map_err(|e| e.code()),
            Err("malformed_card_data")
        );
        assert!(
            read(
                &mut with(Faults {
                    chunk_limit: Some(7),
                    long_form: true,
                    ..Faults::default()
                }),
                "1234",
                false
            )
            .is_ok()
        );
        assert_eq!(
            read(
                &mut with(Faults {
                    status_word: Some([0x6F, 0x00]),
                    ..Faults::default()
                }),
                "1234",
                false
            ),
            Err(CardError::UnknownCard)
        );
        let mut unknown = Direct(EmulatedCard::new(Profile::Unknown, Faults::default()));
        assert_eq!(
            read(&mut unknown, "1234", false),
            Err(CardError::UnknownCard)
        );
        let mut venue = Direct(EmulatedCard::new(
            Profile::Contactless {
                uid: "0123456789abcdef".into(),
            },
            Faults::default(),
        ));
        assert_eq!(
            card::read_card(&mut venue, &ReadOptions::default()),
            Ok(CardReading::Contactless {
                uid: "0123456789abcdef".into()
            })
        );
    }
}
