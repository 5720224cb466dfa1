//! Matching a card's basic four items (or a search) to the roster, robust to how real
//! Japanese data differs: full/half width, spaces between family and given name, 旧字体 and
//! 異体字 (髙/高, 﨑/崎, 邊/邉/辺 …), address notation (丁目/番/号 vs 1-2-3, kanji numerals,
//! 大字/字), katakana/hiragana.
//!
//! - `normalize.rs`: the comparison keys.
//! - `matching.rs`: ranked candidates and the "exactly one" rule reception acts on.

pub mod matching;
pub mod normalize;

pub use matching::{Candidate, MatchOutcome, match_card};
