//! The Checkup Edge venue box.
//!
//! A box at a health-checkup venue records every fact as a signed event in a durable local
//! log, projects the current state (who is where, what is missing) from it, and serves the
//! tablets' web UI and JSON API. Venue replication and forwarding to central build on the
//! same log.
//!
//! # Layout
//!
//! The folders show the direction of dependencies: [`http`] → [`venue`] (the rules) →
//! [`log`] (store, projection); [`ui`] only renders what [`http`] hands it
//! (`tests/layering.rs` keeps it so).
//!
//! - [`app`]: opens a box from its configuration and serves it until shutdown
//!   (`Edge::open`, `serve`, `run`): the only module that sees everything.
//! - [`http`]: axum only — the route table, the handlers' state, the one staff guard,
//!   errors as JSON; one thin file per area.
//! - [`ui`]: HTML only — the page frame, sign-in, board, reception, station pages, fed view
//!   models.
//! - [`venue`]: the day's rules: every write (API append, check-in, station work, audited
//!   reads, intake save, replication import) goes through its one command path.
//! - [`log`]: the durable event store on SQLite (group commit, idempotent appends, the
//!   audit chain, the ledger of what is held; its module documentation states the
//!   invariants) and the projection folded from it.
//! - [`config`]: the TOML configuration, every key with its default.
//! - [`at_rest`]: the data key: SQLCipher for the store and roster, sealed scan files.
//! - [`courses`]: which stations each checkup course visits.
//! - [`auth`]: staff sign-in (Argon2 PIN hashes), session cookies renewed by activity, idle
//!   sign-out; [`lockout`]: repeated wrong PINs lock a staff id or client with a growing
//!   back-off, never a known device's own staff.
//! - [`cards`]: the box's card readers (watcher events, reading a tapped card).
//! - [`replication`]: venue replication: mDNS discovery, the embedded broker and hub
//!   failover, the MQTT client, validation of received messages.
//! - [`forward`]: store-and-forward to central with a durable watermark and back-off;
//!   [`wipe`]: after the day, refused until central holds everything, then overwrite.
//! - [`tls`]: the box's enrolment turned into HTTPS, the broker gate, the MQTT client and
//!   mutual TLS to central.
//! - [`node`]: the node's signing key on disk.
//! - [`roster`]: the day's booked residents; `roster/import.rs` reads the reservation
//!   system's CSV (UTF-8 or Shift_JIS); [`pre_answers`]: the questionnaire answers they gave
//!   on their phones, fetched from central.
//! - [`identity`]: matching card items to the roster across 異体字, widths and address
//!   notations.
//! - [`intake`]: OCR intake of police notices (fields, register match, `ocr notice`).
//! - [`paper_inbox`]: the scanner's folder for filled-in paper questionnaires, read into
//!   their sessions through the venue's paper command, then moved to `done/` or `failed/`.
//! - [`doctor`]: `checkup-edge doctor` — readers, OCR model, clock, disk, certificates,
//!   broker, central and data key checked, each finding with its fix.
//! - [`demo`]: the demo venue, staff and roster behind `checkup-edge demo`.
//! - [`shutdown`]: SIGINT/SIGTERM as a future.
#![deny(missing_docs)]

pub mod app;
pub mod at_rest;
pub mod auth;
pub mod cards;
pub mod config;
pub mod courses;
pub mod demo;
pub mod doctor;
pub mod forward;
pub mod http;
pub mod identity;
pub mod intake;
pub mod lockout;
pub mod log;
pub mod node;
pub mod paper_inbox;
pub mod pre_answers;
pub mod replication;
pub mod roster;
pub mod shutdown;
pub mod tls;
pub mod training;
pub mod ui;
pub mod venue;
pub mod wipe;

pub use app::{Edge, run};
pub use config::Config;
