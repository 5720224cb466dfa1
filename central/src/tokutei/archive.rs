//! The submission archive: `{sender}_{receiver}_{YYYYMMDD}{n}_{実施区分}.zip` holding the root
//! folder of the same name with `ix08_V08.xml` (the index), one `DATA/h….xml` per examinee
//! and `XSD/` copied from the configured MHLW schema directory at export time.
//!
//! Writing is all or nothing. A first pass writes every document in memory, checks the
//! business rules and validates each file against the XSDs with libxml2, keeping nothing but
//! the failures; with any failure nothing is written and every failure is returned. A second
//! pass writes the documents again (they are deterministic) into a temporary file next to
//! the target, which is renamed into place only when complete.
//!
//! Claims (`su08_V08.xml` and one `CLAIMS/c….xml` per examinee, named as its DATA file with
//! `c` for `h`) are written when the spec carries the municipality's prices
//! ([`ArchiveSpec::claims`], from `[tokutei.claims]`): each claim is computed from what the
//! DATA file reports ([`super::claims`]), checked to add up, and validated against cc08, the
//! summary against su08; the index then counts DATA and CLAIMS files. Without prices the
//! archive carries results only, as for a municipality that does not bill the insurer
//! through the archive.

use std::io::Write;
use std::path::{Path, PathBuf};

use time::Date;

use super::cda::{
    CdaError, OID_INSTITUTION, OID_INSURER, XSI_NS, Xml, sort_observations, write_document,
    yyyymmdd,
};
use super::claims::{
    Claim, ClaimPricing, ClaimWriteError, SUMMARY_FILE, Summary, check_claim, check_summary,
    compute_claim, write_claim, write_summary,
};
use super::items::ItemTable;
use super::model::{Examinee, Sender, add_blood_pressure_average};
use super::validate::{BusinessRules, Failure, XsdError, XsdValidator};

/// The namespace of ix08, su08, cc08 and co08 (第4期).
pub const MHLW_NS: &str = "https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html";
/// The index file in the archive's root folder.
pub const INDEX_FILE: &str = "ix08_V08.xml";
/// 代行機関番号.
pub const OID_AGENCY: &str = "1.2.392.200119.6.103";

/// Who receives the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receiver {
    /// An insurer (保険者番号, written zero-padded to 8 digits).
    Insurer(String),
    /// A 代行機関 (8 digits), e.g. a 国保連合会 or 支払基金.
    Agency(String),
}

impl Receiver {
    /// The number as written in the archive name and index (8 digits).
    pub fn number(&self) -> String {
        match self {
            Receiver::Insurer(n) | Receiver::Agency(n) => format!("{n:0>8}"),
        }
    }

    /// The OID of the receiver's id.
    pub fn oid(&self) -> &'static str {
        match self {
            Receiver::Insurer(_) => OID_INSURER,
            Receiver::Agency(_) => OID_AGENCY,
        }
    }

    /// The index's interactionType for a 健診機関 sending results to this receiver, as the
    /// JMA ORCA 特定健診 system writes it: 1 to a 代行機関, 6 to an insurer.
    pub fn interaction_type(&self) -> u8 {
        match self {
            Receiver::Agency(_) => 1,
            Receiver::Insurer(_) => 6,
        }
    }
}

/// The index (`ix08_V08.xml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    /// 種別 (1–20).
    pub interaction_type: u8,
    /// 作成年月日.
    pub creation_date: Date,
    /// The sender id's OID (1.2.392.200119.6.102 for a 健診機関).
    pub sender_root: String,
    /// 送信元機関番号.
    pub sender: String,
    /// 送信先.
    pub receiver: Option<Receiver>,
    /// 実施区分 (1 特定健診).
    pub service_event_type: u8,
    /// Number of DATA and CLAIMS files.
    pub total_record_count: u64,
}

