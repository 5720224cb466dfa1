//! Fuzz the batch receiver (`checkup_protocol::batch`), which central's ingest, venue
//! replication and an admin's import all use: arbitrary bodies, under central's rules and a
//! box's, must be refused with a typed reason (a code and a 400/413/422 status) or give
//! events — never a panic.
#![no_main]

use std::collections::HashMap;

use checkup_protocol::{BatchRules, VenueRule, receive_batch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys: HashMap<String, checkup_protocol::PublicKey> = HashMap::new();
    let venues = vec!["v1".to_string()];
    for rules in [
        BatchRules::new(VenueRule::Municipality(&venues), 1 << 20).max_events(1000),
        BatchRules::new(VenueRule::Only("v1"), 1 << 20).only_node("edge-01"),
    ] {
        match receive_batch(data, &keys, &rules) {
            Ok(events) => assert!(events.is_empty(), "no key is enrolled: only an empty batch passes"),
            Err(e) => {
                assert!(!e.code().is_empty());
                assert!(matches!(e.status(), 400 | 413 | 422));
            }
        }
    }
});
