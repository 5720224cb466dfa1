//! Roster import: the reservation system's CSV export, UTF-8 (with or without BOM) or
//! Shift_JIS/CP932, header row required. Good rows are imported, bad rows are reported with
//! their line number and reason, nothing is dropped silently.
//!
//! Columns (English or the Japanese headers municipal systems use): `resident_id`/宛名番号,
//! `name`/氏名, `name_kana`/カナ氏名, `birth_date`/生年月日, `sex`/性別, `address`/住所,
//! `course`/コース, `booked_at`/予約時刻.
//!
//! Optional columns, the resident's insurer identity ([`InsurerIdentity`]):
//! `insurer_number`/保険者番号, `insured_symbol`/被保険者証記号 (or 記号),
//! `insured_number`/被保険者証番号 (or 番号), `insured_branch`/枝番,
//! `ticket_number`/受診券整理番号, `ticket_expiry`/受診券有効期限. Without them, or with
//! every one of them empty on a row, the resident has no identity (still a good row). Digits
//! may be full-width and the expiry written `YYYY/MM/DD`; a row whose identity does not
//! validate (保険者番号's 検証番号, 11-digit 受診券整理番号, 2-digit 枝番, a real expiry date,
//! 記号・番号 of at most 20 characters) is reported with the field's name and not imported.

use unicode_normalization::UnicodeNormalization;

use checkup_protocol::insurer::{InsurerError, InsurerField, InsurerIdentity, Problem};

use super::Resident;

/// Largest roster file accepted, and the body limit of `POST /api/roster/import` (other
/// routes keep `store.max_body_bytes`): 32 MiB holds a municipality's roster of 60,000
/// residents several times over (a row is about 150–250 bytes).
pub const MAX_ROSTER_BYTES: usize = 32 * 1024 * 1024;

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// What is wrong, in words a clerk can act on.
    pub reason: String,
}

/// Why the file as a whole could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    /// Neither UTF-8 nor Shift_JIS.
    #[error("the file is neither UTF-8 nor Shift_JIS")]
    Encoding,
    /// Over [`MAX_ROSTER_BYTES`].
    #[error("the file is {0} bytes; at most {MAX_ROSTER_BYTES}")]
    TooLarge(usize),
    /// Header row missing or lacking required columns.
    #[error("header: {0}")]
    Header(String),
}

const COLUMNS: [(&str, &[&str]); 8] = [
    ("resident_id", &["resident_id", "宛名番号", "住民番号"]),
    ("name", &["name", "氏名"]),
    (
        "name_kana",
        &["name_kana", "カナ氏名", "氏名カナ", "フリガナ"],
    ),
    ("birth_date", &["birth_date", "生年月日"]),
    ("sex", &["sex", "性別"]),
    ("address", &["address", "住所"]),
    ("course", &["course", "コース", "健診コース"]),
    ("booked_at", &["booked_at", "予約時刻", "予約時間"]),
];

/// The optional insurer columns, in [`InsurerField::ALL`] order.
const INSURER_COLUMNS: [&[&str]; 6] = [
    &["insurer_number", "保険者番号"],
    &[
        "insured_symbol",
        "被保険者証記号",
        "被保険者証等記号",
        "記号",
    ],
    &[
        "insured_number",
        "被保険者証番号",
        "被保険者証等番号",
        "番号",
    ],
    &["insured_branch", "枝番"],
    &["ticket_number", "受診券整理番号"],
    &["ticket_expiry", "受診券有効期限"],
];

/// Decode the file: UTF-8 (BOM stripped) if valid, else Shift_JIS (CP932). Line ends are
/// made LF: the csv crate numbers each record of a CRLF file (as Windows systems write
/// them) one line early, and row errors must name the right line.
pub fn decode(bytes: &[u8]) -> Result<String, ImportError> {
    if bytes.len() > MAX_ROSTER_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.replace("\r\n", "\n"));
    }
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(bytes);
    if had_errors {
        return Err(ImportError::Encoding);
    }
    Ok(text.replace("\r\n", "\n"))
}

