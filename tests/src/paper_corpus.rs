//! A synthetic corpus of filled-in paper questionnaires with ground truth, made the way a
//! real one is: the box's printable HTML printed to PDF by headless Chromium, rendered by
//! `pdftoppm`, marked and degraded.
//!
//! Two independent ways of making marks, so the reader is tuned on one and measured on
//! the other:
//! - set `a` (tuning): strokes stamped into the rendered image (discs along polylines),
//!   then rotation, shift, scale, Gaussian noise, blur and light print, at 200 dpi, PNG;
//! - set `b` (held out): marks drawn as SVG paths into the HTML before printing (so the
//!   browser's own anti-aliasing draws them), rendered at 150, 200 or 300 dpi, then a
//!   perspective warp, salt-and-pepper noise, gamma and JPEG compression.
//!
//! Truth per item: the answer code, `unanswered`, or `ambiguous` (must go to review).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use checkup_drivers::questionnaire_form::layout::{self, BOX};
use checkup_drivers::questionnaire_form::print::{PrintPage, document};
use checkup_protocol::questionnaire::Lang;
use image::{GrayImage, Luma};
use serde::{Deserialize, Serialize};

use crate::Rng;

/// One page's truth.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageTruth {
    /// Image file name in the corpus folder.
    pub file: String,
    /// Session in the QR code.
    pub session: String,
    /// Page number.
    pub page: u8,
    /// Language tag.
    pub lang: String,
    /// Item code → answer code, `unanswered` or `ambiguous`.
    pub items: BTreeMap<String, String>,
    /// Render resolution.
    pub dpi: u32,
}

/// What the corpus generation cost.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    /// Chromium printing the HTML, seconds.
    pub print_s: f64,
    /// pdftoppm rendering, seconds.
    pub render_s: f64,
    /// Pages rendered.
    pub pages: usize,
}

/// A mark to make in a box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    /// A check (✓) in dark ink; `heavy` is a thick pen.
    Check {
        /// A thick, dark pen (else a thin one, lighter).
        heavy: bool,
    },
    /// A cross (×).
    Cross {
        /// A thick, dark pen (else a thin one, lighter).
        heavy: bool,
    },
    /// A light, thin tick (pencil pressed lightly): ambiguous.
    Faint,
    /// Filled in (cancelled).
    Fill,
}

/// Rf in [lo, hi).
fn uni(r: &mut Rng, lo: f32, hi: f32) -> f32 {
    lo + (r.below(1_000_000) as f32 / 1_000_000.0) * (hi - lo)
}

