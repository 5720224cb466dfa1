//! A synthetic corpus of police child-abuse notifications (児童通告書) with ground truth, for
//! tuning and scoring the OCR intake: two form families (`render_colon`: "label：value"
//! lines; `render_table`: a ruled table), each page with its own label wording (児童氏名 /
//! 児童の氏名 / 氏名（児童）, 住所 / 住居 / 現住所, …), row order (the child's rows before the
//! guardian's), label column width and value position, type size and face (Noto Serif, Sans
//! or Sans Mono CJK JP from `fonts-noto-cjk`, regular or bold labels), sometimes the age after
//! the birth date; 200 or 300 dpi, and the damage real scans bring — skew, blur, speckle,
//! faint toner, JPEG artefacts, a red stamp. Deterministic for a seed; the evaluation set
//! uses seeds never tuned on. `truth.jsonl` names each page's `family` (for
//! leave-one-family-out evaluation).

use ab_glyph::{FontVec, PxScale};
use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};
use serde::Serialize;

use crate::Rng;

/// What a notice says, as a scorer compares it (normalised values) and as printed.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// Image file name.
    pub file: String,
    /// Notice date, ISO.
    pub notice_date: String,
    /// The police station that sends it.
    pub reporting_agency: String,
    /// Child's name, no spaces.
    pub child_name: String,
    /// Child's birth date, ISO.
    pub child_birth_date: String,
    /// `male` or `female`.
    pub child_sex: String,
    /// Address, no spaces.
    pub child_address: String,
    /// Guardian's name, no spaces.
    pub guardian_name: String,
    /// `physical`, `psychological`, `neglect` or `sexual`.
    pub abuse_type: String,
    /// Summary of the case.
    pub summary: String,
    /// How the page was made (for per-condition figures).
    pub conditions: String,
    /// The form family (`render_colon`, `render_table`), for per-family figures and
    /// leave-one-family-out evaluation.
    pub family: String,
}

const SURNAMES: &[&str] = &[
    "山田",
    "佐藤",
    "鈴木",
    "髙橋",
    "田中",
    "伊藤",
    "渡邊",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山本",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "山﨑",
    "森",
    "池田",
    "橋本",
    "石川",
    "前田",
    "藤田",
    "岡田",
    "後藤",
    "長谷川",
    "村上",
    "近藤",
    "坂本",
];
const BOYS: &[&str] = &[
    "太郎", "翔太", "大輝", "蓮", "悠真", "陽翔", "湊", "健太", "拓海", "颯",
];
const GIRLS: &[&str] = &[
    "花子",
    "陽菜",
    "結衣",
    "さくら",
    "美咲",
    "葵",
    "凛",
    "結菜",
    "芽依",
    "楓",
];
const ADULTS: &[&str] = &[
    "一郎", "誠", "浩二", "恵子", "由美", "直子", "健一", "美穂", "剛", "裕子",
];
const PLACES: &[(&str, &str)] = &[
    ("東京都", "世田谷区桜丘"),
    ("神奈川県", "横浜市港北区日吉"),
    ("埼玉県", "さいたま市浦和区高砂"),
    ("千葉県", "船橋市本町"),
    ("大阪府", "堺市北区中百舌鳥町"),
    ("愛知県", "名古屋市中区栄"),
    ("福岡県", "北九州市小倉北区京町"),
    ("北海道", "札幌市中央区北一条西"),
    ("静岡県", "浜松市中央区鍛冶町"),
    ("兵庫県", "神戸市灘区六甲台町"),
];
const STATIONS: &[&str] = &[
    "世田谷警察署長",
    "港北警察署長",
    "浦和警察署長",
    "船橋警察署長",
    "北堺警察署長",
    "中警察署長",
    "小倉北警察署長",
    "札幌中央警察署長",
    "浜松中央警察署長",
    "灘警察署長",
];
const ABUSE: &[(&str, &str)] = &[
    ("身体的虐待", "physical"),
    ("心理的虐待", "psychological"),
    ("ネグレクト", "neglect"),
    ("性的虐待", "sexual"),
];
const SUMMARIES: &[&str] = &[
    "近隣住民から児童の泣き声と怒鳴り声が聞こえるとの通報があり臨場したもの",
    "児童の顔面に打撲痕があり保護者の暴行が疑われるもの",
    "夜間に児童のみで長時間放置されていたもの",
    "保護者間の激しい口論を児童の面前で繰り返していたもの",
    "学校から児童の身体にあざがあるとの連絡を受けたもの",
    "児童が食事を十分に与えられず衰弱した状態で発見されたもの",
];

