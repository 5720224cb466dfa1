//! Reading a notice: clean the page, recognise it once, find its layout ([`super::layout`]:
//! segments, ruled lines, labels from a dictionary of variants, sections), take each value
//! from its own geometry, read marked options from the ink ([`super::marks`]), normalise,
//! and give every field a confidence and the box it came from. Only a value that does not
//! come out in its field's form (and every date: digits are what recognition drops) is read
//! again on its own crop. A field below its threshold ([`review_below`]) is marked for
//! review.

use image::GrayImage;
use serde::Serialize;

use imageproc::contrast::otsu_level;

use super::layout::{self, Label, LabelMatch, Rules, Section, Segment};
use super::{fields, marks, wareki};
use crate::scan::clean;
use crate::scan::ocr::{Engine, OcrError, PageSegMode, Word};

/// The fields of a notice, in the order of the CLI's JSON and the scorer's table (the
/// protocol's list: what is read is what a saved case holds).
pub use checkup_protocol::notice::NOTICE_FIELDS as FIELD_NAMES;

/// Fields below this confidence are marked for the clerk's review.
pub const REVIEW_BELOW: f32 = 0.80;

/// Each field's review threshold, calibrated on the tuning corpora (`notice-calibrate`,
/// docs/benchmarks.md: 102 pages of the families render_colon, render_table, docx_sections,
/// xlsx_grid, docx_letter, 2026-12-01): the lowest confidence at which the fields read at
/// or above it were at least 99.5 % right. `f32::INFINITY`: no threshold got there, every
/// value is reviewed (unless the resident register confirms it).
pub const REVIEW_BELOW_BY_FIELD: [(&str, f32); 9] = [
    ("notice_date", 0.496),           // 95/95 right at or above, 95 of 102 kept
    ("reporting_agency", 0.732),      // 49/49 right at or above, 49 of 102 kept
    ("child_name", 0.965),            // 1/1 right at or above: names are the register's to confirm
    ("child_birth_date", 0.650),      // 88/88 right at or above, 88 of 102 kept
    ("child_sex", 0.461),             // 86/86 right at or above, 86 of 102 kept
    ("child_address", 0.928),         // 33/33 right at or above, 33 of 102 kept
    ("guardian_name", f32::INFINITY), // none: always reviewed unless the register confirms it
    ("abuse_type", 0.735),            // 78/78 right at or above, 78 of 102 kept
    ("summary", 0.932),               // 55/55 right at or above, 55 of 102 kept
];

/// The confidence below which `field` goes to the clerk's review.
pub fn review_below(field: &str) -> f32 {
    REVIEW_BELOW_BY_FIELD
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(REVIEW_BELOW, |(_, t)| *t)
}

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

/// A page as recognised: the images it was read from, its words cut into segments, the
/// ruled lines, and what each segment is (a label, a section heading).
struct Page {
    /// Working size, straightened, rules and specks whitened: what recognition reads.
    img: GrayImage,
    /// The same geometry as scanned (strokes as they are, marks and rules kept).
    straight: GrayImage,
    /// Grey level below which a pixel of `straight` is ink.
    level: u8,
    /// Text height.
    h: u32,
    rules: Rules,
    segs: Vec<Segment>,
    labels: Vec<Option<LabelMatch>>,
    sections: Vec<Option<Section>>,
}

impl Page {
    /// `bin`: `straight` binarised, rules kept.
    fn new(img: GrayImage, straight: GrayImage, bin: &GrayImage, words: &[Word]) -> Page {
        let h = layout::text_height(words);
        let level = otsu_level(&straight);
        // A rule is longer than a few characters (horizontal) or taller than a line of
        // text (vertical: a cell's side).
        let rules = layout::find_rules(bin, 5 * h, h * 3 / 2);
        let mut segs = layout::segments(words, &rules, 2 * h);
        merge_spaced_labels(&mut segs, h);
        let sections: Vec<Option<Section>> = (0..segs.len())
            .map(|i| section_heading(&segs, &rules, i, h))
            .collect();
        // A heading is not a label (「児童」 is one slip from 児童名), unless it is one as
        // printed (「通告の理由」 heads the reason and labels it).
        let labels: Vec<Option<LabelMatch>> = segs
            .iter()
            .zip(&sections)
            .map(|(s, sec)| {
                layout::match_label(&s.text)
                    .or_else(|| spaced_label(&s.text))
                    .filter(|m| sec.is_none() || m.slips == 0 && m.label == Label::Summary)
            })
            .collect();
        let labels = second_chance_labels(&segs, labels, h);
        Page {
            img,
            straight,
            level,
            h,
            rules,
            segs,
            labels,
            sections,
        }
    }

    /// Distinct field labels found: how well this reading of the page went.
    fn found(&self) -> usize {
        let mut kinds: Vec<Label> = self.labels.iter().flatten().map(|m| m.label).collect();
        kinds.sort_by_key(|l| *l as u8);
        kinds.dedup();
        kinds.len()
    }

    /// Segments on the row of segment `i` (centres within its band), right of it.
    fn right_of(&self, i: usize) -> Vec<usize> {
        let s = &self.segs[i];
        let (top, bottom) = (
            s.bbox[1].saturating_sub(self.h / 2),
            s.bottom() + self.h / 2,
        );
        let mut v: Vec<usize> = (0..self.segs.len())
            .filter(|&j| j != i)
            .filter(|&j| {
                let o = &self.segs[j];
                let c = o.mid_y();
                let on_row = c >= top && c <= bottom;
                o.bbox[0] + self.h / 4 >= s.right()
                    && lettered(&o.text)
                    && (on_row || self.same_cell_row(o, s.mid_y()))
            })
            .collect();
        v.sort_by_key(|&j| self.segs[j].bbox[0]);
        v
    }

    /// `o` stands at the top of a ruled cell (no taller than a few lines, closed on its
    /// left by a rule that runs from `o` down to `y`) whose band takes in `y`: a value
    /// written from the top of a tall cell beside a label centred in its row.
    fn same_cell_row(&self, o: &Segment, y: u32) -> bool {
        let x = o.bbox[0] + o.bbox[2] / 2;
        let closed_left = self.rules.vertical.iter().any(|r| {
            r.pos + 2 * self.h >= o.bbox[0]
                && r.pos <= o.bbox[0]
                && r.from <= o.bbox[1]
                && r.to >= y
        });
        match self.rules.band(x, o.bbox[1], o.bottom()) {
            (Some(above), Some(below)) => {
                closed_left
                    && above < y
                    && y < below
                    && below - above <= 8 * self.h
                    && o.bbox[1] < y
            }
            _ => false,
        }
    }

    /// A segment that is a label or a heading: where a value ends.
    fn is_marker(&self, j: usize) -> bool {
        self.labels[j].is_some() || self.sections[j].is_some()
    }
}

/// A label spread to its cell's width (「性　別」) whose space was read as a stop or a dot
/// (「性。別」): the segment alone, without them, is exactly a label.
fn spaced_label(text: &str) -> Option<LabelMatch> {
    let n = text.chars().count();
    if n > 8 {
        return None;
    }
    let bare: String = text
        .chars()
        .filter(|c| !matches!(c, '。' | '、' | '・' | '･' | '.' | ',' | '\'' | '"' | '`'))
        .collect();
    if bare.chars().count() == n {
        return None;
    }
    let m = layout::match_label(&bare)?;
    (m.slips == 0 && m.consumed == bare.chars().count()).then_some(LabelMatch { consumed: n, ..m })
}

