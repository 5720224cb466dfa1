//! Reading 特定健診 documents and archives back: an hc08 DATA file into an [`Examinee`]
//! (and the institution that wrote it), a cc08 claim and the su08 summary into their
//! amounts, a whole archive (zip) into its index, documents, claims and summary.
//! Used for the round trip of our own exports and to import a resident's record written by
//! another municipality's central or any system that speaks the standard.
//!
//! The reader is strict about structure it relies on (the root element and namespace, the
//! insurer ids, sex, dates, item codes and value types) and says which part is wrong;
//! elements it does not use are skipped. No input makes it panic: depth and size are bounded.

use std::io::Read;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use time::{Date, Month};

use super::archive::{INDEX_FILE, IndexInfo, MHLW_NS, OID_AGENCY, Receiver};
use super::cda::{
    DOCTOR_JUDGEMENT, HL7_NS, OID_BRANCH, OID_INSTITUTION, OID_INSURER, OID_NUMBER, OID_SYMBOL,
    OID_TICKET_PREFIX,
};
use super::claims::{
    Claim, CommissionType, Copayment, DetailTest, OID_CHECKUP_CARD, SUMMARY_FILE, Summary,
};
use super::items::{ItemTable, XmlType};
use super::model::{Examinee, InsurerRef, Obs, ObsValue, Sender, Sex};

/// Nesting deeper than this is refused (hc08 documents nest about 12 deep).
const MAX_DEPTH: usize = 64;
/// A DATA file larger than this is refused.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;
/// An archive with more entries than this is refused.
pub const MAX_ARCHIVE_ENTRIES: usize = 200_000;
/// An archive whose files read (index, summary, DATA, CLAIMS) expand to more than this in
/// all is refused: a small zip cannot make central hold gigabytes (a zip bomb). 10,000
/// examinees' DATA files take about 200 MB.
pub const MAX_ARCHIVE_BYTES: u64 = 512 * 1024 * 1024;

/// Why a document or archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not well-formed XML.
    #[error("{file}: not well-formed XML at byte {position}: {message}")]
    Xml {
        /// The file.
        file: String,
        /// Byte offset.
        position: u64,
        /// The XML reader's message.
        message: String,
    },
    /// Well-formed, but not the document expected.
    #[error("{file}: {message}")]
    Structure {
        /// The file.
        file: String,
        /// What is wrong, naming the element.
        message: String,
    },
    /// The zip is unreadable.
    #[error("{file}: not a readable zip archive: {message}")]
    Zip {
        /// The archive.
        file: String,
        /// The zip reader's message.
        message: String,
    },
    /// Reading failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A parsed element: local name, namespace, attributes by local name, children and text.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) ns: Option<String>,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    pub(crate) text: String,
}

impl Node {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub(crate) fn path(&self, names: &[&str]) -> Option<&Node> {
        names.iter().try_fold(self, |n, name| n.child(name))
    }
}

