//! Discovery of the venue's boxes by mDNS (`_checkup-edge._tcp.local.`).
//!
//! Every box advertises one service instance whose TXT records say who it is:
//!
//! ```text
//! venue=<venue id>  node=<node id>  role=hub|box  http=<port>  mqtt=<port or 0>  ver=1
//! ```
//!
//! and browses for the others. Boxes of another venue, other format versions and this box's
//! own advertisement are ignored. `mqtt` is non-zero only while the box serves the venue's
//! embedded broker, so the set of advertised brokers is what [`super::hub`] chooses from.
//!
//! A box that shuts down cleanly withdraws its advertisement (an mDNS goodbye); the others
//! remember its last record ([`Discovery::withdrawn`]) for [`super::failover`]. A killed box
//! sends none. A removal is only a hint: mdns-sd also drops records when they expire, and
//! drops every record learnt on an interface when *this* box's interface goes down (its own
//! Wi-Fi cut) — so a withdrawn box is still a known box, and is still probed.
//!
//! Multicast goes only to the interfaces named in the configuration (default: the interface
//! of the listen address), never to every interface of the machine.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};

/// The service type every box advertises.
pub const SERVICE_TYPE: &str = "_checkup-edge._tcp.local.";

/// How often the browse is restarted, so that boxes whose records changed while the network
/// was down are asked again.
const REBROWSE: Duration = Duration::from_secs(5);

/// Why discovery could not start or advertise.
#[derive(Debug, thiserror::Error)]
#[error("mDNS discovery: {0}")]
pub struct DiscoveryError(String);

impl From<mdns_sd::Error> for DiscoveryError {
    fn from(e: mdns_sd::Error) -> Self {
        DiscoveryError(e.to_string())
    }
}

/// Another box of the venue, as last advertised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Node id.
    pub node: String,
    /// Its IPv4 addresses.
    pub addrs: Vec<Ipv4Addr>,
    /// HTTP port of its web UI and API.
    pub http_port: u16,
    /// Port of the embedded broker it serves, if it serves one.
    pub mqtt_port: Option<u16>,
    /// Whether it is configured as the venue's hub.
    pub hub: bool,
}

/// What this box says about itself.
#[derive(Debug, Clone)]
pub struct Advert {
    /// Venue id.
    pub venue: String,
    /// Node id.
    pub node: String,
    /// Configured as hub.
    pub hub: bool,
    /// Address the box listens on (unspecified: every address of the enabled interfaces).
    pub ip: IpAddr,
    /// HTTP port.
    pub http_port: u16,
}

/// The venue's other boxes by node id (with their instance name), and the last record of
/// the boxes whose advertisement was removed and not renewed since.
#[derive(Debug, Default)]
struct Seen {
    peers: HashMap<String, (String, Peer)>,
    gone: HashMap<String, Peer>,
}

/// A running discovery: the advertisement and the browse.
pub struct Discovery {
    daemon: ServiceDaemon,
    advert: Advert,
    fullname: Mutex<Option<String>>,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("advert", &self.advert)
            .finish_non_exhaustive()
    }
}

/// Which interfaces to use: the configured names or addresses, else the listen address's
/// interface (all IPv4 interfaces when it is unspecified).
pub fn interfaces(configured: &[String], listen: IpAddr) -> Vec<IfKind> {
    if configured.is_empty() {
        return if listen.is_unspecified() {
            vec![IfKind::IPv4]
        } else {
            vec![IfKind::Addr(listen)]
        };
    }
    configured
        .iter()
        .map(|s| match s.parse::<IpAddr>() {
            Ok(ip) => IfKind::Addr(ip),
            Err(_) => IfKind::Name(s.clone()),
        })
        .collect()
}

impl Discovery {
    /// Start the mDNS daemon on `interfaces` only, and browse for the venue's boxes. Call
    /// [`Discovery::advertise`] to announce this box.
    pub fn start(advert: Advert, interfaces: Vec<IfKind>) -> Result<Discovery, DiscoveryError> {
        let daemon = ServiceDaemon::new()?;
        daemon.disable_interface(IfKind::All)?;
        daemon.enable_interface(interfaces)?;
        let peers: Arc<Mutex<Seen>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (d, p, s, venue, me) = (
            daemon.clone(),
            peers.clone(),
            stop.clone(),
            advert.venue.clone(),
            advert.node.clone(),
        );
        std::thread::Builder::new()
            .name("mdns-browse".into())
            .spawn(move || browse_loop(&d, &p, &s, &venue, &me))
            .map_err(|e| DiscoveryError(e.to_string()))?;
        Ok(Discovery {
            daemon,
            advert,
            fullname: Mutex::new(None),
            seen: peers,
            stop,
        })
    }

