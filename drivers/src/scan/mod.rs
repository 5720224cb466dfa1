//! Document scanners (issue 8): pages from uploads and the hot folder a network scanner drops
//! files into.
//!
//! - [`input`]: PNG, JPEG and TIFF (multi-page) into greyscale pages, with file-size,
//!   pixel-count and page-count limits checked before decoding.

pub mod input;

pub use input::{Limits, Page, ScanError, read_bytes, read_file};
