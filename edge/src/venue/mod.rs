//! The day's rules, below HTTP: every write of the box goes through [`Core`].
//!
//! # One command path
//!
//! A command (a raw event draft, a check-in, a station's save or sign-off, an audited read,
//! an intake save, a replication import) becomes at most one batch of events through one
//! path:
//!
//! 1. **Authorize** — the role may record the kind, at that station ([`rules::authorize`]).
//! 2. **Validate** — the protocol's own payload and envelope rules, the same ones peers and
//!    central apply on receipt, are applied by the store to every draft before it is
//!    signed ([`crate::log::store::EventStore::append_local`]); a box never signs what
//!    others refuse.
//! 3. **Decide** — the day's invariants are checked against the projection
//!    ([`rules::check`]) while the decision lock is held, and the lock is held until the
//!    event is durable and in the projection. So two concurrent commands are decided one
//!    after the other, each against a state that includes the other's event:
//!    one open session per resident, a venue card on at most one open session, a session
//!    only for a booked resident, a station signed off by a role allowed there and, with
//!    something missing, only with an explicit confirmation listing what is missing (at
//!    問診 never without the answers the report requires); a client id replayed with another body is a conflict.
//!
//! Results (recorded or corrected) are decided under a lock of their session's own: a
//! value for an item already saved must be a correction with a reason, and a blood
//! pressure reading keeps its systolic above its diastolic, so two tablets cannot both
//! pass the check; results of different sessions still share the store's group commit.
//! Audited reads carry no invariant between requests and skip the locks; they are still
//! authorized and validated.
//!
//! Events signed by peers ([`Core::import`]) were decided on their own box; they are
//! verified by [`checkup_protocol::batch`] before they reach here and stored as they are,
//! and the projection orders them by their hybrid logical clock.
//!
//! Layout: [`rules`] (pure decisions), [`questionnaire`] (a resident's answers from any
//! channel, as one batch), [`paper`] (a scanned paper questionnaire read into its session:
//! answers and the items for the nurse's review), this file (the command path and its
//! errors).
//! Nothing here imports axum or maud; `http/` maps [`VenueError`] to answers.

pub mod paper;
pub mod questionnaire;
pub mod rules;
pub mod spread;

use std::sync::Arc;

use checkup_protocol::{
    Actor, CardRef, CaseViewed, Event, EventBody, EventKind, ProtocolError, RecordViewed,
    SessionOpened, StationKind,
};
use thiserror::Error;
use uuid::Uuid;

use crate::auth::Staff;
use crate::log::store::{Draft, EventStore, Outcome, StoreError};
use crate::roster::Roster;
pub use rules::{Route, may_work_at};

/// Card PIN entry: three wrong card PINs in a row from one reception staff member (on any
/// cards, with no right one between) pause PIN entry for 30 s, doubling while it goes on;
/// ten from one client address likewise. The card's own counter (three tries, then blocked
/// until the city office resets it) still protects each card; this slows trying many.
pub const CARD_PIN_POLICY: crate::lockout::Policy = crate::lockout::Policy {
    per_staff: 3,
    per_client: 10,
    first_lock: std::time::Duration::from_secs(30),
    max_lock: std::time::Duration::from_secs(15 * 60),
    forget: std::time::Duration::from_secs(30 * 60),
};