/// A CSV reader over decoded text (header row, trimmed fields, short rows allowed so they
/// can be reported) and its header.
fn csv_reader(text: &str) -> Result<(csv::Reader<&[u8]>, csv::StringRecord), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ImportError::Header(e.to_string()))?
        .clone();
    Ok((reader, headers))
}

/// Parse a roster file into good residents and row errors.
pub fn parse(bytes: &[u8]) -> Result<(Vec<Resident>, Vec<RowError>), ImportError> {
    let text = decode(bytes)?;
    let (mut reader, headers) = csv_reader(&text)?;
    let column = |aliases: &[&str]| {
        headers
            .iter()
            .position(|h| aliases.contains(&h.trim_start_matches('\u{feff}')))
    };
    let mut index = [0usize; 8];
    for (i, (name, aliases)) in COLUMNS.iter().enumerate() {
        index[i] = column(aliases)
            .ok_or_else(|| ImportError::Header(format!("column {name} is missing")))?;
    }
    let insurer_index = INSURER_COLUMNS.map(column);
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(index[i]).unwrap_or("").to_owned();
        if record.len() < headers.len() {
            errors.push(RowError {
                line,
                reason: format!("{} fields; the header has {}", record.len(), headers.len()),
            });
            continue;
        }
        let insurer_cells =
            insurer_index.map(|i| i.and_then(|i| record.get(i)).unwrap_or("").to_owned());
        let parsed = row(&field).and_then(|mut r| {
            r.insurer = insurer(insurer_cells).map_err(|e| e.to_string())?;
            Ok(r)
        });
        match parsed {
            Ok(r) => {
                if let Some(first) = seen.insert(r.resident_id.clone(), line) {
                    errors.push(RowError {
                        line,
                        reason: format!("resident {} is already on line {first}", r.resident_id),
                    });
                } else {
                    good.push(r);
                }
            }
            Err(reason) => errors.push(RowError { line, reason }),
        }
    }
    Ok((good, errors))
}

fn row(field: &dyn Fn(usize) -> String) -> Result<Resident, String> {
    let resident_id = field(0);
    if resident_id.is_empty()
        || resident_id.len() > 64
        || !resident_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(format!(
            "resident_id {resident_id:?} must be 1–64 letters, digits or '-'"
        ));
    }
    let name = field(1);
    if name.is_empty() {
        return Err("name is empty".into());
    }
    let kana: String = field(2).nfkc().collect();
    if kana.is_empty()
        || !kana
            .chars()
            .all(|c| ('\u{30A0}'..='\u{30FF}').contains(&c) || c == ' ' || c == '\u{3000}')
    {
        return Err(format!("name_kana {kana:?} must be katakana"));
    }
    let birth_date = parse_date(&field(3))
        .ok_or_else(|| format!("birth_date {:?} is not a date (YYYY-MM-DD)", field(3)))?;
    let sex = match field(4).nfkc().collect::<String>().as_str() {
        "male" | "男" | "男性" | "1" | "M" => "male",
        "female" | "女" | "女性" | "2" | "F" => "female",
        "other" | "9" => "other",
        other => return Err(format!("sex {other:?} is not male/female/other")),
    };
    let address = field(5);
    if address.is_empty() {
        return Err("address is empty".into());
    }
    let course = field(6);
    if course.is_empty() {
        return Err("course is empty".into());
    }
    let booked_at: String = field(7).nfkc().collect();
    let ok_time = booked_at.len() == 5
        && booked_at.as_bytes()[2] == b':'
        && booked_at[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && booked_at[3..].parse::<u8>().is_ok_and(|m| m < 60);
    if !ok_time {
        return Err(format!("booked_at {booked_at:?} is not HH:MM"));
    }
    Ok(Resident {
        resident_id,
        name,
        name_kana: kana.replace(' ', "\u{3000}"),
        birth_date,
        sex: sex.into(),
        address,
        course,
        booked_at,
        insurer: None,
    })
}

