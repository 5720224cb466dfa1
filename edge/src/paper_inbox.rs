//! The scanner's folder for paper questionnaires (`paper_inbox` in the configuration): a
//! network scanner drops the filled-in forms there and the box reads each one like an
//! upload at the 問診 station, without anyone choosing the session — the QR code names it.
//!
//! Every [`POLL`] the folder is listed. A file is taken only when its size and modification
//! time are the same as at the previous look and it is at least [`SETTLE`] old, so a file
//! the scanner is still writing is left for a later pass. Hidden files and `*.part`,
//! `*.tmp` are never taken. A taken file is read by [`crate::venue::Core::read_paper`] as
//! [`crate::venue::paper::inbox_actor`] (`system:paper-inbox`, so every event it causes
//! says it came from the folder): its clear answers are recorded and its items for review
//! wait in the session for the nurse. Then the file leaves the folder, so nothing is read
//! twice:
//!
//! - `done/<name>`: read and recorded (sealed under the box's data key when it has one,
//!   like the notice inbox's taken scans);
//! - `failed/<name>` with `failed/<name>.reason.txt` (the reason in Japanese and in English
//!   and its code): refused whole and nothing recorded — not a form, no page readable, a
//!   session not open on this box, another resident's form. The file is kept as scanned so
//!   staff can look at it and upload it at the station once the cause is put right.
//!
//! A file that failed for a passing cause (the store closing, a read task failing) stays in
//! the folder and is tried again. Names already used in `done/` or `failed/` get a counter.
//! `checkup-edge wipe` shreds both folders with the data directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use checkup_drivers::scan::Limits;
use tokio_util::sync::CancellationToken;

use crate::at_rest::Files;
use crate::venue::paper::{PaperError, PaperScan, inbox_actor};
use crate::venue::{Core, VenueError};

/// How often the folder is looked at.
pub const POLL: Duration = Duration::from_secs(2);
/// How old a file must be before it is taken.
pub const SETTLE: Duration = Duration::from_secs(2);

/// What became of a file taken from the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Read and recorded; moved to `done/`.
    Done {
        /// Where it is now.
        path: PathBuf,
    },
    /// Refused; moved to `failed/` beside its reason.
    Failed {
        /// Where it is now.
        path: PathBuf,
        /// The refusal's code (`form_unreadable`, `not_an_image`, `session_not_open`, …).
        code: String,
    },
    /// A passing failure: left in the folder for the next pass.
    Retry {
        /// The failure's code.
        code: String,
    },
}

/// The watched folder.
pub struct PaperInbox {
    folder: PathBuf,
    done: PathBuf,
    failed: PathBuf,
    core: Core,
    files: Files,
    limits: Limits,
    /// Size and modification time of each file at the last look.
    seen: HashMap<PathBuf, (u64, SystemTime)>,
}

/// Why the folder cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("paper inbox {folder}: {source}")]
pub struct InboxError {
    folder: PathBuf,
    source: std::io::Error,
}

impl PaperInbox {
    /// The folder, with its `done/` and `failed/` made if missing.
    pub fn open(
        folder: &Path,
        core: Core,
        files: Files,
        limits: Limits,
    ) -> Result<PaperInbox, InboxError> {
        let done = folder.join("done");
        let failed = folder.join("failed");
        for d in [folder, &done, &failed] {
            std::fs::create_dir_all(d).map_err(|source| InboxError {
                folder: d.to_path_buf(),
                source,
            })?;
        }
        Ok(PaperInbox {
            folder: folder.to_path_buf(),
            done,
            failed,
            core,
            files,
            limits,
            seen: HashMap::new(),
        })
    }

