//! Staff sessions in the database (migration 12) on both stores: a session is found by the
//! SHA-256 of its token, kept alive by requests, ended by idle time and by sign-out — and
//! two stores on one PostgreSQL database (two central processes) see the same sessions.

use std::sync::Arc;
use std::time::Duration;

use checkup_central::db::Store;
use checkup_central::db::postgres::Postgres;
use checkup_central::db::sqlite::Sqlite;

const IDLE: Duration = Duration::from_millis(600);

/// `a` creates; `b` (the same store, or another process's on the same database) checks.
async fn semantics(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let (digest, other) = ("a".repeat(64), "b".repeat(64));
    a.create_staff_session(&digest, "C1", IDLE)
        .await
        .expect("create");
    assert_eq!(
        b.touch_staff_session(&digest, IDLE, Duration::ZERO)
            .await
            .expect("touch")
            .as_deref(),
        Some("C1")
    );
    assert_eq!(
        b.touch_staff_session(&other, IDLE, Duration::ZERO)
            .await
            .expect("touch"),
        None,
        "an unknown token"
    );
    // Requests every 200 ms keep it for twice the idle time, at either store.
    for i in 0..6 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let s = if i % 2 == 0 { &a } else { &b };
        assert!(
            s.touch_staff_session(&digest, IDLE, Duration::from_millis(100))
                .await
                .expect("touch")
                .is_some(),
            "request {i}"
        );
    }
    // Idle: ended, and gone for good.
    tokio::time::sleep(IDLE + Duration::from_millis(100)).await;
    assert_eq!(
        a.touch_staff_session(&digest, IDLE, Duration::ZERO)
            .await
            .expect("touch"),
        None
    );
    assert!(!b.delete_staff_session(&digest).await.expect("delete"));
    // Sign-out at one ends it at the other.
    b.create_staff_session(&other, "C2", IDLE)
        .await
        .expect("create");
    assert!(a.delete_staff_session(&other).await.expect("delete"));
    assert_eq!(
        b.touch_staff_session(&other, IDLE, Duration::ZERO)
            .await
            .expect("touch"),
        None
    );
}

#[tokio::test]
async fn staff_sessions_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let db: Arc<dyn Store> =
        Arc::new(Sqlite::open(&dir.path().join("central.sqlite3")).expect("open"));
    semantics(db.clone(), db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sessions_on_postgresql_shared_by_two_processes() {
    let db = checkup_tests::pg::TempDatabase::create("checkup_sessions")
        .await
        .expect("database");
    let a: Arc<dyn Store> = Arc::new(Postgres::open(&db.url()).await.expect("open a"));
    let b: Arc<dyn Store> = Arc::new(Postgres::open(&db.url()).await.expect("open b"));
    semantics(a, b).await;
    db.drop_now().await;
}
