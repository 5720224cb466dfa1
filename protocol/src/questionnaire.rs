//! The 標準的な質問票 (第4期): its 22 items, their 17-digit codes and answer code sets, and the
//! texts a resident reads in each language the product speaks.
//!
//! An answer is always stored as its code (`"1"`, `"2"`, …) under the item's code, as the
//! 特定健診 XML carries it; the texts here only decide what a person reads. Every language
//! shows the same items in the same order with the same answers: the structure lives in
//! [`QUESTIONS`] and [`AnswerSet`], the words in one TOML file per language under
//! `protocol/questionnaire/`, compiled in. A language file that lacks a text, or has one
//! too many, fails this crate's tests, so a missing translation never reaches a resident.
//!
//! The answers themselves are checkup items ([`crate::items::ITEMS`] holds the 22 with
//! [`crate::ItemValueKind::Coded`]), recorded at the 問診 station like any result.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The answer code sets of the questionnaire (the result OIDs of the item table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSet {
    /// 1 はい, 2 いいえ (1.2.392.200119.6.2003).
    YesNo,
    /// 喫煙: 1 はい, 2 以前は吸っていた, 3 いいえ (.24060).
    Smoking,
    /// 咀嚼: 1 何でも, 2 かみにくい, 3 ほとんどかめない (.18030).
    Chewing,
    /// 食べる速度: 1 速い, 2 ふつう, 3 遅い (.2004).
    EatingSpeed,
    /// 間食: 1 毎日, 2 時々, 3 ほとんど摂取しない (.18040).
    Snacks,
    /// 飲酒頻度: 1 毎日 … 8 飲まない (.24040).
    DrinkingFrequency,
    /// 飲酒量: 1 1合未満 … 5 5合以上 (.24050).
    DrinkingAmount,
    /// 生活習慣の改善: 1 意志なし … 5 取組済み6か月以上 (.2007).
    Improvement,
}

impl AnswerSet {
    /// Every answer set.
    pub const ALL: [AnswerSet; 8] = [
        AnswerSet::YesNo,
        AnswerSet::Smoking,
        AnswerSet::Chewing,
        AnswerSet::EatingSpeed,
        AnswerSet::Snacks,
        AnswerSet::DrinkingFrequency,
        AnswerSet::DrinkingAmount,
        AnswerSet::Improvement,
    ];

    /// The codes an answer may take, in the order they are shown.
    pub fn codes(self) -> &'static [&'static str] {
        match self {
            AnswerSet::YesNo => &["1", "2"],
            AnswerSet::Smoking
            | AnswerSet::Chewing
            | AnswerSet::EatingSpeed
            | AnswerSet::Snacks => &["1", "2", "3"],
            AnswerSet::DrinkingFrequency => &["1", "2", "3", "4", "5", "6", "7", "8"],
            AnswerSet::DrinkingAmount | AnswerSet::Improvement => &["1", "2", "3", "4", "5"],
        }
    }

    /// The key of this set in the language files (`[answers.KEY]`).
    pub fn key(self) -> &'static str {
        match self {
            AnswerSet::YesNo => "yes_no",
            AnswerSet::Smoking => "smoking",
            AnswerSet::Chewing => "chewing",
            AnswerSet::EatingSpeed => "eating_speed",
            AnswerSet::Snacks => "snacks",
            AnswerSet::DrinkingFrequency => "drinking_frequency",
            AnswerSet::DrinkingAmount => "drinking_amount",
            AnswerSet::Improvement => "improvement",
        }
    }
}

/// One item of the questionnaire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Question {
    /// Its number on the MHLW form (1–22).
    pub number: u8,
    /// 17-character item code.
    pub code: &'static str,
    /// The item's name in the national item table (for staff screens and exports).
    pub name_ja: &'static str,
    /// The answers it takes.
    pub answers: AnswerSet,
    /// Required for the 特定健診 report (服薬 1–3 and 喫煙); the 問診 station cannot be
    /// signed off without them.
    pub required: bool,
}

const fn q(
    number: u8,
    code: &'static str,
    name_ja: &'static str,
    answers: AnswerSet,
    required: bool,
) -> Question {
    Question {
        number,
        code,
        name_ja,
        answers,
        required,
    }
}

