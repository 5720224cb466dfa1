//! Where everything sits on the printed questionnaire, in millimetres on A4 portrait.
//!
//! The layout is a pure function of the language: the same language always gives the same
//! pages, so the reader recomputes it from the language and page number the QR code
//! carries and never needs the printed file. Texts are measured with a conservative width
//! estimate (a CJK character one em, anything else 0.6 em) so that the browser's real text
//! always fits in the space given here.

use checkup_protocol::questionnaire::{self, AnswerSet, Lang, QUESTIONS};

/// A4 width in mm.
pub const PAGE_W: f32 = 210.0;
/// A4 height in mm.
pub const PAGE_H: f32 = 297.0;
/// Side of a corner fiducial (solid square), mm.
pub const FIDUCIAL: f32 = 8.0;
/// Top-left corners of the four fiducials: top-left, top-right, bottom-right, bottom-left.
pub const FIDUCIALS: [(f32, f32); 4] = [(8.0, 8.0), (194.0, 8.0), (194.0, 281.0), (8.0, 281.0)];
/// Side of an answer box, mm (outline included).
pub const BOX: f32 = 6.0;
/// Thickness of an answer box's printed outline, mm.
pub const BOX_LINE: f32 = 0.4;
/// The QR code's top-left corner and side, mm (the same on every page).
pub const QR: (f32, f32, f32) = (170.0, 19.0, 24.0);
/// Where the items start on each page, mm from the top.
pub const ITEMS_TOP: f32 = 50.0;
/// Where the items must end, mm from the top (above the bottom fiducials).
pub const ITEMS_BOTTOM: f32 = 276.0;
/// Left edge of the item blocks, mm.
pub const LEFT: f32 = 18.0;
/// Right edge of the item blocks, mm.
pub const RIGHT: f32 = 192.0;
/// Left edge of question and answer texts (right of the item number), mm.
pub const TEXT_LEFT: f32 = 28.0;
/// Font size of the resident's-language question text, mm.
pub const Q_FONT: f32 = 3.2;
/// Font size of the Japanese text beside it and of answer labels, mm.
pub const SUB_FONT: f32 = 2.7;
/// Line height as a multiple of the font size.
pub const LINE: f32 = 1.3;

/// A text block: top-left corner, width, font size (mm) and the text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBlock {
    /// Left, mm.
    pub x: f32,
    /// Top, mm.
    pub y: f32,
    /// Width, mm.
    pub w: f32,
    /// Font size, mm.
    pub size: f32,
    /// The text (plain; escaped when written as HTML).
    pub text: String,
    /// Japanese shown beside the resident's language (printed a little lighter).
    pub secondary: bool,
    /// The HTML `lang` of the text.
    pub lang: &'static str,
}

/// One answer box on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerBox {
    /// The answer code it stands for.
    pub code: &'static str,
    /// Its top-left corner, mm (the outer edge of the outline).
    pub x: f32,
    /// Top, mm.
    pub y: f32,
}

impl AnswerBox {
    /// Its centre, mm.
    pub fn centre(&self) -> (f32, f32) {
        (self.x + BOX / 2.0, self.y + BOX / 2.0)
    }
}

/// One item as placed on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemLayout {
    /// Its number on the form (1–22).
    pub number: u8,
    /// Its 17-character item code.
    pub item_code: &'static str,
    /// Top of the block, mm.
    pub top: f32,
    /// Height of the block, mm.
    pub height: f32,
    /// Question and answer texts.
    pub texts: Vec<TextBlock>,
    /// Its answer boxes, in the order of the answer codes.
    pub boxes: Vec<AnswerBox>,
}

/// One printed page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLayout {
    /// 1-based page number.
    pub number: u8,
    /// The items on it.
    pub items: Vec<ItemLayout>,
}

/// The whole form in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct FormLayout {
    /// The resident's language.
    pub lang: Lang,
    /// Its pages (every item on exactly one page).
    pub pages: Vec<PageLayout>,
}

/// Width of a text in ems, estimated on the safe side for Noto Sans / Noto Sans CJK.
pub fn text_ems(text: &str) -> f32 {
    text.chars()
        .map(|c| match c {
            ' ' => 0.28,
            'm' | 'w' | 'M' | 'W' => 0.88,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 0.66,
            c if (c as u32) < 0x1100 => 0.56,
            _ => 1.0,
        })
        .sum()
}

/// Lines a text needs at `size` in a column `w` mm wide (at least one), on the safe side:
/// words are not broken, so every line is counted as 88 % full.
pub fn lines(text: &str, size: f32, w: f32) -> u32 {
    let per_line = (w / size) * 0.88;
    let n = (text_ems(text) / per_line).ceil() as u32;
    n.max(1)
}

/// Height of a text block, mm.
pub fn block_height(text: &str, size: f32, w: f32) -> f32 {
    lines(text, size, w) as f32 * size * LINE
}

/// Is this language printed with a Japanese line beside it? (Japanese itself is not.)
fn with_japanese(lang: Lang) -> bool {
    lang != Lang::Ja
}

/// Columns for an answer set's choices: as many as keep every label within three lines.
fn columns(lang: Lang, set: AnswerSet) -> usize {
    let n = set.codes().len();
    let t = questionnaire::texts(lang);
    let ja = questionnaire::texts(Lang::Ja);
    let avail = RIGHT - TEXT_LEFT;
    for cols in [4usize, 3, 2, 1] {
        if cols > n {
            continue;
        }
        let col_w = avail / cols as f32;
        let label_w = col_w - BOX - 3.0;
        let fits = set.codes().iter().all(|code| {
            let mine = t.answer(set, code).unwrap_or("");
            let mut l = lines(mine, SUB_FONT, label_w);
            if with_japanese(lang) {
                l += lines(ja.answer(set, code).unwrap_or(""), SUB_FONT, label_w);
            }
            l <= 3
        });
        if fits {
            return cols;
        }
    }
    1
}

