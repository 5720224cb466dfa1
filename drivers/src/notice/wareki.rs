//! Dates as police notices write them → ISO `YYYY-MM-DD`.
//!
//! Accepted: Japanese era dates (令和・平成・昭和, also abbreviated R/H/S and 令/平/昭), 元年
//! for the first year, digits in any width or as kanji numerals (〇一二…十, 十二, 二十三),
//! separators 年月日 or `.`/`/`/`-`; and Gregorian dates (`2025年4月1日`, `2025/04/01`).
//! Spaces (any width) are ignored. An era date must fall inside its era: 平成31年5月1日 does
//! not exist (令和元年5月1日 does), and 令和元年4月30日 is still 平成.

use time::{Date, Month};

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not a date in any accepted form.
    #[error("not a date: {0:?}")]
    Unreadable(String),
    /// A month or day that does not exist.
    #[error("no such date: {0:?}")]
    NoSuchDate(String),
    /// Outside the era it names.
    #[error("{era}{year}年{month}月{day}日 is outside the {era} era")]
    OutsideEra {
        /// Era name.
        era: &'static str,
        /// Year of the era.
        year: u32,
        /// Month.
        month: u32,
        /// Day.
        day: u32,
    },
}

/// An era: name, first day (Gregorian year, month, day), last day (None: current).
struct Era {
    name: &'static str,
    aliases: &'static [&'static str],
    start: (i32, u8, u8),
    end: Option<(i32, u8, u8)>,
}

const ERAS: &[Era] = &[
    Era {
        name: "令和",
        aliases: &["令和", "令", "R"],
        start: (2019, 5, 1),
        end: None,
    },
    Era {
        name: "平成",
        aliases: &["平成", "平", "H"],
        start: (1989, 1, 8),
        end: Some((2019, 4, 30)),
    },
    Era {
        name: "昭和",
        aliases: &["昭和", "昭", "S"],
        start: (1926, 12, 25),
        end: Some((1989, 1, 7)),
    },
];

/// Fold widths (full-width digits and letters to ASCII), drop spaces, and turn kanji numerals
/// into digits.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '．' | '／' | '－' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            'ー' | '―' | '‐' | '−' => '-',
            _ => c,
        };
        if c.is_whitespace() || c == '\u{3000}' {
            continue;
        }
        out.push(c.to_ascii_uppercase());
    }
    kanji_numbers(&out)
}

