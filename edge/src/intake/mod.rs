//! OCR intake of police notices (児童通告書) on the box, the child-welfare compartment.
//!
//! - [`read`]: notice images into fields, the child matched against the resident register,
//!   and the `checkup-edge ocr notice` command's JSON.
//! - [`flags`]: values to review whatever the confidence (label text, foreign characters).
//! - [`inbox`]: scans from uploads and the scanner's hot folder, kept on disk and read by an
//!   OCR worker until a clerk saves them.
//! - [`photo`]: a caseworker's photos of a case, stripped of their metadata and re-encoded
//!   before they are kept.
//!
//! The clerk's review pages and the caseworkers' live case list, with their API, are
//! `http/intake.rs` (only the child-welfare roles get past its role check).

pub mod flags;
pub mod inbox;
pub mod photo;
pub mod read;

pub use read::{RegisterRow, match_child, notice_json, read_notice, read_notices, read_register};