/// The insurer identity of a row from its cells (in [`InsurerField::ALL`] order, empty
/// where the column is absent): none when every cell is empty. Full-width digits are read
/// as digits; the expiry may be written `YYYY/MM/DD`.
fn insurer(cells: [String; 6]) -> Result<Option<InsurerIdentity>, InsurerError> {
    if cells.iter().all(String::is_empty) {
        return Ok(None);
    }
    let [
        insurer_number,
        symbol,
        number,
        branch,
        ticket_number,
        ticket_expiry,
    ] = cells;
    let digits = |s: String| -> String { s.nfkc().collect() };
    let some = |s: String| (!s.is_empty()).then_some(s);
    if insurer_number.is_empty() {
        // The other fields mean nothing without the insurer they belong to.
        return Err(InsurerError {
            field: InsurerField::InsurerNumber,
            problem: Problem::Empty,
        });
    }
    let ticket_expiry = match some(ticket_expiry) {
        None => None,
        Some(e) => Some(parse_date(&e).ok_or(InsurerError {
            field: InsurerField::TicketExpiry,
            problem: Problem::NotADate { value: e },
        })?),
    };
    InsurerIdentity::new(
        digits(insurer_number),
        some(symbol),
        number,
        some(branch).map(digits),
        some(ticket_number).map(digits),
        ticket_expiry,
    )
    .map(Some)
}