/// Why a command was refused. Each variant has a stable code ([`VenueError::code`]).
#[derive(Debug, Error)]
pub enum VenueError {
    /// The role may not do this (or not at this station).
    #[error("{0}")]
    Forbidden(String),
    /// The payload breaks the protocol's rules.
    #[error("{0}")]
    Invalid(#[from] ProtocolError),
    /// The resident is not on the day's roster.
    #[error("{0} は予約されていません / {0} is not booked at this venue today")]
    NotBooked(String),
    /// The resident already has an open session.
    #[error("この方はすでに受付済みです / {resident} already has an open session ({session})")]
    AlreadyCheckedIn {
        /// Resident number.
        resident: String,
        /// Their open session.
        session: Uuid,
    },
    /// The venue card is bound to another open session.
    #[error(
        "この会場カードは別の受診者に使用中です / venue card {uid} is bound to the open session of {resident}"
    )]
    CardInUse {
        /// The card's UID.
        uid: String,
        /// Whose open session holds it.
        resident: String,
    },
    /// The session is not open at this venue.
    #[error("この受診は開いていません / session {0} is not open at this venue")]
    SessionNotOpen(Uuid),
    /// The event does not fit the session (another resident, a station not in the course).
    #[error("{0}")]
    Mismatch(String),
    /// A value or a sign-off needs staff's explicit confirmation.
    #[error("{0}")]
    ConfirmationRequired(String),
    /// A station is signed off with something missing that the sign-off does not list as
    /// confirmed, or (at 問診) with a required answer missing, which no confirmation
    /// covers.
    #[error("{}", rules::incomplete_message(*station, missing, required))]
    Incomplete {
        /// The station.
        station: StationKind,
        /// What is missing: item codes, or (at 診察) station kinds not done.
        missing: Vec<String>,
        /// Those of `missing` that must be recorded before the sign-off (the 問診 items
        /// required for the report); empty when a confirmed list may cover everything.
        required: Vec<String>,
    },
    /// A value is recorded for an item that already has one in the session: it is a
    /// correction (`measurement_corrected`, with a reason), never a silent replacement.
    #[error(
        "{name_ja}はすでに保存されています。訂正として理由を添えてください / {name_en} is already saved: correct it with a reason"
    )]
    CorrectionRequired {
        /// The item's Japanese name.
        name_ja: &'static str,
        /// The item's English name.
        name_en: &'static str,
    },
    /// A correction without a reason.
    #[error("訂正には理由が必要です / a correction needs a reason")]
    ReasonRequired,
    /// A blood pressure reading whose systolic value is not above its diastolic one.
    #[error(
        "収縮期血圧（{systolic}）は拡張期血圧（{diastolic}）より高くなければなりません。測り直してください / systolic {systolic} must be above diastolic {diastolic}"
    )]
    SystolicNotAboveDiastolic {
        /// The reading's systolic value.
        systolic: f64,
        /// The reading's diastolic value.
        diastolic: f64,
    },
    /// A client id or session id already used for something else.
    #[error("{0}")]
    Conflict(String),
    /// This kind of event is recorded through its own command, not as a raw event.
    #[error("{0}")]
    UseCommand(&'static str),
    /// The resident's course is not one this venue knows.
    #[error("{0}")]
    UnknownCourse(String),
    /// The roster could not be read (disk error).
    #[error("roster unavailable: {0}")]
    Roster(#[from] rusqlite::Error),
    /// The event store refused or failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for VenueError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(p) => VenueError::Invalid(p),
            StoreError::Conflict(m) => VenueError::Conflict(m),
            other => VenueError::Store(other),
        }
    }
}

impl VenueError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VenueError::Forbidden(_) => "forbidden_role",
            VenueError::Invalid(p) => p.code(),
            VenueError::NotBooked(_) => "not_booked",
            VenueError::AlreadyCheckedIn { .. } => "already_checked_in",
            VenueError::CardInUse { .. } => "card_in_use",
            VenueError::SessionNotOpen(_) => "session_not_open",
            VenueError::Mismatch(_) => "invalid_payload",
            VenueError::ConfirmationRequired(_) => "confirmation_required",
            VenueError::Incomplete { .. } => "incomplete_station",
            VenueError::CorrectionRequired { .. } => "correction_required",
            VenueError::ReasonRequired => "reason_required",
            VenueError::SystolicNotAboveDiastolic { .. } => "systolic_not_above_diastolic",
            VenueError::Conflict(_) => "conflict",
            VenueError::UseCommand(_) => "use_command",
            VenueError::UnknownCourse(_) => "unknown_course",
            VenueError::Roster(_) => "roster_unavailable",
            VenueError::Store(StoreError::Closed) => "shutting_down",
            VenueError::Store(StoreError::TrainingMismatch { training: true }) => "training_event",
            VenueError::Store(StoreError::TrainingMismatch { training: false }) => {
                "real_event_in_training"
            }
            VenueError::Store(_) => "store_unavailable",
        }
    }
}

