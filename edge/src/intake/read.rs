//! OCR intake of police notices on the box (issue 8): read notice images into fields, match
//! the child against the resident register, and the `checkup-edge ocr notice` command.
//!
//! Pages are read on as many threads as the machine has cores, each with its own Tesseract
//! (Tesseract itself is kept to one thread: `OMP_THREAD_LIMIT=1`); the output keeps the
//! order of the files given.

use std::path::{Path, PathBuf};

use checkup_drivers::notice::read::{Field, NoticeFields, read_page};
use checkup_drivers::scan::{self, ocr::Engine};
use serde_json::{Value, json};

use crate::identity::normalize::{address_key, name_key};

/// Full years from `birth` to `on`.
fn age_on(birth: time::Date, on: time::Date) -> i32 {
    on.year() - birth.year() - i32::from((on.month(), on.day()) < (birth.month(), birth.day()))
}

/// `YYYY-MM-DD`.
const ISO_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// A row of the resident register (`resident_id,name,name_kana,birth_date,sex,address`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RegisterRow {
    /// Resident id.
    pub resident_id: String,
    /// Name.
    pub name: String,
    /// Kana.
    #[serde(default)]
    pub name_kana: String,
    /// Birth date `YYYY-MM-DD`.
    pub birth_date: String,
    /// `male` / `female`.
    #[serde(default)]
    pub sex: String,
    /// Address.
    #[serde(default)]
    pub address: String,
}

/// Read a register CSV (UTF-8, header row; other columns ignored).
pub fn read_register(path: &Path) -> anyhow::Result<Vec<RegisterRow>> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)?;
    let mut out = Vec::new();
    for (i, r) in rdr.deserialize::<RegisterRow>().enumerate() {
        match r {
            Ok(row) => out.push(row),
            Err(e) => tracing::warn!(line = i + 2, error = %e, "register row skipped"),
        }
    }
    Ok(out)
}

fn value(f: &Option<Field>) -> Option<&str> {
    f.as_ref().and_then(|f| f.value.as_deref())
}

/// The one row, if there is exactly one.
fn unique(v: Vec<&RegisterRow>) -> Option<&RegisterRow> {
    if v.len() == 1 {
        v.first().copied()
    } else {
        None
    }
}

