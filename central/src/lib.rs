//! The municipal central system: receives every event of every venue box exactly once,
//! keeps residents' health records (健康かるて) across years and venues, and exports them.
//!
//! This first cut holds the batch check that ingest is built on; storage, the HTTP
//! service, records and exports arrive with the central issue.
//!
//! # Layout
//!
//! - [`ingest`]: validate a batch of signed events as a whole (format, payload rules,
//!   signatures against enrolled node keys, one venue set), all or nothing.
//! - [`keys`]: the enrolled node public keys.

#![deny(missing_docs)]

pub mod ingest;
pub mod keys;
