//! The SQLite store; WAL, `synchronous=FULL`, so an acknowledged batch survives a crash.
//!
//! Batches go to a writer thread with a connection of its own, which commits every batch
//! waiting at that moment in one transaction (group commit: one fsync for many boxes'
//! batches), each batch in a savepoint of its own so that a refused batch (equivocation)
//! is rolled back alone. Everything else uses a second connection behind a mutex on
//! blocking threads.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use super::migrations;
use super::{
    AccessEntry, AuditRow, CaseMember, CasePhotoRow, DbError, Derived, EventRow, ImportedCheckup,
    Ingested, InsuredCheckup, InsurerCount, Invitation, NoticeRow, Resident, ResultRow, RiskFlag,
    Store, Submission, printable_entry,
};

/// The SQLite store.
#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
    writer: std::sync::mpsc::Sender<Job>,
}

/// A batch for the writer thread.
struct Job {
    rows: Vec<EventRow>,
    reply: tokio::sync::oneshot::Sender<Result<Ingested, DbError>>,
}

/// Most batches committed together.
const GROUP: usize = 64;

fn connect(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn writer(mut conn: Connection, jobs: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let done = (|| -> Result<Vec<Result<Ingested, DbError>>, DbError> {
            let mut tx = conn.transaction()?;
            // One reception time per group rather than a strftime() per row.
            let at: String =
                tx.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ','now')", [], |r| {
                    r.get(0)
                })?;
            let mut outs = Vec::with_capacity(group.len());
            for j in &group {
                let sp = tx.savepoint()?;
                match ingest_in(&sp, &j.rows, &at) {
                    Ok(o) => {
                        sp.commit()?;
                        outs.push(Ok(o));
                    }
                    // Dropping the savepoint rolls this batch back alone.
                    Err(e) => outs.push(Err(e)),
                }
            }
            tx.commit()?;
            Ok(outs)
        })();
        match done {
            Ok(outs) => {
                for (j, o) in group.into_iter().zip(outs) {
                    let _ = j.reply.send(o);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                for j in group {
                    let _ = j
                        .reply
                        .send(Err(DbError::Task(format!("commit failed: {e}"))));
                }
            }
        }
    }
}

/// How often the WAL is checkpointed into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Checkpoint passively every [`CHECKPOINT_EVERY`] until the writer has stopped, then once
/// more, truncating the WAL.
fn checkpointer(conn: Connection, stop: std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    loop {
        let last = stop.recv_timeout(CHECKPOINT_EVERY) == Err(RecvTimeoutError::Disconnected);
        let mode = if last { "TRUNCATE" } else { "PASSIVE" };
        if let Err(e) = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        if last {
            return;
        }
    }
}

impl Sqlite {
    /// Open (creating) the database at `path` and migrate it.
    pub fn open(path: &Path) -> Result<Sqlite, DbError> {
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        let write = connect(path)?;
        // Checkpoints copy the WAL into the database file and fsync it; run inside a
        // commit they stalled every box's acknowledgement, so the writer never
        // checkpoints and a thread of its own does, without blocking the writer.
        write.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoints = connect(path)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("central-checkpoint".into())
            .spawn(move || checkpointer(checkpoints, stopped))
            .map_err(|e| DbError::Task(e.to_string()))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("central-writer".into())
            .spawn(move || {
                writer(write, rx);
                drop(stop);
            })
            .map_err(|e| DbError::Task(e.to_string()))?;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            writer: tx,
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut c)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }
}