/// Match the child against the register — among the residents under 18 on the notice's
/// date — most certain rule first:
/// 1. same birth date and the same name (異体字 and widths folded);
/// 2. same birth date and address, and a name one character off (an OCR slip) or read only
///    in part (at least two characters of it, e.g. the surname lost in a rule);
/// 3. the same name and the address (two slips allowed), the birth date misread or not
///    read (a register holds one person of a name at an address);
/// 4. the one child at the address with a name one character off (name and birth date both
///    misread);
/// 5. the one resident at the address born that day, the name misread past one slip (the
///    name taken from the register still goes to the clerk's review).
///
/// The register then confirms or corrects name, birth date and address, and the guardian's
/// name against the household (residents at the same address): the same name, or the one
/// household member whose name is one character off. The evidence is returned.
pub fn match_child(fields: &mut NoticeFields, register: &[RegisterRow]) -> (Option<String>, Value) {
    let name = value(&fields.child_name).map(name_key);
    let birth = value(&fields.child_birth_date).map(str::to_owned);
    let addr = value(&fields.child_address).map(address_key);
    if name.is_none() && birth.is_none() {
        return (None, json!({"reason": "neither name nor birth date read"}));
    }
    // A notice is about a child (児童福祉法: under 18): only residents under 18 on the
    // notice's date (today's, when it was not read) can be the child — never the guardian
    // whose name or birth date was read into the child's fields.
    let on = value(&fields.notice_date)
        .and_then(|d| time::Date::parse(d, ISO_DATE).ok())
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let children: Vec<&RegisterRow> = register
        .iter()
        .filter(|r| {
            time::Date::parse(&r.birth_date, ISO_DATE).is_ok_and(|b| b <= on && age_on(b, on) < 18)
        })
        .collect();
    let one_off = |a: &str, b: &str| {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        a.len() == b.len() && a.iter().zip(&b).filter(|(x, y)| x != y).count() == 1
    };
    let same_addr = |r: &RegisterRow| {
        addr.as_deref()
            .is_some_and(|a| a == address_key(&r.address))
    };
    let by_birth: Vec<&RegisterRow> = match &birth {
        Some(b) => children
            .iter()
            .copied()
            .filter(|r| &r.birth_date == b)
            .collect(),
        None => Vec::new(),
    };
    let exact = name.as_deref().and_then(|k| {
        unique(
            by_birth
                .iter()
                .copied()
                .filter(|r| name_key(&r.name) == k)
                .collect(),
        )
    });
    let near = || {
        let k = name.as_deref()?;
        unique(
            by_birth
                .iter()
                .copied()
                .filter(|r| same_addr(r))
                .filter(|r| {
                    let rk = name_key(&r.name);
                    one_off(&rk, k) || (k.chars().count() >= 2 && rk.contains(k))
                })
                .collect(),
        )
    };
    // The address may carry a slip or two of its own (清和区 for 浦和区, 19番 read as 1番).
    let near_addr = |r: &RegisterRow| {
        addr.as_deref().is_some_and(|a| {
            let (a, b): (Vec<char>, Vec<char>) = (
                a.chars().collect(),
                address_key(&r.address).chars().collect(),
            );
            checkup_drivers::notice::fields::edit_distance(&a, &b) <= 2
        })
    };
    let by_name_address = || {
        let k = name.as_deref()?;
        unique(
            children
                .iter()
                .copied()
                .filter(|r| name_key(&r.name) == k && near_addr(r))
                .collect(),
        )
    };
    // Both the name and the birth date misread: one child (under 18 on the notice's date)
    // at the address whose name is one edit from the reading (a character lost, added or
    // misread) — not the guardians, not two siblings with such names.
    let child_at_address = || {
        let k: Vec<char> = name.as_deref()?.chars().collect();
        if k.len() < 2 {
            return None;
        }
        let on = value(&fields.notice_date).and_then(|d| time::Date::parse(d, ISO_DATE).ok())?;
        unique(
            register
                .iter()
                .filter(|r| near_addr(r))
                .filter(|r| {
                    time::Date::parse(&r.birth_date, ISO_DATE)
                        .is_ok_and(|b| b <= on && age_on(b, on) < 18)
                })
                .filter(|r| {
                    let rk: Vec<char> = name_key(&r.name).chars().collect();
                    checkup_drivers::notice::fields::edit_distance(&rk, &k) <= 1
                })
                .collect(),
        )
    };
    // The name misread past one slip (a handwritten name, rare kanji): the one resident at
    // the address born that day — twins share both and are left to the clerk.
    let born_there = || {
        birth.as_ref()?;
        unique(by_birth.iter().copied().filter(|r| near_addr(r)).collect())
    };
    let (row, how) = if let Some(r) = exact {
        (r, "name and birth date")
    } else if let Some(r) = near() {
        (r, "birth date, address and most of the name")
    } else if let Some(r) = by_name_address() {
        (r, "name and address (birth date misread)")
    } else if let Some(r) = child_at_address() {
        (
            r,
            "the one child at the address with a name one character off",
        )
    } else if let Some(r) = born_there() {
        (
            r,
            "the one resident at the address born that day (name misread)",
        )
    } else {
        return (
            None,
            json!({"reason": "no single resident with this name and birth date"}),
        );
    };
    let mut corrected = Vec::new();
    if let Some(f) = fields.child_name.as_mut()
        && f.value.as_deref() != Some(row.name.as_str())
    {
        corrected.push(json!({"field": "child_name", "read": f.value, "register": row.name}));
        f.value = Some(checkup_drivers::notice::fields::name(&row.name));
        f.confidence = f.confidence.max(0.95);
        f.review = false;
    }
    if let Some(f) = fields.child_birth_date.as_mut() {
        if f.value.as_deref() != Some(row.birth_date.as_str()) {
            corrected.push(
                json!({"field": "child_birth_date", "read": f.value, "register": row.birth_date}),
            );
            f.value = Some(row.birth_date.clone());
        }
        f.confidence = f.confidence.max(0.95);
        f.review = false;
    }
    if let Some(f) = fields.child_sex.as_mut()
        && matches!(row.sex.as_str(), "male" | "female")
        && f.value.as_deref() != Some(row.sex.as_str())
    {
        corrected.push(json!({"field": "child_sex", "read": f.value, "register": row.sex}));
        f.value = Some(row.sex.clone());
        f.confidence = f.confidence.max(0.95);
        f.review = false;
    }
    if let Some(f) = fields.child_address.as_mut()
        && !row.address.is_empty()
        && f.value.as_deref().map(address_key) != Some(address_key(&row.address))
    {
        corrected.push(json!({"field": "child_address", "read": f.value, "register": row.address}));
        f.value = Some(checkup_drivers::notice::fields::compact(&row.address));
    }
    // A name the reading did not support is the register's, for the clerk to confirm.
    if how.starts_with("the one resident at the address born that day")
        && let Some(f) = fields.child_name.as_mut()
    {
        f.review = true;
        f.confidence = f.confidence.min(0.6);
    }
    // The sender: a station named for the child's city or ward, read one character off.
    if let Some(f) = fields.reporting_agency.as_mut()
        && let Some(read) = f.value.clone()
        && let Some(fixed) =
            checkup_drivers::notice::read::station_from_address(&read, &row.address)
    {
        corrected.push(json!({"field": "reporting_agency", "read": read, "register": fixed}));
        f.value = Some(fixed);
        f.confidence = f.confidence.min(0.75);
        f.review = true;
    }
    // The guardian, among the household.
    let household: Vec<&RegisterRow> = register
        .iter()
        .filter(|r| {
            r.resident_id != row.resident_id
                && !row.address.is_empty()
                && address_key(&r.address) == address_key(&row.address)
        })
        .collect();
    if let Some(f) = fields.guardian_name.as_mut()
        && let Some(read) = f.value.as_deref().map(name_key)
    {
        let same = household.iter().find(|r| name_key(&r.name) == read);
        let read_chars: Vec<char> = read.chars().collect();
        let near: Vec<&&RegisterRow> = household
            .iter()
            .filter(|r| {
                let rk: Vec<char> = name_key(&r.name).chars().collect();
                let rks: String = rk.iter().collect();
                // One character off; or marks read around the name (「リー田中裕子」); or the
                // name read in part, two characters at least (「川健一」).
                checkup_drivers::notice::fields::edit_distance(&rk, &read_chars) == 1
                    || read.contains(&rks)
                    || (read_chars.len() >= 2 && rks.contains(&read))
            })
            .collect();
        let found = same.or(if near.len() == 1 {
            near.first().copied()
        } else {
            None
        });
        if let Some(r) = found {
            if f.value.as_deref() != Some(r.name.as_str()) {
                corrected
                    .push(json!({"field": "guardian_name", "read": f.value, "register": r.name}));
                f.value = Some(checkup_drivers::notice::fields::name(&r.name));
            }
            f.confidence = f.confidence.max(0.9);
            f.review = false;
        }
    }
    (
        Some(row.resident_id.clone()),
        json!({"matched_on": how, "corrected": corrected}),
    )
}

