//! The 第4期 item table (`items-hc24.csv`): for every 17-digit 特定健診 item code, its name,
//! value format, XML data type, UCUM unit, method code, result code system and 特定健診
//! reporting status. The writer, the business rules and the reader all look items up here.
//!
//! The table is read from a configured path at run time and never copied into the
//! repository. Its layout: a first line of column numbers, an English header
//! (`XMLITEM_CATNO,…`), a Japanese header, then one row per item. Columns are found by
//! their English header names, so a reordered table still loads; a missing column, a short
//! row, a bad code or a repeated code is refused with its line number.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why an item table could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ItemTableError {
    /// The file could not be read.
    #[error("cannot read the item table {path}: {source}")]
    Io {
        /// The configured path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The CSV itself is malformed (unbalanced quotes and the like).
    #[error("item table line {line}: {message}")]
    Csv {
        /// 1-based line.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// A line is not UTF-8.
    #[error("item table line {line}: not UTF-8")]
    NotUtf8 {
        /// 1-based line.
        line: u64,
    },
    /// No English header row (`XMLITEM_17CODE`, …) in the first lines.
    #[error("item table: no header row with XMLITEM_17CODE in the first three lines")]
    NoHeader,
    /// The header lacks a column the writer needs.
    #[error("item table line {line}: the header has no column {column}")]
    MissingColumn {
        /// 1-based line of the header.
        line: u64,
        /// The English column name.
        column: &'static str,
    },
    /// A row has fewer cells than the header.
    #[error("item table line {line}: {found} cells, the header has {expected}")]
    ShortRow {
        /// 1-based line.
        line: u64,
        /// Cells in the row.
        found: usize,
        /// Cells in the header.
        expected: usize,
    },
    /// The item code is not 17 characters of digits and capital letters.
    #[error("item table line {line}: {code:?} is not a 17-character item code")]
    BadCode {
        /// 1-based line.
        line: u64,
        /// The cell as found.
        code: String,
    },
    /// The XML data type is empty.
    #[error("item table line {line}: item {code} has no XML data type")]
    NoType {
        /// 1-based line.
        line: u64,
        /// The item code.
        code: String,
    },
    /// The same item code appears twice.
    #[error("item table line {line}: item {code} already appears on line {first}")]
    Duplicate {
        /// 1-based line of the repeat.
        line: u64,
        /// The item code.
        code: String,
        /// 1-based line of the first occurrence.
        first: u64,
    },
    /// The table has a header but no item.
    #[error("item table: no item rows")]
    Empty,
}

/// The XML data type of an item's value (column `XMLITEM_TYPE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum XmlType {
    /// Physical quantity: `value` and UCUM `unit`.
    Pq,
    /// Coded descriptor: `code` in the item's result code system.
    Cd,
    /// Coded ordinal (dipstick grades and the like).
    Co,
    /// Character string.
    St,
    /// Any other type named by the table, kept as written.
    Other(String),
}

impl XmlType {
    fn parse(s: &str) -> XmlType {
        match s {
            "PQ" => XmlType::Pq,
            "CD" => XmlType::Cd,
            "CO" => XmlType::Co,
            "ST" => XmlType::St,
            other => XmlType::Other(other.to_owned()),
        }
    }

    /// The `xsi:type` written for a value of this type.
    pub fn as_str(&self) -> &str {
        match self {
            XmlType::Pq => "PQ",
            XmlType::Cd => "CD",
            XmlType::Co => "CO",
            XmlType::St => "ST",
            XmlType::Other(s) => s,
        }
    }

    /// A coded type (CD or CO).
    pub fn is_coded(&self) -> bool {
        matches!(self, XmlType::Cd | XmlType::Co)
    }
}

impl fmt::Display for XmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The 特定健診 reporting status of an item (column `XMLITEM_CASE01`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    /// `0`: not a 特定健診 item.
    NotUsed,
    /// `1`: required.
    Required,
    /// `2`: 詳細な健診 (at the doctor's judgement).
    Detailed,
    /// `3`: printed on the result, not written to the file.
    PrintOnly,
    /// `4`: one item of the same examination.
    OneOfSame,
    /// `5`, `6`, `7`: reported when available.
    IfAvailable(u8),
    /// A letter: at least one item of the group of that letter. Lower-case letters form one
    /// group together (血糖: 空腹時血糖, 随時血糖 or HbA1c).
    OneOf(char),
    /// Anything else, as written.
    Other(String),
}

