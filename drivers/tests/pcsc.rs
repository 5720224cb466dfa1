//! The card reader on the real PC/SC stack: a private pcscd with Debian's vpcd driver in a
//! loopback-only network namespace, and our emulator as the card. No mock of PC/SC.
//!
//! The tests share one pcscd (libpcsclite picks its socket once per process) and run one at
//! a time behind a lock.

use std::ffi::CString;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use checkup_drivers::card::pcsc as reader;
use checkup_drivers::card::watcher::{ReaderEvent, Watcher};
use checkup_drivers::card::{CardError, CardReading, Pin, ReadOptions};
use checkup_drivers::emulator::vpcd::VirtualCard;
use checkup_drivers::emulator::{EmulatedCard, Faults, Profile};
use checkup_drivers::virtual_reader::VirtualReader;

const READER0: &str = "Virtual PCD 00 00";

static PCSCD: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static NETNS: OnceLock<String> = OnceLock::new();

extern "C" fn cleanup() {
    let pid = PCSCD.load(std::sync::atomic::Ordering::SeqCst);
    if pid != 0 {
        // SAFETY: kill(2) on the pcscd this process started.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
    if let Some(ns) = NETNS.get() {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", ns])
            .status();
    }
}

struct Env {
    reader: VirtualReader,
    card: VirtualCard,
    _dir: tempfile::TempDir,
}

fn env() -> MutexGuard<'static, Env> {
    static ENV: OnceLock<Mutex<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader = VirtualReader::start(dir.path()).unwrap_or_else(|e| {
            panic!("cannot start the virtual reader (needs root, pcscd and vsmartcard-vpcd; `make test` installs them): {e}")
        });
        // The shared reader lives in a static that is never dropped: stop its pcscd and
        // remove its namespace when the test binary exits.
        NETNS.get_or_init(|| reader.netns_name().to_owned());
        PCSCD.store(reader.pcscd_pid().unwrap_or(0), std::sync::atomic::Ordering::SeqCst);
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe { libc::atexit(cleanup) };
        // SAFETY: set once, before this process opens any PC/SC context; libpcsclite reads
        // it when the first context is established.
        unsafe { std::env::set_var("PCSCLITE_CSOCK_NAME", reader.socket_path()) };
        let card = VirtualCard::start(reader.reader_addr(0), Some(reader.netns_path())).expect("emulator");
        Mutex::new(Env { reader, card, _dir: dir })
    })
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

fn ctx() -> pcsc::Context {
    pcsc::Context::establish(pcsc::Scope::User).expect("PC/SC context")
}

fn mynumber(pin: &str, tries: u8) -> Profile {
    Profile::Mynumber {
        name: "山﨑　美智子".into(),
        address: "みどり市桜台3丁目12番7号".into(),
        birth_date: "19610709".into(),
        sex: "2".into(),
        pin: pin.into(),
        tries_left: tries,
        individual_number: "987654321098".into(),
    }
}

/// Wait until reader 0 is empty (or holds a card), as pcscd sees it.
fn wait_present(ctx: &pcsc::Context, present: bool) {
    let name = CString::new(READER0).expect("name");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut states = vec![pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
    loop {
        ctx.get_status_change(Duration::from_millis(500), &mut states)
            .ok();
        let s = states[0].event_state();
        if s.contains(pcsc::State::PRESENT) == present && !s.contains(pcsc::State::UNKNOWN) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "reader never became {}",
            if present { "full" } else { "empty" }
        );
        states[0].sync_current_state();
    }
}

/// Take out whatever is in the field, then put `card` in.
fn tap(env: &Env, ctx: &pcsc::Context, profile: Profile, faults: Faults) {
    env.card.remove();
    wait_present(ctx, false);
    env.card.insert(EmulatedCard::new(profile, faults));
}

fn read(ctx: &pcsc::Context, pin: Option<&str>, confirm: bool) -> Result<CardReading, CardError> {
    let options = ReadOptions {
        pin: pin.map(|p| Pin::parse(p).expect("pin")),
        confirm_last_try: confirm,
    };
    reader::read(ctx, Some(READER0), Duration::from_secs(10), &options)
}

#[test]
fn a_good_card_gives_the_basic_four_and_never_its_individual_number() {
    let env = env();
    let ctx = ctx();
    tap(&env, &ctx, mynumber("4321", 3), Faults::default());
    let CardReading::Mynumber(b) = read(&ctx, Some("4321"), false).expect("read") else {
        panic!("not a My Number reading");
    };
    assert_eq!(b.name, "山﨑　美智子");
    assert_eq!(b.address, "みどり市桜台3丁目12番7号");
    assert_eq!(
        serde_json::to_value(&b).expect("json")["birth_date"],
        "1961-07-09"
    );
    assert_eq!(serde_json::to_value(&b).expect("json")["sex"], "female");
    let log = env.card.card().expect("card").log;
    assert!(
        !log.iter()
            .any(|c| c.starts_with(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01])),
        "EF 0001 never selected"
    );
    let listed = reader::list_readers(&ctx).expect("list");
    assert!(
        listed.iter().any(|r| r.name == READER0 && r.card_present),
        "{listed:?}"
    );
}

