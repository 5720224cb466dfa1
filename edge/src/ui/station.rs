//! A station's entry page: residents due here (live), the station's items with their limits,
//! in the order they are taken, BMI derived, save (kept in the outbox until the box answers),
//! corrections with a reason and completion naming what is missing in in-page dialogs,
//! completion set apart from saving; the doctor sees the whole record. The residents due are
//! listed in the order they checked in and can be searched by name, kana or resident number.
//! Japanese first with English, English alone with `?lang=en`.
//!
//! At 問診 the page also holds the paper questionnaire of the resident at hand (「紙の
//! 質問票」): print the form in the resident's language, read the filled-in form back (a
//! scan or a photo: `POST /api/questionnaire/paper`, which records the clear answers via
//! paper; the scanner's folder on the box does the same) and, for each item the reader
//! could not decide, the reason and the answers as large buttons. Those items are the
//! session's (`paper_review` in `GET /api/sessions/{id}`): they are there after a reload
//! and on every tablet until an answer is recorded after the read. What the nurse chooses there is the nurse's decision after asking the
//! resident, so it goes through the station's one save (the outbox, `measurement_recorded`
//! or a correction) as an interview answer (`answered.via = interview`) in the form's
//! language; the paper channel is kept for what the reader itself took from the page.

use checkup_protocol::StationKind;
use maud::{Markup, PreEscaped, html};

use super::{Lang, page_with, who_at};

const STATION_JS: &str = include_str!("../../assets/station.js");

/// What a station page needs.
#[derive(Debug, Clone)]
pub struct StationView {
    /// The station.
    pub kind: StationKind,
    /// Who is signed in.
    pub who: super::Who,
    /// The page script's configuration (items, limits, names) as JSON.
    pub config: String,
}

/// A heading's text: Japanese with the English beneath it, or English alone (`?lang=en`).
fn bilingual(lang: Lang, ja: &str, en: &str) -> Markup {
    html! {
        @match lang {
            Lang::Ja => { (ja) " " span.en lang="en" { (en) } }
            Lang::En => { (en) }
        }
    }
}

/// 問診: the paper questionnaire of the resident at hand (filled in by the page script).
fn paper_block(lang: Lang) -> Markup {
    let both = |ja: &'static str, en: &'static str| match lang {
        Lang::Ja => format!("{ja} / {en}"),
        Lang::En => en.to_owned(),
    };
    html! {
        section #paper .paper aria-labelledby="paper-title" {
            h3 #paper-title { (bilingual(lang, "紙の質問票", "Paper questionnaire")) }
            div .paper-row {
                div .paper-print {
                    label for="paper-lang" { (both("印刷する言語", "Language of the form")) }
                    select #paper-lang {}
                    a #paper-print .button href="#" target="_blank" rel="noopener" {
                        (both("質問票を印刷", "Print the form"))
                    }
                }
                div .paper-upload {
                    label for="paper-file" {
                        (both("記入済みの質問票を読み取る（スキャン・撮影、複数ページ可）",
                              "Read the filled-in form (scan or photo, several pages at once)"))
                    }
                    // A phone or tablet offers its camera for image/*; a scanner's PDF works too.
                    input #paper-file type="file" accept="image/*,application/pdf" multiple;
                }
            }
            p #paper-status role="status" {}
            div #paper-result hidden {}
        }
    }
}

/// The station page, in the page frame (language switch, who is signed in, sign-out).
pub fn page_markup(lang: Lang, v: &StationView) -> Markup {
    let t = |ja: &'static str, en: &'static str| lang.t(ja, en);
    // Buttons and hints in Japanese with English, or English alone.
    let both = |ja: &'static str, en: &'static str| match lang {
        Lang::Ja => format!("{ja} / {en}"),
        Lang::En => en.to_owned(),
    };
    let title = lang.t(v.kind.label_ja(), v.kind.label_en());
    let header = who_at(lang, &v.who, &format!("/station/{}", v.kind.as_str()));
    let body = html! {
        div #station-config hidden data-config=(v.config) {}
        section .station #due-section {
            h2 #due-title { (bilingual(lang, "ここで受ける方（受付順）", "Residents due here (in order of arrival)")) }
            div .due-search role="search" {
                label for="due-search" { (both("氏名・カナ・住民番号で探す", "Find by name, kana or resident number")) }
                input #due-search type="search" autocomplete="off" enterkeyhint="search";
            }
            p #due-count role="status" {}
            ol #due .demo-list .due-list {}
            p #due-empty .hint hidden { (t("該当する方はいません", "No one matches")) }
        }
        section #entry .station hidden {
            h2 #entry-title {}
            div #record {}
            @if v.kind == StationKind::Questionnaire { (paper_block(lang)) }
            form #items {}
            p #bmi {}
            p #entry-message .error hidden role="alert" {}
            p #entry-status .saved hidden role="status" {}
            div .save-row {
                button type="button" #save { (both("保存", "Save")) }
            }
            // Completing is a separate step, set apart from saving.
            div .done-row {
                p .hint { (both("すべて保存してから、この方の検査を終えます", "When everything is saved, finish this resident here")) }
                button type="button" #done .secondary { (both("この検査を完了", "Complete station")) }
            }
        }
        p #done-status .saved role="status" {}
        // 問診: the resident picked may answer on this tablet themselves.
        @if v.kind == StationKind::Questionnaire { (super::resident::hand_over_button()) }
        script { (PreEscaped(STATION_JS)) }
    };
    page_with(lang, title, "station-page", header, body)
}
