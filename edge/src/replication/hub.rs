//! Which broker the venue uses, and hub failover: the I/O around [`super::failover`].
//!
//! Every box, on its own, twice a second:
//!
//! 1. A broker address in the configuration wins; nothing else is decided.
//! 2. Otherwise it probes the broker port of every box advertising one (an advertisement
//!    alone may be stale: a killed box's records stay in mDNS caches until they expire) and,
//!    unless it serves the broker itself, the web port of every box it knows. With those, its link
//!    state, when it last heard a peer through the broker, and the mDNS goodbyes, it asks
//!    [`super::failover::Detector::decide`], and carries out the answer:
//!    - use the **lowest node id** whose broker answers (a box that serves a broker and sees
//!      a lower one withdraws its advertisement, so a healed partition ends with one broker:
//!      no split brain);
//!    - or start this box's embedded broker and advertise it, when the broker it used is
//!      lost on agreeing evidence and this is the lowest live box (or, slowly, when no broker
//!      was seen for `failover_secs`; a configured hub: a few seconds after start);
//!    - or wait.
//!
//! A returning hub therefore finds the broker another box took over and joins as an
//! ordinary box; it serves again only if the rule picks it. The thresholds and why they
//! are what they are: [`super::failover`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::broker::{self, EmbeddedBroker};
use super::discovery::{Discovery, Peer};
use super::failover::{Action, Detector, Probe, Signals, Timing, Why};
use super::mqtt::ReplicationStatus;

