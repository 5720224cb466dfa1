//! The layout of a notice page, found rather than assumed (issue 17). Police headquarters
//! fill the 児童通告書 in their own word processors: ruled tables (one or two label/value
//! pairs a row, a merged side column naming the section), label–value lines, labels above
//! their values, letters with numbered items and tab-aligned values. What every layout
//! shares is that a value sits in the label's own segment after a separator, in the next
//! segment to its right (the next cell, or past a tab), or on the lines below it.
//!
//! So a page is cut into [`Segment`]s — a recognised line split at ruled vertical lines and
//! at wide gaps — the printed labels are found at the start of segments from a dictionary of
//! the variants real forms use ([`LABELS`]), sections (「１ 児童」「２ 保護者」) are found as
//! headers above or beside the rows they hold, and the value is taken from its own geometry.

use image::GrayImage;

use super::fields;
use crate::scan::ocr::Word;

/// A ruled line in page pixels: for a horizontal rule `pos` is its y and `from..to` its x
/// extent; for a vertical rule `pos` is its x and `from..to` its y extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// y of a horizontal rule, x of a vertical one.
    pub pos: u32,
    /// Where it starts along its length.
    pub from: u32,
    /// Where it ends along its length.
    pub to: u32,
}

/// The ruled lines of a page.
#[derive(Debug, Default, Clone)]
pub struct Rules {
    /// Horizontal rules, top to bottom.
    pub horizontal: Vec<Rule>,
    /// Vertical rules, left to right.
    pub vertical: Vec<Rule>,
}

/// Merge runs (pos, from, to) found on consecutive rows (or columns) into rules: a rule two
/// or three pixels thick is one rule.
fn merge_runs(mut runs: Vec<(u32, u32, u32)>) -> Vec<Rule> {
    runs.sort_unstable();
    // (rule, last pos seen)
    let mut out: Vec<(Rule, u32)> = Vec::new();
    for (pos, from, to) in runs {
        let hit = out.iter_mut().rev().take(64).find(|(r, last)| {
            pos <= *last + 2 && from < r.to && to > r.from && {
                let overlap = to.min(r.to) - from.max(r.from);
                overlap * 2 >= (to - from).min(r.to - r.from)
            }
        });
        match hit {
            Some((r, last)) => {
                r.from = r.from.min(from);
                r.to = r.to.max(to);
                *last = pos;
            }
            None => out.push((Rule { pos, from, to }, pos)),
        }
    }
    out.into_iter().map(|(r, _)| r).collect()
}

/// The ruled lines of a binarised page (ink 0): horizontal ink runs of at least `min_h`
/// pixels and vertical ones of at least `min_v`.
pub fn find_rules(bin: &GrayImage, min_h: u32, min_v: u32) -> Rules {
    let (w, h) = (bin.width() as usize, bin.height() as usize);
    let px = bin.as_raw();
    let mut hr = Vec::new();
    for y in 0..h {
        let row = &px[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            if row[x] == 0 {
                let start = x;
                while x < w && row[x] == 0 {
                    x += 1;
                }
                if (x - start) as u32 >= min_h {
                    hr.push((y as u32, start as u32, x as u32));
                }
            } else {
                x += 1;
            }
        }
    }
    let mut vr = Vec::new();
    let mut run = vec![0u32; w];
    for y in 0..=h {
        for x in 0..w {
            if y < h && px[y * w + x] == 0 {
                run[x] += 1;
            } else {
                if run[x] >= min_v {
                    vr.push((x as u32, y as u32 - run[x], y as u32));
                }
                run[x] = 0;
            }
        }
    }
    let mut horizontal = merge_runs(hr);
    horizontal.sort_by_key(|r| (r.pos, r.from));
    let mut vertical = merge_runs(vr);
    vertical.sort_by_key(|r| (r.pos, r.from));
    Rules {
        horizontal,
        vertical,
    }
}

impl Rules {
    /// A vertical rule between x `a` and `b` (a < b) crossing height `y`.
    pub fn vertical_between(&self, a: u32, b: u32, y: u32) -> bool {
        self.vertical
            .iter()
            .any(|r| r.pos > a && r.pos < b && r.from <= y && r.to >= y)
    }

