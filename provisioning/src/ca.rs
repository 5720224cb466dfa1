//! The municipality's certificate authority and box enrolment.
//!
//! The administrator creates one CA per municipality ([`create_ca`]: `ca.crt`, and `ca.key`
//! readable by its owner only) and enrols every box with it ([`enrol_box`]): a new P-256
//! key pair and a certificate naming the box's node id (and the host names or addresses
//! it is reached by), valid for server and client authentication, so the same
//! certificate serves the box's HTTPS, its MQTT client certificate and mutual TLS to
//! central — plus the box's ed25519 event-signing key. Nothing is ever overwritten.
//!
//! (The TLS listeners and clients that use these files come next in the provisioning issue;
//! see `docs/security.md`.)

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
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
    Ok(dir.join(CA_CERT))
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
/// always one).
pub fn enrol_box(
    ca_dir: &Path,
    node: &str,
    venue: &str,
    hosts: &[String],
    out: &Path,
    days: u32,
) -> Result<Enrolment, CaError> {
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
    let read = |name: &str| {
        let path = ca_dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| CaError::Read { path, source })
    };
    let ca_key = KeyPair::from_pem(&read(CA_KEY)?)?;
    let ca_pem = read(CA_CERT)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;

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
    p.serial_number = Some(serial());
    validity(&mut p, days)?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = p.signed_by(&key, &issuer)?;

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
    keys::write_new(&e.key, key.serialize_pem().as_bytes(), 0o600)?;
    keys::write_new(&e.cert, cert.pem().as_bytes(), 0o644)?;
    if !e.ca.exists() {
        keys::write_new(&e.ca, ca_pem.as_bytes(), 0o644)?;
    }
    let signing = keys::generate(&e.node_key)?;
    Ok(Enrolment {
        public_key: signing.verifying_key().to_base64(),
        ..e
    })
}
