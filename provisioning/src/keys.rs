//! Node signing keys.

use std::io::Write;
use std::path::Path;

use checkup_protocol::NodeKey;

/// Errors writing a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file exists; keys are never overwritten.
    #[error("{0} exists; refusing to overwrite a key or certificate")]
    Exists(std::path::PathBuf),
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: std::path::PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// Generate a key, write its 32 secret bytes to `path` (mode 0600, never overwriting) and
/// return it.
pub fn generate(path: &Path) -> Result<NodeKey, KeyError> {
    let key = NodeKey::generate();
    write_new(path, &key.to_bytes(), 0o600)?;
    Ok(key)
}

/// Write a new file with `mode` (never overwriting one) and flush it to disk.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.to_path_buf())
        } else {
            KeyError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_written_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("edge-01.key");
        let k = generate(&p).expect("generate");
        let bytes = std::fs::read(&p).expect("read");
        assert_eq!(bytes.len(), 32);
        assert_eq!(
            NodeKey::from_bytes(&bytes.try_into().expect("32")).verifying_key(),
            k.verifying_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(matches!(generate(&p), Err(KeyError::Exists(_))));
    }
}