#[test]
fn wrong_pin_twice_then_right_with_confirmation_of_the_last_try() {
    let env = env();
    let ctx = ctx();
    tap(&env, &ctx, mynumber("4321", 3), Faults::default());
    assert_eq!(
        read(&ctx, Some("1111"), false),
        Err(CardError::WrongPin { tries_left: 2 })
    );
    assert_eq!(
        read(&ctx, Some("2222"), false),
        Err(CardError::WrongPin { tries_left: 1 })
    );
    assert_eq!(
        read(&ctx, Some("4321"), false),
        Err(CardError::OneTryLeft),
        "not sent without confirmation"
    );
    assert!(matches!(
        read(&ctx, Some("4321"), true),
        Ok(CardReading::Mynumber(_))
    ));
}

#[test]
fn a_blocked_card_is_reported_and_nothing_is_sent() {
    let env = env();
    let ctx = ctx();
    tap(&env, &ctx, mynumber("4321", 0), Faults::default());
    assert_eq!(read(&ctx, Some("4321"), true), Err(CardError::PinBlocked));
    let log = env.card.card().expect("card").log;
    assert!(
        !log.iter().any(|c| c.len() > 5 && c[1] == 0x20),
        "no PIN sent to a blocked card"
    );
}

#[test]
fn removal_mid_read_is_card_removed() {
    let env = env();
    let ctx = ctx();
    tap(
        &env,
        &ctx,
        mynumber("4321", 3),
        Faults {
            remove_on_read: Some(2),
            ..Faults::default()
        },
    );
    assert_eq!(read(&ctx, Some("4321"), false), Err(CardError::CardRemoved));
}

#[test]
fn malformed_and_truncated_tlv_are_malformed_card_data() {
    let env = env();
    let ctx = ctx();
    tap(
        &env,
        &ctx,
        mynumber("4321", 3),
        Faults {
            malformed_tlv: true,
            ..Faults::default()
        },
    );
    assert_eq!(
        read(&ctx, Some("4321"), false).map_err(|e| e.code()),
        Err("malformed_card_data")
    );
    tap(
        &env,
        &ctx,
        mynumber("4321", 3),
        Faults {
            truncate_ef: Some(30),
            ..Faults::default()
        },
    );
    assert_eq!(
        read(&ctx, Some("4321"), false).map_err(|e| e.code()),
        Err("malformed_card_data")
    );
    tap(
        &env,
        &ctx,
        mynumber("4321", 3),
        Faults {
            status_word: Some([0x6F, 0x00]),
            ..Faults::default()
        },
    );
    assert_eq!(read(&ctx, Some("4321"), false), Err(CardError::UnknownCard));
}

#[test]
fn long_form_lengths_and_chunks_of_at_most_255_bytes() {
    let env = env();
    let ctx = ctx();
    let long_address = "みどり市大字本郷".repeat(30); // 720 bytes of UTF-8
    let profile = Profile::Mynumber {
        name: "齋藤　和夫".into(),
        address: long_address.clone(),
        birth_date: "19470101".into(),
        sex: "1".into(),
        pin: "4321".into(),
        tries_left: 3,
        individual_number: "111122223333".into(),
    };
    tap(
        &env,
        &ctx,
        profile.clone(),
        Faults {
            long_form: true,
            ..Faults::default()
        },
    );
    let Ok(CardReading::Mynumber(b)) = read(&ctx, Some("4321"), false) else {
        panic!("read failed")
    };
    assert_eq!(b.address, long_address);
    let reads: Vec<u8> = env
        .card
        .card()
        .expect("card")
        .log
        .iter()
        .filter(|c| c.len() == 5 && c[1] == 0xB0)
        .map(|c| c[4])
        .collect();
    assert!(reads.len() >= 4, "header then ≥3 chunks: {reads:?}");
    assert!(
        reads.iter().all(|le| *le != 0),
        "Le never 0 (256): {reads:?}"
    );
    // A card with tiny buffers answers short chunks; the reader keeps asking.
    tap(
        &env,
        &ctx,
        profile,
        Faults {
            chunk_limit: Some(16),
            ..Faults::default()
        },
    );
    let Ok(CardReading::Mynumber(b)) = read(&ctx, Some("4321"), false) else {
        panic!("read failed")
    };
    assert_eq!(b.address, long_address);
}

#[test]
fn contactless_and_unknown_cards_are_told_apart() {
    let env = env();
    let ctx = ctx();
    tap(
        &env,
        &ctx,
        Profile::Contactless {
            uid: "012e4cd2f1a30b07".into(),
        },
        Faults::default(),
    );
    assert_eq!(
        read(&ctx, None, false),
        Ok(CardReading::Contactless {
            uid: "012e4cd2f1a30b07".into()
        })
    );
    tap(&env, &ctx, Profile::Unknown, Faults::default());
    assert_eq!(read(&ctx, None, false), Err(CardError::UnknownCard));
    // A My Number card without a PIN is not read at all.
    tap(&env, &ctx, mynumber("4321", 3), Faults::default());
    assert_eq!(read(&ctx, None, false), Err(CardError::PinRequired));
}

