//! The event envelope and its kinds.
//!
//! An [`Event`] is an immutable fact recorded by one edge box ("node"): its id (UUIDv7),
//! the venue, the node and the node's own sequence number, a hybrid logical clock timestamp,
//! the staff member who caused it, the kind and payload ([`EventBody`]), and the node's
//! ed25519 signature over the canonical encoding of everything else.
//!
//! The wire format is JSON:
//!
//! ```json
//! {"format":1,"id":"0193…","venue":"demo-venue","node":"edge-01","seq":42,
//!  "hlc":{"ms":1764050000000,"c":0},"actor":{"staff_id":"N001","role":"nurse"},
//!  "body":{"kind":"measurement_recorded","payload":{…}},"sig":"base64…"}
//! ```
//!
//! [`Event::from_json`] is the one door for untrusted bytes: it checks the format version
//! first (so a newer peer gets "unknown version", not a confusing parse error), then the
//! shape, then the payload rules. Signatures are checked separately with
//! [`Event::verify`] or [`Event::verify_with`], because only the caller knows the keys.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ProtocolError;
use crate::hlc::Hlc;
use crate::insurer::InsurerIdentity;
use crate::items::{self, Item, ItemValueKind, QUALITATIVE_VALUES, StationKind};
use crate::notice::{CasePhotoAdded, CaseViewed, NoticeIntakeSaved};
use crate::paper::QuestionnairePaperRead;
use crate::questionnaire::Answered;
use crate::roles::Role;
use crate::signing::{self, Keyring, NodeKey, PublicKey};

/// The envelope format this build writes and accepts.
pub const FORMAT_VERSION: u16 = 1;

/// Longest identifier (venue, node, staff, resident) accepted.
pub const MAX_ID_LEN: usize = 64;
/// Most things a sign-off may list as knowingly missing.
pub const MAX_MISSING: usize = 32;

/// Longest free text (reasons, purposes) accepted, in characters.
pub const MAX_TEXT_LEN: usize = 1000;

/// A signed, immutable fact. See the module documentation for the wire format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Envelope format version; [`FORMAT_VERSION`] for events written by this build.
    pub format: u16,
    /// Globally unique id (UUIDv7). Clients may choose it so a retried save is idempotent.
    pub id: Uuid,
    /// Venue (or office) the event belongs to; central rejects foreign venues.
    pub venue: String,
    /// The box that recorded it; together with `seq` the replication and forwarding key.
    pub node: String,
    /// Per-node sequence number, starting at 1 with no gaps.
    pub seq: u64,
    /// Hybrid logical clock timestamp: the order projections use across boxes.
    pub hlc: Hlc,
    /// Who caused the event.
    pub actor: Actor,
    /// Kind and payload.
    pub body: EventBody,
    /// Recorded in training mode (`checkup-edge training`): a rehearsal, never a real
    /// resident's data. Absent (false) on every real event, so events written before the
    /// field existed keep their encoding and signatures; a receiver of real events refuses
    /// training ones ([`crate::BatchRules::training`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub training: bool,
    /// Base64 ed25519 signature by the node's key over [`Event::canonical_bytes`].
    pub sig: String,
}

/// The staff member behind an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// Staff id as provisioned for the venue day.
    pub staff_id: String,
    /// The role the staff member acted in.
    pub role: Role,
}

impl Actor {
    /// The rules every receiver applies to the actor: a valid staff id.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        check_id("actor.staff_id", &self.staff_id)
    }
}

