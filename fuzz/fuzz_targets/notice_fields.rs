//! Fuzz the notice field parsers (和暦 dates, sex, kind of abuse, address and its repair,
//! names): arbitrary text gives a value or a typed error, never a panic; a date read is a real
//! ISO date; repairing an address twice changes nothing more.
#![no_main]

use checkup_drivers::notice::{fields, wareki};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(iso) = wareki::parse(s) {
        assert_eq!(iso.len(), 10, "{iso}");
    }
    let _ = fields::sex(s);
    let _ = fields::abuse_type(s);
    let _ = fields::address(s, &[]);
    let repaired = fields::repair_address(s, &[]);
    assert_eq!(fields::repair_address(&repaired, &[]), repaired, "repair is idempotent");
    let _ = fields::name(s);
});
