//! Central's configuration (TOML): where it listens, which database, which boxes may
//! forward (their venue, municipality, signing key and forwarding secret) and the staff.
//!
//! Every key has a default in `Default`; `central/config.example.toml` lists them all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::tokutei::claims::{ClaimPricing, CommissionType, Copayment};

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
    /// `sqlite` (default: `<data_dir>/central.sqlite3`) or a `postgres://…` URL. Several
    /// central processes may share one PostgreSQL database behind one address (staff
    /// sessions are in it too); see `docs/scale-out.md`.
    #[serde(default = "default_database")]
    pub database: String,
    /// A streaming hot standby of `database` (a `postgres://…` URL; only with a PostgreSQL
    /// `database`): the resident record reads — register search, a resident's entry,
    /// results and imported checkups — are answered from it, everything else (ingest,
    /// writes, the audit trail, sessions) from the primary. A record read may be a moment
    /// behind what was just stored: the standby's replay lag, usually well under a second.
    /// Reads fail (503) while the standby is down. Default: none (all on the primary).
    #[serde(default)]
    pub database_standby: Option<String>,
    /// Most events in one batch. Default 2000.
    #[serde(default = "default_max_batch_events")]
    pub max_batch_events: usize,
    /// Largest batch body in bytes. Default 8 MiB.
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// Seconds without a request before a staff session ends. Default 900. Sessions are in
    /// the database (every central process on it honours them); a request renews its
    /// session at most every 5 s (a quarter of a shorter time-out), so a session may end
    /// that much early.
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
    /// This central's municipality (JIS X 0402 code, e.g. `"012025"`): the default of staff
    /// whose `duty` names none. Default: the boxes' municipality when they all share one.
    /// On SQLite every box and staff member must belong to this one municipality; several
    /// municipalities need PostgreSQL, where row-level security keeps them apart.
    #[serde(default)]
    pub municipality: Option<String>,
}

/// The municipality of a central whose configuration names none (no `municipality`, no
/// boxes): one municipality, unnamed.
pub const LOCAL_MUNICIPALITY: &str = "local";

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
    /// `[tokutei.claims]`: what the municipality bills the insurer per checkup. Present: the
    /// archive also holds `CLAIMS/c….xml` per examinee and `su08_V08.xml`. Default: none —
    /// results only.
    #[serde(default)]
    pub claims: Option<ClaimsConfig>,
}

impl TokuteiConfig {
    /// The checked prices of `[tokutei.claims]`, if configured.
    pub fn claim_pricing(&self) -> Result<Option<ClaimPricing>, ConfigError> {
        self.claims.as_ref().map(ClaimsConfig::pricing).transpose()
    }
}

/// `[tokutei.claims]`: 決済情報 — what the municipality (as 健診機関) bills the insurer for
/// each checkup, in whole yen. Written into each claim (cc08) and summed in the summary
/// (su08); the amounts follow from what was done (see `tokutei::claims`). cc08 requires each
/// examinee's 郵便番号: the register's optional `postal_code` column.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsConfig {
    /// 委託料単価区分: `"individual"` (1 個別健診) or `"group"` (2 集団健診).
    pub commission: CommissionType,
    /// 単価（基本的な健診）: the price of the basic checkup, yen.
    pub basic_price: i64,
    /// 単価（詳細な健診）: the price of each detailed test, yen; a test done without a price
    /// here refuses the archive.
    #[serde(default)]
    pub detail_prices: DetailPricesConfig,
    /// 窓口負担（基本的な健診）: what the resident pays of the basic checkup.
    #[serde(default)]
    pub copayment_basic: CopaymentConfig,
    /// 窓口負担（詳細な健診）: what the resident pays of the detailed tests, once per checkup
    /// with any.
    #[serde(default)]
    pub copayment_detail: CopaymentConfig,
    /// 他制度負担額 (paymentByOtherProgram): what another program pays per checkup (e.g. a
    /// jointly held がん検診), yen. Default 0.
    #[serde(default)]
    pub paid_by_other_program: i64,
}

/// `[tokutei.claims.detail_prices]`: 詳細な健診の単価 (別表8), yen.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DetailPricesConfig {
    /// 1 貧血検査.
    #[serde(default)]
    pub anaemia: Option<i64>,
    /// 2 心電図検査.
    #[serde(default)]
    pub ecg: Option<i64>,
    /// 3 眼底検査.
    #[serde(default)]
    pub fundus: Option<i64>,
    /// 4 血清クレアチニン検査 (with eGFR).
    #[serde(default)]
    pub creatinine: Option<i64>,
}

/// 窓口負担の種別 (別表6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CopaymentKind {
    /// 1 負担なし (default).
    #[default]
    None,
    /// 2 定額負担: `amount` yen.
    Amount,
    /// 3 定率負担: `rate_percent` of the price, rounded down to the yen.
    Rate,
}