    /// Look at the folder every [`POLL`] until `stop`.
    pub async fn watch(mut self, stop: CancellationToken) {
        tracing::info!(folder = %self.folder.display(), "watching the paper questionnaire folder");
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
            self.pass(SystemTime::now()).await;
        }
    }

    /// One look at the folder at `now`: every settled file is read and moved; what became
    /// of each, by name.
    pub async fn pass(&mut self, now: SystemTime) -> Vec<(String, Fate)> {
        let mut out = Vec::new();
        let mut next = HashMap::new();
        let Ok(entries) = std::fs::read_dir(&self.folder) else {
            tracing::warn!(folder = %self.folder.display(), "cannot list the paper questionnaire folder");
            return out;
        };
        let mut settled = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file()
                || name.starts_with('.')
                || name.ends_with(".part")
                || name.ends_with(".tmp")
            {
                continue;
            }
            let stamp = (meta.len(), meta.modified().unwrap_or(now));
            let old = now.duration_since(stamp.1).is_ok_and(|age| age >= SETTLE);
            if self.seen.get(&path) == Some(&stamp) && old {
                settled.push((path, name));
            } else {
                next.insert(path, stamp);
            }
        }
        settled.sort();
        for (path, name) in settled {
            let fate = self.take(&path, &name).await;
            if let Fate::Retry { .. } = fate
                && let Ok(meta) = std::fs::metadata(&path)
            {
                next.insert(path.clone(), (meta.len(), meta.modified().unwrap_or(now)));
            }
            out.push((name, fate));
        }
        self.seen = next;
        out
    }

    /// Read one settled file and move it.
    async fn take(&self, path: &Path, name: &str) -> Fate {
        let bytes = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "cannot read a file of the paper folder; trying again");
                return Fate::Retry { code: "io".into() };
            }
        };
        let scan = PaperScan {
            name: name.to_owned(),
            bytes: bytes.clone(),
            expected: None,
            limits: self.limits,
        };
        match self.core.read_paper(&inbox_actor(), scan).await {
            Ok(read) => {
                let dest = unused(self.done.join(name));
                let review: usize = read.pages.iter().map(|p| p.review.len()).sum();
                tracing::info!(
                    file = %name,
                    session = %read.session_id,
                    recorded = read.submitted.recorded,
                    corrected = read.submitted.corrected,
                    unchanged = read.submitted.unchanged,
                    review,
                    "paper questionnaire read from the scanner's folder"
                );
                if let Err(e) = self.move_out(path, &dest, &bytes, true) {
                    tracing::error!(file = %name, error = %e, "read, but cannot move it to done/");
                }
                Fate::Done { path: dest }
            }
            Err(e) if passing(&e) => {
                tracing::warn!(file = %name, error = %e, "paper questionnaire not read now; trying again");
                Fate::Retry {
                    code: e.code().into(),
                }
            }
            Err(e) => {
                let dest = unused(self.failed.join(name));
                tracing::warn!(file = %name, code = e.code(), error = %e, "paper questionnaire refused; moved to failed/");
                let mut reason = dest.clone().into_os_string();
                reason.push(".reason.txt");
                if let Err(err) = std::fs::write(&reason, reason_text(name, &e)) {
                    tracing::error!(file = %name, error = %err, "cannot write the reason of a refused file");
                }
                if let Err(err) = self.move_out(path, &dest, &bytes, false) {
                    tracing::error!(file = %name, error = %err, "cannot move a refused file to failed/");
                }
                Fate::Failed {
                    path: dest,
                    code: e.code().into(),
                }
            }
        }
    }

    /// Move a file out of the folder: into `done/` sealed under the data key when the box
    /// has one (the plain original overwritten before removal), else renamed.
    fn move_out(&self, from: &Path, to: &Path, bytes: &[u8], seal: bool) -> std::io::Result<()> {
        if seal && self.files.seals() {
            self.files.write(to, bytes)?;
            crate::wipe::shred_file(from).map(|_| ())
        } else {
            std::fs::rename(from, to)
        }
    }
}

/// Failures that may pass by themselves (the box is closing, the store is busy, a read
/// task failed): the file is tried again rather than put aside.
fn passing(e: &PaperError) -> bool {
    matches!(
        e,
        PaperError::Internal(_)
            | PaperError::Scan(checkup_drivers::scan::ScanError::Io { .. })
            | PaperError::Venue(VenueError::Store(_) | VenueError::Roster(_))
    )
}

/// The Japanese for a refusal whose message has none.
fn japanese(code: &str) -> &'static str {
    match code {
        "file_too_large" => "ファイルが大きすぎます",
        "not_an_image" => "画像（PNG・JPEG・TIFF）またはPDFではありません",
        "corrupt_image" => "画像が壊れています",
        "pdf_unreadable" => "PDFを開けません",
        "too_many_pages" => "ページが多すぎます",
        "too_many_pixels" | "page_too_large" | "too_many_pixels_in_all" => {
            "画像が大きすぎます（解像度を下げてスキャンしてください）"
        }
        "invalid_payload" => "記録できない内容が含まれています",
        _ => "読み取れませんでした",
    }
}

/// The text of `<name>.reason.txt`: Japanese, English, the code and what to do.
pub fn reason_text(name: &str, e: &PaperError) -> String {
    let message = e.to_string();
    let (ja, en) = match message.split_once(" / ") {
        Some((ja, en)) => (ja.to_owned(), en.to_owned()),
        None => (japanese(e.code()).to_owned(), message.clone()),
    };
    format!(
        "{name}\n\n{ja}\n{en}\n\nコード / code: {}\n\n\
         この用紙の回答は記録されていません。原因を確かめて、問診の画面から取り込むか、スキャンし直してください。\n\
         Nothing of this file was recorded. Put the cause right, then upload it at the 問診 station or scan it again.\n",
        e.code()
    )
}

/// `path`, or `path` with a counter before its extension if it exists.
fn unused(path: PathBuf) -> PathBuf {
    let taken = |p: &Path| {
        let mut reason = p.as_os_str().to_owned();
        reason.push(".reason.txt");
        p.exists() || Path::new(&reason).exists()
    };
    if !taken(&path) {
        return path;
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| format!(".{}", s.to_string_lossy()))
        .unwrap_or_default();
    (1..)
        .map(|i| path.with_file_name(format!("{stem}-{i}{ext}")))
        .find(|p| !taken(p))
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_says_it_in_japanese_and_english_with_its_code() {
        let t = reason_text("a.png", &PaperError::MixedSessions);
        assert!(t.contains("別の受診者の質問票が混ざっています"), "{t}");
        assert!(t.contains("more than one session"), "{t}");
        assert!(t.contains("mixed_sessions"), "{t}");
        let scan = PaperError::Scan(checkup_drivers::scan::ScanError::NotAnImage {
            file: "a.png".into(),
        });
        let t = reason_text("a.png", &scan);
        assert!(
            t.contains("画像（PNG・JPEG・TIFF）またはPDFではありません"),
            "{t}"
        );
        assert!(t.contains("not a PNG, JPEG, TIFF or PDF"), "{t}");
    }

    #[test]
    fn a_name_in_use_gets_a_counter() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("scan.pdf");
        assert_eq!(unused(p.clone()), p);
        std::fs::write(&p, b"x").expect("write");
        assert_eq!(unused(p.clone()), dir.path().join("scan-1.pdf"));
        std::fs::write(dir.path().join("scan-1.pdf.reason.txt"), b"x").expect("write");
        assert_eq!(unused(p), dir.path().join("scan-2.pdf"));
    }
}
