//! The resident's own questionnaire page on a venue tablet in resident mode, and the
//! button staff pages show to hand a tablet over.
//!
//! The page has no staff navigation and shows nothing personal: only the session's short
//! number. First a language chooser (each language named in itself, very large), then in
//! the chosen language one question per screen with answers as large touch targets
//! (≥ 56 px), required items marked, the answers the session already holds (e.g. from the
//! phone) chosen so the resident can change them, a review and submit, then the thanks that
//! ask to give the tablet back. The `lang` attribute follows the language (やさしい日本語 is
//! `ja`). A small 「係員」 button opens the staff PIN pad that ends resident mode.

use std::collections::BTreeMap;

use checkup_protocol::questionnaire::QuestionnaireView;
use maud::{DOCTYPE, Markup, PreEscaped, html};

const RESIDENT_JS: &str = include_str!("../../assets/resident.js");
const HAND_OVER_JS: &str = include_str!("../../assets/hand-over.js");

/// The page's own styles: larger than the staff pages, for residents of every age.
const RESIDENT_CSS: &str = r#"
body.resident main { max-width: 54rem; padding: 1rem 1.25rem 5rem; }
body.resident header { justify-content: space-between; }
body.resident header .short { font-size: 1.2rem; font-weight: bold; margin: 0; }
body.resident header a.change-lang { color: #fff; font-size: 1.1rem; min-height: 3rem; display: inline-flex; align-items: center; padding: .3rem .9rem; border: 2px solid #fff; border-radius: 10px; text-decoration: none; }
body.resident h1 { font-size: 1.9rem; margin: .5rem 0 1rem; }
ul.langs { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 1rem; }
ul.langs a { display: flex; flex-direction: column; justify-content: center; min-height: 6rem; padding: .8rem 1.4rem; background: #fff; border: 3px solid var(--accent); border-radius: 14px; color: var(--fg); text-decoration: none; }
ul.langs .name { font-size: 2rem; font-weight: bold; line-height: 1.3; }
ul.langs .prompt { font-size: 1.05rem; color: var(--muted); }
section.q, section.rv { background: #fff; border-radius: 14px; padding: 1.25rem 1.5rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.progress { font-size: 1.15rem; color: var(--muted); margin: 0 0 .5rem; }
section.q fieldset { border: 0; padding: 0; margin: 0; min-width: 0; }
section.q legend { padding: 0; margin-bottom: .75rem; }
section.q h2 { font-size: 1.7rem; line-height: 1.5; margin: 0; }
.req { display: inline-block; font-size: 1.05rem; font-weight: bold; background: #b42318; color: #fff; border-radius: 6px; padding: .1rem .6rem; margin-left: .5rem; vertical-align: middle; }
label.choice { display: flex; align-items: center; gap: 1rem; min-height: 4rem; font-size: 1.5rem; font-weight: normal; background: #fff; border: 3px solid #9aa4b0; border-radius: 12px; padding: .6rem 1.2rem; margin: .7rem 0; cursor: pointer; }
label.choice input { width: 2.2rem; height: 2.2rem; min-height: 0; flex: none; margin: 0; }
label.choice:has(input:checked) { border-color: var(--accent); background: #e8f1fb; font-weight: bold; }
.steps { display: flex; justify-content: space-between; gap: 1rem; margin-top: 1.5rem; }
.steps button, #submit { font-size: 1.5rem; min-height: 4rem; min-width: 10rem; }
ol#review-list { padding-left: 0; list-style: none; }
ol#review-list button { display: block; width: 100%; text-align: left; background: #fff; color: var(--fg); border: 2px solid #c0c8d0; margin: .4rem 0; min-height: 3.5rem; font-size: 1.2rem; }
ol#review-list button.missing { border-color: var(--warn); }
ol#review-list .a { display: block; font-weight: bold; color: #0b4f96; }
ol#review-list .missing .a { color: #7a2e0e; }
.warn { color: #7a2e0e; background: #fff4e5; border: 2px solid var(--warn); border-radius: 10px; padding: .6rem .9rem; font-size: 1.2rem; font-weight: bold; }
#thanks h2 { font-size: 2rem; line-height: 1.5; }
#staff-exit { position: fixed; right: .75rem; bottom: .75rem; font-size: .95rem; min-height: 2.8rem; min-width: 3.5rem; padding: .3rem .9rem; background: #fff; color: #3d4652; border: 1px solid #9aa4b0; }
#exit-dialog .exit-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1rem; }
#exit-dialog label { margin: .2rem 0; }
#exit-dialog .keys { grid-template-columns: repeat(6, 1fr); margin-top: .75rem; }
#exit-dialog .key { min-height: 3rem; }
"#;

/// A language the chooser offers.
#[derive(Debug, Clone)]
pub struct Choice {
    /// BCP 47 tag (the page's `?lang=`).
    pub tag: &'static str,
    /// The HTML `lang` of its texts.
    pub html_lang: &'static str,
    /// Its own name for itself.
    pub name: String,
    /// "Choose a language" in it.
    pub prompt: String,
}

/// What the resident's page shows.
#[derive(Debug, Clone)]
pub struct ResidentView {
    /// The session's short number (nothing else about the resident).
    pub short_id: String,
    /// Whether the session is still open.
    pub open: bool,
    /// The questionnaire in the chosen language; `None`: the language chooser.
    pub questionnaire: Option<QuestionnaireView>,
    /// The answers the session holds, by item code.
    pub answers: BTreeMap<String, String>,
    /// The languages offered.
    pub languages: Vec<Choice>,
}

/// The resident's page.
pub fn page_markup(v: &ResidentView) -> Markup {
    let (html_lang, title) = match &v.questionnaire {
        Some(q) => (
            q.html_lang.as_str(),
            q.ui.get("title").map_or("", String::as_str),
        ),
        None => ("ja", "言語 / Language"),
    };
    html! {
        (DOCTYPE)
        html lang=(html_lang) dir="ltr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="icon" type="image/svg+xml" href="/favicon.svg";
                link rel="stylesheet" href="/assets/app.css";
                style { (PreEscaped(RESIDENT_CSS)) }
            }
            body.resident data-testid="resident-page" {
                header {
                    p.short data-testid="short-id" { "No. " (v.short_id) }
                    @if v.questionnaire.is_some() {
                        a.change-lang href="/resident" data-testid="change-lang" {
                            span lang="ja" { "言語" } " / " span lang="en" { "Language" }
                        }
                    }
                }
                main {
                    @match &v.questionnaire {
                        None => (chooser(v)),
                        Some(q) => (questions(v, q)),
                    }
                }
                (staff_exit())
                script { (PreEscaped(RESIDENT_JS)) }
            }
        }
    }
}

/// The language chooser: each language named in itself, with "choose a language" in it.
fn chooser(v: &ResidentView) -> Markup {
    html! {
        h1 {
            span lang="ja" { "言語を選んでください" } " / " span lang="en" { "Choose a language" }
        }
        ul.langs {
            @for c in &v.languages {
                li {
                    a href={ "/resident?lang=" (c.tag) } lang=(c.html_lang) hreflang=(c.html_lang)
                        data-lang=(c.tag) {
                        span.name { (c.name) }
                        span.prompt { (c.prompt) }
                    }
                }
            }
        }
    }
}

/// The questions one per screen, the review, the thanks.
fn questions(v: &ResidentView, q: &QuestionnaireView) -> Markup {
    let ui = |k: &str| q.ui.get(k).cloned().unwrap_or_default();
    let total = q.items.len();
    html! {
        h1 { (ui("title")) }
        form #answers data-lang=(q.lang) data-open=(v.open)
            data-unanswered=(ui("unanswered")) data-send-failed=(ui("send_failed"))
            data-required=(ui("required")) {
            @for (i, item) in q.items.iter().enumerate() {
                section.q data-code=(item.code) data-required=(item.required) data-index=(i)
                    hidden[i > 0] aria-labelledby={ "q-" (item.number) } {
                    p.progress {
                        (ui("question_of").replace("{n}", &item.number.to_string()).replace("{total}", &total.to_string()))
                    }
                    fieldset {
                        legend {
                            h2 id={ "q-" (item.number) } {
                                (item.question)
                                @if item.required { span.req { (ui("required")) } }
                            }
                        }
                        @for a in &item.answers {
                            label.choice {
                                input type="radio" name=(item.code) value=(a.code)
                                    checked[v.answers.get(&item.code) == Some(&a.code)];
                                span.text { (a.text) }
                            }
                        }
                    }
                    div.steps {
                        button type="button" .back.secondary disabled[i == 0] { (ui("back")) }
                        button type="button" .next { (ui("next")) }
                    }
                }
            }
            section #review .rv hidden aria-labelledby="review-title" {
                h2 #review-title { (ui("review")) }
                p #unanswered .warn hidden { (ui("unanswered")) }
                ol #review-list {}
                div.steps {
                    button type="button" #review-back .secondary { (ui("back")) }
                    button type="button" #submit { (ui("submit")) }
                }
                p #send-failed .error role="alert" hidden { (ui("send_failed")) }
            }
            section #thanks .rv hidden aria-live="polite" {
                h2 { (ui("thanks_tablet")) }
            }
        }
    }
}

/// The small 「係員」 button and the staff PIN pad it opens (Japanese: staff read it).
fn staff_exit() -> Markup {
    html! {
        footer {
        button type="button" #staff-exit lang="ja" data-testid="staff-exit" { "係員" }
        dialog #exit-dialog .ce-dialog lang="ja" aria-labelledby="exit-title" {
            h2 #exit-title { "係員の確認（受診者モードを終了）" }
            form #exit-form method="dialog" {
                div.exit-fields {
                    div {
                        label for="exit-staff" { "職員ID" }
                        input #exit-staff name="staff_id" autocomplete="off" autocapitalize="characters";
                    }
                    div {
                        label for="exit-pin" { "暗証番号" }
                        input #exit-pin name="pin" type="password" inputmode="numeric" autocomplete="off";
                    }
                }
                div.keys role="group" aria-label="暗証番号の数字" {
                    @for k in ["1","2","3","4","5","6","7","8","9","消","0"] {
                        button type="button" .key data-key=(k) aria-label=[(k == "消").then_some("1文字消す")] { (k) }
                    }
                }
                p #exit-message .error role="alert" hidden {}
                div.ce-dialog-buttons {
                    button type="button" #exit-cancel .secondary { "閉じる" }
                    button type="submit" #exit-ok { "終了して戻る" }
                }
            }
        }
        }
    }
}

/// The 「タブレットで回答（本人）」 button on staff pages: hands this tablet to the resident
/// of the session it names. Reception and the 問診 station put it beside the resident at
/// hand; the button stays hidden until a session is named (`window.ceHandOverFor(id)`, or a
/// row with `data-session` picked in `#due`).
pub fn hand_over_button() -> Markup {
    html! {
        div #hand-over hidden {
            button type="button" #hand-over-button .secondary data-testid="hand-over" {
                "タブレットで回答（本人） / Resident answers on this tablet"
            }
            p #hand-over-message .error role="alert" hidden {}
        }
        script { (PreEscaped(HAND_OVER_JS)) }
    }
}
