//! From central's records to the writer's input: the checkups of one insurer in a period,
//! each as an [`Examinee`] — the register's entry, the insurer identity the box's roster gave
//! at check-in, the current results (after corrections) mapped to the standard's items, BMI
//! where only height and weight were typed, and 階層化 ([`super::hierarchy`]) derived.
//!
//! Nothing here writes a file: [`gather`] reads, [`super::archive`] checks and writes. What
//! cannot become a document (no register entry, a value that is not a number) is returned as
//! a [`Failure`] naming the resident and the item, so the archive is refused whole.

use std::collections::BTreeMap;

use checkup_protocol::ItemValueKind;
use time::Date;

use super::archive::{
    ArchiveSpec, ExportError, Receiver, WrittenArchive, check_archive, write_archive,
};
use super::hierarchy::{self, Facts, Smoking};
use super::items::ItemTable;
use super::model::{
    DIASTOLIC, Examinee, InsurerRef, Obs, ObsValue, SYSTOLIC, Sender, Sex, dipstick_code,
};
use super::validate::Failure;
use super::validate::{BusinessRules, XsdValidator};
use crate::db::{DbError, InsuredCheckup, Resident, ResultRow, Store, current_results};

/// 身長, 体重, BMI.
const HEIGHT: &str = "9N001000000000001";
const WEIGHT: &str = "9N006000000000001";
const BMI: &str = "9N011000000000001";
/// 腹囲（実測）.
const WAIST: &str = "9N016160100000001";
/// 服薬 血圧 / 血糖 / 脂質, 喫煙.
const MED_BP: &str = "9N701000000000011";
const MED_GLUCOSE: &str = "9N706000000000011";
const MED_LIPID: &str = "9N711000000000011";
const SMOKING: &str = "9N736000000000011";
/// 医師の診断（判定）: its recorder is the doctor who examined.
const DIAGNOSIS: &str = "9N511000000000049";

/// What [`gather`] found for an insurer and a period.
#[derive(Debug, Default)]
pub struct Gathered {
    /// One per checkup that could be made into a document.
    pub examinees: Vec<Examinee>,
    /// What kept a checkup from being one (the archive is refused while any remains).
    pub failures: Vec<Failure>,
    /// Every item code recorded in the period (the business rules ask only for what the
    /// venues record, and always for the required questionnaire items).
    pub recorded: Vec<String>,
}

pub(crate) fn date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

pub(crate) fn sex(s: &str) -> Option<Sex> {
    match s.trim() {
        "male" | "男" | "1" | "M" | "m" => Some(Sex::Male),
        "female" | "女" | "2" | "F" | "f" => Some(Sex::Female),
        _ => None,
    }
}

fn failure(resident: &str, code: Option<&str>, name: &str, message: String) -> Failure {
    Failure {
        resident_id: resident.to_owned(),
        item_code: code.map(str::to_owned),
        item_name_ja: name.to_owned(),
        message_ja: message,
    }
}

/// The insurer identity as the writer takes it.
pub fn insurer_ref(i: &checkup_protocol::insurer::InsurerIdentity) -> InsurerRef {
    InsurerRef {
        insurer_number: i.insurer_number.clone(),
        symbol: i.symbol.clone(),
        number: i.number.clone(),
        branch: i.branch.clone(),
        ticket_number: i.ticket_number.clone(),
        ticket_expiry: i.ticket_expiry.as_deref().and_then(date),
    }
}

