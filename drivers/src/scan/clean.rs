//! Cleaning a scanned page before recognition: bring it to the working size (200 dpi scans
//! upscaled, 600 dpi ones reduced, at most [`MAX_WORKING_PIXELS`]), stretch faint toner,
//! binarise (Otsu), remove speckle, remove the ruled lines of table forms, straighten small
//! skews. Each step is a plain function on a grey image, so each can be tested alone.

use image::{GrayImage, Luma};
use imageproc::contrast::{ThresholdType, otsu_level, stretch_contrast, threshold};

/// Most pixels a page is recognised at. Recognition keeps several working copies of the
/// page and Tesseract its own (about nine bytes a pixel in all), so this bounds what one
/// page costs in memory whatever size it was scanned at; Tesseract reads best near 300 dpi
/// (an A4 page is 8.7 million pixels there); and the Otsu histogram's sums stay within
/// 32 bits (they overflow past about 16.8 million pixels of one grey level).
pub const MAX_WORKING_PIXELS: u64 = 12_000_000;

/// Shortest horizontal rule at the working size (about 300 dpi): longer than any stroke
/// of a character (a 一 of 12 pt is about 50 pixels).
pub const RULE_H: u32 = 150;

/// Shortest vertical rule at the working size: taller than any character of body text
/// (12 pt is 50 pixels), shorter than a one-line table row (about 70).
pub const RULE_V: u32 = 64;

/// A colour page in grey with the red of seals (朱肉) turned to paper: a police notice's
/// seal is stamped over the sender's line and often over values, and in grey it is a
/// second layer of strokes recognition reads as characters. A pixel counts as seal when its
/// red stands well above both green and blue; black text over the seal has no red lead and
/// stays ink. Grey pages (and faxes) pass through unchanged.
pub fn grey_without_seals(img: image::DynamicImage) -> GrayImage {
    let rgb = match img {
        image::DynamicImage::ImageLuma8(g) => return g,
        image::DynamicImage::ImageRgb8(rgb) => rgb,
        other if !other.color().has_color() => return other.into_luma8(),
        other => other.into_rgb8(),
    };
    let (w, h) = rgb.dimensions();
    let mut out = GrayImage::new(w, h);
    for (o, px) in out.as_mut().iter_mut().zip(rgb.as_raw().chunks_exact(3)) {
        let [r, g, b] = [px[0], px[1], px[2]].map(i32::from);
        *o = if r - g.max(b) >= SEAL_RED_LEAD {
            PAPER
        } else {
            // Rec. 601 luma, as `into_luma8`.
            ((r * 299 + g * 587 + b * 114 + 500) / 1000) as u8
        };
    }
    out
}

/// How far red must stand above green and blue for a pixel to be a seal's: a faint
/// vermilion stamp is about (235, 160, 160), its centre (210, 70, 70); paper, black and
/// blue ink are within 20.
pub const SEAL_RED_LEAD: i32 = 45;

/// Ink is 0, paper 255.
const INK: u8 = 0;
const PAPER: u8 = 255;

/// Stretch contrast so that faint toner becomes black, then binarise with Otsu's level.
pub fn binarise(img: &GrayImage) -> GrayImage {
    let stretched = stretch(img);
    let level = otsu_level(&stretched);
    threshold(&stretched, level, ThresholdType::Binary)
}