/// Parse XML bytes into a tree.
pub(crate) fn parse_tree(file: &str, bytes: &[u8]) -> Result<Node, ParseError> {
    let xml_err = |position: u64, message: String| ParseError::Xml {
        file: file.to_owned(),
        position,
        message,
    };
    let mut reader = NsReader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let position = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| xml_err(position, e.to_string()))?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
            _ => None,
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(xml_err(position, "content after the root element".into()));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(xml_err(
                        position,
                        format!("nesting deeper than {MAX_DEPTH}"),
                    ));
                }
                let mut node = Node {
                    name: e.local_name().as_ref().to_owned(),
                    ns,
                    ..Node::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| xml_err(position, e.to_string()))?;
                    let key = a.key.local_name();
                    let key = key.as_ref().to_owned();
                    if a.key.as_ref().starts_with("xmlns") {
                        continue;
                    }
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| xml_err(position, e.to_string()))?
                        .into_owned();
                    node.attrs.push((key, value));
                }
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else {
                    return Err(xml_err(position, "unbalanced end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| xml_err(position, format!("unknown entity &{name};")))?
                            .to_owned()
                    }
                    Err(e) => return Err(xml_err(position, e.to_string())),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => {
                return Err(xml_err(position, "a DOCTYPE is not allowed".into()));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(xml_err(
            reader.buffer_position(),
            "unclosed elements at the end".into(),
        ));
    }
    root.ok_or_else(|| xml_err(0, "no root element".into()))
}

fn structure(file: &str, message: impl Into<String>) -> ParseError {
    ParseError::Structure {
        file: file.to_owned(),
        message: message.into(),
    }
}

/// Parse `YYYYMMDD` (a longer timestamp keeps its first eight digits).
pub fn parse_yyyymmdd(s: &str) -> Option<Date> {
    let digits = s.get(..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits[..4].parse().ok()?;
    let month: u8 = digits[4..6].parse().ok()?;
    let day: u8 = digits[6..8].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// One document read back: the examinee and the institution that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDocument {
    /// The examinee (its `resident_id` is empty: the standard does not carry it).
    pub examinee: Examinee,
    /// The file creator (`author/assignedAuthor/representedOrganization`): where the record
    /// came from.
    pub author: Sender,
    /// The document's creation date.
    pub created: Date,
}

fn date_attr(file: &str, node: Option<&Node>, what: &str) -> Result<Date, ParseError> {
    let value = node
        .and_then(|n| n.attr("value"))
        .ok_or_else(|| structure(file, format!("{what} is missing")))?;
    parse_yyyymmdd(value).ok_or_else(|| structure(file, format!("{what} {value:?} is not a date")))
}

fn organization(file: &str, org: Option<&Node>) -> Result<Sender, ParseError> {
    let org = org.ok_or_else(|| {
        structure(
            file,
            "author/assignedAuthor/representedOrganization is missing",
        )
    })?;
    let number = org
        .children("id")
        .find(|id| id.attr("root") == Some(OID_INSTITUTION))
        .and_then(|id| id.attr("extension"))
        .ok_or_else(|| {
            structure(
                file,
                "the author organization has no 機関番号 id (root 1.2.392.200119.6.102)",
            )
        })?;
    let (postal_code, address) = read_addr(org.child("addr"));
    Ok(Sender {
        institution_number: number.to_owned(),
        name: org
            .child("name")
            .map(|n| n.text.trim().to_owned())
            .unwrap_or_default(),
        telephone: org
            .child("telecom")
            .and_then(|t| t.attr("value"))
            .map(|v| v.strip_prefix("tel:").unwrap_or(v).to_owned()),
        postal_code,
        address,
    })
}

fn read_addr(addr: Option<&Node>) -> (Option<String>, Option<String>) {
    let Some(addr) = addr else {
        return (None, None);
    };
    let postal = addr.child("postalCode").map(|p| p.text.trim().to_owned());
    let text = addr.text.trim();
    (postal, (!text.is_empty()).then(|| text.to_owned()))
}

/// Read one hc08 DATA file. `table` gives each item's XML type, so a value of the wrong
/// type is refused by name.
pub fn parse_document(
    file: &str,
    bytes: &[u8],
    table: &ItemTable,
) -> Result<ParsedDocument, ParseError> {
    let root = parse_tree(file, bytes)?;
    if root.name != "ClinicalDocument" || root.ns.as_deref() != Some(HL7_NS) {
        return Err(structure(
            file,
            format!(
                "the root is {{{}}}{}, not {{{HL7_NS}}}ClinicalDocument",
                root.ns.as_deref().unwrap_or(""),
                root.name
            ),
        ));
    }
    let created = date_attr(file, root.child("effectiveTime"), "effectiveTime")?;
    let role = root
        .path(&["recordTarget", "patientRole"])
        .ok_or_else(|| structure(file, "recordTarget/patientRole is missing"))?;
    let id = |oid: &str| {
        role.children("id")
            .find(|i| i.attr("root") == Some(oid))
            .and_then(|i| i.attr("extension"))
            .map(str::to_owned)
    };
    let insurer_number = id(OID_INSURER).ok_or_else(|| {
        structure(
            file,
            "patientRole has no 保険者番号 id (root 1.2.392.200119.6.101)",
        )
    })?;
    let number = id(OID_NUMBER).ok_or_else(|| {
        structure(
            file,
            "patientRole has no 被保険者証番号 id (root 1.2.392.200119.6.205)",
        )
    })?;
    let (postal_code, address) = read_addr(role.child("addr"));
    let patient = role
        .child("patient")
        .ok_or_else(|| structure(file, "patientRole/patient is missing"))?;
    let name_kana = patient
        .child("name")
        .map(|n| n.text.trim().to_owned())
        .ok_or_else(|| structure(file, "patient/name is missing"))?;
    let sex_code = patient
        .child("administrativeGenderCode")
        .and_then(|g| g.attr("code"))
        .unwrap_or("");
    let sex = Sex::from_code(sex_code).ok_or_else(|| {
        structure(
            file,
            format!("administrativeGenderCode {sex_code:?} is not 1 or 2"),
        )
    })?;
    let birth_date = date_attr(file, patient.child("birthTime"), "patient/birthTime")?;
    let author = organization(
        file,
        root.path(&["author", "assignedAuthor", "representedOrganization"]),
    )?;

    let mut ticket_number = None;
    let mut ticket_expiry = None;
    for p in root.children("participant") {
        if p.attr("typeCode") != Some("HLD") {
            continue;
        }
        if let Some(high) = p.path(&["time", "high"]) {
            ticket_expiry = Some(date_attr(file, Some(high), "participant/time/high")?);
        }
        if let Some(tid) = p
            .path(&["associatedEntity"])
            .into_iter()
            .flat_map(|a| a.children("id"))
            .find(|i| {
                i.attr("root")
                    .is_some_and(|r| r.starts_with(OID_TICKET_PREFIX))
            })
        {
            ticket_number = tid.attr("extension").map(str::to_owned);
        }
    }
    let checkup_date = date_attr(
        file,
        root.path(&["documentationOf", "serviceEvent", "effectiveTime"]),
        "documentationOf/serviceEvent/effectiveTime",
    )?;

    let body = root
        .path(&["component", "structuredBody"])
        .ok_or_else(|| structure(file, "component/structuredBody is missing"))?;
    let mut observations = Vec::new();
    let mut doctor_name = None;
    for section in body
        .children("component")
        .filter_map(|c| c.child("section"))
    {
        for entry in section.children("entry") {
            let obs = entry
                .child("observation")
                .ok_or_else(|| structure(file, "an entry has no observation"))?;
            let is_group = obs
                .child("code")
                .is_some_and(|c| c.attr("nullFlavor").is_some());
            if is_group {
                for rel in obs.children("entryRelationship") {
                    let member = rel.child("observation").ok_or_else(|| {
                        structure(file, "an entryRelationship has no observation")
                    })?;
                    observations.push(read_observation(file, member, table, &mut doctor_name)?);
                }
            } else {
                observations.push(read_observation(file, obs, table, &mut doctor_name)?);
            }
        }
    }

    Ok(ParsedDocument {
        examinee: Examinee {
            resident_id: String::new(),
            name_kana,
            sex,
            birth_date,
            postal_code,
            address,
            insurer: InsurerRef {
                insurer_number,
                symbol: id(OID_SYMBOL),
                number,
                branch: id(OID_BRANCH),
                ticket_number,
                ticket_expiry,
            },
            checkup_date,
            observations,
            doctor_name,
        },
        author,
        created,
    })
}

fn read_observation(
    file: &str,
    obs: &Node,
    table: &ItemTable,
    doctor_name: &mut Option<String>,
) -> Result<Obs, ParseError> {
    let code = obs
        .child("code")
        .and_then(|c| c.attr("code"))
        .ok_or_else(|| structure(file, "an observation has no code"))?;
    let item = table
        .get(code)
        .ok_or_else(|| structure(file, format!("item {code} is not in the item table")))?;
    if code == DOCTOR_JUDGEMENT
        && let Some(name) = obs.path(&["author", "assignedAuthor", "assignedPerson", "name"])
    {
        *doctor_name = Some(name.text.trim().to_owned());
    }
    let value = if obs.attr("negationInd") == Some("true") {
        ObsValue::NotDone
    } else {
        let v = obs
            .child("value")
            .ok_or_else(|| structure(file, format!("item {code} ({}) has no value", item.name)))?;
        if v.attr("nullFlavor").is_some() {
            ObsValue::Unmeasurable
        } else {
            let ty = v.attr("type").unwrap_or("");
            if ty != item.xml_type.as_str() {
                return Err(structure(
                    file,
                    format!(
                        "item {code} ({}) has xsi:type {ty:?}, the table says {}",
                        item.name, item.xml_type
                    ),
                ));
            }
            let missing = |attr: &str| {
                structure(
                    file,
                    format!("item {code} ({}) has no value/@{attr}", item.name),
                )
            };
            match &item.xml_type {
                XmlType::Pq => {
                    ObsValue::Quantity(v.attr("value").ok_or_else(|| missing("value"))?.to_owned())
                }
                XmlType::Cd | XmlType::Co => {
                    ObsValue::Coded(v.attr("code").ok_or_else(|| missing("code"))?.to_owned())
                }
                XmlType::St => ObsValue::Text(v.text.clone()),
                XmlType::Other(t) => {
                    return Err(structure(
                        file,
                        format!("item {code} has type {t}, which this reader does not know"),
                    ));
                }
            }
        }
    };
    Ok(Obs::new(code, value))
}

/// A whole archive read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedArchive {
    /// The root folder (= the archive's name without `.zip`).
    pub root: String,
    /// `ix08_V08.xml`.
    pub index: IndexInfo,
    /// Every `DATA/*.xml`, by file name, in the archive's order.
    pub documents: Vec<(String, ParsedDocument)>,
    /// Every `CLAIMS/*.xml`, by file name, in the archive's order.
    pub claims: Vec<(String, ParsedClaim)>,
    /// `su08_V08.xml`, when the archive has one.
    pub summary: Option<Summary>,
}

/// One cc08 claim read back: who was examined, by whom, and the settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedClaim {
    /// 実施区分.
    pub service_event_type: u8,
    /// 健診機関番号 (performerOrganization).
    pub institution_number: String,
    /// 被保険者証 and 受診券 (insurer number as written, 8 digits).
    pub insurer: InsurerRef,
    /// 氏名.
    pub name_kana: String,
    /// 郵便番号.
    pub postal_code: String,
    /// 住所 (the text beside the postal code), if any.
    pub address: Option<String>,
    /// 生年月日.
    pub birth_date: Date,
    /// 性別.
    pub sex: Sex,
    /// The amounts.
    pub claim: Claim,
}

