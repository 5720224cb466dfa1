//! PDF pages from network scanners, rendered by poppler's `pdftoppm` (Debian
//! `poppler-utils`) at 300 dpi in greyscale, one page at a time, only the pages asked for.
//!
//! The page count and the size of every page to render are read with `pdfinfo` first, so
//! the page and pixel limits hold before anything is rendered; both tools run with a
//! deadline and are killed past it, so a hostile file cannot hang intake.
//!
//! The tools need the PDF as a file. It is written to a private directory (mode 0700, the
//! file 0600) made under the reader's work directory — the box's data directory, so that
//! `wipe` and the start-up clean-up reach a copy left by a crash — or, without one, under
//! the temporary directory; it is overwritten with zeros and removed with its directory
//! as soon as the pages are rendered, whatever the outcome. Each page comes back on
//! `pdftoppm`'s standard output, never as a file. Every path handed to a tool is
//! absolute.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::input::{Limits, Page, Reader, ScanError};

/// Rendering resolution.
const DPI: f64 = 300.0;
/// Longest either tool may run on one file.
const DEADLINE: Duration = Duration::from_secs(60);
/// Name of the PDF copy inside its private directory.
const INPUT: &str = "in.pdf";

/// A private directory holding the PDF copy: shredded and removed when dropped.
struct WorkCopy {
    dir: Option<tempfile::TempDir>,
    input: PathBuf,
}

impl WorkCopy {
    /// Write `bytes` to `<private dir>/in.pdf`, the directory made under `parent` (or the
    /// temporary directory) with mode 0700, the file with mode 0600.
    fn new(parent: Option<&Path>, bytes: &[u8]) -> std::io::Result<WorkCopy> {
        let mut builder = tempfile::Builder::new();
        builder
            .prefix("render-")
            .permissions(std::fs::Permissions::from_mode(0o700));
        let dir = match parent {
            Some(p) => {
                let p = std::path::absolute(p)?;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&p)?;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700))?;
                builder.tempdir_in(p)?
            }
            None => builder.tempdir_in(std::path::absolute(std::env::temp_dir())?)?,
        };
        let input = dir.path().join(INPUT);
        let copy = WorkCopy {
            dir: Some(dir),
            input,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&copy.input)?;
        f.write_all(bytes)?;
        Ok(copy)
    }
}

impl Drop for WorkCopy {
    fn drop(&mut self) {
        // Zeros over the copy before it is unlinked, so its blocks do not keep the notice.
        let shredded = crate::shred::zero_fill(&self.input);
        if let Err(e) = shredded {
            tracing::warn!(file = %self.input.display(), error = %e, "PDF copy not overwritten");
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if let Err(e) = dir.close() {
                tracing::warn!(dir = %path.display(), error = %e, "PDF work directory not removed");
            }
        }
    }
}

/// Render the first `reader.pages()` pages of a PDF held in `bytes`.
pub(crate) fn render(file: &str, bytes: &[u8], reader: &Reader) -> Result<Vec<Page>, ScanError> {
    let limits: &Limits = reader.limits();
    let fail = |message: String| ScanError::Pdf {
        file: file.to_owned(),
        message,
    };
    let copy = WorkCopy::new(reader.work(), bytes)
        .map_err(|e| fail(format!("private copy for rendering: {e}")))?;
    let input = copy.input.as_path();

    let info = run(Command::new("pdfinfo").arg(input), 1 << 20).map_err(&fail)?;
    let info = String::from_utf8_lossy(&info);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| fail("no page count".into()))?;
    if pages == 0 {
        return Err(fail("the PDF has no pages".into()));
    }
    if pages > limits.max_pages {
        return Err(ScanError::TooManyPages {
            file: file.to_owned(),
            limit: limits.max_pages,
        });
    }
    let wanted = pages.min(reader.pages());
    let sizes = run(
        Command::new("pdfinfo")
            .args(["-f", "1", "-l", &wanted.to_string()])
            .arg(input),
        1 << 20,
    )
    .map_err(&fail)?;
    let sizes = String::from_utf8_lossy(&sizes);
    let page_lines = sizes
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size: "));
    let mut total = 0u64;
    let mut counted = 0;
    for (i, line) in page_lines.take(wanted).enumerate() {
        let (w, h) = page_points(line).ok_or_else(|| fail(format!("page size {line:?}")))?;
        let (pw, ph) = ((w / 72.0 * DPI).ceil(), (h / 72.0 * DPI).ceil());
        if pw * ph > limits.max_pixels as f64 {
            return Err(ScanError::TooManyPixels {
                file: file.to_owned(),
                page: i + 1,
                width: pw.min(u32::MAX as f64) as u32,
                height: ph.min(u32::MAX as f64) as u32,
                limit: limits.max_pixels,
            });
        }
        total += (pw * ph) as u64;
        super::input::check_total(file, i + 1, total, limits)?;
        counted += 1;
    }
    if counted < wanted {
        return Err(fail(format!(
            "pdfinfo gave {counted} of {wanted} page sizes"
        )));
    }

    // One page at a time, each as a PNG on standard output, in colour: the red of a seal
    // is told from the text only there (`clean::grey_without_seals`).
    let mut out = Vec::with_capacity(wanted);
    for number in 1..=wanted {
        let n = number.to_string();
        let png = run(
            Command::new("pdftoppm")
                .args(["-r", "300", "-png", "-singlefile"])
                .args(["-f", &n, "-l", &n])
                .arg(input),
            limits.max_file_bytes,
        )
        .map_err(&fail)?;
        let mut page = super::input::read_single(file, &png, image::ImageFormat::Png, limits)?;
        page.number = number;
        out.push(page);
    }
    drop(copy);
    Ok(out)
}

/// `Page    1 size: 595.276 x 841.89 pts (A4)` → (595.276, 841.89).
fn page_points(line: &str) -> Option<(f64, f64)> {
    let rest = line.split(" size: ").nth(1)?;
    let mut parts = rest.split_whitespace();
    let w = parts.next()?.parse::<f64>().ok()?;
    (parts.next()? == "x").then_some(())?;
    let h = parts.next()?.parse::<f64>().ok()?;
    (w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0).then_some((w, h))
}

/// Run a tool to completion within [`DEADLINE`]; its standard output (at most `max_out`
/// bytes), or why it failed. The output is read while the tool runs, so a large page does
/// not block it on a full pipe.
fn run(cmd: &mut Command, max_out: u64) -> Result<Vec<u8>, String> {
    let name = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name} (poppler-utils) cannot run: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>, max: u64| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                // One byte more than allowed tells an overflow from a fit.
                let _ = p.take(max.saturating_add(1)).read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        max_out,
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        64 * 1024,
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{name} took longer than {DEADLINE:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{name}: {e}"));
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        return Err(format!(
            "{name} failed: {}",
            err.lines().next().unwrap_or("no message")
        ));
    }
    if out.len() as u64 > max_out {
        return Err(format!("{name} wrote more than {max_out} bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::page_points;

    #[test]
    fn page_sizes_are_read_from_pdfinfo_lines() {
        assert_eq!(
            page_points("Page    1 size: 595.276 x 841.89 pts (A4)"),
            Some((595.276, 841.89))
        );
        assert_eq!(page_points("Page    2 size: 0 x 841 pts"), None);
        assert_eq!(page_points("Page size: nonsense"), None);
    }
}
