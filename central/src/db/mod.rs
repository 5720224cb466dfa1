//! Central's storage: the events exactly once, the per-node acknowledgement heads, and the
//! derived resident record (sessions, results with their corrections), on SQLite (the
//! embedded default) or PostgreSQL (selected by the configuration), behind one [`Store`]
//! trait. Both run the one list of versioned migrations ([`migrations`]) on open and pass
//! the same tests.
//!
//! Ingest is one transaction per batch: every event is inserted idempotently by
//! `(node, seq)`; an event that repeats a stored `(node, seq)` with a different id (a node
//! that signed two events with one seq) refuses the whole batch; the head of each node — the
//! highest seq up to which every event is held — is advanced and returned.
//!
//! On PostgreSQL, `events` is partitioned by month (in Japan) and exactly-once is kept in
//! the unpartitioned `event_keys` beside it; [`partitions`] says how and what maintains
//! the partitions.

use std::collections::BTreeMap;
use std::sync::Arc;

use checkup_protocol::{Event, EventBody, InsurerIdentity};
use serde::Serialize;

pub mod migrations;
pub mod partitions;
pub mod postgres;
pub mod sqlite;

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// A node signed two different events with the same seq.
    #[error("node {node} seq {seq} is already held as another event")]
    Equivocation {
        /// Node.
        node: String,
        /// Seq.
        seq: u64,
    },
    /// The database is of a newer schema than this build.
    #[error("database schema version {0} is newer than this build knows")]
    TooNew(i64),
    /// A municipality this central was not configured for.
    #[error("municipality {0} is not configured at this central")]
    UnknownMunicipality(String),
    /// A blocking task failed.
    #[error("storage task failed: {0}")]
    Task(String),
}

/// One row of the `events` table, prepared from an accepted event.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Node.
    pub node: String,
    /// Seq.
    pub seq: i64,
    /// Event id.
    pub id: String,
    /// Venue.
    pub venue: String,
    /// Kind.
    pub kind: String,
    /// Resident the event is about, if any.
    pub resident: Option<String>,
    /// HLC.
    pub hlc_ms: i64,
    /// HLC counter.
    pub hlc_c: i32,
    /// The signed event, as JSON.
    pub json: String,
    /// Derived rows.
    pub derived: Derived,
}

/// What an event adds to the resident record.
#[derive(Debug, Clone)]
pub enum Derived {
    /// Nothing.
    None,
    /// A checkup session opened.
    Session {
        /// Session id.
        session_id: String,
        /// Resident.
        resident_id: String,
        /// Day (JST) of the checkup.
        day: String,
        /// Who insured the resident at check-in, as the box's roster said (the venue is the
        /// event's).
        insurer: Option<Box<InsurerIdentity>>,
    },
    /// A result recorded or corrected.
    Result(Box<ResultRow>),
    /// A police notice saved as a child case (the child-welfare intake queue).
    Notice(Box<NoticeRow>),
}

/// A child case in central's intake queue (child-welfare compartment).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NoticeRow {
    /// Case id.
    pub case_id: String,
    /// The saving event.
    pub event_id: String,
    /// Venue or office.
    pub venue: String,
    /// Box that saved it.
    pub node: String,
    /// Clerk who saved it.
    pub staff_id: String,
    /// When it was saved (HLC milliseconds).
    pub saved_ms: i64,
    /// Child's name.
    pub child_name: String,
    /// Child's birth date.
    pub child_birth_date: String,
    /// Abuse type.
    pub abuse_type: String,
    /// Matched resident, if any.
    pub resident_id: Option<String>,
    /// The whole reviewed notice (fields, source), as JSON.
    pub notice: String,
}

