//! Every failure a person (or a broken card) can cause, with a stable code for APIs and the
//! CLI.

use thiserror::Error;

/// Why a card could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CardError {
    /// The PIN was wrong; `tries_left` more attempts before the card blocks.
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin {
        /// Attempts left.
        tries_left: u8,
    },
    /// The PIN is blocked; only the city office can unblock it.
    #[error("the card's PIN is blocked; the resident must go to the city office")]
    PinBlocked,
    /// Only one try is left and staff did not confirm sending the PIN.
    #[error("only one PIN try is left; staff must confirm before it is sent")]
    OneTryLeft,
    /// A My Number card needs the resident's PIN.
    #[error("this card needs the resident's 4-digit PIN")]
    PinRequired,
    /// The PIN is not 4 digits (never sent to the card).
    #[error("a PIN is 4 digits")]
    PinFormat,
    /// The card went away during the read.
    #[error("the card was removed during the read")]
    CardRemoved,
    /// The reader is gone.
    #[error("the card reader was unplugged")]
    ReaderUnplugged,
    /// No reader is attached (or the PC/SC service is not running).
    #[error("no card reader found (is pcscd running?)")]
    NoReader,
    /// Another program holds the reader.
    #[error("the card reader is busy")]
    ReaderBusy,
    /// The card is neither a My Number card nor a contactless venue card.
    #[error("unknown card")]
    UnknownCard,
    /// The card answered with something that does not parse or does not make sense.
    #[error("the card answered nonsense: {0}")]
    MalformedCardData(String),
    /// The card answered with an unexpected status word.
    #[error("the card refused {command}: status {sw1:02X} {sw2:02X}")]
    BadStatus {
        /// What was asked.
        command: &'static str,
        /// First status byte.
        sw1: u8,
        /// Second status byte.
        sw2: u8,
    },
    /// Nothing was tapped in time.
    #[error("no card within the time allowed")]
    Timeout,
    /// The PC/SC service failed.
    #[error("PC/SC: {0}")]
    Pcsc(String),
}

impl CardError {
    /// Stable code for JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            CardError::WrongPin { .. } => "wrong_pin",
            CardError::PinBlocked => "pin_blocked",
            CardError::OneTryLeft => "one_try_left",
            CardError::PinRequired => "pin_required",
            CardError::PinFormat => "pin_format",
            CardError::CardRemoved => "card_removed",
            CardError::ReaderUnplugged => "reader_unplugged",
            CardError::NoReader => "no_reader",
            CardError::ReaderBusy => "reader_busy",
            CardError::UnknownCard => "unknown_card",
            CardError::MalformedCardData(_) | CardError::BadStatus { .. } => "malformed_card_data",
            CardError::Timeout => "timeout",
            CardError::Pcsc(_) => "pcsc_error",
        }
    }
}
