//! MQTT clients of the tests' own (rumqttc, as the boxes use): connect to a venue broker
//! with a given TLS identity — an enrolled box's, another CA's, an expired or revoked one,
//! none — and see whether the broker lets it in and what it does with a publish.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use checkup_provisioning::tls;
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, TlsConfiguration, Transport,
};

/// A TLS client configuration trusting the CA in `pki` (any enrolled node as the broker),
/// presenting `(cert, key)` if given.
pub fn tls_config(pki: &Path, identity: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    let trust = tls::Trust::load(&pki.join("ca.crt"), Some(&pki.join("crl.pem"))).expect("CA");
    let creds = identity.map(|(c, k)| tls::Credentials::load(c, k).expect("enrolment"));
    tls::client_config(&trust, creds.as_ref(), tls::ServerCheck::AnyNode).expect("TLS")
}

/// A connected client and its event loop.
pub struct Connected {
    /// The client.
    pub client: AsyncClient,
    events: EventLoop,
}

/// Connect to `broker` as `client_id` over TLS; the error text if the broker (or the TLS
/// handshake) refuses within five seconds.
pub async fn connect(
    broker: SocketAddr,
    client_id: &str,
    config: Arc<rustls::ClientConfig>,
) -> Result<Connected, String> {
    let mut opts = MqttOptions::new(client_id, broker.ip().to_string(), broker.port());
    opts.set_keep_alive(Duration::from_secs(5));
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(config)));
    until_connack(opts).await
}

/// Connect to `broker` in plain MQTT (no TLS) as `client_id`, with `login` as user name
/// and password if given, as any process on the machine could; the error text if the
/// broker refuses (or does not speak MQTT) within five seconds.
pub async fn connect_plain(
    broker: SocketAddr,
    client_id: &str,
    login: Option<(&str, &str)>,
) -> Result<Connected, String> {
    let mut opts = MqttOptions::new(client_id, broker.ip().to_string(), broker.port());
    opts.set_keep_alive(Duration::from_secs(5));
    if let Some((user, password)) = login {
        opts.set_credentials(user, password);
    }
    until_connack(opts).await
}

/// Connect with `opts`; the error text if the broker refuses within five seconds.
async fn until_connack(opts: MqttOptions) -> Result<Connected, String> {
    let (client, mut events) = AsyncClient::new(opts, 16);
    let polled = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await;
    match polled {
        Ok(Ok(())) => Ok(Connected { client, events }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("no answer within 5 s".into()),
    }
}

/// What became of a publish.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The broker acknowledged it (it may still not deliver it: an ACL).
    Acknowledged,
    /// The broker (or its gate) closed the connection.
    Closed(String),
}

impl Connected {
    /// Publish `payload` on `topic` (QoS 1) and wait for the acknowledgement or the end of
    /// the connection.
    pub async fn publish(&mut self, topic: &str, payload: Vec<u8>) -> Outcome {
        if let Err(e) = self
            .client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
        {
            return Outcome::Closed(e.to_string());
        }
        let waited = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match self.events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => return Outcome::Acknowledged,
                    Ok(_) => {}
                    Err(e) => return Outcome::Closed(e.to_string()),
                }
            }
        })
        .await;
        waited.unwrap_or_else(|_| Outcome::Closed("no answer within 5 s".into()))
    }
}