/// One current result as the standard's observation, or why it cannot be one.
fn observation(table: &ItemTable, row: &ResultRow) -> Result<Option<Obs>, String> {
    let Some(def) = table.get(&row.item_code) else {
        // An item the standard does not know (none today): not reported.
        return Ok(None);
    };
    // The unit as recorded must be the standard's (UCUM writes mmHg as mm[Hg]): a value in
    // another unit would be reported wrong by a factor.
    let ucum = match row.unit.as_str() {
        "mmHg" => "mm[Hg]",
        u => u,
    };
    let want = def.unit_ucum.as_deref().unwrap_or("");
    if def.xml_type == super::items::XmlType::Pq && ucum != want {
        return Err(format!(
            "単位「{}」が規格の単位「{want}」と異なります",
            row.unit
        ));
    }
    let kind = checkup_protocol::items::item(&row.item_code).map(|i| i.kind);
    let value = match kind {
        Some(ItemValueKind::Numeric { decimals, .. }) => {
            let v: f64 = row
                .value
                .parse()
                .map_err(|_| format!("値「{}」が数値ではありません", row.value))?;
            ObsValue::quantity(v, def.decimals().unwrap_or(decimals as usize))
        }
        Some(ItemValueKind::Qualitative) => ObsValue::Coded(
            dipstick_code(&row.value)
                .ok_or_else(|| format!("尿検査の値「{}」は規格のコードにありません", row.value))?
                .to_owned(),
        ),
        Some(ItemValueKind::Choice(choices)) => {
            let code = row.value.trim_matches('"');
            if !choices.iter().any(|c| c.code == code) {
                return Err(format!("値「{}」は規格のコードにありません", row.value));
            }
            ObsValue::Coded(code.to_owned())
        }
        // A free text (所見, 診断) may be stored as its JSON text: read as written.
        Some(ItemValueKind::Text { .. }) => ObsValue::Text(
            serde_json::from_str::<String>(&row.value).unwrap_or_else(|_| row.value.clone()),
        ),
        // Codes and texts are stored as their JSON text by older boxes: unquoted here.
        _ if def.xml_type.is_coded() => ObsValue::Coded(row.value.trim_matches('"').to_owned()),
        _ => ObsValue::Text(row.value.clone()),
    };
    Ok(Some(Obs::new(&row.item_code, value)))
}

fn number(obs: &[Obs], code: &str) -> Option<f64> {
    obs.iter().find_map(|o| match &o.value {
        ObsValue::Quantity(v) if o.code17 == code => v.parse().ok(),
        _ => None,
    })
}

fn coded<'a>(obs: &'a [Obs], code: &str) -> Option<&'a str> {
    obs.iter().find_map(|o| match &o.value {
        ObsValue::Coded(v) if o.code17 == code => Some(v.as_str()),
        _ => None,
    })
}

fn first_number(obs: &[Obs], codes: &[&str]) -> Option<f64> {
    codes.iter().find_map(|c| number(obs, c))
}

/// Age on the last day (31 March) of the fiscal year of `day`.
fn age_at_fiscal_year_end(birth: Date, day: Date) -> u32 {
    let fy_end_year = if u8::from(day.month()) >= 4 {
        day.year() + 1
    } else {
        day.year()
    };
    let mut age = fy_end_year - birth.year();
    if (u8::from(birth.month()), birth.day()) > (3, 31) {
        age -= 1;
    }
    u32::try_from(age).unwrap_or(0)
}