/// Remove isolated ink specks: an ink pixel with at most `max`² ink pixels in the
/// (2·`max`+3)² window around it is cleared (a speck has little ink near it; a stroke has
/// more). Window sums come from an integral image, so the cost is linear in the page.
pub fn despeckle(img: &mut GrayImage, max: u32) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return;
    }
    let r = max.max(1) as usize;
    let limit = (r * r) as u32;
    // sat[(y+1)*(w+1) + (x+1)]: ink in [0..=x] × [0..=y].
    let stride = w + 1;
    let mut sat = vec![0u32; stride * (h + 1)];
    {
        let px = img.as_raw();
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row += u32::from(px[y * w + x] == INK);
                sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + row;
            }
        }
    }
    let px = img.as_mut();
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r + 1), (y + r + 1).min(h - 1));
        for x in 0..w {
            if px[y * w + x] != INK {
                continue;
            }
            let (x0, x1) = (x.saturating_sub(r + 1), (x + r + 1).min(w - 1));
            let ink = sat[(y1 + 1) * stride + x1 + 1] + sat[y0 * stride + x0]
                - sat[y0 * stride + x1 + 1]
                - sat[(y1 + 1) * stride + x0];
            if ink <= limit {
                // Cleared pixels still count for later ones: the sums are of the input.
                px[y * w + x] = PAPER;
            }
        }
    }
}

/// Remove ruled lines: horizontal or vertical ink runs of at least `min_run` pixels are
/// whitened (characters crossing them lose a pixel row at most).
pub fn remove_rules(img: &mut GrayImage, min_run: u32) {
    let clear = rule_mask(img, min_run, min_run);
    for (p, c) in img.as_mut().iter_mut().zip(&clear) {
        if *c {
            *p = PAPER;
        }
    }
}

/// The pixels of ruled lines in a binary image: horizontal ink runs of at least `min_h`
/// pixels and vertical ones of at least `min_v`.
pub fn rule_mask(img: &GrayImage, min_h: u32, min_v: u32) -> Vec<bool> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (min_h, min_v) = (min_h as usize, min_v as usize);
    let mut clear = vec![false; w * h];
    let px = img.as_raw();
    for y in 0..h {
        let row = &px[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            if row[x] == INK {
                let start = x;
                while x < w && row[x] == INK {
                    x += 1;
                }
                if x - start >= min_h {
                    clear[y * w + start..y * w + x].fill(true);
                }
            } else {
                x += 1;
            }
        }
    }
    // Columns: run lengths carried along rows, so memory is read in order.
    let mut run = vec![0usize; w];
    for y in 0..=h {
        for x in 0..w {
            if y < h && px[y * w + x] == INK {
                run[x] += 1;
            } else {
                if run[x] >= min_v {
                    for yy in y - run[x]..y {
                        clear[yy * w + x] = true;
                    }
                }
                run[x] = 0;
            }
        }
    }
    clear
}