/// Write an index file.
pub fn write_index(info: &IndexInfo) -> Result<Vec<u8>, std::io::Error> {
    let mut x = Xml::new()?;
    let location = format!("{MHLW_NS} ./XSD/ix08_V08.xsd");
    x.start(
        "index",
        &[
            ("xmlns", MHLW_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", &location),
        ],
    )?;
    x.empty(
        "interactionType",
        &[("code", &info.interaction_type.to_string())],
    )?;
    x.empty("creationTime", &[("value", &yyyymmdd(info.creation_date))])?;
    x.start("sender", &[])?;
    x.empty(
        "id",
        &[("root", &info.sender_root), ("extension", &info.sender)],
    )?;
    x.end("sender")?;
    if let Some(r) = &info.receiver {
        x.start("receiver", &[])?;
        x.empty("id", &[("root", r.oid()), ("extension", &r.number())])?;
        x.end("receiver")?;
    }
    x.empty(
        "serviceEventType",
        &[("code", &info.service_event_type.to_string())],
    )?;
    x.empty(
        "totalRecordCount",
        &[("value", &info.total_record_count.to_string())],
    )?;
    x.end("index")?;
    Ok(x.finish())
}

/// What an archive is: who sends it to whom, when, and what kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSpec {
    /// The file creator (健診機関番号, 10 digits).
    pub sender: Sender,
    /// The receiver.
    pub receiver: Receiver,
    /// 作成年月日: in the name, the index and each document's effectiveTime.
    pub creation_date: Date,
    /// 同日分割送信回数 (0–9; normally 0).
    pub same_day_count: u8,
    /// 実施区分 (1 特定健診).
    pub service_event_type: u8,
    /// interactionType; `None` takes [`Receiver::interaction_type`].
    pub interaction_type: Option<u8>,
    /// What the municipality bills per checkup: with prices, the archive also holds
    /// `CLAIMS/` and `su08_V08.xml`; `None` (the default) writes results only.
    pub claims: Option<ClaimPricing>,
}

impl ArchiveSpec {
    /// A 特定健診 archive from `sender` to `receiver` created on `creation_date`, the first of
    /// the day.
    pub fn new(sender: Sender, receiver: Receiver, creation_date: Date) -> ArchiveSpec {
        ArchiveSpec {
            sender,
            receiver,
            creation_date,
            same_day_count: 0,
            service_event_type: 1,
            interaction_type: None,
            claims: None,
        }
    }

    /// The root folder and zip name without `.zip`.
    pub fn root_name(&self) -> String {
        format!(
            "{}_{}_{}{}_{}",
            self.sender.institution_number,
            self.receiver.number(),
            yyyymmdd(self.creation_date),
            self.same_day_count,
            self.service_event_type
        )
    }

    /// The DATA file name of the `serial`-th examinee (1-based).
    pub fn data_file_name(&self, serial: usize) -> String {
        format!(
            "h{}{}{}{}{:06}.xml",
            self.sender.institution_number,
            yyyymmdd(self.creation_date),
            self.same_day_count,
            self.service_event_type,
            serial
        )
    }

    /// The CLAIMS file name of the `serial`-th examinee (1-based): `c` and the suffix of its
    /// DATA file.
    pub fn claim_file_name(&self, serial: usize) -> String {
        let data = self.data_file_name(serial);
        format!("c{}", data.get(1..).unwrap_or_default())
    }

    fn check(&self) -> Result<(), ExportError> {
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let n = &self.sender.institution_number;
        if n.len() != 10 || !digits(n) {
            return Err(ExportError::Spec(format!(
                "健診機関番号「{n}」は10桁の数字ではありません"
            )));
        }
        if self.sender.name.trim().is_empty() {
            return Err(ExportError::Spec("健診機関名称がありません".into()));
        }
        let r = match &self.receiver {
            Receiver::Insurer(r) | Receiver::Agency(r) => r,
        };
        if r.is_empty() || r.len() > 8 || !digits(r) {
            return Err(ExportError::Spec(format!(
                "送付先番号「{r}」は8桁以内の数字ではありません"
            )));
        }
        if self.same_day_count > 9 {
            return Err(ExportError::Spec("同日分割送信回数は0〜9です".into()));
        }
        if !(1..=9).contains(&self.service_event_type) {
            return Err(ExportError::Spec("実施区分は1〜9です".into()));
        }
        if let Some(t) = self.interaction_type
            && !(1..=20).contains(&t)
        {
            return Err(ExportError::Spec(
                "種別（interactionType）は1〜20です".into(),
            ));
        }
        if !(1980..=2107).contains(&self.creation_date.year()) {
            return Err(ExportError::Spec("作成年月日が範囲外です".into()));
        }
        Ok(())
    }

