//! Values a clerk must look at whatever the OCR's confidence: a value that carries label
//! text (「通告者:みどり警察署長」 — the label read into the value), characters foreign to
//! its field (digits or Latin letters in a name, letters in a date), a date's words read as a
//! name (「日年月日」: another row read), or a summary that
//! starts mid-sentence (its first words lost). The labels are the reader's own dictionary
//! ([`checkup_drivers::notice::layout::LABELS`]), so a label variant added there is
//! caught here too. Each flag carries a stable code and its reason in Japanese and English.

use checkup_drivers::notice::fields::compact;
use checkup_drivers::notice::layout::LABELS;
use serde::Serialize;

/// Why a value goes to the clerk's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// `label_text`, `foreign_chars`, `date_text` or `starts_mid_sentence`.
    pub code: &'static str,
    /// The reason in Japanese.
    pub ja: String,
    /// The reason in English.
    pub en: String,
}

/// Separators that end a label (after NFKC).
fn is_separator(c: char) -> bool {
    matches!(c, ':' | '】' | ']' | '=' | '」')
}

/// The printed label the value carries, if any. Short fields may hold no label text
/// anywhere; the summary (free text, where 「電話」 or 「住所」 are ordinary words) only
/// at its start or before a separator.
fn label_in(field: &str, v: &str) -> Option<&'static str> {
    let mut found: Option<&'static str> = None;
    for (printed, _) in LABELS {
        let p = compact(printed);
        let hit = if field == "summary" {
            v.starts_with(&p)
                || v.match_indices(&p)
                    .any(|(i, _)| v[i + p.len()..].chars().next().is_some_and(is_separator))
        } else {
            v.contains(&p)
        };
        // The longest label found names it (「通告者」 rather than a shorter one inside).
        if hit && found.is_none_or(|f| compact(f).chars().count() < p.chars().count()) {
            found = Some(printed);
        }
    }
    found
}

fn is_kana_or_kanji(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{309F}'
        | '\u{30A0}'..='\u{30FF}'
        | '\u{3400}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}'
        | '々' | '〆')
}

