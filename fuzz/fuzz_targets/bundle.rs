//! Fuzz the enrolment bundle reader: any file is refused with one error or opens; the
//! passphrase derivation runs on every input with a salt from it (Argon2id at full cost, so
//! expect few executions per second).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = checkup_provisioning::bundle::open(data, "fuzzing passphrase");
});
