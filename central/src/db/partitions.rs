//! Monthly partitions of PostgreSQL's `events` (migration 9), and their maintenance.
//!
//! # Layout
//!
//! - `events` is partitioned by `RANGE (hlc_ms)`, one partition per month **in Japan**
//!   (days are JST, see [`super::jst_day`]): `events_YYYY_MM` holds
//!   `[first day of the month 00:00 JST, first day of the next month 00:00 JST)` in Unix
//!   milliseconds. `events_default` (the DEFAULT partition) catches any event of a month
//!   without a partition; it stays empty in normal operation.
//! - A partitioned table's unique keys must contain the partition key, so exactly-once is
//!   kept beside it, unpartitioned: `event_keys (node, seq PRIMARY KEY, id UNIQUE, hlc_ms)`.
//!   Ingest inserts a batch's keys there first (`ON CONFLICT DO NOTHING RETURNING id`), then
//!   only the new events into `events`; the equivocation check (same `(node, seq)`, another
//!   id: the whole batch refused) and node heads read `event_keys`. `events` carries no index
//!   of its own: every lookup by key goes through `event_keys` (whose `hlc_ms` names the
//!   partition), and partitions are read whole (audit) or detached whole (archiving).
//! - SQLite keeps one `events` table (its migration 9 does nothing).
//!
//! # What runs when
//!
//! - **Migration 9** (once, in the migration's transaction): the partitioned table is
//!   created with a partition for every month the old table holds and the DEFAULT
//!   partition; the rows are copied, `event_keys` filled, the old table dropped and the new
//!   one renamed to `events`. It rewrites every event once: on a large database, plan it.
//! - **On open** ([`super::postgres::Postgres::open`]): the partitions of this month and
//!   the next [`MONTHS_AHEAD`] are created if missing, and the store remembers which
//!   months have one.
//! - **On ingest**: a batch with an event of a month the store does not know (a box whose
//!   clock or backlog reaches another month) first has that month's partition created
//!   ([`ensure_month`], its own short transaction under an advisory lock), so it never
//!   lands in DEFAULT. The check is a set lookup per event; the catalogue is asked only for
//!   a month not seen yet.
//! - **`checkup-central partitions`** ([`maintain`]): lists every partition with its rows
//!   and moves any rows held in DEFAULT into their month's partition — the partition
//!   created, the rows moved and attached in one transaction per month. Run it after
//!   restoring old data or when `partitions` shows DEFAULT rows.
//! - **Archiving a month** is an operator's step, not automated:
//!   `ALTER TABLE events DETACH PARTITION events_2025_04;` then `pg_dump -t events_2025_04`
//!   and `DROP TABLE events_2025_04;` (the keys stay in `event_keys`, so a replay of an
//!   archived event is still recognised as a duplicate). See `docs/prefecture.md`.

use std::collections::BTreeSet;

use tokio_postgres::GenericClient;

use super::DbError;

/// Months after the current one whose partitions are made ahead at open.
pub const MONTHS_AHEAD: u32 = 2;

/// Advisory lock taken while a partition is created (one creator at a time).
const PARTITION_LOCK: i64 = 7352;

/// The first and last year a month partition is made for; events of other years (a box
/// with a broken clock) stay in DEFAULT.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2199;

/// Japan's offset from UTC, in milliseconds (no daylight saving since 1951).
const JST_MS: i64 = 9 * 3_600_000;

/// A month in Japan: the unit of partitioning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
}

impl Month {
    /// The month (JST) of an HLC timestamp in Unix milliseconds; `None` outside the years
    /// partitions are made for.
    pub fn of_ms(ms: i64) -> Option<Month> {
        let days = ms.checked_add(JST_MS)?.div_euclid(86_400_000);
        let date = time::Date::from_julian_day(i32::try_from(2_440_588 + days).ok()?).ok()?;
        YEARS.contains(&date.year()).then(|| Month {
            year: date.year(),
            month: u8::from(date.month()),
        })
    }

