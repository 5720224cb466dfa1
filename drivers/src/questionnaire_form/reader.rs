//! Reading a scanned questionnaire page: fiducials → page transform → QR code → each
//! answer box's ink → each item's answer or a review with its reason.
//!
//! The page is thresholded once (Otsu); the four corner fiducials are the solid,
//! square-ish blobs nearest the image's corners whose spacing and size agree with the
//! layout, which makes the reading independent of scale (150–300 dpi), offset and skew. A
//! projective transform from millimetres to pixels follows from their centres. The QR code
//! is decoded from a crop around where it must be; it names the session, the resident, the
//! page and the language, and so the layout to measure against.
//!
//! Each answer box is first looked for: its printed outline is searched for in a small
//! window around the expected place (local misregistration, paper stretch), and a box whose
//! outline is not found sends its item to review. Then the box's interior (the outline and
//! a margin excluded) is measured twice: the share of dark pixels (ink as dark as the
//! print) and the share of pixels clearly darker than the paper (any mark, even a light
//! one). From these a box is empty, ticked (✓ or ×), filled (cancelled), faint (some mark,
//! too light to trust) or unclear (more than a tick, less than a fill).
//!
//! An item has an answer only when exactly one box is ticked and none is faint or unclear;
//! filled boxes are ignored; nothing marked is unanswered; anything else goes to the nurse
//! with the reason. The thresholds are constants here, tuned on one synthetic corpus and
//! measured on another (docs/benchmarks.md).

use image::GrayImage;
use serde::Serialize;

use super::layout::{self, BOX, BOX_LINE, FIDUCIAL, FIDUCIALS, PageLayout};
use super::print::{FormId, PayloadError};

/// Dark share of a box interior at and above which a box counts as filled, when its
/// cells are also dark all over ([`FILLED_CELLS`]).
pub const FILLED_DARK: f32 = 0.55;
/// Cells (of [`CELLS`]²) at least half dark for a box to count as filled.
pub const FILLED_CELLS: u32 = 14;
/// Dark share at and above which a mark is a tick.
pub const TICK_DARK: f32 = 0.045;
/// Dark share above which a mark is more than a tick: unless filled, it is unclear.
pub const TICK_MAX_DARK: f32 = 0.65;
/// Share of pixels darker than the paper below which a box is empty (with dark share
/// below [`EMPTY_DARK`]).
pub const EMPTY_LIGHT: f32 = 0.01;
/// Dark share below which (with little light ink) a box is empty.
pub const EMPTY_DARK: f32 = 0.012;
/// Share of the expected outline's ink that must be found for the box to count as found.
pub const OUTLINE_MIN: f32 = 0.30;
/// Where between the print's ink (0) and the paper (1) a pixel stops being dark.
pub const DARK_AT: f32 = 0.4;
/// Where between the print's ink (0) and the paper (1) a pixel stops being a light mark.
pub const LIGHT_AT: f32 = 0.78;
/// Side of the grid of cells the interior is split into for the fill test.
pub const CELLS: u32 = 4;
/// How far (mm) around the expected place a box's outline is looked for.
pub const SEARCH_MM: f32 = 1.5;
/// Margin (mm) inside the outline left out of the interior measure.
pub const INTERIOR_MARGIN: f32 = 0.45;

/// Why a page could not be read at all (it goes to review whole).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// The image is too small or too large to be a scanned A4 page.
    #[error("the image is {0}×{1} pixels, not a scanned A4 page (about 1240×1754 to 4960×7016)")]
    Size(u32, u32),
    /// The page is blank or of one tone.
    #[error("the page has no contrast (blank, or not a printed form)")]
    NoContrast,
    /// The four corner squares were not all found.
    #[error("the four corner squares of the form were not found: {0}")]
    Fiducials(String),
    /// No QR code where the form has one.
    #[error("no QR code found on the form (damaged, covered or cut off)")]
    QrNotFound,
    /// A QR code was found but could not be decoded.
    #[error("the QR code could not be decoded")]
    QrUnreadable,
    /// The QR code is not a questionnaire form's, or names something impossible.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The QR code names a page the layout does not have.
    #[error("the QR code names page {page} of {pages}, but the {lang} form has {actual} pages")]
    Layout {
        /// Page named.
        page: u8,
        /// Pages named.
        pages: u8,
        /// The language.
        lang: String,
        /// Pages the layout has.
        actual: usize,
    },
}

