//! The PC/SC side: readers, connecting to a tapped card, and the [`Transport`] over a
//! `pcsc::Card`. Errors from the PC/SC service are mapped to what a person caused.

use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::CardError;
use super::{CardReading, ReadOptions, Transport};

/// Map a PC/SC error to the person-level cause.
pub fn map_error(e: pcsc::Error) -> CardError {
    use pcsc::Error as E;
    match e {
        E::RemovedCard | E::ResetCard | E::NoSmartcard | E::UnpoweredCard => CardError::CardRemoved,
        E::ReaderUnavailable | E::UnknownReader => CardError::ReaderUnplugged,
        E::NoReadersAvailable | E::NoService | E::ServiceStopped => CardError::NoReader,
        E::SharingViolation => CardError::ReaderBusy,
        E::Timeout => CardError::Timeout,
        E::UnresponsiveCard | E::UnsupportedCard | E::ProtoMismatch => CardError::UnknownCard,
        other => CardError::Pcsc(other.to_string()),
    }
}

/// A connected card.
pub struct PcscTransport {
    card: pcsc::Card,
    atr: Vec<u8>,
    buf: Vec<u8>,
    /// For telling a vanished card from a mute one.
    ctx: pcsc::Context,
    reader: CString,
}

/// How long to wait for the reader to confirm a removal after an empty answer.
const REMOVAL_GRACE: Duration = Duration::from_millis(1500);

impl PcscTransport {
    /// Connect to the card in `reader` (shared, T=0 or T=1).
    pub fn connect(ctx: &pcsc::Context, reader: &CStr) -> Result<PcscTransport, CardError> {
        let card = ctx
            .connect(reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .map_err(map_error)?;
        let atr = card.status2_owned().map_err(map_error)?.atr().to_vec();
        Ok(PcscTransport {
            card,
            atr,
            buf: vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED],
            ctx: ctx.clone(),
            reader: reader.to_owned(),
        })
    }

    /// No usable answer: either the card left the field mid-command (vpcd reports that as
    /// success with no bytes, or as a failed transaction) or it is mute. Ask the reader.
    fn empty_answer(&self) -> CardError {
        let mut states = vec![pcsc::ReaderState::new(
            self.reader.clone(),
            pcsc::State::PRESENT,
        )];
        let deadline = Instant::now() + REMOVAL_GRACE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return CardError::MalformedCardData("the card did not answer".into());
            }
            match self.ctx.get_status_change(left, &mut states) {
                Ok(()) => {
                    let s = states[0].event_state();
                    if s.contains(pcsc::State::EMPTY) || !s.contains(pcsc::State::PRESENT) {
                        return CardError::CardRemoved;
                    }
                    states[0].sync_current_state();
                }
                Err(pcsc::Error::Timeout) => {
                    return CardError::MalformedCardData("the card did not answer".into());
                }
                Err(e) => return map_error(e),
            }
        }
    }
}

impl Transport for PcscTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        let answer = match self.card.transmit(command, &mut self.buf) {
            Ok(a) => a.to_vec(),
            // The driver lost the card mid-command (vpcd reports a vanished emulator so).
            Err(pcsc::Error::NotTransacted) | Err(pcsc::Error::CommError) => {
                return Err(self.empty_answer());
            }
            Err(e) => return Err(map_error(e)),
        };
        if answer.is_empty() {
            return Err(self.empty_answer());
        }
        Ok(answer)
    }

    fn atr(&self) -> &[u8] {
        &self.atr
    }
}

/// A reader and what is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderInfo {
    /// Reader name as PC/SC reports it.
    pub name: String,
    /// A card is in the field.
    pub card_present: bool,
    /// The card's ATR, lowercase hex (empty without a card).
    pub atr: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Open a PC/SC context (fails with `Pcsc` when the service is not running).
pub fn context() -> Result<pcsc::Context, CardError> {
    pcsc::Context::establish(pcsc::Scope::User).map_err(map_error)
}

/// Every reader and its state.
pub fn list_readers(ctx: &pcsc::Context) -> Result<Vec<ReaderInfo>, CardError> {
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(map_error(e)),
    };
    let mut states: Vec<pcsc::ReaderState> = names
        .iter()
        .map(|n| pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE))
        .collect();
    ctx.get_status_change(Duration::ZERO, &mut states)
        .map_err(map_error)?;
    Ok(states
        .iter()
        .map(|s| {
            let present = s.event_state().contains(pcsc::State::PRESENT);
            ReaderInfo {
                name: s.name().to_string_lossy().into_owned(),
                card_present: present,
                atr: if present { hex(s.atr()) } else { String::new() },
            }
        })
        .collect())
}

/// Wait (blocking on the PC/SC service, not polling) until a card is present in `reader`
/// (or in any reader when `None`); return that reader's name.
pub fn wait_for_card(
    ctx: &pcsc::Context,
    reader: Option<&str>,
    timeout: Duration,
) -> Result<CString, CardError> {
    let deadline = Instant::now() + timeout;
    let mut states: Vec<pcsc::ReaderState> = Vec::new();
    loop {
        let names: Vec<CString> = match ctx.list_readers_owned() {
            Ok(n) => n,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(map_error(e)),
        };
        let wanted: Vec<CString> = names
            .into_iter()
            .filter(|n| reader.is_none_or(|r| n.to_bytes() == r.as_bytes()))
            .collect();
        if wanted.is_empty() && reader.is_some() && states.is_empty() {
            return Err(CardError::NoReader);
        }
        // Keep what we already know about each reader, so only changes wake us.
        let mut next: Vec<pcsc::ReaderState> = vec![pcsc::ReaderState::new(
            pcsc::PNP_NOTIFICATION(),
            pcsc::State::UNAWARE,
        )];
        for n in &wanted {
            let known = states
                .iter()
                .find(|s| s.name() == n.as_c_str())
                .map(|s| s.event_state());
            next.push(pcsc::ReaderState::new(
                n.clone(),
                known.unwrap_or(pcsc::State::UNAWARE),
            ));
        }
        if let Some(pnp) = states.first() {
            next[0] = pcsc::ReaderState::new(pcsc::PNP_NOTIFICATION(), pnp.event_state());
        }
        states = next;
        for s in states.iter().skip(1) {
            let st = s.current_state();
            if !st.contains(pcsc::State::PRESENT) || st.contains(pcsc::State::MUTE) {
                continue;
            }
            if !st.contains(pcsc::State::EXCLUSIVE) {
                return Ok(s.name().to_owned());
            }
            if reader.is_some() {
                // The one reader asked for is held exclusively by another program.
                return Err(CardError::ReaderBusy);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CardError::Timeout);
        }
        match ctx.get_status_change(left, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) => return Err(CardError::Timeout),
            Err(e) => return Err(map_error(e)),
        }
        for s in states.iter_mut() {
            s.sync_current_state();
        }
    }
}

/// Wait for a card on `reader` (any reader when `None`), connect, recognise and read it.
pub fn read(
    ctx: &pcsc::Context,
    reader: Option<&str>,
    wait: Duration,
    options: &ReadOptions,
) -> Result<CardReading, CardError> {
    let name = wait_for_card(ctx, reader, wait)?;
    let mut t = PcscTransport::connect(ctx, &name)?;
    super::read_card(&mut t, options)
}
