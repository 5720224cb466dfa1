//! Current state of the venue, projected from the event log: open sessions, each
//! session's results (with corrections), and progress per station.
//!
//! The projection is a pure function of the set of events: [`Projection::from_events`]
//! folds the log (which the store reads in hybrid-logical-clock order at open), and
//! [`Projection::apply`] folds in each newly committed event. It knows no storage;
//! sequence bookkeeping (what is held of each node) is the store's [`crate::log::store::Ledger`]. Within one item, the value shown is the one with the latest HLC,
//! so boxes that receive the same events in different orders show the same result.
//!
//! A session's paper review ([`SessionState::paper_review`]) follows the same rule: for each
//! item, the latest `questionnaire_paper_read` naming it (by HLC) says whether the reader
//! sent it to the nurse; it waits while no result of the item is later than that read.

use std::collections::{BTreeMap, HashMap};

use checkup_protocol::{Event, EventBody, Hlc, MeasuredValue, StationKind};
use serde::Serialize;
use uuid::Uuid;

/// One recorded or corrected value of an item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResultEntry {
    /// The event that recorded it.
    pub event_id: Uuid,
    /// When.
    pub hlc: Hlc,
    /// Value and unit.
    pub value: MeasuredValue,
    /// Unit.
    pub unit: String,
    /// Who recorded it.
    pub staff_id: String,
    /// The event this one corrects, for corrections.
    pub corrects: Option<Uuid>,
    /// The reason given, for corrections.
    pub reason: Option<String>,
    /// For a questionnaire answer: how the resident gave it, in which language.
    pub answered: Option<checkup_protocol::Answered>,
}

/// An item of the paper questionnaire the reader sent to the nurse.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PaperPending {
    /// Item code.
    pub item_code: String,
    /// Why: `several_ticked`, `faint`, `unclear`, `box_not_found`.
    pub reason: String,
    /// The boxes that held something, with what.
    pub marked: Vec<checkup_protocol::PaperMark>,
    /// The language of the form.
    pub lang: checkup_protocol::Lang,
    /// The page of the form.
    pub page: u8,
    /// The `questionnaire_paper_read` event.
    pub event_id: Uuid,
    /// When the page was read.
    pub hlc: Hlc,
    /// Who passed the page on (a staff member, or the scanner's folder).
    pub staff_id: String,
}

/// The latest paper read naming an item.
#[derive(Debug, Clone)]
struct PaperSeen {
    event_id: Uuid,
    hlc: Hlc,
    /// `Some` when the read sent the item to review.
    review: Option<PaperPending>,
}

/// A checkup session as the board sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionState {
    /// Session id.
    pub session_id: Uuid,
    /// Resident number.
    pub resident_id: String,
    /// When reception opened it (None if a result arrived before the opening event).
    pub opened: Option<Hlc>,
    /// When it was closed.
    pub closed: Option<Hlc>,
    /// Stations the resident must visit.
    pub stations: Vec<StationKind>,
    /// Every value per item code, in HLC order; the last is current.
    pub results: BTreeMap<String, Vec<ResultEntry>>,
    /// The card bound to the session at reception.
    pub card: Option<checkup_protocol::CardRef>,
    /// Stations signed off, with when.
    pub visited: BTreeMap<StationKind, Hlc>,
    /// When each station's first result or sign-off arrived (for station timing).
    pub first_at_station: BTreeMap<StationKind, Hlc>,
    /// Items of the paper questionnaire waiting for the nurse, by item code: the latest read
    /// of the item's page could not decide it, and no answer was recorded after that read.
    /// (Absent from the JSON when nothing waits.)
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub paper_review: BTreeMap<String, PaperPending>,
    /// The latest paper read naming each item, whether it was decided or sent to review.
    #[serde(skip)]
    paper_seen: BTreeMap<String, PaperSeen>,
    /// The opening event that set `opened`, `stations` and `card`.
    #[serde(skip)]
    opened_by: Option<(Hlc, Uuid)>,
}

impl SessionState {
    /// The current value of an item (latest by HLC).
    pub fn current(&self, item_code: &str) -> Option<&ResultEntry> {
        self.results.get(item_code).and_then(|v| v.last())
    }

    /// Whether the session asks for a value of `item_code`: every item, except a finding's
    /// text (具体的な既往歴, 所見) while the finding is not 「特記すべきことあり」.
    pub fn asks_for(&self, item_code: &str) -> bool {
        checkup_protocol::items::detail_of(item_code).is_none_or(|coded| {
            self.current(coded).is_some_and(|r| {
                matches!(&r.value, MeasuredValue::Text(t) if t == checkup_protocol::items::FINDING_PRESENT)
            })
        })
    }

