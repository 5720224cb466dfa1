//! The day's roster: residents booked for this venue, from the reservation system.
//!
//! The roster is reference data, not events: it is loaded before the day (demo: generated)
//! and read by reception to find the booked resident. It lives in its own SQLite file so
//! that it can be replaced without touching the event log.
//!
//! Beside the residents it keeps the questionnaire answers they gave on their phones before
//! the day ([`PreAnswer`], fetched from central or imported as central's file): reference
//! data too, until check-in records them as the session's answers.

pub mod import;

use std::path::Path;
use std::sync::Mutex;

use checkup_protocol::InsurerIdentity;
use checkup_protocol::central::PreAnswer;
use rusqlite::{Connection, params};
use serde::Serialize;

/// A booked resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Resident {
    /// Resident number (宛名番号), the key everywhere.
    pub resident_id: String,
    /// Name as registered (漢字).
    pub name: String,
    /// Name in katakana.
    pub name_kana: String,
    /// Birth date, ISO `YYYY-MM-DD`.
    pub birth_date: String,
    /// `male`, `female` or `other`.
    pub sex: String,
    /// Address as registered.
    pub address: String,
    /// Checkup course booked (selects the items).
    pub course: String,
    /// Booked time slot, `HH:MM`.
    pub booked_at: String,
    /// Who insures the resident (保険者番号, 記号・番号・枝番, 受診券), when the roster has
    /// the insurer columns; check-in carries it to central on the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurer: Option<InsurerIdentity>,
}

/// An earlier result of a booked resident (last year's checkup), provisioned with the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HistoryRow {
    /// Resident number.
    pub resident_id: String,
    /// Item code.
    pub item_code: String,
    /// Value as recorded (number or dipstick reading).
    pub value: String,
    /// Unit.
    pub unit: String,
    /// When, `YYYY-MM-DD`.
    pub date: String,
}

/// The roster store.
pub struct Roster {
    /// Single connection: the roster is small and rarely written.
    conn: Mutex<Connection>,
}