/// The facts 階層化 needs, read from a checkup's observations.
pub fn facts(obs: &[Obs], sex: Sex, age: u32) -> Facts {
    let yes = |code: &str| coded(obs, code).map(|v| v == "1");
    let mean = |codes: [&str; 3]| {
        number(obs, codes[2]).or_else(|| match (number(obs, codes[0]), number(obs, codes[1])) {
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            (a, b) => a.or(b),
        })
    };
    let fasting_tg = first_number(
        obs,
        &[
            "3F015000002327101",
            "3F015000002327201",
            "3F015000002399901",
        ],
    );
    let casual_tg = first_number(
        obs,
        &[
            "3F015129902327101",
            "3F015129902327201",
            "3F015129902399901",
        ],
    );
    Facts {
        sex: match sex {
            Sex::Male => hierarchy::Sex::Male,
            Sex::Female => hierarchy::Sex::Female,
        },
        age_at_fiscal_year_end: age,
        waist_cm: first_number(obs, &[WAIST, "9N016160200000001", "9N016160300000001"]),
        bmi: number(obs, BMI),
        systolic: mean(SYSTOLIC),
        diastolic: mean(DIASTOLIC),
        triglycerides_mg_dl: fasting_tg.or(casual_tg),
        triglycerides_fasting: match (fasting_tg, casual_tg) {
            (Some(_), _) => Some(true),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        },
        hdl_mg_dl: first_number(
            obs,
            &[
                "3F070000002327101",
                "3F070000002327201",
                "3F070000002399901",
            ],
        ),
        fasting_glucose: first_number(
            obs,
            &[
                "3D010000001926101",
                "3D010000002227101",
                "3D010000001927201",
                "3D010000001999901",
            ],
        ),
        casual_glucose: first_number(
            obs,
            &[
                "3D010129901926101",
                "3D010129902227101",
                "3D010129901927201",
                "3D010129901999901",
            ],
        ),
        hba1c_ngsp: first_number(
            obs,
            &[
                "3D046000001906202",
                "3D046000001920402",
                "3D046000001927102",
                "3D046000001999902",
            ],
        ),
        smoking: coded(obs, SMOKING).and_then(Smoking::from_code),
        med_bp: yes(MED_BP),
        med_glucose: yes(MED_GLUCOSE),
        med_lipid: yes(MED_LIPID),
    }
}

/// 階層化 of one checkup for the resident's record, from its results (all versions; the
/// current ones count) and the register's birth date and sex — without MHLW's item table, so
/// the record shows it on a central with no `[tokutei]` set up. `None` when the register
/// entry's birth date or sex, or the day, cannot be read (the record then says nothing rather
/// than guess). The archive derives the same judgements through [`examinee`].
pub fn record_stratification(
    resident: &Resident,
    day: &str,
    rows: &[ResultRow],
) -> Option<hierarchy::Stratification> {
    let birth = date(&resident.birth_date)?;
    let sx = sex(&resident.sex)?;
    let day = date(day)?;
    let mut observations: Vec<Obs> = current_results(rows)
        .into_iter()
        .filter_map(|row| {
            let kind = checkup_protocol::items::item(&row.item_code).map(|i| i.kind);
            let value = match kind {
                Some(ItemValueKind::Numeric { decimals, .. }) => {
                    let v: f64 = row.value.parse().ok()?;
                    ObsValue::quantity(v, decimals as usize)
                }
                _ => ObsValue::Coded(row.value.trim_matches('"').to_owned()),
            };
            Some(Obs::new(&row.item_code, value))
        })
        .collect();
    if number(&observations, BMI).is_none()
        && let (Some(h), Some(w)) = (number(&observations, HEIGHT), number(&observations, WEIGHT))
        && let Some(b) = checkup_protocol::items::bmi(h, w)
    {
        observations.push(Obs::new(BMI, ObsValue::quantity(b, 1)));
    }
    Some(hierarchy::stratify(&facts(
        &observations,
        sx,
        age_at_fiscal_year_end(birth, day),
    )))
}

