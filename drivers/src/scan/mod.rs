//! Document scanners: pages from uploads and the hot folder a network scanner drops
//! files into.
//!
//! - [`input`]: PNG, JPEG, TIFF (multi-page) and PDF into greyscale pages, only the pages
//!   asked for ([`Reader`]), with file-size, page-count and pixel limits (per page and in
//!   all) checked from the headers before decoding. PDFs are rendered by poppler in a
//!   private directory of the caller's choosing.
//! - [`clean`]: binarisation, speckle and ruled-line removal, deskew, scaling to the
//!   working size.
//! - [`ocr`]: Tesseract (jpn) words with confidences and boxes, per page or per crop.

pub mod clean;
pub mod input;
pub mod ocr;
mod pdf;

pub use input::{Limits, Page, Reader, ScanError, read_bytes, read_file};
