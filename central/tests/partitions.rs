//! `events` partitioned by month on PostgreSQL (migration 9, issue 21): a database of
//! schema 8 migrated in place keeps every event and still answers; exactly once by
//! `(node, seq)` holds across partitions (a replay is a duplicate, the same seq as another
//! event in another month refuses the batch); a batch of a month without a partition gets
//! one, not DEFAULT; rows held in DEFAULT are moved by the maintenance. Real PostgreSQL at
//! 127.0.0.1:5432, a database per test, dropped after.

use checkup_central::db::postgres::Postgres;
use checkup_central::db::{DbError, EventRow, Store};
use checkup_protocol::{
    Accepted, Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementRecorded, NodeKey, Role,
    SessionOpened, StationKind,
};
use checkup_tests::pg::TempDatabase;
use uuid::Uuid;

const NODE: &str = "edge-01";
const VENUE: &str = "midori-day1";
const RESIDENT: &str = "0000000042";

/// 10:00 JST on the 15th of 2026-09, -10 and -11.
const SEPT: u64 = 1_789_434_000_000;
const OCT: u64 = 1_792_026_000_000;
const NOV: u64 = 1_794_704_400_000;

fn seal(key: &NodeKey, seq: u64, ms: u64, body: EventBody) -> Event {
    Event::seal(
        Uuid::now_v7(),
        VENUE,
        NODE,
        seq,
        Hlc { ms, c: 0 },
        Actor {
            staff_id: "N1".into(),
            role: Role::Nurse,
        },
        body,
        key,
    )
}

/// A session opened and a height recorded in it.
fn checkup(key: &NodeKey, seq: u64, ms: u64) -> Vec<Event> {
    let session_id = Uuid::now_v7();
    vec![
        seal(
            key,
            seq,
            ms,
            EventBody::SessionOpened(SessionOpened {
                session_id,
                resident_id: RESIDENT.into(),
                stations: vec![StationKind::Measurement],
                card: None,
                insurer: None,
            }),
        ),
        seal(
            key,
            seq + 1,
            ms + 1000,
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id,
                resident_id: RESIDENT.into(),
                station: StationKind::Measurement,
                item_code: "9N001000000000001".into(),
                value: MeasuredValue::Number(160.0 + seq as f64),
                unit: "cm".into(),
                confirmed: false,
                answered: None,
            }),
        ),
    ]
}

fn rows(events: &[Event]) -> Vec<EventRow> {
    events
        .iter()
        .map(|e| {
            EventRow::from_accepted(Accepted {
                event: e.clone(),
                json: serde_json::to_string(e).expect("json"),
            })
        })
        .collect()
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    c
}

