//! Which kind of card was tapped, decided from its ATR and its answers to SELECT before
//! anything else is sent.

use super::Transport;
use super::apdu::{self, Response};
use super::error::CardError;

/// Kinds of card reception handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// Answers SELECT of the card-face input support application.
    MyNumber,
    /// A contactless storage card presented by the reader (PC/SC part 3 ATR) or any card
    /// that answers GET UID.
    Contactless,
}

/// PC/SC part 3 ATR prefix of contactless storage cards (`3B 8F 80 01 80 4F`).
const PCSC_STORAGE_ATR: [u8; 6] = [0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F];

/// Recognise the card. A card that neither selects the My Number application nor gives a
/// UID is [`CardError::UnknownCard`].
pub fn identify(t: &mut impl Transport) -> Result<CardKind, CardError> {
    if t.atr().starts_with(&PCSC_STORAGE_ATR) {
        return Ok(CardKind::Contactless);
    }
    let r = Response::parse(t.transmit(&apdu::SELECT_CARD_FACE_AP)?)?;
    if r.is_ok() {
        return Ok(CardKind::MyNumber);
    }
    match Response::parse(t.transmit(&apdu::GET_UID)?) {
        Ok(r) if r.is_ok() && !r.data.is_empty() => Ok(CardKind::Contactless),
        Ok(_) => Err(CardError::UnknownCard),
        Err(e) => Err(e),
    }
}
