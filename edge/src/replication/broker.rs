//! The embedded MQTT broker (rumqttd) that lets one box work alone and lets the hub serve
//! the venue without any other server.
//!
//! rumqttd's `Broker::start` blocks and has no shutdown, so the broker runs on an OS thread
//! of its own for the rest of the process. A box that should stop serving (another box with
//! a lower node id also runs one) does not stop the thread: it stops advertising it, and the
//! clients follow the advertisements (see [`super::hub`]).
//!
//! rumqttd cannot report the port it bound either: port 0 is resolved here by binding a
//! free port first, and a port already in use is reported before the thread starts.
//!
//! With TLS (every enrolled box), rumqttd listens on a free loopback port only and the
//! [`super::gate`] takes the venue address: client certificates and per-box topics. Any
//! process on the machine can reach a loopback port, so that listener admits only the
//! credential the gate adds to every CONNECT ([`gate::Login`]): a user name and a random
//! password made at each start, held in this process's memory and nowhere else. A local
//! process connecting to it directly is refused before it can subscribe or ask for a sync.
//! (rumqttd 0.20 has no listener other than TCP, and its in-process link speaks its
//! router's messages rather than the MQTT bytes the gate forwards.)
//!
//! Without TLS (`--insecure-dev`) the broker itself listens on the venue address in plain
//! MQTT, admitting anyone: for development only.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use super::gate::{self, GateStats};

/// The TLS gate in front of the broker.
#[derive(Clone, Debug)]
pub struct GateOptions {
    /// Server configuration requiring client certificates of the municipality's CA.
    pub config: Arc<rustls::ServerConfig>,
    /// The venue whose boxes may connect.
    pub venue: String,
}

/// Why the embedded broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The port is taken (by Mosquitto, or another box on this machine).
    #[error("embedded MQTT broker cannot listen on {addr}: {source}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The broker thread could not be spawned.
    #[error("cannot start the broker thread: {0}")]
    Thread(std::io::Error),
}

/// A running embedded broker.
#[derive(Debug, Clone)]
pub struct EmbeddedBroker {
    /// Where boxes connect (the gate's address with TLS).
    pub addr: SocketAddr,
    /// The gate's refusals, with TLS.
    pub gate: Option<Arc<GateStats>>,
}

/// Start a broker on `addr` (port 0: a free port) on a thread of its own; with `gate`,
/// behind the TLS gate (call inside a Tokio runtime).
pub fn start(addr: SocketAddr, gate: Option<&GateOptions>) -> Result<EmbeddedBroker, BrokerError> {
    // Resolve port 0 and find a port in use now, rather than as a log line from the
    // broker's thread. (Another process could take the port in between; the broker then
    // logs the failure and clients report no connection.)
    let bind = |addr: SocketAddr| {
        let l = TcpListener::bind(addr).map_err(|source| BrokerError::Bind { addr, source })?;
        let local = l
            .local_addr()
            .map_err(|source| BrokerError::Bind { addr, source })?;
        Ok::<_, BrokerError>((l, local))
    };
    let (public, public_addr) = bind(addr)?;
    let (broker_addr, gate) = match gate {
        None => {
            drop(public);
            (public_addr, None)
        }
        Some(g) => {
            let (probe, inner) = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
            drop(probe);
            let listener = public
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(public))
                .map_err(|source| BrokerError::Bind { addr, source })?;
            let login = gate::Login::random();
            let stats = gate::start(
                listener,
                inner,
                g.config.clone(),
                g.venue.clone(),
                login.clone(),
            )
            .map_err(|source| BrokerError::Bind { addr, source })?;
            (inner, Some((stats, login)))
        }
    };
    let (gate, login) = gate.unzip();
    let config = config(broker_addr, login);
    let addr = broker_addr;
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, %addr, "embedded MQTT broker stopped");
            }
        })
        .map_err(BrokerError::Thread)?;
    tracing::info!(%addr, gate = gate.is_some(), public = %public_addr, "embedded MQTT broker listening");
    Ok(EmbeddedBroker {
        addr: public_addr,
        gate,
    })
}

/// The broker's configuration; with `login`, the only credential it admits.
fn config(addr: SocketAddr, login: Option<gate::Login>) -> Config {
    let max_payload = super::wire::MAX_PAYLOAD + 4096;
    let server = ServerSettings {
        name: "venue".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 5000,
            max_payload_size: max_payload,
            max_inflight_count: 500,
            auth: login.map(|l| HashMap::from([(l.username, l.password)])),
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        // RouterConfig::default() is all zeros: every size is set here.
        router: RouterConfig {
            max_connections: 256,
            max_outgoing_packet_count: 1024,
            // A segment must hold the largest message; two per topic bound the memory.
            max_segment_size: 2 * max_payload,
            max_segment_count: 2,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("venue".to_owned(), server)])),
        ..Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_is_reported_and_port_zero_is_resolved() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = taken.local_addr().expect("addr");
        assert!(matches!(start(addr, None), Err(BrokerError::Bind { .. })));
        let b = start("127.0.0.1:0".parse().expect("addr"), None).expect("start");
        assert_ne!(b.addr.port(), 0);
        // It binds on its own thread: wait for it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::net::TcpStream::connect(b.addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "broker never listened"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
