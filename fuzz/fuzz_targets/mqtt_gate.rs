//! Fuzz the broker gate's MQTT reader: a stream of fuzzer bytes is framed and every whole
//! packet checked against a box's rights, as the gate does; every outcome is a pass or a
//! typed refusal, never a panic or a read past a packet.
#![no_main]

use checkup_edge::replication::gate::{Acl, check, frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut acl = Acl::new("edge-02", "v1");
    let mut at = 0;
    while at < data.len() {
        match frame(&data[at..]) {
            Ok(Some(n)) => {
                if check(&mut acl, &data[at..at + n]).is_err() {
                    break;
                }
                at += n;
            }
            Ok(None) | Err(_) => break,
        }
    }
});