/// Choose one item's marks and truth.
fn scenario(r: &mut Rng, codes: &[&'static str]) -> (Vec<(usize, Mark)>, String) {
    let n = codes.len();
    let pick = |r: &mut Rng| r.below(n as u64) as usize;
    let other = |r: &mut Rng, not: usize| (not + 1 + r.below(n as u64 - 1) as usize) % n;
    let tick = |r: &mut Rng| {
        let heavy = r.below(3) == 0;
        if r.below(4) == 0 {
            Mark::Cross { heavy }
        } else {
            Mark::Check { heavy }
        }
    };
    let roll = r.below(100);
    if roll < 62 {
        let a = pick(r);
        (vec![(a, tick(r))], codes[a].to_string())
    } else if roll < 74 {
        let a = pick(r);
        let b = other(r, a);
        (vec![(b, Mark::Fill), (a, tick(r))], codes[a].to_string())
    } else if roll < 82 {
        (vec![], "unanswered".into())
    } else if roll < 89 {
        let a = pick(r);
        let b = other(r, a);
        (vec![(a, tick(r)), (b, tick(r))], "ambiguous".into())
    } else if roll < 95 {
        let a = pick(r);
        (vec![(a, Mark::Faint)], "ambiguous".into())
    } else {
        let a = pick(r);
        let b = other(r, a);
        (vec![(a, tick(r)), (b, Mark::Faint)], "ambiguous".into())
    }
}

/// Stroke shapes in box coordinates (0..1 over the box), with pen width (mm) and grey.
fn shape(r: &mut Rng, m: Mark) -> (Vec<Vec<(f32, f32)>>, f32, u8) {
    let j = |r: &mut Rng| uni(r, -0.08, 0.08);
    match m {
        Mark::Check { heavy } | Mark::Cross { heavy } => {
            let w = if heavy {
                uni(r, 0.7, 1.0)
            } else {
                uni(r, 0.35, 0.55)
            };
            let g = if heavy {
                r.range(0, 50) as u8
            } else {
                r.range(30, 95) as u8
            };
            let s = uni(r, 0.8, 1.25);
            let (ox, oy) = (uni(r, -0.12, 0.12), uni(r, -0.12, 0.12));
            let p = |x: f32, y: f32| (0.5 + (x - 0.5) * s + ox, 0.5 + (y - 0.5) * s + oy);
            let strokes = if matches!(m, Mark::Check { .. }) {
                vec![vec![
                    p(0.15 + j(r), 0.5 + j(r)),
                    p(0.42 + j(r), 0.8 + j(r)),
                    p(0.9 + j(r), 0.05 + j(r)),
                ]]
            } else {
                vec![
                    vec![p(0.15 + j(r), 0.15 + j(r)), p(0.85 + j(r), 0.85 + j(r))],
                    vec![p(0.85 + j(r), 0.15 + j(r)), p(0.15 + j(r), 0.85 + j(r))],
                ]
            };
            (strokes, w, g)
        }
        Mark::Faint => {
            let s = uni(r, 0.6, 1.0);
            let p = |x: f32, y: f32| (0.5 + (x - 0.5) * s, 0.5 + (y - 0.5) * s);
            (
                vec![vec![p(0.2, 0.55), p(0.45, 0.8), p(0.85, 0.15)]],
                uni(r, 0.25, 0.4),
                r.range(150, 190) as u8,
            )
        }
        Mark::Fill => {
            // Zig-zag scribble over the whole box, dense enough to cover it.
            let w = uni(r, 0.8, 1.1);
            let mut pts = Vec::new();
            let rows = 9;
            for i in 0..=rows {
                let y = 0.02 + 0.96 * i as f32 / rows as f32;
                let (a, b) = if i % 2 == 0 {
                    (0.02, 0.98)
                } else {
                    (0.98, 0.02)
                };
                pts.push((a + j(r) * 0.3, y));
                pts.push((b + j(r) * 0.3, y + 0.05));
            }
            (vec![pts], w, r.range(0, 60) as u8)
        }
    }
}

/// Stamp a stroke (discs along the polyline) into `img`, darkening only.
fn stamp(img: &mut GrayImage, pts: &[(f32, f32)], width: f32, grey: u8) {
    let rad = (width / 2.0).max(0.5);
    let (w, h) = img.dimensions();
    for seg in pts.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let steps = (len / (rad * 0.5)).ceil().max(1.0) as usize;
        for s in 0..=steps {
            let t = s as f32 / steps as f32;
            let (cx, cy) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            let x0 = (cx - rad - 1.0).floor().max(0.0) as u32;
            let y0 = (cy - rad - 1.0).floor().max(0.0) as u32;
            let x1 = ((cx + rad + 1.0).ceil() as u32).min(w.saturating_sub(1));
            let y1 = ((cy + rad + 1.0).ceil() as u32).min(h.saturating_sub(1));
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                    let cover = (rad + 0.5 - d).clamp(0.0, 1.0);
                    if cover > 0.0 {
                        let px = img.get_pixel_mut(x, y);
                        let v = f32::from(px.0[0]);
                        let nv = v - (v - f32::from(grey)) * cover;
                        px.0[0] = nv.min(v) as u8;
                    }
                }
            }
        }
    }
}

/// Marks of one page: (box top-left mm, mark).
type PageMarks = Vec<((f32, f32), Mark)>;

