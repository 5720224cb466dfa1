//! The day's rules as pure decisions: given the venue's projected state, the roster's
//! answer and who acts, may this event be recorded? No I/O, no locks, no HTTP: the
//! [`super::Core`] calls [`check`] inside its decision lock, and tests call it directly.
//!
//! | event | rule |
//! |---|---|
//! | any | the role may record the kind (a resident's own questionnaire answers are passed on by reception or anyone at 問診, through the questionnaire command, never as a raw draft); a station technician only at their stations; 診察 only by a doctor |
//! | `session_opened` | the resident is booked; the stations are their course's; has no open session; the session id is new; a venue card is on no other open session |
//! | `session_closed` | the session is open |
//! | `measurement_recorded` | the session is open, its resident's, its course includes the station; the item has no value yet in the session (else it is a correction); weight far from last year's confirmed; systolic above its reading's diastolic |
//! | `measurement_corrected` | corrects a result of the same item in that session; has a reason; systolic above its reading's diastolic |
//! | `station_visited` | the session is open, its course includes the station; with something missing only when confirmed and every missing thing listed; at 問診 never while a required answer (服薬 1–3, 喫煙) is missing; at 診察 never while 既往歴, 自覚症状, 他覚症状 or 医師の診断 is missing, or a finding recorded 「特記すべきことあり」 lacks its text |
//! | `notice_intake_saved` | only from a scan, through the intake's save (not typed as a raw event) |
//! | `case_photo_added` | only from the photo upload (the box strips and re-encodes the photo; not typed as a raw event); the case is saved |
//! | `record_viewed`, `case_viewed` | only recorded by the box when a record is shown (not typed as a raw event) |
//! | `questionnaire_paper_read` | only recorded by the paper questionnaire's command (upload or the scanner's folder), by those who may pass the resident's answers on; the session is open, its resident's, its course includes 問診 |
//!
//! Payload rules (identifiers, units, limits, precision) are the protocol's own and are
//! applied by the store to every draft before it is signed.

use checkup_protocol::{CardRef, EventBody, EventKind, MeasuredValue, Role, StationKind, items};
use uuid::Uuid;

use super::VenueError;
use crate::auth::Staff;
use crate::log::projection::{Projection, SessionState};

/// Weight: a value more than 20 % away from last year's must be confirmed (DESIGN.md).
pub const WEIGHT: &str = "9N006000000000001";

/// How an event reached the core: some kinds have a command of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A raw event draft (`POST /api/events`).
    Raw,
    /// A command that builds the event itself (check-in, intake save).
    Command,
}

/// The stations of a resident's booked course (`None`: not booked today).
pub type CourseOf<'a> = dyn Fn(&str) -> Result<Option<Vec<StationKind>>, VenueError> + 'a;

/// What the rules need besides the projection.
pub struct Context<'a> {
    /// Who acts.
    pub staff: &'a Staff,
    /// The stations of the resident's course, if the resident is on the day's roster.
    pub course: &'a CourseOf<'a>,
    /// Last year's weight of a resident, if known.
    pub last_weight: &'a dyn Fn(&str) -> Option<f64>,
    /// How the event arrived.
    pub route: Route,
}

/// Whether `staff` works at a station of `kind`: 診察 is the doctor's alone; a station
/// technician only at the stations they are bound to; nurses and doctors at every other.
pub fn may_work_at(staff: &Staff, kind: StationKind) -> bool {
    match (staff.role, kind) {
        (Role::Doctor, _) => true,
        (_, StationKind::Doctor) => false,
        (Role::Nurse, _) => true,
        (Role::Station, k) => staff.stations.contains(&k),
        _ => false,
    }
}

/// The station an event of a station's work belongs to.
fn station_of(body: &EventBody) -> Option<StationKind> {
    match body {
        EventBody::MeasurementRecorded(p) => Some(p.station),
        EventBody::MeasurementCorrected(p) => items::item(&p.item_code).map(|i| i.station),
        EventBody::StationVisited(p) => Some(p.station),
        _ => None,
    }
}

