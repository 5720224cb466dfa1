//! A record that moves with the resident: one resident's every checkup at this central
//! written as standard hc08 documents, and such documents imported at another
//! municipality's central for the resident's new local number.
//!
//! **What travels.** The standard archive itself (see [`super::archive`]):
//! `{sender}_{receiver}_{YYYYMMDD}{n}_1.zip` with `ix08_V08.xml`, one `DATA/h….xml` per
//! checkup (oldest first) and `XSD/`. The receiver is the insurer of the resident's latest
//! checkup. No manifest of our own: where the record comes from is each document's author
//! organization (機関番号 and name, the sending central's `[tokutei]` sender), so an
//! archive from any system that speaks the standard imports the same way. The mapping from
//! central's rows to documents is [`super::export::examinee`], the same as the insurer's
//! archive; every document and the index are validated against MHLW's XSDs before the zip
//! is written, all or nothing. No item is required (a checkup moves as it was recorded:
//! [`BusinessRules::record_transfer`]); a checkup that cannot be a document (no insurer
//! identity at check-in, a value the standard has no code for) refuses the export, every
//! such failure listed.
//!
//! **Import.** The importer names the local resident (numbers differ between
//! municipalities). The upload is refused whole, with nothing stored, when it is not a
//! zip, not an archive, when the index or any document fails the XSDs or cannot be read,
//! or when any document's birth date, sex or kana name disagrees with the local register
//! entry, or it was written by this central itself (its checkups are in the record). Each
//! document becomes one row of `imported_checkups`, keyed by the local resident and the
//! SHA-256 of its content (origin, examinee, date, results — not the creation date), so
//! the same checkups imported again, even from a later export, store nothing new.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::Date;

use super::archive::{ArchiveSpec, ExportError, INDEX_FILE, Receiver, write_archive};
use super::export::{self, RunError, Settings};
use super::items::{ItemTable, ItemTableError};
use super::model::{Examinee, ObsValue, Sender, Sex};
use super::parse::{ParseError, archive_files, parse_document};
use super::validate::{BusinessRules, Failure, XsdError, XsdValidator};
use crate::config::TokuteiConfig;
use crate::db::{DbError, ImportedCheckup, ImportedItem, Resident, ResultRow, Store};

/// The settings of a record's export and import from `[tokutei]` (with an XSD directory
/// given on the command line taking precedence). The item table defaults to
/// `items-hc24.csv` beside the XSD directory.
pub fn settings(t: &TokuteiConfig, xsd_dir: Option<PathBuf>) -> Result<Settings, SettingsError> {
    let xsd_dir = xsd_dir
        .or_else(|| t.xsd_dir.clone())
        .ok_or(SettingsError::NoXsdDir)?;
    let items = t
        .item_table
        .clone()
        .unwrap_or_else(|| xsd_dir.join("..").join("items-hc24.csv"));
    let table = ItemTable::load(&items).map_err(|e| SettingsError::Items(items.clone(), e))?;
    Ok(Settings {
        sender: Sender {
            institution_number: t.institution_number.clone().unwrap_or_default(),
            name: t
                .institution_name
                .clone()
                .unwrap_or_else(|| "健診機関".to_owned()),
            telephone: t.telephone.clone(),
            postal_code: t.postal_code.clone(),
            address: t.address.clone(),
        },
        table,
        xsd_dir,
        doctors: t.doctors.clone(),
        // A record moving with a resident carries results, never a bill.
        claims: None,
    })
}

/// Why the 特定健診 settings are not usable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// No XSD directory.
    #[error(
        "MHLWのXMLスキーマの場所が設定されていません（[tokutei] xsd_dir） / no MHLW schema directory configured ([tokutei] xsd_dir)"
    )]
    NoXsdDir,
    /// The item table did not load.
    #[error("項目表 {0} を読めません / the item table {0} does not load: {1}")]
    Items(PathBuf, ItemTableError),
}

/// What a record export did.
#[derive(Debug)]
pub enum RecordExport {
    /// Written: the zip and how many checkups it holds.
    Written(PathBuf, usize),
    /// Some checkups cannot be documents: every failure; nothing written.
    Refused(Vec<Failure>),
}