/// A result as central keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    /// The recording event.
    pub event_id: String,
    /// Resident.
    pub resident_id: String,
    /// Session.
    pub session_id: String,
    /// Venue.
    pub venue: String,
    /// Day (JST), `YYYY-MM-DD`.
    pub day: String,
    /// Item code.
    pub item_code: String,
    /// Value as text (numbers in their JSON form).
    pub value: String,
    /// Unit.
    pub unit: String,
    /// HLC of the recording.
    pub hlc_ms: i64,
    /// HLC counter.
    pub hlc_c: i32,
    /// The event it corrects, for corrections.
    pub corrects: Option<String>,
    /// Why, for corrections.
    pub reason: Option<String>,
    /// Who recorded it.
    pub staff_id: String,
}

/// The day (in Japan) of an HLC timestamp.
pub fn jst_day(ms: u64) -> String {
    let secs = (ms / 1000) as i64 + 9 * 3600;
    let days = secs.div_euclid(86_400);
    time::Date::from_julian_day(2_440_588 + days as i32)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "0000-01-01".into())
}

/// The result row of a recording or a correction: (session, resident, item, value, unit)
/// and, for a correction, what it corrects and why.
fn result(
    e: &Event,
    day: String,
    (session, resident, item, value, unit): (
        &uuid::Uuid,
        &str,
        &str,
        &checkup_protocol::MeasuredValue,
        &str,
    ),
    correction: Option<(String, String)>,
) -> Derived {
    let (corrects, reason) = correction.unzip();
    Derived::Result(Box::new(ResultRow {
        event_id: e.id.to_string(),
        resident_id: resident.to_owned(),
        session_id: session.to_string(),
        venue: e.venue.clone(),
        day,
        item_code: item.to_owned(),
        value: match value {
            checkup_protocol::MeasuredValue::Number(n) => n.to_string(),
            checkup_protocol::MeasuredValue::Text(t) => t.clone(),
        },
        unit: unit.to_owned(),
        hlc_ms: e.hlc.ms as i64,
        hlc_c: e.hlc.c as i32,
        corrects,
        reason,
        staff_id: e.actor.staff_id.clone(),
    }))
}

