//! A page of the paper questionnaire as read by a box: the payload of
//! `questionnaire_paper_read`.
//!
//! The answers read clearly from the page are `measurement_recorded` (or corrected) events
//! of their own, via paper; this event records that the page was read and, above all, the
//! items the reader sent to the nurse with the reason and the marks it saw, so the review
//! is part of the session's state on every box and at central, not of one tablet's page.
//!
//! ```json
//! {"session_id":"0193…","resident_id":"0000000042","lang":"en","page":1,
//!  "answered":["9N701000000000011"],
//!  "review":[{"item_code":"9N736000000000011","reason":"several_ticked",
//!             "marked":[{"code":"1","mark":"ticked"},{"code":"2","mark":"ticked"}]}]}
//! ```
//!
//! Reasons and marks are short identifiers (`several_ticked`, `faint`, `unclear`,
//! `box_not_found`; `ticked`, `filled`, `faint`, `unclear`, `not_found`) kept as strings,
//! so a reader that learns a new one does not make older receivers refuse the event.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ProtocolError;
use crate::event::check_id;
use crate::questionnaire::{self, Lang, QUESTIONS};

/// Highest page number a form may carry.
pub const MAX_PAGE: u8 = 9;

/// Payload of [`crate::EventBody::QuestionnairePaperRead`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuestionnairePaperRead {
    /// The session the form was printed for (from its QR code).
    pub session_id: Uuid,
    /// The resident, repeated so the record can be built without the session.
    pub resident_id: String,
    /// The language of the form.
    pub lang: Lang,
    /// The page of the form (1-based, from its QR code).
    pub page: u8,
    /// Items of the page read with exactly one ticked box (their answers are recorded by
    /// their own events): an earlier review of these items is over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answered: Vec<String>,
    /// Items the reader could not decide: the nurse asks the resident.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub review: Vec<PaperReviewItem>,
}

/// An item of the page sent to the nurse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaperReviewItem {
    /// Item code.
    pub item_code: String,
    /// Why: `several_ticked`, `faint`, `unclear`, `box_not_found`.
    pub reason: String,
    /// The boxes holding something (empty boxes are not listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marked: Vec<PaperMark>,
}

/// What one answer box held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaperMark {
    /// The answer code of the box.
    pub code: String,
    /// `ticked`, `filled` (cancelled), `faint`, `unclear` or `not_found`.
    pub mark: String,
}

/// A short snake_case identifier (reasons, marks).
fn check_word(field: &'static str, s: &str) -> Result<(), ProtocolError> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'_' | b'0'..=b'9'));
    if ok {
        Ok(())
    } else {
        Err(ProtocolError::invalid(
            field,
            "must be 1 to 32 characters of a-z, 0-9 and _",
        ))
    }
}

