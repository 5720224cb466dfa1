//! Police child-abuse notifications (児童通告書): turning what recognition read into the
//! normalised values a case record holds (issue 8; recognition itself comes next).
//!
//! - [`wareki`]: dates in 和暦 or Gregorian, any width, 元年, kanji numerals → `YYYY-MM-DD`,
//!   checked against the era's bounds.
//! - [`fields`]: sex → `male|female`, the kind of abuse by closeness to the closed vocabulary,
//!   names and addresses without spaces, the prefecture check.
//! - [`places`]: every prefecture, municipality, ward and town (from the postal register, at
//!   build time); an OCR'd address matched against them; police station names checked.
//! - [`read`]: a page → the notice's fields, each with value, confidence, box and whether
//!   the clerk must review it.

pub mod fields;
pub mod layout;
pub mod marks;
pub mod places;
pub mod read;
pub mod wareki;
