//! Reading a tapped card: My Number card basic four items or a contactless venue card's UID.
//!
//! The protocol logic works over the [`Transport`] trait (send a command APDU, get the
//! response bytes), so the same code runs on a PC/SC reader ([`pcsc::PcscTransport`]) and in
//! property tests. [`read_card`] is the one entry point reception uses: it recognises the
//! card, then reads it.
//!
//! The PIN never leaves [`Pin`] except as the bytes of one VERIFY command; its `Debug`
//! prints nothing, and nothing in this module logs APDU data.

pub mod apdu;
pub mod contactless;
pub mod error;
pub mod identify;
pub mod mynumber;
pub mod pcsc;
pub mod tlv;
pub mod watcher;

use serde::Serialize;

pub use error::CardError;
pub use identify::CardKind;
pub use mynumber::{BasicFour, Pin, Sex};

/// Something that carries APDUs to a card and back.
pub trait Transport {
    /// Send one command APDU; return the response including the two status bytes.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError>;
    /// The card's answer to reset.
    fn atr(&self) -> &[u8];
}

/// What a tap yielded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CardReading {
    /// A My Number card's card-face items.
    Mynumber(BasicFour),
    /// A contactless card's UID (FeliCa IDm on most readers), lowercase hex.
    Contactless {
        /// Lowercase hex.
        uid: String,
    },
}

/// How to read a tapped card.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The resident's PIN for a My Number card; `None` reads only a contactless card.
    pub pin: Option<Pin>,
    /// Staff confirmed sending the PIN although only one try is left.
    pub confirm_last_try: bool,
}

/// Recognise the card behind `t` and read it.
pub fn read_card(t: &mut impl Transport, options: &ReadOptions) -> Result<CardReading, CardError> {
    match identify::identify(t)? {
        CardKind::MyNumber => {
            let pin = options.pin.as_ref().ok_or(CardError::PinRequired)?;
            mynumber::read_basic_four(t, pin, options.confirm_last_try).map(CardReading::Mynumber)
        }
        CardKind::Contactless => {
            contactless::read_uid(t).map(|uid| CardReading::Contactless { uid })
        }
    }
}