    /// Whether the station is done: signed off, or every item it asks for has a value. 問診
    /// is done only when signed off: answers given on a phone, the tablet or paper still
    /// wait for the nurse to go through them, however many there are. 診察 likewise: the
    /// doctor's sign-off is the last look at the whole record.
    pub fn station_done(&self, station: StationKind) -> bool {
        if self.visited.contains_key(&station) {
            return true;
        }
        if matches!(station, StationKind::Questionnaire | StationKind::Doctor) {
            return false;
        }
        let mut items = station.items().filter(|i| self.asks_for(i.code)).peekable();
        if items.peek().is_none() {
            return false;
        }
        items.all(|i| self.current(i.code).is_some())
    }

    /// When the station was done (sign-off, or the last of its items), if it is.
    pub fn done_at(&self, station: StationKind) -> Option<Hlc> {
        if let Some(h) = self.visited.get(&station) {
            return Some(*h);
        }
        if !self.station_done(station) {
            return None;
        }
        station
            .items()
            .filter_map(|i| {
                self.results
                    .get(i.code)
                    .and_then(|v| v.first())
                    .map(|r| r.hlc)
            })
            .max()
    }

    /// Items recorded by more than one original measurement (two stations recorded the
    /// same item): both are kept, the later is shown, and the board flags it.
    pub fn conflicts(&self) -> Vec<&str> {
        self.results
            .iter()
            .filter(|(_, v)| v.iter().filter(|r| r.corrects.is_none()).count() > 1)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Every station of the course is done.
    pub fn finished(&self) -> bool {
        !self.stations.is_empty() && self.stations.iter().all(|s| self.station_done(*s))
    }

    /// Stations still due.
    pub fn remaining(&self) -> Vec<StationKind> {
        self.stations
            .iter()
            .copied()
            .filter(|s| !self.station_done(*s))
            .collect()
    }
}

/// Progress at one kind of station.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StationProgress {
    /// Open sessions that still have to visit it.
    pub waiting: usize,
    /// Sessions (open or closed) that have completed it.
    pub done: usize,
}

/// The venue's current state.
#[derive(Debug, Default)]
pub struct Projection {
    /// Every session seen, by id.
    sessions: HashMap<Uuid, SessionState>,
    /// Child cases saved from police notices, by case id (child-welfare compartment: only
    /// handed out through [`Projection::cases`] to callers that checked the role).
    cases: BTreeMap<Uuid, Case>,
    /// Photos attached to cases, by case id, oldest first (child-welfare compartment). Kept
    /// apart from `cases`: a photo replicated from one box may arrive before the case saved
    /// on another. The JPEG stays in the log; this holds what lists it.
    photos: BTreeMap<Uuid, Vec<CasePhoto>>,
}

/// A photo attached to a case, without its bytes (the event holds them).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CasePhoto {
    /// Photo id.
    pub photo_id: Uuid,
    /// The event that holds it.
    pub event_id: Uuid,
    /// When it was attached.
    pub hlc: Hlc,
    /// Box it was taken on.
    pub node: String,
    /// Caseworker who took it.
    pub taken_by: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Caption.
    pub note: Option<String>,
    /// Where it was taken, when the box keeps it.
    pub location: Option<checkup_protocol::PhotoLocation>,
}

/// A saved child case, as the caseworkers' list shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Case {
    /// Case id.
    pub case_id: Uuid,
    /// The event that saved it.
    pub event_id: Uuid,
    /// When it was saved.
    pub hlc: Hlc,
    /// Box that saved it.
    pub node: String,
    /// Clerk who saved it.
    pub saved_by: String,
    /// The reviewed notice.
    pub notice: checkup_protocol::NoticeIntakeSaved,
}