/// Layouts of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `児童氏名：…` lines.
    Colon,
    /// A ruled table, labels on the left.
    Table,
}

impl Layout {
    /// The family name in `truth.jsonl`.
    pub fn family(self) -> &'static str {
        match self {
            Layout::Colon => "render_colon",
            Layout::Table => "render_table",
        }
    }
}

/// A row of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// The child's name.
    ChildName,
    /// The child's birth date.
    Birth,
    /// The child's sex.
    Sex,
    /// The child's address.
    Address,
    /// The guardian's name.
    Guardian,
    /// The kind of abuse.
    Abuse,
    /// The summary.
    Summary,
}

impl Row {
    /// The wordings a form may print for the row (the first is the plain form's).
    fn labels(self) -> &'static [&'static str] {
        match self {
            Row::ChildName => &["児童氏名", "児童の氏名", "氏名（児童）"],
            Row::Birth => &["生年月日"],
            Row::Sex => &["性別"],
            Row::Address => &["住所", "住居", "現住所"],
            Row::Guardian => &["保護者氏名", "保護者の氏名"],
            Row::Abuse => &["虐待の種別", "虐待種別"],
            Row::Summary => &["事案の概要", "通告の理由"],
        }
    }
}

/// The Noto CJK JP typefaces in `fonts-noto-cjk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Noto Sans CJK JP (Gothic).
    Sans,
    /// Noto Serif CJK JP (Mincho).
    Serif,
    /// Noto Sans Mono CJK JP (Gothic, half-width Latin and digits of fixed width).
    SansMono,
}

/// How the form is laid out and typeset: drawn per page within a family.
#[derive(Debug, Clone)]
pub struct Style {
    /// The rows in print order, each with its label.
    pub rows: Vec<(Row, &'static str)>,
    /// Table: where the rule between label and value columns is, mm from the page's left
    /// edge. Colon: where the "：" stands (None: right after the label).
    pub label_end_mm: Option<f32>,
    /// Gap between the rule (or "：") and the value, mm.
    pub value_gap_mm: f32,
    /// Type size, mm: the font's ascent-to-descent height as ab_glyph scales it (4.2 mm is
    /// about 8 pt of em for Noto CJK; 3.7–4.6 mm drawn).
    pub size_mm: f32,
    /// Row pitch, mm.
    pub row_mm: f32,
    /// A value wider than this (mm from the left edge) wraps onto a second line.
    pub wrap_mm: f32,
    /// Typeface of the whole page (the `mincho` condition picks Serif).
    pub face: Face,
    /// Labels in bold.
    pub bold_labels: bool,
    /// Values (and the heading) in bold.
    pub bold_values: bool,
    /// The age in brackets after the birth date: 平成28年5月6日（8歳）.
    pub age: bool,
}

impl Style {
    /// The plain form: labels 児童氏名 … 事案の概要 in that order, the table's rule at 55 mm,
    /// 4.2 mm type, regular weight, no age, no wrapping.
    pub fn plain(mincho: bool) -> Style {
        Style {
            rows: [
                Row::ChildName,
                Row::Birth,
                Row::Sex,
                Row::Address,
                Row::Guardian,
                Row::Abuse,
                Row::Summary,
            ]
            .into_iter()
            .map(|r| (r, r.labels()[0]))
            .collect(),
            label_end_mm: None,
            value_gap_mm: 3.0,
            size_mm: 4.2,
            row_mm: 16.0,
            wrap_mm: 210.0,
            face: if mincho { Face::Serif } else { Face::Sans },
            bold_labels: false,
            bold_values: false,
            age: false,
        }
    }