/// One checkup as an examinee: `rows` are the session's results (all versions).
pub fn examinee(
    table: &ItemTable,
    checkup: &InsuredCheckup,
    resident: &Resident,
    rows: &[ResultRow],
    doctors: &BTreeMap<String, String>,
) -> Result<Examinee, Vec<Failure>> {
    let id = checkup.resident_id.as_str();
    let mut failures = Vec::new();
    let birth = date(&resident.birth_date);
    if birth.is_none() {
        failures.push(failure(
            id,
            None,
            "生年月日",
            format!(
                "住民台帳の生年月日「{}」が日付ではありません",
                resident.birth_date
            ),
        ));
    }
    let sx = sex(&resident.sex);
    if sx.is_none() {
        failures.push(failure(
            id,
            None,
            "性別",
            format!(
                "住民台帳の性別「{}」が男女のいずれでもありません",
                resident.sex
            ),
        ));
    }
    let day = date(&checkup.day);
    let mut observations = Vec::new();
    let mut doctor = None;
    for row in current_results(rows) {
        match observation(table, row) {
            Ok(Some(o)) => observations.push(o),
            Ok(None) => {}
            Err(m) => failures.push(failure(
                id,
                Some(&row.item_code),
                table.get(&row.item_code).map_or("", |d| d.name.as_str()),
                m,
            )),
        }
        if row.item_code == DIAGNOSIS {
            doctor = doctors.get(&row.staff_id).cloned();
            if doctor.is_none() {
                failures.push(failure(
                    id,
                    Some("9N516000000000049"),
                    "健康診断を実施した医師の氏名",
                    format!(
                        "医師の診断を記録した職員 {} の氏名が設定（tokutei.doctors）にありません",
                        row.staff_id
                    ),
                ));
            }
        }
    }
    // BMI where the box recorded only height and weight (it derives BMI on screen).
    if number(&observations, BMI).is_none()
        && let (Some(h), Some(w)) = (number(&observations, HEIGHT), number(&observations, WEIGHT))
        && let Some(b) = checkup_protocol::items::bmi(h, w)
    {
        observations.push(Obs::new(BMI, ObsValue::quantity(b, 1)));
    }
    let (Some(birth), Some(sx), Some(day)) = (birth, sx, day) else {
        return Err(failures);
    };
    if !failures.is_empty() {
        return Err(failures);
    }
    let s = hierarchy::stratify(&facts(
        &observations,
        sx,
        age_at_fiscal_year_end(birth, day),
    ));
    observations.push(Obs::new(
        hierarchy::METABOLIC_ITEM_CODE,
        ObsValue::Coded(s.metabolic.code().to_owned()),
    ));
    observations.push(Obs::new(
        hierarchy::GUIDANCE_ITEM_CODE,
        ObsValue::Coded(s.guidance.code().to_owned()),
    ));
    Ok(Examinee {
        resident_id: checkup.resident_id.clone(),
        name_kana: resident.name_kana.clone(),
        sex: sx,
        birth_date: birth,
        postal_code: (!resident.postal_code.is_empty()).then(|| resident.postal_code.clone()),
        address: (!resident.address.is_empty()).then(|| resident.address.clone()),
        insurer: insurer_ref(&checkup.insurer),
        checkup_date: day,
        observations,
        doctor_name: doctor,
    })
}

/// The checkups of `insurer` from `from` to `to` (`YYYY-MM-DD`, inclusive), as examinees or
/// failures. `doctors` names the doctors by staff id (the events carry only the id).
pub async fn gather(
    db: &dyn Store,
    table: &ItemTable,
    insurer: &str,
    from: &str,
    to: &str,
    doctors: &BTreeMap<String, String>,
) -> Result<Gathered, DbError> {
    let checkups = db.checkups_of_insurer(insurer, from, to).await?;
    let mut by_session: BTreeMap<String, Vec<ResultRow>> = BTreeMap::new();
    for r in db.results_between(from, to).await? {
        by_session.entry(r.session_id.clone()).or_default().push(r);
    }
    let mut out = Gathered::default();
    let mut recorded = std::collections::BTreeSet::new();
    for c in &checkups {
        let rows = by_session.remove(&c.session_id).unwrap_or_default();
        recorded.extend(rows.iter().map(|r| r.item_code.clone()));
        let resident = db.resident(&c.resident_id).await?;
        let Some(resident) = resident else {
            out.failures.push(failure(
                &c.resident_id,
                None,
                "住民台帳",
                "住民台帳にこの住民がいません（氏名・生年月日・性別が書けません）".to_owned(),
            ));
            continue;
        };
        match examinee(table, c, &resident, &rows, doctors) {
            Ok(e) => out.examinees.push(e),
            Err(f) => out.failures.extend(f),
        }
    }
    out.recorded = recorded.into_iter().collect();
    Ok(out)
}

