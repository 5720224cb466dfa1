//! The event log's hash chain and its sealed head.
//!
//! Every stored row carries `chain = SHA-256(previous row's chain ‖ the row's JSON)` (the
//! first row's previous is 32 zero bytes). `meta.chain_head` holds the last row's position
//! and link, the position from which the head has been sealed, and an ed25519 signature
//! over all three, the venue and the node, made with the node's key ([`Sealer`]); the
//! writer updates it in the same transaction as the rows, so a crash never leaves it
//! behind the log.
//!
//! Each event is signed by its box, so an edited event already fails its signature; the
//! chain adds what signatures cannot see: rows deleted, reordered or edited on this box's
//! disk. [`verify`] (`checkup-edge audit verify`) walks every link and checks the head.
//!
//! # What is detected
//!
//! By someone who can edit the SQLite file but does not hold the node key:
//!
//! - an entry edited, or its link rewritten or set to NULL: the first entry that does not
//!   follow is named;
//! - entries deleted from the middle: named where the chain resumes;
//! - entries deleted from the end (a cut end), with or without the head: the head names a
//!   later entry than the log's last, or is missing, or was rewritten to name the new last
//!   entry and no longer carries a valid seal;
//! - rows appended behind the box's back: the head names an earlier entry than the last.
//!
//! # What is not detected here
//!
//! - The whole file (or an old copy of the head, saved from the same file earlier) put
//!   back after entries were written: the old head is a genuine one. So is a rewrite by
//!   someone who holds the node key (root on the box). Anchoring the head outside the box
//!   (central keeping the heads it is sent) closes this and is not done yet (see
//!   `docs/security.md`).
//! - Anything before the store was sealed: a store of schema 1 (no chain) is chained, and
//!   one of schema 2 (no seal) is sealed, when this build first opens it; the head then
//!   records that position (`sealed from`), the box logs a warning and `audit verify`
//!   reports it, because a cut made before that moment cannot be seen. (Setting a store's
//!   schema version back is one more edit of the file; it leaves this trace too.)
//!
//! # At start
//!
//! [`open`] never rewrites a link. A box whose head is missing, unsealed (at schema 3),
//! sealed by another key, or does not match the last row, or whose log has a row without
//! a link or a gap in its positions, refuses to start with an error naming
//! `checkup-edge audit verify`: extending such a chain would seal whatever was done to it,
//! and operators expect a box that was tampered with to stop rather than carry on quietly.
//! These checks read only the head, the count and the missing links; an entry edited in
//! the middle is found by `audit verify`, which walks every link (the box starts, and
//! nothing it does hides the edit).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// A chain value.
pub type Link = [u8; 32];

/// The previous link of the first row.
pub const GENESIS: Link = [0; 32];

/// Domain-separation prefix of the signed head, so the signature cannot be taken for any
/// other of the node's signatures.
const SEAL_CONTEXT: &str = "checkup-edge/chain-head\n";

/// The link after `prev` for a row stored as `json`.
pub fn next(prev: &Link, json: &str) -> Link {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(json.as_bytes());
    h.finalize().into()
}

/// Signs (and checks) the head with the node's key, for one venue and node.
#[derive(Clone)]
pub struct Sealer {
    key: SigningKey,
    venue: String,
    node: String,
    /// The position from which this store's head has been sealed (0: since it was made).
    since: i64,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("venue", &self.venue)
            .field("node", &self.node)
            .field("since", &self.since)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// The sealer of `node` of `venue`, with the node's key.
    pub fn new(key: &checkup_protocol::NodeKey, venue: &str, node: &str) -> Sealer {
        Sealer {
            key: SigningKey::from_bytes(&key.to_bytes()),
            venue: venue.to_owned(),
            node: node.to_owned(),
            since: 0,
        }
    }

    fn message(&self, pos: i64, link: &Link, since: i64) -> String {
        format!(
            "{SEAL_CONTEXT}{}\n{}\n{pos}\n{}\n{since}",
            self.venue,
            self.node,
            hex::encode(link)
        )
    }

    fn sign(&self, pos: i64, link: &Link) -> String {
        let sig = self
            .key
            .sign(self.message(pos, link, self.since).as_bytes());
        hex::encode(sig.to_bytes())
    }

    fn check(&self, head: &Sealed) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(head.sig.as_slice()) else {
            return false;
        };
        self.key
            .verifying_key()
            .verify(
                self.message(head.pos, &head.link, head.since).as_bytes(),
                &Signature::from_bytes(&sig),
            )
            .is_ok()
    }
}

/// A sealed head as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sealed {
    pos: i64,
    link: Link,
    since: i64,
    sig: Vec<u8>,
}

/// What `meta.chain_head` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Head {
    /// No head.
    Missing,
    /// `pos:link`, as a build before the seal wrote it.
    Unsealed { pos: i64, link: Link },
    /// `pos:link:since:signature`.
    Sealed(Sealed),
    /// Anything else.
    Unreadable(String),
}

