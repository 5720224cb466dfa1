//! Box configuration: the TOML file given to `checkup-edge run --config FILE`.
//!
//! Every key has a default defined once, in a `default_*` function used both by serde and by
//! `Default`, so the documented default and the real one cannot drift. The commented example
//! `edge/config.example.toml` lists every key; a test parses it and checks it against these
//! defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use checkup_protocol::{Role, StationKind};
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Venue (or office) this box serves. Every event carries it; central refuses events of
    /// another municipality's venues.
    #[serde(default = "default_venue_id")]
    pub venue_id: String,
    /// Name of the venue as shown on the pages.
    #[serde(default = "default_venue_name")]
    pub venue_name: String,
    /// This box's node id: unique within the venue, the key of its sequence numbers.
    #[serde(default = "default_node_id")]
    pub node_id: String,
    /// Address the web UI and API listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Directory holding the event store, the node key and other state.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Node signing key file (32 raw secret bytes). Empty: `<data_dir>/node.key`, created on
    /// first start if missing.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Folder a network scanner drops filled-in paper questionnaires into: each file is
    /// read into the session its QR code names, then moved to `done/`, or to `failed/` with
    /// a `.reason.txt` beside it. Default: none (no folder is watched; forms are uploaded at
    /// the 問診 station).
    #[serde(default)]
    pub paper_inbox: Option<PathBuf>,
    /// Event store tuning.
    #[serde(default)]
    pub store: StoreConfig,
    /// Staff sign-in.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Stations set up at the venue.
    #[serde(default = "default_stations")]
    pub stations: Vec<StationConfig>,
    /// Staff on duty with their roles and PIN hashes.
    #[serde(default)]
    pub staff: Vec<StaffConfig>,
    /// Other boxes whose signed events this box accepts, with their public keys.
    #[serde(default)]
    pub peers: Vec<PeerConfig>,
    /// Card readers.
    #[serde(default)]
    pub card: CardConfig,
    /// Venue replication.
    #[serde(default)]
    pub replication: ReplicationConfig,
    /// Forwarding to central.
    #[serde(default)]
    pub central: CentralConfig,
    /// OCR intake of police notices.
    #[serde(default)]
    pub intake: IntakeConfig,
    /// `[training]`: the venue admin's switch that starts a rehearsal box (練習モード) beside
    /// this one.
    #[serde(default, rename = "training")]
    pub training_switch: TrainingSwitchConfig,
    /// The box's enrolment (`checkup-provision enrol`): HTTPS, MQTT over TLS with client
    /// certificates, mutual TLS to central. Default: none — then `checkup-edge run` refuses
    /// to start unless given `--insecure-dev` (plain HTTP and MQTT, for development).
    #[serde(default)]
    pub tls: Option<checkup_provisioning::tls::TlsFiles>,
    /// Key material given in memory (from an enrolment bundle), never in the file.
    #[serde(skip)]
    pub secrets: Secrets,
    /// Training mode (`checkup-edge training` only, never from a file): events are marked
    /// as training and never forwarded, the data directory is a training compartment.
    #[serde(skip)]
    pub training: bool,
}

/// Key material held in memory only (from an enrolment bundle).
#[derive(Clone, Default)]
pub struct Secrets {
    /// The data key (see `store.key_file`).
    pub data_key: Option<crate::at_rest::DataKey>,
    /// The event-signing key (instead of `key_file`).
    pub node_key: Option<[u8; 32]>,
    /// TLS material (instead of `[tls]`).
    pub tls: Option<checkup_provisioning::tls::TlsPem>,
    /// The day's roster CSV, imported at start.
    pub roster_csv: Option<Vec<u8>>,
}

impl Config {
    /// The configuration an enrolment bundle carries, its keys kept in memory.
    pub fn from_bundle(
        contents: checkup_provisioning::bundle::Contents,
    ) -> Result<Config, ConfigError> {
        let bundle = || PathBuf::from(format!("bundle of {}", contents.node));
        let mut c: Config = toml::from_str(&contents.config).map_err(|e| ConfigError::Parse {
            path: bundle(),
            message: e.to_string(),
        })?;
        let bytes32 = |hex_text: &str, what: &str| -> Result<[u8; 32], ConfigError> {
            hex::decode(hex_text)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| ConfigError::Invalid(format!("bundle: bad {what}")))
        };
        c.secrets = Secrets {
            data_key: Some(crate::at_rest::DataKey::from_bytes(bytes32(
                &contents.data_key,
                "data key",
            )?)),
            node_key: Some(bytes32(&contents.node_key, "signing key")?),
            tls: Some(checkup_provisioning::tls::TlsPem {
                cert: contents.tls_cert,
                key: contents.tls_key,
                ca: contents.ca,
                crl: Some(contents.crl),
            }),
            roster_csv: contents.roster_csv,
        };
        c.check()?;
        Ok(c)
    }

    /// Whether the box has TLS material (a `[tls]` enrolment or a bundle's).
    pub fn has_tls(&self) -> bool {
        self.tls.is_some() || self.secrets.tls.is_some()
    }
}

