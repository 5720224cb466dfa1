//! The PostgreSQL store (tokio-postgres with a deadpool pool). A batch is inserted with one
//! `INSERT … SELECT FROM unnest(…)` per table, so its cost is one round trip per table, not
//! one per event: first its keys into `event_keys` (`ON CONFLICT DO NOTHING RETURNING id`:
//! exactly once by `(node, seq)`), then only the new events into `events`, which is
//! partitioned by month ([`super::partitions`]: a batch reaching a month without a partition
//! has it created first, by the tables' owner). Node heads are locked in node order so that
//! concurrent batches touching the same nodes serialise without deadlocks.
//!
//! Several central processes may share one database (scale-out): everything they share —
//! events, heads, the audit chain, staff sessions — is in it, and migrations run under an
//! advisory lock. With a streaming hot standby configured (`database_standby`), the record
//! reads ([`Store::search`], [`Store::resident`], [`Store::results_of`],
//! [`Store::imported_of`]) go to a second pool on the standby and may be a moment behind
//! the primary (its replay lag); every write, the audit trail, sessions and ingest stay
//! on the primary.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::migrations;
use super::partitions::{self, Month};
use super::{
    AccessEntry, AuditRow, CaseMember, CasePhotoRow, DbError, Derived, EventRow, ImportedCheckup,
    Ingested, InsuredCheckup, InsurerCount, Invitation, NoticeRow, Resident, ResultRow, RiskFlag,
    Store, Submission, printable_entry,
};

/// The PostgreSQL store: the central's own login (which owns the tables and sees every
/// municipality), or one municipality's view of it ([`Store::scoped`]) whose connections
/// run as that municipality's database role, under row-level security.
#[derive(Clone)]
pub struct Postgres {
    /// The primary: every write and every read not listed below.
    pool: Pool,
    /// A streaming hot standby for the record reads, if configured.
    standby: Option<Pool>,
    /// The database role every query of this view runs as (`None`: the owner).
    role: Option<String>,
    /// Municipality code → its database role, once prepared.
    roles: Arc<std::sync::RwLock<HashMap<String, String>>>,
    /// The months `events` has a partition for, as far as this store knows: an ingest asks
    /// the catalogue (and creates the partition) only for a month not in here.
    months: Arc<Mutex<BTreeSet<Month>>>,
}

/// The database role of `municipality` in the database named `database`: roles are the
/// cluster's, so the name carries a digest of the database's name as well as of the code
/// (which may be a name in kanji); `municipality_roles` maps it back.
pub fn role_name(database: &str, municipality: &str) -> String {
    use sha2::Digest;
    let d = |s: &str| hex::encode(sha2::Sha256::digest(s.as_bytes()));
    format!("cm_{}_{}", &d(database)[..10], &d(municipality)[..16])
}

/// Run as `role` (`None`: the login itself) from now on this connection.
async fn set_role(c: &deadpool_postgres::Object, role: Option<&str>) -> Result<(), DbError> {
    match role {
        // The name is ours (`cm_` and hex digits), quoted all the same.
        Some(role) => c.batch_execute(&format!("SET ROLE \"{role}\"")).await?,
        None => c.batch_execute("RESET ROLE").await?,
    }
    Ok(())
}

fn pool_err(e: impl std::fmt::Display) -> DbError {
    DbError::Pool(e.to_string())
}

/// A pool of up to 16 connections to `url`.
fn pool_of(url: &str) -> Result<Pool, DbError> {
    let pg: tokio_postgres::Config = url.parse()?;
    let mgr = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(mgr).max_size(16).build().map_err(pool_err)
}

impl Postgres {
    /// Connect to `url` and migrate.
    pub async fn open(url: &str) -> Result<Postgres, DbError> {
        Self::open_with_standby(url, None).await
    }

    /// Connect to the primary `url` and migrate; with `standby`, the record reads go to
    /// that streaming hot standby of it (checked reachable now; a standby that is not in
    /// recovery is used all the same, with a warning).
    pub async fn open_with_standby(url: &str, standby: Option<&str>) -> Result<Postgres, DbError> {
        let p = Postgres {
            pool: pool_of(url)?,
            standby: standby.map(pool_of).transpose()?,
            role: None,
            roles: Arc::default(),
            months: Arc::default(),
        };
        p.migrate(None).await?;
        // This month's and the next months' partitions, made ahead.
        let now = Month::now();
        let mut c = p.client().await?;
        for n in 0..=partitions::MONTHS_AHEAD {
            partitions::ensure_month(&mut c, now.plus(n)).await?;
        }
        let held = partitions::months(&**c).await?;
        drop(c);
        p.known_months().extend(held);
        if let Some(pool) = &p.standby {
            let c = pool
                .get()
                .await
                .map_err(|e| DbError::Pool(format!("database_standby: {e}")))?;
            let recovering: bool = c.query_one("SELECT pg_is_in_recovery()", &[]).await?.get(0);
            if recovering {
                tracing::info!("record reads go to the hot standby");
            } else {
                tracing::warn!(
                    "database_standby is not in recovery (not a standby): record reads go to it all the same"
                );
            }
        }
        Ok(p)
    }

    /// Bring the database at `url` to schema `version` (not beyond), without opening a
    /// store: for tests of a migration over data of an older schema.
    pub async fn migrate_to(url: &str, version: i64) -> Result<(), DbError> {
        let pg: tokio_postgres::Config = url.parse()?;
        let mgr = Manager::from_config(pg, NoTls, ManagerConfig::default());
        let pool = Pool::builder(mgr).max_size(1).build().map_err(pool_err)?;
        Postgres {
            pool,
            standby: None,
            role: None,
            roles: Arc::default(),
            months: Arc::default(),
        }
        .migrate(Some(version))
        .await
    }