/// What an export needs besides the database: the sender, MHLW's item table and schemas,
/// the doctors' names and, when the municipality bills the insurer, its prices.
#[derive(Debug)]
pub struct Settings {
    /// The file creator.
    pub sender: Sender,
    /// The 第4期 item table.
    pub table: ItemTable,
    /// MHLW's XSD directory (validated against, and copied into the archive).
    pub xsd_dir: std::path::PathBuf,
    /// Doctors' names by staff id.
    pub doctors: BTreeMap<String, String>,
    /// What the municipality bills per checkup (`[tokutei.claims]`): with prices, the
    /// archive also holds `CLAIMS/` and `su08_V08.xml`; `None` writes results only.
    pub claims: Option<super::claims::ClaimPricing>,
}

/// What an export did.
#[derive(Debug)]
pub enum Outcome {
    /// Every check passed: the archive, and how many examinees it holds.
    Written(WrittenArchive, usize),
    /// Checked only (`write` false) and every check passed: how many examinees it would hold.
    Checked(usize),
    /// Some records failed: every failure, by resident and item; nothing written.
    Refused(Vec<Failure>),
}

/// Why an export could not run at all (as opposed to records that failed its checks).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The archive (settings, schemas, files).
    #[error(transparent)]
    Archive(#[from] ExportError),
}

/// Gather the checkups of `insurer` from `from` to `to`, check every record (business
/// rules, XSDs) and, with `write`, write the archive into `out_dir` — the first same-day
/// count not yet used. Nothing is written when any record fails.
pub async fn export(
    db: &dyn Store,
    settings: &Settings,
    insurer: &str,
    (from, to): (&str, &str),
    created: Date,
    out_dir: Option<&std::path::Path>,
) -> Result<Outcome, RunError> {
    let g = gather(db, &settings.table, insurer, from, to, &settings.doctors).await?;
    let rules = BusinessRules::for_recorded(&settings.table, g.recorded.iter().map(String::as_str));
    let mut spec = ArchiveSpec::new(
        settings.sender.clone(),
        Receiver::Insurer(insurer.to_owned()),
        created,
    );
    spec.claims = settings.claims.clone();
    let n = g.examinees.len();
    if n == 0 && g.failures.is_empty() {
        return Err(RunError::Archive(ExportError::Empty));
    }
    if !g.failures.is_empty() || out_dir.is_none() {
        let mut failures = g.failures;
        if n > 0 {
            let mut validator = XsdValidator::load(&settings.xsd_dir).map_err(ExportError::from)?;
            failures.extend(check_archive(
                &spec,
                &g.examinees,
                &settings.table,
                &rules,
                &mut validator,
            )?);
        }
        return Ok(if failures.is_empty() {
            Outcome::Checked(n)
        } else {
            Outcome::Refused(failures)
        });
    }
    let Some(out_dir) = out_dir else {
        return Ok(Outcome::Checked(n));
    };
    loop {
        match write_archive(
            &spec,
            &g.examinees,
            &settings.table,
            &rules,
            &settings.xsd_dir,
            out_dir,
        ) {
            Ok(w) => return Ok(Outcome::Written(w, n)),
            Err(ExportError::Refused(f)) => return Ok(Outcome::Refused(f)),
            Err(ExportError::Exists(p)) if spec.same_day_count < 9 => {
                tracing::debug!(path = %p.display(), "archive of this count exists; next count");
                spec.same_day_count += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Why the export settings could not be made from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// No `[tokutei]` section at all.
    #[error(
        "central has no [tokutei] configuration (institution_number, xsd_dir, item_table): \
         特定健診の設定（[tokutei]）がありません"
    )]
    NotConfigured,
    /// No MHLW XSD directory.
    #[error("no MHLW XSD directory: set [tokutei] xsd_dir (or pass --xsd-dir)")]
    NoXsdDir,
    /// No sender.
    #[error(
        "no sender: set [tokutei] institution_number (健診機関番号, 10 digits) or pass --sender"
    )]
    NoSender,
    /// `[tokutei.claims]` is wrong.
    #[error(transparent)]
    Claims(#[from] crate::config::ConfigError),
    /// The item table could not be read.
    #[error("the item table {path}: {source}")]
    Table {
        /// Where it was looked for.
        path: std::path::PathBuf,
        /// Why it could not be read.
        source: super::items::ItemTableError,
    },
}

