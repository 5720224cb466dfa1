//! The PostgreSQL store (tokio-postgres with a deadpool pool). A batch is inserted with one
//! `INSERT … SELECT FROM unnest(…)` per table, so its cost is one round trip per table, not
//! one per event: first its keys into `event_keys` (`ON CONFLICT DO NOTHING RETURNING id`:
//! exactly once by `(node, seq)`), then only the new events into `events`, which is
//! partitioned by month ([`super::partitions`]: a batch reaching a month without a partition
//! has it created first). Node heads are locked in node order so that concurrent batches
//! touching the same nodes serialise without deadlocks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::migrations;
use super::partitions::{self, Month};
use super::{
    DbError, Derived, EventRow, ImportedCheckup, Ingested, InsuredCheckup, InsurerCount,
    Invitation, NoticeRow, Resident, ResultRow, Store, Submission,
};

/// The PostgreSQL store.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    /// The months `events` has a partition for, as far as this store knows: an ingest asks
    /// the catalogue (and creates the partition) only for a month not in here.
    months: Arc<Mutex<BTreeSet<Month>>>,
}

fn pool_err(e: impl std::fmt::Display) -> DbError {
    DbError::Pool(e.to_string())
}

impl Postgres {
    /// Connect to `url` and migrate.
    pub async fn open(url: &str) -> Result<Postgres, DbError> {
        let pg: tokio_postgres::Config = url.parse()?;
        let mgr = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr).max_size(16).build().map_err(pool_err)?;
        let p = Postgres {
            pool,
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
        p.known_months().extend(held);
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
            months: Arc::default(),
        }
        .migrate(Some(version))
        .await
    }

    /// `checkup-central partitions`: partitions made ahead, rows held in DEFAULT moved to
    /// their month's partition, every partition listed ([`partitions::maintain`]).
    pub async fn maintain_partitions(&self) -> Result<partitions::Maintained, DbError> {
        let mut c = self.client().await?;
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
        let mut c = self.client().await?;
        for m in missing {
            partitions::ensure_month(&mut c, m).await?;
            self.known_months().insert(m);
        }
        Ok(())
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, DbError> {
        self.pool.get().await.map_err(pool_err)
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

    async fn results(
        &self,
        filter: &str,
        p: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<ResultRow>, DbError> {
        let c = self.client().await?;
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
                   (resident_id, name, name_kana, birth_date, sex, address, postal_code)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (resident_id) DO UPDATE SET name = excluded.name,
                   name_kana = excluded.name_kana, birth_date = excluded.birth_date,
                   sex = excluded.sex, address = excluded.address,
                   postal_code = excluded.postal_code",
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
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    async fn search(&self, q: &str, birth: Option<&str>) -> Result<Vec<Resident>, DbError> {
        let c = self.client().await?;
        let pattern = format!("%{q}%");
        let rows = c
            .query(
                "SELECT resident_id, name, name_kana, birth_date, sex, address, postal_code
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
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT resident_id, name, name_kana, birth_date, sex, address, postal_code
                 FROM residents WHERE resident_id = $1",
                &[&resident_id],
            )
            .await?;
        Ok(row.as_ref().map(resident_row))
    }

    async fn results_of(&self, resident_id: &str) -> Result<Vec<ResultRow>, DbError> {
        self.results(
            "WHERE resident_id = $1 ORDER BY hlc_ms, hlc_c, event_id",
            &[&resident_id],
        )
        .await
    }

    async fn results_between(&self, from: &str, to: &str) -> Result<Vec<ResultRow>, DbError> {
        self.results(
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

    async fn audit(&self, staff: &str, action: &str, subject: &str) -> Result<(), DbError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let (staff, subject) = (
            crate::audit::printable(staff),
            crate::audit::printable(subject),
        );
        append_audit(&tx, &staff, action, &subject).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_snapshot(&self) -> Result<crate::audit::Snapshot, DbError> {
        let c = self.client().await?;
        let h = c
            .query_one("SELECT id, link, base FROM audit_head WHERE one = 1", &[])
            .await?;
        let base: i64 = h.get(2);
        let entries = c
            .query(
                "SELECT id, coalesce(at_ms, 0), staff_id, action, subject, coalesce(link, '')
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
                "SELECT resident_id, checkup, used_ms, revoked_ms
                 FROM questionnaire_invitations WHERE token_sha256 = $1 FOR UPDATE",
                &[&token_sha256],
            )
            .await?;
        let Some(link) = link else {
            return Ok(Submission::Invalid);
        };
        let (resident, checkup, used, revoked): (String, String, Option<i64>, Option<i64>) =
            (link.get(0), link.get(1), link.get(2), link.get(3));
        match (used, revoked) {
            (None, None) => {}
            (Some(_), None) => {
                let stored = tx
                    .query_opt(
                        "SELECT lang, answers FROM questionnaire_answers
                         WHERE resident_id = $1 AND checkup = $2",
                        &[&resident, &checkup],
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
            "INSERT INTO questionnaire_answers VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (resident_id, checkup) DO UPDATE SET lang = excluded.lang,
               answers = excluded.answers, answered_ms = excluded.answered_ms",
            &[&resident, &checkup, &answer.lang.tag(), &json, &at],
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
                 ON CONFLICT (resident_id, content_sha256) DO NOTHING",
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
        let c = self.client().await?;
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
}

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
    let h = tx
        .query_one(
            "SELECT id, link FROM audit_head WHERE one = 1 FOR UPDATE",
            &[],
        )
        .await?;
    let (prev_id, prev_link): (i64, String) = (h.get(0), h.get(1));
    let (id, at_ms) = (prev_id + 1, crate::audit::now_ms());
    let link = crate::audit::link(&prev_link, id, at_ms, staff, action, subject);
    tx.execute(
        "INSERT INTO audit (id, at_ms, staff_id, action, subject, link)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &at_ms, &staff, &action, &subject, &link],
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
    }
}