impl ReadError {
    /// A stable code for JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Size(..) => "page_size",
            ReadError::NoContrast => "no_contrast",
            ReadError::Fiducials(_) => "fiducials_not_found",
            ReadError::QrNotFound => "qr_not_found",
            ReadError::QrUnreadable => "qr_unreadable",
            ReadError::Payload(_) => "qr_not_a_form",
            ReadError::Layout { .. } => "qr_page_unknown",
        }
    }
}

/// What one box holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxMark {
    /// Nothing.
    Empty,
    /// A tick or a cross.
    Ticked,
    /// Filled in: cancelled.
    Filled,
    /// A light mark: maybe a tick, maybe a smudge.
    Faint,
    /// More ink than a tick, less than a fill (a half-filled box, a scribble).
    Unclear,
    /// The printed outline was not found where the box should be.
    NotFound,
}

/// One box as measured.
#[derive(Debug, Clone, Serialize)]
pub struct BoxRead {
    /// The answer code of the box.
    pub code: &'static str,
    /// What it holds.
    pub mark: BoxMark,
    /// Share of the interior as dark as the print.
    pub dark: f32,
    /// Share of the interior darker than the paper.
    pub light: f32,
    /// Cells of the interior grid at least half dark.
    pub dark_cells: u32,
    /// Share of the expected outline found.
    pub outline: f32,
}

/// Why an item needs the nurse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewReason {
    /// More than one box ticked.
    SeveralTicked,
    /// A light mark that may or may not be a tick.
    Faint,
    /// A box neither ticked nor properly filled.
    Unclear,
    /// A box's outline was not where it should be (the page is damaged or misprinted).
    BoxNotFound,
}

impl ReviewReason {
    /// Japanese for the nurse.
    pub fn label_ja(self) -> &'static str {
        match self {
            ReviewReason::SeveralTicked => "複数の□に✓があります",
            ReviewReason::Faint => "薄い記入があります",
            ReviewReason::Unclear => "判読できない記入があります",
            ReviewReason::BoxNotFound => "□の位置を確認できません",
        }
    }
}

/// What was read for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum ItemOutcome {
    /// Exactly one box ticked, nothing unclear: the answer's code.
    Answer {
        /// The answer code.
        code: &'static str,
    },
    /// No box ticked (filled boxes are cancellations and do not count).
    Unanswered,
    /// The nurse must look.
    Review {
        /// Why.
        reason: ReviewReason,
    },
}

/// One item of a page.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRead {
    /// Its number on the form.
    pub number: u8,
    /// Its item code.
    pub item_code: &'static str,
    /// The outcome.
    pub outcome: ItemOutcome,
    /// Every box as measured.
    pub boxes: Vec<BoxRead>,
}

/// A read page.
#[derive(Debug, Clone)]
pub struct PageRead {
    /// What its QR code says.
    pub id: FormId,
    /// Its items in order.
    pub items: Vec<ItemRead>,
    /// Pixels per millimetre found (about 7.9 at 200 dpi).
    pub px_per_mm: f32,
    /// Rotation of the page found, degrees.
    pub skew_degrees: f32,
}

/// A projective transform (3×3, row major) from mm to pixels.
#[derive(Debug, Clone, Copy)]
struct Homography([f64; 9]);