impl EventRow {
    /// Prepare the rows of an accepted event, storing the JSON the box sent.
    pub fn from_accepted(a: checkup_protocol::Accepted) -> EventRow {
        let e = &a.event;
        let day = jst_day(e.hlc.ms);
        let (resident, derived) = match &e.body {
            EventBody::SessionOpened(p) => (
                Some(p.resident_id.clone()),
                Derived::Session {
                    session_id: p.session_id.to_string(),
                    resident_id: p.resident_id.clone(),
                    day,
                    insurer: p.insurer.clone().map(Box::new),
                },
            ),
            EventBody::MeasurementRecorded(p) => (
                Some(p.resident_id.clone()),
                result(
                    e,
                    day,
                    (
                        &p.session_id,
                        &p.resident_id,
                        &p.item_code,
                        &p.value,
                        &p.unit,
                    ),
                    None,
                ),
            ),
            EventBody::MeasurementCorrected(p) => (
                Some(p.resident_id.clone()),
                result(
                    e,
                    day,
                    (
                        &p.session_id,
                        &p.resident_id,
                        &p.item_code,
                        &p.value,
                        &p.unit,
                    ),
                    Some((p.corrects.to_string(), p.reason.clone())),
                ),
            ),
            EventBody::StationVisited(p) => (Some(p.resident_id.clone()), Derived::None),
            // The record of a paper page read at the venue (its answers are results of
            // their own): kept with the resident's events, nothing derived.
            EventBody::QuestionnairePaperRead(p) => (Some(p.resident_id.clone()), Derived::None),
            // Not part of the health record: `resident` stays empty.
            EventBody::NoticeIntakeSaved(p) => (
                None,
                Derived::Notice(Box::new(NoticeRow {
                    case_id: p.case_id.to_string(),
                    event_id: e.id.to_string(),
                    venue: e.venue.clone(),
                    node: e.node.clone(),
                    staff_id: e.actor.staff_id.clone(),
                    saved_ms: e.hlc.ms as i64,
                    child_name: p.value("child_name").to_owned(),
                    child_birth_date: p.value("child_birth_date").to_owned(),
                    abuse_type: p.value("abuse_type").to_owned(),
                    resident_id: p.resident_id.clone(),
                    notice: serde_json::to_string(p).unwrap_or_default(),
                })),
            ),
            // Kept as events only: a child-case view joins no health record and no intake row.
            // A case photo is kept as its event (the case's intake row names the case).
            EventBody::RecordViewed(_)
            | EventBody::CaseViewed(_)
            | EventBody::CasePhotoAdded(_)
            | EventBody::SessionClosed(_) => (None, Derived::None),
        };
        EventRow {
            node: e.node.clone(),
            seq: e.seq as i64,
            id: e.id.to_string(),
            venue: e.venue.clone(),
            kind: e.body.kind().as_str().to_owned(),
            resident,
            hlc_ms: e.hlc.ms as i64,
            hlc_c: e.hlc.c as i32,
            json: a.json,
            derived,
        }
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ingested {
    /// Events newly stored.
    pub new: usize,
    /// Events already held (replays, overlaps).
    pub duplicate: usize,
    /// Per node of the batch: the highest seq up to which central holds every event.
    pub acked: BTreeMap<String, u64>,
}

/// A resident of the register.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Resident {
    /// Resident id.
    pub resident_id: String,
    /// Name.
    pub name: String,
    /// Name in kana.
    pub name_kana: String,
    /// Birth date `YYYY-MM-DD`.
    pub birth_date: String,
    /// Sex.
    pub sex: String,
    /// Address.
    pub address: String,
    /// 郵便番号 `NNN-NNNN`, or empty (an optional register column, `postal_code` or
    /// `郵便番号`): written in 特定健診 documents, and required by their claims.
    #[serde(default, alias = "郵便番号")]
    pub postal_code: String,
    /// 地区 (an optional register column, `district` or `地区`): whose nurses read the
    /// record within their duties ([`crate::access`]).
    #[serde(default, alias = "地区")]
    pub district: String,
}

/// A 郵便番号 as the standard writes it (`NNN-NNNN`), from how registers write it: with or
/// without the hyphen or a leading 〒, in full-width digits. Empty stays empty; anything
/// else is `None` (the row is refused).
pub fn normalize_postal_code(s: &str) -> Option<String> {
    let s = s.trim().trim_start_matches('〒').trim();
    if s.is_empty() {
        return Some(String::new());
    }
    let mut digits = String::with_capacity(7);
    for (i, c) in s.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            // One hyphen (of the kinds registers use) after the third digit.
            '-' | '－' | '‐' | 'ー' if i == 3 && digits.len() == 3 => {}
            _ => return None,
        }
    }
    (digits.len() == 7).then(|| format!("{}-{}", &digits[..3], &digits[3..]))
}

#[cfg(test)]
mod postal_tests {
    use super::normalize_postal_code as n;

    #[test]
    fn postal_codes_are_written_as_the_standard_writes_them() {
        assert_eq!(n("123-4567").as_deref(), Some("123-4567"));
        assert_eq!(n("1234567").as_deref(), Some("123-4567"));
        assert_eq!(n("〒１２３－４５６７").as_deref(), Some("123-4567"));
        assert_eq!(n(" ").as_deref(), Some(""));
        for bad in [
            "123-456",
            "12345678",
            "12-34567",
            "abc-defg",
            "123--4567",
            "123-4567X",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }
}

/// A checkup (a session) of an insured resident: what an insurer's archive is built from.
/// One per session whose check-in carried an insurer identity; sessions checked in without
/// one (a roster without the insurer columns, an older box) have none.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InsuredCheckup {
    /// The session (checkup) id.
    pub session_id: String,
    /// Resident number (宛名番号).
    pub resident_id: String,
    /// Day (JST) of the checkup, `YYYY-MM-DD`.
    pub day: String,
    /// Venue the resident was checked in at.
    pub venue: String,
    /// Who insured the resident, as the box's roster said at check-in.
    pub insurer: InsurerIdentity,
}

