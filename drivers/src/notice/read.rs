//! Reading a notice: clean the page, recognise it, find the printed labels (in "label：value"
//! lines or in a ruled table), read each value again on its own crop with the page
//! segmentation and characters that fit the field, normalise, and give every field a
//! confidence and the box it came from. A field below [`REVIEW_BELOW`] is marked for review.

use image::GrayImage;
use serde::Serialize;

use super::{fields, wareki};
use crate::scan::clean;
use crate::scan::ocr::{Engine, OcrError, PageSegMode, Word};

/// The fields of a notice, in the order of the CLI's JSON and the scorer's table (the
/// protocol's list: what is read is what a saved case holds).
pub use checkup_protocol::notice::NOTICE_FIELDS as FIELD_NAMES;

/// Fields below this confidence are marked for the clerk's review.
pub const REVIEW_BELOW: f32 = 0.80;

/// One field as read.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Field {
    /// The normalised value (None: nothing usable was read).
    pub value: Option<String>,
    /// 0..=1.
    pub confidence: f32,
    /// Left, top, width, height in the original page.
    pub bbox: [u32; 4],
    /// Below the review threshold.
    pub review: bool,
    /// What was read before normalisation.
    pub raw: String,
}

/// Every field of a notice.
#[derive(Debug, Clone, Serialize, Default)]
pub struct NoticeFields {
    /// 通告日.
    pub notice_date: Option<Field>,
    /// The sending police station.
    pub reporting_agency: Option<Field>,
    /// 児童氏名.
    pub child_name: Option<Field>,
    /// 生年月日.
    pub child_birth_date: Option<Field>,
    /// 性別.
    pub child_sex: Option<Field>,
    /// 住所.
    pub child_address: Option<Field>,
    /// 保護者氏名.
    pub guardian_name: Option<Field>,
    /// 虐待の種別.
    pub abuse_type: Option<Field>,
    /// 事案の概要.
    pub summary: Option<Field>,
}

/// A recognised line: its words' text joined, box, mean confidence, words.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    bbox: [u32; 4],
    words: Vec<Word>,
}

fn union(a: [u32; 4], b: [u32; 4]) -> [u32; 4] {
    let (l, t) = (a[0].min(b[0]), a[1].min(b[1]));
    let r = (a[0] + a[2]).max(b[0] + b[2]);
    let bt = (a[1] + a[3]).max(b[1] + b[3]);
    [l, t, r - l, bt - t]
}

fn lines(words: &[Word]) -> Vec<Line> {
    let mut out: Vec<(u32, u32, u32, Line)> = Vec::new();
    for w in words {
        match out.iter_mut().find(|(b, p, l, _)| (*b, *p, *l) == w.line) {
            Some((_, _, _, line)) => {
                line.text.push_str(&w.text);
                line.bbox = union(line.bbox, w.bbox);
                line.words.push(w.clone());
            }
            None => out.push((
                w.line.0,
                w.line.1,
                w.line.2,
                Line {
                    text: w.text.clone(),
                    bbox: w.bbox,
                    words: vec![w.clone()],
                },
            )),
        }
    }
    out.into_iter().map(|(_, _, _, l)| l).collect()
}

/// The labels, in reading order, with their field.
const LABELS: &[(&str, &str)] = &[
    ("児童氏名", "child_name"),
    ("生年月日", "child_birth_date"),
    ("性別", "child_sex"),
    ("住所", "child_address"),
    ("保護者氏名", "guardian_name"),
    ("虐待の種別", "abuse_type"),
    ("事案の概要", "summary"),
];

/// A label found on the page: its line's box, the x where its value starts, the line's
/// text, and whether the label ran on into the value in one word.
type FoundLabel = ([u32; 4], u32, String, bool);

/// The sender's line: its box, the station chief's title, slips repaired, confidence.
type Sender = ([u32; 4], String, usize, f32);

/// How far the start of `text` is from `label`: the least edit distance between the label
/// and a piece of the text beginning at one of its first characters (a speck or rule read
/// before the label) and one character shorter or longer than the label (a character lost
/// or split in two).
fn label_distance(text: &[char], label: &[char]) -> usize {
    let n = label.len();
    let (offsets, lens) = if n >= 4 {
        (0..=2, n - 1..=n + 1)
    } else {
        (0..=1, n..=n)
    };
    let mut best = usize::MAX;
    for start in offsets {
        for len in lens.clone() {
            if let Some(piece) = text.get(start..start + len) {
                best = best.min(fields::edit_distance(piece, label));
            }
        }
    }
    best
}