    /// The nearest horizontal rules above `top` and below `bottom` that cross x, if any.
    pub fn band(&self, x: u32, top: u32, bottom: u32) -> (Option<u32>, Option<u32>) {
        let crosses = |r: &&Rule| r.from <= x && r.to >= x;
        let above = self
            .horizontal
            .iter()
            .filter(crosses)
            .filter(|r| r.pos <= top)
            .map(|r| r.pos)
            .max();
        let below = self
            .horizontal
            .iter()
            .filter(crosses)
            .filter(|r| r.pos >= bottom)
            .map(|r| r.pos)
            .min();
        (above, below)
    }
}

/// A piece of a recognised line that belongs together: the line cut at ruled vertical lines
/// and at gaps wider than a tab.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Its words' text joined, NFKC, without spaces.
    pub text: String,
    /// Left, top, width, height.
    pub bbox: [u32; 4],
    /// Its words, left to right.
    pub words: Vec<Word>,
}

impl Segment {
    fn new(words: Vec<Word>) -> Segment {
        let text = words.iter().map(|w| fields::compact(&w.text)).collect();
        let bbox = words
            .iter()
            .map(|w| w.bbox)
            .reduce(union)
            .unwrap_or_default();
        Segment { text, bbox, words }
    }

    /// Mean word confidence.
    pub fn conf(&self) -> f32 {
        self.words.iter().map(|w| w.conf).sum::<f32>() / self.words.len().max(1) as f32
    }

    /// Bottom edge.
    pub fn bottom(&self) -> u32 {
        self.bbox[1] + self.bbox[3]
    }

    /// Right edge.
    pub fn right(&self) -> u32 {
        self.bbox[0] + self.bbox[2]
    }

    /// Vertical centre.
    pub fn mid_y(&self) -> u32 {
        self.bbox[1] + self.bbox[3] / 2
    }
}

/// The smallest box holding both.
pub fn union(a: [u32; 4], b: [u32; 4]) -> [u32; 4] {
    let (l, t) = (a[0].min(b[0]), a[1].min(b[1]));
    let r = (a[0] + a[2]).max(b[0] + b[2]);
    let bt = (a[1] + a[3]).max(b[1] + b[3]);
    [l, t, r - l, bt - t]
}

/// The median height of the words: the page's text size.
pub fn text_height(words: &[Word]) -> u32 {
    let mut h: Vec<u32> = words
        .iter()
        .filter(|w| fields::compact(&w.text).chars().count() >= 1)
        .map(|w| w.bbox[3])
        .collect();
    h.sort_unstable();
    h.get(h.len() / 2).copied().unwrap_or(40).max(8)
}

/// The page's words as segments, top to bottom: Tesseract's lines, each cut where a ruled
/// vertical line runs between two words or where the gap between them is wider than
/// `gap` pixels.
pub fn segments(words: &[Word], rules: &Rules, gap: u32) -> Vec<Segment> {
    let mut lines: Vec<((u32, u32, u32), Vec<Word>)> = Vec::new();
    for w in words {
        if fields::compact(&w.text).is_empty() {
            continue;
        }
        match lines.iter_mut().find(|(id, _)| *id == w.line) {
            Some((_, ws)) => ws.push(w.clone()),
            None => lines.push((w.line, vec![w.clone()])),
        }
    }
    let mut out = Vec::new();
    for (_, mut ws) in lines {
        ws.sort_by_key(|w| w.bbox[0]);
        let mut cur: Vec<Word> = Vec::new();
        for w in ws {
            if let Some(prev) = cur.last() {
                let (a, b) = (prev.bbox[0] + prev.bbox[2], w.bbox[0]);
                let y = (prev.bbox[1] + prev.bbox[3] / 2 + w.bbox[1] + w.bbox[3] / 2) / 2;
                let cut = b > a + gap
                    || (b + 2 > a && rules.vertical_between(a.saturating_sub(2), b + 2, y));
                if cut {
                    out.push(Segment::new(std::mem::take(&mut cur)));
                }
            }
            cur.push(w);
        }
        if !cur.is_empty() {
            out.push(Segment::new(cur));
        }
    }
    out.sort_by_key(|s| (s.bbox[1], s.bbox[0]));
    out
}