/// `[intake]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    /// Folder a network scanner drops files into; taken files move to its `taken/`
    /// subfolder. Default: none.
    #[serde(default)]
    pub hot_folder: Option<PathBuf>,
    /// Resident register CSV (`resident_id,name,name_kana,birth_date,sex,address`) the child
    /// is matched against. Default: none.
    #[serde(default)]
    pub register: Option<PathBuf>,
    /// Keep where a case photo was taken (the GPS position in its EXIF, stored beside the
    /// photo, never in it). Default: false — every photo's metadata (GPS, camera make,
    /// model, serial, XMP, maker notes) is dropped.
    #[serde(default)]
    pub keep_photo_location: bool,
}

/// `[training]`: the switch on the venue admin's page that starts a rehearsal
/// (`checkup-edge training`) as a child process of this box, on the same address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSwitchConfig {
    /// Whether the venue admin's page offers the switch. Default true.
    #[serde(default = "default_true")]
    pub switch: bool,
    /// Port the rehearsal box listens on, on this box's address; 0 picks a free one.
    /// Default 0.
    #[serde(default)]
    pub port: u16,
    /// The rehearsal's own data directory (made a training compartment, wiped when the
    /// rehearsal ends). Default: none — `<data_dir>-training`, beside this box's data
    /// directory. Never inside it.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
}

impl Default for TrainingSwitchConfig {
    fn default() -> Self {
        TrainingSwitchConfig {
            switch: default_true(),
            port: 0,
            data_dir: None,
        }
    }
}

impl Config {
    /// The rehearsal's data directory: `[training] data_dir`, else `<data_dir>-training`.
    pub fn training_data_dir(&self) -> PathBuf {
        if let Some(d) = &self.training_switch.data_dir {
            return d.clone();
        }
        let mut name = self
            .data_dir
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "checkup-edge".into());
        name.push("-training");
        match self.data_dir.parent() {
            Some(parent) => parent.join(name),
            None => PathBuf::from(name),
        }
    }
}

/// `[central]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralConfig {
    /// Central's base URL, e.g. "http://central.example:8090". Default: none (nothing is
    /// forwarded). For several central processes, list them in `urls` instead (giving both
    /// is refused).
    #[serde(default)]
    pub url: Option<String>,
    /// Several central processes on one database (scale-out), e.g.
    /// `["https://central-a:8090", "https://central-b:8090"]`: batches go to them in turn,
    /// and a failed batch goes at once to the next before the box backs off (see
    /// `forward.rs`). The one-off requests (pre-answers, a forced wipe's record, `doctor`)
    /// go to the first. Default: empty (then `url`).
    #[serde(default)]
    pub urls: Vec<String>,
    /// This box's forwarding secret (central keeps its SHA-256). Default: none.
    #[serde(default)]
    pub secret: Option<String>,
    /// Events per batch; a batch goes as soon as this many wait. Default 500.
    #[serde(default = "default_batch_events")]
    pub batch_events: usize,
    /// Milliseconds the oldest waiting event may wait before a smaller batch goes.
    /// Default 2000.
    #[serde(default = "default_batch_age_ms")]
    pub batch_age_ms: u64,
    /// Longest wait between retries while central is unreachable. Default 60.
    #[serde(default = "default_max_backoff_secs")]
    pub max_backoff_secs: u64,
    /// Bound on the data directory in MiB; the board alarms above 80 %. Default 4096.
    #[serde(default = "default_max_disk_mb")]
    pub max_disk_mb: u64,
    /// Seconds between fetches of the residents' phone answers (pre-answers) from central;
    /// 0 fetches only on demand and at roster import. Default 600.
    #[serde(default = "default_pre_answers_every_secs")]
    pub pre_answers_every_secs: u64,
    /// The checkup whose pre-answers are fetched: its fiscal year (`"2026"`). Default: the
    /// fiscal year of today in Japan.
    #[serde(default)]
    pub checkup: Option<String>,
}

