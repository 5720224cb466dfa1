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

pub(crate) fn is_kanji(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FFFF}' | '々')
}

/// Katakana that look like kanji (ニ/二, ロ/口, エ/工, カ/力, タ/夕, ハ/八, ト/卜): in a name
/// written in kanji, a lone one between or after kanji is the kanji.
fn kanji_lookalike(c: char) -> Option<char> {
    Some(match c {
        'ニ' => '二',
        'ロ' => '口',
        'エ' => '工',
        'カ' => '力',
        'タ' => '夕',
        'ハ' => '八',
        'ト' => '卜',
        _ => return None,
    })
}

/// A name as the register writes it: NFKC, no spaces, and no marks read from rules or
/// specks beside it (names are letters: kanji, kana, Latin).
pub fn name(s: &str) -> String {
    let mut n: String = compact(s)
        .chars()
        .filter(|c| is_name_char(*c) && *c != '・')
        .collect();
    // A run of long-vowel marks right after a kanji is a rule: the name ends there.
    let chars: Vec<char> = n.chars().collect();
    if let Some(i) = (1..chars.len().saturating_sub(1))
        .find(|&i| is_kanji(chars[i - 1]) && chars[i] == 'ー' && chars[i + 1] == 'ー')
    {
        n = chars[..i].iter().collect();
    }
    // Lookalike katakana inside a kanji name.
    let chars: Vec<char> = n.chars().collect();
    let kanji = chars.iter().filter(|c| is_kanji(**c)).count();
    if kanji >= 1 {
        n = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let prev_kanji = i > 0 && is_kanji(chars[i - 1]);
                let next_ok = chars.get(i + 1).is_none_or(|x| is_kanji(*x) || *x == 'ー');
                match kanji_lookalike(c) {
                    Some(k) if prev_kanji && next_ok => k,
                    _ => c,
                }
            })
            .collect();
    }
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

