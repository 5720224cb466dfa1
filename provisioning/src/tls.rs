//! TLS with the municipality's certificates: what every endpoint loads and how it checks
//! the other side.
//!
//! ```text
//! TlsFiles { cert, key, ca, crl }  ─load→  Credentials (own chain + key) + Trust (CA + CRL)
//!   server_config(creds, ClientAuth::…)    edge HTTPS, the broker gate, central
//!   client_config(trust, creds, Server…)   box → central, box → broker
//!   Incoming::{Plain, Tls} + Peer          an axum listener whose connections carry the
//!                                          client certificate's node id
//! ```
//!
//! A certificate is accepted only if it chains to the municipality's CA, is within its
//! validity and is not on the CA's revocation list; the node id is the certificate's common
//! name (every enrolled box's and central's certificate names one, see [`crate::ca`]).
//! Only the `ring` provider is used.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Why TLS material could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file holds no usable PEM of the expected kind.
    #[error("{path}: {what}")]
    Pem {
        /// File.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// rustls refused the material (e.g. key does not match the certificate).
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    /// The verifier could not be built (e.g. a CRL that does not parse).
    #[error("TLS verifier: {0}")]
    Verifier(String),
}

/// `[tls]` of a box's or central's configuration: PEM files from enrolment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// This node's certificate (`<node>.crt`).
    pub cert: PathBuf,
    /// Its private key (`<node>.key`).
    pub key: PathBuf,
    /// The municipality's CA certificate (`ca.crt`): peers, brokers and central must chain
    /// to it.
    pub ca: PathBuf,
    /// The CA's revocation list (`crl.pem`). Default: none (nothing is revoked).
    #[serde(default)]
    pub crl: Option<PathBuf>,
}