/// The 22 items in the order of the MHLW form.
pub const QUESTIONS: [Question; 22] = [
    q(
        1,
        "9N701000000000011",
        "服薬1(血圧)",
        AnswerSet::YesNo,
        true,
    ),
    q(
        2,
        "9N706000000000011",
        "服薬2(血糖)",
        AnswerSet::YesNo,
        true,
    ),
    q(
        3,
        "9N711000000000011",
        "服薬3(脂質)",
        AnswerSet::YesNo,
        true,
    ),
    q(
        4,
        "9N716000000000011",
        "既往歴1(脳血管)",
        AnswerSet::YesNo,
        false,
    ),
    q(
        5,
        "9N721000000000011",
        "既往歴2(心血管)",
        AnswerSet::YesNo,
        false,
    ),
    q(
        6,
        "9N726000000000011",
        "既往歴3(腎不全・人工透析)",
        AnswerSet::YesNo,
        false,
    ),
    q(7, "9N731000000000011", "貧血", AnswerSet::YesNo, false),
    q(8, "9N736000000000011", "喫煙", AnswerSet::Smoking, true),
    q(
        9,
        "9N741000000000011",
        "20歳からの体重変化",
        AnswerSet::YesNo,
        false,
    ),
    q(
        10,
        "9N746000000000011",
        "30分以上の運動習慣",
        AnswerSet::YesNo,
        false,
    ),
    q(
        11,
        "9N751000000000011",
        "歩行又は身体活動",
        AnswerSet::YesNo,
        false,
    ),
    q(12, "9N756000000000011", "歩行速度", AnswerSet::YesNo, false),
    q(13, "9N872000000000011", "咀嚼", AnswerSet::Chewing, false),
    q(
        14,
        "9N766000000000011",
        "食べ方1(早食い等)",
        AnswerSet::EatingSpeed,
        false,
    ),
    q(
        15,
        "9N771000000000011",
        "食べ方2(就寝前)",
        AnswerSet::YesNo,
        false,
    ),
    q(
        16,
        "9N782000000000011",
        "食べ方3(間食)",
        AnswerSet::Snacks,
        false,
    ),
    q(17, "9N781000000000011", "食習慣", AnswerSet::YesNo, false),
    q(
        18,
        "9N786000000000011",
        "飲酒",
        AnswerSet::DrinkingFrequency,
        false,
    ),
    q(
        19,
        "9N791000000000011",
        "飲酒量",
        AnswerSet::DrinkingAmount,
        false,
    ),
    q(20, "9N796000000000011", "睡眠", AnswerSet::YesNo, false),
    q(
        21,
        "9N801000000000011",
        "生活習慣の改善",
        AnswerSet::Improvement,
        false,
    ),
    q(
        22,
        "9N808000000000011",
        "特定保健指導の受診歴",
        AnswerSet::YesNo,
        false,
    ),
];

/// The question with this item code.
pub fn question(code: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.code == code)
}

/// A language the questionnaire is offered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub enum Lang {
    /// 日本語 (the master text).
    #[serde(rename = "ja")]
    Ja,
    /// やさしい日本語: short sentences, furigana-free plain words.
    #[serde(rename = "ja-easy")]
    JaEasy,
    /// English.
    #[serde(rename = "en")]
    En,
    /// 简体中文.
    #[serde(rename = "zh-Hans")]
    ZhHans,
    /// 한국어.
    #[serde(rename = "ko")]
    Ko,
    /// Tiếng Việt.
    #[serde(rename = "vi")]
    Vi,
    /// Português (Brasil).
    #[serde(rename = "pt-BR")]
    PtBr,
    /// Tagalog.
    #[serde(rename = "tl")]
    Tl,
}

impl Lang {
    /// Every language, in the order a chooser lists them.
    pub const ALL: [Lang; 8] = [
        Lang::Ja,
        Lang::JaEasy,
        Lang::En,
        Lang::ZhHans,
        Lang::Ko,
        Lang::Vi,
        Lang::PtBr,
        Lang::Tl,
    ];

