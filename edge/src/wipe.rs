//! Wiping a box after the day (`checkup-edge wipe`).
//!
//! A box may be wiped only when central has acknowledged every event it holds: the event
//! store is compared with the forwarding watermark (central's acknowledged heads, see
//! [`crate::forward`]), node by node, and any event above it refuses the wipe — nothing
//! that exists only on this box is ever destroyed. Then every file under the data directory
//! (event store and its WAL, roster, scans of the intake inbox, a PDF copy a crash left in
//! the intake's work directory, keys), the hot folder's `taken/` scans and the paper
//! questionnaire folder's `done/` and `failed/` files are overwritten with zeros, flushed to
//! disk and removed.
//!
//! A box still listening on its address is not wiped (stop it first).
//!
//! `--force --reason` wipes a box whose events central lacks (a box that can never forward
//! them) — but only after central has recorded the reason and the events lost in its
//! hash-chained audit trail ([`record_forced`]); if central cannot be reached, nothing is
//! wiped.
//!
//! Overwriting in place defeats reading the files back and `strings` on the directory; it
//! cannot reach copies a flash controller or the file system's journal may keep elsewhere.
//! With a data key the store and scans are encrypted as well ([`crate::at_rest`]): a box
//! run from a bundle keeps the key only in memory, so what such copies hold is ciphertext.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use checkup_protocol::central::{ForcedWipe, WipeRecorded};
use rusqlite::OpenFlags;

use crate::config::Config;
use crate::forward::Watermark;

