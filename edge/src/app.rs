//! The box as a service: opens its state from the configuration, routes HTTP, and shuts
//! down cleanly.
//!
//! ```text
//! Edge::open(config)      data dir, node key, data key, event store (projection rebuilt),
//!                         roster, TLS from the enrolment (`[tls]` or a bundle), the
//!                         paper questionnaire folder (`paper_inbox`) if configured
//!   .serve(listener, shutdown)   HTTPS (plain only without TLS: `--insecure-dev`) until
//!                                `shutdown` resolves; then a rehearsal started from the
//!                                venue admin's page is stopped, and the store closes
//! ```
//!
//! The listener is passed in, so tests bind `127.0.0.1:0` and the binary prints the URL
//! only once everything is open and listening.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use checkup_protocol::PublicKey;
use checkup_provisioning::tls::{Incoming, Peer};
use tokio::net::TcpListener;

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::cards::Cards;
use crate::config::CardMode;
use crate::config::Config;
use crate::config::ReplicationConfig;
use crate::http::{AppState, VenueInfo};
use crate::log::store::{EventStore, StoreOptions};
use crate::replication::discovery::{self, Advert, Discovery};
use crate::replication::hub::{self, HubOptions};
use crate::replication::mqtt;
use crate::roster::Roster;
use crate::{intake, node};

/// An opened edge box, ready to serve.
pub struct Edge {
    state: AppState,
    max_body: usize,
    /// How this box replicates (started with the listener, whose address discovery tells).
    replication: ReplicationConfig,
    /// Forwarding to central.
    central: crate::config::CentralConfig,
    /// Training mode: nothing is forwarded.
    training: bool,
    /// The data directory (the forwarding watermark lives there).
    data_dir: std::path::PathBuf,
    /// OCR intake (the scanner's hot folder).
    intake: crate::config::IntakeConfig,
    /// The scanner's folder for paper questionnaires (`paper_inbox`), watched while serving.
    paper_inbox: Option<crate::paper_inbox::PaperInbox>,
    /// TLS from the enrolment; None: plain HTTP and MQTT (`--insecure-dev`).
    tls: Option<crate::tls::EdgeTls>,
}

/// The running replication: discovery, broker choice and the MQTT client.
struct Replicator {
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    discovery: Option<Arc<Discovery>>,
}

impl Replicator {
    fn start(
        state: &AppState,
        config: &ReplicationConfig,
        local: SocketAddr,
        tls: Option<&crate::tls::EdgeTls>,
    ) -> Replicator {
        let stop = CancellationToken::new();
        let discovery = if config.discovery {
            let advert = Advert {
                venue: state.venue.id.clone(),
                node: state.venue.node.clone(),
                hub: config.hub,
                ip: local.ip(),
                http_port: local.port(),
            };
            match Discovery::start(
                advert,
                discovery::interfaces(&config.interfaces, local.ip()),
            ) {
                Ok(d) => Some(Arc::new(d)),
                Err(e) => {
                    tracing::warn!(error = %e, "discovery unavailable: set replication.broker to share the venue");
                    None
                }
            }
        } else {
            None
        };
        let (target_tx, target_rx) = tokio::sync::watch::channel(None);
        let opts = HubOptions {
            node: state.venue.node.clone(),
            static_broker: config.broker.clone(),
            hub: config.hub,
            broker_ip: local.ip(),
            broker_port: config.broker_port,
            timing: crate::replication::failover::Timing::new(
                Duration::from_secs(config.failover_secs),
                Duration::from_secs(config.hub_silence_secs),
            ),
            gate: tls.map(|t| crate::replication::broker::GateOptions {
                config: t.gate.clone(),
                venue: state.venue.id.clone(),
            }),
        };
        let mut tasks = Vec::new();
        let chooser = hub::start(
            opts,
            discovery.clone(),
            state.replication.clone(),
            target_tx,
            stop.clone(),
        );
        let replicating = chooser.is_some() || config.broker.is_some();
        tasks.extend(chooser);
        if replicating {
            tasks.push(mqtt::start(
                state.core.clone(),
                state.keyring.clone(),
                tls.map(|t| t.mqtt.clone()),
                target_rx,
                state.replication.clone(),
                stop.clone(),
            ));
        }
        Replicator {
            stop,
            tasks,
            discovery,
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(d) = self.discovery {
            let _ = tokio::task::spawn_blocking(move || d.shutdown()).await;
        }
    }
}

impl Edge {
    /// Open the data directory, the node key, the event store and the roster, with the
    /// card readers the configuration names (`virtual` needs [`Edge::open_with_cards`]).
    /// Call inside a Tokio runtime when card mode is `system`.
    pub fn open(config: &Config) -> anyhow::Result<Edge> {
        let cards = match config.card.mode {
            CardMode::Off => Cards::disabled(),
            CardMode::System => Cards::watch(None).context("starting the card reader watcher")?,
            CardMode::Virtual => anyhow::bail!(
                "card mode \"virtual\" needs the virtual reader started first (checkup-edge demo does this)"
            ),
        };
        Self::open_with_cards(config, cards)
    }