impl Homography {
    /// The transform taking the four `from` points to the four `to` points.
    fn from_points(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<Homography> {
        // Solve the 8×8 system for h0..h7 (h8 = 1) by Gaussian elimination.
        let mut a = [[0f64; 9]; 8];
        for i in 0..4 {
            let (x, y) = from[i];
            let (u, v) = to[i];
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        for col in 0..8 {
            let pivot = (col..8).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
            if a[pivot][col].abs() < 1e-9 {
                return None;
            }
            a.swap(col, pivot);
            let pivot_row = a[col];
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let f = row[col] / pivot_row[col];
                    for (v, p) in row.iter_mut().zip(pivot_row.iter()).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
        let mut h = [0f64; 9];
        for i in 0..8 {
            h[i] = a[i][8] / a[i][i];
        }
        h[8] = 1.0;
        if h.iter().all(|v| v.is_finite()) {
            Some(Homography(h))
        } else {
            None
        }
    }

    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let h = &self.0;
        let (x, y) = (f64::from(x), f64::from(y));
        let w = h[6] * x + h[7] * y + h[8];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            ((h[0] * x + h[1] * y + h[2]) / w) as f32,
            ((h[3] * x + h[4] * y + h[5]) / w) as f32,
        )
    }
}

/// Summed-area table of a 0/1 mask.
struct Integral {
    w: usize,
    h: usize,
    sum: Vec<u32>,
}

impl Integral {
    fn new(w: usize, h: usize, on: impl Fn(usize) -> bool) -> Integral {
        let mut sum = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row += u32::from(on(y * w + x));
                sum[(y + 1) * (w + 1) + x + 1] = sum[y * (w + 1) + x + 1] + row;
            }
        }
        Integral { w, h, sum }
    }

    /// Count in the rectangle [x0, x1) × [y0, y1), clamped to the image; and its area.
    fn count(&self, x0: i64, y0: i64, x1: i64, y1: i64) -> (u32, u32) {
        let cl = |v: i64, m: usize| v.clamp(0, m as i64) as usize;
        let (x0, x1) = (cl(x0, self.w), cl(x1, self.w));
        let (y0, y1) = (cl(y0, self.h), cl(y1, self.h));
        if x1 <= x0 || y1 <= y0 {
            return (0, 0);
        }
        let s = |x: usize, y: usize| self.sum[y * (self.w + 1) + x];
        let c = s(x1, y1) + s(x0, y0) - s(x0, y1) - s(x1, y0);
        (c, ((x1 - x0) * (y1 - y0)) as u32)
    }

    /// Count in a square of half-side `r` centred at (cx, cy).
    fn square(&self, cx: f32, cy: f32, r: f32) -> (u32, u32) {
        self.count(
            (cx - r).round() as i64,
            (cy - r).round() as i64,
            (cx + r).round() as i64,
            (cy + r).round() as i64,
        )
    }
}

/// A dark blob.
#[derive(Debug, Clone, Copy)]
struct Blob {
    n: u32,
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    sx: f64,
    sy: f64,
}

impl Blob {
    fn centre(&self) -> (f32, f32) {
        (
            (self.sx / f64::from(self.n)) as f32,
            (self.sy / f64::from(self.n)) as f32,
        )
    }
}

/// Solid, square-ish blobs of a plausible fiducial size.
fn fiducial_candidates(ink: &[bool], w: u32, h: u32) -> Vec<Blob> {
    let min_side = (w.min(h) as f32 * 0.012).max(8.0) as u32;
    let max_side = (w.max(h) as f32 * 0.08) as u32;
    // Only the outer bands of the page can hold a fiducial: label those (a quarter of each
    // side), which keeps the labelling cheap and the text out.
    let mut label = vec![0u32; (w * h) as usize];
    let mut blobs: Vec<Blob> = Vec::new();
    let band_x = w / 4;
    let band_y = h / 4;
    let in_band =
        |x: u32, y: u32| (x < band_x || x >= w - band_x) && (y < band_y || y >= h - band_y);
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            if !ink[i] || label[i] != 0 || !in_band(x, y) {
                continue;
            }
            let id = blobs.len() as u32 + 1;
            let mut b = Blob {
                n: 0,
                x0: x,
                y0: y,
                x1: x,
                y1: y,
                sx: 0.0,
                sy: 0.0,
            };
            label[i] = id;
            stack.push((x, y));
            let mut too_big = false;
            while let Some((px, py)) = stack.pop() {
                b.n += 1;
                b.sx += f64::from(px);
                b.sy += f64::from(py);
                b.x0 = b.x0.min(px);
                b.x1 = b.x1.max(px);
                b.y0 = b.y0.min(py);
                b.y1 = b.y1.max(py);
                if b.x1 - b.x0 > max_side * 2 || b.y1 - b.y0 > max_side * 2 {
                    too_big = true;
                }
                let nx0 = px.saturating_sub(1);
                let ny0 = py.saturating_sub(1);
                for ny in ny0..=(py + 1).min(h - 1) {
                    for nx in nx0..=(px + 1).min(w - 1) {
                        let j = (ny * w + nx) as usize;
                        if ink[j] && label[j] == 0 && in_band(nx, ny) {
                            label[j] = id;
                            stack.push((nx, ny));
                        }
                    }
                }
            }
            let bw = b.x1 - b.x0 + 1;
            let bh = b.y1 - b.y0 + 1;
            let fill = b.n as f32 / (bw * bh) as f32;
            let aspect = bw as f32 / bh as f32;
            if !too_big
                && bw >= min_side
                && bh >= min_side
                && bw <= max_side
                && bh <= max_side
                && (0.75..=1.33).contains(&aspect)
                && fill >= 0.7
            {
                blobs.push(b);
            } else {
                // Keep the id space dense enough: a rejected blob's label stays, never reused.
                blobs.push(Blob { n: 0, ..b });
            }
        }
    }
    blobs.into_iter().filter(|b| b.n > 0).collect()
}

