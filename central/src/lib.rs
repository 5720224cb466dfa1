//! The municipal central system: receives every event of every venue box exactly once,
//! keeps residents' health records (健康かるて) across years and venues, and exports them.
//!
//! # Layout
//!
//! - [`config`]: the TOML configuration (database, enrolled boxes, staff).
//! - [`ingest`]: validate a batch of signed events as a whole (format, payload rules,
//!   signatures against enrolled node keys, the box's municipality), all or nothing.
//! - [`db`]: storage on SQLite or PostgreSQL — events exactly once by `(node, seq)`, node
//!   heads, the resident record; versioned migrations.
//! - [`audit`]: the hash-chained audit trail (accesses, ingested batches, wipes) and its
//!   verification (`checkup-central audit verify`).
//! - [`api`]: the HTTP API (batch ingest, sign-in, search, record, export).
//! - [`web`]: the staff page.
//! - [`server`]: opening and serving ([`server::Central`]).
//! - [`keys`]: a keys file of `node public-key` lines (for `check-batch`).

#![deny(missing_docs)]

pub mod api;
pub mod audit;
pub mod config;
pub mod db;
pub mod ingest;
pub mod keys;
pub mod server;
pub mod web;