const fn default_pre_answers_every_secs() -> u64 {
    600
}

const fn default_batch_events() -> usize {
    500
}
const fn default_batch_age_ms() -> u64 {
    2000
}
const fn default_max_backoff_secs() -> u64 {
    60
}
const fn default_max_disk_mb() -> u64 {
    4096
}

impl CentralConfig {
    /// The centrals to forward to, in the order batches take them: `urls`, or `url`.
    pub fn all_urls(&self) -> Vec<&str> {
        if self.urls.is_empty() {
            self.url.iter().map(String::as_str).collect()
        } else {
            self.urls.iter().map(String::as_str).collect()
        }
    }

    /// The first central, for the one-off requests.
    pub fn first_url(&self) -> Option<&str> {
        self.all_urls().first().copied()
    }
}

impl Default for CentralConfig {
    fn default() -> Self {
        CentralConfig {
            url: None,
            urls: Vec::new(),
            secret: None,
            batch_events: default_batch_events(),
            batch_age_ms: default_batch_age_ms(),
            max_backoff_secs: default_max_backoff_secs(),
            max_disk_mb: default_max_disk_mb(),
            pre_answers_every_secs: default_pre_answers_every_secs(),
            checkup: None,
        }
    }
}

/// `[replication]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationConfig {
    /// MQTT broker `host:port` shared by the venue's boxes (e.g. Mosquitto). Set, it overrides
    /// discovery and the embedded broker. Default: none.
    #[serde(default)]
    pub broker: Option<String>,
    /// Find the venue's boxes and broker by mDNS (`_checkup-edge._tcp.local.`) and advertise
    /// this box. Default true.
    #[serde(default = "default_true")]
    pub discovery: bool,
    /// Interfaces (names such as "eth0", or addresses) that discovery uses. Default: the
    /// interface of the listen address (all IPv4 interfaces when listening on 0.0.0.0).
    #[serde(default)]
    pub interfaces: Vec<String>,
    /// This box is the venue's hub: it starts the embedded broker unless another box of the
    /// venue already runs one. Default false.
    #[serde(default)]
    pub hub: bool,
    /// Port of the embedded broker, on the listen address; 0 picks a free port (discovery
    /// tells the others). Default 18830 (never Mosquitto's 1883).
    #[serde(default = "default_broker_port")]
    pub broker_port: u16,
    /// The slow path of hub failover: seconds without any broker answering before the live
    /// box with the lowest node id starts its own, when nothing faster decides (no broker
    /// was ever seen, e.g. boxes started without a hub). A lost hub is decided sooner, on
    /// agreeing evidence (`replication::failover`). Default 30.
    #[serde(default = "default_failover_secs")]
    pub failover_secs: u64,
    /// Seconds the venue's broker must stay silent (no answer to a connect, while other boxes
    /// answer) before it counts as lost — a hub that lost power. Longer than the Wi-Fi cuts a
    /// venue must ride out without a second broker (3 s), short enough that failover stays
    /// under 10 s. A broker whose host refuses connections (crashed, killed) or that said an
    /// mDNS goodbye counts as lost at once. Default 6.
    #[serde(default = "default_hub_silence_secs")]
    pub hub_silence_secs: u64,
}

const fn default_true() -> bool {
    true
}
const fn default_broker_port() -> u16 {
    18830
}
const fn default_failover_secs() -> u64 {
    30
}
const fn default_hub_silence_secs() -> u64 {
    6
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            broker: None,
            discovery: true,
            interfaces: Vec::new(),
            hub: false,
            broker_port: default_broker_port(),
            failover_secs: default_failover_secs(),
            hub_silence_secs: default_hub_silence_secs(),
        }
    }
}

/// `[card]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardConfig {
    /// `system`: the machine's PC/SC readers (pcscd); `virtual`: a private virtual reader
    /// with an emulated card (demo; needs root); `off`: no card reading.
    #[serde(default = "default_card_mode")]
    pub mode: CardMode,
}

/// Where the box's card readers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardMode {
    /// No card reading.
    Off,
    /// The machine's PC/SC readers.
    System,
    /// A private vpcd virtual reader with an emulated card the demo page can tap.
    Virtual,
}

const fn default_card_mode() -> CardMode {
    CardMode::System
}