/// Grow a mask by `r` pixels every way (a rule's anti-aliased edge, grey but below the
/// binarisation level, goes with the rule).
fn dilate(mask: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let mut rows = vec![false; w * h];
    for y in 0..h {
        let row = &mask[y * w..(y + 1) * w];
        let mut last: Option<usize> = None;
        for x in 0..w {
            if row[x] {
                last = Some(x);
            }
            // Forward pass: within r after a set pixel.
            if last.is_some_and(|l| x - l <= r) {
                rows[y * w + x] = true;
            }
        }
        let mut next: Option<usize> = None;
        for x in (0..w).rev() {
            if row[x] {
                next = Some(x);
            }
            if next.is_some_and(|n| n - x <= r) {
                rows[y * w + x] = true;
            }
        }
    }
    let mut out = vec![false; w * h];
    for x in 0..w {
        let mut last: Option<usize> = None;
        for y in 0..h {
            if rows[y * w + x] {
                last = Some(y);
            }
            if last.is_some_and(|l| y - l <= r) {
                out[y * w + x] = true;
            }
        }
        let mut next: Option<usize> = None;
        for y in (0..h).rev() {
            if rows[y * w + x] {
                next = Some(y);
            }
            if next.is_some_and(|n| n - y <= r) {
                out[y * w + x] = true;
            }
        }
    }
    out
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

/// Rotate by `degrees` (counter-clockwise) about the centre, paper-white fill, bilinear.
/// (The same mapping as `imageproc::geometric_transformations::rotate_about_center`, on the
/// raw buffer: a page is rotated in a fifth of the time.)
pub fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    if degrees.abs() < 0.05 {
        return img.clone();
    }
    let (w, h) = img.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let src = img.as_raw();
    let mut out = GrayImage::from_pixel(w, h, Luma([PAPER]));
    let dst = out.as_mut();
    // Source coordinates in 16.16 fixed point, stepped along each row (no float rounding
    // in the inner loop); weights in 1/256ths.
    const ONE: f64 = 65536.0;
    let (step_x, step_y) = (
        (f64::from(cos) * ONE) as i64,
        (-f64::from(sin) * ONE) as i64,
    );
    let (lim_x, lim_y) = ((i64::from(w) - 1) << 16, (i64::from(h) - 1) << 16);
    for y in 0..hu {
        let dy = y as f32 - cy;
        // Output (x, y) comes from centre + R⁻¹·(p − centre).
        let (bx, by) = (cx - cos * cx + sin * dy, cy + sin * cx + cos * dy);
        let (mut sx, mut sy) = ((f64::from(bx) * ONE) as i64, (f64::from(by) * ONE) as i64);
        let row = &mut dst[y * wu..(y + 1) * wu];
        for o in row.iter_mut() {
            // Both neighbours inside, as imageproc requires.
            if sx >= 0 && sy >= 0 && sx < lim_x && sy < lim_y {
                let (l, t) = ((sx >> 16) as usize, (sy >> 16) as usize);
                let (fx, fy) = (((sx >> 8) & 0xff) as u32, ((sy >> 8) & 0xff) as u32);
                let i = t * wu + l;
                let (tl, tr) = (u32::from(src[i]), u32::from(src[i + 1]));
                let (bl, br) = (u32::from(src[i + wu]), u32::from(src[i + wu + 1]));
                let top = tl * (256 - fx) + tr * fx;
                let bottom = bl * (256 - fx) + br * fx;
                *o = ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8;
            }
            sx += step_x;
            sy += step_y;
        }
    }
    out
}

/// Upscale a page narrower than an A4 width at 300 dpi (2480 px) to about that width,
/// bilinear (pixel centres aligned), in fixed point on the raw buffer.
pub fn upscale(img: &GrayImage) -> GrayImage {
    let w = img.width();
    if w >= 2200 || w == 0 || img.height() == 0 {
        return img.clone();
    }
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let (dw, dh) = (2480usize, (sh as f64 * 2480.0 / sw as f64) as usize);
    // For each output column/row: the source index on its left/top and the weight (1/256ths)
    // of the one after it.
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, u32)> {
        let f = n_in as f64 / n_out as f64;
        (0..n_out)
            .map(|o| {
                let s = ((o as f64 + 0.5) * f - 0.5).clamp(0.0, (n_in - 1) as f64);
                let i = (s.floor() as usize).min(n_in.saturating_sub(2));
                let frac = ((s - i as f64) * 256.0).round().clamp(0.0, 256.0) as u32;
                (i, frac)
            })
            .collect()
    };
    let (xs, ys) = (taps(dw, sw), taps(dh, sh));
    let src = img.as_raw();
    let mut out = GrayImage::new(dw as u32, dh as u32);
    let dst = out.as_mut();
    let next = |i: usize, n: usize| (i + 1).min(n - 1);
    for (y, &(y0, fy)) in ys.iter().enumerate() {
        let (r0, r1) = (&src[y0 * sw..(y0 + 1) * sw], {
            let y1 = next(y0, sh);
            &src[y1 * sw..(y1 + 1) * sw]
        });
        for (o, &(x0, fx)) in dst[y * dw..(y + 1) * dw].iter_mut().zip(&xs) {
            let x1 = next(x0, sw);
            let top = u32::from(r0[x0]) * (256 - fx) + u32::from(r0[x1]) * fx;
            let bottom = u32::from(r1[x0]) * (256 - fx) + u32::from(r1[x1]) * fx;
            *o = ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8;
        }
    }
    out
}

