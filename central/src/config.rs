//! Central's configuration (TOML): where it listens, which database, which boxes may
//! forward (their venue, municipality, signing key and forwarding secret) and the staff.
//!
//! Every key has a default in `Default`; `central/config.example.toml` lists them all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors reading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// File unreadable or not TOML of the right shape.
    #[error("configuration {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Keys inconsistent with each other.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP listen address. Default 127.0.0.1:8090.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Directory for the SQLite database. Default "data/central".
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `sqlite` (default: `<data_dir>/central.sqlite3`) or a `postgres://…` URL.
    #[serde(default = "default_database")]
    pub database: String,
    /// Most events in one batch. Default 2000.
    #[serde(default = "default_max_batch_events")]
    pub max_batch_events: usize,
    /// Largest batch body in bytes. Default 8 MiB.
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// Seconds without a request before a staff session ends. Default 900.
    #[serde(default = "default_idle")]
    pub idle_timeout_secs: u64,
    /// Boxes allowed to forward.
    #[serde(default)]
    pub boxes: Vec<BoxConfig>,
    /// Central staff.
    #[serde(default)]
    pub staff: Vec<StaffConfig>,
    /// Central's certificate from the municipality's CA (`checkup-provision enrol --node
    /// central`): HTTPS for everyone, and forwarding only from boxes presenting their own
    /// valid, unrevoked client certificate (mutual TLS). Default: none — then `run` refuses
    /// to start unless given `--insecure-dev`.
    #[serde(default)]
    pub tls: Option<checkup_provisioning::tls::TlsFiles>,
    /// `[tokutei]`: the 特定健診 archive's sender and the MHLW reference files. Default:
    /// none — the export then needs them on its command line, and the staff page's
    /// 特定健診 section answers 503 `tokutei_not_configured`.
    #[serde(default)]
    pub tokutei: Option<TokuteiConfig>,
}

/// `[tokutei]`: who sends 特定健診 archives and where MHLW's files are. The schemas and the
/// item table are the municipality's copy of MHLW's set, never copied into this project.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TokuteiConfig {
    /// 健診機関番号 (10 digits) of the sender.
    #[serde(default)]
    pub institution_number: Option<String>,
    /// 機関名称.
    #[serde(default)]
    pub institution_name: Option<String>,
    /// 電話番号.
    #[serde(default)]
    pub telephone: Option<String>,
    /// 郵便番号 `NNN-NNNN`.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// 所在地.
    #[serde(default)]
    pub address: Option<String>,
    /// MHLW's XSD directory (`hc08_V08.xsd`, `ix08_V08.xsd`, `coreschemas/`).
    #[serde(default)]
    pub xsd_dir: Option<PathBuf>,
    /// The 第4期 item table (`items-hc24.csv`). Default: `items-hc24.csv` beside `xsd_dir`.
    #[serde(default)]
    pub item_table: Option<PathBuf>,
    /// The doctors' names by staff id (events carry only the id): written as 健康診断を実施
    /// した医師の氏名 for the 医師の診断 each recorded.
    #[serde(default)]
    pub doctors: std::collections::BTreeMap<String, String>,
}

/// `[[boxes]]`: an enrolled box.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxConfig {
    /// Node id.
    pub node: String,
    /// Venue it serves.
    pub venue: String,
    /// Municipality (code or name) the venue belongs to.
    pub municipality: String,
    /// Its ed25519 public key (base64), which signs its events.
    pub public_key: String,
    /// SHA-256 (hex) of the secret the box sends as `Authorization: Bearer …`.
    pub secret_sha256: String,
}

/// `[[staff]]`: a central staff member.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    /// Staff id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `central_admin`, `auditor` or `caseworker` (see DESIGN.md).
    pub role: checkup_protocol::Role,
    /// Argon2 PHC hash of the PIN.
    pub pin_hash: String,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8090))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data/central")
}
fn default_database() -> String {
    "sqlite".into()
}
const fn default_max_batch_events() -> usize {
    2000
}
const fn default_max_batch_bytes() -> usize {
    8 * 1024 * 1024
}
const fn default_idle() -> u64 {
    900
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: default_listen(),
            data_dir: default_data_dir(),
            database: default_database(),
            max_batch_events: default_max_batch_events(),
            max_batch_bytes: default_max_batch_bytes(),
            idle_timeout_secs: default_idle(),
            boxes: Vec::new(),
            staff: Vec::new(),
            tls: None,
            tokutei: None,
        }
    }
}

impl Config {
    /// Read and check a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let read = |message: String| ConfigError::Read {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
        let c: Config = toml::from_str(&text).map_err(|e| read(e.to_string()))?;
        c.check()?;
        Ok(c)
    }

    /// Check the keys together.
    pub fn check(&self) -> Result<(), ConfigError> {
        let mut nodes = std::collections::HashSet::new();
        for b in &self.boxes {
            if !nodes.insert(&b.node) {
                return Err(ConfigError::Invalid(format!("box {} listed twice", b.node)));
            }
            checkup_protocol::PublicKey::from_base64(&b.public_key)
                .map_err(|e| ConfigError::Invalid(format!("box {}: {e}", b.node)))?;
            if b.secret_sha256.len() != 64 || hex::decode(&b.secret_sha256).is_err() {
                return Err(ConfigError::Invalid(format!(
                    "box {}: secret_sha256 must be 64 hex digits",
                    b.node
                )));
            }
        }
        if !(self.database == "sqlite" || self.database.starts_with("postgres://")) {
            return Err(ConfigError::Invalid(
                "database must be \"sqlite\" or a postgres:// URL".into(),
            ));
        }
        if self.max_batch_events == 0 || self.max_batch_bytes < 1024 {
            return Err(ConfigError::Invalid("batch limits too small".into()));
        }
        Ok(())
    }
}

/// SHA-256 (hex) of a forwarding secret, as `secret_sha256` holds it.
pub fn secret_digest(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_and_matches_the_defaults() {
        let c: Config = toml::from_str(include_str!("../config.example.toml")).expect("parses");
        c.check().expect("valid");
        let d = Config::default();
        assert_eq!(c.listen, d.listen);
        assert_eq!(c.database, d.database);
        assert_eq!(c.max_batch_events, d.max_batch_events);
        assert_eq!(c.max_batch_bytes, d.max_batch_bytes);
        assert_eq!(c.idle_timeout_secs, d.idle_timeout_secs);
    }
}