/// Characters that do not belong in the field, and how to name them.
fn foreign(field: &str, v: &str) -> Option<(Vec<char>, &'static str, &'static str)> {
    let bad: Vec<char> = match field {
        // Names: kana and kanji only.
        "child_name" | "guardian_name" => v.chars().filter(|c| !is_kana_or_kanji(*c)).collect(),
        // A police station: no digits or Latin letters.
        "reporting_agency" => v.chars().filter(|c| c.is_ascii_alphanumeric()).collect(),
        // A date as the box keeps it: digits and hyphens.
        "notice_date" | "child_birth_date" => v
            .chars()
            .filter(|c| !(c.is_ascii_digit() || *c == '-'))
            .collect(),
        _ => return None,
    };
    if bad.is_empty() {
        return None;
    }
    let (ja, en) = if bad.iter().all(char::is_ascii_digit) {
        ("数字", "digits")
    } else if bad.iter().all(char::is_ascii_alphabetic) {
        ("英字", "Latin letters")
    } else if bad.iter().all(|c| c.is_ascii_alphanumeric()) {
        ("英数字", "digits and Latin letters")
    } else {
        ("記号や文字", "symbols or letters")
    };
    let mut seen = Vec::new();
    for c in bad {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    Some((seen, ja, en))
}

/// A summary whose first characters cannot begin a sentence: punctuation, a closing
/// bracket, a small kana or a prolonged-sound mark, or a particle before a word.
fn starts_mid_sentence(v: &str) -> bool {
    let mut cs = v.chars();
    let Some(first) = cs.next() else { return false };
    if matches!(
        first,
        '、' | '。'
            | ','
            | '.'
            | ')'
            | '」'
            | '』'
            | '】'
            | 'ー'
            | 'ぁ'
            | 'ぃ'
            | 'ぅ'
            | 'ぇ'
            | 'ぉ'
            | 'っ'
            | 'ゃ'
            | 'ゅ'
            | 'ょ'
            | 'ゎ'
            | 'ァ'
            | 'ィ'
            | 'ゥ'
            | 'ェ'
            | 'ォ'
            | 'ッ'
            | 'ャ'
            | 'ュ'
            | 'ョ'
            | 'ヮ'
            | 'を'
    ) {
        return true;
    }
    let particle = matches!(first, 'は' | 'が' | 'に' | 'で' | 'へ' | 'と' | 'の' | 'も');
    particle
        && cs.next().is_some_and(|c| {
            matches!(c, '、' | '\u{30A0}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
        })
}

/// Every reason `value` (as read into `field`) must be reviewed; empty: none.
pub fn flags(field: &str, value: &str) -> Vec<Flag> {
    let v = compact(value);
    let mut out = Vec::new();
    if v.is_empty() {
        return out;
    }
    if let Some(label) = label_in(field, &v) {
        out.push(Flag {
            code: "label_text",
            ja: format!("項目名「{label}」が値に入っています"),
            en: format!("The value contains the label 「{label}」"),
        });
    }
    if let Some((chars, ja, en)) = foreign(field, &v) {
        let shown: String = chars.iter().collect();
        out.push(Flag {
            code: "foreign_chars",
            ja: format!("この項目にない文字（{ja}）があります: {shown}"),
            en: format!("Characters foreign to this field ({en}): {shown}"),
        });
    }
    // A date's row read as a name (a skewed scan: 「日年月日」 for the child's name). A
    // name may hold 月 or 日 (美月, 日向), never 年月 or 月日 running together.
    if matches!(field, "child_name" | "guardian_name") && (v.contains("年月") || v.contains("月日"))
    {
        out.push(Flag {
            code: "date_text",
            ja: "日付の文字（年・月・日）が名前に入っています（別の行を読んだかもしれません）"
                .to_owned(),
            en: "A name holding a date's words (年・月・日): another row may have been read"
                .to_owned(),
        });
    }
    if field == "summary" && starts_mid_sentence(&v) {
        out.push(Flag {
            code: "starts_mid_sentence",
            ja: "文の途中から始まっています（最初の語が欠けているかもしれません）".to_owned(),
            en: "Starts mid-sentence (the first words may be lost)".to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(field: &str, v: &str) -> Vec<&'static str> {
        flags(field, v).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_value_read_with_its_label_is_flagged() {
        let f = flags("reporting_agency", "通告者:みどり警察署長");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code, "label_text");
        assert!(f[0].ja.contains("通告者") && f[0].en.contains("label"));
        assert_eq!(codes("child_name", "氏名 山田太郎"), ["label_text"]);
        assert_eq!(
            codes("child_address", "住所:東京都みどり市1-2"),
            ["label_text",]
        );
        assert_eq!(codes("summary", "事案の概要：児童が夜間に"), ["label_text"]);
        assert_eq!(codes("summary", "概要 児童が夜間に"), ["label_text"]);
    }

    #[test]
    fn ordinary_words_in_a_summary_are_not_labels() {
        assert!(
            codes(
                "summary",
                "近隣住民から電話で通報があり、住所地を訪問した。"
            )
            .is_empty()
        );
        assert!(codes("reporting_agency", "みどり警察署長").is_empty());
        assert!(codes("child_address", "東京都みどり市中央1丁目2番3号").is_empty());
    }

    #[test]
    fn characters_foreign_to_the_field_are_flagged() {
        let f = flags("child_name", "山田 太郎3");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code, "foreign_chars");
        assert!(f[0].ja.contains("数字") && f[0].ja.contains('3'), "{f:?}");
        assert_eq!(codes("guardian_name", "山田Ｅ子"), ["foreign_chars"]);
        assert_eq!(codes("child_birth_date", "2015-0l-2O"), ["foreign_chars"]);
        assert_eq!(codes("notice_date", "令和7年5月1日"), ["foreign_chars"]);
        assert_eq!(
            codes("reporting_agency", "みどり警察署1"),
            ["foreign_chars"]
        );
        assert!(codes("child_name", "山田 太郎").is_empty());
        assert!(codes("child_name", "やまだ ハナコ").is_empty());
        assert!(codes("child_birth_date", "2015-01-20").is_empty());
        assert!(codes("child_address", "みどり市1-2-3 Aハイツ").is_empty());
    }

    #[test]
    fn a_summary_that_lost_its_first_word_is_flagged() {
        assert_eq!(
            codes("summary", "が自宅で泣き声が続いていた。"),
            ["starts_mid_sentence"]
        );
        assert_eq!(
            codes("summary", "、児童の顔に痣があった。"),
            ["starts_mid_sentence"]
        );
        assert!(codes("summary", "児童が自宅で泣き声をあげていた。").is_empty());
        assert!(codes("summary", "この児童は夜間ひとりでいた。").is_empty());
    }

    #[test]
    fn a_date_row_read_as_a_name_is_flagged() {
        assert!(codes("child_name", "日年月日").contains(&"date_text"));
        assert!(codes("guardian_name", "山田年月").contains(&"date_text"));
        for name in ["佐藤美月", "日向陽葵", "月岡日和", "高橋一郎"] {
            assert!(!codes("child_name", name).contains(&"date_text"), "{name}");
        }
        // Not a rule for the summary, where dates are ordinary.
        assert!(!codes("summary", "令和8年月日不詳の事案").contains(&"date_text"));
    }

    #[test]
    fn nothing_read_is_not_flagged() {
        assert!(flags("child_name", "").is_empty());
        assert!(flags("summary", "  ").is_empty());
    }
}
