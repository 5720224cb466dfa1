//! The vpcd socket protocol, emulator side: connect to the virtual reader's port, answer
//! control messages and APDUs, reconnect when pcscd restarts.
//!
//! A message is a 2-byte big-endian length and the payload. A one-byte payload is control:
//! 0 power off, 1 power on, 2 reset (no answer), 4 ATR request (answer the ATR; pcscd also
//! uses it to poll presence). Anything longer is a command APDU to answer. An open
//! connection means "card in the field"; closing it removes the card.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::card::{Answer, EmulatedCard};

/// The emulator's card slot, shared between the thread serving vpcd and whoever inserts
/// and removes cards.
#[derive(Default)]
struct Slot {
    /// The card in the field, if any.
    card: Option<EmulatedCard>,
    /// Bumped on every insert/remove so the serving thread notices.
    generation: u64,
    /// Connections made (each is one tap).
    taps: u64,
}

/// A running emulator bound to one vpcd reader port.
pub struct VirtualCard {
    slot: Arc<(Mutex<Slot>, Condvar)>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

impl VirtualCard {
    /// Start serving `addr` (vpcd's port). With `netns`, the serving thread first enters
    /// that network namespace (a path such as `/run/netns/NAME`).
    pub fn start(addr: SocketAddr, netns: Option<PathBuf>) -> std::io::Result<VirtualCard> {
        let slot = Arc::new((Mutex::new(Slot::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (slot.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("virtual-card".into())
            .spawn(move || {
                if let Some(ns) = netns
                    && let Err(e) = crate::virtual_reader::enter_netns(&ns)
                {
                    tracing::error!(error = %e, netns = %ns.display(), "cannot enter the reader's network namespace");
                    return;
                }
                serve(addr, &s, &st);
            })?;
        Ok(VirtualCard {
            slot,
            stop,
            thread: Some(thread),
        })
    }

    /// Put a card in the reader's field.
    pub fn insert(&self, card: EmulatedCard) {
        let (m, cv) = &*self.slot;
        let mut s = lock(m);
        s.card = Some(card);
        s.generation += 1;
        cv.notify_all();
    }

    /// Take the card out; returns it with its state (PIN counter, command log).
    pub fn remove(&self) -> Option<EmulatedCard> {
        let (m, cv) = &*self.slot;
        let mut s = lock(m);
        s.generation += 1;
        cv.notify_all();
        s.card.take()
    }

    /// A copy of the card in the field.
    pub fn card(&self) -> Option<EmulatedCard> {
        lock(&self.slot.0).card.clone()
    }

    /// Connections made to vpcd so far.
    pub fn taps(&self) -> u64 {
        lock(&self.slot.0).taps
    }

    /// Stop serving and join the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.slot.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn serve(addr: SocketAddr, slot: &(Mutex<Slot>, Condvar), stop: &AtomicBool) {
    let (m, cv) = slot;
    while !stop.load(Ordering::SeqCst) {
        // Wait for a card.
        let generation = {
            let mut s = lock(m);
            while s.card.is_none() && !stop.load(Ordering::SeqCst) {
                s = cv
                    .wait_timeout(s, Duration::from_millis(200))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            s.generation
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Connect; pcscd may not be up yet, or restarting.
        let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
        lock(m).taps += 1;
        tracing::debug!(%addr, "card in the field");
        let ended = session(&mut stream, slot, stop, generation);
        let _ = stream.shutdown(std::net::Shutdown::Both);
        tracing::debug!(?ended, "card out of the field");
        if ended == Ended::Removed {
            let mut s = lock(m);
            if s.generation == generation {
                s.card = None;
            }
        } else if ended == Ended::Disconnected {
            // pcscd went away: try again shortly with the same card.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Acknowledge received data at once. Debian's vpcd writes a message's length and body in
/// two `send` calls on a socket with Nagle's algorithm on, so the body waits for the ACK of
/// the length; with the kernel's delayed ACK that costs ~40 ms per APDU (measured: 44 ms).
/// Linux clears the flag after use, so it is set before every read.
fn quickack(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: setsockopt on our own socket with a pointer to a live c_int of the right size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The card removed itself (fault injection).
    Removed,
    /// Someone inserted another card or removed this one.
    Replaced,
    /// vpcd closed the connection.
    Disconnected,
    /// Shutting down.
    Stopped,
}

/// Read exactly `buf.len()` bytes, giving up when the card is replaced or the emulator
/// stops. `Ok(false)`: the peer closed.
fn read_full(
    stream: &mut TcpStream,
    buf: &mut [u8],
    slot: &(Mutex<Slot>, Condvar),
    stop: &AtomicBool,
    generation: u64,
) -> Result<bool, Ended> {
    let mut got = 0;
    while got < buf.len() {
        quickack(stream);
        if stop.load(Ordering::SeqCst) {
            return Err(Ended::Stopped);
        }
        if lock(&slot.0).generation != generation {
            return Err(Ended::Replaced);
        }
        match stream.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return Ok(false),
        }
    }
    Ok(true)
}

fn session(
    stream: &mut TcpStream,
    slot: &(Mutex<Slot>, Condvar),
    stop: &AtomicBool,
    generation: u64,
) -> Ended {
    let send = |stream: &mut TcpStream, payload: &[u8]| -> bool {
        let mut msg = Vec::with_capacity(payload.len() + 2);
        msg.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        msg.extend_from_slice(payload);
        stream.write_all(&msg).is_ok()
    };
    loop {
        let mut len = [0u8; 2];
        match read_full(stream, &mut len, slot, stop, generation) {
            Ok(true) => {}
            Ok(false) => return Ended::Disconnected,
            Err(e) => return e,
        }
        let n = usize::from(u16::from_be_bytes(len));
        let mut msg = vec![0u8; n];
        match read_full(stream, &mut msg, slot, stop, generation) {
            Ok(true) => {}
            Ok(false) => return Ended::Disconnected,
            Err(e) => return e,
        }
        let (delay, reply) = {
            let mut s = lock(&slot.0);
            let Some(card) = s.card.as_mut() else {
                return Ended::Replaced;
            };
            let delay = card.faults.delay_ms;
            let reply = match msg.as_slice() {
                [4] => Some(Answer::Respond(card.atr().to_vec())),
                [0] | [1] | [2] => {
                    card.reset();
                    None
                }
                [_] => None,
                apdu => Some(card.answer(apdu)),
            };
            (delay, reply)
        };
        if delay > 0 && n > 1 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        match reply {
            None => {}
            Some(Answer::Respond(bytes)) if !send(stream, &bytes) => return Ended::Disconnected,
            Some(Answer::Respond(_)) => {}
            Some(Answer::Remove) => return Ended::Removed,
        }
    }
}
