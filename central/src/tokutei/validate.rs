//! The checks every examinee's document passes before an archive is written: the standard's
//! business rules on the examinee ([`BusinessRules::check`]) and XSD validation of every
//! file with libxml2 ([`XsdValidator`], through the `libxml` crate). Every problem is a
//! [`Failure`] naming the resident and the item in Japanese; the archive writer collects
//! them all and writes nothing when there is one.
//!
//! Business rules:
//! - every item is in the item table, takes a value of its XML type, appears once, and a
//!   number fits the item's format (`NNN.N`: at most 3 integer digits, exactly 1 decimal);
//! - required items (status `1`, the 服薬 and 喫煙 questions always) are present — with
//!   [`BusinessRules::for_recorded`], only those the venue records; an item that depends
//!   on another (具体的な既往歴) only when that one is `1`;
//! - one-of groups: at least one item of each letter group of the table (腹囲 or 内臓脂肪面積,
//!   each blood-pressure and lipid group, …) and of the 血糖 group (空腹時血糖, 随時血糖 or
//!   HbA1c);
//! - 空腹時中性脂肪 and 空腹時血糖 need 採血時間 (9N141) `2` (食後10時間以上); 随時中性脂肪 and
//!   随時血糖 need `3` or `4`;
//! - the doctor's name goes with 医師の診断(判定) and vice versa;
//! - header fields: 全角カナ name, 保険者番号 digits, 記号/番号 lengths, 枝番, 受診券整理番号,
//!   郵便番号, dates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;

use super::cda::{DOCTOR_JUDGEMENT, DOCTOR_NAME, value_fits};
use super::items::{ItemStatus, ItemTable};
use super::model::{Examinee, ObsValue};

/// One reason an examinee's record cannot be exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Central's resident id (empty for a failure of the archive as a whole).
    pub resident_id: String,
    /// The item's 17-digit code, when the failure is about an item.
    pub item_code: Option<String>,
    /// The item's or field's Japanese name (身長, 保険者番号, XMLスキーマ, …).
    pub item_name_ja: String,
    /// What is wrong, in Japanese.
    pub message_ja: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "住民 {} ", self.resident_id)?;
        match &self.item_code {
            Some(code) => write!(f, "{}（{}）", self.item_name_ja, code)?,
            None => write!(f, "{}", self.item_name_ja)?,
        }
        write!(f, ": {}", self.message_ja)
    }
}

/// 採血時間(食後).
pub const BLOOD_DRAW_TIME: &str = "9N141000000000011";
/// 空腹時中性脂肪 (three methods).
pub const FASTING_TG: [&str; 3] = [
    "3F015000002327101",
    "3F015000002327201",
    "3F015000002399901",
];
/// 随時中性脂肪 (three methods, 第4期).
pub const CASUAL_TG: [&str; 3] = [
    "3F015129902327101",
    "3F015129902327201",
    "3F015129902399901",
];
/// 空腹時血糖 (four methods).
pub const FASTING_GLUCOSE: [&str; 4] = [
    "3D010000001926101",
    "3D010000002227101",
    "3D010000001927201",
    "3D010000001999901",
];
/// 随時血糖 (four methods).
pub const CASUAL_GLUCOSE: [&str; 4] = [
    "3D010129901926101",
    "3D010129902227101",
    "3D010129901927201",
    "3D010129901999901",
];
/// The questionnaire items every 特定健診 record must have: 服薬 (血圧, 血糖, 脂質) and 喫煙.
pub const REQUIRED_QUESTIONS: [&str; 4] = [
    "9N701000000000011",
    "9N706000000000011",
    "9N711000000000011",
    "9N736000000000011",
];

/// The business rules in force for an export.
#[derive(Debug, Clone)]
pub struct BusinessRules {
    required: BTreeSet<String>,
    groups: BTreeMap<char, Vec<String>>,
}