fn read_head(conn: &Connection) -> Result<Head, rusqlite::Error> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'chain_head'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(v) = v else {
        return Ok(Head::Missing);
    };
    let parts: Vec<&str> = v.split(':').collect();
    let link = |s: &str| -> Option<Link> { hex::decode(s).ok()?.try_into().ok() };
    let parsed = match parts.as_slice() {
        [pos, l] => pos
            .parse()
            .ok()
            .zip(link(l))
            .map(|(pos, link)| Head::Unsealed { pos, link }),
        [pos, l, since, sig] => (|| {
            Some(Head::Sealed(Sealed {
                pos: pos.parse().ok()?,
                link: link(l)?,
                since: since.parse().ok()?,
                sig: hex::decode(sig).ok()?,
            }))
        })(),
        _ => None,
    };
    Ok(parsed.unwrap_or(Head::Unreadable(v)))
}

/// Record the head, sealed (in the caller's transaction).
pub(super) fn set_head(
    conn: &Connection,
    pos: i64,
    link: &Link,
    sealer: &Sealer,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('chain_head', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [format!(
            "{pos}:{}:{}:{}",
            hex::encode(link),
            sealer.since,
            sealer.sign(pos, link)
        )],
    )?;
    Ok(())
}

/// Where the chain breaks.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The entry at `pos` was changed (its JSON no longer gives its link), has no link, or
    /// an entry right before it was removed.
    #[error("audit chain broken at entry {pos} (event {id}): {why}")]
    Broken {
        /// Position of the first entry that does not follow.
        pos: i64,
        /// Its event id.
        id: String,
        /// What was found.
        why: String,
    },
    /// Entries after the last one were removed.
    #[error(
        "audit chain: the log ends at entry {last} but its head names entry {head}: entries were removed from the end"
    )]
    Truncated {
        /// The last entry present.
        last: i64,
        /// The last entry the head records.
        head: i64,
    },
    /// The head is missing, unsealed, sealed by another key, or does not match the log.
    #[error("audit chain head: {0}")]
    Head(String),
    /// The log could not be read.
    #[error("reading the log: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// What a verification walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// The last entry's position (0: empty log).
    pub last_pos: i64,
    /// The head link, hex.
    pub head: String,
    /// The position from which the head has been sealed: 0 for a store made by a build with
    /// the seal; otherwise the end of the log when an older store was upgraded (a cut made
    /// before then cannot be seen).
    pub sealed_from: i64,
}

/// Check the sealed head against the log's last entry (`last`, with link `link`).
fn check_head(
    head: Head,
    sealer: &Sealer,
    last: i64,
    link: Option<&Link>,
) -> Result<i64, ChainError> {
    let sealed = match head {
        Head::Sealed(s) => s,
        Head::Missing => {
            return Err(ChainError::Head(format!(
                "the head is missing (the log ends at entry {last}): entries may have been removed from the end"
            )));
        }
        Head::Unsealed { pos, .. } => {
            return Err(ChainError::Head(format!(
                "the head (entry {pos}) is not sealed: rewritten, or a store of an older build that this build has not opened yet"
            )));
        }
        Head::Unreadable(v) => {
            return Err(ChainError::Head(format!("the head {v:?} is unreadable")));
        }
    };
    if !sealer.check(&sealed) {
        return Err(ChainError::Head(format!(
            "the head (entry {}) does not carry this box's seal: it was rewritten, or the store belongs to another node key",
            sealed.pos
        )));
    }
    if sealed.pos > last {
        return Err(ChainError::Truncated {
            last,
            head: sealed.pos,
        });
    }
    if sealed.pos < last {
        return Err(ChainError::Head(format!(
            "the head names entry {} but the log goes on to entry {last}: entries were added outside the box",
            sealed.pos
        )));
    }
    if link.unwrap_or(&GENESIS) != &sealed.link {
        return Err(ChainError::Head(format!(
            "the head does not match the last entry ({last})"
        )));
    }
    Ok(sealed.since)
}

/// Walk the whole log and check every link and the sealed head.
pub fn verify(conn: &Connection, sealer: &Sealer) -> Result<Verified, ChainError> {
    let mut stmt = conn.prepare("SELECT pos, id, json, chain FROM events ORDER BY pos")?;
    let mut rows = stmt.query([])?;
    let (mut prev, mut last_pos, mut entries) = (GENESIS, 0i64, 0u64);
    while let Some(r) = rows.next()? {
        let (pos, id, json): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let stored: Option<Vec<u8>> = r.get(3)?;
        let broken = |why: String| ChainError::Broken {
            pos,
            id: id.clone(),
            why,
        };
        if pos != last_pos + 1 {
            return Err(broken(format!(
                "entries {}..={} are missing (deleted)",
                last_pos + 1,
                pos - 1
            )));
        }
        let expected = next(&prev, &json);
        match stored {
            None => return Err(broken("the entry has no link".into())),
            Some(s) if s.as_slice() != expected.as_slice() => {
                return Err(broken(
                    "its content or link was changed after it was stored".into(),
                ));
            }
            Some(_) => {}
        }
        prev = expected;
        last_pos = pos;
        entries += 1;
    }
    let sealed_from = check_head(read_head(conn)?, sealer, last_pos, Some(&prev))?;
    Ok(Verified {
        entries,
        last_pos,
        head: hex::encode(prev),
        sealed_from,
    })
}

