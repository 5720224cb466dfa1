//! A card emulator for the vpcd virtual reader: it answers APDUs like a My Number card
//! (card-face application with PIN, tries left, chunked EF 0002, and an individual number
//! that our reader must never ask for) or a contactless venue card (UID), with fault
//! injection for the failures a real day brings.
//!
//! - [`card`]: the cards' behaviour (profiles, faults, the APDU state machine).
//! - [`vpcd`]: the socket protocol to vpcd (2-byte big-endian length, then the message;
//!   one-byte control messages), with reconnection.

pub mod card;
pub mod vpcd;

pub use card::{Answer, EmulatedCard, Faults, Profile};
