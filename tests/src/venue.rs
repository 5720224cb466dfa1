//! A venue of edge boxes on a network of their own, for the multi-process replication tests
//! and the venue benchmarks.
//!
//! ```text
//!   netns <name>-lan: bridge br0 (10.77.0.254: Mosquitto, when the test brings one)
//!     ├─ veth ─ netns <name>-1: eth0 10.77.0.1   (mDNS, MQTT, peers' probes)
//!     ├─ veth ─ netns <name>-2: eth0 10.77.0.2
//!     …
//!   root namespace ─ veth ─ mgmt0 of each box (10.<k>.<i>.2/30): the test's HTTP client
//! ```
//!
//! Each box is a real `checkup-edge run` process in its own namespace with its own SQLite
//! file. Cutting a box off takes its LAN link down while its management link stays up, so
//! the test keeps recording on it. Everything created here is removed on drop (and left-overs
//! of a killed test run are removed by the next one).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use checkup_protocol::NodeKey;
use serde_json::{Value, json};

use crate::{Process, binary};

/// Staff every box of the venue knows: (id, PIN, role).
pub const STAFF: [(&str, &str, &str); 3] = [
    ("R1", "1111", "reception"),
    ("N1", "2222", "nurse"),
    ("A1", "9999", "venue_admin"),
];

/// The venue's broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// Embedded rumqttd, found by mDNS; box 1 is the hub.
    Embedded,
    /// A Mosquitto server on the venue LAN (started by the test), in every box's config.
    Mosquitto,
}

/// Why namespaces cannot be used here.
pub fn netns_unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("network namespaces need root".into());
    }
    static PROBES: AtomicU32 = AtomicU32::new(0);
    let probe = format!(
        "cev-{}-probe{}",
        std::process::id(),
        PROBES.fetch_add(1, Ordering::Relaxed)
    );
    let ok = ip(&["netns", "add", &probe]).is_ok();
    let _ = ip(&["netns", "del", &probe]);
    (!ok).then(|| "the kernel refused `ip netns add`".into())
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("running ip")?;
    if !out.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Remove namespaces (and their processes) left by test runs whose process is gone.
fn clean_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(pid) = name
            .strip_prefix("cev-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        kill_all_in(name);
        let _ = ip(&["netns", "del", name]);
    }
}