/// The four fiducials (TL, TR, BR, BL) and the transform mm → px.
fn locate(ink: &[bool], w: u32, h: u32) -> Result<([Blob; 4], Homography), ReadError> {
    let cands = fiducial_candidates(ink, w, h);
    if cands.len() < 4 {
        return Err(ReadError::Fiducials(format!(
            "{} candidate squares",
            cands.len()
        )));
    }
    let corners = [
        (0.0, 0.0),
        (w as f32, 0.0),
        (w as f32, h as f32),
        (0.0, h as f32),
    ];
    let mut best_per: Vec<Vec<Blob>> = Vec::new();
    for (cx, cy) in corners {
        let mut c: Vec<(f32, Blob)> = cands
            .iter()
            .map(|b| {
                let (x, y) = b.centre();
                ((x - cx).abs() + (y - cy).abs(), *b)
            })
            .collect();
        c.sort_by(|a, b| a.0.total_cmp(&b.0));
        best_per.push(c.into_iter().take(3).map(|(_, b)| b).collect());
    }
    let mm: [(f64, f64); 4] =
        FIDUCIALS.map(|(x, y)| (f64::from(x + FIDUCIAL / 2.0), f64::from(y + FIDUCIAL / 2.0)));
    let mut found: Option<(f32, [Blob; 4], Homography)> = None;
    for a in &best_per[0] {
        for b in &best_per[1] {
            for c in &best_per[2] {
                for d in &best_per[3] {
                    let quad = [*a, *b, *c, *d];
                    let px = quad.map(|q| {
                        let (x, y) = q.centre();
                        (f64::from(x), f64::from(y))
                    });
                    let Some(hm) = Homography::from_points(mm, px) else {
                        continue;
                    };
                    if let Some(score) = plausible(&quad, &hm)
                        && found.as_ref().is_none_or(|f| score < f.0)
                    {
                        found = Some((score, quad, hm));
                    }
                }
            }
        }
    }
    found
        .map(|(_, q, h)| (q, h))
        .ok_or_else(|| ReadError::Fiducials("no four squares in the form's proportions".into()))
}

/// How far from a form's geometry four blobs are (None: not a form).
fn plausible(quad: &[Blob; 4], hm: &Homography) -> Option<f32> {
    let c = quad.map(|q| q.centre());
    let d = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let top = d(c[0], c[1]);
    let bottom = d(c[3], c[2]);
    let left = d(c[0], c[3]);
    let right = d(c[1], c[2]);
    let (ew, eh) = (
        FIDUCIALS[1].0 - FIDUCIALS[0].0,
        FIDUCIALS[3].1 - FIDUCIALS[0].1,
    );
    let sx = (top + bottom) / 2.0 / ew;
    let sy = (left + right) / 2.0 / eh;
    if sx <= 0.0 || sy <= 0.0 {
        return None;
    }
    let aniso = (sx / sy - 1.0).abs();
    let parallel = ((top / bottom) - 1.0).abs() + ((left / right) - 1.0).abs();
    if aniso > 0.06 || parallel > 0.08 {
        return None;
    }
    // Clockwise order TL → TR → BR (image y down): positive cross product.
    let cross = (c[1].0 - c[0].0) * (c[2].1 - c[1].1) - (c[1].1 - c[0].1) * (c[2].0 - c[1].0);
    if cross <= 0.0 {
        return None;
    }
    let mut size_err = 0.0;
    for (i, q) in quad.iter().enumerate() {
        let (mx, my) = (
            FIDUCIALS[i].0 + FIDUCIAL / 2.0,
            FIDUCIALS[i].1 + FIDUCIAL / 2.0,
        );
        let p0 = hm.apply(mx - FIDUCIAL / 2.0, my);
        let p1 = hm.apply(mx + FIDUCIAL / 2.0, my);
        let expect = d(p0, p1);
        let side = (q.n as f32).sqrt();
        let r = side / expect;
        if !(0.7..=1.35).contains(&r) {
            return None;
        }
        size_err += (r - 1.0).abs();
    }
    Some(aniso + parallel + size_err)
}

