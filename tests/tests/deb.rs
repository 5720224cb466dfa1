//! The Debian packages end to end (docs/install.md, packaging/): `cargo deb` makes
//! `checkup-edge` and `checkup-central` (from this test run's binaries: debug ones under
//! `make test`); `dpkg-deb` shows what they hold (binary, systemd unit, sysusers entry,
//! conffile, maintainer scripts, dependencies); both install with `dpkg -i` into a scratch
//! root (an overlay of this machine's root, so the real system is never changed), where
//! `systemd-analyze verify` has nothing to say about the units and `systemd-analyze
//! security` finds only the exposure a network server needs. As shipped, each refuses to
//! start; enrolled, each binary runs from its unit's `ExecStart=` as systemd would run it —
//! as the unit's user, in its state directory, without new privileges or capabilities —
//! answers `/healthz` over TLS and stops cleanly on SIGTERM; `dpkg --purge` removes the
//! packages and keeps the data. systemd is not PID 1 here, so `systemctl start` cannot be
//! used: the sandboxing options are checked by `systemd-analyze`, not exercised.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use checkup_provisioning::ca;
use checkup_tests::central::https_client;
use checkup_tests::scratch_root::ScratchRoot;
use checkup_tests::{Process, binary, cargo_command};
use uuid::Uuid;

/// One package and what it ships.
struct Package {
    /// Package, binary, unit, user and state directory name alike.
    name: &'static str,
    /// Its configuration under /etc/<name>/.
    config: &'static str,
    /// Node the test enrols it as.
    node: &'static str,
}

const EDGE: Package = Package {
    name: "checkup-edge",
    config: "edge.toml",
    node: "edge-01",
};
const CENTRAL: Package = Package {
    name: "checkup-central",
    config: "central.toml",
    node: "central",
};

/// Rated exposure a network server cannot avoid: it talks IP (tablets, MQTT, boxes,
/// PostgreSQL) to addresses not known when the package is built (so no `IPAddressDeny=`
/// allow-list), Unix sockets (pcscd, a local PostgreSQL), netlink (the box's mDNS lists the
/// interfaces), runs in the host's root directory and may read the clock device. Any other
/// ✗ in `systemd-analyze security` means a hardening line was lost.
const UNAVOIDABLE: &[&str] = &[
    "PrivateNetwork=",
    "IPAddressDeny=",
    "RestrictAddressFamilies=~AF_(INET|INET6)",
    "RestrictAddressFamilies=~AF_UNIX",
    "RestrictAddressFamilies=~AF_NETLINK",
    "RootDirectory=/RootImage=",
    "DeviceAllow=",
];

/// Highest overall exposure accepted. The unavoidable items above come to 1.1 with systemd
/// 252 for either unit. A single lost hardening line shows as a ✗ outside that list
/// (`ProtectSystem=` alone only moves the score to 1.3); the bound also catches the heavy
/// losses should a systemd rename its checks (no `CapabilityBoundingSet=`: 2.9, no system
/// call filter: 2.7), and leaves room for a systemd weighing the network a little higher.
const MAX_EXPOSURE: f64 = 1.5;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `cargo deb --no-build` for each package, from the binaries of this test run's own
/// profile (built if stale): `make test` has the debug ones already, and a release build of
/// both would add ten minutes on CI's two cores; `cargo test --release` packages release
/// binaries, as `make deb` does. The packages differ in nothing else.
fn build_packages(out: &Path) -> BTreeMap<&'static str, PathBuf> {
    let version = cargo_command().args(["deb", "--version"]).output();
    assert!(
        matches!(&version, Ok(o) if o.status.success()),
        "cargo-deb is missing: run scripts/install-deps.sh --test ({version:?})"
    );
    let mut debs = BTreeMap::new();
    for p in [&EDGE, &CENTRAL] {
        let bin = binary(p.name, p.name).expect("binary");
        let profile = match bin.parent().and_then(|d| d.file_name()) {
            Some(d) if d == "debug" => "dev",
            Some(d) => d.to_str().expect("profile"),
            None => panic!("{}: no profile directory", bin.display()),
        };
        run_ok(
            cargo_command()
                .current_dir(workspace())
                .args([
                    "deb",
                    "-p",
                    p.name,
                    "--no-build",
                    "--fast",
                    "--profile",
                    profile,
                ])
                .arg("--output")
                .arg(out),
        );
        let deb = std::fs::read_dir(out)
            .expect("output dir")
            .map(|e| e.expect("entry").path())
            .find(|f| {
                let n = f.file_name().map(|n| n.to_string_lossy().into_owned());
                n.is_some_and(|n| n.starts_with(&format!("{}_", p.name)) && n.ends_with(".deb"))
            })
            .unwrap_or_else(|| panic!("no {} .deb in {}", p.name, out.display()));
        debs.insert(p.name, deb);
    }
    debs
}

