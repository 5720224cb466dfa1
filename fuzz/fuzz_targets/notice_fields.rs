//! Fuzz the notice field parsers (和暦 dates, sex, kind of abuse, address): arbitrary text
//! gives a value or a typed error, never a panic; a date read is a real ISO date.
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
});