/// Event kinds without their payloads, for role checks and indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// See [`SessionOpened`].
    SessionOpened,
    /// See [`SessionClosed`].
    SessionClosed,
    /// See [`MeasurementRecorded`].
    MeasurementRecorded,
    /// See [`MeasurementCorrected`].
    MeasurementCorrected,
    /// See [`RecordViewed`].
    RecordViewed,
    /// See [`StationVisited`].
    StationVisited,
    /// See [`NoticeIntakeSaved`] (child-welfare compartment).
    NoticeIntakeSaved,
    /// See [`CaseViewed`] (child-welfare compartment).
    CaseViewed,
    /// See [`QuestionnairePaperRead`].
    QuestionnairePaperRead,
    /// See [`CasePhotoAdded`] (child-welfare compartment).
    CasePhotoAdded,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 10] = [
        EventKind::SessionOpened,
        EventKind::SessionClosed,
        EventKind::MeasurementRecorded,
        EventKind::MeasurementCorrected,
        EventKind::RecordViewed,
        EventKind::StationVisited,
        EventKind::NoticeIntakeSaved,
        EventKind::CaseViewed,
        EventKind::QuestionnairePaperRead,
        EventKind::CasePhotoAdded,
    ];

    /// Whether events of this kind belong to the child-welfare compartment, which only the
    /// child-welfare roles may see.
    pub fn is_child_case(self) -> bool {
        matches!(
            self,
            EventKind::NoticeIntakeSaved | EventKind::CaseViewed | EventKind::CasePhotoAdded
        )
    }

    /// Stable identifier, as in the JSON `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SessionOpened => "session_opened",
            EventKind::SessionClosed => "session_closed",
            EventKind::MeasurementRecorded => "measurement_recorded",
            EventKind::MeasurementCorrected => "measurement_corrected",
            EventKind::RecordViewed => "record_viewed",
            EventKind::StationVisited => "station_visited",
            EventKind::NoticeIntakeSaved => "notice_intake_saved",
            EventKind::CaseViewed => "case_viewed",
            EventKind::QuestionnairePaperRead => "questionnaire_paper_read",
            EventKind::CasePhotoAdded => "case_photo_added",
        }
    }
}

/// What happened, with its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum EventBody {
    /// A resident checked in at reception; a checkup session is open.
    SessionOpened(SessionOpened),
    /// The resident left (all stations done, or sent home).
    SessionClosed(SessionClosed),
    /// A station recorded a result.
    MeasurementRecorded(MeasurementRecorded),
    /// A result was corrected; the earlier event stays in the log.
    MeasurementCorrected(MeasurementCorrected),
    /// Someone read a resident's record (audit).
    RecordViewed(RecordViewed),
    /// A station finished with the resident (its items recorded, or — for 問診, 心電図,
    /// 眼底, 診察 — the staff member signed the visit off).
    StationVisited(StationVisited),
    /// A clerk reviewed a police notice and saved it as a case (child-welfare compartment).
    NoticeIntakeSaved(NoticeIntakeSaved),
    /// A child-welfare role was shown a scanned notice or cases (audit, child-welfare
    /// compartment).
    CaseViewed(CaseViewed),
    /// A page of the resident's paper questionnaire was read: what it answered clearly and
    /// the items sent to the nurse for review.
    QuestionnairePaperRead(QuestionnairePaperRead),
    /// A caseworker attached a photo (an injury) to a case (child-welfare compartment).
    CasePhotoAdded(CasePhotoAdded),
}

/// Payload of [`EventBody::StationVisited`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StationVisited {
    /// The session.
    pub session_id: Uuid,
    /// The resident.
    pub resident_id: String,
    /// The station that is done.
    pub station: StationKind,
    /// A note for the record (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Staff confirmed signing the station off although something is missing (an item of
    /// the station without a value, or — at 診察 — stations of the course not yet done).
    #[serde(default, skip_serializing_if = "is_false")]
    pub confirmed: bool,
    /// What staff confirmed as missing when signing off (item codes, or at 診察 station
    /// kinds): the box accepts a sign-off with something missing only when every missing
    /// thing is listed here, so the record says what was knowingly left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Payload of [`EventBody::SessionOpened`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionOpened {
    /// Id of the checkup session (UUIDv7).
    pub session_id: Uuid,
    /// Resident number (宛名番号) from the roster, never the individual number.
    pub resident_id: String,
    /// Stations the resident must visit, from their course.
    pub stations: Vec<StationKind>,
    /// The card bound to the session, if one was tapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRef>,
    /// Who insures the resident, as the day's roster says (absent when the roster has no
    /// insurer columns, and in events of builds before it did): central gathers an
    /// insurer's checkups by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurer: Option<InsurerIdentity>,
}