impl BusinessRules {
    /// The standard's rules in full: every required item and every one-of group of the table.
    pub fn standard(table: &ItemTable) -> BusinessRules {
        let mut required: BTreeSet<String> = table
            .iter()
            .filter(|i| i.status == ItemStatus::Required)
            .map(|i| i.code17.clone())
            .collect();
        required.extend(REQUIRED_QUESTIONS.iter().map(|c| (*c).to_owned()));
        let mut groups: BTreeMap<char, Vec<String>> = BTreeMap::new();
        for item in table.iter() {
            if let Some(g) = item.status.one_of_group() {
                groups.entry(g).or_default().push(item.code17.clone());
            }
        }
        BusinessRules { required, groups }
    }

    /// The rules for a venue that records only `recorded` (item codes; the derived ones such
    /// as BMI, the blood-pressure average and 階層化 included): required items it does not
    /// record and one-of groups none of whose items it records are not asked for. The four
    /// required questions always are.
    pub fn for_recorded<'a>(
        table: &ItemTable,
        recorded: impl IntoIterator<Item = &'a str>,
    ) -> BusinessRules {
        let recorded: BTreeSet<&str> = recorded.into_iter().collect();
        let mut rules = BusinessRules::standard(table);
        rules
            .required
            .retain(|c| recorded.contains(c.as_str()) || REQUIRED_QUESTIONS.contains(&c.as_str()));
        rules
            .groups
            .retain(|_, members| members.iter().any(|m| recorded.contains(m.as_str())));
        rules
    }

    /// The rules for a resident's record moving to another municipality
    /// ([`super::transfer`]): each checkup goes as it was recorded, so no item is required
    /// and no one-of group asked for; every other rule (item codes, value types and formats,
    /// repeated items, the doctor with the judgement, header fields) holds.
    pub fn record_transfer() -> BusinessRules {
        BusinessRules {
            required: BTreeSet::new(),
            groups: BTreeMap::new(),
        }
    }

    /// Required item codes.
    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.required.iter().map(String::as_str)
    }

    /// Check one examinee; every problem found, none when the record may be exported.
    pub fn check(&self, table: &ItemTable, ex: &Examinee) -> Vec<Failure> {
        let mut out = Vec::new();
        let fail = |out: &mut Vec<Failure>, code: Option<&str>, name: &str, msg: String| {
            out.push(Failure {
                resident_id: ex.resident_id.clone(),
                item_code: code.map(str::to_owned),
                item_name_ja: name.to_owned(),
                message_ja: msg,
            });
        };
        header_rules(ex, &mut |name, msg| fail(&mut out, None, name, msg));

        // Each item on its own.
        let mut seen = BTreeSet::new();
        for obs in &ex.observations {
            let code = obs.code17.as_str();
            let Some(item) = table.get(code) else {
                fail(
                    &mut out,
                    Some(code),
                    "不明な項目",
                    "項目コードが項目表にありません".into(),
                );
                continue;
            };
            let name = item.name.as_str();
            if !seen.insert(code) {
                fail(
                    &mut out,
                    Some(code),
                    name,
                    "同じ項目が2回以上あります".into(),
                );
            }
            if !item.is_observation {
                fail(
                    &mut out,
                    Some(code),
                    name,
                    "この項目は結果ではなく記載者（author）として書く項目です（医師の氏名は医師の診断に付けます）".into(),
                );
                continue;
            }
            if !value_fits(&item.xml_type, &obs.value) {
                fail(
                    &mut out,
                    Some(code),
                    name,
                    format!(
                        "値の型が違います（項目表の型は{}、値は{}）",
                        item.xml_type,
                        kind_ja(&obs.value)
                    ),
                );
                continue;
            }
            match &obs.value {
                ObsValue::Quantity(v) => {
                    if let Some(msg) =
                        quantity_problem(v, item.integer_digits(), item.decimals(), &item.format)
                    {
                        fail(&mut out, Some(code), name, msg);
                    }
                }
                ObsValue::Coded(c) => {
                    if c.is_empty() || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        fail(
                            &mut out,
                            Some(code),
                            name,
                            format!("コード値「{c}」は英数字のコードではありません"),
                        );
                    }
                }
                ObsValue::Text(t) => {
                    if t.trim().is_empty() {
                        fail(&mut out, Some(code), name, "文字列が空です".into());
                    } else if let Some(max) = item.max_len()
                        && t.chars().count() > max
                    {
                        fail(
                            &mut out,
                            Some(code),
                            name,
                            format!(
                                "文字列が{max}文字を超えています（{}文字）",
                                t.chars().count()
                            ),
                        );
                    }
                }
                ObsValue::NotDone | ObsValue::Unmeasurable => {}
            }
        }

        // Required items.
        for code in &self.required {
            let Some(item) = table.get(code) else {
                continue;
            };
            if code == DOCTOR_NAME {
                if ex
                    .doctor_name
                    .as_deref()
                    .is_none_or(|n| n.trim().is_empty())
                {
                    fail(
                        &mut out,
                        Some(code),
                        &item.name,
                        "必須項目がありません（医師の氏名）".into(),
                    );
                }
                continue;
            }
            if let Some(parent) = &item.depends_on
                && ex.value(parent) != Some(&ObsValue::Coded("1".into()))
            {
                continue;
            }
            if ex.value(code).is_none() {
                fail(
                    &mut out,
                    Some(code),
                    &item.name,
                    "必須項目がありません".into(),
                );
            }
        }

        // One of each group.
        for (group, members) in &self.groups {
            if members.iter().any(|m| ex.value(m).is_some()) {
                continue;
            }
            let names: BTreeSet<&str> = members
                .iter()
                .filter_map(|m| table.get(m))
                .map(|i| i.name.as_str())
                .collect();
            let names: Vec<&str> = names.into_iter().collect();
            let label = if *group == '*' {
                "血糖".to_owned()
            } else {
                format!("項目グループ{group}")
            };
            fail(
                &mut out,
                None,
                &label,
                format!("次のいずれかが必要です: {}", names.join("、")),
            );
        }

        // 採血時間 for lipids and glucose.
        let draw = match ex.value(BLOOD_DRAW_TIME) {
            Some(ObsValue::Coded(c)) => Some(c.as_str()),
            _ => None,
        };
        for (codes, allowed, wanted) in [
            (&FASTING_TG[..], &["2"][..], "「2：食後10時間以上」"),
            (
                &CASUAL_TG[..],
                &["3", "4"][..],
                "「3：食後3.5時間以上10時間未満」または「4：食後3.5時間未満」",
            ),
            (&FASTING_GLUCOSE[..], &["2"][..], "「2：食後10時間以上」"),
            (
                &CASUAL_GLUCOSE[..],
                &["3", "4"][..],
                "「3：食後3.5時間以上10時間未満」または「4：食後3.5時間未満」",
            ),
        ] {
            for code in codes {
                let measured = matches!(
                    ex.value(code),
                    Some(ObsValue::Quantity(_) | ObsValue::Unmeasurable)
                );
                if !measured || draw.is_some_and(|d| allowed.contains(&d)) {
                    continue;
                }
                let name = table.get(code).map_or("", |i| i.name.as_str());
                let found = draw.map_or("記録なし".to_owned(), |d| format!("記録は「{d}」"));
                fail(
                    &mut out,
                    Some(code),
                    name,
                    format!(
                        "採血時間(食後)（{BLOOD_DRAW_TIME}）が{wanted}である必要があります（{found}）"
                    ),
                );
            }
        }

        // The doctor and the judgement.
        let judgement = ex.value(DOCTOR_JUDGEMENT);
        if ex.doctor_name.is_some() && judgement.is_none() {
            let name = table
                .get(DOCTOR_NAME)
                .map_or("医師の氏名", |i| i.name.as_str());
            fail(
                &mut out,
                Some(DOCTOR_NAME),
                name,
                format!(
                    "医師の氏名は医師の診断(判定)（{DOCTOR_JUDGEMENT}）の記載者として書くため、医師の診断(判定)が必要です"
                ),
            );
        }
        out
    }
}

