//! The language every Checkup Edge component speaks: domain types and the signed event
//! wire format.
//!
//! Edge boxes record every fact as an immutable [`Event`]; venue replication and the
//! forwarder to central move these events unchanged, and central ingests them. Keeping the
//! envelope, the canonical encoding that is signed, and the validation rules in one small
//! crate means edge and central cannot disagree about what a valid event is.
//!
//! # Layout
//!
//! - [`batch`]: the one receiver of batches of signed events (central's ingest, venue
//!   replication, an admin's import): limits, validation, venue rule, batch signatures.
//! - [`central`]: the messages between a box and central (acknowledgements, forced wipes).
//! - [`event`]: the envelope ([`Event`]), its kinds and payloads ([`EventBody`]), parsing
//!   and validation of untrusted JSON.
//! - [`signing`]: node keys, the canonical byte encoding and ed25519 signatures.
//! - [`hlc`]: the hybrid logical clock that orders events across boxes.
//! - [`insurer`]: the insurer identity of an insured resident (保険者番号 with its 検証番号,
//!   被保険者証の記号・番号・枝番, 受診券) and its formats.
//! - [`items`]: the 特定健診 checkup item codes, units, hard and soft limits, and the
//!   stations that measure them.
//! - [`questionnaire`]: the 標準的な質問票's 22 items, answer code sets and their texts in
//!   each language offered to residents.
//! - [`paper`]: a page of the paper questionnaire as read by a box (what it answered, what
//!   went to the nurse for review).
//! - [`roles`]: staff roles and what each may record.
//! - [`error`]: the typed errors returned for anything that does not validate.
//!
//! # Example
//!
//! ```
//! use checkup_protocol::{Actor, EventBody, Event, Hlc, NodeKey, Role, SessionClosed};
//! use uuid::Uuid;
//!
//! let key = NodeKey::generate();
//! let body = EventBody::SessionClosed(SessionClosed { session_id: Uuid::now_v7(), reason: None });
//! let actor = Actor { staff_id: "R001".into(), role: Role::Reception };
//! let event = Event::seal(Uuid::now_v7(), "venue-1", "edge-01", 1, Hlc { ms: 1, c: 0 }, actor, body, &key);
//! let wire = event.to_json();
//! let back = Event::from_json(wire.as_bytes()).expect("valid");
//! back.verify(&key.verifying_key()).expect("signed by the node");
//! assert_eq!(back, event);
//! ```
#![deny(missing_docs)]

pub mod batch;
pub mod central;
pub mod error;
pub mod event;
pub mod hlc;
pub mod insurer;
pub mod items;
pub mod notice;
pub mod paper;
pub mod questionnaire;
pub mod roles;
pub mod signing;

pub use batch::{
    Accepted, BatchError, BatchRules, Refusal, VenueRule, VenueScope, receive_batch, receive_events,
};
pub use error::ProtocolError;
pub use event::{
    Actor, CardRef, Event, EventBody, EventKind, FORMAT_VERSION, MeasuredValue,
    MeasurementCorrected, MeasurementRecorded, Received, RecordViewed, SessionClosed,
    SessionOpened, StationVisited,
};
pub use hlc::{Hlc, HlcClock};
pub use insurer::{InsurerError, InsurerField, InsurerIdentity};
pub use items::{Item, ItemValueKind, StationKind};
pub use notice::{
    CasePhotoAdded, CaseViewed, NoticeField, NoticeIntakeSaved, NoticeSource, PhotoLocation,
};
pub use paper::{PaperMark, PaperReviewItem, QuestionnairePaperRead};
pub use questionnaire::{Answered, Channel, Lang};
pub use roles::{Rank, Role};
pub use signing::{Keyring, NodeKey, PublicKey};