/// What the command line may give beside `[tokutei]` (each wins over the configuration).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// MHLW's XSD directory.
    pub xsd_dir: Option<std::path::PathBuf>,
    /// The item table.
    pub item_table: Option<std::path::PathBuf>,
    /// 健診機関番号.
    pub institution_number: Option<String>,
    /// The sender's name.
    pub institution_name: Option<String>,
    /// Doctors' names by staff id, added to `[tokutei.doctors]`.
    pub doctors: BTreeMap<String, String>,
}

impl Settings {
    /// The settings from central's `[tokutei]` and `overrides`: the item table is loaded
    /// (default `items-hc24.csv` beside the XSD directory), the schemas are loaded when
    /// used.
    pub fn from_config(
        t: &crate::config::TokuteiConfig,
        overrides: Overrides,
    ) -> Result<Settings, SettingsError> {
        let xsd_dir = overrides
            .xsd_dir
            .or_else(|| t.xsd_dir.clone())
            .ok_or(SettingsError::NoXsdDir)?;
        let institution_number = overrides
            .institution_number
            .or_else(|| t.institution_number.clone())
            .ok_or(SettingsError::NoSender)?;
        let items = overrides
            .item_table
            .or_else(|| t.item_table.clone())
            .unwrap_or_else(|| xsd_dir.join("..").join("items-hc24.csv"));
        let table = ItemTable::load(&items).map_err(|source| SettingsError::Table {
            path: items.clone(),
            source,
        })?;
        let claims = t.claim_pricing()?;
        let mut doctors = t.doctors.clone();
        doctors.extend(overrides.doctors);
        Ok(Settings {
            sender: Sender {
                institution_number,
                name: overrides
                    .institution_name
                    .or_else(|| t.institution_name.clone())
                    .unwrap_or_else(|| "健診機関".to_owned()),
                telephone: t.telephone.clone(),
                postal_code: t.postal_code.clone(),
                address: t.address.clone(),
            },
            table,
            xsd_dir,
            claims,
            doctors,
        })
    }
}

/// An archive built in memory (for a download), or why not.
#[derive(Debug)]
pub enum Built {
    /// Every check passed.
    Archive {
        /// The standard file name (`{sender}_{receiver}_{YYYYMMDD}{n}_{実施区分}.zip`).
        file_name: String,
        /// The zip.
        bytes: Vec<u8>,
        /// How many examinees it holds.
        examinees: usize,
    },
    /// Some records failed: every failure; nothing built.
    Refused(Vec<Failure>),
}