/// An insurer and how many checkups of its insured a period holds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct InsurerCount {
    /// 保険者番号 (6 or 8 digits).
    pub insurer_number: String,
    /// Checkups (sessions) in the period.
    pub checkups: u64,
}

/// One result of an imported checkup, as the standard document gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImportedItem {
    /// The 17-digit item code.
    pub item_code: String,
    /// The value as the document wrote it: a number, a code of the item's result code
    /// system, or a text; empty for 未実施 and 測定不可.
    pub value: String,
    /// `quantity`, `coded`, `text`, `not_done` (未実施) or `unmeasurable` (測定不可).
    pub kind: String,
    /// The unit (the box's spelling for the items a box records, else the standard's UCUM).
    pub unit: String,
    /// The item's Japanese name in the standard's item table.
    pub name_ja: String,
}

/// A checkup imported from another municipality's central (a resident who moved in), as
/// one standard document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedCheckup {
    /// The local resident it was imported for.
    pub resident_id: String,
    /// SHA-256 (hex) of the document's content (origin, examinee, date, results): the same
    /// checkup imported again is the same row.
    pub content_sha256: String,
    /// 健診実施日, `YYYY-MM-DD`.
    pub checkup_date: String,
    /// 機関番号 of the institution that wrote the document (the sending central).
    pub origin_number: String,
    /// Its name (e.g. 「E市保健センター」).
    pub origin_name: String,
    /// When the document was written, `YYYY-MM-DD`.
    pub document_created: String,
    /// When it was imported here (Unix ms).
    pub imported_ms: i64,
    /// Who imported it (staff id, or `cli`).
    pub imported_by: String,
    /// The DATA file's name in the archive.
    pub source_file: String,
    /// The results, as JSON (a list of [`ImportedItem`]).
    pub items: String,
    /// The document as received (XML).
    pub document: String,
}

impl ImportedCheckup {
    /// The results.
    pub fn items(&self) -> Vec<ImportedItem> {
        serde_json::from_str(&self.items).unwrap_or_default()
    }
}

/// One line of the export for the municipal health management system.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExportRow {
    /// Resident id.
    pub resident_id: String,
    /// Item code (JLAC/特定健診 17 digits).
    pub item_code: String,
    /// Current value (after corrections).
    pub value: String,
    /// Unit.
    pub unit: String,
    /// Checkup day.
    pub date: String,
    /// Venue.
    pub venue: String,
}

/// The current value of each (session, item): the entry with the latest HLC.
pub fn current_results(rows: &[ResultRow]) -> Vec<&ResultRow> {
    let mut latest: BTreeMap<(&str, &str), &ResultRow> = BTreeMap::new();
    for r in rows {
        let k = (r.session_id.as_str(), r.item_code.as_str());
        let newer = latest
            .get(&k)
            .is_none_or(|o| (o.hlc_ms, o.hlc_c, &o.event_id) < (r.hlc_ms, r.hlc_c, &r.event_id));
        if newer {
            latest.insert(k, r);
        }
    }
    latest.into_values().collect()
}

/// A one-time questionnaire link as central holds it (the token itself is never stored,
/// only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Resident.
    pub resident_id: String,
    /// Checkup (fiscal year).
    pub checkup: String,
    /// Issued (Unix ms).
    pub created_ms: i64,
    /// Answered (Unix ms), once.
    pub used_ms: Option<i64>,
    /// Revoked by a newer link for the same resident and checkup (Unix ms).
    pub revoked_ms: Option<i64>,
}

/// What a submission through a link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    /// Stored; the link is now used.
    Stored,
    /// The link was used already, by these same answers in this same language: a resend
    /// after the first answer's response was lost. Nothing changes; the sender is told it is
    /// stored.
    AlreadyStored,
    /// The link was used already, by other answers: nothing stored.
    Used,
    /// No such link, or revoked: nothing stored.
    Invalid,
}

