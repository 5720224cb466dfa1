//! Provisioning: what the municipal administrator sets up before a checkup day and tears
//! down after it — node keys, staff PIN hashes, and (with the provisioning issue) the
//! municipality's CA, enrolment bundles, rosters and wipes.
//!
//! # Layout
//!
//! - [`pin`]: Argon2id hashes of staff PINs for the box configuration.
//! - [`keys`]: node signing keys: generate, write with owner-only permissions, show the
//!   public key to enrol at central and at peers.
//! - [`ca`]: the municipality's certificate authority; enrolling a box (TLS key and
//!   certificate for server and client authentication, event-signing key); revocation.
//! - [`bundle`]: a venue day's enrolment bundles — each box's configuration, keys,
//!   certificates and roster, encrypted with a passphrase — and central's trust list.
//! - [`doctor`]: what `checkup-edge doctor` and `checkup-central doctor` report (findings,
//!   severities, text and JSON, exit status) and the checks both make (certificate
//!   validity, clock skew, free space).
//! - [`demo`]: a whole demo municipality in one command (CA, venue day, bundles, central).
//! - [`mosquitto`]: an external Mosquitto broker with the same rules as the embedded one's
//!   gate (client certificates, each box publishing only on its own topic).
//! - [`tls`]: loading those certificates into rustls servers and clients that check the
//!   other side against the CA and its revocation list; the HTTPS listener.

#![deny(missing_docs)]

pub mod bundle;
pub mod ca;
pub mod demo;
pub mod doctor;
pub mod keys;
pub mod mosquitto;
pub mod pin;
pub mod tls;