/// Why the store does not open: the chain does not hold (see the module's "At start").
fn refuse(why: impl std::fmt::Display) -> String {
    format!(
        "the audit chain does not hold: {why}. The box does not extend a broken audit chain: \
         run `checkup-edge audit verify` to see what was changed, and keep the data directory as evidence"
    )
}

/// The log's last position, its row count, its last link and the first row without a link.
fn tail(conn: &Connection) -> Result<(i64, i64, Option<Link>, Option<i64>), rusqlite::Error> {
    let (last, count): (i64, i64) = conn.query_row(
        "SELECT coalesce(max(pos), 0), count(*) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let link: Option<Vec<u8>> = conn
        .query_row("SELECT chain FROM events WHERE pos = ?1", [last], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let unlinked: Option<i64> = conn
        .query_row(
            "SELECT pos FROM events WHERE chain IS NULL ORDER BY pos LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok((last, count, link.and_then(|l| l.try_into().ok()), unlinked))
}

/// Bring the chain of a store last written at `version` (None: a new store) up to this
/// build and check it, in the caller's transaction: returns the last link, and the sealer
/// with the position it seals from. `Err` holds why the store must not be opened.
pub(super) fn open(
    conn: &Connection,
    version: Option<i64>,
    mut sealer: Sealer,
) -> Result<Result<(Link, Sealer), String>, rusqlite::Error> {
    let has_column = conn
        .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'chain'")?
        .exists([])?;
    match version {
        // A new store: its empty head is sealed from the start.
        None => {
            set_head(conn, 0, &GENESIS, &sealer)?;
            return Ok(Ok((GENESIS, sealer)));
        }
        // From before the chain: every row gains its link now.
        Some(1) if !has_column => {
            let (last, link) = add_chain(conn)?;
            sealer.since = last;
            set_head(conn, last, &link, &sealer)?;
            tracing::warn!(
                entries = last,
                "event log hash chain added to a store of an older build: removals before now cannot be detected (audit verify reports this)"
            );
            return Ok(Ok((link, sealer)));
        }
        _ => {}
    }
    if !has_column {
        return Ok(Err(refuse("the events have no chain column")));
    }
    let (last, count, link, unlinked) = tail(conn)?;
    if let Some(pos) = unlinked {
        return Ok(Err(refuse(format!("entry {pos} has no link"))));
    }
    if count != last {
        return Ok(Err(refuse(format!(
            "{} of entries 1..={last} are missing",
            last - count
        ))));
    }
    let head = read_head(conn)?;
    // Sealed by a build before the seal: the head must still match; it is sealed from here.
    if version.is_some_and(|v| v < 3)
        && let Head::Unsealed { pos, link: l } = head
    {
        if pos != last || link.unwrap_or(GENESIS) != l {
            return Ok(Err(refuse(format!(
                "the head names entry {pos} but the log ends at entry {last}"
            ))));
        }
        sealer.since = last;
        set_head(conn, last, &l, &sealer)?;
        tracing::warn!(
            entries = last,
            "audit chain head sealed for a store of an older build: removals before now cannot be detected (audit verify reports this)"
        );
        return Ok(Ok((l, sealer)));
    }
    match check_head(head, &sealer, last, link.as_ref()) {
        Ok(since) => {
            sealer.since = since;
            if since > 0 {
                tracing::warn!(
                    sealed_from = since,
                    "the audit chain's head has been sealed only since entry {since} (a store of an older build)"
                );
            }
            Ok(Ok((link.unwrap_or(GENESIS), sealer)))
        }
        Err(ChainError::Sqlite(e)) => Err(e),
        Err(e) => Ok(Err(refuse(e))),
    }
}

/// Add the chain to a store created before it (schema 1): the column and every row's link
/// in position order (in the caller's transaction). Returns the last position and link.
fn add_chain(tx: &Connection) -> Result<(i64, Link), rusqlite::Error> {
    tx.execute_batch("ALTER TABLE events ADD COLUMN chain BLOB")?;
    let mut prev = GENESIS;
    let mut last = 0;
    {
        let rows: Vec<(i64, String)> = tx
            .prepare("SELECT pos, json FROM events ORDER BY pos")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut update = tx.prepare("UPDATE events SET chain = ?1 WHERE pos = ?2")?;
        for (pos, json) in rows {
            prev = next(&prev, &json);
            update.execute(params![prev.as_slice(), pos])?;
            last = pos;
        }
    }
    Ok((last, prev))
}
