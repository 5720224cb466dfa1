//! Fuzz the BER-TLV parser and the basic-four decoder with arbitrary card data: never a
//! panic, never a value that reaches past the input.
#![no_main]

use checkup_drivers::card::{mynumber, tlv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = tlv::parse_all(data) {
        let total: usize = items.iter().map(|t| t.header_len + t.value.len()).sum();
        assert_eq!(total, data.len());
    }
    let _ = mynumber::parse_basic_four(data);
});
