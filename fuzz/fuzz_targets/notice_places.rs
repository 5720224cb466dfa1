//! Fuzz address matching and the police-station check (`checkup_drivers::notice::places`):
//! arbitrary text gives a match or none, never a panic; a match is its prefecture, names and
//! rest put together, and matches again as itself once normalised.
#![no_main]

use checkup_drivers::notice::places;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(m) = places::match_address(s) {
        assert!(m.address.starts_with(m.prefecture), "{m:?}");
        assert!(m.address.ends_with(&m.rest), "{m:?}");
        let again = places::match_address(&m.address).map(|a| (a.address, a.edits));
        assert_eq!(again, Some((m.address.clone(), 0)), "{s:?}");
    }
    let _ = places::police_station(s);
    let _ = places::police_station_plausible(s);
});
