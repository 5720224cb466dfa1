//! The broker's TLS gate: what stands between the venue's Wi-Fi and the embedded broker.
//!
//! rumqttd listens on loopback only; the gate listens on the venue address, completes TLS
//! with a client certificate from the municipality's CA (in date, not revoked — checked by
//! [`checkup_provisioning::tls`]), and then reads every packet the client sends before
//! passing it on:
//!
//! ```text
//! CONNECT      client id must be this box's own, `checkup-edge-{venue}-{node}`; no will
//! PUBLISH      only on `checkup/{venue}/events/{node}`, `…/sync/request`, `…/sync/reply/{x}`
//! SUBSCRIBE    only filters under `checkup/{venue}/`
//! ```
//!
//! where `{node}` and `{venue}` come from the certificate, so a box cannot publish events
//! under another box's topic, take over its session, or read another venue's. A refusal
//! closes the connection and is counted. The broker's replies pass through untouched.
//!
//! The gate puts the broker's credential ([`Login`], made at each start) into every CONNECT
//! it passes on, in place of any user name and password the client sent: the broker admits
//! nothing else, so its loopback port is of no use to other processes on the machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use checkup_provisioning::tls::{self, TlsAcceptorTask};
use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest MQTT packet let through (the largest replication message and its header).
pub const MAX_PACKET: usize = super::wire::MAX_PAYLOAD + 4096;

/// The credential the broker behind the gate admits, and nothing else.
#[derive(Clone)]
pub struct Login {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// A fresh credential: 256 random bits of password.
    pub fn random() -> Login {
        let mut b = [0u8; 32];
        // Without an OS random source the broker cannot be closed to other processes.
        getrandom::fill(&mut b).expect("operating system random source unavailable");
        Login {
            username: "checkup-gate".into(),
            password: hex::encode(b),
        }
    }
}

/// Connections the gate refused, by reason.
#[derive(Debug, Default)]
pub struct GateStats {
    /// TLS handshakes refused (no, foreign, expired or revoked certificate).
    pub handshakes: Arc<tls::HandshakeStats>,
    /// Certificates without a node or of another venue; CONNECTs with another box's client
    /// id, a will, or not first.
    pub connects: AtomicU64,
    /// PUBLISHes on a topic the box may not publish on.
    pub publishes: AtomicU64,
    /// SUBSCRIBEs outside the venue.
    pub subscribes: AtomicU64,
    /// Packets that are not MQTT or are too large.
    pub malformed: AtomicU64,
}

/// Why a client's packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not valid MQTT 3.1.1 framing or fields.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// Larger than [`MAX_PACKET`].
    #[error("packet of {0} bytes is too large")]
    TooLarge(usize),
    /// A CONNECT that is not the box's own.
    #[error("connect refused: {0}")]
    Connect(String),
    /// A PUBLISH outside the box's topics.
    #[error("{node} may not publish on {topic:?}")]
    Publish {
        /// The client's node.
        node: String,
        /// The topic.
        topic: String,
    },
    /// A SUBSCRIBE outside the venue.
    #[error("{node} may not subscribe to {filter:?}")]
    Subscribe {
        /// The client's node.
        node: String,
        /// The filter.
        filter: String,
    },
}

/// What one client may do: from its certificate.
#[derive(Debug, Clone)]
pub struct Acl {
    /// The client's node id.
    pub node: String,
    /// Its venue.
    pub venue: String,
    /// A CONNECT has been seen.
    connected: bool,
}

impl Acl {
    /// The rules for `node` of `venue`.
    pub fn new(node: &str, venue: &str) -> Acl {
        Acl {
            node: node.to_owned(),
            venue: venue.to_owned(),
            connected: false,
        }
    }

