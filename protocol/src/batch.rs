//! The one receiver for batches of signed events, wherever they arrive: central's
//! `POST /v1/batches` from boxes, a box's MQTT replication topics, and a box's
//! `POST /api/replicate`.
//!
//! A batch is a JSON array of signed events. [`receive_batch`] accepts it whole or refuses
//! it at the first offending event, in this order:
//!
//! 1. size: the body is at most [`BatchRules::max_bytes`];
//! 2. shape: a JSON array, of at most [`BatchRules::max_events`] items;
//! 3. each event in turn: envelope and format version, payload rules ([`Event::receive`]),
//!    the venue rule ([`VenueRule`]), the training rule (training events only into a
//!    training box, real ones only into a real receiver: [`BatchRules::training`]) and,
//!    on a node's own topic, the node ([`BatchRules::node`]);
//! 4. signatures last, all at once (ed25519 batch verification, [`Received::verify_all`]),
//!    each against the enrolled key of its event's node, over the event's JSON *as
//!    received* — which is what [`Accepted::json`] keeps for storage.
//!
//! Every refusal is a [`BatchError`] naming the offending event's index where there is
//! one, with a stable [`code`](BatchError::code), the HTTP status it is answered with
//! ([`status`](BatchError::status)) and the class a replication link counts it under
//! ([`refusal`](BatchError::refusal)).
//!
//! Whether a `(node, seq)` is already held as another event is not a property of the batch
//! alone: the store that holds the events decides it.

use serde_json::value::RawValue;

use crate::error::ProtocolError;
use crate::event::{Event, Received};
use crate::signing::Keyring;

/// Where the events of a batch may belong.
#[derive(Debug, Clone, Copy)]
pub enum VenueRule<'a> {
    /// This venue only: a box receiving from its peers (or an admin's import).
    Only(&'a str),
    /// Any venue of the sending box's municipality: central receiving from a box.
    Municipality(&'a [String]),
}

impl VenueRule<'_> {
    fn admits(&self, venue: &str) -> bool {
        match self {
            VenueRule::Only(v) => *v == venue,
            VenueRule::Municipality(vs) => vs.iter().any(|v| v == venue),
        }
    }

    fn scope(&self) -> VenueScope {
        match self {
            VenueRule::Only(_) => VenueScope::Venue,
            VenueRule::Municipality(_) => VenueScope::Municipality,
        }
    }
}

/// The rule a foreign event broke; it decides the error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueScope {
    /// Not this venue's (`wrong_venue`).
    Venue,
    /// Not a venue of the box's municipality (`foreign_municipality`).
    Municipality,
}

/// What a receiver accepts.
#[derive(Debug, Clone, Copy)]
pub struct BatchRules<'a> {
    /// Where the events may belong.
    pub venue: VenueRule<'a>,
    /// On a node's own topic, the node every event must be of (a node may not publish
    /// another node's events there).
    pub node: Option<&'a str>,
    /// Largest body, in bytes.
    pub max_bytes: usize,
    /// Most events in one batch.
    pub max_events: usize,
    /// The receiver is a training box (`checkup-edge training`): it accepts training events
    /// only. Every other receiver (central, a real box) accepts real events only, so a
    /// rehearsal is never mixed into a real day.
    pub training: bool,
}

impl<'a> BatchRules<'a> {
    /// Events of `venue`'s rule, in a body of at most `max_bytes`, of any node, in any
    /// number (the byte limit bounds it).
    pub fn new(venue: VenueRule<'a>, max_bytes: usize) -> Self {
        BatchRules {
            venue,
            node: None,
            max_bytes,
            max_events: usize::MAX,
            training: false,
        }
    }

    /// Receive as a training box (`true`: training events only) or a real receiver.
    pub fn training(self, training: bool) -> Self {
        BatchRules { training, ..self }
    }

    /// At most `n` events.
    pub fn max_events(self, n: usize) -> Self {
        BatchRules {
            max_events: n,
            ..self
        }
    }

    /// Every event must be `node`'s.
    pub fn only_node(self, node: &'a str) -> Self {
        BatchRules {
            node: Some(node),
            ..self
        }
    }
}

/// An accepted event and its JSON exactly as received (what its signature covers).
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The parsed, validated and verified event.
    pub event: Event,
    /// The event's JSON as it arrived.
    pub json: String,
}

/// How a refused batch is counted on a replication link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too large, not JSON, not an array, a malformed event or an unknown format version.
    Malformed,
    /// An event of another venue (or municipality).
    Foreign,
    /// A bad signature, or a node without an enrolled key.
    Unauthenticated,
    /// On a node's own topic, an event of another node.
    Impersonation,
}

/// Why a batch was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum BatchError {
    /// The body is larger than allowed.
    #[error("batch of {size} bytes is over the limit of {limit}")]
    TooManyBytes {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More events than allowed.
    #[error("batch of {count} events is over the limit of {limit}")]
    TooManyEvents {
        /// Events in the batch.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a JSON array.
    #[error("batch is not a JSON array of events: {0}")]
    Malformed(String),
    /// Event `index` failed validation or verification.
    #[error("event {index}: {error}")]
    Event {
        /// Position in the batch.
        index: usize,
        /// What is wrong.
        error: ProtocolError,
    },
    /// Event `index` belongs to a venue the rule does not admit.
    #[error("event {index}: venue {venue:?} is not {}", match scope {
        VenueScope::Venue => "this venue",
        VenueScope::Municipality => "served here",
    })]
    ForeignVenue {
        /// Position in the batch.
        index: usize,
        /// Its venue.
        venue: String,
        /// The rule it broke.
        scope: VenueScope,
    },
    /// Event `index` is a training event sent to a real receiver (`training: true`), or a
    /// real event sent to a training box (`training: false`).
    #[error("event {index}: {}", if *training {
        "a training event (練習モード) is never accepted with real data"
    } else {
        "a real event is never accepted by a training box (練習モード)"
    })]
    TrainingMismatch {
        /// Position in the batch.
        index: usize,
        /// Whether the event is a training event.
        training: bool,
    },
    /// Event `index`, on node `expected`'s own topic, is of another node.
    #[error("event {index}: node {expected} published an event of node {found}")]
    NodeMismatch {
        /// Position in the batch.
        index: usize,
        /// The node whose topic it came on.
        expected: String,
        /// The node the event claims.
        found: String,
    },
}