    /// A random form of `layout`'s family.
    pub fn pick(rng: &mut Rng, layout: Layout, mincho: bool) -> Style {
        let mut child = vec![Row::ChildName, Row::Birth, Row::Sex, Row::Address];
        let mut rest = vec![Row::Guardian, Row::Abuse, Row::Summary];
        shuffle(rng, &mut child);
        shuffle(rng, &mut rest);
        let rows = child
            .into_iter()
            .chain(rest)
            .map(|r| (r, pick(rng, r.labels())))
            .collect();
        let size_mm = [3.7, 3.9, 4.2, 4.2, 4.4, 4.6][rng.below(6) as usize];
        let label_end_mm = match layout {
            // The rule 32–55 mm right of the table's edge (15 mm).
            Layout::Table => Some(47.0 + rng.below(24) as f32),
            // Half the pages put the "：" in a column 30–44 mm right of the labels' start.
            Layout::Colon => (rng.below(2) == 0).then(|| 50.0 + rng.below(15) as f32),
        };
        let face = if mincho {
            Face::Serif
        } else if rng.below(4) == 0 {
            Face::SansMono
        } else {
            Face::Sans
        };
        let bold_values = rng.below(8) == 0;
        Style {
            rows,
            label_end_mm,
            value_gap_mm: 2.0 + rng.below(5) as f32,
            size_mm,
            row_mm: (13 + rng.below(6)) as f32,
            wrap_mm: 193.0,
            face,
            bold_labels: bold_values || rng.below(4) == 0,
            bold_values,
            age: rng.below(3) == 0,
        }
    }

    fn describe(&self) -> String {
        let labels: Vec<&str> = self.rows.iter().map(|(_, l)| *l).collect();
        format!(
            "labels={} label_end={:?} gap={} size={}mm row={}mm face={:?}{}{} age={}",
            labels.join("/"),
            self.label_end_mm,
            self.value_gap_mm,
            self.size_mm,
            self.row_mm,
            self.face,
            if self.bold_labels { " bold-labels" } else { "" },
            if self.bold_values { " bold-values" } else { "" },
            self.age
        )
    }
}

fn shuffle<T>(rng: &mut Rng, xs: &mut [T]) {
    for i in (1..xs.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        xs.swap(i, j);
    }
}

/// How one page is drawn and damaged.
#[derive(Debug, Clone)]
pub struct Conditions {
    /// Form layout.
    pub layout: Layout,
    /// Mincho (serif) or Gothic.
    pub mincho: bool,
    /// Resolution.
    pub dpi: u32,
    /// Skew in degrees.
    pub skew: f32,
    /// Gaussian blur sigma (0: none).
    pub blur: f32,
    /// Speckles per megapixel.
    pub speckle: u32,
    /// Faint toner: ink lightened to this grey (0: black).
    pub faint: u8,
    /// JPEG quality (None: PNG).
    pub jpeg: Option<u8>,
    /// A red seal over the sender line.
    pub stamp: bool,
    /// Printed upside down (scanned the wrong way round).
    pub upside_down: bool,
    /// Wording, order, geometry and type of the form.
    pub style: Style,
}

impl Conditions {
    /// Draw conditions for a page of a corpus: the scan from `rng` (the same draws as before
    /// forms varied, so a seed's notices and damage stay as they were), the form's style from
    /// `style_rng`.
    pub fn pick(rng: &mut Rng, style_rng: &mut Rng) -> Conditions {
        let mut c = Conditions {
            layout: if rng.below(2) == 0 {
                Layout::Colon
            } else {
                Layout::Table
            },
            mincho: rng.below(2) == 0,
            dpi: if rng.below(3) == 0 { 200 } else { 300 },
            skew: (rng.below(31) as f32 - 15.0) / 10.0,
            blur: [0.0, 0.0, 0.6, 1.0][rng.below(4) as usize],
            speckle: [0, 0, 40, 120][rng.below(4) as usize],
            faint: [0, 0, 90, 130][rng.below(4) as usize],
            jpeg: [None, Some(85), Some(60)][rng.below(3) as usize],
            stamp: rng.below(2) == 0,
            upside_down: rng.below(10) == 0,
            style: Style::plain(false),
        };
        c.style = Style::pick(style_rng, c.layout, c.mincho);
        c
    }

    fn describe(&self) -> String {
        format!(
            "{:?} {} {}dpi skew={} blur={} speckle={} faint={} jpeg={:?} stamp={} flip={} {}",
            self.layout,
            if self.mincho { "mincho" } else { "gothic" },
            self.dpi,
            self.skew,
            self.blur,
            self.speckle,
            self.faint,
            self.jpeg,
            self.stamp,
            self.upside_down,
            self.style.describe()
        )
    }
}

fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len() as u64) as usize]
}