/// Ink that recognition passed over: page layout analysis drops short, isolated text (a
/// lone 「男」 in a wide cell, a label in a sparse form). The page (`bin`: binarised, ink 0,
/// rules and specks removed) is looked at in cells a quarter of the text height square;
/// inked cells that no word's box covers are joined along the line and returned as boxes
/// of about a line's height, to be read on their own.
pub fn missed_regions(bin: &GrayImage, words: &[Word], h: u32) -> Vec<[u32; 4]> {
    let c = (h / 4).max(4) as usize;
    let (w, ht) = (bin.width() as usize, bin.height() as usize);
    let (gw, gh) = (w.div_ceil(c), ht.div_ceil(c));
    let mut inked = vec![0u16; gw * gh];
    let px = bin.as_raw();
    for y in 0..ht {
        let row = &px[y * w..(y + 1) * w];
        for (x, v) in row.iter().enumerate() {
            if *v == 0 {
                inked[(y / c) * gw + x / c] += 1;
            }
        }
    }
    // Covered: inside a word's box grown by a cell.
    let mut covered = vec![false; gw * gh];
    for wd in words {
        let [x, y, bw, bh] = wd.bbox.map(|v| v as usize);
        let (x0, y0) = ((x / c).saturating_sub(1), (y / c).saturating_sub(1));
        let (x1, y1) = (
            ((x + bw) / c + 1).min(gw - 1),
            ((y + bh) / c + 1).min(gh - 1),
        );
        for gy in y0..=y1 {
            for gx in x0..=x1 {
                covered[gy * gw + gx] = true;
            }
        }
    }
    let min_ink = (c * c / 16).max(2) as u16;
    let loose: Vec<bool> = (0..gw * gh)
        .map(|i| inked[i] >= min_ink && !covered[i])
        .collect();
    // Join along the line: a gap of up to two cells (half a character) closes.
    let mut joined = loose.clone();
    for gy in 0..gh {
        let mut last: Option<usize> = None;
        for gx in 0..gw {
            if loose[gy * gw + gx] {
                if let Some(l) = last
                    && gx - l <= 3
                {
                    for k in l..gx {
                        joined[gy * gw + k] = true;
                    }
                }
                last = Some(gx);
            }
        }
    }
    // Connected regions of the joined cells.
    let mut seen = vec![false; gw * gh];
    let mut out = Vec::new();
    for start in 0..gw * gh {
        if !joined[start] || seen[start] {
            continue;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (gw, gh, 0, 0);
        let mut stack = vec![start];
        seen[start] = true;
        let mut cells = 0usize;
        while let Some(i) = stack.pop() {
            cells += 1;
            let (gx, gy) = (i % gw, i / gw);
            x0 = x0.min(gx);
            x1 = x1.max(gx);
            y0 = y0.min(gy);
            y1 = y1.max(gy);
            let mut push = |j: usize| {
                if joined[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if gx > 0 {
                push(i - 1);
            }
            if gx + 1 < gw {
                push(i + 1);
            }
            if gy > 0 {
                push(i - gw);
            }
            if gy + 1 < gh {
                push(i + gw);
            }
        }
        let (bw, bh) = ((x1 - x0 + 1) * c, (y1 - y0 + 1) * c);
        let hh = h as usize;
        // About a character or more, at most a few lines tall: text, not a speck or a seal
        // of several lines' height.
        let r = [(x0 * c) as u32, (y0 * c) as u32, bw as u32, bh as u32];
        if bh * 2 >= hh && bh <= 3 * hh && bw * 2 >= hh && cells >= 4 && !inside_line(words, r) {
            out.push(r);
        }
    }
    out
}

/// A region between two words of one recognised line: a character the line's word boxes
/// were drawn too narrow to hold, already read with its line.
fn inside_line(words: &[Word], r: [u32; 4]) -> bool {
    let mid = r[1] + r[3] / 2;
    let on_row = |w: &&Word| w.bbox[1] <= mid && w.bbox[1] + w.bbox[3] >= mid;
    let near = r[3] / 2;
    words.iter().filter(on_row).any(|a| {
        let a_right = a.bbox[0] + a.bbox[2];
        // Adjoining a on its left and b on its right (each within half a character).
        a_right <= r[0] + r[3]
            && r[0].saturating_sub(a_right) <= near
            && words.iter().filter(on_row).any(|b| {
                b.line == a.line
                    && b.bbox[0] + r[3] >= r[0] + r[2]
                    && b.bbox[0].saturating_sub(r[0] + r[2]) <= near
            })
    })
}

/// What a printed label asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// The child's name, said so.
    ChildName,
    /// 氏名 alone: the child's or the guardian's, by section.
    Name,
    /// ふりがな.
    Kana,
    /// 生年月日 (the child's, or in the guardian's section the guardian's).
    BirthDate,
    /// 年齢.
    Age,
    /// 性別.
    Sex,
    /// 住所, 住居: the child's or the guardian's, by section.
    Address,
    /// The guardian's name, said so.
    GuardianName,
    /// 続柄.
    Relation,
    /// 職業.
    Occupation,
    /// 学校等.
    School,
    /// 電話, 連絡先.
    Phone,
    /// 通告日.
    NoticeDate,
    /// 通告者 (the officer who writes, not the chief who sends).
    Notifier,
    /// 虐待の種別.
    AbuseType,
    /// 事案の概要, 通告の理由.
    Summary,
    /// A date that is not the notice's: 印刷日時, 送信日時, 受付日.
    OtherDate,
}

/// Printed label variants, longest first within each meaning where one is a prefix of
/// another (matching takes the longest that fits).
pub const LABELS: &[(&str, Label)] = &[
    ("対象児童氏名", Label::ChildName),
    ("児童の氏名", Label::ChildName),
    ("児童の名前", Label::ChildName),
    ("氏名(児童)", Label::ChildName),
    ("児童氏名", Label::ChildName),
    ("子の氏名", Label::ChildName),
    ("児童名", Label::ChildName),
    ("保護者の氏名", Label::GuardianName),
    ("保護者氏名", Label::GuardianName),
    ("保護者名", Label::GuardianName),
    ("氏名(保護者)", Label::GuardianName),
    ("氏名", Label::Name),
    ("名前", Label::Name),
    ("ふりがな", Label::Kana),
    ("フリガナ", Label::Kana),
    ("よみがな", Label::Kana),
    ("児童の生年月日", Label::BirthDate),
    ("生年月日", Label::BirthDate),
    ("年齢", Label::Age),
    ("児童の性別", Label::Sex),
    ("性別", Label::Sex),
    ("児童の住所", Label::Address),
    ("現住所", Label::Address),
    ("住所地", Label::Address),
    ("住所", Label::Address),
    ("住居", Label::Address),
    ("居所", Label::Address),
    ("児童との続柄", Label::Relation),
    ("続柄", Label::Relation),
    ("職業", Label::Occupation),
    ("学校等", Label::School),
    ("学校名", Label::School),
    ("在籍校", Label::School),
    ("所属", Label::School),
    ("電話番号", Label::Phone),
    ("連絡先", Label::Phone),
    ("電話", Label::Phone),
    ("通告年月日", Label::NoticeDate),
    ("通告日", Label::NoticeDate),
    ("通告者", Label::Notifier),
    ("取扱者", Label::Notifier),
    ("担当者", Label::Notifier),
    ("虐待の種別", Label::AbuseType),
    ("虐待の種類", Label::AbuseType),
    ("虐待種別", Label::AbuseType),
    ("虐待の類型", Label::AbuseType),
    ("通告の理由及び事案の概要", Label::Summary),
    ("通告理由及び事案の概要", Label::Summary),
    ("事案の概要", Label::Summary),
    ("事案概要", Label::Summary),
    ("通告の理由", Label::Summary),
    ("通告理由", Label::Summary),
    ("通告の内容", Label::Summary),
    ("概要", Label::Summary),
    ("印刷日時", Label::OtherDate),
    ("印刷日", Label::OtherDate),
    ("出力日時", Label::OtherDate),
    ("送信日時", Label::OtherDate),
    ("受信日時", Label::OtherDate),
    ("受付日", Label::OtherDate),
];

/// A section of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// 児童.
    Child,
    /// 保護者.
    Guardian,
    /// 通告の理由 and what follows.
    Reason,
}

/// Section headings.
const SECTIONS: &[(&str, Section)] = &[
    ("児童", Section::Child),
    ("対象児童", Section::Child),
    ("児童の状況", Section::Child),
    ("児童について", Section::Child),
    ("通告児童", Section::Child),
    ("保護者", Section::Guardian),
    ("保護者の状況", Section::Guardian),
    ("保護者について", Section::Guardian),
    ("通告の理由", Section::Reason),
    ("通告理由", Section::Reason),
];

/// Marks that come before a label or a heading: item numbers (１, (1), ①, 一、), bullets
/// and brackets.
fn strip_decoration(t: &str) -> &str {
    let t = t.trim_start_matches(|c: char| {
        c.is_ascii_digit()
            || ('①'..='⑳').contains(&c)
            || matches!(
                c,
                '(' | ')'
                    | '【'
                    | '】'
                    | '['
                    | ']'
                    | '■'
                    | '□'
                    | '◎'
                    | '○'
                    | '●'
                    | '◆'
                    | '◇'
                    | '・'
                    | '.'
                    | ','
                    | '、'
                    | '。'
                    | '|'
                    | '｜'
                    | '「'
                    | '」'
                    | '-'
                    | '_'
                    | '〔'
                    | '〕'
                    | '<'
                    | '>'
                    | '〈'
                    | '〉'
                    | '※'
                    | '*'
                    | '"'
                    | '\''
                    | '`'
            )
    });
    // Kanji item numbers: 一、 二、 (a numeral then a comma or a full stop).
    let mut cs = t.chars();
    match (cs.next(), cs.next()) {
        (Some(n), Some('、' | '.' | ',')) if "一二三四五六七八九十".contains(n) => {
            cs.as_str()
        }
        _ => t,
    }
}

/// Separators between a label and its value.
pub fn strip_separators(t: &str) -> &str {
    t.trim_start_matches([
        ':', '：', ';', '・', '|', '｜', '】', ']', ')', '〕', '〉', '>', '…', '‥', '.', '-', '_',
        '一', 'ー', '=', '「', '」', '"', '\'', '`', '。', '、', ',',
    ])
}

/// A label found at the start of a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelMatch {
    /// What it asks for.
    pub label: Label,
    /// The variant printed.
    pub printed: &'static str,
    /// Characters of the segment's text that are decoration, label and separator.
    pub consumed: usize,
    /// Character slips tolerated in the label.
    pub slips: usize,
}