/// A card bound to a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CardRef {
    /// The resident's My Number card; identified by its basic four items, nothing stored.
    Mynumber,
    /// A venue contactless card, by UID / FeliCa IDm in lowercase hex.
    Contactless {
        /// Lowercase hex UID.
        uid: String,
    },
}

/// Payload of [`EventBody::SessionClosed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionClosed {
    /// The session that ends.
    pub session_id: Uuid,
    /// Why, when it ends before every station is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A measured value: a number, or a qualitative dipstick reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum MeasuredValue {
    /// Numeric result in the item's unit.
    Number(f64),
    /// Text: a qualitative result (`-`, `±`, `+`, `2+`, `3+`, `4+`), an answer or finding
    /// code (`"1"`, …) or a free text (所見, 診断), as the item's kind says.
    Text(String),
}

impl std::fmt::Display for MeasuredValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MeasuredValue::Number(n) => write!(f, "{n}"),
            MeasuredValue::Text(t) => f.write_str(t),
        }
    }
}

/// Payload of [`EventBody::MeasurementRecorded`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeasurementRecorded {
    /// The session the result belongs to.
    pub session_id: Uuid,
    /// The resident, repeated so the record can be built without the session.
    pub resident_id: String,
    /// Station that recorded it.
    pub station: StationKind,
    /// 17-character item code.
    pub item_code: String,
    /// The value.
    pub value: MeasuredValue,
    /// Unit; must be the item's unit.
    pub unit: String,
    /// Staff confirmed a value outside the soft limits.
    #[serde(default)]
    pub confirmed: bool,
    /// For a questionnaire answer: how the resident gave it and in which language. Absent
    /// for measurements and for answers staff typed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<Answered>,
}

/// Payload of [`EventBody::MeasurementCorrected`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeasurementCorrected {
    /// The session the result belongs to.
    pub session_id: Uuid,
    /// The resident.
    pub resident_id: String,
    /// Id of the event (recorded or an earlier correction) this one supersedes.
    pub corrects: Uuid,
    /// Item code; must match the corrected event's.
    pub item_code: String,
    /// The corrected value.
    pub value: MeasuredValue,
    /// Unit; must be the item's unit.
    pub unit: String,
    /// Why the value was corrected (required).
    pub reason: String,
    /// Staff confirmed a value outside the soft limits.
    #[serde(default)]
    pub confirmed: bool,
    /// For a questionnaire answer: how the resident gave it and in which language. Absent
    /// for measurements and for answers staff typed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<Answered>,
}

/// Payload of [`EventBody::RecordViewed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordViewed {
    /// Whose record was read.
    pub resident_id: String,
    /// What screen or API read it.
    pub purpose: String,
}

impl EventBody {
    /// The kind without payload.
    pub fn kind(&self) -> EventKind {
        match self {
            EventBody::SessionOpened(_) => EventKind::SessionOpened,
            EventBody::SessionClosed(_) => EventKind::SessionClosed,
            EventBody::MeasurementRecorded(_) => EventKind::MeasurementRecorded,
            EventBody::MeasurementCorrected(_) => EventKind::MeasurementCorrected,
            EventBody::RecordViewed(_) => EventKind::RecordViewed,
            EventBody::StationVisited(_) => EventKind::StationVisited,
            EventBody::NoticeIntakeSaved(_) => EventKind::NoticeIntakeSaved,
            EventBody::CaseViewed(_) => EventKind::CaseViewed,
            EventBody::QuestionnairePaperRead(_) => EventKind::QuestionnairePaperRead,
            EventBody::CasePhotoAdded(_) => EventKind::CasePhotoAdded,
        }
    }

