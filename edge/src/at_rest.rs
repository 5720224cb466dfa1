//! Encryption at rest: one data key per box encrypts every file that holds personal data.
//!
//! ```text
//! DataKey (32 bytes, from the enrolment bundle or `store.key_file`)
//!   ├─ SHA-256("checkup-edge sqlcipher" ‖ key)  → SQLCipher raw key: events.sqlite3, roster.sqlite3
//!   └─ SHA-256("checkup-edge files" ‖ key)      → ChaCha20-Poly1305: scans, crops and OCR
//!                                                  results of the notice inbox, taken scans
//! ```
//!
//! The one plain copy of a notice on disk is a PDF while poppler renders it (the tools read
//! only files): it lives in `<data_dir>/intake/work/` (0700, the file 0600) for the
//! rendering and is overwritten and removed right after, at start and by `wipe`
//! ([`crate::intake::inbox`]).
//!
//! Without a key (development with `--insecure-dev`, or a box configured without one) the
//! same files are written in the clear; a store made one way cannot be opened the other.
//! A sealed file is `CEF1` ‖ 12-byte random nonce ‖ ciphertext with its 16-byte tag; a
//! file that is not sealed, or altered, or sealed under another key is refused, never
//! returned as garbage.

use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

/// Why a key or a sealed file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AtRestError {
    /// The key file is unreadable or not 64 hex digits.
    #[error("data key {path}: {reason}")]
    Key {
        /// File.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A sealed file is not one, was altered, or was sealed under another key.
    #[error("sealed file does not open with this box's key (altered, truncated or another box's)")]
    Unseal,
    /// An SQLite file does not open with this key (or is a plain file and a key was given,
    /// or the other way round).
    #[error(
        "{path} does not open with this box's data key (wrong key, or encrypted and unencrypted mixed up)"
    )]
    WrongKey {
        /// File.
        path: std::path::PathBuf,
    },
    /// SQLite.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

const MAGIC: &[u8; 4] = b"CEF1";

/// The box's data key.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(bytes)
    }

    /// A new random key.
    pub fn generate() -> DataKey {
        let mut b = [0u8; 32];
        // Without an OS random source no key can be made at all.
        getrandom::fill(&mut b).expect("operating system random source unavailable");
        DataKey(b)
    }

    /// The key as 64 hex digits (what `store.key_file` holds).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Read a key file: 64 hex digits (surrounding white space ignored).
    pub fn load(path: &Path) -> Result<DataKey, AtRestError> {
        let err = |reason: String| AtRestError::Key {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let bytes = hex::decode(text.trim()).map_err(|_| err("not hex".into()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| err("must be 64 hex digits (32 bytes)".into()))?;
        Ok(DataKey(bytes))
    }

    fn derive(&self, label: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(label.as_bytes());
        h.update(self.0);
        h.finalize().into()
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.derive("checkup-edge files")))
    }

    /// Encrypt and authenticate `plain`.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption fails only for inputs beyond 256 GiB.
        let sealed = self
            .cipher()
            .encrypt(&nonce, plain)
            .expect("ChaCha20-Poly1305 input within limits");
        let mut out = Vec::with_capacity(MAGIC.len() + nonce.len() + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Check and decrypt what [`DataKey::seal`] made.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, AtRestError> {
        let body = sealed.strip_prefix(MAGIC).ok_or(AtRestError::Unseal)?;
        if body.len() < 12 + 16 {
            return Err(AtRestError::Unseal);
        }
        let (nonce, ciphertext) = body.split_at(12);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| AtRestError::Unseal)
    }
}

/// Files of the box: sealed under the data key, or in the clear without one.
#[derive(Debug, Clone, Default)]
pub struct Files(Option<DataKey>);

impl Files {
    /// With `key`, seal; without, write as is.
    pub fn new(key: Option<DataKey>) -> Files {
        Files(key)
    }

    /// Whether files are sealed.
    pub fn seals(&self) -> bool {
        self.0.is_some()
    }