    fn may_publish(&self, topic: &str) -> bool {
        let Some(rest) = topic
            .strip_prefix("checkup/")
            .and_then(|t| t.strip_prefix(self.venue.as_str()))
            .and_then(|t| t.strip_prefix('/'))
        else {
            return false;
        };
        if let Some(node) = rest.strip_prefix("events/") {
            return node == self.node;
        }
        if rest == "sync/request" {
            return true;
        }
        // Any box may answer any asker: the events it sends are signed by their own nodes.
        rest.strip_prefix("sync/reply/")
            .is_some_and(|n| !n.is_empty() && !n.contains(['/', '+', '#']))
    }

    fn may_subscribe(&self, filter: &str) -> bool {
        filter
            .strip_prefix("checkup/")
            .and_then(|t| t.strip_prefix(self.venue.as_str()))
            .is_some_and(|t| t.starts_with('/'))
    }
}

/// The length of the first whole packet in `buf`, if it holds one.
pub fn frame(buf: &[u8]) -> Result<Option<usize>, Refusal> {
    let mut len: usize = 0;
    for i in 0..4 {
        let Some(&b) = buf.get(1 + i) else {
            return Ok(None);
        };
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let total = 1 + (i + 1) + len;
            if total > MAX_PACKET {
                return Err(Refusal::TooLarge(total));
            }
            return Ok((buf.len() >= total).then_some(total));
        }
    }
    Err(Refusal::Malformed(
        "remaining length longer than four bytes",
    ))
}

/// A length-prefixed UTF-8 string at `at` in `body`; returns it and the offset after it.
fn string_at(body: &[u8], at: usize) -> Result<(&str, usize), Refusal> {
    let hi = *body.get(at).ok_or(Refusal::Malformed("truncated string"))?;
    let lo = *body
        .get(at + 1)
        .ok_or(Refusal::Malformed("truncated string"))?;
    let n = usize::from(u16::from_be_bytes([hi, lo]));
    let bytes = body
        .get(at + 2..at + 2 + n)
        .ok_or(Refusal::Malformed("truncated string"))?;
    let s = std::str::from_utf8(bytes).map_err(|_| Refusal::Malformed("string is not UTF-8"))?;
    Ok((s, at + 2 + n))
}

/// Check one whole packet (as delimited by [`frame`]) from the client.
pub fn check(acl: &mut Acl, packet: &[u8]) -> Result<(), Refusal> {
    let first = *packet.first().ok_or(Refusal::Malformed("empty packet"))?;
    let header = 1
        + packet[1..]
            .iter()
            .position(|b| b & 0x80 == 0)
            .ok_or(Refusal::Malformed("bad remaining length"))?
        + 1;
    let body = packet
        .get(header..)
        .ok_or(Refusal::Malformed("truncated packet"))?;
    let kind = first >> 4;
    if !acl.connected && kind != 1 {
        return Err(Refusal::Connect("the first packet must be CONNECT".into()));
    }
    match kind {
        1 => {
            if acl.connected {
                return Err(Refusal::Connect("a second CONNECT".into()));
            }
            let (protocol, at) = string_at(body, 0)?;
            if protocol != "MQTT" && protocol != "MQIsdp" {
                return Err(Refusal::Malformed("not MQTT"));
            }
            let flags = *body
                .get(at + 1)
                .ok_or(Refusal::Malformed("truncated CONNECT"))?;
            if flags & 0x04 != 0 {
                return Err(Refusal::Connect("a will message".into()));
            }
            let (client_id, _) = string_at(body, at + 4)?;
            let own = format!("checkup-edge-{}-{}", acl.venue, acl.node);
            if client_id != own {
                return Err(Refusal::Connect(format!(
                    "client id {client_id:?} is not {own:?}"
                )));
            }
            acl.connected = true;
        }
        3 => {
            let (topic, _) = string_at(body, 0)?;
            if !acl.may_publish(topic) {
                return Err(Refusal::Publish {
                    node: acl.node.clone(),
                    topic: topic.to_owned(),
                });
            }
        }
        8 => {
            // Packet id, then (filter, options) pairs.
            let mut at = 2;
            if body.len() <= at {
                return Err(Refusal::Malformed("SUBSCRIBE without filters"));
            }
            while at < body.len() {
                let (filter, next) = string_at(body, at)?;
                if !acl.may_subscribe(filter) {
                    return Err(Refusal::Subscribe {
                        node: acl.node.clone(),
                        filter: filter.to_owned(),
                    });
                }
                at = next + 1;
            }
        }
        // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBSCRIBE, PINGREQ, DISCONNECT.
        4..=7 | 10 | 12 | 14 => {}
        _ => return Err(Refusal::Malformed("a packet type clients do not send")),
    }
    Ok(())
}

