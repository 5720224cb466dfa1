//! The clerk's inbox of scanned notices: uploads and hot-folder files kept on disk, read by an
//! OCR worker thread, waiting for review until saved as a case.
//!
//! Layout under `<data_dir>/intake/<scan id>/`: `original` (the bytes as received),
//! `scan.json` (name, digest, status, what was read) and `crop-<field>.png` (the page region
//! each field was read from). A scan is written to disk before it is acknowledged and is
//! re-read after a restart if the box stopped while reading it, so nothing dropped in the
//! hot folder or uploaded is lost. The hot-folder watcher takes a file only once its size
//! has stayed the same for one poll (a scanner still writing it is left alone) and moves it
//! to `taken/` after the inbox holds it.
//!
//! Uploads and hot-folder files are read by one function, [`Inbox::pages`]: only the first
//! page is decoded, within [`Limits`] checked from the headers before any pixel is (a file
//! refused there is kept, its scan marked failed with the limit's code, e.g.
//! `too_many_pixels`). A PDF is rendered from a plain copy in `<data_dir>/intake/work/`
//! (mode 0700, the copy 0600, shredded right after rendering); a copy left there by a crash
//! is shredded when the inbox opens, and `wipe` covers the directory like the rest of the
//! data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkup_drivers::notice::read::{FIELD_NAMES, read_page};
use checkup_drivers::scan::{Limits, Page, Reader, ScanError, ocr::Engine};

use crate::at_rest::Files;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::read::{RegisterRow, match_child, notice_json};

/// Where a scan came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Uploaded from a tablet or PC.
    Upload,
    /// Dropped in the hot folder by a network scanner.
    HotFolder,
}

/// Where a scan is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for or being read by the OCR worker.
    Reading,
    /// Read; waiting for the clerk's review.
    Ready,
    /// Could not be read (see `error`); the clerk may still type the notice in.
    Failed,
    /// Saved as a case.
    Saved,
}

/// One scanned notice.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scan {
    /// Scan id.
    pub id: Uuid,
    /// File name as received.
    pub file: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Upload or hot folder.
    pub origin: Origin,
    /// Milliseconds since the epoch when received.
    pub received_ms: u64,
    /// Where it is.
    pub status: Status,
    /// What was read: `fields` (value, confidence, bbox, review and `flags` — `{code, ja,
    /// en}`, why it must be reviewed whatever the confidence — per field), `resident_id`,
    /// `match` (the register evidence).
    #[serde(default)]
    pub result: Option<Value>,
    /// Why it could not be read: `{code, message}`.
    #[serde(default)]
    pub error: Option<Value>,
    /// The case it was saved as.
    #[serde(default)]
    pub case_id: Option<Uuid>,
}

/// Why a scan could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// Disk trouble.
    #[error("intake storage: {0}")]
    Io(#[from] std::io::Error),
    /// Over the file size limit.
    #[error("{0} bytes is over the limit of {1}")]
    TooLarge(u64, u64),
    /// Empty upload.
    #[error("the file is empty")]
    Empty,
    /// No such scan.
    #[error("no scan {0}")]
    NotFound(Uuid),
}

/// Pages of a scan that are read: the notice is its first page.
pub const PAGES_READ: usize = 1;

/// The inbox.
pub struct Inbox {
    dir: PathBuf,
    /// Where PDFs are rendered: `<data_dir>/intake/work`.
    work: PathBuf,
    scans: Mutex<BTreeMap<Uuid, Scan>>,
    jobs: Mutex<Option<std::sync::mpsc::Sender<Uuid>>>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    changed: broadcast::Sender<()>,
    limits: Limits,
    /// Scans, crops and records: sealed under the box's data key when it has one.
    files: Files,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A file name fit for display and the event: its last path part, control characters
/// dropped, at most 255 characters.
fn display_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if clean.trim().is_empty() {
        "scan".into()
    } else {
        clean
    }
}

