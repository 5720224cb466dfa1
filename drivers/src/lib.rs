//! Hardware at the venue and the office: IC-card readers over PC/SC (My Number card
//! card-face application, contactless venue cards), the virtual card used for demos and
//! tests, and (with the OCR issue) document scanners.
//!
//! # Layout
//!
//! - [`card`]: everything about reading a tapped card.
//!   - `card/tlv.rs` BER-TLV, `card/apdu.rs` commands and status words,
//!     `card/mynumber.rs` the card-face input support application,
//!     `card/contactless.rs` venue cards (UID / FeliCa IDm), `card/identify.rs` which kind
//!     of card was tapped, `card/pcsc.rs` the PC/SC transport and readers,
//!     `card/watcher.rs` the reader watcher thread, `card/error.rs` typed errors.
//! - [`emulator`]: a card emulator speaking vpcd's socket protocol (profiles and fault
//!   injection); binary `virtual-card`.
//! - [`notice`]: normalising the fields of police notices read by OCR (和暦 dates, sex,
//!   kind of abuse, names, addresses).
//! - [`questionnaire_form`]: the paper questionnaire: its layout, printable page and the
//!   reader that takes answers back from a scan by box detection.
//! - [`scan`]: scanned pages from uploads and the hot folder, with size limits checked before
//!   decoding.
//! - [`shred`]: overwriting a file with zeros before it is removed.
//! - [`virtual_reader`]: a private `pcscd` with the vpcd driver inside a network namespace
//!   that has only loopback, so the virtual reader's port is never on a real network.
#![deny(missing_docs)]

pub mod card;
pub mod emulator;
pub mod notice;
pub mod questionnaire_form;
pub mod scan;
pub mod shred;
pub mod virtual_reader;
