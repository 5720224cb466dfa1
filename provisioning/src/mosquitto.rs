//! A venue's external Mosquitto broker, set up like the embedded one's TLS gate
//! (`edge/src/replication/gate.rs`): TLS with a certificate from the municipality's CA,
//! client certificates required and checked against the CA's revocation list, the client's
//! certificate common name (its node id) as its user name, and an ACL that lets each box
//! publish events only on its own topic.
//!
//! ```text
//! <out>/mosquitto.conf   listener, CA, certificate, key, CRL, require_certificate, ACL
//! <out>/acl              pattern write checkup/+/events/%u, the sync topics; read checkup/#
//! <out>/broker.crt|key   the broker's enrolment (node id `broker`)
//! ```
//!
//! Mosquitto's patterns cannot name the venue from the certificate: a box of another venue
//! of the same municipality could read this venue's topics (the embedded gate refuses it).
//! One broker per venue, on the venue's own network, is the supported set-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::ca::{self, CaError};

/// The ACL every box gets.
pub const ACL: &str = "\
# Checkup Edge: each box publishes its events only under its own node id (the certificate's
# common name, via use_identity_as_username); any box may ask and answer on the sync topics
# (answers carry events signed by their own nodes, which every peer verifies).
pattern write checkup/+/events/%u
pattern write checkup/+/sync/request
pattern write checkup/+/sync/reply/+
pattern read checkup/#
";

/// Write a Mosquitto configuration listening on `listen` into `out`, enrolling the broker
/// with the CA in `ca_dir` if `out` holds no enrolment yet. `user`: the account Mosquitto
/// drops to when started as root (it must be able to read the key). Returns the
/// configuration file.
pub fn write_config(
    ca_dir: &Path,
    out: &Path,
    listen: SocketAddr,
    user: &str,
) -> Result<PathBuf, CaError> {
    if user.is_empty() || user.contains(char::is_whitespace) {
        return Err(CaError::Invalid(format!("user {user:?}")));
    }
    let cert = out.join("broker.crt");
    if !cert.exists() {
        ca::enrol_box(
            ca_dir,
            "broker",
            "municipal",
            &[listen.ip().to_string()],
            out,
            120,
        )?;
    }
    let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let conf = format!(
        "# Written by checkup-provision broker-config.\n\
         user {user}\n\
         per_listener_settings false\n\
         allow_anonymous false\n\
         persistence false\n\
         log_dest stderr\n\
         max_packet_size {max}\n\
         listener {port} {ip}\n\
         cafile {ca}\n\
         certfile {cert}\n\
         keyfile {key}\n\
         crlfile {crl}\n\
         require_certificate true\n\
         use_identity_as_username true\n\
         tls_version tlsv1.2\n\
         acl_file {acl}\n",
        max = 4 * 1024 * 1024 + 4096,
        port = listen.port(),
        ip = listen.ip(),
        ca = abs(ca_dir.join(ca::CA_CERT)).display(),
        cert = abs(cert).display(),
        key = abs(out.join("broker.key")).display(),
        crl = abs(ca_dir.join(ca::CA_CRL)).display(),
        acl = abs(out.join("acl")).display(),
    );
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| CaError::Read { path, source })
    };
    write("acl", ACL)?;
    write("mosquitto.conf", &conf)?;
    Ok(out.join("mosquitto.conf"))
}