/// Decode the QR code from the area where the layout puts it.
fn read_qr(img: &GrayImage, hm: &Homography, ink_level: u8) -> Result<FormId, ReadError> {
    let (qx, qy, qs) = layout::QR;
    let m = 5.0;
    let pts = [
        hm.apply(qx - m, qy - m),
        hm.apply(qx + qs + m, qy - m),
        hm.apply(qx + qs + m, qy + qs + m),
        hm.apply(qx - m, qy + qs + m),
    ];
    let (w, h) = img.dimensions();
    let x0 = pts.iter().map(|p| p.0).fold(f32::MAX, f32::min).max(0.0) as u32;
    let y0 = pts.iter().map(|p| p.1).fold(f32::MAX, f32::min).max(0.0) as u32;
    let x1 = (pts.iter().map(|p| p.0).fold(f32::MIN, f32::max).max(0.0) as u32).min(w);
    let y1 = (pts.iter().map(|p| p.1).fold(f32::MIN, f32::max).max(0.0) as u32).min(h);
    if x1 <= x0 + 16 || y1 <= y0 + 16 {
        return Err(ReadError::QrNotFound);
    }
    let crop = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
    // Tried in turn: as scanned; thresholded; median-filtered (specks, JPEG noise);
    // halved (high resolutions with noise).
    let binarised = |g: &GrayImage| {
        let mut b = g.clone();
        for p in b.pixels_mut() {
            p.0[0] = if p.0[0] <= ink_level { 0 } else { 255 };
        }
        b
    };
    let median = imageproc::filter::median_filter(&crop, 1, 1);
    let half = image::imageops::resize(
        &crop,
        crop.width() / 2,
        crop.height() / 2,
        image::imageops::FilterType::Triangle,
    );
    let attempts = [crop.clone(), binarised(&crop), binarised(&median), half];
    let mut seen_grid = false;
    let mut last_payload_err = None;
    for g in attempts.iter() {
        if g.width() < 16 || g.height() < 16 {
            continue;
        }
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
            g.width() as usize,
            g.height() as usize,
            |x, y| g.get_pixel(x as u32, y as u32).0[0],
        );
        for grid in prepared.detect_grids() {
            seen_grid = true;
            if let Ok((_, text)) = grid.decode() {
                match FormId::decode(&text) {
                    Ok(id) => return Ok(id),
                    Err(e) => last_payload_err = Some(e),
                }
            }
        }
    }
    if let Some(e) = last_payload_err {
        return Err(ReadError::Payload(e));
    }
    if seen_grid {
        Err(ReadError::QrUnreadable)
    } else {
        Err(ReadError::QrNotFound)
    }
}

/// Classify one box from its measures.
pub fn classify(dark: f32, light: f32, dark_cells: u32, outline: f32) -> BoxMark {
    if outline < OUTLINE_MIN {
        return BoxMark::NotFound;
    }
    if dark >= FILLED_DARK && dark_cells >= FILLED_CELLS {
        return BoxMark::Filled;
    }
    if dark > TICK_MAX_DARK {
        return BoxMark::Unclear;
    }
    if dark >= TICK_DARK {
        return BoxMark::Ticked;
    }
    if dark < EMPTY_DARK && light < EMPTY_LIGHT {
        return BoxMark::Empty;
    }
    BoxMark::Faint
}

