//! `checkup-edge doctor`, run as an operator runs it, against real parts: a box enrolled
//! with a CA of the test's own, a real central and Mosquitto on free loopback ports, a
//! private pcscd with the virtual reader, Tesseract's model. One test per check injects
//! its fault the way a machine would show it — through the configuration or the
//! environment the box reads (pcscd's socket, the tessdata folder, a peer answering with
//! a clock five minutes off, a tmpfs of 8 MiB in a mount namespace of the doctor's own,
//! an expired certificate, a closed port, a missing or wrong data key) — and checks the
//! exit status, the failing check's id, its Japanese and English text and its fix.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use checkup_edge::at_rest::{DataKey, READ_WRITE, open_sqlite};
use checkup_provisioning::ca;
use checkup_tests::central::free_port;
use checkup_tests::{Process, binary};
use serde_json::Value;

const NODE: &str = "edge-01";

/// A box's files: a CA, the box's enrolment, its data key and data directory.
struct Fixture {
    dir: tempfile::TempDir,
    pki: PathBuf,
    venue: String,
    /// The box's enrolment (certificate valid for a year).
    enrolment: ca::Enrolment,
    /// The data key file (0600).
    key_file: PathBuf,
}

/// What a configuration holds beyond the fixture's defaults.
#[derive(Default)]
struct Opts {
    card_mode: Option<&'static str>,
    /// `(url, secret)`.
    central: Option<(String, String)>,
    broker: Option<String>,
    /// No `[tls]`.
    no_tls: bool,
    /// Another enrolment's directory (`<node>.crt`, `<node>.key`).
    tls_from: Option<PathBuf>,
    key_file: Option<PathBuf>,
    hot_folder: bool,
    max_disk_mb: Option<u64>,
    data_dir: Option<PathBuf>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("dir");
        let pki = dir.path().join("pki");
        std::fs::create_dir_all(&pki).expect("pki");
        ca::create_ca(&pki, "みどり市", 400).expect("CA");
        let venue = format!("doc-{}", uuid::Uuid::now_v7().simple());
        let enrolment = ca::enrol_box(
            &pki,
            NODE,
            &venue,
            &["127.0.0.1".into()],
            &dir.path().join("tls"),
            365,
        )
        .expect("enrol");
        let key_file = dir.path().join("data.key");
        write_key(&key_file, &DataKey::generate());
        std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
        Fixture {
            dir,
            pki,
            venue,
            enrolment,
            key_file,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a configuration for `o` and return its path.
    fn config(&self, o: &Opts) -> PathBuf {
        let data_dir = o.data_dir.clone().unwrap_or_else(|| self.path("data"));
        let mut t = format!(
            "venue_id = \"{}\"\nnode_id = \"{NODE}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nkey_file = \"{}\"\n",
            self.venue,
            data_dir.display(),
            self.enrolment.node_key.display()
        );
        t.push_str(&format!(
            "\n[store]\nkey_file = \"{}\"\n",
            o.key_file.as_ref().unwrap_or(&self.key_file).display()
        ));
        t.push_str(&format!(
            "\n[card]\nmode = \"{}\"\n",
            o.card_mode.unwrap_or("off")
        ));
        t.push_str("\n[replication]\ndiscovery = false\n");
        if let Some(b) = &o.broker {
            t.push_str(&format!("broker = \"{b}\"\n"));
        }
        t.push_str("\n[central]\n");
        if let Some((url, secret)) = &o.central {
            t.push_str(&format!("url = \"{url}\"\nsecret = \"{secret}\"\n"));
        }
        if let Some(mb) = o.max_disk_mb {
            t.push_str(&format!("max_disk_mb = {mb}\n"));
        }
        if o.hot_folder {
            t.push_str(&format!(
                "\n[intake]\nhot_folder = \"{}\"\n",
                self.path("scans").display()
            ));
        }
        if !o.no_tls {
            let tls_dir = o.tls_from.clone().unwrap_or_else(|| self.path("tls"));
            t.push_str(&format!(
                "\n[tls]\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\ncrl = \"{}\"\n",
                tls_dir.join(format!("{NODE}.crt")).display(),
                tls_dir.join(format!("{NODE}.key")).display(),
                self.pki.join("ca.crt").display(),
                self.pki.join("crl.pem").display()
            ));
        }
        let p = self.path(&format!("edge-{}.toml", uuid::Uuid::now_v7().simple()));
        std::fs::write(&p, t).expect("config");
        p
    }
}

fn write_key(path: &Path, key: &DataKey) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, key.to_hex()).expect("key");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// What one doctor run printed.
struct Run {
    code: i32,
    stdout: String,
}