    /// The resident the event concerns, if any.
    pub fn resident_id(&self) -> Option<&str> {
        match self {
            EventBody::SessionOpened(p) => Some(&p.resident_id),
            EventBody::SessionClosed(_) => None,
            EventBody::MeasurementRecorded(p) => Some(&p.resident_id),
            EventBody::MeasurementCorrected(p) => Some(&p.resident_id),
            EventBody::RecordViewed(p) => Some(&p.resident_id),
            EventBody::StationVisited(p) => Some(&p.resident_id),
            EventBody::QuestionnairePaperRead(p) => Some(&p.resident_id),
            // A child case is not part of the resident's health record.
            EventBody::NoticeIntakeSaved(_)
            | EventBody::CaseViewed(_)
            | EventBody::CasePhotoAdded(_) => None,
        }
    }

    /// Check the payload's rules: identifiers, known item codes and units, hard limits,
    /// soft limits confirmed, required reasons.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        match self {
            EventBody::SessionOpened(p) => {
                check_uuid("payload.session_id", p.session_id)?;
                check_id("payload.resident_id", &p.resident_id)?;
                if p.stations.is_empty() {
                    return Err(ProtocolError::invalid(
                        "payload.stations",
                        "a session needs at least one station",
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                if !p.stations.iter().all(|s| seen.insert(*s)) {
                    return Err(ProtocolError::invalid(
                        "payload.stations",
                        "a station is listed twice",
                    ));
                }
                if let Some(CardRef::Contactless { uid }) = &p.card {
                    let ok = !uid.is_empty()
                        && uid.len() <= 64
                        && uid.len() % 2 == 0
                        && uid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                    if !ok {
                        return Err(ProtocolError::invalid(
                            "payload.card.uid",
                            "must be lowercase hex of whole bytes",
                        ));
                    }
                }
                if let Some(insurer) = &p.insurer {
                    insurer.validate()?;
                }
                Ok(())
            }
            EventBody::SessionClosed(p) => {
                check_uuid("payload.session_id", p.session_id)?;
                if let Some(r) = &p.reason {
                    check_text("payload.reason", r)?;
                }
                Ok(())
            }
            EventBody::MeasurementRecorded(p) => {
                check_uuid("payload.session_id", p.session_id)?;
                check_id("payload.resident_id", &p.resident_id)?;
                let item = check_value(&p.item_code, &p.value, &p.unit, p.confirmed)?;
                check_answered(item, p.answered.as_ref())?;
                if item.station != p.station {
                    return Err(ProtocolError::invalid(
                        "payload.station",
                        format!(
                            "{} is measured at {}, not {}",
                            item.code,
                            item.station.as_str(),
                            p.station.as_str()
                        ),
                    ));
                }
                Ok(())
            }
            EventBody::MeasurementCorrected(p) => {
                check_uuid("payload.session_id", p.session_id)?;
                check_uuid("payload.corrects", p.corrects)?;
                check_id("payload.resident_id", &p.resident_id)?;
                check_text("payload.reason", &p.reason)?;
                let item = check_value(&p.item_code, &p.value, &p.unit, p.confirmed)?;
                check_answered(item, p.answered.as_ref())?;
                Ok(())
            }
            EventBody::RecordViewed(p) => {
                check_id("payload.resident_id", &p.resident_id)?;
                check_text("payload.purpose", &p.purpose)
            }
            EventBody::StationVisited(p) => {
                check_uuid("payload.session_id", p.session_id)?;
                check_id("payload.resident_id", &p.resident_id)?;
                if let Some(n) = &p.note {
                    check_text("payload.note", n)?;
                }
                if p.missing.len() > MAX_MISSING {
                    return Err(ProtocolError::invalid(
                        "payload.missing",
                        format!("lists {} things; at most {MAX_MISSING}", p.missing.len()),
                    ));
                }
                for m in &p.missing {
                    check_id("payload.missing", m)?;
                }
                Ok(())
            }
            EventBody::NoticeIntakeSaved(p) => p.validate(),
            EventBody::CaseViewed(p) => p.validate(),
            EventBody::QuestionnairePaperRead(p) => p.validate(),
            EventBody::CasePhotoAdded(p) => p.validate(),
        }
    }
}

/// Only a questionnaire answer says how it was answered.
fn check_answered(item: &Item, answered: Option<&Answered>) -> Result<(), ProtocolError> {
    if answered.is_some() && !matches!(item.kind, ItemValueKind::Coded(_)) {
        return Err(ProtocolError::invalid(
            "payload.answered",
            format!("{} is measured, not answered by the resident", item.name_en),
        ));
    }
    Ok(())
}

fn check_uuid(field: &'static str, id: Uuid) -> Result<(), ProtocolError> {
    if id.is_nil() {
        Err(ProtocolError::invalid(field, "must not be the nil UUID"))
    } else {
        Ok(())
    }
}

/// Identifiers: 1–64 printable ASCII characters without spaces.
pub(crate) fn check_id(field: &'static str, s: &str) -> Result<(), ProtocolError> {
    if s.is_empty() || s.len() > MAX_ID_LEN {
        return Err(ProtocolError::invalid(
            field,
            format!("must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ProtocolError::invalid(
            field,
            "may only contain printable ASCII without spaces",
        ));
    }
    Ok(())
}

pub(crate) fn check_text(field: &'static str, s: &str) -> Result<(), ProtocolError> {
    let n = s.chars().count();
    if s.trim().is_empty() {
        return Err(ProtocolError::invalid(field, "must not be empty"));
    }
    if n > MAX_TEXT_LEN {
        return Err(ProtocolError::invalid(
            field,
            format!("is {n} characters; at most {MAX_TEXT_LEN}"),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ProtocolError::invalid(field, "contains control characters"));
    }
    Ok(())
}

/// Whether `v` is written with at most `decimals` places (the item's precision), counted
/// on its shortest decimal form (the one JSON carries and `Display` prints: 165.1 is one
/// place, 165.1001 four).
fn has_at_most_decimals(v: f64, decimals: u8) -> bool {
    let text = v.to_string();
    let places = text.split_once('.').map_or(0, |(_, frac)| frac.len());
    places <= usize::from(decimals)
}

fn check_value(
    code: &str,
    value: &MeasuredValue,
    unit: &str,
    confirmed: bool,
) -> Result<&'static items::Item, ProtocolError> {
    let item = items::item(code).ok_or_else(|| {
        ProtocolError::invalid("payload.item_code", format!("unknown item code {code:?}"))
    })?;
    if item.derived {
        return Err(ProtocolError::invalid(
            "payload.item_code",
            format!("{} is derived by the system, never typed", item.name_en),
        ));
    }
    if unit != item.unit {
        return Err(ProtocolError::invalid(
            "payload.unit",
            format!(
                "{} is recorded in {:?}, not {unit:?}",
                item.name_en, item.unit
            ),
        ));
    }
    match (item.kind, value) {
        (
            ItemValueKind::Numeric {
                min,
                max,
                soft_min,
                soft_max,
                decimals,
            },
            MeasuredValue::Number(v),
        ) => {
            if !v.is_finite() || *v < min || *v > max {
                return Err(ProtocolError::invalid(
                    "payload.value",
                    format!(
                        "{v} {} is impossible for {} (allowed {min}–{max})",
                        item.unit, item.name_en
                    ),
                ));
            }
            if !has_at_most_decimals(*v, decimals) {
                return Err(ProtocolError::invalid(
                    "payload.value",
                    format!(
                        "{v} {} for {} has more than {decimals} decimal place(s)",
                        item.unit, item.name_en
                    ),
                ));
            }
            if (*v < soft_min || *v >= soft_max) && !confirmed {
                return Err(ProtocolError::invalid(
                    "payload.confirmed",
                    format!(
                        "{v} {} for {} is outside {soft_min}–{soft_max}: staff must confirm",
                        item.unit, item.name_en
                    ),
                ));
            }
        }
        (ItemValueKind::Qualitative, MeasuredValue::Text(t)) => {
            if !QUALITATIVE_VALUES.contains(&t.as_str()) {
                return Err(ProtocolError::invalid(
                    "payload.value",
                    format!("{t:?} is not one of {QUALITATIVE_VALUES:?}"),
                ));
            }
        }
        (ItemValueKind::Coded(set), MeasuredValue::Text(t)) => {
            if !set.codes().contains(&t.as_str()) {
                return Err(ProtocolError::invalid(
                    "payload.value",
                    format!(
                        "{t:?} is not an answer code of {} ({:?})",
                        item.name_en,
                        set.codes()
                    ),
                ));
            }
        }
        (ItemValueKind::Coded(set), MeasuredValue::Number(_)) => {
            return Err(ProtocolError::invalid(
                "payload.value",
                format!(
                    "{} takes an answer code, one of {:?}",
                    item.name_en,
                    set.codes()
                ),
            ));
        }
        (ItemValueKind::Choice(choices), MeasuredValue::Text(t)) => {
            if !choices.iter().any(|c| c.code == t) {
                return Err(ProtocolError::invalid(
                    "payload.value",
                    format!(
                        "{t:?} is not a code of {} ({})",
                        item.name_en,
                        choice_list(choices)
                    ),
                ));
            }
        }
        (ItemValueKind::Choice(choices), MeasuredValue::Number(_)) => {
            return Err(ProtocolError::invalid(
                "payload.value",
                format!(
                    "{} takes a code as text, one of {}",
                    item.name_en,
                    choice_list(choices)
                ),
            ));
        }
        (ItemValueKind::Text { max_chars }, MeasuredValue::Text(t)) => {
            items::check_free_text(t, max_chars).map_err(|e| {
                ProtocolError::invalid("payload.value", format!("{}: the text {e}", item.name_en))
            })?;
        }
        (ItemValueKind::Text { .. }, MeasuredValue::Number(_)) => {
            return Err(ProtocolError::invalid(
                "payload.value",
                format!("{} takes a text", item.name_en),
            ));
        }
        (ItemValueKind::Numeric { .. }, MeasuredValue::Text(_)) => {
            return Err(ProtocolError::invalid(
                "payload.value",
                format!("{} takes a number", item.name_en),
            ));
        }
        (ItemValueKind::Qualitative, MeasuredValue::Number(_)) => {
            return Err(ProtocolError::invalid(
                "payload.value",
                format!("{} takes one of {QUALITATIVE_VALUES:?}", item.name_en),
            ));
        }
    }
    Ok(item)
}

/// A code list as staff read it: `"1" (特記すべきことあり), "2" (…)`.
fn choice_list(choices: &[items::Choice]) -> String {
    choices
        .iter()
        .map(|c| format!("{:?} ({})", c.code, c.label_ja))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Event {
    /// Build and sign an event. The caller (the node's event store) owns `seq` and `hlc`.
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        id: Uuid,
        venue: &str,
        node: &str,
        seq: u64,
        hlc: Hlc,
        actor: Actor,
        body: EventBody,
        key: &NodeKey,
    ) -> Event {
        Event::seal_as(id, venue, node, seq, hlc, actor, body, false, key)
    }

    /// As [`Event::seal`], marked as a training event when `training` (the mark is signed
    /// with the rest).
    #[allow(clippy::too_many_arguments)]
    pub fn seal_as(
        id: Uuid,
        venue: &str,
        node: &str,
        seq: u64,
        hlc: Hlc,
        actor: Actor,
        body: EventBody,
        training: bool,
        key: &NodeKey,
    ) -> Event {
        let mut event = Event {
            training,
            format: FORMAT_VERSION,
            id,
            venue: venue.to_owned(),
            node: node.to_owned(),
            seq,
            hlc,
            actor,
            body,
            sig: String::new(),
        };
        let sig = key.sign(&event.canonical_bytes());
        event.sig = signing::encode_signature(&sig);
        event
    }

    /// The bytes the signature covers: [`signing::SIGNING_CONTEXT`] followed by the
    /// canonical JSON of the envelope without `sig`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Our types always serialise to a JSON object with string keys.
        let mut value = serde_json::to_value(self).expect("event serialises to JSON");
        if let Value::Object(map) = &mut value {
            map.remove("sig");
        }
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(signing::SIGNING_CONTEXT);
        signing::write_canonical(&value, &mut out);
        out
    }

    /// The wire JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("event serialises to JSON")
    }

