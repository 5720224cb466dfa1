//! Writing one examinee's checkup as an hc08 document: an HL7 CDA R2 `ClinicalDocument` in
//! `urn:hl7-org:v3`, laid out as MHLW's 特定健診情報ファイル specifies.
//!
//! - Header: typeId, `id` NI, 報告区分 `10` (.1001), the creation date, confidentiality `N`,
//!   `ja-JP`; `recordTarget` with the insurer ids (保険者番号 .101 zero-padded to 8 digits,
//!   記号 .204, 番号 .205, 枝番 .211), address, カナ name, sex (.1104) and birth date;
//!   `author` = the file creator (機関番号 .102); `custodian` NI; `participant` HLD for the
//!   受診券 (.208, `1.2.392.200119.6.209.1` + insurer number, expiry in `time/high`);
//!   `documentationOf/serviceEvent` 特定健診 `010` (.1002) on the checkup date, performed by
//!   the same institution.
//! - Body: section `01010` (特定健診検査・問診) holds the 特定健診 items and section `01990`
//!   (任意追加項目) the others, each in the item table's order, one `entry/observation` per
//!   item: `code` (code system .1005 by the schema's default), `value` with the table's
//!   `xsi:type`, the UCUM unit for PQ, the result code system for CD/CO, then `methodCode`
//!   where the table has one. 未実施 is `negationInd="true"` with no value; 測定不可 is a
//!   value with `nullFlavor="NI"`. Items of a 一連検査グループ sit in
//!   `entryRelationship` (COMP / RSON) of one group observation whose code is `NA`. The
//!   doctor is the `author` of 医師の診断(判定) (9N511), not an observation.
//!
//! Prefixes of OIDs (`1.2.392.200119.6.`) are spelled out in full in the document.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use time::Date;

use super::items::{ItemDef, ItemStatus, ItemTable, XmlType};
use super::model::{Examinee, Obs, ObsValue, Sender};

/// The HL7 v3 namespace of hc08 documents.
pub const HL7_NS: &str = "urn:hl7-org:v3";
/// The XML Schema instance namespace.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// `xsi:schemaLocation` of a DATA file (relative to `DATA/`).
pub const HC08_SCHEMA_LOCATION: &str = "urn:hl7-org:v3 ../XSD/hc08_V08.xsd";

/// 保険者番号.
pub const OID_INSURER: &str = "1.2.392.200119.6.101";
/// 健診機関番号.
pub const OID_INSTITUTION: &str = "1.2.392.200119.6.102";
/// 被保険者証記号.
pub const OID_SYMBOL: &str = "1.2.392.200119.6.204";
/// 被保険者証番号.
pub const OID_NUMBER: &str = "1.2.392.200119.6.205";
/// 枝番.
pub const OID_BRANCH: &str = "1.2.392.200119.6.211";
/// 受診券: the prefix to which `1` and the 8-digit insurer number are appended.
pub const OID_TICKET_PREFIX: &str = "1.2.392.200119.6.209.1";
/// 受診券 function code system.
pub const OID_PARTICIPANT_FUNCTION: &str = "1.2.392.200119.6.208";
/// 報告区分.
pub const OID_REPORT_KIND: &str = "1.2.392.200119.6.1001";
/// 健診プログラム種別.
pub const OID_PROGRAM: &str = "1.2.392.200119.6.1002";
/// セクション.
pub const OID_SECTION: &str = "1.2.392.200119.6.1010";
/// 性別.
pub const OID_SEX: &str = "1.2.392.200119.6.1104";
/// 特定健診 item codes (the schema's default for `observation/code`).
pub const OID_ITEM: &str = "1.2.392.200119.6.1005";

/// 特定健診検査・問診セクション.
pub const SECTION_TOKUTEI: &str = "01010";
/// 任意追加項目セクション.
pub const SECTION_OPTIONAL: &str = "01990";
/// 医師の診断(判定): the item the doctor authors.
pub const DOCTOR_JUDGEMENT: &str = "9N511000000000049";
/// 健康診断を実施した医師の氏名: carried as the author of [`DOCTOR_JUDGEMENT`].
pub const DOCTOR_NAME: &str = "9N516000000000049";