impl ItemStatus {
    fn parse(s: &str) -> ItemStatus {
        match s {
            "0" => ItemStatus::NotUsed,
            "1" => ItemStatus::Required,
            "2" => ItemStatus::Detailed,
            "3" => ItemStatus::PrintOnly,
            "4" => ItemStatus::OneOfSame,
            "5" => ItemStatus::IfAvailable(5),
            "6" => ItemStatus::IfAvailable(6),
            "7" => ItemStatus::IfAvailable(7),
            other => {
                let mut chars = other.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii_alphabetic() => ItemStatus::OneOf(c),
                    _ => ItemStatus::Other(other.to_owned()),
                }
            }
        }
    }

    /// The one-of group this status belongs to: the letter for upper-case groups, `'*'` for
    /// the lower-case letters that together form the 血糖 group.
    pub fn one_of_group(&self) -> Option<char> {
        match self {
            ItemStatus::OneOf(c) if c.is_ascii_lowercase() => Some('*'),
            ItemStatus::OneOf(c) => Some(*c),
            _ => None,
        }
    }
}

/// One row of the item table.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDef {
    /// 1-based line in the table, for messages.
    pub line: u64,
    /// 区分番号 (10 身体計測, 500 質問票, …).
    pub category_no: String,
    /// 区分名称.
    pub category_name: String,
    /// 出力順 (`A0000010`…): the order items are written in.
    pub order: String,
    /// 特定健診 reporting status.
    pub status: ItemStatus,
    /// The 17-character item code.
    pub code17: String,
    /// XML 表示名 (Japanese name).
    pub name: String,
    /// フォーマット情報: `NNN.N` for numbers, `N` for codes, a length (`256`) for text.
    pub format: String,
    /// XML data type.
    pub xml_type: XmlType,
    /// Unit as shown to people.
    pub unit_display: Option<String>,
    /// UCUM unit written in `value/@unit`.
    pub unit_ucum: Option<String>,
    /// Written as an `observation` (false for the doctors' names, written as `author`).
    pub is_observation: bool,
    /// The item whose value is written as this item's `author` (9N516 for 9N511).
    pub author_item: Option<String>,
    /// 一連検査グループ識別: the group observation this item belongs to.
    pub group: Option<String>,
    /// 一連検査グループ関係コード (`COMP`, `RSON`, `RSON1`).
    pub group_relation: Option<String>,
    /// 依存対象項目: the item this one depends on.
    pub depends_on: Option<String>,
    /// XML 検査方法コード written in `methodCode`.
    pub method_code: Option<String>,
    /// 検査方法 (Japanese).
    pub method_name: Option<String>,
    /// 備考.
    pub note: Option<String>,
    /// 結果コード OID: the code system of a coded value.
    pub result_oid: Option<String>,
}

impl ItemDef {
    /// Decimal places of a numeric format (`NNN.N` → 1), `None` for non-numeric formats.
    pub fn decimals(&self) -> Option<usize> {
        numeric_format(&self.format).map(|(_, d)| d)
    }

    /// Integer digits allowed by a numeric format (`NNN.N` → 3).
    pub fn integer_digits(&self) -> Option<usize> {
        numeric_format(&self.format).map(|(i, _)| i)
    }

    /// The maximum length of a text value (`256` → 256).
    pub fn max_len(&self) -> Option<usize> {
        self.format.parse().ok()
    }

    /// The group's `entryRelationship/@typeCode` (`RSON1` is written as `RSON`).
    pub fn relationship_type(&self) -> Option<&'static str> {
        match self.group_relation.as_deref()? {
            "COMP" => Some("COMP"),
            r if r.starts_with("RSON") => Some("RSON"),
            _ => None,
        }
    }
}

fn numeric_format(format: &str) -> Option<(usize, usize)> {
    if format.is_empty() || !format.chars().all(|c| c == 'N' || c == '.') {
        return None;
    }
    match format.split_once('.') {
        Some((i, d)) if !d.contains('.') => Some((i.len(), d.len())),
        Some(_) => None,
        None => Some((format.len(), 0)),
    }
}

