//! The municipality's certificate authority and box enrolment.
//!
//! The administrator creates one CA per municipality ([`create_ca`]: `ca.crt`, and `ca.key`
//! readable by its owner only) and enrols every box with it ([`enrol_box`]): a new P-256
//! key pair and a certificate naming the box's node id (and the host names or addresses
//! it is reached by), valid for server and client authentication, so the same
//! certificate serves the box's HTTPS, its MQTT client certificate and mutual TLS to
//! central — plus the box's ed25519 event-signing key. Nothing is ever overwritten.
//!
//! Every certificate issued is recorded in `issued.tsv` (node, serial, expiry);
//! [`revoke`] adds a box's certificates to `revoked.tsv` and re-signs the CA's certificate
//! revocation list `crl.pem`, which every TLS endpoint loads (see [`crate::tls`]).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::keys::{self, KeyError};

/// Why a CA or an enrolment could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// Certificate generation or parsing.
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// A file (never overwritten).
    #[error(transparent)]
    File(#[from] KeyError),
    /// Reading the CA.
    #[error("{path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A value given is unusable.
    #[error("{0}")]
    Invalid(String),
}

/// Files of a CA.
pub const CA_CERT: &str = "ca.crt";
/// The CA's private key (mode 0600).
pub const CA_KEY: &str = "ca.key";
/// The CA's certificate revocation list (PEM), re-signed on every revocation.
pub const CA_CRL: &str = "crl.pem";
/// Every certificate issued: `node<TAB>serial (hex)<TAB>not after (Unix seconds)`.
const ISSUED: &str = "issued.tsv";
/// Every certificate revoked: `serial (hex)<TAB>revoked at (Unix seconds)<TAB>node`.
const REVOKED: &str = "revoked.tsv";

fn serial() -> SerialNumber {
    let mut b = [0u8; 16];
    // Without an OS random source no key could be made either.
    getrandom::fill(&mut b).expect("operating system random source unavailable");
    b[0] &= 0x7f; // a positive INTEGER
    SerialNumber::from_slice(&b)
}

fn validity(p: &mut CertificateParams, days: u32) -> Result<(), CaError> {
    if days == 0 || days > 3660 {
        return Err(CaError::Invalid(format!(
            "validity of {days} days: give 1 to 3660"
        )));
    }
    let now = OffsetDateTime::now_utc();
    // An hour of slack for boxes whose clocks lag.
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(i64::from(days));
    Ok(())
}

/// Create the municipality's CA in `dir`: `ca.crt` (PEM) and `ca.key` (PEM, 0600).
pub fn create_ca(dir: &Path, municipality: &str, days: u32) -> Result<PathBuf, CaError> {
    if municipality.trim().is_empty() {
        return Err(CaError::Invalid("the municipality's name is empty".into()));
    }
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, municipality);
    dn.push(
        DnType::CommonName,
        format!("{municipality} Checkup Edge CA"),
    );
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.serial_number = Some(serial());
    validity(&mut p, days)?;
    let cert = p.self_signed(&key)?;
    keys::write_new(&dir.join(CA_KEY), key.serialize_pem().as_bytes(), 0o600)?;
    keys::write_new(&dir.join(CA_CERT), cert.pem().as_bytes(), 0o644)?;
    write_crl(dir)?;
    Ok(dir.join(CA_CERT))
}

