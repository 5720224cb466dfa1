//! Fuzz central's batch check: arbitrary bodies must be refused with a typed reason or give
//! events of the served venues — never a panic.
#![no_main]

use std::collections::HashMap;

use checkup_central::ingest::check_batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys: HashMap<String, checkup_protocol::PublicKey> = HashMap::new();
    let venues = vec!["v1".to_string()];
    if let Ok((events, _)) = check_batch(data, &keys, &venues, 1000) {
        assert!(events.is_empty(), "no key is enrolled: only an empty batch passes");
    }
});