impl Run {
    /// The line of check `id` (`STATUS  id  ja / en  → 対処 / fix: …`).
    fn line(&self, id: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{}", self.stdout))
    }

    /// Check `id` has `status` and its line holds `ja`, `en` and (for a fault) `fix`.
    fn shows(&self, id: &str, status: &str, ja: &str, en: &str, fix: Option<&str>) {
        let line = self.line(id);
        assert!(line.starts_with(status), "{id} should be {status}: {line}");
        let (text, fix_text) = match line.split_once("→ 対処 / fix: ") {
            Some((t, f)) => (t, Some(f)),
            None => (line, None),
        };
        let (ja_text, en_text) = text
            .split_once(" / ")
            .unwrap_or_else(|| panic!("no ja / en in: {line}"));
        assert!(ja_text.contains(ja), "Japanese {ja:?} in: {line}");
        assert!(en_text.contains(en), "English {en:?} in: {line}");
        match fix {
            Some(f) => assert!(
                fix_text.is_some_and(|t| t.contains(f)),
                "fix {f:?} in: {line}"
            ),
            None => assert!(fix_text.is_none(), "no fix expected: {line}"),
        }
    }
}

fn doctor_cmd(config: &Path, extra: &[&str]) -> Command {
    let bin = binary("checkup-edge", "checkup-edge").expect("edge binary");
    let mut cmd = Command::new(bin);
    cmd.arg("doctor")
        .arg("--config")
        .arg(config)
        .args(extra)
        .env("RUST_LOG", "warn")
        .env_remove("TESSDATA_PREFIX")
        .env_remove("PCSCLITE_CSOCK_NAME");
    cmd
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("doctor runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}");
    Run {
        code: out.status.code().expect("exit status"),
        stdout,
    }
}

fn doctor(config: &Path, env: &[(&str, &OsStr)]) -> Run {
    let mut cmd = doctor_cmd(config, &[]);
    cmd.envs(env.iter().copied());
    run(cmd)
}

