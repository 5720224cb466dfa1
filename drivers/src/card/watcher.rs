//! The reader watcher: a thread blocked in `SCardGetStatusChange` (no polling loop) that
//! reports readers coming and going (PnP notification) and cards entering and leaving
//! their field, into the async world through a channel.
//!
//! It survives pcscd restarting: when the service goes away it reports every reader as
//! removed, waits for the service with a growing back-off, and carries on. Dropping the
//! [`Watcher`] cancels the blocked call and joins the thread.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

/// What happened at the readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader appeared.
    ReaderAdded(String),
    /// A reader went away (unplugged, or the PC/SC service stopped).
    ReaderRemoved(String),
    /// A card entered a reader's field.
    CardPresent {
        /// Reader.
        reader: String,
        /// The card's ATR.
        atr: Vec<u8>,
    },
    /// The card left the field.
    CardRemoved {
        /// Reader.
        reader: String,
    },
}

/// The running watcher.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    ctx: Arc<Mutex<Option<pcsc::Context>>>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Start watching; events go to `tx`.
    pub fn spawn(tx: UnboundedSender<ReaderEvent>) -> std::io::Result<Watcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let ctx: Arc<Mutex<Option<pcsc::Context>>> = Arc::default();
        let (s, c) = (stop.clone(), ctx.clone());
        let thread = std::thread::Builder::new()
            .name("card-watcher".into())
            .spawn(move || run(&tx, &s, &c))?;
        Ok(Watcher {
            stop,
            ctx,
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(g) = self.ctx.lock()
            && let Some(c) = g.as_ref()
        {
            let _ = c.cancel();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    tx: &UnboundedSender<ReaderEvent>,
    stop: &AtomicBool,
    shared: &Mutex<Option<pcsc::Context>>,
) {
    let mut backoff = Duration::from_millis(50);
    // Said once per outage, not on every retry: no card reader can work until it returns.
    let mut said_unavailable = false;
    while !stop.load(Ordering::SeqCst) {
        let ctx = match pcsc::Context::establish(pcsc::Scope::User) {
            Ok(c) => c,
            Err(e) => {
                if said_unavailable {
                    tracing::debug!(error = %e, "PC/SC service not available; waiting");
                } else {
                    tracing::warn!(error = %e, "PC/SC service (pcscd) not available: no card reader can be used until it runs; waiting for it");
                    said_unavailable = true;
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        if said_unavailable {
            tracing::info!("PC/SC service (pcscd) available: watching the card readers");
            said_unavailable = false;
        }
        backoff = Duration::from_millis(50);
        if let Ok(mut g) = shared.lock() {
            *g = Some(ctx.clone());
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let ended = watch(&ctx, tx, stop);
        if let Ok(mut g) = shared.lock() {
            *g = None;
        }
        if tx.is_closed() {
            break;
        }
        if let Err(e) = ended {
            tracing::warn!(error = %e, "PC/SC service lost; waiting for it to return");
            std::thread::sleep(backoff);
        }
    }
}

/// Watch until cancelled or the service fails.
fn watch(
    ctx: &pcsc::Context,
    tx: &UnboundedSender<ReaderEvent>,
    stop: &AtomicBool,
) -> Result<(), pcsc::Error> {
    // Reader states, index 0 the PnP pseudo-reader.
    let mut states = vec![pcsc::ReaderState::new(
        pcsc::PNP_NOTIFICATION(),
        pcsc::State::UNAWARE,
    )];
    let mut present: std::collections::HashMap<String, bool> = Default::default();
    let emit = |e: ReaderEvent| {
        let _ = tx.send(e);
    };
    let result = loop {
        // Bring the reader list up to date.
        let names: Vec<CString> = match ctx.list_readers_owned() {
            Ok(n) => n,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => break Err(e),
        };
        states.retain(|s| {
            let keep = s.name() == pcsc::PNP_NOTIFICATION()
                || names.iter().any(|n| n.as_c_str() == s.name());
            if !keep {
                let name = s.name().to_string_lossy().into_owned();
                if present.remove(&name) == Some(true) {
                    emit(ReaderEvent::CardRemoved {
                        reader: name.clone(),
                    });
                }
                emit(ReaderEvent::ReaderRemoved(name));
            }
            keep
        });
        for n in &names {
            if !states.iter().any(|s| s.name() == n.as_c_str()) {
                emit(ReaderEvent::ReaderAdded(n.to_string_lossy().into_owned()));
                present.insert(n.to_string_lossy().into_owned(), false);
                states.push(pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE));
            }
        }
        match ctx.get_status_change(None, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Cancelled) if stop.load(Ordering::SeqCst) => break Ok(()),
            Err(pcsc::Error::Cancelled) | Err(pcsc::Error::Timeout) => continue,
            Err(e) => break Err(e),
        }
        for s in states.iter_mut().skip(1) {
            let state = s.event_state();
            if !state.contains(pcsc::State::CHANGED) {
                continue;
            }
            let name = s.name().to_string_lossy().into_owned();
            let now = state.contains(pcsc::State::PRESENT) && !state.contains(pcsc::State::MUTE);
            let before = present.get(&name).copied().unwrap_or(false);
            if now && !before {
                emit(ReaderEvent::CardPresent {
                    reader: name.clone(),
                    atr: s.atr().to_vec(),
                });
            } else if !now && before {
                emit(ReaderEvent::CardRemoved {
                    reader: name.clone(),
                });
            }
            present.insert(name, now);
        }
        for s in states.iter_mut() {
            s.sync_current_state();
        }
        if stop.load(Ordering::SeqCst) {
            break Ok(());
        }
    };
    // The service is gone (or we stop): every reader is gone with it.
    for s in states.iter().skip(1) {
        let name = s.name().to_string_lossy().into_owned();
        if present.get(&name).copied().unwrap_or(false) {
            emit(ReaderEvent::CardRemoved {
                reader: name.clone(),
            });
        }
        if result.is_err() {
            emit(ReaderEvent::ReaderRemoved(name));
        }
    }
    result
}
