//! The messages between a box and central, as both sides see them: central serialises
//! these types and the box deserialises the same ones, so a field renamed on one side
//! fails to compile on the other instead of reading as a silent default.
//!
//! | route | request | answer |
//! |---|---|---|
//! | `POST /v1/batches` | a JSON array of signed events ([`crate::batch`]) | [`BatchAck`] |
//! | `POST /v1/wipes` | [`ForcedWipe`] | [`WipeRecorded`] |
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