/// Where each event is held: (id, partition), by id.
async fn placement(c: &tokio_postgres::Client) -> Vec<(String, String)> {
    c.query(
        "SELECT id, tableoid::regclass::text FROM events ORDER BY id",
        &[],
    )
    .await
    .expect("placement")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

async fn count(c: &tokio_postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.expect(sql).get(0)
}

#[tokio::test]
async fn a_database_of_schema_8_is_partitioned_in_place_and_keeps_every_event() {
    let db = TempDatabase::create("checkup_part")
        .await
        .expect("database");
    let url = db.url();
    Postgres::migrate_to(&url, 8).await.expect("schema 8");
    let c = connect(&url).await;
    assert_eq!(
        count(&c, "SELECT max(version) FROM schema_migrations").await,
        8
    );

    // Three months of events, stored as the schema-8 ingest stored them.
    let key = NodeKey::generate();
    let mut events = Vec::new();
    for (i, ms) in [SEPT, OCT, NOV].into_iter().enumerate() {
        events.extend(checkup(&key, 1 + 2 * i as u64, ms));
    }
    let old = rows(&events);
    for r in &old {
        c.execute(
            "INSERT INTO events (node, seq, id, venue, kind, resident, hlc_ms, hlc_c, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb)",
            &[
                &r.node,
                &r.seq,
                &r.id,
                &r.venue,
                &r.kind,
                &r.resident,
                &r.hlc_ms,
                &r.hlc_c,
                &r.json,
            ],
        )
        .await
        .expect("old event");
        if let checkup_central::db::Derived::Result(x) = &r.derived {
            c.execute(
                "INSERT INTO results VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL,
                   $11)",
                &[
                    &x.event_id,
                    &x.resident_id,
                    &x.session_id,
                    &x.venue,
                    &x.day,
                    &x.item_code,
                    &x.value,
                    &x.unit,
                    &x.hlc_ms,
                    &x.hlc_c,
                    &x.staff_id,
                ],
            )
            .await
            .expect("old result");
        }
    }
    c.execute("INSERT INTO node_heads VALUES ($1, 6)", &[&NODE.to_owned()])
        .await
        .expect("head");
    let before: Vec<(String, String)> = c
        .query("SELECT id, body::text FROM events ORDER BY id", &[])
        .await
        .expect("before")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(before.len(), 6);

    // The current store migrates it.
    let store = Postgres::open(&url).await.expect("open");
    assert_eq!(
        count(&c, "SELECT max(version) FROM schema_migrations").await,
        checkup_central::db::migrations::MIGRATIONS
            .last()
            .map_or(0, |m| m.version)
    );
    let after: Vec<(String, String)> = c
        .query("SELECT id, body::text FROM events ORDER BY id", &[])
        .await
        .expect("after")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(after, before, "the same events, ids and bodies");
    assert_eq!(store.event_count().await.expect("count"), 6);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'events'::regclass"
        )
        .await,
        1,
        "events is partitioned"
    );
    let children: Vec<String> = c
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass ORDER BY 1",
            &[],
        )
        .await
        .expect("children")
        .iter()
        .map(|r| r.get(0))
        .collect();
    for month in [
        "events_2026_09",
        "events_2026_10",
        "events_2026_11",
        "events_default",
    ] {
        assert!(children.iter().any(|c| c == month), "{month}: {children:?}");
    }
    let held = placement(&c).await;
    for (e, (id, part)) in events.iter().zip({
        let mut by_event = held.clone();
        by_event.sort_by_key(|(id, _)| {
            events
                .iter()
                .position(|e| e.id.to_string() == *id)
                .unwrap_or(usize::MAX)
        });
        by_event
    }) {
        assert_eq!(e.id.to_string(), id);
        let month = checkup_central::db::partitions::Month::of_ms(e.hlc.ms as i64)
            .map(|m| m.table())
            .unwrap_or_default();
        assert_eq!(part, month, "each event in its month's partition");
    }
    assert_eq!(count(&c, "SELECT count(*) FROM event_keys").await, 6);

    // The record and the export still answer; the audit still sees every event.
    let record = store.results_of(RESIDENT).await.expect("record");
    assert_eq!(record.len(), 3);
    let export = store
        .results_between("2026-10-01", "2026-11-30")
        .await
        .expect("export");
    assert_eq!(export.len(), 2);
    assert_eq!(store.audit_snapshot().await.expect("audit").events.len(), 6);

    // A replay of a migrated event is a duplicate; the next event is new and heads move.
    let mut batch = events[4..].to_vec();
    batch.extend(checkup(&key, 7, NOV + 60_000));
    let done = store.ingest(rows(&batch)).await.expect("ingest");
    assert_eq!((done.new, done.duplicate), (2, 2));
    assert_eq!(done.acked.get(NODE), Some(&8));
    drop(store);
    db.drop_now().await;
}