impl Inbox {
    /// Open the inbox under `data_dir/intake`, reload what it held and start the OCR worker
    /// (one thread with its own Tesseract, so the box keeps a core for the venue).
    pub fn open(
        data_dir: &Path,
        register: Vec<RegisterRow>,
        files: Files,
    ) -> Result<Arc<Inbox>, InboxError> {
        let dir = data_dir.join("intake");
        std::fs::create_dir_all(&dir)?;
        let work = open_work_dir(&dir.join("work"))?;
        let mut scans = BTreeMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path().join("scan.json");
            let bytes = match files.read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "unreadable scan record skipped");
                    continue;
                }
            };
            match serde_json::from_slice::<Scan>(&bytes) {
                Ok(s) => {
                    scans.insert(s.id, s);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "unreadable scan record skipped")
                }
            }
        }
        let (tx, rx) = std::sync::mpsc::channel::<Uuid>();
        let pending: Vec<Uuid> = scans
            .values()
            .filter(|s| s.status == Status::Reading)
            .map(|s| s.id)
            .collect();
        let inbox = Arc::new(Inbox {
            dir,
            work,
            scans: Mutex::new(scans),
            jobs: Mutex::new(Some(tx)),
            worker: Mutex::new(None),
            changed: broadcast::channel(64).0,
            limits: Limits::default(),
            files,
        });
        let weak = Arc::downgrade(&inbox);
        let handle = std::thread::Builder::new()
            .name("ocr-worker".into())
            .spawn(move || ocr_worker(weak, rx, register))?;
        *inbox.worker.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        for id in pending {
            inbox.enqueue(id);
        }
        Ok(inbox)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Uuid, Scan>> {
        self.scans.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn enqueue(&self, id: Uuid) {
        if let Some(tx) = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = tx.send(id);
        }
    }

    /// Stop the OCR worker and wait for it: it finishes the scan it is reading and closes
    /// Tesseract (scans still queued are read after the next start). Blocking.
    pub fn stop(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        let handle = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle
            && h.thread().id() != std::thread::current().id()
            && h.join().is_err()
        {
            tracing::error!("the OCR worker panicked");
        }
    }

    /// The pages of a scan's file that are read — the first, decoded within the inbox's
    /// limits (checked from the headers first), a PDF rendered under the work directory.
    /// Uploads and hot-folder files alike are read through here.
    pub fn pages(&self, file: &str, bytes: &[u8]) -> Result<Vec<Page>, ScanError> {
        Reader::new(self.limits)
            .first_pages(PAGES_READ)
            .work_dir(&self.work)
            .read_bytes(file, bytes)
    }

    /// Where PDFs are rendered.
    pub fn work_dir(&self) -> &Path {
        &self.work
    }

    /// Largest file taken in.
    pub fn max_file_bytes(&self) -> u64 {
        self.limits.max_file_bytes
    }

    /// Notified after every change of any scan.
    pub fn subscribe(&self) -> broadcast::Receiver<()> {
        self.changed.subscribe()
    }

    /// Every scan, newest first.
    pub fn list(&self) -> Vec<Scan> {
        let mut v: Vec<Scan> = self.lock().values().cloned().collect();
        v.sort_by_key(|s| std::cmp::Reverse((s.received_ms, s.id)));
        v
    }

    /// One scan.
    pub fn get(&self, id: Uuid) -> Option<Scan> {
        self.lock().get(&id).cloned()
    }

    fn scan_dir(&self, id: Uuid) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// The PNG crop of `field` of scan `id`, if one was cut.
    pub fn crop(&self, id: Uuid, field: &str) -> Option<Vec<u8>> {
        if !FIELD_NAMES.contains(&field) {
            return None;
        }
        self.files
            .read(&self.scan_dir(id).join(format!("crop-{field}.png")))
            .ok()
    }

    /// How the inbox writes files (sealed or not).
    pub fn files(&self) -> &Files {
        &self.files
    }

    fn persist(&self, scan: &Scan) -> Result<(), InboxError> {
        let dir = self.scan_dir(scan.id);
        let tmp = dir.join("scan.json.tmp");
        let bytes = serde_json::to_vec_pretty(scan).map_err(std::io::Error::other)?;
        self.files.write(&tmp, &bytes)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, dir.join("scan.json"))?;
        Ok(())
    }

    fn update(&self, id: Uuid, f: impl FnOnce(&mut Scan)) -> Result<Option<Scan>, InboxError> {
        let updated = {
            let mut g = self.lock();
            let Some(s) = g.get_mut(&id) else {
                return Ok(None);
            };
            f(s);
            s.clone()
        };
        self.persist(&updated)?;
        let _ = self.changed.send(());
        Ok(Some(updated))
    }

    /// Take a file in: stored (and synced) on disk, then queued for reading. The same
    /// bytes while an earlier copy is still unsaved give the earlier scan back (a retried
    /// upload does not make a second case).
    pub fn add(&self, name: &str, bytes: &[u8], origin: Origin) -> Result<Scan, InboxError> {
        let len = bytes.len() as u64;
        if len > self.limits.max_file_bytes {
            return Err(InboxError::TooLarge(len, self.limits.max_file_bytes));
        }
        if bytes.is_empty() {
            return Err(InboxError::Empty);
        }
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        if let Some(s) = self
            .lock()
            .values()
            .find(|s| s.sha256 == sha256 && s.status != Status::Saved)
        {
            return Ok(s.clone());
        }
        let scan = Scan {
            id: Uuid::now_v7(),
            file: display_name(name),
            sha256,
            origin,
            received_ms: now_ms(),
            status: Status::Reading,
            result: None,
            error: None,
            case_id: None,
        };
        let dir = self.scan_dir(scan.id);
        std::fs::create_dir_all(&dir)?;
        let original = dir.join("original");
        self.files.write(&original, bytes)?;
        std::fs::File::open(&original)?.sync_all()?;
        self.persist(&scan)?;
        self.lock().insert(scan.id, scan.clone());
        let _ = self.changed.send(());
        self.enqueue(scan.id);
        tracing::info!(scan = %scan.id, file = %scan.file, ?origin, "notice scan taken in");
        Ok(scan)
    }

    /// Mark a scan saved as `case_id`.
    pub fn mark_saved(&self, id: Uuid, case_id: Uuid) -> Result<(), InboxError> {
        self.update(id, |s| {
            s.status = Status::Saved;
            s.case_id = Some(case_id);
        })?
        .map(|_| ())
        .ok_or(InboxError::NotFound(id))
    }

    /// Read one scan (on the OCR worker's thread).
    fn read(&self, engine: &mut Engine, register: &[RegisterRow], id: Uuid) {
        let dir = self.scan_dir(id);
        let Some(scan) = self.get(id) else { return };
        if scan.status != Status::Reading {
            return;
        }
        let outcome = self
            .files
            .read(&dir.join("original"))
            .map_err(|e| ("io", e.to_string()))
            .and_then(|bytes| {
                self.pages(&scan.file, &bytes)
                    .map_err(|e| (e.code(), e.to_string()))
            })
            .and_then(|pages| {
                let page = pages
                    .into_iter()
                    .next()
                    .ok_or(("empty", "no page".to_owned()))?;
                let mut fields =
                    read_page(engine, &page.image).map_err(|e| ("ocr_failed", e.to_string()))?;
                let (resident, evidence) = if register.is_empty() {
                    (None, Value::Null)
                } else {
                    match_child(&mut fields, register)
                };
                let json = notice_json(&scan.file, &fields, resident, evidence);
                cut_crops(&self.files, &dir, &page.image, &json);
                Ok(json)
            });
        let result = self.update(id, |s| match outcome {
            Ok(json) => {
                s.status = Status::Ready;
                s.result = Some(json);
            }
            Err((code, message)) => {
                s.status = Status::Failed;
                s.error = Some(serde_json::json!({"code": code, "message": message}));
            }
        });
        if let Err(e) = result {
            tracing::error!(scan = %id, error = %e, "scan result not stored");
        }
    }
}

