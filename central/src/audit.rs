//! Central's audit trail: append-only and hash-chained, so that an edit or deletion of an
//! entry — or of an event an entry vouches for — is found by `checkup-central audit verify`.
//!
//! ```text
//! audit(id, at_ms, staff_id, action, subject, link)       id = 1, 2, 3, … without gaps
//! link(n) = SHA-256(link(n-1) ‖ id ‖ at_ms ‖ staff_id ‖ action ‖ subject [‖ resident ‖ purpose ‖ flagged_for])
//! link(0) = GENESIS                         (the bracket only for entries about a person's data)
//! audit_head(id, link)                                     the last entry, updated with it
//! ```
//!
//! Entries are staff accesses (who looked at which record or notice, exports), box wipes,
//! and one `ingest` entry per batch that stored new events: its subject names the events'
//! `(node, seq)` ranges and a digest of their ids. [`verify`] walks the chain, then checks
//! that every event an ingest entry names is still there with the same id and that every
//! stored event's signature still verifies with its box's enrolled key — so an edited event
//! (signature), a removed one (ingest entry) or a swapped one (digest) is found too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::EventRow;

/// The link before the first entry.
pub const GENESIS: &str = "checkup-central audit genesis";

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position (1, 2, …).
    pub id: i64,
    /// When (Unix milliseconds).
    pub at_ms: i64,
    /// Staff id, or the box for ingest and wipe entries.
    pub staff_id: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub subject: String,
    /// About whom, why, flagged for whom.
    pub access: Access,
    /// The chain link (hex).
    pub link: String,
}

/// The link of an entry after `prev`.
pub fn link(prev: &str, id: i64, at_ms: i64, staff: &str, action: &str, subject: &str) -> String {
    link_with(prev, id, at_ms, staff, action, subject, &Access::default())
}

/// What an entry about a person's data adds (migration 10): about whom, why, flagged for
/// which department. Chained too; an entry without any is linked as before it existed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The resident.
    pub resident_id: Option<String>,
    /// The stated purpose.
    pub purpose: Option<String>,
    /// The department whose section chief reviews the read.
    pub flagged_for: Option<String>,
}

/// The link of an entry after `prev`, with its [`Access`] part.
pub fn link_with(
    prev: &str,
    id: i64,
    at_ms: i64,
    staff: &str,
    action: &str,
    subject: &str,
    access: &Access,
) -> String {
    let mut h = Sha256::new();
    let (id, at_ms) = (id.to_string(), at_ms.to_string());
    let mut parts = vec![
        prev.as_bytes(),
        id.as_bytes(),
        at_ms.as_bytes(),
        staff.as_bytes(),
        action.as_bytes(),
        subject.as_bytes(),
    ];
    if *access != Access::default() {
        for p in [&access.resident_id, &access.purpose, &access.flagged_for] {
            // A marker byte tells an absent part from an empty one.
            parts.push(if p.is_some() { b"1" } else { b"0" });
            parts.push(p.as_deref().unwrap_or("").as_bytes());
        }
    }
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// `s` as an audit entry keeps it: control characters (line breaks, escapes) and the
/// bidirectional overrides written as `\u{…}`, so that text a caller put in a path cannot
/// forge a line or reorder one in any text view of the trail.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What an `ingest` entry records about the batch's new events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestRecord {
    /// Per node: inclusive `(first, last)` seq ranges of the new events.
    pub ranges: BTreeMap<String, Vec<(i64, i64)>>,
    /// How many.
    pub events: usize,
    /// SHA-256 over `node \t seq \t id \n` of each, in (node, seq) order.
    pub digest: String,
}

/// Digest of `(node, seq, id)` triples, which must be in (node, seq) order.
pub fn ids_digest<'a>(ids: impl Iterator<Item = (&'a str, i64, &'a str)>) -> String {
    let mut h = Sha256::new();
    for (node, seq, id) in ids {
        h.update(format!("{node}\t{seq}\t{id}\n").as_bytes());
    }
    hex::encode(h.finalize())
}

