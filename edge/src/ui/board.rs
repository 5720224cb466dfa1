//! The venue board page, for a TV across the hall: the day's counts, every station's queue
//! and the residents in progress; its script keeps it live from `GET /api/board/events` and
//! says when it is not.

use checkup_protocol::StationKind;
use maud::{Markup, PreEscaped, html};

use super::{Lang, Who, page_with, who_at};

const BOARD_JS: &str = include_str!("../../assets/board.js");

/// One station kind of the venue as the board shows it (however many tables it has).
#[derive(Debug, Clone)]
pub struct StationTile {
    /// Configured id of its first table.
    pub id: String,
    /// Its kind.
    pub kind: StationKind,
    /// The labels of its tables (e.g. 血圧1, 血圧2).
    pub tables: Vec<String>,
    /// Residents whose next station this is.
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
    /// Residents checked in and not yet through every station.
    pub open: u64,
    /// The venue's stations, one per kind.
    pub stations: Vec<StationTile>,
}

/// The board page for `staff`: made for a TV across the hall (full width, large numbers),
/// entirely in the page language; a station links to its page only for staff who work there.
/// The venue admin of a real box also gets the 「練習モード」 switch (`switch`).
pub fn page_markup(
    lang: Lang,
    staff: &Who,
    v: &BoardView,
    switch: Option<&super::training::SwitchView>,
) -> Markup {
    let mine = super::stations_of(staff);
    let body = html! {
        div.board-top {
            section.summary aria-label=(lang.t("概要", "Summary")) {
                div { (lang.t("予約", "Booked")) b data-testid="booked" { (v.booked) } }
                div { (lang.t("受付済", "Checked in")) b data-testid="opened" { (v.opened) } }
                div { (lang.t("受診中", "In progress")) b data-testid="open" { (v.open) } }
            }
            p #live .live data-live="false" role="status" { (lang.t("接続しています…", "Connecting…")) }
        }
        ul.stations aria-label=(lang.t("検査会場", "Stations")) {
            @for s in &v.stations {
                li.station data-station=(s.id) data-kind=(s.kind.as_str()) {
                    h2 {
                        @let name = match lang {
                            Lang::Ja => s.kind.label_ja().to_owned(),
                            Lang::En => s.kind.label_en().to_owned(),
                        };
                        @if mine.contains(&s.kind) {
                            a href=(format!("/station/{}", s.kind.as_str())) { (name) }
                        } @else {
                            (name)
                        }
                        @if lang == Lang::Ja {
                            span.en lang="en" { (s.kind.label_en()) }
                            @if s.tables.len() > 1 || s.tables.first().map(String::as_str) != Some(s.kind.label_ja()) {
                                span.tables { (s.tables.join("・")) }
                            }
                        } @else if s.tables.len() > 1 {
                            span.tables { (s.tables.len()) " tables" }
                        }
                    }
                    div.counts {
                        span.waiting { (lang.t("待ち", "Waiting")) b.w { (s.waiting) } }
                        span.done { (lang.t("完了", "Done")) b.d { (s.done) } }
                    }
                    div.median { (lang.t("所要時間（中央値） ", "Median time ")) span.m { "—" } }
                }
            }
        }
        section.station #board-sessions {
            h2 { (lang.t("受診中の方", "In progress")) }
            table #sessions {
                thead { tr {
                    th scope="col" { (lang.t("氏名", "Name")) }
                    th scope="col" { (lang.t("残りの検査", "Remaining")) }
                    th scope="col" { (lang.t("次の検査", "Next")) }
                    th scope="col" { (lang.t("状態", "State")) }
                } }
                tbody {}
            }
        }
        section.station #link {
            h2 { (lang.t("会場の連携", "Venue link")) }
            p #link-state { "—" }
        }
        @if let Some(sw) = switch {
            (super::training::switch_section(lang, sw))
        }
        script { (PreEscaped(BOARD_JS)) }
    };
    page_with(lang, &v.venue_name, "board", who_at(lang, staff, "/"), body)
}
