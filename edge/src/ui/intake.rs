//! The child-welfare pages: the clerk's notice intake (upload, the live inbox, the review
//! of each field beside the crop it was read from) and the caseworkers' live case list.

use std::collections::BTreeMap;

use maud::{Markup, PreEscaped, html};
use serde_json::json;

use super::{Lang, Who, page, who_at};

const INTAKE_JS: &str = include_str!("../../assets/intake.js");
const CASES_JS: &str = include_str!("../../assets/cases.js");

/// Field labels, Japanese and English, in review order.
const LABELS: [(&str, &str, &str); 9] = [
    ("notice_date", "通告日", "Notice date"),
    ("reporting_agency", "通告者（警察署）", "Reporting agency"),
    ("child_name", "児童氏名", "Child's name"),
    ("child_birth_date", "生年月日", "Birth date"),
    ("child_sex", "性別", "Sex"),
    ("child_address", "住所", "Address"),
    ("guardian_name", "保護者氏名", "Guardian"),
    ("abuse_type", "虐待の種別", "Abuse type"),
    ("summary", "事案の概要", "Summary"),
];

/// A coded field's choices, `(code, word)`, in the page language; `None` for free text.
fn choices(lang: Lang, field: &str) -> Option<Vec<(&'static str, &'static str)>> {
    match field {
        "child_sex" => Some(vec![
            ("male", lang.t("男", "Male")),
            ("female", lang.t("女", "Female")),
        ]),
        "abuse_type" => Some(vec![
            ("physical", lang.t("身体的虐待", "Physical abuse")),
            ("psychological", lang.t("心理的虐待", "Psychological abuse")),
            ("neglect", lang.t("ネグレクト", "Neglect")),
            ("sexual", lang.t("性的虐待", "Sexual abuse")),
        ]),
        _ => None,
    }
}

/// The pages' settings for their script: language and field labels.
fn page_config(lang: Lang) -> String {
    json!({
        "lang": lang.code(),
        "fields": LABELS.iter().map(|(k, ja, en)| json!({"name": k, "ja": ja, "en": en})).collect::<Vec<_>>(),
    })
    .to_string()
    .replace("</", "<\\/")
}

/// The clerk's intake page: upload, the live inbox, the review beside the crops.
pub fn intake_page(lang: Lang, staff: &Who) -> Markup {
    let labels: BTreeMap<&str, (&str, &str)> =
        LABELS.iter().map(|(k, ja, en)| (*k, (*ja, *en))).collect();
    let config = page_config(lang);
    let body = html! {
        section.station {
            h2 { (lang.t("通告書を読み込む", "Scan a notice")) }
            p { (lang.t("画像（PNG・JPEG・TIFF）またはPDFを選んでください。スキャナーの共有フォルダーに置かれたものも下に出ます。",
                        "Choose an image (PNG, JPEG, TIFF) or a PDF. Files the scanner drops in its folder appear below too.")) }
            label for="upload" { (lang.t("ファイルを選ぶ", "Choose a file")) }
            input #upload type="file" accept="image/png,image/jpeg,image/tiff,application/pdf" data-testid="upload";
            p #upload-message .error hidden role="alert" {}
        }
        section.station {
            h2 { (lang.t("受付箱", "Inbox")) }
            table #scans .list {
                thead { tr {
                    th { (lang.t("ファイル", "File")) }
                    th { (lang.t("受付", "Received")) }
                    th { (lang.t("状態", "State")) }
                    th { span.visually-hidden { (lang.t("操作", "Action")) } }
                } }
                tbody {}
            }
        }
        section #review .station hidden {
            h2 #review-title {}
            p #review-match {}
            p.error #review-error hidden role="alert" {}
            form #review-form {
                @for (name, _, _) in LABELS {
                    @let (ja, en) = labels.get(name).copied().unwrap_or((name, name));
                    div.field data-field=(name) {
                        label for=(format!("f-{name}")) { (lang.t(ja, en)) span.conf {} }
                        // Why the box sends this value to review whatever its confidence.
                        ul.flags hidden {}
                        img.crop alt=(lang.t("読み取り箇所", "Where it was read")) hidden;
                        @if name == "summary" {
                            textarea id=(format!("f-{name}")) name=(name) rows="4" {}
                        } @else if let Some(options) = choices(lang, name) {
                            // Codes shown as words: the box stores the code.
                            select id=(format!("f-{name}")) name=(name) {
                                option value="" { (lang.t("（選んでください）", "(choose)")) }
                                @for (code, word) in options {
                                    option value=(code) { (word) }
                                }
                            }
                        } @else {
                            input id=(format!("f-{name}")) name=(name) type="text";
                        }
                    }
                }
                div.field {
                    label for="f-resident" { (lang.t("住民番号（照合）", "Resident id (matched)")) }
                    input #f-resident name="resident_id" type="text";
                }
            }
            p.error #save-message hidden role="alert" {}
            button type="button" #save-case data-testid="save-case" { (lang.t("事案として保存", "Save as a case")) }
        }
        p { a.button href="/cases" { (lang.t("保存済みの事案", "Saved cases")) } }
    };
    let body = html! {
        (body)
        script type="application/json" #intake-config { (PreEscaped(config)) }
        script { (PreEscaped(INTAKE_JS)) }
    };
    page(
        lang,
        lang.t("児童通告書の受付", "Police notice intake"),
        who_at(lang, staff, "/intake"),
        body,
    )
}

