//! A resident's own questionnaire answers into the log, whatever the channel (phone before
//! the day, the venue tablet, the paper form): one command, [`Core::answer_questionnaire`].
//!
//! Each answer is the item's `measurement_recorded` at the 問診 station, carrying
//! [`Answered`] (channel and language). Under the session's result lock the command
//! compares each answer with the item's current value: a new item is recorded, the same
//! value again is left as it is (so a retried or re-scanned submission changes nothing), and
//! a different value is a correction naming the channel as its reason (the resident changed
//! their answer). The whole submission is appended as one batch, after every event has passed
//! the day's rules, so it is stored whole or not at all.
//!
//! What the nurse asks at the 問診 station is recorded from the station page like any
//! result, as `answered.via = interview` in the language asked (a raw draft never claims
//! the phone, tablet or paper: that is this command's alone); the nurse's amendments are
//! ordinary corrections with a typed reason, likewise marked as asked. The station is
//! signed off only once the required answers ([`required_missing`]) are there.
//!
//! Answers given on the phone before the day wait beside the roster
//! ([`crate::pre_answers`]); at check-in, [`Core::record_pre_answers`] passes them through
//! the same command with `via: phone` and the resident's language.

use checkup_protocol::questionnaire::{self, Channel};
use checkup_protocol::{
    Answered, EventBody, MeasuredValue, MeasurementCorrected, MeasurementRecorded, StationKind,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Core, Route, VenueError, actor};
use crate::auth::Staff;
use crate::log::store::{Draft, StoreError};

/// One answer as given: the item's 17-digit code and the answer's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    /// Item code (`9N701000000000011` …).
    pub item_code: String,
    /// Answer code (`"1"`, `"2"`, …).
    pub code: String,
}

/// What a submission changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Submitted {
    /// Items answered for the first time.
    pub recorded: usize,
    /// Items whose earlier answer the resident changed (stored as corrections).
    pub corrected: usize,
    /// Items already holding the same answer.
    pub unchanged: usize,
    /// The events appended.
    pub events: Vec<Uuid>,
}

impl Core {
    /// Record what the resident of `session` answered through `answered.via` (not
    /// [`Channel::Interview`]: the nurse records at the station). Refused whole when an
    /// item is not on the questionnaire, is answered twice, or an answer is not a code of
    /// its item, or when the session is not open.
    pub async fn answer_questionnaire(
        &self,
        staff: &Staff,
        session: Uuid,
        answers: &[Answer],
        answered: Answered,
    ) -> Result<Submitted, VenueError> {
        check_answers(answers, answered)?;
        self.submit_answers(staff, session, answers, answered, Vec::new())
            .await
    }
}

/// The rules of a submission: a resident's own channel, questionnaire items each answered
/// once, with codes of their item.
pub(super) fn check_answers(answers: &[Answer], answered: Answered) -> Result<(), VenueError> {
    if answered.via == Channel::Interview {
        return Err(VenueError::Mismatch(
                "聞き取りの回答は問診の画面から記録してください / answers asked by the nurse are recorded at the 問診 station".into(),
            ));
    }
    let mut seen = std::collections::HashSet::new();
    for a in answers {
        let Some(q) = questionnaire::question(&a.item_code) else {
            return Err(VenueError::Mismatch(format!(
                "{} は質問票の項目ではありません / {} is not a questionnaire item",
                super::shown(&a.item_code),
                super::shown(&a.item_code)
            )));
        };
        if !seen.insert(q.code) {
            return Err(VenueError::Mismatch(format!(
                "質問{}の回答が2つあります / item {} is answered twice",
                q.number, q.code
            )));
        }
        if !q.answers.codes().contains(&a.code.as_str()) {
            return Err(VenueError::Mismatch(format!(
                "質問{}の回答 {} はありません / {} is not an answer code of item {}",
                q.number,
                super::shown(&a.code),
                super::shown(&a.code),
                q.code
            )));
        }
    }
    Ok(())
}