/// Role, station binding and route for recording `body`.
pub fn authorize(staff: &Staff, body: &EventBody, route: Route) -> Result<(), VenueError> {
    let kind = body.kind();
    if route == Route::Command && passes_on_resident_answers(staff, body) {
        return Ok(());
    }
    if !staff.role.may_append(kind) {
        return Err(VenueError::Forbidden(format!(
            "{} の権限では {} を記録できません / role {} may not record {}",
            staff.role.label_ja(),
            kind.as_str(),
            staff.role,
            kind.as_str()
        )));
    }
    if let Some(st) = station_of(body)
        && !may_work_at(staff, st)
    {
        return Err(VenueError::Forbidden(format!(
            "{}は{}の担当ではありません / {} does not work at the {} station",
            staff.id,
            st.label_ja(),
            staff.id,
            st.as_str()
        )));
    }
    if route == Route::Raw && matches!(kind, EventKind::RecordViewed | EventKind::CaseViewed) {
        return Err(VenueError::Forbidden(
            "閲覧の記録は箱が自動で残します / views are recorded by the box when a record is shown, never typed in".into(),
        ));
    }
    if route == Route::Raw && claims_resident_channel(body) {
        return Err(VenueError::UseCommand(
            "本人の回答（スマートフォン・タブレット・紙）は質問票の受け取りから記録されます。看護師の聞き取りは via = interview です / a resident's own answers (phone, tablet, paper) come through the questionnaire's command; answers the nurse asked are `answered.via = interview`",
        ));
    }
    if route == Route::Raw && kind == EventKind::CasePhotoAdded {
        return Err(VenueError::UseCommand(
            "写真はケース画面から撮影・送信してください（位置情報などを消してから保存します） / a photo is added from the case page: POST /api/cases/{id}/photos (the box strips its metadata)",
        ));
    }
    if route == Route::Raw && kind == EventKind::NoticeIntakeSaved {
        return Err(VenueError::UseCommand(
            "通告書は取り込み画面から保存してください / a notice is saved from its scan: POST /api/intake/scans/{id}/case",
        ));
    }
    Ok(())
}

/// May `staff` see the photos of case `case_id`? A child-welfare role of 係長 and above, or
/// one of the case's caseworkers — on the box, a caseworker who has attached a photo to it
/// (the box knows no assignment; central's `/v1/notices/{id}/caseworkers` stays there). No
/// checkup role, whatever its rank.
pub fn may_see_case_photos(staff: &Staff, p: &Projection, case_id: Uuid) -> bool {
    if !staff.role.may_see_child_cases() {
        return false;
    }
    staff.rank.is_chief()
        || (staff.role == Role::Caseworker
            && p.case_photos(case_id)
                .iter()
                .any(|x| x.taken_by == staff.id))
}

/// Whether `body` says the resident gave the answer themselves (not by interview).
fn claims_resident_channel(body: &EventBody) -> bool {
    let answered = match body {
        EventBody::MeasurementRecorded(m) => m.answered,
        EventBody::MeasurementCorrected(c) => c.answered,
        _ => None,
    };
    answered.is_some_and(|a| a.via != checkup_protocol::Channel::Interview)
}

/// Staff who hand on what the resident answered themselves (on their phone, the venue
/// tablet or paper, and the record of a paper page read): reception at check-in, and every
/// checkup role who may work at 問診. Only through the questionnaire's own command, never as
/// a raw draft.
fn passes_on_resident_answers(staff: &Staff, body: &EventBody) -> bool {
    use checkup_protocol::Channel;
    let passes_on = |staff: &Staff| {
        matches!(staff.role, Role::Reception | Role::VenueAdmin)
            || may_work_at(staff, StationKind::Questionnaire)
    };
    if let EventBody::QuestionnairePaperRead(_) = body {
        return passes_on(staff);
    }
    let answered = match body {
        EventBody::MeasurementRecorded(m) if m.station == StationKind::Questionnaire => m.answered,
        EventBody::MeasurementCorrected(c)
            if items::item(&c.item_code)
                .is_some_and(|i| i.station == StationKind::Questionnaire) =>
        {
            c.answered
        }
        _ => None,
    };
    let by_resident = answered.is_some_and(|a| a.via != Channel::Interview);
    by_resident && passes_on(staff)
}

