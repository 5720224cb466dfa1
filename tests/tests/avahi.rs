//! mDNS that another implementation sees: Debian's Avahi, on the venue LAN of network
//! namespaces this test makes, lists the box's `_checkup-edge._tcp` service with its TXT
//! record (`avahi-browse`), and the box finds a service that Avahi publishes
//! (`avahi-publish`) and uses the broker it advertises — but only one of its own venue.
//!
//! ```text
//!   netns <venue>-lan: br0 10.77.0.254 — avahi-daemon (its own D-Bus), Mosquitto :1883
//!     └─ veth ─ netns <venue>-1: eth0 10.77.0.1 — `checkup-edge run` (edge-01, hub)
//! ```
//!
//! Avahi runs with a private D-Bus daemon (a socket in the test's directory) and a private
//! `/run` (a tmpfs in the mount namespace `ip netns exec` makes), so a system Avahi, if the
//! machine runs one, is neither used nor disturbed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use checkup_tests::venue::{self, BrokerKind, Staff, Venue};
use serde_json::Value;

/// The service type, as Avahi's tools name it.
const SERVICE: &str = "_checkup-edge._tcp";

/// An avahi-daemon in one network namespace, on its own D-Bus. Stopped on drop.
struct Avahi {
    ns: String,
    bus: String,
    dbus: Child,
    daemon: Child,
    log: std::path::PathBuf,
    published: Vec<Child>,
    _dir: tempfile::TempDir,
}

/// One resolved service, as `avahi-browse -p` prints it.
#[derive(Debug)]
struct Resolved {
    name: String,
    address: String,
    port: u16,
    txt: Vec<(String, String)>,
}

impl Resolved {
    fn get(&self, key: &str) -> Option<&str> {
        self.txt
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A child process stopped (and reaped) when dropped, also when the test fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        stop(&mut self.0);
    }
}