/// The text after a label starts with a separator (「：」, 「】」 …).
fn separated(rest: &[char]) -> bool {
    let rest: String = rest.iter().collect();
    !rest.is_empty() && strip_separators(&rest).len() < rest.len()
}

/// Slips tolerated in a label of `n` characters.
fn allowed(n: usize) -> usize {
    match n {
        0..=2 => 0,
        3..=4 => 1,
        _ => 2,
    }
}

/// The label at the start of `text` (a segment's text), if any: exactly, or with slips when
/// the label stands alone in its segment or is followed by a separator (so that a value
/// that starts like a label — 「児童の母親が…」 — is not taken for one).
pub fn match_label(text: &str) -> Option<LabelMatch> {
    let body = strip_decoration(text);
    let skipped = text.chars().count() - body.chars().count();
    let chars: Vec<char> = body.chars().collect();
    let alone = |end: usize| {
        let rest: String = chars[end.min(chars.len())..].iter().collect();
        let after = strip_separators(&rest);
        after.is_empty() || after.len() < rest.len()
    };
    let mut best: Option<LabelMatch> = None;
    for (printed, label) in LABELS {
        let p: Vec<char> = printed.chars().collect();
        let n = p.len();
        let a = allowed(n);
        let fit = if chars.starts_with(&p) {
            Some((0, n))
        } else if a > 0 {
            // Characters lost (「者氏名:」 for 保護者氏名, before its separator) or split in
            // two. A fragment alone that lost more than one (「通告の」, a heading broken over
            // lines) is not taken for the label.
            (n.saturating_sub(a).max(2)..=n + 1)
                .filter(|len| *len <= chars.len())
                .map(|len| (fields::edit_distance(&chars[..len], &p), len))
                .filter(|(d, len)| *d <= a && alone(*len))
                .filter(|(_, len)| *len + 1 >= n || separated(&chars[*len..]))
                .min()
        } else if chars.len() > n && chars[1..].starts_with(&p) && alone(n + 1) {
            // A speck or a lost character's remnant before a short label (「上氏名:」).
            Some((1, n + 1))
        } else {
            None
        };
        let Some((slips, len)) = fit else { continue };
        let rest: String = chars[len..].iter().collect();
        let sep = rest.chars().count() - strip_separators(&rest).chars().count();
        let m = LabelMatch {
            label: *label,
            printed,
            consumed: skipped + len + sep,
            slips,
        };
        // The label most of whose characters were read wins (「者氏名」 is 保護者氏名, three
        // of five read, rather than 氏名 after a speck), then the one with fewer slips.
        let confirmed = |m: &LabelMatch| m.printed.chars().count().saturating_sub(m.slips);
        let better = match &best {
            None => true,
            Some(b) => {
                (confirmed(&m), std::cmp::Reverse(m.slips))
                    > (confirmed(b), std::cmp::Reverse(b.slips))
            }
        };
        if better {
            best = Some(m);
        }
    }
    // A bracket after the label is the label's: 氏名（実母）, 氏名(父) name the guardian by
    // relation; 住居（居所）, 生年月日（年齢） qualify it (a value does not open with a short
    // bracket of words).
    if let Some(m) = &mut best {
        let rest: String = text.chars().skip(m.consumed).collect();
        let open = ['(', '[', '〈', '「', '〔', '{', '【', '<', '『', '（'];
        let close = [')', ']', '〉', '」', '〕', '}', '】', '>', '』', '）'];
        if let Some(inner) = rest.strip_prefix(open)
            && let Some(end) = inner.find(close)
            && (m.label == Label::Name
                || (inner[..end].chars().count() <= 6
                    && !inner[..end].chars().any(|c| c.is_ascii_digit())))
        {
            let who = &inner[..end];
            if m.label == Label::Name {
                m.label = if who.contains("児童") || who == "子" {
                    Label::ChildName
                } else {
                    Label::GuardianName
                };
            }
            m.consumed += 2 + who.chars().count();
            let after: String = text.chars().skip(m.consumed).collect();
            m.consumed += after.chars().count() - strip_separators(&after).chars().count();
        }
    }
    best
}

