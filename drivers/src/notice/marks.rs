//! Choices marked on a form (issue 17). Real notices print the options and mark one: 男・女
//! with the right one circled by hand, the kinds of abuse as a row of boxes with one ticked
//! or filled (■ ☑ ✓), sometimes by hand. Recognition reads the printed options faithfully
//! and the mark not at all (a circle is not a character), so the mark is read from the ink:
//! around each option (a circle) and in the box before it (a fill or a tick), against the
//! same measure for the other options. The option whose ink stands out wins; how far it
//! stands out is the confidence.

use image::GrayImage;

/// Ink (pixels darker than `level`) as a share of the pixels in `rect` (left, top, width,
/// height), clipped to the image.
fn ink(img: &GrayImage, rect: [i64; 4], level: u8) -> f32 {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let (x0, y0) = (rect[0].clamp(0, w), rect[1].clamp(0, h));
    let (x1, y1) = (
        (rect[0] + rect[2]).clamp(0, w),
        (rect[1] + rect[3]).clamp(0, h),
    );
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let mut n = 0u32;
    for y in y0..y1 {
        for x in x0..x1 {
            if img.get_pixel(x as u32, y as u32).0[0] < level {
                n += 1;
            }
        }
    }
    n as f32 / ((x1 - x0) * (y1 - y0)) as f32
}

/// How an option is marked on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A circle drawn round the option (男・女).
    Circle,
    /// A box before the option, filled or ticked (□身体的虐待).
    Box,
}

/// The mark score of an option printed at `bbox` (left, top, width, height) in `img`: for
/// a circle the ink in a ring around it, the option's own strokes excluded; for a box the
/// ink in the square just before it.
pub fn mark_score(img: &GrayImage, bbox: [u32; 4], level: u8, mark: Mark) -> f32 {
    let [x, y, w, h] = bbox.map(i64::from);
    let s = h.max(8);
    if mark == Mark::Box {
        return ink(img, [x - s - s / 4, y, s + s / 8, h], level);
    }
    // The ring: the option grown by half its height, less the option grown by a tenth.
    let (g, i) = (s / 2, s / 10);
    let outer = [x - g, y - g, w + 2 * g, h + 2 * g];
    let inner = [x - i, y - i, w + 2 * i, h + 2 * i];
    let area = |r: [i64; 4]| (r[2] * r[3]) as f32;
    let ring_ink = ink(img, outer, level) * area(outer) - ink(img, inner, level) * area(inner);
    ring_ink / (area(outer) - area(inner)).max(1.0)
}

/// Which of the options (their boxes) is marked: its index and a confidence 0..=1 (how far
/// its ink stands above the next option's). None when no option stands out.
pub fn marked(
    img: &GrayImage,
    options: &[[u32; 4]],
    level: u8,
    mark: Mark,
) -> Option<(usize, f32)> {
    if options.len() < 2 {
        return None;
    }
    let mut scores: Vec<(usize, f32)> = options
        .iter()
        .enumerate()
        .map(|(i, b)| (i, mark_score(img, *b, level, mark)))
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, top) = scores[0];
    let second = scores[1].1;
    tracing::debug!(?scores, "option marks");
    if top <= 0.0 {
        return None;
    }
    // The marked option has clearly more ink than the others: a circle adds a ring of
    // strokes, a fill or a tick darkens the box.
    let margin = (top - second) / top;
    (margin >= 0.2).then_some((best, margin.min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn page() -> GrayImage {
        GrayImage::from_pixel(600, 200, Luma([255]))
    }

    fn square(img: &mut GrayImage, x: u32, y: u32, s: u32, filled: bool) {
        for yy in y..y + s {
            for xx in x..x + s {
                let edge = xx < x + 3 || xx >= x + s - 3 || yy < y + 3 || yy >= y + s - 3;
                if filled || edge {
                    img.put_pixel(xx, yy, Luma([0]));
                }
            }
        }
    }

    fn circle(img: &mut GrayImage, cx: f32, cy: f32, r: f32) {
        for t in 0..720 {
            let a = (t as f32).to_radians() / 2.0;
            for k in 0..3 {
                let rr = r + k as f32;
                let (x, y) = (cx + rr * a.cos(), cy + rr * a.sin());
                if x >= 0.0 && y >= 0.0 {
                    img.put_pixel(x as u32, y as u32, Luma([0]));
                }
            }
        }
    }

    #[test]
    fn the_filled_box_is_the_marked_option() {
        let mut img = page();
        // □A ■B □C: each option 40 px high, its box just before it.
        let opts = [[100, 80, 80, 40], [260, 80, 80, 40], [420, 80, 80, 40]];
        for (i, o) in opts.iter().enumerate() {
            square(&mut img, o[0] - 45, o[1], 40, i == 1);
        }
        assert_eq!(marked(&img, &opts, 128, Mark::Box).map(|m| m.0), Some(1));
    }

    #[test]
    fn the_circled_option_is_the_marked_one_and_no_mark_is_none() {
        let mut img = page();
        let opts = [[200, 80, 40, 40], [320, 80, 40, 40]];
        assert_eq!(
            marked(&img, &opts, 128, Mark::Circle),
            None,
            "nothing marked"
        );
        circle(&mut img, 340.0, 100.0, 32.0);
        let (i, conf) = marked(&img, &opts, 128, Mark::Circle).expect("marked");
        assert_eq!(i, 1);
        assert!(conf > 0.5, "{conf}");
    }
}