/// The page at the size it is recognised at: a page narrower than an A4 width at 300 dpi
/// upscaled ([`upscale`]) unless that would pass [`MAX_WORKING_PIXELS`]; a page over it
/// reduced by the smallest whole factor that brings it within (the mean of each block, so
/// the geometry scales by the same factor both ways); any other page as it is. A sliver too
/// thin to reduce keeps only its top rows that fit.
pub fn to_working_size(img: &GrayImage) -> GrayImage {
    let (w, h) = (u64::from(img.width()), u64::from(img.height()));
    if w == 0 || h == 0 {
        return img.clone();
    }
    if w < 2200 && 2480 * (h * 2480 / w) <= MAX_WORKING_PIXELS {
        return upscale(img);
    }
    if w * h <= MAX_WORKING_PIXELS {
        return img.clone();
    }
    let k = (2..=img.width().min(img.height()))
        .find(|k| (w / u64::from(*k)) * (h / u64::from(*k)) <= MAX_WORKING_PIXELS);
    match k {
        Some(k) => reduce_by(img, k),
        None => {
            let rows = (MAX_WORKING_PIXELS / w).max(1) as u32;
            image::imageops::crop_imm(img, 0, 0, img.width(), rows.min(img.height())).to_image()
        }
    }
}

/// The whole clean-up for recognition: working size, straighten, binarise, remove rules
/// and specks.
pub fn for_recognition(page: &GrayImage) -> Prepared {
    let up = to_working_size(page);
    // The skew is found on a reduced copy (about 600 px wide): the row profile needs no
    // more, and binarising the full page only to reduce it costs a tenth of a second.
    let skew = estimate_skew(&binarise(&reduced(&up, 600)), 3.5);
    let straight = rotate(&up, -skew);
    let mut grey = stretch(&straight);
    let bin = threshold(&grey, otsu_level(&grey), ThresholdType::Binary);
    // Rules: long horizontal runs, and vertical runs taller than a character (a cell's
    // side in a one-row cell), grown by two pixels so that their grey edges go too.
    let (w, h) = (bin.width() as usize, bin.height() as usize);
    let rules = dilate(&rule_mask(&bin, RULE_H, RULE_V), w, h, 2);
    let mut cleaned = bin.clone();
    despeckle(&mut cleaned, 2);
    let mut text_only = cleaned.clone();
    // Hand Tesseract the grey page (its own binarisation keeps faint, blurred strokes better
    // than a global threshold), with rules and specks — found on the binary copy — whitened
    // and the contrast stretched.
    for (((b, c), g), r) in bin
        .pixels()
        .zip(cleaned.pixels())
        .zip(grey.pixels_mut())
        .zip(&rules)
    {
        if *r || (b.0[0] == INK && c.0[0] == PAPER) {
            g.0[0] = PAPER;
        }
    }
    for (t, r) in text_only.as_mut().iter_mut().zip(&rules) {
        if *r {
            *t = PAPER;
        }
    }
    Prepared {
        page: grey,
        straight,
        skew,
        binary: bin,
        text_only,
    }
}

/// A page made ready for recognition.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// At the working size, straightened, contrast stretched, rules and specks whitened.
    pub page: GrayImage,
    /// The same geometry, only scaled and straightened: strokes as scanned, for a second
    /// opinion where stretching merged them (「22」 read as 「2」).
    pub straight: GrayImage,
    /// The skew corrected, degrees.
    pub skew: f32,
    /// `straight` binarised (ink 0), rules kept: where a form's ruled lines are found.
    pub binary: GrayImage,
    /// `binary` with rules and specks removed: the text alone.
    pub text_only: GrayImage,
}

