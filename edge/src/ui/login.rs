//! Staff sign-in: staff id and PIN, with the reason of a refusal.

use maud::{Markup, html};

use super::{Lang, page};

/// The sign-in page of the venue `venue`, with `error` shown above the form.
pub fn page_markup(lang: Lang, venue: &str, error: Option<&str>) -> Markup {
    let body = html! {
        form.login method="post" action="/login" {
            h2 { (lang.t("職員ログイン", "Staff sign-in")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            label for="staff_id" { (lang.t("職員ID", "Staff ID")) }
            input #staff_id name="staff_id" autocomplete="username" autocapitalize="characters" required;
            label for="pin" { (lang.t("暗証番号（PIN）", "PIN")) }
            input #pin name="pin" type="password" inputmode="numeric" autocomplete="current-password" required;
            button type="submit" { (lang.t("ログイン", "Sign in")) }
        }
    };
    page(lang, venue, html! {}, body)
}
