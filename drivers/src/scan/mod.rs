//! Document scanners (issue 8): pages from uploads and the hot folder a network scanner drops
//! files into.
//!
//! - [`input`]: PNG, JPEG and TIFF (multi-page) into greyscale pages, with file-size,
//!   pixel-count and page-count limits checked before decoding.
//! - [`clean`]: binarisation, speckle and ruled-line removal, deskew, upscaling.
//! - [`ocr`]: Tesseract (jpn) words with confidences and boxes, per page or per crop.

pub mod clean;
pub mod input;
pub mod ocr;
mod pdf;

pub use input::{Limits, Page, ScanError, read_bytes, read_file};
