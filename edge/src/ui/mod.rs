//! The pages, as HTML only: each function takes the data a handler prepared (a view model,
//! never the app state) and returns markup. Japanese first, English beside it or with
//! `?lang=en`; assets are compiled into the binary, nothing is fetched from outside the box.
//!
//! - this file: the page frame (header, who is signed in, the pages their role may open,
//!   sign-out, language), where each role lands, the 403 and 404 pages, the shared script,
//!   stylesheet and icon;
//! - [`login`]: staff sign-in; [`board`]: the venue board; [`reception`]: the reception
//!   tablet; [`station`]: a station's entry page; [`resident`]: the resident's own
//!   questionnaire on a handed-over tablet; [`intake`]: the clerk's notice review and
//!   the caseworkers' case list; [`training`]: the 練習モード band, the trainer's summary
//!   and the venue admin's switch that starts a rehearsal.

pub mod board;
pub mod intake;
pub mod login;
pub mod reception;
pub mod resident;
pub mod station;
pub mod training;

use checkup_protocol::{Role, StationKind};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Script shared by the tablet pages, compiled in.
pub const COMMON_JS: &str = include_str!("../../assets/common.js");

/// The icon in the browser tab, compiled in.
pub const FAVICON_SVG: &str = include_str!("../../assets/favicon.svg");

/// The stylesheet, compiled in.
pub const APP_CSS: &str = include_str!("../../assets/app.css");

/// Page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 日本語 (default).
    Ja,
    /// English.
    En,
}

impl Lang {
    /// The text in this language.
    pub fn t<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// The `lang` attribute and cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// `ja` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }
}

/// Who is signed in, as the header shows it, and what their role may open.
#[derive(Debug, Clone)]
pub struct Who {
    /// Staff id (the tablet's outbox is kept per staff member).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// Station kinds they record for (role `station`).
    pub stations: Vec<StationKind>,
}

impl From<&crate::auth::Staff> for Who {
    fn from(s: &crate::auth::Staff) -> Who {
        Who {
            id: s.id.clone(),
            name: s.name.clone(),
            role: s.role,
            stations: s.stations.clone(),
        }
    }
}

/// A role's name in the page language.
pub fn role_label(lang: Lang, role: Role) -> &'static str {
    let en = match role {
        Role::Reception => "Reception",
        Role::Station => "Station staff",
        Role::Nurse => "Nurse",
        Role::Doctor => "Doctor",
        Role::ChildWelfareClerk => "Child-welfare clerk",
        Role::Caseworker => "Caseworker",
        Role::VenueAdmin => "Venue admin",
        Role::CentralAdmin => "Central admin",
        Role::Auditor => "Auditor",
    };
    lang.t(role.label_ja(), en)
}

/// The station kinds whose pages `who` may open, in the day's order.
pub fn stations_of(who: &Who) -> Vec<StationKind> {
    StationKind::ALL
        .into_iter()
        .filter(|k| match (who.role, k) {
            (Role::Doctor, _) => true,
            (_, StationKind::Doctor) => false,
            (Role::Nurse, _) => true,
            (Role::Station, k) => who.stations.contains(k),
            _ => false,
        })
        .collect()
}

/// The pages `who` may open, as `(path, Japanese, English)`, their own page first.
pub fn links(who: &Who) -> Vec<(String, &'static str, &'static str)> {
    let board = || ("/".to_owned(), "会場ボード", "Venue board");
    let mut v = Vec::new();
    match who.role {
        Role::Reception => {
            v.push(("/reception".to_owned(), "受付", "Reception"));
            v.push(board());
        }
        Role::VenueAdmin => {
            v.push(board());
            v.push(("/reception".to_owned(), "受付", "Reception"));
        }
        Role::Station | Role::Nurse | Role::Doctor => {
            // A doctor lands on 診察, station staff on their (first) station, a nurse on
            // the board, where every station is one tap away.
            let mut kinds = stations_of(who);
            if who.role == Role::Doctor {
                kinds.retain(|k| *k == StationKind::Doctor);
            }
            if who.role == Role::Nurse {
                v.push(board());
            }
            for k in kinds {
                v.push((
                    format!("/station/{}", k.as_str()),
                    k.label_ja(),
                    k.label_en(),
                ));
            }
            if who.role != Role::Nurse {
                v.push(board());
            }
        }
        Role::ChildWelfareClerk => {
            v.push(("/intake".to_owned(), "通告書の受付", "Notice intake"));
            v.push(("/cases".to_owned(), "事案一覧", "Cases"));
        }
        Role::Caseworker => v.push(("/cases".to_owned(), "事案一覧", "Cases")),
        Role::CentralAdmin | Role::Auditor => v.push(board_home()),
    }
    v
}

fn board_home() -> (String, &'static str, &'static str) {
    ("/".to_owned(), "ホーム", "Home")
}

/// Where `who` lands after sign-in: their own page.
pub fn home_of(who: &Who) -> String {
    links(who)
        .into_iter()
        .next()
        .map_or_else(|| "/".to_owned(), |(p, _, _)| p)
}