impl IngestRecord {
    /// The record of `fresh` (the events a batch newly stored).
    pub fn of(fresh: &[&EventRow]) -> IngestRecord {
        let mut sorted: Vec<(&str, i64, &str)> = fresh
            .iter()
            .map(|r| (r.node.as_str(), r.seq, r.id.as_str()))
            .collect();
        sorted.sort_unstable();
        let mut ranges: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        for (node, seq, _) in &sorted {
            let v = ranges.entry((*node).to_owned()).or_default();
            match v.last_mut() {
                Some(r) if r.1 + 1 == *seq => r.1 = *seq,
                _ => v.push((*seq, *seq)),
            }
        }
        IngestRecord {
            ranges,
            events: sorted.len(),
            digest: ids_digest(sorted.into_iter()),
        }
    }

    /// The subject stored in the entry.
    pub fn subject(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// An entry's content no longer matches its link (edited), or its link does not follow
    /// the previous one (an entry before it removed or rewritten).
    #[error("audit entry {id} was changed, or an entry before it was removed")]
    Broken {
        /// The entry.
        id: i64,
    },
    /// Positions are missing between two entries.
    #[error("audit entries {from}..={to} are missing")]
    Missing {
        /// First missing.
        from: i64,
        /// Last missing.
        to: i64,
    },
    /// The chain ends before the recorded head (entries removed from the end), or the head
    /// does not match the last entry.
    #[error("the audit trail ends at entry {last} but its head records entry {head}")]
    Truncated {
        /// Last entry present.
        last: i64,
        /// What the head records.
        head: i64,
    },
    /// Events an ingest entry vouches for are gone or were swapped.
    #[error("events of the batch recorded at audit entry {id} were {what}")]
    Events {
        /// The ingest entry.
        id: i64,
        /// "deleted (edge-01 seq 7)" and the like.
        what: String,
    },
    /// A stored event's signature no longer verifies (its content was edited).
    #[error("event {node} seq {seq} was altered: {reason}")]
    Altered {
        /// Node.
        node: String,
        /// Seq.
        seq: i64,
        /// Why.
        reason: String,
    },
    /// The storage could not be read.
    #[error("reading the audit trail: {0}")]
    Read(String),
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// Events vouched for by ingest entries and found intact.
    pub events: u64,
    /// The head link.
    pub head: String,
}

/// Check the chain of `entries` (in id order, starting after `base`) against `head`
/// (id, link).
pub fn check_chain(entries: &[Entry], head: (i64, &str), base: i64) -> Result<(), AuditError> {
    let mut prev_link = GENESIS.to_owned();
    let mut prev_id = base;
    for e in entries {
        if e.id != prev_id + 1 {
            if e.id <= prev_id {
                return Err(AuditError::Broken { id: e.id });
            }
            return Err(AuditError::Missing {
                from: prev_id + 1,
                to: e.id - 1,
            });
        }
        if link_with(
            &prev_link,
            e.id,
            e.at_ms,
            &e.staff_id,
            &e.action,
            &e.subject,
            &e.access,
        ) != e.link
        {
            return Err(AuditError::Broken { id: e.id });
        }
        prev_link = e.link.clone();
        prev_id = e.id;
    }
    let last = prev_id;
    if last != head.0 || (last > base && prev_link != head.1) {
        return Err(AuditError::Truncated { last, head: head.0 });
    }
    Ok(())
}

/// Everything [`verify`] reads, loaded from either database.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Chained entries in id order.
    pub entries: Vec<Entry>,
    /// The head: `(id, link)`.
    pub head: (i64, String),
    /// The last position before the chain began (entries of older builds, unchained).
    pub base: i64,
    /// Every stored event: `(node, seq, id, signed JSON)` in (node, seq) order.
    pub events: Vec<(String, i64, String, String)>,
}