    /// Parse and validate untrusted bytes: format version, envelope shape, identifiers and
    /// payload rules. Does not check the signature (see [`Event::verify_with`]).
    pub fn from_json(bytes: &[u8]) -> Result<Event, ProtocolError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        Event::from_value(value)
    }

    /// Parse untrusted wire JSON as [`Event::from_json`] does, keeping the bytes the
    /// signature must cover: the canonical form of the JSON *as received* (not of a
    /// re-encoding), so what is verified is exactly what a receiver stores. Cheaper than
    /// parsing and then calling [`Event::canonical_bytes`] (one JSON pass instead of three).
    pub fn receive(raw: &str) -> Result<Received, ProtocolError> {
        let value: Value =
            serde_json::from_str(raw).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        let mut signed = Vec::with_capacity(raw.len() + signing::SIGNING_CONTEXT.len());
        signed.extend_from_slice(signing::SIGNING_CONTEXT);
        signing::write_canonical_without(&value, Some("sig"), &mut signed);
        let event = Event::from_value(value)?;
        Ok(Received { event, signed })
    }

    /// As [`Event::from_json`], from an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Event, ProtocolError> {
        let Value::Object(map) = &value else {
            return Err(ProtocolError::Malformed(
                "an event must be a JSON object".into(),
            ));
        };
        match map.get("format") {
            None => return Err(ProtocolError::Malformed("missing field `format`".into())),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v == u64::from(FORMAT_VERSION) => {}
                Some(v) => {
                    return Err(ProtocolError::UnknownVersion {
                        found: v,
                        supported: FORMAT_VERSION,
                    });
                }
                None => {
                    return Err(ProtocolError::Malformed(
                        "`format` must be a positive integer".into(),
                    ));
                }
            },
            Some(_) => {
                return Err(ProtocolError::Malformed(
                    "`format` must be a positive integer".into(),
                ));
            }
        }
        let event: Event =
            serde_json::from_value(value).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    /// Envelope and payload rules (everything but the signature).
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.format != FORMAT_VERSION {
            return Err(ProtocolError::UnknownVersion {
                found: u64::from(self.format),
                supported: FORMAT_VERSION,
            });
        }
        check_uuid("id", self.id)?;
        check_id("venue", &self.venue)?;
        check_id("node", &self.node)?;
        self.actor.validate()?;
        if self.seq == 0 {
            return Err(ProtocolError::invalid("seq", "sequence numbers start at 1"));
        }
        if self.seq > i64::MAX as u64 {
            return Err(ProtocolError::invalid("seq", "out of range"));
        }
        self.body.validate()
    }

    /// Check the signature against a known public key.
    pub fn verify(&self, key: &PublicKey) -> Result<(), ProtocolError> {
        let bad = || ProtocolError::BadSignature {
            node: self.node.clone(),
            seq: self.seq,
        };
        let sig = signing::decode_signature(&self.sig).ok_or_else(bad)?;
        if key.verify(&self.canonical_bytes(), &sig) {
            Ok(())
        } else {
            Err(bad())
        }
    }

    /// Check the signature against the key enrolled for the event's node.
    pub fn verify_with(&self, keys: &impl Keyring) -> Result<(), ProtocolError> {
        let key = keys
            .key_for(&self.node)
            .ok_or_else(|| ProtocolError::UnknownNode(self.node.clone()))?;
        self.verify(&key)
    }

    /// Verify many events at once, each against its node's key in `keys` (ed25519 batch
    /// verification: about twice as fast as one by one). On failure, the index of the first
    /// bad event and why.
    pub fn verify_all(events: &[Event], keys: &impl Keyring) -> Result<(), (usize, ProtocolError)> {
        let messages: Vec<Vec<u8>> = events.iter().map(Event::canonical_bytes).collect();
        verify_messages(events.iter().zip(&messages), keys)
    }
}