fn open_session(p: &Projection, id: Uuid) -> Result<&SessionState, VenueError> {
    match p.session_by_id(id) {
        Some(s) if s.opened.is_some() && s.closed.is_none() => Ok(s),
        _ => Err(VenueError::SessionNotOpen(id)),
    }
}

fn mismatch(msg: impl Into<String>) -> VenueError {
    VenueError::Mismatch(msg.into())
}

/// The day's invariants for a new event (a replay of a stored event is not checked again).
pub fn check(p: &Projection, cx: &Context<'_>, body: &EventBody) -> Result<(), VenueError> {
    authorize(cx.staff, body, cx.route)?;
    match body {
        EventBody::SessionOpened(o) => {
            let Some(course) = (cx.course)(&o.resident_id)? else {
                return Err(VenueError::NotBooked(super::shown(&o.resident_id)));
            };
            if let Some(extra) = o.stations.iter().find(|s| !course.contains(s)) {
                return Err(mismatch(format!(
                    "{}は予約されたコースにありません / {} is not in the resident's booked course",
                    extra.label_ja(),
                    extra.as_str()
                )));
            }
            if p.session_by_id(o.session_id).is_some() {
                return Err(VenueError::Conflict(format!(
                    "session {} already exists",
                    o.session_id
                )));
            }
            if let Some(s) = p
                .open_sessions()
                .into_iter()
                .find(|s| s.resident_id == o.resident_id)
            {
                return Err(VenueError::AlreadyCheckedIn {
                    resident: o.resident_id.clone(),
                    session: s.session_id,
                });
            }
            if let Some(CardRef::Contactless { uid }) = &o.card
                && let Some(s) = p.open_session_by_card(uid)
            {
                return Err(VenueError::CardInUse {
                    uid: uid.clone(),
                    resident: s.resident_id.clone(),
                });
            }
            Ok(())
        }
        EventBody::SessionClosed(c) => open_session(p, c.session_id).map(|_| ()),
        EventBody::MeasurementRecorded(m) => {
            let s = open_session(p, m.session_id)?;
            if s.resident_id != m.resident_id {
                return Err(mismatch(
                    "resident_id does not match the session's resident",
                ));
            }
            if !s.stations.contains(&m.station) {
                return Err(mismatch(format!(
                    "the session's course does not include {}",
                    m.station.as_str()
                )));
            }
            if let (MeasuredValue::Number(v), false) = (&m.value, m.confirmed)
                && m.item_code == WEIGHT
                && let Some(last) = (cx.last_weight)(&m.resident_id)
                && last > 0.0
                && ((v - last) / last).abs() > 0.2
            {
                return Err(VenueError::ConfirmationRequired(format!(
                    "体重 {v} kg は昨年の {last} kg と20%以上違います。確認してください / weight {v} kg differs from last year's {last} kg by more than 20%: staff must confirm"
                )));
            }
            if s.current(&m.item_code).is_some() {
                let item = items::item(&m.item_code);
                return Err(VenueError::CorrectionRequired {
                    name_ja: item.map_or("この項目", |i| i.name_ja),
                    name_en: item.map_or("this item", |i| i.name_en),
                });
            }
            check_pair(s, &m.item_code, &m.value)
        }
        EventBody::MeasurementCorrected(c) => {
            let s = p
                .session_by_id(c.session_id)
                .ok_or(VenueError::SessionNotOpen(c.session_id))?;
            if s.resident_id != c.resident_id {
                return Err(mismatch(
                    "resident_id does not match the session's resident",
                ));
            }
            let corrected = s
                .results
                .get(&c.item_code)
                .is_some_and(|v| v.iter().any(|r| r.event_id == c.corrects));
            if !corrected {
                return Err(mismatch(format!(
                    "{} is not a result of {} in this session",
                    c.corrects, c.item_code
                )));
            }
            if c.reason.trim().is_empty() {
                return Err(VenueError::ReasonRequired);
            }
            check_pair(s, &c.item_code, &c.value)
        }
        EventBody::StationVisited(v) => {
            let s = open_session(p, v.session_id)?;
            if s.resident_id != v.resident_id || !s.stations.contains(&v.station) {
                return Err(mismatch(
                    "the station or resident does not belong to this session",
                ));
            }
            let missing = missing_at_sign_off(s, v.station);
            // At 問診 the answers the report requires are never confirmed away: the nurse
            // asks and records them first.
            let required = required_at_sign_off(s, v.station);
            // Accepted when nothing is missing, or when staff confirmed and listed all of it.
            let confirmed = v.confirmed && missing.iter().all(|m| v.missing.contains(m));
            if !required.is_empty() || (!confirmed && !missing.is_empty()) {
                return Err(VenueError::Incomplete {
                    station: v.station,
                    missing,
                    required,
                });
            }
            Ok(())
        }
        EventBody::RecordViewed(_) | EventBody::CaseViewed(_) => Ok(()),
        EventBody::QuestionnairePaperRead(r) => {
            let s = open_session(p, r.session_id)?;
            if s.resident_id != r.resident_id || !s.stations.contains(&StationKind::Questionnaire) {
                return Err(mismatch(
                    "the form's resident or the 問診 station does not belong to this session",
                ));
            }
            Ok(())
        }
        EventBody::CasePhotoAdded(photo) => {
            if !p.has_case(photo.case_id) {
                return Err(VenueError::Mismatch(format!(
                    "ケース {} はありません / no case {}",
                    photo.case_id, photo.case_id
                )));
            }
            Ok(())
        }
        EventBody::NoticeIntakeSaved(n) => {
            if p.cases().iter().any(|c| c.case_id == n.case_id) {
                return Err(VenueError::Conflict(format!(
                    "case {} is already saved",
                    n.case_id
                )));
            }
            Ok(())
        }
    }
}