/// Decide every item of every page of a form.
fn plan(r: &mut Rng, lang: Lang) -> (Vec<PageMarks>, Vec<BTreeMap<String, String>>) {
    let form = layout::cached(lang);
    let mut marks = Vec::new();
    let mut truths = Vec::new();
    for p in &form.pages {
        let mut pm = Vec::new();
        let mut t = BTreeMap::new();
        for it in &p.items {
            let codes: Vec<&'static str> = it.boxes.iter().map(|b| b.code).collect();
            let (ms, truth) = scenario(r, &codes);
            for (i, m) in ms {
                let b = &it.boxes[i];
                pm.push(((b.x, b.y), m));
            }
            t.insert(it.item_code.to_string(), truth);
        }
        marks.push(pm);
        truths.push(t);
    }
    (marks, truths)
}

/// SVG of a page's marks in mm (set b).
fn svg_marks(r: &mut Rng, marks: &PageMarks) -> String {
    let mut s = String::new();
    for ((bx, by), m) in marks {
        let (strokes, w, g) = shape(r, *m);
        let colour = format!("#{g:02x}{g:02x}{:02x}", g.saturating_add(30));
        for st in strokes {
            let mut d = String::new();
            for (i, (x, y)) in st.iter().enumerate() {
                let (px, py) = (bx + x * BOX, by + y * BOX);
                if i == 0 {
                    d.push_str(&format!("M{px:.2} {py:.2}"));
                } else if st.len() == 3 && i == 1 {
                    // A slightly curved first leg of a check.
                    d.push_str(&format!(
                        " Q{:.2} {:.2} {px:.2} {py:.2}",
                        px - 0.4,
                        py - 0.6
                    ));
                } else {
                    d.push_str(&format!(" L{px:.2} {py:.2}"));
                }
            }
            s.push_str(&format!(
                "<path d=\"{d}\" stroke=\"{colour}\" stroke-width=\"{w:.2}\" fill=\"none\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>"
            ));
        }
    }
    s
}

/// Draw a page's marks into the rendered image (set a).
fn draw_marks(r: &mut Rng, img: &mut GrayImage, marks: &PageMarks, dpi: u32) {
    for (b, m) in marks {
        draw_mark(r, img, *b, *m, dpi);
    }
}

/// Draw one mark into the box whose top-left corner is at `b` (mm) of a page rendered at
/// `dpi`, as set a does (strokes stamped into the image, jittered by `r`).
pub fn draw_mark(r: &mut Rng, img: &mut GrayImage, b: (f32, f32), m: Mark, dpi: u32) {
    let s = dpi as f32 / 25.4;
    let (bx, by) = b;
    let (strokes, w, g) = shape(r, m);
    for st in strokes {
        let pts: Vec<(f32, f32)> = st
            .iter()
            .map(|(x, y)| ((bx + x * BOX) * s, (by + y * BOX) * s))
            .collect();
        stamp(img, &pts, w * s, g);
    }
}

/// Gaussian-ish noise: sum of uniforms.
fn gauss(r: &mut Rng) -> f32 {
    let v = r.below(1 << 32);
    let parts = [
        v & 0xff,
        (v >> 8) & 0xff,
        (v >> 16) & 0xff,
        (v >> 24) & 0xff,
    ];
    (parts.iter().map(|p| *p as f32 / 127.5 - 1.0).sum::<f32>()) * 0.866
}

/// How a scan degrades a page (set a's kinds of damage).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scan {
    /// Skew, degrees.
    pub angle_deg: f32,
    /// Scale (1 is the page's size).
    pub scale: f32,
    /// Shift on the scanner's bed, pixels.
    pub shift: (f32, f32),
    /// Gaussian blur sigma, pixels (none below 0.3).
    pub blur: f32,
    /// Share of the ink's darkness kept (light print below 1).
    pub light: f32,
    /// Noise, grey levels (about one standard deviation).
    pub noise: f32,
}

/// Set a's degradation: rotation, scale, shift, noise, blur, light print.
fn degrade_a(r: &mut Rng, img: &GrayImage) -> GrayImage {
    let angle_deg = uni(r, -3.0, 3.0);
    let scale = uni(r, 0.92, 1.08);
    let shift = (uni(r, -25.0, 25.0), uni(r, -25.0, 25.0));
    let blur = uni(r, 0.0, 1.2);
    let light = uni(r, 0.7, 1.0);
    let noise = uni(r, 0.0, 10.0);
    let sc = Scan {
        angle_deg,
        scale,
        shift,
        blur,
        light,
        noise,
    };
    scan(r, img, &sc)
}