fn find_label<'a>(lines: &'a [Line], label: &str) -> Option<(&'a Line, u32, bool)> {
    // Exact first; then the label misread: one slip in a short label, two in a long one,
    // the closest line winning.
    let chars: Vec<char> = label.chars().collect();
    let allowed = if chars.len() >= 4 { 2 } else { 1 };
    for exact in [true, false] {
        let mut candidates: Vec<(usize, &Line)> = Vec::new();
        for l in lines {
            let text: String = fields::compact(&l.text);
            if exact {
                if text.contains(label) {
                    candidates.push((0, l));
                }
            } else {
                let t: Vec<char> = text.chars().collect();
                let d = label_distance(&t, &chars);
                // Closer to this label than to any other (保護者氏名 is two slips from
                // 児童氏名 too).
                let others = LABELS
                    .iter()
                    .filter(|(o, _)| *o != label)
                    .map(|(o, _)| label_distance(&t, &o.chars().collect::<Vec<_>>()))
                    .min()
                    .unwrap_or(usize::MAX);
                if d <= allowed && d < others {
                    candidates.push((d, l));
                }
            }
        }
        candidates.sort_by_key(|(d, _)| *d);
        for (_, l) in candidates {
            let text: String = fields::compact(&l.text);
            // 住所 also occurs inside other words; found exactly it must start the line.
            if !exact || label != "住所" || text.starts_with("住所") {
                let (x, run_on) = label_end(l, chars.len());
                return Some((l, x, run_on));
            }
        }
    }
    None
}

/// Where the value starts on a label's line: after the word that completes the label's
/// `n` characters; when that word runs on into the value (「虐待の種別：心理的虐待」 read as
/// one word) the word is split in proportion to its characters, and `true` says so (the
/// split is only as good as the characters recognised in the word).
fn label_end(line: &Line, n: usize) -> (u32, bool) {
    let mut run_on = false;
    let mut seen = 0usize;
    let mut x = line.bbox[0];
    for w in &line.words {
        let k = fields::compact(&w.text).chars().count();
        x = w.bbox[0] + w.bbox[2];
        if seen + k >= n {
            let inside = n - seen;
            if k > inside {
                // Characters of a printed line are about the same width; half a character
                // more, into the separator (：) that follows a label (stripped later), so
                // that the label's last character stays out of the value's crop.
                let at = (2 * inside as u64 + 1).min(2 * k as u64);
                x = w.bbox[0] + (w.bbox[2] as u64 * at / (2 * k as u64)) as u32;
                run_on = true;
            }
            break;
        }
        seen += k;
    }
    (x, run_on)
}

fn strip_label(text: &str, label: &str) -> String {
    let t = fields::compact(text);
    let t = match t.find(label) {
        Some(i) => t[i + label.len()..].to_owned(),
        None => {
            // A misread label: drop as many characters as the label has.
            t.chars().skip(label.chars().count()).collect()
        }
    };
    t.trim_start_matches([':', '：', ';', '・', '|', '｜'])
        .to_owned()
}