    /// The BCP 47 tag (`ja`, `ja-easy`, `en`, `zh-Hans`, `ko`, `vi`, `pt-BR`, `tl`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::JaEasy => "ja-easy",
            Lang::En => "en",
            Lang::ZhHans => "zh-Hans",
            Lang::Ko => "ko",
            Lang::Vi => "vi",
            Lang::PtBr => "pt-BR",
            Lang::Tl => "tl",
        }
    }

    /// The language of a tag, as written or in any letter case.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(tag.trim()))
    }

    /// The language a request asks for: Japanese when none is named, otherwise one of the
    /// offered tags (any letter case).
    pub fn requested(tag: Option<&str>) -> Result<Lang, UnknownLanguage> {
        match tag.map(str::trim) {
            None | Some("") => Ok(Lang::Ja),
            Some(t) => Lang::from_tag(t).ok_or_else(|| UnknownLanguage {
                asked: t.chars().take(32).collect(),
            }),
        }
    }

    /// The HTML `lang` attribute (やさしい日本語 is Japanese to a screen reader).
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::JaEasy => "ja",
            other => other.tag(),
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Ja => include_str!("../questionnaire/ja.toml"),
            Lang::JaEasy => include_str!("../questionnaire/ja-easy.toml"),
            Lang::En => include_str!("../questionnaire/en.toml"),
            Lang::ZhHans => include_str!("../questionnaire/zh-Hans.toml"),
            Lang::Ko => include_str!("../questionnaire/ko.toml"),
            Lang::Vi => include_str!("../questionnaire/vi.toml"),
            Lang::PtBr => include_str!("../questionnaire/pt-BR.toml"),
            Lang::Tl => include_str!("../questionnaire/tl.toml"),
        }
    }
}

/// A request named a language the questionnaire is not offered in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{asked:?} is not a language of the questionnaire; one of ja, ja-easy, en, zh-Hans, ko, vi, pt-BR, tl"
)]
pub struct UnknownLanguage {
    /// What was asked for (at most 32 characters of it).
    pub asked: String,
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// How a resident gave an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// On their own phone before the day (central's one-time link).
    Phone,
    /// On a venue tablet in resident mode.
    Tablet,
    /// On the printed form, scanned and read by box detection.
    Paper,
    /// Asked by the nurse at the 問診 station.
    Interview,
}

impl Channel {
    /// Japanese label for staff screens.
    pub fn label_ja(self) -> &'static str {
        match self {
            Channel::Phone => "スマートフォン（事前回答）",
            Channel::Tablet => "会場タブレット",
            Channel::Paper => "紙の質問票",
            Channel::Interview => "聞き取り",
        }
    }
}

/// How and in which language a questionnaire answer was given (carried by the answer's
/// `measurement_recorded` or `measurement_corrected` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Answered {
    /// Phone, tablet, paper or interview.
    pub via: Channel,
    /// The language the resident read the question in.
    pub lang: Lang,
}

/// The texts of the resident's pages that are not questions or answers.
pub const UI_KEYS: [&str; 16] = [
    "title",
    "choose_language",
    "intro",
    "required",
    "question_of",
    "next",
    "back",
    "review",
    "submit",
    "unanswered",
    "thanks",
    "thanks_tablet",
    "link_used",
    "link_invalid",
    "send_failed",
    "paper_instructions",
];

/// One language file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LangFile {
    lang: String,
    name: String,
    ui: BTreeMap<String, String>,
    questions: BTreeMap<String, String>,
    answers: BTreeMap<String, BTreeMap<String, String>>,
}

/// What is wrong with a language file.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TextsError {
    /// The file is not valid TOML of the expected shape.
    #[error("{lang}: {message}")]
    Parse {
        /// The language.
        lang: Lang,
        /// The parser's message.
        message: String,
    },
    /// The file's `lang` is another language's tag.
    #[error("{lang}: the file says lang = {found:?}")]
    WrongLang {
        /// The language.
        lang: Lang,
        /// What the file says.
        found: String,
    },
    /// A text the pages need is missing or empty.
    #[error("{lang}: no text for {key}")]
    Missing {
        /// The language.
        lang: Lang,
        /// `ui.KEY`, `questions.9N7xx` or `answers.SET.CODE`.
        key: String,
    },
    /// A text no page uses (a typo in a key, or an item that is not on the form).
    #[error("{lang}: {key} is not a text of the questionnaire")]
    Unknown {
        /// The language.
        lang: Lang,
        /// The key.
        key: String,
    },
}

/// Every text of one language, checked complete.
#[derive(Debug, Clone, PartialEq)]
pub struct Texts {
    /// The language.
    pub lang: Lang,
    /// Its own name for itself (日本語, English, 简体中文, …).
    pub name: String,
    ui: BTreeMap<String, String>,
    questions: BTreeMap<String, String>,
    answers: BTreeMap<String, BTreeMap<String, String>>,
}