impl QuestionnairePaperRead {
    /// The payload's rules: a session and resident, a page number, questionnaire items
    /// each named at most once, answer codes of their item.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.session_id.is_nil() {
            return Err(ProtocolError::invalid(
                "payload.session_id",
                "must not be the nil UUID",
            ));
        }
        check_id("payload.resident_id", &self.resident_id)?;
        if self.page == 0 || self.page > MAX_PAGE {
            return Err(ProtocolError::invalid(
                "payload.page",
                format!("must be 1 to {MAX_PAGE}"),
            ));
        }
        if self.answered.len() + self.review.len() > QUESTIONS.len() {
            return Err(ProtocolError::invalid(
                "payload",
                format!("names more than the {} items", QUESTIONS.len()),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let codes = self
            .answered
            .iter()
            .map(|c| ("payload.answered", c))
            .chain(self.review.iter().map(|r| ("payload.review", &r.item_code)));
        for (field, code) in codes {
            if questionnaire::question(code).is_none() {
                return Err(ProtocolError::invalid(
                    field,
                    format!("{code:?} is not a questionnaire item"),
                ));
            }
            if !seen.insert(code.as_str()) {
                return Err(ProtocolError::invalid(
                    field,
                    format!("{code} is named twice"),
                ));
            }
        }
        for r in &self.review {
            check_word("payload.review.reason", &r.reason)?;
            let Some(q) = questionnaire::question(&r.item_code) else {
                continue;
            };
            let mut boxes = std::collections::HashSet::new();
            for m in &r.marked {
                if !q.answers.codes().contains(&m.code.as_str()) {
                    return Err(ProtocolError::invalid(
                        "payload.review.marked",
                        format!("{:?} is not an answer code of {}", m.code, q.code),
                    ));
                }
                if !boxes.insert(m.code.as_str()) {
                    return Err(ProtocolError::invalid(
                        "payload.review.marked",
                        format!("box {} of {} is listed twice", m.code, q.code),
                    ));
                }
                check_word("payload.review.marked.mark", &m.mark)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read() -> QuestionnairePaperRead {
        QuestionnairePaperRead {
            session_id: Uuid::now_v7(),
            resident_id: "0000000042".into(),
            lang: Lang::En,
            page: 1,
            answered: vec![QUESTIONS[0].code.into()],
            review: vec![PaperReviewItem {
                item_code: QUESTIONS[2].code.into(),
                reason: "several_ticked".into(),
                marked: vec![
                    PaperMark {
                        code: "1".into(),
                        mark: "ticked".into(),
                    },
                    PaperMark {
                        code: "2".into(),
                        mark: "ticked".into(),
                    },
                ],
            }],
        }
    }

    #[test]
    fn a_page_read_passes_and_each_kind_of_bad_payload_is_named() {
        read().validate().expect("valid");
        type Spoil = Box<dyn Fn(&mut QuestionnairePaperRead)>;
        let bad: Vec<(&str, Spoil)> = vec![
            (
                "payload.session_id",
                Box::new(|r| r.session_id = Uuid::nil()),
            ),
            (
                "payload.resident_id",
                Box::new(|r| r.resident_id = "a b".into()),
            ),
            ("payload.page", Box::new(|r| r.page = 0)),
            ("payload.page", Box::new(|r| r.page = MAX_PAGE + 1)),
            (
                "payload.answered",
                Box::new(|r| r.answered.push("9N001000000000001".into())),
            ),
            (
                "payload.review",
                Box::new(|r| r.answered.push(QUESTIONS[2].code.into())),
            ),
            (
                "payload.review.reason",
                Box::new(|r| r.review[0].reason = "Several Ticked".into()),
            ),
            (
                "payload.review.marked",
                Box::new(|r| r.review[0].marked[0].code = "9".into()),
            ),
            (
                "payload.review.marked",
                Box::new(|r| r.review[0].marked[1].code = "1".into()),
            ),
            (
                "payload.review.marked.mark",
                Box::new(|r| r.review[0].marked[0].mark = String::new()),
            ),
            (
                "payload",
                Box::new(|r| r.answered = QUESTIONS.iter().map(|q| q.code.to_string()).collect()),
            ),
        ];
        for (field, spoil) in bad {
            let mut r = read();
            spoil(&mut r);
            let e = r.validate().expect_err(field);
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
    }

    #[test]
    fn an_older_shape_without_lists_loads() {
        let json = serde_json::json!({"session_id": Uuid::now_v7(), "resident_id": "0000000042",
            "lang": "ja", "page": 2});
        let r: QuestionnairePaperRead = serde_json::from_value(json).expect("loads");
        assert!(r.answered.is_empty() && r.review.is_empty());
        r.validate().expect("valid");
    }

    proptest! {
        /// Whatever JSON arrives, parsing and validating never panics, and what validates
        /// round-trips unchanged.
        #[test]
        fn arbitrary_payloads_are_refused_or_round_trip(
            page in any::<u8>(),
            items in proptest::collection::vec((0usize..30, "[a-z_]{0,8}", proptest::collection::vec(("[0-9]", "[a-z_]{0,6}"), 0..4)), 0..6),
        ) {
            let review: Vec<PaperReviewItem> = items.into_iter().map(|(i, reason, marks)| PaperReviewItem {
                item_code: QUESTIONS.get(i).map_or_else(|| format!("X{i}"), |q| q.code.to_string()),
                reason,
                marked: marks.into_iter().map(|(code, mark)| PaperMark { code, mark }).collect(),
            }).collect();
            let r = QuestionnairePaperRead { page, review, ..read() };
            if r.validate().is_ok() {
                let back: QuestionnairePaperRead =
                    serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parse");
                prop_assert_eq!(back, r);
            }
        }
    }
}
