//! `checkup-edge card list` and `checkup-edge card read --json`, run as a staff member would
//! run them, against a private pcscd + vpcd with our emulator as the card.

use std::io::Write;
use std::process::{Command, Stdio};

use checkup_drivers::emulator::vpcd::VirtualCard;
use checkup_drivers::emulator::{EmulatedCard, Faults, Profile};
use checkup_drivers::virtual_reader::VirtualReader;
use checkup_tests::binary;
use serde_json::Value;

fn card_cmd(
    bin: &std::path::Path,
    socket: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> (bool, Value) {
    let mut child = Command::new(bin)
        .arg("card")
        .args(args)
        .env("PCSCLITE_CSOCK_NAME", socket)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {text}"));
    (out.status.success(), v)
}

#[test]
fn card_read_prints_one_json_object_or_a_coded_error() {
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = VirtualReader::start(dir.path())
        .expect("virtual reader (needs root, pcscd, vsmartcard-vpcd)");
    let socket = reader.socket_path();
    let card =
        VirtualCard::start(reader.reader_addr(0), Some(reader.netns_path())).expect("emulator");
    let read = [
        "read",
        "--reader",
        "Virtual PCD 00 00",
        "--pin-stdin",
        "--wait",
        "10",
        "--json",
    ];

    // No card within the wait.
    let (ok, v) = card_cmd(&bin, &socket, &["read", "--wait", "1", "--json"], "");
    assert!(!ok);
    assert_eq!(v["code"], "timeout", "{v}");

    card.insert(EmulatedCard::new(
        Profile::Mynumber {
            name: "濱田　誠".into(),
            address: "みどり市西山4丁目9番1号".into(),
            birth_date: "19500505".into(),
            sex: "1".into(),
            pin: "2468".into(),
            tries_left: 3,
            individual_number: "555566667777".into(),
        },
        Faults::default(),
    ));
    let (ok, v) = card_cmd(&bin, &socket, &read, "1357\n");
    assert!(!ok);
    assert_eq!(
        (v["code"].as_str(), v["tries_left"].as_u64()),
        (Some("wrong_pin"), Some(2)),
        "{v}"
    );
    let (ok, v) = card_cmd(&bin, &socket, &read, "2468\n");
    assert!(ok, "{v}");
    assert_eq!(
        v,
        serde_json::json!({"kind": "mynumber", "name": "濱田　誠", "address": "みどり市西山4丁目9番1号", "birth_date": "1950-05-05", "sex": "male"})
    );
    let (ok, v) = card_cmd(&bin, &socket, &read, "12\n");
    assert!(!ok);
    assert_eq!(v["code"], "pin_format");

    let (ok, v) = card_cmd(&bin, &socket, &["list", "--json"], "");
    assert!(ok);
    let readers = v["readers"].as_array().expect("readers");
    assert!(
        readers
            .iter()
            .any(|r| r["name"] == "Virtual PCD 00 00" && r["card_present"] == true),
        "{v}"
    );

    card.remove();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    card.insert(EmulatedCard::new(
        Profile::Contactless {
            uid: "01fe02fd03fc04fb".into(),
        },
        Faults::default(),
    ));
    let (ok, v) = card_cmd(&bin, &socket, &["read", "--wait", "10", "--json"], "");
    assert!(ok, "{v}");
    assert_eq!(
        v,
        serde_json::json!({"kind": "contactless", "uid": "01fe02fd03fc04fb"})
    );
    card.stop();
    drop(reader);

    // Without a PC/SC service there is no reader.
    let (ok, v) = card_cmd(
        &bin,
        &dir.path().join("nothing-here.comm"),
        &["read", "--wait", "1", "--json"],
        "",
    );
    assert!(!ok);
    assert_eq!(v["code"], "no_reader", "{v}");
}
