//! Fuzz the response decoder and the whole My Number read against a card that answers
//! with fuzzer-chosen bytes: every outcome is a reading or a typed error.
#![no_main]

use checkup_drivers::card::apdu::Response;
use checkup_drivers::card::{self, CardError, Pin, ReadOptions, Transport};
use libfuzzer_sys::fuzz_target;

/// A card whose answers are slices of the fuzz input.
struct Scripted<'a> {
    answers: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

impl Transport for Scripted<'_> {
    fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, CardError> {
        self.answers.next().map(<[u8]>::to_vec).ok_or(CardError::CardRemoved)
    }
    fn atr(&self) -> &[u8] {
        &[0x3B, 0x00]
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = Response::parse(data.to_vec());
    let sep: fn(&u8) -> bool = |b| *b == 0xA5;
    let mut t = Scripted { answers: data.split(sep) };
    let options = ReadOptions { pin: Pin::parse("1234").ok(), confirm_last_try: true };
    let _ = card::read_card(&mut t, &options);
});