/// How often the choice is made again.
const TICK: Duration = Duration::from_millis(500);
/// How long a peer's port may take to accept before the peer counts as gone.
const PROBE_TIMEOUT: Duration = Duration::from_millis(400);

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
    /// The failover thresholds.
    pub timing: Timing,
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
    let mut detector = Detector::new(opts.timing);
    let origin = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        // Known boxes: those advertised now and, by their last record, those whose
        // advertisement was removed (a removal may be this box's own Wi-Fi going down).
        let mut peers = discovery.as_ref().map(|d| d.peers()).unwrap_or_default();
        let withdrawn = discovery
            .as_ref()
            .map(|d| d.withdrawn())
            .unwrap_or_default();
        let goodbyes: Vec<String> = withdrawn.iter().map(|p| p.node.clone()).collect();
        for w in withdrawn {
            if !peers.iter().any(|p| p.node == w.node) {
                peers.push(w);
            }
        }
        let link_up = status.link.is_connected();
        ever_connected |= link_up;
        // The brokers' ports and the peers' web ports, probed at the same moment: a box
        // whose Wi-Fi is out finds both silent on the same tick, and a silent hub's count
        // starts at its first unanswered probe, before the keep-alive notices.
        let need_live = !advertising;
        let broker_probes = probe_all(&peers, |p| p.mqtt_port);
        let web_probes = async {
            if need_live {
                Some(probe_all(&peers, |p| Some(p.http_port)).await)
            } else {
                None
            }
        };
        let (brokers, web) = tokio::join!(broker_probes, web_probes);
        let live: Option<Vec<String>> = web.map(|w| {
            w.into_iter()
                .filter(|(_, r)| *r == Probe::Open)
                .map(|(p, _)| p.node.clone())
                .collect()
        });
        let broker_signals: Vec<(String, Probe)> =
            brokers.iter().map(|(p, r)| (p.node.clone(), *r)).collect();
        let signals = Signals {
            now: origin.elapsed(),
            me: &opts.node,
            hub: opts.hub,
            ever_connected,
            link_up,
            heard_ago: status.heard_ago(),
            answered_ago: detector.last().and_then(|n| status.link.answered_ago(n)),
            serving: advertising,
            brokers: &broker_signals,
            goodbyes: &goodbyes,
            peers_known: peers.len(),
            live: live.as_deref(),
        };
        let last = detector.last().map(str::to_owned);
        let action = detector.decide(&signals);
        if !matches!(action, Action::Use(_)) || !signals.link_up {
            tracing::debug!(
                node = %opts.node,
                now_ms = signals.now.as_millis() as u64,
                link_up = signals.link_up,
                heard_ago = ?signals.heard_ago,
                answered_ago = ?signals.answered_ago,
                brokers = ?signals.brokers,
                live = ?signals.live,
                ?action,
                "broker choice"
            );
        }
        if let Some(silence) = detector.take_ended_silence() {
            let ms = u64::try_from(silence.as_millis()).unwrap_or(u64::MAX);
            status.longest_silence_ms.fetch_max(ms, Ordering::Relaxed);
            if silence >= TICK * 2 {
                tracing::info!(
                    broker = last.as_deref().unwrap_or("?"),
                    silent_ms = ms,
                    "the venue's broker answered again"
                );
            }
        }
        match action {
            Action::Wait => {}
            Action::Use(node) => {
                let Some(addr) = brokers
                    .iter()
                    .find(|(p, r)| p.node == node && *r == Probe::Open)
                    .and_then(|(p, _)| broker_addr(p))
                else {
                    continue;
                };
                if advertising {
                    tracing::info!(broker = %addr, "a box with a lower node id serves the venue's broker; withdrawing ours");
                    advertising = false;
                    advertise(None);
                }
                status.set_broker(Some(addr.clone()), false);
                target.send_if_modified(|t| replace(t, addr));
            }
            Action::Serve(why) => {
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
                if !advertising {
                    let port = b.addr.port();
                    match why {
                        Why::HubStart => {
                            tracing::info!(port, "the hub serves the venue's broker");
                        }
                        Why::Lost(evidence) => tracing::warn!(
                            port,
                            lost = last.as_deref().unwrap_or("?"),
                            ?evidence,
                            "the venue's broker is lost: this box serves it now"
                        ),
                        Why::NoBroker(waited) => tracing::warn!(
                            port,
                            waited_ms = waited.as_millis() as u64,
                            "no broker at the venue for too long: this box serves it now"
                        ),
                        Why::Lowest => tracing::info!(port, "this box serves the venue's broker"),
                    }
                    advertising = true;
                    status.broker_starts.fetch_add(1, Ordering::Relaxed);
                    advertise(Some(port));
                }
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

/// The address of the broker `p` advertises.
fn broker_addr(p: &Peer) -> Option<BrokerAddr> {
    Some(BrokerAddr {
        host: p.addrs.first()?.to_string(),
        port: p.mqtt_port?,
        node: Some(p.node.clone()),
    })
}

/// Probe `port` (HTTP or MQTT) of every peer that has one, all at once.
async fn probe_all(peers: &[Peer], port: impl Fn(&Peer) -> Option<u16>) -> Vec<(Peer, Probe)> {
    let probes = peers
        .iter()
        .filter_map(|p| port(p).map(|port| (p.clone(), port)))
        .map(|(p, port)| async move {
            let r = probe(&p.addrs, port).await;
            (p, r)
        });
    futures::future::join_all(probes).await
}

/// A TCP connect to `port` on each address: `Open` if any accepts, else `Refused` if any
/// host refused, else `Silent`.
async fn probe(addrs: &[Ipv4Addr], port: u16) -> Probe {
    let mut found = Probe::Silent;
    for ip in addrs {
        let connect = tokio::net::TcpStream::connect((*ip, port));
        match tokio::time::timeout(PROBE_TIMEOUT, connect).await {
            Ok(Ok(_)) => return Probe::Open,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                found = Probe::Refused;
            }
            Ok(Err(_)) | Err(_) => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probes_tell_open_from_refused_from_silent() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let open = l.local_addr().expect("addr").port();
        let lo = [Ipv4Addr::LOCALHOST];
        assert_eq!(probe(&lo, open).await, Probe::Open);
        drop(l);
        assert_eq!(probe(&lo, open).await, Probe::Refused);
        // A listener whose accept queue is full drops further SYNs: nothing answers, as
        // from a host that lost power.
        let s = tokio::net::TcpSocket::new_v4().expect("socket");
        s.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let full = s.local_addr().expect("addr").port();
        let _l = s.listen(0).expect("listen");
        let mut accepted = 0;
        let mut silent = false;
        for _ in 0..8 {
            match probe(&lo, full).await {
                Probe::Open => accepted += 1,
                other => {
                    silent = other == Probe::Silent;
                    break;
                }
            }
        }
        assert!(silent, "after {accepted} accepted");
    }
}
