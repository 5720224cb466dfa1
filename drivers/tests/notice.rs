//! Properties of the notice field parsers: every real date written the ways notices write it
//! (era or Gregorian, half- or full-width digits, kanji numerals, 元年, separators) reads back
//! as itself, every real address (any municipality, ward and town) matches as itself, every
//! printed label is found as itself, and arbitrary text never panics.

use checkup_drivers::notice::{fields, places, wareki};
use proptest::prelude::*;
use time::{Date, Duration};

fn kanji(n: u32) -> String {
    const D: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n as usize].to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", D[(n - 10) as usize]),
        _ if n.is_multiple_of(10) => format!("{}十", D[(n / 10) as usize]),
        _ => format!("{}十{}", D[(n / 10) as usize], D[(n % 10) as usize]),
    }
}

fn wide(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn era_of(d: Date) -> (&'static str, i32) {
    let ymd = (d.year(), u8::from(d.month()), d.day());
    if ymd >= (2019, 5, 1) {
        ("令和", 2018)
    } else if ymd >= (1989, 1, 8) {
        ("平成", 1988)
    } else {
        ("昭和", 1925)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn every_date_reads_back_in_every_form(offset in 0i64..63_000, form in 0u8..5) {
        let start = Date::from_calendar_date(1926, time::Month::December, 25).expect("date");
        let d = start + Duration::days(offset);
        let (era, base) = era_of(d);
        let (ey, m, day) = ((d.year() - base) as u32, u8::from(d.month()) as u32, d.day() as u32);
        let year = |y: u32| if y == 1 { "元".to_string() } else { y.to_string() };
        let text = match form {
            0 => format!("{era}{}年{m}月{day}日", year(ey)),
            1 => wide(&format!("{era} {}年 {m}月 {day}日", year(ey))),
            2 => format!("{era}{}年{}月{}日", if ey == 1 { "元".into() } else { kanji(ey) }, kanji(m), kanji(day)),
            3 => format!("{}{ey}.{m}.{day}", &era_letter(era)),
            _ => wide(&format!("{}/{m:02}/{day:02}", d.year())),
        };
        prop_assert_eq!(wareki::parse(&text), Ok(d.to_string()), "{}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = wareki::parse(&s);
        let _ = fields::sex(&s);
        let _ = fields::abuse_type(&s);
        let _ = fields::address(&s, &[]);
        let _ = fields::name(&s);
    }

    #[test]
    fn address_repair_never_panics_and_is_idempotent(
        s in "[県府都道上市区町丁目本番号0-9千葉船橋浜松北九州福岡世田谷桜丘静岡 ]{0,30}"
    ) {
        let once = fields::repair_address(&s, &[]);
        prop_assert_eq!(fields::repair_address(&once, &[]), once.clone(), "{}", s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn place_matching_never_panics(s in "\\PC{0,60}") {
        let _ = places::match_address(&s);
        let _ = places::police_station(&s);
    }

    /// Text made of the pieces addresses are made of: whatever matches, matches again as
    /// itself once normalised.
    #[test]
    fn a_normalised_address_matches_as_itself(
        s in "[県府都道市区町村郡丁目番地0-9神奈川横浜中新潟長岡千葉柏東京北海余府大阪堺京静岡浜松福島郡山。DPワウ ]{0,30}"
    ) {
        if let Some(m) = places::match_address(&s) {
            prop_assert!(m.address.starts_with(m.prefecture), "{:?}", m);
            prop_assert!(m.address.ends_with(&m.rest), "{:?}", m);
            let again = places::match_address(&m.address);
            prop_assert_eq!(again.as_ref().map(|a| a.address.as_str()), Some(m.address.as_str()), "{}", s);
            prop_assert_eq!(again.map(|a| a.edits), Some(0), "{}", s);
        }
    }

    /// Any real address — any municipality, ward and town, with or without its county,
    /// after junk or not — matches as itself with no edits.
    #[test]
    fn a_real_address_matches_as_itself(
        i in any::<prop::sample::Index>(),
        w in any::<prop::sample::Index>(),
        t in any::<prop::sample::Index>(),
        with_county in any::<bool>(),
        junk in "[。・:DPワウ|]{0,5}",
        n in 1u32..200,
    ) {
        let all = places::municipalities();
        let m = i.get(all);
        let ward = (!m.wards.is_empty()).then(|| *w.get(m.wards));
        let towns = places::towns(m.prefecture, m.name, ward);
        let town = if towns.is_empty() { "" } else { t.get(&towns) };
        let county = if with_county { m.county.unwrap_or("") } else { "" };
        let address = format!("{}{county}{}{}{town}{n}番地", m.prefecture, m.name, ward.unwrap_or(""));
        let x = places::match_address(&format!("{junk}{address}"));
        prop_assert!(x.is_some(), "{}", address);
        let x = x.expect("checked");
        prop_assert_eq!(&x.address, &address);
        prop_assert_eq!((x.prefecture, x.municipality, x.ward, x.edits), (m.prefecture, Some(m.name), ward, 0), "{}", address);
        prop_assert_eq!(fields::repair_address(&address, &[]), address);
    }
}

fn era_letter(era: &str) -> &'static str {
    match era {
        "令和" => "R",
        "平成" => "H",
        _ => "S",
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// The layout's label and heading matching takes any text a scan gives: a label found
    /// never claims more characters than the text has, and a label printed alone is found as
    /// itself with whatever item number or bracket comes before it.
    #[test]
    fn labels_are_matched_on_any_text(s in "\\PC{0,40}", k in 0usize..checkup_drivers::notice::layout::LABELS.len(), deco in prop::sample::select(vec!["", "1", "(3)", "【", "■", "①"])) {
        use checkup_drivers::notice::layout;
        if let Some(m) = layout::match_label(&s) {
            prop_assert!(m.consumed <= s.chars().count());
        }
        let _ = layout::match_section(&s);
        let (printed, label) = layout::LABELS[k];
        let text = format!("{deco}{printed}：");
        let m = layout::match_label(&text).expect("a printed label is found");
        prop_assert_eq!(m.slips, 0);
        prop_assert_eq!(m.consumed, text.chars().count());
        // The variant found means the same, or is a longer variant that starts the same.
        prop_assert!(m.label == label || m.printed.starts_with(printed), "{} → {:?}", printed, m);
    }
}
