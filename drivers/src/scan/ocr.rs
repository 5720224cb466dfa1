//! Tesseract (Debian's libtesseract 5 with the `jpn` model) behind a small API: the words of
//! a page or of a crop, each with its confidence and box, in a chosen page-segmentation mode
//! and with an optional character whitelist.
//!
//! One [`Engine`] per thread (a Tesseract instance is not shareable). Debian's libtesseract
//! uses OpenMP, which thrashes on two cores: run with `OMP_THREAD_LIMIT=1` (the binaries set
//! it at start) and parallelise across pages instead.

use image::GrayImage;
pub use tesseract::PageSegMode;
use tesseract::Tesseract;

/// Why recognition failed.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The engine could not start (model missing?).
    #[error("tesseract could not start with the jpn model: {0}")]
    Init(String),
    /// Recognition failed.
    #[error("tesseract: {0}")]
    Recognise(String),
}

/// A recognised word.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// Its text.
    pub text: String,
    /// Confidence, 0..=1.
    pub conf: f32,
    /// Left, top, width, height in the image given.
    pub bbox: [u32; 4],
    /// (block, paragraph, line) it belongs to.
    pub line: (u32, u32, u32),
}

/// A Tesseract instance with the Japanese model.
pub struct Engine {
    api: Option<Tesseract>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine(tesseract jpn)")
    }
}

impl Engine {
    /// Start Tesseract with the system's `jpn` model.
    pub fn new() -> Result<Engine, OcrError> {
        if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
            tracing::warn!("OMP_THREAD_LIMIT is not set: Tesseract's OpenMP may thrash");
        }
        let api = Tesseract::new(None, Some("jpn")).map_err(|e| OcrError::Init(e.to_string()))?;
        Ok(Engine { api: Some(api) })
    }

    /// The words of `img` (or of the crop `rect` = left, top, width, height of it), read in
    /// `psm`, restricted to `whitelist` when given. Boxes are in `img`'s coordinates.
    pub fn words(
        &mut self,
        img: &GrayImage,
        rect: Option<[u32; 4]>,
        psm: PageSegMode,
        whitelist: Option<&str>,
    ) -> Result<Vec<Word>, OcrError> {
        let err = |e: String| OcrError::Recognise(e);
        // A crop is copied out and handed over alone: Tesseract copies whatever frame it is
        // given, and a field's crop is a hundredth of the page.
        let crop;
        let (img, offset) = match rect {
            Some([l, t, rw, rh]) => {
                let (l, t) = (l.min(img.width()), t.min(img.height()));
                let rw = rw.min(img.width() - l);
                let rh = rh.min(img.height() - t);
                if rw == 0 || rh == 0 {
                    return Ok(Vec::new());
                }
                crop = image::imageops::crop_imm(img, l, t, rw, rh).to_image();
                (&crop, (l, t))
            }
            None => (img, (0, 0)),
        };
        let api = self.api.take().ok_or_else(|| err("engine lost".into()))?;
        let (w, h) = img.dimensions();
        let run = || -> Result<(Tesseract, String), OcrError> {
            let mut api = api
                .set_frame(img.as_raw(), w as i32, h as i32, 1, w as i32)
                .map_err(|e| err(e.to_string()))?
                .set_source_resolution(300)
                .set_variable("tessedit_char_whitelist", whitelist.unwrap_or(""))
                .map_err(|e| err(e.to_string()))?;
            // Japanese text has no spaces between words: keep Tesseract from inventing them.
            api = api
                .set_variable("preserve_interword_spaces", "1")
                .map_err(|e| err(e.to_string()))?;
            api.set_page_seg_mode(psm);
            let mut api = api.recognize().map_err(|e| err(e.to_string()))?;
            let tsv = api.get_tsv_text(0).map_err(|e| err(e.to_string()))?;
            Ok((api, tsv))
        };
        let started = std::time::Instant::now();
        let (api, tsv) = run()?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            ?rect,
            ?psm,
            "recognised"
        );
        self.api = Some(api);
        let mut words = parse_tsv(&tsv);
        for w in &mut words {
            w.bbox[0] += offset.0;
            w.bbox[1] += offset.1;
        }
        Ok(words)
    }
}

/// Level-5 (word) rows of Tesseract's TSV.
fn parse_tsv(tsv: &str) -> Vec<Word> {
    let mut out = Vec::new();
    for row in tsv.lines() {
        let c: Vec<&str> = row.split('\t').collect();
        if c.len() < 12 || c[0] != "5" {
            continue;
        }
        let n = |i: usize| c[i].trim().parse::<i64>().unwrap_or(0).max(0) as u32;
        let text = c[11].trim();
        if text.is_empty() {
            continue;
        }
        let conf = c[10].trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 100.0) / 100.0;
        out.push(Word {
            text: text.to_owned(),
            conf,
            bbox: [n(6), n(7), n(8), n(9)],
            line: (n(2), n(3), n(4)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_word_rows_are_read_and_others_skipped() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t\n\
                   5\t1\t1\t1\t2\t1\t10\t20\t30\t40\t91.5\t児童\n\
                   5\t1\t1\t1\t2\t2\t45\t20\t30\t40\t-1\t \n\
                   5\tbad\n";
        let w = parse_tsv(tsv);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].text, "児童");
        assert_eq!(w[0].bbox, [10, 20, 30, 40]);
        assert_eq!(w[0].line, (1, 1, 2));
        assert!((w[0].conf - 0.915).abs() < 1e-6);
    }
}