/// Make the PDF work directory private (0700) and shred whatever a crash left in it (a plain
/// copy of a notice being rendered).
fn open_work_dir(work: &Path) -> Result<PathBuf, InboxError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let work = std::path::absolute(work)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&work)?;
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700))?;
    let removed = crate::wipe::shred_contents(&work).map_err(std::io::Error::other)?;
    if removed > 0 {
        tracing::warn!(files = removed, dir = %work.display(), "PDF copies left by an earlier run shredded");
    }
    Ok(work)
}

/// Cut each field's region (with a margin) out of the page as a PNG for the review page.
fn cut_crops(files: &Files, dir: &Path, page: &image::GrayImage, json: &Value) {
    const MARGIN: u32 = 16;
    let (w, h) = page.dimensions();
    for name in FIELD_NAMES {
        let b = &json["fields"][name]["bbox"];
        let v: Vec<u32> = (0..4)
            .filter_map(|i| b[i].as_u64().and_then(|x| u32::try_from(x).ok()))
            .collect();
        let [x, y, bw, bh] = v[..] else { continue };
        if bw == 0 || bh == 0 || x >= w || y >= h {
            continue;
        }
        let x0 = x.saturating_sub(MARGIN);
        let y0 = y.saturating_sub(MARGIN);
        let x1 = (x + bw + MARGIN).min(w);
        let y1 = (y + bh + MARGIN).min(h);
        let crop = image::imageops::crop_imm(page, x0, y0, x1 - x0, y1 - y0).to_image();
        let path = dir.join(format!("crop-{name}.png"));
        let mut png = Vec::new();
        let saved = crop
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| e.to_string())
            .and_then(|()| files.write(&path, &png).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            tracing::warn!(path = %path.display(), error = %e, "crop not saved");
        }
    }
}

