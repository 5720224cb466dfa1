//! Which broker the venue uses, and hub failover.
//!
//! The rule every box applies on its own, twice a second, from what discovery advertises:
//!
//! 1. A broker address in the configuration wins; nothing else is decided.
//! 2. Otherwise the venue's broker is the one served by the **lowest node id** among the boxes
//!    advertising one whose broker port accepts a connection (an advertisement alone may be
//!    stale: a killed box's records stay in mDNS caches until they expire). A box
//!    that serves a broker and sees a lower one advertised withdraws its own advertisement,
//!    so after any partition heals every box converges on one broker: no split brain.
//! 3. When no box serves one and this box has been without a broker for `failover_secs`
//!    (a configured hub: a few seconds after start), the live box (web port accepting
//!    connections) with the lowest node id starts its embedded broker and advertises it; the
//!    others move to it.
//!
//! A returning hub therefore finds the broker another box took over and joins as an
//! ordinary box; it serves again only if rule 3 picks it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::broker::{self, EmbeddedBroker};
use super::discovery::{Discovery, Peer};
use super::mqtt::ReplicationStatus;

/// How often the choice is made again.
const TICK: Duration = Duration::from_millis(500);
/// How long a peer's port may take to accept before the peer counts as gone.
const PROBE_TIMEOUT: Duration = Duration::from_millis(400);
/// How long a configured hub listens for an existing broker before starting its own.
const HUB_GRACE: Duration = Duration::from_secs(3);

/// A broker to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddr {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The node serving it (None: an external broker from the configuration).
    pub node: Option<String>,
}

impl std::fmt::Display for BrokerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// What the choice needs to know about this box.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// This box's node id.
    pub node: String,
    /// A configured external broker (`host:port`).
    pub static_broker: Option<String>,
    /// Configured as the venue's hub.
    pub hub: bool,
    /// Where the embedded broker listens: the listen address's IP and this port (0: any).
    pub broker_ip: IpAddr,
    /// Port of the embedded broker.
    pub broker_port: u16,
    /// Time without a broker before the lowest live box starts one.
    pub failover: Duration,
    /// The TLS gate in front of the embedded broker (every enrolled box has one).
    pub gate: Option<broker::GateOptions>,
}

/// Keep `target` pointing at the venue's broker until `shutdown`. Returns None when this box
/// has nothing to replicate with (no configured broker, no discovery, not a hub).
pub fn start(
    opts: HubOptions,
    discovery: Option<Arc<Discovery>>,
    status: Arc<ReplicationStatus>,
    target: watch::Sender<Option<BrokerAddr>>,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if let Some(b) = &opts.static_broker {
        let (host, port) = b.rsplit_once(':')?;
        let addr = BrokerAddr {
            host: host.to_owned(),
            port: port.parse().ok()?,
            node: None,
        };
        status.set_broker(Some(addr.clone()), false);
        target.send_replace(Some(addr));
        if let Some(d) = &discovery
            && let Err(e) = d.advertise(None)
        {
            tracing::warn!(error = %e, "cannot advertise this box");
        }
        return None;
    }
    if discovery.is_none() && !opts.hub {
        return None;
    }
    Some(tokio::spawn(run(opts, discovery, status, target, shutdown)))
}

