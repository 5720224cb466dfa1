//! Comparison keys for names and addresses.

use unicode_normalization::UnicodeNormalization;

/// 異体字 → the form used for comparison. Each pair maps a variant to its common form; the
/// groups are the ones registry staff meet daily in names and place names.
const VARIANTS: &[(char, char)] = &[
    ('髙', '高'),
    ('﨑', '崎'),
    ('嵜', '崎'),
    ('邊', '辺'),
    ('邉', '辺'),
    ('齋', '斎'),
    ('齊', '斎'),
    ('斉', '斎'),
    ('濱', '浜'),
    ('澤', '沢'),
    ('櫻', '桜'),
    ('嶋', '島'),
    ('嶌', '島'),
    ('廣', '広'),
    ('國', '国'),
    ('眞', '真'),
    ('德', '徳'),
    ('惠', '恵'),
    ('藏', '蔵'),
    ('龍', '竜'),
    ('瀨', '瀬'),
    ('槇', '槙'),
    ('冨', '富'),
    ('實', '実'),
    ('淺', '浅'),
    ('壽', '寿'),
    ('圓', '円'),
    ('萬', '万'),
    ('與', '与'),
    ('晉', '晋'),
    ('埜', '野'),
    ('莊', '荘'),
    ('條', '条'),
    ('縣', '県'),
    ('舘', '館'),
    ('驒', '騨'),
    ('鐵', '鉄'),
    ('團', '団'),
];

fn variant(c: char) -> Option<char> {
    VARIANTS.iter().find(|(v, _)| *v == c).map(|(_, s)| *s)
}

/// Katakana → hiragana (so that either script compares equal).
fn hira(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Name key: NFKC (full/half width), no spaces or middle dots, 異体字 unified, kana as
/// hiragana, variation selectors dropped.
pub fn name_key(s: &str) -> String {
    s.nfkc()
        .filter(|c| !c.is_whitespace() && !matches!(c, '・' | '･' | '.' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}'))
        .map(|c| variant(c).unwrap_or(c))
        .map(hira)
        .collect()
}

/// Kanji numerals up to 9999 → arabic, in a run of kanji digits.
fn kanji_number(run: &str) -> Option<u32> {
    let digit = |c: char| {
        "〇一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u32)
    };
    let mut total = 0;
    let mut current = 0;
    let mut any = false;
    for c in run.chars() {
        if let Some(d) = digit(c) {
            current = current * 10 + d;
            any = true;
        } else {
            let unit = match c {
                '十' => 10,
                '百' => 100,
                '千' => 1000,
                _ => return None,
            };
            total += if current == 0 { 1 } else { current } * unit;
            current = 0;
            any = true;
        }
    }
    any.then_some(total + current)
}

/// Address key: NFKC, no spaces, 大字/字 dropped, kanji numerals as digits, 丁目/番地/番/号
/// and every dash as `-`, no trailing dash, 異体字 unified.
pub fn address_key(s: &str) -> String {
    let s: String = s.nfkc().filter(|c| !c.is_whitespace()).collect();
    let s = s.replace("大字", "").replace("字", "");
    // Kanji numerals before a unit marker become digits.
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if !run.is_empty() {
            match kanji_number(run) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str(run),
            }
            run.clear();
        }
    };
    for c in s.chars() {
        if "〇一二三四五六七八九十百千".contains(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    let mut s = out;
    for unit in ["丁目", "番地", "番", "号", "の"] {
        s = s.replace(unit, "-");
    }
    let s: String = s
        .chars()
        .map(|c| {
            if matches!(c, '‐' | '‑' | '–' | '—' | '−' | 'ー' | '─') {
                '-'
            } else {
                c
            }
        })
        .map(|c| variant(c).unwrap_or(c))
        .collect();
    let mut compact = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c == '-' && compact.ends_with('-')) {
            compact.push(c);
        }
    }
    compact.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_across_widths_spaces_and_variants() {
        assert_eq!(name_key("髙橋　節子"), name_key("高橋節子"));
        assert_eq!(name_key("山﨑 美智子"), name_key("山崎　美智子"));
        assert_eq!(name_key("渡邊"), name_key("渡辺"));
        assert_eq!(name_key("渡邉"), name_key("渡辺"));
        assert_eq!(name_key("齋藤"), name_key("斎藤"));
        assert_eq!(name_key("濱田"), name_key("浜田"));
        assert_eq!(name_key("ｻﾄｳ ｷﾖｼ"), name_key("サトウキヨシ"));
        assert_eq!(name_key("さとう"), name_key("サトウ"));
        assert_ne!(name_key("佐藤"), name_key("加藤"));
    }

    #[test]
    fn addresses_compare_across_notations() {
        let canonical = address_key("みどり市中央1-2-3");
        for a in [
            "みどり市中央1丁目2番3号",
            "みどり市中央一丁目二番三号",
            "みどり市中央１－２－３",
            "みどり市 中央 1丁目2番地3",
            "みどり市中央1丁目2-3",
        ] {
            assert_eq!(address_key(a), canonical, "{a}");
        }
        assert_eq!(
            address_key("みどり市大字本郷12番地"),
            address_key("みどり市本郷12")
        );
        assert_eq!(
            address_key("みどり市桜台二十三番"),
            address_key("みどり市桜台23")
        );
        assert_ne!(
            address_key("みどり市中央1-2-3"),
            address_key("みどり市中央1-2-4")
        );
    }
}
