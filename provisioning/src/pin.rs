//! Staff PIN hashes. A PIN is 4 to 8 ASCII digits; only its Argon2id hash goes into a
//! configuration.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;

/// Why a PIN was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    /// Not 4–8 digits.
    #[error("a PIN is 4 to 8 digits")]
    Format,
    /// The hasher failed.
    #[error("cannot hash PIN: {0}")]
    Hash(String),
}

/// Check a PIN's format and hash it (Argon2id, default parameters, random salt).
pub fn hash(pin: &str) -> Result<String, PinError> {
    let pin = pin.trim_end_matches(['\r', '\n']);
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinError::Format);
    }
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PinError::Hash(e.to_string()))
}

/// Whether `pin` matches the Argon2 PHC string `hash` (false for a malformed hash).
pub fn verify(hash: &str, pin: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;

    #[test]
    fn pins_are_digits_and_hash_verifiably() {
        assert_eq!(hash("12a4"), Err(PinError::Format));
        assert_eq!(hash("123"), Err(PinError::Format));
        let h = hash("4321\n").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        let parsed = PasswordHash::new(&h).expect("phc");
        assert!(Argon2::default().verify_password(b"4321", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"4322", &parsed).is_err());
    }
}