/// Lay out one item starting at `top`; returns it with its height.
fn item(lang: Lang, q: &questionnaire::Question, top: f32) -> ItemLayout {
    let t = questionnaire::texts(lang);
    let ja = questionnaire::texts(Lang::Ja);
    let text_w = RIGHT - TEXT_LEFT;
    let mut texts = Vec::new();
    let mut y = top;
    let mine = t.question(q.code).unwrap_or("");
    texts.push(TextBlock {
        x: TEXT_LEFT,
        y,
        w: text_w,
        size: Q_FONT,
        text: mine.to_string(),
        secondary: false,
        lang: lang.html_lang(),
    });
    y += block_height(mine, Q_FONT, text_w);
    if with_japanese(lang) {
        let j = ja.question(q.code).unwrap_or("");
        texts.push(TextBlock {
            x: TEXT_LEFT,
            y,
            w: text_w,
            size: SUB_FONT,
            text: j.to_string(),
            secondary: true,
            lang: "ja",
        });
        y += block_height(j, SUB_FONT, text_w);
    }
    y += 1.5;
    let cols = columns(lang, q.answers);
    let col_w = text_w / cols as f32;
    let label_w = col_w - BOX - 3.0;
    let mut boxes = Vec::new();
    let codes = q.answers.codes();
    for row in codes.chunks(cols) {
        let mut row_h = BOX;
        for (i, code) in row.iter().enumerate() {
            let x = TEXT_LEFT + i as f32 * col_w;
            boxes.push(AnswerBox { code, x, y });
            let lx = x + BOX + 2.0;
            let mine = t.answer(q.answers, code).unwrap_or("");
            let mut ly = y + 0.3;
            texts.push(TextBlock {
                x: lx,
                y: ly,
                w: label_w,
                size: SUB_FONT,
                text: mine.to_string(),
                secondary: false,
                lang: lang.html_lang(),
            });
            ly += block_height(mine, SUB_FONT, label_w);
            if with_japanese(lang) {
                let j = ja.answer(q.answers, code).unwrap_or("");
                texts.push(TextBlock {
                    x: lx,
                    y: ly,
                    w: label_w,
                    size: SUB_FONT,
                    text: j.to_string(),
                    secondary: true,
                    lang: "ja",
                });
                ly += block_height(j, SUB_FONT, label_w);
            }
            row_h = row_h.max(ly - y);
        }
        // At least 4 mm of paper between the boxes of two rows (3.5 mm + the half-mm step).
        y += row_h.max(BOX + 3.5) + 0.5;
    }
    y += 1.5;
    ItemLayout {
        number: q.number,
        item_code: q.code,
        top,
        height: y - top,
        texts,
        boxes,
    }
}

/// The form in `lang`: items in order, a new page whenever the next item would not fit.
pub fn layout(lang: Lang) -> FormLayout {
    let mut pages = vec![PageLayout {
        number: 1,
        items: Vec::new(),
    }];
    let mut y = ITEMS_TOP;
    for q in QUESTIONS.iter() {
        let mut it = item(lang, q, y);
        if it.top + it.height > ITEMS_BOTTOM {
            let n = pages.len() as u8 + 1;
            pages.push(PageLayout {
                number: n,
                items: Vec::new(),
            });
            it = item(lang, q, ITEMS_TOP);
        }
        y = it.top + it.height;
        if let Some(p) = pages.last_mut() {
            p.items.push(it);
        }
    }
    FormLayout { lang, pages }
}

/// The form's layout in `lang`, computed once.
pub fn cached(lang: Lang) -> &'static FormLayout {
    use std::sync::OnceLock;
    static FORMS: [OnceLock<FormLayout>; 8] = [const { OnceLock::new() }; 8];
    let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    FORMS[i].get_or_init(|| layout(lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_boxes_inside_and_apart() {
        for lang in Lang::ALL {
            let f = layout(lang);
            eprintln!("{lang}: {} pages", f.pages.len());
            assert!(f.pages.len() <= 3, "{lang}: {} pages", f.pages.len());
            let numbers: Vec<u8> = f
                .pages
                .iter()
                .flat_map(|p| p.items.iter().map(|i| i.number))
                .collect();
            assert_eq!(numbers, (1..=22).collect::<Vec<u8>>(), "{lang}");
            for p in &f.pages {
                let boxes: Vec<&AnswerBox> = p.items.iter().flat_map(|i| &i.boxes).collect();
                for b in &boxes {
                    assert!(b.x >= LEFT && b.x + BOX <= RIGHT, "{lang} {b:?}");
                    assert!(
                        b.y >= ITEMS_TOP && b.y + BOX <= ITEMS_BOTTOM,
                        "{lang} {b:?}"
                    );
                }
                for (i, a) in boxes.iter().enumerate() {
                    for b in &boxes[i + 1..] {
                        let dx = (a.x - b.x).abs();
                        let dy = (a.y - b.y).abs();
                        assert!(dx >= BOX + 4.0 || dy >= BOX + 3.5, "{lang}: {a:?} {b:?}");
                    }
                }
            }
        }
    }
}