fn kind_ja(v: &ObsValue) -> &'static str {
    match v {
        ObsValue::Quantity(_) => "数値",
        ObsValue::Coded(_) => "コード",
        ObsValue::Text(_) => "文字列",
        ObsValue::NotDone => "未実施",
        ObsValue::Unmeasurable => "測定不可",
    }
}

fn quantity_problem(
    v: &str,
    integer_digits: Option<usize>,
    decimals: Option<usize>,
    format: &str,
) -> Option<String> {
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (v, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Some(format!("値「{v}」は数値ではありません"));
    }
    let (Some(max_int), Some(dec)) = (integer_digits, decimals) else {
        return None;
    };
    let int_len = int.trim_start_matches('0').len().max(1);
    let frac_len = frac.map_or(0, str::len);
    if int_len > max_int || frac_len != dec {
        return Some(format!(
            "値「{v}」が形式{format}（整数{max_int}桁以内、小数点以下{dec}桁）に合いません"
        ));
    }
    None
}

fn header_rules(ex: &Examinee, fail: &mut dyn FnMut(&str, String)) {
    let kana = ex.name_kana.trim();
    if kana.is_empty() {
        fail("氏名", "氏名（カナ）がありません".into());
    } else if !kana.chars().all(is_zenkaku_kana) {
        fail("氏名", format!("氏名「{kana}」は全角カナではありません"));
    }
    let ins = &ex.insurer;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if ins.insurer_number.is_empty() || ins.insurer_number.len() > 8 || !digits(&ins.insurer_number)
    {
        fail(
            "保険者番号",
            format!(
                "保険者番号「{}」は8桁以内の数字ではありません",
                ins.insurer_number
            ),
        );
    }
    if ins.number.trim().is_empty() {
        fail("被保険者証番号", "被保険者証番号がありません".into());
    } else if ins.number.chars().count() > 20 {
        fail(
            "被保険者証番号",
            "被保険者証番号が20文字を超えています".into(),
        );
    }
    if let Some(s) = &ins.symbol
        && (s.trim().is_empty() || s.chars().count() > 20)
    {
        fail(
            "被保険者証記号",
            format!("被保険者証記号「{s}」は1〜20文字ではありません"),
        );
    }
    if let Some(b) = &ins.branch
        && (b.len() != 2 || !digits(b))
    {
        fail("枝番", format!("枝番「{b}」は2桁の数字ではありません"));
    }
    if let Some(t) = &ins.ticket_number
        && (t.len() != 11 || !digits(t))
    {
        fail(
            "受診券整理番号",
            format!("受診券整理番号「{t}」は11桁の数字ではありません"),
        );
    }
    if let Some(p) = &ex.postal_code
        && !is_postal_code(p)
    {
        fail(
            "郵便番号",
            format!("郵便番号「{p}」はNNN-NNNNの形ではありません"),
        );
    }
    if let Some(a) = &ex.address
        && a.trim().is_empty()
    {
        fail("住所", "住所が空です".into());
    }
    if ex.checkup_date < ex.birth_date {
        fail("健診実施日", "健診実施日が生年月日より前です".into());
    }
    if let Some(d) = &ex.doctor_name
        && d.trim().is_empty()
    {
        fail("医師の氏名", "医師の氏名が空です".into());
    }
}