/// An event parsed by [`Event::receive`], with the bytes its signature covers.
#[derive(Debug, Clone)]
pub struct Received {
    /// The parsed, validated (but not yet verified) event.
    pub event: Event,
    /// Signing context followed by the canonical JSON of the received envelope without `sig`.
    pub signed: Vec<u8>,
}

impl Received {
    /// Verify received events at once, as [`Event::verify_all`].
    pub fn verify_all(
        received: &[Received],
        keys: &impl Keyring,
    ) -> Result<(), (usize, ProtocolError)> {
        verify_messages(received.iter().map(|r| (&r.event, &r.signed)), keys)
    }
}

/// Batch-verify `(event, signed bytes)` pairs; on failure name the first bad one.
fn verify_messages<'a>(
    pairs: impl Iterator<Item = (&'a Event, &'a Vec<u8>)> + Clone,
    keys: &impl Keyring,
) -> Result<(), (usize, ProtocolError)> {
    {
        let events = pairs.clone();
        let (mut messages, mut sigs, mut vks) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (e, message)) in events.enumerate() {
            let key = keys
                .key_for(&e.node)
                .ok_or_else(|| (i, ProtocolError::UnknownNode(e.node.clone())))?;
            let sig = signing::decode_signature(&e.sig).ok_or_else(|| {
                (
                    i,
                    ProtocolError::BadSignature {
                        node: e.node.clone(),
                        seq: e.seq,
                    },
                )
            })?;
            messages.push(message.as_slice());
            sigs.push(sig);
            vks.push(key.0);
        }
        if ed25519_dalek::verify_batch(&messages, &sigs, &vks).is_ok() {
            return Ok(());
        }
    }
    // Name the first bad one.
    for (i, (e, message)) in pairs.enumerate() {
        let bad = || {
            (
                i,
                ProtocolError::BadSignature {
                    node: e.node.clone(),
                    seq: e.seq,
                },
            )
        };
        let key = keys
            .key_for(&e.node)
            .ok_or_else(|| (i, ProtocolError::UnknownNode(e.node.clone())))?;
        let sig = signing::decode_signature(&e.sig).ok_or_else(bad)?;
        if !key.verify(message, &sig) {
            return Err(bad());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::has_at_most_decimals;

    #[test]
    fn precision_counts_the_places_as_typed() {
        for (v, d, ok) in [
            (165.1, 1, true),
            (165.0, 0, true),
            (165.0, 1, true),
            (120.0, 0, true),
            (116.7, 0, false),
            (165.1001, 1, false),
            (165.10001, 1, false),
            (165.1000001, 1, false),
            (165.123456789, 1, false),
            (5.6, 1, true),
            (0.3, 1, true),
            (-0.5, 1, true),
        ] {
            assert_eq!(has_at_most_decimals(v, d), ok, "{v} with {d} place(s)");
        }
    }

    #[test]
    fn every_value_of_the_items_precision_passes() {
        // Every reading a tablet can type with one decimal, over the whole range of heights.
        for tenths in 0..=30_000u32 {
            let v = f64::from(tenths) / 10.0;
            assert!(has_at_most_decimals(v, 1), "{v}");
            assert!(!has_at_most_decimals(v + 0.05, 1), "{}", v + 0.05);
        }
    }
}