    fn index(&self, records: usize) -> IndexInfo {
        IndexInfo {
            interaction_type: self
                .interaction_type
                .unwrap_or_else(|| self.receiver.interaction_type()),
            creation_date: self.creation_date,
            sender_root: OID_INSTITUTION.to_owned(),
            sender: self.sender.institution_number.clone(),
            receiver: Some(self.receiver.clone()),
            service_event_type: self.service_event_type,
            total_record_count: records as u64,
        }
    }
}

/// Why no archive was written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Records failed the business rules or the XSDs; every failure, nothing written.
    #[error("{} failure(s); no archive written", .0.len())]
    Refused(Vec<Failure>),
    /// The archive's own settings are wrong (sender, receiver, counts).
    #[error("archive settings: {0}")]
    Spec(String),
    /// No examinee.
    #[error("no examinee to export")]
    Empty,
    /// The schemas could not be loaded.
    #[error(transparent)]
    Xsd(#[from] XsdError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The zip writer failed.
    #[error("writing the zip: {0}")]
    Zip(String),
    /// The archive already exists (choose another same-day count).
    #[error("{0} already exists")]
    Exists(PathBuf),
}

/// A written archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenArchive {
    /// The zip file.
    pub path: PathBuf,
    /// Its root folder name.
    pub root: String,
    /// The DATA file names, in examinee order.
    pub data_files: Vec<String>,
    /// The CLAIMS file names, in examinee order (none without claims).
    pub claim_files: Vec<String>,
}

/// The examinees as written: blood-pressure averages added, observations in write order
/// ([`super::cda::write_order`]).
pub fn prepare_examinees(examinees: &[Examinee], table: &ItemTable) -> Vec<Examinee> {
    examinees
        .iter()
        .map(|ex| {
            let mut ex = ex.clone();
            add_blood_pressure_average(&mut ex.observations);
            sort_observations(&mut ex.observations, table);
            ex
        })
        .collect()
}

/// Check everything an archive would hold — business rules for every examinee, every
/// DATA file and the index against the XSDs — and return every failure (none: the archive
/// may be written).
pub fn check_archive(
    spec: &ArchiveSpec,
    examinees: &[Examinee],
    table: &ItemTable,
    rules: &BusinessRules,
    validator: &mut XsdValidator,
) -> Result<Vec<Failure>, ExportError> {
    spec.check()?;
    if examinees.is_empty() {
        return Err(ExportError::Empty);
    }
    let prepared = prepare_examinees(examinees, table);
    let mut failures = Vec::new();
    for (i, ex) in prepared.iter().enumerate() {
        let own = rules.check(table, ex);
        let had_rule_failures = !own.is_empty();
        failures.extend(own);
        let file = spec.data_file_name(i + 1);
        match write_document(ex, &spec.sender, table, spec.creation_date) {
            Ok(xml) => {
                if let Err(messages) = validator.validate_document(&xml) {
                    failures.extend(messages.into_iter().map(|m| Failure {
                        resident_id: ex.resident_id.clone(),
                        item_code: None,
                        item_name_ja: "XMLスキーマ".into(),
                        message_ja: format!("{file}がhc08_V08.xsdに合いません: {m}"),
                    }));
                }
            }
            Err(CdaError::Xml(e)) => {
                return Err(ExportError::Io {
                    path: PathBuf::from(file),
                    source: e,
                });
            }
            Err(e) if !had_rule_failures => failures.push(Failure {
                resident_id: ex.resident_id.clone(),
                item_code: None,
                item_name_ja: "文書".into(),
                message_ja: format!("{file}を書けません: {e}"),
            }),
            Err(_) => {}
        }
    }
    let mut records = prepared.len();
    if spec.claims.is_some() {
        validator.load_claims()?;
        failures.extend(check_claims(spec, &prepared, table, validator)?);
        records += prepared.len();
    }
    let index = write_index(&spec.index(records)).map_err(|source| ExportError::Io {
        path: PathBuf::from(INDEX_FILE),
        source,
    })?;
    if let Err(messages) = validator.validate_index(&index) {
        failures.extend(messages.into_iter().map(|m| Failure {
            resident_id: String::new(),
            item_code: None,
            item_name_ja: "XMLスキーマ".into(),
            message_ja: format!("{INDEX_FILE}がix08_V08.xsdに合いません: {m}"),
        }));
    }
    Ok(failures)
}