fn kill_all_in(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                // SAFETY: kill(2) with a pid read from the namespace we created.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// One box of the venue.
pub struct VenueBox {
    /// Node id (`edge-01`…).
    pub node: String,
    /// Network namespace.
    pub ns: String,
    /// Base URL over the management link.
    pub url: String,
    /// Data directory.
    pub data_dir: PathBuf,
    config: PathBuf,
    lan_if: String,
    process: Option<Process>,
}

/// A venue of boxes on its own LAN.
pub struct Venue {
    /// Venue id (unique per test).
    pub id: String,
    /// The boxes, `edge-01` first.
    pub boxes: Vec<VenueBox>,
    lan_ns: String,
    mosquitto: Option<std::process::Child>,
    _dir: tempfile::TempDir,
}

fn pin_hash(pin: &str) -> anyhow::Result<String> {
    use std::io::Write;
    let bin = binary("checkup-provisioning", "checkup-provision")?;
    let mut child = Command::new(bin)
        .arg("hash-pin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(pin.as_bytes())?;
    let out = child.wait_with_output()?;
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

impl Venue {
    /// Create the LAN and `n` boxes (not started). `failover_secs` goes in every config.
    pub fn new(n: usize, broker: BrokerKind, failover_secs: u64) -> anyhow::Result<Venue> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        clean_stale();
        let k = COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let name = format!("cev-{pid}-{k}");
        // Root-side interface names (≤ 15 bytes) and management subnets unique per venue.
        let tag = format!("{:04x}{k:x}", pid & 0xffff);
        let mgmt_octet = 100 + ((pid as usize * 7 + k as usize) % 100);
        let dir = tempfile::tempdir()?;
        let id = format!("venue-{}", uuid::Uuid::now_v7().simple());
        let lan_ns = format!("{name}-lan");
        ip(&["netns", "add", &lan_ns])?;
        let mut venue = Venue {
            id,
            boxes: Vec::new(),
            lan_ns: lan_ns.clone(),
            mosquitto: None,
            _dir: dir,
        };
        let lan = |args: &[&str]| {
            let mut a = vec!["-n", lan_ns.as_str()];
            a.extend_from_slice(args);
            ip(&a)
        };
        lan(&["link", "set", "lo", "up"])?;
        lan(&["link", "add", "br0", "type", "bridge"])?;
        lan(&["link", "set", "br0", "up"])?;
        lan(&["addr", "add", "10.77.0.254/24", "dev", "br0"])?;

        let keys: Vec<NodeKey> = (0..n).map(|_| NodeKey::generate()).collect();
        let hashes: Vec<String> = STAFF
            .iter()
            .map(|(_, pin, _)| pin_hash(pin))
            .collect::<anyhow::Result<_>>()?;
        for i in 1..=n {
            let node = format!("edge-{i:02}");
            let ns = format!("{name}-{i}");
            ip(&["netns", "add", &ns])?;
            let inns = |args: &[&str]| {
                let mut a = vec!["-n", ns.as_str()];
                a.extend_from_slice(args);
                ip(&a)
            };
            inns(&["link", "set", "lo", "up"])?;
            // LAN: eth0 in the box, its peer on the bridge.
            let lan_if = format!("cl{tag}{i}");
            ip(&[
                "link", "add", &lan_if, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ])?;
            ip(&["link", "set", &lan_if, "netns", &lan_ns])?;
            lan(&["link", "set", &lan_if, "master", "br0"])?;
            lan(&["link", "set", &lan_if, "up"])?;
            inns(&["addr", "add", &format!("10.77.0.{i}/24"), "dev", "eth0"])?;
            inns(&["link", "set", "eth0", "multicast", "on"])?;
            inns(&["link", "set", "eth0", "up"])?;
            // Management: a point-to-point link to the root namespace.
            let mg_if = format!("cm{tag}{i}");
            ip(&[
                "link", "add", &mg_if, "type", "veth", "peer", "name", "mgmt0", "netns", &ns,
            ])?;
            let root_ip = format!("10.{mgmt_octet}.{i}.1");
            let box_ip = format!("10.{mgmt_octet}.{i}.2");
            ip(&["addr", "add", &format!("{root_ip}/30"), "dev", &mg_if])?;
            ip(&["link", "set", &mg_if, "up"])?;
            inns(&["addr", "add", &format!("{box_ip}/30"), "dev", "mgmt0"])?;
            inns(&["link", "set", "mgmt0", "up"])?;

            let data_dir = venue._dir.path().join(&node);
            std::fs::create_dir_all(&data_dir)?;
            std::fs::write(data_dir.join("node.key"), keys[i - 1].to_bytes())?;
            let mut toml = format!(
                "venue_id = \"{}\"\nnode_id = \"{node}\"\nlisten = \"0.0.0.0:8080\"\ndata_dir = \"{}\"\n\n\
                 [card]\nmode = \"off\"\n\n[replication]\ninterfaces = [\"eth0\"]\nhub = {}\nfailover_secs = {failover_secs}\n",
                venue.id,
                data_dir.display(),
                i == 1 && broker == BrokerKind::Embedded,
            );
            if broker == BrokerKind::Mosquitto {
                toml.push_str("broker = \"10.77.0.254:1883\"\ndiscovery = false\n");
            }
            for (j, key) in keys.iter().enumerate() {
                if j + 1 != i {
                    toml.push_str(&format!(
                        "\n[[peers]]\nnode = \"edge-{:02}\"\npublic_key = \"{}\"\n",
                        j + 1,
                        key.verifying_key().to_base64()
                    ));
                }
            }
            for ((sid, _, role), hash) in STAFF.iter().zip(&hashes) {
                toml.push_str(&format!(
                    "\n[[staff]]\nid = \"{sid}\"\nname = \"{sid}\"\nrole = \"{role}\"\npin_hash = \"{hash}\"\n"
                ));
            }
            let config = data_dir.join("edge.toml");
            std::fs::write(&config, toml)?;
            venue.boxes.push(VenueBox {
                node,
                ns,
                url: format!("http://{box_ip}:8080"),
                data_dir,
                config,
                lan_if,
                process: None,
            });
        }
        if broker == BrokerKind::Mosquitto {
            let conf = venue._dir.path().join("mosquitto.conf");
            std::fs::write(
                &conf,
                "listener 1883 10.77.0.254\nallow_anonymous true\npersistence false\nmax_packet_size 8388608\n",
            )?;
            let child = Command::new("ip")
                .args(["netns", "exec", &lan_ns, "mosquitto", "-c"])
                .arg(&conf)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .context("starting mosquitto")?;
            venue.mosquitto = Some(child);
        }
        Ok(venue)
    }

    /// The LAN's own namespace (its bridge `br0` has 10.77.0.254): where a test runs
    /// other hosts of the venue network, such as Avahi.
    pub fn lan_ns(&self) -> &str {
        &self.lan_ns
    }

    /// Start box `i` (0-based) and wait until it serves HTTP.
    pub fn start(&mut self, i: usize) -> anyhow::Result<()> {
        let bin = binary("checkup-edge", "checkup-edge")?;
        let b = &mut self.boxes[i];
        let args = [
            "netns".to_owned(),
            "exec".into(),
            b.ns.clone(),
            bin.display().to_string(),
            "run".into(),
            "--config".into(),
            b.config.display().to_string(),
            "--insecure-dev".into(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let p = Process::start(&PathBuf::from("ip"), &args, Duration::from_secs(30))?;
        b.process = Some(p);
        Ok(())
    }

    /// SIGKILL box `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut p) = self.boxes[i].process.take() {
            p.kill9();
        }
    }

    /// Whether box `from` reaches box `to`'s web port over the venue LAN now (a TCP connect
    /// from inside `from`'s namespace, at most 1 s): after a link comes back, the first
    /// packets may wait for address resolution, so "the link is up" is not yet "the network
    /// is back".
    pub fn lan_reaches(&self, from: usize, to: usize) -> bool {
        let script = format!("exec 3<>/dev/tcp/10.77.0.{}/8080", to + 1);
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.boxes[from].ns,
                "timeout",
                "1",
                "bash",
                "-c",
            ])
            .arg(script)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Take box `i`'s LAN link down (`false`) or up again (`true`).
    pub fn set_link(&self, i: usize, up: bool) -> anyhow::Result<()> {
        ip(&[
            "-n",
            &self.lan_ns,
            "link",
            "set",
            &self.boxes[i].lan_if,
            if up { "up" } else { "down" },
        ])
    }
}

impl Drop for Venue {
    fn drop(&mut self) {
        for b in &mut self.boxes {
            if let Some(mut p) = b.process.take() {
                p.kill9();
            }
            kill_all_in(&b.ns);
            let _ = ip(&["netns", "del", &b.ns]);
        }
        if let Some(mut m) = self.mosquitto.take() {
            let _ = m.kill();
            let _ = m.wait();
        }
        kill_all_in(&self.lan_ns);
        let _ = ip(&["netns", "del", &self.lan_ns]);
    }
}

/// A signed-in staff member's HTTP client on one box.
#[derive(Clone)]
pub struct Staff {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Staff {
    /// Sign in as `staff_id` on the box at `base`.
    pub async fn login(base: &str, staff_id: &str) -> anyhow::Result<Staff> {
        checkup_provisioning::tls::install_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Self::login_with(http, base, staff_id).await
    }

    /// As [`Staff::login`], with a client of the caller's (e.g. trusting a test CA).
    pub async fn login_with(
        http: reqwest::Client,
        base: &str,
        staff_id: &str,
    ) -> anyhow::Result<Staff> {
        let pin = STAFF
            .iter()
            .find(|s| s.0 == staff_id)
            .map(|s| s.1)
            .context("unknown staff")?;
        Self::login_pin(http, base, staff_id, pin).await
    }

    /// Sign in as `staff_id` with `pin`, with a client of the caller's.
    pub async fn login_pin(
        http: reqwest::Client,
        base: &str,
        staff_id: &str,
        pin: &str,
    ) -> anyhow::Result<Staff> {
        let r = http
            .post(format!("{base}/api/login"))
            .json(&json!({"staff_id": staff_id, "pin": pin}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("sign-in as {staff_id} on {base}: {}", r.status());
        }
        let cookie = r
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next().filter(|c| c.starts_with("ce_session=")))
            .context("no session cookie")?
            .to_owned();
        Ok(Staff {
            http,
            base: base.to_owned(),
            cookie,
        })
    }

    /// Open a checkup session for `resident`; it must be stored (201).
    pub async fn open_session(&self, resident: &str) {
        let (st, v) = self
            .post("/api/events", &open_session(uuid::Uuid::now_v7(), resident))
            .await
            .expect("event");
        assert_eq!(st, 201, "{v}");
    }

    /// POST JSON; the status and body.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// POST raw bytes (a CSV file); the status and body.
    pub async fn post_bytes(&self, path: &str, body: Vec<u8>) -> anyhow::Result<(u16, Value)> {
        self.send(self.http.post(format!("{}{path}", self.base)).body(body))
            .await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
        let r = req
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// GET JSON.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("GET {path}: {}", r.status());
        }
        Ok(r.json().await?)
    }
}

/// On the box at `base`: the venue admin A1 imports the roster `csv`; reception R1, signed
/// in, is returned to record the day.
pub async fn roster_and_reception(base: &str, csv: &str) -> Staff {
    let admin = Staff::login(base, "A1").await.expect("admin");
    let (st, v) = admin
        .post_bytes("/api/roster/import", csv.as_bytes().to_vec())
        .await
        .expect("roster");
    assert_eq!(st, 200, "{v}");
    Staff::login(base, "R1").await.expect("reception")
}

/// The roster CSV of the residents `ids`, booked for 特定健診 (a session opens only for a
/// booked resident).
pub fn roster_csv<'a>(ids: impl IntoIterator<Item = &'a String>) -> String {
    let mut csv =
        String::from("resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n");
    for id in ids {
        csv.push_str(&format!(
            "{id},試験　太郎,シケン　タロウ,1960-01-01,male,みどり市中央1丁目{id}番,特定健診,09:00\n"
        ));
    }
    csv
}

