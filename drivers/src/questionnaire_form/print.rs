//! The QR payload and the printable HTML of the paper questionnaire.
//!
//! The payload is short ASCII, `CKQ1;SESSION;RESIDENT;PAGE/PAGES;LANG`, so it fits a small
//! code at a high error-correction level. The HTML positions every element absolutely in
//! millimetres with `@page { size: A4; margin: 0 }`, so a browser prints exactly
//! [`super::layout`]'s geometry (tested by printing and reading back).

use checkup_protocol::questionnaire::{self, Lang};
use qrcode::{EcLevel, QrCode};

use super::layout::{self, FormLayout, PageLayout};

/// What the QR code of a page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormId {
    /// The checkup session the form was printed for.
    pub session: String,
    /// The resident's id as the box knows it.
    pub resident: String,
    /// 1-based page number.
    pub page: u8,
    /// Pages in the form.
    pub pages: u8,
    /// The language the form was printed in (besides Japanese).
    pub lang: Lang,
}

/// Why a payload could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not a questionnaire payload (another QR code, or damaged).
    #[error("the QR code is not a questionnaire form's ({0})")]
    NotOurs(String),
    /// An id with characters the payload does not carry.
    #[error("an id may hold only letters, digits, '-', '_' and '.', up to 64 characters")]
    BadId,
    /// Page numbers out of range.
    #[error("page {0} of {1} is not a page of the form")]
    BadPage(u8, u8),
    /// A language the product does not speak.
    #[error("unknown language {0:?}")]
    BadLang(String),
    /// The QR code could not be made.
    #[error("QR code: {0}")]
    Qr(String),
}

const MAGIC: &str = "CKQ1";

fn id_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

impl FormId {
    /// The payload text.
    pub fn encode(&self) -> Result<String, PayloadError> {
        if !id_ok(&self.session) || !id_ok(&self.resident) {
            return Err(PayloadError::BadId);
        }
        if self.page == 0 || self.page > self.pages {
            return Err(PayloadError::BadPage(self.page, self.pages));
        }
        Ok(format!(
            "{MAGIC};{};{};{}/{};{}",
            self.session,
            self.resident,
            self.page,
            self.pages,
            self.lang.tag()
        ))
    }

    /// Read a payload.
    pub fn decode(text: &str) -> Result<FormId, PayloadError> {
        let shown: String = text.chars().take(40).collect();
        let parts: Vec<&str> = text.split(';').collect();
        let [magic, session, resident, page, lang] = parts.as_slice() else {
            return Err(PayloadError::NotOurs(shown));
        };
        if *magic != MAGIC {
            return Err(PayloadError::NotOurs(shown));
        }
        if !id_ok(session) || !id_ok(resident) {
            return Err(PayloadError::BadId);
        }
        let (p, n) = page
            .split_once('/')
            .ok_or_else(|| PayloadError::NotOurs(shown.clone()))?;
        let p: u8 = p
            .parse()
            .map_err(|_| PayloadError::NotOurs(shown.clone()))?;
        let n: u8 = n
            .parse()
            .map_err(|_| PayloadError::NotOurs(shown.clone()))?;
        if p == 0 || p > n {
            return Err(PayloadError::BadPage(p, n));
        }
        let lang = Lang::from_tag(lang).ok_or_else(|| PayloadError::BadLang(lang.to_string()))?;
        Ok(FormId {
            session: session.to_string(),
            resident: resident.to_string(),
            page: p,
            pages: n,
            lang,
        })
    }
}

/// One page to print: its id (for the QR code) and optional extra SVG drawn over it in
/// millimetre coordinates (the synthetic corpus draws pen marks this way).
#[derive(Debug, Clone)]
pub struct PrintPage {
    /// What the page's QR code says.
    pub id: FormId,
    /// SVG elements in a `viewBox="0 0 210 297"` layer over the page.
    pub overlay: String,
}

impl PrintPage {
    /// Every page of `lang`'s form for `session` and `resident`, without overlays.
    pub fn form(session: &str, resident: &str, lang: Lang) -> Vec<PrintPage> {
        let pages = layout::cached(lang).pages.len() as u8;
        (1..=pages)
            .map(|page| PrintPage {
                id: FormId {
                    session: session.to_string(),
                    resident: resident.to_string(),
                    page,
                    pages,
                    lang,
                },
                overlay: String::new(),
            })
            .collect()
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The QR code of a payload as an SVG element `side` mm square at (`x`, `y`).
pub fn qr_svg(payload: &str, x: f32, y: f32, side: f32) -> Result<String, PayloadError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| PayloadError::Qr(e.to_string()))?;
    let w = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % w, i / w));
        }
    }
    Ok(format!(
        r##"<svg class="qr" style="left:{x}mm;top:{y}mm;width:{side}mm;height:{side}mm" viewBox="0 0 {w} {w}" shape-rendering="crispEdges" aria-hidden="true"><path d="{path}" fill="#000"/></svg>"##
    ))
}

const CSS: &str = "@page{size:A4;margin:0}\
*{box-sizing:border-box;margin:0;padding:0}\
html,body{background:#fff;color:#000;font-family:'Noto Sans CJK JP','Noto Sans JP','Noto Sans',sans-serif;-webkit-print-color-adjust:exact;print-color-adjust:exact}\
.page{position:relative;width:210mm;height:297mm;overflow:hidden;break-after:page;page-break-after:always}\
.page:last-child{break-after:auto;page-break-after:auto}\
.fid{position:absolute;background:#000;width:8mm;height:8mm}\
.qr{position:absolute}\
.box{position:absolute;width:6mm;height:6mm;border:0.4mm solid #000;background:#fff}\
.t{position:absolute;line-height:1.3;overflow-wrap:anywhere;color:#000}\
.t.sub{color:#333}\
.num{position:absolute;font-weight:bold}\
.head{position:absolute;left:18mm;width:148mm}\
.overlay{position:absolute;left:0;top:0;width:210mm;height:297mm}\
@media screen{body{background:#888}.page{margin:4mm auto;background:#fff}}";

