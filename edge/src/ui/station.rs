//! A station's entry page: residents due here (live), the station's items with their limits,
//! in the order they are taken, BMI derived, save (kept in the outbox until the box answers),
//! corrections with a reason and completion naming what is missing in in-page dialogs,
//! completion set apart from saving; the doctor sees the whole record.

use checkup_protocol::StationKind;
use maud::{Markup, PreEscaped, html};

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

/// The station page.
pub fn page_markup(v: &StationView) -> Markup {
    html! {
        (maud::DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (v.kind.label_ja()) " — Checkup Edge" }
                link rel="icon" type="image/svg+xml" href="/favicon.svg";
                link rel="stylesheet" href="/assets/app.css";
            }
            body data-config=(v.config) {
                header {
                    h1 { (v.kind.label_ja()) " " span.en { (v.kind.label_en()) } }
                    (super::who_at(super::Lang::Ja, &v.who, &format!("/station/{}", v.kind.as_str())))
                }
                main {
                    section .station {
                        h2 { "ここで受ける方 " span.en { "Residents due here" } }
                        ul #due .demo-list {}
                    }
                    section #entry .station hidden {
                        h2 #entry-title {}
                        div #record {}
                        form #items {}
                        p #bmi {}
                        p #entry-message .error hidden role="alert" {}
                        p #entry-status .saved hidden role="status" {}
                        div .save-row {
                            button type="button" #save { "保存 / Save" }
                        }
                        // Completing is a separate step, set apart from saving.
                        div .done-row {
                            p .hint { "すべて保存してから、この方の検査を終えます / When everything is saved, finish this resident here" }
                            button type="button" #done .secondary { "この検査を完了 / Complete station" }
                        }
                    }
                    p #done-status .saved role="status" {}
                }
                script { (PreEscaped(super::COMMON_JS)) }
                script { (PreEscaped(STATION_JS)) }
            }
        }
    }
}