/// `connect`, a CONNECT that passed [`check`], with `login` as its user name and password
/// (any the client sent are dropped; so is everything but the clean-session flag, as
/// [`check`] refused a will).
pub fn with_login(connect: &[u8], login: &Login) -> Result<Vec<u8>, Refusal> {
    let header = 1
        + connect[1..]
            .iter()
            .position(|b| b & 0x80 == 0)
            .ok_or(Refusal::Malformed("bad remaining length"))?
        + 1;
    let body = connect
        .get(header..)
        .ok_or(Refusal::Malformed("truncated packet"))?;
    let (_, at) = string_at(body, 0)?;
    let level = *body
        .get(at)
        .ok_or(Refusal::Malformed("truncated CONNECT"))?;
    if level != 3 && level != 4 {
        return Err(Refusal::Malformed("not MQTT 3.1 or 3.1.1"));
    }
    let flags = body[at + 1];
    let (_, after_id) = string_at(body, at + 4)?;
    let mut out_body =
        Vec::with_capacity(after_id + 4 + login.username.len() + login.password.len());
    out_body.extend_from_slice(&body[..at + 1]);
    out_body.push((flags & 0x02) | 0xC0);
    out_body.extend_from_slice(&body[at + 2..after_id]);
    for s in [&login.username, &login.password] {
        let n = u16::try_from(s.len()).map_err(|_| Refusal::Malformed("login too long"))?;
        out_body.extend_from_slice(&n.to_be_bytes());
        out_body.extend_from_slice(s.as_bytes());
    }
    let mut out = vec![connect[0]];
    let mut n = out_body.len();
    loop {
        let mut b = (n & 0x7f) as u8;
        n >>= 7;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&out_body);
    Ok(out)
}

/// Start the gate on `listener` in front of the broker at `upstream`, for boxes of `venue`,
/// connecting to it with `login`. Runs for the rest of the process, as the broker does.
pub fn start(
    listener: TcpListener,
    upstream: SocketAddr,
    config: Arc<ServerConfig>,
    venue: String,
    login: Login,
) -> std::io::Result<Arc<GateStats>> {
    let mut acceptor = TlsAcceptorTask::start(listener, config)?;
    let stats = Arc::new(GateStats {
        handshakes: acceptor.stats.clone(),
        ..GateStats::default()
    });
    let counted = stats.clone();
    tokio::spawn(async move {
        while let Some((tls, addr)) = acceptor.accept().await {
            let stats = counted.clone();
            let venue = venue.clone();
            let login = login.clone();
            tokio::spawn(async move {
                if let Err(e) = serve(tls, upstream, &venue, &login, &stats).await {
                    tracing::warn!(client = %addr, error = %e, "broker gate closed a connection");
                }
            });
        }
    });
    Ok(stats)
}

#[derive(Debug, thiserror::Error)]
enum GateError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

