//! A demo box for the browser tests: `checkup-edge demo` on free ports with its virtual card
//! reader, and the playwright-core scripts of `tests/e2e/` run against it in Debian's
//! Chromium, which accepts the box's own certificate by its pinned key and nothing else.
//!
//! Every script is called as `node tests/e2e/SCRIPT URL [EXTRA…] SPKI` and ends by printing
//! a line of its own when everything it checks held.
//!
//! Needs root (the demo's virtual card reader), `/usr/bin/chromium` and
//! `tests/e2e/node_modules` (`make test` installs them).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{Process, binary};

/// A running demo box and what a browser needs to trust it.
pub struct DemoBox {
    /// The box (None once stopped). A test that fails half-way still stops it as an operator
    /// would (see `Drop`), so it leaves no reader daemon or namespace behind.
    process: Option<Process>,
    /// Its data directory's parent (removed when dropped).
    _dir: tempfile::TempDir,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The box's data directory.
    pub data_dir: PathBuf,
    /// The base64 SHA-256 of the box certificate's public key, for Chromium's
    /// `--ignore-certificate-errors-spki-list`.
    pub spki: String,
}

/// The repository's `tests/e2e` folder.
pub fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

/// The repository's `docs/screenshots` folder (made if missing).
pub fn screenshots() -> PathBuf {
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    shots
}

/// Start a demo box, after checking that the browser side is installed: Chromium and the
/// npm `modules` the script needs.
pub fn demo_box(modules: &[&str]) -> DemoBox {
    start_box(modules, &["demo", "--mqtt-port", "0"])
}

/// Start a training box (`checkup-edge training` with `extra` flags), as [`demo_box`].
/// Its data directory is `DemoBox::data_dir`.
pub fn training_box(modules: &[&str], extra: &[&str]) -> DemoBox {
    let mut args = vec!["training"];
    args.extend_from_slice(extra);
    start_box(modules, &args)
}

fn start_box(modules: &[&str], command: &[&str]) -> DemoBox {
    let e2e = e2e_dir();
    for module in modules {
        assert!(
            e2e.join("node_modules").join(module).exists(),
            "tests/e2e/node_modules/{module} missing: run `npm ci --prefix tests/e2e` (make test does)"
        );
    }
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian chromium missing (make test installs it)"
    );
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("box").to_string_lossy().into_owned();
    let mut args = command.to_vec();
    args.extend_from_slice(&["--listen", "127.0.0.1:0", "--data-dir", &data]);
    let process = Process::start(&bin, &args, Duration::from_secs(60)).expect("demo box");
    assert!(process.url.starts_with("https://"), "{}", process.url);
    let cert = dir.path().join("box/pki/edge-01/edge-01.crt");
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | base64",
        )
        .arg("sh")
        .arg(&cert)
        .output()
        .expect("openssl");
    let spki = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(spki.len(), 44, "SPKI hash of {}", cert.display());
    DemoBox {
        data_dir: dir.path().join("box"),
        url: process.url.clone(),
        process: Some(process),
        _dir: dir,
        spki,
    }
}

impl DemoBox {
    /// Run `tests/e2e/SCRIPT URL EXTRA… SPKI`; it must exit 0 and print `done`. Returns
    /// what it printed.
    pub fn run(&self, script: &str, extra: &[&OsStr], done: &str) -> String {
        let out = Command::new("node")
            .arg(e2e_dir().join(script))
            .arg(&self.url)
            .args(extra)
            .arg(&self.spki)
            .output()
            .expect("node");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains(done), "{script}: {stdout}");
        stdout
    }

    /// Wait up to `timeout` for the box to stop by itself (a training session ended from
    /// its page); it must exit cleanly.
    pub fn wait_exit(mut self, timeout: Duration) {
        if let Some(mut p) = self.process.take() {
            let status = p.wait_exit(timeout).expect("wait");
            match status {
                Some(s) => assert!(s.success(), "box exit: {s}"),
                None => {
                    let _ = p.terminate();
                    panic!("the box did not stop by itself within {timeout:?}");
                }
            }
        }
    }

    /// Stop the box as an operator would (SIGTERM): it must exit cleanly, removing its
    /// virtual reader (pcscd and namespace).
    pub fn stop(mut self) {
        if let Some(mut p) = self.process.take() {
            let status = p.terminate().expect("terminate");
            assert!(status.success(), "box exit: {status}");
        }
    }
}

impl Drop for DemoBox {
    fn drop(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = p.terminate();
        }
    }
}