impl Default for CardConfig {
    fn default() -> Self {
        CardConfig {
            mode: default_card_mode(),
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Most events committed in one transaction (group commit).
    #[serde(default = "default_max_batch_events")]
    pub max_batch_events: usize,
    /// Largest HTTP request body accepted, in bytes.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// The box's data key (64 hex digits; `checkup-provision data-key` makes one): the event
    /// store and roster are encrypted with SQLCipher and the notice inbox's scans are sealed.
    /// Keep it off the box (a USB key, tmpfs); an enrolment bundle carries it instead.
    /// Default: none (files in the clear).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// `[auth]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// A signed-in tablet is signed out after this many seconds without a request.
    #[serde(default = "default_idle_timeout_secs")]
    pub idle_timeout_secs: u64,
}

/// `[[stations]]`: one station (a table with a tablet) at the venue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationConfig {
    /// Short id, unique within the venue (e.g. `bp-1`).
    pub id: String,
    /// What is measured there.
    pub kind: StationKind,
    /// Label shown on the board; empty for the kind's own label.
    #[serde(default)]
    pub label: String,
}

/// `[[staff]]`: a staff member on duty.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    /// Staff id typed at sign-in.
    pub id: String,
    /// Name shown on the pages.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Station kinds a `station` role may record for (ignored for other roles).
    #[serde(default)]
    pub stations: Vec<StationKind>,
    /// 職階: `係員` (default), `主任`, `係長` or `課長` (or `staff`, `senior`, `chief`,
    /// `director`). A child-welfare 係長 and above sees every case's photos.
    #[serde(default)]
    pub rank: checkup_protocol::Rank,
    /// Argon2 PHC hash of the PIN (`checkup-provision hash-pin` makes one).
    pub pin_hash: String,
}

impl std::fmt::Debug for StaffConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffConfig")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("stations", &self.stations)
            .field("pin_hash", &"<redacted>")
            .finish()
    }
}

/// `[[peers]]`: another box of the venue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its node id.
    pub node: String,
    /// Its ed25519 public key, standard base64.
    pub public_key: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("venue_id", &self.venue_id)
            .field("node_id", &self.node_id)
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("stations", &self.stations.len())
            .field("staff", &self.staff.len())
            .field("peers", &self.peers.len())
            .finish_non_exhaustive()
    }
}

fn default_venue_id() -> String {
    "venue".into()
}
fn default_venue_name() -> String {
    "健診会場".into()
}
fn default_node_id() -> String {
    "edge-01".into()
}
/// Default listen address: loopback only, so a box is not exposed until told to be.
pub fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
const fn default_max_batch_events() -> usize {
    4096
}
const fn default_max_body_bytes() -> usize {
    1024 * 1024
}
const fn default_idle_timeout_secs() -> u64 {
    15 * 60
}
/// One station of each kind.
pub fn default_stations() -> Vec<StationConfig> {
    StationKind::ALL
        .into_iter()
        .map(|k| StationConfig {
            id: k.as_str().replace('_', "-"),
            kind: k,
            label: String::new(),
        })
        .collect()
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_batch_events: default_max_batch_events(),
            max_body_bytes: default_max_body_bytes(),
            key_file: None,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            idle_timeout_secs: default_idle_timeout_secs(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            venue_id: default_venue_id(),
            venue_name: default_venue_name(),
            node_id: default_node_id(),
            listen: default_listen(),
            data_dir: default_data_dir(),
            key_file: None,
            paper_inbox: None,
            store: StoreConfig::default(),
            auth: AuthConfig::default(),
            stations: default_stations(),
            staff: Vec::new(),
            peers: Vec::new(),
            card: CardConfig::default(),
            replication: ReplicationConfig::default(),
            central: CentralConfig::default(),
            intake: IntakeConfig::default(),
            training_switch: TrainingSwitchConfig::default(),
            tls: None,
            secrets: Secrets::default(),
            training: false,
        }
    }
}