/// Two-character labels (住所, 性別, 氏名) are matched exactly on the first look: one slip in
/// two characters could be anything. A short segment standing in the labels' column (its
/// left edge within a character of a found label's) with one of the two characters read
/// is taken for the label on a second look (「住財」 for 住所).
fn second_chance_labels(
    segs: &[Segment],
    mut labels: Vec<Option<LabelMatch>>,
    h: u32,
) -> Vec<Option<LabelMatch>> {
    let columns: Vec<u32> = segs
        .iter()
        .zip(&labels)
        .filter(|(_, l)| l.is_some())
        .map(|(s, _)| s.bbox[0])
        .collect();
    for (i, s) in segs.iter().enumerate() {
        if labels[i].is_some() || !columns.iter().any(|x| x.abs_diff(s.bbox[0]) <= h) {
            continue;
        }
        let t: Vec<char> = s.text.chars().filter(|c| c.is_alphanumeric()).collect();
        if t.len() != 2 {
            continue;
        }
        let hits: Vec<&(&'static str, Label)> = layout::LABELS
            .iter()
            .filter(|(p, _)| {
                let p: Vec<char> = p.chars().collect();
                p.len() == 2 && (p[0] == t[0]) != (p[1] == t[1])
            })
            .collect();
        // Only when one label fits.
        if let [(printed, label)] = hits.as_slice() {
            labels[i] = Some(LabelMatch {
                label: *label,
                printed,
                consumed: s.text.chars().count(),
                slips: 1,
            });
        }
    }
    labels
}

/// Text with a letter or digit in it (not a speck, stop or rule end read as a mark).
fn lettered(t: &str) -> bool {
    t.chars()
        .any(|c| c.is_alphanumeric() && c != 'ー' && c != '一')
}

/// 「氏　　名」: a label printed with spaces between its characters is cut at the gap; the
/// pieces are joined again when together (and only together) they start with a label.
fn merge_spaced_labels(segs: &mut Vec<Segment>, h: u32) {
    let mut i = 0;
    while i + 1 < segs.len() {
        let (a, b) = (&segs[i], &segs[i + 1]);
        let same_row = a.mid_y().abs_diff(b.mid_y()) < h / 2 && b.bbox[0] > a.bbox[0];
        let short = a.text.chars().count() <= 3;
        if same_row && short && layout::match_label(&a.text).is_none() {
            let joined = format!("{}{}", a.text, b.text);
            if layout::match_label(&joined).is_some_and(|m| m.consumed > a.text.chars().count()) {
                let mut words = segs[i].words.clone();
                words.extend(segs[i + 1].words.iter().cloned());
                let merged = Segment {
                    text: joined,
                    bbox: layout::union(segs[i].bbox, segs[i + 1].bbox),
                    words,
                };
                segs[i] = merged;
                segs.remove(i + 1);
                continue;
            }
        }
        i += 1;
    }
}

/// The section segment `i` heads: alone (「１ 児童」), or with the pieces below it in the same
/// cell where a narrow side column broke the heading over lines (「２ 保」「護者」).
fn section_heading(segs: &[Segment], rules: &Rules, i: usize, h: u32) -> Option<Section> {
    let s = &segs[i];
    if let Some(sec) = layout::match_section(&s.text) {
        return Some(sec);
    }
    if s.text.chars().count() > 3 {
        return None;
    }
    let mut text = s.text.clone();
    let mut bottom = s.bottom();
    for _ in 0..3 {
        let next = segs.iter().find(|o| {
            o.bbox[1] >= bottom.saturating_sub(h / 4)
                && o.bbox[1] <= bottom + h
                && o.bbox[0] < s.right()
                && o.right() > s.bbox[0]
                && o.text.chars().count() <= 3
        })?;
        // No rule between: the same cell.
        let x = (next.bbox[0] + next.right()) / 2;
        let (_, below) = rules.band(x, bottom, bottom);
        if below.is_some_and(|b| b < next.bbox[1]) {
            return None;
        }
        text.push_str(&next.text);
        bottom = next.bottom();
        if let Some(sec) = layout::match_section(&text) {
            return Some(sec);
        }
    }
    None
}

/// The section each labelled segment stands in: a heading beside it (a side column of the
/// table, as far down as its merged cell reaches), else the nearest heading above it.
fn section_of(page: &Page, i: usize) -> Option<Section> {
    let s = &page.segs[i];
    let h = page.h;
    let mut best: Option<(u32, Section)> = None;
    for (j, sec) in page.sections.iter().enumerate() {
        let Some(sec) = sec else { continue };
        if j == i {
            continue;
        }
        let hd = &page.segs[j];
        // A side heading: left of the label, its (ruled) cell reaching the label's row.
        if hd.right() <= s.bbox[0] + h / 2 {
            let (above, below) =
                page.rules
                    .band(hd.bbox[0] + hd.bbox[2] / 2, hd.bbox[1], hd.bottom());
            if let (Some(a), Some(b)) = (above, below)
                && b > a + 2 * h
                && s.mid_y() > a
                && s.mid_y() < b
            {
                return Some(*sec);
            }
        }
        // A heading above: the nearest.
        if hd.bottom() <= s.bbox[1] + h / 2 {
            let d = s.bbox[1].saturating_sub(hd.bottom());
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, *sec));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// Where a field's value was found.
struct Value {
    text: String,
    conf: f32,
    bbox: [u32; 4],
    words: Vec<Word>,
}

impl Value {
    fn of(words: Vec<Word>) -> Option<Value> {
        let text: String = words.iter().map(|w| fields::compact(&w.text)).collect();
        let text = layout::strip_separators(&text).to_owned();
        // Marks alone (a speck, a stop, a rule's end) are no value.
        if !text
            .chars()
            .any(|c| c.is_alphanumeric() && c != 'ー' && c != '一')
        {
            return None;
        }
        let conf = words.iter().map(|w| w.conf).sum::<f32>() / words.len().max(1) as f32;
        let bbox = words.iter().map(|w| w.bbox).reduce(layout::union)?;
        Some(Value {
            text,
            conf,
            bbox,
            words,
        })
    }
}

/// The value of the label in segment `i`: after the label in its own segment, else in the
/// segments to its right up to the next label (with, for a long field, the further lines of
/// its ruled cell), else on the lines below it up to the next label.
fn value_of(page: &Page, i: usize, m: &LabelMatch, long: bool) -> Option<Value> {
    let s = &page.segs[i];
    let h = page.h;
    if let Some(v) = Value::of(layout::words_after(&s.words, m.consumed)) {
        // A long value may go on below, in its cell or under the label's line.
        if !long {
            return Some(v);
        }
        let mut words = v.words.clone();
        words.extend(continuation(page, i, v.bbox[0], v.bbox[1] + v.bbox[3]));
        return Value::of(words);
    }
    // To the right: a long value takes every segment up to the next label; a short one the
    // segments that follow each other closely (a name cut at the space in it), not the next
    // cell's misread label.
    let mut right: Vec<usize> = Vec::new();
    for j in page.right_of(i) {
        if page.is_marker(j) {
            break;
        }
        if !long && let Some(&prev) = right.last() {
            let (a, b) = (page.segs[prev].right(), page.segs[j].bbox[0]);
            let y = page.segs[j].mid_y();
            if b > a + 3 * h || page.rules.vertical_between(a.saturating_sub(2), b + 2, y) {
                break;
            }
        }
        right.push(j);
    }
    if !right.is_empty() {
        let mut words: Vec<Word> = right
            .iter()
            .flat_map(|&j| page.segs[j].words.iter().cloned())
            .collect();
        let first = &page.segs[right[0]];
        let left = first.bbox[0];
        let stop = page
            .right_of(i)
            .into_iter()
            .find(|&j| page.is_marker(j))
            .map(|j| page.segs[j].bbox[0]);
        if long {
            // Further lines of the value's cell (a ruled band), or lines just below; never
            // past the next label's row.
            let (_, below) = page.rules.band(left + h, first.bbox[1], first.bottom());
            let limit = below.unwrap_or(0);
            let next_row = next_label_top(page, first.bbox[1] + h / 2);
            let mut last = right
                .iter()
                .map(|&j| page.segs[j].bottom())
                .max()
                .unwrap_or(first.bottom());
            let mut more: Vec<usize> = (0..page.segs.len())
                .filter(|&j| !right.contains(&j) && j != i)
                .filter(|&j| {
                    let o = &page.segs[j];
                    o.bbox[1] > first.bbox[1] + h / 2
                        && o.bbox[0] + h >= left
                        && stop.is_none_or(|x| o.bbox[0] < x)
                })
                .collect();
            more.sort_by_key(|&j| page.segs[j].bbox[1]);
            for j in more {
                let o = &page.segs[j];
                let in_cell = limit > 0 && o.mid_y() < limit;
                let next_line = o.bbox[1] <= last + h * 6 / 10 + h / 2;
                if page.is_marker(j)
                    || o.mid_y() >= next_row
                    || !(in_cell || (limit == 0 && next_line))
                {
                    break;
                }
                last = last.max(o.bottom());
                words.extend(o.words.iter().cloned());
            }
        }
        return Value::of(words);
    }
    // Below the label.
    let mut below: Vec<usize> = (0..page.segs.len())
        .filter(|&j| {
            let o = &page.segs[j];
            lettered(&o.text)
                && o.bbox[1] + h / 4 >= s.bottom()
                && o.bbox[1] <= s.bottom() + h * 5 / 2
                && o.bbox[0] + 2 * h >= s.bbox[0]
                && o.bbox[0] < s.right() + 12 * h
        })
        .collect();
    below.sort_by_key(|&j| (page.segs[j].bbox[1], page.segs[j].bbox[0]));
    // The first line below, from its leftmost segment (a line cut in pieces at gaps is
    // read from the left, whichever piece stands a pixel higher).
    let top = page.segs[*below.first()?].mid_y();
    let first = below
        .iter()
        .copied()
        .filter(|&j| page.segs[j].mid_y().abs_diff(top) <= h / 2)
        .min_by_key(|&j| page.segs[j].bbox[0])?;
    if page.is_marker(first) {
        return None;
    }
    let f = &page.segs[first];
    let mut words: Vec<Word> = f.words.clone();
    // The rest of the value's line (a value cut at a gap).
    for j in page
        .right_of(first)
        .into_iter()
        .take_while(|&j| !page.is_marker(j))
    {
        words.extend(page.segs[j].words.iter().cloned());
    }
    if long {
        words.extend(continuation(page, first, f.bbox[0], f.bottom()));
    }
    Value::of(words)
}

/// The top of the first label or heading below `y` (anywhere across the page): where the
/// next row of the form starts.
fn next_label_top(page: &Page, y: u32) -> u32 {
    (0..page.segs.len())
        .filter(|&j| page.is_marker(j) && page.segs[j].bbox[1] > y)
        .map(|j| page.segs[j].bbox[1])
        .min()
        .unwrap_or(u32::MAX)
}

/// The lines that carry a long value on below `bottom`, starting near x `left`, up to the
/// next label, heading, gap or 以上.
fn continuation(page: &Page, from: usize, left: u32, bottom: u32) -> Vec<Word> {
    let h = page.h;
    let mut out = Vec::new();
    let mut last = bottom;
    let next_row = next_label_top(page, bottom.saturating_sub(h / 2));
    let mut next: Vec<usize> = (0..page.segs.len())
        .filter(|&j| j != from)
        .filter(|&j| {
            let o = &page.segs[j];
            lettered(&o.text)
                && o.bbox[1] + h / 4 >= last
                && o.bbox[0] + 2 * h >= left
                && o.bbox[0] < left + 4 * h
        })
        .collect();
    next.sort_by_key(|&j| page.segs[j].bbox[1]);
    for j in next {
        let o = &page.segs[j];
        if o.bbox[1] > last + h || o.mid_y() >= next_row {
            break;
        }
        // A rule between: the next cell.
        let (_, rule_below) = page.rules.band(o.bbox[0] + o.bbox[2] / 2, last, last);
        if rule_below.is_some_and(|r| r <= o.bbox[1] + o.bbox[3] / 4) {
            break;
        }
        if page.is_marker(j) || o.text.starts_with("以上") || o.text == "記" {
            break;
        }
        last = o.bottom();
        out.extend(o.words.iter().cloned());
    }
    out
}

/// The field a label stands for in its section, and how sure the label is of it (a label
/// that names its field beats one that names it only by section).
fn field_of(label: Label, section: Option<Section>, taken: &[&str]) -> Option<(&'static str, u8)> {
    let child_first = |f: &'static str, g: Option<&'static str>| match section {
        Some(Section::Guardian) => g.map(|g| (g, 2)),
        Some(Section::Reason) => None,
        // A second 氏名 under the child's heading: the heading of the guardian's section
        // was not read.
        Some(Section::Child) if taken.contains(&f) => g.map(|g| (g, 1)),
        Some(Section::Child) => Some((f, 2)),
        None if !taken.contains(&f) => Some((f, 1)),
        None => g.map(|g| (g, 1)),
    };
    match label {
        Label::ChildName => Some(("child_name", 3)),
        Label::GuardianName => Some(("guardian_name", 3)),
        Label::Name => child_first("child_name", Some("guardian_name")),
        Label::BirthDate => child_first("child_birth_date", None),
        Label::Sex => child_first("child_sex", None),
        Label::Address => child_first("child_address", None),
        Label::AbuseType => Some(("abuse_type", 3)),
        Label::Summary => Some(("summary", 2)),
        Label::NoticeDate => Some(("notice_date", 3)),
        _ => None,
    }
}

/// Read the fields of one page.
pub fn read_page(engine: &mut Engine, page: &GrayImage) -> Result<NoticeFields, OcrError> {
    let started = std::time::Instant::now();
    let prepared = clean::for_recognition(page);
    let scale = prepared.page.width() as f32 / page.width().max(1) as f32;
    let prepared_ms = started.elapsed().as_millis() as u64;
    let words = page_words(engine, &prepared.page, &prepared.text_only)?;
    let read_ms = started.elapsed().as_millis() as u64;
    let mut p = Page::new(prepared.page, prepared.straight, &prepared.binary, &words);
    tracing::debug!(
        prepared_ms,
        read_ms,
        layout_ms = started.elapsed().as_millis() as u64,
        "page read"
    );
    let mut turned_round = false;
    // Upside down: a page turned round reads as garbage in which a label or two may still
    // be "found" with slips; with few labels found the page is read turned round too and
    // the reading that finds more is kept.
    if p.found() < 3 {
        let img = image::imageops::rotate180(&p.img);
        let straight = image::imageops::rotate180(&p.straight);
        let text_only = image::imageops::rotate180(&prepared.text_only);
        let binary = image::imageops::rotate180(&prepared.binary);
        let w2 = page_words(engine, &img, &text_only)?;
        let turned = Page::new(img, straight, &binary, &w2);
        tracing::debug!(
            first = p.found(),
            turned = turned.found(),
            "page read turned round"
        );
        if turned.found() > p.found() {
            p = turned;
            turned_round = true;
        }
    }
    // Labels lost (blur, speckle and faint toner together): the page once more, binarised
    // with rules and larger specks removed; the reading that finds more is kept.
    if p.found() < 5 {
        let alt = clean::binary_for_recognition(&p.img);
        let w2 = page_words(engine, &alt, &alt)?;
        let binary = if turned_round {
            image::imageops::rotate180(&prepared.binary)
        } else {
            prepared.binary.clone()
        };
        let other = Page::new(alt, p.straight.clone(), &binary, &w2);
        tracing::debug!(first = p.found(), binarised = other.found(), "second pass");
        if other.found() > p.found() {
            p = other;
        }
    }
    for (i, s) in p.segs.iter().enumerate() {
        tracing::debug!(
            i,
            text = %s.text,
            bbox = ?s.bbox,
            label = ?p.labels[i].as_ref().map(|m| m.label),
            section = ?p.sections[i],
            "segment"
        );
    }
    // Boxes go back to the page as given: unscaled and, for a page read turned round,
    // turned back (so that a crop of the original shows the field).
    let (cw, ch) = p.img.dimensions();
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

    // Which label gives which field: in reading order, the surest label of each field.
    let mut order: Vec<usize> = (0..p.segs.len())
        .filter(|&i| p.labels[i].is_some())
        .collect();
    order.sort_by_key(|&i| (p.segs[i].bbox[1], p.segs[i].bbox[0]));
    let mut chosen: Vec<(&'static str, u8, usize)> = Vec::new();
    for i in order {
        let Some(m) = &p.labels[i] else { continue };
        let taken: Vec<&str> = chosen.iter().map(|c| c.0).collect();
        let Some((field, prio)) = field_of(m.label, section_of(&p, i), &taken) else {
            continue;
        };
        // 事案の概要 beats 通告の理由 (a heading with the summary under a label of its own).
        let prio = if m.label == Label::Summary && m.printed.contains("概要") {
            prio + 1
        } else {
            prio
        };
        // A label read as printed beats one read with slips.
        let prio = prio * 2 + u8::from(m.slips == 0);
        match chosen.iter_mut().find(|c| c.0 == field) {
            Some(c) if c.1 < prio => *c = (field, prio, i),
            Some(_) => {}
            None => chosen.push((field, prio, i)),
        }
    }

    tracing::debug!(?chosen, "fields by label");
    let mut out = NoticeFields::default();
    let mut used: Vec<usize> = Vec::new();
    for (field, _, i) in &chosen {
        let Some(m) = p.labels[*i].clone() else {
            continue;
        };
        let long = *field == "summary";
        let Some(v) = value_of(&p, *i, &m, long) else {
            continue;
        };
        // A summary is a sentence: a date or a label under a heading that only looks like
        // the summary's label (「通告内容」 over the notice date) is not one; the sentence is
        // then looked for as if its label were lost.
        if long && !summary_like(&v.text) {
            tracing::debug!(text = %v.text, "not a summary");
            continue;
        }
        used.push(*i);
        let f = read_value(engine, &p, field, &v)?;
        let f = Field {
            bbox: back(f.bbox),
            ..f
        };
        out_set(&mut out, field, f);
    }

    // The sex whose label was lost: a segment that is a sex alone (男, 女児 …) that no
    // label claims — for the clerk to confirm.
    if out.child_sex.is_none() {
        let alone = (0..p.segs.len()).find(|&j| {
            p.labels[j].is_none()
                && matches!(
                    p.segs[j].text.trim_matches(|c: char| !c.is_alphanumeric()),
                    "男" | "女" | "男児" | "女児" | "男性" | "女性" | "男子" | "女子"
                )
        });
        if let Some(j) = alone {
            let s = &p.segs[j];
            let f = normalise("child_sex", &[(s.text.clone(), s.conf() * 0.6)], s.bbox);
            out.child_sex = Some(Field {
                bbox: back(f.bbox),
                ..f
            });
        }
    }

    // The summary whose label was lost: the longest sentence on the page that no label
    // claims and that is not the form's own wording — for the clerk to confirm.
    if out.summary.is_none() {
        let claimed: Vec<usize> = (0..p.segs.len())
            .filter(|&k| p.labels[k].is_some())
            .flat_map(|k| p.right_of(k).into_iter().take(1))
            .collect();
        let boilerplate = ["通告します", "児童福祉法", "通告する", "下記", "について"];
        let sentence = (0..p.segs.len())
            .filter(|&j| p.labels[j].is_none() && p.sections[j].is_none() && !claimed.contains(&j))
            .filter(|&j| {
                let t = &p.segs[j].text;
                t.chars().count() >= 12
                    && !boilerplate.iter().any(|b| t.contains(b))
                    && !t.contains("警察")
            })
            .max_by_key(|&j| p.segs[j].text.chars().count());
        if let Some(j) = sentence {
            let s = &p.segs[j];
            let mut words = s.words.clone();
            words.extend(continuation(&p, j, s.bbox[0], s.bottom()));
            if let Some(v) = Value::of(words) {
                let f = normalise("summary", &[(v.text.clone(), v.conf * 0.6)], v.bbox);
                out.summary = Some(Field {
                    bbox: back(f.bbox),
                    ..f
                });
            }
        }
    }

    // The notice date without a label of its own: the topmost date on the page that no
    // other label claims (not the birth date, not a print or fax time).
    if out.notice_date.is_none() {
        let claimed = |j: usize| {
            let s = &p.segs[j];
            (0..p.segs.len()).any(|k| {
                p.labels[k]
                    .as_ref()
                    .is_some_and(|m| m.label != Label::NoticeDate)
                    && (k == j || p.right_of(k).first() == Some(&j))
            }) || s.text.contains("生")
        };
        let mut dated: Vec<usize> = (0..p.segs.len())
            .filter(|&j| !claimed(j))
            .filter(|&j| {
                let c = day_mark(&p.segs[j].text);
                wareki::parse(date_text(&c)).is_ok()
            })
            .collect();
        dated.sort_by_key(|&j| p.segs[j].bbox[1]);
        // None reads as a date (a handwritten one, say): the topmost line that looks dated,
        // read again on its own.
        if dated.is_empty() {
            let looks_dated = |t: &str| {
                ["令和", "平成", "昭和"].iter().any(|e| t.contains(e))
                    || (t.contains('年') && t.contains('月'))
                    || t.chars().filter(char::is_ascii_digit).count() >= 4 && t.contains('/')
            };
            let top = p.img.height() / 3;
            dated = (0..p.segs.len())
                .filter(|&j| !claimed(j) && p.segs[j].bbox[1] < top)
                .filter(|&j| looks_dated(&p.segs[j].text))
                .collect();
            dated.sort_by_key(|&j| p.segs[j].bbox[1]);
        }
        if let Some(&j) = dated.first() {
            let s = &p.segs[j];
            let v = Value {
                text: s.text.clone(),
                conf: s.conf(),
                bbox: s.bbox,
                words: s.words.clone(),
            };
            let f = read_value(engine, &p, "notice_date", &v)?;
            out.notice_date = Some(Field {
                bbox: back(f.bbox),
                ..f
            });
        }
    }

    // The sender: the segment naming a station chief with the fewest slips; failing that,
    // lines that mention a police station read again on their own, as scanned.
    let mut senders: Vec<(usize, String, usize)> = (0..p.segs.len())
        .filter_map(|j| {
            let text = sender_text(&p, j);
            police_station(&text).map(|(s, slips)| (j, s, slips))
        })
        .collect();
    senders.sort_by_key(|(j, _, slips)| (*slips, std::cmp::Reverse(p.segs[*j].bbox[1])));
    let mut sender = senders
        .first()
        .map(|(j, s, slips)| (p.segs[*j].bbox, s.clone(), *slips, p.segs[*j].conf()));
    if sender.as_ref().is_none_or(|s| s.2 > 0) {
        // Lines that may name the station: those mentioning one, and long unlabelled lines
        // in the page's head (a seal over the title can spoil the whole line's reading).
        let head = p.img.height() / 4;
        let mut maybe: Vec<usize> = (0..p.segs.len())
            .filter(|&j| {
                let t = &p.segs[j].text;
                let mentions = t.contains('警') || t.contains('察') || t.contains('署');
                let heading_line = p.segs[j].bbox[1] < head
                    && p.labels[j].is_none()
                    && t.chars().count() >= 5
                    && !["殿", "相談所", "通告書", "通告し", "児童福祉法"]
                        .iter()
                        .any(|x| t.contains(x));
                mentions || heading_line
            })
            .collect();
        maybe.truncate(MAX_SENDER_READS);
        for j in maybe {
            // The line's own height about its words' middle: a seal beside it makes the
            // segment's box taller than the text.
            let seg = &p.segs[j];
            let mut mids: Vec<u32> = seg
                .words
                .iter()
                .map(|w| w.bbox[1] + w.bbox[3] / 2)
                .collect();
            mids.sort_unstable();
            let mid = mids.get(mids.len() / 2).copied().unwrap_or(seg.mid_y());
            let line = [seg.bbox[0], mid.saturating_sub(p.h), seg.bbox[2], 2 * p.h];
            let crop = padded(line, p.h / 4, p.straight.dimensions());
            let again = engine.words(&p.straight, Some(crop), PageSegMode::PsmSingleLine, None)?;
            let (text, conf) = joined(&again);
            tracing::debug!(%text, ?crop, "sender line read again");
            if let Some((s, slips)) = police_station(&text)
                && sender.as_ref().is_none_or(|x| slips < x.2)
            {
                sender = Some((p.segs[j].bbox, s, slips, conf));
            }
        }
    }
    if let Some((bbox, text, slips, conf)) = sender {
        // A repaired title is less certain than one read as printed.
        let conf = if slips > 0 { conf.min(0.75) } else { conf };
        out.reporting_agency = Some(normalise("reporting_agency", &[(text, conf)], back(bbox)));
    }
    Ok(out)
}

/// The words of a page: one pass of page layout analysis and recognition, and the ink it
/// dropped read line by line.
/// `text_only`: the page binarised, rules and specks removed.
fn page_words(
    engine: &mut Engine,
    img: &GrayImage,
    text_only: &GrayImage,
) -> Result<Vec<Word>, OcrError> {
    let mut words = engine.words(img, None, PageSegMode::PsmAuto, None)?;
    let missed = missed_words(engine, img, text_only, &words)?;
    words.extend(missed);
    Ok(words)
}

/// The words of ink the page pass dropped ([`layout::missed_regions`]), each region read
/// as a line of its own (at most [`MAX_MISSED`] regions, the largest first).
fn missed_words(
    engine: &mut Engine,
    img: &GrayImage,
    text_only: &GrayImage,
    words: &[Word],
) -> Result<Vec<Word>, OcrError> {
    let h = layout::text_height(words);
    let mut regions = layout::missed_regions(text_only, words, h);
    regions.sort_by_key(|r| std::cmp::Reverse(r[2] * r[3]));
    regions.truncate(MAX_MISSED);
    let mut out = Vec::new();
    for (k, r) in regions.into_iter().enumerate() {
        let crop = padded(r, h / 4, img.dimensions());
        let found = engine.words(img, Some(crop), PageSegMode::PsmSingleLine, None)?;
        tracing::debug!(region = ?r, text = %joined(&found).0, "ink the page pass dropped");
        out.extend(found.into_iter().map(|mut w| {
            w.line = (10_000 + k as u32, 0, 0);
            w
        }));
    }
    Ok(out)
}

/// Most lines read again looking for the sender.
const MAX_SENDER_READS: usize = 6;

/// Most regions of dropped ink read again on one page.
const MAX_MISSED: usize = 16;

/// A segment's text for the sender: without a label in front (通告者, 通告機関 …).
fn sender_text(p: &Page, j: usize) -> String {
    let t = &p.segs[j].text;
    match &p.labels[j] {
        Some(m) => t.chars().skip(m.consumed).collect(),
        None => t.clone(),
    }
}

/// Normalise one value, reading its crop again where the first reading does not give a
/// value of the field's form, and reading marks where the options are printed.
fn read_value(engine: &mut Engine, p: &Page, field: &str, v: &Value) -> Result<Field, OcrError> {
    // Printed options with one marked.
    if field == "child_sex" && sex_options(&v.text) {
        return Ok(marked_sex(p, v));
    }
    if field == "abuse_type"
        && let Some(f) = marked_abuse(p, v)
    {
        return Ok(f);
    }
    let mut candidates = vec![(v.text.clone(), v.conf)];
    let first = normalise(field, &candidates, v.bbox);
    let settled =
        first.value.is_some() && first.confidence >= REVIEW_BELOW.min(review_below(field));
    // Short, closed fields are cheap to read again and often need it (digits dropped).
    let dated = matches!(field, "child_birth_date" | "notice_date");
    if settled && !dated {
        return Ok(first);
    }
    let crop = padded(v.bbox, p.h / 4, p.img.dimensions());
    let long = matches!(field, "summary") || v.bbox[3] > 2 * p.h;
    let (psm, whitelist) = match field {
        "child_birth_date" | "notice_date" => (
            PageSegMode::PsmSingleLine,
            Some("0123456789令和平成昭元年月日.()（）歳生/-"),
        ),
        "child_sex" => (PageSegMode::PsmSingleLine, Some("男女性児子")),
        _ if long => (PageSegMode::PsmSingleBlock, None),
        _ => (PageSegMode::PsmSingleLine, None),
    };
    let again = engine.words(&p.img, Some(crop), psm, whitelist)?;
    let (text, conf) = joined(&again);
    candidates.push((text, conf));
    if dated {
        // The two readings disagree or neither is a date: a third, as scanned, as a block
        // (stretching the contrast can merge two digits: 22 → 2).
        let parsed: Vec<Option<String>> = candidates
            .iter()
            .map(|(t, _)| wareki::parse(date_text(&repair_date(&repair_era(&day_mark(t))))).ok())
            .collect();
        let agree = parsed[0].is_some() && parsed.iter().all(|p| *p == parsed[0]);
        if !agree {
            let block = engine.words(&p.straight, Some(crop), PageSegMode::PsmSingleBlock, None)?;
            candidates.push(joined(&block));
        }
        for c in &mut candidates {
            c.0 = day_mark(&c.0);
        }
        tracing::debug!(field, ?candidates, "date readings");
        candidates = choose_date(candidates);
    } else if settled {
        return Ok(first);
    } else {
        // The reading that normalises with the higher confidence.
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    Ok(normalise(field, &candidates, v.bbox))
}

/// Text that can be an account of what happened: a few words, not a date, not a label.
fn summary_like(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
    letters >= 8
        && wareki::parse(date_text(&repair_date(&repair_era(&day_mark(text))))).is_err()
        && layout::match_label(text).is_none_or(|m| m.consumed + 2 < text.chars().count())
}

/// 男・女 printed as options: both present, or one of them beside a 「・」 (a circle drawn
/// round the other option spoils its reading: 「男・侵」).
fn sex_options(t: &str) -> bool {
    let (m, f) = (t.contains('男'), t.contains('女'));
    // One option read, the other lost in its circle: more letters than a sex alone has.
    let rest = t
        .chars()
        .filter(|c| c.is_alphanumeric() && !matches!(c, '男' | '女' | '児' | '性' | '子'))
        .count();
    (m && f) || (t.contains('・') && (m || f)) || ((m != f) && rest >= 1)
}

/// The sex circled among printed options.
fn marked_sex(p: &Page, v: &Value) -> Field {
    let boxes = layout::char_boxes(&v.words);
    let find = |ch: char| boxes.iter().find(|(c, _)| *c == ch).map(|(_, b)| *b);
    let (male, female) = match (find('男'), find('女')) {
        (Some(m), Some(f)) => (m, f),
        // One option misread: the letters either side of the 「・」.
        _ => {
            let dot = boxes.iter().position(|(c, _)| *c == '・');
            let at = |ch: char| boxes.iter().position(|(c, _)| *c == ch);
            // The other option two letters from the one read (男・女), where the line's
            // letters put it when its box was not read.
            let w = p.h.max(1);
            let shifted = |b: [u32; 4], right: bool| {
                let x = if right {
                    b[0] + 2 * w
                } else {
                    b[0].saturating_sub(2 * w)
                };
                [x, b[1], b[2], b[3]]
            };
            match (dot, at('男'), at('女')) {
                (Some(d), _, _) if d >= 1 && d + 1 < boxes.len() => {
                    (boxes[d - 1].1, boxes[d + 1].1)
                }
                (_, Some(k), None) => {
                    let m = boxes[k].1;
                    (m, boxes.get(k + 2).map_or(shifted(m, true), |b| b.1))
                }
                (_, None, Some(k)) => {
                    let f = boxes[k].1;
                    let m = k.checked_sub(2).map_or(shifted(f, false), |i| boxes[i].1);
                    (m, f)
                }
                _ => (v.bbox, v.bbox),
            }
        }
    };
    let mut pick = marks::marked(&p.straight, &[male, female], p.level, marks::Mark::Circle);
    // No mark stands out in the ink, but one option was read as printed and the other not:
    // the circle round the other spoiled it.
    if pick.is_none() {
        let (m, f) = (v.text.contains('男'), v.text.contains('女'));
        if m != f {
            pick = Some((usize::from(m), 0.1));
        }
    }
    let value = pick.map(|(i, _)| if i == 0 { "male" } else { "female" });
    let confidence = pick.map_or(0.0, |(_, margin)| (0.5 + margin).min(1.0) * v.conf.max(0.5));
    Field {
        value: value.map(str::to_owned),
        confidence,
        bbox: v.bbox,
        review: confidence < review_below("child_sex"),
        raw: v.text.clone(),
    }
}

/// The kinds of abuse printed as options (at least two of them named), one marked: by a
/// filled or ticked box read as such, else by the ink in the boxes.
fn marked_abuse(p: &Page, v: &Value) -> Option<Field> {
    let chars: Vec<char> = v.text.chars().collect();
    let boxes = layout::char_boxes(&v.words);
    // Where each kind is named: the closest window of its word's length.
    let mut found: Vec<(fields::AbuseType, usize, usize)> = Vec::new();
    for (word, kind) in [
        ("身体的虐待", fields::AbuseType::Physical),
        ("心理的虐待", fields::AbuseType::Psychological),
        ("ネグレクト", fields::AbuseType::Neglect),
        ("性的虐待", fields::AbuseType::Sexual),
    ] {
        let w: Vec<char> = word.chars().collect();
        let best = (0..=chars.len().saturating_sub(w.len()))
            .filter_map(|i| {
                chars
                    .get(i..i + w.len())
                    .map(|win| (fields::edit_distance(win, &w), i))
            })
            .min();
        if let Some((d, i)) = best
            && d * 3 <= w.len()
            // 性的 inside 心理的虐待 is not its own option.
            && !found.iter().any(|(_, s, e)| i < *e && i + w.len() > *s)
        {
            found.push((kind, i, i + w.len()));
        }
    }
    if found.len() < 2 {
        return None;
    }
    found.sort_by_key(|f| f.1);
    let filled = |c: char| {
        matches!(
            c,
            '■' | '☑' | '✓' | '✔' | '☒' | '◼' | '●' | '◉' | 'レ' | '✅'
        )
    };
    let blank = |c: char| matches!(c, '□' | '口' | 'ロ' | '☐' | '◻');
    let before: Vec<Option<char>> = found
        .iter()
        .map(|(_, s, _)| s.checked_sub(1).and_then(|k| chars.get(k).copied()))
        .collect();
    let ticked: Vec<usize> = (0..found.len())
        .filter(|&k| before[k].is_some_and(filled))
        .collect();
    let blanks = before.iter().filter(|b| b.is_some_and(blank)).count();
    let (pick, conf) = if ticked.len() == 1 && blanks + 1 == found.len() {
        (Some(ticked[0]), v.conf)
    } else {
        // Each option's box, its left edge where its last letter puts it (n letters of
        // the line's width back) when its first letter's box reaches further left: a tick
        // drawn over the box and the first letter is read as part of that letter.
        let w = p.h.max(1);
        let opts: Vec<[u32; 4]> = found
            .iter()
            .map(|(_, s, e)| {
                let b = boxes[*s..(*e).min(boxes.len())]
                    .iter()
                    .map(|(_, b)| *b)
                    .reduce(layout::union)
                    .unwrap_or(v.bbox);
                let right = b[0] + b[2];
                let by_last = right.saturating_sub(w * (e - s) as u32);
                let left = b[0].max(by_last.min(right));
                [left, b[1], right - left, b[3]]
            })
            .collect();
        match marks::marked(&p.straight, &opts, p.level, marks::Mark::Box) {
            Some((k, margin)) => (Some(k), (0.5 + margin).min(1.0) * v.conf.max(0.5)),
            None => (None, 0.0),
        }
    };
    let value = pick.map(|k| found[k].0.as_str().to_owned());
    Some(Field {
        value,
        confidence: conf,
        bbox: v.bbox,
        review: conf < review_below("abuse_type"),
        raw: v.text.clone(),
    })
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
    match t.rfind('日') {
        Some(i) => &t[..i + '日'.len_utf8()],
        // 2016/01/18(9歳), 2016-01-18生: the date ends where its digits and separators do.
        None => t
            .find(['(', '（', '生', '[', '〔'])
            .map_or(t, |i| &t[..i])
            .trim_end_matches(|c: char| !c.is_ascii_digit()),
    }
}

/// An era name with its first character misread (「信和8年」, 「発和6年」 for 令和; 「半成」 for
/// 平成): the character before 和 or 成 that starts a year is restored. 昭和 stays (a child
/// or a notice of the 昭和 era is not repaired into another).
fn repair_era(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = c.clone();
    for i in 1..c.len() {
        let year_follows = c
            .get(i + 1)
            .is_some_and(|n| n.is_ascii_digit() || *n == '元');
        if !year_follows {
            continue;
        }
        match (c[i - 1], c[i]) {
            ('令' | '昭', '和') | ('平', '成') => {}
            (p, '和') if !p.is_ascii_digit() => out[i - 1] = '令',
            (p, '成') if !p.is_ascii_digit() => out[i - 1] = '平',
            // The second character misread (「令狼7年」, 「令箇7年」).
            ('令' | '昭', x) if !x.is_ascii_digit() => out[i] = '和',
            ('平', x) if !x.is_ascii_digit() => out[i] = '成',
            _ => {}
        }
    }
    // An era's second character lost (「令7年2月19日」).
    let mut whole = String::with_capacity(text.len() + 3);
    for (i, ch) in out.iter().enumerate() {
        whole.push(*ch);
        let year_follows = out
            .get(i + 1)
            .is_some_and(|n| n.is_ascii_digit() || *n == '元');
        let second_lost = i == 0 || !matches!(out[i - 1], '令' | '平' | '昭');
        if year_follows && second_lost {
            match ch {
                '令' | '昭' => whole.push('和'),
                '平' => whole.push('成'),
                _ => {}
            }
        }
    }
    whole
}

/// A date whose marks were misread, as a hand writes them (「令和8在9及21日」: 年 and 月
/// read as other characters), with specks between its digits (「1.6日」) or a speck read as a
/// digit in a Western year (「27026年」): three groups of digits, one character between
/// each, after an era name or as a four-digit year, are given back their 年, 月 and 日. What
/// does not have that shape is returned as it was.
fn repair_date(text: &str) -> String {
    let t = date_text(text);
    let (era, rest) = ["令和", "平成", "昭和"]
        .iter()
        .find_map(|e| t.strip_prefix(e).map(|r| (*e, r)))
        .unwrap_or(("", t));
    let c: Vec<char> = rest.chars().collect();
    // Specks between digits go when the date is written with 年月日.
    let marked = rest.contains('年') || rest.contains('月');
    let c: Vec<char> = (0..c.len())
        .filter(|&i| {
            let speck = matches!(c[i], '.' | '・' | ',' | '\'' | '`');
            let between =
                i > 0 && i + 1 < c.len() && c[i - 1].is_ascii_digit() && c[i + 1].is_ascii_digit();
            !(marked && speck && between)
        })
        .map(|i| c[i])
        .collect();
    // Digit groups and what separates them.
    let mut groups: Vec<String> = Vec::new();
    let mut seps: Vec<char> = Vec::new();
    let mut cur = String::new();
    for ch in &c {
        if ch.is_ascii_digit() || (*ch == '元' && groups.is_empty() && cur.is_empty()) {
            cur.push(*ch);
        } else {
            if cur.is_empty() {
                return text.to_owned();
            }
            groups.push(std::mem::take(&mut cur));
            seps.push(*ch);
        }
    }
    if !cur.is_empty() {
        groups.push(cur);
    }
    // 2012/06/03 with both slashes read as digits (「2010703701」): ten digits, the year's
    // four, a separator, two, a separator, two.
    if era.is_empty()
        && groups.len() == 1
        && groups[0].len() == 10
        && groups[0].chars().all(|c| c.is_ascii_digit())
    {
        let d: Vec<char> = groups[0].chars().collect();
        if matches!(d[4], '7' | '1' | '0') && matches!(d[7], '7' | '1' | '0') {
            let part = |a: usize, b: usize| d[a..b].iter().collect::<String>();
            groups = vec![part(0, 4), part(5, 7), part(8, 10)];
            seps = vec!['/', '/'];
        }
    }
    if groups.len() != 3 || seps.len() < 2 {
        return text.to_owned();
    }
    // A month or day past its end whose 1 was read as 7 (「70月」).
    for (k, most) in [(1usize, 12u32), (2, 31)] {
        let g = &groups[k];
        if g.len() == 2 && g.starts_with('7') && g.parse::<u32>().is_ok_and(|v| v > most) {
            groups[k] = format!("1{}", &g[1..]);
        }
    }
    let mut year = groups[0].clone();
    if era.is_empty() {
        // A Western year with a speck read as a digit in it: the one digit whose removal
        // leaves a year of these times.
        if year.len() == 5 {
            let fits: Vec<String> = (0..5)
                .map(|k| {
                    year.chars()
                        .enumerate()
                        .filter(|(i, _)| *i != k)
                        .map(|(_, c)| c)
                        .collect::<String>()
                })
                .filter(|y| y.parse::<u32>().is_ok_and(|y| (1990..=2100).contains(&y)))
                .collect();
            match fits.first() {
                Some(y) if fits.iter().all(|f| f == y) => year = y.clone(),
                _ => return text.to_owned(),
            }
        }
        if year.len() != 4 {
            return text.to_owned();
        }
    }
    format!("{era}{year}年{}月{}日", groups[1], groups[2])
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

/// The sender of a police notice is a station chief: 「○○警察署長」, often with the
/// prefecture or headquarters before it (「三重県四日市南警察署長」, 「大阪府警察 浪速警察署長」,
/// 「警視庁渋谷警察署長」) and the chief's rank and name after it (「警視 山田太郎」). The title
/// read with one slip (警家署長, 警察長, 警察署畏), or two when 署長 was read as printed, is
/// repaired; the addressee (…殿) and other lines are not senders. Returns 「○○警察署長」 and
/// the number of slips repaired.
fn police_station(line: &str) -> Option<(String, usize)> {
    let t = fields::compact(line);
    if t.contains('殿') || t.contains("相談所") {
        return None;
    }
    let c: Vec<char> = t.chars().collect();
    let title: Vec<char> = "警察署長".chars().collect();
    // Where the title starts and how many slips it was read with: exact first, then the
    // closest window.
    let exact = (0..c.len()).find(|&i| c[i..].starts_with(&title));
    let (at, slips) = match exact {
        Some(i) => (i, 0),
        None => {
            let station_only = (0..c.len()).find(|&i| {
                c[i..].starts_with(&['警', '察', '署'])
                    && !matches!(c.get(i + 3), Some('長' | '員'))
            });
            match station_only {
                Some(i) if i > 0 && c.len() <= i + 3 => (i, 0),
                _ => {
                    let mut best: Option<(usize, usize)> = None;
                    for n in [4usize, 3, 5] {
                        for i in 1..c.len().saturating_sub(n - 1) {
                            let w = &c[i..i + n];
                            let d = fields::edit_distance(w, &title);
                            // The window must hold 警 or 察 and end the title's way, or end in 署長.
                            let plausible = ((w.contains(&'警') || w.contains(&'察'))
                                && (w.ends_with(&['長']) || w.ends_with(&['署']) || d <= 1))
                                || w.ends_with(&['署', '長']);
                            // Two slips also when 警…長 frame it (「警守長」: 察 misread, 署 lost).
                            let ok = d <= 1
                                || (d == 2 && n == 4 && w.ends_with(&['署', '長']))
                                || (d == 2 && n == 3 && w[0] == '警' && w[2] == '長');
                            if ok && plausible && best.is_none_or(|(_, bd)| d < bd) {
                                best = Some((i, d));
                            }
                        }
                    }
                    best?
                }
            }
        }
    };
    // The station's name: the letters just before the title.
    let mut start = at;
    while start > 0 && is_station_char(c[start - 1]) {
        start -= 1;
    }
    let mut stem: String = c[start..at].iter().collect();
    // Headquarters and prefecture before the station's own name.
    for hq in [
        "警視庁",
        "県警察",
        "府警察",
        "道警察",
        "都警察",
        "警察",
        "県警",
        "府警",
        "道警",
    ] {
        if let Some(i) = stem.rfind(hq) {
            stem = stem[i + hq.len()..].to_owned();
            break;
        }
    }
    if let Some(p) = fields::PREFECTURES.iter().find(|p| stem.starts_with(**p)) {
        stem = stem[p.len()..].to_owned();
    }
    // Words run into the name (「出力者水戸」, an operator's line): the longest tail of the
    // letters that names a place, when the whole does not.
    let titled = |s: &str| format!("{s}警察署長");
    if !super::places::police_station_plausible(&titled(&stem)) {
        let letters: Vec<char> = stem.chars().collect();
        if let Some(tail) = (1..letters.len())
            .map(|k| letters[k..].iter().collect::<String>())
            .find(|t| super::places::police_station_plausible(&titled(t)))
        {
            stem = tail;
        }
    }
    (!stem.is_empty()).then(|| (titled(&stem), slips))
}

/// A letter of a station's name (kanji, kana; not digits or marks).
fn is_station_char(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{309F}' | '\u{30A1}'..='\u{30FA}' | '\u{3400}'..='\u{9FFF}' | '々')
}

fn out_set(out: &mut NoticeFields, name: &str, f: Field) {
    let slot = match name {
        "child_name" => &mut out.child_name,
        "child_birth_date" => &mut out.child_birth_date,
        "child_sex" => &mut out.child_sex,
        "child_address" => &mut out.child_address,
        "guardian_name" => &mut out.guardian_name,
        "abuse_type" => &mut out.abuse_type,
        "notice_date" => &mut out.notice_date,
        "reporting_agency" => &mut out.reporting_agency,
        "summary" => &mut out.summary,
        other => {
            tracing::warn!(field = other, "no such notice field");
            return;
        }
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
                let fixed = repair_date(&repair_era(&raw));
                // A repaired era is less certain than one read as printed.
                let c = if fixed == raw { *conf } else { conf * 0.9 };
                wareki::parse(date_text(&fixed)).ok().map(|v| (v, c))
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
                // 「土屋智子（母）」: the relation in brackets after the name is not the name.
                // A bracketed word before it is a label's remnant (「(児童)山田太郎」).
                let raw = match raw
                    .strip_prefix('(')
                    .and_then(|r| r.find(')').map(|e| &r[e + 1..]))
                {
                    Some(after) if !after.is_empty() => after,
                    _ => raw.as_str(),
                };
                let raw = match raw.find('(') {
                    Some(i) if i > 0 => &raw[..i],
                    _ => raw,
                };
                let n = fields::name(raw);
                (!n.is_empty()).then_some((n, *conf))
            }
        };
        match value {
            Some((v, c)) => {
                return Field {
                    value: Some(v),
                    confidence: c,
                    bbox,
                    review: c < review_below(name),
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
    use super::{Label, sex_options, spaced_label, summary_like};
    use proptest::prelude::*;

    proptest! {
        /// Any text read from a crop: the date repairs, the option and label checks and
        /// every field's normalisation give an answer, never a panic; a date given is an
        /// ISO date.
        #[test]
        fn any_reading_normalises_without_panic(t in ".{0,40}", d in "[0-9元令平昭和成年月日/()歳生 ]{0,24}") {
            for text in [&t, &d] {
                let fixed = super::repair_date(&super::repair_era(&super::day_mark(text)));
                let _ = super::date_text(&fixed);
                let _ = (summary_like(text), sex_options(text), spaced_label(text));
                let _ = super::police_station(text);
                for name in super::FIELD_NAMES {
                    let f = super::normalise(name, &[(text.to_string(), 0.9)], [0; 4]);
                    if name.ends_with("date") && let Some(v) = f.value {
                        prop_assert_eq!(v.len(), 10);
                    }
                }
            }
        }
    }

    #[test]
    fn each_field_goes_to_its_own_slot() {
        let mut out = super::NoticeFields::default();
        for name in ["notice_date", "reporting_agency", "summary", "child_name"] {
            let f = super::normalise(name, &[("令和7年8月25日".into(), 0.9)], [0; 4]);
            super::out_set(&mut out, name, f);
        }
        assert_eq!(
            out.notice_date.and_then(|f| f.value).as_deref(),
            Some("2025-08-25")
        );
        assert!(out.reporting_agency.is_some());
        assert!(out.summary.is_some() && out.child_name.is_some());
        assert!(out.guardian_name.is_none() && out.abuse_type.is_none());
    }

    #[test]
    fn dates_with_an_era_letter_lost_or_misread_slashes_read_as_digits_and_ages_after() {
        let parsed = |t: &str| {
            let fixed = super::repair_date(&super::repair_era(&super::day_mark(t)));
            crate::notice::wareki::parse(super::date_text(&fixed)).ok()
        };
        assert_eq!(parsed("令狼7年8月25日").as_deref(), Some("2025-08-25"));
        let f = super::normalise(
            "notice_date",
            &[("令箇7年8月25".into(), 0.7), ("令狼7年8月25日".into(), 0.7)],
            [0; 4],
        );
        assert_eq!(f.value.as_deref(), Some("2025-08-25"));
        assert_eq!(parsed("令7年2月19日").as_deref(), Some("2025-02-19"));
        assert_eq!(parsed("2016/01/18(9歳)").as_deref(), Some("2016-01-18"));
        assert_eq!(parsed("2010703701").as_deref(), Some("2010-03-01"));
        assert_eq!(parsed("令和7年70月24日").as_deref(), Some("2025-10-24"));
        // Not a date: left alone.
        assert_eq!(parsed("0363252651"), None);
        assert_eq!(parsed("元1234567"), None, "ten bytes, eight letters");
    }

    #[test]
    fn a_label_spread_with_a_stop_for_its_space_is_the_label() {
        let m = spaced_label("性。別").expect("a label");
        assert_eq!((m.label, m.consumed), (Label::Sex, 3));
        assert!(
            spaced_label("性別").is_none(),
            "nothing spread: the first look's"
        );
        assert!(spaced_label("男・女").is_none());
    }

    #[test]
    fn a_summary_is_a_sentence_not_a_date_or_a_label() {
        assert!(summary_like("保護者が飲酒して児童を怒鳴りつけたもの"));
        assert!(!summary_like("2025/08/22"));
        assert!(!summary_like("令和7年8月25日"));
        assert!(!summary_like("及び事案の概要"));
        assert!(!summary_like("事案の概要"));
    }

    #[test]
    fn sex_options_include_one_lost_in_its_circle() {
        assert!(sex_options("男・女"));
        assert!(sex_options("(画*女"), "男 lost in its circle");
        assert!(!sex_options("女児"));
        assert!(!sex_options("男"));
    }

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
    fn dates_with_misread_marks_and_specks_are_repaired() {
        use super::repair_date as fix;
        assert_eq!(fix("令和8在9及21日"), "令和8年9月21日");
        assert_eq!(fix("2026年4月1.6日"), "2026年4月16日");
        assert_eq!(fix("27026年4月16日"), "2026年4月16日");
        assert_eq!(fix("平成29年5月25日(9歳)"), "平成29年5月25日");
        // Not a date's shape: as it was.
        assert_eq!(fix("山田太郎"), "山田太郎");
        assert_eq!(fix("令和8年"), "令和8年");
        assert_eq!(fix("12345年1月1日"), "12345年1月1日");
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
        assert_eq!(
            police_station("和歌県和歌山束警守長警視"),
            Some(("和歌県和歌山束警察署長".into(), 2))
        );
        assert_eq!(police_station("みどり児童相談所長殿"), None);
        assert_eq!(police_station("令和6年2月27日"), None);
        assert_eq!(police_station("警察署長"), None, "no station named");
        // Prefecture or headquarters before the station, rank and name after the title.
        assert_eq!(
            police_station("三重県四日市南警察署長 警視 山田太郎"),
            Some(("四日市南警察署長".into(), 0))
        );
        assert_eq!(
            police_station("大阪府警察 浪速警察署長"),
            Some(("浪速警察署長".into(), 0))
        );
        assert_eq!(
            police_station("警視庁渋谷警察署長"),
            Some(("渋谷警察署長".into(), 0))
        );
        // The officer's station (通告者) gives the station with a slip: a fallback only.
        assert_eq!(
            police_station("沼津警察署生活安全課 巡査長 中島茂"),
            Some(("沼津警察署長".into(), 1))
        );
        // Words run into the name: the tail that names a place.
        assert_eq!(
            police_station("出力者水戸警察署長"),
            Some(("水戸警察署長".into(), 0))
        );
        assert_eq!(
            police_station("出力者仙台中央警察署長"),
            Some(("仙台中央警察署長".into(), 0))
        );
    }
}
