//! Typed errors for events that cannot be accepted.

use thiserror::Error;

/// Why an event (or its JSON) was rejected. Every variant names what a person or a peer
/// did wrong, so an API can answer with a precise 4xx and a log line can be acted on.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The bytes were not JSON, or the JSON did not have the envelope's shape.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// The envelope declares a format version this build does not understand.
    #[error("unknown event format version {found} (this build speaks {supported})")]
    UnknownVersion {
        /// The version the event declared.
        found: u64,
        /// The version this build speaks.
        supported: u16,
    },
    /// The signature does not match the canonical encoding and the node's key.
    #[error("bad signature on event {node}/{seq}")]
    BadSignature {
        /// Node that the event claims to come from.
        node: String,
        /// Sequence number it claims.
        seq: u64,
    },
    /// The event claims to come from a node whose key is not known here.
    #[error("unknown node {0}: no public key enrolled")]
    UnknownNode(String),
    /// The envelope is well-formed but a payload field is out of range or inconsistent.
    #[error("invalid {field}: {reason}")]
    InvalidPayload {
        /// Field that failed (e.g. `payload.value`).
        field: &'static str,
        /// What is wrong with it, in words a clerk can act on.
        reason: String,
    },
}

impl ProtocolError {
    /// A stable machine-readable code for API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::Malformed(_) => "malformed_event",
            ProtocolError::UnknownVersion { .. } => "unknown_format_version",
            ProtocolError::BadSignature { .. } => "bad_signature",
            ProtocolError::UnknownNode(_) => "unknown_node",
            ProtocolError::InvalidPayload { .. } => "invalid_payload",
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ProtocolError::InvalidPayload {
            field,
            reason: reason.into(),
        }
    }
}