/// Errors in a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML or an unknown key.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (line and column included).
        message: String,
    },
    /// Keys parse but do not make sense together.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Read and check a TOML file.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// Check the keys together.
    pub fn check(&self) -> Result<(), ConfigError> {
        // Ids name MQTT topics and mDNS instances: no '/', '+', '#' or spaces.
        let id_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if !id_ok(&self.venue_id) || !id_ok(&self.node_id) {
            return Err(ConfigError::Invalid(
                "venue_id and node_id must be 1–64 ASCII letters, digits, '-', '_' or '.'".into(),
            ));
        }
        if self.store.max_batch_events == 0 {
            return Err(ConfigError::Invalid(
                "store.max_batch_events must be ≥ 1".into(),
            ));
        }
        let rehearsal = self.training_data_dir();
        if rehearsal.starts_with(&self.data_dir) || self.data_dir.starts_with(&rehearsal) {
            return Err(ConfigError::Invalid(format!(
                "training.data_dir ({}) must be beside the data directory ({}), never inside it or holding it",
                rehearsal.display(),
                self.data_dir.display()
            )));
        }
        let mut ids = std::collections::HashSet::new();
        for s in &self.staff {
            if s.id.starts_with("system:") {
                return Err(ConfigError::Invalid(format!(
                    "staff id {} is reserved: ids starting with \"system:\" name the box's own work (the scanner's folder)",
                    s.id
                )));
            }
            if !ids.insert(&s.id) {
                return Err(ConfigError::Invalid(format!(
                    "staff id {} is listed twice",
                    s.id
                )));
            }
            if s.role == Role::Station && s.stations.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "staff {} has role station but no stations",
                    s.id
                )));
            }
        }
        if let Some(b) = &self.replication.broker {
            let ok = b
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(ConfigError::Invalid(format!(
                    "replication.broker {b:?} must be host:port"
                )));
            }
        }
        if self.central.url.is_some() && !self.central.urls.is_empty() {
            return Err(ConfigError::Invalid(
                "central.url and central.urls are both given: list every central in central.urls and remove central.url".into(),
            ));
        }
        for u in self.central.all_urls() {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(ConfigError::Invalid(format!(
                    "central url {u:?} must start with http:// or https://"
                )));
            }
            if self.has_tls() && !u.starts_with("https://") {
                return Err(ConfigError::Invalid(format!(
                    "central url {u:?} must be https:// on an enrolled box"
                )));
            }
        }
        if self.central.first_url().is_some() && self.central.secret.is_none() {
            return Err(ConfigError::Invalid(
                "central.secret is required with central.url or central.urls".into(),
            ));
        }
        if self.central.batch_events == 0 || self.central.batch_events > 10_000 {
            return Err(ConfigError::Invalid(
                "central.batch_events must be between 1 and 10000".into(),
            ));
        }
        if self.replication.failover_secs == 0 || self.replication.failover_secs > 3600 {
            return Err(ConfigError::Invalid(
                "replication.failover_secs must be between 1 and 3600".into(),
            ));
        }
        if self.replication.hub_silence_secs < 2 || self.replication.hub_silence_secs > 600 {
            return Err(ConfigError::Invalid(
                "replication.hub_silence_secs must be between 2 and 600 (a shorter silence is \
                 a Wi-Fi hiccup, not a lost hub)"
                    .into(),
            ));
        }
        for p in &self.peers {
            checkup_protocol::PublicKey::from_base64(&p.public_key)
                .map_err(|e| ConfigError::Invalid(format!("peer {}: {e}", p.node)))?;
        }
        Ok(())
    }

    /// The data key: the one given in memory (an enrolment bundle), else `store.key_file`.
    pub fn data_key(&self) -> Result<Option<crate::at_rest::DataKey>, crate::at_rest::AtRestError> {
        if let Some(k) = &self.secrets.data_key {
            return Ok(Some(k.clone()));
        }
        self.store
            .key_file
            .as_deref()
            .map(crate::at_rest::DataKey::load)
            .transpose()
    }

    /// The node key file.
    pub fn key_path(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("node.key"))
    }

    /// The event store file.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("events.sqlite3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_and_matches_the_defaults() {
        let text = include_str!("../config.example.toml");
        let c: Config = toml::from_str(text).expect("example parses");
        c.check().expect("example is valid");
        let d = Config::default();
        assert_eq!(c.venue_id, "demo-venue");
        assert_eq!(c.listen, d.listen);
        assert_eq!(c.store.max_batch_events, d.store.max_batch_events);
        assert_eq!(c.store.max_body_bytes, d.store.max_body_bytes);
        assert_eq!(c.auth.idle_timeout_secs, d.auth.idle_timeout_secs);
        assert_eq!(c.card.mode, d.card.mode);
        assert_eq!(c.paper_inbox, d.paper_inbox);
        assert_eq!(c.intake.keep_photo_location, d.intake.keep_photo_location);
        assert_eq!(c.staff[0].rank, checkup_protocol::Rank::Staff);
        assert_eq!(c.replication.failover_secs, d.replication.failover_secs);
        assert_eq!(
            c.replication.hub_silence_secs,
            d.replication.hub_silence_secs
        );
        assert_eq!(c.training_switch.switch, d.training_switch.switch);
        assert_eq!(c.training_switch.port, d.training_switch.port);
        assert_eq!(c.training_switch.data_dir, d.training_switch.data_dir);
    }

    #[test]
    fn the_rehearsal_lives_beside_the_data_directory_never_inside() {
        let c: Config = toml::from_str("data_dir = \"/var/lib/checkup-edge\"").expect("parses");
        assert_eq!(
            c.training_data_dir(),
            PathBuf::from("/var/lib/checkup-edge-training")
        );
        c.check().expect("default is beside");
        for inside in [
            "/var/lib/checkup-edge/training",
            "/var/lib/checkup-edge",
            "/var",
        ] {
            let c: Config = toml::from_str(&format!(
                "data_dir = \"/var/lib/checkup-edge\"\n[training]\ndata_dir = \"{inside}\""
            ))
            .expect("parses");
            let e = c.check().expect_err(inside);
            assert!(e.to_string().contains("training.data_dir"), "{e}");
        }
    }

    #[test]
    fn hub_failover_settings_are_bounded() {
        for (text, ok) in [
            ("failover_secs = 0", false),
            ("failover_secs = 3601", false),
            ("failover_secs = 5", true),
            ("hub_silence_secs = 1", false),
            ("hub_silence_secs = 2", true),
            ("hub_silence_secs = 601", false),
        ] {
            let c: Config = toml::from_str(&format!("[replication]\n{text}")).expect("parses");
            assert_eq!(c.check().is_ok(), ok, "{text}");
        }
        let e = toml::from_str::<Config>("[replication]\nhub_silence_secs = 1")
            .expect("parses")
            .check()
            .expect_err("too short");
        assert!(e.to_string().contains("hub_silence_secs"), "{e}");
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        let c: Config = toml::from_str("").expect("empty parses");
        assert_eq!(c.node_id, "edge-01");
        assert_eq!(c.stations.len(), StationKind::ALL.len());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(toml::from_str::<Config>("venue = 'x'").is_err());
        let c: Config = toml::from_str("[store]\nmax_batch_events = 0").expect("parses");
        assert!(c.check().is_err());
        let c: Config = toml::from_str(
            "[[staff]]\nid = 'system:paper-inbox'\nname = 'x'\nrole = 'nurse'\npin_hash = 'h'",
        )
        .expect("parses");
        let e = c.check().expect_err("a system id is reserved");
        assert!(e.to_string().contains("reserved"), "{e}");
        let debug = format!(
            "{:?}",
            StaffConfig {
                id: "a".into(),
                name: "n".into(),
                role: Role::Nurse,
                stations: vec![],
                rank: Default::default(),
                pin_hash: "$argon2id$secret".into()
            }
        );
        assert!(!debug.contains("secret"), "PIN hash is redacted: {debug}");
    }

    #[test]
    fn several_centrals_are_listed_in_urls_and_never_beside_url() {
        let c: Config =
            toml::from_str("[central]\nurls = ['http://a:8090', 'http://b:8090']\nsecret = 's'")
                .expect("parses");
        c.check().expect("valid");
        assert_eq!(c.central.all_urls(), ["http://a:8090", "http://b:8090"]);
        assert_eq!(c.central.first_url(), Some("http://a:8090"));
        let one: Config =
            toml::from_str("[central]\nurl = 'http://a:8090'\nsecret = 's'").expect("parses");
        one.check().expect("valid");
        assert_eq!(one.central.all_urls(), ["http://a:8090"]);
        let both: Config = toml::from_str(
            "[central]\nurl = 'http://a:8090'\nurls = ['http://b:8090']\nsecret = 's'",
        )
        .expect("parses");
        let e = both.check().expect_err("both");
        assert!(e.to_string().contains("both given"), "{e}");
        let bad: Config =
            toml::from_str("[central]\nurls = ['http://a:8090', 'ftp://b']\nsecret = 's'")
                .expect("parses");
        let e = bad.check().expect_err("scheme");
        assert!(e.to_string().contains("ftp://b"), "{e}");
        let no_secret: Config =
            toml::from_str("[central]\nurls = ['http://a:8090']").expect("parses");
        assert!(no_secret.check().is_err());
    }
}