/// Why a wipe did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WipeError {
    /// Central has not acknowledged these events (per node: how many).
    #[error("refusing to wipe: {total} event(s) not yet acknowledged by central ({})",
            .per_node.iter().map(|(n, c)| format!("{n}: {c}")).collect::<Vec<_>>().join(", "))]
    Unforwarded {
        /// Events in all.
        total: u64,
        /// By node.
        per_node: BTreeMap<String, u64>,
    },
    /// Something answers on the box's listen address: the box is probably still running.
    #[error(
        "refusing to wipe: something is listening on {0} (the box still running?); stop it first"
    )]
    Running(std::net::SocketAddr),
    /// The event store could not be read.
    #[error("reading the event store: {0}")]
    Store(#[from] rusqlite::Error),
    /// The event store does not open with the box's data key (or the key is unreadable):
    /// nothing can be known about what central lacks, so nothing is wiped.
    #[error("{0}")]
    Key(#[from] crate::at_rest::AtRestError),
    /// The watermark could not be read.
    #[error("{0}")]
    Watermark(#[from] crate::forward::ForwardError),
    /// A forced wipe could not be recorded at central, so it was not done.
    #[error("refusing to wipe: the forced wipe could not be recorded at central: {0}")]
    NotRecorded(String),
    /// A file could not be overwritten or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// What a wipe removed.
#[derive(Debug, Default, serde::Serialize)]
pub struct WipeReport {
    /// Events that were held (all acknowledged by central).
    pub events: u64,
    /// Files overwritten and removed.
    pub files: u64,
    /// Bytes overwritten.
    pub bytes: u64,
}

/// Events this box holds that central has not acknowledged, by node (empty: none).
pub fn unforwarded(config: &Config) -> Result<(u64, BTreeMap<String, u64>), WipeError> {
    let store = config.store_path();
    if !store.exists() {
        return Ok((0, BTreeMap::new()));
    }
    let key = config.data_key()?;
    let conn = crate::at_rest::open_sqlite(&store, key.as_ref(), OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let held: Vec<(String, i64)> = conn
        .prepare("SELECT node, COUNT(*) FROM events GROUP BY node")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let acked = Watermark::open(&config.data_dir)?.load()?;
    let total_held = held.iter().map(|(_, n)| n.unsigned_abs()).sum();
    let mut pending = BTreeMap::new();
    for (node, _) in &held {
        let mark = i64::try_from(acked.get(node).copied().unwrap_or(0)).unwrap_or(i64::MAX);
        let above: i64 = conn.query_row(
            "SELECT COUNT(*) FROM events WHERE node = ?1 AND seq > ?2",
            rusqlite::params![node, mark],
            |r| r.get(0),
        )?;
        if above > 0 {
            pending.insert(node.clone(), above.unsigned_abs());
        }
    }
    Ok((total_held, pending))
}

/// Why a wipe may go ahead with events central lacks.
#[derive(Debug, Clone)]
pub struct Force {
    /// The reason given (`--reason`), 4 to 500 characters.
    pub reason: String,
}

/// Record a forced wipe at central (`POST /v1/wipes`, authenticated like forwarding):
/// central writes it into its hash-chained audit trail with the events it will never get.
pub async fn record_forced(
    config: &Config,
    reason: &str,
    unforwarded: &BTreeMap<String, u64>,
) -> Result<(), WipeError> {
    let fail = |m: String| WipeError::NotRecorded(m);
    let url = config
        .central
        .first_url()
        .ok_or_else(|| fail("no central.url in the configuration".into()))?;
    let secret = config.central.secret.as_deref().unwrap_or_default();
    let tls = crate::tls::EdgeTls::of(config).map_err(|e| fail(format!("{e:#}")))?;
    let client =
        crate::forward::central_client(tls.map(|t| t.central), std::time::Duration::from_secs(20))
            .map_err(|e| fail(e.to_string()))?;
    let r = client
        .post(format!("{}/v1/wipes", url.trim_end_matches('/')))
        .bearer_auth(secret)
        .json(&ForcedWipe {
            reason: reason.to_owned(),
            unforwarded: unforwarded.clone(),
        })
        .send()
        .await
        .map_err(|e| fail(format!("central unreachable: {e}")))?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(fail(format!("central answered {status}: {body}")));
    }
    // Only central's word that the wipe is in its audit trail lets the wipe go ahead.
    match serde_json::from_str::<WipeRecorded>(&body) {
        Ok(WipeRecorded { recorded: true }) => Ok(()),
        _ => Err(fail(format!(
            "central answered {status} but did not say the wipe is recorded: {body}"
        ))),
    }
}

/// Wipe the box: refused with [`WipeError::Unforwarded`] while central lacks any event;
/// otherwise every file under the data directory and the hot folder's `taken/` is
/// overwritten and removed (the directories themselves stay, empty).
pub fn wipe(config: &Config) -> Result<WipeReport, WipeError> {
    wipe_with(config, None)
}

/// [`wipe`], or with `force` even though central lacks events — only once central has
/// recorded the forced wipe and its reason ([`record_forced`]; needs a Tokio runtime).
pub fn wipe_with(
    config: &Config,
    force: Option<(&Force, &tokio::runtime::Handle)>,
) -> Result<WipeReport, WipeError> {
    // A running box would go on writing into files being removed.
    if config.listen.port() != 0
        && std::net::TcpStream::connect_timeout(&config.listen, std::time::Duration::from_secs(1))
            .is_ok()
    {
        return Err(WipeError::Running(config.listen));
    }
    let (events, pending) = unforwarded(config)?;
    if !pending.is_empty() {
        let Some((force, rt)) = force else {
            return Err(WipeError::Unforwarded {
                total: pending.values().sum(),
                per_node: pending,
            });
        };
        let reason = force.reason.trim();
        if reason.chars().count() < 4 || reason.chars().count() > 500 {
            return Err(WipeError::NotRecorded(
                "--reason must be 4 to 500 characters".into(),
            ));
        }
        rt.block_on(record_forced(config, reason, &pending))?;
        tracing::warn!(
            reason,
            lost = pending.values().sum::<u64>(),
            "forced wipe recorded at central"
        );
    }
    let mut report = WipeReport {
        events,
        ..WipeReport::default()
    };
    shred_dir(&config.data_dir, &mut report)?;
    if let Some(hot) = &config.intake.hot_folder {
        let taken = hot.join("taken");
        if taken.is_dir() {
            shred_dir(&taken, &mut report)?;
        }
    }
    if let Some(paper) = &config.paper_inbox {
        for sub in ["done", "failed"] {
            let d = paper.join(sub);
            if d.is_dir() {
                shred_dir(&d, &mut report)?;
            }
        }
    }
    tracing::warn!(
        events = report.events,
        files = report.files,
        bytes = report.bytes,
        dir = %config.data_dir.display(),
        "box wiped"
    );
    Ok(report)
}

/// Overwrite and remove everything below `dir`, which stays (the intake's PDF work
/// directory at start-up); the number of files removed.
pub(crate) fn shred_contents(dir: &Path) -> Result<u64, WipeError> {
    let mut report = WipeReport::default();
    shred_dir(dir, &mut report)?;
    Ok(report.files)
}

/// Overwrite and remove everything below `dir` (links are removed, never followed).
fn shred_dir(dir: &Path, report: &mut WipeReport) -> Result<(), WipeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WipeError::Io { path, source }
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            shred_dir(&path, report)?;
            std::fs::remove_dir(&path).map_err(io(&path))?;
        } else if kind.is_file() {
            report.bytes += shred_file(&path).map_err(io(&path))?;
            report.files += 1;
        } else {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Overwrite a file with zeros, flush it to disk, remove it. Returns its length.
pub fn shred_file(path: &Path) -> std::io::Result<u64> {
    let len = checkup_drivers::shred::zero_fill(path)?;
    let f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.set_len(0)?;
    f.sync_all()?;
    drop(f);
    std::fs::remove_file(path)?;
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_still_listening_is_not_wiped() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("roster.sqlite3"), "髙橋").expect("write");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            listen: listener.local_addr().expect("addr"),
            ..Config::default()
        };
        assert!(matches!(wipe(&config), Err(WipeError::Running(_))));
        assert!(dir.path().join("roster.sqlite3").exists());
        drop(listener);
        let report = wipe(&config).expect("wiped once stopped");
        assert_eq!((report.files, report.events), (1, 0));
        assert!(!dir.path().join("roster.sqlite3").exists());
    }

    #[test]
    fn files_are_overwritten_and_removed_and_links_not_followed() {
        let outside = tempfile::tempdir().expect("dir");
        let kept = outside.path().join("kept.txt");
        std::fs::write(&kept, "髙橋 一郎").expect("write");
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("inbox/scans")).expect("dir");
        std::fs::write(dir.path().join("roster.sqlite3"), "髙橋 一郎".repeat(5000)).expect("w");
        std::fs::write(dir.path().join("inbox/scans/a.png"), [7u8; 70_000]).expect("w");
        std::os::unix::fs::symlink(&kept, dir.path().join("link")).expect("link");
        let mut report = WipeReport::default();
        shred_dir(dir.path(), &mut report).expect("shred");
        assert_eq!(report.files, 2);
        assert_eq!(report.bytes, 5000 * "髙橋 一郎".len() as u64 + 70_000);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
        assert_eq!(
            std::fs::read_to_string(&kept).expect("kept"),
            "髙橋 一郎",
            "a link's target is not touched"
        );
    }
}