/// Book `ids` on the box at `base`: the venue admin A1 imports them (idempotent).
pub async fn book(base: &str, ids: &[String]) -> anyhow::Result<()> {
    checkup_provisioning::tls::install_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    book_with(http, base, ids).await
}

/// As [`book`], with a client of the caller's (e.g. trusting a test CA).
pub async fn book_with(http: reqwest::Client, base: &str, ids: &[String]) -> anyhow::Result<()> {
    let admin = Staff::login_with(http, base, "A1").await?;
    let (st, v) = admin
        .post_bytes("/api/roster/import", roster_csv(ids).into_bytes())
        .await?;
    anyhow::ensure!(st == 200, "roster import: {st} {v}");
    Ok(())
}

/// Write load for tests, as reception records a day: sessions opened and closed again in
/// turn for a few booked residents of the writer's own (so writers on the boxes of one venue
/// never refuse each other's residents). Event `n` (from 0) opens a session when even and
/// closes it when odd.
#[derive(Debug, Clone)]
pub struct Load {
    /// Distinguishes this writer's residents and session ids.
    writer: u32,
    /// Base of the session ids (unique per writer).
    salt: u128,
}

impl Load {
    /// Residents per writer.
    pub const RESIDENTS: u64 = 50;

    /// The load of writer `writer`.
    pub fn new(writer: u32) -> Load {
        Load {
            writer,
            salt: uuid::Uuid::now_v7().as_u128(),
        }
    }