/// The CLI's JSON for one image (also what the box keeps as a scan's result): per field
/// value, confidence, bbox, review and `flags` ([`super::flags`]: why it must be reviewed
/// whatever its confidence).
pub fn notice_json(
    file: &str,
    fields: &NoticeFields,
    resident: Option<String>,
    evidence: Value,
) -> Value {
    let all = serde_json::to_value(fields).unwrap_or(Value::Null);
    let mut out = serde_json::Map::new();
    for n in checkup_drivers::notice::read::FIELD_NAMES {
        let f = &all[n];
        // Label text or foreign characters send a value to review whatever its confidence.
        let flags = f["value"]
            .as_str()
            .map(|v| super::flags::flags(n, v))
            .unwrap_or_default();
        out.insert(
            n.to_owned(),
            json!({
                "value": f["value"],
                "confidence": f["confidence"].as_f64().map_or(0.0, |c| (c * 1000.0).round() / 1000.0),
                "bbox": if f["bbox"].is_array() { f["bbox"].clone() } else { json!([0, 0, 0, 0]) },
                "review": f["review"].as_bool().unwrap_or(true) || !flags.is_empty(),
                "flags": flags,
            }),
        );
    }
    json!({"file": file, "fields": out, "resident_id": resident, "match": evidence})
}

/// Read one image file: its first page's fields (then matched against the register). Only
/// that page is decoded.
pub fn read_notice(engine: &mut Engine, path: &Path, register: &[RegisterRow]) -> Value {
    let file = path.display().to_string();
    let reader = scan::Reader::new(scan::Limits::default()).first_pages(1);
    let pages = match reader.read_file(path) {
        Ok(p) => p,
        Err(e) => {
            return json!({"file": file, "error": {"code": e.code(), "message": e.to_string()}});
        }
    };
    let Some(first) = pages.first() else {
        return json!({"file": file, "error": {"code": "empty", "message": "no page"}});
    };
    match read_page(engine, &first.image) {
        Ok(mut fields) => {
            let (resident, evidence) = if register.is_empty() {
                (None, Value::Null)
            } else {
                match_child(&mut fields, register)
            };
            notice_json(&file, &fields, resident, evidence)
        }
        Err(e) => json!({"file": file, "error": {"code": "ocr_failed", "message": e.to_string()}}),
    }
}