/// What is still missing when `station` is signed off: its own items without a value (by
/// item code), and at 診察 (the last look at the whole record) every other station of the
/// course not done (by station kind, e.g. `urine`).
pub fn missing_at_sign_off(s: &SessionState, station: StationKind) -> Vec<String> {
    let mut missing: Vec<String> = station
        .items()
        .filter(|i| s.current(i.code).is_none())
        // A finding's text is asked for only when the finding is 「あり」.
        .filter(|i| s.asks_for(i.code))
        .map(|i| i.code.to_owned())
        .collect();
    if station == StationKind::Doctor {
        missing.extend(
            s.stations
                .iter()
                .filter(|k| **k != StationKind::Doctor && !s.station_done(**k))
                .map(|k| k.as_str().to_owned()),
        );
    }
    missing
}

/// What must be recorded before `station` is signed off, confirmation or not, by item
/// code: at 問診 the answers the 特定健診 report requires (服薬 1–3 and 喫煙) still
/// unanswered; elsewhere the station's required items ([`items::REQUIRED`]: at 診察
/// 既往歴, 自覚症状, 他覚症状 and 医師の診断) without a value, and the text of each finding
/// recorded 「特記すべきことあり」 without it ([`items::DETAILED_BY`]).
pub fn required_at_sign_off(s: &SessionState, station: StationKind) -> Vec<String> {
    if station == StationKind::Questionnaire {
        return super::questionnaire::required_missing(s)
            .into_iter()
            .map(str::to_owned)
            .collect();
    }
    station
        .items()
        .filter(|i| s.current(i.code).is_none())
        .filter(|i| {
            items::REQUIRED.contains(&i.code)
                || (items::detail_of(i.code).is_some() && s.asks_for(i.code))
        })
        .map(|i| i.code.to_owned())
        .collect()
}

