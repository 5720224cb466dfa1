//! Central as a service: opens the database from the configuration, routes HTTP, shuts down
//! cleanly.
//!
//! ```text
//! Central::open(config)            database (migrated), enrolled boxes, staff
//!   .serve(listener, shutdown)     axum until `shutdown` resolves
//! ```

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use checkup_protocol::PublicKey;
use checkup_provisioning::tls::{self, ClientAuth, Incoming, Peer};
use tokio::net::TcpListener;

use crate::config::{Config, StaffConfig};
use crate::db::Store;
use crate::http::{self, ingest};

/// An enrolled box, as its secret identifies it.
#[derive(Debug, Clone)]
pub struct EnrolledBox {
    /// Node id.
    pub node: String,
    /// Municipality.
    pub municipality: String,
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Storage as central's own login: every municipality's rows. Only what belongs to no
    /// municipality uses it (liveness, the audit verifier, sign-in, links of residents);
    /// staff and boxes use their municipality's view ([`Store::scoped`]), through
    /// [`http::session::staff`] and the batch receiver.
    pub owner: Arc<dyn Store>,
    /// Told when a high-risk flag is raised in this process (the flag streams then look at
    /// once rather than at their next poll).
    pub flag_raised: tokio::sync::broadcast::Sender<()>,
    /// Staff as the access rules see them, by id.
    pub viewers: Arc<HashMap<String, crate::access::Viewer>>,
    /// Public keys of every enrolled box.
    pub keys: Arc<HashMap<String, PublicKey>>,
    /// Boxes by the SHA-256 of their secret.
    pub boxes: Arc<HashMap<String, EnrolledBox>>,
    /// Venues of each municipality.
    pub venues: Arc<HashMap<String, Vec<String>>>,
    /// Batch limits.
    pub max_batch_events: usize,
    /// Largest body.
    pub max_batch_bytes: usize,
    /// Staff by id.
    pub staff: Arc<HashMap<String, StaffConfig>>,
    /// Idle sign-out (sessions themselves are in the database: `http::session`).
    pub idle: Duration,
    /// Batches refused, by reason.
    pub rejected: Arc<ingest::Rejections>,
    /// Batches this process stored since it started (one of several processes behind one
    /// address shows its share on `GET /healthz`).
    pub batches_stored: Arc<std::sync::atomic::AtomicU64>,
    /// Boxes must forward over mutual TLS with their own certificate (central has `[tls]`).
    pub require_client_cert: bool,
    /// The 特定健診 export's settings from `[tokutei]`, or why there are none (answered to
    /// the web page as `tokutei_not_configured`).
    pub tokutei_export: Arc<Result<crate::tokutei::export::Settings, String>>,
    /// TLS handshakes refused (foreign, expired or revoked certificates).
    pub handshakes: Arc<std::sync::OnceLock<Arc<checkup_provisioning::tls::HandshakeStats>>>,
    /// `[tokutei]`: the sender and MHLW's files, for a resident's record exported and
    /// imported as standard documents.
    pub tokutei: Arc<Option<crate::config::TokuteiConfig>>,
}

/// An opened central, ready to serve.
pub struct Central {
    state: AppState,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Central {
    /// Open the database (migrating it) and load the enrolled boxes and staff.
    pub async fn open(config: &Config) -> anyhow::Result<Central> {
        config.check()?;
        // rustls' process-wide provider (ring), before any TLS server.
        tls::install_provider();
        let db = crate::db::open(config)
            .await
            .context("opening the database")?;
        let municipalities: Vec<String> = config.municipalities().into_iter().collect();
        db.prepare_municipalities(&municipalities, config.default_municipality().as_deref())
            .await
            .context("preparing the municipalities' database roles")?;
        let mut keys = HashMap::new();
        let mut boxes = HashMap::new();
        let mut venues: HashMap<String, HashSet<String>> = HashMap::new();
        for b in &config.boxes {
            let key = PublicKey::from_base64(&b.public_key).map_err(anyhow::Error::msg)?;
            keys.insert(b.node.clone(), key);
            boxes.insert(
                b.secret_sha256.to_ascii_lowercase(),
                EnrolledBox {
                    node: b.node.clone(),
                    municipality: b.municipality.clone(),
                },
            );
            venues
                .entry(b.municipality.clone())
                .or_default()
                .insert(b.venue.clone());
        }
        if config.staff.is_empty() {
            tracing::warn!("no central staff configured: nobody can sign in");
        }
        let tls = match &config.tls {
            Some(files) => {
                let (creds, trust) = files.load().context("loading central's TLS files")?;
                Some(tls::server_config(&creds, ClientAuth::Optional(&trust))?)
            }
            None => None,
        };
        let tokutei_export = match &config.tokutei {
            None => Err(crate::tokutei::export::SettingsError::NotConfigured.to_string()),
            Some(t) => crate::tokutei::export::Settings::from_config(t, Default::default())
                .map_err(|e| {
                    tracing::warn!(error = %e, "特定健診 export unavailable");
                    e.to_string()
                }),
        };
        Ok(Central {
            tls,
            state: AppState {
                owner: db,
                flag_raised: tokio::sync::broadcast::channel(16).0,
                viewers: Arc::new(
                    config
                        .staff
                        .iter()
                        .map(|m| (m.id.clone(), crate::access::Viewer::of(config, m)))
                        .collect(),
                ),
                keys: Arc::new(keys),
                boxes: Arc::new(boxes),
                venues: Arc::new(
                    venues
                        .into_iter()
                        .map(|(m, v)| (m, v.into_iter().collect()))
                        .collect(),
                ),
                max_batch_events: config.max_batch_events,
                max_batch_bytes: config.max_batch_bytes,
                staff: Arc::new(
                    config
                        .staff
                        .iter()
                        .map(|s| (s.id.clone(), s.clone()))
                        .collect(),
                ),
                idle: Duration::from_secs(config.idle_timeout_secs),
                rejected: Arc::default(),
                batches_stored: Arc::default(),
                require_client_cert: config.tls.is_some(),
                tokutei_export: Arc::new(tokutei_export),
                handshakes: Arc::default(),
                tokutei: Arc::new(config.tokutei.clone()),
            },
        })
    }

    /// The handlers' state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The HTTP routes ([`http::routes`]); `GET /openapi.json` serves the document they
    /// make; paths and methods they lack are answered with the JSON error too.
    pub fn router(&self) -> Router {
        let (router, document) = http::routes().split_for_parts();
        router
            .fallback(http::extract::no_such_route)
            .method_not_allowed_fallback(http::extract::method_not_allowed)
            .layer(axum::Extension(http::openapi::Document::new(&document)))
            .with_state(self.state.clone())
    }

    /// Serve until `shutdown` resolves; in-flight requests finish first.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let incoming = Incoming::new(listener, self.tls.clone()).context("starting TLS")?;
        let _ = self.state.handshakes.set(incoming.stats());
        let app = self.router().into_make_service_with_connect_info::<Peer>();
        axum::serve(incoming, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("HTTP server")
    }
}