impl Avahi {
    /// Start D-Bus and avahi-daemon, publishing on `br0` of `ns` (IPv4 only).
    fn start(ns: &str) -> anyhow::Result<Avahi> {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("bus");
        let bus_conf = dir.path().join("bus.conf");
        std::fs::write(
            &bus_conf,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )?;
        let mut dbus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", bus_conf.display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting dbus-daemon (Debian package dbus-daemon)")?;
        // It prints its address once it listens.
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().context("dbus stdout")?).read_line(&mut line)?;
        if !line.starts_with("unix:") {
            stop(&mut dbus);
            bail!("dbus-daemon did not start: {line:?}");
        }
        let bus = format!("unix:path={}", socket.display());

        let conf = dir.path().join("avahi-daemon.conf");
        std::fs::write(
            &conf,
            format!(
                "[server]\nhost-name=cev-avahi-{}\nuse-ipv4=yes\nuse-ipv6=no\n\
                 allow-interfaces=br0\nenable-dbus=yes\nratelimit-interval-usec=0\n\
                 [publish]\npublish-workstation=no\npublish-hinfo=no\n",
                std::process::id()
            ),
        )?;
        let log = dir.path().join("avahi.log");
        let daemon = Command::new("ip")
            .args(["netns", "exec", ns, "sh", "-c"])
            // A private /run: its pid file and socket never meet a system Avahi's.
            .arg(format!(
                "mount -t tmpfs tmpfs /run && mkdir -p /run/avahi-daemon && \
                 exec avahi-daemon -f {} --no-drop-root --no-chroot --no-rlimits",
                conf.display()
            ))
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting avahi-daemon (Debian package avahi-daemon)")?;
        let mut avahi = Avahi {
            ns: ns.to_owned(),
            bus,
            dbus,
            daemon,
            log,
            published: Vec::new(),
            _dir: dir,
        };
        avahi.wait_for_log("Server startup complete", Duration::from_secs(20))?;
        Ok(avahi)
    }

    fn wait_for_log(&mut self, needle: &str, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if text.contains(needle) {
                return Ok(());
            }
            if let Some(status) = self.daemon.try_wait()? {
                bail!("avahi-daemon exited ({status}):\n{text}");
            }
            if Instant::now() > deadline {
                bail!("avahi-daemon did not log {needle:?} within {within:?}:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, program])
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus);
        c
    }

    /// `avahi-browse -rpt _checkup-edge._tcp`: every resolved instance in Avahi's view now.
    fn browse(&self) -> anyhow::Result<Vec<Resolved>> {
        let out = self
            .command("avahi-browse")
            .args(["--resolve", "--parsable", "--terminate", SERVICE])
            .output()
            .context("running avahi-browse (Debian package avahi-utils)")?;
        if !out.status.success() {
            bail!(
                "avahi-browse: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(parse_browse(&String::from_utf8_lossy(&out.stdout)))
    }

    /// `avahi-publish -s NAME _checkup-edge._tcp PORT k=v…`, kept up until the test ends.
    fn publish(&mut self, name: &str, port: u16, txt: &[(&str, &str)]) -> anyhow::Result<()> {
        let mut cmd = self.command("avahi-publish");
        cmd.args(["-s", name, SERVICE, &port.to_string()]);
        for (k, v) in txt {
            cmd.arg(format!("{k}={v}"));
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running avahi-publish")?;
        let stdout = child.stdout.take().context("stdout")?;
        let stderr = child.stderr.take().context("stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        self.published.push(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut said = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                if line.contains("Established under name") {
                    return Ok(());
                }
                said.push(line);
            }
        }
        bail!("avahi-publish {name}: not established: {said:?}")
    }

    /// Poll `avahi-browse` until an instance satisfies `pred`.
    fn wait_for(&self, what: &str, pred: impl Fn(&Resolved) -> bool) -> anyhow::Result<Resolved> {
        let deadline = Instant::now() + Duration::from_secs(40);
        let mut last = Vec::new();
        while Instant::now() < deadline {
            last = self.browse()?;
            if let Some(i) = last.iter().position(&pred) {
                return Ok(last.swap_remove(i));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        bail!("avahi-browse never listed {what}; last saw {last:?}")
    }
}

impl Drop for Avahi {
    fn drop(&mut self) {
        for c in &mut self.published {
            stop(c);
        }
        stop(&mut self.daemon);
        stop(&mut self.dbus);
    }
}

/// Resolved (`=`) lines of `avahi-browse --parsable`:
/// `=;iface;IPv4;name;type;domain;host;address;port;"k=v" "k=v"…`.
fn parse_browse(out: &str) -> Vec<Resolved> {
    out.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.splitn(10, ';').collect();
            if f.len() < 10 || f[0] != "=" || f[2] != "IPv4" {
                return None;
            }
            let txt = f[9]
                .split("\" \"")
                .map(|kv| kv.trim_matches('"'))
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            Some(Resolved {
                name: f[3].to_owned(),
                address: f[7].to_owned(),
                port: f[8].parse().ok()?,
                txt,
            })
        })
        .collect()
}

/// A Mosquitto on the LAN namespace's bridge address, port 1883 (the namespace is the test's
/// own, so the port is free there).
fn mosquitto_on_lan(ns: &str, dir: &Path) -> anyhow::Result<Running> {
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        "listener 1883 10.77.0.254\nallow_anonymous true\npersistence false\n",
    )?;
    Command::new("ip")
        .args(["netns", "exec", ns, "mosquitto", "-c"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .context("starting mosquitto")
}

/// Poll the box's replication state until `pred` holds.
async fn wait_state(admin: &Staff, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        if let Ok(s) = admin.get("/api/replication/state").await {
            if pred(&s) {
                return s;
            }
            last = s;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the box never reached {what}; last state {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avahi_sees_the_box_and_the_box_uses_what_avahi_publishes() {
    if let Some(why) = venue::netns_unavailable() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let t0 = Instant::now();
    let mut v = Venue::new(1, BrokerKind::Embedded, 30).expect("venue");
    let lan = v.lan_ns().to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let mut avahi = Avahi::start(&lan).expect("avahi");
    let _mosquitto = mosquitto_on_lan(&lan, dir.path()).expect("mosquitto");

    // A lower node id serving a live broker, but of another venue: the box must ignore it.
    let other = format!("other-{}", uuid::Uuid::now_v7().simple());
    avahi
        .publish(
            "edge-00-other-venue",
            8080,
            &[
                ("venue", &other),
                ("node", "edge-00"),
                ("role", "hub"),
                ("http", "8080"),
                ("mqtt", "1883"),
                ("ver", &checkup_protocol::FORMAT_VERSION.to_string()),
            ],
        )
        .expect("publish the other venue's box");

    v.start(0).expect("box starts");
    let base = v.boxes[0].url.clone();
    let admin = Staff::login(&base, "A1").await.expect("admin");
    let own = wait_state(&admin, "serving its own broker", |s| {
        s["serving_broker"] == true && s["broker_node"] == "edge-01" && s["connected"] == true
    })
    .await;
    let t_own = t0.elapsed();

    // Avahi lists the box with every TXT key of the format.
    let seen = avahi
        .wait_for("edge-01 serving its broker", |r| {
            r.get("node") == Some("edge-01") && r.get("mqtt").is_some_and(|m| m != "0")
        })
        .expect("avahi-browse lists the box");
    let t_seen = t0.elapsed();
    assert_eq!(seen.get("venue"), Some(v.id.as_str()), "{seen:?}");
    assert_eq!(seen.get("role"), Some("hub"), "{seen:?}");
    assert_eq!(seen.get("http"), Some("8080"), "{seen:?}");
    assert_eq!(
        seen.get("ver"),
        Some(checkup_protocol::FORMAT_VERSION.to_string().as_str()),
        "{seen:?}"
    );
    assert_eq!(seen.address, "10.77.0.1", "{seen:?}");
    assert_eq!(seen.port, 8080, "{seen:?}");
    // The box reaches its own broker locally; the port is the one it advertises.
    let own_port = own["broker"]
        .as_str()
        .and_then(|b| b.rsplit_once(':'))
        .map(|(_, p)| p.to_owned());
    assert_eq!(
        own_port.as_deref(),
        seen.get("mqtt"),
        "the advertised port is the broker the box serves: {own}"
    );
    assert!(seen.name.starts_with("edge-01-"), "{seen:?}");

    // Now a lower node of this venue publishes a broker through Avahi: the box moves to it
    // and withdraws its own broker's advertisement.
    avahi
        .publish(
            "edge-00-this-venue",
            8080,
            &[
                ("venue", &v.id),
                ("node", "edge-00"),
                ("role", "box"),
                ("http", "8080"),
                ("mqtt", "1883"),
                ("ver", &checkup_protocol::FORMAT_VERSION.to_string()),
            ],
        )
        .expect("publish this venue's box");
    let moved = wait_state(&admin, "on the broker Avahi published", |s| {
        s["broker_node"] == "edge-00" && s["connected"] == true && s["serving_broker"] == false
    })
    .await;
    let t_moved = t0.elapsed();
    assert_eq!(moved["broker"], "10.77.0.254:1883", "{moved}");
    avahi
        .wait_for("edge-01 without a broker", |r| {
            r.get("node") == Some("edge-01") && r.get("mqtt") == Some("0")
        })
        .expect("the box withdrew its broker's advertisement");
    eprintln!(
        "avahi: box on its own broker after {t_own:?}, listed by avahi-browse after {t_seen:?}, \
         on Avahi's published broker after {t_moved:?}"
    );
}

#[test]
fn avahi_browse_lines_parse() {
    let out = "+;br0;IPv4;x;_checkup-edge._tcp;local\n\
               =;br0;IPv4;edge-01-v;_checkup-edge._tcp;local;h.local;10.77.0.1;8080;\"ver=1\" \"mqtt=0\" \"node=edge-01\"\n\
               =;br0;IPv6;edge-01-v;_checkup-edge._tcp;local;h.local;fe80::1;8080;\"ver=1\"\n";
    let r = parse_browse(out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].get("node"), Some("edge-01"));
    assert_eq!(r[0].get("mqtt"), Some("0"));
    assert_eq!(r[0].port, 8080);
}
