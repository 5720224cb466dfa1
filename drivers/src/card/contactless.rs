//! Contactless venue cards: the UID (FeliCa IDm on most readers) by the PC/SC pseudo-APDU
//! `FF CA 00 00 00`.

use super::Transport;
use super::apdu::{self, Response};
use super::error::CardError;

/// Longest UID accepted (FeliCa IDm is 8 bytes, ISO 14443 UIDs 4, 7 or 10).
pub const MAX_UID_LEN: usize = 16;

/// Read the UID as lowercase hex.
pub fn read_uid(t: &mut impl Transport) -> Result<String, CardError> {
    let uid = Response::parse(t.transmit(&apdu::GET_UID)?)?.ok("GET UID")?;
    if uid.is_empty() || uid.len() > MAX_UID_LEN {
        return Err(CardError::MalformedCardData(format!(
            "UID of {} bytes",
            uid.len()
        )));
    }
    Ok(uid.iter().map(|b| format!("{b:02x}")).collect())
}
