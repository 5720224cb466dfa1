//! Helpers for the workspace-level integration tests: locating and starting the real
//! binaries (`checkup-edge`, …) as child processes, reading the URL they print when ready,
//! and killing them.
//!
//! # Layout
//!
//! - [`binary`]: path of a workspace binary, built on demand; [`cargo_command`] for other
//!   builds (release, `cargo deb`).
//! - [`Process`]: a running binary with its ready URL; killed on drop.
//! - [`central`]: central and boxes forwarding to it, configured and started.
//! - [`mqtt`]: MQTT clients with chosen TLS identities, to probe a venue broker.
//! - [`notice_corpus`]: synthetic police notices with ground truth, for OCR scoring.
//! - [`notice_calibration`]: review thresholds calibrated on scored fields (`notice-score
//!   --dump`, `notice-calibrate`).
//! - [`openapi`]: a service's route table read from its source, against its OpenAPI document.
//! - [`pg`]: a PostgreSQL database of the test's own.
//! - [`scans`]: scanned files made for intake tests (a TIFF decompression bomb).
//! - [`scratch_root`]: a throwaway copy-on-write root of this machine to install packages in.
//! - [`tokutei_day`]: a checkup day to the national standard through a box to central.
//! - [`venue`]: several boxes in network namespaces on a venue LAN of their own.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub mod central;
pub mod chromium;
pub mod mqtt;
pub mod notice_calibration;
pub mod notice_corpus;
pub mod openapi;
pub mod paper_corpus;
pub mod pdf;
pub mod pg;
pub mod photos;
pub mod scans;
pub mod scratch_root;
pub mod tokutei_day;
pub mod venue;

/// Path of workspace binary `name` from package `package`, next to this test's own
/// executable (`target/<profile>/`). Runs `cargo build --workspace --bins` once per test
/// process, so a test never drives a stale binary.
///
/// The build is the Makefile's own (`make demo` and `make test` build exactly that set), so
/// under `make test` it is a no-op. Building one package (`-p checkup-edge --bin …`) would
/// unify dependency features differently from the workspace build and recompile about a
/// hundred crates for each package a test binary asks for: minutes of CI.
pub fn binary(package: &str, name: &str) -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().context("current exe")?;
    // target/<profile>/deps/<test or bench> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("target directory")?
        .to_path_buf();
    let path = dir.join(name);
    BUILT.get_or_init(|| {
        let mut cmd = cargo_command();
        cmd.args(["build", "--workspace", "--bins"]);
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("cargo build --workspace --bins failed: {status:?}");
        }
    });
    if !path.exists() {
        bail!(
            "{} (package {package}) not found; run `cargo build --workspace --bins`",
            path.display()
        );
    }
    Ok(path)
}

/// A `cargo` command (the one running the tests) without the variables Cargo sets for the
/// test being run: a build script that watches one (ring watches CARGO_MANIFEST_DIR) would
/// otherwise rebuild on every switch between `cargo test` and a build started from a test.
pub fn cargo_command() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|p| k.starts_with(p))
            || k == "CARGO_TARGET_TMPDIR"
            || k == "CARGO_PRIMARY_PACKAGE"
        {
            cmd.env_remove(&k);
        }
    }
    cmd
}

/// A running binary. Killed (SIGKILL) when dropped.
pub struct Process {
    child: Child,
    /// The base URL it printed (`http://127.0.0.1:PORT`, or `https://…`).
    pub url: String,
}

impl Process {
    /// Start `bin args…` and wait up to `timeout` for a stdout line containing
    /// `ready: http://…/` (or `https://`).
    pub fn start(bin: &PathBuf, args: &[&str], timeout: Duration) -> anyhow::Result<Process> {
        Self::start_with_env(bin, args, &[], timeout)
    }

    /// As [`Process::start`], with `env` added to (or replacing in) the inherited
    /// environment.
    pub fn start_with_env(
        bin: &PathBuf,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        timeout: Duration,
    ) -> anyhow::Result<Process> {
        Self::spawn(Command::new(bin), bin, args, env, timeout)
    }

    /// As [`Process::start`], for a command prepared by the caller (a binary run through
    /// `nsenter`, `chroot` and `setpriv`, as a service manager would run it).
    pub fn start_command(cmd: Command, timeout: Duration) -> anyhow::Result<Process> {
        let bin = std::path::PathBuf::from(cmd.get_program());
        Self::spawn(cmd, &bin, &[], &[], timeout)
    }

    /// As [`Process::start`], run from the working directory `dir` (for relative paths as
    /// a newcomer types them).
    pub fn start_in(
        bin: &PathBuf,
        args: &[&str],
        dir: &std::path::Path,
        timeout: Duration,
    ) -> anyhow::Result<Process> {
        let mut cmd = Command::new(bin);
        cmd.current_dir(dir);
        Self::spawn(cmd, bin, args, &[], timeout)
    }

    fn spawn(
        mut cmd: Command,
        bin: &std::path::Path,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        timeout: Duration,
    ) -> anyhow::Result<Process> {
        // The test's own HTTP clients use rustls with the ring provider.
        checkup_provisioning::tls::install_provider();
        let mut child = cmd
            .args(args)
            .envs(env.iter().copied())
            .env(
                "RUST_LOG",
                std::env::var("CHECKUP_CHILD_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(i) = line
                    .find("ready: http://")
                    .or_else(|| line.find("ready: https://"))
                {
                    let url = line[i + "ready: ".len()..]
                        .trim_end_matches('/')
                        .to_string();
                    let _ = tx.send(url);
                }
            }
        });
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(50)) {
                return Ok(Process { child, url });
            }
            if let Some(status) = child.try_wait()? {
                bail!("{} exited before ready: {status}", bin.display());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("{} not ready within {timeout:?}", bin.display());
            }
        }
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Wait up to `timeout` for the process to exit by itself; its status, or None if it
    /// still runs.
    pub fn wait_exit(
        &mut self,
        timeout: Duration,
    ) -> anyhow::Result<Option<std::process::ExitStatus>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if std::time::Instant::now() > deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then wait for the exit status.
    pub fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        // SAFETY: kill(2) on our own child's pid has no memory-safety implications.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        if rc != 0 {
            bail!("kill(SIGTERM) failed");
        }
        Ok(self.child.wait()?)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Small deterministic PRNG (xorshift) so a failing run can be repeated from its seed.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `CHECKUP_TEST_SEED` or the clock; the seed is printed.
    pub fn from_env() -> Rng {
        let seed = std::env::var("CHECKUP_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("CHECKUP_TEST_SEED={seed}");
        Rng(seed | 1)
    }

    /// Seeded with `seed` (deterministic).
    pub fn new(seed: u64) -> Rng {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for _ in 0..4 {
            r.range(0, 2);
        }
        r
    }

    /// Next value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.range(0, n)
    }

    /// Next value in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo).max(1)
    }
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    files_containing_bytes(dir, needle.as_bytes())
}

/// [`files_containing`] for a byte string (a file signature). Keep needles long: sealed
/// files are random bytes, and a 3-byte needle turns up in one megabyte of them about one
/// time in sixteen.
pub fn files_containing_bytes(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// The Argon2id hash `checkup-provision hash-pin` makes of `pin`.
pub fn hash_pin(pin: &str) -> String {
    use std::io::Write as _;
    let out = Command::new(binary("checkup-provisioning", "checkup-provision").expect("bin"))
        .arg("hash-pin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            if let Some(mut i) = c.stdin.take() {
                i.write_all(pin.as_bytes())?;
            }
            c.wait_with_output()
        })
        .expect("hash-pin");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
