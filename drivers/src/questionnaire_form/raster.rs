//! A plain raster of a form page, without its texts: fiducials, QR code and box outlines
//! drawn straight from [`super::layout`], with ticks or fills in chosen boxes. For tests
//! of the reader and of the box's upload route, where printing with a browser is not at
//! hand; the synthetic corpus prints the real HTML instead.

use checkup_protocol::questionnaire::Lang;
use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

use super::layout::{self, BOX, BOX_LINE, FIDUCIAL, FIDUCIALS};
use super::print::{FormId, PayloadError};

/// What to draw in a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pen {
    /// A ✓ in dark ink.
    Tick,
    /// The box filled in.
    Fill,
    /// A light, thin ✓.
    Faint,
}

fn rect(img: &mut GrayImage, s: f32, x: f32, y: f32, w: f32, h: f32, v: u8) {
    let (iw, ih) = img.dimensions();
    let x0 = (x * s).round().max(0.0) as u32;
    let y0 = (y * s).round().max(0.0) as u32;
    let x1 = (((x + w) * s).round().max(0.0) as u32).min(iw);
    let y1 = (((y + h) * s).round().max(0.0) as u32).min(ih);
    for yy in y0..y1 {
        for xx in x0..x1 {
            img.put_pixel(xx, yy, Luma([v]));
        }
    }
}

fn line(img: &mut GrayImage, s: f32, a: (f32, f32), b: (f32, f32), width: f32, v: u8) {
    let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let steps = (len * s).ceil().max(1.0) as u32;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        rect(img, s, x - width / 2.0, y - width / 2.0, width, width, v);
    }
}

/// Page `id.page` of `id.lang`'s form at `dpi`, with `marks` (answer code per item code).
pub fn page(id: &FormId, dpi: f32, marks: &[(&str, &str, Pen)]) -> Result<GrayImage, PayloadError> {
    let s = dpi / 25.4;
    let form = layout::cached(id.lang);
    let lp = form
        .pages
        .get(usize::from(id.page).saturating_sub(1))
        .ok_or(PayloadError::BadPage(id.page, id.pages))?;
    let mut img = GrayImage::from_pixel(
        (layout::PAGE_W * s) as u32,
        (layout::PAGE_H * s) as u32,
        Luma([250]),
    );
    for (x, y) in FIDUCIALS {
        rect(&mut img, s, x, y, FIDUCIAL, FIDUCIAL, 10);
    }
    let code = QrCode::with_error_correction_level(id.encode()?.as_bytes(), EcLevel::M)
        .map_err(|e| PayloadError::Qr(e.to_string()))?;
    let (qx, qy, qs) = layout::QR;
    let n = code.width();
    let m = qs / n as f32;
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            rect(
                &mut img,
                s,
                qx + (i % n) as f32 * m,
                qy + (i / n) as f32 * m,
                m,
                m,
                10,
            );
        }
    }
    for it in &lp.items {
        for b in &it.boxes {
            rect(&mut img, s, b.x, b.y, BOX, BOX_LINE, 10);
            rect(&mut img, s, b.x, b.y + BOX - BOX_LINE, BOX, BOX_LINE, 10);
            rect(&mut img, s, b.x, b.y, BOX_LINE, BOX, 10);
            rect(&mut img, s, b.x + BOX - BOX_LINE, b.y, BOX_LINE, BOX, 10);
            for (item, code, pen) in marks {
                if *item != it.item_code || *code != b.code {
                    continue;
                }
                let p = |u: f32, v: f32| (b.x + u * BOX, b.y + v * BOX);
                match pen {
                    Pen::Tick => {
                        line(&mut img, s, p(0.2, 0.5), p(0.45, 0.8), 0.5, 20);
                        line(&mut img, s, p(0.45, 0.8), p(0.85, 0.15), 0.5, 20);
                    }
                    Pen::Faint => {
                        line(&mut img, s, p(0.2, 0.5), p(0.45, 0.8), 0.3, 175);
                        line(&mut img, s, p(0.45, 0.8), p(0.85, 0.15), 0.3, 175);
                    }
                    Pen::Fill => rect(&mut img, s, b.x + 0.3, b.y + 0.3, BOX - 0.6, BOX - 0.6, 25),
                }
            }
        }
    }
    Ok(img)
}

/// The page count of `lang`'s form.
pub fn pages(lang: Lang) -> u8 {
    layout::cached(lang).pages.len() as u8
}