/// A page as scanned with `sc`: placed on a bed 12 % larger, skewed, scaled, shifted,
/// blurred, lightened and noisy (the noise drawn from `r`).
pub fn scan(r: &mut Rng, img: &GrayImage, sc: &Scan) -> GrayImage {
    use imageproc::geometric_transformations::{Interpolation, Projection};
    let (w, h) = img.dimensions();
    let angle = sc.angle_deg.to_radians();
    let scale = sc.scale;
    let (tx, ty) = sc.shift;
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    // The scanner's bed is larger than the page: the page lands somewhere on it, whole.
    let (ow, oh) = ((w as f32 * 1.12) as u32, (h as f32 * 1.12) as u32);
    let (ocx, ocy) = (ow as f32 / 2.0, oh as f32 / 2.0);
    let p = Projection::translate(ocx + tx, ocy + ty)
        * Projection::rotate(angle)
        * Projection::scale(scale, scale)
        * Projection::translate(-cx, -cy);
    let mut out = GrayImage::from_pixel(ow, oh, Luma([255]));
    imageproc::geometric_transformations::warp_into(
        img,
        &p,
        Interpolation::Bilinear,
        Luma([255]),
        &mut out,
    );
    let sigma = sc.blur;
    if sigma > 0.3 {
        out = imageproc::filter::gaussian_blur_f32(&out, sigma);
    }
    let k = sc.light;
    let noise = sc.noise;
    for px in out.pixels_mut() {
        let v = 255.0 - (255.0 - f32::from(px.0[0])) * k + gauss(r) * noise;
        px.0[0] = v.clamp(0.0, 255.0) as u8;
    }
    out
}

/// Set b's degradation: keystone + rotation by a perspective warp (nearest), gamma,
/// salt and pepper.
fn degrade_b(r: &mut Rng, img: &GrayImage) -> GrayImage {
    use imageproc::geometric_transformations::{Interpolation, Projection};
    let (w, h) = img.dimensions();
    let (wf, hf) = (w as f32, h as f32);
    let a = uni(r, -3.0, 3.0).to_radians();
    let mut rot = |x: f32, y: f32| {
        let (dx, dy) = (x - wf / 2.0, y - hf / 2.0);
        (
            wf / 2.0 + dx * a.cos() - dy * a.sin() + uni(r, -0.012, 0.012) * wf,
            hf / 2.0 + dx * a.sin() + dy * a.cos() + uni(r, -0.012, 0.012) * hf,
        )
    };
    let from = [(0.0, 0.0), (wf, 0.0), (wf, hf), (0.0, hf)];
    let to = from.map(|(x, y)| rot(x, y));
    let Some(p) = Projection::from_control_points(from, to) else {
        return img.clone();
    };
    // A bed a little larger than the page, as from a flatbed scanner.
    let (ow, oh) = ((wf * 1.06) as u32, (hf * 1.06) as u32);
    let p = Projection::translate(wf * 0.03, hf * 0.03) * p;
    let mut out = GrayImage::from_pixel(ow, oh, Luma([250]));
    imageproc::geometric_transformations::warp_into(
        img,
        &p,
        Interpolation::Nearest,
        Luma([250]),
        &mut out,
    );
    let gamma = uni(r, 0.7, 1.5);
    let pepper = uni(r, 0.0, 0.004);
    let floor = uni(r, 0.0, 40.0);
    for px in out.pixels_mut() {
        let v = f32::from(px.0[0]) / 255.0;
        let mut v = floor + v.powf(gamma) * (255.0 - floor);
        let roll = uni(r, 0.0, 1.0);
        if roll < pepper / 2.0 {
            v = 0.0;
        } else if roll < pepper {
            v = 255.0;
        }
        px.0[0] = v.clamp(0.0, 255.0) as u8;
    }
    out
}