/// A check-in at reception: open the booked resident's session with their course's
/// stations.
#[derive(Debug, Clone)]
pub struct CheckIn {
    /// Client-chosen id of the opening event (a retried check-in is recognised).
    pub id: Uuid,
    /// Resident number.
    pub resident_id: String,
    /// The card tapped, if any.
    pub card: Option<CardRef>,
}

/// The domain core of the box: the one path every write takes. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    store: EventStore,
    roster: Arc<Roster>,
    /// Held from the check of an invariant-bearing command until its event is durable
    /// and projected, so such commands are decided one at a time.
    decide: Arc<tokio::sync::Mutex<()>>,
    /// Locks for results, by session (striped): a result is decided against the session's
    /// earlier value of the item and its paired reading, one at a time per session, while
    /// results of different sessions keep the store's group commit.
    results: Arc<[tokio::sync::Mutex<()>]>,
}

/// How many result locks sessions share.
const RESULT_STRIPES: usize = 64;

impl Core {
    /// The core over this box's store and roster.
    pub fn new(store: EventStore, roster: Arc<Roster>) -> Core {
        Core {
            store,
            roster,
            decide: Arc::new(tokio::sync::Mutex::new(())),
            results: (0..RESULT_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// The event store (for reads).
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Record one event drafted by `staff` (a raw draft from `POST /api/events`, a
    /// station's save or sign-off). A draft whose id is stored already is a replay: the
    /// stored event is returned if it is the same, otherwise a conflict.
    pub async fn record(
        &self,
        staff: &Staff,
        id: Option<Uuid>,
        body: EventBody,
    ) -> Result<Outcome, VenueError> {
        let body = self.with_roster_insurer(body)?;
        self.decide_and_append(staff, id, body, Route::Raw, &|a, b| a == b)
            .await
    }

    /// A session opened as a raw draft carries the roster's insurer identity, as a check-in
    /// does: a draft naming none gets the roster's; one naming another is refused (staff
    /// do not type who insures a resident). Other events pass unchanged, and so does the
    /// opening of a resident not on the roster (the day's rules refuse it).
    fn with_roster_insurer(&self, body: EventBody) -> Result<EventBody, VenueError> {
        let EventBody::SessionOpened(mut o) = body else {
            return Ok(body);
        };
        if let Some(resident) = self.roster.get(&o.resident_id)? {
            match (&o.insurer, resident.insurer) {
                (None, from_roster) => o.insurer = from_roster,
                (Some(given), Some(from_roster)) if *given == from_roster => {}
                (Some(_), _) => {
                    return Err(VenueError::Mismatch(
                        "保険者情報は名簿のものが記録されます / the insurer identity of a session is the roster's, not typed in".into(),
                    ));
                }
            }
        }
        Ok(EventBody::SessionOpened(o))
    }

    /// Check a resident in. A retried check-in (same id, same resident and card) gets the
    /// session it opened; the same id with another resident or card is a conflict.
    pub async fn check_in(&self, staff: &Staff, c: CheckIn) -> Result<Outcome, VenueError> {
        if !matches!(
            staff.role,
            checkup_protocol::Role::Reception | checkup_protocol::Role::VenueAdmin
        ) {
            return Err(VenueError::Forbidden(
                "受付の権限がありません / only reception checks residents in".into(),
            ));
        }
        let resident = self
            .roster
            .get(&c.resident_id)?
            .ok_or_else(|| VenueError::NotBooked(shown(&c.resident_id)))?;
        let stations =
            crate::courses::stations(&resident.course).map_err(VenueError::UnknownCourse)?;
        let body = EventBody::SessionOpened(SessionOpened {
            session_id: Uuid::now_v7(),
            resident_id: resident.resident_id,
            stations,
            card: c.card,
            insurer: resident.insurer,
        });
        // A retry carries a fresh session id: it is the same check-in when it names the
        // same resident and card.
        let same = |stored: &EventBody, new: &EventBody| match (stored, new) {
            (EventBody::SessionOpened(a), EventBody::SessionOpened(b)) => {
                a.resident_id == b.resident_id && a.card == b.card
            }
            _ => false,
        };
        self.decide_and_append(staff, Some(c.id), body, Route::Command, &same)
            .await
    }

    /// Save a reviewed police notice as a case (the intake's save, from a scan). The event
    /// id is derived from the scan by the caller, so a retried save is stored once.
    pub async fn save_case(
        &self,
        staff: &Staff,
        event_id: Uuid,
        notice: checkup_protocol::NoticeIntakeSaved,
    ) -> Result<Outcome, VenueError> {
        // A retry of the same scan's save may carry a fresh case id: the first one stands.
        let same = |stored: &EventBody, new: &EventBody| match (stored, new) {
            (EventBody::NoticeIntakeSaved(a), EventBody::NoticeIntakeSaved(b)) => {
                a.source == b.source
            }
            _ => false,
        };
        let body = EventBody::NoticeIntakeSaved(notice);
        self.decide_and_append(staff, Some(event_id), body, Route::Command, &same)
            .await
    }

    /// Attach a photo (already stripped and re-encoded by [`crate::intake::photo`]) to a
    /// case. The event id is derived by the caller from the photo's bytes and the case, so
    /// an upload retried after a lost answer is stored once.
    pub async fn add_case_photo(
        &self,
        staff: &Staff,
        event_id: Uuid,
        photo: checkup_protocol::CasePhotoAdded,
    ) -> Result<Outcome, VenueError> {
        let same = |stored: &EventBody, new: &EventBody| match (stored, new) {
            (EventBody::CasePhotoAdded(a), EventBody::CasePhotoAdded(b)) => {
                a.case_id == b.case_id && a.jpeg == b.jpeg
            }
            _ => false,
        };
        let body = EventBody::CasePhotoAdded(photo);
        self.decide_and_append(staff, Some(event_id), body, Route::Command, &same)
            .await
    }

    /// Record that `staff` was shown these residents' records, durably, before the data is
    /// returned. Every id must be a valid resident number.
    pub async fn audit_read(
        &self,
        staff: &Staff,
        residents: Vec<String>,
        purpose: &str,
    ) -> Result<(), VenueError> {
        if residents.is_empty() {
            return Ok(());
        }
        let drafts = residents
            .into_iter()
            .map(|resident_id| Draft {
                id: None,
                actor: actor(staff),
                body: EventBody::RecordViewed(RecordViewed {
                    resident_id,
                    purpose: purpose.to_owned(),
                }),
            })
            .collect();
        self.store.append_local(drafts).await?;
        Ok(())
    }

    /// Record that `staff` is being shown scan `scan` and/or the child cases `cases`
    /// (`case_viewed` events of at most [`checkup_protocol::notice::MAX_VIEWED_CASES`]
    /// cases each, appended together), durably, before the data is returned. Only the
    /// child-welfare roles read the compartment.
    pub async fn audit_case_read(
        &self,
        staff: &Staff,
        scan: Option<Uuid>,
        cases: &[Uuid],
        purpose: &str,
    ) -> Result<(), VenueError> {
        if !staff.role.may_see_child_cases() {
            return Err(VenueError::Forbidden(format!(
                "{}の権限では児童の記録を見られません / role {} has no access to child cases",
                staff.role.label_ja(),
                staff.role
            )));
        }
        let view = |scan_id, case_ids: Vec<Uuid>| CaseViewed {
            scan_id,
            case_ids,
            purpose: purpose.to_owned(),
        };
        let views: Vec<CaseViewed> = if cases.is_empty() {
            scan.into_iter()
                .map(|id| view(Some(id), Vec::new()))
                .collect()
        } else {
            cases
                .chunks(checkup_protocol::notice::MAX_VIEWED_CASES)
                .map(|chunk| view(scan, chunk.to_vec()))
                .collect()
        };
        if views.is_empty() {
            return Ok(());
        }
        let drafts = views
            .into_iter()
            .map(|v| Draft {
                id: None,
                actor: actor(staff),
                body: EventBody::CaseViewed(v),
            })
            .collect();
        self.store.append_local(drafts).await?;
        Ok(())
    }

    /// Store events signed by peers, verified by the caller with
    /// [`checkup_protocol::batch`]. Idempotent; a conflicting (node, seq) refuses the whole
    /// call.
    pub async fn import(&self, events: Vec<Event>) -> Result<Vec<Outcome>, VenueError> {
        Ok(self.store.append_signed(events).await?)
    }

    async fn decide_and_append(
        &self,
        staff: &Staff,
        id: Option<Uuid>,
        body: EventBody,
        route: Route,
        same: &(dyn Fn(&EventBody, &EventBody) -> bool + Sync),
    ) -> Result<Outcome, VenueError> {
        rules::authorize(staff, &body, route)?;
        // Events without an invariant between requests keep the store's group commit.
        let _guard = if needs_decision_lock(body.kind()) {
            Some(self.decide.lock().await)
        } else if let Some(session) = rules::result_session(&body) {
            Some(self.result_lock(session).lock().await)
        } else {
            None
        };
        // A replay (the id is stored) is handed to the store with the stored body, and the
        // store answers it once it is durable (or refuses it if another staff member's);
        // the same id with another body is a conflict. Only new events are decided.
        let stored = match id {
            Some(id) => self.store.get(id)?,
            None => None,
        };
        let body = match stored {
            Some(stored) if same(&stored.body, &body) => stored.body.clone(),
            Some(_) => {
                return Err(VenueError::Conflict(format!(
                    "この番号は別の内容（別の方・別のカード）で使われています。画面を読み込み直してください / id {} is already used by a different event",
                    id.unwrap_or_default()
                )));
            }
            None => {
                self.check_new(staff, route, &self.store.projection(), &body)?;
                body
            }
        };
        let draft = Draft {
            id,
            actor: actor(staff),
            body,
        };
        let outcome = self
            .store
            .append_local(vec![draft])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                VenueError::Store(StoreError::Unavailable("the store answered short".into()))
            })?;
        Ok(outcome)
    }
}

impl Core {
    /// The day's invariants for a new event drafted by `staff` ([`rules::check`]), with
    /// the roster's answers (the resident's course, last year's weight).
    fn check_new(
        &self,
        staff: &Staff,
        route: Route,
        projection: &crate::log::projection::Projection,
        body: &EventBody,
    ) -> Result<(), VenueError> {
        let roster = &self.roster;
        let course = |r: &str| -> Result<Option<Vec<StationKind>>, VenueError> {
            match roster.get(r)? {
                None => Ok(None),
                Some(booked) => crate::courses::stations(&booked.course)
                    .map(Some)
                    .map_err(VenueError::UnknownCourse),
            }
        };
        let last_weight = |r: &str| -> Option<f64> {
            roster
                .last_values(r)
                .ok()?
                .into_iter()
                .find(|h| h.item_code == rules::WEIGHT)
                .and_then(|h| h.value.parse::<f64>().ok())
        };
        let cx = rules::Context {
            staff,
            course: &course,
            last_weight: &last_weight,
            route,
        };
        rules::check(projection, &cx, body)
    }

    /// The lock results of `session` are decided under.
    fn result_lock(&self, session: Uuid) -> &tokio::sync::Mutex<()> {
        let i = (session.as_u128() % self.results.len() as u128) as usize;
        &self.results[i]
    }
}

/// Kinds whose invariants involve other requests (sessions, cards, sign-offs, cases).
/// Results are decided against their session's earlier values under a lock of the
/// session's own ([`Core::result_lock`]).
fn needs_decision_lock(kind: EventKind) -> bool {
    !matches!(
        kind,
        EventKind::MeasurementRecorded
            | EventKind::MeasurementCorrected
            | EventKind::RecordViewed
            | EventKind::CaseViewed
            | EventKind::QuestionnairePaperRead
            // Needs only its case, and a saved case stays saved.
            | EventKind::CasePhotoAdded
    )
}

/// An identifier as an answer may repeat it: at most 64 characters of it.
pub(crate) fn shown(id: &str) -> String {
    if id.chars().count() <= 64 {
        id.to_owned()
    } else {
        let head: String = id.chars().take(64).collect();
        format!("{head}…")
    }
}

fn actor(staff: &Staff) -> Actor {
    Actor {
        staff_id: staff.id.clone(),
        role: staff.role,
    }
}
