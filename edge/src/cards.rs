//! The box's card readers: the reader watcher's events for the reception page (live, over
//! server-sent events), reading a tapped card on request, and — in the demo — the virtual
//! card that the demo page can "tap".
//!
//! The resident types the PIN on the reception tablet; it travels in one request to this
//! box, goes to the card in one VERIFY command, and is neither logged nor stored.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkup_drivers::card::watcher::{ReaderEvent, Watcher};
use checkup_drivers::card::{self, CardError, CardReading, ReadOptions};
use checkup_drivers::emulator::vpcd::VirtualCard;
use serde::Serialize;
use tokio::sync::broadcast;

/// A reader event as the reception page receives it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CardEvent {
    /// A reader appeared.
    ReaderAdded {
        /// Reader name.
        reader: String,
    },
    /// A reader went away.
    ReaderRemoved {
        /// Reader name.
        reader: String,
    },
    /// A card was tapped.
    CardPresent {
        /// Reader name.
        reader: String,
        /// What the ATR suggests: `contactless` or `ic` (a My Number card or another
        /// contact card; reading tells which).
        hint: &'static str,
    },
    /// The card left.
    CardRemoved {
        /// Reader name.
        reader: String,
    },
}

/// State of one reader.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ReaderState {
    /// Name.
    pub name: String,
    /// A card is in the field.
    pub card_present: bool,
    /// The ATR hint of the card in the field.
    pub hint: Option<&'static str>,
}

/// The card readers of this box.
pub struct Cards {
    events: broadcast::Sender<CardEvent>,
    readers: Arc<Mutex<BTreeMap<String, ReaderState>>>,
    _watcher: Option<Watcher>,
    /// The demo's emulated card slot.
    virtual_card: Option<VirtualCard>,
}

fn hint(atr: &[u8]) -> &'static str {
    if atr.starts_with(&[0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F]) {
        "contactless"
    } else {
        "ic"
    }
}

impl Cards {
    /// No readers (card reading disabled).
    pub fn disabled() -> Cards {
        let (events, _) = broadcast::channel(64);
        Cards {
            events,
            readers: Arc::default(),
            _watcher: None,
            virtual_card: None,
        }
    }

    /// Watch the PC/SC readers (blocking watcher thread, events forwarded to subscribers).
    /// Must be called inside a Tokio runtime.
    pub fn watch(virtual_card: Option<VirtualCard>) -> std::io::Result<Cards> {
        let (events, _) = broadcast::channel(256);
        let readers: Arc<Mutex<BTreeMap<String, ReaderState>>> = Arc::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let watcher = Watcher::spawn(tx)?;
        let (ev, rd) = (events.clone(), readers.clone());
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                let out = {
                    let mut r = rd.lock().unwrap_or_else(|p| p.into_inner());
                    match e {
                        ReaderEvent::ReaderAdded(name) => {
                            r.insert(
                                name.clone(),
                                ReaderState {
                                    name: name.clone(),
                                    card_present: false,
                                    hint: None,
                                },
                            );
                            CardEvent::ReaderAdded { reader: name }
                        }
                        ReaderEvent::ReaderRemoved(name) => {
                            r.remove(&name);
                            CardEvent::ReaderRemoved { reader: name }
                        }
                        ReaderEvent::CardPresent { reader, atr } => {
                            let h = hint(&atr);
                            if let Some(s) = r.get_mut(&reader) {
                                s.card_present = true;
                                s.hint = Some(h);
                            }
                            tracing::info!(reader = %reader, kind = h, "card tapped");
                            CardEvent::CardPresent { reader, hint: h }
                        }
                        ReaderEvent::CardRemoved { reader } => {
                            if let Some(s) = r.get_mut(&reader) {
                                s.card_present = false;
                                s.hint = None;
                            }
                            CardEvent::CardRemoved { reader }
                        }
                    }
                };
                let _ = ev.send(out);
            }
        });
        Ok(Cards {
            events,
            readers,
            _watcher: Some(watcher),
            virtual_card,
        })
    }

    /// Live events.
    pub fn subscribe(&self) -> broadcast::Receiver<CardEvent> {
        self.events.subscribe()
    }

    /// Current reader states.
    pub fn readers(&self) -> Vec<ReaderState> {
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Read the card in `reader` (or any reader holding a card) now.
    pub async fn read(
        &self,
        reader: Option<String>,
        options: ReadOptions,
    ) -> Result<CardReading, CardError> {
        tokio::task::spawn_blocking(move || {
            let ctx = card::pcsc::context()?;
            card::pcsc::read(
                &ctx,
                reader.as_deref(),
                Duration::from_millis(500),
                &options,
            )
        })
        .await
        .map_err(|e| CardError::Pcsc(format!("reader task failed: {e}")))?
    }

    /// The demo's virtual card slot, if this box has one.
    pub fn virtual_card(&self) -> Option<&VirtualCard> {
        self.virtual_card.as_ref()
    }
}
