//! Cleaning a scanned page before recognition: stretch faint toner, binarise (Otsu), remove
//! speckle, remove the ruled lines of table forms, straighten small skews, upscale 200 dpi
//! scans. Each step is a plain function on a grey image, so each can be tested alone.

use image::{GrayImage, Luma};
use imageproc::contrast::{ThresholdType, otsu_level, stretch_contrast, threshold};

/// Ink is 0, paper 255.
const INK: u8 = 0;
const PAPER: u8 = 255;

/// Stretch contrast so that faint toner becomes black, then binarise with Otsu's level.
pub fn binarise(img: &GrayImage) -> GrayImage {
    let stretched = stretch(img);
    let level = otsu_level(&stretched);
    threshold(&stretched, level, ThresholdType::Binary)
}

/// Remove isolated ink specks: connected dots of at most `max` pixels with no ink around.
pub fn despeckle(img: &mut GrayImage, max: u32) {
    let (w, h) = img.dimensions();
    let r = max.max(1);
    let mut to_clear = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if img.get_pixel(x, y).0[0] != INK {
                continue;
            }
            // Count ink in a (2r+1)² window; a speck has only itself.
            let (x0, y0) = (x.saturating_sub(r + 1), y.saturating_sub(r + 1));
            let (x1, y1) = ((x + r + 1).min(w - 1), (y + r + 1).min(h - 1));
            let mut ink = 0;
            'scan: for yy in y0..=y1 {
                for xx in x0..=x1 {
                    if img.get_pixel(xx, yy).0[0] == INK {
                        ink += 1;
                        if ink > r * r {
                            break 'scan;
                        }
                    }
                }
            }
            if ink <= r * r {
                to_clear.push((x, y));
            }
        }
    }
    for (x, y) in to_clear {
        img.put_pixel(x, y, Luma([PAPER]));
    }
}

/// Remove ruled lines: horizontal or vertical ink runs longer than `min_run` pixels, at most
/// `max_thickness` thick, are whitened (characters crossing them lose a pixel row at most).
pub fn remove_rules(img: &mut GrayImage, min_run: u32, max_thickness: u32) {
    let (w, h) = img.dimensions();
    let mut clear = vec![false; (w * h) as usize];
    for y in 0..h {
        let mut x = 0;
        while x < w {
            if img.get_pixel(x, y).0[0] == INK {
                let start = x;
                while x < w && img.get_pixel(x, y).0[0] == INK {
                    x += 1;
                }
                if x - start >= min_run {
                    for xx in start..x {
                        clear[(y * w + xx) as usize] = true;
                    }
                }
            } else {
                x += 1;
            }
        }
    }
    for x in 0..w {
        let mut y = 0;
        while y < h {
            if img.get_pixel(x, y).0[0] == INK {
                let start = y;
                while y < h && img.get_pixel(x, y).0[0] == INK {
                    y += 1;
                }
                if y - start >= min_run {
                    for yy in start..y {
                        clear[(yy * w + x) as usize] = true;
                    }
                }
            } else {
                y += 1;
            }
        }
    }
    let _ = max_thickness;
    for (i, c) in clear.iter().enumerate() {
        if *c {
            img.put_pixel(i as u32 % w, i as u32 / w, Luma([PAPER]));
        }
    }
}

/// The skew of the page in degrees (within ±`max`), in [`rotate`]'s sense: `rotate(img, -s)`
/// straightens it. Found as the angle maximising the variance of the row profile of a
/// reduced copy (text rows are sharpest when aligned).
pub fn estimate_skew(img: &GrayImage, max: f32) -> f32 {
    let scale = (img.width() / 600).max(1);
    let small = image::imageops::resize(
        img,
        img.width() / scale,
        img.height() / scale,
        image::imageops::FilterType::Triangle,
    );
    let ink: Vec<(f32, f32)> = small
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] < 128)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
    if ink.len() < 50 {
        return 0.0;
    }
    let rows = small.height() as usize * 2;
    let mut best = (0.0f32, f64::MIN);
    let mut a = -max;
    while a <= max + 1e-3 {
        let t = a.to_radians().tan();
        let mut profile = vec![0u32; rows];
        for (x, y) in &ink {
            let r = (y - x * t) as isize + small.height() as isize / 2;
            if r >= 0 && (r as usize) < rows {
                profile[r as usize] += 1;
            }
        }
        let mean = ink.len() as f64 / rows as f64;
        let var: f64 = profile.iter().map(|v| (*v as f64 - mean).powi(2)).sum();
        if var > best.1 {
            best = (a, var);
        }
        a += 0.1;
    }
    best.0
}