/// Why a record export could not run.
#[derive(Debug, thiserror::Error)]
pub enum RecordExportError {
    /// No such resident in the register.
    #[error("住民 {0} は住民台帳にいません / resident {0} is not in the register")]
    NoResident(String),
    /// The resident has no checkup here.
    #[error("住民 {0} の健診記録はありません / resident {0} has no checkup here")]
    NoCheckups(String),
    /// The export could not run (database, settings, schemas, files).
    #[error(transparent)]
    Run(#[from] RunError),
}

impl From<DbError> for RecordExportError {
    fn from(e: DbError) -> Self {
        RecordExportError::Run(RunError::Db(e))
    }
}

impl From<ExportError> for RecordExportError {
    fn from(e: ExportError) -> Self {
        RecordExportError::Run(RunError::Archive(e))
    }
}

async fn register_entry(db: &dyn Store, id: &str) -> Result<Option<Resident>, DbError> {
    db.resident(id).await
}

/// The resident's checkups as examinees (oldest first), or every failure.
pub async fn examinees(
    db: &dyn Store,
    settings: &Settings,
    resident_id: &str,
) -> Result<Result<Vec<Examinee>, Vec<Failure>>, RecordExportError> {
    let resident = register_entry(db, resident_id)
        .await?
        .ok_or_else(|| RecordExportError::NoResident(resident_id.to_owned()))?;
    let mut by_session: std::collections::BTreeMap<String, Vec<ResultRow>> = Default::default();
    for r in db.results_of(resident_id).await? {
        by_session.entry(r.session_id.clone()).or_default().push(r);
    }
    if by_session.is_empty() {
        return Err(RecordExportError::NoCheckups(resident_id.to_owned()));
    }
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for (session, rows) in &by_session {
        let Some(checkup) = db.checkup_insurer(session).await? else {
            let day = rows.first().map_or("", |r| r.day.as_str());
            failures.push(Failure {
                resident_id: resident_id.to_owned(),
                item_code: None,
                item_name_ja: "保険者番号".into(),
                message_ja: format!(
                    "{day}の健診は受付で保険者情報が読み込まれていないため、標準様式の文書にできません"
                ),
            });
            continue;
        };
        match export::examinee(
            &settings.table,
            &checkup,
            &resident,
            rows,
            &settings.doctors,
        ) {
            Ok(e) => out.push(e),
            Err(f) => failures.extend(f),
        }
    }
    if !failures.is_empty() {
        return Ok(Err(failures));
    }
    out.sort_by_key(|e| e.checkup_date);
    Ok(Ok(out))
}

/// Write one resident's every checkup as a standard archive into `out_dir` (the first
/// same-day count not yet used), every file validated against the XSDs first.
pub async fn export_record(
    db: &dyn Store,
    settings: &Settings,
    resident_id: &str,
    created: Date,
    out_dir: &Path,
) -> Result<RecordExport, RecordExportError> {
    let examinees = match examinees(db, settings, resident_id).await? {
        Ok(e) => e,
        Err(f) => return Ok(RecordExport::Refused(f)),
    };
    let Some(latest) = examinees.last() else {
        return Err(RecordExportError::NoCheckups(resident_id.to_owned()));
    };
    let receiver = Receiver::Insurer(latest.insurer.insurer_number.clone());
    let mut spec = ArchiveSpec::new(settings.sender.clone(), receiver, created);
    let rules = BusinessRules::record_transfer();
    loop {
        match write_archive(
            &spec,
            &examinees,
            &settings.table,
            &rules,
            &settings.xsd_dir,
            out_dir,
        ) {
            Ok(w) => return Ok(RecordExport::Written(w.path, examinees.len())),
            Err(ExportError::Refused(f)) => return Ok(RecordExport::Refused(f)),
            Err(ExportError::Exists(p)) if spec.same_day_count < 9 => {
                tracing::debug!(path = %p.display(), "archive of this count exists; next count");
                spec.same_day_count += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// What kind of problem refused an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A file failed MHLW's XSDs.
    Schema,
    /// A valid file the reader cannot take (an item not in the table, a wrong type).
    Unreadable,
    /// The document's birth date or sex is not the local resident's.
    Mismatch,
}

/// One reason an import is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    /// Its kind.
    pub kind: ProblemKind,
    /// The file in the archive (empty for the archive as a whole).
    pub file: String,
    /// What is wrong, in Japanese.
    pub ja: String,
    /// The same in English.
    pub en: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}: ", self.file)?;
        }
        write!(f, "{} / {}", self.ja, self.en)
    }
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The upload is not a zip.
    #[error("zipファイルではありません / not a zip file: {0}")]
    NotZip(String),
    /// A zip, but not a 特定健診 archive (no root folder, no DATA files, too large).
    #[error("特定健診の標準様式のアーカイブではありません / not a 特定健診 archive: {0}")]
    NotArchive(String),
    /// The local resident is not in the register.
    #[error("住民 {0} は住民台帳にいません / resident {0} is not in the register")]
    NoResident(String),
    /// The register entry's birth date or sex cannot be read, so nothing can be compared.
    #[error("住民台帳の {0} が読めません / the register's {0} cannot be read")]
    Register(String),
    /// Documents failed: schema, reading, or the resident's birth date or sex.
    #[error(
        "取り込みませんでした（{} 件の問題） / nothing imported ({} problem(s)): {}",
        .0.len(), .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Refused(Vec<ImportProblem>),
    /// The schemas could not be loaded.
    #[error(transparent)]
    Xsd(#[from] XsdError),
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ImportError {
    /// A short code for the HTTP answer.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::NotZip(_) => "not_a_zip",
            ImportError::NotArchive(_) => "not_an_archive",
            ImportError::NoResident(_) => "no_such_resident",
            ImportError::Register(_) => "register_unreadable",
            ImportError::Refused(p) => {
                let any = |k: ProblemKind| p.iter().any(|p| p.kind == k);
                if any(ProblemKind::Mismatch) {
                    "resident_mismatch"
                } else if any(ProblemKind::Schema) {
                    "schema_invalid"
                } else {
                    "unreadable_document"
                }
            }
            ImportError::Xsd(_) => "schemas_unavailable",
            ImportError::Db(_) => "storage_unavailable",
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Documents in the archive.
    pub documents: usize,
    /// Newly stored.
    pub new: usize,
    /// Held already (imported before).
    pub held: usize,
}

fn kind_and_value(v: &ObsValue) -> (&'static str, &str) {
    match v {
        ObsValue::Quantity(q) => ("quantity", q),
        ObsValue::Coded(c) => ("coded", c),
        ObsValue::Text(t) => ("text", t),
        ObsValue::NotDone => ("not_done", ""),
        ObsValue::Unmeasurable => ("unmeasurable", ""),
    }
}

/// The unit a result is shown in: the box's spelling for the items a box records (so an
/// imported blood pressure reads `mmHg` like a local one), else the table's UCUM unit.
fn unit_of(table: &ItemTable, code: &str, kind: &str) -> String {
    if kind != "quantity" {
        return String::new();
    }
    match checkup_protocol::items::item(code) {
        Some(i) if !i.unit.is_empty() => i.unit.to_owned(),
        _ => table
            .get(code)
            .and_then(|d| d.unit_ucum.clone())
            .unwrap_or_default(),
    }
}

/// The SHA-256 of a document's content: the origin, the examinee's birth date and sex, the
/// checkup date and every result (in code order). The creation date is left out, so a
/// later export of the same checkup is the same content.
pub fn content_sha256(origin: &Sender, ex: &Examinee) -> String {
    let mut obs: Vec<(&str, &str, &str)> = ex
        .observations
        .iter()
        .map(|o| {
            let (k, v) = kind_and_value(&o.value);
            (o.code17.as_str(), k, v)
        })
        .collect();
    obs.sort_unstable();
    let mut h = Sha256::new();
    for part in [
        origin.institution_number.as_str(),
        &ex.birth_date.to_string(),
        ex.sex.code(),
        &ex.checkup_date.to_string(),
        ex.doctor_name.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for (code, kind, value) in obs {
        for part in [code, kind, value] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update([1]);
    }
    hex::encode(h.finalize())
}

/// A kana name compared as written by any system: full-width and half-width forms alike
/// (NFKC), without spaces.
fn kana_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfkc().filter(|c| !c.is_whitespace()).collect()
}

/// Import an archive's documents for the local resident `resident_id`, all or nothing
/// (see the module documentation). `by` is who imports (staff id), `now_ms` the time.
pub async fn import_record(
    db: &dyn Store,
    settings: &Settings,
    resident_id: &str,
    upload: &[u8],
    by: &str,
    now_ms: i64,
) -> Result<ImportOutcome, ImportError> {
    let files = archive_files("upload.zip", upload).map_err(|e| match e {
        ParseError::Zip { message, .. } => ImportError::NotZip(message),
        other => ImportError::NotArchive(other.to_string()),
    })?;
    if files.data.is_empty() {
        return Err(ImportError::NotArchive(format!(
            "{}/DATA/ に文書がありません / no document in {}/DATA/",
            files.root, files.root
        )));
    }
    let resident = register_entry(db, resident_id)
        .await?
        .ok_or_else(|| ImportError::NoResident(resident_id.to_owned()))?;
    let birth = export::date(&resident.birth_date)
        .ok_or_else(|| ImportError::Register("生年月日 birth date".into()))?;
    let sex = export::sex(&resident.sex).ok_or_else(|| ImportError::Register("性別 sex".into()))?;

    let xsd_dir = settings.xsd_dir.clone();
    let root = files.root.clone();
    let data = files.data;
    let index = files.index;
    // libxml2 is blocking work.
    let checked = tokio::task::spawn_blocking(move || -> Result<_, XsdError> {
        let mut validator = XsdValidator::load(&xsd_dir)?;
        let mut problems = Vec::new();
        if let Some(index) = &index
            && let Err(messages) = validator.validate_index(index)
        {
            problems.push(ImportProblem {
                kind: ProblemKind::Schema,
                file: format!("{root}/{INDEX_FILE}"),
                ja: format!("ix08_V08.xsdに合いません: {}", messages.join("; ")),
                en: "the index does not validate against ix08_V08.xsd".into(),
            });
        }
        let mut valid = Vec::new();
        for (name, bytes) in data {
            match validator.validate_document(&bytes) {
                Ok(()) => valid.push((name, bytes)),
                Err(messages) => problems.push(ImportProblem {
                    kind: ProblemKind::Schema,
                    file: format!("{root}/DATA/{name}"),
                    ja: format!("hc08_V08.xsdに合いません: {}", messages.join("; ")),
                    en: "the document does not validate against hc08_V08.xsd".into(),
                }),
            }
        }
        Ok((root, valid, problems))
    })
    .await
    .map_err(|e| ImportError::Db(DbError::Task(e.to_string())))??;
    let (root, valid, mut problems) = checked;

    let mut rows = Vec::new();
    for (name, bytes) in valid {
        let file = format!("{root}/DATA/{name}");
        let doc = match parse_document(&file, &bytes, &settings.table) {
            Ok(d) => d,
            Err(e) => {
                problems.push(ImportProblem {
                    kind: ProblemKind::Unreadable,
                    file,
                    ja: "文書を読めません".into(),
                    en: e.to_string(),
                });
                continue;
            }
        };
        let ex = &doc.examinee;
        if ex.birth_date != birth {
            problems.push(ImportProblem {
                kind: ProblemKind::Mismatch,
                file: file.clone(),
                ja: format!(
                    "文書の生年月日 {} が住民台帳の {} の生年月日 {} と違います（別の人の記録かもしれません）",
                    ex.birth_date, resident_id, birth
                ),
                en: format!(
                    "the document's birth date {} differs from the register's {} for {}",
                    ex.birth_date, birth, resident_id
                ),
            });
        }
        if ex.sex != sex {
            let ja = |s: Sex| match s {
                Sex::Male => "男",
                Sex::Female => "女",
            };
            problems.push(ImportProblem {
                kind: ProblemKind::Mismatch,
                file: file.clone(),
                ja: format!(
                    "文書の性別（{}）が住民台帳の {} の性別（{}）と違います",
                    ja(ex.sex),
                    resident_id,
                    ja(sex)
                ),
                en: format!(
                    "the document's sex ({}) differs from the register's for {} ({})",
                    ex.sex.code(),
                    resident_id,
                    sex.code()
                ),
            });
        }
        // Birth date and sex are shared by many: the name (in kana, as documents write it)
        // must be the register's too. A name changed since (marriage) is corrected in the
        // register first, so no other person's record is ever taken in by mistake.
        if kana_key(&ex.name_kana) != kana_key(&resident.name_kana) {
            problems.push(ImportProblem {
                kind: ProblemKind::Mismatch,
                file: file.clone(),
                ja: format!(
                    "文書の氏名（カナ）「{}」が住民台帳の {} の「{}」と違います（別の人の記録かもしれません。改姓などの場合は先に住民台帳を直してください）",
                    ex.name_kana, resident_id, resident.name_kana
                ),
                en: format!(
                    "the document's kana name {:?} differs from the register's {:?} for {} (another person's record? after a change of name, correct the register first)",
                    ex.name_kana, resident.name_kana, resident_id
                ),
            });
        }
        // This central's own documents are already in the record.
        if !settings.sender.institution_number.is_empty()
            && doc.author.institution_number == settings.sender.institution_number
        {
            problems.push(ImportProblem {
                kind: ProblemKind::Mismatch,
                file: file.clone(),
                ja: format!(
                    "この文書はこのセンター（機関番号 {}）が書き出したものです: 記録はすでにあります",
                    doc.author.institution_number
                ),
                en: format!(
                    "this document was written by this central (institution {}): its checkup is in the record already",
                    doc.author.institution_number
                ),
            });
        }
        let items: Vec<ImportedItem> = ex
            .observations
            .iter()
            .map(|o| {
                let (kind, value) = kind_and_value(&o.value);
                ImportedItem {
                    item_code: o.code17.clone(),
                    value: value.to_owned(),
                    kind: kind.to_owned(),
                    unit: unit_of(&settings.table, &o.code17, kind),
                    name_ja: settings
                        .table
                        .get(&o.code17)
                        .map(|d| d.name.clone())
                        .unwrap_or_default(),
                }
            })
            .collect();
        rows.push(ImportedCheckup {
            resident_id: resident_id.to_owned(),
            content_sha256: content_sha256(&doc.author, ex),
            checkup_date: ex.checkup_date.to_string(),
            origin_number: doc.author.institution_number.clone(),
            origin_name: doc.author.name.clone(),
            document_created: doc.created.to_string(),
            imported_ms: now_ms,
            imported_by: by.to_owned(),
            source_file: name,
            items: serde_json::to_string(&items).unwrap_or_else(|_| "[]".into()),
            document: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    if !problems.is_empty() {
        return Err(ImportError::Refused(problems));
    }
    let documents = rows.len();
    let new = db.store_imported(rows).await?;
    Ok(ImportOutcome {
        documents,
        new,
        held: documents - new,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokutei::model::{InsurerRef, Obs};

    fn ex(value: &str) -> Examinee {
        let d = |y, m, dd| {
            Date::from_calendar_date(y, time::Month::try_from(m).expect("month"), dd).expect("date")
        };
        Examinee {
            resident_id: String::new(),
            name_kana: "テスト".into(),
            sex: Sex::Female,
            birth_date: d(1960, 4, 1),
            postal_code: None,
            address: None,
            insurer: InsurerRef::default(),
            checkup_date: d(2025, 6, 1),
            observations: vec![
                Obs::new("9N001000000000001", ObsValue::Quantity(value.into())),
                Obs::new("9N056000000000011", ObsValue::Coded("2".into())),
            ],
            doctor_name: None,
        }
    }

    #[test]
    fn the_content_hash_follows_the_results_not_their_order() {
        let origin = Sender {
            institution_number: "2712345678".into(),
            name: "E市".into(),
            telephone: None,
            postal_code: None,
            address: None,
        };
        let a = ex("160.1");
        let mut b = a.clone();
        b.observations.reverse();
        assert_eq!(content_sha256(&origin, &a), content_sha256(&origin, &b));
        assert_ne!(
            content_sha256(&origin, &a),
            content_sha256(&origin, &ex("160.2"))
        );
        let mut other = origin.clone();
        other.institution_number = "2712345679".into();
        assert_ne!(content_sha256(&origin, &a), content_sha256(&other, &a));
    }
}