    /// The residents this writer's sessions are for (book them first).
    pub fn residents(&self) -> Vec<String> {
        (0..Self::RESIDENTS)
            .map(|k| format!("{:02}{k:08}", self.writer))
            .collect()
    }

    /// The `n`th event's request body (`POST /api/events`).
    pub fn event(&self, n: u64) -> Value {
        let session = uuid::Uuid::from_u128(self.salt.wrapping_add(u128::from(n / 2)));
        if n.is_multiple_of(2) {
            let resident = format!("{:02}{:08}", self.writer, (n / 2) % Self::RESIDENTS);
            open_session(session, &resident)
        } else {
            json!({"id": uuid::Uuid::now_v7(), "body": {"kind": "session_closed",
                "payload": {"session_id": session}}})
        }
    }
}

/// Sign in on `base`, retrying while the box starts.
pub async fn login_retry(base: &str, staff_id: &str) -> anyhow::Result<Staff> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Staff::login(base, staff_id).await {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The body of a session opening.
pub fn open_session(session: uuid::Uuid, resident: &str) -> Value {
    json!({"id": uuid::Uuid::now_v7(), "body": {"kind": "session_opened", "payload": {
        "session_id": session, "resident_id": resident,
        "stations": ["measurement", "blood_pressure"]}}})
}

/// The body of a height measurement.
pub fn height(session: uuid::Uuid, resident: &str, cm: f64) -> Value {
    json!({"id": uuid::Uuid::now_v7(), "body": {"kind": "measurement_recorded", "payload": {
        "session_id": session, "resident_id": resident, "station": "measurement",
        "item_code": "9N001000000000001", "value": cm, "unit": "cm"}}})
}