/// Walk the chain, the events each ingest entry vouches for, and every event's signature
/// against `keys`.
pub fn verify(s: &Snapshot, keys: &impl checkup_protocol::Keyring) -> Result<Verified, AuditError> {
    check_chain(&s.entries, (s.head.0, &s.head.1), s.base)?;
    let index: BTreeMap<(&str, i64), &str> = s
        .events
        .iter()
        .map(|(n, q, i, _)| ((n.as_str(), *q), i.as_str()))
        .collect();
    let mut events = 0u64;
    for e in s.entries.iter().filter(|e| e.action == "ingest") {
        let rec: IngestRecord =
            serde_json::from_str(&e.subject).map_err(|_| AuditError::Broken { id: e.id })?;
        let mut held: Vec<(&str, i64, &str)> = Vec::new();
        for (node, ranges) in &rec.ranges {
            for &(lo, hi) in ranges {
                for seq in lo..=hi {
                    let id =
                        index
                            .get(&(node.as_str(), seq))
                            .ok_or_else(|| AuditError::Events {
                                id: e.id,
                                what: format!("deleted ({node} seq {seq})"),
                            })?;
                    held.push((node.as_str(), seq, id));
                }
            }
        }
        if ids_digest(held.iter().copied()) != rec.digest || held.len() != rec.events {
            return Err(AuditError::Events {
                id: e.id,
                what: "replaced by other events".into(),
            });
        }
        events += held.len() as u64;
    }
    for (node, seq, _, json) in &s.events {
        let altered = |reason: String| AuditError::Altered {
            node: node.clone(),
            seq: *seq,
            reason,
        };
        let event = checkup_protocol::Event::from_json(json.as_bytes())
            .map_err(|e| altered(e.to_string()))?;
        if &event.node != node || i64::try_from(event.seq).ok() != Some(*seq) {
            return Err(altered("stored under another (node, seq)".into()));
        }
        event
            .verify_with(keys)
            .map_err(|e| altered(e.to_string()))?;
    }
    Ok(Verified {
        entries: s.entries.len() as u64,
        events,
        head: s.head.1.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|id| {
                let l = link(
                    &prev,
                    id,
                    1000 + id,
                    "C001",
                    "view_record",
                    &format!("r{id}"),
                );
                prev = l.clone();
                Entry {
                    id,
                    at_ms: 1000 + id,
                    staff_id: "C001".into(),
                    action: "view_record".into(),
                    subject: format!("r{id}"),
                    access: Access::default(),
                    link: l,
                }
            })
            .collect()
    }

    #[test]
    fn every_edit_deletion_and_cut_is_found_at_its_entry() {
        let c = chain(5);
        let head = (5, c[4].link.as_str());
        assert_eq!(check_chain(&c, head, 0), Ok(()));
        let mut edited = c.clone();
        edited[2].subject = "r99".into();
        assert_eq!(
            check_chain(&edited, head, 0),
            Err(AuditError::Broken { id: 3 })
        );
        let mut staff = c.clone();
        staff[1].staff_id = "K001".into();
        assert_eq!(
            check_chain(&staff, head, 0),
            Err(AuditError::Broken { id: 2 })
        );
        let mut gone = c.clone();
        gone.remove(2);
        assert_eq!(
            check_chain(&gone, head, 0),
            Err(AuditError::Missing { from: 3, to: 3 })
        );
        assert_eq!(
            check_chain(&c[..4], head, 0),
            Err(AuditError::Truncated { last: 4, head: 5 })
        );
        // Renumbered after a deletion: the links give it away.
        let mut renumbered = c.clone();
        renumbered.remove(2);
        for e in renumbered.iter_mut().skip(2) {
            e.id -= 1;
        }
        assert_eq!(
            check_chain(&renumbered, (4, renumbered[3].link.as_str()), 0),
            Err(AuditError::Broken { id: 3 })
        );
        assert_eq!(check_chain(&[], (0, GENESIS), 0), Ok(()));
    }
}

#[cfg(test)]
mod printable_tests {
    #[test]
    fn line_breaks_escapes_and_bidi_overrides_cannot_forge_audit_lines() {
        assert_eq!(
            super::printable("x\nimport_record\r\u{1b}[31m\u{202e}y"),
            "x\\u{a}import_record\\u{d}\\u{1b}[31m\\u{202e}y"
        );
        assert_eq!(super::printable("健診　花子 M-7781"), "健診　花子 M-7781");
    }
}