fn claim_failure(resident: &str, name: &str, message: String) -> Failure {
    Failure {
        resident_id: resident.to_owned(),
        item_code: None,
        item_name_ja: name.to_owned(),
        message_ja: message,
    }
}

/// Each examinee's claim (in order), or the failures of those that cannot have one.
pub fn compute_claims(
    prepared: &[Examinee],
    table: &ItemTable,
    pricing: &ClaimPricing,
) -> Result<Vec<Claim>, Vec<Failure>> {
    let mut claims = Vec::with_capacity(prepared.len());
    let mut failures = Vec::new();
    for ex in prepared {
        match compute_claim(ex, table, pricing) {
            Ok(c) => claims.push(c),
            Err(missing) => failures.extend(missing.into_iter().map(|(t, m)| {
                claim_failure(&ex.resident_id, &format!("請求（{}）", t.name_ja()), m)
            })),
        }
    }
    if failures.is_empty() {
        Ok(claims)
    } else {
        Err(failures)
    }
}

/// The claims and the summary as [`write_archive`] writes them, checked: every claim adds
/// up and reads back to what was computed, the summary's totals are the sums of the claims
/// as read back, and every file is valid against cc08 / su08. Every failure is returned.
fn check_claims(
    spec: &ArchiveSpec,
    prepared: &[Examinee],
    table: &ItemTable,
    validator: &mut XsdValidator,
) -> Result<Vec<Failure>, ExportError> {
    let Some(pricing) = &spec.claims else {
        return Ok(Vec::new());
    };
    let claims = match compute_claims(prepared, table, pricing) {
        Ok(c) => c,
        Err(f) => return Ok(f),
    };
    let mut failures = Vec::new();
    let mut read_back = Vec::with_capacity(claims.len());
    for (i, (ex, claim)) in prepared.iter().zip(&claims).enumerate() {
        let file = spec.claim_file_name(i + 1);
        let resident = ex.resident_id.as_str();
        let xml = match write_claim(ex, &spec.sender, spec.service_event_type, claim) {
            Ok(xml) => xml,
            Err(ClaimWriteError::Xml(source)) => {
                return Err(ExportError::Io {
                    path: PathBuf::from(file),
                    source,
                });
            }
            Err(e @ ClaimWriteError::NoPostalCode) => {
                failures.push(claim_failure(resident, "郵便番号", format!("{file}: {e}")));
                continue;
            }
        };
        if let Err(messages) = validator.validate_claim(&xml) {
            failures.extend(messages.into_iter().map(|m| {
                claim_failure(
                    resident,
                    "XMLスキーマ",
                    format!("{file}がcc08_V08.xsdに合いません: {m}"),
                )
            }));
        }
        match super::parse::parse_claim(&file, &xml) {
            Ok(parsed) => {
                failures.extend(
                    check_claim(&parsed.claim)
                        .into_iter()
                        .map(|m| claim_failure(resident, "請求金額", format!("{file}: {m}"))),
                );
                if parsed.claim != *claim {
                    failures.push(claim_failure(
                        resident,
                        "請求金額",
                        format!("{file}: 書いた請求情報を読み直すと計算した金額と一致しません"),
                    ));
                }
                read_back.push(parsed.claim);
            }
            Err(e) => failures.push(claim_failure(
                resident,
                "請求ファイル",
                format!("{file}を読み直せません: {e}"),
            )),
        }
    }
    let summary =
        write_summary(&Summary::of(spec.service_event_type, &claims)).map_err(|source| {
            ExportError::Io {
                path: PathBuf::from(SUMMARY_FILE),
                source,
            }
        })?;
    if let Err(messages) = validator.validate_summary(&summary) {
        failures.extend(messages.into_iter().map(|m| {
            claim_failure(
                "",
                "XMLスキーマ",
                format!("{SUMMARY_FILE}がsu08_V08.xsdに合いません: {m}"),
            )
        }));
    }
    match super::parse::parse_summary(SUMMARY_FILE, &summary) {
        // A claim that could not be written or read is failed above; its absence from the
        // sums would only repeat it.
        Ok(_) if read_back.len() != claims.len() => {}
        Ok(parsed) => failures.extend(
            check_summary(&parsed, &read_back)
                .into_iter()
                .map(|m| claim_failure("", "集計情報", m)),
        ),
        Err(e) => failures.push(claim_failure(
            "",
            "集計情報",
            format!("{SUMMARY_FILE}を読み直せません: {e}"),
        )),
    }
    Ok(failures)
}

