//! Enrolment bundles: everything one box needs for a venue day, in one file encrypted with a
//! passphrase, so that no key or personal data is ever on a box's disk in the clear.
//!
//! ```text
//! venue day (TOML, by the administrator)          checkup-provision bundle
//!   venue, stations, staff (PIN hashes),     ──►   <out>/<node>.bundle   one per box
//!   boxes (node, hosts, hub), roster CSV,          <out>/central-boxes.toml   central's trust
//!   central URL
//!
//! <node>.bundle = "CKEB1\n" ‖ salt (16) ‖ nonce (12) ‖ ChaCha20-Poly1305(JSON contents)
//!   key = Argon2id(passphrase, salt; 64 MiB, 3 passes)
//! contents: the box's configuration (TOML: venue, stations, staff, peers with their
//!   signing keys, replication, central), its TLS certificate and key, the CA and its
//!   revocation list, its event-signing key, its data key (SQLCipher, sealed scans), the
//!   central forwarding secret (inside the configuration) and the day's roster.
//! ```
//!
//! `checkup-edge run --bundle FILE` asks for the passphrase (a file or
//! `CHECKUP_BUNDLE_PASSPHRASE`) at every start and keeps the contents in memory only. A wrong
//! passphrase, a changed byte or another file is refused with one clear error.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use checkup_protocol::NodeKey;
use serde::{Deserialize, Serialize};

use crate::ca::{self, CaError};

const MAGIC: &[u8] = b"CKEB1\n";
/// Shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 12;

/// Why a bundle could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The passphrase is wrong, or the file was changed, or it is not a bundle.
    #[error(
        "the bundle does not open with this passphrase (wrong passphrase, or the file is altered or not a bundle)"
    )]
    Unlock,
    /// The passphrase is too short.
    #[error("the passphrase must have at least {MIN_PASSPHRASE} characters")]
    WeakPassphrase,
    /// The venue day is not valid.
    #[error("venue day: {0}")]
    Day(String),
    /// Certificates.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// A file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// A box of the venue day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayBox {
    /// Node id.
    pub node: String,
    /// Host names and addresses tablets and peers reach it by (in its certificate).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// The venue's hub (starts the embedded broker).
    #[serde(default)]
    pub hub: bool,
    /// The hub's broker port (the box's default when absent; 0: a free port, found by the
    /// other boxes through mDNS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_port: Option<u16>,
}

/// The venue day, as the administrator writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueDay {
    /// Venue id.
    pub venue_id: String,
    /// Venue name shown on the pages.
    pub venue_name: String,
    /// Municipality (central's `[[boxes]] municipality`).
    pub municipality: String,
    /// Where the boxes listen. Default 0.0.0.0:8443.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Central's base URL (https://…); none: nothing is forwarded.
    #[serde(default)]
    pub central_url: Option<String>,
    /// Days the boxes' certificates are valid. Default 30.
    #[serde(default = "default_days")]
    pub days: u32,
    /// The reservation system's roster CSV, put into every bundle.
    #[serde(default)]
    pub roster: Option<PathBuf>,
    /// Stations, as in a box configuration's `[[stations]]`.
    #[serde(default)]
    pub stations: Vec<toml::Value>,
    /// Staff on duty, as in a box configuration's `[[staff]]` (PIN hashes only).
    #[serde(default)]
    pub staff: Vec<toml::Value>,
    /// The boxes.
    pub boxes: Vec<DayBox>,
}

fn default_listen() -> String {
    "0.0.0.0:8443".into()
}
const fn default_days() -> u32 {
    30
}

/// What one bundle holds.
#[derive(Clone, Serialize, Deserialize)]
pub struct Contents {
    /// Node id.
    pub node: String,
    /// The box configuration (TOML, without file paths for keys).
    pub config: String,
    /// TLS certificate (PEM).
    pub tls_cert: String,
    /// TLS key (PEM).
    pub tls_key: String,
    /// CA certificate (PEM).
    pub ca: String,
    /// CA revocation list (PEM).
    pub crl: String,
    /// Event-signing key (hex of 32 bytes).
    pub node_key: String,
    /// Data key (hex of 32 bytes).
    pub data_key: String,
    /// The day's roster CSV, if any.
    pub roster_csv: Option<Vec<u8>>,
}

impl std::fmt::Debug for Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contents")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

fn derive(passphrase: &str, salt: &[u8]) -> Result<[u8; 32], BundleError> {
    let params = Params::new(64 * 1024, 3, 1, Some(32)).map_err(|_| BundleError::Unlock)?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|_| BundleError::Unlock)?;
    Ok(key)
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // Without an OS random source no key can be made at all.
    getrandom::fill(&mut b).expect("operating system random source unavailable");
    b
}

