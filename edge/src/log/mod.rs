//! The box's log: the durable store of signed events and the projection folded from it.
//!
//! - [`store`]: the append-only event store on SQLite (single writer, group commit,
//!   idempotent appends, sequence numbers without gaps, the audit hash chain); its module
//!   documentation states the invariants.
//! - [`projection`]: the venue's current state as a pure fold over events (sessions, results,
//!   station progress, child cases), rebuilt at open and updated after each durable commit.
//!
//! Nothing here knows HTTP or pages, or decides what may be recorded: that is
//! [`crate::venue`].

pub mod projection;
pub mod store;
