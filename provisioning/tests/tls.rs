//! Real TLS handshakes on loopback with the configurations every endpoint uses: a box's
//! client trusts only servers of its municipality's CA that are in date and not revoked
//! (a rogue broker or central is refused), and a server requiring client certificates turns
//! away a client with none, another CA's, an expired or a revoked one; the verified client's
//! node id is what the server sees.

use std::path::Path;
use std::sync::Arc;

use checkup_provisioning::ca;
use checkup_provisioning::tls::{self, ClientAuth, Credentials, ServerCheck, TlsFiles, Trust};
use rustls::pki_types::ServerName;
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn enrol(ca_dir: &Path, out: &Path, node: &str, expired: bool) -> Credentials {
    let now = OffsetDateTime::now_utc();
    let (from, to) = if expired {
        (now - Duration::days(10), now - Duration::days(1))
    } else {
        (now - Duration::hours(1), now + Duration::days(5))
    };
    let e = ca::enrol_box_between(
        ca_dir,
        node,
        "hall-1",
        &["127.0.0.1".into()],
        &out.join(node),
        from,
        to,
    )
    .expect("enrol");
    Credentials::load(&e.cert, &e.key).expect("load")
}

fn trust(ca_dir: &Path) -> Trust {
    Trust::load(&ca_dir.join(ca::CA_CERT), Some(&ca_dir.join(ca::CA_CRL))).expect("trust")
}

/// Serve one TLS connection with `server`; connect with `client` by `name`; the server's
/// view of the client's node, or the error on either side.
async fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    name: &str,
) -> Result<Option<String>, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut acceptor = tls::TlsAcceptorTask::start(listener, server).expect("acceptor");
    let served = tokio::spawn(async move {
        let (mut s, _) = acceptor.accept().await.ok_or("refused")?;
        let node = tls::client_node(&s);
        let mut b = [0u8; 4];
        s.read_exact(&mut b).await.map_err(|e| e.to_string())?;
        s.write_all(b"pong").await.map_err(|e| e.to_string())?;
        Ok::<_, String>(node)
    });
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let connector = tokio_rustls::TlsConnector::from(client);
    let name = ServerName::try_from(name.to_owned()).expect("name");
    let talked = async {
        let mut c = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        c.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut b = [0u8; 4];
        c.read_exact(&mut b).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    };
    let result = tokio::time::timeout(std::time::Duration::from_secs(5), talked)
        .await
        .map_err(|_| "timed out".to_owned())?;
    match result {
        Ok(()) => tokio::time::timeout(std::time::Duration::from_secs(5), served)
            .await
            .map_err(|_| "server timed out".to_owned())?
            .map_err(|e| e.to_string())?,
        Err(e) => {
            served.abort();
            Err(e)
        }
    }
}

#[tokio::test]
async fn clients_and_servers_accept_only_the_municipalitys_valid_certificates() {
    tls::install_provider();
    let dir = tempfile::tempdir().expect("dir");
    let (ca_a, ca_b) = (dir.path().join("a"), dir.path().join("b"));
    for (d, m) in [(&ca_a, "みどり市"), (&ca_b, "あおば市")] {
        std::fs::create_dir_all(d).expect("dir");
        ca::create_ca(d, m, 30).expect("ca");
    }
    let out = dir.path().join("certs");
    let hub = enrol(&ca_a, &out, "edge-01", false);
    let box2 = enrol(&ca_a, &out, "edge-02", false);
    let stolen = enrol(&ca_a, &out, "edge-03", false);
    let expired = enrol(&ca_a, &out, "edge-04", true);
    let foreign = enrol(&ca_b, &out.join("b"), "edge-01", false);
    ca::revoke(&ca_a, "edge-03").expect("revoke");
    let t = trust(&ca_a);
    let required =
        |creds: &Credentials| tls::server_config(creds, ClientAuth::Required(&t)).expect("server");
    let client =
        |creds: Option<&Credentials>, check| tls::client_config(&t, creds, check).expect("client");

    // The box's MQTT client to the hub (any enrolled node, reached by IP) and central (by
    // host name): the verified client's node is what the server sees.
    let seen = handshake(
        required(&hub),
        client(Some(&box2), ServerCheck::AnyNode),
        "10.9.8.7",
    )
    .await;
    assert_eq!(seen, Ok(Some("edge-02".into())));
    let seen = handshake(
        required(&hub),
        client(Some(&box2), ServerCheck::Host),
        "127.0.0.1",
    )
    .await;
    assert_eq!(seen, Ok(Some("edge-02".into())));
    assert!(
        handshake(
            required(&hub),
            client(Some(&box2), ServerCheck::Host),
            "10.9.8.7"
        )
        .await
        .is_err(),
        "by host name, a certificate for another address is refused"
    );

    // Clients the server turns away.
    for (what, c) in [
        ("no client certificate", client(None, ServerCheck::AnyNode)),
        ("another CA's", client(Some(&foreign), ServerCheck::AnyNode)),
        ("expired", client(Some(&expired), ServerCheck::AnyNode)),
        ("revoked", client(Some(&stolen), ServerCheck::AnyNode)),
    ] {
        let r = handshake(required(&hub), c, "127.0.0.1").await;
        assert!(r.is_err(), "{what}: {r:?}");
    }
    // Servers (a rogue broker or central) the box refuses.
    for (what, server) in [
        ("another CA's", &foreign),
        ("expired", &expired),
        ("revoked", &stolen),
    ] {
        let r = handshake(
            tls::server_config(server, ClientAuth::None).expect("server"),
            client(Some(&box2), ServerCheck::AnyNode),
            "127.0.0.1",
        )
        .await;
        assert!(r.is_err(), "a server with {what} certificate: {r:?}");
    }
    // Files that are not what they claim are refused with the file named.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate").expect("write");
    let files = TlsFiles {
        cert: bad.clone(),
        key: bad.clone(),
        ca: bad.clone(),
        crl: None,
    };
    let e = match files.load() {
        Ok(_) => panic!("a file that is not PEM was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("bad.pem"), "{e}");
}