fn page_html(page: &PageLayout, id: &FormId, overlay: &str) -> Result<String, PayloadError> {
    let mut h = String::new();
    h.push_str("<section class=\"page\">");
    for (x, y) in layout::FIDUCIALS {
        h.push_str(&format!(
            "<div class=\"fid\" style=\"left:{x}mm;top:{y}mm\"></div>"
        ));
    }
    let (qx, qy, qs) = layout::QR;
    h.push_str(&qr_svg(&id.encode()?, qx, qy, qs)?);
    let ja = questionnaire::texts(Lang::Ja);
    let t = questionnaire::texts(id.lang);
    let mut title = ja.ui("title").to_string();
    if id.lang != Lang::Ja {
        title = format!("{} / {}", ja.ui("title"), t.ui("title"));
    }
    h.push_str(&format!(
        "<h1 class=\"head\" style=\"top:18mm;font-size:5mm\">{}</h1>",
        esc(&title)
    ));
    h.push_str(&format!(
        "<p class=\"head\" style=\"top:25.5mm;font-size:3mm\">受診者 / ID: {} ・ {} / {}</p>",
        esc(&id.resident),
        id.page,
        id.pages
    ));
    let mut y = 30.5;
    let w = 148.0;
    let mut instr = vec![(ja.ui("paper_instructions"), "ja")];
    if id.lang != Lang::Ja {
        instr.push((t.ui("paper_instructions"), id.lang.html_lang()));
    }
    for (text, lang) in instr {
        h.push_str(&format!(
            "<p class=\"head\" lang=\"{lang}\" style=\"top:{y}mm;font-size:2.8mm;line-height:1.3\">{}</p>",
            esc(text)
        ));
        y += layout::block_height(text, 2.8, w);
    }
    for item in &page.items {
        h.push_str(&format!(
            "<div class=\"num\" style=\"left:{}mm;top:{}mm;font-size:{}mm\">{}</div>",
            layout::LEFT,
            item.top,
            layout::Q_FONT,
            item.number
        ));
        for tb in &item.texts {
            h.push_str(&format!(
                "<div class=\"t{}\" lang=\"{}\" style=\"left:{}mm;top:{}mm;width:{}mm;font-size:{}mm\">{}</div>",
                if tb.secondary { " sub" } else { "" },
                tb.lang,
                tb.x,
                tb.y,
                tb.w,
                tb.size,
                esc(&tb.text)
            ));
        }
        for b in &item.boxes {
            h.push_str(&format!(
                "<div class=\"box\" style=\"left:{}mm;top:{}mm\"></div>",
                b.x, b.y
            ));
        }
    }
    if !overlay.is_empty() {
        h.push_str("<svg class=\"overlay\" viewBox=\"0 0 210 297\" aria-hidden=\"true\">");
        h.push_str(overlay);
        h.push_str("</svg>");
    }
    h.push_str("</section>");
    Ok(h)
}

/// A printable HTML document of `pages` (one form, or many for a corpus).
pub fn document(pages: &[PrintPage]) -> Result<String, PayloadError> {
    let lang = pages.first().map(|p| p.id.lang).unwrap_or(Lang::Ja);
    let title = questionnaire::texts(Lang::Ja).ui("title");
    let mut h = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body><main>",
        lang.html_lang(),
        esc(title)
    );
    for p in pages {
        let form: &FormLayout = layout::cached(p.id.lang);
        let page = form
            .pages
            .get(usize::from(p.id.page).saturating_sub(1))
            .ok_or(PayloadError::BadPage(p.id.page, form.pages.len() as u8))?;
        if usize::from(p.id.pages) != form.pages.len() {
            return Err(PayloadError::BadPage(p.id.page, p.id.pages));
        }
        h.push_str(&page_html(page, &p.id, &p.overlay)?);
    }
    h.push_str("</main></body></html>");
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip_and_refusals() {
        let id = FormId {
            session: "0b5d6c1e-8a4e-4a5f-9c1d-2f3e4a5b6c7d".into(),
            resident: "R-000123".into(),
            page: 2,
            pages: 2,
            lang: Lang::PtBr,
        };
        let text = id.encode().expect("id encodes");
        assert_eq!(FormId::decode(&text).expect("id decodes"), id);
        assert!(matches!(
            FormId::decode("hello"),
            Err(PayloadError::NotOurs(_))
        ));
        assert!(matches!(
            FormId::decode("CKQ1;a;b;3/2;ja"),
            Err(PayloadError::BadPage(3, 2))
        ));
        assert!(matches!(
            FormId::decode("CKQ1;a;b;1/2;xx"),
            Err(PayloadError::BadLang(_))
        ));
        let bad = FormId {
            resident: "a;b".into(),
            ..id
        };
        assert_eq!(bad.encode(), Err(PayloadError::BadId));
    }

    #[test]
    fn document_has_every_box_and_escapes() {
        let pages = PrintPage::form("s1", "r<1", Lang::En);
        assert!(
            document(&pages).is_err(),
            "a resident id with '<' is refused"
        );
        let pages = PrintPage::form("s1", "r1", Lang::En);
        let html = document(&pages).expect("document renders");
        let boxes: usize = questionnaire::QUESTIONS
            .iter()
            .map(|q| q.answers.codes().len())
            .sum();
        assert_eq!(html.matches("class=\"box\"").count(), boxes);
        assert_eq!(html.matches("class=\"fid\"").count(), 4 * pages.len());
    }
}