/// The short key of an item in the language files: its first five characters (`9N701`).
fn short(code: &str) -> &str {
    code.get(..5).unwrap_or(code)
}

impl Texts {
    /// Parse and check one language's file: every UI text, question and answer present and
    /// non-empty, nothing else.
    pub fn parse(lang: Lang, source: &str) -> Result<Texts, TextsError> {
        let file: LangFile = toml::from_str(source).map_err(|e| TextsError::Parse {
            lang,
            message: e.to_string(),
        })?;
        if file.lang != lang.tag() {
            return Err(TextsError::WrongLang {
                lang,
                found: file.lang,
            });
        }
        let missing = |key: String| TextsError::Missing { lang, key };
        let present =
            |m: &BTreeMap<String, String>, k: &str| m.get(k).is_some_and(|t| !t.trim().is_empty());
        if file.name.trim().is_empty() {
            return Err(missing("name".into()));
        }
        for key in UI_KEYS {
            if !present(&file.ui, key) {
                return Err(missing(format!("ui.{key}")));
            }
        }
        for q in &QUESTIONS {
            if !present(&file.questions, short(q.code)) {
                return Err(missing(format!("questions.{}", short(q.code))));
            }
        }
        for set in AnswerSet::ALL {
            let Some(texts) = file.answers.get(set.key()) else {
                return Err(missing(format!("answers.{}", set.key())));
            };
            for code in set.codes() {
                if !present(texts, code) {
                    return Err(missing(format!("answers.{}.{code}", set.key())));
                }
            }
            if let Some(extra) = texts.keys().find(|k| !set.codes().contains(&k.as_str())) {
                return Err(TextsError::Unknown {
                    lang,
                    key: format!("answers.{}.{extra}", set.key()),
                });
            }
        }
        let unknown = |key: String| TextsError::Unknown { lang, key };
        if let Some(k) = file.ui.keys().find(|k| !UI_KEYS.contains(&k.as_str())) {
            return Err(unknown(format!("ui.{k}")));
        }
        if let Some(k) = file
            .questions
            .keys()
            .find(|k| !QUESTIONS.iter().any(|q| short(q.code) == k.as_str()))
        {
            return Err(unknown(format!("questions.{k}")));
        }
        if let Some(k) = file
            .answers
            .keys()
            .find(|k| !AnswerSet::ALL.iter().any(|s| s.key() == k.as_str()))
        {
            return Err(unknown(format!("answers.{k}")));
        }
        Ok(Texts {
            lang,
            name: file.name,
            ui: file.ui,
            questions: file.questions,
            answers: file.answers,
        })
    }

    /// A page text by its key in [`UI_KEYS`] (an unknown key reads as itself).
    pub fn ui<'a>(&'a self, key: &'a str) -> &'a str {
        self.ui.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The question of an item, by its 17-digit code.
    pub fn question(&self, code: &str) -> Option<&str> {
        self.questions.get(short(code)).map(String::as_str)
    }

    /// The text of an answer code of a set.
    pub fn answer(&self, set: AnswerSet, code: &str) -> Option<&str> {
        self.answers
            .get(set.key())
            .and_then(|m| m.get(code))
            .map(String::as_str)
    }
}

/// The checked texts of a language. The files are compiled in and checked by this crate's
/// tests, so a failure here is a build that skipped them; it falls back to Japanese.
pub fn texts(lang: Lang) -> &'static Texts {
    static ALL: OnceLock<Vec<Texts>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        Lang::ALL
            .into_iter()
            .filter_map(|l| match Texts::parse(l, l.source()) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing_free_warn(&e);
                    None
                }
            })
            .collect()
    });
    all.iter()
        .find(|t| t.lang == lang)
        .or_else(|| all.iter().find(|t| t.lang == Lang::Ja))
        .unwrap_or_else(|| {
            // Japanese is the master text and is checked by the same tests; reaching this
            // means the crate was built from a broken tree.
            static EMPTY: OnceLock<Texts> = OnceLock::new();
            EMPTY.get_or_init(|| Texts {
                lang: Lang::Ja,
                name: "日本語".into(),
                ui: BTreeMap::new(),
                questions: BTreeMap::new(),
                answers: BTreeMap::new(),
            })
        })
}

