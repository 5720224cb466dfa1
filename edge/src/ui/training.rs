//! Training mode's marks and pages: the 「練習モード」 band put at the top of every page a
//! training box serves (with the title prefix), the trainer's summary page, and on a real
//! box the venue admin's switch that starts and stops a rehearsal ([`switch_section`]).

use maud::{Markup, html};

use super::{Lang, Who};
use crate::training::summary::Summary;

/// What every page title starts with in training mode.
pub const TITLE_PREFIX: &str = "【練習モード Training】";

/// The band at the top of every page: unmistakable (a striped orange band, fixed above
/// everything), Japanese first with English, and what the script says is happening now.
pub fn band(now: &str, progress: (usize, usize)) -> Markup {
    html! {
        div #training-band role="status" data-training="1"
            style="position:sticky;top:0;z-index:2147483647;display:block;padding:.5rem 1rem;\
                   background:repeating-linear-gradient(45deg,#ff8c00 0 24px,#ffb347 24px 48px);\
                   color:#000;border-bottom:4px solid #b34700;font-weight:bold;font-size:1.25rem;\
                   text-align:center;line-height:1.4" {
            span lang="ja" { "練習モード" } " / " span lang="en" { "Training mode" }
            span style="font-weight:normal;font-size:1rem;display:block" {
                "本物のデータではありません。中央には送られず、終了時に消去されます。 / "
                "Not real data: never sent to central, wiped at the end."
            }
            @if !now.is_empty() {
                span #training-now style="font-weight:normal;font-size:1rem;display:block" {
                    @if progress.1 > 0 { "[" (progress.0) "/" (progress.1) "] " }
                    (now)
                }
            }
        }
    }
}

/// The trainer's summary: per trainee what they recorded, time per station, corrections
/// (item, old → new, reason), unusual values confirmed, mistakes and refused actions.
pub fn summary_section(lang: Lang, s: &Summary) -> Markup {
    html! {
        section.summary #training-summary-section {
            p {
                (lang.t("経過", "Elapsed")) ": " (s.elapsed_secs) " s (×" (s.speed) ") · "
                (lang.t("来場者", "Residents")) ": " (s.residents.0) "/" (s.residents.1) " · "
                (lang.t("記録", "Events")) ": " (s.events)
            }
            @for t in &s.trainees {
                article.trainee data-staff=(t.staff_id) {
                    h2 { (t.staff_id) " " (t.name) " (" (t.role) ")" }
                    p {
                        (lang.t("記録", "Recorded")) ": "
                        @for (k, n) in &t.recorded { (k) " " (n) "; " }
                    }
                    @if !t.stations.is_empty() {
                        table {
                            tr { th { (lang.t("検査", "Station")) } th { (lang.t("人数", "Residents")) } th { (lang.t("平均時間（秒）", "Mean time (s)")) } }
                            @for st in &t.stations {
                                tr {
                                    td { (if lang == Lang::Ja { st.station.label_ja() } else { st.station.label_en() }) }
                                    td { (st.residents) }
                                    td { (format!("{:.1}", st.mean_secs)) }
                                }
                            }
                        }
                    }
                    p { (lang.t("訂正", "Corrections")) ": " (t.corrections.len()) }
                    @if !t.corrections.is_empty() {
                        ul.corrections { @for c in &t.corrections { li { (c.line()) } } }
                    }
                    p { (lang.t("確認した通常外の値", "Unusual values confirmed")) ": " (t.confirmed.len()) }
                    @if !t.confirmed.is_empty() {
                        ul.confirmed { @for c in &t.confirmed { li { (c.item) ": " (c.value) } } }
                    }
                    p { (lang.t("誤り・拒否された操作", "Mistakes and refused actions")) ": " (t.slips.len()) }
                    @if !t.slips.is_empty() {
                        ul.slips { @for sl in &t.slips { (slip_item(lang, sl)) } }
                    }
                }
            }
            @if !s.anonymous_slips.is_empty() {
                p { (lang.t("サインイン前の誤り", "Before sign-in")) ": " (s.anonymous_slips.len()) }
                ul.slips { @for sl in &s.anonymous_slips { (slip_item(lang, sl)) } }
            }
        }
    }
}

fn slip_item(lang: Lang, sl: &crate::training::Slip) -> Markup {
    let (ja, en) = crate::training::summary::slip_label(&sl.code);
    html! {
        li {
            "+" (format!("{:.1}", sl.at_ms as f64 / 1000.0)) "s " (sl.action) " → "
            (lang.t(ja, en)) " (" (sl.status) " " code { (sl.code) } ")"
        }
    }
}

/// The trainer's summary page, with the first step of ending the session.
pub fn summary_page(lang: Lang, who: &Who, s: &Summary) -> Markup {
    let body = html! {
        form method="post" action="/training/end" {
            button.big type="submit" {
                (lang.t("練習を終了してデータを消去…", "End the session and wipe its data…"))
            }
        }
        (summary_section(lang, s))
    };
    super::page(
        lang,
        lang.t("研修のまとめ", "Trainer's summary"),
        super::who(lang, who),
        body,
    )
}