/// An entry of the audit trail about a person's data, as written: who, what, about whom,
/// why, and whether the read is flagged for a section chief.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessEntry {
    /// Staff id (or box).
    pub staff_id: String,
    /// What was done (`record`, `case`, `flag`, …).
    pub action: String,
    /// To what, as text.
    pub subject: String,
    /// The resident the entry is about, for their access report.
    pub resident_id: Option<String>,
    /// The stated purpose.
    pub purpose: Option<String>,
    /// The department whose section chief reviews this read (a read outside the reader's
    /// duties).
    pub flagged_for: Option<String>,
}

/// An audit entry as read back for an access report or a section chief's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    /// Position in the trail.
    pub id: i64,
    /// When (Unix milliseconds).
    pub at_ms: i64,
    /// Who.
    pub staff_id: String,
    /// What.
    pub action: String,
    /// To what.
    pub subject: String,
    /// About whom.
    pub resident_id: Option<String>,
    /// Why, as stated.
    pub purpose: Option<String>,
    /// Flagged for this department's section chief.
    pub flagged_for: Option<String>,
}

/// A high-risk flag a nurse raised for the child-welfare side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RiskFlag {
    /// Flag id (UUID v7).
    pub flag_id: String,
    /// The resident flagged.
    pub resident_id: String,
    /// `specified_pregnancy` (特定妊婦), `missed_checkups` (乳幼児健診未受診) or `other`.
    pub kind: String,
    /// What the nurse saw.
    pub note: String,
    /// Who raised it.
    pub raised_by: String,
    /// When (Unix milliseconds).
    pub raised_ms: i64,
}

/// A person on a child case: the child or a guardian (or a sibling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CaseMember {
    /// Case id.
    pub case_id: String,
    /// The resident.
    pub resident_id: String,
    /// `child`, `guardian` or `sibling`.
    pub relation: String,
    /// Who named them.
    pub added_by: String,
    /// When (Unix milliseconds).
    pub added_ms: i64,
}

/// A photo of a child case as central holds it: its `case_photo_added` event (the JPEG
/// stays in the event as the box signed it), described without reading the JPEG out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CasePhotoRow {
    /// Photo id.
    pub photo_id: String,
    /// The case.
    pub case_id: String,
    /// The event that holds it.
    pub event_id: String,
    /// The box it was taken on.
    pub node: String,
    /// The caseworker who took it (the event's actor).
    pub taken_by: String,
    /// When it was attached (HLC milliseconds).
    pub taken_ms: i64,
    /// Pixels.
    pub width: i64,
    /// Pixels.
    pub height: i64,
    /// The JPEG's size in bytes.
    pub bytes: i64,
    /// Caption.
    pub note: Option<String>,
}

/// The decoded size of standard base64 of `len` characters ending in `padding` `=`s.
pub(crate) fn base64_decoded_len(len: i64, padding: i64) -> i64 {
    (len / 4 * 3 - padding).max(0)
}