fn read_text(path: &Path) -> Result<String, CaError> {
    std::fs::read_to_string(path).map_err(|source| CaError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn issuer(ca_dir: &Path) -> Result<(Issuer<'static, KeyPair>, String), CaError> {
    let ca_key = KeyPair::from_pem(&read_text(&ca_dir.join(CA_KEY))?)?;
    let ca_pem = read_text(&ca_dir.join(CA_CERT))?;
    Ok((Issuer::from_ca_cert_pem(&ca_pem, ca_key)?, ca_pem))
}

fn append_line(path: &Path, line: &str) -> Result<(), CaError> {
    use std::io::Write;
    let io = |source| CaError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)
}

fn lines(path: &Path) -> Result<Vec<Vec<String>>, CaError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(CaError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Re-sign `crl.pem` in `ca_dir` from `revoked.tsv`.
fn write_crl(ca_dir: &Path) -> Result<(), CaError> {
    let (issuer, _) = issuer(ca_dir)?;
    let now = OffsetDateTime::now_utc();
    let mut revoked_certs = Vec::new();
    for l in lines(&ca_dir.join(REVOKED))? {
        let bytes = l
            .first()
            .and_then(|h| hex::decode(h).ok())
            .ok_or_else(|| CaError::Invalid(format!("{REVOKED}: bad serial in {l:?}")))?;
        let at = l
            .get(1)
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .ok_or_else(|| CaError::Invalid(format!("{REVOKED}: bad time in {l:?}")))?;
        revoked_certs.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(&bytes),
            revocation_time: at,
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        });
    }
    let params = CertificateRevocationListParams {
        this_update: now - Duration::hours(1),
        next_update: now + Duration::days(120),
        // Increases with every re-signing (one per second at most).
        crl_number: SerialNumber::from(u64::try_from(now.unix_timestamp()).unwrap_or(0)),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&issuer)?;
    let path = ca_dir.join(CA_CRL);
    let tmp = ca_dir.join(".crl.pem.tmp");
    std::fs::write(&tmp, crl.pem()?).map_err(|source| CaError::Read {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| CaError::Read { path, source })
}

/// Revoke every certificate issued to box `node`: they are added to `revoked.tsv` and the
/// CRL is re-signed. Returns the serials (hex) newly revoked; none if the box was never
/// enrolled or is already revoked (an error names the case).
pub fn revoke(ca_dir: &Path, node: &str) -> Result<Vec<String>, CaError> {
    let issued = lines(&ca_dir.join(ISSUED))?;
    let already: std::collections::HashSet<String> = lines(&ca_dir.join(REVOKED))?
        .into_iter()
        .filter_map(|l| l.into_iter().next())
        .collect();
    let mine: Vec<String> = issued
        .iter()
        .filter(|l| l.first().map(String::as_str) == Some(node))
        .filter_map(|l| l.get(1).cloned())
        .collect();
    if mine.is_empty() {
        return Err(CaError::Invalid(format!(
            "no certificate was issued to {node:?} by this CA"
        )));
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let fresh: Vec<String> = mine.into_iter().filter(|s| !already.contains(s)).collect();
    if fresh.is_empty() {
        return Err(CaError::Invalid(format!("{node:?} is already revoked")));
    }
    for s in &fresh {
        append_line(&ca_dir.join(REVOKED), &format!("{s}\t{now}\t{node}"))?;
    }
    write_crl(ca_dir)?;
    Ok(fresh)
}

/// Boxes with at least one revoked certificate.
pub fn revoked_nodes(ca_dir: &Path) -> Result<Vec<String>, CaError> {
    let mut nodes: Vec<String> = lines(&ca_dir.join(REVOKED))?
        .into_iter()
        .filter_map(|l| l.get(2).cloned())
        .collect();
    nodes.sort();
    nodes.dedup();
    Ok(nodes)
}

/// What an enrolment wrote.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// `<node>.crt`: the box's certificate (PEM).
    pub cert: PathBuf,
    /// `<node>.key`: its TLS private key (PEM, 0600).
    pub key: PathBuf,
    /// `ca.crt`: the CA's certificate, to trust peers and central.
    pub ca: PathBuf,
    /// `<node>.node.key`: the event-signing key (0600).
    pub node_key: PathBuf,
    /// The event-signing public key (base64), for peers and central.
    pub public_key: String,
}

/// Enrol box `node` of `venue` with the CA in `ca_dir`, writing into `out` (created if
/// missing). `hosts` are the names and addresses the box is reached by (the node id is
/// always one). The certificate is valid from an hour ago for `days` days.
pub fn enrol_box(
    ca_dir: &Path,
    node: &str,
    venue: &str,
    hosts: &[String],
    out: &Path,
    days: u32,
) -> Result<Enrolment, CaError> {
    let (not_before, not_after) = days_from_now(days)?;
    enrol_box_between(ca_dir, node, venue, hosts, out, not_before, not_after)
}

/// [`enrol_box`] with explicit validity bounds (tests make expired certificates with it).
pub fn enrol_box_between(
    ca_dir: &Path,
    node: &str,
    venue: &str,
    hosts: &[String],
    out: &Path,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Enrolment, CaError> {
    let issued = issue(ca_dir, node, venue, hosts, not_before, not_after)?;
    std::fs::create_dir_all(out).map_err(|source| CaError::Read {
        path: out.to_path_buf(),
        source,
    })?;
    let e = Enrolment {
        cert: out.join(format!("{node}.crt")),
        key: out.join(format!("{node}.key")),
        ca: out.join(CA_CERT),
        node_key: out.join(format!("{node}.node.key")),
        public_key: String::new(),
    };
    keys::write_new(&e.key, issued.key_pem.as_bytes(), 0o600)?;
    keys::write_new(&e.cert, issued.cert_pem.as_bytes(), 0o644)?;
    if !e.ca.exists() {
        keys::write_new(&e.ca, issued.ca_pem.as_bytes(), 0o644)?;
    }
    let signing = keys::generate(&e.node_key)?;
    Ok(Enrolment {
        public_key: signing.verifying_key().to_base64(),
        ..e
    })
}

/// A certificate issued in memory (for enrolment bundles, whose secrets never touch the
/// disk in the clear).
#[derive(Clone)]
pub struct Issued {
    /// The certificate (PEM).
    pub cert_pem: String,
    /// Its private key (PEM).
    pub key_pem: String,
    /// The CA's certificate (PEM).
    pub ca_pem: String,
}

/// Issue a certificate for `node` of `venue` (recorded in `issued.tsv`), in memory.
pub fn issue(
    ca_dir: &Path,
    node: &str,
    venue: &str,
    hosts: &[String],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Issued, CaError> {
    let valid_id = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !valid_id(node) || !valid_id(venue) {
        return Err(CaError::Invalid(format!(
            "node {node:?} and venue {venue:?} must be 1–63 letters, digits, - or _"
        )));
    }
    if not_after <= not_before {
        return Err(CaError::Invalid(
            "the certificate would never be valid".into(),
        ));
    }
    let (issuer, ca_pem) = issuer(ca_dir)?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, node);
    dn.push(DnType::OrganizationalUnitName, venue);
    p.distinguished_name = dn;
    p.subject_alt_names = std::iter::once(node.to_owned())
        .chain(hosts.iter().cloned())
        .map(|h| match h.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => Ok(SanType::DnsName(h.as_str().try_into()?)),
        })
        .collect::<Result<_, rcgen::Error>>()?;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.use_authority_key_identifier_extension = true;
    let serial = serial();
    p.serial_number = Some(serial.clone());
    p.not_before = not_before;
    p.not_after = not_after;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = p.signed_by(&key, &issuer)?;
    append_line(
        &ca_dir.join(ISSUED),
        &format!(
            "{node}\t{}\t{}",
            hex::encode(serial.to_bytes()),
            not_after.unix_timestamp()
        ),
    )?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        ca_pem,
    })
}

/// Validity of `days` days from an hour ago.
pub fn days_from_now(days: u32) -> Result<(OffsetDateTime, OffsetDateTime), CaError> {
    let mut p = CertificateParams::default();
    validity(&mut p, days)?;
    Ok((p.not_before, p.not_after))
}
