//! Venue replication: boxes share every event over MQTT and converge.
//!
//! - [`wire`]: topic layout and the validation of everything that arrives on a topic —
//!   foreign venues, unknown versions, bad JSON, bad signatures and a node publishing under
//!   another node's id are rejected with a typed error and counted, never applied.
//! - What is held of each node's sequence (with gaps) is the store's
//!   [`crate::log::store::VersionVector`]; comparing two yields the ranges to ask a peer for
//!   (anti-entropy), so nothing depends on the broker keeping messages.
//! - [`mqtt`]: the client (rumqttc): publish own events, apply others', anti-entropy on every
//!   (re)connection and periodically. Works with any MQTT 3.1.1 broker (Mosquitto, rumqttd).
//! - [`discovery`]: mDNS advertisement and browse of the venue's boxes, on the configured
//!   interfaces only.
//! - [`broker`]: the embedded rumqttd broker, on a thread of its own.
//! - [`gate`]: the TLS gate in front of it — client certificates of the municipality's CA,
//!   each box publishing only on its own topics.
//! - [`hub`]: which broker the venue uses — a configured one, else the lowest live node's —
//!   and failover when it is gone; [`failover`]: its decision, a pure function of the
//!   signals (link, heartbeat, probes, mDNS goodbye), with the defaults explained.
//!
//! ```text
//! discovery ──peers──► hub ──target broker──► mqtt ◄──► store (append_signed, subscribe)
//!                       └── starts broker when it is this box's turn
//! ```

pub mod broker;
pub mod discovery;
pub mod failover;
pub mod gate;
pub mod hub;
pub mod mqtt;
pub mod wire;

pub use wire::{RejectCounters, ReplicationError};