/// Central's storage, on either database: what the HTTP handlers, the audit verifier and
/// the tests use, through an `Arc<dyn Store>` ([`open`]).
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Store an accepted batch (all or nothing) and return the heads of its nodes.
    async fn ingest(&self, rows: Vec<EventRow>) -> Result<Ingested, DbError>;

    /// Events held.
    async fn event_count(&self) -> Result<u64, DbError>;

    /// Per node, the highest seq up to which every event is held.
    async fn heads(&self) -> Result<BTreeMap<String, u64>, DbError>;

    /// Add or update residents of the register.
    async fn upsert_residents(&self, rows: Vec<Resident>) -> Result<usize, DbError>;

    /// Residents whose id, name or kana contains `q` (and born on `birth`, if given).
    async fn search(&self, q: &str, birth: Option<&str>) -> Result<Vec<Resident>, DbError>;

    /// The register entry of exactly `resident_id` (by its key, not a search: an export
    /// looks up every examinee).
    async fn resident(&self, resident_id: &str) -> Result<Option<Resident>, DbError>;

    /// Every result of a resident, in HLC order.
    async fn results_of(&self, resident_id: &str) -> Result<Vec<ResultRow>, DbError>;

    /// Every result recorded on days `from..=to`, in HLC order.
    async fn results_between(&self, from: &str, to: &str) -> Result<Vec<ResultRow>, DbError>;

    /// The checkups of days `from..=to` (JST, `YYYY-MM-DD`, both included) whose resident
    /// was insured by `insurer_number` at check-in, by day, resident and session: the
    /// residents an insurer's 特定健診 archive holds.
    async fn checkups_of_insurer(
        &self,
        insurer_number: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<InsuredCheckup>, DbError>;

    /// The insurers whose insured residents had checkups on days `from..=to` (JST,
    /// `YYYY-MM-DD`, both included), each with how many checkups, by insurer number: what
    /// an archive can be made for.
    async fn insurers_between(&self, from: &str, to: &str) -> Result<Vec<InsurerCount>, DbError>;

    /// The insurer identity of one checkup (`None`: no such session, or it was checked in
    /// without one).
    async fn checkup_insurer(&self, session_id: &str) -> Result<Option<InsuredCheckup>, DbError>;

    /// Child cases of the intake queue, newest first (only `case_id`, when given).
    async fn notices(&self, case_id: Option<&str>, limit: usize)
    -> Result<Vec<NoticeRow>, DbError>;

    /// One child case.
    async fn notice(&self, case_id: &str) -> Result<Option<NoticeRow>, DbError> {
        Ok(self.notices(Some(case_id), 1).await?.into_iter().next())
    }

    /// The photos of a case (its `case_photo_added` events), oldest first.
    async fn case_photos(&self, case_id: &str) -> Result<Vec<CasePhotoRow>, DbError>;

    /// The signed event (JSON) holding photo `photo_id` of case `case_id`.
    async fn case_photo_event(
        &self,
        case_id: &str,
        photo_id: &str,
    ) -> Result<Option<String>, DbError>;

    /// Record an access to personal data in the hash-chained audit trail.
    async fn audit(&self, staff: &str, action: &str, subject: &str) -> Result<(), DbError> {
        self.record_access(AccessEntry {
            staff_id: staff.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            ..AccessEntry::default()
        })
        .await
    }

    /// Record an access with its resident, purpose and flag in the audit trail.
    async fn record_access(&self, entry: AccessEntry) -> Result<(), DbError>;

    /// The store as one municipality's staff and boxes use it: on PostgreSQL every query
    /// runs as that municipality's database role, so row-level security shows and accepts
    /// only its rows; on SQLite (one municipality) the store itself. A municipality not
    /// prepared by [`Store::prepare_municipalities`] is refused.
    fn scoped(&self, municipality: &str) -> Result<Arc<dyn Store>, DbError>;

    /// Make each municipality's database role ready (PostgreSQL: created, granted the
    /// municipal tables, mapped to its code; rows of a single-municipality database from
    /// before migration 10 are given to `default`). SQLite: nothing.
    async fn prepare_municipalities(
        &self,
        municipalities: &[String],
        default: Option<&str>,
    ) -> Result<(), DbError>;

    /// The audit entries about a resident, oldest first: their access report (開示請求).
    async fn access_report(&self, resident_id: &str) -> Result<Vec<AuditRow>, DbError>;

    /// The reads flagged for `department`'s section chief, newest first.
    async fn flagged_reads(&self, department: &str, limit: usize)
    -> Result<Vec<AuditRow>, DbError>;

    /// Assign a caseworker to a case (again: nothing changes).
    async fn assign_case(&self, case_id: &str, staff_id: &str, by: &str) -> Result<(), DbError>;

    /// Name a child or guardian on a case (again: the relation is updated).
    async fn add_case_member(&self, member: CaseMember) -> Result<(), DbError>;

    /// The caseworkers and the people of a case.
    async fn case_people(&self, case_id: &str) -> Result<(Vec<String>, Vec<CaseMember>), DbError>;

    /// Whether `resident_id` is the child (the notice's matched resident) or a named person
    /// of a case assigned to `staff_id`.
    async fn on_cases_of(&self, staff_id: &str, resident_id: &str) -> Result<bool, DbError>;

    /// Store a high-risk flag.
    async fn raise_flag(&self, flag: RiskFlag) -> Result<(), DbError>;

    /// High-risk flags raised after `after_ms`, oldest first (at most `limit`).
    async fn risk_flags(&self, after_ms: i64, limit: usize) -> Result<Vec<RiskFlag>, DbError>;

    /// The audit trail, its head and every event, for `checkup-central audit verify`.
    async fn audit_snapshot(&self) -> Result<crate::audit::Snapshot, DbError>;

    /// Store a new questionnaire link (by the SHA-256 of its token), revoking every earlier
    /// unrevoked link of the same resident and checkup, in one transaction.
    async fn issue_invitation(
        &self,
        token_sha256: &str,
        resident_id: &str,
        checkup: &str,
        created_ms: i64,
    ) -> Result<(), DbError>;

    /// The link of a token's SHA-256.
    async fn invitation(&self, token_sha256: &str) -> Result<Option<Invitation>, DbError>;

    /// Store a resident's answers through a link, once: the link is marked used and the
    /// answers stored (replacing any of an earlier, revoked link) in one transaction.
    async fn submit_answers(
        &self,
        token_sha256: &str,
        answer: checkup_protocol::central::PreAnswer,
    ) -> Result<Submission, DbError>;

    /// Store imported checkups in one transaction; a row whose (resident, content) is held
    /// already is left as it is. Returns how many were new.
    async fn store_imported(&self, rows: Vec<ImportedCheckup>) -> Result<usize, DbError>;

    /// The imported checkups of a resident, by checkup date.
    async fn imported_of(&self, resident_id: &str) -> Result<Vec<ImportedCheckup>, DbError>;

    /// The pre-answers of `checkup`, of the residents named (all of them for `None`).
    async fn pre_answers(
        &self,
        checkup: &str,
        resident_ids: Option<Vec<String>>,
    ) -> Result<Vec<checkup_protocol::central::PreAnswer>, DbError>;

    /// Store a new staff session by the SHA-256 of its cookie token (never the token), seen
    /// now; sessions idle for `idle` or longer are deleted on the way. Times are the
    /// database's clock, so central processes on several hosts agree on them.
    async fn create_staff_session(
        &self,
        token_sha256: &str,
        staff_id: &str,
        idle: std::time::Duration,
    ) -> Result<(), DbError>;

    /// The staff id of a session last seen less than `idle` ago; `None` for an unknown or
    /// idle-expired one (which is deleted). The session is marked seen now only when its
    /// mark is `touch_every` old or older, so a burst of requests costs reads, not a write
    /// each.
    async fn touch_staff_session(
        &self,
        token_sha256: &str,
        idle: std::time::Duration,
        touch_every: std::time::Duration,
    ) -> Result<Option<String>, DbError>;

    /// End a session (sign-out); whether there was one.
    async fn delete_staff_session(&self, token_sha256: &str) -> Result<bool, DbError>;
}