/// 全角カタカナ (including ー and ・) or a 全角 space.
pub fn is_zenkaku_kana(c: char) -> bool {
    ('\u{30A1}'..='\u{30FC}').contains(&c) || c == '\u{3000}'
}

/// `NNN-NNNN`.
pub fn is_postal_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8
        && b[3] == b'-'
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_digit)
}

/// Why the schemas could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum XsdError {
    /// A schema file is missing.
    #[error(
        "XSD {0} not found (the configured MHLW schema directory must hold hc08_V08.xsd, ix08_V08.xsd, coreschemas/ and, for claims, cc08_V08.xsd and su08_V08.xsd)"
    )]
    Missing(String),
    /// libxml2 could not compile a schema.
    #[error("XSD {file} does not compile: {message}")]
    Compile {
        /// The schema file.
        file: String,
        /// libxml2's messages.
        message: String,
    },
}

/// libxml2 keeps global state (error handlers, dictionaries); the binding is not promised
/// to be thread-safe, so every use goes through this lock.
static LIBXML: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LIBXML
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The compiled hc08 and ix08 schemas, and cc08 and su08 once claims are validated.
pub struct XsdValidator {
    dir: std::path::PathBuf,
    hc08: libxml::schemas::SchemaValidationContext,
    ix08: libxml::schemas::SchemaValidationContext,
    cc08: Option<libxml::schemas::SchemaValidationContext>,
    su08: Option<libxml::schemas::SchemaValidationContext>,
}