/// The case list (live), with a way back to the intake for the clerk (`intake_link`) and,
/// for a caseworker (`takes_photos`), the camera on the open case.
pub fn cases_page(lang: Lang, staff: &Who, intake_link: bool, takes_photos: bool) -> Markup {
    let config = page_config(lang);
    let body = html! {
        section.station {
            h2 { (lang.t("事案一覧（新しい順・自動更新）", "Cases (newest first, live)")) }
            p #cases-state { "—" }
            table #cases .list {
                thead { tr {
                    th scope="col" { (lang.t("保存", "Saved")) }
                    th scope="col" { (lang.t("児童氏名", "Child")) }
                    th scope="col" { (lang.t("生年月日", "Born")) }
                    th scope="col" { (lang.t("種別", "Type")) }
                    th scope="col" { (lang.t("通告者", "From")) }
                    th scope="col" { (lang.t("端末", "Box")) }
                    th scope="col" { (lang.t("写真", "Photos")) }
                } }
                tbody {}
            }
        }
        section #case .station hidden {
            h2 #case-title {}
            dl #case-fields {}
            h3 { (lang.t("写真", "Photos")) }
            @if takes_photos {
                div.photo-take {
                    label for="photo-note" { (lang.t("説明（任意）", "Caption (optional)")) }
                    input #photo-note type="text" maxlength="200"
                        placeholder=(lang.t("例：右上腕のあざ", "e.g. bruise, right upper arm"));
                    // The tablet's camera (`capture`), or a file where there is none.
                    label.button.photo-button for="photo-input" {
                        (lang.t("写真を撮る・選ぶ", "Take or choose a photo"))
                    }
                    input #photo-input .visually-hidden type="file" accept="image/*" capture="environment";
                    // A photo not sent (no network, no answer) is kept in the page and sent
                    // again from here, with the same key (kept once).
                    button #photo-retry .button.photo-button type="button" hidden {
                        (lang.t("もう一度送る", "Send again"))
                    }
                    p #photo-offline .photo-offline role="status" hidden {
                        (lang.t(
                            "オフラインです。写真は保持されません。接続が戻ってから送ってください",
                            "Offline: photos are not kept as unsent; send them when the connection is back"
                        ))
                    }
                    p.hint { (lang.t(
                        "位置情報・機種などの情報は消してから保存します（10MBまで）",
                        "Location and camera details are removed before the photo is kept (up to 10 MB)"
                    )) }
                }
            }
            p #photo-state {}
            p #photo-message role="status" {}
            div #case-photos {}
        }
        @if intake_link {
            p { a.button href="/intake" { (lang.t("通告書の受付へ", "Back to intake")) } }
        }
    };
    let body = html! {
        (body)
        script type="application/json" #cases-config { (PreEscaped(config)) }
        script { (PreEscaped(CASES_JS)) }
    };
    page(
        lang,
        lang.t("児童虐待通告 事案", "Child-welfare cases"),
        who_at(lang, staff, "/cases"),
        body,
    )
}