fn root_in_mhlw_ns(file: &str, root: &Node, name: &str) -> Result<(), ParseError> {
    if root.name != name || root.ns.as_deref() != Some(MHLW_NS) {
        return Err(structure(
            file,
            format!(
                "the root is {{{}}}{}, not {{{MHLW_NS}}}{name}",
                root.ns.as_deref().unwrap_or(""),
                root.name
            ),
        ));
    }
    Ok(())
}

/// A whole number of yen (or a count) in `@value`.
fn amount_attr(file: &str, node: Option<&Node>, what: &str) -> Result<u64, ParseError> {
    let value = node
        .and_then(|n| n.attr("value"))
        .ok_or_else(|| structure(file, format!("{what}/@value is missing")))?;
    value.trim().parse().map_err(|_| {
        structure(
            file,
            format!("{what}/@value {value:?} is not a whole number"),
        )
    })
}

fn code_attr<'a>(file: &str, node: Option<&'a Node>, what: &str) -> Result<&'a str, ParseError> {
    node.and_then(|n| n.attr("code"))
        .ok_or_else(|| structure(file, format!("{what}/@code is missing")))
}

fn copayment(file: &str, node: &Node, what: &str) -> Result<Copayment, ParseError> {
    match code_attr(file, Some(node), what)? {
        "1" => Ok(Copayment::None),
        "2" => Ok(Copayment::Amount(amount_attr(
            file,
            node.child("amount"),
            &format!("{what}/amount"),
        )?)),
        "3" => Ok(Copayment::Rate(amount_attr(
            file,
            node.child("rate"),
            &format!("{what}/rate"),
        )?)),
        other => Err(structure(
            file,
            format!("{what}/@code {other:?}: only 1 負担なし, 2 定額 and 3 定率 are read"),
        )),
    }
}