/// Why a document could not be written. The business rules catch each of these first, with
/// a message in Japanese; the writer refuses rather than write a wrong document.
#[derive(Debug, thiserror::Error)]
pub enum CdaError {
    /// An item code the table does not have.
    #[error("item {code} is not in the item table")]
    UnknownItem {
        /// The code.
        code: String,
    },
    /// A value of the wrong kind for the item's XML type.
    #[error("item {code} ({name}) takes {xml_type}, not {value:?}")]
    WrongKind {
        /// The code.
        code: String,
        /// The item's name.
        name: String,
        /// The table's type.
        xml_type: XmlType,
        /// The value given.
        value: ObsValue,
    },
    /// An item the table writes as an author, not an observation (a doctor's name).
    #[error("item {code} ({name}) is written as an author, not as a result")]
    NotAnObservation {
        /// The code.
        code: String,
        /// The item's name.
        name: String,
    },
    /// Writing the XML failed.
    #[error("writing XML: {0}")]
    Xml(#[from] std::io::Error),
}

/// `YYYYMMDD`.
pub fn yyyymmdd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) struct Xml {
    w: Writer<Vec<u8>>,
}

impl Xml {
    pub(crate) fn new() -> Result<Xml, std::io::Error> {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        Ok(Xml { w })
    }

    pub(crate) fn start(&mut self, name: &str, attrs: &[(&str, &str)]) -> std::io::Result<()> {
        let el = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.w.write_event(Event::Start(el))
    }

    pub(crate) fn end(&mut self, name: &str) -> std::io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> std::io::Result<()> {
        let el = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.w.write_event(Event::Empty(el))
    }

    pub(crate) fn text_element(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> std::io::Result<()> {
        self.start(name, attrs)?;
        self.w.write_event(Event::Text(BytesText::new(text)))?;
        self.end(name)
    }

    pub(crate) fn text(&mut self, text: &str) -> std::io::Result<()> {
        self.w.write_event(Event::Text(BytesText::new(text)))
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        let mut bytes = self.w.into_inner();
        bytes.push(b'\n');
        bytes
    }
}

fn organization(x: &mut Xml, tag: &str, sender: &Sender) -> std::io::Result<()> {
    x.start(tag, &[])?;
    x.empty(
        "id",
        &[
            ("root", OID_INSTITUTION),
            ("extension", &sender.institution_number),
        ],
    )?;
    x.text_element("name", &[], &sender.name)?;
    if let Some(tel) = &sender.telephone {
        x.empty("telecom", &[("value", &format!("tel:{tel}"))])?;
    }
    address(x, sender.postal_code.as_deref(), sender.address.as_deref())?;
    x.end(tag)
}

fn address(x: &mut Xml, postal: Option<&str>, addr: Option<&str>) -> std::io::Result<()> {
    if postal.is_none() && addr.is_none() {
        return Ok(());
    }
    x.start("addr", &[])?;
    if let Some(p) = postal {
        x.text_element("postalCode", &[], p)?;
    }
    if let Some(a) = addr {
        x.text(a)?;
    }
    x.end("addr")
}

/// The item of each observation, in write order, split into the 特定健診 section and the
/// optional one. Fails on an unknown item, a value of the wrong kind or an author item.
fn resolve<'t>(ex: &Examinee, table: &'t ItemTable) -> Result<Vec<(&'t ItemDef, Obs)>, CdaError> {
    let mut out = Vec::with_capacity(ex.observations.len());
    for obs in &ex.observations {
        let item = table
            .get(&obs.code17)
            .ok_or_else(|| CdaError::UnknownItem {
                code: obs.code17.clone(),
            })?;
        if !item.is_observation {
            return Err(CdaError::NotAnObservation {
                code: item.code17.clone(),
                name: item.name.clone(),
            });
        }
        if !value_fits(&item.xml_type, &obs.value) {
            return Err(CdaError::WrongKind {
                code: item.code17.clone(),
                name: item.name.clone(),
                xml_type: item.xml_type.clone(),
                value: obs.value.clone(),
            });
        }
        out.push((item, obs.clone()));
    }
    out.sort_by_key(|(item, _)| write_order(table, &item.code17));
    Ok(out)
}

/// The order results are written and read back in: the 特定健診 section's items, then the
/// optional section's, each in the item table's order.
pub fn write_order(table: &ItemTable, code: &str) -> (bool, usize) {
    let optional = table.get(code).is_some_and(|i| !in_tokutei_section(i));
    (optional, table.position(code))
}

/// Sort results into [`write_order`].
pub fn sort_observations(observations: &mut [Obs], table: &ItemTable) {
    observations.sort_by_key(|o| write_order(table, &o.code17));
}

/// Whether a value of this kind may be written for an item of this XML type.
pub fn value_fits(xml_type: &XmlType, value: &ObsValue) -> bool {
    match value {
        ObsValue::NotDone | ObsValue::Unmeasurable => true,
        ObsValue::Quantity(_) => *xml_type == XmlType::Pq,
        ObsValue::Coded(_) => xml_type.is_coded(),
        ObsValue::Text(_) => *xml_type == XmlType::St,
    }
}

/// Whether an item goes to the 特定健診 section (01010) rather than 任意追加項目 (01990).
pub fn in_tokutei_section(item: &ItemDef) -> bool {
    item.status != ItemStatus::NotUsed
}