/// Whether `code` looks like a 17-character item code.
pub fn is_item_code(code: &str) -> bool {
    code.len() == 17
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// The loaded item table.
#[derive(Debug, Clone)]
pub struct ItemTable {
    items: Vec<ItemDef>,
    by_code: HashMap<String, usize>,
}

const COLUMNS: [&str; 19] = [
    "XMLITEM_CATNO",
    "XMLITEM_CATNAME",
    "XMLITEM_SEQNO",
    "XMLITEM_CASE01",
    "XMLITEM_17CODE",
    "XMLITEM_NAME",
    "XMLITEM_FORMAT",
    "XMLITEM_TYPE",
    "XMLITEM_UNITNAME",
    "XMLITEM_UNIT",
    "XMLITEM_OBS",
    "XMLITEM_AUTHORITEM",
    "XMLITEM_BAT",
    "XMLITEM_BATREL",
    "XMLITEM_DEPEND",
    "XMLITEM_METHOD",
    "XMLITEM_METHODNAME",
    "XMLITEM_NOTE",
    "XMLITEM_CODEOID",
];

impl ItemTable {
    /// Load the table from `path` (the configured `items-hc24.csv`).
    pub fn load(path: &Path) -> Result<ItemTable, ItemTableError> {
        let bytes = std::fs::read(path).map_err(|source| ItemTableError::Io {
            path: path.to_owned(),
            source,
        })?;
        ItemTable::parse(&bytes)
    }

    /// Parse the table from its bytes.
    pub fn parse(bytes: &[u8]) -> Result<ItemTable, ItemTableError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut header: Option<(u64, Vec<usize>, usize)> = None;
        let mut skip_japanese_header = false;
        let mut items: Vec<ItemDef> = Vec::new();
        let mut by_code: HashMap<String, usize> = HashMap::new();
        let mut record = csv::ByteRecord::new();
        let mut rows_seen = 0u64;
        loop {
            let more = reader
                .read_byte_record(&mut record)
                .map_err(|e| ItemTableError::Csv {
                    line: e.position().map_or(0, |p| p.line()),
                    message: e.to_string(),
                })?;
            if !more {
                break;
            }
            rows_seen += 1;
            let line = record.position().map_or(rows_seen, |p| p.line());
            let mut cells = Vec::with_capacity(record.len());
            for cell in record.iter() {
                let s = std::str::from_utf8(cell).map_err(|_| ItemTableError::NotUtf8 { line })?;
                cells.push(s.trim().to_owned());
            }
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            let Some((_, cols, width)) = &header else {
                if cells.iter().any(|c| c == "XMLITEM_17CODE") {
                    let mut cols = Vec::with_capacity(COLUMNS.len());
                    for column in COLUMNS {
                        let i = cells
                            .iter()
                            .position(|c| c == column)
                            .ok_or(ItemTableError::MissingColumn { line, column })?;
                        cols.push(i);
                    }
                    header = Some((line, cols, cells.len()));
                    skip_japanese_header = true;
                    continue;
                }
                if rows_seen >= 3 {
                    return Err(ItemTableError::NoHeader);
                }
                continue;
            };
            if cells.len() < *width {
                return Err(ItemTableError::ShortRow {
                    line,
                    found: cells.len(),
                    expected: *width,
                });
            }
            let cell = |i: usize| cells[cols[i]].clone();
            let opt = |i: usize| Some(cell(i)).filter(|s| !s.is_empty());
            let code = cell(4);
            if skip_japanese_header {
                skip_japanese_header = false;
                if !is_item_code(&code) {
                    continue;
                }
            }
            if !is_item_code(&code) {
                return Err(ItemTableError::BadCode { line, code });
            }
            let xml_type = cell(7);
            if xml_type.is_empty() {
                return Err(ItemTableError::NoType { line, code });
            }
            if let Some(&first) = by_code.get(&code) {
                return Err(ItemTableError::Duplicate {
                    line,
                    code,
                    first: items[first].line,
                });
            }
            by_code.insert(code.clone(), items.len());
            items.push(ItemDef {
                line,
                category_no: cell(0),
                category_name: cell(1),
                order: cell(2),
                status: ItemStatus::parse(&cell(3)),
                code17: code,
                name: cell(5),
                format: cell(6),
                xml_type: XmlType::parse(&xml_type),
                unit_display: opt(8),
                unit_ucum: opt(9),
                is_observation: cell(10) != "0",
                author_item: opt(11),
                group: opt(12),
                group_relation: opt(13),
                depends_on: opt(14),
                method_code: opt(15),
                method_name: opt(16),
                note: opt(17),
                result_oid: opt(18),
            });
        }
        if header.is_none() {
            return Err(ItemTableError::NoHeader);
        }
        if items.is_empty() {
            return Err(ItemTableError::Empty);
        }
        Ok(ItemTable { items, by_code })
    }

    /// The item of `code`.
    pub fn get(&self, code: &str) -> Option<&ItemDef> {
        self.by_code.get(code).map(|&i| &self.items[i])
    }

    /// Every item, in the table's order.
    pub fn iter(&self) -> impl Iterator<Item = &ItemDef> {
        self.items.iter()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the table has no item (never true for a loaded table).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The position of `code` in the table (its write order), `usize::MAX` when unknown.
    pub fn position(&self, code: &str) -> usize {
        self.by_code.get(code).copied().unwrap_or(usize::MAX)
    }

    /// The item that `author_item` of another item names, i.e. the item whose value is the
    /// `author` of `code` (9N511 for 9N516).
    pub fn authored_by(&self, name_code: &str) -> Option<&ItemDef> {
        self.items
            .iter()
            .find(|i| i.author_item.as_deref() == Some(name_code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MHLW's item table: `../shared/standards` beside the repository, or
    /// `$CHECKUP_STANDARDS_DIR` for a checkout elsewhere.
    fn table_path() -> PathBuf {
        std::env::var_os("CHECKUP_STANDARDS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards"))
            .join("tokutei-v4/items-hc24.csv")
    }

    const HEADER: &str = "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18\n\
        XMLITEM_CATNO,XMLITEM_CATNAME,XMLITEM_SEQNO,XMLITEM_CASE01,XMLITEM_17CODE,XMLITEM_NAME,XMLITEM_FORMAT,XMLITEM_TYPE,XMLITEM_UNITNAME,XMLITEM_UNIT,XMLITEM_OBS,XMLITEM_AUTHORITEM,XMLITEM_BAT,XMLITEM_BATREL,XMLITEM_DEPEND,XMLITEM_METHOD,XMLITEM_METHODNAME,XMLITEM_NOTE,XMLITEM_CODEOID\n\
        区分番号,区分名称,出力順,特定健診,ＸＭＬ用項目コード17桁,名称,フォーマット,型,単位,UCUM,obs,author,bat,batrel,depend,method,methodname,note,oid\n";

    #[test]
    fn the_real_table_loads_with_its_columns() {
        let t = ItemTable::load(&table_path()).expect("hc24 loads");
        assert!(t.len() > 300, "{}", t.len());
        let h = t.get("9N001000000000001").expect("身長");
        assert_eq!(h.name, "身長");
        assert_eq!(h.xml_type, XmlType::Pq);
        assert_eq!(h.unit_ucum.as_deref(), Some("cm"));
        assert_eq!(h.decimals(), Some(1));
        assert_eq!(h.status, ItemStatus::Required);
        let waist = t.get("9N016160100000001").expect("腹囲");
        assert_eq!(waist.method_code.as_deref(), Some("9N01610000"));
        assert_eq!(waist.status.one_of_group(), Some('A'));
        let smoking = t.get("9N736000000000011").expect("喫煙");
        assert_eq!(smoking.xml_type, XmlType::Cd);
        assert_eq!(
            smoking.result_oid.as_deref(),
            Some("1.2.392.200119.6.24060")
        );
        let bp = t.get("9A755000000000001").expect("BP");
        assert_eq!(bp.unit_ucum.as_deref(), Some("mm[Hg]"));
        assert_eq!(bp.method_code.as_deref(), Some("9A75500009"));
        let hba1c = t.get("3D046000001999902").expect("HbA1c");
        assert_eq!(hba1c.status.one_of_group(), Some('*'));
        let doctor = t.get("9N511000000000049").expect("医師の診断");
        assert_eq!(doctor.author_item.as_deref(), Some("9N516000000000049"));
        assert!(!t.get("9N516000000000049").expect("name").is_observation);
        let ecg = t.get("9A110161600000011").expect("心電図対象者");
        assert_eq!(ecg.relationship_type(), Some("RSON"));
        assert_eq!(
            t.authored_by("9N516000000000049")
                .map(|i| i.code17.as_str()),
            Some("9N511000000000049")
        );
    }

    #[test]
    fn a_minimal_table_parses() {
        let csv = format!(
            "{HEADER}10,身体計測,A0000010,1,9N001000000000001,身長,NNN.N,PQ,cm,cm,1,,,,,,,,\n"
        );
        let t = ItemTable::parse(csv.as_bytes()).expect("parses");
        assert_eq!(t.len(), 1);
        assert_eq!(t.get("9N001000000000001").map(|i| i.line), Some(4));
    }

    #[test]
    fn a_short_row_is_refused_with_its_line() {
        let csv = format!("{HEADER}10,身体計測,A0000010,1,9N001000000000001\n");
        match ItemTable::parse(csv.as_bytes()) {
            Err(ItemTableError::ShortRow {
                line: 4,
                found: 5,
                expected: 19,
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_code_is_refused_with_its_line() {
        let csv = format!(
            "{HEADER}10,身体計測,A0000010,1,9N001000000000001,身長,NNN.N,PQ,cm,cm,1,,,,,,,,\n\
             10,身体計測,A0000020,1,9N00600000,体重,NNN.N,PQ,kg,kg,1,,,,,,,,\n"
        );
        match ItemTable::parse(csv.as_bytes()) {
            Err(ItemTableError::BadCode { line: 5, code }) => assert_eq!(code, "9N00600000"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_repeated_code_is_refused_naming_both_lines() {
        let row = "10,身体計測,A0000010,1,9N001000000000001,身長,NNN.N,PQ,cm,cm,1,,,,,,,,\n";
        let csv = format!("{HEADER}{row}{row}");
        match ItemTable::parse(csv.as_bytes()) {
            Err(ItemTableError::Duplicate {
                line: 5, first: 4, ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_type_or_column_or_header_is_refused() {
        let csv = format!(
            "{HEADER}10,身体計測,A0000010,1,9N001000000000001,身長,NNN.N,,cm,cm,1,,,,,,,,\n"
        );
        assert!(matches!(
            ItemTable::parse(csv.as_bytes()),
            Err(ItemTableError::NoType { line: 4, .. })
        ));
        let no_unit = HEADER.replace("XMLITEM_UNIT,", "XMLITEM_X,");
        assert!(matches!(
            ItemTable::parse(no_unit.as_bytes()),
            Err(ItemTableError::MissingColumn {
                line: 2,
                column: "XMLITEM_UNIT"
            })
        ));
        assert!(matches!(
            ItemTable::parse(b"a,b\nc,d\ne,f\ng,h\n"),
            Err(ItemTableError::NoHeader)
        ));
        assert!(matches!(
            ItemTable::parse(HEADER.as_bytes()),
            Err(ItemTableError::Empty)
        ));
    }

    #[test]
    fn invalid_utf8_is_refused_with_its_line() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"10,\xff\xfe,A0000010,1,9N001000000000001,x,N,PQ,,,1,,,,,,,,\n");
        assert!(matches!(
            ItemTable::parse(&bytes),
            Err(ItemTableError::NotUtf8 { line: 4 })
        ));
    }

    #[test]
    fn formats_give_digits_and_lengths() {
        let f = |s: &str| numeric_format(s);
        assert_eq!(f("NNN.N"), Some((3, 1)));
        assert_eq!(f("NN.NN"), Some((2, 2)));
        assert_eq!(f("NNNN"), Some((4, 0)));
        assert_eq!(f("256"), None);
        assert_eq!(f("N.N.N"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = ItemTable::parse(&bytes);
        }

        #[test]
        fn arbitrary_rows_after_a_header_never_panic(rows in proptest::collection::vec("[0-9A-Z,\"\n .]{0,80}", 0..8)) {
            let csv = format!("{HEADER}{}", rows.join("\n"));
            let _ = ItemTable::parse(csv.as_bytes());
        }
    }
}