impl Core {
    /// As [`Core::answer_questionnaire`] once each answer is known to be a code of its
    /// item, with `also` (the records of paper pages read) appended after the answers in
    /// the same batch, each checked against the day's rules.
    pub(super) async fn submit_answers(
        &self,
        staff: &Staff,
        session: Uuid,
        answers: &[Answer],
        answered: Answered,
        also: Vec<EventBody>,
    ) -> Result<Submitted, VenueError> {
        let _guard = self.result_lock(session).lock().await;
        let (mut out, mut bodies) = self.decide_answers(staff, session, answers, answered)?;
        if !also.is_empty() {
            let projection = self.store.projection();
            for body in &also {
                self.check_new(staff, Route::Command, &projection, body)?;
            }
        }
        bodies.extend(also);
        if bodies.is_empty() {
            return Ok(out);
        }
        let drafts: Vec<Draft> = bodies
            .into_iter()
            .map(|body| Draft {
                id: None,
                actor: actor(staff),
                body,
            })
            .collect();
        let n = drafts.len();
        let outcomes = self.store.append_local(drafts).await?;
        if outcomes.len() != n {
            return Err(VenueError::Store(StoreError::Unavailable(
                "the store answered short".into(),
            )));
        }
        out.events = outcomes.iter().map(|o| o.event().id).collect();
        tracing::info!(
            session = %session,
            via = ?answered.via,
            lang = %answered.lang,
            recorded = out.recorded,
            corrected = out.corrected,
            unchanged = out.unchanged,
            "questionnaire answers taken"
        );
        Ok(out)
    }

    /// Record the resident's phone answers (if the roster holds any) in the session just
    /// opened for them, as [`Core::answer_questionnaire`] through [`Channel::Phone`] in the
    /// language they answered in. `None` when they gave none. A retried check-in records
    /// nothing twice (the same answers again leave each item unchanged).
    pub async fn record_pre_answers(
        &self,
        staff: &Staff,
        session: Uuid,
        resident_id: &str,
    ) -> Result<Option<Submitted>, VenueError> {
        let Some(pre) = self.roster.pre_answer(resident_id)? else {
            return Ok(None);
        };
        let answers: Vec<Answer> = pre
            .answers
            .into_iter()
            .map(|a| Answer {
                item_code: a.item_code,
                code: a.code,
            })
            .collect();
        let answered = Answered {
            via: Channel::Phone,
            lang: pre.lang,
        };
        self.answer_questionnaire(staff, session, &answers, answered)
            .await
            .map(Some)
    }

    /// The events a submission makes, each checked against the day's rules (called under
    /// the session's result lock).
    fn decide_answers(
        &self,
        staff: &Staff,
        session: Uuid,
        answers: &[Answer],
        answered: Answered,
    ) -> Result<(Submitted, Vec<EventBody>), VenueError> {
        let projection = self.store.projection();
        let Some(state) = projection
            .session_by_id(session)
            .filter(|s| s.opened.is_some() && s.closed.is_none())
        else {
            return Err(VenueError::SessionNotOpen(session));
        };
        let resident_id = state.resident_id.clone();
        let mut out = Submitted::default();
        let mut bodies = Vec::new();
        for a in answers {
            let value = MeasuredValue::Text(a.code.clone());
            let body = match state.current(&a.item_code) {
                Some(current) if current.value == value => {
                    out.unchanged += 1;
                    continue;
                }
                Some(current) => {
                    out.corrected += 1;
                    EventBody::MeasurementCorrected(MeasurementCorrected {
                        session_id: session,
                        resident_id: resident_id.clone(),
                        corrects: current.event_id,
                        item_code: a.item_code.clone(),
                        value,
                        unit: String::new(),
                        reason: format!(
                            "本人が回答を変更（{}） / changed by the resident ({})",
                            answered.via.label_ja(),
                            channel_en(answered.via)
                        ),
                        confirmed: false,
                        answered: Some(answered),
                    })
                }
                None => {
                    out.recorded += 1;
                    EventBody::MeasurementRecorded(MeasurementRecorded {
                        session_id: session,
                        resident_id: resident_id.clone(),
                        station: StationKind::Questionnaire,
                        item_code: a.item_code.clone(),
                        value,
                        unit: String::new(),
                        confirmed: false,
                        answered: Some(answered),
                    })
                }
            };
            self.check_new(staff, Route::Command, &projection, &body)?;
            bodies.push(body);
        }
        Ok((out, bodies))
    }
}

/// How an answer was given, in English for staff screens (the Japanese is
/// [`Channel::label_ja`]).
pub fn channel_en(c: Channel) -> &'static str {
    match c {
        Channel::Phone => "phone, before the day",
        Channel::Tablet => "venue tablet",
        Channel::Paper => "paper form",
        Channel::Interview => "asked by the nurse",
    }
}

/// The 問診 station's required items still without an answer in this session.
pub fn required_missing(state: &crate::log::projection::SessionState) -> Vec<&'static str> {
    questionnaire::QUESTIONS
        .iter()
        .filter(|q| q.required && state.current(q.code).is_none())
        .map(|q| q.code)
        .collect()
}