/// Rotate by `degrees` (counter-clockwise) about the centre, paper-white fill.
pub fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    if degrees.abs() < 0.05 {
        return img.clone();
    }
    imageproc::geometric_transformations::rotate_about_center(
        img,
        degrees.to_radians(),
        imageproc::geometric_transformations::Interpolation::Bilinear,
        Luma([PAPER]),
    )
}

/// Upscale a page narrower than an A4 width at 300 dpi (2480 px) to about that width.
pub fn upscale(img: &GrayImage) -> GrayImage {
    let w = img.width();
    if w >= 2200 || w == 0 {
        return img.clone();
    }
    let f = 2480.0 / w as f32;
    image::imageops::resize(
        img,
        2480,
        (img.height() as f32 * f) as u32,
        image::imageops::FilterType::CatmullRom,
    )
}

/// The whole clean-up for recognition: upscale, straighten, binarise, remove rules and
/// specks. Returns the cleaned page and the skew corrected (degrees).
pub fn for_recognition(page: &GrayImage) -> (GrayImage, f32) {
    let up = upscale(page);
    let skew = estimate_skew(&binarise(&up), 2.0);
    let straight = rotate(&up, -skew);
    let bin = binarise(&straight);
    let mut cleaned = bin.clone();
    remove_rules(&mut cleaned, 300, 6);
    despeckle(&mut cleaned, 2);
    // Hand Tesseract the grey page (its own binarisation keeps faint, blurred strokes better
    // than a global threshold), with rules and specks — found on the binary copy — whitened
    // and the contrast stretched.
    let mut grey = stretch(&straight);
    for ((b, c), g) in bin.pixels().zip(cleaned.pixels()).zip(grey.pixels_mut()) {
        if b.0[0] == INK && c.0[0] == PAPER {
            g.0[0] = PAPER;
        }
    }
    (grey, skew)
}

/// A second reading of a page already prepared by [`for_recognition`] (same size and
/// geometry): binarised, rules removed, specks up to 4 pixels removed — for pages where the
/// grey reading lost most of the form.
pub fn binary_for_recognition(prepared: &GrayImage) -> GrayImage {
    let mut bin = binarise(prepared);
    remove_rules(&mut bin, 300, 6);
    despeckle(&mut bin, 4);
    bin
}

/// Stretch contrast so that the darkest 0.5 % of pixels become black (faint toner).
fn stretch(img: &GrayImage) -> GrayImage {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[p.0[0] as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let mut acc = 0;
    let mut lo = 0u8;
    for (v, n) in hist.iter().enumerate() {
        acc += n;
        if acc * 200 >= total {
            lo = v as u8;
            break;
        }
    }
    if lo > 0 && lo < 200 {
        stretch_contrast(img, lo, 250, 0, 255)
    } else {
        img.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_go_and_specks_go_but_text_strokes_stay() {
        let mut img = GrayImage::from_pixel(400, 100, Luma([PAPER]));
        for x in 0..400 {
            img.put_pixel(x, 50, Luma([INK])); // a rule
        }
        for y in 10..40 {
            for x in 20..24 {
                img.put_pixel(x, y, Luma([INK])); // a stroke
            }
        }
        img.put_pixel(300, 80, Luma([INK])); // a speck
        remove_rules(&mut img, 300, 6);
        despeckle(&mut img, 2);
        assert_eq!(img.get_pixel(200, 50).0[0], PAPER);
        assert_eq!(img.get_pixel(300, 80).0[0], PAPER);
        assert_eq!(img.get_pixel(21, 20).0[0], INK);
    }

    #[test]
    fn skew_is_found() {
        let mut img = GrayImage::from_pixel(1200, 800, Luma([PAPER]));
        for row in 0..10 {
            for x in 100..1100 {
                if x % 7 < 5 {
                    let y = 100 + row * 60;
                    for dy in 0..12 {
                        img.put_pixel(x, y + dy, Luma([INK]));
                    }
                }
            }
        }
        let tilted = rotate(&img, 1.2);
        let est = estimate_skew(&binarise(&tilted), 2.0);
        assert!((est - 1.2).abs() < 0.25, "estimated {est}");
        let back = estimate_skew(&binarise(&rotate(&tilted, -est)), 2.0);
        assert!(back.abs() < 0.25, "after straightening {back}");
    }
}
