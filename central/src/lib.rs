//! The municipal central system: receives every event of every venue box exactly once,
//! keeps residents' health records (健康かるて) across years and venues, and exports them.
//!
//! # Layout
//!
//! - [`access`]: who may read what — role, rank (職階) and duty (districts, caseloads,
//!   cases), crossing departments with a purpose; pure rules the handlers ask.
//! - [`config`]: the TOML configuration (database, enrolled boxes, staff).
//! - [`ingest`]: central's rules for the shared batch receiver
//!   ([`checkup_protocol::batch`]): the venues of the box's municipality, the configured
//!   limits; per-node extents of a batch.
//! - [`db`]: storage behind the [`db::Store`] trait, on SQLite or PostgreSQL — events
//!   exactly once by `(node, seq)`, node heads, the resident record, staff sessions; one
//!   list of versioned migrations; on PostgreSQL, `events` partitioned by month
//!   (`db::partitions`, `checkup-central partitions`). Several central processes may share
//!   one PostgreSQL database, with the record reads on a hot standby (`docs/scale-out.md`).
//! - [`audit`]: the hash-chained audit trail (accesses, ingested batches, wipes) and its
//!   verification (`checkup-central audit verify`).
//! - [`http`]: the HTTP API, a file per concern (batch ingest and wipes, sign-in, the
//!   resident record, the export, the child-welfare notice queue and its cases' photos).
//! - [`web`]: the staff page.
//! - [`doctor`]: `checkup-central doctor` — database, migrations, clock, disk,
//!   certificates and key files checked, each finding with its fix.
//! - [`server`]: opening and serving ([`server::Central`]).
//! - [`keys`]: a keys file of `node public-key` lines (for `check-batch`).
//! - [`sample_day`]: a plausible checkup day of `N` residents stored through the real
//!   ingest path (`checkup-central demo --sample-day N`, the tests, the benchmarks).
//! - [`tokutei`]: MHLW's 特定健診 standard (第4期): the item table, 階層化, the CDA
//!   documents and archives written, validated and read back.

#![deny(missing_docs)]

pub mod access;
pub mod audit;
pub mod config;
pub mod db;
pub mod doctor;
pub mod http;
pub mod ingest;
pub mod keys;
pub mod sample_day;
pub mod server;
pub mod tokutei;
pub mod web;
