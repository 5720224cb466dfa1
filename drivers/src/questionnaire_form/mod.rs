//! The paper questionnaire: printed per resident, read back from a scan by box detection
//! (no text recognition).
//!
//! - [`layout`]: where the fiducials, the QR code, the texts and every answer box sit, in
//!   millimetres on A4, as a pure function of the language.
//! - [`print`]: the QR payload (session, resident, page, language) and the printable HTML
//!   page that places everything absolutely in millimetres.
//! - [`raster`]: a form page drawn without its texts, for tests.
//! - [`reader`]: from a page image to each item's answer, or to a nurse's review with the
//!   reason; nothing unclear is ever taken as an answer.

pub mod layout;
pub mod print;
pub mod raster;
pub mod reader;

pub use layout::{FormLayout, layout};
pub use print::{FormId, PayloadError, PrintPage, document};
pub use reader::{
    BoxMark, BoxRead, ItemOutcome, ItemRead, PageRead, ReadError, ReviewReason, read_page,
};