fn ocr_worker(
    inbox: std::sync::Weak<Inbox>,
    jobs: std::sync::mpsc::Receiver<Uuid>,
    register: Vec<RegisterRow>,
) {
    let mut engine: Option<Engine> = None;
    while let Ok(id) = jobs.recv() {
        let Some(inbox) = inbox.upgrade() else { return };
        if engine.is_none() {
            match Engine::new() {
                Ok(e) => engine = Some(e),
                Err(e) => {
                    tracing::error!(error = %e, "Tesseract cannot start; scans wait unread");
                    let _ = inbox.update(id, |s| {
                        s.status = Status::Failed;
                        s.error = Some(serde_json::json!({"code": "ocr_unavailable",
                            "message": format!("Tesseract cannot start: {e}")}));
                    });
                    continue;
                }
            }
        }
        if let Some(engine) = engine.as_mut() {
            inbox.read(engine, &register, id);
        }
    }
}

/// Watch `folder` until `stop`: every second, files whose size has not changed since the
/// last look are taken into the inbox and moved to `folder/taken/`.
pub async fn watch_hot_folder(inbox: Arc<Inbox>, folder: PathBuf, stop: CancellationToken) {
    let taken = folder.join("taken");
    if let Err(e) = std::fs::create_dir_all(&taken) {
        tracing::error!(folder = %folder.display(), error = %e, "hot folder unusable");
        return;
    }
    tracing::info!(folder = %folder.display(), "watching the scanner hot folder");
    let mut sizes: BTreeMap<PathBuf, u64> = BTreeMap::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let (inbox2, folder2, taken2) = (inbox.clone(), folder.clone(), taken.clone());
        let seen = std::mem::take(&mut sizes);
        let next =
            tokio::task::spawn_blocking(move || poll(&inbox2, &folder2, &taken2, seen)).await;
        match next {
            Ok(next) => sizes = next,
            Err(e) => tracing::error!(error = %e, "hot folder poll failed"),
        }
    }
}

/// One look at the hot folder; returns the sizes of the files still settling.
fn poll(
    inbox: &Inbox,
    folder: &Path,
    taken: &Path,
    seen: BTreeMap<PathBuf, u64>,
) -> BTreeMap<PathBuf, u64> {
    let mut next = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return next;
    };
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
        let size = meta.len();
        if seen.get(&path) != Some(&size) {
            next.insert(path, size);
            continue;
        }
        let outcome = if size > inbox.max_file_bytes() {
            Err(format!(
                "{size} bytes is over the limit of {}",
                inbox.max_file_bytes()
            ))
        } else {
            std::fs::read(&path)
                .map_err(|e| e.to_string())
                .map(|bytes| {
                    let added = inbox
                        .add(&name, &bytes, Origin::HotFolder)
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    (bytes, added)
                })
        };
        let (dest, bytes) = match outcome {
            Ok((bytes, Ok(()))) => (taken.join(&name), Some(bytes)),
            Ok((bytes, Err(e))) => {
                tracing::warn!(file = %name, error = %e, "hot folder file refused; moved to taken/refused-");
                (taken.join(format!("refused-{name}")), Some(bytes))
            }
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "hot folder file refused; moved to taken/refused-");
                (taken.join(format!("refused-{name}")), None)
            }
        };
        let dest = unused(dest);
        move_taken(inbox.files(), &path, &dest, bytes.as_deref());
    }
    next
}

/// Move a taken file out of the hot folder: sealed under the data key when the box has one
/// (the plain original overwritten before removal), else renamed. A file too large to
/// have been read is renamed as it is.
fn move_taken(files: &Files, path: &Path, dest: &Path, bytes: Option<&[u8]>) {
    let moved = match (files.seals(), bytes) {
        (true, Some(b)) => files
            .write(dest, b)
            .and_then(|()| crate::wipe::shred_file(path).map(|_| ())),
        _ => std::fs::rename(path, dest),
    };
    if let Err(e) = moved {
        tracing::error!(file = %path.display(), error = %e, "cannot move a taken file out of the hot folder");
    }
}