/// Print an HTML file to PDF with headless Chromium.
pub fn print_pdf(html: &Path, pdf: &Path) -> anyhow::Result<()> {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
        ])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .context("chromium")?;
    anyhow::ensure!(
        pdf.exists(),
        "chromium printed nothing: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Render pages `first..=last` of a PDF in grey at `dpi` into `prefix-N.png`; returns the
/// files in page order.
pub fn render(
    pdf: &Path,
    dpi: u32,
    first: usize,
    last: usize,
    prefix: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let out = Command::new("pdftoppm")
        .args(["-gray", "-png", "-r", &dpi.to_string()])
        .args(["-f", &first.to_string(), "-l", &last.to_string()])
        .arg(pdf)
        .arg(prefix)
        .output()
        .context("pdftoppm")?;
    anyhow::ensure!(
        out.status.success(),
        "pdftoppm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = prefix.parent().context("prefix")?;
    let stem = prefix
        .file_name()
        .context("prefix")?
        .to_string_lossy()
        .into_owned();
    let mut files: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix(&format!("{stem}-"))?
                .strip_suffix(".png")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// Write `forms` filled-in forms of set `set` (`a` or `b`) into `dir` with `truth.jsonl`.
pub fn generate(
    dir: &Path,
    forms: usize,
    seed: u64,
    set: &str,
) -> anyhow::Result<(Vec<PageTruth>, Timing)> {
    anyhow::ensure!(set == "a" || set == "b", "set is a or b");
    std::fs::create_dir_all(dir)?;
    let work = tempfile::tempdir()?;
    let mut r = Rng::new(seed);
    let mut pages = Vec::new();
    let mut plans = Vec::new();
    for i in 0..forms {
        let lang = Lang::ALL[r.below(Lang::ALL.len() as u64) as usize];
        let session = format!("s{seed}-{i:04}");
        let (marks, truths) = plan(&mut r, lang);
        let mut pp = PrintPage::form(&session, &format!("R{seed}{i:04}"), lang);
        if set == "b" {
            for (p, m) in pp.iter_mut().zip(&marks) {
                p.overlay = svg_marks(&mut r, m);
            }
        }
        plans.push((lang, session, marks, truths, pp.len()));
        pages.extend(pp);
    }
    let html = work.path().join("forms.html");
    std::fs::write(&html, document(&pages)?)?;
    let pdf = work.path().join("forms.pdf");
    let mut timing = Timing::default();
    let t = Instant::now();
    print_pdf(&html, &pdf)?;
    timing.print_s = t.elapsed().as_secs_f64();
    let mut out = Vec::new();
    let mut first = 1usize;
    let mut file_out = std::fs::File::create(dir.join("truth.jsonl"))?;
    for (i, (lang, session, marks, truths, n)) in plans.into_iter().enumerate() {
        let dpi = if set == "a" {
            200
        } else {
            [150, 200, 300][r.below(3) as usize]
        };
        let prefix = work.path().join(format!("f{i}"));
        let t = Instant::now();
        let files = render(&pdf, dpi, first, first + n - 1, &prefix)?;
        timing.render_s += t.elapsed().as_secs_f64();
        timing.pages += files.len();
        anyhow::ensure!(
            files.len() == n,
            "form {i}: {} pages rendered of {n}",
            files.len()
        );
        first += n;
        for (p, f) in files.iter().enumerate() {
            let mut img = image::open(f)?.to_luma8();
            let name;
            if set == "a" {
                draw_marks(&mut r, &mut img, &marks[p], dpi);
                img = degrade_a(&mut r, &img);
                name = format!("a-{seed}-{i:04}-{}.png", p + 1);
                img.save(dir.join(&name))?;
            } else {
                img = degrade_b(&mut r, &img);
                name = format!("b-{seed}-{i:04}-{}.jpg", p + 1);
                let q = r.range(55, 90) as u8;
                let mut buf = std::io::BufWriter::new(std::fs::File::create(dir.join(&name))?);
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q)
                    .encode_image(&img)?;
            }
            let t = PageTruth {
                file: name,
                session: session.clone(),
                page: p as u8 + 1,
                lang: lang.tag().into(),
                items: truths[p].clone(),
                dpi,
            };
            use std::io::Write;
            writeln!(file_out, "{}", serde_json::to_string(&t)?)?;
            out.push(t);
        }
    }
    Ok((out, timing))
}