/// Read the fields of one page.
pub fn read_page(engine: &mut Engine, page: &GrayImage) -> Result<NoticeFields, OcrError> {
    let prepared = clean::for_recognition(page);
    let scale = prepared.page.width() as f32 / page.width().max(1) as f32;
    let mut words = engine.words(&prepared.page, None, PageSegMode::PsmAuto, None)?;
    let mut page_img = prepared.page;
    let mut straight = prepared.straight;
    let mut turned_round = false;
    let found_in = |ws: &[Word]| {
        let ls = lines(ws);
        LABELS
            .iter()
            .filter(|(l, _)| find_label(&ls, l).is_some())
            .count()
    };
    // Upside down: an upside-down page reads as garbage, in which a label or two may still
    // be "found" with slips — so with fewer than half the labels found, the page turned
    // round is read too and the reading that finds more is kept.
    let mut found_first = found_in(&words);
    if found_first < LABELS.len().div_ceil(2) {
        let turned = image::imageops::rotate180(&page_img);
        let w2 = engine.words(&turned, None, PageSegMode::PsmAuto, None)?;
        let found_turned = found_in(&w2);
        tracing::debug!(found_first, found_turned, "page read turned round");
        if found_turned > found_first {
            words = w2;
            page_img = turned;
            straight = image::imageops::rotate180(&straight);
            turned_round = true;
            found_first = found_turned;
        }
    }
    // Labels lost (blur, speckle and faint toner together): read the page once more,
    // binarised with rules and larger specks removed, and keep the reading that finds more.
    // The reading not kept still serves the header (date, sender) if the kept one lost it.
    let mut other_words: Vec<Word> = Vec::new();
    if found_first < LABELS.len() {
        let alt = clean::binary_for_recognition(&page_img);
        let w2 = engine.words(&alt, None, PageSegMode::PsmAuto, None)?;
        let found_alt = found_in(&w2);
        tracing::debug!(
            found_first,
            found_alt,
            "second layout pass on the binarised page"
        );
        if found_alt > found_first {
            other_words = std::mem::replace(&mut words, w2);
        } else {
            other_words = w2;
        }
    }
    let lines = lines(&words);
    let other_lines = lines_of_other(&other_words);
    for l in &lines {
        tracing::debug!(text = %l.text, bbox = ?l.bbox, words = l.words.len(), "recognised line");
    }
    // Boxes go back to the page as given: unscaled and, for a page read turned round,
    // turned back (so that a crop of the original shows the field).
    let (cw, ch) = page_img.dimensions();
    let back = |b: [u32; 4]| -> [u32; 4] {
        let f = 1.0 / scale;
        let b = if turned_round {
            [
                cw.saturating_sub(b[0] + b[2]),
                ch.saturating_sub(b[1] + b[3]),
                b[2],
                b[3],
            ]
        } else {
            b
        };
        [
            (b[0] as f32 * f) as u32,
            (b[1] as f32 * f) as u32,
            (b[2] as f32 * f) as u32,
            (b[3] as f32 * f) as u32,
        ]
    };
    let mut out = NoticeFields::default();
    let table_top = LABELS
        .iter()
        .filter_map(|(l, _)| find_label(&lines, l))
        .map(|(line, _, _)| line.bbox[1])
        .min()
        .unwrap_or(page_img.height());

    // Where each label's row is: found, or — when recognition dropped the label — inferred
    // from the found rows' spacing (the form's rows are evenly spaced).
    let found: Vec<Option<FoundLabel>> = LABELS
        .iter()
        .map(|(l, _)| {
            find_label(&lines, l).map(|(line, x, run_on)| (line.bbox, x, line.text.clone(), run_on))
        })
        .collect();
    let known: Vec<(usize, [u32; 4])> = found
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().map(|f| (i, f.0)))
        .collect();
    let spacing = {
        let mut gaps: Vec<f32> = known
            .windows(2)
            .map(|w| (w[1].1[1] as f32 - w[0].1[1] as f32) / (w[1].0 - w[0].0) as f32)
            .filter(|g| *g > 0.0)
            .collect();
        gaps.sort_by(f32::total_cmp);
        gaps.get(gaps.len() / 2).copied()
    };
    let median = |f: fn(&[u32; 4]) -> u32| {
        let mut v: Vec<u32> = known.iter().map(|k| f(&k.1)).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let (label_x, label_h) = (median(|b| b[0]), median(|b| b[3]).max(20));
    let page_right = (page_img.width() as f32 * 0.93) as u32;

    for (idx, (label, name)) in LABELS.iter().enumerate() {
        let (label_box, value_x, line_text, run_on) = match &found[idx] {
            Some(f) => f.clone(),
            None => {
                let (Some(sp), Some((j, jb))) =
                    (spacing, known.iter().min_by_key(|(j, _)| j.abs_diff(idx)))
                else {
                    continue;
                };
                let y = jb[1] as f32 + (idx as f32 - *j as f32) * sp;
                if y < 0.0 || y as u32 >= page_img.height() {
                    continue;
                }
                (
                    [label_x, y as u32, 1, label_h],
                    label_x,
                    String::new(),
                    false,
                )
            }
        };
        // The value: words right of the label on the same row (any line/block), by centre.
        let (ly0, ly1) = (label_box[1], label_box[1] + label_box[3]);
        let mut value_words: Vec<&Word> = lines
            .iter()
            .flat_map(|l| l.words.iter())
            .filter(|w| {
                let c = w.bbox[1] + w.bbox[3] / 2;
                // A speck read as a mark is small both ways (「一」 is wide, 「｜」 tall).
                let speck = w.bbox[2] < label_box[3] / 3 && w.bbox[3] < label_box[3] / 3;
                c >= ly0 && c <= ly1 && w.bbox[0] + w.bbox[2] / 2 > value_x && !speck
            })
            .collect();
        value_words.sort_by_key(|w| w.bbox[0]);
        let first_pass: String = if value_words.is_empty() {
            strip_label(&line_text, label)
        } else {
            value_words.iter().map(|w| w.text.as_str()).collect()
        };
        let first_conf = if value_words.is_empty() {
            0.5
        } else {
            value_words.iter().map(|w| w.conf).sum::<f32>() / value_words.len() as f32
        };
        let vb = value_words.iter().map(|w| w.bbox).reduce(union).unwrap_or([
            value_x,
            label_box[1],
            page_right.saturating_sub(value_x).max(1),
            label_box[3],
        ]);
        let inferred = found[idx].is_none();
        // The whole row is read again, label and all, when the label was not found (its
        // place inferred) or ran on into the value (where the value starts is a guess).
        let whole_row = inferred || run_on;
        let (vb, value_x) = if run_on {
            let right = (vb[0] + vb[2]).max(label_box[0] + label_box[2]);
            let left = label_box[0];
            ([left, label_box[1], right - left, label_box[3]], left)
        } else {
            (vb, value_x)
        };
        // Second pass on the crop alone, single line, characters fitting the field.
        let whitelist = match *name {
            _ if whole_row => None,
            "child_birth_date" => Some("0123456789令和平成昭元年月日."),
            "child_sex" => Some("男女性児子"),
            _ => None,
        };
        // The crop starts where the label ends, whatever the first pass grouped.
        let vb = if vb[0] < value_x {
            let right = vb[0] + vb[2];
            [value_x, vb[1], right.saturating_sub(value_x).max(1), vb[3]]
        } else {
            vb
        };
        let crop = padded(vb, 8, page_img.dimensions());
        // Missed words: the crop reaches the right of the form.
        let crop = [
            crop[0],
            crop[1],
            crop[2].max(page_right.saturating_sub(crop[0])),
            crop[3],
        ];
        let second = engine.words(&page_img, Some(crop), PageSegMode::PsmSingleLine, whitelist)?;
        let (mut second_text, second_conf) = joined(&second);
        if whole_row {
            // The whole row was read: the label is in it.
            second_text = strip_label(&second_text, label);
        }
        let mut candidates = vec![(second_text, second_conf), (first_pass, first_conf)];
        // Short fields with a closed form get a third reading of the crop, in block mode on
        // the page as scanned: a single-line pass over a wide, specked crop can lose the
        // line's start (or a lone character), which block mode finds first; and stretching
        // the contrast can merge two digits into one.
        if matches!(*name, "child_birth_date" | "child_sex" | "abuse_type") {
            let block = engine.words(&straight, Some(crop), PageSegMode::PsmSingleBlock, None)?;
            let (mut text, conf) = joined(&block);
            if whole_row {
                text = strip_label(&text, label);
            }
            candidates.push((text, conf));
        }
        match *name {
            "child_birth_date" => {
                for c in &mut candidates {
                    c.0 = day_mark(&c.0);
                }
                candidates = choose_date(candidates);
            }
            "abuse_type" => {
                // A closed vocabulary: every reading is compared with it and the closest
                // wins (a faint 「心理的虐待」 read as 「的直待」 is as close to 性的虐待 as to
                // anything).
                let closeness = |r: &str| fields::abuse_type(r).map_or(0.0, |(_, c)| c);
                candidates.sort_by(|a, b| closeness(&b.0).total_cmp(&closeness(&a.0)));
            }
            _ => {}
        }
        out_set(&mut out, name, normalise(name, &candidates, back(vb)));
    }

    // The notice date: a date line above the table; the sender: the line naming a station.
    // The date heads the page (the top fifth): a date lower down, with the labels lost, is
    // the birth date.
    let header = table_top.min(page_img.height() / 5);
    let looks_dated = |t: &str| {
        let t = fields::compact(t);
        ["令和", "平成", "昭和"].iter().any(|e| t.contains(e))
            || (t.contains('年') && t.contains('月'))
    };
    let header_lines = || {
        lines
            .iter()
            .chain(other_lines.iter())
            .filter(|l| l.bbox[1] < header)
    };
    let date_line = header_lines()
        .find(|l| wareki::parse(&day_mark(&l.text)).is_ok())
        .or_else(|| header_lines().find(|l| looks_dated(&l.text)));
    if let Some(l) = date_line {
        let conf = joined(&l.words).1;
        // The line once more on its own, single line, date characters only: digits are what
        // the page pass drops (11月 → 1月). Disagreeing readings: the one that kept more
        // characters, marked for review.
        let crop = padded(l.bbox, 10, page_img.dimensions());
        let again = engine.words(
            &page_img,
            Some(crop),
            PageSegMode::PsmSingleLine,
            Some("0123456789令和平成昭元年月日."),
        )?;
        // And as scanned, as a block: stretching the contrast can merge two digits (22 → 2).
        let block = engine.words(&straight, Some(crop), PageSegMode::PsmSingleBlock, None)?;
        let (again_text, again_conf) = joined(&again);
        let (block_text, block_conf) = joined(&block);
        let candidates = choose_date(vec![
            (day_mark(&l.text), conf),
            (day_mark(&again_text), again_conf),
            (day_mark(&block_text), block_conf),
        ]);
        out.notice_date = Some(normalise("notice_date", &candidates, back(l.bbox)));
    }
    let sender = lines
        .iter()
        .chain(other_lines.iter())
        .filter(|l| l.bbox[1] < table_top)
        .filter_map(|l| police_station(&l.text).map(|s| (l, s)))
        .min_by_key(|(_, (_, slips))| *slips);
    let sender = match sender {
        Some((l, (text, slips))) => Some((l.bbox, text, slips, joined(&l.words).1)),
        // No line reads as a station chief: the sender's line (right half, above the
        // table, not the date) is read again on its own, as scanned.
        None => reread_sender(
            engine,
            &straight,
            &lines,
            table_top,
            date_line.map(|l| l.bbox),
        )?,
    };
    if let Some((bbox, text, slips, conf)) = sender {
        // A repaired title is less certain than one read as printed.
        let conf = if slips > 0 { conf.min(0.75) } else { conf };
        out.reporting_agency = Some(normalise("reporting_agency", &[(text, conf)], back(bbox)));
    }
    Ok(out)
}