    /// Write `bytes` to `path` (sealed when there is a key).
    pub fn write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        match &self.0 {
            Some(k) => std::fs::write(path, k.seal(bytes)),
            None => std::fs::write(path, bytes),
        }
    }

    /// Read what [`Files::write`] wrote.
    pub fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let bytes = std::fs::read(path)?;
        match &self.0 {
            Some(k) => k
                .open(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            None => Ok(bytes),
        }
    }
}

/// Open an SQLite file, keyed with SQLCipher when `key` is given, and check that the key
/// fits before anything else touches it.
pub fn open_sqlite(
    path: &Path,
    key: Option<&DataKey>,
    flags: OpenFlags,
) -> Result<Connection, AtRestError> {
    let conn = Connection::open_with_flags(path, flags)?;
    if let Some(k) = key {
        // A raw 256-bit key: no key derivation at every open (the key is already random).
        conn.pragma_update(
            None,
            "key",
            format!("x'{}'", hex::encode(k.derive("checkup-edge sqlcipher"))),
        )?;
    }
    let wrong = || AtRestError::WrongKey {
        path: path.to_path_buf(),
    };
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(wrong())
        }
        Err(e) => Err(e.into()),
    }
}

/// Default flags for a read-write connection that creates the file.
pub const READ_WRITE: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
    .union(OpenFlags::SQLITE_OPEN_CREATE)
    .union(OpenFlags::SQLITE_OPEN_URI)
    .union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_files_open_with_their_key_only_and_refuse_any_change() {
        let (k, other) = (DataKey::generate(), DataKey::generate());
        let plain = "児童 太郎 2015-04-01".as_bytes();
        let sealed = k.seal(plain);
        assert!(!sealed.windows(plain.len()).any(|w| w == plain));
        assert_eq!(k.open(&sealed).expect("opens"), plain);
        assert!(matches!(other.open(&sealed), Err(AtRestError::Unseal)));
        for i in [0, 5, 20, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(k.open(&bad).is_err(), "flipped byte {i}");
        }
        assert!(k.open(&sealed[..20]).is_err());
        assert!(k.open(plain).is_err());
        // Two seals of the same bytes differ (random nonce).
        assert_ne!(k.seal(plain), sealed);
    }

    #[test]
    fn an_sqlcipher_file_opens_with_its_key_only_and_holds_no_plain_text() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.sqlite3");
        let k = DataKey::generate();
        {
            let c = open_sqlite(&path, Some(&k), READ_WRITE).expect("create");
            c.execute_batch("CREATE TABLE t (name TEXT); INSERT INTO t VALUES ('髙橋　節子')")
                .expect("write");
        }
        let bytes = std::fs::read(&path).expect("read");
        assert!(!bytes.windows(6).any(|w| w == "髙橋".as_bytes()));
        assert!(!bytes.starts_with(b"SQLite format 3"));
        assert!(matches!(
            open_sqlite(&path, Some(&DataKey::generate()), READ_WRITE),
            Err(AtRestError::WrongKey { .. })
        ));
        assert!(matches!(
            open_sqlite(&path, None, READ_WRITE),
            Err(AtRestError::WrongKey { .. })
        ));
        let c = open_sqlite(&path, Some(&k), READ_WRITE).expect("reopen");
        let name: String = c
            .query_row("SELECT name FROM t", [], |r| r.get(0))
            .expect("read back");
        assert_eq!(name, "髙橋　節子");
    }

    #[test]
    fn key_files_must_hold_32_hex_bytes() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("k");
        let k = DataKey::generate();
        std::fs::write(&p, format!("{}\n", k.to_hex())).expect("write");
        assert_eq!(DataKey::load(&p).expect("load").to_hex(), k.to_hex());
        for bad in ["", "zz", "00", &"0".repeat(66)] {
            std::fs::write(&p, bad).expect("write");
            assert!(DataKey::load(&p).is_err(), "{bad:?}");
        }
        assert!(!format!("{k:?}").contains(&k.to_hex()[..8]));
    }
}
