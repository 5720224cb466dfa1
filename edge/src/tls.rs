//! The box's TLS: one enrolment (`[tls]` in the configuration), four uses.
//!
//! ```text
//! https    the web UI and API for tablets        server, no client certificate
//! gate     the embedded broker's TLS gate        server, client certificate required
//! mqtt     this box → the venue's broker         client certificate; broker = any node
//! central  this box → central                    client certificate; central by host name
//! ```
//!
//! Every side checks the other against the municipality's CA and its revocation list
//! ([`checkup_provisioning::tls`]). The certificate must name this box and its venue, so a
//! box cannot be started with another box's enrolment by mistake.

use std::sync::Arc;

use anyhow::Context;
use checkup_provisioning::tls::{self, ClientAuth, ServerCheck, TlsFiles};
use rustls::{ClientConfig, ServerConfig};

/// The rustls configurations of one box.
#[derive(Clone)]
pub struct EdgeTls {
    /// HTTPS for the web UI and API.
    pub https: Arc<ServerConfig>,
    /// The broker gate.
    pub gate: Arc<ServerConfig>,
    /// The MQTT client.
    pub mqtt: Arc<ClientConfig>,
    /// Forwarding to central.
    pub central: Arc<ClientConfig>,
}

impl EdgeTls {
    /// Load the enrolment files and build every configuration; the certificate must name
    /// `node` of `venue`.
    pub fn load(files: &TlsFiles, node: &str, venue: &str) -> anyhow::Result<EdgeTls> {
        let (creds, trust) = files.load().context("loading the box's TLS files")?;
        Self::build(
            &creds,
            &trust,
            &files.cert.display().to_string(),
            Some((node, venue)),
        )
    }

    /// The box's TLS: from its `[tls]` files, or from its bundle; None without either.
    ///
    /// A training box started from a real box's page serves HTTPS with that box's
    /// certificate (so tablets that trust the box trust the rehearsal): its node and venue
    /// are its own, so the certificate is not checked against them. It never replicates
    /// nor forwards, so the certificate is used for HTTPS only.
    pub fn of(config: &crate::config::Config) -> anyhow::Result<Option<EdgeTls>> {
        let (node, venue) = (&config.node_id, &config.venue_id);
        let expect = (!config.training).then_some((node.as_str(), venue.as_str()));
        if let Some(pem) = &config.secrets.tls {
            let (creds, trust) = pem.load().context("the bundle's TLS material")?;
            return Self::build(&creds, &trust, "the bundle's certificate", expect).map(Some);
        }
        config
            .tls
            .as_ref()
            .map(|f| match expect {
                Some((node, venue)) => Self::load(f, node, venue),
                None => {
                    let (creds, trust) = f.load().context("loading the box's TLS files")?;
                    Self::build(&creds, &trust, &f.cert.display().to_string(), None)
                }
            })
            .transpose()
    }

    fn build(
        creds: &tls::Credentials,
        trust: &tls::Trust,
        what: &str,
        expect: Option<(&str, &str)>,
    ) -> anyhow::Result<EdgeTls> {
        if let Some((node, venue)) = expect {
            Self::check_names(creds, what, node, venue)?;
        }
        let (creds, trust) = (creds.clone(), trust.clone());
        Ok(EdgeTls {
            https: tls::server_config(&creds, ClientAuth::None)?,
            gate: tls::server_config(&creds, ClientAuth::Required(&trust))?,
            mqtt: tls::client_config(&trust, Some(&creds), ServerCheck::AnyNode)?,
            central: tls::client_config(&trust, Some(&creds), ServerCheck::Host)?,
        })
    }

    /// The certificate must name this box and its venue.
    fn check_names(
        creds: &tls::Credentials,
        what: &str,
        node: &str,
        venue: &str,
    ) -> anyhow::Result<()> {
        let named = creds.node();
        if named.as_deref() != Some(node) {
            anyhow::bail!(
                "{what} names node {named:?}, but this box is {node:?}: use the box's own enrolment"
            );
        }
        let cert_venue = creds.venue();
        if cert_venue.as_deref() != Some(venue) {
            anyhow::bail!("{what} is for venue {cert_venue:?}, but this box serves {venue:?}");
        }
        Ok(())
    }
}
