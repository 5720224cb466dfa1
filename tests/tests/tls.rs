//! TLS everywhere, with real processes: `checkup-central` and `checkup-edge` enrolled with a
//! municipal CA of the test's own, the embedded broker behind its TLS gate, and Mosquitto
//! configured by `checkup-provision broker-config`.
//!
//! - Central takes batches only over mutual TLS with the box's own certificate: no client
//!   certificate, another CA's, an expired one, another box's, a revoked one → refused and
//!   counted; the revoked box's new events never reach central.
//! - The venue's broker (the hub's gate, and Mosquitto) admits enrolled boxes only, and a box
//!   cannot publish on another box's topic. The embedded broker behind the gate, on a
//!   loopback port, admits no local process without the credential the gate adds.
//! - The box serves HTTPS only (a plain HTTP request gets nothing) with `Secure` cookies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, Role, SessionOpened, StationKind};
use checkup_provisioning::ca;
use checkup_tests::Process;
use checkup_tests::central::{Setup, free_port, https_client, setup_tls, start_box, start_central};
use checkup_tests::mqtt::{self, Outcome};
use checkup_tests::venue::{self, Staff};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// Enrol `node` of `venue` with the CA in `pki` into `dir/<node>`; (cert, key).
fn enrol(pki: &Path, dir: &Path, node: &str, venue: &str) -> (PathBuf, PathBuf) {
    let e =
        ca::enrol_box(pki, node, venue, &["127.0.0.1".into()], &dir.join(node), 30).expect("enrol");
    (e.cert, e.key)
}

/// Enrol `node` with a certificate that expired yesterday.
fn enrol_expired(pki: &Path, dir: &Path, node: &str, venue: &str) -> (PathBuf, PathBuf) {
    let now = OffsetDateTime::now_utc();
    let e = ca::enrol_box_between(
        pki,
        node,
        venue,
        &[],
        &dir.join(format!("{node}-expired")),
        now - time::Duration::days(30),
        now - time::Duration::days(1),
    )
    .expect("enrol");
    (e.cert, e.key)
}

/// `node` enrolled with another municipality's CA.
fn enrol_foreign(dir: &Path, node: &str, venue: &str) -> (PathBuf, PathBuf) {
    let other = dir.join("other-ca");
    if !other.join("ca.crt").exists() {
        std::fs::create_dir_all(&other).expect("dir");
        ca::create_ca(&other, "あおば市", 30).expect("other CA");
    }
    enrol(&other, &dir.join("foreign"), node, venue)
}

fn pair(p: &(PathBuf, PathBuf)) -> Option<(&Path, &Path)> {
    Some((p.0.as_path(), p.1.as_path()))
}

