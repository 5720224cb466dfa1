//! Fuzz what arrives on a venue's MQTT topics: arbitrary payloads on a node's events topic and
//! on a sync reply must be rejected with a typed error (counted) or give verified events of
//! this venue — never a panic.
#![no_main]

use std::collections::HashMap;

use checkup_edge::replication::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys: HashMap<String, checkup_protocol::PublicKey> = HashMap::new();
    let counters = wire::RejectCounters::default();
    for r in [
        wire::decode_events("checkup/v1/events/edge-01", data, "v1", &keys),
        wire::decode_reply(data, "v1", &keys),
    ] {
        match r {
            Ok(events) => assert!(events.is_empty(), "no key is enrolled: nothing verifies"),
            Err(e) => counters.count(&e),
        }
    }
    let _ = serde_json::from_slice::<wire::SyncRequest>(data);
});