/// Replace runs of kanji numerals (〇一二三四五六七八九十) with their value in digits.
fn kanji_numbers(s: &str) -> String {
    let digit = |c: char| "〇一二三四五六七八九".chars().position(|d| d == c);
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_some() || chars[i] == '十' {
            let mut j = i;
            while j < chars.len() && (digit(chars[j]).is_some() || chars[j] == '十') {
                j += 1;
            }
            let run = &chars[i..j];
            let value = if run.contains(&'十') {
                // 十 = 10, 十二 = 12, 二十 = 20, 二十三 = 23.
                let pos = run.iter().position(|c| *c == '十').unwrap_or(0);
                let tens = if pos == 0 {
                    1
                } else {
                    run[..pos].iter().filter_map(|c| digit(*c)).sum::<usize>()
                };
                let ones: usize = run[pos + 1..].iter().filter_map(|c| digit(*c)).sum();
                tens * 10 + ones
            } else {
                run.iter()
                    .filter_map(|c| digit(*c))
                    .fold(0usize, |a, d| a * 10 + d)
            };
            out.push_str(&value.to_string());
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Split `y?m?d` where `?` is 年月日 or `.`/`/`/`-`, into three numbers.
fn ymd(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.strip_suffix('日').unwrap_or(s);
    let parts: Vec<&str> = s
        .split(['年', '月', '.', '/', '-'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    let n = |p: &str| -> Option<u32> {
        if p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    Some((n(parts[0])?, n(parts[1])?, n(parts[2])?))
}

fn date(y: i32, m: u32, d: u32, raw: &str) -> Result<Date, DateError> {
    let month = u8::try_from(m)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| DateError::NoSuchDate(raw.to_owned()))?;
    let day = u8::try_from(d).map_err(|_| DateError::NoSuchDate(raw.to_owned()))?;
    Date::from_calendar_date(y, month, day).map_err(|_| DateError::NoSuchDate(raw.to_owned()))
}

/// Read a date; the ISO form.
pub fn parse(raw: &str) -> Result<String, DateError> {
    let s = fold(raw);
    let unreadable = || DateError::Unreadable(raw.to_owned());
    for era in ERAS {
        let Some(rest) = era.aliases.iter().find_map(|a| s.strip_prefix(a)) else {
            continue;
        };
        let rest = match rest.strip_prefix('元') {
            Some(r) => format!("1{r}"),
            None => rest.to_owned(),
        };
        let (y, m, d) = ymd(&rest).ok_or_else(unreadable)?;
        if y == 0 {
            return Err(unreadable());
        }
        let greg = era.start.0 + y as i32 - 1;
        let out = date(greg, m, d, raw)?;
        let start = date(era.start.0, era.start.1.into(), era.start.2.into(), raw)?;
        let inside = out >= start
            && era.end.is_none_or(|(ey, em, ed)| {
                date(ey, em.into(), ed.into(), raw).is_ok_and(|end| out <= end)
            });
        if !inside {
            return Err(DateError::OutsideEra {
                era: era.name,
                year: y,
                month: m,
                day: d,
            });
        }
        return Ok(out.to_string());
    }
    let (y, m, d) = ymd(&s).ok_or_else(unreadable)?;
    if !(1900..=2100).contains(&y) {
        return Err(unreadable());
    }
    Ok(date(y as i32, m, d, raw)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn era_dates_in_every_width_and_form() {
        for (raw, iso) in [
            ("令和7年4月1日", "2025-04-01"),
            ("令和７年４月１日", "2025-04-01"),
            ("令和 ７年 ４月 １日", "2025-04-01"),
            ("令和元年5月1日", "2019-05-01"),
            ("令和元年５月１日", "2019-05-01"),
            ("平成31年4月30日", "2019-04-30"),
            ("平成元年1月8日", "1989-01-08"),
            ("昭和64年1月7日", "1989-01-07"),
            ("昭和元年12月25日", "1926-12-25"),
            ("平成二十三年三月十一日", "2011-03-11"),
            ("令和五年十二月二十日", "2023-12-20"),
            ("H23.3.11", "2011-03-11"),
            ("Ｒ６．１．１", "2024-01-01"),
            ("S50/10/10", "1975-10-10"),
            ("2025年4月1日", "2025-04-01"),
            ("２０２５／０４／０１", "2025-04-01"),
            ("2024-02-29", "2024-02-29"),
        ] {
            assert_eq!(parse(raw).as_deref(), Ok(iso), "{raw}");
        }
    }

    #[test]
    fn dates_outside_their_era_or_calendar_are_refused() {
        assert!(matches!(
            parse("平成31年5月1日"),
            Err(DateError::OutsideEra { era: "平成", .. })
        ));
        assert!(matches!(
            parse("令和元年4月30日"),
            Err(DateError::OutsideEra { .. })
        ));
        assert!(matches!(
            parse("昭和64年1月8日"),
            Err(DateError::OutsideEra { .. })
        ));
        assert!(matches!(
            parse("平成元年1月7日"),
            Err(DateError::OutsideEra { .. })
        ));
        assert!(matches!(parse("2023-02-29"), Err(DateError::NoSuchDate(_))));
        assert!(matches!(
            parse("令和5年13月1日"),
            Err(DateError::NoSuchDate(_))
        ));
        for junk in [
            "",
            "令和",
            "昨日",
            "令和年月日",
            "12345",
            "令和0年1月1日",
            "1850/1/1",
        ] {
            assert!(parse(junk).is_err(), "{junk:?}");
        }
    }
}