    /// `checkup-central partitions`: partitions made ahead, rows held in DEFAULT moved to
    /// their month's partition, every partition listed ([`partitions::maintain`]).
    pub async fn maintain_partitions(&self) -> Result<partitions::Maintained, DbError> {
        let mut c = self.owner_client().await?;
        let done = partitions::maintain(&mut c).await?;
        let held = partitions::months(&**c).await?;
        self.known_months().extend(held);
        Ok(done)
    }

    /// The months known to have a partition (a poisoned lock is recovered: the set is only
    /// ever added to).
    fn known_months(&self) -> std::sync::MutexGuard<'_, BTreeSet<Month>> {
        self.months.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Create the partitions of the months of `rows` this store does not know yet, so that
    /// no event lands in DEFAULT.
    async fn ensure_months_of(&self, rows: &[EventRow]) -> Result<(), DbError> {
        let missing: BTreeSet<Month> = {
            let known = self.known_months();
            rows.iter()
                .filter_map(|r| Month::of_ms(r.hlc_ms))
                .filter(|m| !known.contains(m))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        // Creating a partition is the tables' owner's: not this view's municipality role.
        let mut c = self.owner_client().await?;
        for m in missing {
            partitions::ensure_month(&mut c, m).await?;
            self.known_months().insert(m);
        }
        Ok(())
    }

    /// A pooled connection as the login itself (the tables' owner), whatever this view.
    async fn owner_client(&self) -> Result<deadpool_postgres::Object, DbError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        set_role(&c, None).await?;
        Ok(c)
    }

    /// A pooled connection running as this view's role. The role is set at every checkout
    /// (and reset for the owner), so a connection a request of another municipality used
    /// last can never carry its role into this one.
    async fn client(&self) -> Result<deadpool_postgres::Object, DbError> {
        let c = self.pool.get().await.map_err(pool_err)?;
        set_role(&c, self.role.as_deref()).await?;
        Ok(c)
    }

    /// A connection for the record reads: the standby's (as this view's role too: the
    /// standby holds the same roles and policies), else the primary's.
    async fn reader(&self) -> Result<deadpool_postgres::Object, DbError> {
        match &self.standby {
            Some(pool) => {
                let c = pool
                    .get()
                    .await
                    .map_err(|e| DbError::Pool(format!("standby: {e}")))?;
                set_role(&c, self.role.as_deref()).await?;
                Ok(c)
            }
            None => self.client().await,
        }
    }