    /// The month `n` months after this one.
    pub fn plus(self, n: u32) -> Month {
        let i = self.year * 12 + i32::from(self.month) - 1 + i32::try_from(n).unwrap_or(0);
        Month {
            year: i.div_euclid(12),
            month: (i.rem_euclid(12) + 1) as u8,
        }
    }

    /// 00:00 JST of the month's first day, in Unix milliseconds.
    fn start_ms(self) -> i64 {
        let first = time::Month::try_from(self.month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(self.year, m, 1).ok())
            .unwrap_or(time::Date::MIN);
        (i64::from(first.to_julian_day()) - 2_440_588) * 86_400_000 - JST_MS
    }

    /// The partition's range of `hlc_ms`: `[start, end)`.
    pub fn bounds_ms(self) -> (i64, i64) {
        (self.start_ms(), self.plus(1).start_ms())
    }

    /// The partition's table name, `events_YYYY_MM`.
    pub fn table(self) -> String {
        format!("events_{:04}_{:02}", self.year, self.month)
    }

    /// The month of a partition's table name, if it is one.
    pub fn of_table(name: &str) -> Option<Month> {
        let rest = name.strip_prefix("events_")?;
        let (y, m) = rest.split_once('_')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let month = Month {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
        };
        ((1..=12).contains(&month.month) && YEARS.contains(&month.year)).then_some(month)
    }

    /// This month in Japan.
    pub fn now() -> Month {
        let ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        Month::of_ms(ms).unwrap_or(Month {
            year: 2026,
            month: 1,
        })
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The months that have a partition.
pub async fn months(c: &impl GenericClient) -> Result<BTreeSet<Month>, DbError> {
    let rows = c
        .query(
            "SELECT c.relname::text FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Month::of_table(&r.get::<_, String>(0)))
        .collect())
}

/// Make sure `month` has its partition: when missing, the table is created, any rows of
/// the month held in DEFAULT moved into it, and it is attached — in one transaction, under
/// an advisory lock. Returns the rows moved out of DEFAULT.
pub async fn ensure_month(c: &mut deadpool_postgres::Object, month: Month) -> Result<u64, DbError> {
    let tx = c.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PARTITION_LOCK])
        .await?;
    let table = month.table();
    // A partition of `events` by that name; a table of that name that is not one (a
    // restored archive) makes the CREATE below fail loudly rather than leave the month in
    // DEFAULT.
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass AND c.relname = $1)",
            &[&table],
        )
        .await?
        .get(0);
    if exists {
        tx.commit().await?;
        return Ok(0);
    }
    let (lo, hi) = month.bounds_ms();
    // The names are made here from numbers (`events_YYYY_MM`), never from input.
    tx.batch_execute(&format!(
        "CREATE TABLE {table} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    ))
    .await?;
    let moved = tx
        .execute(
            &format!(
                "WITH moved AS (DELETE FROM events_default WHERE hlc_ms >= $1 AND hlc_ms < $2
                   RETURNING *)
                 INSERT INTO {table} SELECT * FROM moved"
            ),
            &[&lo, &hi],
        )
        .await?;
    tx.batch_execute(&format!(
        "ALTER TABLE events ATTACH PARTITION {table} FOR VALUES FROM ({lo}) TO ({hi})"
    ))
    .await?;
    tx.commit().await?;
    tracing::info!(%month, moved, "events partition created");
    Ok(moved)
}

/// One partition of `events` and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Table name (`events_YYYY_MM`, `events_default`).
    pub table: String,
    /// Its month; `None` for DEFAULT.
    pub month: Option<Month>,
    /// Rows it holds.
    pub rows: u64,
    /// Its size on disk with indexes and TOAST, in bytes.
    pub bytes: u64,
}