/// The section a segment heads, if it is a heading alone (「１ 児童」, 「２．保護者」,
/// 「【通告の理由】」).
pub fn match_section(text: &str) -> Option<Section> {
    let text = fields::compact(text);
    let body = strip_decoration(&text);
    let body = body.trim_end_matches(|c: char| !c.is_alphanumeric() || c == 'ー');
    let chars: Vec<char> = body.chars().collect();
    SECTIONS.iter().find_map(|(h, s)| {
        let p: Vec<char> = h.chars().collect();
        let ok = chars == p || (p.len() >= 3 && fields::edit_distance(&chars, &p) <= 1);
        ok.then_some(*s)
    })
}

/// Each character of some words with its box: a word's box shared out evenly among its
/// characters (printed Japanese is set on a square grid).
pub fn char_boxes(words: &[Word]) -> Vec<(char, [u32; 4])> {
    let mut out = Vec::new();
    for w in words {
        let cs: Vec<char> = fields::compact(&w.text).chars().collect();
        let n = cs.len().max(1) as u32;
        for (i, c) in cs.into_iter().enumerate() {
            let i = i as u32;
            let x0 = w.bbox[0] + w.bbox[2] * i / n;
            let x1 = w.bbox[0] + w.bbox[2] * (i + 1) / n;
            out.push((c, [x0, w.bbox[1], (x1 - x0).max(1), w.bbox[3]]));
        }
    }
    out
}

