//! The venue admin's switch (「練習を始める」): a real box starts a rehearsal
//! (`checkup-edge training`) as a child process beside itself, and stops it.
//!
//! ```text
//! Switch::of(config)        on a real box only; the child's command line from the box's own:
//!   start(options)          <this exe> training --listen <box IP>:<[training] port>
//!                             --data-dir <data_dir>-training --speed S --residents N
//!                             [--autopilot] [--tls-cert/--tls-key/--tls-ca/--tls-crl FILES
//!                             | --tls-pem-stdin (a bundle's certificate, never on disk)
//!                             | --insecure-dev (the box has no TLS)]
//!                           ready once the child prints its `ready:` line (its port read
//!                           from it); its stdout and stderr go to this box's log
//!   stop()                  SIGTERM, wait for the exit: the child prints the trainer's
//!                           summary (returned) and wipes its directory itself; if it could
//!                           not, the directory is wiped here
//!   shutdown()              the same when this box stops
//! ```
//!
//! A child never outlives its box: it is spawned with `PR_SET_PDEATHSIG = SIGTERM` from a
//! thread of its own that lives exactly as long as the child (the signal follows the
//! thread that forked, not the process), so a box killed outright still ends its rehearsal
//! cleanly. One rehearsal at a time; a training box has no switch.

use std::io::{BufRead, BufReader, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Longest the child may take to print its `ready:` line (its virtual reader included).
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Longest the child may take to end after SIGTERM (summary, wipe) before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Most of the child's standard output kept for its summary.
const MAX_OUTPUT: usize = 1024 * 1024;

/// How a rehearsal runs: the choices on the venue admin's page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingOptions {
    /// Residents booked and sent by the script (1–200).
    pub residents: usize,
    /// Time factor of the scripted flow: 1 is real pace (a resident every 90 s), 60 an hour
    /// in a minute (1–600).
    pub speed: f64,
    /// The script plays reception, 身体計測 and 血圧 too.
    #[serde(default)]
    pub autopilot: bool,
}

/// Most residents a rehearsal started from the page may book.
pub const MAX_RESIDENTS: usize = 200;
/// Highest speed a rehearsal started from the page may run at.
pub const MAX_SPEED: f64 = 600.0;

impl TrainingOptions {
    /// Check the options; the error says what is wrong in Japanese and English.
    pub fn check(&self) -> Result<(), SwitchError> {
        if self.residents == 0 || self.residents > MAX_RESIDENTS {
            return Err(SwitchError::BadOptions(format!(
                "人数は1〜{MAX_RESIDENTS}人です / residents must be 1 to {MAX_RESIDENTS} (got {})",
                self.residents
            )));
        }
        if !self.speed.is_finite() || !(1.0..=MAX_SPEED).contains(&self.speed) {
            return Err(SwitchError::BadOptions(format!(
                "速さは1〜{MAX_SPEED}倍です / speed must be 1 to {MAX_SPEED} (got {})",
                self.speed
            )));
        }
        Ok(())
    }
}

/// Why the switch refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    /// A rehearsal already runs.
    #[error("練習はすでに実行中です / a rehearsal is already running (port {port})")]
    Running {
        /// Its port.
        port: u16,
    },
    /// The options make no sense.
    #[error("{0}")]
    BadOptions(String),
    /// The rehearsal's directory holds something that is not a rehearsal's.
    #[error(
        "練習用のデータフォルダ {0} に練習以外のファイルがあります / the rehearsal's data directory {0} holds files that are not a rehearsal's: empty it or set [training] data_dir"
    )]
    DirInUse(String),
    /// The child could not be started, or ended before it was ready.
    #[error("練習を開始できませんでした / the rehearsal did not start: {0}")]
    Start(String),
}

/// How the child serves HTTPS: with this box's own certificate (so tablets that trust the
/// box trust the rehearsal), or plain HTTP when the box has none.
#[derive(Clone)]
enum Tls {
    /// `[tls]` files: their paths on the command line.
    Files(checkup_provisioning::tls::TlsFiles),
    /// A bundle's certificate, held in memory: written to the child's standard input.
    Pem(checkup_provisioning::tls::TlsPem),
    /// `--insecure-dev`.
    None,
}

