//! A private virtual card reader: its own `pcscd` with the vpcd driver, started inside a
//! network namespace that has nothing but loopback.
//!
//! As Debian configures it, vpcd listens for card emulators on every interface (it binds
//! `INADDR_ANY`), so anyone on the venue Wi-Fi could insert a card. vpcd's "connect out"
//! mode would avoid the listening port, but Debian's vpcd 3.3 aborts pcscd when the
//! emulator disconnects in that mode (checked here: `*** bit out of range 0 - FD_SETSIZE`),
//! and removal is how a card leaves the field. So the listening port is kept and fenced
//! instead: pcscd runs in a fresh network namespace (`ip netns add`) whose only interface
//! is `lo`; the emulator's thread joins that namespace with `setns(2)`. PC/SC clients talk
//! to this pcscd over its Unix socket (`PCSCLITE_CSOCK_NAME`), which network namespaces do
//! not affect. Nothing of the virtual reader is reachable from any network.
//!
//! pcscd 1.9 always creates its socket at `/run/pcscd/pcscd.comm`, so it also runs in a
//! private mount namespace where our own directory is bound over `/run/pcscd`: a machine's
//! own pcscd (for a real CCID reader) is untouched, and several virtual readers can run side
//! by side.
//!
//! Requires root (namespaces, bind mount); used by the demo and the tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// First vpcd port; vpcd serves two readers, on this port and the next.
pub const VPCD_PORT: u16 = 0x8C7B;

/// Errors starting the virtual reader.
#[derive(Debug, thiserror::Error)]
pub enum VirtualReaderError {
    /// A command failed.
    #[error("{what}: {detail}")]
    Command {
        /// What was run.
        what: String,
        /// Its error output or exit status.
        detail: String,
    },
    /// pcscd did not create its socket in time.
    #[error("pcscd did not start within {0:?}")]
    NotReady(Duration),
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running private pcscd with the vpcd driver in a loopback-only network namespace.
pub struct VirtualReader {
    netns: String,
    dir: PathBuf,
    pcscd: Option<Child>,
    /// Kill pcscd when the thread that started it dies (for a box whose process may be
    /// killed outright; not for tests, whose threads come and go).
    die_with_starter: bool,
}

fn run(cmd: &mut Command, what: &str) -> Result<(), VirtualReaderError> {
    let out = cmd.output().map_err(|e| VirtualReaderError::Command {
        what: what.into(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(VirtualReaderError::Command {
            what: what.into(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

impl VirtualReader {
    /// Start in `dir` (config and socket live there; it must exist).
    pub fn start(dir: &Path) -> Result<VirtualReader, VirtualReaderError> {
        Self::start_with(dir, false)
    }

    /// As [`VirtualReader::start`]; with `die_with_starter`, pcscd is killed by the kernel
    /// when the calling thread exits (even by SIGKILL), so a killed box leaves no pcscd.
    pub fn start_with(
        dir: &Path,
        die_with_starter: bool,
    ) -> Result<VirtualReader, VirtualReaderError> {
        clean_stale();
        // pcscd is started from another working directory (inside `ip netns exec`): every
        // path handed to it is absolute.
        let dir = &std::path::absolute(dir)?;
        static N: AtomicU32 = AtomicU32::new(0);
        let netns = format!(
            "ce-vr-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        run(
            Command::new("ip").args(["netns", "add", &netns]),
            "ip netns add",
        )?;
        let mut reader = VirtualReader {
            netns: netns.clone(),
            dir: dir.to_path_buf(),
            pcscd: None,
            die_with_starter,
        };
        run(
            Command::new("ip").args(["netns", "exec", &netns, "ip", "link", "set", "lo", "up"]),
            "ip link set lo up",
        )?;
        let conf = dir.join("reader.conf.d");
        std::fs::create_dir_all(&conf)?;
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x{VPCD_PORT:04X}\nLIBPATH      {}\nCHANNELID    0x{VPCD_PORT:04X}\n",
                vpcd_driver()?.display()
            ),
        )?;
        reader.start_pcscd()?;
        Ok(reader)
    }

    fn start_pcscd(&mut self) -> Result<(), VirtualReaderError> {
        let socket = self.socket_path();
        let run_dir = self.dir.join("run");
        std::fs::create_dir_all(&run_dir)?;
        let _ = std::fs::remove_file(&socket);
        let _ = std::fs::remove_file(run_dir.join("pcscd.pid"));
        let log = std::fs::File::create(self.dir.join("pcscd.log"))?;
        // pcscd always creates /run/pcscd/pcscd.comm; a private mount namespace with our
        // directory bound there keeps this pcscd apart from any other on the machine.
        let mut cmd = Command::new("ip");
        if self.die_with_starter {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of
            // the parent; it survives the exec of ip, unshare, sh and pcscd (none setuid).
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                    Ok(())
                });
            }
        }
        let child = cmd
            .args(["netns", "exec", &self.netns, "unshare", "--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mkdir -p /run/pcscd && mount --bind \"$0\" /run/pcscd && exec pcscd --foreground -c \"$1\"")
            .arg(&run_dir)
            .arg(self.dir.join("reader.conf.d"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| VirtualReaderError::Command {
                what: "pcscd".into(),
                detail: e.to_string(),
            })?;
        self.pcscd = Some(child);
        let limit = Duration::from_secs(10);
        let deadline = Instant::now() + limit;
        while !socket.exists() {
            if Instant::now() > deadline {
                return Err(VirtualReaderError::NotReady(limit));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Kill pcscd (as a crash would) and start it again.
    pub fn restart_pcscd(&mut self) -> Result<(), VirtualReaderError> {
        self.kill_pcscd();
        self.start_pcscd()
    }

    /// Kill pcscd without starting it again.
    pub fn kill_pcscd(&mut self) {
        if let Some(mut c) = self.pcscd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Process id of the running pcscd.
    pub fn pcscd_pid(&self) -> Option<u32> {
        self.pcscd.as_ref().map(Child::id)
    }

    /// The namespace's name.
    pub fn netns_name(&self) -> &str {
        &self.netns
    }

    /// pcscd's Unix socket; PC/SC clients need `PCSCLITE_CSOCK_NAME` set to it.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join("run").join("pcscd.comm")
    }

    /// The network namespace, for [`enter_netns`].
    pub fn netns_path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.netns)
    }

    /// Address of reader `index` (0 or 1) inside the namespace.
    pub fn reader_addr(&self, index: u16) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], VPCD_PORT + index))
    }
}

impl Drop for VirtualReader {
    fn drop(&mut self) {
        self.kill_pcscd();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .status();
    }
}

/// Remove namespaces left by virtual readers of processes that no longer exist (a box
/// killed with SIGKILL cannot clean up after itself).
pub fn clean_stale() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("ce-vr-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        }
    }
}

/// The vpcd driver library as Debian installs it.
pub fn vpcd_driver() -> Result<PathBuf, VirtualReaderError> {
    let dir = Path::new("/usr/lib/pcsc/drivers/serial");
    let found = std::fs::read_dir(dir)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libifdvpcd.so"))
        });
    found.ok_or_else(|| VirtualReaderError::Command {
        what: "vpcd driver".into(),
        detail: format!(
            "libifdvpcd.so not found in {} (apt-get install vsmartcard-vpcd)",
            dir.display()
        ),
    })
}

/// Move the calling thread into the network namespace at `path`.
pub fn enter_netns(path: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path)?;
    // SAFETY: setns(2) on a valid namespace fd affects only the calling thread's network
    // namespace; no memory is shared with the kernel.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