/// The words of a segment after its first `skip` characters, the word holding the boundary
/// cut at it (its box shared out by characters).
pub fn words_after(words: &[Word], skip: usize) -> Vec<Word> {
    let mut seen = 0usize;
    let mut out = Vec::new();
    for w in words {
        let cs: Vec<char> = fields::compact(&w.text).chars().collect();
        let k = cs.len();
        if seen >= skip {
            out.push(w.clone());
        } else if seen + k > skip {
            let inside = skip - seen;
            let x = w.bbox[0] + (w.bbox[2] as u64 * inside as u64 / k.max(1) as u64) as u32;
            out.push(Word {
                text: cs[inside..].iter().collect(),
                conf: w.conf,
                bbox: [
                    x,
                    w.bbox[1],
                    (w.bbox[0] + w.bbox[2]).saturating_sub(x).max(1),
                    w.bbox[3],
                ],
                line: w.line,
            });
        }
        seen += k;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_bracket_after_a_label_is_the_labels() {
        let m = match_label("住居(居所)").expect("label");
        assert_eq!((m.label, m.consumed), (Label::Address, 6));
        let m = match_label("生年月日（年齢）").expect("label");
        assert_eq!((m.label, m.consumed), (Label::BirthDate, 8));
        // A value in brackets with digits is a value.
        let m = match_label("生年月日(15歳)").expect("label");
        assert_eq!(m.consumed, 4);
    }

    fn word(t: &str, x: u32, y: u32, w: u32, line: u32) -> Word {
        Word {
            text: t.into(),
            conf: 0.9,
            bbox: [x, y, w, 40],
            line: (1, 1, line),
        }
    }

    #[test]
    fn labels_are_found_in_their_printed_variants() {
        let m = |t: &str| match_label(t).map(|m| (m.label, m.consumed));
        assert_eq!(m("児童氏名：山田太郎"), Some((Label::ChildName, 5)));
        assert_eq!(m("１児童の氏名"), Some((Label::ChildName, 6)));
        assert_eq!(m("【氏名】"), Some((Label::Name, 4)));
        assert_eq!(m("氏名(実母)山田花子"), Some((Label::GuardianName, 6)));
        assert_eq!(m("氏名(児童)"), Some((Label::ChildName, 6)));
        assert_eq!(m("氏名〔児童〕山田"), Some((Label::ChildName, 6)));
        assert_eq!(m("(3)住居同上"), Some((Label::Address, 5)));
        assert_eq!(m("虐待の種別:身体的虐待"), Some((Label::AbuseType, 6)));
        // A slip in a label standing alone or before a separator.
        assert_eq!(m("保護著氏名"), Some((Label::GuardianName, 5)));
        assert_eq!(m("事案の慨要：母が"), Some((Label::Summary, 6)));
        // A value that starts like a label is not one.
        assert_eq!(m("児童の母親が夜間"), None);
        assert_eq!(m("山田太郎"), None);
        // Characters lost at the start of a label before its separator.
        assert_eq!(m("者氏名:直子"), Some((Label::GuardianName, 4)));
        assert_eq!(m("上氏名:清水"), Some((Label::Name, 4)));
        assert_eq!(m("印刷日時2026/11/30"), Some((Label::OtherDate, 4)));
    }

    #[test]
    fn sections_are_headings_alone() {
        assert_eq!(match_section("1児童"), Some(Section::Child));
        assert_eq!(match_section("２．保護者"), Some(Section::Guardian));
        assert_eq!(match_section("【通告の理由】"), Some(Section::Reason));
        assert_eq!(match_section("児童氏名"), None);
    }

    #[test]
    fn lines_are_cut_at_rules_and_wide_gaps() {
        let words = vec![
            word("氏名", 100, 100, 80, 1),
            word("山田", 300, 100, 80, 1),
            word("太郎", 385, 100, 80, 1),
            word("性別", 900, 100, 80, 1),
            word("男", 1000, 100, 40, 1),
        ];
        let rules = Rules {
            horizontal: vec![],
            vertical: vec![
                Rule {
                    pos: 250,
                    from: 80,
                    to: 160,
                },
                Rule {
                    pos: 980,
                    from: 80,
                    to: 160,
                },
            ],
        };
        let segs = segments(&words, &rules, 200);
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, vec!["氏名", "山田太郎", "性別", "男"]);
        // No rules: only the wide gap cuts.
        let segs = segments(&words, &Rules::default(), 200);
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, vec!["氏名山田太郎", "性別男"]);
    }

    #[test]
    fn rules_are_found_and_thick_ones_merged() {
        let mut img = GrayImage::from_pixel(400, 300, image::Luma([255]));
        for x in 20..380 {
            for y in 50..53 {
                img.put_pixel(x, y, image::Luma([0]));
            }
        }
        for y in 50..250 {
            img.put_pixel(200, y, image::Luma([0]));
            img.put_pixel(201, y, image::Luma([0]));
        }
        let r = find_rules(&img, 100, 100);
        assert_eq!(r.horizontal.len(), 1, "{r:?}");
        assert_eq!((r.horizontal[0].from, r.horizontal[0].to), (20, 380));
        assert_eq!(r.vertical.len(), 1, "{r:?}");
        assert_eq!(r.vertical[0].pos, 200);
    }

    #[test]
    fn the_value_after_a_label_is_cut_from_its_word() {
        let ws = vec![word("性別：男", 100, 100, 160, 1)];
        let after = words_after(&ws, 3);
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].text, "男");
        assert_eq!(after[0].bbox[0], 220);
    }
}