fn tracing_free_warn(e: &TextsError) {
    // This crate does not log; the error is what the tests report. Keep it visible in a
    // debug build that skipped them.
    debug_assert!(false, "questionnaire texts: {e}");
}

/// One answer as a page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct AnswerView {
    /// The code stored when this answer is chosen.
    pub code: String,
    /// Its text in the requested language.
    pub text: String,
    /// Its text in Japanese (what staff read).
    pub text_ja: String,
}

/// One item as a page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct QuestionView {
    /// Its number on the form (1–22).
    pub number: u8,
    /// 17-character item code.
    pub code: String,
    /// The question in the requested language.
    pub question: String,
    /// The question in Japanese.
    pub question_ja: String,
    /// Required for the report.
    pub required: bool,
    /// The answers, in order.
    pub answers: Vec<AnswerView>,
}

/// The whole questionnaire in one language (`GET /api/questionnaire?lang=`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct QuestionnaireView {
    /// The language's tag.
    pub lang: String,
    /// The language's own name.
    pub language_name: String,
    /// The `lang` attribute for HTML.
    pub html_lang: String,
    /// The page texts by key (see [`UI_KEYS`]).
    pub ui: BTreeMap<String, String>,
    /// The 22 items in the form's order.
    pub items: Vec<QuestionView>,
    /// The languages offered: tag and own name.
    pub languages: Vec<LanguageChoice>,
}

/// A language a chooser offers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LanguageChoice {
    /// BCP 47 tag.
    pub tag: String,
    /// Its own name.
    pub name: String,
}

/// The languages offered, each named in itself.
pub fn languages() -> Vec<LanguageChoice> {
    Lang::ALL
        .into_iter()
        .map(|l| LanguageChoice {
            tag: l.tag().into(),
            name: texts(l).name.clone(),
        })
        .collect()
}

