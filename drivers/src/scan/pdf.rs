//! PDF pages from network scanners, rendered by poppler's `pdftoppm` (Debian
//! `poppler-utils`) at 300 dpi in greyscale.
//!
//! The page count and every page's size are read with `pdfinfo` first, so the page and pixel
//! limits hold before anything is rendered; both tools run with a deadline and are killed
//! past it, so a hostile file cannot hang intake.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::input::{Limits, Page, ScanError};

/// Rendering resolution.
const DPI: f64 = 300.0;
/// Longest either tool may run on one file.
const DEADLINE: Duration = Duration::from_secs(60);

/// Render every page of a PDF held in `bytes`.
pub(crate) fn render(file: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, ScanError> {
    let fail = |message: String| ScanError::Pdf {
        file: file.to_owned(),
        message,
    };
    let dir = tempfile::tempdir().map_err(|e| fail(format!("temporary directory: {e}")))?;
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, bytes).map_err(|e| fail(format!("temporary file: {e}")))?;

    let info = run(Command::new("pdfinfo").arg(&input)).map_err(&fail)?;
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
    let sizes = run(Command::new("pdfinfo")
        .args(["-f", "1", "-l", &pages.to_string()])
        .arg(&input))
    .map_err(&fail)?;
    let page_lines = sizes
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size: "));
    for (i, line) in page_lines.enumerate() {
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
    }

    let prefix = dir.path().join("page");
    run(Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png"])
        .arg(&input)
        .arg(&prefix))
    .map_err(&fail)?;
    let mut rendered: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
        .map_err(|e| fail(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    // pdftoppm numbers pages page-1.png … page-N.png, zero-padded to the width of N.
    rendered.sort();
    let mut out = Vec::with_capacity(rendered.len());
    for (i, path) in rendered.iter().enumerate() {
        let png = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let mut page = super::input::read_bytes(file, &png, limits)?;
        if let Some(mut p) = page.pop() {
            p.number = i + 1;
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(fail("no page rendered".into()));
    }
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

/// Run a tool to completion within [`DEADLINE`]; its stdout, or why it failed.
fn run(cmd: &mut Command) -> Result<String, String> {
    let name = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name} (poppler-utils) cannot run: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{name} took longer than {DEADLINE:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("{name}: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{name}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{name} failed: {}",
            err.lines().next().unwrap_or("no message")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