/// The passphrase: the first line of `file`, else the `CHECKUP_BUNDLE_PASSPHRASE`
/// environment variable.
pub fn read_passphrase(file: Option<&Path>) -> Result<String, BundleError> {
    match file {
        Some(f) => std::fs::read_to_string(f)
            .map(|t| t.lines().next().unwrap_or_default().to_owned())
            .map_err(|source| BundleError::Io {
                path: f.to_path_buf(),
                source,
            }),
        None => std::env::var("CHECKUP_BUNDLE_PASSPHRASE").map_err(|_| {
            BundleError::Day("give --passphrase-file or set CHECKUP_BUNDLE_PASSPHRASE".into())
        }),
    }
}

/// Encrypt `contents` with `passphrase`.
pub fn seal(contents: &Contents, passphrase: &str) -> Result<Vec<u8>, BundleError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(BundleError::WeakPassphrase);
    }
    let salt: [u8; 16] = random();
    let nonce: [u8; 12] = random();
    let key = derive(passphrase, &salt)?;
    let plain = serde_json::to_vec(contents).map_err(|e| BundleError::Day(e.to_string()))?;
    let sealed = ChaCha20Poly1305::new(Key::from_slice(&key))
        .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
        .map_err(|_| BundleError::Unlock)?;
    let mut out = Vec::with_capacity(MAGIC.len() + 28 + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypt a bundle.
pub fn open(bytes: &[u8], passphrase: &str) -> Result<Contents, BundleError> {
    let body = bytes.strip_prefix(MAGIC).ok_or(BundleError::Unlock)?;
    if body.len() < 28 + 16 {
        return Err(BundleError::Unlock);
    }
    let (salt, rest) = body.split_at(16);
    let (nonce, sealed) = rest.split_at(12);
    let key = derive(passphrase, salt)?;
    let plain = ChaCha20Poly1305::new(Key::from_slice(&key))
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| BundleError::Unlock)?;
    serde_json::from_slice(&plain).map_err(|_| BundleError::Unlock)
}

/// What [`make`] wrote.
#[derive(Debug)]
pub struct Made {
    /// One bundle per box.
    pub bundles: Vec<PathBuf>,
    /// Central's `[[boxes]]` for these boxes (TOML).
    pub central_boxes: PathBuf,
}