/// The PEM material as the child reads it from its standard input (`--tls-pem-stdin`).
#[derive(Serialize, Deserialize)]
pub struct PemOnStdin {
    /// Certificate.
    pub cert: String,
    /// Private key.
    pub key: String,
    /// CA certificate.
    pub ca: String,
    /// Revocation list.
    pub crl: Option<String>,
}

impl From<PemOnStdin> for checkup_provisioning::tls::TlsPem {
    fn from(p: PemOnStdin) -> Self {
        checkup_provisioning::tls::TlsPem {
            cert: p.cert,
            key: p.key,
            ca: p.ca,
            crl: p.crl,
        }
    }
}

/// What the page shows of the switch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SwitchState {
    /// A rehearsal runs.
    pub running: bool,
    /// Its port (on this box's address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `https` or `http`.
    pub scheme: String,
    /// When it started (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// How it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<TrainingOptions>,
    /// The child's process id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The trainer's summary of the last rehearsal, once it has ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_summary: Option<String>,
}

/// A running child.
struct Child {
    pid: u32,
    port: u16,
    started_at: String,
    options: TrainingOptions,
    /// Becomes true once the child has exited and been reaped.
    exited: tokio::sync::watch::Receiver<bool>,
    /// What it printed after its `ready:` line (the summary, at the end).
    output: Arc<Mutex<String>>,
}

#[derive(Default)]
struct Slot {
    child: Option<Child>,
    last_summary: Option<String>,
}

/// The switch of one real box.
pub struct Switch {
    exe: PathBuf,
    ip: IpAddr,
    port: u16,
    data_dir: PathBuf,
    /// The real box's data directory (the rehearsal's is never inside it).
    real_dir: PathBuf,
    tls: Tls,
    slot: tokio::sync::Mutex<Slot>,
}