/// `path`, or `path` with a counter before its extension if it exists.
fn unused(path: PathBuf) -> PathBuf {
    if !path.exists() {
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
        .find(|p| !p.exists())
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe_for_display() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\scans\\n1.pdf"), "n1.pdf");
        assert_eq!(display_name("a\u{0}b\nc.png"), "abc.png");
        assert_eq!(display_name(""), "scan");
    }

    /// Wait until the OCR worker is done with scan `id`.
    fn read_by_worker(inbox: &Inbox, id: Uuid) -> Scan {
        for _ in 0..3000 {
            match inbox.get(id) {
                Some(s) if s.status != Status::Reading => return s,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        panic!("scan {id} still being read after a minute");
    }

    #[test]
    fn memory_bomb_tiff_decodes_only_the_used_page() {
        let dir = tempfile::tempdir().expect("dir");
        let inbox = Inbox::open(dir.path(), Vec::new(), Files::default()).expect("open");
        // 50 pages of 8900 × 8900: 4 GB of pixels in a few hundred kilobytes. Refused from
        // the first page's header, before any pixel is decoded.
        let bomb = checkup_tests::scans::tiff_bomb(50, 8900, 8900).expect("bomb");
        assert!(bomb.len() < 1_000_000);
        // (Outcomes are compared as page counts: a page's Debug would print its pixels.)
        let refused = inbox.pages("bomb.tif", &bomb).map(|p| p.len());
        assert!(
            matches!(&refused, Err(e) if e.code() == "too_many_pixels"),
            "{:?}",
            refused.map_err(|e| e.to_string())
        );
        // 50 pages of A4 at 300 dpi, each within the limits: only the page read is decoded.
        let a4 = checkup_tests::scans::tiff_bomb(50, 2480, 3508).expect("a4");
        let pages = inbox.pages("a4.tif", &a4).map_err(|e| e.to_string());
        let pages = pages.expect("first page");
        assert_eq!(
            pages
                .iter()
                .map(|p| (p.number, p.image.dimensions()))
                .collect::<Vec<_>>(),
            vec![(1, (2480, 3508))]
        );
        // Taken in as an upload (the hot folder adds the same way): kept, and marked failed
        // with the limit's code.
        let scan = inbox.add("bomb.tif", &bomb, Origin::Upload).expect("add");
        let read = read_by_worker(&inbox, scan.id);
        assert_eq!(read.status, Status::Failed);
        assert_eq!(
            read.error.as_ref().map(|e| e["code"].clone()),
            Some(serde_json::json!("too_many_pixels"))
        );
        let kept = std::fs::read(
            dir.path()
                .join("intake")
                .join(scan.id.to_string())
                .join("original"),
        )
        .expect("kept");
        assert_eq!(kept, bomb);
        inbox.stop();
    }

    #[test]
    fn uploads_are_kept_on_disk_and_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("dir");
        let inbox = Inbox::open(dir.path(), Vec::new(), Files::default()).expect("open");
        assert!(matches!(
            inbox.add("x.png", b"", Origin::Upload),
            Err(InboxError::Empty)
        ));
        let a = inbox
            .add("x.png", b"not an image", Origin::Upload)
            .expect("add");
        let again = inbox
            .add("y.png", b"not an image", Origin::Upload)
            .expect("add");
        assert_eq!(a.id, again.id, "the same bytes are one scan");
        // The worker finds it is not an image.
        for _ in 0..200 {
            if inbox.get(a.id).is_some_and(|s| s.status == Status::Failed) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let s = inbox.get(a.id).expect("scan");
        assert_eq!(s.status, Status::Failed);
        assert_eq!(
            s.error.as_ref().map(|e| e["code"].clone()),
            Some(serde_json::json!("not_an_image"))
        );
        inbox.stop();
        drop(inbox);
        let reopened = Inbox::open(dir.path(), Vec::new(), Files::default()).expect("reopen");
        assert_eq!(reopened.list().len(), 1);
        assert_eq!(reopened.get(a.id).map(|s| s.status), Some(Status::Failed));
    }
}
