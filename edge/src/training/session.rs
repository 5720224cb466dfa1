//! Running a training box: the demo venue's staff and stations under a training name, the
//! training roster, forwarding and replication off, the script started once the box listens,
//! and the end (a signal, `POST /training/end` or the script's end) printing the trainer's
//! summary. Wiping the directory is the caller's last step, once the virtual reader (which
//! keeps its sockets in the directory) has stopped: [`super::wipe`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::Session;
use crate::app::Edge;
use crate::config::Config;

/// Venue id of a training box.
pub const VENUE_ID: &str = "training-venue";

/// How a session runs (`checkup-edge training`'s flags).
#[derive(Debug, Clone)]
pub struct TrainingOptions {
    /// Time factor of the scripted flow (1 = real pace; 60 = an hour in a minute).
    pub speed: f64,
    /// Residents booked.
    pub residents: usize,
    /// The script plays the staff too.
    pub autopilot: bool,
    /// The session ends when the script's last resident is done.
    pub end_when_done: bool,
}

/// The training box's configuration in `data_dir` (already [`super::prepare`]d): the demo
/// venue's stations and staff, its own venue id and name, no replication, marked training.
pub fn config(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<Config> {
    let mut c = crate::demo::config(data_dir, listen).map_err(anyhow::Error::msg)?;
    c.venue_id = VENUE_ID.into();
    c.venue_name = "練習会場（練習モード） / Training venue".into();
    c.training = true;
    // A rehearsal joins no venue: no broker, no discovery, no peers.
    c.replication = crate::config::ReplicationConfig {
        hub: false,
        discovery: false,
        broker: None,
        ..Default::default()
    };
    c.peers.clear();
    Ok(c)
}

/// Load the training roster into `data_dir`.
pub fn load_roster(
    data_dir: &Path,
    key: Option<&crate::at_rest::DataKey>,
    n: usize,
) -> anyhow::Result<usize> {
    let roster = crate::roster::Roster::open(&data_dir.join("roster.sqlite3"), key)?;
    Ok(roster.upsert(&super::roster::roster(n))?)
}

/// Serve the training box on `listener` until a signal or the session's end, running the
/// script; returns the trainer's summary as text (printed by the caller).
pub async fn serve(
    mut edge: Edge,
    config: &Config,
    listener: tokio::net::TcpListener,
    opts: TrainingOptions,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<String> {
    let session = Arc::new(Session::new(opts.speed, config.staff.clone()));
    edge.set_training(session.clone());
    let store = edge.state().store.clone();
    let cards = edge.state().cards.virtual_card().is_some();
    let addr = listener.local_addr()?;
    // The CA the box's certificate chains to: its own, or the real box's it was started
    // from (files, or a bundle's handed over in memory).
    let trust = match (&config.secrets.tls, &config.tls) {
        (Some(pem), _) => Some(pem.load().context("the training box's CA")?.1),
        (None, Some(tls)) => Some(
            checkup_provisioning::tls::Trust::load(&tls.ca, tls.crl.as_deref())
                .context("the training box's CA")?,
        ),
        (None, None) => None,
    };
    let (scheme, http) = match trust {
        Some(trust) => {
            // Any enrolled node: a real box's certificate names the box's address, which
            // the script may not be using.
            let client = checkup_provisioning::tls::client_config(
                &trust,
                None,
                checkup_provisioning::tls::ServerCheck::AnyNode,
            )
            .context("TLS for the script")?;
            (
                "https",
                reqwest::Client::builder()
                    .use_preconfigured_tls((*client).clone())
                    .timeout(std::time::Duration::from_secs(30))
                    .build()?,
            )
        }
        None => (
            "http",
            reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
        ),
    };
    // The script reaches the box where it listens (loopback when it listens on every
    // address).
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    };
    let base = format!("{scheme}://{}", std::net::SocketAddr::new(ip, addr.port()));
    let script_stop = tokio_util::sync::CancellationToken::new();
    let script = tokio::spawn(super::script::run(
        super::script::Options {
            base,
            http,
            cards,
            autopilot: opts.autopilot,
            end_when_done: opts.end_when_done,
        },
        session.clone(),
        super::roster::roster(opts.residents),
        script_stop.clone(),
    ));
    let (summary_tx, summary_rx) = tokio::sync::oneshot::channel();
    let end = session.end.clone();
    let (s2, st2) = (session.clone(), store.clone());
    let shutdown = async move {
        tokio::select! {
            () = signal => {}
            () = end.cancelled() => {}
        }
        script_stop.cancel();
        let summary =
            tokio::task::spawn_blocking(move || super::summary::summarize(&st2, &s2)).await;
        let _ = summary_tx.send(summary);
    };
    let served = edge.serve(listener, shutdown).await;
    match script.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "the training script stopped"),
        Err(e) => tracing::warn!(error = %e, "the training script failed"),
        Ok(Ok(())) => {}
    }
    served?;
    let summary = summary_rx
        .await
        .context("the summary")?
        .context("the summary")??;
    Ok(summary.text())
}