/// A copy at most about `width` pixels wide: the mean of each k×k block, k the smallest
/// whole factor that gets there (the page itself when already narrow enough).
fn reduced(img: &GrayImage, width: u32) -> GrayImage {
    let k = img.width().div_ceil(width.max(1)).max(1);
    if k == 1 {
        return img.clone();
    }
    reduce_by(img, k)
}

/// The mean of each `k`×`k` block (`k` at least 2; a partial block at the right or bottom
/// edge is dropped).
fn reduce_by(img: &GrayImage, k: u32) -> GrayImage {
    let (w, h) = (img.width() / k, img.height() / k);
    let (ku, wu, src) = (k as usize, img.width() as usize, img.as_raw());
    let mut sums = vec![0u32; w as usize];
    let mut out = GrayImage::new(w, h);
    for y in 0..h as usize {
        sums.fill(0);
        for row in src[y * ku * wu..(y + 1) * ku * wu].chunks_exact(wu) {
            for (s, block) in sums.iter_mut().zip(row.chunks_exact(ku)) {
                *s += block.iter().map(|v| u32::from(*v)).sum::<u32>();
            }
        }
        let n = k * k;
        for (o, s) in out.as_mut()[y * w as usize..(y + 1) * w as usize]
            .iter_mut()
            .zip(&sums)
        {
            *o = (*s / n) as u8;
        }
    }
    out
}