/// Check and write the archive into `out_dir` as `{root}.zip`, copying the schemas from
/// `xsd_dir` into it. With any failure nothing is written and every failure is returned in
/// [`ExportError::Refused`].
pub fn write_archive(
    spec: &ArchiveSpec,
    examinees: &[Examinee],
    table: &ItemTable,
    rules: &BusinessRules,
    xsd_dir: &Path,
    out_dir: &Path,
) -> Result<WrittenArchive, ExportError> {
    let mut validator = XsdValidator::load(xsd_dir)?;
    let failures = check_archive(spec, examinees, table, rules, &mut validator)?;
    if !failures.is_empty() {
        return Err(ExportError::Refused(failures));
    }
    let xsd_files = schema_files(xsd_dir)?;
    let root = spec.root_name();
    let path = out_dir.join(format!("{root}.zip"));
    if path.exists() {
        return Err(ExportError::Exists(path));
    }
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| ExportError::Io { path: p, source }
    };
    let tmp = tempfile_in(out_dir, &root).map_err(io(out_dir))?;
    let zip_err = |e: zip::result::ZipError| ExportError::Zip(e.to_string());
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(
        tmp.as_file().try_clone().map_err(io(tmp.path()))?,
    ));
    let mtime = zip::DateTime::from_date_and_time(
        u16::try_from(spec.creation_date.year()).unwrap_or(1980),
        u8::from(spec.creation_date.month()),
        spec.creation_date.day(),
        0,
        0,
        0,
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(mtime);
    zip.add_directory(format!("{root}/"), options)
        .map_err(zip_err)?;
    let prepared = prepare_examinees(examinees, table);
    // check_archive computed, wrote and checked the same claims without failure.
    let claims = match &spec.claims {
        Some(pricing) => compute_claims(&prepared, table, pricing).map_err(ExportError::Refused)?,
        None => Vec::new(),
    };
    zip.start_file(format!("{root}/{INDEX_FILE}"), options)
        .map_err(zip_err)?;
    let index = write_index(&spec.index(prepared.len() + claims.len()))
        .map_err(io(Path::new(INDEX_FILE)))?;
    zip.write_all(&index).map_err(io(tmp.path()))?;
    if spec.claims.is_some() {
        let summary = write_summary(&Summary::of(spec.service_event_type, &claims))
            .map_err(io(Path::new(SUMMARY_FILE)))?;
        zip.start_file(format!("{root}/{SUMMARY_FILE}"), options)
            .map_err(zip_err)?;
        zip.write_all(&summary).map_err(io(tmp.path()))?;
    }
    zip.add_directory(format!("{root}/DATA/"), options)
        .map_err(zip_err)?;
    let mut data_files = Vec::with_capacity(prepared.len());
    for (i, ex) in prepared.iter().enumerate() {
        let name = spec.data_file_name(i + 1);
        let xml = write_document(ex, &spec.sender, table, spec.creation_date).map_err(|e| {
            // check_archive wrote the same documents without error.
            ExportError::Zip(format!("{name}: {e}"))
        })?;
        zip.start_file(format!("{root}/DATA/{name}"), options)
            .map_err(zip_err)?;
        zip.write_all(&xml).map_err(io(tmp.path()))?;
        data_files.push(name);
    }
    let mut claim_files = Vec::with_capacity(claims.len());
    if !claims.is_empty() {
        zip.add_directory(format!("{root}/CLAIMS/"), options)
            .map_err(zip_err)?;
    }
    for (i, (ex, claim)) in prepared.iter().zip(&claims).enumerate() {
        let name = spec.claim_file_name(i + 1);
        let xml = write_claim(ex, &spec.sender, spec.service_event_type, claim)
            .map_err(|e| ExportError::Zip(format!("{name}: {e}")))?;
        zip.start_file(format!("{root}/CLAIMS/{name}"), options)
            .map_err(zip_err)?;
        zip.write_all(&xml).map_err(io(tmp.path()))?;
        claim_files.push(name);
    }
    zip.add_directory(format!("{root}/XSD/"), options)
        .map_err(zip_err)?;
    let mut dirs_done = std::collections::BTreeSet::new();
    for (rel, full) in &xsd_files {
        if let Some((dir, _)) = rel.rsplit_once('/')
            && dirs_done.insert(dir.to_owned())
        {
            zip.add_directory(format!("{root}/XSD/{dir}/"), options)
                .map_err(zip_err)?;
        }
        let bytes = std::fs::read(full).map_err(io(full))?;
        zip.start_file(format!("{root}/XSD/{rel}"), options)
            .map_err(zip_err)?;
        zip.write_all(&bytes).map_err(io(tmp.path()))?;
    }
    let mut inner = zip.finish().map_err(zip_err)?;
    inner.flush().map_err(io(tmp.path()))?;
    drop(inner);
    tmp.as_file().sync_all().map_err(io(tmp.path()))?;
    tmp.persist_noclobber(&path).map_err(|e| ExportError::Io {
        path: path.clone(),
        source: e.error,
    })?;
    Ok(WrittenArchive {
        path,
        root,
        data_files,
        claim_files,
    })
}

fn tempfile_in(dir: &Path, root: &str) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!(".{root}."))
        .suffix(".zip.part")
        .tempfile_in(dir)
}

/// Every file under the schema directory (relative path with `/`, full path), sorted;
/// fails when hc08/ix08 or `coreschemas/` is missing.
fn schema_files(xsd_dir: &Path) -> Result<Vec<(String, PathBuf)>, ExportError> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), xsd_dir.to_owned())];
    while let Some((prefix, dir)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| ExportError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ExportError::Io {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let rel = format!("{prefix}{name}");
            if path.is_dir() {
                stack.push((format!("{rel}/"), path));
            } else if path.is_file() {
                out.push((rel, path));
            }
        }
    }
    out.sort();
    for needed in [
        "hc08_V08.xsd",
        "ix08_V08.xsd",
        "coreschemas/datatypes_hcgv08.xsd",
    ] {
        if !out.iter().any(|(rel, _)| rel == needed) {
            return Err(ExportError::Xsd(XsdError::Missing(
                xsd_dir.join(needed).display().to_string(),
            )));
        }
    }
    Ok(out)
}
