//! The venue board page: the day's counts, residents in progress and every station's queue;
//! its script keeps it live from `GET /api/board/events`.

use checkup_protocol::StationKind;
use maud::{Markup, PreEscaped, html};

use super::{Lang, Who, page, who};

const BOARD_JS: &str = include_str!("../../assets/board.js");

/// One station of the venue as the board shows it.
#[derive(Debug, Clone)]
pub struct StationTile {
    /// Configured station id.
    pub id: String,
    /// Its kind.
    pub kind: StationKind,
    /// Its label.
    pub label: String,
    /// Open sessions still due there.
    pub waiting: usize,
    /// Sessions done there.
    pub done: usize,
}

/// What the board page shows when it is first drawn.
#[derive(Debug, Clone)]
pub struct BoardView {
    /// Venue name (the title).
    pub venue_name: String,
    /// Residents booked.
    pub booked: u64,
    /// Sessions opened today.
    pub opened: u64,
    /// Sessions open now.
    pub open: u64,
    /// The venue's stations.
    pub stations: Vec<StationTile>,
}

/// The board page for `staff`.
pub fn page_markup(lang: Lang, staff: &Who, v: &BoardView) -> Markup {
    let body = html! {
        section.summary aria-label=(lang.t("概要", "Summary")) {
            div { (lang.t("予約", "Booked")) b data-testid="booked" { (v.booked) } }
            div { (lang.t("受付済", "Checked in")) b data-testid="opened" { (v.opened) } }
            div { (lang.t("受診中", "In progress")) b data-testid="open" { (v.open) } }
        }
        section.station #board-sessions {
            h2 { (lang.t("受診中の方", "In progress")) }
            table #sessions {
                thead { tr {
                    th { (lang.t("氏名", "Name")) }
                    th { (lang.t("残りの検査", "Remaining")) }
                    th { (lang.t("次のおすすめ", "Suggested next")) }
                    th { (lang.t("状態", "State")) }
                } }
                tbody {}
            }
        }
        section.station #link {
            h2 { (lang.t("会場の連携", "Venue link")) }
            p #link-state { "—" }
        }
        ul.stations aria-label=(lang.t("検査会場", "Stations")) {
            @for s in &v.stations {
                li.station data-station=(s.id) data-kind=(s.kind.as_str()) {
                    h2 {
                        a href=(format!("/station/{}", s.kind.as_str())) { (s.label) }
                        span.en { (s.kind.label_en()) }
                    }
                    div.counts {
                        span.waiting { (lang.t("待ち ", "Waiting ")) b.w { (s.waiting) } }
                        span.done { (lang.t("完了 ", "Done ")) b.d { (s.done) } }
                    }
                    div.median { (lang.t("所要時間（中央値） ", "Median time ")) span.m { "—" } }
                }
            }
        }
        script { (PreEscaped(BOARD_JS)) }
    };
    page(lang, &v.venue_name, who(lang, staff), body)
}
