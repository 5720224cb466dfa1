//! Central and boxes that forward to it, as real processes: configurations (keys, box
//! secrets, staff) for a venue of its own, and starting them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use checkup_protocol::NodeKey;
use uuid::Uuid;

use crate::{Process, binary};

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// What `program args…` prints for `input` on its standard input (first word trimmed).
fn piped(program: &Path, args: &[&str], input: &str) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().map(|mut i| i.write_all(input.as_bytes()));
            c.wait_with_output()
        })
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// SHA-256 in hex, computed with the same tool an administrator would.
pub fn sha256_hex(s: &str) -> String {
    piped(Path::new("sha256sum"), &[], s)
}

/// A central and its boxes' configurations in a directory of their own.
pub struct Setup {
    /// Central's TOML.
    pub central_config: PathBuf,
    /// Where central will listen.
    pub central_url: String,
    /// Each box's TOML (its data directory holds it).
    pub box_configs: Vec<PathBuf>,
    /// The venue's id.
    pub venue: String,
    /// With TLS: the municipality's CA directory (`ca.crt`, `ca.key`, `crl.pem`).
    pub pki: Option<PathBuf>,
    /// Each box's forwarding secret, in order.
    pub secrets: Vec<String>,
    dir: tempfile::TempDir,
}

impl Setup {
    /// The directory everything lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Configurations for central (`database`: `sqlite` or a PostgreSQL URL) and `boxes` boxes
/// of one new venue forwarding to it (staff R1/1111 reception, A1/9999 venue admin), over
/// plain HTTP (`--insecure-dev`).
pub fn setup(database: &str, boxes: usize) -> Setup {
    setup_with(database, boxes, false)
}

/// As [`setup`], enrolled with a new municipal CA: HTTPS everywhere, boxes forwarding over
/// mutual TLS.
pub fn setup_tls(database: &str, boxes: usize) -> Setup {
    setup_with(database, boxes, true)
}

/// `[tls]` for the enrolment of `node` in `dir`, with the CA in `pki`.
pub fn tls_section(pki: &Path, dir: &Path, node: &str) -> String {
    format!(
        "\n[tls]\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\ncrl = \"{}\"\n",
        dir.join(format!("{node}.crt")).display(),
        dir.join(format!("{node}.key")).display(),
        pki.join("ca.crt").display(),
        pki.join("crl.pem").display()
    )
}

fn setup_with(database: &str, boxes: usize, tls: bool) -> Setup {
    use checkup_provisioning::ca;
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let scheme = if tls { "https" } else { "http" };
    let central_url = format!("{scheme}://127.0.0.1:{port}");
    let venue = format!("fwd-{}", Uuid::now_v7().simple());
    let pki = tls.then(|| {
        let pki = dir.path().join("pki");
        std::fs::create_dir_all(&pki).expect("dir");
        ca::create_ca(&pki, "みどり市", 30).expect("CA");
        pki
    });
    // PINs as `venue::STAFF` has them (R1 1111, A1 9999).
    let provision = binary("checkup-provisioning", "checkup-provision").expect("bin");
    let hash = |pin: &str| piped(&provision, &["hash-pin"], pin);
    let (r1_hash, a1_hash) = (hash("1111"), hash("9999"));
    let mut central = format!(
        "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ndatabase = \"{database}\"\nmax_batch_events = 500\n",
        dir.path().join("central").display()
    );
    if let Some(pki) = &pki {
        let out = pki.join("central");
        ca::enrol_box(pki, "central", "municipal", &["127.0.0.1".into()], &out, 30)
            .expect("enrol central");
        central.push_str(&tls_section(pki, &out, "central"));
    }
    let mut box_configs = Vec::new();
    let mut secrets = Vec::new();
    for i in 1..=boxes {
        let node = format!("edge-{i:02}");
        let data = dir.path().join(&node);
        std::fs::create_dir_all(&data).expect("dir");
        let key = NodeKey::generate();
        std::fs::write(data.join("node.key"), key.to_bytes()).expect("key");
        let secret = format!("secret-{node}-{}", Uuid::now_v7().simple());
        central.push_str(&format!(
            "\n[[boxes]]\nnode = \"{node}\"\nvenue = \"{venue}\"\nmunicipality = \"midori\"\npublic_key = \"{}\"\nsecret_sha256 = \"{}\"\n",
            key.verifying_key().to_base64(),
            sha256_hex(&secret)
        ));
        let cfg = format!(
            "venue_id = \"{venue}\"\nnode_id = \"{node}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
             [card]\nmode = \"off\"\n\n[replication]\ndiscovery = false\n\n\
             [central]\nurl = \"{central_url}\"\nsecret = \"{secret}\"\nbatch_events = 100\nbatch_age_ms = 200\nmax_backoff_secs = 2\n\n\
             [[staff]]\nid = \"R1\"\nname = \"受付\"\nrole = \"reception\"\npin_hash = \"{r1_hash}\"\n\n\
             [[staff]]\nid = \"A1\"\nname = \"管理\"\nrole = \"venue_admin\"\npin_hash = \"{a1_hash}\"\n",
            data.display()
        );
        let mut cfg = cfg;
        if let Some(pki) = &pki {
            let out = dir.path().join(format!("{node}-tls"));
            ca::enrol_box(pki, &node, &venue, &["127.0.0.1".into()], &out, 30).expect("enrol box");
            cfg.push_str(&tls_section(pki, &out, &node));
        }
        secrets.push(secret);
        let p = data.join("edge.toml");
        std::fs::write(&p, cfg).expect("config");
        box_configs.push(p);
    }
    let central_config = dir.path().join("central.toml");
    std::fs::write(&central_config, central).expect("central config");
    Setup {
        central_config,
        central_url,
        box_configs,
        venue,
        pki,
        secrets,
        dir,
    }
}

/// Start central from `s`.
pub fn start_central(s: &Setup) -> Process {
    let bin = binary("checkup-central", "checkup-central").expect("central binary");
    let cfg = s.central_config.display().to_string();
    let mut args = vec!["run", "--config", &cfg];
    if s.pki.is_none() {
        args.push("--insecure-dev");
    }
    Process::start(&bin, &args, Duration::from_secs(30)).expect("central starts")
}

/// Start a box from its configuration.
pub fn start_box(config: &Path) -> Process {
    let bin = binary("checkup-edge", "checkup-edge").expect("edge binary");
    let cfg = config.display().to_string();
    let enrolled = std::fs::read_to_string(config).is_ok_and(|t| t.contains("\n[tls]"));
    let mut args = vec!["run", "--config", &cfg];
    if !enrolled {
        args.push("--insecure-dev");
    }
    Process::start(&bin, &args, Duration::from_secs(30)).expect("box starts")
}

/// An HTTPS client trusting the CA in `pki`, presenting the enrolment `(cert, key)` if
/// given.
pub fn https_client(pki: &Path, identity: Option<(&Path, &Path)>) -> reqwest::Client {
    use checkup_provisioning::tls;
    tls::install_provider();
    let trust = tls::Trust::load(&pki.join("ca.crt"), Some(&pki.join("crl.pem"))).expect("CA");
    let creds = identity.map(|(c, k)| tls::Credentials::load(c, k).expect("enrolment"));
    let config = tls::client_config(&trust, creds.as_ref(), tls::ServerCheck::Host).expect("TLS");
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .use_preconfigured_tls((*config).clone())
        .build()
        .expect("client")
}

/// A demo central and a demo box forwarding to it, as real processes on plain HTTP
/// (`--insecure-dev`), in a temporary directory: the box's node key is written first, so
/// central enrols the box by it.
pub struct DemoPair {
    /// Holds both data directories (removed on drop).
    pub dir: tempfile::TempDir,
    /// Central's data directory.
    pub central_data: String,
    /// The demo central.
    pub central: Process,
    /// The demo box.
    pub edge: Process,
}

/// Start a [`DemoPair`].
pub fn demo_pair() -> DemoPair {
    let dir = tempfile::tempdir().expect("dir");
    let box_dir = dir.path().join("box");
    std::fs::create_dir_all(&box_dir).expect("dir");
    let key = NodeKey::generate();
    std::fs::write(box_dir.join("node.key"), key.to_bytes()).expect("key");
    let central_data = dir.path().join("central").display().to_string();
    let box_data = box_dir.display().to_string();
    let central = Process::start(
        &binary("checkup-central", "checkup-central").expect("binary"),
        &[
            "demo",
            "--insecure-dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &central_data,
            "--edge-data-dir",
            &box_data,
        ],
        Duration::from_secs(60),
    )
    .expect("central");
    let edge = Process::start(
        &binary("checkup-edge", "checkup-edge").expect("binary"),
        &[
            "demo",
            "--insecure-dev",
            "--listen",
            "127.0.0.1:0",
            "--mqtt-port",
            "0",
            "--data-dir",
            &box_data,
            "--central-url",
            &central.url,
            "--central-secret",
            "demo-forwarding-secret",
        ],
        Duration::from_secs(60),
    )
    .expect("box");
    DemoPair {
        dir,
        central_data,
        central,
        edge,
    }
}