    /// Apply the pending migrations (up to `upto`, when given) in one transaction.
    async fn migrate(&self, upto: Option<i64>) -> Result<(), DbError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // One migrator at a time (several central processes may start together).
        tx.execute("SELECT pg_advisory_xact_lock(7351)", &[])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        let current: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .await?
            .get(0);
        for m in migrations::pending(current)?.filter(|m| upto.is_none_or(|v| m.version <= v)) {
            tx.batch_execute(m.postgres).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&m.version],
            )
            .await?;
            tracing::info!(version = m.version, "database migrated");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The result rows `filter` selects, read through `c`.
    async fn results(
        c: &deadpool_postgres::Object,
        filter: &str,
        p: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<ResultRow>, DbError> {
        let rows = c
            .query(
                &format!(
                    "SELECT event_id, resident_id, session_id, venue, day, item_code, value, unit,
                            hlc_ms, hlc_c, corrects, reason, staff_id FROM results {filter}"
                ),
                p,
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ResultRow {
                event_id: r.get(0),
                resident_id: r.get(1),
                session_id: r.get(2),
                venue: r.get(3),
                day: r.get(4),
                item_code: r.get(5),
                value: r.get(6),
                unit: r.get(7),
                hlc_ms: r.get(8),
                hlc_c: r.get(9),
                corrects: r.get(10),
                reason: r.get(11),
                staff_id: r.get(12),
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl Store for Postgres {
    async fn ingest(&self, rows: Vec<EventRow>) -> Result<Ingested, DbError> {
        self.ensure_months_of(&rows).await?;
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let nodes: BTreeSet<&str> = rows.iter().map(|r| r.node.as_str()).collect();
        let node_list: Vec<&str> = nodes.iter().copied().collect();
        // Lock the heads of this batch's nodes, in order.
        tx.execute(
            "INSERT INTO node_heads SELECT unnest($1::text[]), 0 ON CONFLICT DO NOTHING",
            &[&node_list],
        )
        .await?;
        let heads_rows = tx
            .query(
                "SELECT node, contiguous FROM node_heads WHERE node = ANY($1) ORDER BY node FOR UPDATE",
                &[&node_list],
            )
            .await?;
        let mut heads: HashMap<String, i64> = heads_rows
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
            .collect();

        // The keys first: exactly once by (node, seq), the id unique.
        let node: Vec<&str> = rows.iter().map(|r| r.node.as_str()).collect();
        let id: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let seq: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let hlc_ms: Vec<i64> = rows.iter().map(|r| r.hlc_ms).collect();
        let inserted = tx
            .query(
                "INSERT INTO event_keys (node, seq, id, hlc_ms)
                 SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[])
                 ON CONFLICT DO NOTHING RETURNING id",
                &[&node, &seq, &id, &hlc_ms],
            )
            .await?;
        let new_ids: HashSet<String> = inserted.iter().map(|r| r.get::<_, String>(0)).collect();
        let mut out = Ingested {
            new: new_ids.len(),
            duplicate: rows.len() - new_ids.len(),
            acked: BTreeMap::new(),
        };
        if out.duplicate > 0 {
            // Replays are harmless; the same (node, seq) as another event is not.
            let dup: Vec<&EventRow> = rows.iter().filter(|r| !new_ids.contains(&r.id)).collect();
            let dn: Vec<&str> = dup.iter().map(|r| r.node.as_str()).collect();
            let ds: Vec<i64> = dup.iter().map(|r| r.seq).collect();
            let held = tx
                .query(
                    "SELECT k.node, k.seq, k.id FROM event_keys k
                     JOIN unnest($1::text[], $2::int8[]) AS t(n, s) ON k.node = t.n AND k.seq = t.s",
                    &[&dn, &ds],
                )
                .await?;
            let held: HashMap<(String, i64), String> = held
                .iter()
                .map(|r| ((r.get(0), r.get(1)), r.get(2)))
                .collect();
            for r in dup {
                if held.get(&(r.node.clone(), r.seq)) != Some(&r.id) {
                    return Err(DbError::Equivocation {
                        node: r.node.clone(),
                        seq: r.seq as u64,
                    });
                }
            }
        }
        // Then the new events themselves, each into its month's partition.
        let fresh: Vec<&EventRow> = rows.iter().filter(|r| new_ids.contains(&r.id)).collect();
        if !fresh.is_empty() {
            let col = |f: fn(&EventRow) -> &str| fresh.iter().map(|r| f(r)).collect::<Vec<&str>>();
            let resident: Vec<Option<&str>> = fresh.iter().map(|r| r.resident.as_deref()).collect();
            let seq: Vec<i64> = fresh.iter().map(|r| r.seq).collect();
            let hlc_ms: Vec<i64> = fresh.iter().map(|r| r.hlc_ms).collect();
            let hlc_c: Vec<i32> = fresh.iter().map(|r| r.hlc_c).collect();
            tx.execute(
                "INSERT INTO events (node, seq, id, venue, kind, resident, hlc_ms, hlc_c, body)
                 SELECT n, s, i, v, k, r, m, c, b::jsonb FROM unnest($1::text[], $2::int8[],
                   $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int4[],
                   $9::text[]) AS t(n, s, i, v, k, r, m, c, b)",
                &[
                    &col(|r| &r.node),
                    &seq,
                    &col(|r| &r.id),
                    &col(|r| &r.venue),
                    &col(|r| &r.kind),
                    &resident,
                    &hlc_ms,
                    &hlc_c,
                    &col(|r| &r.json),
                ],
            )
            .await?;
        }
        // Derived rows of the new events.
        let sessions: Vec<(&str, &str, &str)> = fresh
            .iter()
            .filter_map(|r| match &r.derived {
                Derived::Session {
                    session_id,
                    resident_id,
                    day,
                    ..
                } => Some((session_id.as_str(), resident_id.as_str(), day.as_str())),
                _ => None,
            })
            .collect();
        let insured: Vec<InsuredCheckup> = fresh
            .iter()
            .filter_map(|r| match &r.derived {
                Derived::Session {
                    session_id,
                    resident_id,
                    day,
                    insurer: Some(insurer),
                } => Some(InsuredCheckup {
                    session_id: session_id.clone(),
                    resident_id: resident_id.clone(),
                    day: day.clone(),
                    venue: r.venue.clone(),
                    insurer: (**insurer).clone(),
                }),
                _ => None,
            })
            .collect();
        if !insured.is_empty() {
            let s = |f: fn(&InsuredCheckup) -> String| insured.iter().map(f).collect::<Vec<_>>();
            let o = |f: fn(&InsuredCheckup) -> Option<String>| {
                insured.iter().map(f).collect::<Vec<_>>()
            };
            tx.execute(
                "INSERT INTO session_insurers (session_id, resident_id, venue, day,
                   insurer_number, insured_symbol, insured_number, insured_branch, ticket_number,
                   ticket_expiry)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                   $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                 ON CONFLICT DO NOTHING",
                &[
                    &s(|c| c.session_id.clone()),
                    &s(|c| c.resident_id.clone()),
                    &s(|c| c.venue.clone()),
                    &s(|c| c.day.clone()),
                    &s(|c| c.insurer.insurer_number.clone()),
                    &o(|c| c.insurer.symbol.clone()),
                    &s(|c| c.insurer.number.clone()),
                    &o(|c| c.insurer.branch.clone()),
                    &o(|c| c.insurer.ticket_number.clone()),
                    &o(|c| c.insurer.ticket_expiry.clone()),
                ],
            )
            .await?;
        }
        if !sessions.is_empty() {
            let a: Vec<&str> = sessions.iter().map(|s| s.0).collect();
            let b: Vec<&str> = sessions.iter().map(|s| s.1).collect();
            let d: Vec<&str> = sessions.iter().map(|s| s.2).collect();
            tx.execute(
                "INSERT INTO sessions SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
                 ON CONFLICT DO NOTHING",
                &[&a, &b, &d],
            )
            .await?;
        }
        for r in &fresh {
            if let Derived::Notice(n) = &r.derived {
                tx.execute(
                    "INSERT INTO notices VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT DO NOTHING",
                    &[
                        &n.case_id,
                        &n.event_id,
                        &n.venue,
                        &n.node,
                        &n.staff_id,
                        &n.saved_ms,
                        &n.child_name,
                        &n.child_birth_date,
                        &n.abuse_type,
                        &n.resident_id,
                        &n.notice,
                    ],
                )
                .await?;
            }
        }
        let results: Vec<&ResultRow> = fresh
            .iter()
            .filter_map(|r| match &r.derived {
                Derived::Result(x) => Some(x.as_ref()),
                _ => None,
            })
            .collect();
        if !results.is_empty() {
            let s = |f: fn(&ResultRow) -> String| results.iter().map(|r| f(r)).collect::<Vec<_>>();
            let o = |f: fn(&ResultRow) -> Option<String>| {
                results.iter().map(|r| f(r)).collect::<Vec<_>>()
            };
            let ms: Vec<i64> = results.iter().map(|r| r.hlc_ms).collect();
            let cc: Vec<i32> = results.iter().map(|r| r.hlc_c).collect();
            tx.execute(
                "INSERT INTO results SELECT * FROM unnest($1::text[], $2::text[], $3::text[],
                   $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[],
                   $10::int4[], $11::text[], $12::text[], $13::text[]) ON CONFLICT DO NOTHING",
                &[
                    &s(|r| r.event_id.clone()),
                    &s(|r| r.resident_id.clone()),
                    &s(|r| r.session_id.clone()),
                    &s(|r| r.venue.clone()),
                    &s(|r| r.day.clone()),
                    &s(|r| r.item_code.clone()),
                    &s(|r| r.value.clone()),
                    &s(|r| r.unit.clone()),
                    &ms,
                    &cc,
                    &o(|r| r.corrects.clone()),
                    &o(|r| r.reason.clone()),
                    &s(|r| r.staff_id.clone()),
                ],
            )
            .await?;
        }
        // Advance each node's head over what is now contiguous.
        for n in &node_list {
            let start = heads.get(*n).copied().unwrap_or(0);
            let seqs = tx
                .query(
                    "SELECT seq FROM event_keys WHERE node = $1 AND seq > $2 ORDER BY seq
                     LIMIT 100000",
                    &[n, &start],
                )
                .await?;
            let mut head = start;
            for r in seqs {
                let s: i64 = r.get(0);
                if s != head + 1 {
                    break;
                }
                head = s;
            }
            if head != start {
                tx.execute(
                    "UPDATE node_heads SET contiguous = $2 WHERE node = $1",
                    &[n, &head],
                )
                .await?;
            }
            heads.insert((*n).to_owned(), head);
            out.acked.insert((*n).to_owned(), head as u64);
        }
        if !fresh.is_empty() {
            let record = crate::audit::IngestRecord::of(&fresh);
            let boxes: Vec<&str> = record.ranges.keys().map(String::as_str).collect();
            append_audit(&tx, &boxes.join(","), "ingest", &record.subject()).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn event_count(&self) -> Result<u64, DbError> {
        let c = self.client().await?;
        let n: i64 = c
            .query_one("SELECT count(*) FROM events", &[])
            .await?
            .get(0);
        Ok(n as u64)
    }

    async fn heads(&self) -> Result<BTreeMap<String, u64>, DbError> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT node, contiguous FROM node_heads", &[])
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
            .collect())
    }

    async fn upsert_residents(&self, rows: Vec<Resident>) -> Result<usize, DbError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx
            .prepare(
                "INSERT INTO residents
                   (resident_id, name, name_kana, birth_date, sex, address, postal_code, district)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (municipality, resident_id) DO UPDATE SET name = excluded.name,
                   name_kana = excluded.name_kana, birth_date = excluded.birth_date,
                   sex = excluded.sex, address = excluded.address,
                   postal_code = excluded.postal_code, district = excluded.district",
            )
            .await?;
        for r in &rows {
            tx.execute(
                &st,
                &[
                    &r.resident_id,
                    &r.name,
                    &r.name_kana,
                    &r.birth_date,
                    &r.sex,
                    &r.address,
                    &r.postal_code,
                    &r.district,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    async fn search(&self, q: &str, birth: Option<&str>) -> Result<Vec<Resident>, DbError> {
        let c = self.reader().await?;
        let pattern = format!("%{q}%");
        let rows = c
            .query(
                "SELECT resident_id, name, name_kana, birth_date, sex, address, postal_code, district
                 FROM residents
                 WHERE (resident_id LIKE $1 OR name LIKE $1 OR name_kana LIKE $1)
                   AND ($2::text IS NULL OR birth_date = $2)
                 ORDER BY name_kana, resident_id LIMIT 100",
                &[&pattern, &birth],
            )
            .await?;
        Ok(rows.iter().map(resident_row).collect())
    }

    async fn resident(&self, resident_id: &str) -> Result<Option<Resident>, DbError> {
        let c = self.reader().await?;
        let row = c
            .query_opt(
                "SELECT resident_id, name, name_kana, birth_date, sex, address, postal_code, district
                 FROM residents WHERE resident_id = $1",
                &[&resident_id],
            )
            .await?;
        Ok(row.as_ref().map(resident_row))
    }

    async fn results_of(&self, resident_id: &str) -> Result<Vec<ResultRow>, DbError> {
        Self::results(
            &self.reader().await?,
            "WHERE resident_id = $1 ORDER BY hlc_ms, hlc_c, event_id",
            &[&resident_id],
        )
        .await
    }

    async fn results_between(&self, from: &str, to: &str) -> Result<Vec<ResultRow>, DbError> {
        Self::results(
            &self.client().await?,
            "WHERE day BETWEEN $1 AND $2 ORDER BY day, resident_id, hlc_ms, hlc_c, event_id",
            &[&from, &to],
        )
        .await
    }

    async fn checkups_of_insurer(
        &self,
        insurer_number: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<InsuredCheckup>, DbError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "{INSURED_COLUMNS} WHERE insurer_number = $1 AND day BETWEEN $2 AND $3
                     ORDER BY day, resident_id, session_id"
                ),
                &[&insurer_number, &from, &to],
            )
            .await?;
        Ok(rows.iter().map(insured_checkup).collect())
    }

    async fn insurers_between(&self, from: &str, to: &str) -> Result<Vec<InsurerCount>, DbError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT insurer_number, COUNT(*) FROM session_insurers
                 WHERE day BETWEEN $1 AND $2 GROUP BY insurer_number ORDER BY insurer_number",
                &[&from, &to],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| InsurerCount {
                insurer_number: r.get(0),
                checkups: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
            })
            .collect())
    }

    async fn checkup_insurer(&self, session_id: &str) -> Result<Option<InsuredCheckup>, DbError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("{INSURED_COLUMNS} WHERE session_id = $1"),
                &[&session_id],
            )
            .await?;
        Ok(row.as_ref().map(insured_checkup))
    }

    async fn notices(
        &self,
        case_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<NoticeRow>, DbError> {
        let c = self.client().await?;
        let limit = limit as i64;
        let rows = c
            .query(
                "SELECT case_id, event_id, venue, node, staff_id, saved_ms, child_name,
                        child_birth_date, abuse_type, resident_id, notice FROM notices
                 WHERE $1::text IS NULL OR case_id = $1 ORDER BY saved_ms DESC, case_id LIMIT $2",
                &[&case_id, &limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| NoticeRow {
                case_id: r.get(0),
                event_id: r.get(1),
                venue: r.get(2),
                node: r.get(3),
                staff_id: r.get(4),
                saved_ms: r.get(5),
                child_name: r.get(6),
                child_birth_date: r.get(7),
                abuse_type: r.get(8),
                resident_id: r.get(9),
                notice: r.get(10),
            })
            .collect())
    }

    async fn case_photos(&self, case_id: &str) -> Result<Vec<CasePhotoRow>, DbError> {
        let c = self.client().await?;
        // The JPEG is measured where it lies, never read out for a listing; the case id is
        // the expression `events_case_photos` indexes.
        let rows = c
            .query(
                "WITH p AS (
                   SELECT body #>> '{body,payload,photo_id}' AS photo_id, id, node,
                          body #>> '{actor,staff_id}' AS taken_by, hlc_ms, hlc_c,
                          (body #>> '{body,payload,width}')::BIGINT AS width,
                          (body #>> '{body,payload,height}')::BIGINT AS height,
                          body #>> '{body,payload,jpeg}' AS jpeg,
                          body #>> '{body,payload,note}' AS note
                   FROM events WHERE kind = 'case_photo_added'
                     AND body #>> '{body,payload,case_id}' = $1)
                 SELECT photo_id, id, node, taken_by, hlc_ms, width, height,
                        length(jpeg)::BIGINT, (length(jpeg) - length(rtrim(jpeg, '=')))::BIGINT,
                        note
                 FROM p ORDER BY hlc_ms, hlc_c, id",
                &[&case_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| CasePhotoRow {
                photo_id: r.get(0),
                case_id: case_id.to_owned(),
                event_id: r.get(1),
                node: r.get(2),
                taken_by: r.get(3),
                taken_ms: r.get(4),
                width: r.get(5),
                height: r.get(6),
                bytes: super::base64_decoded_len(r.get(7), r.get(8)),
                note: r.get(9),
            })
            .collect())
    }

    async fn case_photo_event(
        &self,
        case_id: &str,
        photo_id: &str,
    ) -> Result<Option<String>, DbError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT body::text FROM events WHERE kind = 'case_photo_added'
                   AND body #>> '{body,payload,case_id}' = $1
                   AND body #>> '{body,payload,photo_id}' = $2
                 ORDER BY hlc_ms, hlc_c, id LIMIT 1",
                &[&case_id, &photo_id],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn record_access(&self, entry: AccessEntry) -> Result<(), DbError> {
        let entry = printable_entry(entry);
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        append_audit_entry(&tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    fn scoped(&self, municipality: &str) -> Result<Arc<dyn Store>, DbError> {
        let role = self
            .roles
            .read()
            .map_err(|_| DbError::Task("municipality roles poisoned".into()))?
            .get(municipality)
            .cloned()
            .ok_or_else(|| DbError::UnknownMunicipality(municipality.to_owned()))?;
        Ok(Arc::new(Postgres {
            pool: self.pool.clone(),
            standby: self.standby.clone(),
            role: Some(role),
            roles: self.roles.clone(),
            months: self.months.clone(),
        }))
    }

    async fn prepare_municipalities(
        &self,
        municipalities: &[String],
        default: Option<&str>,
    ) -> Result<(), DbError> {
        let mut c = self.pool.get().await.map_err(pool_err)?;
        c.batch_execute("RESET ROLE").await?;
        let tx = c.transaction().await?;
        // One preparer at a time (several central processes may start together).
        tx.execute("SELECT pg_advisory_xact_lock(7352)", &[])
            .await?;
        let database: String = tx.query_one("SELECT current_database()", &[]).await?.get(0);
        let tables = migrations::MUNICIPAL_TABLES.join(", ");
        let mut prepared = HashMap::new();
        for m in municipalities {
            let role = role_name(&database, m);
            tx.batch_execute(&format!(
                "DO $$ BEGIN CREATE ROLE \"{role}\" NOLOGIN;
                 EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                 GRANT \"{role}\" TO CURRENT_USER;
                 GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO \"{role}\";
                 GRANT SELECT ON municipality_roles TO \"{role}\";
                 GRANT SELECT, UPDATE ON audit_head TO \"{role}\";"
            ))
            .await?;
            let held = tx
                .query_opt(
                    "INSERT INTO municipality_roles (role_name, municipality) VALUES ($1, $2)
                     ON CONFLICT (role_name) DO NOTHING RETURNING municipality",
                    &[&role, m],
                )
                .await?;
            if held.is_none() {
                let other: String = tx
                    .query_one(
                        "SELECT municipality FROM municipality_roles WHERE role_name = $1",
                        &[&role],
                    )
                    .await?
                    .get(0);
                if &other != m {
                    return Err(DbError::Task(format!(
                        "role {role} is {other}'s, not {m}'s"
                    )));
                }
            }
            prepared.insert(m.clone(), role);
        }
        if let Some(d) = default {
            // Rows from before migration 10 (one municipality, unnamed) are the default's.
            for t in migrations::MUNICIPAL_TABLES {
                let n = tx
                    .execute(
                        &format!("UPDATE {t} SET municipality = $1 WHERE municipality = ''"),
                        &[&d],
                    )
                    .await?;
                if n > 0 {
                    tracing::info!(
                        table = t,
                        rows = n,
                        municipality = d,
                        "rows given to the municipality"
                    );
                }
            }
        }
        tx.commit().await?;
        self.roles
            .write()
            .map_err(|_| DbError::Task("municipality roles poisoned".into()))?
            .extend(prepared);
        Ok(())
    }

    async fn access_report(&self, resident_id: &str) -> Result<Vec<AuditRow>, DbError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("{AUDIT_ROW} WHERE resident_id = $1 ORDER BY id"),
                &[&resident_id],
            )
            .await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    async fn flagged_reads(
        &self,
        department: &str,
        limit: usize,
    ) -> Result<Vec<AuditRow>, DbError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("{AUDIT_ROW} WHERE flagged_for = $1 ORDER BY id DESC LIMIT $2"),
                &[&department, &(limit as i64)],
            )
            .await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    async fn assign_case(&self, case_id: &str, staff_id: &str, by: &str) -> Result<(), DbError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO case_assignments (case_id, staff_id, assigned_by, assigned_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&case_id, &staff_id, &by, &crate::audit::now_ms()],
        )
        .await?;
        Ok(())
    }

    async fn add_case_member(&self, m: CaseMember) -> Result<(), DbError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO case_members (case_id, resident_id, relation, added_by, added_ms)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (case_id, resident_id) DO UPDATE SET relation = excluded.relation",
            &[
                &m.case_id,
                &m.resident_id,
                &m.relation,
                &m.added_by,
                &m.added_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn case_people(&self, case_id: &str) -> Result<(Vec<String>, Vec<CaseMember>), DbError> {
        let c = self.client().await?;
        let staff = c
            .query(
                "SELECT staff_id FROM case_assignments WHERE case_id = $1 ORDER BY staff_id",
                &[&case_id],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let members = c
            .query(
                "SELECT case_id, resident_id, relation, added_by, added_ms FROM case_members
                 WHERE case_id = $1 ORDER BY added_ms, resident_id",
                &[&case_id],
            )
            .await?
            .iter()
            .map(|r| CaseMember {
                case_id: r.get(0),
                resident_id: r.get(1),
                relation: r.get(2),
                added_by: r.get(3),
                added_ms: r.get(4),
            })
            .collect();
        Ok((staff, members))
    }

    async fn on_cases_of(&self, staff_id: &str, resident_id: &str) -> Result<bool, DbError> {
        let c = self.client().await?;
        Ok(c.query_one(
            "SELECT EXISTS (SELECT 1 FROM case_assignments a WHERE a.staff_id = $1 AND (
                     EXISTS (SELECT 1 FROM case_members m
                             WHERE m.case_id = a.case_id AND m.resident_id = $2)
                  OR EXISTS (SELECT 1 FROM notices n
                             WHERE n.case_id = a.case_id AND n.resident_id = $2)))",
            &[&staff_id, &resident_id],
        )
        .await?
        .get(0))
    }

    async fn raise_flag(&self, f: RiskFlag) -> Result<(), DbError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO risk_flags (flag_id, resident_id, kind, note, raised_by, raised_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &f.flag_id,
                &f.resident_id,
                &f.kind,
                &f.note,
                &f.raised_by,
                &f.raised_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn risk_flags(&self, after_ms: i64, limit: usize) -> Result<Vec<RiskFlag>, DbError> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT flag_id, resident_id, kind, note, raised_by, raised_ms FROM risk_flags
                 WHERE raised_ms > $1 ORDER BY raised_ms, flag_id LIMIT $2",
            &[&after_ms, &(limit as i64)],
        )
        .await?
        .iter()
        .map(|r| RiskFlag {
            flag_id: r.get(0),
            resident_id: r.get(1),
            kind: r.get(2),
            note: r.get(3),
            raised_by: r.get(4),
            raised_ms: r.get(5),
        })
        .collect())
    }

    async fn audit_snapshot(&self) -> Result<crate::audit::Snapshot, DbError> {
        let c = self.client().await?;
        let h = c
            .query_one("SELECT id, link, base FROM audit_head WHERE one = 1", &[])
            .await?;
        let base: i64 = h.get(2);
        let entries = c
            .query(
                "SELECT id, coalesce(at_ms, 0), staff_id, action, subject, coalesce(link, ''),
                        resident_id, purpose, flagged_for
                 FROM audit WHERE id > $1 ORDER BY id",
                &[&base],
            )
            .await?
            .iter()
            .map(|r| crate::audit::Entry {
                id: r.get(0),
                at_ms: r.get(1),
                staff_id: r.get(2),
                action: r.get(3),
                subject: r.get(4),
                link: r.get(5),
                access: crate::audit::Access {
                    resident_id: r.get(6),
                    purpose: r.get(7),
                    flagged_for: r.get(8),
                },
            })
            .collect();
        let events = c
            .query(
                "SELECT node, seq, id, body::text FROM events ORDER BY node, seq",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        Ok(crate::audit::Snapshot {
            entries,
            head: (h.get(0), h.get(1)),
            base,
            events,
        })
    }

    async fn issue_invitation(
        &self,
        token_sha256: &str,
        resident_id: &str,
        checkup: &str,
        created_ms: i64,
    ) -> Result<(), DbError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "UPDATE questionnaire_invitations SET revoked_ms = $3
             WHERE resident_id = $1 AND checkup = $2 AND revoked_ms IS NULL",
            &[&resident_id, &checkup, &created_ms],
        )
        .await?;
        tx.execute(
            "INSERT INTO questionnaire_invitations (token_sha256, resident_id, checkup, created_ms)
             VALUES ($1, $2, $3, $4)",
            &[&token_sha256, &resident_id, &checkup, &created_ms],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, DbError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT resident_id, checkup, created_ms, used_ms, revoked_ms
                 FROM questionnaire_invitations WHERE token_sha256 = $1",
                &[&token_sha256],
            )
            .await?;
        Ok(row.map(|r| Invitation {
            resident_id: r.get(0),
            checkup: r.get(1),
            created_ms: r.get(2),
            used_ms: r.get(3),
            revoked_ms: r.get(4),
        }))
    }

    async fn submit_answers(
        &self,
        token_sha256: &str,
        answer: checkup_protocol::central::PreAnswer,
    ) -> Result<Submission, DbError> {
        let json = serde_json::to_string(&answer.answers)
            .map_err(|e| DbError::Task(format!("answers: {e}")))?;
        let at = answer.answered_ms as i64;
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // The row lock makes two submissions through one link take turns: one stores.
        let link = tx
            .query_opt(
                "SELECT resident_id, checkup, used_ms, revoked_ms, municipality
                 FROM questionnaire_invitations WHERE token_sha256 = $1 FOR UPDATE",
                &[&token_sha256],
            )
            .await?;
        let Some(link) = link else {
            return Ok(Submission::Invalid);
        };
        let (resident, checkup, used, revoked): (String, String, Option<i64>, Option<i64>) =
            (link.get(0), link.get(1), link.get(2), link.get(3));
        // A resident's link is answered without a staff member's municipality: the
        // answers belong to the link's.
        let municipality: String = link.get(4);
        match (used, revoked) {
            (None, None) => {}
            (Some(_), None) => {
                let stored = tx
                    .query_opt(
                        "SELECT lang, answers FROM questionnaire_answers
                         WHERE resident_id = $1 AND checkup = $2 AND municipality = $3",
                        &[&resident, &checkup, &municipality],
                    )
                    .await?;
                let same = stored.is_some_and(|row| {
                    row.get::<_, String>(0) == answer.lang.tag() && row.get::<_, String>(1) == json
                });
                return Ok(if same {
                    Submission::AlreadyStored
                } else {
                    Submission::Used
                });
            }
            _ => return Ok(Submission::Invalid),
        }
        tx.execute(
            "UPDATE questionnaire_invitations SET used_ms = $2 WHERE token_sha256 = $1",
            &[&token_sha256, &at],
        )
        .await?;
        tx.execute(
            "INSERT INTO questionnaire_answers
               (resident_id, checkup, lang, answers, answered_ms, municipality)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (municipality, resident_id, checkup) DO UPDATE SET lang = excluded.lang,
               answers = excluded.answers, answered_ms = excluded.answered_ms",
            &[
                &resident,
                &checkup,
                &answer.lang.tag(),
                &json,
                &at,
                &municipality,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Submission::Stored)
    }

    async fn pre_answers(
        &self,
        checkup: &str,
        resident_ids: Option<Vec<String>>,
    ) -> Result<Vec<checkup_protocol::central::PreAnswer>, DbError> {
        let c = self.client().await?;
        let rows = match resident_ids {
            None => {
                c.query(
                    "SELECT resident_id, checkup, lang, answers, answered_ms
                     FROM questionnaire_answers WHERE checkup = $1 ORDER BY resident_id",
                    &[&checkup],
                )
                .await?
            }
            Some(ids) => {
                c.query(
                    "SELECT resident_id, checkup, lang, answers, answered_ms
                     FROM questionnaire_answers WHERE checkup = $1 AND resident_id = ANY($2)
                     ORDER BY resident_id",
                    &[&checkup, &ids],
                )
                .await?
            }
        };
        Ok(rows
            .iter()
            .filter_map(|r| {
                let lang: String = r.get(2);
                let answers: String = r.get(3);
                super::pre_answer_of(r.get(0), r.get(1), &lang, &answers, r.get(4))
            })
            .collect())
    }

    async fn store_imported(&self, rows: Vec<ImportedCheckup>) -> Result<usize, DbError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let st = tx
            .prepare(
                "INSERT INTO imported_checkups VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (municipality, resident_id, content_sha256) DO NOTHING",
            )
            .await?;
        let mut new = 0;
        for r in &rows {
            new += tx
                .execute(
                    &st,
                    &[
                        &r.resident_id,
                        &r.content_sha256,
                        &r.checkup_date,
                        &r.origin_number,
                        &r.origin_name,
                        &r.document_created,
                        &r.imported_ms,
                        &r.imported_by,
                        &r.source_file,
                        &r.items,
                        &r.document,
                    ],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(usize::try_from(new).unwrap_or(usize::MAX))
    }

    async fn imported_of(&self, resident_id: &str) -> Result<Vec<ImportedCheckup>, DbError> {
        let c = self.reader().await?;
        let rows = c
            .query(
                "SELECT resident_id, content_sha256, checkup_date, origin_number, origin_name,
                        document_created, imported_ms, imported_by, source_file, items, document
                 FROM imported_checkups WHERE resident_id = $1
                 ORDER BY checkup_date, content_sha256",
                &[&resident_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ImportedCheckup {
                resident_id: r.get(0),
                content_sha256: r.get(1),
                checkup_date: r.get(2),
                origin_number: r.get(3),
                origin_name: r.get(4),
                document_created: r.get(5),
                imported_ms: r.get(6),
                imported_by: r.get(7),
                source_file: r.get(8),
                items: r.get(9),
                document: r.get(10),
            })
            .collect())
    }

    async fn create_staff_session(
        &self,
        token_sha256: &str,
        staff_id: &str,
        idle: std::time::Duration,
    ) -> Result<(), DbError> {
        let c = self.client().await?;
        let idle = super::ms(idle);
        c.execute(
            &format!("DELETE FROM staff_sessions WHERE last_seen_ms <= {NOW_MS} - $1"),
            &[&idle],
        )
        .await?;
        c.execute(
            &format!(
                "INSERT INTO staff_sessions VALUES ($1, $2, {NOW_MS}, {NOW_MS})
                 ON CONFLICT (token_sha256) DO UPDATE SET staff_id = excluded.staff_id,
                   created_ms = excluded.created_ms, last_seen_ms = excluded.last_seen_ms"
            ),
            &[&token_sha256, &staff_id],
        )
        .await?;
        Ok(())
    }

    async fn touch_staff_session(
        &self,
        token_sha256: &str,
        idle: std::time::Duration,
        touch_every: std::time::Duration,
    ) -> Result<Option<String>, DbError> {
        let c = self.client().await?;
        let Some(row) = c
            .query_opt(
                &format!(
                    "SELECT staff_id, last_seen_ms, {NOW_MS} FROM staff_sessions
                     WHERE token_sha256 = $1"
                ),
                &[&token_sha256],
            )
            .await?
        else {
            return Ok(None);
        };
        let (staff, last, now): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
        Ok(match super::SessionAge::of(now, last, idle, touch_every) {
            super::SessionAge::Expired => {
                // Unless another process has just marked it seen.
                c.execute(
                    "DELETE FROM staff_sessions WHERE token_sha256 = $1 AND last_seen_ms <= $2",
                    &[&token_sha256, &last],
                )
                .await?;
                None
            }
            super::SessionAge::Touch => {
                c.execute(
                    "UPDATE staff_sessions SET last_seen_ms = greatest(last_seen_ms, $2)
                     WHERE token_sha256 = $1",
                    &[&token_sha256, &now],
                )
                .await?;
                Some(staff)
            }
            super::SessionAge::Fresh => Some(staff),
        })
    }

    async fn delete_staff_session(&self, token_sha256: &str) -> Result<bool, DbError> {
        let c = self.client().await?;
        Ok(c.execute(
            "DELETE FROM staff_sessions WHERE token_sha256 = $1",
            &[&token_sha256],
        )
        .await?
            > 0)
    }
}

/// Now, in Unix milliseconds, by the database server's clock (one clock for every central
/// process, wherever they run).
const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

/// Append an entry to the hash-chained audit trail inside `tx`; the head row is locked,
/// so concurrent appends queue.
/// The columns [`insured_checkup`] reads.
const INSURED_COLUMNS: &str = "SELECT session_id, resident_id, day, venue, insurer_number,
    insured_symbol, insured_number, insured_branch, ticket_number, ticket_expiry
    FROM session_insurers";

fn insured_checkup(r: &tokio_postgres::Row) -> InsuredCheckup {
    InsuredCheckup {
        session_id: r.get(0),
        resident_id: r.get(1),
        day: r.get(2),
        venue: r.get(3),
        insurer: checkup_protocol::InsurerIdentity {
            insurer_number: r.get(4),
            symbol: r.get(5),
            number: r.get(6),
            branch: r.get(7),
            ticket_number: r.get(8),
            ticket_expiry: r.get(9),
        },
    }
}

async fn append_audit(
    tx: &deadpool_postgres::Transaction<'_>,
    staff: &str,
    action: &str,
    subject: &str,
) -> Result<(), DbError> {
    append_audit_entry(
        tx,
        &AccessEntry {
            staff_id: staff.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            ..AccessEntry::default()
        },
    )
    .await
}

/// The columns of an [`AuditRow`].
const AUDIT_ROW: &str = "SELECT id, coalesce(at_ms, 0), staff_id, action, subject, resident_id,
    purpose, flagged_for FROM audit";

fn audit_row(r: &tokio_postgres::Row) -> AuditRow {
    AuditRow {
        id: r.get(0),
        at_ms: r.get(1),
        staff_id: r.get(2),
        action: r.get(3),
        subject: r.get(4),
        resident_id: r.get(5),
        purpose: r.get(6),
        flagged_for: r.get(7),
    }
}

async fn append_audit_entry(
    tx: &deadpool_postgres::Transaction<'_>,
    e: &AccessEntry,
) -> Result<(), DbError> {
    let (staff, action, subject) = (&e.staff_id, &e.action, &e.subject);
    let h = tx
        .query_one(
            "SELECT id, link FROM audit_head WHERE one = 1 FOR UPDATE",
            &[],
        )
        .await?;
    let (prev_id, prev_link): (i64, String) = (h.get(0), h.get(1));
    let (id, at_ms) = (prev_id + 1, crate::audit::now_ms());
    let access = super::access_of(e);
    let link = crate::audit::link_with(&prev_link, id, at_ms, staff, action, subject, &access);
    tx.execute(
        "INSERT INTO audit (id, at_ms, staff_id, action, subject, link, resident_id, purpose,
                            flagged_for)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &id,
            &at_ms,
            staff,
            action,
            subject,
            &link,
            &e.resident_id,
            &e.purpose,
            &e.flagged_for,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE audit_head SET id = $1, link = $2 WHERE one = 1",
        &[&id, &link],
    )
    .await?;
    Ok(())
}

/// A register entry from `SELECT resident_id, name, name_kana, birth_date, sex, address,
/// postal_code`.
fn resident_row(r: &tokio_postgres::Row) -> Resident {
    Resident {
        resident_id: r.get(0),
        name: r.get(1),
        name_kana: r.get(2),
        birth_date: r.get(3),
        sex: r.get(4),
        address: r.get(5),
        postal_code: r.get(6),
        district: r.get(7),
    }
}
