//! The messages between a box and central, as both sides see them: central serialises
//! these types and the box deserialises the same ones, so a field renamed on one side
//! fails to compile on the other instead of reading as a silent default.
//!
//! | route | request | answer |
//! |---|---|---|
//! | `POST /v1/batches` | a JSON array of signed events ([`crate::batch`]) | [`BatchAck`] |
//! | `POST /v1/wipes` | [`ForcedWipe`] | [`WipeRecorded`] |
//! | `POST /v1/questionnaire/answers/lookup` | [`AnswersLookup`] | [`PreAnswers`] |
//! | `GET /v1/questionnaire/answers?checkup=` (central admin's file for a box offline) | | [`PreAnswers`] |
//! | any refusal | | [`ErrorAnswer`] with a 4xx or 5xx status |
//!
//! Every field of an answer is required: an answer without one is not an answer. Answers
//! the box reads accept fields they do not know, so a newer central can add one without
//! stopping every older box's forwarding; requests central reads refuse unknown fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Central's answer to a stored batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct BatchAck {
    /// Per node of the batch: the highest seq up to which central holds every event (the
    /// box's forwarding watermark).
    pub acked: BTreeMap<String, u64>,
    /// Events newly stored.
    pub new: u64,
    /// Events already held (replays, overlaps).
    pub duplicate: u64,
}

/// A box wiped before central held all its events: what it says it lost and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ForcedWipe {
    /// Why (`checkup-edge wipe --force --reason`), 4 to 500 characters.
    pub reason: String,
    /// Events central lacked, per node, as the box counted them.
    pub unforwarded: BTreeMap<String, u64>,
}

/// Central's answer to a recorded [`ForcedWipe`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct WipeRecorded {
    /// The wipe is in central's audit trail.
    pub recorded: bool,
}

/// Central's answer to anything it refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ErrorAnswer {
    /// Stable machine-readable code, e.g. `bad_signature`, `seq_conflict`.
    pub error: String,
    /// What is wrong, in words.
    pub message: String,
}

/// A box asks central for the answers residents gave on their phones before the day
/// (`POST /v1/questionnaire/answers/lookup`): the residents of its roster, by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswersLookup {
    /// The checkup: its fiscal year (`"2026"`, April 2026 to March 2027).
    pub checkup: String,
    /// Resident numbers (at most [`MAX_LOOKUP`]).
    pub resident_ids: Vec<String>,
}

/// Most residents one lookup may name (a venue's roster is far smaller; a box with more
/// asks in several requests).
pub const MAX_LOOKUP: usize = 5000;

/// One answer: the item's 17-character code and the answer's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerCode {
    /// Item code (`9N701000000000011` …).
    pub item_code: String,
    /// Answer code (`"1"`, `"2"`, …).
    pub code: String,
}

/// What one resident answered on their phone before the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PreAnswer {
    /// Resident number.
    pub resident_id: String,
    /// The checkup (fiscal year).
    pub checkup: String,
    /// The language the resident read the questions in.
    pub lang: crate::questionnaire::Lang,
    /// When the answers were sent (Unix milliseconds).
    pub answered_ms: u64,
    /// The answers, in the questionnaire's order.
    pub answers: Vec<AnswerCode>,
}

/// Pre-answers of one checkup: central's answer to a lookup, and the file a venue admin
/// imports on a box that cannot reach central.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PreAnswers {
    /// The checkup (fiscal year).
    pub checkup: String,
    /// Residents who answered (those who did not are absent).
    pub answers: Vec<PreAnswer>,
}

/// Whether `s` names a checkup: a fiscal year, four digits.
pub fn is_checkup(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_without_a_required_field_is_not_an_answer() {
        let ack: BatchAck =
            serde_json::from_str(r#"{"acked":{"edge-01":3},"new":3,"duplicate":0,"later":1}"#)
                .expect("a newer central's ack");
        assert_eq!(ack.acked["edge-01"], 3);
        assert!(serde_json::from_str::<BatchAck>(r#"{"new":3,"duplicate":0}"#).is_err());
        assert!(serde_json::from_str::<BatchAck>(r#"{"heads":{},"new":0,"duplicate":0}"#).is_err());
        assert!(
            serde_json::from_str::<ForcedWipe>(r#"{"reason":"disk died","unforwarded":{},"x":1}"#)
                .is_err()
        );
    }
}
