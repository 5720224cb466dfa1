//! 特定健診 archives end to end: a realistic examinee with every item the box records and
//! all 22 questionnaire answers is written into an archive, every file is checked with the
//! real `xmllint --schema` against MHLW's XSDs in `../shared/standards/tokutei-v4/XSD`, the
//! archive is read back to the same values, each business rule refuses what it should
//! naming resident and item, and malformed input gives an error, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

use checkup_central::tokutei::archive::{
    ArchiveSpec, ExportError, Receiver, prepare_examinees, write_archive,
};
use checkup_central::tokutei::cda::{sort_observations, write_document};
use checkup_central::tokutei::items::{ItemTable, XmlType};
use checkup_central::tokutei::model::{
    Examinee, InsurerRef, Obs, ObsValue, Sender, Sex, dipstick_code,
};
use checkup_central::tokutei::parse::{ParseError, parse_archive, parse_document};
use checkup_central::tokutei::validate::{BusinessRules, Failure, XsdValidator};
use checkup_protocol::items::{ITEMS, ItemValueKind};
use checkup_protocol::questionnaire::QUESTIONS;
use proptest::prelude::*;
use time::{Date, Month};

fn standards() -> PathBuf {
    // `../shared/standards` beside the repository, or `$CHECKUP_STANDARDS_DIR` for a checkout
    // elsewhere.
    std::env::var_os("CHECKUP_STANDARDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards"))
        .join("tokutei-v4")
}

fn xsd_dir() -> PathBuf {
    standards().join("XSD")
}

fn table() -> ItemTable {
    ItemTable::load(&standards().join("items-hc24.csv")).expect("item table")
}

fn date(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).expect("month"), d).expect("date")
}

fn sender() -> Sender {
    Sender {
        institution_number: "2712345678".into(),
        name: "テスト市保健センター & 健診室".into(),
        telephone: Some("06-1234-5678".into()),
        postal_code: Some("530-0001".into()),
        address: Some("大阪府テスト市北区1-2-3".into()),
    }
}

fn spec() -> ArchiveSpec {
    ArchiveSpec::new(
        sender(),
        Receiver::Insurer("270017".into()),
        date(2026, 12, 2),
    )
}

fn q(code: &str, v: &str) -> Obs {
    Obs::new(code, ObsValue::Coded(v.into()))
}

fn n(code: &str, v: &str) -> Obs {
    Obs::new(code, ObsValue::Quantity(v.into()))
}

/// Every item the box records (protocol ITEMS: 採血時間 and the doctor's findings and
/// judgement among them), the 22 answers and 階層化.
fn box_examinee(resident_id: &str) -> Examinee {
    let mut observations = vec![
        n("9N001000000000001", "168.2"),
        n("9N006000000000001", "65.4"),
        n("9N011000000000001", "23.1"),
        n("9N016160100000001", "84.0"),
        n("9A751000000000001", "131"),
        n("9A752000000000001", "126"),
        n("9A761000000000001", "82"),
        n("9A762000000000001", "79"),
        n("3D046000001999902", "5.6"),
        n("3D010000001999901", "98"),
        q("9N141000000000011", "2"),
        q("9N056000000000011", "2"),
        q("9N061000000000011", "2"),
        q("9N066000000000011", "2"),
        q("1A020000000191111", dipstick_code("-").expect("grade")),
        q("1A010000000191111", dipstick_code("±").expect("grade")),
        q("9N501000000000011", "3"),
        q("9N506000000000011", "3"),
        Obs::new(
            "9N511000000000049",
            ObsValue::Text("異常なし <特記事項> & \"経過観察\"".into()),
        ),
    ];
    for question in QUESTIONS {
        let answer = question.answers.codes().last().expect("codes");
        observations.push(q(question.code, answer));
    }
    Examinee {
        resident_id: resident_id.into(),
        name_kana: "ケンシン　タロウ".into(),
        sex: Sex::Male,
        birth_date: date(1960, 4, 1),
        postal_code: Some("530-0002".into()),
        address: Some("大阪府テスト市北区4-5-6 テストマンション101".into()),
        insurer: InsurerRef {
            insurer_number: "270017".into(),
            symbol: Some("テスト記号１".into()),
            number: "12345".into(),
            branch: Some("01".into()),
            ticket_number: Some("12345678901".into()),
            ticket_expiry: Some(date(2027, 3, 31)),
        },
        checkup_date: date(2026, 11, 20),
        observations,
        doctor_name: Some("医師　一郎".into()),
    }
}

fn box_codes() -> Vec<&'static str> {
    let mut codes: Vec<&str> = ITEMS.iter().map(|i| i.code).collect();
    codes.extend([
        "9A755000000000001",
        "9A765000000000001",
        "9N141000000000011",
        "9N501000000000011",
        "9N506000000000011",
        "9N511000000000049",
        "9N516000000000049",
    ]);
    codes
}

fn box_rules(table: &ItemTable) -> BusinessRules {
    BusinessRules::for_recorded(table, box_codes())
}

/// The box's examinee plus the 診察 items, lipids, liver enzymes, an ECG group and a
/// 測定不可 and a 未実施 result: passes the standard's rules in full.
fn full_examinee(resident_id: &str) -> Examinee {
    let mut ex = box_examinee(resident_id);
    ex.sex = Sex::Female;
    ex.name_kana = "ケンシン　ハナコ".into();
    ex.insurer.symbol = None;
    ex.insurer.branch = None;
    ex.insurer.ticket_number = None;
    ex.postal_code = None;
    // 既往歴 あり, with its text.
    ex.observations.retain(|o| o.code17 != "9N056000000000011");
    ex.observations.extend([
        q("9N056000000000011", "1"),
        Obs::new("9N056160400000049", ObsValue::Text("高血圧症".into())),
        n("3F015000002327101", "110"),
        n("3F070000002327101", "55"),
        n("3F077000002327101", "120"),
        n("3B035000002327201", "22"),
        n("3B045000002327201", "18"),
        n("3B090000002327101", "30"),
        q("9A110160700000011", "1"),
        Obs::new("9A110160800000049", ObsValue::Text("軽度ST低下".into())),
        q("9A110161600000011", "1"),
        Obs::new("9A110161000000049", ObsValue::Text("血圧高値のため".into())),
        Obs::new("3C015000002327101", ObsValue::Unmeasurable),
        Obs::new("9E100166000000011", ObsValue::NotDone),
        n("9N121000000000001", "72"),
    ]);
    ex
}