    /// As [`Edge::open`], with card readers prepared by the caller.
    pub fn open_with_cards(config: &Config, cards: Cards) -> anyhow::Result<Edge> {
        config.check()?;
        crate::training::check_dir(&config.data_dir, config.training)?;
        // rustls' process-wide provider (ring), before any TLS server or HTTP client.
        checkup_provisioning::tls::install_provider();
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Personal data lives here: only the service user may enter.
            let _ =
                std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700));
        }
        let key = match &config.secrets.node_key {
            Some(bytes) => checkup_protocol::NodeKey::from_bytes(bytes),
            None => node::load_or_create(&config.key_path())?,
        };
        let data_key = config.data_key().context("the box's data key")?;
        let device_key = crate::auth::device_key(&key);
        let mut keyring: HashMap<String, PublicKey> = HashMap::new();
        keyring.insert(config.node_id.clone(), key.verifying_key());
        for p in &config.peers {
            let k = PublicKey::from_base64(&p.public_key)
                .map_err(|e| anyhow::anyhow!("peer {}: {e}", p.node))?;
            keyring.insert(p.node.clone(), k);
        }
        let store = EventStore::open(
            &config.store_path(),
            StoreOptions {
                venue: config.venue_id.clone(),
                node: config.node_id.clone(),
                max_batch_events: config.store.max_batch_events,
                key: data_key.clone(),
                training: config.training,
            },
            key,
        )
        .context("opening the event store")?;
        let roster = Arc::new(
            Roster::open(&config.data_dir.join("roster.sqlite3"), data_key.as_ref())
                .context("opening the roster")?,
        );
        let register = match &config.intake.register {
            Some(path) => intake::read_register(path)
                .with_context(|| format!("reading the resident register {}", path.display()))?,
            None => Vec::new(),
        };
        let inbox = intake::inbox::Inbox::open(
            &config.data_dir,
            register,
            crate::at_rest::Files::new(data_key.clone()),
        )
        .context("opening the notice inbox")?;
        if config.staff.is_empty() {
            tracing::warn!("no staff configured: nobody can sign in");
        }
        if let Some(csv) = &config.secrets.roster_csv {
            let (rows, errors) =
                crate::roster::import::parse(csv).context("the bundle's roster")?;
            for e in &errors {
                tracing::warn!(error = ?e, "a roster row of the bundle was refused");
            }
            roster
                .upsert(&rows)
                .context("importing the bundle's roster")?;
        }
        let booked = roster.count().context("reading the roster")?;
        let tls = crate::tls::EdgeTls::of(config)?;
        // A training box asks central for nothing either (its residents are fictional).
        let no_central = crate::config::CentralConfig::default();
        let pre_answers = Arc::new(crate::pre_answers::Fetcher::new(
            if config.training {
                &no_central
            } else {
                &config.central
            },
            tls.as_ref().map(|t| t.central.clone()),
            roster.clone(),
        ));
        let core = crate::venue::Core::new(store.clone(), roster.clone());
        let paper_inbox = match &config.paper_inbox {
            Some(folder) => Some(
                crate::paper_inbox::PaperInbox::open(
                    folder,
                    core.clone(),
                    crate::at_rest::Files::new(data_key.clone()),
                    checkup_drivers::scan::Limits {
                        max_file_bytes: inbox.max_file_bytes(),
                        ..checkup_drivers::scan::Limits::default()
                    },
                )
                .context("opening the paper questionnaire folder (paper_inbox)")?,
            ),
            None => None,
        };
        Ok(Edge {
            state: AppState {
                pre_answers,
                core,
                store,
                auth: Arc::new(
                    Auth::new(
                        &config.staff,
                        Duration::from_secs(config.auth.idle_timeout_secs),
                    )
                    .with_secure_cookies(tls.is_some())
                    .with_training_cookies(config.training)
                    .with_device_key(device_key),
                ),
                venue: Arc::new(VenueInfo {
                    id: config.venue_id.clone(),
                    name: config.venue_name.clone(),
                    node: config.node_id.clone(),
                    stations: config.stations.clone(),
                    booked,
                }),
                keyring: Arc::new(keyring),
                roster,
                cards: Arc::new(cards),
                replication: Arc::default(),
                forward: Arc::default(),
                card_pins: Arc::new(crate::lockout::Lockout::new(crate::venue::CARD_PIN_POLICY)),
                inbox,
                keep_photo_location: config.intake.keep_photo_location,
                stopping: CancellationToken::new(),
                training: None,
                training_switch: crate::training::switch::Switch::of(config).map(Arc::new),
            },
            max_body: config.store.max_body_bytes,
            replication: config.replication.clone(),
            central: config.central.clone(),
            training: config.training,
            data_dir: config.data_dir.clone(),
            intake: config.intake.clone(),
            paper_inbox,
            tls,
        })
    }

    /// Run as a training box with `session` (`checkup-edge training`): pages marked,
    /// refused actions recorded, the session's end stops the box.
    pub fn set_training(&mut self, session: Arc<crate::training::Session>) {
        self.state.training = Some(session);
    }

    /// The handlers' state (for tests and embedding).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The HTTP routes.
    pub fn router(&self) -> axum::Router {
        crate::http::router(self.state.clone(), self.max_body)
    }

    /// Serve until `shutdown` resolves; in-flight requests finish, then the event store
    /// commits what it holds and closes.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.router();
        let local = listener.local_addr().context("listen address")?;
        let replicator =
            Replicator::start(&self.state, &self.replication, local, self.tls.as_ref());
        let forward_stop = CancellationToken::new();
        let forwarder = crate::forward::start(
            self.state.store.clone(),
            self.central.clone(),
            self.tls.as_ref().map(|t| t.central.clone()),
            self.data_dir.clone(),
            self.state.forward.clone(),
            forward_stop.clone(),
            self.training,
        )
        .context("starting the forwarder")?;
        let pre_answers = self.state.pre_answers.start(forward_stop.clone());
        let hot_folder = self.intake.hot_folder.clone().map(|folder| {
            tokio::spawn(crate::intake::inbox::watch_hot_folder(
                self.state.inbox.clone(),
                folder,
                forward_stop.clone(),
            ))
        });
        let paper_inbox = self
            .paper_inbox
            .take()
            .map(|inbox| tokio::spawn(inbox.watch(forward_stop.clone())));
        // With the peer's address, for the sign-in lockout.
        let app = app.into_make_service_with_connect_info::<Peer>();
        let incoming = Incoming::new(listener, self.tls.as_ref().map(|t| t.https.clone()))
            .context("starting TLS")?;
        // When asked to stop, the live streams end first, so that open pages (the board on
        // a TV, tablets) do not hold the graceful shutdown open for ever.
        let stopping = self.state.stopping.clone();
        let shutdown = async move {
            shutdown.await;
            stopping.cancel();
        };
        let served = axum::serve(incoming, app)
            .with_graceful_shutdown(shutdown)
            .await;
        // A rehearsal started from the venue admin's page ends with the box (its summary
        // logged, its data wiped).
        if let Some(switch) = &self.state.training_switch {
            switch.shutdown().await;
        }
        let inbox = self.state.inbox.clone();
        let _ = tokio::task::spawn_blocking(move || inbox.stop()).await;
        replicator.stop().await;
        forward_stop.cancel();
        let _ = forwarder.await;
        let _ = pre_answers.await;
        if let Some(h) = hot_folder {
            let _ = h.await;
        }
        if let Some(h) = paper_inbox {
            let _ = h.await;
        }
        tracing::info!("HTTP server stopped; closing the event store");
        self.state.store.close().await;
        served.context("HTTP server")
    }
}

/// Open a box from `config` and serve on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Edge::open(&config)?.serve(listener, shutdown).await
}