/// The message of a refused sign-off: the required answers to record first if any, else
/// what is missing and that it may be confirmed.
pub fn incomplete_message(station: StationKind, missing: &[String], required: &[String]) -> String {
    if required.is_empty() {
        format!(
            "{}: 未入力があります（{}）。確認のうえ完了してください / {}: {} missing; list them to sign off anyway",
            station.label_ja(),
            missing_names(missing, false).join("、"),
            station.label_en(),
            missing_names(missing, true).join(", ")
        )
    } else if station != StationKind::Questionnaire {
        format!(
            "{}: 必須の項目が未入力です（{}）。記録してから完了してください / {}: required items missing ({}); record them before signing off",
            station.label_ja(),
            missing_names(required, false).join("、"),
            station.label_en(),
            missing_names(required, true).join(", ")
        )
    } else {
        format!(
            "{}: 必須の項目が未回答です（{}）。回答を記録してから完了してください / {}: required answers missing ({}); record them before signing off",
            station.label_ja(),
            missing_names(required, false).join("、"),
            station.label_en(),
            missing_names(required, true).join(", ")
        )
    }
}

/// The names of what [`missing_at_sign_off`] lists, in Japanese or English.
pub fn missing_names(missing: &[String], english: bool) -> Vec<&str> {
    missing
        .iter()
        .map(|m| {
            if let Some(i) = items::item(m) {
                if english { i.name_en } else { i.name_ja }
            } else if let Ok(k) = m.parse::<StationKind>() {
                if english { k.label_en() } else { k.label_ja() }
            } else {
                m.as_str()
            }
        })
        .collect()
}

/// Blood pressure readings: (systolic, diastolic) item codes of the same reading.
pub const BP_PAIRS: [(&str, &str); 2] = [
    ("9A751000000000001", "9A761000000000001"),
    ("9A752000000000001", "9A762000000000001"),
];

/// The reading `code` belongs to, if it is half of a pair: (systolic, diastolic).
pub fn paired(code: &str) -> Option<(&'static str, &'static str)> {
    BP_PAIRS
        .iter()
        .find(|(sys, dia)| *sys == code || *dia == code)
        .copied()
}

/// The session of a result (recorded or corrected), whose lock it is decided under.
pub fn result_session(body: &EventBody) -> Option<Uuid> {
    match body {
        EventBody::MeasurementRecorded(m) => Some(m.session_id),
        EventBody::MeasurementCorrected(c) => Some(c.session_id),
        EventBody::QuestionnairePaperRead(r) => Some(r.session_id),
        _ => None,
    }
}