/// `[tokutei.claims.copayment_basic]` / `[tokutei.claims.copayment_detail]`: 窓口負担.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CopaymentConfig {
    /// `"none"` (1 負担なし), `"amount"` (2 定額負担) or `"rate"` (3 定率負担).
    #[serde(default)]
    pub kind: CopaymentKind,
    /// 窓口負担額, yen (with `kind = "amount"`; at most the price and 999999).
    #[serde(default)]
    pub amount: Option<i64>,
    /// 窓口負担率, whole percent 0–100 (with `kind = "rate"`).
    #[serde(default)]
    pub rate_percent: Option<i64>,
}

fn yen(key: &str, v: i64, max: u64) -> Result<u64, ConfigError> {
    let v = u64::try_from(v).map_err(|_| {
        ConfigError::Invalid(format!("{key}: 金額が負です / must not be negative ({v})"))
    })?;
    if v > max {
        return Err(ConfigError::Invalid(format!(
            "{key}: 金額が上限 {max} 円を超えています / exceeds {max} yen ({v})"
        )));
    }
    Ok(v)
}

impl CopaymentConfig {
    /// The co-payment, checked against `cost` (the smallest price it applies to).
    fn copayment(&self, key: &str, cost: Option<u64>) -> Result<Copayment, ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        match self.kind {
            CopaymentKind::None => {
                if self.amount.is_some() || self.rate_percent.is_some() {
                    return invalid(format!(
                        "{key}: kind = \"none\"（負担なし）に amount / rate_percent は指定できません / takes no amount or rate_percent"
                    ));
                }
                Ok(Copayment::None)
            }
            CopaymentKind::Amount => {
                if self.rate_percent.is_some() {
                    return invalid(format!(
                        "{key}.rate_percent: kind = \"amount\"（定額負担）には指定できません / not with kind = \"amount\""
                    ));
                }
                let Some(a) = self.amount else {
                    return invalid(format!(
                        "{key}.amount: 定額負担には金額が必要です / required with kind = \"amount\""
                    ));
                };
                let a = yen(
                    &format!("{key}.amount"),
                    a,
                    crate::tokutei::claims::MAX_CHARGE,
                )?;
                if let Some(cost) = cost
                    && a > cost
                {
                    return invalid(format!(
                        "{key}.amount: 窓口負担 {a} 円が単価 {cost} 円を超えています / co-payment exceeds the price"
                    ));
                }
                Ok(Copayment::Amount(a))
            }
            CopaymentKind::Rate => {
                if self.amount.is_some() {
                    return invalid(format!(
                        "{key}.amount: kind = \"rate\"（定率負担）には指定できません / not with kind = \"rate\""
                    ));
                }
                let Some(r) = self.rate_percent else {
                    return invalid(format!(
                        "{key}.rate_percent: 定率負担には負担率が必要です / required with kind = \"rate\""
                    ));
                };
                match u64::try_from(r) {
                    Ok(r) if r <= 100 => Ok(Copayment::Rate(r * 1000)),
                    _ => invalid(format!(
                        "{key}.rate_percent: 負担率は0〜100（%）です / must be 0–100 ({r})"
                    )),
                }
            }
        }
    }
}

impl ClaimsConfig {
    /// The checked prices: no negative or oversized amount, no co-payment over the price it
    /// applies to, nothing paid by another program beyond what is left to bill. Errors name
    /// the key.
    pub fn pricing(&self) -> Result<ClaimPricing, ConfigError> {
        use crate::tokutei::claims::{DetailTest, MAX_TOTAL};
        let k = "tokutei.claims";
        let basic_price = yen(&format!("{k}.basic_price"), self.basic_price, MAX_TOTAL)?;
        let mut detail_prices = std::collections::BTreeMap::new();
        let d = &self.detail_prices;
        for (test, price) in [
            (DetailTest::Anaemia, d.anaemia),
            (DetailTest::Ecg, d.ecg),
            (DetailTest::Fundus, d.fundus),
            (DetailTest::Creatinine, d.creatinine),
        ] {
            if let Some(p) = price {
                let key = format!("{k}.detail_prices.{}", test.config_key());
                detail_prices.insert(test, yen(&key, p, MAX_TOTAL)?);
            }
        }
        let copayment_basic = self
            .copayment_basic
            .copayment(&format!("{k}.copayment_basic"), Some(basic_price))?;
        let copayment_detail = self.copayment_detail.copayment(
            &format!("{k}.copayment_detail"),
            detail_prices.values().min().copied(),
        )?;
        let key = format!("{k}.paid_by_other_program");
        let paid_by_other_program = yen(&key, self.paid_by_other_program, MAX_TOTAL)?;
        let left = basic_price - copayment_basic.charge(basic_price);
        if paid_by_other_program > left {
            return Err(ConfigError::Invalid(format!(
                "{key}: 他制度負担額 {paid_by_other_program} 円が単価から窓口負担を引いた {left} 円を超えています / exceeds the price less the co-payment"
            )));
        }
        Ok(ClaimPricing {
            commission_type: self.commission,
            basic_price,
            detail_prices,
            copayment_basic,
            copayment_detail,
            paid_by_other_program,
        })
    }
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
    /// Municipality, rank, department and duties (`duty = { … }`); see [`Duty`].
    #[serde(default)]
    pub duty: Duty,
}