/// Read a cc08 `checkupClaim` (only 請求区分 1 and 2: 基本的な健診 with or without 詳細な健診;
/// 追加健診 and 人間ドック are refused, not misread).
pub fn parse_claim(file: &str, bytes: &[u8]) -> Result<ParsedClaim, ParseError> {
    let root = parse_tree(file, bytes)?;
    root_in_mhlw_ns(file, &root, "checkupClaim")?;
    let service_event_type = code_attr(
        file,
        root.path(&["encounter", "serviceEventType"]),
        "encounter/serviceEventType",
    )?;
    let service_event_type: u8 = service_event_type.parse().map_err(|_| {
        structure(
            file,
            format!("encounter/serviceEventType/@code {service_event_type:?} is not a number"),
        )
    })?;
    let person = root
        .child("subjectPerson")
        .ok_or_else(|| structure(file, "subjectPerson is missing"))?;
    let institution_number = person
        .path(&["performerOrganization", "id"])
        .filter(|n| n.attr("root") == Some(OID_INSTITUTION))
        .and_then(|n| n.attr("extension"))
        .ok_or_else(|| structure(file, "subjectPerson/performerOrganization/id is missing"))?
        .to_owned();
    let card = person
        .child("insuranceCard")
        .ok_or_else(|| structure(file, "subjectPerson/insuranceCard is missing"))?;
    let ext = |name: &str, oid: &str| {
        card.child(name)
            .filter(|n| n.attr("root") == Some(oid))
            .and_then(|n| n.attr("extension"))
            .map(str::to_owned)
    };
    let insurer_number = ext("insurerNumber", OID_INSURER)
        .ok_or_else(|| structure(file, "insuranceCard/insurerNumber is missing"))?;
    let number = ext("number", OID_NUMBER)
        .ok_or_else(|| structure(file, "insuranceCard/number is missing"))?;
    let checkup_card = root
        .child("checkupCard")
        .ok_or_else(|| structure(file, "checkupCard is missing"))?;
    let ticket_number = checkup_card
        .child("id")
        .filter(|n| n.attr("root") == Some(OID_CHECKUP_CARD))
        .and_then(|n| n.attr("extension"))
        .map(str::to_owned);
    let ticket_expiry = match checkup_card.path(&["effectiveTime", "high"]) {
        None => None,
        Some(h) => Some(date_attr(file, Some(h), "checkupCard/effectiveTime/high")?),
    };
    let addr = person
        .child("addr")
        .ok_or_else(|| structure(file, "subjectPerson/addr is missing"))?;
    let postal_code = addr
        .child("postalCode")
        .map(|n| n.text.trim().to_owned())
        .ok_or_else(|| structure(file, "subjectPerson/addr/postalCode is missing"))?;
    let address = Some(addr.text.trim().to_owned()).filter(|a| !a.is_empty());
    let sex_code = code_attr(
        file,
        person.child("administrativeGender"),
        "administrativeGender",
    )?;
    let sex = Sex::from_code(sex_code).ok_or_else(|| {
        structure(
            file,
            format!("administrativeGender/@code {sex_code:?} is neither 1 nor 2"),
        )
    })?;

    let st = root
        .child("settlement")
        .ok_or_else(|| structure(file, "settlement is missing"))?;
    let claim_type = code_attr(file, st.child("claimType"), "settlement/claimType")?;
    let claim_type: u8 = match claim_type {
        "1" => 1,
        "2" => 2,
        other => {
            return Err(structure(
                file,
                format!(
                    "settlement/claimType/@code {other:?}: only 1 (基本的な健診) and 2 (基本＋詳細) are read"
                ),
            ));
        }
    };
    let commission = code_attr(
        file,
        st.child("commissionType"),
        "settlement/commissionType",
    )?;
    let commission_type = CommissionType::from_code(commission).ok_or_else(|| {
        structure(
            file,
            format!("settlement/commissionType/@code {commission:?} is neither 1 nor 2"),
        )
    })?;
    if st.child("unitPriceOther").is_some() {
        return Err(structure(
            file,
            "settlement/unitPriceOther (追加健診) is not read",
        ));
    }
    let basic_price = amount_attr(
        file,
        st.path(&["unitPriceBasic", "amount"]),
        "settlement/unitPriceBasic/amount",
    )?;
    let mut detail_prices = Vec::new();
    for d in st.children("unitPriceDetail") {
        let code = code_attr(file, d.child("observation"), "unitPriceDetail/observation")?;
        let test = DetailTest::from_code(code).ok_or_else(|| {
            structure(
                file,
                format!("unitPriceDetail/observation/@code {code:?} is not 1–4"),
            )
        })?;
        detail_prices.push((
            test,
            amount_attr(file, d.child("amount"), "unitPriceDetail/amount")?,
        ));
    }
    let copayment_basic = match checkup_card.child("chargeTypeBasic") {
        Some(n) => copayment(file, n, "checkupCard/chargeTypeBasic")?,
        None => Copayment::None,
    };
    let copayment_detail = match checkup_card.child("chargeTypeDetail") {
        Some(n) => Some(copayment(file, n, "checkupCard/chargeTypeDetail")?),
        None => None,
    };
    let payment_basic = match st.path(&["paymentForBasic", "amount"]) {
        Some(n) => amount_attr(file, Some(n), "settlement/paymentForBasic/amount")?,
        None => 0,
    };
    let payment_detail = match st.path(&["paymentForDetail", "amount"]) {
        Some(n) => Some(amount_attr(
            file,
            Some(n),
            "settlement/paymentForDetail/amount",
        )?),
        None => None,
    };
    let paid_by_other_program = match st.child("paymentByOtherProgram") {
        Some(n) => amount_attr(file, Some(n), "settlement/paymentByOtherProgram")?,
        None => 0,
    };
    Ok(ParsedClaim {
        service_event_type,
        institution_number,
        insurer: InsurerRef {
            insurer_number,
            symbol: ext("symbol", OID_SYMBOL),
            number,
            branch: ext("branchCode", OID_BRANCH),
            ticket_number,
            ticket_expiry,
        },
        name_kana: person
            .child("name")
            .map(|n| n.text.trim().to_owned())
            .unwrap_or_default(),
        postal_code,
        address,
        birth_date: date_attr(file, person.child("birthTime"), "birthTime")?,
        sex,
        claim: Claim {
            claim_type,
            commission_type,
            basic_price,
            detail_prices,
            copayment_basic,
            copayment_detail,
            payment_basic,
            payment_detail,
            unit_amount: amount_attr(file, st.child("unitAmount"), "settlement/unitAmount")?,
            payment_amount: amount_attr(
                file,
                st.child("paymentAmount"),
                "settlement/paymentAmount",
            )?,
            paid_by_other_program,
            claim_amount: amount_attr(file, st.child("claimAmount"), "settlement/claimAmount")?,
        },
    })
}