impl Roster {
    /// Open (or create) the roster file, encrypted with the box's data key if given.
    pub fn open(
        path: &Path,
        key: Option<&crate::at_rest::DataKey>,
    ) -> Result<Roster, crate::at_rest::AtRestError> {
        let conn = crate::at_rest::open_sqlite(path, key, crate::at_rest::READ_WRITE)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS residents (
                resident_id TEXT PRIMARY KEY,
                name TEXT NOT NULL, name_kana TEXT NOT NULL, birth_date TEXT NOT NULL,
                sex TEXT NOT NULL, address TEXT NOT NULL, course TEXT NOT NULL,
                booked_at TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS history (
                resident_id TEXT NOT NULL, item_code TEXT NOT NULL, value TEXT NOT NULL,
                unit TEXT NOT NULL, date TEXT NOT NULL,
                PRIMARY KEY (resident_id, item_code, date));
             CREATE TABLE IF NOT EXISTS pre_answers (
                resident_id TEXT PRIMARY KEY, checkup TEXT NOT NULL, lang TEXT NOT NULL,
                answers TEXT NOT NULL, answered_ms INTEGER NOT NULL)",
        )?;
        // The insurer identity (JSON), added after the first rosters were written.
        let has_insurer: bool = conn.query_row(
            "SELECT count(*) FROM pragma_table_info('residents') WHERE name = 'insurer'",
            [],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !has_insurer {
            conn.execute_batch("ALTER TABLE residents ADD COLUMN insurer TEXT")?;
        }
        Ok(Roster {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Insert or replace residents in one transaction.
    pub fn upsert(&self, residents: &[Resident]) -> Result<usize, rusqlite::Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR REPLACE INTO residents (resident_id, name, name_kana, birth_date, sex,
                   address, course, booked_at, insurer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for r in residents {
                let insurer = r
                    .insurer
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                stmt.execute(params![
                    r.resident_id,
                    r.name,
                    r.name_kana,
                    r.birth_date,
                    r.sex,
                    r.address,
                    r.course,
                    r.booked_at,
                    insurer
                ])?;
            }
        }
        tx.commit()?;
        Ok(residents.len())
    }

    /// Import parsed rows: new residents are added, changed ones updated, identical ones
    /// left alone. Returns `(added, updated, unchanged)`.
    pub fn import(&self, residents: &[Resident]) -> Result<(usize, usize, usize), rusqlite::Error> {
        let (mut added, mut updated, mut unchanged) = (0, 0, 0);
        let mut changed = Vec::new();
        for r in residents {
            match self.get(&r.resident_id)? {
                None => {
                    added += 1;
                    changed.push(r.clone());
                }
                Some(existing) if existing == *r => unchanged += 1,
                Some(_) => {
                    updated += 1;
                    changed.push(r.clone());
                }
            }
        }
        self.upsert(&changed)?;
        Ok((added, updated, unchanged))
    }

    /// Every booked resident, by resident number.
    pub fn all(&self) -> Result<Vec<Resident>, rusqlite::Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT resident_id, name, name_kana, birth_date, sex, address, course, booked_at,
                    insurer
             FROM residents ORDER BY resident_id",
        )?;
        let rows = stmt.query_map([], Self::from_row)?;
        rows.collect()
    }

    /// Store earlier results (provisioned with the roster); re-import replaces the same
    /// (resident, item, date). Returns how many rows were new or changed.
    pub fn import_history(&self, rows: &[HistoryRow]) -> Result<usize, rusqlite::Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut changed = 0;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO history VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (resident_id, item_code, date) DO UPDATE SET value = excluded.value, unit = excluded.unit
                 WHERE value <> excluded.value OR unit <> excluded.unit",
            )?;
            for r in rows {
                changed +=
                    stmt.execute(params![r.resident_id, r.item_code, r.value, r.unit, r.date])?;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// The latest earlier value of each item for a resident.
    pub fn last_values(&self, resident_id: &str) -> Result<Vec<HistoryRow>, rusqlite::Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT resident_id, item_code, value, unit, MAX(date) FROM history
             WHERE resident_id = ?1 GROUP BY item_code ORDER BY item_code",
        )?;
        let rows = stmt.query_map([resident_id], |r| {
            Ok(HistoryRow {
                resident_id: r.get(0)?,
                item_code: r.get(1)?,
                value: r.get(2)?,
                unit: r.get(3)?,
                date: r.get(4)?,
            })
        })?;
        rows.collect()
    }

    /// Number of booked residents.
    pub fn count(&self) -> Result<usize, rusqlite::Error> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM residents", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
    }

    fn from_row(r: &rusqlite::Row<'_>) -> Result<Resident, rusqlite::Error> {
        Ok(Resident {
            resident_id: r.get(0)?,
            name: r.get(1)?,
            name_kana: r.get(2)?,
            birth_date: r.get(3)?,
            sex: r.get(4)?,
            address: r.get(5)?,
            course: r.get(6)?,
            booked_at: r.get(7)?,
            insurer: match r.get::<_, Option<String>>(8)? {
                None => None,
                // Written by `upsert` from a validated identity.
                Some(json) => Some(serde_json::from_str(&json).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        8,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?),
            },
        })
    }

    /// Keep pre-answers (a newer answer of a resident replaces an older one; an older or
    /// the same one changes nothing). Returns how many were new or newer.
    pub fn store_pre_answers(&self, answers: &[PreAnswer]) -> Result<usize, rusqlite::Error> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut changed = 0;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO pre_answers VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (resident_id) DO UPDATE SET checkup = excluded.checkup,
                   lang = excluded.lang, answers = excluded.answers,
                   answered_ms = excluded.answered_ms
                 WHERE excluded.answered_ms > answered_ms OR excluded.checkup > checkup",
            )?;
            for a in answers {
                let json = serde_json::to_string(&a.answers)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                changed += stmt.execute(params![
                    a.resident_id,
                    a.checkup,
                    a.lang.tag(),
                    json,
                    a.answered_ms as i64
                ])?;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// A resident's pre-answers, if they gave any.
    pub fn pre_answer(&self, resident_id: &str) -> Result<Option<PreAnswer>, rusqlite::Error> {
        use rusqlite::OptionalExtension;
        let row: Option<(String, String, String, String, i64)> = self
            .conn()
            .query_row(
                "SELECT resident_id, checkup, lang, answers, answered_ms FROM pre_answers
                 WHERE resident_id = ?1",
                [resident_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        Ok(row.and_then(|(resident_id, checkup, lang, answers, ms)| {
            Some(PreAnswer {
                resident_id,
                checkup,
                lang: checkup_protocol::questionnaire::Lang::from_tag(&lang)?,
                answered_ms: ms.max(0) as u64,
                answers: serde_json::from_str(&answers).ok()?,
            })
        }))
    }

    /// Of `ids`, the residents with pre-answers.
    pub fn pre_answered(
        &self,
        ids: &[String],
    ) -> Result<std::collections::BTreeSet<String>, rusqlite::Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT 1 FROM pre_answers WHERE resident_id = ?1")?;
        let mut out = std::collections::BTreeSet::new();
        for id in ids {
            if stmt.exists([id])? {
                out.insert(id.clone());
            }
        }
        Ok(out)
    }

    /// Every resident number of the roster.
    pub fn ids(&self) -> Result<Vec<String>, rusqlite::Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT resident_id FROM residents ORDER BY resident_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    }

    /// A resident by number.
    pub fn get(&self, resident_id: &str) -> Result<Option<Resident>, rusqlite::Error> {
        use rusqlite::OptionalExtension;
        self.conn()
            .query_row(
                "SELECT resident_id, name, name_kana, birth_date, sex, address, course, booked_at,
                        insurer
                 FROM residents WHERE resident_id = ?1",
                [resident_id],
                Self::from_row,
            )
            .optional()
    }
}