impl BatchError {
    /// A stable machine-readable code for answers, logs and refusal counts.
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::TooManyBytes { .. } | BatchError::TooManyEvents { .. } => "batch_too_large",
            BatchError::Malformed(_) => "malformed_batch",
            BatchError::Event { error, .. } => error.code(),
            BatchError::ForeignVenue {
                scope: VenueScope::Venue,
                ..
            } => "wrong_venue",
            BatchError::ForeignVenue {
                scope: VenueScope::Municipality,
                ..
            } => "foreign_municipality",
            BatchError::NodeMismatch { .. } => "node_mismatch",
            BatchError::TrainingMismatch { training: true, .. } => "training_event",
            BatchError::TrainingMismatch {
                training: false, ..
            } => "real_event_in_training",
        }
    }

    /// The HTTP status it is answered with: 413 too large, 400 not a JSON array, 422 an
    /// event that is not acceptable.
    pub fn status(&self) -> u16 {
        match self {
            BatchError::TooManyBytes { .. } | BatchError::TooManyEvents { .. } => 413,
            BatchError::Malformed(_) => 400,
            BatchError::Event { .. }
            | BatchError::ForeignVenue { .. }
            | BatchError::TrainingMismatch { .. }
            | BatchError::NodeMismatch { .. } => 422,
        }
    }

    /// The offending event's position, for refusals of one event.
    pub fn index(&self) -> Option<usize> {
        match self {
            BatchError::Event { index, .. }
            | BatchError::ForeignVenue { index, .. }
            | BatchError::TrainingMismatch { index, .. }
            | BatchError::NodeMismatch { index, .. } => Some(*index),
            BatchError::TooManyBytes { .. }
            | BatchError::TooManyEvents { .. }
            | BatchError::Malformed(_) => None,
        }
    }

    /// The class a replication link counts it under.
    pub fn refusal(&self) -> Refusal {
        match self {
            BatchError::ForeignVenue { .. } | BatchError::TrainingMismatch { .. } => {
                Refusal::Foreign
            }
            BatchError::NodeMismatch { .. } => Refusal::Impersonation,
            BatchError::Event {
                error: ProtocolError::BadSignature { .. } | ProtocolError::UnknownNode(_),
                ..
            } => Refusal::Unauthenticated,
            BatchError::Event { .. }
            | BatchError::TooManyBytes { .. }
            | BatchError::TooManyEvents { .. }
            | BatchError::Malformed(_) => Refusal::Malformed,
        }
    }
}

/// Receive a batch: accepted whole (every event, with its JSON as received, in batch
/// order) or refused at the first offending event. See the module documentation.
pub fn receive_batch(
    bytes: &[u8],
    keys: &impl Keyring,
    rules: &BatchRules<'_>,
) -> Result<Vec<Accepted>, BatchError> {
    if bytes.len() > rules.max_bytes {
        return Err(BatchError::TooManyBytes {
            size: bytes.len(),
            limit: rules.max_bytes,
        });
    }
    // Each event is kept as its raw text and parsed once: the signature is checked over
    // that text and the text is what a receiver stores.
    let items: Vec<&RawValue> = serde_json::from_slice(bytes).map_err(|e| {
        BatchError::Malformed(if e.is_data() {
            "expected an array of events".into()
        } else {
            e.to_string()
        })
    })?;
    if items.len() > rules.max_events {
        return Err(BatchError::TooManyEvents {
            count: items.len(),
            limit: rules.max_events,
        });
    }
    let mut received = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let r = Event::receive(item.get()).map_err(|error| BatchError::Event { index, error })?;
        let e = &r.event;
        if !rules.venue.admits(&e.venue) {
            return Err(BatchError::ForeignVenue {
                index,
                venue: e.venue.clone(),
                scope: rules.venue.scope(),
            });
        }
        if e.training != rules.training {
            return Err(BatchError::TrainingMismatch {
                index,
                training: e.training,
            });
        }
        if let Some(node) = rules.node
            && e.node != node
        {
            return Err(BatchError::NodeMismatch {
                index,
                expected: node.to_owned(),
                found: e.node.clone(),
            });
        }
        received.push(r);
    }
    Received::verify_all(&received, keys)
        .map_err(|(index, error)| BatchError::Event { index, error })?;
    Ok(received
        .into_iter()
        .zip(items)
        .map(|(r, raw)| Accepted {
            event: r.event,
            json: raw.get().to_owned(),
        })
        .collect())
}

/// [`receive_batch`], keeping only the events.
pub fn receive_events(
    bytes: &[u8],
    keys: &impl Keyring,
    rules: &BatchRules<'_>,
) -> Result<Vec<Event>, BatchError> {
    Ok(receive_batch(bytes, keys, rules)?
        .into_iter()
        .map(|a| a.event)
        .collect())
}