/// A second reading of a page already prepared by [`for_recognition`] (same size and
/// geometry): binarised, rules removed, specks up to 4 pixels removed — for pages where the
/// grey reading lost most of the form.
pub fn binary_for_recognition(prepared: &GrayImage) -> GrayImage {
    let mut bin = binarise(prepared);
    remove_rules(&mut bin, 300);
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
    fn a_seals_red_is_paper_and_the_black_over_it_stays_ink() {
        let mut rgb = image::RgbImage::from_pixel(4, 1, image::Rgb([250, 250, 250]));
        rgb.put_pixel(0, 0, image::Rgb([210, 70, 70])); // a seal's centre
        rgb.put_pixel(1, 0, image::Rgb([236, 165, 160])); // a faint seal
        rgb.put_pixel(2, 0, image::Rgb([40, 30, 30])); // text over the seal
        rgb.put_pixel(3, 0, image::Rgb([40, 40, 120])); // blue pen
        let g = grey_without_seals(image::DynamicImage::ImageRgb8(rgb));
        let v: Vec<u8> = g.pixels().map(|p| p.0[0]).collect();
        assert_eq!(v[0], PAPER);
        assert_eq!(v[1], PAPER);
        assert!(v[2] < 60, "{v:?}");
        assert!(v[3] < 80, "{v:?}");
        // A grey page passes through as it is.
        let grey = GrayImage::from_pixel(3, 2, Luma([77]));
        assert_eq!(
            grey_without_seals(image::DynamicImage::ImageLuma8(grey.clone())),
            grey
        );
    }

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
        remove_rules(&mut img, 300);
        despeckle(&mut img, 2);
        assert_eq!(img.get_pixel(200, 50).0[0], PAPER);
        assert_eq!(img.get_pixel(300, 80).0[0], PAPER);
        assert_eq!(img.get_pixel(21, 20).0[0], INK);
    }

    #[test]
    fn rotation_matches_imageproc() {
        let mut img = GrayImage::from_pixel(300, 200, Luma([PAPER]));
        for y in 40..160 {
            for x in 50..250 {
                img.put_pixel(x, y, Luma([((x * 2 + y) / 3) as u8]));
            }
        }
        for deg in [-1.7f32, 0.6, 2.0] {
            let ours = rotate(&img, deg);
            let theirs = imageproc::geometric_transformations::rotate_about_center(
                &img,
                deg.to_radians(),
                imageproc::geometric_transformations::Interpolation::Bilinear,
                Luma([PAPER]),
            );
            let worst = ours
                .pixels()
                .zip(theirs.pixels())
                .map(|(a, b)| a.0[0].abs_diff(b.0[0]))
                .max();
            // imageproc truncates the intermediate rows in floats; ours are fixed point.
            assert!(worst <= Some(2), "{deg}°: differs by {worst:?}");
        }
    }

    #[test]
    fn upscaling_reaches_a4_width_and_keeps_the_picture() {
        let mut img = GrayImage::from_pixel(1653, 200, Luma([PAPER]));
        for y in 50..150 {
            for x in 400..800 {
                img.put_pixel(x, y, Luma([INK]));
            }
        }
        let up = upscale(&img);
        assert_eq!(up.dimensions(), (2480, 300));
        let f = 2480.0 / 1653.0;
        // Inside the block: ink; well outside: paper; the edge: in between.
        assert_eq!(up.get_pixel((600.0 * f) as u32, 150).0[0], INK);
        assert_eq!(up.get_pixel((1200.0 * f) as u32, 150).0[0], PAPER);
        assert_eq!(up.get_pixel(10, 10).0[0], PAPER);
        let big = GrayImage::from_pixel(2480, 10, Luma([7]));
        assert_eq!(upscale(&big), big);
    }

    #[test]
    fn pages_are_brought_to_the_working_size() {
        // 200 dpi A4: upscaled to 300 dpi.
        let a4_200 = GrayImage::from_pixel(1654, 2339, Luma([PAPER]));
        assert_eq!(to_working_size(&a4_200).width(), 2480);
        // 300 dpi A4: as it is.
        let a4_300 = GrayImage::from_pixel(2480, 3508, Luma([PAPER]));
        assert_eq!(to_working_size(&a4_300).dimensions(), (2480, 3508));
        // 600 dpi A4 (35 million pixels): halved.
        let a4_600 = GrayImage::from_pixel(4961, 7016, Luma([PAPER]));
        assert_eq!(to_working_size(&a4_600).dimensions(), (2480, 3508));
        // A narrow, very tall strip is not upscaled past the bound.
        let strip = GrayImage::from_pixel(1000, 9000, Luma([PAPER]));
        let s = to_working_size(&strip);
        assert!(u64::from(s.width()) * u64::from(s.height()) <= MAX_WORKING_PIXELS);
        // A sliver that cannot be reduced keeps its top rows.
        let sliver = GrayImage::from_pixel(1, 13_000_000, Luma([PAPER]));
        assert_eq!(to_working_size(&sliver).dimensions(), (1, 12_000_000));
    }

    #[test]
    fn reduction_averages_blocks() {
        let mut img = GrayImage::from_pixel(1300, 40, Luma([PAPER]));
        for y in 0..3 {
            for x in 0..3 {
                img.put_pixel(x, y, Luma([0]));
            }
        }
        let r = reduced(&img, 600);
        assert_eq!(r.dimensions(), (433, 13));
        assert_eq!(r.get_pixel(0, 0).0[0], 0);
        assert_eq!(r.get_pixel(1, 1).0[0], PAPER);
        assert_eq!(reduced(&r, 600).dimensions(), (433, 13));
    }

    #[test]
    fn despeckle_clears_dots_near_nothing_but_keeps_dense_ink() {
        let mut img = GrayImage::from_pixel(60, 60, Luma([PAPER]));
        // A 2×2 dot alone, and a 6×6 blot.
        for (x, y) in [(10, 10), (11, 10), (10, 11), (11, 11)] {
            img.put_pixel(x, y, Luma([INK]));
        }
        for y in 30..36 {
            for x in 30..36 {
                img.put_pixel(x, y, Luma([INK]));
            }
        }
        despeckle(&mut img, 2);
        assert_eq!(img.get_pixel(10, 10).0[0], PAPER);
        assert_eq!(img.get_pixel(11, 11).0[0], PAPER);
        assert_eq!(img.get_pixel(33, 33).0[0], INK);
        assert_eq!(img.get_pixel(30, 30).0[0], INK);
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