/// Every partition of `events`, months in order and DEFAULT last, with exact row counts.
pub async fn list(c: &impl GenericClient) -> Result<Vec<Partition>, DbError> {
    let rows = c
        .query(
            "SELECT c.relname::text, pg_total_relation_size(c.oid) FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass",
            &[],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let table: String = r.get(0);
        // The name is a catalogue name of a partition of `events`, quoted all the same.
        let n: i64 = c
            .query_one(
                &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\"")),
                &[],
            )
            .await?
            .get(0);
        out.push(Partition {
            month: Month::of_table(&table),
            table,
            rows: u64::try_from(n).unwrap_or(0),
            bytes: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        });
    }
    out.sort_by_key(|p| (p.month.is_none(), p.month, p.table.clone()));
    Ok(out)
}

/// What [`maintain`] did.
#[derive(Debug, Clone, Default)]
pub struct Maintained {
    /// Months whose partition was created, with the rows moved into it from DEFAULT.
    pub moved: Vec<(Month, u64)>,
    /// Rows left in DEFAULT: of years no partition is made for.
    pub left_in_default: u64,
    /// The partitions afterwards.
    pub partitions: Vec<Partition>,
}

/// `checkup-central partitions`: create this month's and the next [`MONTHS_AHEAD`]
/// months' partitions if missing, move every row held in DEFAULT into its month's
/// partition (created, filled and attached in one transaction per month), and list the
/// partitions.
pub async fn maintain(c: &mut deadpool_postgres::Object) -> Result<Maintained, DbError> {
    let mut out = Maintained::default();
    let now = Month::now();
    for n in 0..=MONTHS_AHEAD {
        ensure_month(c, now.plus(n)).await?;
    }
    // The days (JST) of DEFAULT's rows within the years partitions are made for.
    let first = Month {
        year: *YEARS.start(),
        month: 1,
    };
    let (lo, hi) = (
        first.start_ms(),
        first
            .plus(12 * (YEARS.end() - YEARS.start() + 1) as u32)
            .start_ms(),
    );
    let months: BTreeSet<Month> = c
        .query(
            "SELECT DISTINCT (hlc_ms + $1) / 86400000 FROM events_default
             WHERE hlc_ms >= $2 AND hlc_ms < $3",
            &[&JST_MS, &lo, &hi],
        )
        .await?
        .iter()
        .filter_map(|r| Month::of_ms(r.get::<_, i64>(0) * 86_400_000))
        .collect();
    for m in months {
        let moved = ensure_month(c, m).await?;
        out.moved.push((m, moved));
    }
    out.partitions = list(&***c).await?;
    out.left_in_default = out
        .partitions
        .iter()
        .filter(|p| p.month.is_none())
        .map(|p| p.rows)
        .sum();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_japanese_months() {
        // 2026-11-30T15:00:00Z is 2026-12-01 00:00 in Japan.
        let dec = Month {
            year: 2026,
            month: 12,
        };
        assert_eq!(Month::of_ms(1_796_050_800_000), Some(dec));
        assert_eq!(
            Month::of_ms(1_796_050_799_999).map(|m| m.to_string()),
            Some("2026-11".into())
        );
        assert_eq!(dec.bounds_ms().0, 1_796_050_800_000);
        assert_eq!(dec.bounds_ms().1, dec.plus(1).bounds_ms().0);
        assert_eq!(dec.plus(1).to_string(), "2027-01");
        assert_eq!(dec.plus(13).to_string(), "2028-01");
        assert_eq!(dec.table(), "events_2026_12");
        assert_eq!(Month::of_table("events_2026_12"), Some(dec));
        for not in [
            "events_default",
            "events_2026_13",
            "events_26_12",
            "event_keys",
        ] {
            assert_eq!(Month::of_table(not), None, "{not}");
        }
        assert_eq!(Month::of_ms(0), None, "1970: no partition, DEFAULT");
        assert_eq!(Month::of_ms(i64::MAX), None);
        assert_eq!(Month::of_ms(i64::MIN / 2), None);
    }
}
