//! The event log's hash chain on a real box: after a day of appends `checkup-edge audit
//! verify` finds the chain intact; an entry edited, one deleted from the middle, one deleted
//! from the end, or a link rewritten in the SQLite file is found and named by position; a
//! cut end is found whether its head was left, deleted or rewritten; a box does not start on
//! a chain that does not hold (a link set to NULL is never re-chained); a store made before
//! the chain existed gains it when the box opens it, and says so.

mod common;

use std::path::Path;

use checkup_edge::log::store::chain::{ChainError, Sealer, verify};
use checkup_protocol::NodeKey;
use common::{TestBox, open_session};
use uuid::Uuid;

/// A box's data directory after 12 events (sessions opened, each an audited event).
async fn day() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let config = common::config(dir.path());
    let b = TestBox::start_with(dir, config).await;
    let reception = b.client("R1", "1111").await;
    for i in 0..12 {
        let (s, v) = reception
            .post(
                "/api/events",
                &open_session(Uuid::now_v7(), &format!("00000000{i:02}")),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    b.stop().await
}

/// A copy of the store with `sql` applied to it.
fn tampered(dir: &Path, sql: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("dir");
    for f in ["events.sqlite3", "events.sqlite3-wal", "node.key"] {
        if dir.join(f).exists() {
            std::fs::copy(dir.join(f), copy.path().join(f)).expect("copy");
        }
    }
    let conn = rusqlite::Connection::open(copy.path().join("events.sqlite3")).expect("open");
    conn.execute_batch(sql).expect("tamper");
    drop(conn);
    copy
}

fn check(dir: &Path) -> Result<checkup_edge::log::store::chain::Verified, ChainError> {
    let key: [u8; 32] = std::fs::read(dir.join("node.key"))
        .expect("node key")
        .try_into()
        .expect("32 bytes");
    let sealer = Sealer::new(&NodeKey::from_bytes(&key), "test-venue", "edge-01");
    let conn = rusqlite::Connection::open(dir.join("events.sqlite3")).expect("open");
    verify(&conn, &sealer)
}

fn cli(dir: &Path) -> (Option<i32>, String) {
    let config = dir.join("verify.toml");
    std::fs::write(
        &config,
        format!(
            "venue_id = \"test-venue\"\nnode_id = \"edge-01\"\ndata_dir = \"{}\"\n",
            dir.display()
        ),
    )
    .expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_checkup-edge"))
        .args(["audit", "verify", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn broken_at(r: Result<checkup_edge::log::store::chain::Verified, ChainError>) -> (i64, String) {
    match r {
        Err(ChainError::Broken { pos, why, .. }) => (pos, why),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_deletions_are_found_at_the_right_entry() {
    let dir = day().await;
    let ok = check(dir.path()).expect("intact");
    assert_eq!((ok.entries, ok.last_pos), (12, 12));
    let (code, text) = cli(dir.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("intact: 12 entries"), "{text}");

    // An entry's content edited (the resident of entry 5 changed).
    let t = tampered(
        dir.path(),
        "UPDATE events SET json = replace(json, '0000000004', '0000000099') WHERE pos = 5",
    );
    assert_eq!(broken_at(check(t.path())).0, 5);
    let (code, text) = cli(t.path());
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("broken at entry 5"), "{text}");

    // An entry deleted from the middle: named as missing where the chain resumes.
    let t = tampered(dir.path(), "DELETE FROM events WHERE pos = 7");
    let (pos, why) = broken_at(check(t.path()));
    assert_eq!(pos, 8);
    assert!(why.contains("7..=7"), "{why}");

    // A link rewritten to hide an edit further on.
    let t = tampered(
        dir.path(),
        "UPDATE events SET chain = zeroblob(32) WHERE pos = 3",
    );
    assert_eq!(broken_at(check(t.path())).0, 3);

    // The last entries deleted: the head still names entry 12.
    let t = tampered(dir.path(), "DELETE FROM events WHERE pos > 10");
    match check(t.path()) {
        Err(ChainError::Truncated { last, head }) => assert_eq!((last, head), (10, 12)),
        other => panic!("expected truncation, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_before_the_chain_gains_it_when_opened() {
    let dir = day().await;
    // Back to schema 1: no chain column, no head.
    let conn = rusqlite::Connection::open(dir.path().join("events.sqlite3")).expect("open");
    conn.execute_batch(
        "ALTER TABLE events DROP COLUMN chain;
         DELETE FROM meta WHERE key = 'chain_head';
         UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .expect("downgrade");
    drop(conn);
    assert!(check(dir.path()).is_err(), "no chain to verify yet");
    let config = common::config(dir.path());
    let b = TestBox::start_with(dir, config).await;
    let reception = b.client("R1", "1111").await;
    let (s, _) = reception
        .post("/api/events", &open_session(Uuid::now_v7(), "0000000100"))
        .await;
    assert_eq!(s, 201);
    let dir = b.stop().await;
    let ok = check(dir.path()).expect("intact after migration");
    assert_eq!(ok.entries, 13);
    // The chain vouches for the end of the log only from the upgrade on, and says so.
    assert_eq!(ok.sealed_from, 12);
    let (code, text) = cli(dir.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("sealed since entry 12"), "{text}");
}

/// The head value of a store, and a setter for it.
fn head_value(dir: &Path) -> String {
    let conn = rusqlite::Connection::open(dir.join("events.sqlite3")).expect("open");
    conn.query_row("SELECT value FROM meta WHERE key = 'chain_head'", [], |r| {
        r.get(0)
    })
    .expect("head")
}

/// Whether a box opens on `dir`: the error text if it refuses.
fn box_opens(dir: &Path) -> Result<(), String> {
    checkup_edge::Edge::open(&common::config(dir))
        .map(drop)
        .map_err(|e| format!("{e:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_end_with_its_head_deleted_or_rewritten_is_found() {
    let dir = day().await;
    let cut = "DELETE FROM events WHERE pos > 10;";

    // The last entries and the head deleted.
    let t = tampered(
        dir.path(),
        &format!("{cut} DELETE FROM meta WHERE key = 'chain_head';"),
    );
    let (code, text) = cli(t.path());
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("head is missing"), "{text}");
    let refused = box_opens(t.path()).expect_err("a box on a cut log");
    assert!(refused.contains("audit verify"), "{refused}");

    // The head rewritten to name the new last entry, as the store wrote heads before they
    // were sealed.
    let t = tampered(
        dir.path(),
        &format!(
            "{cut} UPDATE meta SET value = (SELECT pos || ':' || lower(hex(chain)) FROM events
             WHERE pos = 10) WHERE key = 'chain_head';"
        ),
    );
    let (code, text) = cli(t.path());
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("not sealed"), "{text}");
    assert!(box_opens(t.path()).is_err(), "a box on an unsealed head");

    // The head rewritten to the new last entry, keeping the rest of the sealed value.
    let head = head_value(dir.path());
    let rest: Vec<&str> = head.splitn(3, ':').collect();
    let t = tampered(
        dir.path(),
        &format!(
            "{cut} UPDATE meta SET value = (SELECT pos || ':' || lower(hex(chain)) FROM events
             WHERE pos = 10) || ':{}' WHERE key = 'chain_head';",
            rest.get(2).copied().unwrap_or_default()
        ),
    );
    let (code, text) = cli(t.path());
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("seal"), "{text}");
    assert!(box_opens(t.path()).is_err(), "a box on a forged head");

    // The untouched store still opens and verifies.
    let (code, text) = cli(dir.path());
    assert_eq!(code, Some(0), "{text}");
    box_opens(dir.path()).expect("the untouched box opens");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_link_is_not_rechained_at_restart_and_is_found() {
    let dir = day().await;
    // An entry edited, its link set to NULL so that a re-chaining would hide the edit.
    let conn = rusqlite::Connection::open(dir.path().join("events.sqlite3")).expect("open");
    conn.execute_batch(
        "UPDATE events SET json = replace(json, '0000000004', '0000000099'), chain = NULL
         WHERE pos = 5",
    )
    .expect("tamper");
    drop(conn);
    // The box refuses to start, naming the entry and the command that explains it.
    let refused = box_opens(dir.path()).expect_err("a box on a NULL link");
    assert!(refused.contains("entry 5 has no link"), "{refused}");
    assert!(refused.contains("audit verify"), "{refused}");
    // Nothing was re-chained: the break is still found where it is.
    let (code, text) = cli(dir.path());
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("broken at entry 5"), "{text}");
    assert!(text.contains("no link"), "{text}");
}