#[test]
fn the_fixture_alone_is_sound_and_json_lists_every_check() {
    let f = Fixture::new();
    let cfg = f.config(&Opts::default());
    let out = doctor_cmd(&cfg, &["--json"]).output().expect("doctor");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "pcsc", "ocr", "clock", "disk", "tls", "broker", "central", "data_key", "data_dir"
        ]
    );
    for c in v["checks"].as_array().expect("checks") {
        let expected = match c["id"].as_str() {
            Some("pcsc" | "clock" | "broker" | "central") => "skipped",
            _ => "ok",
        };
        assert_eq!(c["status"], expected, "{c}");
        assert!(c["ja"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
        assert!(c["en"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
    }
    assert_eq!(v["exit"], 0);
    assert_eq!(out.status.code(), Some(0));
}

/// Mosquitto with the municipality's TLS (as `checkup-provision broker-config` sets it
/// up), killed on drop.
struct Mosquitto(std::process::Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mosquitto(f: &Fixture) -> (Mosquitto, SocketAddr) {
    use std::os::unix::fs::MetadataExt;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    // As root Mosquitto drops to its own user, who cannot read the test's directory.
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let conf = checkup_provisioning::mosquitto::write_config(
        &f.pki,
        &f.path("mosquitto"),
        addr,
        if root { "root" } else { "mosquitto" },
    )
    .expect("broker config");
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mosquitto (Debian package mosquitto)");
    let m = Mosquitto(child);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "mosquitto did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (m, addr)
}

/// A central enrolled with the fixture's CA that knows the box with `secret`.
fn start_central(f: &Fixture, secret: &str) -> Process {
    let port = free_port();
    let out = f.path("central-tls");
    ca::enrol_box(
        &f.pki,
        "central",
        "municipal",
        &["127.0.0.1".into()],
        &out,
        365,
    )
    .expect("enrol central");
    let cfg = format!(
        "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ndatabase = \"sqlite\"\n\n\
         [[boxes]]\nnode = \"{NODE}\"\nvenue = \"{}\"\nmunicipality = \"midori\"\npublic_key = \"{}\"\nsecret_sha256 = \"{}\"\n\n\
         [tls]\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\ncrl = \"{}\"\n",
        f.path("central").display(),
        f.venue,
        f.enrolment.public_key,
        checkup_central_digest(secret),
        out.join("central.crt").display(),
        out.join("central.key").display(),
        f.pki.join("ca.crt").display(),
        f.pki.join("crl.pem").display()
    );
    let path = f.path("central.toml");
    std::fs::write(&path, cfg).expect("central config");
    let bin = binary("checkup-central", "checkup-central").expect("central binary");
    let p = path.display().to_string();
    Process::start(&bin, &["run", "--config", &p], Duration::from_secs(30)).expect("central")
}

/// SHA-256 in hex, as central's `secret_sha256` holds it.
fn checkup_central_digest(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

#[test]
fn a_box_with_every_part_in_place_is_all_green() {
    let f = Fixture::new();
    let reader = checkup_drivers::virtual_reader::VirtualReader::start(&{
        let d = f.path("reader");
        std::fs::create_dir_all(&d).expect("dir");
        d
    })
    .expect("virtual reader (needs root, pcscd, vsmartcard-vpcd)");
    let (_mosquitto, broker) = start_mosquitto(&f);
    let secret = "doctor-secret";
    let central = start_central(&f, secret);
    let cfg = f.config(&Opts {
        card_mode: Some("system"),
        central: Some((central.url.clone(), secret.into())),
        broker: Some(broker.to_string()),
        hot_folder: true,
        max_disk_mb: Some(512),
        ..Opts::default()
    });
    let socket = reader.socket_path();
    let out = doctor(&cfg, &[("PCSCLITE_CSOCK_NAME", socket.as_os_str())]);
    for id in [
        "pcsc", "ocr", "clock", "disk", "tls", "broker", "central", "data_key", "data_dir",
    ] {
        assert!(out.line(id).starts_with("OK "), "{id}: {}", out.line(id));
    }
    out.shows("pcsc", "OK", "カードリーダー", "Virtual PCD 00 00", None);
    out.shows(
        "central",
        "OK",
        "転送用の秘密",
        "accepts this box's forwarding secret",
        None,
    );
    assert!(out.stdout.contains("(exit 0)"), "{}", out.stdout);
    assert_eq!(out.code, 0);
}

#[test]
fn pcsc_without_pcscd_is_an_error_naming_the_service_to_start() {
    let f = Fixture::new();
    let cfg = f.config(&Opts {
        card_mode: Some("system"),
        ..Opts::default()
    });
    // pcscd's socket where nothing listens.
    let socket = f.path("no-pcscd/pcscd.comm");
    let out = doctor(&cfg, &[("PCSCLITE_CSOCK_NAME", socket.as_os_str())]);
    out.shows(
        "pcsc",
        "ERROR",
        "pcscd が応答しません",
        "pcscd does not answer",
        Some("sudo systemctl start pcscd"),
    );
    assert!(out.line("pcsc").contains(&socket.display().to_string()));
    assert_eq!(out.code, 2);
}

#[test]
fn ocr_without_the_japanese_model_is_an_error_for_intake_and_a_warning_otherwise() {
    let f = Fixture::new();
    let empty = f.path("empty-tessdata");
    std::fs::create_dir_all(&empty).expect("dir");
    let env = [("TESSDATA_PREFIX", empty.as_os_str())];
    let intake = f.config(&Opts {
        hot_folder: true,
        ..Opts::default()
    });
    let out = doctor(&intake, &env);
    out.shows(
        "ocr",
        "ERROR",
        "日本語モデル",
        "cannot load the Japanese model",
        Some("sudo apt-get install tesseract-ocr-jpn"),
    );
    assert!(out.line("ocr").contains("jpn.traineddata"));
    assert_eq!(out.code, 2);

    let no_intake = f.config(&Opts::default());
    let out = doctor(&no_intake, &env);
    out.shows(
        "ocr",
        "WARN",
        "日本語モデル",
        "cannot load the Japanese model",
        Some("tesseract-ocr-jpn"),
    );
    assert_eq!(out.code, 1);
}

/// An HTTP server standing in as central whose clock is `offset` seconds off: it answers
/// every request 200 with that `Date`. Runs until the runtime stops.
async fn central_with_clock(offset: i64) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the head and the body it announces, then answer.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let then = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset);
                let date = then
                    .format(time::macros::format_description!(
                        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
                    ))
                    .expect("date");
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                );
                let _ = s.write_all(answer.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_five_minutes_off_centrals_is_an_error_and_ten_seconds_a_warning() {
    let f = Fixture::new();
    // Plain HTTP (an enrolled box only speaks HTTPS to central): `tls` warns, which does
    // not hide the clock's error.
    let far = central_with_clock(-300).await;
    let cfg = f.config(&Opts {
        no_tls: true,
        central: Some((format!("http://{far}"), "s".into())),
        ..Opts::default()
    });
    let out = tokio::task::spawn_blocking(move || doctor(&cfg, &[]))
        .await
        .expect("run");
    out.shows(
        "clock",
        "ERROR",
        "時計がcentralより",
        "ahead of central's",
        Some("sudo chronyc makestep"),
    );
    out.shows("central", "OK", "central", "answers", None);
    assert_eq!(out.code, 2);

    let near = central_with_clock(10).await;
    let cfg = f.config(&Opts {
        no_tls: true,
        central: Some((format!("http://{near}"), "s".into())),
        ..Opts::default()
    });
    let out = tokio::task::spawn_blocking(move || doctor(&cfg, &[]))
        .await
        .expect("run");
    out.shows(
        "clock",
        "WARN",
        "遅れています",
        "behind central's",
        Some("chronyc makestep"),
    );
    assert_eq!(out.code, 1);
}

#[test]
fn a_data_directory_over_its_bound_is_an_error() {
    let f = Fixture::new();
    std::fs::write(f.path("data/big"), vec![0u8; 2 * 1024 * 1024]).expect("fill");
    let cfg = f.config(&Opts {
        max_disk_mb: Some(1),
        ..Opts::default()
    });
    let out = doctor(&cfg, &[]);
    out.shows(
        "disk",
        "ERROR",
        "上限を超えています",
        "over its bound",
        Some("checkup-edge wipe"),
    );
    assert_eq!(out.code, 2);
}

#[test]
fn a_nearly_full_disk_is_an_error() {
    let f = Fixture::new();
    let small = f.path("small");
    std::fs::create_dir_all(&small).expect("dir");
    let cfg = f.config(&Opts {
        data_dir: Some(small.clone()),
        ..Opts::default()
    });
    // The doctor in a mount namespace of its own where the data directory is an 8 MiB
    // tmpfs: nothing outside sees the mount, and it goes with the process.
    let bin = binary("checkup-edge", "checkup-edge").expect("edge binary");
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg("mount -t tmpfs -o size=8m tmpfs \"$0\" && exec \"$@\"")
        .arg(&small)
        .arg(bin)
        .arg("doctor")
        .arg("--config")
        .arg(&cfg)
        .env("RUST_LOG", "warn")
        .env_remove("TESSDATA_PREFIX");
    let out = run(cmd);
    out.shows(
        "disk",
        "ERROR",
        "の空きが",
        "free on",
        Some("free space on the disk"),
    );
    assert!(out.line("disk").contains("8.0 MiB"), "{}", out.line("disk"));
    assert_eq!(out.code, 2);
}

#[test]
fn an_expired_certificate_is_an_error_and_one_expiring_soon_a_warning() {
    let f = Fixture::new();
    let now = time::OffsetDateTime::now_utc();
    let expired = f.path("expired");
    ca::enrol_box_between(
        &f.pki,
        NODE,
        &f.venue,
        &["127.0.0.1".into()],
        &expired,
        now - time::Duration::days(400),
        now - time::Duration::days(1),
    )
    .expect("expired enrolment");
    let out = doctor(
        &f.config(&Opts {
            tls_from: Some(expired),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "tls",
        "ERROR",
        "期限切れです",
        "expired on",
        Some("checkup-provision enrol"),
    );
    assert_eq!(out.code, 2);

    let soon = f.path("soon");
    ca::enrol_box(&f.pki, NODE, &f.venue, &["127.0.0.1".into()], &soon, 10).expect("enrol");
    let out = doctor(
        &f.config(&Opts {
            tls_from: Some(soon),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "tls",
        "WARN",
        "日後",
        "expires in",
        Some("checkup-provision enrol"),
    );
    assert_eq!(out.code, 1);
}

#[test]
fn a_broker_port_with_nothing_listening_is_an_error() {
    let f = Fixture::new();
    let broker = format!("127.0.0.1:{}", free_port());
    let out = doctor(
        &f.config(&Opts {
            broker: Some(broker.clone()),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "broker",
        "ERROR",
        "接続できません",
        "does not accept this box",
        Some("sudo systemctl start mosquitto"),
    );
    assert!(out.line("broker").contains(&broker));
    assert_eq!(out.code, 2);
}

#[test]
fn central_on_a_closed_port_or_refusing_the_secret_is_an_error() {
    let f = Fixture::new();
    let closed = format!("https://127.0.0.1:{}", free_port());
    let out = doctor(
        &f.config(&Opts {
            central: Some((closed.clone(), "s".into())),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "central",
        "ERROR",
        "に接続できません",
        "is unreachable",
        Some("checkup-central doctor"),
    );
    assert!(out.line("central").contains(&closed));
    out.shows(
        "clock",
        "SKIP",
        "時計を比べていません",
        "not compared",
        None,
    );
    assert_eq!(out.code, 2);

    let central = start_central(&f, "the-right-secret");
    let out = doctor(
        &f.config(&Opts {
            central: Some((central.url.clone(), "a-wrong-secret".into())),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "central",
        "ERROR",
        "転送を拒否しました",
        "unauthenticated",
        Some("central.secret must be"),
    );
    // The clock was compared all the same: central answered.
    out.shows("clock", "OK", "合っています", "agrees with central's", None);
    assert_eq!(out.code, 2);
}

#[test]
fn a_missing_or_wrong_data_key_is_an_error() {
    let f = Fixture::new();
    let out = doctor(
        &f.config(&Opts {
            key_file: Some(f.path("usb/data.key")),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "data_key",
        "ERROR",
        "データ鍵を読めません",
        "cannot be read",
        Some("insert the USB key"),
    );
    assert_eq!(out.code, 2);

    // A store made with the box's key, and another key configured.
    {
        let key = DataKey::load(&f.key_file).expect("key");
        let c = open_sqlite(&f.path("data/events.sqlite3"), Some(&key), READ_WRITE).expect("store");
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .expect("write");
    }
    let other = f.path("other.key");
    write_key(&other, &DataKey::generate());
    let out = doctor(
        &f.config(&Opts {
            key_file: Some(other),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "data_key",
        "ERROR",
        "このデータ鍵で開けません",
        "does not open with this data key",
        Some("its own data key"),
    );
    assert_eq!(out.code, 2);
    // The right key opens it.
    let out = doctor(&f.config(&Opts::default()), &[]);
    out.shows(
        "data_key",
        "OK",
        "events.sqlite3",
        "opens events.sqlite3",
        None,
    );
    assert_eq!(out.code, 0);
}

#[test]
fn a_data_directory_that_is_a_file_is_an_error() {
    let f = Fixture::new();
    let file = f.path("not-a-dir");
    std::fs::write(&file, "x").expect("file");
    let out = doctor(
        &f.config(&Opts {
            data_dir: Some(file),
            ..Opts::default()
        }),
        &[],
    );
    out.shows(
        "data_dir",
        "ERROR",
        "ディレクトリではありません",
        "is not a directory",
        Some("sudo mkdir -p"),
    );
    assert_eq!(out.code, 2);
}

#[test]
fn a_configuration_that_does_not_load_is_an_error() {
    let f = Fixture::new();
    let bad = f.path("bad.toml");
    std::fs::write(&bad, "venue = 'unknown key'\n").expect("write");
    let out = doctor(&bad, &[]);
    out.shows(
        "config",
        "ERROR",
        "設定を読み込めません",
        "does not load",
        Some("config.example.toml"),
    );
    assert_eq!(out.code, 2);
}
