//! The reception tablet: the card reader's state live, the PIN pad the resident types on,
//! the card read and its roster match, search without a card, check-in; demo taps on the
//! demo box.

use maud::{Markup, PreEscaped, html};

use super::{Lang, Who, page_with, who_at};

const RECEPTION_JS: &str = include_str!("../../assets/reception.js");

/// A booked resident whose card the demo page can tap.
#[derive(Debug, Clone)]
pub struct DemoResident {
    /// Name.
    pub name: String,
    /// Resident number.
    pub resident_id: String,
}

/// What the reception page shows when it is first drawn.
#[derive(Debug, Clone)]
pub struct ReceptionView {
    /// Venue name.
    pub venue_name: String,
    /// Who is signed in.
    pub who: Who,
    /// Residents the demo box can tap (empty without a virtual reader).
    pub demo: Vec<DemoResident>,
    /// A training box (練習モード): the tap panel says 練習, not デモ.
    pub training: bool,
}

/// The reception page, laid out for a landscape tablet: the reader's state, the reading and
/// the search and the check-in on the left, the PIN pad on the right (both within 1024×768).
pub fn page_markup(lang: Lang, v: &ReceptionView) -> Markup {
    let body = html! {
        div.desk {
            div.desk-main {
                section #card-status .station aria-live="polite" {
                    h2 #status-title { "カードをかざしてください" }
                    p #status-detail .en { "Tap the resident's card on the reader" }
                    p #status-easy .easy hidden {}
                }
                section #checked-in .station hidden aria-live="polite" {
                    h2 #checked-in-title { "受付しました" }
                    p #checked-in-stations {}
                    p #checked-in-pre .pre-answered data-testid="pre-answered" hidden {}
                    (super::resident::hand_over_button())
                }
                section .station #search {
                    h2 { "カードがない方を検索 " span.en { "Find a resident without a card" } }
                    form #search-form {
                        div.search-fields {
                            div {
                                label for="search-q" { "氏名・カナ / Name or kana" }
                                input #search-q name="q" autocomplete="off";
                            }
                            div {
                                label for="search-birth" { "生年月日 / Birth date" }
                                input #search-birth name="birth" type="date";
                            }
                            button type="submit" { "検索 / Search" }
                        }
                    }
                    p #search-message .error hidden role="alert" {}
                }
                section #result .station hidden {
                    h2 { "読み取り結果 " span.en { "Card reading" } }
                    dl #result-fields {}
                }
                section #candidates .station hidden {
                    h2 { "予約者 " span.en { "Booked resident" } }
                    ul #candidate-list .demo-list {}
                }
            }
            div.desk-side {
                section #pin-pad .station hidden {
                    h2 { "暗証番号（4桁）を入力してください " span.en { "Resident enters the 4-digit PIN" } }
                    // やさしい日本語: the resident reads this, and the wrong-PIN answers.
                    p #pin-easy .easy role="status" { "カードの ひみつの ばんごう（すうじ 4つ）を おしてください" }
                    p #pin-dots aria-label="PIN" { "○○○○" }
                    div .keys {
                        @for k in ["1","2","3","4","5","6","7","8","9","消","0","OK"] {
                            button type="button" .key data-key=(k) aria-label=[(k == "消").then_some("消す / Delete")] { (k) }
                        }
                    }
                    label #last-try hidden { input #confirm-last-try type="checkbox"; " 残り1回です。本人確認のうえ送信します / One try left: staff confirms" }
                }
                @if !v.demo.is_empty() {
                    section .station #demo {
                        @if v.training {
                            h2 { "練習: カードをタップ " span.en { "Training: tap a booked resident's card" } }
                            p .en { "練習用マイナンバーカードの暗証番号 = 住民番号の下4桁 / Training My Number PIN = last 4 digits of the resident number" }
                        } @else {
                            h2 { "デモ: カードをタップ " span.en { "Demo: tap a booked resident's card" } }
                            p .en { "My Number demo PIN = last 4 digits of the resident number" }
                        }
                        ul .demo-list {
                            @for r in &v.demo {
                                li {
                                    (r.name) " (" (r.resident_id) ") "
                                    button type="button" .tap data-resident=(r.resident_id) data-card="mynumber" { "マイナンバーカード" }
                                    " "
                                    button type="button" .tap data-resident=(r.resident_id) data-card="venue" { "会場カード" }
                                }
                            }
                        }
                        button type="button" #untap { "カードを離す / Remove card" }
                    }
                }
            }
        }
        script { (PreEscaped(RECEPTION_JS)) }
    };
    let title = format!("{} — {}", lang.t("受付", "Reception"), v.venue_name);
    page_with(
        lang,
        &title,
        "reception",
        who_at(lang, &v.who, "/reception"),
        body,
    )
}
