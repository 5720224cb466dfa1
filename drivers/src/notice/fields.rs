//! Normalising the other fields of a notice: sex, the kind of abuse (a closed vocabulary,
//! matched by closeness so that OCR slips still land), names and addresses without spaces,
//! and the prefecture an address starts with.

use unicode_normalization::UnicodeNormalization;

/// The four kinds of abuse the law names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbuseType {
    /// 身体的虐待.
    Physical,
    /// 心理的虐待.
    Psychological,
    /// ネグレクト (養育放棄・怠慢).
    Neglect,
    /// 性的虐待.
    Sexual,
}

impl AbuseType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            AbuseType::Physical => "physical",
            AbuseType::Psychological => "psychological",
            AbuseType::Neglect => "neglect",
            AbuseType::Sexual => "sexual",
        }
    }
}

/// How notices write each kind.
const ABUSE_WORDS: &[(&str, AbuseType)] = &[
    ("身体的虐待", AbuseType::Physical),
    ("身体的", AbuseType::Physical),
    ("心理的虐待", AbuseType::Psychological),
    ("心理的", AbuseType::Psychological),
    ("ネグレクト", AbuseType::Neglect),
    ("養育放棄", AbuseType::Neglect),
    ("育児放棄", AbuseType::Neglect),
    ("性的虐待", AbuseType::Sexual),
    ("性的", AbuseType::Sexual),
];

/// NFKC, no spaces of any width.
pub fn compact(s: &str) -> String {
    s.nfkc().filter(|c| !c.is_whitespace()).collect()
}

fn is_name_char(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{309F}'   // hiragana
        | '\u{30A0}'..='\u{30FF}' // katakana
        | '\u{3400}'..='\u{9FFF}' // CJK ideographs
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}'
        | '々')
        || c.is_alphabetic()
}

/// A name as the register writes it: NFKC, no spaces, and no marks read from rules or
/// specks beside it (names are letters: kanji, kana, Latin).
pub fn name(s: &str) -> String {
    let n: String = compact(s)
        .chars()
        .filter(|c| is_name_char(*c) && *c != '・')
        .collect();
    // Long-vowel marks after a kanji are a rule read as dashes.
    let stem = n.trim_end_matches('ー');
    if stem.len() != n.len()
        && stem
            .chars()
            .last()
            .is_some_and(|c| !('\u{30A0}'..='\u{30FF}').contains(&c))
    {
        return stem.to_owned();
    }
    n
}

/// `male` or `female` from 男/女 in the usual forms (男, 男性, 男児, 女子, M, F…).
pub fn sex(s: &str) -> Option<&'static str> {
    let s = compact(s).to_uppercase();
    let male = ["男", "男性", "男児", "男子", "M", "MALE"];
    let female = ["女", "女性", "女児", "女子", "F", "FEMALE"];
    if male.contains(&s.as_str()) {
        Some("male")
    } else if female.contains(&s.as_str()) {
        Some("female")
    } else if s.contains('男') && !s.contains('女') {
        Some("male")
    } else if s.contains('女') && !s.contains('男') {
        Some("female")
    } else {
        None
    }
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The kind of abuse closest to what was read, with a closeness in 0..=1 (1: exact). None
/// when nothing is close (more than half the characters differ).
pub fn abuse_type(s: &str) -> Option<(AbuseType, f64)> {
    let s: Vec<char> = compact(s).chars().collect();
    if s.is_empty() {
        return None;
    }
    let mut best: Option<(AbuseType, f64)> = None;
    for (word, kind) in ABUSE_WORDS {
        let w: Vec<char> = word.chars().collect();
        // The word may stand inside a longer line (「身体的虐待（疑い）」): compare with the
        // best window of the word's length as well as with the whole.
        let mut d = levenshtein(&s, &w);
        if s.len() > w.len() {
            for win in s.windows(w.len()) {
                d = d.min(levenshtein(win, &w));
            }
        }
        let closeness = 1.0 - d as f64 / w.len() as f64;
        if best.is_none_or(|(_, c)| closeness > c) {
            best = Some((*kind, closeness));
        }
    }
    best.filter(|(_, c)| *c >= 0.5)
}

/// The 47 prefectures.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// An address without spaces, and whether it starts with a prefecture or with one of
/// `municipalities` (the municipality's own addresses often omit the prefecture).
pub fn address(s: &str, municipalities: &[String]) -> (String, bool) {
    let a = compact(s);
    let known = PREFECTURES.iter().any(|p| a.starts_with(p))
        || municipalities.iter().any(|m| a.starts_with(m.as_str()));
    (a, known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sexes_in_the_usual_forms() {
        for (s, want) in [
            ("男", Some("male")),
            ("男 児", Some("male")),
            ("女性", Some("female")),
            ("ｆ", Some("female")),
            ("女児", Some("female")),
            ("男女", None),
            ("", None),
            ("不明", None),
        ] {
            assert_eq!(sex(s), want, "{s:?}");
        }
    }

    #[test]
    fn abuse_types_match_by_closeness() {
        assert_eq!(abuse_type("身体的虐待"), Some((AbuseType::Physical, 1.0)));
        assert_eq!(
            abuse_type("心理的虐待（面前DV）").map(|x| x.0),
            Some(AbuseType::Psychological)
        );
        // OCR slips: 虐 read as 瘧, 的 lost.
        assert_eq!(
            abuse_type("身体的瘧待").map(|x| x.0),
            Some(AbuseType::Physical)
        );
        assert_eq!(abuse_type("性虐待").map(|x| x.0), Some(AbuseType::Sexual));
        assert_eq!(
            abuse_type("ネグレク卜").map(|x| x.0),
            Some(AbuseType::Neglect)
        );
        assert_eq!(
            abuse_type("養育放棄").map(|x| x.0),
            Some(AbuseType::Neglect)
        );
        assert_eq!(abuse_type("天気"), None);
        assert_eq!(abuse_type(""), None);
    }

    #[test]
    fn names_and_addresses_lose_their_spaces() {
        assert_eq!(name("髙橋　一郎"), "髙橋一郎");
        assert_eq!(name(" ﾀｶﾊｼ ｲﾁﾛｳ "), "タカハシイチロウ");
        assert_eq!(name("・長谷川由美ーー“["), "長谷川由美");
        assert_eq!(name("佐藤翔太|"), "佐藤翔太");
        assert_eq!(name("山田健一"), "山田健一");
        assert_eq!(name("ユーリー"), "ユーリー");
        let (a, known) = address("東京都 千代田区 １－１", &[]);
        assert_eq!((a.as_str(), known), ("東京都千代田区1-1", true));
        let (_, known) = address("みどり市中央2丁目", &["みどり市".to_string()]);
        assert!(known);
        let (_, known) = address("アトランティス市", &[]);
        assert!(!known);
    }
}
