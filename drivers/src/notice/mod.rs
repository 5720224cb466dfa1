//! Police child-abuse notifications (児童通告書): reading a scanned notice of any layout
//! into the normalised values a case record holds (issues 8 and 17).
//!
//! - [`wareki`]: dates in 和暦 or Gregorian, any width, 元年, kanji numerals → `YYYY-MM-DD`,
//!   checked against the era's bounds.
//! - [`fields`]: sex → `male|female`, the kind of abuse by closeness to the closed vocabulary,
//!   names and addresses without spaces, the prefecture check.
//! - [`places`]: every prefecture, municipality, ward and town (from the postal register, at
//!   build time); an OCR'd address matched against them; police station names checked.
//! - [`layout`]: the page's structure found, not assumed — ruled lines, segments, labels from
//!   a dictionary of variants, section headings, ink recognition dropped.
//! - [`marks`]: which printed option is marked (a circle, a filled or ticked box), from ink.
//! - [`read`]: a page → the notice's fields, each with value, confidence, box and whether
//!   the clerk must review it.

pub mod fields;
pub mod layout;
pub mod marks;
pub mod places;
pub mod read;
pub mod wareki;
