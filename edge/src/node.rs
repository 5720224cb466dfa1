//! The box's identity: its ed25519 node key on disk.
//!
//! Until provisioning distributes enrolled keys, a box without a key file generates one on
//! first start and keeps it (mode 0600) so its signatures stay verifiable across restarts.

use std::path::Path;

use checkup_protocol::NodeKey;

/// Errors reading or creating the key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// I/O on the key file.
    #[error("node key {path}: {source}")]
    Io {
        /// The key file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not 32 bytes.
    #[error("node key {0}: must hold exactly 32 bytes")]
    BadLength(std::path::PathBuf),
}

/// Load the key at `path`, or create it if the file does not exist.
pub fn load_or_create(path: &Path) -> Result<NodeKey, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let arr: [u8; 32] = bytes
                .try_into()
                .map_err(|_| KeyError::BadLength(path.to_path_buf()))?;
            Ok(NodeKey::from_bytes(&arr))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = checkup_provisioning::keys::generate(path).map_err(|e| KeyError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            })?;
            tracing::info!(path = %path.display(), public_key = %key.verifying_key().to_base64(), "generated a new node key");
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_and_reloaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("node.key");
        let a = load_or_create(&p).expect("create");
        let b = load_or_create(&p).expect("load");
        assert_eq!(a.verifying_key(), b.verifying_key());
        std::fs::write(&p, b"short").expect("write");
        assert!(matches!(load_or_create(&p), Err(KeyError::BadLength(_))));
    }
}