/// Paired values are checked together: a new value for half of a blood pressure reading
/// must keep the systolic above the diastolic the session holds for the other half.
fn check_pair(s: &SessionState, code: &str, value: &MeasuredValue) -> Result<(), VenueError> {
    let Some((sys, dia)) = paired(code) else {
        return Ok(());
    };
    let MeasuredValue::Number(v) = value else {
        return Ok(());
    };
    let other = if code == sys { dia } else { sys };
    let Some(MeasuredValue::Number(o)) = s.current(other).map(|r| &r.value) else {
        return Ok(());
    };
    let (systolic, diastolic) = if code == sys { (*v, *o) } else { (*o, *v) };
    if systolic <= diastolic {
        return Err(VenueError::SystolicNotAboveDiastolic {
            systolic,
            diastolic,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_protocol::{
        Actor, Event, FORMAT_VERSION, Hlc, MeasurementCorrected, MeasurementRecorded,
        SessionOpened, StationVisited,
    };

    const RESIDENT: &str = "0000000042";
    const SYS1: &str = "9A751000000000001";
    const DIA1: &str = "9A761000000000001";
    const DIA2: &str = "9A762000000000001";
    const HEIGHT: &str = "9N001000000000001";
    const WAIST: &str = "9N016160100000001";

    fn event(seq: u64, body: EventBody) -> Event {
        Event {
            format: FORMAT_VERSION,
            id: Uuid::now_v7(),
            venue: "v".into(),
            node: "edge-01".into(),
            seq,
            hlc: Hlc {
                ms: 1_000 + seq,
                c: 0,
            },
            actor: Actor {
                staff_id: "N1".into(),
                role: Role::Nurse,
            },
            body,
            training: false,
            sig: String::new(),
        }
    }

    fn recorded(sid: Uuid, station: StationKind, item: &str, v: f64, unit: &str) -> EventBody {
        EventBody::MeasurementRecorded(MeasurementRecorded {
            session_id: sid,
            resident_id: RESIDENT.into(),
            station,
            item_code: item.into(),
            value: MeasuredValue::Number(v),
            unit: unit.into(),
            confirmed: true,
            answered: None,
        })
    }

    /// A finding's code or a text recorded at `station`.
    fn found(sid: Uuid, station: StationKind, item: &str, v: &str) -> EventBody {
        EventBody::MeasurementRecorded(MeasurementRecorded {
            session_id: sid,
            resident_id: RESIDENT.into(),
            station,
            item_code: item.into(),
            value: MeasuredValue::Text(v.into()),
            unit: String::new(),
            confirmed: false,
            answered: None,
        })
    }

    #[test]
    fn a_finding_noted_needs_its_text_and_one_not_noted_does_not_ask_for_it() {
        let sid = Uuid::now_v7();
        let d = StationKind::Doctor;
        let (p, _) = session(sid, &[]);
        let s = p.session_by_id(sid).expect("session");
        assert_eq!(
            required_at_sign_off(s, d),
            [
                items::HISTORY,
                items::SYMPTOMS,
                items::SIGNS,
                items::DIAGNOSIS
            ]
        );
        assert!(!s.station_done(d));
        // 既往歴 あり, 自覚症状 なし, 他覚症状 あり with its text, 診断.
        let (p, _) = session(
            sid,
            &[
                found(sid, d, items::HISTORY, items::FINDING_PRESENT),
                found(sid, d, items::SYMPTOMS, "2"),
                found(sid, d, items::SIGNS, items::FINDING_PRESENT),
                found(sid, d, items::SIGNS_TEXT, "心雑音"),
                found(sid, d, items::DIAGNOSIS, "要精密検査"),
            ],
        );
        let s = p.session_by_id(sid).expect("session");
        assert_eq!(required_at_sign_off(s, d), [items::HISTORY_TEXT]);
        let missing = missing_at_sign_off(s, d);
        assert!(
            missing.contains(&items::HISTORY_TEXT.to_owned()),
            "{missing:?}"
        );
        assert!(
            !missing.contains(&items::SYMPTOMS_TEXT.to_owned()),
            "{missing:?}"
        );
        assert!(
            incomplete_message(d, &missing, &required_at_sign_off(s, d)).contains("具体的な既往歴"),
        );
        // Every item the doctor may record still waits for the sign-off.
        assert!(!s.station_done(d));
        // At the draw, 採血時間 is one of the items that make the station done.
        let b = StationKind::BloodDraw;
        assert!(missing_at_sign_off(s, b).contains(&items::HOURS_SINCE_MEAL_ITEM.to_owned()));
        assert!(
            required_at_sign_off(s, b).is_empty(),
            "採血時間 may be confirmed away"
        );
    }

    fn corrected(sid: Uuid, corrects: Uuid, item: &str, v: f64, reason: &str) -> EventBody {
        let unit = items::item(item).map_or("", |i| i.unit);
        EventBody::MeasurementCorrected(MeasurementCorrected {
            session_id: sid,
            resident_id: RESIDENT.into(),
            corrects,
            item_code: item.into(),
            value: MeasuredValue::Number(v),
            unit: unit.into(),
            reason: reason.into(),
            confirmed: true,
            answered: None,
        })
    }

    /// Session `sid` open at 計測 and 血圧 (and 診察), with `results` recorded; their ids.
    fn session(sid: Uuid, results: &[EventBody]) -> (Projection, Vec<Uuid>) {
        let mut events = vec![event(
            1,
            EventBody::SessionOpened(SessionOpened {
                session_id: sid,
                resident_id: RESIDENT.into(),
                stations: vec![
                    StationKind::Measurement,
                    StationKind::BloodPressure,
                    StationKind::Doctor,
                ],
                card: None,
                insurer: None,
            }),
        )];
        let mut ids = Vec::new();
        for (n, b) in results.iter().enumerate() {
            let e = event(n as u64 + 2, b.clone());
            ids.push(e.id);
            events.push(e);
        }
        (Projection::from_events(&events), ids)
    }

    fn decide(p: &Projection, role: Role, body: &EventBody) -> Result<(), VenueError> {
        let course = |_: &str| -> Result<Option<Vec<StationKind>>, VenueError> { Ok(None) };
        let staff = Staff {
            id: "N1".into(),
            name: "保健 典子".into(),
            role,
            stations: Vec::new(),
            rank: Default::default(),
        };
        let cx = Context {
            staff: &staff,
            course: &course,
            last_weight: &|_| None,
            route: Route::Raw,
        };
        check(p, &cx, body)
    }

    #[test]
    fn a_second_value_for_a_saved_item_is_a_correction_with_a_reason() {
        let sid = Uuid::now_v7();
        let first = recorded(sid, StationKind::Measurement, WAIST, 82.0, "cm");
        let (p, _) = session(sid, &[]);
        decide(&p, Role::Nurse, &first).expect("the first value");
        let (p, ids) = session(sid, &[first]);
        let again = recorded(sid, StationKind::Measurement, WAIST, 83.5, "cm");
        let e = decide(&p, Role::Nurse, &again).expect_err("a silent replacement");
        assert_eq!(e.code(), "correction_required", "{e}");
        assert!(e.to_string().contains("腹囲"), "{e}");
        for reason in ["", "  ", "\n"] {
            let e = decide(
                &p,
                Role::Nurse,
                &corrected(sid, ids[0], WAIST, 83.5, reason),
            )
            .expect_err("no reason");
            assert_eq!(e.code(), "reason_required", "{reason:?}: {e}");
        }
        decide(
            &p,
            Role::Nurse,
            &corrected(sid, ids[0], WAIST, 83.5, "巻尺がずれていた"),
        )
        .expect("a correction with a reason");
        // Another item of the station is still new.
        decide(
            &p,
            Role::Nurse,
            &recorded(sid, StationKind::Measurement, HEIGHT, 160.0, "cm"),
        )
        .expect("another item");
    }

    #[test]
    fn systolic_must_stay_above_its_readings_diastolic() {
        let sid = Uuid::now_v7();
        let bp = StationKind::BloodPressure;
        let (p, _) = session(sid, &[recorded(sid, bp, DIA1, 120.0, "mmHg")]);
        for sys in [70.0, 120.0] {
            let e = decide(&p, Role::Nurse, &recorded(sid, bp, SYS1, sys, "mmHg"))
                .expect_err("systolic at or below diastolic");
            assert_eq!(e.code(), "systolic_not_above_diastolic", "{e}");
            assert!(e.to_string().contains("収縮期血圧"), "{e}");
        }
        decide(&p, Role::Nurse, &recorded(sid, bp, SYS1, 150.0, "mmHg")).expect("150/120");
        // The other reading is checked on its own.
        decide(&p, Role::Nurse, &recorded(sid, bp, DIA2, 130.0, "mmHg")).expect("no pair yet");
        // A correction is checked against the pair as well, from either side.
        let (p, ids2) = session(
            sid,
            &[
                recorded(sid, bp, DIA1, 80.0, "mmHg"),
                recorded(sid, bp, SYS1, 120.0, "mmHg"),
            ],
        );
        let e = decide(
            &p,
            Role::Nurse,
            &corrected(sid, ids2[0], DIA1, 125.0, "再測定"),
        )
        .expect_err("diastolic corrected above systolic");
        assert_eq!(e.code(), "systolic_not_above_diastolic", "{e}");
        let e = decide(
            &p,
            Role::Nurse,
            &corrected(sid, ids2[1], SYS1, 80.0, "再測定"),
        )
        .expect_err("systolic corrected to the diastolic");
        assert_eq!(e.code(), "systolic_not_above_diastolic", "{e}");
        decide(
            &p,
            Role::Nurse,
            &corrected(sid, ids2[1], SYS1, 118.0, "再測定"),
        )
        .expect("118/80");
    }

    fn visit(sid: Uuid, station: StationKind, confirmed: bool, missing: &[&str]) -> EventBody {
        EventBody::StationVisited(StationVisited {
            session_id: sid,
            resident_id: RESIDENT.into(),
            station,
            note: None,
            confirmed,
            missing: missing.iter().map(|m| (*m).to_owned()).collect(),
        })
    }

    #[test]
    fn completing_with_items_missing_lists_them() {
        let sid = Uuid::now_v7();
        let m = StationKind::Measurement;
        let (p, _) = session(sid, &[recorded(sid, m, HEIGHT, 160.0, "cm")]);
        let missing = [WEIGHT, WAIST];
        for (confirmed, listed) in [
            (false, &[][..]),
            (true, &[][..]),
            (true, &[WEIGHT][..]),
            (false, &missing[..]),
        ] {
            let e = decide(&p, Role::Nurse, &visit(sid, m, confirmed, listed))
                .expect_err("completed with unlisted items missing");
            assert_eq!(e.code(), "incomplete_station", "{e}");
            match &e {
                VenueError::Incomplete { missing: got, .. } => assert_eq!(got, &missing),
                other => panic!("{other}"),
            }
            assert!(e.to_string().contains("体重、腹囲（実測）"), "{e}");
        }
        decide(&p, Role::Nurse, &visit(sid, m, true, &missing)).expect("listed and confirmed");
        // At 診察 (its findings recorded) the stations not done are listed by kind.
        let d = StationKind::Doctor;
        let (p, _) = session(
            sid,
            &[
                recorded(sid, m, HEIGHT, 160.0, "cm"),
                found(sid, d, items::HISTORY, "2"),
                found(sid, d, items::SYMPTOMS, "2"),
                found(sid, d, items::SIGNS, "2"),
                found(sid, d, items::DIAGNOSIS, "異常なし"),
            ],
        );
        let e = decide(
            &p,
            Role::Doctor,
            &visit(sid, StationKind::Doctor, true, &[]),
        )
        .expect_err("doctor with stations open");
        match e {
            VenueError::Incomplete { missing, .. } => {
                assert_eq!(missing, ["measurement", "blood_pressure"]);
            }
            other => panic!("{other}"),
        }
        decide(
            &p,
            Role::Doctor,
            &visit(
                sid,
                StationKind::Doctor,
                true,
                &["measurement", "blood_pressure"],
            ),
        )
        .expect("doctor, listed");
    }

    #[test]
    fn the_questionnaire_needs_its_required_answers_whatever_is_confirmed() {
        let sid = Uuid::now_v7();
        let q = StationKind::Questionnaire;
        let opened = event(
            1,
            EventBody::SessionOpened(SessionOpened {
                session_id: sid,
                resident_id: RESIDENT.into(),
                stations: vec![q],
                card: None,
                insurer: None,
            }),
        );
        let answer = |n: u64, code: &str| {
            event(
                n,
                EventBody::MeasurementRecorded(MeasurementRecorded {
                    session_id: sid,
                    resident_id: RESIDENT.into(),
                    station: q,
                    item_code: code.into(),
                    value: MeasuredValue::Text("1".into()),
                    unit: String::new(),
                    confirmed: false,
                    answered: None,
                }),
            )
        };
        let required: Vec<&str> = checkup_protocol::questionnaire::QUESTIONS
            .iter()
            .filter(|x| x.required)
            .map(|x| x.code)
            .collect();
        // Everything but 喫煙 answered: refused even confirmed and listed, naming 喫煙.
        let mut events = vec![opened];
        for (n, x) in checkup_protocol::questionnaire::QUESTIONS
            .iter()
            .enumerate()
        {
            if x.code != required[3] {
                events.push(answer(n as u64 + 2, x.code));
            }
        }
        let p = Projection::from_events(&events);
        let s = p.session_by_id(sid).expect("session");
        assert!(!s.station_done(q), "問診 is done only when signed off");
        let e = decide(&p, Role::Nurse, &visit(sid, q, true, &[required[3]]))
            .expect_err("喫煙 unanswered");
        match &e {
            VenueError::Incomplete { required: r, .. } => assert_eq!(r, &[required[3]]),
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains("喫煙"), "{e}");
        // Answered: nothing missing, signed off.
        events.push(answer(40, required[3]));
        let p = Projection::from_events(&events);
        decide(&p, Role::Nurse, &visit(sid, q, false, &[])).expect("all answered");
    }
}