/// `YYYY-MM-DD` or `YYYY/MM/DD` (full-width digits accepted) → ISO, if a real date.
fn parse_date(s: &str) -> Option<String> {
    let s: String = s.nfkc().collect();
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = (
        y.parse::<i32>().ok()?,
        m.parse::<u8>().ok()?,
        d.parse::<u8>().ok()?,
    );
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
    if !(1890..=2100).contains(&y) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

/// Parse earlier results: `resident_id,item_code,value,unit,date` (UTF-8 or Shift_JIS).
pub fn parse_history(bytes: &[u8]) -> Result<(Vec<super::HistoryRow>, Vec<RowError>), ImportError> {
    use checkup_protocol::items::{self, ItemValueKind, QUALITATIVE_VALUES};
    let text = decode(bytes)?;
    let (mut reader, headers) = csv_reader(&text)?;
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ImportError::Header(format!("column {name} is missing")))
    };
    let idx = [
        col("resident_id")?,
        col("item_code")?,
        col("value")?,
        col("unit")?,
        col("date")?,
    ];
    let (mut good, mut errors) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    line: e.position().map_or(0, |p| p.line()),
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let f = |i: usize| record.get(idx[i]).unwrap_or("").to_owned();
        let checked = (|| -> Result<super::HistoryRow, String> {
            let item = items::item(&f(1)).ok_or_else(|| format!("unknown item code {:?}", f(1)))?;
            if f(3) != item.unit {
                return Err(format!(
                    "{} is recorded in {:?}, not {:?}",
                    item.name_en,
                    item.unit,
                    f(3)
                ));
            }
            let value: String = f(2).nfkc().collect();
            match item.kind {
                ItemValueKind::Numeric { min, max, .. } => {
                    let v: f64 = value
                        .parse()
                        .map_err(|_| format!("value {value:?} is not a number"))?;
                    if !(min..=max).contains(&v) {
                        return Err(format!("{v} is impossible for {}", item.name_en));
                    }
                }
                ItemValueKind::Qualitative => {
                    if !QUALITATIVE_VALUES.contains(&value.as_str()) {
                        return Err(format!("{value:?} is not one of {QUALITATIVE_VALUES:?}"));
                    }
                }
                ItemValueKind::Choice(choices) => {
                    if !choices.iter().any(|c| c.code == value) {
                        return Err(format!(
                            "{value:?} is not a code of {} ({:?})",
                            item.name_en,
                            item.kind.codes().unwrap_or_default()
                        ));
                    }
                }
                ItemValueKind::Text { max_chars } => {
                    items::check_free_text(&value, max_chars)
                        .map_err(|e| format!("{}: the text {e}", item.name_en))?;
                }
                ItemValueKind::Coded(set) => {
                    if !set.codes().contains(&value.as_str()) {
                        return Err(format!(
                            "{value:?} is not an answer code of {} ({:?})",
                            item.name_en,
                            set.codes()
                        ));
                    }
                }
            }
            let date = parse_date(&f(4)).ok_or_else(|| format!("date {:?} is not a date", f(4)))?;
            if f(0).is_empty() {
                return Err("resident_id is empty".into());
            }
            Ok(super::HistoryRow {
                resident_id: f(0),
                item_code: item.code.into(),
                value,
                unit: item.unit.into(),
                date,
            })
        })();
        match checked {
            Ok(r) => good.push(r),
            Err(reason) => errors.push(RowError { line, reason }),
        }
    }
    Ok((good, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n";

    #[test]
    fn good_rows_import_and_each_defect_is_reported_by_line() {
        let csv = format!(
            "{HEADER}\
             0000000001,髙橋　節子,タカハシ　セツコ,1952-03-14,female,みどり市中央1丁目2番3号,特定健診,09:00\n\
             ,名無し,ナナシ,1950-01-01,male,住所,特定健診,09:05\n\
             0000000003,山田　太郎,やまだ,1950-01-01,male,住所,特定健診,09:10\n\
             0000000004,山田　太郎,ヤマダ　タロウ,1950-02-30,male,住所,特定健診,09:15\n\
             0000000005,山田　太郎,ヤマダ　タロウ,1950-02-03,X,住所,特定健診,09:20\n\
             0000000006,山田　太郎,ヤマダ　タロウ,1950-02-03,male,,特定健診,09:25\n\
             0000000007,山田　太郎,ヤマダ　タロウ,1950-02-03,male,住所,特定健診,25:00\n\
             0000000008,山田　太郎\n\
             0000000001,重複　花子,チョウフク　ハナコ,1960-01-01,女,住所,特定健診,09:40\n\
             0000000010,ｻﾄｳ　ｷﾖｼ,ｻﾄｳ ｷﾖｼ,１９４８/０５/０６,男,みどり市,後期高齢者健診,１０:００\n"
        );
        let (good, errors) = parse(csv.as_bytes()).expect("parses");
        assert_eq!(
            good.iter()
                .map(|r| r.resident_id.as_str())
                .collect::<Vec<_>>(),
            ["0000000001", "0000000010"]
        );
        assert_eq!(
            good[1].name_kana, "サトウ　キヨシ",
            "half-width kana normalised"
        );
        assert_eq!(good[1].birth_date, "1948-05-06");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10], "{errors:?}");
        assert!(errors[0].reason.contains("resident_id"));
        assert!(errors[2].reason.contains("birth_date"));
        assert!(errors[7].reason.contains("already on line 2"));
    }

    #[test]
    fn shift_jis_files_and_japanese_headers_are_read() {
        let text = "宛名番号,氏名,カナ氏名,生年月日,性別,住所,コース,予約時刻\r\n0000000042,渡邊　健一,ワタナベ　ケンイチ,1958-04-22,男,みどり市緑町2丁目5番8号,特定健診,10:30\r\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(std::str::from_utf8(&sjis).is_err(), "really Shift_JIS");
        let (good, errors) = parse(&sjis).expect("parses");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(good[0].name, "渡邊　健一");
        assert_eq!(good[0].address, "みどり市緑町2丁目5番8号");
    }

    #[test]
    fn earlier_results_parse_with_row_errors() {
        let csv = "resident_id,item_code,value,unit,date\n\
                   0000000001,9N006000000000001,６２.５,kg,2025/11/20\n\
                   0000000001,9N006000000000001,62.5,g,2025-11-20\n\
                   0000000001,9N999000000000001,1,kg,2025-11-20\n\
                   0000000001,1A010000000191111,+,,2025-11-20\n\
                   0000000001,9N001000000000001,1600,cm,2025-11-20\n";
        let (good, errors) = parse_history(csv.as_bytes()).expect("parses");
        assert_eq!(good.len(), 2, "{errors:?}");
        assert_eq!(
            (good[0].value.as_str(), good[0].date.as_str()),
            ("62.5", "2025-11-20")
        );
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4, 6]);
    }

    const INSURED_HEADER: &str = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at,\
        insurer_number,insured_symbol,insured_number,insured_branch,ticket_number,ticket_expiry\n";

    fn insured_row(id: &str, insurer: &str) -> String {
        format!(
            "{id},山田　太郎,ヤマダ　タロウ,1960-01-01,male,みどり市,特定健診,09:00,{insurer}\n"
        )
    }

    #[test]
    fn insurer_identities_are_read_and_each_bad_field_is_reported_by_line() {
        let rows = [
            ("0000000001", "01130012,1234,56,01,26000000123,2027-03-31"),
            // Full-width digits, a full-width 記号, a slashed expiry; no 枝番 or 受診券.
            ("0000000002", "１３８０５７,みどり,７８,,,２０２７/３/３１"),
            // No identity at all: still a good row.
            ("0000000003", ",,,,,"),
            ("0000000004", "01130013,1234,56,01,26000000123,2027-03-31"),
            ("0000000005", "0113001,1234,56,01,26000000123,2027-03-31"),
            (
                "0000000006",
                "01130012,１２３４５６７８９０１２３４５６７８９０１,56,01,26000000123,2027-03-31",
            ),
            ("0000000007", "01130012,1234,,01,26000000123,2027-03-31"),
            ("0000000008", "01130012,1234,56,1,26000000123,2027-03-31"),
            ("0000000009", "01130012,1234,56,01,2600000012,2027-03-31"),
            ("0000000010", "01130012,1234,56,01,26000000123,2027-02-30"),
            ("0000000011", ",1234,56,01,,"),
        ];
        let mut csv = INSURED_HEADER.to_owned();
        for (id, insurer) in rows {
            csv.push_str(&insured_row(id, insurer));
        }
        let (good, errors) = parse(csv.as_bytes()).expect("parses");
        let ids: Vec<&str> = good.iter().map(|r| r.resident_id.as_str()).collect();
        assert_eq!(
            ids,
            ["0000000001", "0000000002", "0000000003"],
            "{errors:?}"
        );
        let first = good[0].insurer.as_ref().expect("identity");
        assert_eq!(
            first,
            &InsurerIdentity {
                insurer_number: "01130012".into(),
                symbol: Some("1234".into()),
                number: "56".into(),
                branch: Some("01".into()),
                ticket_number: Some("26000000123".into()),
                ticket_expiry: Some("2027-03-31".into()),
            }
        );
        let second = good[1].insurer.as_ref().expect("identity");
        assert_eq!(
            (
                second.insurer_number.as_str(),
                second.symbol.as_deref(),
                second.number.as_str(),
                second.branch.as_deref(),
                second.ticket_expiry.as_deref()
            ),
            ("138057", Some("みどり"), "７８", None, Some("2027-03-31"))
        );
        assert_eq!(good[2].insurer, None);
        let expected = [
            (5, "保険者番号 (insurer_number)"),
            (6, "保険者番号 (insurer_number)"),
            (7, "被保険者証記号 (insured_symbol)"),
            (8, "被保険者証番号 (insured_number)"),
            (9, "枝番 (insured_branch)"),
            (10, "受診券整理番号 (ticket_number)"),
            (11, "受診券有効期限 (ticket_expiry)"),
            (12, "保険者番号 (insurer_number)"),
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:?}");
        for (e, (line, field)) in errors.iter().zip(expected) {
            assert_eq!(e.line, line, "{errors:?}");
            assert!(e.reason.starts_with(field), "line {line}: {}", e.reason);
        }
        assert!(
            errors[0].reason.contains("検証番号"),
            "{}",
            errors[0].reason
        );
    }

    #[test]
    fn japanese_insurer_headers_in_shift_jis_are_read() {
        let text = "宛名番号,氏名,カナ氏名,生年月日,性別,住所,コース,予約時刻,保険者番号,記号,番号,枝番,受診券整理番号,受診券有効期限\r\n\
                    0000000042,渡邊　健一,ワタナベ　ケンイチ,1958-04-22,男,みどり市緑町2丁目5番8号,特定健診,10:30,01040013,緑,１０２,00,26123456789,2027/03/31\r\n\
                    0000000043,高橋　節子,タカハシ　セツコ,1952-03-14,女,みどり市,特定健診,10:35,01040014,緑,103,00,26123456789,2027/03/31\r\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(std::str::from_utf8(&sjis).is_err(), "really Shift_JIS");
        let (good, errors) = parse(&sjis).expect("parses");
        assert_eq!(good.len(), 1, "{errors:?}");
        let id = good[0].insurer.as_ref().expect("identity");
        assert_eq!(id.insurer_number, "01040013");
        assert_eq!(id.symbol.as_deref(), Some("緑"));
        assert_eq!(id.number, "１０２");
        assert_eq!(id.branch.as_deref(), Some("00"));
        assert_eq!(id.ticket_number.as_deref(), Some("26123456789"));
        assert_eq!(id.ticket_expiry.as_deref(), Some("2027-03-31"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3, "{errors:?} {good:?}");
        assert!(
            errors[0].reason.contains("保険者番号"),
            "{}",
            errors[0].reason
        );
    }

    #[test]
    fn a_roster_without_insurer_columns_has_no_identities() {
        let csv = format!(
            "{HEADER}0000000001,髙橋　節子,タカハシ　セツコ,1952-03-14,female,みどり市,特定健診,09:00\n"
        );
        let (good, errors) = parse(csv.as_bytes()).expect("parses");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(good[0].insurer, None);
    }

    proptest::proptest! {
        #[test]
        fn any_insurer_cells_give_a_row_or_a_reason_naming_an_insurer_field(
            cells in proptest::array::uniform6("[0-9０-９/\\-a-zあ]{0,14}"),
        ) {
            let mut csv = INSURED_HEADER.to_owned();
            csv.push_str(&insured_row("0000000001", &cells.join(",")));
            let (good, errors) = parse(csv.as_bytes()).expect("parses");
            proptest::prop_assert_eq!(good.len() + errors.len(), 1);
            if let Some(e) = errors.first() {
                let named = InsurerField::ALL.iter().any(|f| e.reason.starts_with(&f.to_string()));
                proptest::prop_assert!(named, "{}", e.reason);
            } else if let Some(id) = &good[0].insurer {
                proptest::prop_assert_eq!(id.validate(), Ok(()));
            }
        }
    }

    #[test]
    fn row_errors_of_crlf_files_name_the_right_line() {
        let csv = format!(
            "{}0000000001,山田　太郎,ヤマダ　タロウ,1950-01-01,male,住所,特定健診,09:00\r\n\
             0000000002,山田　次郎,ヤマダ　ジロウ,1950-02-30,male,住所,特定健診,09:05\r\n",
            HEADER.replace('\n', "\r\n")
        );
        let (good, errors) = parse(csv.as_bytes()).expect("parses");
        assert_eq!(good.len(), 1);
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn earlier_findings_take_their_own_codes_and_clean_texts() {
        let csv = "resident_id,item_code,value,unit,date\n\
                   0000000001,9N141000000000011,2,,2025-11-20\n\
                   0000000001,9N141000000000011,1,,2025-11-20\n\
                   0000000001,9N056000000000011,特記すべきことあり,,2025-11-20\n\
                   0000000001,9N511000000000049,異常なし,,2025-11-20\n\
                   0000000001,9N511000000000049,\"異常なし\t要再検\",,2025-11-20\n\
                   0000000001,9N056160400000049,\" 胃潰瘍\",,2025-11-20\n";
        let (good, errors) = parse_history(csv.as_bytes()).expect("parses");
        assert_eq!(
            good.iter().map(|g| g.value.as_str()).collect::<Vec<_>>(),
            // The reader trims each field: a text with spaces around it is kept trimmed.
            ["2", "異常なし", "胃潰瘍"],
            "{errors:?}"
        );
        assert_eq!(
            errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            [3, 4, 6],
            "{errors:?}"
        );
        assert!(errors[2].reason.contains("control character"), "{errors:?}");
    }

    #[test]
    fn files_that_are_not_rosters_are_refused_whole() {
        assert_eq!(
            parse(&[0xFF, 0xFE, 0x00, 0xD8]).err(),
            Some(ImportError::Encoding)
        );
        assert!(matches!(
            parse(b"a,b,c\n1,2,3\n"),
            Err(ImportError::Header(_))
        ));
        assert!(matches!(
            parse(&vec![b'a'; MAX_ROSTER_BYTES + 1]),
            Err(ImportError::TooLarge(_))
        ));
    }
}