    /// Announce this box, with the port of the broker it serves (None: it serves none).
    /// Called again whenever that changes; the new records replace the old ones.
    pub fn advertise(&self, mqtt_port: Option<u16>) -> Result<(), DiscoveryError> {
        let a = &self.advert;
        let instance: String = format!("{}-{}", a.node, a.venue).chars().take(63).collect();
        let host = format!("{}.local.", instance.replace('.', "-"));
        let props = [
            ("venue", a.venue.clone()),
            ("node", a.node.clone()),
            ("role", if a.hub { "hub" } else { "box" }.to_owned()),
            ("http", a.http_port.to_string()),
            ("mqtt", mqtt_port.unwrap_or(0).to_string()),
            ("ver", checkup_protocol::FORMAT_VERSION.to_string()),
        ];
        let info = if a.ip.is_unspecified() {
            ServiceInfo::new(SERVICE_TYPE, &instance, &host, "", a.http_port, &props[..])?
                .enable_addr_auto()
        } else {
            ServiceInfo::new(
                SERVICE_TYPE,
                &instance,
                &host,
                a.ip,
                a.http_port,
                &props[..],
            )?
        };
        let fullname = info.get_fullname().to_owned();
        self.daemon.register(info)?;
        if let Ok(mut g) = self.fullname.lock() {
            *g = Some(fullname);
        }
        Ok(())
    }

    /// The venue's other boxes, as currently advertised, by node id.
    pub fn peers(&self) -> Vec<Peer> {
        let g = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Peer> = g.peers.values().map(|(_, p)| p.clone()).collect();
        out.sort_by(|a, b| a.node.cmp(&b.node));
        out
    }

    /// The last record of each box whose advertisement was removed — an mDNS goodbye (a
    /// clean shutdown), an expiry, or this box's own interface going down — and that has
    /// not advertised again since, by node id.
    pub fn withdrawn(&self) -> Vec<Peer> {
        let g = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Peer> = g.gone.values().cloned().collect();
        out.sort_by(|a, b| a.node.cmp(&b.node));
        out
    }

    /// Withdraw the advertisement (goodbye packets) and stop the daemon.
    pub fn shutdown(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let name = self.fullname.lock().ok().and_then(|mut g| g.take());
        if let Some(name) = name
            && let Ok(rx) = self.daemon.unregister(&name)
        {
            let _ = rx.recv_timeout(Duration::from_millis(500));
        }
        if let Ok(rx) = self.daemon.shutdown() {
            let _ = rx.recv_timeout(Duration::from_millis(500));
        }
    }
}

fn browse_loop(
    daemon: &ServiceDaemon,
    seen: &Mutex<Seen>,
    stop: &std::sync::atomic::AtomicBool,
    venue: &str,
    me: &str,
) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let rx = match daemon.browse(SERVICE_TYPE) {
            Ok(rx) => rx,
            Err(e) => {
                tracing::warn!(error = %e, "mDNS browse failed");
                std::thread::sleep(REBROWSE);
                continue;
            }
        };
        let until = Instant::now() + REBROWSE;
        while Instant::now() < until && !stop.load(std::sync::atomic::Ordering::Relaxed) {
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(ServiceEvent::ServiceResolved(info)) => {
                    let Some(peer) = parse(&info, venue, me) else {
                        continue;
                    };
                    let mut g = seen.lock().unwrap_or_else(|e| e.into_inner());
                    let fresh = g.peers.get(&peer.node).map(|(_, p)| p) != Some(&peer);
                    if fresh {
                        tracing::info!(node = %peer.node, addrs = ?peer.addrs, mqtt = ?peer.mqtt_port, "venue box discovered");
                    }
                    g.gone.remove(&peer.node);
                    g.peers
                        .insert(peer.node.clone(), (info.fullname.clone(), peer));
                }
                Ok(ServiceEvent::ServiceRemoved(_, fullname)) => {
                    let mut g = seen.lock().unwrap_or_else(|e| e.into_inner());
                    let mut gone = Vec::new();
                    g.peers.retain(|node, (name, peer)| {
                        let keep = *name != fullname;
                        if !keep {
                            tracing::info!(%node, "venue box withdrew its advertisement");
                            gone.push(peer.clone());
                        }
                        keep
                    });
                    for p in gone {
                        g.gone.insert(p.node.clone(), p);
                    }
                }
                Ok(_) => {}
                Err(mdns_sd::RecvTimeoutError::Timeout) => {}
                Err(mdns_sd::RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = daemon.stop_browse(SERVICE_TYPE);
    }
}

/// A resolved advertisement of a box of this venue, other than this one.
fn parse(info: &mdns_sd::ResolvedService, venue: &str, me: &str) -> Option<Peer> {
    let txt = |k: &str| info.get_property_val_str(k);
    if txt("venue")? != venue {
        return None;
    }
    if txt("ver")?.parse::<u16>().ok()? != checkup_protocol::FORMAT_VERSION {
        tracing::warn!(fullname = %info.fullname, "box of another format version ignored");
        return None;
    }
    let node = txt("node")?;
    if node == me || node.is_empty() {
        return None;
    }
    let mut addrs: Vec<Ipv4Addr> = info.get_addresses_v4().into_iter().collect();
    addrs.sort();
    if addrs.is_empty() {
        return None;
    }
    Some(Peer {
        node: node.to_owned(),
        addrs,
        http_port: txt("http")?.parse().ok()?,
        mqtt_port: txt("mqtt")?.parse().ok().filter(|p: &u16| *p != 0),
        hub: txt("role") == Some("hub"),
    })
}