/// A police station is mostly named for the city or ward it serves, and a notice comes
/// from the child's: a station name one character off the name of a city (市) or ward (区)
/// in the child's address (「洪」 for 灘区, 「船」 for 船橋市, 「清和」 for 浦和区) is taken
/// to be that name. `sender` is 「…警察署長」; None when nothing is repaired. The address
/// must be one to trust (the register's, not one read from the same page).
pub fn station_from_address(sender: &str, address: &str) -> Option<String> {
    let station: Vec<char> = sender.strip_suffix("警察署長")?.chars().collect();
    if station.is_empty() {
        return None;
    }
    // The address after its prefecture, cut after each 市 and 区.
    let rest = fields::PREFECTURES
        .iter()
        .find_map(|p| address.strip_prefix(p))
        .unwrap_or(address);
    let mut places: Vec<Vec<char>> = Vec::new();
    let mut cur = Vec::new();
    for c in rest.chars() {
        if c == '市' || c == '区' {
            if !cur.is_empty() {
                places.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
        if places.len() == 2 {
            break;
        }
    }
    if places.contains(&station) {
        return None;
    }
    let near: Vec<&Vec<char>> = places
        .iter()
        .filter(|p| fields::edit_distance(p, &station) == 1)
        .collect();
    match near.as_slice() {
        [one] => Some(format!("{}警察署長", one.iter().collect::<String>())),
        _ => None,
    }
}

/// The sender's line read again: each line of the page head's right half (not the date's)
/// on its own crop of the page as scanned, single line then block, until one names a
/// police station chief. Returns its box, text, slips repaired and confidence.
fn reread_sender(
    engine: &mut Engine,
    straight: &GrayImage,
    lines: &[Line],
    table_top: u32,
    date: Option<[u32; 4]>,
) -> Result<Option<Sender>, OcrError> {
    let half = straight.width() / 2;
    let heads = lines.iter().filter(|l| {
        l.bbox[1] + l.bbox[3] <= table_top
            && l.bbox[0] + l.bbox[2] / 2 > half
            && Some(l.bbox) != date
            && !fields::compact(&l.text).contains("通告書")
    });
    for l in heads {
        let crop = padded(l.bbox, 10, straight.dimensions());
        for psm in [PageSegMode::PsmSingleLine, PageSegMode::PsmSingleBlock] {
            let (text, conf) = joined(&engine.words(straight, Some(crop), psm, None)?);
            if let Some((station, slips)) = police_station(&text) {
                return Ok(Some((l.bbox, station, slips, conf)));
            }
        }
    }
    Ok(None)
}

/// `b` grown by `pad` on every side, kept inside a `w`×`h` page.
fn padded(b: [u32; 4], pad: u32, (w, h): (u32, u32)) -> [u32; 4] {
    let (x, y) = (b[0].saturating_sub(pad), b[1].saturating_sub(pad));
    [
        x,
        y,
        (b[2] + 2 * pad).min(w.saturating_sub(x)),
        (b[3] + 2 * pad).min(h.saturating_sub(y)),
    ]
}

/// The text of some words and their mean confidence.
fn joined(words: &[Word]) -> (String, f32) {
    let text = words.iter().map(|w| w.text.as_str()).collect();
    let conf = words.iter().map(|w| w.conf).sum::<f32>() / words.len().max(1) as f32;
    (text, conf)
}

/// The part of a reading that is the date: from the era name (or the first digit) to the
/// last 日; marks read from the rules around the cell fall outside.
fn date_text(raw: &str) -> &str {
    let start = ["令和", "平成", "昭和"]
        .iter()
        .filter_map(|e| raw.find(e))
        .min()
        .or_else(|| raw.find(|c: char| c.is_ascii_digit()));
    let t = start.map_or(raw, |i| &raw[i..]);
    t.rfind('日').map_or(t, |i| &t[..i + '日'.len_utf8()])
}

/// Several readings of one date, ordered for [`normalise`] (the first that parses wins).
/// Digits are what recognition drops (「11月」 → 「1月」, 「22日」 → 「2日」) far more often than
/// it invents them, so the reading whose date kept the most digits comes first; when the
/// readings that parse do not all agree, every confidence is lowered so that the clerk
/// reviews the date.
fn choose_date(mut readings: Vec<(String, f32)>) -> Vec<(String, f32)> {
    let digits = |r: &str| {
        let c = fields::compact(r);
        let t = c.trim_start_matches(|ch: char| !ch.is_alphanumeric());
        date_text(t).chars().filter(char::is_ascii_digit).count()
    };
    let parsed: Vec<Option<String>> = readings
        .iter()
        .map(|(r, _)| {
            let c = fields::compact(r);
            wareki::parse(date_text(&c)).ok()
        })
        .collect();
    let mut distinct: Vec<&String> = parsed.iter().flatten().collect();
    distinct.sort();
    distinct.dedup();
    let disagree = distinct.len() > 1;
    let mut order: Vec<usize> = (0..readings.len()).collect();
    // Stable: among equals the given order (the most trusted reading first) stays.
    order.sort_by_key(|i| {
        (
            parsed[*i].is_none(),
            std::cmp::Reverse(digits(&readings[*i].0)),
        )
    });
    if disagree {
        for r in &mut readings {
            r.1 *= 0.7;
        }
    }
    order.into_iter().map(|i| readings[i].clone()).collect()
}

/// A date whose closing 日 was misread (「8月14昌」, 「1月27昌ーーー」 with the cell's rule
/// after it): the one character after the day's digits at the end of the text, rule marks
/// aside, is the 日.
fn day_mark(text: &str) -> String {
    let t = fields::compact(text);
    let chars: Vec<char> = t
        .trim_end_matches(|c: char| {
            !c.is_alphanumeric() || matches!(c, 'ー' | '一' | '｜' | '|' | '「' | '」')
        })
        .chars()
        .collect();
    let Some(m) = chars.iter().rposition(|c| *c == '月') else {
        return t;
    };
    let digits = chars[m + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if (1..=2).contains(&digits)
        && chars.len() == m + 1 + digits + 1
        && chars[chars.len() - 1] != '日'
    {
        let mut fixed: String = chars[..chars.len() - 1].iter().collect();
        fixed.push('日');
        return fixed;
    }
    t
}

/// Lines of the reading not kept (empty when there was one reading).
fn lines_of_other(words: &[Word]) -> Vec<Line> {
    if words.is_empty() {
        Vec::new()
    } else {
        lines(words)
    }
}

/// The sender of a police notice is a station chief: 「○○警察署長」. A line ending in that
/// title read with one slip (警家署長, 警察長, 警察署畏) is repaired; the addressee (…殿) and
/// other lines are not senders. Returns the text and the number of slips repaired.
fn police_station(line: &str) -> Option<(String, usize)> {
    let t = fields::compact(line);
    if t.contains('殿') || t.contains("相談所") {
        return None;
    }
    let t: Vec<char> = t
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .collect();
    if t.ends_with(&['警', '察', '署', '長']) {
        return (t.len() > 4).then(|| (t.iter().collect(), 0));
    }
    if t.ends_with(&['警', '察', '署']) {
        return (t.len() > 3).then(|| (t.iter().collect(), 0));
    }
    let title: Vec<char> = "警察署長".chars().collect();
    for n in [4usize, 3, 5] {
        if t.len() <= n {
            continue;
        }
        let tail = &t[t.len() - n..];
        let d = fields::edit_distance(tail, &title);
        // Two slips only when 署長 itself was read as printed (船橋菅家署長).
        if d <= 1 || (d == 2 && n == 4 && tail.ends_with(&['署', '長'])) {
            let station: String = t[..t.len() - n].iter().collect();
            return Some((format!("{station}警察署長"), d));
        }
    }
    None
}

fn out_set(out: &mut NoticeFields, name: &str, f: Field) {
    let slot = match name {
        "child_name" => &mut out.child_name,
        "child_birth_date" => &mut out.child_birth_date,
        "child_sex" => &mut out.child_sex,
        "child_address" => &mut out.child_address,
        "guardian_name" => &mut out.guardian_name,
        "abuse_type" => &mut out.abuse_type,
        _ => &mut out.summary,
    };
    *slot = Some(f);
}

/// Normalise the best candidate: the first that normalises, with its confidence; a field
/// that does not normalise keeps its raw text with a low confidence.
fn normalise(name: &str, candidates: &[(String, f32)], bbox: [u32; 4]) -> Field {
    let mut fallback: Option<Field> = None;
    for (raw, conf) in candidates {
        // The separator after a label is often read as a leading mark.
        let raw = fields::compact(raw)
            .trim_start_matches([
                ':', '：', ';', '・', '、', '。', ',', '.', '|', '｜', '-', '一', '_', '"', '\'',
                '`',
            ])
            .to_owned();
        let value: Option<(String, f32)> = match name {
            "notice_date" | "child_birth_date" => {
                wareki::parse(date_text(&raw)).ok().map(|v| (v, *conf))
            }
            "child_sex" => fields::sex(&raw).map(|v| (v.to_owned(), *conf)),
            "abuse_type" => {
                fields::abuse_type(&raw).map(|(k, c)| (k.as_str().to_owned(), conf * c as f32))
            }
            "reporting_agency" => {
                let v = raw.trim_end_matches('殿').to_owned();
                (!v.is_empty()).then_some((v, *conf))
            }
            "child_address" => {
                let junk = |c: char| {
                    !(c.is_alphanumeric() || ('\u{3040}'..='\u{9FFF}').contains(&c)) || c == 'ー'
                };
                let mut trimmed = raw.trim_matches(junk);
                // A prefecture a few characters in: what precedes it is noise.
                if let Some(i) = fields::PREFECTURES
                    .iter()
                    .filter_map(|p| trimmed.find(p))
                    .min()
                    .filter(|i| *i > 0 && *i <= 9)
                {
                    trimmed = &trimmed[i..];
                }
                let repaired = fields::repair_address(trimmed, &[]);
                let (a, known) = fields::address(&repaired, &[]);
                (!a.is_empty()).then_some((a, if known { *conf } else { conf * 0.5 }))
            }
            "summary" => {
                let t = raw.trim_end_matches(|c: char| {
                    !(c.is_alphanumeric() || ('\u{3040}'..='\u{9FFF}').contains(&c) || c == '。')
                });
                // Marks after the text: speck dots, quotes, the cell's rule read as ー.
                let t = t.trim_end_matches(['・', '“', '”', '「', '」', '(', ')', '|']);
                let stem = t.trim_end_matches('ー');
                let t = if stem
                    .chars()
                    .last()
                    .is_some_and(|c| !('\u{30A0}'..='\u{30FF}').contains(&c))
                {
                    stem
                } else {
                    t
                };
                (!t.is_empty()).then(|| (t.to_owned(), *conf))
            }
            _ => {
                let n = fields::name(&raw);
                (!n.is_empty()).then_some((n, *conf))
            }
        };
        match value {
            Some((v, c)) => {
                return Field {
                    value: Some(v),
                    confidence: c,
                    bbox,
                    review: c < REVIEW_BELOW,
                    raw,
                };
            }
            None => {
                if fallback.is_none() {
                    fallback = Some(Field {
                        value: None,
                        confidence: 0.0,
                        bbox,
                        review: true,
                        raw,
                    });
                }
            }
        }
    }
    fallback.unwrap_or(Field {
        value: None,
        confidence: 0.0,
        bbox,
        review: true,
        raw: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::police_station;

    #[test]
    fn the_date_reading_that_kept_most_digits_wins_and_disagreement_means_review() {
        let r = |s: &str, c: f32| (s.to_owned(), c);
        // Two readings dropped a 1 of 11月; the block reading kept it.
        let got = super::choose_date(vec![
            r("令和7年1月1日", 0.9),
            r("令和7年1月1日", 0.9),
            r(": 令和7年11月1日", 0.8),
        ]);
        assert_eq!(got[0].0, ": 令和7年11月1日");
        assert!(got.iter().all(|c| c.1 < 0.8), "{got:?}");
        // Agreement keeps the given order and the confidences.
        let got = super::choose_date(vec![r("平成23年12月12日", 0.9), r("平成23年12月12日", 0.6)]);
        assert_eq!(
            got,
            vec![r("平成23年12月12日", 0.9), r("平成23年12月12日", 0.6)]
        );
        // A reading that does not parse goes last, whatever its digits.
        let got = super::choose_date(vec![r("5 昌78和2 12日", 0.9), r("平成23年12月12日", 0.5)]);
        assert_eq!(got[0].0, "平成23年12月12日");
        assert_eq!(got[0].1, 0.5);
    }

    #[test]
    fn a_label_run_on_into_its_value_is_split_by_characters() {
        let word = |t: &str, x: u32, w: u32| super::Word {
            text: t.into(),
            conf: 0.9,
            bbox: [x, 100, w, 40],
            line: (1, 1, 1),
        };
        let line = |words: Vec<super::Word>| super::Line {
            text: words.iter().map(|w| w.text.as_str()).collect(),
            bbox: [100, 100, 500, 40],
            words,
        };
        // Label and value in one word of ten characters, 40 px each.
        let one = line(vec![word("虐待の種別：心理的虐待", 100, 440)]);
        assert_eq!(super::label_end(&one, 5), (320, true));
        // The label as words of its own: the value starts after the last of them.
        let split = line(vec![
            word("虐待の", 100, 120),
            word("種別", 220, 80),
            word("：心理的虐待", 300, 240),
        ]);
        assert_eq!(super::label_end(&split, 5), (300, false));
    }

    #[test]
    fn a_station_one_slip_from_the_childs_city_or_ward_is_repaired() {
        use super::station_from_address as fix;
        let kobe = "兵庫県神戸市灘区六甲台町5丁目11番12号";
        assert_eq!(fix("洪警察署長", kobe).as_deref(), Some("灘警察署長"));
        assert_eq!(fix("灘警察署長", kobe), None, "read as printed");
        assert_eq!(
            fix("船警察署長", "千葉県船橋市本町1丁目1番1号").as_deref(),
            Some("船橋警察署長")
        );
        assert_eq!(
            fix("清和警察署長", "埼玉県さいたま市浦和区高砂4丁目28番19号").as_deref(),
            Some("浦和警察署長")
        );
        // Far from every place named, or no station read: nothing to repair.
        assert_eq!(
            fix("浜松中央警察署長", "静岡県浜松市中区元城町1番1号"),
            None
        );
        assert_eq!(fix("警察署長", kobe), None);
    }

    #[test]
    fn a_misread_closing_day_mark_is_restored() {
        assert_eq!(super::day_mark("、令和6年8月14昌"), "、令和6年8月14日");
        assert_eq!(super::day_mark("令和6年8月14日"), "令和6年8月14日");
        assert_eq!(super::day_mark("8月"), "8月");
        assert_eq!(
            super::day_mark("平成25年1月27昌ーーーー"),
            "平成25年1月27日"
        );
        // Anything else after the digits: not a day mark, left as read.
        assert_eq!(
            super::day_mark("令和5年3月25晶ーーテーー"),
            "令和5年3月25晶ーーテーー"
        );
    }

    #[test]
    fn the_sender_is_a_station_chief_read_with_at_most_one_slip() {
        assert_eq!(
            police_station("港北警察署長"),
            Some(("港北警察署長".into(), 0))
        );
        assert_eq!(
            police_station("港北警家署長"),
            Some(("港北警察署長".into(), 1))
        );
        assert_eq!(police_station("灘警察長"), Some(("灘警察署長".into(), 1)));
        assert_eq!(
            police_station("船橋菅家署長"),
            Some(("船橋警察署長".into(), 2))
        );
        assert_eq!(police_station("船橋相談所長"), None);
        assert_eq!(police_station("みどり児童相談所長殿"), None);
        assert_eq!(police_station("令和6年2月27日"), None);
        assert_eq!(police_station("警察署長"), None, "no station named");
    }
}