#[test]
fn no_card_in_time_is_a_timeout() {
    let env = env();
    let ctx = ctx();
    env.card.remove();
    wait_present(&ctx, false);
    let r = reader::read(
        &ctx,
        Some(READER0),
        Duration::from_millis(300),
        &ReadOptions::default(),
    );
    assert_eq!(r, Err(CardError::Timeout));
    let r = reader::read(
        &ctx,
        Some("No Such Reader 00 00"),
        Duration::from_millis(300),
        &ReadOptions::default(),
    );
    assert_eq!(r, Err(CardError::NoReader));
}

fn next_event(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<ReaderEvent>,
    want: impl Fn(&ReaderEvent) -> bool,
) -> ReaderEvent {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match rx.try_recv() {
            Ok(e) if want(&e) => return e,
            Ok(_) => {}
            Err(_) => {
                assert!(Instant::now() < deadline, "event never came");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn the_watcher_sees_taps_and_survives_pcscd_restarting() {
    let mut env = env();
    let ctx = ctx();
    env.card.remove();
    wait_present(&ctx, false);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Watcher::spawn(tx).expect("watcher");
    next_event(
        &mut rx,
        |e| matches!(e, ReaderEvent::ReaderAdded(n) if n == READER0),
    );

    // Tap, take away (the emulator stops serving), tap again.
    env.card.insert(EmulatedCard::new(
        Profile::Contactless {
            uid: "0a0b0c0d".into(),
        },
        Faults::default(),
    ));
    let present = next_event(&mut rx, |e| matches!(e, ReaderEvent::CardPresent { .. }));
    assert!(
        matches!(present, ReaderEvent::CardPresent { ref atr, .. } if atr.starts_with(&[0x3B, 0x8F]))
    );
    env.card.remove();
    next_event(&mut rx, |e| matches!(e, ReaderEvent::CardRemoved { .. }));

    // pcscd crashes and comes back: the watcher reports the readers gone, then back.
    env.reader.restart_pcscd().expect("restart pcscd");
    PCSCD.store(
        env.reader.pcscd_pid().unwrap_or(0),
        std::sync::atomic::Ordering::SeqCst,
    );
    next_event(&mut rx, |e| matches!(e, ReaderEvent::ReaderRemoved(_)));
    next_event(
        &mut rx,
        |e| matches!(e, ReaderEvent::ReaderAdded(n) if n == READER0),
    );
    env.card.insert(EmulatedCard::new(
        Profile::Contactless {
            uid: "0a0b0c0d".into(),
        },
        Faults::default(),
    ));
    next_event(&mut rx, |e| matches!(e, ReaderEvent::CardPresent { .. }));
    env.card.remove();
    drop(watcher); // cancels the blocked call and joins
}

#[test]
fn the_reader_outlives_its_emulator_stopping_and_starting_again() {
    let env = env();
    let ctx = ctx();
    let reader1 = "Virtual PCD 00 01";
    let read1 = |ctx: &pcsc::Context| {
        reader::read(
            ctx,
            Some(reader1),
            Duration::from_secs(10),
            &ReadOptions::default(),
        )
    };
    let venue = || {
        EmulatedCard::new(
            Profile::Contactless {
                uid: "cafe0001".into(),
            },
            Faults::default(),
        )
    };
    let first = VirtualCard::start(env.reader.reader_addr(1), Some(env.reader.netns_path()))
        .expect("emulator");
    first.insert(venue());
    assert_eq!(
        read1(&ctx),
        Ok(CardReading::Contactless {
            uid: "cafe0001".into()
        })
    );
    first.stop(); // the emulator process goes away: like unplugging the reader's card source
    let gone = reader::read(
        &ctx,
        Some(reader1),
        Duration::from_millis(1500),
        &ReadOptions::default(),
    );
    assert!(
        matches!(gone, Err(CardError::Timeout) | Err(CardError::CardRemoved)),
        "{gone:?}"
    );
    let second = VirtualCard::start(env.reader.reader_addr(1), Some(env.reader.netns_path()))
        .expect("emulator again");
    second.insert(venue());
    assert_eq!(
        read1(&ctx),
        Ok(CardReading::Contactless {
            uid: "cafe0001".into()
        })
    );
    second.stop();
}

#[test]
fn a_reader_held_by_another_program_is_busy_and_slow_cards_still_read() {
    let env = env();
    let ctx = ctx();
    tap(
        &env,
        &ctx,
        Profile::Contactless {
            uid: "b0b0b0b0".into(),
        },
        Faults {
            delay_ms: 150,
            ..Faults::default()
        },
    );
    wait_present(&ctx, true);
    let other = pcsc::Context::establish(pcsc::Scope::User).expect("second context");
    let name = CString::new(READER0).expect("name");
    let held = other
        .connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
        .expect("exclusive connect");
    assert_eq!(read(&ctx, None, false), Err(CardError::ReaderBusy));
    drop(held);
    assert_eq!(
        read(&ctx, None, false),
        Ok(CardReading::Contactless {
            uid: "b0b0b0b0".into()
        }),
        "a slow card is still read"
    );
}