/// Write one examinee's hc08 document. `created` is the document's creation date
/// (`effectiveTime`, author time). Observations are written in the item table's order.
pub fn write_document(
    ex: &Examinee,
    sender: &Sender,
    table: &ItemTable,
    created: Date,
) -> Result<Vec<u8>, CdaError> {
    let resolved = resolve(ex, table)?;
    let mut x = Xml::new()?;
    let created_s = yyyymmdd(created);
    let checkup_s = yyyymmdd(ex.checkup_date);
    let insurer8 = ex.insurer.padded_insurer_number();

    x.start(
        "ClinicalDocument",
        &[
            ("xmlns", HL7_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", HC08_SCHEMA_LOCATION),
        ],
    )?;
    x.empty(
        "typeId",
        &[
            ("root", "2.16.840.1.113883.1.3"),
            ("extension", "POCD_HD000040"),
        ],
    )?;
    x.empty("id", &[("nullFlavor", "NI")])?;
    x.empty("code", &[("code", "10"), ("codeSystem", OID_REPORT_KIND)])?;
    x.empty("effectiveTime", &[("value", &created_s)])?;
    x.empty(
        "confidentialityCode",
        &[("code", "N"), ("codeSystem", "2.16.840.1.113883.5.25")],
    )?;
    x.empty("languageCode", &[("code", "ja-JP")])?;

    // 受診者
    x.start("recordTarget", &[])?;
    x.start("patientRole", &[])?;
    x.empty("id", &[("root", OID_INSURER), ("extension", &insurer8)])?;
    if let Some(symbol) = &ex.insurer.symbol {
        x.empty("id", &[("root", OID_SYMBOL), ("extension", symbol)])?;
    }
    x.empty(
        "id",
        &[("root", OID_NUMBER), ("extension", &ex.insurer.number)],
    )?;
    if let Some(branch) = &ex.insurer.branch {
        x.empty("id", &[("root", OID_BRANCH), ("extension", branch)])?;
    }
    address(&mut x, ex.postal_code.as_deref(), ex.address.as_deref())?;
    x.start("patient", &[])?;
    x.text_element("name", &[], &ex.name_kana)?;
    x.empty(
        "administrativeGenderCode",
        &[("code", ex.sex.code()), ("codeSystem", OID_SEX)],
    )?;
    x.empty("birthTime", &[("value", &yyyymmdd(ex.birth_date))])?;
    x.end("patient")?;
    x.end("patientRole")?;
    x.end("recordTarget")?;

    // ファイル作成機関
    x.start("author", &[])?;
    x.empty("time", &[("value", &created_s)])?;
    x.start("assignedAuthor", &[])?;
    x.empty("id", &[("nullFlavor", "NI")])?;
    organization(&mut x, "representedOrganization", sender)?;
    x.end("assignedAuthor")?;
    x.end("author")?;

    x.start("custodian", &[])?;
    x.start("assignedCustodian", &[])?;
    x.start("representedCustodianOrganization", &[])?;
    x.empty("id", &[("nullFlavor", "NI")])?;
    x.end("representedCustodianOrganization")?;
    x.end("assignedCustodian")?;
    x.end("custodian")?;

    // 受診券
    if ex.insurer.ticket_number.is_some() || ex.insurer.ticket_expiry.is_some() {
        x.start("participant", &[("typeCode", "HLD")])?;
        x.empty(
            "functionCode",
            &[("code", "1"), ("codeSystem", OID_PARTICIPANT_FUNCTION)],
        )?;
        if let Some(expiry) = ex.insurer.ticket_expiry {
            x.start("time", &[])?;
            x.empty("high", &[("value", &yyyymmdd(expiry))])?;
            x.end("time")?;
        }
        x.start("associatedEntity", &[("classCode", "IDENT")])?;
        let root = format!("{OID_TICKET_PREFIX}{insurer8}");
        match &ex.insurer.ticket_number {
            Some(t) => x.empty("id", &[("root", &root), ("extension", t)])?,
            None => x.empty("id", &[("root", &root)])?,
        }
        x.start("scopingOrganization", &[])?;
        x.empty("id", &[("root", OID_INSURER), ("extension", &insurer8)])?;
        x.end("scopingOrganization")?;
        x.end("associatedEntity")?;
        x.end("participant")?;
    }

    // 健診実施情報
    x.start("documentationOf", &[])?;
    x.start("serviceEvent", &[])?;
    x.empty(
        "code",
        &[
            ("code", "010"),
            ("codeSystem", OID_PROGRAM),
            ("displayName", "特定健診"),
        ],
    )?;
    x.empty("effectiveTime", &[("value", &checkup_s)])?;
    x.start("performer", &[("typeCode", "PRF")])?;
    x.start("assignedEntity", &[])?;
    x.empty("id", &[("nullFlavor", "NI")])?;
    organization(&mut x, "representedOrganization", sender)?;
    x.end("assignedEntity")?;
    x.end("performer")?;
    x.end("serviceEvent")?;
    x.end("documentationOf")?;

    x.start("component", &[])?;
    x.start("structuredBody", &[])?;
    let (tokutei, optional): (Vec<_>, Vec<_>) = resolved
        .into_iter()
        .partition(|(item, _)| in_tokutei_section(item));
    for (code, title, entries) in [
        (SECTION_TOKUTEI, "特定健診検査・問診セクション", tokutei),
        (SECTION_OPTIONAL, "任意追加項目", optional),
    ] {
        if entries.is_empty() && code == SECTION_OPTIONAL {
            continue;
        }
        x.start("component", &[])?;
        x.start("section", &[])?;
        x.empty(
            "code",
            &[
                ("code", code),
                ("codeSystem", OID_SECTION),
                ("displayName", title),
            ],
        )?;
        x.text_element("title", &[], title)?;
        section_entries(&mut x, &entries, ex)?;
        x.end("section")?;
        x.end("component")?;
    }
    x.end("structuredBody")?;
    x.end("component")?;
    x.end("ClinicalDocument")?;
    Ok(x.finish())
}

fn section_entries(x: &mut Xml, entries: &[(&ItemDef, Obs)], ex: &Examinee) -> std::io::Result<()> {
    let mut done_groups: Vec<&str> = Vec::new();
    for (i, (item, obs)) in entries.iter().enumerate() {
        match (item.group.as_deref(), item.relationship_type()) {
            (Some(group), Some(_)) => {
                if done_groups.contains(&group) {
                    continue;
                }
                done_groups.push(group);
                x.start("entry", &[])?;
                x.start("observation", &[("classCode", "OBS"), ("moodCode", "EVN")])?;
                x.empty("code", &[("nullFlavor", "NA")])?;
                for (member, mobs) in &entries[i..] {
                    if member.group.as_deref() != Some(group) {
                        continue;
                    }
                    let type_code = member.relationship_type().unwrap_or("COMP");
                    x.start("entryRelationship", &[("typeCode", type_code)])?;
                    observation(x, member, mobs, ex)?;
                    x.end("entryRelationship")?;
                }
                x.end("observation")?;
                x.end("entry")?;
            }
            _ => {
                x.start("entry", &[])?;
                observation(x, item, obs, ex)?;
                x.end("entry")?;
            }
        }
    }
    Ok(())
}

fn observation(x: &mut Xml, item: &ItemDef, obs: &Obs, ex: &Examinee) -> std::io::Result<()> {
    let not_done = obs.value == ObsValue::NotDone;
    let mut attrs = vec![("classCode", "OBS"), ("moodCode", "EVN")];
    if not_done {
        attrs.push(("negationInd", "true"));
    }
    x.start("observation", &attrs)?;
    x.empty(
        "code",
        &[("code", &item.code17), ("displayName", &item.name)],
    )?;
    let ty = item.xml_type.as_str();
    match &obs.value {
        ObsValue::NotDone => {}
        ObsValue::Unmeasurable => {
            x.empty("value", &[("xsi:type", ty), ("nullFlavor", "NI")])?;
        }
        ObsValue::Quantity(v) => match &item.unit_ucum {
            Some(unit) => x.empty("value", &[("xsi:type", ty), ("value", v), ("unit", unit)])?,
            None => x.empty("value", &[("xsi:type", ty), ("value", v)])?,
        },
        ObsValue::Coded(c) => match &item.result_oid {
            Some(oid) => x.empty(
                "value",
                &[("xsi:type", ty), ("code", c), ("codeSystem", oid)],
            )?,
            None => x.empty("value", &[("xsi:type", ty), ("code", c)])?,
        },
        ObsValue::Text(t) => x.text_element("value", &[("xsi:type", ty)], t)?,
    }
    if !not_done && let Some(method) = &item.method_code {
        x.empty("methodCode", &[("code", method)])?;
    }
    if item.code17 == DOCTOR_JUDGEMENT
        && let Some(doctor) = &ex.doctor_name
    {
        x.start("author", &[])?;
        x.empty("time", &[("value", &yyyymmdd(ex.checkup_date))])?;
        x.start("assignedAuthor", &[])?;
        x.empty("id", &[("nullFlavor", "NI")])?;
        x.start("assignedPerson", &[])?;
        x.text_element("name", &[], doctor)?;
        x.end("assignedPerson")?;
        x.end("assignedAuthor")?;
        x.end("author")?;
    }
    x.end("observation")
}