/// The questionnaire in `lang`, with the Japanese beside each text.
pub fn view(lang: Lang) -> QuestionnaireView {
    let t = texts(lang);
    let ja = texts(Lang::Ja);
    let items = QUESTIONS
        .iter()
        .map(|q| QuestionView {
            number: q.number,
            code: q.code.into(),
            question: t.question(q.code).unwrap_or_default().into(),
            question_ja: ja.question(q.code).unwrap_or_default().into(),
            required: q.required,
            answers: q
                .answers
                .codes()
                .iter()
                .map(|c| AnswerView {
                    code: (*c).into(),
                    text: t.answer(q.answers, c).unwrap_or_default().into(),
                    text_ja: ja.answer(q.answers, c).unwrap_or_default().into(),
                })
                .collect(),
        })
        .collect();
    QuestionnaireView {
        lang: lang.tag().into(),
        language_name: t.name.clone(),
        html_lang: lang.html_lang().into(),
        ui: UI_KEYS
            .iter()
            .map(|k| ((*k).to_string(), t.ui(k).to_string()))
            .collect(),
        items,
        languages: languages(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_item_and_every_answer() {
        for lang in Lang::ALL {
            let t = Texts::parse(lang, lang.source()).unwrap_or_else(|e| panic!("{lang}: {e}"));
            for q in &QUESTIONS {
                assert!(
                    t.question(q.code).is_some_and(|s| !s.is_empty()),
                    "{lang} {}",
                    q.code
                );
                for c in q.answers.codes() {
                    assert!(t.answer(q.answers, c).is_some(), "{lang} {} {c}", q.code);
                }
            }
            let v = view(lang);
            assert_eq!(v.items.len(), 22);
            let codes: Vec<_> = v.items.iter().map(|i| i.code.as_str()).collect();
            let master: Vec<_> = QUESTIONS.iter().map(|q| q.code).collect();
            assert_eq!(codes, master, "{lang}: same items in the same order");
        }
    }

    #[test]
    fn a_missing_or_stray_text_is_named() {
        let ja = Lang::Ja.source();
        let without = ja.replace("9N808 = ", "# 9N808 = ");
        assert_eq!(
            Texts::parse(Lang::Ja, &without),
            Err(TextsError::Missing {
                lang: Lang::Ja,
                key: "questions.9N808".into()
            })
        );
        let no_answer = ja.replace("8 = \"飲まない", "# 8 = \"飲まない");
        assert_eq!(
            Texts::parse(Lang::Ja, &no_answer),
            Err(TextsError::Missing {
                lang: Lang::Ja,
                key: "answers.drinking_frequency.8".into()
            })
        );
        let empty = ja.replace("next = \"次へ\"", "next = \" \"");
        assert_eq!(
            Texts::parse(Lang::Ja, &empty),
            Err(TextsError::Missing {
                lang: Lang::Ja,
                key: "ui.next".into()
            })
        );
        let stray = format!("{ja}\n[answers.extra]\n1 = \"x\"\n");
        assert!(matches!(
            Texts::parse(Lang::Ja, &stray),
            Err(TextsError::Unknown { .. })
        ));
        let extra_code = ja.replace("2 = \"いいえ\"", "2 = \"いいえ\"\n3 = \"わからない\"");
        assert_eq!(
            Texts::parse(Lang::Ja, &extra_code),
            Err(TextsError::Unknown {
                lang: Lang::Ja,
                key: "answers.yes_no.3".into()
            })
        );
        assert!(matches!(
            Texts::parse(Lang::En, ja),
            Err(TextsError::WrongLang { .. })
        ));
    }

    #[test]
    fn an_answer_is_a_code_of_its_set_and_only_answers_say_how_they_were_given() {
        use crate::{EventBody, MeasuredValue, MeasurementRecorded, StationKind};
        let body = |code: &str, value: MeasuredValue, unit: &str, station, answered| {
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id: uuid::Uuid::now_v7(),
                resident_id: "R1".into(),
                station,
                item_code: code.into(),
                value,
                unit: unit.into(),
                confirmed: false,
                answered,
            })
        };
        let phone = Some(Answered {
            via: Channel::Phone,
            lang: Lang::Vi,
        });
        let q = StationKind::Questionnaire;
        let text = |s: &str| MeasuredValue::Text(s.into());
        assert!(
            body("9N786000000000011", text("8"), "", q, phone)
                .validate()
                .is_ok()
        );
        assert!(
            body("9N786000000000011", text("9"), "", q, phone)
                .validate()
                .is_err()
        );
        assert!(
            body("9N701000000000011", text("3"), "", q, None)
                .validate()
                .is_err()
        );
        assert!(
            body("9N701000000000011", text("はい"), "", q, None)
                .validate()
                .is_err()
        );
        assert!(
            body("9N701000000000011", MeasuredValue::Number(1.0), "", q, None)
                .validate()
                .is_err()
        );
        assert!(
            body(
                "9N701000000000011",
                text("1"),
                "",
                StationKind::Doctor,
                None
            )
            .validate()
            .is_err()
        );
        let height = body(
            "9N001000000000001",
            MeasuredValue::Number(170.0),
            "cm",
            StationKind::Measurement,
            phone,
        );
        assert!(height.validate().is_err(), "a height is not answered");
        let wire = serde_json::to_value(body("9N701000000000011", text("1"), "", q, phone))
            .unwrap_or_default();
        assert_eq!(wire["payload"]["answered"]["via"], "phone");
        assert_eq!(wire["payload"]["answered"]["lang"], "vi");
        let plain = serde_json::to_value(body("9N701000000000011", text("1"), "", q, None))
            .unwrap_or_default();
        assert!(
            plain["payload"].get("answered").is_none(),
            "absent, not null"
        );
    }

    #[test]
    fn tags_round_trip_and_questions_match_the_item_table() {
        for l in Lang::ALL {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
            assert_eq!(
                serde_json::to_string(&l).ok(),
                Some(format!("\"{}\"", l.tag()))
            );
        }
        assert_eq!(Lang::from_tag("PT-br"), Some(Lang::PtBr));
        assert_eq!(Lang::from_tag("fr"), None);
        let numbers: Vec<u8> = QUESTIONS.iter().map(|q| q.number).collect();
        assert_eq!(numbers, (1..=22).collect::<Vec<_>>());
        let required: Vec<u8> = QUESTIONS
            .iter()
            .filter(|q| q.required)
            .map(|q| q.number)
            .collect();
        assert_eq!(required, vec![1, 2, 3, 8]);
        for q in &QUESTIONS {
            assert_eq!(q.code.len(), 17);
            assert!(
                crate::items::item(q.code).is_some(),
                "{} is an item",
                q.code
            );
        }
    }
}