/// Read an su08 `summary`.
pub fn parse_summary(file: &str, bytes: &[u8]) -> Result<Summary, ParseError> {
    let root = parse_tree(file, bytes)?;
    root_in_mhlw_ns(file, &root, "summary")?;
    let set = code_attr(file, root.child("serviceEventType"), "serviceEventType")?;
    Ok(Summary {
        service_event_type: set.parse().map_err(|_| {
            structure(
                file,
                format!("serviceEventType/@code {set:?} is not a number"),
            )
        })?,
        subject_count: amount_attr(file, root.child("totalSubjectCount"), "totalSubjectCount")?,
        total_cost: amount_attr(file, root.child("totalCostAmount"), "totalCostAmount")?,
        total_payment: amount_attr(file, root.child("totalPaymentAmount"), "totalPaymentAmount")?,
        total_paid_by_other_program: match root.child("totalPaymentByOtherProgram") {
            Some(n) => amount_attr(file, Some(n), "totalPaymentByOtherProgram")?,
            None => 0,
        },
        total_claim: amount_attr(file, root.child("totalClaimAmount"), "totalClaimAmount")?,
    })
}

/// Read an index file.
pub fn parse_index(file: &str, bytes: &[u8]) -> Result<IndexInfo, ParseError> {
    let root = parse_tree(file, bytes)?;
    if root.name != "index" || root.ns.as_deref() != Some(MHLW_NS) {
        return Err(structure(
            file,
            format!(
                "the root is {{{}}}{}, not {{{MHLW_NS}}}index",
                root.ns.as_deref().unwrap_or(""),
                root.name
            ),
        ));
    }
    let code = |name: &str| -> Result<u8, ParseError> {
        let c = root
            .child(name)
            .and_then(|n| n.attr("code"))
            .ok_or_else(|| structure(file, format!("{name}/@code is missing")))?;
        c.parse()
            .map_err(|_| structure(file, format!("{name}/@code {c:?} is not a number")))
    };
    let sender_id = root
        .path(&["sender", "id"])
        .ok_or_else(|| structure(file, "sender/id is missing"))?;
    let receiver = match root.path(&["receiver", "id"]) {
        None => None,
        Some(r) => {
            let ext = r.attr("extension").unwrap_or("").to_owned();
            Some(match r.attr("root") {
                Some(OID_AGENCY) => Receiver::Agency(ext),
                Some(OID_INSURER) => Receiver::Insurer(ext),
                other => {
                    return Err(structure(
                        file,
                        format!("receiver/id/@root {other:?} is not an insurer or agency OID"),
                    ));
                }
            })
        }
    };
    let total = root
        .child("totalRecordCount")
        .and_then(|n| n.attr("value"))
        .ok_or_else(|| structure(file, "totalRecordCount is missing"))?;
    Ok(IndexInfo {
        interaction_type: code("interactionType")?,
        creation_date: date_attr(file, root.child("creationTime"), "creationTime")?,
        sender_root: sender_id.attr("root").unwrap_or("").to_owned(),
        sender: sender_id.attr("extension").unwrap_or("").to_owned(),
        receiver,
        service_event_type: code("serviceEventType")?,
        total_record_count: total
            .parse()
            .map_err(|_| structure(file, format!("totalRecordCount {total:?} is not a number")))?,
    })
}

