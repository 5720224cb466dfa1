//! Card taps on the virtual reader: time from "card present" (as PC/SC reports it) to the
//! decoded identity, split into PC/SC round trips (pcscd + vpcd + emulator) and our own
//! processing. Prints a table.
//!
//! Run (as root; needs pcscd and vsmartcard-vpcd):
//! `cargo bench -p checkup-drivers --bench taps -- [TAPS]` (default 1000). Each tap waits
//! for pcscd to notice insertion and removal (it polls vpcd about every 400 ms), so 1,000
//! taps take about 15 minutes of wall time; only the read itself is measured.

use std::ffi::CString;
use std::time::{Duration, Instant};

use checkup_drivers::card::pcsc::PcscTransport;
use checkup_drivers::card::{self, CardError, CardReading, Pin, ReadOptions, Transport};
use checkup_drivers::emulator::vpcd::VirtualCard;
use checkup_drivers::emulator::{EmulatedCard, Faults, Profile};
use checkup_drivers::virtual_reader::VirtualReader;

/// Measures the time spent inside PC/SC calls.
struct Timed<T> {
    inner: T,
    in_pcsc: Duration,
    commands: u32,
}

impl<T: Transport> Transport for Timed<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        let t = Instant::now();
        let r = self.inner.transmit(command);
        self.in_pcsc += t.elapsed();
        self.commands += 1;
        r
    }
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
}

fn wait_state(ctx: &pcsc::Context, name: &CString, present: bool) {
    let mut states = vec![pcsc::ReaderState::new(name.clone(), pcsc::State::UNAWARE)];
    loop {
        let _ = ctx.get_status_change(Duration::from_secs(5), &mut states);
        let s = states[0].event_state();
        if s.contains(pcsc::State::PRESENT) == present && !s.contains(pcsc::State::UNKNOWN) {
            return;
        }
        states[0].sync_current_state();
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn main() {
    let taps: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = VirtualReader::start(dir.path()).expect("virtual reader");
    // SAFETY: set before any PC/SC context exists in this process.
    unsafe { std::env::set_var("PCSCLITE_CSOCK_NAME", reader.socket_path()) };
    let card_slot =
        VirtualCard::start(reader.reader_addr(0), Some(reader.netns_path())).expect("emulator");
    let ctx = pcsc::Context::establish(pcsc::Scope::User).expect("context");
    let name = CString::new("Virtual PCD 00 00").expect("name");
    let profile = Profile::Mynumber {
        name: "佐々木　久美子".into(),
        address: "みどり市東原2丁目14番6号".into(),
        birth_date: "19550630".into(),
        sex: "2".into(),
        pin: "1357".into(),
        tries_left: 3,
        individual_number: "246813579024".into(),
    };
    let options = ReadOptions {
        pin: Some(Pin::parse("1357").expect("pin")),
        confirm_last_try: false,
    };
    let (mut total, mut ours, mut rtt, mut commands) = (Vec::new(), Vec::new(), Vec::new(), 0u32);
    for i in 0..taps {
        card_slot.insert(EmulatedCard::new(profile.clone(), Faults::default()));
        wait_state(&ctx, &name, true);
        let start = Instant::now();
        let mut t = Timed {
            inner: PcscTransport::connect(&ctx, &name).expect("connect"),
            in_pcsc: Duration::ZERO,
            commands: 0,
        };
        let connect = start.elapsed();
        let reading = card::read_card(&mut t, &options).expect("read");
        let elapsed = start.elapsed();
        assert!(matches!(reading, CardReading::Mynumber(_)));
        drop(t.inner);
        total.push(elapsed.as_secs_f64() * 1e3);
        rtt.push((t.in_pcsc + connect).as_secs_f64() * 1e3);
        ours.push((elapsed - t.in_pcsc - connect).as_secs_f64() * 1e3);
        commands = t.commands;
        card_slot.remove();
        wait_state(&ctx, &name, false);
        if (i + 1) % 100 == 0 {
            eprintln!("{} taps", i + 1);
        }
    }
    println!(
        "{taps} taps of a My Number card (PIN + basic four, {commands} APDUs each) on the vpcd virtual reader"
    );
    println!("| part | median ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (label, v) in [
        ("whole read (connect + APDUs + decoding)", &mut total),
        ("PC/SC round trips (connect + transmit)", &mut rtt),
        ("our processing", &mut ours),
    ] {
        let max = v.iter().cloned().fold(0.0, f64::max);
        println!(
            "| {label} | {:.3} | {:.3} | {:.3} |",
            pct(v, 0.5),
            pct(v, 0.99),
            max
        );
    }
    card_slot.stop();
}
