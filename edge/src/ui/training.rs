//! Training mode's marks and page: the 「練習モード」 band put at the top of every page a
//! training box serves (with the title prefix), and the trainer's summary page.

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

/// The trainer's summary page.
pub fn summary_page(lang: Lang, who: &Who, s: &Summary) -> Markup {
    let body = html! {
        section.summary {
            p {
                (lang.t("経過", "Elapsed")) ": " (s.elapsed_secs) " s (×" (s.speed) ") · "
                (lang.t("来場者", "Residents")) ": " (s.residents.0) "/" (s.residents.1) " · "
                (lang.t("記録", "Events")) ": " (s.events)
            }
            form method="post" action="/training/end" {
                button.big type="submit" {
                    (lang.t("練習を終了してデータを消去", "End the session and wipe its data"))
                }
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
                        ul { @for c in &t.corrections { li { (c) } } }
                    }
                    p { (lang.t("誤り・拒否された操作", "Mistakes and refused actions")) ": " (t.slips.len()) }
                    @if !t.slips.is_empty() {
                        ul {
                            @for sl in &t.slips {
                                li { "+" (format!("{:.1}", sl.at_ms as f64 / 1000.0)) "s " (sl.action) " → " (sl.status) " " code { (sl.code) } }
                            }
                        }
                    }
                }
            }
        }
    };
    super::page(
        lang,
        lang.t("研修のまとめ", "Trainer's summary"),
        super::who(lang, who),
        body,
    )
}