/// An item's outcome from its boxes' marks.
pub fn decide(boxes: &[(&'static str, BoxMark)]) -> ItemOutcome {
    let count = |m: BoxMark| boxes.iter().filter(|b| b.1 == m).count();
    if count(BoxMark::NotFound) > 0 {
        return ItemOutcome::Review {
            reason: ReviewReason::BoxNotFound,
        };
    }
    if count(BoxMark::Unclear) > 0 {
        return ItemOutcome::Review {
            reason: ReviewReason::Unclear,
        };
    }
    let ticked = count(BoxMark::Ticked);
    if ticked > 1 {
        return ItemOutcome::Review {
            reason: ReviewReason::SeveralTicked,
        };
    }
    if count(BoxMark::Faint) > 0 {
        return ItemOutcome::Review {
            reason: ReviewReason::Faint,
        };
    }
    match boxes.iter().find(|b| b.1 == BoxMark::Ticked) {
        Some((code, _)) => ItemOutcome::Answer { code },
        None => ItemOutcome::Unanswered,
    }
}

/// Measures of one box: (dark share, light share, dark cells, outline share).
fn measure(
    dark: &Integral,
    light: &Integral,
    hm: &Homography,
    centre: (f32, f32),
) -> (f32, f32, u32, f32) {
    let (cx, cy) = centre;
    let p = hm.apply(cx, cy);
    let px = hm.apply(cx + 0.5, cy);
    let mx = hm.apply(cx - 0.5, cy);
    let s = ((px.0 - mx.0).powi(2) + (px.1 - mx.1).powi(2))
        .sqrt()
        .max(1.0);
    let half = BOX / 2.0 * s;
    let outer = half + 0.3 * s;
    let inner = half - BOX_LINE * s - 0.3 * s;
    let expected_stroke = 4.0 * (BOX * s) * (BOX_LINE * s);
    let r = (SEARCH_MM * s).round() as i32;
    let mut best = (0i64, p);
    for dy in -r..=r {
        for dx in -r..=r {
            let q = (p.0 + dx as f32, p.1 + dy as f32);
            let (o, _) = dark.square(q.0, q.1, outer);
            let (i, _) = dark.square(q.0, q.1, inner);
            let ring = i64::from(o) - i64::from(i);
            // Prefer the nearest of equal rings.
            if ring > best.0 || (ring == best.0 && dx == 0 && dy == 0) {
                best = (ring, q);
            }
        }
    }
    let outline = best.0 as f32 / expected_stroke;
    let q = best.1;
    let ir = half - BOX_LINE * s - INTERIOR_MARGIN * s;
    let (dn, area) = dark.square(q.0, q.1, ir);
    let (ln, _) = light.square(q.0, q.1, ir);
    if area == 0 {
        return (0.0, 0.0, 0, 0.0);
    }
    let cell = 2.0 * ir / CELLS as f32;
    let mut cells = 0;
    for j in 0..CELLS {
        for i in 0..CELLS {
            let x0 = q.0 - ir + i as f32 * cell;
            let y0 = q.1 - ir + j as f32 * cell;
            let (c, a) = dark.count(
                x0.round() as i64,
                y0.round() as i64,
                (x0 + cell).round() as i64,
                (y0 + cell).round() as i64,
            );
            if a > 0 && c * 2 >= a {
                cells += 1;
            }
        }
    }
    (
        dn as f32 / area as f32,
        ln as f32 / area as f32,
        cells,
        outline,
    )
}

/// Read one scanned page of the questionnaire.
pub fn read_page(img: &GrayImage) -> Result<PageRead, ReadError> {
    let (w, h) = img.dimensions();
    if w < 600 || h < 800 || u64::from(w) * u64::from(h) > 60_000_000 {
        return Err(ReadError::Size(w, h));
    }
    let level = imageproc::contrast::otsu_level(img);
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[p.0[0] as usize] += 1;
    }
    let mean = |r: std::ops::RangeInclusive<usize>| {
        let (mut n, mut s) = (0u64, 0u64);
        for v in r {
            n += hist[v];
            s += hist[v] * v as u64;
        }
        if n == 0 {
            None
        } else {
            Some(s as f32 / n as f32)
        }
    };
    let (Some(ink_mean), Some(paper)) = (mean(0..=level as usize), mean(level as usize + 1..=255))
    else {
        return Err(ReadError::NoContrast);
    };
    if paper - ink_mean < 40.0 {
        return Err(ReadError::NoContrast);
    }
    // Box interiors count as dark only what is near the print's own darkness, so a light
    // mark stays light on a page printed pale (Otsu alone would call it ink).
    let dark_level = (ink_mean + (paper - ink_mean) * DARK_AT)
        .round()
        .clamp(0.0, 255.0) as u8;
    let light_level = (ink_mean + (paper - ink_mean) * LIGHT_AT)
        .round()
        .clamp(0.0, 255.0) as u8;
    let raw = img.as_raw();
    let ink: Vec<bool> = raw.iter().map(|v| *v <= level).collect();
    let (_fids, hm) = locate(&ink, w, h)?;
    let id = read_qr(img, &hm, level)?;
    let form = layout::cached(id.lang);
    if usize::from(id.pages) != form.pages.len() || usize::from(id.page) > form.pages.len() {
        return Err(ReadError::Layout {
            page: id.page,
            pages: id.pages,
            lang: id.lang.tag().into(),
            actual: form.pages.len(),
        });
    }
    let page: &PageLayout = &form.pages[usize::from(id.page) - 1];
    let (wu, hu) = (w as usize, h as usize);
    let dark = Integral::new(wu, hu, |i| raw[i] <= dark_level);
    let light = Integral::new(wu, hu, |i| raw[i] <= light_level);
    let mut items = Vec::with_capacity(page.items.len());
    for it in &page.items {
        let mut boxes = Vec::with_capacity(it.boxes.len());
        for b in &it.boxes {
            let (d, l, cells, outline) = measure(&dark, &light, &hm, b.centre());
            boxes.push(BoxRead {
                code: b.code,
                mark: classify(d, l, cells, outline),
                dark: d,
                light: l,
                dark_cells: cells,
                outline,
            });
        }
        let marks: Vec<(&'static str, BoxMark)> = boxes.iter().map(|b| (b.code, b.mark)).collect();
        items.push(ItemRead {
            number: it.number,
            item_code: it.item_code,
            outcome: decide(&marks),
            boxes,
        });
    }
    let a = hm.apply(100.0, 150.0);
    let b = hm.apply(101.0, 150.0);
    let px_per_mm = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let skew_degrees = (b.1 - a.1).atan2(b.0 - a.0).to_degrees();
    Ok(PageRead {
        id,
        items,
        px_per_mm,
        skew_degrees,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_protocol::questionnaire::Lang;
    use proptest::prelude::*;

    #[test]
    fn decisions() {
        use BoxMark::*;
        assert_eq!(
            decide(&[("1", Ticked), ("2", Empty)]),
            ItemOutcome::Answer { code: "1" }
        );
        assert_eq!(
            decide(&[("1", Filled), ("2", Ticked)]),
            ItemOutcome::Answer { code: "2" }
        );
        assert_eq!(
            decide(&[("1", Empty), ("2", Empty)]),
            ItemOutcome::Unanswered
        );
        assert_eq!(
            decide(&[("1", Filled), ("2", Empty)]),
            ItemOutcome::Unanswered
        );
        assert_eq!(
            decide(&[("1", Ticked), ("2", Ticked)]),
            ItemOutcome::Review {
                reason: ReviewReason::SeveralTicked
            }
        );
        assert_eq!(
            decide(&[("1", Ticked), ("2", Faint)]),
            ItemOutcome::Review {
                reason: ReviewReason::Faint
            }
        );
        assert_eq!(
            decide(&[("1", Unclear), ("2", Empty)]),
            ItemOutcome::Review {
                reason: ReviewReason::Unclear
            }
        );
        assert_eq!(
            decide(&[("1", Ticked), ("2", NotFound)]),
            ItemOutcome::Review {
                reason: ReviewReason::BoxNotFound
            }
        );
    }

    #[test]
    fn blank_and_tiny_pages_are_refused() {
        assert_eq!(
            read_page(&GrayImage::from_pixel(1240, 1754, image::Luma([250]))).unwrap_err(),
            ReadError::NoContrast
        );
        assert!(matches!(
            read_page(&GrayImage::new(10, 10)).unwrap_err(),
            ReadError::Size(10, 10)
        ));
    }

    #[test]
    fn homography_maps_its_points() {
        let from = [(0.0, 0.0), (10.0, 0.0), (10.0, 20.0), (0.0, 20.0)];
        let to = [(5.0, 7.0), (105.0, 9.0), (101.0, 209.0), (1.0, 207.0)];
        let h = Homography::from_points(from, to).expect("homography of four corners");
        for (f, t) in from.iter().zip(to) {
            let p = h.apply(f.0 as f32, f.1 as f32);
            assert!((p.0 as f64 - t.0).abs() < 1e-3 && (p.1 as f64 - t.1).abs() < 1e-3);
        }
    }

    fn id(lang: Lang, page: u8) -> FormId {
        FormId {
            session: "s-1".into(),
            resident: "0000000042".into(),
            page,
            pages: super::super::raster::pages(lang),
            lang,
        }
    }

    #[test]
    fn reads_a_raster_page() {
        use super::super::raster::{Pen, page};
        let lang = Lang::En;
        let first = &layout::cached(lang).pages[0].items;
        let (a, b, c) = (&first[0], &first[1], &first[2]);
        let marks = [
            (a.item_code, "2", Pen::Tick),
            (b.item_code, "1", Pen::Fill),
            (b.item_code, "2", Pen::Tick),
            (c.item_code, "1", Pen::Faint),
        ];
        let img = page(&id(lang, 1), 200.0, &marks).expect("page drawn");
        let read = read_page(&img).expect("page read");
        assert_eq!(read.id, id(lang, 1));
        assert_eq!(read.items[0].outcome, ItemOutcome::Answer { code: "2" });
        assert_eq!(read.items[1].outcome, ItemOutcome::Answer { code: "2" });
        assert_eq!(
            read.items[2].outcome,
            ItemOutcome::Review {
                reason: ReviewReason::Faint
            }
        );
        assert!(
            read.items[3..]
                .iter()
                .all(|i| i.outcome == ItemOutcome::Unanswered)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]
        /// Rotated ±5°, scaled 150–300 dpi and shifted, a ticked page reads the same.
        #[test]
        fn skew_scale_offset(deg in -5f32..5.0, dpi in 150f32..300.0, dx in -40i64..40, dy in -40i64..40, pick in 0usize..2) {
            use super::super::raster::{Pen, page};
            use imageproc::geometric_transformations::{Interpolation, rotate_about_center};
            let lang = Lang::Ja;
            let items = &layout::cached(lang).pages[0].items;
            let codes = ["1", "2"];
            let marks: Vec<(&str, &str, Pen)> = items.iter().take(6).map(|i| (i.item_code, codes[pick], Pen::Tick)).collect();
            let img = page(&id(lang, 1), dpi, &marks).expect("page drawn");
            let (w, h) = img.dimensions();
            let mut big = GrayImage::from_pixel(w + 100, h + 100, image::Luma([250]));
            image::imageops::overlay(&mut big, &img, 50 + dx, 50 + dy);
            let rotated = rotate_about_center(&big, deg.to_radians(), Interpolation::Bilinear, image::Luma([250]));
            let read = read_page(&rotated).expect("rotated page read");
            for it in read.items.iter().take(6) {
                prop_assert_eq!(&it.outcome, &ItemOutcome::Answer { code: codes[pick] });
            }
            for it in read.items.iter().skip(6) {
                prop_assert_eq!(&it.outcome, &ItemOutcome::Unanswered);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// Any image: an error or a page, never a panic.
        #[test]
        fn any_image_no_panic(w in 1u32..900, h in 1u32..1200, seed in any::<u64>(), blobs in 0usize..30) {
            let mut img = GrayImage::from_pixel(w, h, image::Luma([240]));
            let mut s = seed | 1;
            for _ in 0..blobs {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                let x = (s % u64::from(w)) as u32;
                let y = ((s >> 20) % u64::from(h)) as u32;
                let side = ((s >> 40) % 80) as u32 + 1;
                for yy in y..(y + side).min(h) {
                    for xx in x..(x + side).min(w) {
                        img.put_pixel(xx, yy, image::Luma([10]));
                    }
                }
            }
            let _ = read_page(&img);
        }

        /// Classification is total and monotone in ink: more dark ink never turns a tick
        /// back into empty.
        #[test]
        fn classify_total(d in 0f32..1.0, l in 0f32..1.0, cells in 0u32..=16, o in 0f32..2.0) {
            let m = classify(d, l.max(d), cells, o);
            if o >= OUTLINE_MIN && d >= TICK_DARK {
                prop_assert_ne!(m, BoxMark::Empty);
            }
            if o < OUTLINE_MIN {
                prop_assert_eq!(m, BoxMark::NotFound);
            }
        }

        /// An answer is only ever given when exactly one box is ticked and nothing is
        /// faint, unclear or missing.
        #[test]
        fn decide_never_guesses(marks in proptest::collection::vec(0u8..6, 2..9)) {
            let codes = ["1", "2", "3", "4", "5", "6", "7", "8"];
            let all = [BoxMark::Empty, BoxMark::Ticked, BoxMark::Filled, BoxMark::Faint, BoxMark::Unclear, BoxMark::NotFound];
            let boxes: Vec<(&'static str, BoxMark)> = marks.iter().enumerate().map(|(i, m)| (codes[i], all[*m as usize])).collect();
            let out = decide(&boxes);
            if let ItemOutcome::Answer { code } = out {
                let ticked: Vec<_> = boxes.iter().filter(|b| b.1 == BoxMark::Ticked).collect();
                prop_assert_eq!(ticked.len(), 1);
                prop_assert_eq!(ticked[0].0, code);
                prop_assert!(boxes.iter().all(|b| matches!(b.1, BoxMark::Empty | BoxMark::Ticked | BoxMark::Filled)));
            }
        }
    }
}