/// Read every file on all cores, in order; one JSON object per file.
pub fn read_notices(files: &[PathBuf], register: &[RegisterRow]) -> anyhow::Result<Vec<Value>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Value>>> =
        std::sync::Mutex::new(vec![None; files.len()]);
    std::thread::scope(|s| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for _ in 0..threads {
            handles.push(s.spawn(|| -> anyhow::Result<()> {
                let mut engine = Engine::new()?;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let v = read_notice(&mut engine, f, register);
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(v);
                    }
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a reading thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("results poisoned"))?
        .into_iter()
        .flatten()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_drivers::notice::read::Field;

    fn f(v: &str) -> Option<Field> {
        Some(Field {
            value: (!v.is_empty()).then(|| v.to_owned()),
            confidence: 0.6,
            bbox: [0, 0, 1, 1],
            review: true,
            raw: v.to_owned(),
        })
    }

    fn row(id: &str, name: &str, birth: &str, sex: &str, address: &str) -> RegisterRow {
        RegisterRow {
            resident_id: id.into(),
            name: name.into(),
            name_kana: String::new(),
            birth_date: birth.into(),
            sex: sex.into(),
            address: address.into(),
        }
    }

    fn register() -> Vec<RegisterRow> {
        let home = "埼玉県さいたま市浦和区高砂4丁目28番19号";
        vec![
            row("1", "村上蓮", "2023-12-11", "male", home),
            row("2", "村上由美", "1988-02-03", "", home),
            row("3", "村上一郎", "1986-05-06", "", home),
            // Born the same day elsewhere: the birth date alone never decides.
            row(
                "4",
                "森葵",
                "2023-12-11",
                "female",
                "北海道札幌市中央区北一条西1丁目1番1号",
            ),
            row(
                "5",
                "坂本蓮",
                "2023-12-11",
                "male",
                "千葉県船橋市本町1丁目1番1号",
            ),
        ]
    }

    fn notice(name: &str, birth: &str, sex: &str, address: &str, guardian: &str) -> NoticeFields {
        NoticeFields {
            child_name: f(name),
            child_birth_date: f(birth),
            child_sex: f(sex),
            child_address: f(address),
            guardian_name: f(guardian),
            ..NoticeFields::default()
        }
    }

    #[test]
    fn a_confident_value_with_label_text_or_foreign_characters_is_sent_to_review() {
        let sure = |v: &str| {
            Some(Field {
                value: Some(v.to_owned()),
                confidence: 0.99,
                bbox: [0, 0, 1, 1],
                review: false,
                raw: v.to_owned(),
            })
        };
        let fields = NoticeFields {
            reporting_agency: sure("通告者:みどり警察署長"),
            child_name: sure("山田太郎"),
            guardian_name: sure("山田A子"),
            summary: sure("が自宅で泣き声が続いていた。"),
            ..NoticeFields::default()
        };
        let j = notice_json("x.png", &fields, None, Value::Null);
        let field = |n: &str| &j["fields"][n];
        assert_eq!(field("reporting_agency")["review"], true, "{j}");
        assert_eq!(field("reporting_agency")["flags"][0]["code"], "label_text");
        assert_eq!(field("guardian_name")["review"], true);
        assert_eq!(field("guardian_name")["flags"][0]["code"], "foreign_chars");
        assert_eq!(field("summary")["flags"][0]["code"], "starts_mid_sentence");
        assert_eq!(field("child_name")["review"], false, "{j}");
        assert_eq!(field("child_name")["flags"], json!([]));
        assert_eq!(field("notice_date")["flags"], json!([]));
    }

    #[test]
    fn each_rule_matches_and_the_register_corrects_what_was_misread() {
        let reg = register();
        // 1. Name and birth date; the guardian one character off in the household.
        let mut n = notice("村上蓮", "2023-12-11", "", "", "村上由半");
        assert_eq!(match_child(&mut n, &reg).0.as_deref(), Some("1"));
        assert_eq!(value(&n.guardian_name), Some("村上由美"));
        assert_eq!(value(&n.child_sex), Some("male"));
        assert_eq!(
            value(&n.child_address),
            Some("埼玉県さいたま市浦和区高砂4丁目28番19号")
        );
        // 2. Birth date, address and a name one character off.
        let mut n = notice(
            "村上間",
            "2023-12-11",
            "",
            "埼玉県さいたま市浦和区高砂4丁目28番19号",
            "",
        );
        assert_eq!(match_child(&mut n, &reg).0.as_deref(), Some("1"));
        assert_eq!(value(&n.child_name), Some("村上蓮"));
        // 3. Name and an address with two slips; the birth date misread is corrected.
        let mut n = notice(
            "村上蓮",
            "2023-12-01",
            "",
            "埼玉県さいたま市清和区高砂4丁目28番1号",
            "",
        );
        assert_eq!(match_child(&mut n, &reg).0.as_deref(), Some("1"));
        assert_eq!(value(&n.child_birth_date), Some("2023-12-11"));
        // No rule: a name one character off without the address is not enough.
        let mut n = notice("村上間", "2023-12-11", "", "", "");
        assert_eq!(match_child(&mut n, &reg).0, None);
        assert_eq!(value(&n.child_name), Some("村上間"), "nothing changed");
        // 4. Name and birth date both misread: the one child at the address one edit off;
        //    the guardian found in the household with marks read around the name.
        let mut n = notice(
            "村上蓮了",
            "1990-12-01",
            "",
            "埼玉県さいたま市浦和区高砂4丁目28番19号",
            "リー村上由美",
        );
        n.notice_date = f("2025-06-01");
        n.reporting_agency = f("清和警察署長");
        assert_eq!(match_child(&mut n, &reg).0.as_deref(), Some("1"));
        assert_eq!(value(&n.child_name), Some("村上蓮"));
        assert_eq!(value(&n.reporting_agency), Some("浦和警察署長"));
        assert_eq!(value(&n.child_birth_date), Some("2023-12-11"));
        assert_eq!(value(&n.guardian_name), Some("村上由美"));
        // ... never a guardian (an adult) one edit off, and not without the notice's date.
        let mut n = notice(
            "村上由美子",
            "1990-12-01",
            "",
            "埼玉県さいたま市浦和区高砂4丁目28番19号",
            "",
        );
        n.notice_date = f("2025-06-01");
        assert_eq!(match_child(&mut n, &reg).0, None);
        let mut n = notice(
            "村上蓮了",
            "1990-12-01",
            "",
            "埼玉県さいたま市浦和区高砂4丁目28番19号",
            "",
        );
        assert_eq!(match_child(&mut n, &reg).0, None);
        // Two guardians one character off: none is chosen.
        let mut n = notice("村上蓮", "2023-12-11", "", "", "村上一美");
        match_child(&mut n, &reg);
        assert_eq!(value(&n.guardian_name), Some("村上一美"));
        // 5. The name misread past one slip: the one resident at the address born that day,
        //    the register's name left for the clerk to confirm.
        let mut n = notice(
            "杉本間",
            "2023-12-11",
            "",
            "埼玉県さいたま市浦和区高砂4丁目28番19号",
            "",
        );
        assert_eq!(match_child(&mut n, &reg).0.as_deref(), Some("1"));
        assert_eq!(value(&n.child_name), Some("村上蓮"));
        assert!(n.child_name.as_ref().is_some_and(|f| f.review));
    }

    #[test]
    fn the_guardian_read_into_the_childs_fields_is_never_the_child() {
        let reg = register();
        let home = "埼玉県さいたま市浦和区高砂4丁目28番19号";
        // The guardian's name and birth date where the child's belong (a layout misread).
        let mut n = notice("村上由美", "1988-02-03", "", home, "");
        n.notice_date = f("2025-06-01");
        assert_eq!(match_child(&mut n, &reg).0, None);
        assert_eq!(
            value(&n.child_birth_date),
            Some("1988-02-03"),
            "nothing changed"
        );
        // The guardian's name and the address, the birth date misread.
        let mut n = notice("村上由美", "2010-12-29", "", home, "");
        n.notice_date = f("2025-06-01");
        assert_eq!(match_child(&mut n, &reg).0, None);
        // Without the notice's date, today's decides who is a child.
        let mut n = notice("村上由美", "1988-02-03", "", home, "");
        assert_eq!(match_child(&mut n, &reg).0, None);
    }
}