#[tokio::test]
async fn exactly_once_holds_across_partitions() {
    let db = TempDatabase::create("checkup_part")
        .await
        .expect("database");
    let url = db.url();
    let store = Postgres::open(&url).await.expect("open");
    let c = connect(&url).await;
    let key = NodeKey::generate();
    let first = checkup(&key, 1, SEPT);
    let done = store.ingest(rows(&first)).await.expect("first");
    assert_eq!((done.new, done.duplicate), (2, 0));

    // The same (node, seq) resent: a duplicate, nothing added.
    let done = store.ingest(rows(&first)).await.expect("replay");
    assert_eq!((done.new, done.duplicate), (0, 2));
    assert_eq!(done.acked.get(NODE), Some(&2));

    // Seq 3 is new; seq 1 again as another event, of another month: the whole batch is
    // refused and nothing of it stored.
    let mut other = checkup(&key, 3, SEPT + 60_000);
    other.push(seal(
        &key,
        1,
        NOV,
        EventBody::SessionClosed(checkup_protocol::SessionClosed {
            session_id: Uuid::now_v7(),
            reason: None,
        }),
    ));
    match store.ingest(rows(&other)).await {
        Err(DbError::Equivocation { node, seq }) => assert_eq!((node.as_str(), seq), (NODE, 1)),
        other => panic!("expected an equivocation, got {other:?}"),
    }
    assert_eq!(store.event_count().await.expect("count"), 2);
    assert_eq!(count(&c, "SELECT count(*) FROM event_keys").await, 2);
    assert_eq!(
        count(&c, "SELECT count(*) FROM events_2026_11").await,
        0,
        "nothing in the other month"
    );
    assert_eq!(store.results_of(RESIDENT).await.expect("record").len(), 1);
    assert_eq!(store.heads().await.expect("heads").get(NODE), Some(&2));
    drop(store);
    db.drop_now().await;
}

#[tokio::test]
async fn a_month_without_a_partition_gets_one_and_default_rows_are_moved() {
    let db = TempDatabase::create("checkup_part")
        .await
        .expect("database");
    let url = db.url();
    let store = Postgres::open(&url).await.expect("open");
    let c = connect(&url).await;
    let key = NodeKey::generate();

    // 2031-05-15 10:00 JST: far beyond the months made ahead.
    let may_2031: u64 = 1_936_573_200_000;
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM pg_class WHERE relname = 'events_2031_05'"
        )
        .await,
        0
    );
    let batch = checkup(&key, 1, may_2031);
    store.ingest(rows(&batch)).await.expect("ingest");
    let held = placement(&c).await;
    assert_eq!(held.len(), 2);
    assert!(
        held.iter().all(|(_, p)| p == "events_2031_05"),
        "in a new month partition, not DEFAULT: {held:?}"
    );
    assert_eq!(count(&c, "SELECT count(*) FROM events_default").await, 0);

    // Rows that reached DEFAULT (written past the store: a restore, an older build) are
    // moved into their month's partition by the maintenance.
    let feb_2033: u64 = 1_992_042_000_000;
    let stray = rows(&checkup(&key, 3, feb_2033));
    for r in &stray {
        c.execute(
            "INSERT INTO events (node, seq, id, venue, kind, resident, hlc_ms, hlc_c, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb)",
            &[
                &r.node,
                &r.seq,
                &r.id,
                &r.venue,
                &r.kind,
                &r.resident,
                &r.hlc_ms,
                &r.hlc_c,
                &r.json,
            ],
        )
        .await
        .expect("stray");
    }
    assert_eq!(count(&c, "SELECT count(*) FROM events_default").await, 2);
    let done = store.maintain_partitions().await.expect("maintain");
    let feb = checkup_central::db::partitions::Month {
        year: 2033,
        month: 2,
    };
    assert_eq!(done.moved, vec![(feb, 2)]);
    assert_eq!(done.left_in_default, 0);
    assert_eq!(count(&c, "SELECT count(*) FROM events_default").await, 0);
    assert_eq!(count(&c, "SELECT count(*) FROM events_2033_02").await, 2);
    assert_eq!(store.event_count().await.expect("count"), 4);
    let listed: Vec<(String, u64)> = done
        .partitions
        .iter()
        .map(|p| (p.table.clone(), p.rows))
        .collect();
    assert!(listed.contains(&("events_2031_05".into(), 2)), "{listed:?}");
    assert!(listed.contains(&("events_2033_02".into(), 2)), "{listed:?}");
    assert_eq!(listed.last(), Some(&("events_default".into(), 0)));
    // A second run has nothing to move.
    let again = store.maintain_partitions().await.expect("again");
    assert!(again.moved.is_empty());
    drop(store);
    db.drop_now().await;
}