/// The package names in a `Depends:` field, each alternative group as written
/// (`a | b`), versions dropped.
fn depends(field: &str) -> BTreeSet<String> {
    field
        .split(',')
        .map(|group| {
            group
                .split('|')
                .map(|alt| alt.split('(').next().unwrap_or("").trim().to_owned())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// What `dpkg-deb` shows of a package: its files, control fields and maintainer scripts.
fn inspect(p: &Package, deb: &Path, scratch: &Path) {
    let info = run_ok(Command::new("dpkg-deb").arg("-I").arg(deb));
    eprintln!(
        "deb: {} {} bytes\n{info}",
        deb.display(),
        std::fs::metadata(deb).expect("deb").len()
    );
    let files: BTreeSet<String> = run_ok(Command::new("dpkg-deb").arg("-c").arg(deb))
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|f| f.trim_start_matches('.').to_owned())
        .collect();
    let unit = format!("/usr/lib/systemd/system/{}.service", p.name);
    for f in [
        format!("/usr/bin/{}", p.name),
        unit.clone(),
        format!("/usr/lib/sysusers.d/{}.conf", p.name),
        format!("/etc/{}/{}", p.name, p.config),
        format!("/usr/share/doc/{}/install.md", p.name),
        format!("/usr/share/doc/{}/{}.example", p.name, p.config),
    ] {
        assert!(files.contains(&f), "{f} not in {}: {files:?}", p.name);
    }
    let field = |name: &str| run_ok(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name));
    let deps = depends(&field("Depends"));
    assert!(deps.contains("systemd | systemd-sysusers"), "{deps:?}");
    if p.name == EDGE.name {
        // Card readers through pcscd (libpcsclite1 is linked, found by dpkg-shlibdeps) and
        // the OCR intake's engine and Japanese data.
        for d in [
            "pcscd",
            "libccid",
            "libpcsclite1",
            "tesseract-ocr",
            "tesseract-ocr-jpn",
        ] {
            assert!(
                deps.contains(d),
                "{} does not depend on {d}: {deps:?}",
                p.name
            );
        }
    } else {
        // PostgreSQL is spoken by tokio-postgres: no client library is linked.
        assert!(!deps.iter().any(|d| d.contains("libpq")), "{deps:?}");
    }
    let control = scratch.join(format!("{}-control", p.name));
    run_ok(Command::new("dpkg-deb").arg("-e").arg(deb).arg(&control));
    let read = |f: &str| std::fs::read_to_string(control.join(f)).unwrap_or_default();
    assert_eq!(
        read("conffiles").trim(),
        format!("/etc/{}/{}", p.name, p.config),
        "conffiles"
    );
    let postinst = read("postinst");
    assert!(
        postinst
            .lines()
            .any(|l| l.trim_start().starts_with("systemd-sysusers ")
                && l.trim_end().ends_with(&format!(" {}.conf", p.name))),
        "the service user is not created: {postinst}"
    );
    assert!(
        postinst.contains(&format!(
            "dpkg-statoverride --update --add root {} 0750 /etc/{}",
            p.name, p.name
        )),
        "{postinst}"
    );
    // Registered, not started: unenrolled, it would only fail.
    assert!(!postinst.contains("deb-systemd-invoke start"), "{postinst}");
    assert!(read("prerm").contains("deb-systemd-invoke stop"), "prerm");
    assert!(
        read("postrm").contains("deb-systemd-helper purge"),
        "postrm"
    );
}

/// The keys of a unit's `[Service]` section (one value per key, the last one).
fn unit_keys(text: &str) -> BTreeMap<String, String> {
    let mut section = String::new();
    let mut keys = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            section = line.to_owned();
            continue;
        }
        if section == "[Service]"
            && let Some((k, v)) = line.split_once('=')
        {
            keys.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    keys
}

/// `systemd-analyze verify` and `security` on the installed unit.
fn analyze(root: &ScratchRoot, p: &Package, unit: &str) {
    let out = root
        .run("systemd-analyze", &["verify", unit])
        .expect("verify");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    eprintln!(
        "deb: systemd-analyze verify {unit}: {} {stdout}{stderr}",
        out.status
    );
    assert!(out.status.success(), "verify {unit}: {stdout}{stderr}");
    assert!(
        stdout.trim().is_empty() && stderr.trim().is_empty(),
        "verify {unit}: {stdout}{stderr}"
    );

    let out = root
        .run("systemd-analyze", &["security", "--offline=yes", unit])
        .expect("security");
    let text = String::from_utf8_lossy(&out.stdout);
    let overall = text
        .lines()
        .find_map(|l| l.split_once(&format!("Overall exposure level for {}.service: ", p.name)))
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_else(|| panic!("no overall exposure: {text}"));
    let exposure: f64 = overall
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("exposure {overall:?}"));
    let failed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("✗ "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    eprintln!("deb: systemd-analyze security --offline=yes {unit}: {overall}; exposed: {failed:?}");
    for f in &failed {
        assert!(
            UNAVOIDABLE.contains(f),
            "{}: {f} not hardened\n{text}",
            p.name
        );
    }
    assert!(
        exposure <= MAX_EXPOSURE,
        "{}: exposure {exposure} > {MAX_EXPOSURE}\n{text}",
        p.name
    );
}

/// A passwd or group entry's fields, from inside the root.
fn getent(root: &ScratchRoot, db: &str, name: &str) -> Vec<String> {
    root.ok("getent", &[db, name])
        .expect("getent")
        .trim()
        .split(':')
        .map(str::to_owned)
        .collect()
}

/// The shipped configuration, enrolled: listen on a free port, this test's venue, and the
/// commented-out enrolment lines (key file, `[tls]`) taken in as written.
fn enrolled_config(shipped: &str, venue: &str) -> String {
    let mut out = String::new();
    for line in shipped.lines() {
        let line = if let Some(rest) = line.strip_prefix("# ")
            && (rest == "[tls]"
                || ["cert = ", "key = ", "ca = ", "crl = ", "key_file = \"/etc/"]
                    .iter()
                    .any(|k| rest.starts_with(k)))
        {
            rest.to_owned()
        } else if line.starts_with("listen = ") {
            "listen = \"127.0.0.1:0\"".to_owned()
        } else if line.starts_with("venue_id = ") {
            format!("venue_id = \"{venue}\"")
        } else {
            line.to_owned()
        };
        out.push_str(&line);
        out.push('\n');
    }
    assert!(out.contains("\n[tls]\n"), "no [tls] to fill in: {shipped}");
    out
}

/// Enrol `p` with the CA and put the files where its shipped configuration names them,
/// readable by the service's group only.
fn enrol(root: &ScratchRoot, p: &Package, pki: &Path, venue: &str, gid: u32) {
    let out = pki.join(p.node);
    ca::enrol_box(pki, p.node, venue, &["127.0.0.1".into()], &out, 2).expect("enrol");
    let etc = format!("/etc/{}", p.name);
    for (from, name) in [
        (
            out.join(format!("{}.crt", p.node)),
            format!("{}.crt", p.node),
        ),
        (
            out.join(format!("{}.key", p.node)),
            format!("{}.key", p.node),
        ),
        (
            out.join(format!("{}.node.key", p.node)),
            format!("{}.node.key", p.node),
        ),
        (pki.join("ca.crt"), "ca.crt".into()),
        (pki.join("crl.pem"), "crl.pem".into()),
    ] {
        let to = root.path(format!("{etc}/{name}"));
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        std::os::unix::fs::chown(&to, Some(0), Some(gid)).expect("chown");
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    let config = root.path(format!("{etc}/{}", p.config));
    let shipped = std::fs::read_to_string(&config).expect("shipped configuration");
    std::fs::write(&config, enrolled_config(&shipped, venue)).expect("configuration");
}

/// Start the unit's `ExecStart=` as systemd would: its state directory made with its mode
/// and owner, then as its user and group with no new privileges and no capabilities, a
/// clean environment with `STATE_DIRECTORY`, its umask and working directory.
fn start_as_unit(root: &ScratchRoot, keys: &BTreeMap<String, String>) -> Process {
    let key = |k: &str| {
        keys.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("the unit has no {k}="))
    };
    let exec = key("ExecStart");
    assert!(
        !exec.contains(['"', '\'', '%', '$', '\\']),
        "ExecStart= needs a real unit parser: {exec}"
    );
    assert_eq!(key("NoNewPrivileges"), "yes");
    assert_eq!(key("CapabilityBoundingSet"), "");
    let (user, group) = (key("User"), key("Group"));
    let state = format!("/var/lib/{}", key("StateDirectory"));
    root.ok(
        "install",
        &[
            "-d",
            "-o",
            &user,
            "-g",
            &group,
            "-m",
            &key("StateDirectoryMode"),
            &state,
        ],
    )
    .expect("state directory");
    let mut cmd = root.command("setpriv");
    cmd.args([
        "--reuid",
        &user,
        "--regid",
        &group,
        "--init-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        "env",
        "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
        "LANG=C.UTF-8",
    ])
    .arg(format!("USER={user}"))
    .arg(format!("LOGNAME={user}"))
    .arg(format!("HOME={state}"))
    .arg(format!("STATE_DIRECTORY={state}"))
    .arg(format!(
        "RUST_LOG={}",
        std::env::var("CHECKUP_CHILD_LOG").unwrap_or_else(|_| "warn".into())
    ))
    .args([
        "sh",
        "-c",
        "umask \"$1\" && cd \"$2\" && shift 2 && exec \"$@\"",
        "sh",
    ])
    .arg(key("UMask"))
    .arg(key("WorkingDirectory"))
    .args(exec.split_whitespace());
    Process::start_command(cmd, Duration::from_secs(60)).expect("started from its unit")
}

/// `/proc/PID/status` lines by key.
fn proc_status(pid: u32) -> BTreeMap<String, String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_build_install_run_from_their_units_and_purge() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("debs");
    std::fs::create_dir(&out).expect("dir");
    let debs = build_packages(&out);
    let t_build = t0.elapsed();
    for p in [&EDGE, &CENTRAL] {
        inspect(p, &debs[p.name], dir.path());
    }

    let t1 = Instant::now();
    let root = ScratchRoot::new().expect("scratch root");
    std::fs::create_dir(root.path("/tmp/debs")).expect("dir");
    let mut install = vec![
        "DEBIAN_FRONTEND=noninteractive".to_owned(),
        "dpkg".into(),
        "-i".into(),
    ];
    for deb in debs.values() {
        let name = deb
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        std::fs::copy(deb, root.path(format!("/tmp/debs/{name}"))).expect("copy");
        install.push(format!("/tmp/debs/{name}"));
    }
    let args: Vec<&str> = install.iter().map(String::as_str).collect();
    eprintln!("deb: {}", root.ok("env", &args).expect("dpkg -i"));
    let t_install = t1.elapsed();

    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).expect("dir");
    ca::create_ca(&pki, "みどり市", 2).expect("CA");
    let venue = format!("deb-{}", Uuid::now_v7().simple());
    let http = https_client(&pki, None);
    let t2 = Instant::now();
    for p in [&EDGE, &CENTRAL] {
        // The dedicated system user, its home the state directory, no login.
        let passwd = getent(&root, "passwd", p.name);
        let uid: u32 = passwd[2].parse().expect("uid");
        let gid: u32 = getent(&root, "group", p.name)[2].parse().expect("gid");
        assert!(uid < 1000, "{} is not a system user: {passwd:?}", p.name);
        assert_eq!(passwd[5], format!("/var/lib/{}", p.name));
        assert!(passwd[6].ends_with("nologin"), "{passwd:?}");
        assert_eq!(
            root.ok("stat", &["-c", "%U:%G %a", &format!("/etc/{}", p.name)])
                .expect("stat")
                .trim(),
            format!("root:{} 750", p.name),
            "only the service reads its configuration and keys"
        );

        let unit = format!("/usr/lib/systemd/system/{}.service", p.name);
        let unit_text = std::fs::read_to_string(root.path(&unit)).expect("installed unit");
        analyze(&root, p, &unit);
        if p.name == EDGE.name {
            // The documented drop-in for enrolment bundles is a valid one.
            let d = format!("/etc/systemd/system/{}.service.d", p.name);
            std::fs::create_dir_all(root.path(&d)).expect("drop-in dir");
            std::fs::copy(
                root.path("/usr/share/doc/checkup-edge/examples/bundle.conf"),
                root.path(format!("{d}/bundle.conf")),
            )
            .expect("drop-in");
            analyze(&root, p, &unit);
            std::fs::remove_dir_all(root.path(&d)).expect("drop-in gone");
        }

        // As shipped, it refuses to start: nothing is enrolled.
        let keys = unit_keys(&unit_text);
        let unenrolled = root
            .run(
                "setpriv",
                &[
                    "--reuid",
                    p.name,
                    "--regid",
                    p.name,
                    "--init-groups",
                    "--",
                    "sh",
                    "-c",
                    "exec $0 \"$@\"",
                ]
                .into_iter()
                .chain(keys["ExecStart"].split_whitespace())
                .collect::<Vec<_>>(),
            )
            .expect("unenrolled run");
        let err = String::from_utf8_lossy(&unenrolled.stderr);
        assert!(!unenrolled.status.success(), "{err}");
        assert!(err.contains("[tls]"), "{err}");

        enrol(&root, p, &pki, &venue, gid);
        let mut service = start_as_unit(&root, &keys);
        assert!(
            service.url.starts_with("https://127.0.0.1:"),
            "{}",
            service.url
        );
        let status = proc_status(service.pid());
        assert_eq!(
            status["Uid"].split_whitespace().take(2).collect::<Vec<_>>(),
            [uid.to_string(), uid.to_string()],
            "runs as its user"
        );
        assert_eq!(status["NoNewPrivs"], "1");
        assert_eq!(status["CapBnd"], "0000000000000000");

        let health: serde_json::Value = http
            .get(format!("{}/healthz", service.url))
            .send()
            .await
            .expect("healthz")
            .error_for_status()
            .expect("healthz status")
            .json()
            .await
            .expect("json");
        eprintln!("deb: {} /healthz {health}", p.name);
        assert_eq!(health["status"], "ok", "{health}");
        if p.name == EDGE.name {
            assert_eq!(health["venue"], venue.as_str(), "{health}");
            assert_eq!(health["node"], EDGE.node, "{health}");
        }
        let exit = service.terminate().expect("SIGTERM");
        assert!(exit.success(), "{} stopped with {exit}", p.name);

        // Its data is in the state directory, its own and nobody else's.
        let store = match p.name {
            "checkup-edge" => "events.sqlite3",
            _ => "central.sqlite3",
        };
        let meta = std::fs::metadata(root.path(format!("/var/lib/{}/{store}", p.name)))
            .expect("the store in the state directory");
        assert_eq!(meta.uid(), uid);
        assert_eq!(meta.mode() & 0o077, 0, "mode {:o}", meta.mode());
    }
    let t_run = t2.elapsed();

    root.ok(
        "env",
        &[
            "DEBIAN_FRONTEND=noninteractive",
            "dpkg",
            "--purge",
            EDGE.name,
            CENTRAL.name,
        ],
    )
    .expect("dpkg --purge");
    for p in [&EDGE, &CENTRAL] {
        for gone in [
            format!("/usr/bin/{}", p.name),
            format!("/usr/lib/systemd/system/{}.service", p.name),
            format!("/etc/{}/{}", p.name, p.config),
        ] {
            assert!(!root.path(&gone).exists(), "{gone} left after purge");
        }
        assert!(
            !root
                .run(
                    "dpkg-statoverride",
                    &["--list", &format!("/etc/{}", p.name)]
                )
                .expect("statoverride")
                .status
                .success(),
            "override of /etc/{} left after purge",
            p.name
        );
    }
    // Health data is never deleted by dpkg: the box's store outlives the package.
    assert!(root.path("/var/lib/checkup-edge/events.sqlite3").exists());
    eprintln!(
        "deb: timings: build {t_build:?}, install {t_install:?}, analyze+run {t_run:?}, total {:?}",
        t0.elapsed()
    );
}