/// What [`Store::touch_staff_session`] makes of a held session's `(now, last_seen)` (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionAge {
    /// Idle too long: delete it, sign in again.
    Expired,
    /// Fresh, but its mark is old: mark it seen now.
    Touch,
    /// Fresh and marked recently: nothing to write.
    Fresh,
}

impl SessionAge {
    /// The age of a session last seen at `last_ms` at `now_ms`.
    pub(crate) fn of(
        now_ms: i64,
        last_ms: i64,
        idle: std::time::Duration,
        touch_every: std::time::Duration,
    ) -> SessionAge {
        let age = now_ms.saturating_sub(last_ms);
        if age >= ms(idle) {
            SessionAge::Expired
        } else if age >= ms(touch_every) {
            SessionAge::Touch
        } else {
            SessionAge::Fresh
        }
    }
}

/// A duration in whole milliseconds, as the session columns hold them.
pub(crate) fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An entry with its texts as the trail keeps them ([`crate::audit::printable`]).
pub(crate) fn printable_entry(e: AccessEntry) -> AccessEntry {
    let p = |s: Option<String>| s.map(|s| crate::audit::printable(&s));
    AccessEntry {
        staff_id: crate::audit::printable(&e.staff_id),
        action: e.action,
        subject: crate::audit::printable(&e.subject),
        resident_id: p(e.resident_id),
        purpose: p(e.purpose),
        flagged_for: e.flagged_for,
    }
}