fn unzip(zip_path: &Path, into: &Path) -> PathBuf {
    let file = std::fs::File::open(zip_path).expect("open zip");
    let mut archive = zip::ZipArchive::new(file).expect("zip");
    archive.extract(into).expect("extract");
    let root = zip_path
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned();
    into.join(root)
}

fn xmllint(schema: &Path, file: &Path) {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(file)
        .output()
        .expect("xmllint runs (Debian libxml2-utils)");
    assert!(
        out.status.success(),
        "xmllint refused {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_box_item_and_question_is_in_the_table_with_its_type_unit_and_decimals() {
    let table = table();
    for item in ITEMS {
        let def = table
            .get(item.code)
            .unwrap_or_else(|| panic!("{} {} not in hc24", item.code, item.name_ja));
        match item.kind {
            ItemValueKind::Numeric { decimals, .. } => {
                assert_eq!(def.xml_type, XmlType::Pq, "{}", item.code);
                assert_eq!(def.decimals(), Some(usize::from(decimals)), "{}", item.code);
                assert_eq!(
                    def.unit_display.as_deref().map(str::to_lowercase),
                    Some(item.unit.to_lowercase()),
                    "{}",
                    item.code
                );
                assert!(def.unit_ucum.is_some(), "{}", item.code);
            }
            ItemValueKind::Qualitative => {
                assert_eq!(def.xml_type, XmlType::Co, "{}", item.code);
                assert_eq!(def.result_oid.as_deref(), Some("1.2.392.200119.6.2102"));
            }
            ItemValueKind::Coded(set) => {
                assert!(def.xml_type.is_coded(), "{}", item.code);
                assert!(def.result_oid.is_some(), "{}", item.code);
                let note = def.note.as_deref().unwrap_or("");
                for code in set.codes() {
                    assert!(
                        note.contains(code),
                        "{} answer {code} not in {note}",
                        item.code
                    );
                }
            }
            ItemValueKind::Choice(choices) => {
                assert_eq!(def.xml_type, XmlType::Cd, "{}", item.code);
                assert!(def.result_oid.is_some(), "{}", item.code);
                let note = def.note.as_deref().unwrap_or("");
                for c in choices {
                    assert!(
                        note.contains(&format!("{}:", c.code)),
                        "{} code {} not in {note}",
                        item.code,
                        c.code
                    );
                }
            }
            ItemValueKind::Text { max_chars } => {
                assert_eq!(def.xml_type, XmlType::St, "{}", item.code);
                assert_eq!(def.format, max_chars.to_string(), "{}", item.code);
            }
        }
    }
    assert_eq!(QUESTIONS.len(), 22);
    for question in QUESTIONS {
        let def = table.get(question.code).expect("question in hc24");
        assert!(def.xml_type.is_coded(), "{}", question.code);
        assert_eq!(def.category_no, "500", "{}", question.code);
    }
}

#[test]
fn a_box_day_writes_an_archive_that_xmllint_accepts_and_that_reads_back() {
    let table = table();
    let examinees = vec![box_examinee("R-0001"), full_examinee("R-0002")];
    let out = tempfile::tempdir().expect("tmp");
    let written = write_archive(
        &spec(),
        &examinees,
        &table,
        &box_rules(&table),
        &xsd_dir(),
        out.path(),
    )
    .unwrap_or_else(|e| match e {
        ExportError::Refused(f) => panic!("refused: {f:#?}"),
        e => panic!("{e}"),
    });
    assert_eq!(
        written.path.file_name().and_then(|n| n.to_str()),
        Some("2712345678_00270017_202612020_1.zip")
    );
    assert_eq!(
        written.data_files,
        vec![
            "h27123456782026120201000001.xml".to_owned(),
            "h27123456782026120201000002.xml".to_owned()
        ]
    );
    assert_eq!(written.data_files[0].len(), 27 + 4);
    // TOKUTEI_TEST_KEEP=DIR keeps a copy of the archive to look at.
    if let Ok(keep) = std::env::var("TOKUTEI_TEST_KEEP") {
        let name = written.path.file_name().expect("name");
        std::fs::copy(&written.path, Path::new(&keep).join(name)).expect("keep a copy");
    }

    let extracted = tempfile::tempdir().expect("tmp");
    let root = unzip(&written.path, extracted.path());
    let xsd = xsd_dir();
    xmllint(&xsd.join("ix08_V08.xsd"), &root.join("ix08_V08.xml"));
    for name in &written.data_files {
        let file = root.join("DATA").join(name);
        xmllint(&xsd.join("hc08_V08.xsd"), &file);
        // The copy travelling in the archive validates the same file.
        xmllint(&root.join("XSD/hc08_V08.xsd"), &file);
    }
    for f in [
        "XSD/co08_V08.xsd",
        "XSD/coreschemas/voc_hcgv08.xsd",
        "XSD/su08_V08.xsd",
    ] {
        assert!(root.join(f).is_file(), "{f} copied");
    }
    let index = std::fs::read_to_string(root.join("ix08_V08.xml")).expect("index");
    assert!(
        index.contains(r#"<totalRecordCount value="2"/>"#),
        "{index}"
    );
    assert!(index.contains(r#"<serviceEventType code="1"/>"#), "{index}");
    assert!(index.contains(r#"extension="00270017""#), "{index}");
    let doc = std::fs::read_to_string(root.join("DATA").join(&written.data_files[0])).expect("doc");
    assert!(doc.contains(r#"xsi:schemaLocation="urn:hl7-org:v3 ../XSD/hc08_V08.xsd""#));
    assert!(
        doc.contains(r#"<value xsi:type="PQ" value="129" unit="mm[Hg]"/>"#),
        "average"
    );
    assert!(doc.contains(r#"<methodCode code="9A75500009"/>"#));
    assert!(doc.contains(r#"<methodCode code="9A75100000"/>"#));
    assert!(
        doc.contains(r#"codeSystem="1.2.392.200119.6.24060""#),
        "喫煙 result OID"
    );
    assert!(doc.contains(r#"root="1.2.392.200119.6.209.100270017" extension="12345678901""#));
    let full =
        std::fs::read_to_string(root.join("DATA").join(&written.data_files[1])).expect("doc");
    assert!(full.contains(r#"negationInd="true""#), "未実施");
    assert!(
        full.contains(r#"<value xsi:type="PQ" nullFlavor="NI"/>"#),
        "測定不可"
    );
    assert!(
        full.contains(r#"<code nullFlavor="NA"/>"#),
        "一連検査グループ"
    );
    assert!(full.contains(r#"<entryRelationship typeCode="RSON">"#));
    assert!(
        full.contains(r#"code="01990""#),
        "任意追加項目 section for 心拍数"
    );

    // Round trip: the archive reads back to the examinees as written.
    let bytes = std::fs::read(&written.path).expect("zip bytes");
    let parsed = parse_archive("archive", &bytes, &table).expect("parses");
    assert_eq!(parsed.root, written.root);
    assert_eq!(parsed.index.total_record_count, 2);
    assert_eq!(
        parsed.index.receiver,
        Some(Receiver::Insurer("00270017".into()))
    );
    let mut expected = prepare_examinees(&examinees, &table);
    for ex in &mut expected {
        ex.resident_id.clear();
        ex.insurer.insurer_number = ex.insurer.padded_insurer_number();
    }
    let got: Vec<Examinee> = parsed
        .documents
        .iter()
        .map(|(_, d)| d.examinee.clone())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(parsed.documents[0].1.author, sender());
}

#[test]
fn the_standard_rules_in_full_pass_the_full_examinee_and_refuse_the_box_one() {
    let table = table();
    let rules = BusinessRules::standard(&table);
    let full = prepare_examinees(&[full_examinee("R-9")], &table);
    assert_eq!(rules.check(&table, &full[0]), Vec::<Failure>::new());
    let boxed = prepare_examinees(&[box_examinee("R-8")], &table);
    let failures = rules.check(&table, &boxed[0]);
    // The box records the doctor's findings; it takes no lipids.
    let named: Vec<&str> = failures
        .iter()
        .filter_map(|f| f.item_code.as_deref())
        .collect();
    assert!(
        failures.iter().any(|f| f.message_ja.contains("中性脂肪")),
        "{failures:#?}"
    );
    assert!(
        !named.contains(&"9N056000000000011") && !named.contains(&"9N061000000000011"),
        "{failures:#?}"
    );
    assert!(failures.iter().all(|f| f.resident_id == "R-8"));
}

fn refused(examinees: &[Examinee]) -> Vec<Failure> {
    let table = table();
    let out = tempfile::tempdir().expect("tmp");
    match write_archive(
        &spec(),
        examinees,
        &table,
        &box_rules(&table),
        &xsd_dir(),
        out.path(),
    ) {
        Err(ExportError::Refused(f)) => {
            let left: Vec<_> = std::fs::read_dir(out.path()).expect("dir").collect();
            assert!(left.is_empty(), "nothing written when refused");
            f
        }
        Ok(w) => panic!("written: {}", w.path.display()),
        Err(e) => panic!("{e}"),
    }
}

fn without(mut ex: Examinee, code: &str) -> Examinee {
    ex.observations.retain(|o| o.code17 != code);
    ex
}

fn assert_names(failures: &[Failure], resident: &str, code: Option<&str>, needle: &str) {
    assert!(
        failures.iter().any(|f| f.resident_id == resident
            && f.item_code.as_deref() == code
            && (f.message_ja.contains(needle) || f.item_name_ja.contains(needle))),
        "no failure for {resident} {code:?} with {needle:?} in {failures:#?}"
    );
}

#[test]
fn a_missing_required_item_is_refused_naming_resident_and_item() {
    let f = refused(&[
        box_examinee("R-1"),
        without(box_examinee("R-2"), "9N001000000000001"),
    ]);
    assert_names(&f, "R-2", Some("9N001000000000001"), "必須項目");
    assert!(f.iter().all(|f| f.resident_id == "R-2"), "{f:#?}");
    assert_eq!(f[0].item_name_ja, "身長");
}

#[test]
fn each_required_question_is_refused_when_missing() {
    for code in [
        "9N701000000000011",
        "9N706000000000011",
        "9N711000000000011",
        "9N736000000000011",
    ] {
        let f = refused(&[without(box_examinee("R-3"), code)]);
        assert_names(&f, "R-3", Some(code), "必須項目");
    }
}

#[test]
fn the_doctor_is_required_with_the_judgement() {
    let mut ex = box_examinee("R-4");
    ex.doctor_name = None;
    assert_names(&refused(&[ex]), "R-4", Some("9N516000000000049"), "医師");
    let ex = without(box_examinee("R-5"), "9N511000000000049");
    let f = refused(&[ex]);
    assert_names(&f, "R-5", Some("9N511000000000049"), "必須項目");
    assert_names(&f, "R-5", Some("9N516000000000049"), "医師の診断");
}

#[test]
fn waist_or_visceral_fat_is_required() {
    let f = refused(&[without(box_examinee("R-6"), "9N016160100000001")]);
    assert_names(&f, "R-6", None, "腹囲");
    let mut ex = without(box_examinee("R-7"), "9N016160100000001");
    ex.observations.push(n("9N021000000000001", "95.5"));
    let table = table();
    let prepared = prepare_examinees(&[ex], &table);
    let rules =
        BusinessRules::for_recorded(&table, box_codes().into_iter().chain(["9N021000000000001"]));
    assert!(
        rules.check(&table, &prepared[0]).is_empty(),
        "内臓脂肪面積 stands in for 腹囲"
    );
}

#[test]
fn blood_sugar_needs_fasting_or_casual_glucose_or_hba1c() {
    let ex = without(
        without(box_examinee("R-10"), "3D046000001999902"),
        "3D010000001999901",
    );
    let f = refused(&[ex]);
    assert_names(&f, "R-10", None, "血糖");
    assert_names(&f, "R-10", None, "HbA1c");
    // HbA1c alone is enough.
    let table = table();
    let ex = prepare_examinees(
        &[without(box_examinee("R-11"), "3D010000001999901")],
        &table,
    );
    assert!(box_rules(&table).check(&table, &ex[0]).is_empty());
}

#[test]
fn triglycerides_need_the_right_blood_draw_time() {
    let table = table();
    let rules = BusinessRules::for_recorded(
        &table,
        box_codes()
            .into_iter()
            .chain(["3F015000002327101", "3F015129902327101"]),
    );
    let check = |tg: &str, draw: Option<&str>| {
        let mut ex = without(
            without(box_examinee("R-12"), "9N141000000000011"),
            "3D010000001999901",
        );
        ex.observations.push(n(tg, "150"));
        if let Some(d) = draw {
            ex.observations.push(q("9N141000000000011", d));
        }
        let ex = prepare_examinees(&[ex], &table);
        rules.check(&table, &ex[0])
    };
    let fasting = "3F015000002327101";
    let casual = "3F015129902327101";
    assert!(check(fasting, Some("2")).is_empty());
    assert_names(&check(fasting, Some("3")), "R-12", Some(fasting), "「3」");
    assert_names(&check(fasting, None), "R-12", Some(fasting), "記録なし");
    assert!(check(casual, Some("3")).is_empty());
    assert!(check(casual, Some("4")).is_empty());
    assert_names(&check(casual, Some("2")), "R-12", Some(casual), "採血時間");
    // The archive refuses it too.
    let mut ex = box_examinee("R-13");
    ex.observations.push(n(casual, "150"));
    assert_names(&refused(&[ex]), "R-13", Some(casual), "採血時間");
    // Fasting glucose likewise needs 9N141 = 2.
    let ex = without(box_examinee("R-14"), "9N141000000000011");
    assert_names(
        &refused(&[ex]),
        "R-14",
        Some("3D010000001999901"),
        "採血時間",
    );
}

#[test]
fn values_of_the_wrong_kind_or_format_and_unknown_or_repeated_items_are_refused() {
    let mut ex = box_examinee("R-20");
    ex.observations
        .retain(|o| o.code17 != "9N001000000000001" && o.code17 != "9N006000000000001");
    ex.observations.push(n("9N001000000000001", "168.25"));
    ex.observations.push(q("9N006000000000001", "1"));
    ex.observations.push(n("9Z999000000000001", "1"));
    ex.observations.push(q("9N736000000000011", "1"));
    ex.observations
        .push(Obs::new("9N516000000000049", ObsValue::Text("医師".into())));
    let f = refused(&[ex]);
    assert_names(&f, "R-20", Some("9N001000000000001"), "NNN.N");
    assert_names(&f, "R-20", Some("9N006000000000001"), "値の型");
    assert_names(&f, "R-20", Some("9Z999000000000001"), "項目表にありません");
    assert_names(&f, "R-20", Some("9N736000000000011"), "2回以上");
    assert_names(&f, "R-20", Some("9N516000000000049"), "author");
}

#[test]
fn header_fields_are_checked() {
    let mut ex = box_examinee("R-21");
    ex.name_kana = "健診太郎".into();
    ex.insurer.insurer_number = "27A".into();
    ex.insurer.ticket_number = Some("123".into());
    ex.insurer.branch = Some("1".into());
    ex.postal_code = Some("5300002".into());
    let f = refused(&[ex]);
    for field in ["氏名", "保険者番号", "受診券整理番号", "枝番", "郵便番号"] {
        assert!(
            f.iter()
                .any(|x| x.resident_id == "R-21" && x.item_name_ja == field),
            "{field}: {f:#?}"
        );
    }
}

#[test]
fn a_document_the_schema_refuses_is_a_failure_naming_the_resident() {
    let mut ex = box_examinee("R-22");
    ex.observations.retain(|o| o.code17 != "9N511000000000049");
    // A control character is not allowed in XML 1.0: the file cannot pass the schema check.
    ex.observations.push(Obs::new(
        "9N511000000000049",
        ObsValue::Text("所見\u{1}あり".into()),
    ));
    let f = refused(&[ex]);
    assert_names(&f, "R-22", None, "XMLスキーマ");
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let mut v = XsdValidator::load(&xsd_dir()).expect("schemas");
    let table = table();
    let ex = prepare_examinees(&[box_examinee("R-23")], &table);
    let xml = write_document(&ex[0], &sender(), &table, date(2026, 12, 2)).expect("writes");
    v.validate_document(&xml).expect("valid");
    let text = String::from_utf8(xml).expect("utf8");
    let broken = text.replace(
        r#"<languageCode code="ja-JP"/>"#,
        r#"<languageCode code="en-US"/>"#,
    );
    assert!(v.validate_document(broken.as_bytes()).is_err());
    let no_type = text.replacen("<typeId", "<typeIdX", 1);
    assert!(v.validate_document(no_type.as_bytes()).is_err());
    assert!(matches!(
        XsdValidator::load(Path::new("/nonexistent")),
        Err(checkup_central::tokutei::validate::XsdError::Missing(_))
    ));
}

#[test]
fn malformed_documents_give_clear_errors() {
    let table = table();
    let ex = prepare_examinees(&[box_examinee("R-30")], &table);
    let good =
        String::from_utf8(write_document(&ex[0], &sender(), &table, date(2026, 12, 2)).expect("w"))
            .expect("utf8");
    let cases: Vec<(String, &str)> = vec![
        ("not xml at all".into(), "not well-formed"),
        (good[..good.len() / 2].to_owned(), "not well-formed"),
        (
            good.replace("urn:hl7-org:v3\"", "urn:other\""),
            "not {urn:hl7-org:v3}ClinicalDocument",
        ),
        (
            good.replace("1.2.392.200119.6.101\"", "9.9\""),
            "保険者番号",
        ),
        (
            good.replace(
                r#"<birthTime value="19600401"/>"#,
                r#"<birthTime value="19601301"/>"#,
            ),
            "birthTime",
        ),
        (
            good.replace("9N001000000000001", "9Z001000000000001"),
            "not in the item table",
        ),
        (
            good.replace(
                r#"xsi:type="PQ" value="168.2""#,
                r#"xsi:type="ST" value="168.2""#,
            ),
            "xsi:type",
        ),
        (
            good.replace(
                r#"code="1" codeSystem="1.2.392.200119.6.1104""#,
                r#"code="9" codeSystem="1.2.392.200119.6.1104""#,
            ),
            "administrativeGenderCode",
        ),
        (
            format!(
                "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>{}",
                good.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
            ),
            "DOCTYPE",
        ),
        ("<a>".repeat(100) + &"</a>".repeat(100), "nesting"),
    ];
    for (input, needle) in cases {
        let err = parse_document("h.xml", input.as_bytes(), &table).expect_err(needle);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
}

#[test]
fn malformed_archives_give_clear_errors() {
    let table = table();
    assert!(matches!(
        parse_archive("a.zip", b"PK\x03\x04 nope", &table),
        Err(ParseError::Zip { .. })
    ));
    // A zip without an index.
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file(
            "root/DATA/readme.txt",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("start");
        std::io::Write::write_all(&mut z, b"x").expect("write");
        z.finish().expect("finish");
    }
    let err = parse_archive("a.zip", buf.get_ref(), &table).expect_err("no index");
    assert!(err.to_string().contains("ix08_V08.xml is missing"), "{err}");
}

#[test]
fn an_existing_archive_is_not_overwritten() {
    let table = table();
    let out = tempfile::tempdir().expect("tmp");
    let examinees = [box_examinee("R-40")];
    let rules = box_rules(&table);
    write_archive(&spec(), &examinees, &table, &rules, &xsd_dir(), out.path()).expect("first");
    assert!(matches!(
        write_archive(&spec(), &examinees, &table, &rules, &xsd_dir(), out.path()),
        Err(ExportError::Exists(_))
    ));
    let mut next = spec();
    next.same_day_count = 1;
    let w =
        write_archive(&next, &examinees, &table, &rules, &xsd_dir(), out.path()).expect("second");
    assert!(w.root.ends_with("_202612021_1"));
    let mut bad = spec();
    bad.sender.institution_number = "123".into();
    assert!(matches!(
        write_archive(&bad, &examinees, &table, &rules, &xsd_dir(), out.path()),
        Err(ExportError::Spec(_))
    ));
}

// --- Property tests -------------------------------------------------------------------

const KANA: &[char] = &[
    'ア', 'イ', 'ウ', 'カ', 'キ', 'サ', 'タ', 'ナ', 'ハ', 'マ', 'ヤ', 'ラ', 'ワ', 'ン', 'ー', '　',
];

fn kana() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(KANA), 1..12).prop_map(|v| {
        let s: String = v.into_iter().collect();
        format!("ア{}", s.trim())
    })
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&\"'あ-ん亜-腕]{1,40}".prop_map(|s| format!("x{}", s.trim()))
}

fn a_date() -> impl Strategy<Value = Date> {
    (1930i32..2025, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

fn value_for(code: &'static str, table: &ItemTable) -> BoxedStrategy<ObsValue> {
    let def = table.get(code).expect("code").clone();
    let special = prop_oneof![Just(ObsValue::NotDone), Just(ObsValue::Unmeasurable)];
    let real: BoxedStrategy<ObsValue> = match def.xml_type {
        XmlType::Pq => {
            let dec = def.decimals().unwrap_or(0);
            let int = def.integer_digits().unwrap_or(3).min(4) as u32;
            (0u32..10u32.pow(int), 0u32..10u32.pow(dec as u32))
                .prop_map(move |(i, f)| {
                    ObsValue::Quantity(if dec == 0 {
                        i.to_string()
                    } else {
                        format!("{i}.{f:0dec$}")
                    })
                })
                .boxed()
        }
        XmlType::St => text().prop_map(ObsValue::Text).boxed(),
        _ => (1u8..=5)
            .prop_map(|c| ObsValue::Coded(c.to_string()))
            .boxed(),
    };
    prop_oneof![4 => real, 1 => special].boxed()
}

fn examinee(table: &ItemTable) -> impl Strategy<Value = Examinee> + use<> {
    let codes: Vec<&'static str> = box_codes()
        .into_iter()
        .filter(|c| *c != "9N516000000000049")
        .chain([
            "9E100166000000011",
            "9A110160700000011",
            "9A110161000000049",
            "3F015129902327101",
        ])
        .collect();
    let values: Vec<BoxedStrategy<Option<ObsValue>>> = codes
        .iter()
        .map(|c| proptest::option::weighted(0.8, value_for(c, table)).boxed())
        .collect();
    let header = (
        kana(),
        any::<bool>(),
        a_date(),
        proptest::option::of("[0-9]{3}-[0-9]{4}"),
        proptest::option::of(text()),
        "[0-9]{8}",
        proptest::option::of("[0-9A-Zア-ン]{1,20}"),
        "[0-9]{1,20}",
        proptest::option::of("[0-9]{2}"),
        proptest::option::of("[0-9]{11}"),
        proptest::option::of(a_date()),
        proptest::option::of(text()),
    );
    (header, values).prop_map(move |(h, values)| {
        let (
            name,
            male,
            birth,
            postal,
            address,
            ins,
            symbol,
            number,
            branch,
            ticket,
            expiry,
            doctor,
        ) = h;
        let mut observations: Vec<Obs> = codes
            .iter()
            .zip(values)
            .filter_map(|(c, v)| v.map(|v| Obs::new(c, v)))
            .collect();
        let has_judgement = observations.iter().any(|o| o.code17 == "9N511000000000049");
        if !has_judgement {
            observations.push(Obs::new(
                "9N511000000000049",
                ObsValue::Text("所見なし".into()),
            ));
        }
        Examinee {
            resident_id: String::new(),
            name_kana: name,
            sex: if male { Sex::Male } else { Sex::Female },
            birth_date: birth,
            postal_code: postal,
            address,
            insurer: InsurerRef {
                insurer_number: ins,
                symbol,
                number,
                branch,
                ticket_number: ticket,
                ticket_expiry: expiry,
            },
            checkup_date: date(2026, 11, 20),
            observations,
            doctor_name: doctor,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn parse_of_write_is_the_examinee_and_the_schema_accepts_it(ex in examinee(&table())) {
        let table = table();
        let mut ex = ex;
        sort_observations(&mut ex.observations, &table);
        let xml = write_document(&ex, &sender(), &table, date(2026, 12, 2)).expect("writes");
        let mut v = XsdValidator::load(&xsd_dir()).expect("schemas");
        prop_assert!(v.validate_document(&xml).is_ok(), "{:?}", v.validate_document(&xml));
        let back = parse_document("h.xml", &xml, &table).expect("parses");
        prop_assert_eq!(back.examinee, ex);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let table = table();
        let _ = parse_document("h.xml", &bytes, &table);
        let _ = parse_archive("a.zip", &bytes, &table);
    }

    #[test]
    fn damaged_documents_never_panic_the_reader(cut in 0usize..6000, junk in "[<>&\"a-z/ =]{0,8}") {
        let table = table();
        let ex = prepare_examinees(&[box_examinee("R")], &table);
        let xml = String::from_utf8(write_document(&ex[0], &sender(), &table, date(2026, 12, 2)).expect("w")).expect("utf8");
        let mut at = cut.min(xml.len());
        while !xml.is_char_boundary(at) { at -= 1; }
        let damaged = format!("{}{}{}", &xml[..at], junk, &xml[at..]);
        let _ = parse_document("h.xml", damaged.as_bytes(), &table);
    }
}

/// Claims (`CLAIMS/`, `su08_V08.xml`) when the municipality bills the insurer: every file
/// valid for `xmllint --schema`, amounts computed from what was done, totals the sums, the
/// amounts read back, and refusals that name the resident and the missing setting.
mod claims {
    use std::collections::BTreeMap;

    use checkup_central::tokutei::claims::{
        ClaimPricing, CommissionType, Copayment, DetailTest, Summary,
    };

    use super::*;

    /// Group checkup at 7150 yen, 30 % co-payment on the basic part, 100 yen fixed on the
    /// detailed part, 200 yen paid by another program.
    fn pricing() -> ClaimPricing {
        ClaimPricing {
            commission_type: CommissionType::Group,
            basic_price: 7150,
            detail_prices: BTreeMap::from([
                (DetailTest::Anaemia, 300),
                (DetailTest::Ecg, 1300),
                (DetailTest::Fundus, 1100),
                (DetailTest::Creatinine, 110),
            ]),
            copayment_basic: Copayment::Rate(30_000),
            copayment_detail: Copayment::Amount(100),
            paid_by_other_program: 200,
        }
    }

    /// 請求区分, the detailed tests' prices, unitAmount, paymentAmount,
    /// paymentByOtherProgram, claimAmount.
    type Amounts = (u8, Vec<(DetailTest, u64)>, u64, u64, u64, u64);

    fn claims_spec(p: ClaimPricing) -> ArchiveSpec {
        let mut s = spec();
        s.claims = Some(p);
        s
    }

    /// Basic only; ECG and creatinine (測定不可) with fundus 未実施; anaemia.
    fn examinees() -> Vec<Examinee> {
        let mut full = full_examinee("R-0002");
        full.postal_code = Some("530-0003".into());
        let mut anaemia = box_examinee("R-0003");
        anaemia.observations.extend([
            n("2A030000001930101", "13.5"),
            n("2A040000001930102", "41.0"),
            n("2A020000001930101", "450"),
        ]);
        vec![box_examinee("R-0001"), full, anaemia]
    }

    fn rules(table: &ItemTable) -> BusinessRules {
        let mut codes = box_codes();
        codes.extend([
            "2A030000001930101",
            "2A040000001930102",
            "2A020000001930101",
        ]);
        BusinessRules::for_recorded(table, codes)
    }

    fn write(
        spec: &ArchiveSpec,
        examinees: &[Examinee],
        out: &Path,
    ) -> Result<checkup_central::tokutei::archive::WrittenArchive, ExportError> {
        let table = table();
        write_archive(spec, examinees, &table, &rules(&table), &xsd_dir(), out)
    }

    #[test]
    fn an_archive_with_claims_validates_every_file_adds_up_and_reads_back() {
        let table = table();
        let examinees = examinees();
        let out = tempfile::tempdir().expect("tmp");
        let written =
            write(&claims_spec(pricing()), &examinees, out.path()).unwrap_or_else(|e| match e {
                ExportError::Refused(f) => panic!("refused: {f:#?}"),
                e => panic!("{e}"),
            });
        assert_eq!(
            written.claim_files,
            vec![
                "c27123456782026120201000001.xml".to_owned(),
                "c27123456782026120201000002.xml".to_owned(),
                "c27123456782026120201000003.xml".to_owned(),
            ]
        );
        for (c, h) in written.claim_files.iter().zip(&written.data_files) {
            assert_eq!(c[1..], h[1..], "a claim is named as its DATA file");
        }
        if let Ok(keep) = std::env::var("TOKUTEI_TEST_KEEP") {
            let name = written.path.file_name().expect("name");
            std::fs::copy(&written.path, Path::new(&keep).join(name)).expect("keep a copy");
        }

        let extracted = tempfile::tempdir().expect("tmp");
        let root = unzip(&written.path, extracted.path());
        let xsd = xsd_dir();
        xmllint(&xsd.join("ix08_V08.xsd"), &root.join("ix08_V08.xml"));
        xmllint(&xsd.join("su08_V08.xsd"), &root.join("su08_V08.xml"));
        xmllint(&root.join("XSD/su08_V08.xsd"), &root.join("su08_V08.xml"));
        for name in &written.data_files {
            xmllint(&xsd.join("hc08_V08.xsd"), &root.join("DATA").join(name));
        }
        for name in &written.claim_files {
            let file = root.join("CLAIMS").join(name);
            xmllint(&xsd.join("cc08_V08.xsd"), &file);
            xmllint(&root.join("XSD/cc08_V08.xsd"), &file);
        }
        let index = std::fs::read_to_string(root.join("ix08_V08.xml")).expect("index");
        assert!(
            index.contains(r#"<totalRecordCount value="6"/>"#),
            "DATA + CLAIMS: {index}"
        );
        let summary = std::fs::read_to_string(root.join("su08_V08.xml")).expect("summary");
        assert!(summary.contains(&format!(
            r#"xsi:schemaLocation="{} ./XSD/su08_V08.xsd""#,
            checkup_central::tokutei::archive::MHLW_NS
        )));
        let claim = std::fs::read_to_string(root.join("CLAIMS").join(&written.claim_files[1]))
            .expect("claim");
        assert!(claim.contains(&format!(
            r#"<checkupClaim xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{ns} ../XSD/cc08_V08.xsd">"#,
            ns = checkup_central::tokutei::archive::MHLW_NS
        )));
        assert!(claim.contains(r#"<claimType code="2"/>"#), "{claim}");
        assert!(
            claim.contains(r#"<rate value="030000" unit="%"/>"#),
            "{claim}"
        );
        assert!(
            claim.contains(r#"<amount value="000100" currency="JPY"/>"#),
            "{claim}"
        );

        // Hand-computed from the prices: basic 7150, 30 % → 2145; detail co-payment 100.
        // R-0001: basic only. R-0002: ECG 1300 + creatinine 110 (測定不可 is done; 眼底 未実施
        // is not billed). R-0003: anaemia 300.
        let bytes = std::fs::read(&written.path).expect("zip bytes");
        let parsed = parse_archive("archive", &bytes, &table).expect("parses");
        assert_eq!(parsed.index.total_record_count, 6);
        let amounts: Vec<Amounts> = parsed
            .claims
            .iter()
            .map(|(_, c)| {
                let c = &c.claim;
                (
                    c.claim_type,
                    c.detail_prices.clone(),
                    c.unit_amount,
                    c.payment_amount,
                    c.paid_by_other_program,
                    c.claim_amount,
                )
            })
            .collect();
        assert_eq!(
            amounts,
            vec![
                (1, vec![], 7150, 2145, 200, 4805),
                (
                    2,
                    vec![(DetailTest::Ecg, 1300), (DetailTest::Creatinine, 110)],
                    8560,
                    2245,
                    200,
                    6115
                ),
                (2, vec![(DetailTest::Anaemia, 300)], 7450, 2245, 200, 5005),
            ]
        );
        assert_eq!(
            parsed.summary,
            Some(Summary {
                service_event_type: 1,
                subject_count: 3,
                total_cost: 7150 + 8560 + 7450,
                total_payment: 2145 + 2245 + 2245,
                total_paid_by_other_program: 600,
                total_claim: 4805 + 6115 + 5005,
            })
        );
        for (_, c) in &parsed.claims {
            assert!(
                checkup_central::tokutei::claims::check_claim(&c.claim).is_empty(),
                "{c:?}"
            );
        }
        let claims: Vec<_> = parsed.claims.iter().map(|(_, c)| c.claim.clone()).collect();
        let summary = parsed.summary.expect("summary");
        assert!(checkup_central::tokutei::claims::check_summary(&summary, &claims).is_empty());
        // Each claim names the examinee of the DATA file of the same serial.
        for ((_, c), (_, d)) in parsed.claims.iter().zip(&parsed.documents) {
            assert_eq!(c.insurer, d.examinee.insurer);
            assert_eq!(c.name_kana, d.examinee.name_kana);
            assert_eq!(c.birth_date, d.examinee.birth_date);
            assert_eq!(c.sex, d.examinee.sex);
            assert_eq!(Some(&c.postal_code), d.examinee.postal_code.as_ref());
            assert_eq!(c.institution_number, sender().institution_number);
        }
        // The DATA files are those of an archive without claims.
        assert_eq!(
            parsed.documents.len(),
            3,
            "{:?}",
            parsed.documents.iter().map(|d| &d.0).collect::<Vec<_>>()
        );
    }

    fn entries(zip_path: &Path) -> BTreeMap<String, Vec<u8>> {
        let file = std::fs::File::open(zip_path).expect("open zip");
        let mut archive = zip::ZipArchive::new(file).expect("zip");
        let mut out = BTreeMap::new();
        for i in 0..archive.len() {
            let mut e = archive.by_index(i).expect("entry");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).expect("read");
            let name = e.name().expect("entry name").into_owned();
            let rel = name
                .split_once('/')
                .map(|(_, r)| r.to_owned())
                .expect("root");
            out.insert(rel, bytes);
        }
        out
    }

    #[test]
    fn without_claims_the_archive_holds_results_only_and_the_same_data() {
        let examinees = examinees();
        let plain_dir = tempfile::tempdir().expect("tmp");
        let claims_dir = tempfile::tempdir().expect("tmp");
        let plain = write(&spec(), &examinees, plain_dir.path()).expect("plain");
        let with = write(&claims_spec(pricing()), &examinees, claims_dir.path()).expect("claims");
        assert!(plain.claim_files.is_empty());
        let (p, w) = (entries(&plain.path), entries(&with.path));
        assert!(
            p.keys()
                .all(|k| !k.starts_with("CLAIMS") && k != "su08_V08.xml"),
            "{:?}",
            p.keys().collect::<Vec<_>>()
        );
        let index = String::from_utf8(p["ix08_V08.xml"].clone()).expect("utf8");
        assert!(
            index.contains(r#"<totalRecordCount value="3"/>"#),
            "{index}"
        );
        for (k, bytes) in &p {
            if k != "ix08_V08.xml" {
                assert_eq!(Some(bytes), w.get(k), "{k} is the same with claims");
            }
        }
        let extra: Vec<&String> = w.keys().filter(|k| !p.contains_key(*k)).collect();
        assert_eq!(
            extra,
            vec![
                "CLAIMS/",
                "CLAIMS/c27123456782026120201000001.xml",
                "CLAIMS/c27123456782026120201000002.xml",
                "CLAIMS/c27123456782026120201000003.xml",
                "su08_V08.xml",
            ]
        );
    }

    #[test]
    fn a_detailed_test_without_a_price_or_an_examinee_without_postal_code_refuses_the_archive() {
        let mut p = pricing();
        p.detail_prices.remove(&DetailTest::Ecg);
        let mut ex = examinees();
        ex[2].postal_code = None;
        let out = tempfile::tempdir().expect("tmp");
        let f = match write(&claims_spec(p), &ex, out.path()) {
            Err(ExportError::Refused(f)) => f,
            other => panic!("not refused: {other:?}"),
        };
        assert!(
            f.iter().any(|f| f.resident_id == "R-0002"
                && f.item_name_ja == "請求（心電図検査）"
                && f.message_ja.contains("tokutei.claims.detail_prices.ecg")),
            "{f:#?}"
        );
        assert_eq!(
            std::fs::read_dir(out.path()).expect("dir").count(),
            0,
            "nothing written"
        );
        // With every price, the examinee without a postal code is named (cc08 requires it).
        let f = match write(&claims_spec(pricing()), &ex, out.path()) {
            Err(ExportError::Refused(f)) => f,
            other => panic!("not refused: {other:?}"),
        };
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resident_id, "R-0003");
        assert_eq!(f[0].item_name_ja, "郵便番号");
        assert!(
            f[0].message_ja.contains("c27123456782026120201000003.xml"),
            "{f:#?}"
        );
        assert_eq!(std::fs::read_dir(out.path()).expect("dir").count(), 0);
    }

    #[test]
    fn claims_and_summaries_that_do_not_add_up_or_do_not_fit_the_schema_are_caught() {
        let table = table();
        let out = tempfile::tempdir().expect("tmp");
        let written = write(&claims_spec(pricing()), &examinees(), out.path()).expect("writes");
        let extracted = tempfile::tempdir().expect("tmp");
        let root = unzip(&written.path, extracted.path());
        let claim_path = root.join("CLAIMS").join(&written.claim_files[0]);
        let claim = std::fs::read_to_string(&claim_path).expect("claim");
        let mut v = XsdValidator::load(&xsd_dir()).expect("schemas");
        v.validate_claim(claim.as_bytes()).expect("valid");
        // A claim amount that is not cost − co-payment − other: valid XML, wrong sum.
        let wrong = claim.replace(
            r#"<claimAmount value="4805""#,
            r#"<claimAmount value="4806""#,
        );
        assert_ne!(wrong, claim);
        v.validate_claim(wrong.as_bytes())
            .expect("still schema-valid");
        let parsed =
            checkup_central::tokutei::parse::parse_claim("c.xml", wrong.as_bytes()).expect("reads");
        let m = checkup_central::tokutei::claims::check_claim(&parsed.claim);
        assert!(m.iter().any(|m| m.contains("請求金額 4806 円")), "{m:?}");
        // A co-payment of seven digits does not fit cc08.
        let long = claim.replace(r#"value="002145""#, r#"value="0002145""#);
        assert_ne!(long, claim);
        assert!(v.validate_claim(long.as_bytes()).is_err());
        // The old 第3期 namespace is refused, as libxml2 refuses real 2024 samples.
        let old_ns = claim.replace(
            checkup_central::tokutei::archive::MHLW_NS,
            "http://tokuteikenshin.jp/checkup/2007",
        );
        assert!(v.validate_claim(old_ns.as_bytes()).is_err());
        assert!(checkup_central::tokutei::parse::parse_claim("c.xml", old_ns.as_bytes()).is_err());
        // A summary whose total is not the sum of the claims.
        let summary = std::fs::read_to_string(root.join("su08_V08.xml")).expect("summary");
        v.validate_summary(summary.as_bytes()).expect("valid");
        let bytes = std::fs::read(&written.path).expect("zip");
        let parsed = parse_archive("a", &bytes, &table).expect("parses");
        let claims: Vec<_> = parsed.claims.iter().map(|(_, c)| c.claim.clone()).collect();
        let mut s = parsed.summary.expect("summary");
        s.total_cost += 1;
        let m = checkup_central::tokutei::claims::check_summary(&s, &claims);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("単価合計金額の総計"), "{m:?}");
    }
}
