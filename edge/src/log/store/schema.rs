//! SQLite schema, pragmas and row decoding of the event store.

use std::path::Path;
use std::sync::Arc;

use checkup_protocol::Event;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{StoreError, StoreOptions, Stored};

/// Bump when the layout changes; a store with a newer version is refused.
const SCHEMA_VERSION: i64 = 3;

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    pos      INTEGER PRIMARY KEY,
    node     TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    id       TEXT    NOT NULL UNIQUE,
    hlc_ms   INTEGER NOT NULL,
    hlc_c    INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    resident TEXT,
    json     TEXT    NOT NULL,
    chain    BLOB,
    UNIQUE (node, seq)
);
";

fn pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: the WAL is fsynced at every commit, so a committed append survives power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Open the write connection, create the schema, check that the store belongs to this
/// venue and node, and bring its audit chain up to this build and check it (see
/// [`super::chain`]): returns the connection, the chain's last link and its sealer.
pub(super) fn open_write(
    path: &Path,
    o: &StoreOptions,
    sealer: super::chain::Sealer,
) -> Result<(Connection, super::chain::Link, super::chain::Sealer), StoreError> {
    let conn = keyed(path, o.key.as_ref(), crate::at_rest::READ_WRITE)?;
    pragmas(&conn)?;
    // One transaction: a store is made, or upgraded, whole or not at all.
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(CREATE)?;
    let wrong = |reason: String| StoreError::WrongStore {
        path: path.to_path_buf(),
        reason,
    };
    let get = |key: &str| -> Result<Option<String>, rusqlite::Error> {
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    };
    let version = match get("schema_version")? {
        None => {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1), ('venue', ?2), ('node', ?3)",
                params![SCHEMA_VERSION.to_string(), o.venue, o.node],
            )?;
            None
        }
        Some(v) => {
            let v: i64 = v
                .parse()
                .map_err(|_| wrong(format!("schema version {v:?} is not a number")))?;
            if v > SCHEMA_VERSION {
                return Err(wrong(format!(
                    "schema version {v} is newer than this build's {SCHEMA_VERSION}"
                )));
            }
            let venue = get("venue")?.unwrap_or_default();
            let node = get("node")?.unwrap_or_default();
            if venue != o.venue || node != o.node {
                return Err(wrong(format!(
                    "belongs to venue {venue:?} node {node:?}, not venue {:?} node {:?}",
                    o.venue, o.node
                )));
            }
            Some(v)
        }
    };
    // Schema 2 added the hash chain, schema 3 its sealed head.
    let (link, sealer) = super::chain::open(&tx, version, sealer)?.map_err(wrong)?;
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        [SCHEMA_VERSION.to_string()],
    )?;
    tx.commit()?;
    Ok((conn, link, sealer))
}

/// A descriptor of the store's WAL file for `fdatasync`, after making sure SQLite has
/// created it, and with the directory entry flushed so the file itself survives a crash.
pub(super) fn open_wal_for_flush(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    let io = |e: std::io::Error| StoreError::WrongStore {
        path: wal.clone(),
        reason: e.to_string(),
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&wal)
        .map_err(io)?;
    file.sync_all().map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(file)
}

/// Open the store file with the box's data key (if any), checking that it fits.
pub fn keyed(
    path: &Path,
    key: Option<&crate::at_rest::DataKey>,
    flags: rusqlite::OpenFlags,
) -> Result<Connection, StoreError> {
    crate::at_rest::open_sqlite(path, key, flags).map_err(|e| match e {
        crate::at_rest::AtRestError::Sqlite(e) => StoreError::Sqlite(e),
        other => StoreError::WrongStore {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    })
}

/// Open a read-only connection.
pub(super) fn open_read(
    path: &Path,
    key: Option<&crate::at_rest::DataKey>,
) -> Result<Connection, StoreError> {
    let conn = keyed(
        path,
        key,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

pub(super) fn decode(pos: i64, json: &str) -> Result<Event, StoreError> {
    // Stored events were validated on the way in; read them back without re-validating
    // payload rules (limits may tighten in later builds) but never trust a corrupt row.
    serde_json::from_str::<Event>(json).map_err(|e| StoreError::Corrupt {
        pos,
        reason: e.to_string(),
    })
}

pub(super) fn read_after(
    conn: &Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<Stored>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT pos, json FROM events WHERE pos > ?1 ORDER BY pos LIMIT ?2")?;
    let rows = stmt.query_map(params![after, limit as i64], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (pos, json) = row?;
        out.push(Stored {
            pos,
            event: Arc::new(decode(pos, &json)?),
        });
    }
    Ok(out)
}

/// Up to `limit` stored JSON texts of `node`'s events with seq above `after`, in seq order
/// (the `(node, seq)` index answers this; replication sends the texts as they are).
pub(super) fn read_node_json(
    conn: &Connection,
    node: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<(u64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, json FROM events WHERE node = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![node, after as i64, limit as i64], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every stored event id, sorted.
pub(super) fn sorted_ids(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id FROM events ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn get_by_id(conn: &Connection, id: Uuid) -> Result<Option<Arc<Event>>, StoreError> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT pos, json FROM events WHERE id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(pos, json)| decode(pos, &json).map(Arc::new))
        .transpose()
}

/// Every event in projection order (HLC, then node and seq), for rebuilding state.
pub(crate) fn for_each_in_hlc_order(
    conn: &Connection,
    mut f: impl FnMut(Event),
) -> Result<(), StoreError> {
    let mut stmt =
        conn.prepare("SELECT pos, json FROM events ORDER BY hlc_ms, hlc_c, node, seq")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let pos: i64 = r.get(0)?;
        let json: String =
            r.get_ref(1)?
                .as_str()
                .map(str::to_owned)
                .map_err(|e| StoreError::Corrupt {
                    pos,
                    reason: e.to_string(),
                })?;
        f(decode(pos, &json)?);
    }
    Ok(())
}