async fn serve(
    tls: tls::TlsStream,
    upstream: SocketAddr,
    venue: &str,
    login: &Login,
    stats: &GateStats,
) -> Result<(), GateError> {
    let cert = tls::client_cert(&tls);
    let node = cert.and_then(tls::node_of);
    let cert_venue = cert.and_then(tls::venue_of);
    let mut acl = match (node, cert_venue) {
        (Some(n), Some(v)) if v == venue => Acl::new(&n, &v),
        (n, v) => {
            stats.connects.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal::Connect(format!(
                "certificate of node {n:?}, venue {v:?}: not a box of venue {venue}"
            ))
            .into());
        }
    };
    // The broker's thread may still be starting when the first box knocks.
    let mut tries = 0;
    let broker = loop {
        match TcpStream::connect(upstream).await {
            Ok(b) => break b,
            Err(e) if tries < 20 => {
                tries += 1;
                tracing::debug!(error = %e, "broker not listening yet");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    broker.set_nodelay(true)?;
    let (mut from_broker, mut to_broker) = broker.into_split();
    let (mut from_client, mut to_client) = tokio::io::split(tls);
    let replies = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_broker, &mut to_client).await;
        let _ = to_client.shutdown().await;
    });
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let result = loop {
        let n = match from_client.read(&mut chunk).await {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e.into()),
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut refused = None;
        let mut passed = 0;
        // The CONNECT (always the first packet) as passed on: with the broker's login.
        let mut connect: Option<(usize, usize, Vec<u8>)> = None;
        while let Some(len) = match frame(&buf[passed..]) {
            Ok(l) => l,
            Err(r) => {
                refused = Some(r);
                None
            }
        } {
            let packet = &buf[passed..passed + len];
            if let Err(r) = check(&mut acl, packet) {
                refused = Some(r);
                break;
            }
            if packet[0] >> 4 == 1 {
                match with_login(packet, login) {
                    Ok(p) => connect = Some((passed, len, p)),
                    Err(r) => {
                        refused = Some(r);
                        break;
                    }
                }
            }
            passed += len;
        }
        if passed > 0 {
            let written = match &connect {
                Some((at, len, p)) => {
                    let (before, after) = (&buf[..*at], &buf[at + len..passed]);
                    async {
                        to_broker.write_all(before).await?;
                        to_broker.write_all(p).await?;
                        to_broker.write_all(after).await
                    }
                    .await
                }
                None => to_broker.write_all(&buf[..passed]).await,
            };
            if let Err(e) = written {
                break Err(e.into());
            }
            buf.drain(..passed);
        }
        if let Some(r) = refused {
            let counter = match &r {
                Refusal::Malformed(_) | Refusal::TooLarge(_) => &stats.malformed,
                Refusal::Connect(_) => &stats.connects,
                Refusal::Publish { .. } => &stats.publishes,
                Refusal::Subscribe { .. } => &stats.subscribes,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            break Err(r.into());
        }
    };
    // Closing our side of the broker connection ends the session there too.
    drop(to_broker);
    replies.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![kind << 4 | if kind == 8 { 2 } else { 0 }];
        let mut n = body.len();
        loop {
            let mut b = (n & 0x7f) as u8;
            n >>= 7;
            if n > 0 {
                b |= 0x80;
            }
            p.push(b);
            if n == 0 {
                break;
            }
        }
        p.extend_from_slice(body);
        p
    }

    fn string(s: &str) -> Vec<u8> {
        let mut v = (s.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn connect(client_id: &str, flags: u8) -> Vec<u8> {
        let mut b = string("MQTT");
        b.extend_from_slice(&[4, flags, 0, 5]);
        b.extend(string(client_id));
        packet(1, &b)
    }

    fn publish(topic: &str) -> Vec<u8> {
        let mut b = string(topic);
        b.extend_from_slice(&[0, 1]);
        b.extend_from_slice(b"[]");
        packet(3, &b)
    }

    fn connected() -> Acl {
        let mut acl = Acl::new("edge-02", "v1");
        check(&mut acl, &connect("checkup-edge-v1-edge-02", 2)).expect("own connect");
        acl
    }

    #[test]
    fn a_box_publishes_on_its_own_topics_only() {
        let mut acl = connected();
        for ok in [
            "checkup/v1/events/edge-02",
            "checkup/v1/sync/request",
            "checkup/v1/sync/reply/edge-01",
        ] {
            assert_eq!(check(&mut acl, &publish(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "checkup/v1/events/edge-01",
            "checkup/v1/events/edge-02/x",
            "checkup/v2/events/edge-02",
            "checkup/v1/sync/reply/+",
            "checkup/v1/other",
            "elsewhere",
        ] {
            assert!(
                matches!(check(&mut acl, &publish(bad)), Err(Refusal::Publish { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn connect_must_come_first_be_the_boxs_own_and_carry_no_will() {
        let mut acl = Acl::new("edge-02", "v1");
        assert!(matches!(
            check(&mut acl, &publish("checkup/v1/events/edge-02")),
            Err(Refusal::Connect(_))
        ));
        assert!(matches!(
            check(&mut acl, &connect("checkup-edge-v1-edge-01", 2)),
            Err(Refusal::Connect(_))
        ));
        assert!(matches!(
            check(&mut acl, &connect("checkup-edge-v1-edge-02", 2 | 4)),
            Err(Refusal::Connect(_))
        ));
        let mut acl = connected();
        assert!(matches!(
            check(&mut acl, &connect("checkup-edge-v1-edge-02", 2)),
            Err(Refusal::Connect(_))
        ));
    }

    #[test]
    fn the_brokers_login_replaces_the_clients() {
        let login = Login {
            username: "checkup-gate".into(),
            password: "s3cret".into(),
        };
        let mut with_own = string("MQTT");
        with_own.extend_from_slice(&[4, 0xC2, 0, 5]);
        with_own.extend(string("checkup-edge-v1-edge-02"));
        with_own.extend(string("someone"));
        with_own.extend(string("guess"));
        for original in [connect("checkup-edge-v1-edge-02", 2), packet(1, &with_own)] {
            let p = with_login(&original, &login).expect("rewritten");
            assert_eq!(frame(&p), Ok(Some(p.len())), "whole packet");
            let mut acl = Acl::new("edge-02", "v1");
            assert_eq!(check(&mut acl, &p), Ok(()));
            let mut body = string("MQTT");
            body.extend_from_slice(&[4, 0xC2, 0, 5]);
            body.extend(string("checkup-edge-v1-edge-02"));
            body.extend(string("checkup-gate"));
            body.extend(string("s3cret"));
            assert_eq!(p, packet(1, &body));
        }
        let mut v5 = string("MQTT");
        v5.extend_from_slice(&[5, 2, 0, 5, 0]);
        v5.extend(string("checkup-edge-v1-edge-02"));
        assert!(matches!(
            with_login(&packet(1, &v5), &login),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn subscriptions_stay_within_the_venue() {
        let mut acl = connected();
        let sub = |f: &str| {
            let mut b = vec![0, 7];
            b.extend(string(f));
            b.push(1);
            packet(8, &b)
        };
        assert_eq!(check(&mut acl, &sub("checkup/v1/events/+")), Ok(()));
        for bad in ["#", "checkup/+/events/+", "checkup/v10/#", "checkup/v1"] {
            assert!(
                matches!(check(&mut acl, &sub(bad)), Err(Refusal::Subscribe { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn framing_waits_for_whole_packets_and_bounds_their_size() {
        let p = publish("checkup/v1/events/edge-02");
        for cut in 0..p.len() {
            assert_eq!(frame(&p[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(frame(&p), Ok(Some(p.len())));
        assert_eq!(
            frame(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(Refusal::Malformed(
                "remaining length longer than four bytes"
            ))
        );
        assert!(matches!(
            frame(&[0x30, 0xff, 0xff, 0xff, 0x7f]),
            Err(Refusal::TooLarge(_))
        ));
        let mut acl = connected();
        assert!(matches!(
            check(&mut acl, &packet(3, &[0, 9, b'a'])),
            Err(Refusal::Malformed(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut acl = Acl::new("edge-02", "v1");
            if let Ok(Some(n)) = frame(&bytes) {
                let _ = check(&mut acl, &bytes[..n]);
            }
            let mut acl = connected();
            let _ = check(&mut acl, &bytes);
        }
    }
}
