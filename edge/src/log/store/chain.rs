//! The event log's hash chain: every stored row carries
//! `chain = SHA-256(previous row's chain ‖ the row's JSON)` (the first row's previous is 32
//! zero bytes), and `meta.chain_head` holds the last row's position and chain, updated in
//! the same transaction as the rows.
//!
//! Each event is signed by its box, so an edited event already fails its signature; the
//! chain adds what signatures cannot see: a row deleted from the middle or the end of the
//! log, or rows reordered, on this box's disk. [`verify`] walks the log and names the first
//! entry where the chain breaks (`checkup-edge audit verify`). Someone who can rewrite the
//! whole file can also recompute the chain; anchoring the head outside the box (central)
//! is what closes that, and is not done yet (see `docs/security.md`).

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// A chain value.
pub type Link = [u8; 32];

/// The previous link of the first row.
pub const GENESIS: Link = [0; 32];

/// The link after `prev` for a row stored as `json`.
pub fn next(prev: &Link, json: &str) -> Link {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(json.as_bytes());
    h.finalize().into()
}

/// Where the chain breaks.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The entry at `pos` was changed (its JSON no longer gives its link) or an entry
    /// right before it was removed.
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
}

/// Add the chain to a store created before it (schema 1): the column, every row's link in
/// position order, and the head. Idempotent.
pub(super) fn migrate(conn: &Connection) -> Result<(), rusqlite::Error> {
    let has_column = conn
        .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'chain'")?
        .exists([])?;
    if !has_column {
        conn.execute_batch("ALTER TABLE events ADD COLUMN chain BLOB")?;
    }
    let missing: i64 =
        conn.query_row("SELECT COUNT(*) FROM events WHERE chain IS NULL", [], |r| {
            r.get(0)
        })?;
    if missing == 0 && head(conn)?.is_some() {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
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
    set_head(&tx, last, &prev)?;
    tx.commit()?;
    tracing::info!(entries = last, "event log hash chain added");
    Ok(())
}

/// The head: last position and link (None before any row was chained).
pub(super) fn head(conn: &Connection) -> Result<Option<(i64, Link)>, rusqlite::Error> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'chain_head'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(v.and_then(|v| {
        let (pos, hex_link) = v.split_once(':')?;
        let bytes = hex::decode(hex_link).ok()?;
        Some((pos.parse().ok()?, bytes.try_into().ok()?))
    }))
}

/// Record the head (in the caller's transaction).
pub(super) fn set_head(conn: &Connection, pos: i64, link: &Link) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('chain_head', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [format!("{pos}:{}", hex::encode(link))],
    )?;
    Ok(())
}

/// Walk the whole log and check every link and the head.
pub fn verify(conn: &Connection) -> Result<Verified, ChainError> {
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
    if let Some((head_pos, head_link)) = head(conn)? {
        if head_pos > last_pos {
            return Err(ChainError::Truncated {
                last: last_pos,
                head: head_pos,
            });
        }
        if head_pos == last_pos && head_link != prev && entries > 0 {
            return Err(ChainError::Broken {
                pos: last_pos,
                id: String::new(),
                why: "the head does not match the last entry".into(),
            });
        }
    }
    Ok(Verified {
        entries,
        last_pos,
        head: hex::encode(prev),
    })
}