/// Make the venue day's bundles into `out` with the CA in `ca_dir`.
pub fn make(
    ca_dir: &Path,
    day: &VenueDay,
    out: &Path,
    passphrase: &str,
) -> Result<Made, BundleError> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(BundleError::WeakPassphrase);
    }
    if day.boxes.is_empty() {
        return Err(BundleError::Day("no boxes".into()));
    }
    let mut nodes = std::collections::HashSet::new();
    if let Some(b) = day.boxes.iter().find(|b| !nodes.insert(b.node.as_str())) {
        return Err(BundleError::Day(format!("box {} listed twice", b.node)));
    }
    let revoked = ca::revoked_nodes(ca_dir)?;
    if let Some(b) = day.boxes.iter().find(|b| revoked.contains(&b.node)) {
        return Err(BundleError::Day(format!(
            "box {} is revoked: give the replacement box another node id",
            b.node
        )));
    }
    if let Some(u) = &day.central_url
        && !u.starts_with("https://")
    {
        return Err(BundleError::Day(format!(
            "central_url {u:?} must be https://"
        )));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BundleError::Io { path, source }
    };
    let roster = day
        .roster
        .as_ref()
        .map(|p| std::fs::read(p).map_err(io(p)))
        .transpose()?;
    let crl =
        std::fs::read_to_string(ca_dir.join(ca::CA_CRL)).map_err(io(&ca_dir.join(ca::CA_CRL)))?;
    let (not_before, not_after) = ca::days_from_now(day.days)?;
    let keys: Vec<NodeKey> = day.boxes.iter().map(|_| NodeKey::generate()).collect();
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut central = String::from(
        "# Central's [[boxes]] for this venue day (checkup-provision bundle); add to central's configuration.\n",
    );
    let mut bundles = Vec::new();
    for (i, b) in day.boxes.iter().enumerate() {
        let issued = ca::issue(
            ca_dir,
            &b.node,
            &day.venue_id,
            &b.hosts,
            not_before,
            not_after,
        )?;
        let secret = hex::encode(random::<32>());
        let mut cfg = toml::Table::new();
        let s = |v: &str| toml::Value::String(v.to_owned());
        cfg.insert("venue_id".into(), s(&day.venue_id));
        cfg.insert("venue_name".into(), s(&day.venue_name));
        cfg.insert("node_id".into(), s(&b.node));
        cfg.insert("listen".into(), s(&day.listen));
        if !day.stations.is_empty() {
            cfg.insert("stations".into(), toml::Value::Array(day.stations.clone()));
        }
        cfg.insert("staff".into(), toml::Value::Array(day.staff.clone()));
        let peers: Vec<toml::Value> = day
            .boxes
            .iter()
            .zip(&keys)
            .filter(|(o, _)| o.node != b.node)
            .map(|(o, k)| {
                let mut t = toml::Table::new();
                t.insert("node".into(), s(&o.node));
                t.insert("public_key".into(), s(&k.verifying_key().to_base64()));
                toml::Value::Table(t)
            })
            .collect();
        cfg.insert("peers".into(), toml::Value::Array(peers));
        let mut repl = toml::Table::new();
        repl.insert("hub".into(), toml::Value::Boolean(b.hub));
        if let Some(port) = b.broker_port {
            repl.insert("broker_port".into(), toml::Value::Integer(i64::from(port)));
        }
        cfg.insert("replication".into(), toml::Value::Table(repl));
        if let Some(u) = &day.central_url {
            let mut c = toml::Table::new();
            c.insert("url".into(), s(u));
            c.insert("secret".into(), s(&secret));
            cfg.insert("central".into(), toml::Value::Table(c));
            central.push_str(&format!(
                "\n[[boxes]]\nnode = \"{}\"\nvenue = \"{}\"\nmunicipality = \"{}\"\npublic_key = \"{}\"\nsecret_sha256 = \"{}\"\n",
                b.node,
                day.venue_id,
                day.municipality,
                keys[i].verifying_key().to_base64(),
                {
                    use sha2::Digest;
                    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
                }
            ));
        }
        let contents = Contents {
            node: b.node.clone(),
            config: toml::to_string(&cfg).map_err(|e| BundleError::Day(e.to_string()))?,
            tls_cert: issued.cert_pem,
            tls_key: issued.key_pem,
            ca: issued.ca_pem,
            crl: crl.clone(),
            node_key: hex::encode(keys[i].to_bytes()),
            data_key: hex::encode(random::<32>()),
            roster_csv: roster.clone(),
        };
        let path = out.join(format!("{}.bundle", b.node));
        crate::keys::write_new(&path, &seal(&contents, passphrase)?, 0o600)
            .map_err(|e| BundleError::Day(e.to_string()))?;
        bundles.push(path);
    }
    let central_boxes = out.join("central-boxes.toml");
    std::fs::write(&central_boxes, central).map_err(io(&central_boxes))?;
    Ok(Made {
        bundles,
        central_boxes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents() -> Contents {
        Contents {
            node: "edge-01".into(),
            config: "venue_id = \"v\"\n".into(),
            tls_cert: "cert".into(),
            tls_key: "key".into(),
            ca: "ca".into(),
            crl: "crl".into(),
            node_key: "00".repeat(32),
            data_key: "11".repeat(32),
            roster_csv: Some("0000000101,髙橋　節子\n".as_bytes().to_vec()),
        }
    }

    #[test]
    fn a_bundle_opens_with_its_passphrase_only_and_hides_its_contents() {
        let sealed = seal(&contents(), "correct horse battery").expect("seal");
        for needle in ["髙橋".as_bytes(), b"venue_id", b"edge-01", b"1111111111"] {
            assert!(!sealed.windows(needle.len()).any(|w| w == needle));
        }
        let opened = open(&sealed, "correct horse battery").expect("open");
        assert_eq!(opened.config, contents().config);
        assert_eq!(opened.roster_csv, contents().roster_csv);
        assert!(matches!(
            open(&sealed, "correct horse batterY"),
            Err(BundleError::Unlock)
        ));
        for i in [0, 7, 30, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x40;
            assert!(
                matches!(
                    open(&bad, "correct horse battery"),
                    Err(BundleError::Unlock)
                ),
                "byte {i}"
            );
        }
        assert!(matches!(
            open(&sealed[..40], "correct horse battery"),
            Err(BundleError::Unlock)
        ));
        assert!(matches!(
            seal(&contents(), "short"),
            Err(BundleError::WeakPassphrase)
        ));
        assert!(!format!("{:?}", opened).contains("1111"));
    }
}
