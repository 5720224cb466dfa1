//! The event log's hash chain on a real box: after a day of appends `checkup-edge audit
//! verify` finds the chain intact; an entry edited, one deleted from the middle, one deleted
//! from the end, or a link rewritten in the SQLite file is found and named by position; a
//! store made before the chain existed gains it when the box opens it.

mod common;

use std::path::Path;

use checkup_edge::log::store::chain::{ChainError, verify};
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
    for f in ["events.sqlite3", "events.sqlite3-wal"] {
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
    let conn = rusqlite::Connection::open(dir.join("events.sqlite3")).expect("open");
    verify(&conn)
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
}