async fn json(client: &reqwest::Client, url: &str) -> Value {
    match client.get(url).send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

async fn wait_for(what: &str, secs: u64, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// POST an (empty) batch to central with `client`; the status and error code, or the
/// transport error (a refused handshake).
async fn post_batch(
    client: &reqwest::Client,
    central: &str,
    secret: &str,
) -> Result<(u16, String), String> {
    let r = client
        .post(format!("{central}/v1/batches"))
        .bearer_auth(secret)
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    Ok((status, body["error"].as_str().unwrap_or("").to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_takes_batches_only_from_a_box_with_its_own_valid_certificate() {
    let s = setup_tls("sqlite", 1);
    let pki = s.pki.clone().expect("pki");
    let dir = s.dir().to_path_buf();
    let mut central = start_central(&s);
    assert!(central.url.starts_with("https://"), "{}", central.url);
    let edge = start_box(&s.box_configs[0]);
    assert!(edge.url.starts_with("https://"), "{}", edge.url);
    let anonymous = https_client(&pki, None);

    // The box speaks HTTPS only; its session cookie is Secure.
    let plain = edge.url.replacen("https://", "http://", 1);
    let r = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(r.is_err(), "plain HTTP must get nothing: {r:?}");
    let login = anonymous
        .post(format!("{}/api/login", edge.url))
        .json(&serde_json::json!({"staff_id": "R1", "pin": "1111"}))
        .send()
        .await
        .expect("HTTPS sign-in");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Events recorded on the box reach central over mutual TLS.
    let residents: Vec<String> = (0..8).map(|i| format!("{i:010}")).collect();
    venue::book_with(anonymous.clone(), &edge.url, &residents)
        .await
        .expect("the day's roster");
    let staff = Staff::login_with(anonymous.clone(), &edge.url, "R1")
        .await
        .expect("sign in");
    for i in 0..5 {
        let (status, _) = staff
            .post(
                "/api/events",
                &venue::open_session(Uuid::now_v7(), &format!("{i:010}")),
            )
            .await
            .expect("post");
        assert_eq!(status, 201);
    }
    let health = format!("{}/healthz", central.url);
    wait_for("central to hold the box's events", 30, async || {
        json(&anonymous, &health).await["events"].as_u64() >= Some(5)
    })
    .await;

    // Straight to central with the box's secret but not its certificate.
    let secret = &s.secrets[0];
    let venue_id = &s.venue;
    let own = (
        dir.join("edge-01-tls/edge-01.crt"),
        dir.join("edge-01-tls/edge-01.key"),
    );
    assert_eq!(
        post_batch(&anonymous, &central.url, secret).await,
        Ok((401, "client_certificate_required".into())),
        "no client certificate"
    );
    let other_box = enrol(&pki, &dir, "edge-07", venue_id);
    assert_eq!(
        post_batch(&https_client(&pki, pair(&other_box)), &central.url, secret).await,
        Ok((403, "certificate_mismatch".into())),
        "another box's certificate with this box's secret"
    );
    for (what, identity) in [
        ("another CA", enrol_foreign(&dir, "edge-01", venue_id)),
        ("expired", enrol_expired(&pki, &dir, "edge-01", venue_id)),
    ] {
        let r = post_batch(&https_client(&pki, pair(&identity)), &central.url, secret).await;
        assert!(r.is_err(), "{what}: the handshake must fail, got {r:?}");
    }
    // The box's own certificate works (an empty batch is simply acknowledged).
    let r = post_batch(&https_client(&pki, pair(&own)), &central.url, secret).await;
    assert!(matches!(r, Ok((200, _))), "{r:?}");
    let h = json(&anonymous, &health).await;
    assert_eq!(h["rejected"]["client_certificate_required"], 1, "{h}");
    assert_eq!(h["rejected"]["certificate_mismatch"], 1, "{h}");
    assert!(h["tls_handshakes_refused"].as_u64() >= Some(2), "{h}");

    // The box is revoked; central reloads the CA's list on restart.
    ca::revoke(&pki, "edge-01").expect("revoke");
    central.kill9();
    let central = start_central(&s);
    let r = post_batch(&https_client(&pki, pair(&own)), &central.url, secret).await;
    assert!(r.is_err(), "revoked: the handshake must fail, got {r:?}");
    for i in 5..8 {
        let (status, _) = staff
            .post(
                "/api/events",
                &venue::open_session(Uuid::now_v7(), &format!("{i:010}")),
            )
            .await
            .expect("post");
        assert_eq!(status, 201, "the box itself keeps working");
    }
    let admin = Staff::login_with(anonymous.clone(), &edge.url, "A1")
        .await
        .expect("admin");
    wait_for("the box to report the refusal", 30, async || {
        let f = admin
            .get("/api/forward/status")
            .await
            .unwrap_or(Value::Null);
        f["last_error"].as_str().is_some() && f["queue_depth"].as_u64() >= Some(3)
    })
    .await;
    let h = json(&anonymous, &format!("{}/healthz", central.url)).await;
    assert_eq!(h["events"], 5, "nothing new from a revoked box: {h}");
    assert!(h["tls_handshakes_refused"].as_u64() >= Some(1), "{h}");
}

/// Read the ed25519 key a test setup wrote for a box.
fn node_key(config: &Path) -> NodeKey {
    let dir = config.parent().expect("data dir");
    let bytes: [u8; 32] = std::fs::read(dir.join("node.key"))
        .expect("key")
        .try_into()
        .expect("32 bytes");
    NodeKey::from_bytes(&bytes)
}

/// Give every box of `s` its replication section (`replication(i)`) and, as peers, the
/// other boxes and the rogue enrolled box edge-03 (whose signing key is `rogue`).
fn replicate(s: &Setup, rogue: &NodeKey, replication: impl Fn(usize) -> String) {
    let keys: Vec<(String, String)> = s
        .box_configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                format!("edge-{:02}", i + 1),
                node_key(c).verifying_key().to_base64(),
            )
        })
        .chain(std::iter::once((
            "edge-03".to_owned(),
            rogue.verifying_key().to_base64(),
        )))
        .collect();
    for (i, config) in s.box_configs.iter().enumerate() {
        let mut text = std::fs::read_to_string(config).expect("config");
        text = text.replace("[replication]\ndiscovery = false\n", &replication(i));
        for (node, key) in keys
            .iter()
            .filter(|(n, _)| *n != format!("edge-{:02}", i + 1))
        {
            text.push_str(&format!(
                "\n[[peers]]\nnode = \"{node}\"\npublic_key = \"{key}\"\n"
            ));
        }
        std::fs::write(config, text).expect("config");
    }
}

/// An event of `claimed` signed with `key` (a forgery unless the key is the node's).
fn forged(venue: &str, claimed: &str, key: &NodeKey) -> Vec<u8> {
    let e = Event::seal(
        Uuid::now_v7(),
        venue,
        claimed,
        999,
        Hlc {
            ms: 1_790_000_000_000,
            c: 0,
        },
        Actor {
            staff_id: "X".into(),
            role: Role::Reception,
        },
        EventBody::SessionOpened(SessionOpened {
            session_id: Uuid::now_v7(),
            resident_id: "0000000999".into(),
            stations: vec![StationKind::Measurement],
            card: None,
            insurer: None,
        }),
        key,
    );
    serde_json::to_vec(&[e]).expect("json")
}

async fn board(staff: &Staff) -> Value {
    staff.get("/api/board").await.unwrap_or(Value::Null)
}

/// Two boxes of a TLS setup started, a venue admin on the second: record on the first and
/// see it arrive at the second.
struct Pair {
    boxes: [Process; 2],
    recorder: Staff,
    admin: Staff,
    http: reqwest::Client,
    urls: [String; 2],
}

impl Pair {
    async fn start(s: &Setup, first: usize) -> Pair {
        let pki = s.pki.clone().expect("pki");
        let a = start_box(&s.box_configs[first]);
        let b = start_box(&s.box_configs[1 - first]);
        let http = https_client(&pki, None);
        let residents: Vec<String> = (0..4).map(|n| format!("{n:010}")).collect();
        venue::book_with(http.clone(), &a.url, &residents)
            .await
            .expect("the day's roster");
        let recorder = Staff::login_with(http.clone(), &a.url, "R1")
            .await
            .expect("R1");
        let admin = Staff::login_with(http.clone(), &b.url, "A1")
            .await
            .expect("A1");
        let urls = [a.url.clone(), b.url.clone()];
        Pair {
            boxes: [a, b],
            recorder,
            admin,
            http,
            urls,
        }
    }

    /// Record one more session on the first box; wait until the second holds `n` events.
    async fn crosses(&self, n: u64, what: &str) {
        let (status, _) = self
            .recorder
            .post(
                "/api/events",
                &venue::open_session(Uuid::now_v7(), &format!("{n:010}")),
            )
            .await
            .expect("post");
        assert_eq!(status, 201);
        wait_for(what, 30, async || {
            let st = self
                .admin
                .get("/api/replication/state")
                .await
                .unwrap_or(Value::Null);
            st["events"].as_u64() >= Some(n)
        })
        .await;
    }

    /// Wait until box `i`'s peers have rejected an impersonation.
    async fn rejected_impersonation(&self, i: usize) {
        let r = Staff::login_with(self.http.clone(), &self.urls[i], "R1")
            .await
            .expect("R1");
        wait_for("the peers to reject the forgery", 20, async || {
            board(&r).await["replication"]["rejected"]["impersonation"].as_u64() >= Some(1)
        })
        .await;
    }
}

/// The broker at `broker` must turn away, at the handshake: no client certificate, another
/// CA's, an expired one, and `revoked` (edge-04's, revoked before the broker started).
async fn all_turned_away(
    broker: SocketAddr,
    pki: &Path,
    dir: &Path,
    venue: &str,
    revoked: &(PathBuf, PathBuf),
) {
    let client_id = |node: &str| format!("checkup-edge-{venue}-{node}");
    for (what, node, config) in [
        (
            "no client certificate",
            "edge-03",
            mqtt::tls_config(pki, None),
        ),
        (
            "another CA",
            "edge-03",
            mqtt::tls_config(pki, pair(&enrol_foreign(dir, "edge-03", venue))),
        ),
        (
            "expired",
            "edge-03",
            mqtt::tls_config(pki, pair(&enrol_expired(pki, dir, "edge-03", venue))),
        ),
        ("revoked", "edge-04", mqtt::tls_config(pki, pair(revoked))),
    ] {
        let r = mqtt::connect(broker, &client_id(node), config).await;
        assert!(r.is_err(), "{what}: connected");
    }
}

/// The enrolled rogue box edge-03, connected to `broker` under its own client id.
async fn rogue_connected(
    broker: SocketAddr,
    pki: &Path,
    rogue: &(PathBuf, PathBuf),
    venue: &str,
) -> mqtt::Connected {
    mqtt::connect(
        broker,
        &format!("checkup-edge-{venue}-edge-03"),
        mqtt::tls_config(pki, pair(rogue)),
    )
    .await
    .expect("an enrolled box connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hubs_broker_admits_enrolled_boxes_on_their_own_topics_only() {
    let s = setup_tls("sqlite", 2);
    let pki = s.pki.clone().expect("pki");
    let dir = s.dir().to_path_buf();
    let venue_id = s.venue.clone();
    // A box revoked before the day: the hub loads the list when it starts.
    let revoked = enrol(&pki, &dir, "edge-04", &venue_id);
    ca::revoke(&pki, "edge-04").expect("revoke");
    let port = free_port();
    let broker: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let rogue_key = NodeKey::generate();
    replicate(&s, &rogue_key, |i| {
        if i == 0 {
            format!("[replication]\ndiscovery = false\nhub = true\nbroker_port = {port}\n")
        } else {
            format!("[replication]\ndiscovery = false\nbroker = \"{broker}\"\n")
        }
    });
    // Recorded on edge-02, seen at the hub.
    let venue = Pair::start(&s, 1).await;
    venue.crosses(1, "the event to cross the gate").await;

    // Who the gate turns away at the handshake.
    let client_id = |node: &str| format!("checkup-edge-{venue_id}-{node}");
    all_turned_away(broker, &pki, &dir, &venue_id, &revoked).await;
    // An enrolled box taking over another's session is refused.
    let rogue = enrol(&pki, &dir, "edge-03", &venue_id);
    let as_hub = mqtt::connect(
        broker,
        &client_id("edge-01"),
        mqtt::tls_config(&pki, pair(&rogue)),
    )
    .await;
    assert!(
        as_hub.is_err(),
        "edge-03 must not connect as edge-01's client"
    );
    // An enrolled box publishing on another box's topic: the gate closes the connection.
    let mut c = rogue_connected(broker, &pki, &rogue, &venue_id).await;
    let payload = forged(&venue_id, "edge-01", &rogue_key);
    let o = c
        .publish(
            &format!("checkup/{venue_id}/events/edge-01"),
            payload.clone(),
        )
        .await;
    assert!(
        matches!(o, Outcome::Closed(_)),
        "publish on edge-01's topic: {o:?}"
    );
    let st = venue
        .admin
        .get("/api/replication/state")
        .await
        .expect("state");
    let gate = &st["gate"];
    assert!(gate["handshakes_refused"].as_u64() >= Some(4), "{st}");
    assert_eq!(gate["publishes_refused"], 1, "{st}");
    assert!(gate["connects_refused"].as_u64() >= Some(1), "{st}");
    // On its own topic the same forgery passes the gate and the peers reject it.
    let mut c = rogue_connected(broker, &pki, &rogue, &venue_id).await;
    assert_eq!(
        c.publish(&format!("checkup/{venue_id}/events/edge-03"), payload)
            .await,
        Outcome::Acknowledged
    );
    venue.rejected_impersonation(0).await;
    // Replication goes on.
    venue.crosses(2, "the second event").await;
}

/// The TCP ports process `pid` listens on, with the address it listens on.
fn listening(pid: u32) -> Vec<SocketAddr> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fds")
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            l.to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')
                .map(str::to_owned)
        })
        .collect();
    let mut out = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local address, state 0A (LISTEN), inode
            if f.len() < 10 || f[3] != "0A" || !inodes.contains(f[9]) {
                continue;
            }
            let Some((_, port)) = f[1].rsplit_once(':') else {
                continue;
            };
            let port = u16::from_str_radix(port, 16).expect("port");
            // Whatever the bound address (loopback, the venue's, any): reach it on loopback
            // when it is a loopback or wildcard one, as a local process would.
            out.push(SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_internal_broker_answers_no_local_process_without_the_boxs_credential() {
    let s = setup_tls("sqlite", 2);
    let port = free_port();
    let broker: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    replicate(&s, &NodeKey::generate(), |i| {
        if i == 0 {
            format!("[replication]\ndiscovery = false\nhub = true\nbroker_port = {port}\n")
        } else {
            format!("[replication]\ndiscovery = false\nbroker = \"{broker}\"\n")
        }
    });
    // The boxes' own replication goes through the gate to the broker behind it.
    let venue = Pair::start(&s, 1).await;
    venue.crosses(1, "the event to cross the gate").await;

    // Every port the hub listens on, tried in plain MQTT as any process on the machine
    // could: without the credential, with a guessed one.
    let ports = listening(venue.boxes[1].pid());
    assert!(
        ports.len() >= 3,
        "the web port, the gate and the broker behind it: {ports:?}"
    );
    for addr in &ports {
        for login in [None, Some(("checkup-gate", "0000"))] {
            let r = mqtt::connect_plain(*addr, "local-snoop", login).await;
            assert!(
                r.is_err(),
                "{addr} let a local process in with {login:?}: a sync request would return the log"
            );
        }
    }
    // Replication goes on.
    venue.crosses(2, "the second event").await;
}

/// Mosquitto started from `checkup-provision broker-config`'s files; killed on drop.
struct Mosquitto(std::process::Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_as_provisioned_admits_enrolled_boxes_on_their_own_topics_only() {
    let s = setup_tls("sqlite", 2);
    let pki = s.pki.clone().expect("pki");
    let dir = s.dir().to_path_buf();
    let venue_id = s.venue.clone();
    let port = free_port();
    let broker: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    // Revoked before the broker starts (Mosquitto reads its CRL at start).
    let revoked = enrol(&pki, &dir, "edge-04", &venue_id);
    ca::revoke(&pki, "edge-04").expect("revoke");
    let out = dir.join("mosquitto");
    let provision =
        checkup_tests::binary("checkup-provisioning", "checkup-provision").expect("bin");
    // The test runs as root: Mosquitto would otherwise drop to a user who cannot read the
    // test's private directory.
    // SAFETY: geteuid has no preconditions.
    let user = if unsafe { libc::geteuid() } == 0 {
        "root"
    } else {
        "mosquitto"
    };
    let made = std::process::Command::new(&provision)
        .args(["broker-config", "--ca"])
        .arg(&pki)
        .arg("--out")
        .arg(&out)
        .args(["--listen", &broker.to_string(), "--user", user])
        .output()
        .expect("broker-config");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let child = std::process::Command::new("mosquitto")
        .arg("-c")
        .arg(out.join("mosquitto.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mosquitto (Debian package mosquitto)");
    let _mosquitto = Mosquitto(child);
    wait_for("mosquitto to listen", 10, async || {
        tokio::net::TcpStream::connect(broker).await.is_ok()
    })
    .await;
    let rogue_key = NodeKey::generate();
    replicate(&s, &rogue_key, |_| {
        format!("[replication]\ndiscovery = false\nbroker = \"{broker}\"\n")
    });
    let venue = Pair::start(&s, 0).await;
    venue.crosses(1, "the event through Mosquitto").await;

    all_turned_away(broker, &pki, &dir, &venue_id, &revoked).await;

    // The ACL drops a publish on another box's topic (MQTT 3.1.1 has no way to say so):
    // the same forgery on the rogue's own topic reaches the peers and is rejected, on the
    // victim's topic it never arrives.
    let rogue = enrol(&pki, &dir, "edge-03", &venue_id);
    let mut c = rogue_connected(broker, &pki, &rogue, &venue_id).await;
    let payload = forged(&venue_id, "edge-01", &rogue_key);
    c.publish(
        &format!("checkup/{venue_id}/events/edge-01"),
        payload.clone(),
    )
    .await;
    assert_eq!(
        c.publish(&format!("checkup/{venue_id}/events/edge-03"), payload)
            .await,
        Outcome::Acknowledged
    );
    venue.rejected_impersonation(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rejected = board(&venue.admin).await["replication"]["rejected"].clone();
    assert_eq!(
        rejected["unauthenticated"], 0,
        "the forgery on edge-01's topic must not have been delivered: {rejected}"
    );
}