/// As [`export`] with `write`, but the archive is built in a temporary directory (removed
/// at once) and returned as bytes: nothing stays on the server.
pub async fn build(
    db: &dyn Store,
    settings: &Settings,
    insurer: &str,
    period: (&str, &str),
    created: Date,
) -> Result<Built, RunError> {
    let tmp = tempfile::tempdir().map_err(|source| ExportError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    match export(db, settings, insurer, period, created, Some(tmp.path())).await? {
        Outcome::Written(w, n) => {
            let bytes = std::fs::read(&w.path).map_err(|source| ExportError::Io {
                path: w.path.clone(),
                source,
            })?;
            Ok(Built::Archive {
                file_name: format!("{}.zip", w.root),
                bytes,
                examinees: n,
            })
        }
        Outcome::Refused(f) => Ok(Built::Refused(f)),
        // With a directory to write into, export writes or refuses.
        Outcome::Checked(n) => Err(RunError::Archive(ExportError::Spec(format!(
            "{n} examinee(s) checked but no archive written"
        )))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        date(s).expect("date")
    }

    #[test]
    fn age_is_taken_on_the_last_day_of_the_fiscal_year() {
        // Checkup in June 2026: fiscal year ends 2027-03-31.
        assert_eq!(age_at_fiscal_year_end(d("1962-03-31"), d("2026-06-01")), 65);
        assert_eq!(age_at_fiscal_year_end(d("1962-04-01"), d("2026-06-01")), 64);
        // Checkup in February 2027: the same fiscal year.
        assert_eq!(age_at_fiscal_year_end(d("1962-04-01"), d("2027-02-01")), 64);
    }

    fn row(code: &str, value: &str, n: i64) -> ResultRow {
        ResultRow {
            event_id: format!("e{n}"),
            resident_id: "R1".into(),
            session_id: "s1".into(),
            venue: "v".into(),
            day: "2026-06-01".into(),
            item_code: code.into(),
            value: value.into(),
            unit: String::new(),
            hlc_ms: n,
            hlc_c: 0,
            corrects: None,
            reason: None,
            staff_id: "S1".into(),
        }
    }

    fn resident(birth: &str, sex: &str) -> Resident {
        Resident {
            resident_id: "R1".into(),
            name: "検診 太郎".into(),
            name_kana: "ケンシン タロウ".into(),
            birth_date: birth.into(),
            sex: sex.into(),
            address: String::new(),
            postal_code: String::new(),
            district: String::new(),
        }
    }

    #[test]
    fn the_record_is_stratified_from_current_values_without_the_item_table() {
        // Waist 90 (over for a man), both readings averaged 137/88 (血圧高), HbA1c 6.0
        // (血糖高値), no medication: 2 criteria → 基準該当, 積極的支援 under 65.
        let mut rows = vec![
            row(WAIST, "90.0", 1),
            row("9A751000000000001", "140", 2),
            row("9A752000000000001", "134", 3),
            row("9A761000000000001", "90", 4),
            row("9A762000000000001", "86", 5),
            row("3D046000001999902", "6.0", 6),
            row(MED_BP, "\"2\"", 7),
            row(MED_GLUCOSE, "\"2\"", 8),
            row(MED_LIPID, "\"2\"", 9),
        ];
        let st = record_stratification(&resident("1970-05-01", "male"), "2026-06-01", &rows)
            .expect("stratified");
        assert_eq!(st.metabolic, hierarchy::MetabolicJudgement::Criteria);
        assert_eq!(st.guidance, hierarchy::GuidanceLevel::Active);
        assert!(!st.reasons.is_empty());
        // A correction counts, not the first value: the waist corrected to 80 → 非該当, and
        // BMI derived from height and weight (22.0) is under 25 → なし（情報提供）.
        let mut corrected = row(WAIST, "80.0", 10);
        corrected.corrects = Some("e1".into());
        rows.push(corrected);
        rows.push(row(HEIGHT, "170.0", 11));
        rows.push(row(WEIGHT, "63.6", 12));
        let st = record_stratification(&resident("1970-05-01", "male"), "2026-06-01", &rows)
            .expect("stratified");
        assert_eq!(st.metabolic, hierarchy::MetabolicJudgement::NotApplicable);
        assert_eq!(st.guidance, hierarchy::GuidanceLevel::InformationOnly);
        // No birth date or sex in the register: nothing is claimed.
        assert!(record_stratification(&resident("", "male"), "2026-06-01", &rows).is_none());
        assert!(record_stratification(&resident("1970-05-01", "?"), "2026-06-01", &rows).is_none());
    }

    #[test]
    fn sexes_of_the_register_are_read_and_others_refused() {
        assert_eq!(sex("male"), Some(Sex::Male));
        assert_eq!(sex("女"), Some(Sex::Female));
        assert_eq!(sex("other"), None);
    }
}
