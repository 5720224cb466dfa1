//! A throwaway root: this machine's root file system under a copy-on-write overlay, in a
//! mount namespace of the test's own, so that a test can `dpkg -i` a package, create its
//! service user and run it without changing the real system. Everything written lands in a
//! tmpfs that disappears with the namespace when the [`ScratchRoot`] is dropped.
//!
//! The namespace is held by a `sleep` started with `unshare --mount`; each command enters
//! it with `nsenter` and `chroot`s into the overlay. `/dev`, `/proc` and `/sys` are the
//! host's; `/run` and `/tmp` are empty tmpfs, so no host daemon's socket (pcscd's, say) and
//! no sign of a running systemd is visible inside. The network is the host's: a server
//! started inside is reached on 127.0.0.1 from the test. Needs root (tests run as root on
//! CI) and overlayfs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use anyhow::{Context, bail};

/// The overlay root and the process holding its namespace (killed on drop).
pub struct ScratchRoot {
    holder: Child,
    /// Pid of the `sleep` inside the namespace (the target of `nsenter`).
    pid: u32,
    /// Where the overlay is mounted, inside the namespace.
    merged: PathBuf,
    _dir: tempfile::TempDir,
}

const SETUP: &str = r#"set -eu
D="$1"
mount --make-rprivate /
mount -t tmpfs -o mode=0755 checkup-scratch "$D/rw"
mkdir "$D/rw/upper" "$D/rw/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$D/rw/upper,workdir=$D/rw/work" "$D/root"
for d in dev proc sys; do mount --rbind "/$d" "$D/root/$d"; done
mount -t tmpfs -o mode=0755 run "$D/root/run"
mount -t tmpfs -o mode=1777 tmp "$D/root/tmp"
echo "scratch-root-ready $$"
exec sleep infinity
"#;

impl ScratchRoot {
    /// Mount a fresh overlay of `/` in a new mount namespace.
    pub fn new() -> anyhow::Result<ScratchRoot> {
        let dir = tempfile::Builder::new()
            .prefix("checkup-scratch-root")
            .tempdir()
            .context("temporary directory")?;
        for d in ["rw", "root"] {
            std::fs::create_dir(dir.path().join(d)).context("mount point")?;
        }
        let mut holder = Command::new("unshare")
            .args([
                "--mount",
                "--fork",
                "--kill-child",
                "--",
                "sh",
                "-c",
                SETUP,
                "sh",
            ])
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting unshare (util-linux)")?;
        let stdout = holder.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the namespace's pid")?;
        let pid = line
            .strip_prefix("scratch-root-ready ")
            .and_then(|p| p.trim().parse::<u32>().ok());
        let Some(pid) = pid else {
            let _ = holder.kill();
            let status = holder.wait();
            bail!("the overlay root could not be mounted ({status:?}): needs root and overlayfs");
        };
        Ok(ScratchRoot {
            holder,
            pid,
            merged: dir.path().join("root"),
            _dir: dir,
        })
    }

    /// A command run inside the root: `nsenter` into the namespace, `chroot`, then
    /// `program args…`. The caller adds arguments, environment and stdio.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--target={}", self.pid))
            .arg("--mount")
            .arg("--")
            .arg("chroot")
            .arg(&self.merged)
            .arg(program);
        cmd
    }

    /// Run `program args…` inside the root to completion.
    pub fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<Output> {
        self.command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {program} in the scratch root"))
    }

    /// As [`ScratchRoot::run`], failing unless it exits 0; its standard output.
    pub fn ok(&self, program: &str, args: &[&str]) -> anyhow::Result<String> {
        let out = self.run(program, args)?;
        if !out.status.success() {
            bail!(
                "{program} {args:?} in the scratch root: {}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Path, seen from outside, of `path` inside the root (through the holder's
    /// `/proc/PID/root`), to read and write files there with `std::fs`.
    pub fn path(&self, path: impl AsRef<Path>) -> PathBuf {
        let inside = path.as_ref();
        let inside = inside.strip_prefix("/").unwrap_or(inside);
        PathBuf::from(format!("/proc/{}/root", self.pid))
            .join(self.merged.strip_prefix("/").unwrap_or(&self.merged))
            .join(inside)
    }
}

impl Drop for ScratchRoot {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the sleep this root started; no memory is involved.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