impl std::fmt::Debug for XsdValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XsdValidator")
    }
}

fn compile(dir: &Path, file: &str) -> Result<libxml::schemas::SchemaValidationContext, XsdError> {
    let path = dir.join(file);
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(XsdError::Missing(shown));
    }
    let Some(p) = path.to_str().filter(|p| !p.contains('\0')) else {
        return Err(XsdError::Missing(shown));
    };
    let mut parser = libxml::schemas::SchemaParserContext::from_file(p);
    libxml::schemas::SchemaValidationContext::from_parser(&mut parser).map_err(|errors| {
        XsdError::Compile {
            file: shown,
            message: messages(&errors).join("; "),
        }
    })
}

fn messages(errors: &[libxml::error::StructuredError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            let msg = e.message.as_deref().unwrap_or("(no message)").trim();
            match e.line {
                Some(line) if line > 0 => format!("{line}行目: {msg}"),
                _ => msg.to_owned(),
            }
        })
        .collect()
}

impl XsdValidator {
    /// Compile `hc08_V08.xsd` and `ix08_V08.xsd` from the configured MHLW schema directory.
    pub fn load(xsd_dir: &Path) -> Result<XsdValidator, XsdError> {
        let _guard = lock();
        Ok(XsdValidator {
            dir: xsd_dir.to_owned(),
            hc08: compile(xsd_dir, "hc08_V08.xsd")?,
            ix08: compile(xsd_dir, "ix08_V08.xsd")?,
            cc08: None,
            su08: None,
        })
    }

    /// Validate a DATA file against hc08; libxml2's messages (with line) when invalid.
    pub fn validate_document(&mut self, xml: &[u8]) -> Result<(), Vec<String>> {
        let _guard = lock();
        validate(&mut self.hc08, xml)
    }

    /// Validate an index file against ix08.
    pub fn validate_index(&mut self, xml: &[u8]) -> Result<(), Vec<String>> {
        let _guard = lock();
        validate(&mut self.ix08, xml)
    }

    /// Compile `cc08_V08.xsd` and `su08_V08.xsd` (once): an archive with claims needs them.
    pub fn load_claims(&mut self) -> Result<(), XsdError> {
        let _guard = lock();
        if self.cc08.is_none() {
            self.cc08 = Some(compile(&self.dir, "cc08_V08.xsd")?);
        }
        if self.su08.is_none() {
            self.su08 = Some(compile(&self.dir, "su08_V08.xsd")?);
        }
        Ok(())
    }

    /// Validate a CLAIMS file against cc08 (compiled by [`XsdValidator::load_claims`]).
    pub fn validate_claim(&mut self, xml: &[u8]) -> Result<(), Vec<String>> {
        self.load_claims().map_err(|e| vec![e.to_string()])?;
        let _guard = lock();
        match &mut self.cc08 {
            Some(ctx) => validate(ctx, xml),
            None => Err(vec!["cc08_V08.xsd is not loaded".into()]),
        }
    }

    /// Validate a summary file against su08 (compiled by [`XsdValidator::load_claims`]).
    pub fn validate_summary(&mut self, xml: &[u8]) -> Result<(), Vec<String>> {
        self.load_claims().map_err(|e| vec![e.to_string()])?;
        let _guard = lock();
        match &mut self.su08 {
            Some(ctx) => validate(ctx, xml),
            None => Err(vec!["su08_V08.xsd is not loaded".into()]),
        }
    }
}

fn validate(
    ctx: &mut libxml::schemas::SchemaValidationContext,
    xml: &[u8],
) -> Result<(), Vec<String>> {
    // Without recovery: a file libxml2 would have to repair is refused, not repaired.
    let options = libxml::parser::ParserOptions {
        recover: false,
        no_net: true,
        ..libxml::parser::ParserOptions::default()
    };
    let doc = libxml::parser::Parser::default()
        .parse_string_with_options(xml, options)
        .map_err(|e| vec![format!("XMLとして読めません: {e:?}")])?;
    ctx.validate_document(&doc)
        .map_err(|errors| messages(&errors))
}