fn era(y: i32, m: u32, d: u32) -> String {
    let (name, base) = if (y, m, d) >= (2019, 5, 1) {
        ("令和", 2018)
    } else {
        ("平成", 1988)
    };
    let ey = y - base;
    let ys = if ey == 1 {
        "元".to_string()
    } else {
        ey.to_string()
    };
    format!("{name}{ys}年{m}月{d}日")
}

/// A random notice: truth, and the printed strings of its two dates.
pub fn notice(rng: &mut Rng, file: &str, c: &Conditions) -> (Truth, String, String) {
    let boy = rng.below(2) == 0;
    let surname = pick(rng, SURNAMES);
    let child = format!(
        "{surname}{}",
        if boy {
            pick(rng, BOYS)
        } else {
            pick(rng, GIRLS)
        }
    );
    let guardian = format!("{surname}{}", pick(rng, ADULTS));
    let k = rng.below(PLACES.len() as u64) as usize;
    let (pref, city) = PLACES[k];
    let address = format!(
        "{pref}{city}{}丁目{}番{}号",
        1 + rng.below(5),
        1 + rng.below(30),
        1 + rng.below(20)
    );
    let (ay, am, ad) = (
        2024 + rng.below(2) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    );
    let (by, bm, bd) = (
        2008 + rng.below(16) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    );
    let (abuse_ja, abuse) = ABUSE[rng.below(4) as usize];
    let truth = Truth {
        file: file.to_owned(),
        notice_date: format!("{ay:04}-{am:02}-{ad:02}"),
        reporting_agency: STATIONS[k].to_owned(),
        child_name: child,
        child_birth_date: format!("{by:04}-{bm:02}-{bd:02}"),
        child_sex: if boy { "male" } else { "female" }.to_owned(),
        child_address: address,
        guardian_name: guardian,
        abuse_type: abuse.to_owned(),
        summary: pick(rng, SUMMARIES).to_owned(),
        conditions: c.describe(),
        family: c.layout.family().to_owned(),
    };
    let _ = abuse_ja;
    (truth, era(ay, am, ad), era(by, bm, bd))
}

fn font(face: Face, bold: bool) -> anyhow::Result<FontVec> {
    let (file, index) = match face {
        Face::Serif => ("NotoSerifCJK", 0),
        Face::Sans => ("NotoSansCJK", 0),
        // In the collection: JP, KR, SC, TC, HK, then the Mono faces in that order.
        Face::SansMono => ("NotoSansCJK", 5),
    };
    let path = format!(
        "/usr/share/fonts/opentype/noto/{file}-{}.ttc",
        if bold { "Bold" } else { "Regular" }
    );
    let bytes = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("{path}: {e} (install fonts-noto-cjk)"))?;
    FontVec::try_from_vec_and_index(bytes, index).map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

fn abuse_ja(t: &Truth) -> &'static str {
    ABUSE
        .iter()
        .find(|(_, k)| *k == t.abuse_type)
        .map_or("", |(j, _)| j)
}

/// Full years from `birth` to `on` (ISO dates; None if either does not parse).
fn age(birth: &str, on: &str) -> Option<i32> {
    let ymd = |s: &str| -> Option<(i32, u32, u32)> {
        let mut p = s.split('-');
        Some((
            p.next()?.parse().ok()?,
            p.next()?.parse().ok()?,
            p.next()?.parse().ok()?,
        ))
    };
    let (by, bm, bd) = ymd(birth)?;
    let (y, m, d) = ymd(on)?;
    Some(y - by - i32::from((m, d) < (bm, bd)))
}