impl Switch {
    /// The switch of the box `config` describes, or None: a training box, a box whose
    /// configuration turns the switch off (`[training] switch = false`), or when this
    /// program's path cannot be found.
    pub fn of(config: &crate::config::Config) -> Option<Switch> {
        if config.training || !config.training_switch.switch {
            return None;
        }
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "no training switch: this program's path is unknown");
                return None;
            }
        };
        let tls = if let Some(pem) = &config.secrets.tls {
            Tls::Pem(pem.clone())
        } else if let Some(files) = &config.tls {
            Tls::Files(files.clone())
        } else {
            Tls::None
        };
        Some(Switch::new(
            exe,
            config.listen.ip(),
            config.training_switch.port,
            config.training_data_dir(),
            config.data_dir.clone(),
            tls,
        ))
    }

    fn new(
        exe: PathBuf,
        ip: IpAddr,
        port: u16,
        data_dir: PathBuf,
        real_dir: PathBuf,
        tls: Tls,
    ) -> Switch {
        Switch {
            exe,
            ip,
            port,
            data_dir,
            real_dir,
            tls,
            slot: tokio::sync::Mutex::default(),
        }
    }

    fn scheme(&self) -> &'static str {
        match self.tls {
            Tls::None => "http",
            _ => "https",
        }
    }

    /// The rehearsal's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Whether a rehearsal runs, and how.
    pub async fn state(&self) -> SwitchState {
        let mut slot = self.slot.lock().await;
        self.reap(&mut slot).await;
        self.state_of(&slot)
    }

    fn state_of(&self, slot: &Slot) -> SwitchState {
        let c = slot.child.as_ref();
        SwitchState {
            running: c.is_some(),
            port: c.map(|c| c.port),
            scheme: self.scheme().to_owned(),
            started_at: c.map(|c| c.started_at.clone()),
            options: c.map(|c| c.options.clone()),
            pid: c.map(|c| c.pid),
            last_summary: slot.last_summary.clone(),
        }
    }

    /// Forget a child that has ended by itself (its summary page's end button), keeping
    /// its summary and wiping what it left.
    async fn reap(&self, slot: &mut Slot) {
        if slot.child.as_ref().is_some_and(|c| *c.exited.borrow())
            && let Some(c) = slot.child.take()
        {
            slot.last_summary = Some(self.finish(&c).await);
        }
    }

    /// Start a rehearsal with `options`; its state once it is ready.
    pub async fn start(&self, options: TrainingOptions) -> Result<SwitchState, SwitchError> {
        options.check()?;
        let mut slot = self.slot.lock().await;
        self.reap(&mut slot).await;
        if let Some(c) = &slot.child {
            return Err(SwitchError::Running { port: c.port });
        }
        self.clear_dir().await?;
        let child = self.spawn(&options).await?;
        tracing::info!(
            pid = child.pid,
            port = child.port,
            residents = options.residents,
            speed = options.speed,
            autopilot = options.autopilot,
            dir = %self.data_dir.display(),
            "練習モード: rehearsal started"
        );
        slot.child = Some(child);
        slot.last_summary = None;
        Ok(self.state_of(&slot))
    }

    /// Stop the rehearsal (SIGTERM, then wait for it to exit: its summary printed, its
    /// data wiped); the summary, or None when none ran.
    pub async fn stop(&self) -> Option<String> {
        let mut slot = self.slot.lock().await;
        let child = slot.child.take()?;
        let summary = self.end(child).await;
        slot.last_summary = Some(summary.clone());
        Some(summary)
    }

    /// Stop the rehearsal, if one runs, because this box stops.
    pub async fn shutdown(&self) {
        if let Some(summary) = self.stop().await {
            tracing::info!("練習モード: the rehearsal ended with the box\n{summary}");
        }
    }

    /// Refuse a directory that is not beside the real one, wipe a rehearsal's leftovers
    /// (a session that did not end cleanly), refuse anything else.
    async fn clear_dir(&self) -> Result<(), SwitchError> {
        let dir = self.data_dir.clone();
        let real = self.real_dir.clone();
        tokio::task::spawn_blocking(move || {
            let canon = |p: &Path| -> PathBuf {
                // The directory may not exist yet: its parent, canonical, and its name.
                match (p.parent(), p.file_name()) {
                    (Some(parent), Some(name)) => std::fs::canonicalize(
                        if parent.as_os_str().is_empty() { Path::new(".") } else { parent },
                    )
                    .map(|c| c.join(name))
                    .unwrap_or_else(|_| p.to_path_buf()),
                    _ => std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()),
                }
            };
            let (d, r) = (canon(&dir), canon(&real));
            if d.starts_with(&r) || r.starts_with(&d) {
                return Err(SwitchError::DirInUse(dir.display().to_string()));
            }
            if !dir.exists() {
                return Ok(());
            }
            if dir.join(super::MARKER).exists() {
                tracing::warn!(dir = %dir.display(), "練習モード: wiping what an earlier rehearsal left");
                return super::wipe(&dir)
                    .map(|_| ())
                    .map_err(|e| SwitchError::Start(e.to_string()));
            }
            let empty = std::fs::read_dir(&dir).is_ok_and(|mut e| e.next().is_none());
            if empty {
                Ok(())
            } else {
                Err(SwitchError::DirInUse(dir.display().to_string()))
            }
        })
        .await
        .map_err(|e| SwitchError::Start(e.to_string()))?
    }

    fn command(&self, options: &TrainingOptions) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("training")
            .arg("--listen")
            .arg(std::net::SocketAddr::new(self.ip, self.port).to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--speed")
            .arg(options.speed.to_string())
            .arg("--residents")
            .arg(options.residents.to_string());
        if options.autopilot {
            cmd.arg("--autopilot");
        }
        match &self.tls {
            Tls::Files(f) => {
                cmd.arg("--tls-cert")
                    .arg(&f.cert)
                    .arg("--tls-key")
                    .arg(&f.key)
                    .arg("--tls-ca")
                    .arg(&f.ca);
                if let Some(crl) = &f.crl {
                    cmd.arg("--tls-crl").arg(crl);
                }
            }
            Tls::Pem(_) => {
                cmd.arg("--tls-pem-stdin");
            }
            Tls::None => {
                cmd.arg("--insecure-dev");
            }
        }
        cmd.stdin(if matches!(self.tls, Tls::Pem(_)) {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        die_with_parent(&mut cmd);
        cmd
    }

    /// Spawn the child from a thread of its own and wait for its `ready:` line.
    async fn spawn(&self, options: &TrainingOptions) -> Result<Child, SwitchError> {
        let mut cmd = self.command(options);
        let stdin = match &self.tls {
            Tls::Pem(p) => Some(
                serde_json::to_vec(&PemOnStdin {
                    cert: p.cert.clone(),
                    key: p.key.clone(),
                    ca: p.ca.clone(),
                    crl: p.crl.clone(),
                })
                .map_err(|e| SwitchError::Start(e.to_string()))?,
            ),
            _ => None,
        };
        let (spawned_tx, spawned_rx) = tokio::sync::oneshot::channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<u16>();
        let (exited_tx, mut exited) = tokio::sync::watch::channel(false);
        let output = Arc::new(Mutex::new(String::new()));
        let errors = Arc::new(Mutex::new(String::new()));
        let (out2, err2) = (output.clone(), errors.clone());
        // The thread that forks is the one PR_SET_PDEATHSIG watches: it lives as long as
        // the child.
        std::thread::Builder::new()
            .name("training-child".into())
            .spawn(move || {
                let mut child = match cmd.spawn() {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = spawned_tx.send(Err(e.to_string()));
                        let _ = exited_tx.send(true);
                        return;
                    }
                };
                let _ = spawned_tx.send(Ok(child.id()));
                if let (Some(mut input), Some(bytes)) = (child.stdin.take(), stdin)
                    && let Err(e) = input.write_all(&bytes)
                {
                    tracing::warn!(error = %e, "練習モード: the certificate was not handed over");
                }
                let out = child
                    .stdout
                    .take()
                    .map(|s| std::thread::spawn(move || read_stdout(s, ready_tx, &out2)));
                let err = child
                    .stderr
                    .take()
                    .map(|s| std::thread::spawn(move || read_stderr(s, &err2)));
                let status = child.wait();
                for t in [out, err].into_iter().flatten() {
                    let _ = t.join();
                }
                match status {
                    Ok(s) => tracing::info!(status = %s, "練習モード: the rehearsal box exited"),
                    Err(e) => {
                        tracing::warn!(error = %e, "練習モード: waiting for the rehearsal box")
                    }
                }
                let _ = exited_tx.send(true);
            })
            .map_err(|e| SwitchError::Start(e.to_string()))?;
        let pid = spawned_rx
            .await
            .map_err(|e| SwitchError::Start(e.to_string()))?
            .map_err(SwitchError::Start)?;
        let ready = tokio::select! {
            r = ready_rx => r.ok(),
            _ = exited.wait_for(|e| *e) => None,
            () = tokio::time::sleep(READY_TIMEOUT) => None,
        };
        let Some(port) = ready else {
            signal(pid, libc::SIGTERM, &exited);
            let _ = tokio::time::timeout(STOP_TIMEOUT, exited.wait_for(|e| *e)).await;
            signal(pid, libc::SIGKILL, &exited);
            let _ = exited.wait_for(|e| *e).await;
            let _ = self.wipe_leftovers().await;
            let said = errors.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let last: Vec<&str> = said.lines().rev().take(5).collect();
            let last: Vec<&str> = last.into_iter().rev().collect();
            return Err(SwitchError::Start(if last.is_empty() {
                "no `ready` line".into()
            } else {
                last.join(" / ")
            }));
        };
        Ok(Child {
            pid,
            port,
            started_at: now_rfc3339(),
            options: options.clone(),
            exited,
            output,
        })
    }

    /// SIGTERM, wait; SIGKILL if it does not end in time; the summary.
    async fn end(&self, mut child: Child) -> String {
        signal(child.pid, libc::SIGTERM, &child.exited);
        if tokio::time::timeout(STOP_TIMEOUT, child.exited.wait_for(|e| *e))
            .await
            .is_err()
        {
            tracing::warn!(
                pid = child.pid,
                "練習モード: the rehearsal did not end in time: killed"
            );
            signal(child.pid, libc::SIGKILL, &child.exited);
            let _ = child.exited.wait_for(|e| *e).await;
        }
        self.finish(&child).await
    }

    /// After the child has exited: wipe what it left, and its summary.
    async fn finish(&self, child: &Child) -> String {
        if let Err(e) = self.wipe_leftovers().await {
            tracing::error!(error = %e, dir = %self.data_dir.display(), "練習モード: the rehearsal's data was not wiped");
        }
        let out = child.output.lock().unwrap_or_else(|e| e.into_inner());
        out.trim().to_owned()
    }

    async fn wipe_leftovers(&self) -> Result<(), String> {
        let dir = self.data_dir.clone();
        tokio::task::spawn_blocking(move || {
            if dir.join(super::MARKER).exists() {
                tracing::warn!(dir = %dir.display(), "練習モード: the rehearsal left its directory: wiped here");
                super::wipe(&dir).map(|_| ()).map_err(|e| e.to_string())
            } else {
                Ok(())
            }
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// Send `sig` to the child `pid` unless it has already exited (and so may have been reaped,
/// its pid free for another process).
fn signal(pid: u32, sig: libc::c_int, exited: &tokio::sync::watch::Receiver<bool>) {
    if *exited.borrow() {
        return;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) has no memory-safety conditions; pid is our own unreaped child.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// The child gets SIGTERM when the thread that spawned it ends (with this whole process,
/// however it ends), and does not start at all if this process has already gone.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec and calls only the
        // async-signal-safe prctl(2) and getppid(2); it allocates nothing on success.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// The child's standard output: each line to this box's log, the port from its `ready:`
/// line, and every line after it kept (the trainer's summary, at the end).
fn read_stdout(
    s: std::process::ChildStdout,
    ready: tokio::sync::oneshot::Sender<u16>,
    output: &Mutex<String>,
) {
    let mut ready = Some(ready);
    for line in BufReader::new(s).lines().map_while(Result::ok) {
        if ready.is_some() {
            tracing::info!(target: "training", "{line}");
            if let Some(port) = ready_port(&line)
                && let Some(tx) = ready.take()
            {
                let _ = tx.send(port);
            }
            continue;
        }
        tracing::info!(target: "training", "{line}");
        let mut out = output.lock().unwrap_or_else(|e| e.into_inner());
        if out.len() + line.len() < MAX_OUTPUT {
            out.push_str(&line);
            out.push('\n');
        }
    }
}

/// The child's standard error (its log) into this box's log, the last lines kept to say why
/// it did not start.
fn read_stderr(s: std::process::ChildStderr, errors: &Mutex<String>) {
    for line in BufReader::new(s).lines().map_while(Result::ok) {
        tracing::info!(target: "training", "{line}");
        let mut e = errors.lock().unwrap_or_else(|e| e.into_inner());
        if e.len() > 64 * 1024 {
            let cut = e.len() - 32 * 1024;
            let cut = (cut..e.len()).find(|&i| e.is_char_boundary(i)).unwrap_or(0);
            e.replace_range(..cut, "");
        }
        e.push_str(&line);
        e.push('\n');
    }
}

/// The port of a `… ready: http(s)://ADDR:PORT/` line.
fn ready_port(line: &str) -> Option<u16> {
    let i = line.find("ready: http")?;
    let url = line[i + "ready: ".len()..].trim().trim_end_matches('/');
    let (_, port) = url.rsplit_once(':')?;
    port.parse().ok()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_the_ready_line() {
        assert_eq!(
            ready_port("Checkup Edge edge-01 ready: https://127.0.0.1:41234/"),
            Some(41234)
        );
        assert_eq!(
            ready_port("Checkup Edge edge-01 ready: http://[::1]:8081/"),
            Some(8081)
        );
        assert_eq!(
            ready_port("Trainer's summary: https://x:1/training/summary"),
            None
        );
    }

    #[test]
    fn options_are_bounded_with_a_clear_message() {
        let ok = TrainingOptions {
            residents: 40,
            speed: 10.0,
            autopilot: false,
        };
        ok.check().expect("fine");
        for bad in [
            TrainingOptions {
                residents: 0,
                ..ok.clone()
            },
            TrainingOptions {
                residents: 201,
                ..ok.clone()
            },
            TrainingOptions {
                speed: 0.5,
                ..ok.clone()
            },
            TrainingOptions {
                speed: f64::NAN,
                ..ok.clone()
            },
            TrainingOptions {
                speed: 601.0,
                ..ok.clone()
            },
        ] {
            let e = bad.check().expect_err("refused");
            assert!(e.to_string().contains(" / "), "Japanese and English: {e}");
        }
    }
}