#[async_trait::async_trait]
impl Store for Sqlite {
    async fn ingest(&self, rows: Vec<EventRow>) -> Result<Ingested, DbError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.writer
            .send(Job { rows, reply })
            .map_err(|_| DbError::Task("writer stopped".into()))?;
        rx.await
            .map_err(|_| DbError::Task("writer stopped".into()))?
    }

    async fn event_count(&self) -> Result<u64, DbError> {
        self.with(|c| {
            Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }

    async fn heads(&self) -> Result<BTreeMap<String, u64>, DbError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT node, contiguous FROM node_heads")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut out = BTreeMap::new();
            for r in rows {
                let (n, s) = r?;
                out.insert(n, s as u64);
            }
            Ok(out)
        })
        .await
    }

    async fn upsert_residents(&self, rows: Vec<Resident>) -> Result<usize, DbError> {
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO residents
                       (resident_id, name, name_kana, birth_date, sex, address, postal_code, district)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (resident_id) DO UPDATE SET name = excluded.name,
                       name_kana = excluded.name_kana, birth_date = excluded.birth_date,
                       sex = excluded.sex, address = excluded.address,
                       postal_code = excluded.postal_code, district = excluded.district",
                )?;
                for r in &rows {
                    st.execute(params![
                        r.resident_id,
                        r.name,
                        r.name_kana,
                        r.birth_date,
                        r.sex,
                        r.address,
                        r.postal_code,
                        r.district
                    ])?;
                }
            }
            tx.commit()?;
            Ok(rows.len())
        })
        .await
    }

    async fn search(&self, q: &str, birth: Option<&str>) -> Result<Vec<Resident>, DbError> {
        let (q, birth) = (format!("%{q}%"), birth.map(str::to_owned));
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT resident_id, name, name_kana, birth_date, sex, address, postal_code, district
                 FROM residents
                 WHERE (resident_id LIKE ?1 OR name LIKE ?1 OR name_kana LIKE ?1)
                   AND (?2 IS NULL OR birth_date = ?2)
                 ORDER BY name_kana, resident_id LIMIT 100",
            )?;
            let rows = st.query_map(params![q, birth], resident_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn resident(&self, resident_id: &str) -> Result<Option<Resident>, DbError> {
        let id = resident_id.to_owned();
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT resident_id, name, name_kana, birth_date, sex, address, postal_code, district
                 FROM residents WHERE resident_id = ?1",
            )?;
            let mut rows = st.query_map(params![id], resident_row)?;
            Ok(rows.next().transpose()?)
        })
        .await
    }

    async fn results_of(&self, resident_id: &str) -> Result<Vec<ResultRow>, DbError> {
        let id = resident_id.to_owned();
        self.with(move |c| {
            results(
                c,
                "WHERE resident_id = ?1 ORDER BY hlc_ms, hlc_c, event_id",
                params![id],
            )
        })
        .await
    }

    async fn results_between(&self, from: &str, to: &str) -> Result<Vec<ResultRow>, DbError> {
        let (from, to) = (from.to_owned(), to.to_owned());
        self.with(move |c| {
            results(
                c,
                "WHERE day BETWEEN ?1 AND ?2 ORDER BY day, resident_id, hlc_ms, hlc_c, event_id",
                params![from, to],
            )
        })
        .await
    }

    async fn checkups_of_insurer(
        &self,
        insurer_number: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<InsuredCheckup>, DbError> {
        let (n, from, to) = (insurer_number.to_owned(), from.to_owned(), to.to_owned());
        self.with(move |c| {
            let mut st = c.prepare_cached(&format!(
                "{INSURED_COLUMNS} WHERE insurer_number = ?1 AND day BETWEEN ?2 AND ?3
                 ORDER BY day, resident_id, session_id"
            ))?;
            let rows = st.query_map(params![n, from, to], insured_checkup)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn insurers_between(&self, from: &str, to: &str) -> Result<Vec<InsurerCount>, DbError> {
        let (from, to) = (from.to_owned(), to.to_owned());
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT insurer_number, COUNT(*) FROM session_insurers
                 WHERE day BETWEEN ?1 AND ?2 GROUP BY insurer_number ORDER BY insurer_number",
            )?;
            let rows = st.query_map(params![from, to], |r| {
                Ok(InsurerCount {
                    insurer_number: r.get(0)?,
                    checkups: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn checkup_insurer(&self, session_id: &str) -> Result<Option<InsuredCheckup>, DbError> {
        let id = session_id.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                &format!("{INSURED_COLUMNS} WHERE session_id = ?1"),
                [id],
                insured_checkup,
            )
            .optional()?)
        })
        .await
    }

    async fn notices(
        &self,
        case_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<NoticeRow>, DbError> {
        let id = case_id.map(str::to_owned);
        let limit = limit as i64;
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT case_id, event_id, venue, node, staff_id, saved_ms, child_name,
                        child_birth_date, abuse_type, resident_id, notice FROM notices
                 WHERE ?1 IS NULL OR case_id = ?1 ORDER BY saved_ms DESC, case_id LIMIT ?2",
            )?;
            let rows = st.query_map(params![id, limit], |r| {
                Ok(NoticeRow {
                    case_id: r.get(0)?,
                    event_id: r.get(1)?,
                    venue: r.get(2)?,
                    node: r.get(3)?,
                    staff_id: r.get(4)?,
                    saved_ms: r.get(5)?,
                    child_name: r.get(6)?,
                    child_birth_date: r.get(7)?,
                    abuse_type: r.get(8)?,
                    resident_id: r.get(9)?,
                    notice: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn case_photos(&self, case_id: &str) -> Result<Vec<CasePhotoRow>, DbError> {
        let case = case_id.to_owned();
        self.with(move |c| {
            // The JPEG is measured where it lies, never read out for a listing.
            let mut st = c.prepare_cached(
                "WITH p AS (
                   SELECT json_extract(body, '$.body.payload.photo_id') AS photo_id, id, node,
                          json_extract(body, '$.actor.staff_id') AS taken_by, hlc_ms, hlc_c,
                          json_extract(body, '$.body.payload.width') AS width,
                          json_extract(body, '$.body.payload.height') AS height,
                          json_extract(body, '$.body.payload.jpeg') AS jpeg,
                          json_extract(body, '$.body.payload.note') AS note
                   FROM events WHERE kind = 'case_photo_added'
                     AND json_extract(body, '$.body.payload.case_id') = ?1)
                 SELECT photo_id, id, node, taken_by, hlc_ms, width, height, length(jpeg),
                        length(jpeg) - length(rtrim(jpeg, '=')), note
                 FROM p ORDER BY hlc_ms, hlc_c, id",
            )?;
            let rows = st.query_map(params![case], |r| {
                Ok(CasePhotoRow {
                    photo_id: r.get(0)?,
                    case_id: case.clone(),
                    event_id: r.get(1)?,
                    node: r.get(2)?,
                    taken_by: r.get(3)?,
                    taken_ms: r.get(4)?,
                    width: r.get(5)?,
                    height: r.get(6)?,
                    bytes: super::base64_decoded_len(r.get(7)?, r.get(8)?),
                    note: r.get(9)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn case_photo_event(
        &self,
        case_id: &str,
        photo_id: &str,
    ) -> Result<Option<String>, DbError> {
        let (case, photo) = (case_id.to_owned(), photo_id.to_owned());
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT body FROM events WHERE kind = 'case_photo_added'
                   AND json_extract(body, '$.body.payload.case_id') = ?1
                   AND json_extract(body, '$.body.payload.photo_id') = ?2
                 ORDER BY hlc_ms, hlc_c, id LIMIT 1",
                params![case, photo],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn record_access(&self, entry: AccessEntry) -> Result<(), DbError> {
        let entry = printable_entry(entry);
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            append_audit_entry(&tx, &entry)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    fn scoped(&self, _municipality: &str) -> Result<Arc<dyn Store>, DbError> {
        // One municipality (the configuration check refuses several on SQLite).
        Ok(Arc::new(self.clone()))
    }

    async fn prepare_municipalities(
        &self,
        _municipalities: &[String],
        _default: Option<&str>,
    ) -> Result<(), DbError> {
        Ok(())
    }

    async fn access_report(&self, resident_id: &str) -> Result<Vec<AuditRow>, DbError> {
        let id = resident_id.to_owned();
        self.with(move |c| {
            let mut st =
                c.prepare_cached(&format!("{AUDIT_ROW} WHERE resident_id = ?1 ORDER BY id"))?;
            let rows = st.query_map(params![id], audit_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn flagged_reads(
        &self,
        department: &str,
        limit: usize,
    ) -> Result<Vec<AuditRow>, DbError> {
        let (d, limit) = (department.to_owned(), limit as i64);
        self.with(move |c| {
            let mut st = c.prepare_cached(&format!(
                "{AUDIT_ROW} WHERE flagged_for = ?1 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = st.query_map(params![d, limit], audit_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn assign_case(&self, case_id: &str, staff_id: &str, by: &str) -> Result<(), DbError> {
        let (case, staff, by) = (case_id.to_owned(), staff_id.to_owned(), by.to_owned());
        self.with(move |c| {
            c.execute(
                "INSERT INTO case_assignments (case_id, staff_id, assigned_by, assigned_ms)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![case, staff, by, crate::audit::now_ms()],
            )?;
            Ok(())
        })
        .await
    }

    async fn add_case_member(&self, m: CaseMember) -> Result<(), DbError> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO case_members (case_id, resident_id, relation, added_by, added_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (case_id, resident_id) DO UPDATE SET relation = excluded.relation",
                params![m.case_id, m.resident_id, m.relation, m.added_by, m.added_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn case_people(&self, case_id: &str) -> Result<(Vec<String>, Vec<CaseMember>), DbError> {
        let case = case_id.to_owned();
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT staff_id FROM case_assignments WHERE case_id = ?1 ORDER BY staff_id",
            )?;
            let staff = st
                .query_map(params![case], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            let mut st = c.prepare_cached(
                "SELECT case_id, resident_id, relation, added_by, added_ms FROM case_members
                 WHERE case_id = ?1 ORDER BY added_ms, resident_id",
            )?;
            let members = st
                .query_map(params![case], |r| {
                    Ok(CaseMember {
                        case_id: r.get(0)?,
                        resident_id: r.get(1)?,
                        relation: r.get(2)?,
                        added_by: r.get(3)?,
                        added_ms: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((staff, members))
        })
        .await
    }

    async fn on_cases_of(&self, staff_id: &str, resident_id: &str) -> Result<bool, DbError> {
        let (staff, resident) = (staff_id.to_owned(), resident_id.to_owned());
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM case_assignments a WHERE a.staff_id = ?1 AND (
                     EXISTS (SELECT 1 FROM case_members m
                             WHERE m.case_id = a.case_id AND m.resident_id = ?2)
                  OR EXISTS (SELECT 1 FROM notices n
                             WHERE n.case_id = a.case_id AND n.resident_id = ?2)))",
                params![staff, resident],
                |r| r.get::<_, bool>(0),
            )?)
        })
        .await
    }

    async fn raise_flag(&self, f: RiskFlag) -> Result<(), DbError> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO risk_flags (flag_id, resident_id, kind, note, raised_by, raised_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    f.flag_id,
                    f.resident_id,
                    f.kind,
                    f.note,
                    f.raised_by,
                    f.raised_ms
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn risk_flags(&self, after_ms: i64, limit: usize) -> Result<Vec<RiskFlag>, DbError> {
        let limit = limit as i64;
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT flag_id, resident_id, kind, note, raised_by, raised_ms FROM risk_flags
                 WHERE raised_ms > ?1 ORDER BY raised_ms, flag_id LIMIT ?2",
            )?;
            let rows = st.query_map(params![after_ms, limit], |r| {
                Ok(RiskFlag {
                    flag_id: r.get(0)?,
                    resident_id: r.get(1)?,
                    kind: r.get(2)?,
                    note: r.get(3)?,
                    raised_by: r.get(4)?,
                    raised_ms: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn audit_snapshot(&self) -> Result<crate::audit::Snapshot, DbError> {
        self.with(|c| {
            let (head_id, head_link, base): (i64, String, i64) = c.query_row(
                "SELECT id, link, base FROM audit_head WHERE one = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let mut st = c.prepare(
                "SELECT id, at_ms, staff_id, action, subject, coalesce(link, ''), resident_id,
                        purpose, flagged_for FROM audit
                 WHERE id > ?1 ORDER BY id",
            )?;
            let entries = st
                .query_map([base], |r| {
                    Ok(crate::audit::Entry {
                        id: r.get(0)?,
                        at_ms: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                        staff_id: r.get(2)?,
                        action: r.get(3)?,
                        subject: r.get(4)?,
                        link: r.get(5)?,
                        access: crate::audit::Access {
                            resident_id: r.get(6)?,
                            purpose: r.get(7)?,
                            flagged_for: r.get(8)?,
                        },
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut st = c.prepare("SELECT node, seq, id, body FROM events ORDER BY node, seq")?;
            let events = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(crate::audit::Snapshot {
                entries,
                head: (head_id, head_link),
                base,
                events,
            })
        })
        .await
    }

    async fn issue_invitation(
        &self,
        token_sha256: &str,
        resident_id: &str,
        checkup: &str,
        created_ms: i64,
    ) -> Result<(), DbError> {
        let (t, r, k) = (
            token_sha256.to_owned(),
            resident_id.to_owned(),
            checkup.to_owned(),
        );
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE questionnaire_invitations SET revoked_ms = ?3
                 WHERE resident_id = ?1 AND checkup = ?2 AND revoked_ms IS NULL",
                params![r, k, created_ms],
            )?;
            tx.execute(
                "INSERT INTO questionnaire_invitations (token_sha256, resident_id, checkup, created_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![t, r, k, created_ms],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, DbError> {
        let t = token_sha256.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT resident_id, checkup, created_ms, used_ms, revoked_ms
                 FROM questionnaire_invitations WHERE token_sha256 = ?1",
                [t],
                |r| {
                    Ok(Invitation {
                        resident_id: r.get(0)?,
                        checkup: r.get(1)?,
                        created_ms: r.get(2)?,
                        used_ms: r.get(3)?,
                        revoked_ms: r.get(4)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn submit_answers(
        &self,
        token_sha256: &str,
        answer: checkup_protocol::central::PreAnswer,
    ) -> Result<Submission, DbError> {
        let t = token_sha256.to_owned();
        let json = serde_json::to_string(&answer.answers)
            .map_err(|e| DbError::Task(format!("answers: {e}")))?;
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let link: Option<(String, String, Option<i64>, Option<i64>)> = tx
                .query_row(
                    "SELECT resident_id, checkup, used_ms, revoked_ms
                     FROM questionnaire_invitations WHERE token_sha256 = ?1",
                    [&t],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let (resident, checkup) = match link {
                Some((r, k, None, None)) => (r, k),
                Some((r, k, Some(_), None)) => {
                    let stored: Option<(String, String)> = tx
                        .query_row(
                            "SELECT lang, answers FROM questionnaire_answers
                             WHERE resident_id = ?1 AND checkup = ?2",
                            params![r, k],
                            |row| Ok((row.get(0)?, row.get(1)?)),
                        )
                        .optional()?;
                    let same = stored.is_some_and(|(l, a)| l == answer.lang.tag() && a == json);
                    return Ok(if same {
                        Submission::AlreadyStored
                    } else {
                        Submission::Used
                    });
                }
                _ => return Ok(Submission::Invalid),
            };
            let at = answer.answered_ms as i64;
            tx.execute(
                "UPDATE questionnaire_invitations SET used_ms = ?2 WHERE token_sha256 = ?1",
                params![t, at],
            )?;
            tx.execute(
                "INSERT INTO questionnaire_answers VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (resident_id, checkup) DO UPDATE SET lang = excluded.lang,
                   answers = excluded.answers, answered_ms = excluded.answered_ms",
                params![resident, checkup, answer.lang.tag(), json, at],
            )?;
            tx.commit()?;
            Ok(Submission::Stored)
        })
        .await
    }

    async fn pre_answers(
        &self,
        checkup: &str,
        resident_ids: Option<Vec<String>>,
    ) -> Result<Vec<checkup_protocol::central::PreAnswer>, DbError> {
        let k = checkup.to_owned();
        self.with(move |c| {
            let mut out = Vec::new();
            let mut read = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
                let lang: String = r.get(2)?;
                let answers: String = r.get(3)?;
                if let Some(a) = super::pre_answer_of(r.get(0)?, r.get(1)?, &lang, &answers, r.get(4)?)
                {
                    out.push(a);
                }
                Ok(())
            };
            const COLS: &str = "SELECT resident_id, checkup, lang, answers, answered_ms FROM questionnaire_answers";
            match resident_ids {
                None => {
                    let mut st = c.prepare(&format!("{COLS} WHERE checkup = ?1 ORDER BY resident_id"))?;
                    let mut rows = st.query([&k])?;
                    while let Some(r) = rows.next()? {
                        read(r)?;
                    }
                }
                Some(ids) => {
                    let mut st = c.prepare_cached(&format!(
                        "{COLS} WHERE checkup = ?1 AND resident_id = ?2"
                    ))?;
                    for id in ids {
                        let mut rows = st.query(params![k, id])?;
                        while let Some(r) = rows.next()? {
                            read(r)?;
                        }
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn store_imported(&self, rows: Vec<ImportedCheckup>) -> Result<usize, DbError> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut new = 0;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO imported_checkups VALUES
                       (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT (resident_id, content_sha256) DO NOTHING",
                )?;
                for r in &rows {
                    new += st.execute(params![
                        r.resident_id,
                        r.content_sha256,
                        r.checkup_date,
                        r.origin_number,
                        r.origin_name,
                        r.document_created,
                        r.imported_ms,
                        r.imported_by,
                        r.source_file,
                        r.items,
                        r.document
                    ])?;
                }
            }
            tx.commit()?;
            Ok(new)
        })
        .await
    }

    async fn imported_of(&self, resident_id: &str) -> Result<Vec<ImportedCheckup>, DbError> {
        let id = resident_id.to_owned();
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT resident_id, content_sha256, checkup_date, origin_number, origin_name,
                        document_created, imported_ms, imported_by, source_file, items, document
                 FROM imported_checkups WHERE resident_id = ?1
                 ORDER BY checkup_date, content_sha256",
            )?;
            let rows = st.query_map([id], |r| {
                Ok(ImportedCheckup {
                    resident_id: r.get(0)?,
                    content_sha256: r.get(1)?,
                    checkup_date: r.get(2)?,
                    origin_number: r.get(3)?,
                    origin_name: r.get(4)?,
                    document_created: r.get(5)?,
                    imported_ms: r.get(6)?,
                    imported_by: r.get(7)?,
                    source_file: r.get(8)?,
                    items: r.get(9)?,
                    document: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn create_staff_session(
        &self,
        token_sha256: &str,
        staff_id: &str,
        idle: std::time::Duration,
    ) -> Result<(), DbError> {
        let (token, staff) = (token_sha256.to_owned(), staff_id.to_owned());
        let idle = super::ms(idle);
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                &format!("DELETE FROM staff_sessions WHERE last_seen_ms <= {NOW_MS} - ?1"),
                params![idle],
            )?;
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO staff_sessions VALUES (?1, ?2, {NOW_MS}, {NOW_MS})"
                ),
                params![token, staff],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn touch_staff_session(
        &self,
        token_sha256: &str,
        idle: std::time::Duration,
        touch_every: std::time::Duration,
    ) -> Result<Option<String>, DbError> {
        let token = token_sha256.to_owned();
        self.with(move |c| {
            let held = c
                .query_row(
                    &format!(
                        "SELECT staff_id, last_seen_ms, {NOW_MS} FROM staff_sessions
                         WHERE token_sha256 = ?1"
                    ),
                    params![token],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    },
                )
                .optional()?;
            let Some((staff, last, now)) = held else {
                return Ok(None);
            };
            Ok(match super::SessionAge::of(now, last, idle, touch_every) {
                super::SessionAge::Expired => {
                    c.execute(
                        "DELETE FROM staff_sessions WHERE token_sha256 = ?1",
                        params![token],
                    )?;
                    None
                }
                super::SessionAge::Touch => {
                    c.execute(
                        "UPDATE staff_sessions SET last_seen_ms = max(last_seen_ms, ?2)
                         WHERE token_sha256 = ?1",
                        params![token, now],
                    )?;
                    Some(staff)
                }
                super::SessionAge::Fresh => Some(staff),
            })
        })
        .await
    }

    async fn delete_staff_session(&self, token_sha256: &str) -> Result<bool, DbError> {
        let token = token_sha256.to_owned();
        self.with(move |c| {
            Ok(c.execute(
                "DELETE FROM staff_sessions WHERE token_sha256 = ?1",
                params![token],
            )? > 0)
        })
        .await
    }
}

/// Now, in Unix milliseconds, by SQLite's clock (the staff session columns).
const NOW_MS: &str = "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";

/// A register entry from `SELECT resident_id, name, name_kana, birth_date, sex, address,
/// postal_code`.
fn resident_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Resident> {
    Ok(Resident {
        resident_id: r.get(0)?,
        name: r.get(1)?,
        name_kana: r.get(2)?,
        birth_date: r.get(3)?,
        sex: r.get(4)?,
        address: r.get(5)?,
        postal_code: r.get(6)?,
        district: r.get(7)?,
    })
}

/// The columns [`insured_checkup`] reads.
const INSURED_COLUMNS: &str = "SELECT session_id, resident_id, day, venue, insurer_number,
    insured_symbol, insured_number, insured_branch, ticket_number, ticket_expiry
    FROM session_insurers";

fn insured_checkup(r: &rusqlite::Row<'_>) -> rusqlite::Result<InsuredCheckup> {
    Ok(InsuredCheckup {
        session_id: r.get(0)?,
        resident_id: r.get(1)?,
        day: r.get(2)?,
        venue: r.get(3)?,
        insurer: checkup_protocol::InsurerIdentity {
            insurer_number: r.get(4)?,
            symbol: r.get(5)?,
            number: r.get(6)?,
            branch: r.get(7)?,
            ticket_number: r.get(8)?,
            ticket_expiry: r.get(9)?,
        },
    })
}

fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,
         applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))",
    )?;
    let current: i64 = conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for m in migrations::pending(current)? {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sqlite)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            [m.version],
        )?;
        tx.commit()?;
        tracing::info!(version = m.version, "database migrated");
    }
    Ok(())
}

fn results(
    c: &Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<ResultRow>, DbError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT event_id, resident_id, session_id, venue, day, item_code, value, unit, hlc_ms,
                hlc_c, corrects, reason, staff_id FROM results {filter}"
    ))?;
    let rows = st.query_map(p, |r| {
        Ok(ResultRow {
            event_id: r.get(0)?,
            resident_id: r.get(1)?,
            session_id: r.get(2)?,
            venue: r.get(3)?,
            day: r.get(4)?,
            item_code: r.get(5)?,
            value: r.get(6)?,
            unit: r.get(7)?,
            hlc_ms: r.get(8)?,
            hlc_c: r.get(9)?,
            corrects: r.get(10)?,
            reason: r.get(11)?,
            staff_id: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One batch, inside the writer's transaction (`tx` is its savepoint).
fn ingest_in(tx: &Connection, rows: &[EventRow], at: &str) -> Result<Ingested, DbError> {
    let mut out = Ingested::default();
    let mut fresh: Vec<&EventRow> = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events
                 (node, seq, id, venue, kind, resident, hlc_ms, hlc_c, body, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
        )?;
        let mut held = tx.prepare_cached("SELECT id FROM events WHERE node = ?1 AND seq = ?2")?;
        let mut session =
            tx.prepare_cached("INSERT INTO sessions VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")?;
        let mut insured = tx.prepare_cached(
            "INSERT INTO session_insurers (session_id, resident_id, venue, day, insurer_number,
               insured_symbol, insured_number, insured_branch, ticket_number, ticket_expiry)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
        )?;
        let mut notice = tx.prepare_cached(
            "INSERT INTO notices VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT DO NOTHING",
        )?;
        let mut result = tx.prepare_cached(
            "INSERT INTO results VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT DO NOTHING",
        )?;
        for r in rows {
            let n = insert.execute(params![
                r.node, r.seq, r.id, r.venue, r.kind, r.resident, r.hlc_ms, r.hlc_c, r.json, at
            ])?;
            if n == 0 {
                let id: Option<String> = held
                    .query_row(params![r.node, r.seq], |x| x.get(0))
                    .optional()?;
                if id.as_deref() != Some(r.id.as_str()) {
                    return Err(DbError::Equivocation {
                        node: r.node.clone(),
                        seq: r.seq as u64,
                    });
                }
                out.duplicate += 1;
                continue;
            }
            out.new += 1;
            fresh.push(r);
            match &r.derived {
                Derived::None => {}
                Derived::Session {
                    session_id,
                    resident_id,
                    day,
                    insurer,
                } => {
                    session.execute(params![session_id, resident_id, day])?;
                    if let Some(i) = insurer {
                        insured.execute(params![
                            session_id,
                            resident_id,
                            r.venue,
                            day,
                            i.insurer_number,
                            i.symbol,
                            i.number,
                            i.branch,
                            i.ticket_number,
                            i.ticket_expiry
                        ])?;
                    }
                }
                Derived::Notice(n) => {
                    notice.execute(params![
                        n.case_id,
                        n.event_id,
                        n.venue,
                        n.node,
                        n.staff_id,
                        n.saved_ms,
                        n.child_name,
                        n.child_birth_date,
                        n.abuse_type,
                        n.resident_id,
                        n.notice
                    ])?;
                }
                Derived::Result(x) => {
                    result.execute(params![
                        x.event_id,
                        x.resident_id,
                        x.session_id,
                        x.venue,
                        x.day,
                        x.item_code,
                        x.value,
                        x.unit,
                        x.hlc_ms,
                        x.hlc_c,
                        x.corrects,
                        x.reason,
                        x.staff_id
                    ])?;
                }
            }
        }
    }
    if !fresh.is_empty() {
        let record = crate::audit::IngestRecord::of(&fresh);
        let boxes: Vec<&str> = record.ranges.keys().map(String::as_str).collect();
        append_audit(tx, &boxes.join(","), "ingest", &record.subject())?;
    }
    let nodes: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.node.as_str()).collect();
    for node in nodes {
        let head = advance_head(tx, node)?;
        out.acked.insert(node.to_owned(), head);
    }
    Ok(out)
}

/// Append an entry to the hash-chained audit trail, inside the caller's write transaction.
fn append_audit(tx: &Connection, staff: &str, action: &str, subject: &str) -> Result<(), DbError> {
    append_audit_entry(
        tx,
        &AccessEntry {
            staff_id: staff.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            ..AccessEntry::default()
        },
    )
}

/// The columns of an [`AuditRow`].
const AUDIT_ROW: &str = "SELECT id, coalesce(at_ms, 0), staff_id, action, subject, resident_id,
    purpose, flagged_for FROM audit";

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        staff_id: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        resident_id: r.get(5)?,
        purpose: r.get(6)?,
        flagged_for: r.get(7)?,
    })
}

fn append_audit_entry(tx: &Connection, e: &AccessEntry) -> Result<(), DbError> {
    let (prev_id, prev_link): (i64, String) =
        tx.query_row("SELECT id, link FROM audit_head WHERE one = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let (id, at_ms) = (prev_id + 1, crate::audit::now_ms());
    let access = super::access_of(e);
    let link = crate::audit::link_with(
        &prev_link,
        id,
        at_ms,
        &e.staff_id,
        &e.action,
        &e.subject,
        &access,
    );
    tx.execute(
        "INSERT INTO audit (id, at, at_ms, staff_id, action, subject, link, resident_id, purpose,
                            flagged_for)
         VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            at_ms,
            e.staff_id,
            e.action,
            e.subject,
            link,
            e.resident_id,
            e.purpose,
            e.flagged_for
        ],
    )?;
    tx.execute(
        "UPDATE audit_head SET id = ?1, link = ?2 WHERE one = 1",
        params![id, link],
    )?;
    Ok(())
}

fn advance_head(tx: &Connection, node: &str) -> Result<u64, DbError> {
    let mut head: i64 = tx
        .query_row(
            "SELECT contiguous FROM node_heads WHERE node = ?1",
            [node],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let start = head;
    {
        let mut st = tx.prepare_cached(
            "SELECT seq FROM events WHERE node = ?1 AND seq > ?2 ORDER BY seq LIMIT 100000",
        )?;
        let seqs = st.query_map(params![node, head], |r| r.get::<_, i64>(0))?;
        for s in seqs {
            let s = s?;
            if s != head + 1 {
                break;
            }
            head = s;
        }
    }
    if head != start {
        tx.execute(
            "INSERT INTO node_heads VALUES (?1, ?2)
             ON CONFLICT (node) DO UPDATE SET contiguous = excluded.contiguous",
            params![node, head],
        )?;
    }
    Ok(head as u64)
}
