//! Fuzz the notice field parsers (和暦 dates, sex, kind of abuse, address and its repair,
//! names) and the layout's label and heading matching: arbitrary text gives a value or a
//! typed error, never a panic; a date read is a real ISO date; repairing an address twice
//! changes nothing more; a label found never claims more characters than the text has.
#![no_main]

use checkup_drivers::notice::{fields, layout, wareki};
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
    if let Some(m) = layout::match_label(s) {
        assert!(m.consumed <= s.chars().count(), "{m:?}");
    }
    let _ = layout::match_section(s);
    let _ = layout::strip_separators(s);
});