/// The files of a zipped archive that carry records, as bytes: the index and every DATA
/// file (claims and XSDs are skipped), each read at most [`MAX_DOCUMENT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFiles {
    /// The root folder.
    pub root: String,
    /// `ix08_V08.xml`, if present.
    pub index: Option<Vec<u8>>,
    /// Every `DATA/*.xml`: (file name without `DATA/`, bytes), in the archive's order.
    pub data: Vec<(String, Vec<u8>)>,
}

/// Files of an archive: (path below the root folder, bytes).
type Entries = Vec<(String, Vec<u8>)>;

/// The entries of a zipped archive that `wanted` (given the path below the root folder)
/// picks, as (that path, bytes) in the archive's order, with the root folder's name: every
/// entry must sit in one root folder; each file is read at most [`MAX_DOCUMENT_BYTES`] and
/// all of them at most [`MAX_ARCHIVE_BYTES`], whatever the zip's headers claim.
fn read_entries(
    file: &str,
    bytes: &[u8],
    wanted: impl Fn(&str) -> bool,
) -> Result<(String, Entries), ParseError> {
    read_entries_within(file, bytes, wanted, MAX_ARCHIVE_BYTES)
}

/// [`read_entries`] with the total bound given (tests use a small one).
fn read_entries_within(
    file: &str,
    bytes: &[u8],
    wanted: impl Fn(&str) -> bool,
    max_total: u64,
) -> Result<(String, Entries), ParseError> {
    let zip_err = |e: zip::result::ZipError| ParseError::Zip {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zip_err)?;
    if archive.len() > MAX_ARCHIVE_ENTRIES {
        return Err(structure(
            file,
            format!("more than {MAX_ARCHIVE_ENTRIES} entries"),
        ));
    }
    let mut root: Option<String> = None;
    let mut out = Vec::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(zip_err)?.into_owned();
        let Some((top, rest)) = name.split_once('/') else {
            return Err(structure(
                file,
                format!("{name} is not inside the archive's root folder"),
            ));
        };
        match &root {
            None => root = Some(top.to_owned()),
            Some(r) if r != top => {
                return Err(structure(
                    file,
                    format!("{name} is outside the root folder {r}"),
                ));
            }
            Some(_) => {}
        }
        if !wanted(rest) {
            continue;
        }
        let too_large = || {
            structure(
                file,
                format!("{name} is larger than {MAX_DOCUMENT_BYTES} bytes"),
            )
        };
        if entry.size() > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        let limit = MAX_DOCUMENT_BYTES.min(max_total.saturating_sub(total));
        // The header's size is only a claim: reserve at most 64 KiB from it.
        let mut content = Vec::with_capacity(
            usize::try_from(entry.size().min(limit).min(64 * 1024)).unwrap_or(0),
        );
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut content)
            .map_err(|source| ParseError::Io {
                file: name.clone(),
                source,
            })?;
        if content.len() as u64 > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        total += content.len() as u64;
        if total > max_total {
            return Err(structure(
                file,
                format!("its files expand to more than {max_total} bytes"),
            ));
        }
        out.push((rest.to_owned(), content));
    }
    let root = root.ok_or_else(|| structure(file, "the archive is empty"))?;
    Ok((root, out))
}

