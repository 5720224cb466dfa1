//! Version vectors with gaps: what this box holds of each node's sequence.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Per node: every seq up to `contiguous` is held, plus the seqs in `ahead` (beyond a gap).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionVector {
    /// Highest seq `n` such that `1..=n` are all held.
    contiguous: BTreeMap<String, u64>,
    /// Seqs held above a gap.
    ahead: BTreeMap<String, BTreeSet<u64>>,
}

/// A range of one node's seqs to ask a peer for, inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    /// The node.
    pub node: String,
    /// First seq wanted.
    pub from: u64,
    /// Last seq wanted.
    pub to: u64,
}

impl VersionVector {
    /// Record that `node`'s event `seq` is held.
    pub fn observe(&mut self, node: &str, seq: u64) {
        let c = self.contiguous.entry(node.to_owned()).or_insert(0);
        if seq <= *c {
            return;
        }
        if seq == *c + 1 {
            *c = seq;
            if let Some(set) = self.ahead.get_mut(node) {
                while set.remove(&(*c + 1)) {
                    *c += 1;
                }
                if set.is_empty() {
                    self.ahead.remove(node);
                }
            }
        } else {
            self.ahead.entry(node.to_owned()).or_default().insert(seq);
        }
    }

    /// Whether any node's sequence has a gap (something held beyond a missing seq).
    pub fn has_gaps(&self) -> bool {
        !self.ahead.is_empty()
    }

    /// Whether `node`'s `seq` is held.
    pub fn holds(&self, node: &str, seq: u64) -> bool {
        seq <= self.contiguous(node) || self.ahead.get(node).is_some_and(|s| s.contains(&seq))
    }

    /// Highest contiguous seq of `node` (0 if none): what forwarding and acknowledgements use.
    pub fn contiguous(&self, node: &str) -> u64 {
        self.contiguous.get(node).copied().unwrap_or(0)
    }

    /// Highest contiguous seq of every node: what a box asks peers to send beyond.
    pub fn contiguous_summary(&self) -> BTreeMap<String, u64> {
        self.contiguous.clone()
    }

    /// Highest seq of each node a peer advertises it holds, as the summary exchanged on
    /// reconnect.
    pub fn summary(&self) -> BTreeMap<String, u64> {
        let mut out = self.contiguous.clone();
        for (node, set) in &self.ahead {
            if let Some(max) = set.last() {
                let e = out.entry(node.clone()).or_insert(0);
                *e = (*e).max(*max);
            }
        }
        out
    }

    /// What to ask a peer for, given the peer's summary: for each node, every seq up to the
    /// peer's highest that this box does not hold, as ranges.
    pub fn missing(&self, peer: &BTreeMap<String, u64>) -> Vec<Wanted> {
        let mut out = Vec::new();
        for (node, &peer_max) in peer {
            let mut from: Option<u64> = None;
            let start = self.contiguous(node) + 1;
            for seq in start..=peer_max {
                let held = self.holds(node, seq);
                match (held, from) {
                    (false, None) => from = Some(seq),
                    (true, Some(f)) => {
                        out.push(Wanted {
                            node: node.clone(),
                            from: f,
                            to: seq - 1,
                        });
                        from = None;
                    }
                    _ => {}
                }
            }
            if let Some(f) = from {
                out.push(Wanted {
                    node: node.clone(),
                    from: f,
                    to: peer_max,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gaps_are_remembered_and_asked_for() {
        let mut v = VersionVector::default();
        for s in [1, 2, 5, 6, 9] {
            v.observe("edge-02", s);
        }
        assert_eq!(v.contiguous("edge-02"), 2);
        assert!(v.holds("edge-02", 6) && !v.holds("edge-02", 7));
        let peer = BTreeMap::from([("edge-02".to_string(), 10), ("edge-03".to_string(), 2)]);
        assert_eq!(
            v.missing(&peer),
            vec![
                Wanted {
                    node: "edge-02".into(),
                    from: 3,
                    to: 4
                },
                Wanted {
                    node: "edge-02".into(),
                    from: 7,
                    to: 8
                },
                Wanted {
                    node: "edge-02".into(),
                    from: 10,
                    to: 10
                },
                Wanted {
                    node: "edge-03".into(),
                    from: 1,
                    to: 2
                },
            ]
        );
        v.observe("edge-02", 3);
        v.observe("edge-02", 4);
        assert_eq!(v.contiguous("edge-02"), 6, "the gap closed");
    }

    proptest! {
        #[test]
        fn any_arrival_order_converges(mut seqs in prop::collection::vec(1u64..60, 0..80)) {
            let mut v = VersionVector::default();
            for s in &seqs { v.observe("n", *s); }
            seqs.sort_unstable();
            seqs.dedup();
            let expected = seqs.iter().enumerate().take_while(|(i, s)| **s == *i as u64 + 1).count() as u64;
            prop_assert_eq!(v.contiguous("n"), expected);
            // Filling what `missing` names makes this box hold everything the peer has.
            let peer = BTreeMap::from([("n".to_string(), 60u64)]);
            for w in v.clone().missing(&peer) {
                for s in w.from..=w.to { v.observe("n", s); }
            }
            prop_assert_eq!(v.contiguous("n"), 60);
            prop_assert!(v.missing(&peer).is_empty());
        }
    }
}