/// Split `text` where it first runs past `max_px` wide (None: it fits).
fn wrap_at(text: &str, max_px: f32, size: PxScale, f: &FontVec) -> Option<(String, String)> {
    use imageproc::drawing::text_size;
    if max_px <= 0.0 || text_size(size, f, text).0 as f32 <= max_px {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut cut = chars.len();
    while cut > 1 && text_size(size, f, &chars[..cut].iter().collect::<String>()).0 as f32 > max_px
    {
        cut -= 1;
    }
    Some((chars[..cut].iter().collect(), chars[cut..].iter().collect()))
}

/// Draw the page.
pub fn render(
    t: &Truth,
    notice_date: &str,
    birth: &str,
    c: &Conditions,
) -> anyhow::Result<DynamicImage> {
    use imageproc::drawing::{draw_hollow_rect_mut, draw_line_segment_mut, draw_text_mut};
    use imageproc::rect::Rect;
    let st = &c.style;
    let f = font(st.face, st.bold_values)?;
    let lf = if st.bold_labels == st.bold_values {
        None
    } else {
        Some(font(st.face, st.bold_labels)?)
    };
    let lf = lf.as_ref().unwrap_or(&f);
    let mmf = |mm: f32| mm / 25.4 * c.dpi as f32;
    let px = |mm: f32| mmf(mm) as i32;
    let (w, h) = (px(210.0) as u32, px(297.0) as u32);
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    let ink = Luma([c.faint]);
    let size = PxScale::from(st.size_mm / 25.4 * c.dpi as f32);
    let head = PxScale::from(4.2 / 25.4 * c.dpi as f32); // line height; an em of about 8 pt
    let big = PxScale::from(7.0 / 25.4 * c.dpi as f32);
    draw_text_mut(&mut img, ink, px(80.0), px(25.0), big, &f, "児童通告書");
    draw_text_mut(&mut img, ink, px(140.0), px(45.0), head, &f, notice_date);
    draw_text_mut(
        &mut img,
        ink,
        px(20.0),
        px(55.0),
        head,
        &f,
        "みどり児童相談所長　殿",
    );
    draw_text_mut(
        &mut img,
        ink,
        px(120.0),
        px(68.0),
        head,
        &f,
        &t.reporting_agency,
    );
    draw_text_mut(
        &mut img,
        ink,
        px(20.0),
        px(82.0),
        head,
        &f,
        "児童福祉法第25条の規定に基づき、下記のとおり通告します。",
    );
    let birth = match age(&t.child_birth_date, &t.notice_date) {
        Some(a) if st.age => format!("{birth}（{a}歳）"),
        _ => birth.to_owned(),
    };
    let value_of = |r: Row| match r {
        Row::ChildName => spaced(&t.child_name),
        Row::Birth => birth.clone(),
        Row::Sex => if t.child_sex == "male" { "男" } else { "女" }.to_owned(),
        Row::Address => t.child_address.clone(),
        Row::Guardian => spaced(&t.guardian_name),
        Row::Abuse => abuse_ja(t).to_owned(),
        Row::Summary => t.summary.clone(),
    };
    let line_gap = px(st.size_mm * 1.35);
    let mut y = px(100.0);
    for &(row, label) in &st.rows {
        let value = value_of(row);
        let row_h = px(st.row_mm);
        match c.layout {
            Layout::Colon => {
                let x0 = px(20.0);
                // The plain form draws "label：value" as one run; bold labels are drawn apart,
                // the value following at the label's advance.
                let (x, text) = match st.label_end_mm {
                    None if std::ptr::eq(lf, &f) => (x0, format!("{label}：{value}")),
                    None => {
                        draw_text_mut(&mut img, ink, x0, y, size, lf, label);
                        (
                            x0 + imageproc::drawing::text_size(size, lf, label).0 as i32,
                            format!("：{value}"),
                        )
                    }
                    Some(end) => {
                        draw_text_mut(&mut img, ink, x0, y, size, lf, label);
                        draw_text_mut(&mut img, ink, px(end), y, size, lf, "：");
                        (px(end + st.size_mm + st.value_gap_mm - 2.0), value)
                    }
                };
                match wrap_at(&text, mmf(st.wrap_mm) - x as f32, size, &f) {
                    None => {
                        draw_text_mut(&mut img, ink, x, y, size, &f, &text);
                        y += row_h;
                    }
                    Some((a, b)) => {
                        draw_text_mut(&mut img, ink, x, y, size, &f, &a);
                        draw_text_mut(&mut img, ink, x, y + line_gap, size, &f, &b);
                        y += row_h + line_gap;
                    }
                }
            }
            Layout::Table => {
                let rule = st.label_end_mm.unwrap_or(55.0);
                let vx = px(rule + st.value_gap_mm);
                let wrapped = wrap_at(&value, mmf(st.wrap_mm) - vx as f32, size, &f);
                let cell_h = row_h + if wrapped.is_some() { line_gap } else { 0 };
                let line = Luma([c.faint.saturating_add(20)]);
                draw_hollow_rect_mut(
                    &mut img,
                    Rect::at(px(15.0), y - px(3.0)).of_size(px(180.0) as u32, cell_h as u32),
                    line,
                );
                draw_line_segment_mut(
                    &mut img,
                    (mmf(rule).floor(), (y - px(3.0)) as f32),
                    (mmf(rule).floor(), (y - px(3.0) + cell_h) as f32),
                    line,
                );
                draw_text_mut(&mut img, ink, px(18.0), y + px(2.0), size, lf, label);
                match wrapped {
                    None => draw_text_mut(&mut img, ink, vx, y + px(2.0), size, &f, &value),
                    Some((a, b)) => {
                        draw_text_mut(&mut img, ink, vx, y + px(2.0), size, &f, &a);
                        draw_text_mut(&mut img, ink, vx, y + px(2.0) + line_gap, size, &f, &b);
                    }
                }
                y += cell_h;
            }
        }
    }
    let mut rgb: RgbImage = DynamicImage::ImageLuma8(img).to_rgb8();
    if c.stamp {
        // A red seal partly over the sender line.
        let (cx, cy, r) = (px(180.0), px(70.0), px(8.0));
        imageproc::drawing::draw_hollow_circle_mut(&mut rgb, (cx, cy), r, Rgb([210, 40, 40]));
        imageproc::drawing::draw_hollow_circle_mut(&mut rgb, (cx, cy), r - 2, Rgb([210, 40, 40]));
    }
    let mut img = DynamicImage::ImageRgb8(rgb);
    if c.skew != 0.0 {
        img = DynamicImage::ImageRgb8(imageproc::geometric_transformations::rotate_about_center(
            &img.to_rgb8(),
            c.skew.to_radians(),
            imageproc::geometric_transformations::Interpolation::Bilinear,
            Rgb([255, 255, 255]),
        ));
    }
    if c.blur > 0.0 {
        img = img.blur(c.blur);
    }
    if c.upside_down {
        img = img.rotate180();
    }
    Ok(img)
}

/// Japanese forms often put a space between surname and given name.
fn spaced(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let cut = chars.len().min(2);
    format!(
        "{}　{}",
        chars[..cut].iter().collect::<String>(),
        chars[cut..].iter().collect::<String>()
    )
}

/// Speckle the page (after encoding decisions are made, before saving).
pub fn speckle(img: &mut DynamicImage, per_megapixel: u32, rng: &mut Rng) {
    if per_megapixel == 0 {
        return;
    }
    let mut rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let n = (u64::from(w) * u64::from(h) / 1_000_000) * u64::from(per_megapixel);
    for _ in 0..n {
        let (x, y) = (
            rng.below(u64::from(w)) as u32,
            rng.below(u64::from(h)) as u32,
        );
        let r = 1 + rng.below(2) as u32;
        for dx in 0..r {
            for dy in 0..r {
                if x + dx < w && y + dy < h {
                    rgb.put_pixel(x + dx, y + dy, Rgb([40, 40, 40]));
                }
            }
        }
    }
    *img = DynamicImage::ImageRgb8(rgb);
}

/// Write `n` pages starting at `seed` into `dir` (PNG or JPEG) and `truth.jsonl`.
pub fn generate(dir: &std::path::Path, n: usize, seed: u64) -> anyhow::Result<Vec<Truth>> {
    std::fs::create_dir_all(dir)?;
    let mut truths = Vec::new();
    let mut jsonl = String::new();
    for i in 0..n {
        let page_seed = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
        let mut rng = Rng::new(page_seed);
        let mut style_rng = Rng::new(page_seed ^ 0x5717_E000_F0E5);
        let c = Conditions::pick(&mut rng, &mut style_rng);
        let ext = if c.jpeg.is_some() { "jpg" } else { "png" };
        let file = format!("notice-{seed}-{i:04}.{ext}");
        let (t, date, birth) = notice(&mut rng, &file, &c);
        let mut img = render(&t, &date, &birth, &c)?;
        speckle(&mut img, c.speckle, &mut rng);
        let path = dir.join(&file);
        match c.jpeg {
            Some(q) => {
                let out = std::fs::File::create(&path)?;
                let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(
                    std::io::BufWriter::new(out),
                    q,
                );
                enc.encode_image(&img.to_rgb8())?;
            }
            None => img.to_rgb8().save(&path)?,
        }
        jsonl.push_str(&serde_json::to_string(&t)?);
        jsonl.push('\n');
        truths.push(t);
    }
    std::fs::write(dir.join("truth.jsonl"), jsonl)?;
    std::fs::write(dir.join("register.csv"), register(&truths, seed))?;
    Ok(truths)
}

/// One notice with fixed, plain values (tests that need a readable page; render it with
/// 令和7年4月1日 and 平成28年5月6日 printed for the two dates).
pub fn example(file: &str) -> Truth {
    Truth {
        file: file.into(),
        notice_date: "2025-04-01".into(),
        reporting_agency: "港北警察署長".into(),
        child_name: "山田太郎".into(),
        child_birth_date: "2016-05-06".into(),
        child_sex: "male".into(),
        child_address: "神奈川県横浜市港北区日吉3丁目5番8号".into(),
        guardian_name: "山田恵子".into(),
        abuse_type: "neglect".into(),
        summary: "夜間に児童のみで長時間放置されていたもの".into(),
        conditions: String::new(),
        family: String::new(),
    }
}

/// The [`example`] notice rendered cleanly in `layout` (dates printed as 令和7年4月1日 and
/// 平成28年5月6日).
pub fn render_example(t: &Truth, layout: Layout, mincho: bool) -> anyhow::Result<DynamicImage> {
    render(t, "令和7年4月1日", "平成28年5月6日", &clean(layout, mincho))
}

/// Clean scanning conditions for `layout` (the plain form, Gothic or Mincho, 300 dpi, no skew
/// or damage).
pub fn clean(layout: Layout, mincho: bool) -> Conditions {
    Conditions {
        layout,
        mincho,
        dpi: 300,
        skew: 0.0,
        blur: 0.0,
        speckle: 0,
        faint: 0,
        jpeg: None,
        stamp: false,
        upside_down: false,
        style: Style::plain(mincho),
    }
}

/// The municipality's resident register for a corpus, as `checkup-edge ocr notice
/// --residents` reads it: every notice's child and guardian (at the child's address), and
/// 400 other residents drawn from the same names and places — among them, for every child,
/// two other children born the same day, so a match on the birth date alone is never enough.
pub fn register(truths: &[Truth], seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x5EED_4E67);
    let mut rows: Vec<String> = Vec::new();
    let mut id = 1_400_000_000u64 + seed * 10_000;
    let mut row = |name: &str, birth: &str, sex: &str, address: &str, rows: &mut Vec<String>| {
        id += 1;
        rows.push(format!("{id:010},{name},,{birth},{sex},{address}"));
    };
    let address = |rng: &mut Rng| {
        let (pref, city) = PLACES[rng.below(PLACES.len() as u64) as usize];
        format!(
            "{pref}{city}{}丁目{}番{}号",
            1 + rng.below(5),
            1 + rng.below(30),
            1 + rng.below(20)
        )
    };
    for t in truths {
        row(
            &t.child_name,
            &t.child_birth_date,
            &t.child_sex,
            &t.child_address,
            &mut rows,
        );
        let guardian_birth = format!(
            "{:04}-{:02}-{:02}",
            1970 + rng.below(25),
            1 + rng.below(12),
            1 + rng.below(28)
        );
        row(
            &t.guardian_name,
            &guardian_birth,
            "",
            &t.child_address,
            &mut rows,
        );
        for _ in 0..2 {
            let boy = rng.below(2) == 0;
            let name = format!(
                "{}{}",
                pick(&mut rng, SURNAMES),
                pick(&mut rng, if boy { BOYS } else { GIRLS })
            );
            let a = address(&mut rng);
            row(
                &name,
                &t.child_birth_date,
                if boy { "male" } else { "female" },
                &a,
                &mut rows,
            );
        }
    }
    for _ in 0..400 {
        let name = format!("{}{}", pick(&mut rng, SURNAMES), pick(&mut rng, ADULTS));
        let birth = format!(
            "{:04}-{:02}-{:02}",
            1950 + rng.below(70),
            1 + rng.below(12),
            1 + rng.below(28)
        );
        let a = address(&mut rng);
        row(&name, &birth, "", &a, &mut rows);
    }
    // Register order says nothing about the notices.
    for i in (1..rows.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        rows.swap(i, j);
    }
    let mut csv = String::from("resident_id,name,name_kana,birth_date,sex,address\n");
    for r in rows {
        csv.push_str(&r);
        csv.push('\n');
    }
    csv
}