/// The chained part of an entry about a person's data.
pub(crate) fn access_of(e: &AccessEntry) -> crate::audit::Access {
    crate::audit::Access {
        resident_id: e.resident_id.clone(),
        purpose: e.purpose.clone(),
        flagged_for: e.flagged_for.clone(),
    }
}

/// A stored pre-answer row as read back: (resident, checkup, lang, answers JSON, ms).
pub(crate) fn pre_answer_of(
    resident_id: String,
    checkup: String,
    lang: &str,
    answers: &str,
    answered_ms: i64,
) -> Option<checkup_protocol::central::PreAnswer> {
    let lang = checkup_protocol::questionnaire::Lang::from_tag(lang)?;
    let answers = serde_json::from_str(answers).ok()?;
    Some(checkup_protocol::central::PreAnswer {
        resident_id,
        checkup,
        lang,
        answered_ms: answered_ms.max(0) as u64,
        answers,
    })
}

/// Open the database the configuration names (`sqlite`: `central.sqlite3` in the data
/// directory; otherwise a PostgreSQL URL, with its hot standby for the record reads if
/// `database_standby` names one) and run pending migrations.
pub async fn open(config: &crate::config::Config) -> Result<Arc<dyn Store>, DbError> {
    if config.database == "sqlite" {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| DbError::Task(format!("data dir: {e}")))?;
        let path = config.data_dir.join("central.sqlite3");
        Ok(Arc::new(sqlite::Sqlite::open(&path)?))
    } else {
        Ok(Arc::new(
            postgres::Postgres::open_with_standby(
                &config.database,
                config.database_standby.as_deref(),
            )
            .await?,
        ))
    }
}

/// Open the database as one municipality's staff use it (the command line's exports and
/// imports): `municipality`, else the configuration's own; with several municipalities and
/// none named, an error that says so.
pub async fn open_as(
    config: &crate::config::Config,
    municipality: Option<&str>,
) -> Result<Arc<dyn Store>, DbError> {
    let m = municipality
        .map(str::to_owned)
        .or_else(|| config.default_municipality())
        .ok_or_else(|| {
            DbError::Task(
                "複数の自治体を扱う central です。設定の municipality で自治体を指定してください / \
                 several municipalities: name one as the configuration's `municipality`"
                    .into(),
            )
        })?;
    let all: Vec<String> = config.municipalities().into_iter().collect();
    if !all.contains(&m) {
        return Err(DbError::UnknownMunicipality(m));
    }
    let db = open(config).await?;
    db.prepare_municipalities(&all, config.default_municipality().as_deref())
        .await?;
    db.scoped(&m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_japanese_days() {
        // 2026-11-24T15:00:00Z is 2026-11-25 00:00 in Japan.
        assert_eq!(jst_day(1_795_532_400_000), "2026-11-25");
        assert_eq!(jst_day(1_795_532_399_000), "2026-11-24");
        assert_eq!(jst_day(0), "1970-01-01");
    }
}