/// Install the `ring` provider as rustls' process default (idempotent).
pub fn install_provider() {
    // Err only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn pem_err(path: &Path, what: impl Into<String>) -> TlsError {
    TlsError::Pem {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

/// This node's certificate chain and private key.
#[derive(Debug)]
pub struct Credentials {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Credentials {
    fn clone(&self) -> Self {
        Credentials {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl Credentials {
    /// Load a PEM certificate (chain) and private key.
    pub fn load(cert: &Path, key: &Path) -> Result<Credentials, TlsError> {
        Self::parse(&read(cert)?, cert, &read(key)?, key)
    }

    /// From PEM held in memory (an enrolment bundle); `name` labels errors.
    pub fn from_pem(cert: &[u8], key: &[u8], name: &str) -> Result<Credentials, TlsError> {
        let label = Path::new(name);
        Self::parse(cert, label, key, label)
    }

    fn parse(
        cert: &[u8],
        cert_name: &Path,
        key: &[u8],
        key_name: &Path,
    ) -> Result<Credentials, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_err(cert_name, e.to_string()))?;
        if chain.is_empty() {
            return Err(pem_err(cert_name, "no certificate"));
        }
        let key_der =
            PrivateKeyDer::from_pem_slice(key).map_err(|e| pem_err(key_name, e.to_string()))?;
        Ok(Credentials {
            chain,
            key: key_der,
        })
    }

    /// The node id this certificate names.
    pub fn node(&self) -> Option<String> {
        self.chain.first().and_then(|c| node_of(c))
    }

    /// The venue this certificate names (boxes only).
    pub fn venue(&self) -> Option<String> {
        self.chain.first().and_then(|c| venue_of(c))
    }
}

/// The municipality's CA and its revocation list.
#[derive(Debug, Clone)]
pub struct Trust {
    roots: Arc<RootCertStore>,
    crls: Vec<CertificateRevocationListDer<'static>>,
}

impl Trust {
    /// Load the CA certificate and, if given, its CRL.
    pub fn load(ca: &Path, crl: Option<&Path>) -> Result<Trust, TlsError> {
        let crl_bytes = crl.map(read).transpose()?;
        Self::parse(&read(ca)?, ca, crl_bytes.as_deref(), crl.unwrap_or(ca))
    }

    /// From PEM held in memory (an enrolment bundle); `name` labels errors.
    pub fn from_pem(ca: &[u8], crl: Option<&[u8]>, name: &str) -> Result<Trust, TlsError> {
        Self::parse(ca, Path::new(name), crl, Path::new(name))
    }

    fn parse(
        ca_pem: &[u8],
        ca: &Path,
        crl: Option<&[u8]>,
        crl_name: &Path,
    ) -> Result<Trust, TlsError> {
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca_pem) {
            let c = c.map_err(|e| pem_err(ca, e.to_string()))?;
            roots
                .add(c)
                .map_err(|e| pem_err(ca, format!("not a CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(pem_err(ca, "no certificate"));
        }
        let crls = match crl {
            Some(bytes) => CertificateRevocationListDer::pem_slice_iter(bytes)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| pem_err(crl_name, e.to_string()))?,
            None => Vec::new(),
        };
        Ok(Trust {
            roots: Arc::new(roots),
            crls,
        })
    }
}

/// The same material as [`TlsFiles`], held in memory (from an enrolment bundle).
#[derive(Clone)]
pub struct TlsPem {
    /// Certificate (PEM).
    pub cert: String,
    /// Private key (PEM).
    pub key: String,
    /// CA certificate (PEM).
    pub ca: String,
    /// CA revocation list (PEM).
    pub crl: Option<String>,
}

impl std::fmt::Debug for TlsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsPem(<redacted>)")
    }
}

impl TlsPem {
    /// Parse both halves.
    pub fn load(&self) -> Result<(Credentials, Trust), TlsError> {
        Ok((
            Credentials::from_pem(self.cert.as_bytes(), self.key.as_bytes(), "bundle")?,
            Trust::from_pem(
                self.ca.as_bytes(),
                self.crl.as_deref().map(str::as_bytes),
                "bundle",
            )?,
        ))
    }
}

impl TlsFiles {
    /// Load both halves.
    pub fn load(&self) -> Result<(Credentials, Trust), TlsError> {
        Ok((
            Credentials::load(&self.cert, &self.key)?,
            Trust::load(&self.ca, self.crl.as_deref())?,
        ))
    }
}

/// The node id a certificate names: its subject's common name.
pub fn node_of(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let cn = parsed.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}

/// The venue a box's certificate names: its subject's organisational unit (central's
/// certificate names none).
pub fn venue_of(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let ou = parsed.subject().iter_organizational_unit().next()?;
    ou.as_str().ok().map(str::to_owned)
}

/// Whether a server asks for the client's certificate.
pub enum ClientAuth<'a> {
    /// Browsers (tablets): no client certificate.
    None,
    /// Central: a client certificate, if presented, must be valid; handlers decide what
    /// needs one (ingest does).
    Optional(&'a Trust),
    /// The broker gate: no valid client certificate, no connection.
    Required(&'a Trust),
}

fn client_verifier(
    trust: &Trust,
    optional: bool,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut b = WebPkiClientVerifier::builder(trust.roots.clone())
        .with_crls(trust.crls.iter().cloned())
        .only_check_end_entity_revocation();
    if optional {
        b = b.allow_unauthenticated();
    }
    b.build().map_err(|e| TlsError::Verifier(e.to_string()))
}

/// A server configuration presenting `creds`.
pub fn server_config(
    creds: &Credentials,
    client_auth: ClientAuth<'_>,
) -> Result<Arc<ServerConfig>, TlsError> {
    install_provider();
    let builder = ServerConfig::builder();
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional(t) => builder.with_client_cert_verifier(client_verifier(t, true)?),
        ClientAuth::Required(t) => builder.with_client_cert_verifier(client_verifier(t, false)?),
    };
    let mut config = builder.with_single_cert(creds.chain.clone(), creds.key.clone_key())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How a client checks the server's certificate.
pub enum ServerCheck {
    /// By the host name or address connected to (central, whose URL names it).
    Host,
    /// Any enrolled node of the municipality, whatever address it was reached at: the
    /// venue's broker, which moves between boxes on DHCP addresses found by mDNS. The
    /// certificate must still chain to the CA, be in date and not revoked, and name itself.
    AnyNode,
}

/// A client configuration trusting `trust` and presenting `creds` (when given).
pub fn client_config(
    trust: &Trust,
    creds: Option<&Credentials>,
    check: ServerCheck,
) -> Result<Arc<ClientConfig>, TlsError> {
    install_provider();
    let webpki = WebPkiServerVerifier::builder(trust.roots.clone())
        .with_crls(trust.crls.iter().cloned())
        .only_check_end_entity_revocation()
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        ServerCheck::Host => webpki,
        ServerCheck::AnyNode => Arc::new(AnyNode(webpki)),
    };
    let builder = ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match creds {
        Some(c) => builder.with_client_auth_cert(c.chain.clone(), c.key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Verifies a server as the node its certificate names (see [`ServerCheck::AnyNode`]).
#[derive(Debug)]
struct AnyNode(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyNode {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let node = node_of(end_entity).ok_or(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadEncoding,
        ))?;
        let name = ServerName::try_from(node).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
        })?;
        self.0
            .verify_server_cert(end_entity, intermediates, &name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A TLS server stream.
pub type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// The client's node id on a TLS stream (from its verified certificate), if it gave one.
pub fn client_node(stream: &TlsStream) -> Option<String> {
    client_cert(stream).and_then(node_of)
}

/// The client's verified certificate on a TLS stream, if it gave one.
pub fn client_cert(stream: &TlsStream) -> Option<&CertificateDer<'static>> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
}

/// Handshakes refused (bad, expired, revoked or foreign certificates, no certificate where
/// one is required, or not TLS at all), for health pages and tests.
#[derive(Debug, Default)]
pub struct HandshakeStats {
    /// Refused handshakes.
    pub refused: AtomicU64,
}

/// Accepts TCP connections and completes TLS handshakes concurrently (a slow or hostile
/// client cannot hold up the others); the streams come out in the order they finish.
pub struct TlsAcceptorTask {
    rx: mpsc::Receiver<(TlsStream, SocketAddr)>,
    local: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    /// Refused handshakes.
    pub stats: Arc<HandshakeStats>,
}

/// Longest a client may take to finish the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl TlsAcceptorTask {
    /// Start accepting on `listener` with `config`.
    pub fn start(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let stats = Arc::new(HandshakeStats::default());
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let counted = stats.clone();
        let task = tokio::spawn(async move {
            loop {
                let (tcp, addr) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Small messages (MQTT publishes, API answers) must not wait for Nagle.
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY not set");
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, addr)).await;
                        }
                        Ok(Err(e)) => {
                            counted.refused.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(client = %addr, error = %e, "TLS handshake refused");
                        }
                        Err(_) => {
                            counted.refused.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(client = %addr, "TLS handshake timed out");
                        }
                    }
                });
            }
        });
        Ok(TlsAcceptorTask {
            rx,
            local,
            task,
            stats,
        })
    }

    /// The next connection whose handshake succeeded.
    pub async fn accept(&mut self) -> Option<(TlsStream, SocketAddr)> {
        self.rx.recv().await
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for TlsAcceptorTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A listener for axum: plain TCP (only with `--insecure-dev`) or TLS.
pub enum Incoming {
    /// Plain HTTP.
    Plain(TcpListener),
    /// HTTPS.
    Tls(TlsAcceptorTask),
}

/// A connection of an [`Incoming`].
pub type Io = tokio_util::either::Either<TcpStream, TlsStream>;

impl Incoming {
    /// Serve TLS with `config` on `listener`, or plain TCP when `config` is `None`.
    pub fn new(listener: TcpListener, config: Option<Arc<ServerConfig>>) -> std::io::Result<Self> {
        Ok(match config {
            Some(c) => Incoming::Tls(TlsAcceptorTask::start(listener, c)?),
            None => Incoming::Plain(listener),
        })
    }

    /// Refused handshakes (none for plain TCP).
    pub fn stats(&self) -> Arc<HandshakeStats> {
        match self {
            Incoming::Plain(_) => Arc::default(),
            Incoming::Tls(t) => t.stats.clone(),
        }
    }
}

impl axum::serve::Listener for Incoming {
    type Io = Io;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Io, SocketAddr) {
        match self {
            Incoming::Plain(l) => {
                // axum's own accept loop (it waits out transient errors).
                let (s, a) = axum::serve::Listener::accept(l).await;
                (Io::Left(s), a)
            }
            Incoming::Tls(t) => match t.accept().await {
                Some((s, a)) => (Io::Right(s), a),
                // The accepting task ended (it never does on its own): nothing more comes.
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Incoming::Plain(l) => l.local_addr(),
            Incoming::Tls(t) => Ok(t.local_addr()),
        }
    }
}

/// Who is on the other end of a connection: the handlers' `ConnectInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Client address.
    pub addr: SocketAddr,
    /// The node id of its verified client certificate, if it presented one.
    pub node: Option<String>,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Incoming>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Incoming>) -> Peer {
        let node = match stream.io() {
            Io::Left(_) => None,
            Io::Right(tls) => client_node(tls),
        };
        Peer {
            addr: *stream.remote_addr(),
            node,
        }
    }
}

impl axum::extract::connect_info::Connected<SocketAddr> for Peer {
    fn connect_info(addr: SocketAddr) -> Peer {
        Peer { addr, node: None }
    }
}