/// The second step of ending the session: what will be wiped, the confirming button and
/// the way back (going back is the first, highlighted choice).
pub fn end_confirm_page(lang: Lang, who: &Who) -> Markup {
    let body = html! {
        section.end-confirm {
            h2 { (lang.t("練習を終了しますか？", "End the training session?")) }
            p {
                (lang.t(
                    "終了すると、この練習のデータ（記録・受診者・鍵）はすべて消去され、元に戻せません。まとめは次の画面に表示されます。",
                    "Ending wipes all of this session's data (records, residents, keys); it cannot be undone. The summary is shown on the next page."))
            }
            p { a.button #training-end-back href="/training/summary" { (lang.t("戻る（続ける）", "Back (keep training)")) } }
            form method="post" action="/training/end" {
                input type="hidden" name="confirm" value="1";
                button.big.secondary #training-end-confirm type="submit" {
                    (lang.t("終了してデータを消去する", "End and wipe the data"))
                }
            }
        }
    };
    super::page(
        lang,
        lang.t("練習の終了の確認", "End the training session?"),
        super::who(lang, who),
        body,
    )
}

/// The page after the session ended: the final summary (made before the data is wiped).
pub fn ended_page(lang: Lang, s: Option<&Summary>) -> Markup {
    let body = html! {
        p {
            (lang.t(
                "練習を終了しました。練習のデータを消去します。まとめは下のとおりです（印刷して残せます）。",
                "The session has ended and its data is being wiped. The summary is below (print it to keep it)."))
        }
        @match s {
            Some(s) => (summary_section(lang, s)),
            None => p.error { (lang.t("まとめを作れませんでした（端末の出力に表示されます）。", "The summary could not be made (see the box's output).")) },
        }
    };
    super::page(lang, lang.t("練習の終了", "Training ended"), html! {}, body)
}

/// Script of the switch's section, compiled in.
const SWITCH_JS: &str = include_str!("../../assets/training-switch.js");

/// What the venue admin's 「練習モード」 section shows when the page is drawn (its script
/// keeps it live from `GET /api/training`).
#[derive(Debug, Clone)]
pub struct SwitchView {
    /// A rehearsal runs.
    pub running: bool,
    /// Its address (same host as this page, its port).
    pub url: Option<String>,
    /// Residents offered by default.
    pub residents: usize,
    /// Most residents.
    pub max_residents: usize,
}

/// The venue admin's 「練習モード」 section on a real box: the choices (residents, speed,
/// autopilot) and the large start button, or, while a rehearsal runs, its link (a new tab)
/// and the stop button; the last rehearsal's summary once it has ended.
pub fn switch_section(lang: Lang, v: &SwitchView) -> Markup {
    html! {
        section.station #training-switch data-testid="training-switch"
            data-running=(if v.running { "1" } else { "0" }) {
            h2 { "練習モード " span.en lang="en" { "Training mode (rehearsal)" } }
            p {
                (lang.t(
                    "本番とは別の練習用の会場をこの端末で起動します。架空の受診者で受付から診察までを練習できます。練習のデータは中央に送られず、終了時に消去されます。",
                    "Starts a separate rehearsal venue on this box, with fictional residents, from reception to the doctor. Its data is never sent to central and is wiped when it ends."))
            }
            div #training-running hidden[!v.running] {
                p.training-live role="status" {
                    (lang.t("練習を実行中: ", "Rehearsal running: "))
                    a #training-link data-testid="training-link" target="_blank" rel="noopener"
                        href=(v.url.as_deref().unwrap_or("#")) {
                        (v.url.as_deref().unwrap_or(""))
                    }
                }
                p #training-since {}
                button.switch-big.stop type="button" #training-stop data-testid="training-stop" {
                    "練習を終了する / Stop the rehearsal"
                }
            }
            form #training-form hidden[v.running] {
                div.switch-row {
                    label for="training-residents" { (lang.t("受診者の人数", "Residents")) }
                    input #training-residents type="number" name="residents" min="1"
                        max=(v.max_residents) value=(v.residents) inputmode="numeric";
                }
                fieldset.switch-row {
                    legend { (lang.t("進む速さ", "Speed")) }
                    @for (value, ja, en, checked) in [("1", "実時間", "Real time", true), ("10", "×10", "×10", false), ("60", "×60", "×60", false)] {
                        label.switch-choice {
                            input type="radio" name="speed" value=(value) checked[checked];
                            " " (lang.t(ja, en))
                        }
                    }
                }
                div.switch-row {
                    label.switch-choice {
                        input #training-autopilot type="checkbox" name="autopilot";
                        " " (lang.t("自動操作（台本が受付・身体計測・血圧も行う）", "Autopilot (the script plays reception, measurement and blood pressure too)"))
                    }
                }
                button.switch-big type="submit" #training-start data-testid="training-start" {
                    "練習を始める / Start a rehearsal"
                }
            }
            p #training-message .error role="alert" hidden {}
            details #training-summary hidden {
                summary { (lang.t("前回の練習のまとめ", "The last rehearsal's summary")) }
                pre #training-summary-text {}
            }
            script { (maud::PreEscaped(SWITCH_JS)) }
        }
    }
}