fn is_data_file(rest: &str) -> bool {
    rest.starts_with("DATA/") && rest.ends_with(".xml")
}

fn is_claim_file(rest: &str) -> bool {
    rest.starts_with("CLAIMS/") && rest.ends_with(".xml")
}

/// Read a zipped archive's index and DATA files as bytes (for validation before parsing);
/// every entry must sit in one root folder.
pub fn archive_files(file: &str, bytes: &[u8]) -> Result<ArchiveFiles, ParseError> {
    let (root, entries) =
        read_entries(file, bytes, |rest| rest == INDEX_FILE || is_data_file(rest))?;
    let mut index = None;
    let mut data = Vec::new();
    for (rest, content) in entries {
        if rest == INDEX_FILE {
            index = Some(content);
        } else {
            data.push((rest.trim_start_matches("DATA/").to_owned(), content));
        }
    }
    Ok(ArchiveFiles { root, index, data })
}

/// Read a zipped archive: its index, every DATA and CLAIMS file and the summary (XSDs are
/// skipped).
pub fn parse_archive(
    file: &str,
    bytes: &[u8],
    table: &ItemTable,
) -> Result<ParsedArchive, ParseError> {
    let (root, entries) = read_entries(file, bytes, |rest| {
        rest == INDEX_FILE || rest == SUMMARY_FILE || is_data_file(rest) || is_claim_file(rest)
    })?;
    let mut index = None;
    let mut documents = Vec::new();
    let mut claims = Vec::new();
    let mut summary = None;
    for (rest, content) in entries {
        let name = format!("{root}/{rest}");
        if rest == INDEX_FILE {
            index = Some(parse_index(&name, &content)?);
        } else if rest == SUMMARY_FILE {
            summary = Some(parse_summary(&name, &content)?);
        } else if is_claim_file(&rest) {
            let claim_name = rest.trim_start_matches("CLAIMS/").to_owned();
            claims.push((claim_name, parse_claim(&name, &content)?));
        } else {
            let doc_name = rest.trim_start_matches("DATA/").to_owned();
            documents.push((doc_name, parse_document(&name, &content, table)?));
        }
    }
    let index = index.ok_or_else(|| structure(file, format!("{root}/{INDEX_FILE} is missing")))?;
    Ok(ParsedArchive {
        root,
        index,
        documents,
        claims,
        summary,
    })
}

#[cfg(test)]
mod archive_bounds {
    use std::io::Write;

    use super::*;

    /// A zip of `n` DATA files of `size` zero bytes each (they compress to almost nothing).
    fn zeros(n: usize, size: usize) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for i in 0..n {
            zip.start_file(format!("root/DATA/h{i}.xml"), options)
                .expect("start");
            zip.write_all(&vec![0u8; size]).expect("write");
        }
        zip.finish().expect("finish").into_inner()
    }

    #[test]
    fn an_archive_that_expands_past_the_bound_is_refused_whole() {
        let bytes = zeros(3, 600);
        assert!(bytes.len() < 1_000, "{}", bytes.len());
        let (root, files) =
            read_entries_within("a.zip", &bytes, is_data_file, 1_800).expect("within");
        assert_eq!((root.as_str(), files.len()), ("root", 3));
        let err = read_entries_within("a.zip", &bytes, is_data_file, 1_500).expect_err("bound");
        assert!(
            err.to_string().contains("expand to more than 1500"),
            "{err}"
        );
        // Only the files read count: XSDs and other files are skipped unread.
        let (_, files) =
            read_entries_within("a.zip", &bytes, |r| r == INDEX_FILE, 10).expect("none read");
        assert!(files.is_empty());
    }
}