/// `duty = { municipality = "…", rank = "係長", department = "health", districts = […],
/// caseload = […] }`: what a staff member's reads are decided by ([`crate::access`]).
/// Every key may be left out: the municipality is then the central's only one, the rank
/// 係員, the department the role's, and no districts or caseload.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Duty {
    /// The municipality (JIS X 0402 code, e.g. `"012025"`) whose data the staff member
    /// works with. Default: the central's `municipality`.
    #[serde(default)]
    pub municipality: Option<String>,
    /// 職階: `"係員"`, `"主任"`, `"係長"` or `"課長"` (or `staff`, `senior`, `chief`,
    /// `director`). Default 係員.
    #[serde(default)]
    pub rank: crate::access::Rank,
    /// `"health"` (健康づくり・母子保健) or `"child_welfare"` (子ども家庭・児童相談). Default:
    /// the role's (nurse, doctor → health; caseworker, child-welfare clerk → child welfare;
    /// central admin and auditor belong to neither).
    #[serde(default)]
    pub department: Option<crate::access::Department>,
    /// 地区担当: the register districts whose residents a nurse reads without stating why.
    #[serde(default)]
    pub districts: Vec<String>,
    /// 担当ケース: residents (宛名番号) a nurse follows outside her districts.
    #[serde(default)]
    pub caseload: Vec<String>,
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
            database_standby: None,
            max_batch_events: default_max_batch_events(),
            max_batch_bytes: default_max_batch_bytes(),
            idle_timeout_secs: default_idle(),
            boxes: Vec::new(),
            staff: Vec::new(),
            tls: None,
            tokutei: None,
            municipality: None,
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
        if let Some(standby) = &self.database_standby {
            if !self.database.starts_with("postgres://") {
                return Err(ConfigError::Invalid(
                    "database_standby needs a PostgreSQL database (a postgres:// URL) as its primary".into(),
                ));
            }
            if !standby.starts_with("postgres://") {
                return Err(ConfigError::Invalid(
                    "database_standby must be a postgres:// URL".into(),
                ));
            }
        }
        if self.max_batch_events == 0 || self.max_batch_bytes < 1024 {
            return Err(ConfigError::Invalid("batch limits too small".into()));
        }
        if let Some(t) = &self.tokutei {
            t.claim_pricing()?;
        }
        let mut staff_ids = std::collections::HashSet::new();
        for m in &self.staff {
            if !staff_ids.insert(&m.id) {
                return Err(ConfigError::Invalid(format!("staff {} listed twice", m.id)));
            }
            if self.staff_municipality(m).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "staff {}: 自治体が決まりません。duty.municipality か最上位の municipality を書いてください / \
                     no municipality: give duty.municipality or the top-level municipality",
                    m.id
                )));
            }
        }
        let all = self.municipalities();
        if self.database == "sqlite" && all.len() > 1 {
            return Err(ConfigError::Invalid(format!(
                "SQLite は1つの自治体だけを扱います（{}）。複数の自治体には PostgreSQL を使ってください / \
                 SQLite serves one municipality; several need PostgreSQL (row-level security)",
                all.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }

    /// The central's own municipality: `municipality`, else the boxes' when they share one.
    pub fn default_municipality(&self) -> Option<String> {
        if let Some(m) = &self.municipality {
            return Some(m.clone());
        }
        let boxes: std::collections::BTreeSet<&String> =
            self.boxes.iter().map(|b| &b.municipality).collect();
        match boxes.len() {
            // A central that names no municipality at all serves one, unnamed.
            0 => Some(LOCAL_MUNICIPALITY.to_owned()),
            1 => boxes.into_iter().next().cloned(),
            _ => None,
        }
    }

    /// The municipality a staff member works for.
    pub fn staff_municipality(&self, m: &StaffConfig) -> Option<String> {
        m.duty
            .municipality
            .clone()
            .or_else(|| self.default_municipality())
    }

    /// Every municipality the configuration names (boxes, staff, the central's own).
    pub fn municipalities(&self) -> std::collections::BTreeSet<String> {
        let mut all: std::collections::BTreeSet<String> =
            self.boxes.iter().map(|b| b.municipality.clone()).collect();
        all.extend(self.default_municipality());
        all.extend(self.staff.iter().filter_map(|m| self.staff_municipality(m)));
        all
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
        assert_eq!(c.database_standby, d.database_standby);
        assert!(
            c.tokutei.is_none(),
            "the example's [tokutei] is commented out"
        );
    }

    #[test]
    fn a_standby_needs_a_postgresql_primary_and_a_postgresql_url() {
        let pg = "postgres://postgres@127.0.0.1/central";
        let with = |database: &str, standby: &str| Config {
            database: database.into(),
            database_standby: Some(standby.into()),
            ..Config::default()
        };
        assert!(
            with(pg, "postgres://postgres@127.0.0.2/central")
                .check()
                .is_ok()
        );
        let e = with("sqlite", pg).check().expect_err("sqlite primary");
        assert!(e.to_string().contains("needs a PostgreSQL database"), "{e}");
        let e = with(pg, "sqlite").check().expect_err("not a URL");
        assert!(e.to_string().contains("must be a postgres:// URL"), "{e}");
    }

    /// The example with its `[tokutei]` keys and tables uncommented.
    fn example_with_tokutei() -> String {
        let mut in_tokutei = false;
        include_str!("../config.example.toml")
            .lines()
            .map(|l| {
                let rest = l.strip_prefix("# ").unwrap_or("");
                in_tokutei |= rest == "[tokutei]";
                let key = rest.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                });
                if in_tokutei && (rest.starts_with("[tokutei") || key) {
                    rest
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn with_claims(edit: &str) -> String {
        example_with_tokutei().replace("[tokutei.claims]\n", &format!("[tokutei.claims]\n{edit}\n"))
    }

    #[test]
    fn the_documented_claims_give_the_documented_prices() {
        let c: Config = toml::from_str(&example_with_tokutei()).expect("parses");
        c.check().expect("valid");
        let p = c
            .tokutei
            .expect("tokutei")
            .claim_pricing()
            .expect("valid")
            .expect("claims");
        assert_eq!(p.basic_price, 7150);
        assert_eq!(p.copayment_basic, Copayment::Amount(1000));
        assert_eq!(p.copayment_detail, Copayment::None);
        assert_eq!(p.detail_prices.len(), 4);
        assert_eq!(p.commission_type, CommissionType::Group);
    }

    fn refused(toml_text: &str) -> String {
        let c: Config = match toml::from_str(toml_text) {
            Ok(c) => c,
            Err(e) => return e.to_string(),
        };
        match c.check() {
            Ok(()) => panic!("accepted:\n{toml_text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bad_claim_values_are_refused_naming_the_key() {
        let base = example_with_tokutei();
        let cases = [
            (
                base.replace("basic_price = 7150", "basic_price = -7150"),
                "tokutei.claims.basic_price",
            ),
            (
                base.replace("ecg = 1300", "ecg = -1"),
                "tokutei.claims.detail_prices.ecg",
            ),
            (
                base.replace("amount = 1000", "amount = 8000"),
                "tokutei.claims.copayment_basic.amount",
            ),
            (
                base.replace("amount = 1000", "amount = 1000\nrate_percent = 30"),
                "tokutei.claims.copayment_basic.rate_percent",
            ),
            (
                base.replace("kind = \"amount\"", "kind = \"rate\"\nrate_percent = 130")
                    .replace("amount = 1000", ""),
                "tokutei.claims.copayment_basic.rate_percent",
            ),
            (
                base.replace("paid_by_other_program = 0", "paid_by_other_program = 6151"),
                "tokutei.claims.paid_by_other_program",
            ),
            (
                base.replace("kind = \"none\"", "kind = \"amount\"\namount = 200"),
                "tokutei.claims.copayment_detail.amount",
            ),
            (with_claims("colour = 1"), "colour"),
            (
                base.replace("commission = \"group\"", "commission = \"both\""),
                "both",
            ),
        ];
        for (text, needle) in cases {
            let e = refused(&text);
            assert!(e.contains(needle), "{needle}: {e}");
        }
        // The detail co-payment may not exceed the cheapest detailed test (creatinine 110).
        let e = refused(&base.replace("kind = \"none\"", "kind = \"amount\"\namount = 111"));
        assert!(e.contains("単価 110 円を超えています"), "{e}");
        // At the limits it is accepted.
        let ok = base
            .replace("paid_by_other_program = 0", "paid_by_other_program = 6150")
            .replace("kind = \"none\"", "kind = \"amount\"\namount = 110");
        let c: Config = toml::from_str(&ok).expect("parses");
        c.check().expect("limits accepted");
    }
}
