//! The Checkup Edge venue box.
//!
//! A box at a health-checkup venue records every fact as a signed event in a durable local
//! log, projects the current state (who is where, what is missing) from it, and serves the
//! tablets' web UI and JSON API. Venue replication and forwarding to central build on the
//! same log.
//!
//! # Layout
//!
//! - [`config`]: the TOML configuration, every key with its default.
//! - [`at_rest`]: the data key: SQLCipher for the store and roster, sealed scan files.
//! - [`courses`]: which stations each checkup course visits.
//! - [`log`]: the durable event store on SQLite (group commit, idempotent appends; its
//!   module documentation states the invariants) and the projection folded from it.
//! - [`venue`]: the day's rules: every write (API append, check-in, station work, audited
//!   reads, intake save, replication import) goes through its one command path.
//! - [`auth`]: staff sign-in (Argon2 PIN hashes), session cookies, idle sign-out;
//!   [`lockout`]: repeated wrong PINs lock a staff id or client with a growing back-off.
//! - [`api`]: JSON routes; [`web`]: server-rendered pages; [`error`]: error answers.
//! - [`station`]: station pages (entry with limits, sign-off; the doctor's full record).
//! - [`board`]: the progress board (JSON and live server-sent events).
//! - [`cards`]: the box's card readers (watcher events, reading a tapped card);
//!   [`reception`]: the reception page and its card routes (live taps, PIN pad, demo taps).
//! - [`replication`]: venue replication: mDNS discovery, the embedded broker and hub
//!   failover, the MQTT client, validation of received messages, version vectors with gaps
//!   for anti-entropy.
//! - [`forward`]: store-and-forward to central with a durable watermark and back-off;
//!   [`wipe`]: after the day, refused until central holds everything, then overwrite.
//! - [`server`]: opens a box and serves it until shutdown (`Edge::open`, `run`).
//! - [`tls`]: the box's enrolment turned into HTTPS, the broker gate, the MQTT client and
//!   mutual TLS to central.
//! - [`node`]: the node's signing key on disk.
//! - [`roster`]: the day's booked residents; `roster/import.rs` reads the reservation
//!   system's CSV (UTF-8 or Shift_JIS).
//! - [`identity`]: matching card items to the roster across 異体字, widths and address
//!   notations.
//! - [`intake`]: OCR intake of police notices (fields, register match, `ocr notice`).
//! - [`demo`]: the demo venue, staff and roster behind `checkup-edge demo`.
//! - [`shutdown`]: SIGINT/SIGTERM as a future.
#![deny(missing_docs)]

pub mod api;
pub mod at_rest;
pub mod auth;
pub mod board;
pub mod cards;
pub mod config;
pub mod courses;
pub mod demo;
pub mod error;
pub mod forward;
pub mod identity;
pub mod intake;
pub mod lockout;
pub mod log;
pub mod node;
pub mod reception;
pub mod replication;
pub mod roster;
pub mod server;
pub mod shutdown;
pub mod station;
pub mod tls;
pub mod venue;
pub mod web;
pub mod wipe;

pub use config::Config;
pub use server::{Edge, run};
