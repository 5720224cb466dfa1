//! The pages, as HTML only: each function takes the data a handler prepared (a view model,
//! never the app state) and returns markup. Japanese first, English beside it or with
//! `?lang=en`; assets are compiled into the binary, nothing is fetched from outside the box.
//!
//! - this file: the page frame (header, who is signed in, sign-out, language), the 403 page,
//!   the shared script and stylesheet;
//! - [`login`]: staff sign-in; [`board`]: the venue board; [`reception`]: the reception
//!   tablet; [`station`]: a station's entry page; [`intake`]: the clerk's notice review and
//!   the caseworkers' case list.

pub mod board;
pub mod intake;
pub mod login;
pub mod reception;
pub mod station;

use maud::{DOCTYPE, Markup, html};

/// Script shared by the tablet pages, compiled in.
pub const COMMON_JS: &str = include_str!("../../assets/common.js");

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

/// Who is signed in, as the header shows it.
#[derive(Debug, Clone)]
pub struct Who {
    /// Display name.
    pub name: String,
    /// The role's Japanese label.
    pub role: &'static str,
}

impl From<&crate::auth::Staff> for Who {
    fn from(s: &crate::auth::Staff) -> Who {
        Who {
            name: s.name.clone(),
            role: s.role.label_ja(),
        }
    }
}

/// The frame of every page: title, header (with `header_extra`), language switch, body.
pub fn page(lang: Lang, title: &str, header_extra: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Checkup Edge" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                header {
                    h1 { (title) }
                    (header_extra)
                    a.lang href=(if lang == Lang::Ja { "?lang=en" } else { "?lang=ja" }) {
                        (if lang == Lang::Ja { "English" } else { "日本語" })
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The signed-in staff member and the sign-out button, for the header.
pub fn who(lang: Lang, who: &Who) -> Markup {
    html! {
        span.who { (who.name) "（" (who.role) "）" }
        nav.actions {
            form method="post" action="/logout" {
                button type="submit" { (lang.t("ログアウト", "Sign out")) }
            }
        }
    }
}

/// The page for a signed-in staff member whose role may not open a page.
pub fn forbidden(lang: Lang, staff: &Who) -> Markup {
    let body = html! {
        p.error role="alert" {
            (lang.t("この画面を見る権限がありません。", "Your role cannot open this page."))
        }
    };
    page(
        lang,
        lang.t("権限がありません", "Not allowed"),
        who(lang, staff),
        body,
    )
}