/// The frame of every page: title, header (with `header_extra`), language switch, body.
pub fn page(lang: Lang, title: &str, header_extra: Markup, body: Markup) -> Markup {
    page_with(lang, title, "", header_extra, body)
}

/// [`page`] with a class on `body` (e.g. `board`, `reception`) for page-wide styles.
pub fn page_with(
    lang: Lang,
    title: &str,
    body_class: &str,
    header_extra: Markup,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Checkup Edge" }
                link rel="icon" type="image/svg+xml" href="/favicon.svg";
                link rel="stylesheet" href="/assets/app.css";
            }
            body class=[(!body_class.is_empty()).then_some(body_class)] {
                header {
                    h1 { (title) }
                    (header_extra)
                    a.lang href=(if lang == Lang::Ja { "?lang=en" } else { "?lang=ja" })
                        lang=(if lang == Lang::Ja { "en" } else { "ja" }) {
                        (if lang == Lang::Ja { "English" } else { "日本語" })
                    }
                }
                // The offline banner and the outbox on every page (after the header: the
                // outbox is kept per signed-in staff member, named there).
                script { (PreEscaped(COMMON_JS)) }
                main { (body) }
            }
        }
    }
}

/// The signed-in staff member, the pages their role may open (`current` marked) and the
/// sign-out button, for the header.
pub fn who(lang: Lang, who: &Who) -> Markup {
    who_at(lang, who, "")
}

/// [`who`] with the page at `current` marked as the one open.
pub fn who_at(lang: Lang, who: &Who, current: &str) -> Markup {
    html! {
        nav.pages aria-label=(lang.t("画面", "Pages")) data-staff=(who.id) {
            @for (href, ja, en) in links(who) {
                a href=(href) aria-current=[(href == current).then_some("page")] { (lang.t(ja, en)) }
            }
        }
        span.who data-testid="who" { (who.name) "（" (role_label(lang, who.role)) "）" }
        form.logout method="post" action="/logout" {
            button type="submit" { (lang.t("ログアウト", "Sign out")) }
        }
    }
}

/// What a problem page says: its title, its heading in Japanese and in English, what to
/// do, and the button back.
struct Problem<'a> {
    title: (&'a str, &'a str),
    ja: &'a str,
    en: &'a str,
    todo: (&'a str, &'a str),
    back: (&'a str, &'a str),
}

/// A problem page (403, 404): what happened, in both languages, and the way back to `home`.
fn problem(lang: Lang, p: Problem<'_>, header: Markup, home: &str) -> Markup {
    let body = html! {
        section.station.problem {
            h2 { (p.ja) }
            p lang="en" { (p.en) }
            p { (lang.t(p.todo.0, p.todo.1)) }
            p { a.button href=(home) data-testid="way-back" { (lang.t(p.back.0, p.back.1)) } }
        }
    };
    page(lang, lang.t(p.title.0, p.title.1), header, body)
}

/// The page for a signed-in staff member whose role may not open a page: what happened and
/// the way back to their own page.
pub fn forbidden(lang: Lang, staff: &Who) -> Markup {
    let p = Problem {
        title: ("権限がありません", "Not allowed"),
        ja: "この画面を見る権限がありません",
        en: "Your role cannot open this page.",
        todo: (
            "ご自分の画面に戻ってください。",
            "Go back to your own page.",
        ),
        back: (
            "自分の画面へ戻る / Back to my page",
            "Back to my page / 自分の画面へ戻る",
        ),
    };
    problem(lang, p, who(lang, staff), &home_of(staff))
}

/// The page for an address the box does not serve, with the way back (`staff`'s own page,
/// or sign-in).
pub fn not_found(lang: Lang, staff: Option<&Who>) -> Markup {
    let p = Problem {
        title: ("ページが見つかりません", "Page not found"),
        ja: "ページが見つかりません",
        en: "This page does not exist.",
        todo: (
            "アドレスを確かめるか、最初の画面に戻ってください。",
            "Check the address, or go back to the first page.",
        ),
        back: ("最初の画面へ戻る / Back", "Back / 最初の画面へ戻る"),
    };
    let home = staff.map_or_else(|| "/login".to_owned(), home_of);
    let header = staff.map_or_else(|| html! {}, |w| who(lang, w));
    problem(lang, p, header, &home)
}

/// The page of a signed-in role with no page on this box (auditor, central admin): who
/// they are, where their work is done, sign-out.
pub fn elsewhere(lang: Lang, staff: &Who, venue: &str) -> Markup {
    let body = html! {
        section.station.problem {
            h2 { (lang.t("この会場端末で使える画面はありません", "No page of this venue box is for your role")) }
            p { (lang.t("監査記録の閲覧と管理は本庁のシステムで行います。会場の記録はすべて本庁に送られます。",
                        "Audit trails are read, and boxes administered, on the central system; every record of the venue is forwarded there.")) }
            p { (lang.t("会場: ", "Venue: ")) (venue) }
        }
    };
    page(lang, lang.t("ホーム", "Home"), who(lang, staff), body)
}