impl Projection {
    /// The state after `events` (the store hands them over in HLC order at open).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Projection {
        let mut p = Projection::default();
        for e in events {
            p.apply(e);
        }
        p
    }

    /// Fold one event in.
    pub fn apply(&mut self, e: &Event) {
        match &e.body {
            EventBody::SessionOpened(p) => {
                let s = self.session(p.session_id, &p.resident_id);
                // Should a session be opened twice, the latest opening wins, whatever order
                // the two arrive in.
                if s.opened_by.is_none_or(|k| k < (e.hlc, e.id)) {
                    s.opened_by = Some((e.hlc, e.id));
                    s.opened = Some(e.hlc);
                    s.stations = p.stations.clone();
                    s.resident_id = p.resident_id.clone();
                    s.card = p.card.clone();
                }
            }
            EventBody::SessionClosed(p) => {
                // A closing that arrives before the opening is kept for it.
                let s = self.session(p.session_id, "");
                s.closed = Some(s.closed.map_or(e.hlc, |c| c.min(e.hlc)));
            }
            EventBody::MeasurementRecorded(p) => {
                let entry = ResultEntry {
                    event_id: e.id,
                    hlc: e.hlc,
                    value: p.value.clone(),
                    unit: p.unit.clone(),
                    staff_id: e.actor.staff_id.clone(),
                    corrects: None,
                    reason: None,
                    answered: p.answered,
                };
                let s = self.session(p.session_id, &p.resident_id);
                s.first_at(p.station, e.hlc);
                s.insert(&p.item_code, entry);
                s.refresh_paper(&p.item_code);
            }
            EventBody::MeasurementCorrected(p) => {
                let entry = ResultEntry {
                    event_id: e.id,
                    hlc: e.hlc,
                    value: p.value.clone(),
                    unit: p.unit.clone(),
                    staff_id: e.actor.staff_id.clone(),
                    corrects: Some(p.corrects),
                    reason: Some(p.reason.clone()),
                    answered: p.answered,
                };
                let s = self.session(p.session_id, &p.resident_id);
                s.insert(&p.item_code, entry);
                s.refresh_paper(&p.item_code);
            }
            EventBody::QuestionnairePaperRead(p) => {
                let s = self.session(p.session_id, &p.resident_id);
                let clear = p.answered.iter().map(|code| (code.clone(), None));
                let review = p.review.iter().map(|r| {
                    (
                        r.item_code.clone(),
                        Some(PaperPending {
                            item_code: r.item_code.clone(),
                            reason: r.reason.clone(),
                            marked: r.marked.clone(),
                            lang: p.lang,
                            page: p.page,
                            event_id: e.id,
                            hlc: e.hlc,
                            staff_id: e.actor.staff_id.clone(),
                        }),
                    )
                });
                for (code, review) in clear.chain(review).collect::<Vec<_>>() {
                    let newer = s
                        .paper_seen
                        .get(&code)
                        .is_none_or(|seen| (seen.hlc, seen.event_id) < (e.hlc, e.id));
                    if newer {
                        s.paper_seen.insert(
                            code.clone(),
                            PaperSeen {
                                event_id: e.id,
                                hlc: e.hlc,
                                review,
                            },
                        );
                        s.refresh_paper(&code);
                    }
                }
            }
            EventBody::RecordViewed(_) | EventBody::CaseViewed(_) => {}
            EventBody::CasePhotoAdded(p) => {
                let list = self.photos.entry(p.case_id).or_default();
                if !list.iter().any(|x| x.photo_id == p.photo_id) {
                    let at = list.partition_point(|x| (x.hlc, x.event_id) < (e.hlc, e.id));
                    list.insert(
                        at,
                        CasePhoto {
                            photo_id: p.photo_id,
                            event_id: e.id,
                            hlc: e.hlc,
                            node: e.node.clone(),
                            taken_by: e.actor.staff_id.clone(),
                            width: p.width,
                            height: p.height,
                            note: p.note.clone(),
                            location: p.location,
                        },
                    );
                }
            }
            EventBody::NoticeIntakeSaved(p) => {
                // Saved once; should two saves name one case, the later (HLC, id) wins
                // whatever the order of arrival.
                let newer = self
                    .cases
                    .get(&p.case_id)
                    .is_none_or(|c| (c.hlc, c.event_id) < (e.hlc, e.id));
                if newer {
                    self.cases.insert(
                        p.case_id,
                        Case {
                            case_id: p.case_id,
                            event_id: e.id,
                            hlc: e.hlc,
                            node: e.node.clone(),
                            saved_by: e.actor.staff_id.clone(),
                            notice: p.clone(),
                        },
                    );
                }
            }
            EventBody::StationVisited(p) => {
                let s = self.session(p.session_id, &p.resident_id);
                let v = s.visited.entry(p.station).or_insert(e.hlc);
                *v = (*v).min(e.hlc);
                s.first_at(p.station, e.hlc);
            }
        }
    }

    fn session(&mut self, id: Uuid, resident: &str) -> &mut SessionState {
        let s = self.sessions.entry(id).or_insert_with(|| SessionState {
            session_id: id,
            resident_id: resident.to_owned(),
            opened: None,
            closed: None,
            stations: Vec::new(),
            results: BTreeMap::new(),
            card: None,
            visited: BTreeMap::new(),
            first_at_station: BTreeMap::new(),
            paper_review: BTreeMap::new(),
            paper_seen: BTreeMap::new(),
            opened_by: None,
        });
        // A closing (which names no resident) may arrive first.
        if s.resident_id.is_empty() {
            s.resident_id = resident.to_owned();
        }
        s
    }

    /// A digest of the whole state (sessions, results, visits, cases): two boxes holding
    /// the same events have the same digest, whatever order the events came in.
    pub fn digest(&self) -> String {
        use sha2::Digest;
        let mut ids: Vec<&Uuid> = self.sessions.keys().collect();
        ids.sort();
        let mut h = sha2::Sha256::new();
        for id in ids {
            if let Ok(json) = serde_json::to_vec(&self.sessions[id]) {
                h.update(&json);
                h.update(b"\n");
            }
        }
        for c in self.cases.values() {
            h.update(c.event_id.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Saved child cases, newest first. Child-welfare compartment: callers check
    /// [`checkup_protocol::Role::may_see_child_cases`] first.
    pub fn cases(&self) -> Vec<&Case> {
        let mut v: Vec<&Case> = self.cases.values().collect();
        v.sort_by_key(|c| std::cmp::Reverse((c.hlc, c.event_id)));
        v
    }

    /// The photos attached to case `case_id`, oldest first.
    pub fn case_photos(&self, case_id: Uuid) -> &[CasePhoto] {
        self.photos.get(&case_id).map_or(&[], Vec::as_slice)
    }

    /// Whether case `case_id` is saved.
    pub fn has_case(&self, case_id: Uuid) -> bool {
        self.cases.contains_key(&case_id)
    }

    /// A session by id.
    pub fn session_by_id(&self, id: Uuid) -> Option<&SessionState> {
        self.sessions.get(&id)
    }

    /// Every session seen.
    pub fn all_sessions(&self) -> impl Iterator<Item = &SessionState> {
        self.sessions.values()
    }

    /// Open sessions, oldest first.
    pub fn open_sessions(&self) -> Vec<&SessionState> {
        let mut v: Vec<&SessionState> = self
            .sessions
            .values()
            .filter(|s| s.opened.is_some() && s.closed.is_none())
            .collect();
        v.sort_by_key(|s| (s.opened, s.session_id));
        v
    }

    /// The open session bound to a contactless card.
    pub fn open_session_by_card(&self, uid: &str) -> Option<&SessionState> {
        self.sessions.values().find(|s| {
            s.opened.is_some()
                && s.closed.is_none()
                && matches!(&s.card, Some(checkup_protocol::CardRef::Contactless { uid: u }) if u == uid)
        })
    }

    /// Number of sessions opened today on this venue.
    pub fn sessions_opened(&self) -> usize {
        self.sessions
            .values()
            .filter(|s| s.opened.is_some())
            .count()
    }

    /// Progress per station kind.
    pub fn station_progress(&self) -> BTreeMap<StationKind, StationProgress> {
        let mut out: BTreeMap<StationKind, StationProgress> = StationKind::ALL
            .into_iter()
            .map(|k| (k, StationProgress::default()))
            .collect();
        for s in self.sessions.values().filter(|s| s.opened.is_some()) {
            for st in &s.stations {
                let p = out.entry(*st).or_default();
                if s.station_done(*st) {
                    p.done += 1;
                } else if s.closed.is_none() {
                    p.waiting += 1;
                }
            }
        }
        out
    }
}

impl SessionState {
    fn first_at(&mut self, station: StationKind, hlc: Hlc) {
        let f = self.first_at_station.entry(station).or_insert(hlc);
        *f = (*f).min(hlc);
    }

    /// Whether `item_code` waits for the nurse: its latest paper read sent it to review and
    /// no result of it is later than that read.
    fn refresh_paper(&mut self, item_code: &str) {
        let Some(seen) = self.paper_seen.get(item_code) else {
            return;
        };
        let answered_after = self
            .current(item_code)
            .is_some_and(|r| (r.hlc, r.event_id) > (seen.hlc, seen.event_id));
        match &seen.review {
            Some(p) if !answered_after => {
                self.paper_review.insert(item_code.to_owned(), p.clone());
            }
            _ => {
                self.paper_review.remove(item_code);
            }
        }
    }

    fn insert(&mut self, item_code: &str, entry: ResultEntry) {
        let v = self.results.entry(item_code.to_owned()).or_default();
        // Keep HLC order so that the last entry is the current value whatever order the
        // events arrived in.
        let at = v.partition_point(|x| (x.hlc, x.event_id) <= (entry.hlc, entry.event_id));
        v.insert(at, entry);
    }
}