async fn run(
    opts: HubOptions,
    discovery: Option<Arc<Discovery>>,
    status: Arc<ReplicationStatus>,
    target: watch::Sender<Option<BrokerAddr>>,
    shutdown: CancellationToken,
) {
    let advertise = |port: Option<u16>| {
        if let Some(d) = &discovery
            && let Err(e) = d.advertise(port)
        {
            tracing::warn!(error = %e, "cannot advertise this box");
        }
    };
    advertise(None);
    let mut own: Option<EmbeddedBroker> = None;
    let mut advertising = false;
    let mut ever_connected = false;
    let mut start_failed = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(TICK) => {}
        }
        let peers = discovery.as_ref().map(|d| d.peers()).unwrap_or_default();
        // Brokers count only while their port accepts connections: an advertisement can be
        // stale (a killed box's records stay in caches until they expire).
        let brokers = reachable(
            peers.iter().filter(|p| p.mqtt_port.is_some()).cloned(),
            |p| p.mqtt_port,
        )
        .await;
        ever_connected |= status.link.is_connected();
        let own_addr = own.as_ref().map(|b| own_target(&opts, b));
        let chosen = choose(&opts.node, &brokers, own_addr.filter(|_| advertising));
        match chosen {
            Some(addr) => {
                if advertising && addr.node.as_deref() != Some(opts.node.as_str()) {
                    tracing::info!(broker = %addr, "a box with a lower node id serves the venue's broker; withdrawing ours");
                    advertising = false;
                    advertise(None);
                }
                status.set_broker(Some(addr.clone()), advertising);
                target.send_if_modified(|t| replace(t, addr));
            }
            None => {
                let limit = if opts.hub && !ever_connected {
                    HUB_GRACE
                } else {
                    opts.failover
                };
                let waited = status.link.down_for();
                if waited < limit {
                    continue;
                }
                // Live boxes: their web port accepts connections.
                let alive = reachable(peers.into_iter(), |p| Some(p.http_port)).await;
                if alive.iter().any(|p| p.node < opts.node) {
                    continue;
                }
                if own.is_none() {
                    let addr = SocketAddr::new(opts.broker_ip, opts.broker_port);
                    match broker::start(addr, opts.gate.as_ref()) {
                        Ok(b) => {
                            status.set_gate(b.gate.clone());
                            own = Some(b);
                        }
                        Err(e) => {
                            if !start_failed {
                                tracing::error!(error = %e, "cannot serve the venue's broker");
                            }
                            start_failed = true;
                            continue;
                        }
                    }
                }
                let Some(b) = own.as_ref() else { continue };
                if opts.hub && !ever_connected {
                    tracing::info!(port = b.addr.port(), "the hub serves the venue's broker");
                } else {
                    tracing::warn!(
                        waited_ms = waited.as_millis() as u64,
                        port = b.addr.port(),
                        "no broker at the venue for too long: this box serves it now"
                    );
                }
                advertising = true;
                advertise(Some(b.addr.port()));
                let addr = own_target(&opts, b);
                status.set_broker(Some(addr.clone()), true);
                target.send_if_modified(|t| replace(t, addr));
            }
        }
    }
}

fn replace(t: &mut Option<BrokerAddr>, addr: BrokerAddr) -> bool {
    if t.as_ref() == Some(&addr) {
        false
    } else {
        tracing::info!(broker = %addr, "venue broker chosen");
        *t = Some(addr);
        true
    }
}

/// This box's own broker, as its own client reaches it.
fn own_target(opts: &HubOptions, b: &EmbeddedBroker) -> BrokerAddr {
    let ip = if b.addr.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        b.addr.ip()
    };
    BrokerAddr {
        host: ip.to_string(),
        port: b.addr.port(),
        node: Some(opts.node.clone()),
    }
}

/// The broker of the lowest node id among the live advertised ones and this box's own.
fn choose(me: &str, alive: &[Peer], own: Option<BrokerAddr>) -> Option<BrokerAddr> {
    let mut best: Option<BrokerAddr> = own.filter(|_| !me.is_empty());
    for p in alive {
        let (Some(port), Some(ip)) = (p.mqtt_port, p.addrs.first()) else {
            continue;
        };
        let lower = match &best {
            None => true,
            Some(b) => b.node.as_deref().is_some_and(|n| p.node.as_str() < n),
        };
        if lower {
            best = Some(BrokerAddr {
                host: ip.to_string(),
                port,
                node: Some(p.node.clone()),
            });
        }
    }
    best
}

/// The peers whose `port` (HTTP or MQTT) accepts a TCP connection now.
async fn reachable(
    peers: impl Iterator<Item = Peer>,
    port: impl Fn(&Peer) -> Option<u16>,
) -> Vec<Peer> {
    let probes = peers
        .filter_map(|p| port(&p).map(|port| (p, port)))
        .map(|(p, port)| async move {
            for ip in &p.addrs {
                let connect = tokio::net::TcpStream::connect((*ip, port));
                if let Ok(Ok(_)) = tokio::time::timeout(PROBE_TIMEOUT, connect).await {
                    return Some(p);
                }
            }
            None
        });
    futures::future::join_all(probes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(node: &str, mqtt: Option<u16>) -> Peer {
        Peer {
            node: node.into(),
            addrs: vec![Ipv4Addr::new(10, 0, 0, 1)],
            http_port: 8080,
            mqtt_port: mqtt,
            hub: false,
        }
    }

    #[test]
    fn the_lowest_advertised_broker_wins_over_our_own() {
        let own = BrokerAddr {
            host: "127.0.0.1".into(),
            port: 1,
            node: Some("edge-03".into()),
        };
        let alive = [
            peer("edge-04", Some(4)),
            peer("edge-02", Some(2)),
            peer("edge-01", None),
        ];
        let c = choose("edge-03", &alive, Some(own.clone())).expect("chosen");
        assert_eq!(c.node.as_deref(), Some("edge-02"));
        assert_eq!(c.port, 2);
        // Only higher ones advertised: ours stays.
        let c = choose("edge-03", &alive[..1], Some(own.clone())).expect("chosen");
        assert_eq!(c, own);
        assert_eq!(choose("edge-03", &[peer("edge-01", None)], None), None);
    }
}
