//! Fuzz the event wire-format parser: arbitrary bytes must give an event or a typed error,
//! never a panic; an accepted event must survive a round trip unchanged.
#![no_main]

use checkup_protocol::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = Event::from_json(data) {
        let again = Event::from_json(event.to_json().as_bytes()).expect("re-parses");
        assert_eq!(again, event);
        let _ = event.canonical_bytes();
    }
});