/// Edit distance between two character strings.
pub fn edit_distance(a: &[char], b: &[char]) -> usize {
    levenshtein(a, b)
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

/// OCR slips in the block part of an address: after a digit, 丁目 read as 本目, 丁日, 了目,
/// T目 or 丁自.
fn block_slips(a: &str) -> String {
    let chars: Vec<char> = a.chars().collect();
    let mut out = String::with_capacity(a.len());
    let mut i = 0;
    while i < chars.len() {
        if i > 0
            && chars[i - 1].is_ascii_digit()
            && i + 1 < chars.len()
            && matches!(
                (chars[i], chars[i + 1]),
                ('本' | '了' | 'T' | '丁', '目' | '日' | '自') | ('丁', _)
            )
            && (chars[i], chars[i + 1]) != ('丁', '目')
            && matches!(chars[i + 1], '目' | '日' | '自')
        {
            out.push_str("丁目");
            i += 2;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Repair an address read from a scan: block slips (5本目 → 5丁目) are fixed, and the start
/// is matched against the caller's own municipalities (`(prefecture, municipality)`, from
/// its register) and then every place in Japan ([`super::places::match_address`]): junk
/// before the prefecture is dropped, and a missing or misread prefecture (「県浜松市…」,
/// 「千葉上船橋市…」, 「福岡北九州小倉北区…」) or municipality is restored, and a town one
/// character off (「中百舌島町3丁目」) is put right when only one is that close. An address
/// that matches nothing, or two places equally well, is left as read.
pub fn repair_address(a: &str, own: &[(String, String)]) -> String {
    let a = block_slips(&compact(a));
    if let Some(fixed) = repair_from(&a, own) {
        return fixed;
    }
    match super::places::match_address(&a) {
        Some(m) => block_slips(&m.town_corrected()),
        None => a,
    }
}

/// The repair by the caller's own municipalities, None when none is named.
fn repair_from(a: &str, own: &[(String, String)]) -> Option<String> {
    let chars: Vec<char> = a.chars().collect();
    let mut best: Option<(usize, String)> = None;
    for (pref, muni) in own {
        let (pref, muni) = (pref.as_str(), muni.as_str());
        if a.starts_with(pref) && a[pref.len()..].starts_with(muni) {
            return Some(a.to_owned()); // already right
        }
        let m: Vec<char> = muni.chars().collect();
        // Cities may lose their 市; wards (short names) must be read whole.
        let stem: &[char] = if m.last() == Some(&'市') && m.len() >= 3 {
            &m[..m.len() - 1]
        } else {
            &m[..]
        };
        if stem.len() < 2 {
            continue;
        }
        // A prefecture read as printed is not searched for a municipality's name
        // (静岡県沼津市 does not name 静岡市).
        let after_pref = PREFECTURES
            .iter()
            .find(|p| a.starts_with(**p))
            .map_or(0, |p| p.chars().count());
        let Some(pos) = (after_pref..=chars.len().saturating_sub(stem.len()).min(8))
            .find(|&i| chars[i..].starts_with(stem))
        else {
            continue;
        };
        let prefix: Vec<char> = chars[..pos].to_vec();
        let p: Vec<char> = pref.chars().collect();
        let Some((_, pstem)) = p.split_last() else {
            continue;
        };
        let fits = prefix.is_empty()
            || prefix == p
            || prefix == pstem
            || (prefix.len() == 1 && matches!(prefix[0], '県' | '府' | '都' | '道'))
            || (prefix.len() == p.len() && levenshtein(&prefix, &p) <= 1);
        if !fits {
            continue;
        }
        let mut rest = pos + stem.len();
        let suffix_read = stem.len() < m.len() && chars.get(rest) == m.last();
        if suffix_read {
            rest += 1;
        }
        let fixed = format!("{pref}{muni}{}", chars[rest..].iter().collect::<String>());
        // The best evidence wins: the longer name, and its 市 read too.
        let score = stem.len() + if suffix_read { 2 } else { 0 };
        if best.as_ref().is_none_or(|(sc, _)| score > *sc) {
            best = Some((score, fixed));
        }
    }
    best.map(|(_, f)| f)
}

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
        assert_eq!(name("中村浩ニーーーー"), "中村浩二");
        assert_eq!(name("村上翔太ーー本旨"), "村上翔太");
        assert_eq!(name("エリカ"), "エリカ");
        assert_eq!(name("田ロ"), "田口");
        let (a, known) = address("東京都 千代田区 １－１", &[]);
        assert_eq!((a.as_str(), known), ("東京都千代田区1-1", true));
        let (_, known) = address("みどり市中央2丁目", &["みどり市".to_string()]);
        assert!(known);
        let (_, known) = address("アトランティス市", &[]);
        assert!(!known);
    }

    #[test]
    fn addresses_are_repaired_from_the_municipality_they_name() {
        for (read, want) in [
            (
                "県浜松市中央区鍛冶町1丁目8番2号",
                "静岡県浜松市中央区鍛冶町1丁目8番2号",
            ),
            (
                "千葉上船橋市本町4丁目25番18号",
                "千葉県船橋市本町4丁目25番18号",
            ),
            (
                "福岡北九州小倉北区京町3丁目13番2号",
                "福岡県北九州市小倉北区京町3丁目13番2号",
            ),
            (
                "北海道札幌市中央区北一条西5本目24番5号",
                "北海道札幌市中央区北一条西5丁目24番5号",
            ),
            (
                "神奈川県横浜市港北区日吉3丁目5番8号",
                "神奈川県横浜市港北区日吉3丁目5番8号",
            ),
            ("世田谷区桜丘1丁目2番3号", "東京都世田谷区桜丘1丁目2番3号"),
            // Every municipality is known, not only the large ones.
            (
                "みどり市笠懸町阿左美1番地",
                "群馬県みどり市笠懸町阿左美1番地",
            ),
            // Nothing known: as read.
            ("ひかり市中央2丁目3番4号", "ひかり市中央2丁目3番4号"),
        ] {
            assert_eq!(repair_address(read, &[]), want, "{read}");
        }
        let own = [("神奈川県".to_string(), "ひかり市".to_string())];
        assert_eq!(
            repair_address("ひかり市中央2丁目3番4号", &own),
            "神奈川県ひかり市中央2丁目3番4号"
        );
    }
}
