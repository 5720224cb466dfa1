//! What the store holds, as sequence bookkeeping: per node, which sequence numbers are held
//! (with gaps, for anti-entropy), the latest hybrid-logical-clock timestamp and the number
//! of events. The store keeps it beside the projection and updates it after each durable
//! commit, so replication, forwarding and the board read the log's shape here and the
//! venue's state in the projection.

use checkup_protocol::{Event, Hlc};

use super::version_vector::VersionVector;

/// Sequence bookkeeping of the events held.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// What is held of each node's sequence, gaps included.
    held: VersionVector,
    /// Latest HLC seen (the node's clock starts above it after a restart).
    max_hlc: Option<Hlc>,
    /// Events held.
    events: u64,
}

impl Ledger {
    /// Record one newly stored event.
    pub fn observe(&mut self, e: &Event) {
        self.events += 1;
        self.held.observe(&e.node, e.seq);
        self.max_hlc = Some(self.max_hlc.map_or(e.hlc, |h| h.max(e.hlc)));
    }

    /// Events held.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// Highest seq of `node` held (0 if none), gaps or not.
    pub fn max_seq(&self, node: &str) -> u64 {
        self.held.summary().get(node).copied().unwrap_or(0)
    }

    /// What is held of each node's sequence.
    pub fn held(&self) -> &VersionVector {
        &self.held
    }

    /// Latest HLC seen.
    pub fn max_hlc(&self) -> Option<Hlc> {
        self.max_hlc
    }
}
