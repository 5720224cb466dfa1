//! The insurer identity of an insured resident (保険者番号, 被保険者証の記号・番号・枝番, and
//! the 特定健診 受診券's 整理番号 and 有効期限): what the municipality's roster says, what a
//! box carries to central on the check-in, and what the national standard's archive needs
//! to hand a checkup to the right insurer.
//!
//! [`InsurerIdentity::validate`] applies the formats, each failure naming its field in
//! Japanese and English ([`InsurerError`]):
//!
//! | field | 項目 | rule |
//! |---|---|---|
//! | `insurer_number` | 保険者番号 | 8 ASCII digits (法別番号 2, 都道府県番号 2, 保険者別番号 3, 検証番号 1), or 6 for 国民健康保険 (no 法別番号); the last digit is the 検証番号 ([`check_digit`]) |
//! | `symbol` | 被保険者証記号 | optional; 1–20 characters, full-width allowed, no control characters |
//! | `number` | 被保険者証番号 | 1–20 characters, full-width allowed, no control characters |
//! | `branch` | 枝番 | optional; exactly 2 ASCII digits |
//! | `ticket_number` | 受診券整理番号 | optional; exactly 11 ASCII digits |
//! | `ticket_expiry` | 受診券有効期限 | optional; a real date, `YYYY-MM-DD` |
//!
//! The 検証番号 is the one of MHLW's 保険者番号設定要領 (the one レセプト systems check):
//! the digits before it, multiplied alternately by 2 and 1 starting from the rightmost,
//! the digits of the products summed, and the check digit is `(10 - sum mod 10) mod 10`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Most characters of a 記号 or 番号 (the 特定健診 standard's field length).
pub const MAX_SYMBOL_CHARS: usize = 20;

/// Who insures a resident, as on their 被保険者証 and 受診券.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InsurerIdentity {
    /// 保険者番号: 8 digits, or 6 for 国民健康保険; the last is the 検証番号. The key by
    /// which central gathers an insurer's checkups.
    pub insurer_number: String,
    /// 被保険者証記号 (not every card has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// 被保険者証番号: with the 記号 it names the insured person at their insurer.
    pub number: String,
    /// 枝番: 2 digits telling the insured person's family members apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// 受診券整理番号: 11 digits, the number of the checkup voucher the insurer issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<String>,
    /// 受診券有効期限, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_expiry: Option<String>,
}

/// A field of [`InsurerIdentity`], named as in the roster's English column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InsurerField {
    /// 保険者番号.
    InsurerNumber,
    /// 被保険者証記号.
    Symbol,
    /// 被保険者証番号.
    Number,
    /// 枝番.
    Branch,
    /// 受診券整理番号.
    TicketNumber,
    /// 受診券有効期限.
    TicketExpiry,
}

impl InsurerField {
    /// Every field, in card order.
    pub const ALL: [InsurerField; 6] = [
        InsurerField::InsurerNumber,
        InsurerField::Symbol,
        InsurerField::Number,
        InsurerField::Branch,
        InsurerField::TicketNumber,
        InsurerField::TicketExpiry,
    ];

    /// The Japanese name, as printed on the card and in municipal files.
    pub fn label_ja(self) -> &'static str {
        match self {
            InsurerField::InsurerNumber => "保険者番号",
            InsurerField::Symbol => "被保険者証記号",
            InsurerField::Number => "被保険者証番号",
            InsurerField::Branch => "枝番",
            InsurerField::TicketNumber => "受診券整理番号",
            InsurerField::TicketExpiry => "受診券有効期限",
        }
    }

    /// The English name: the roster's column header.
    pub fn column(self) -> &'static str {
        match self {
            InsurerField::InsurerNumber => "insurer_number",
            InsurerField::Symbol => "insured_symbol",
            InsurerField::Number => "insured_number",
            InsurerField::Branch => "insured_branch",
            InsurerField::TicketNumber => "ticket_number",
            InsurerField::TicketExpiry => "ticket_expiry",
        }
    }

    /// The field's path in an event payload (for [`crate::ProtocolError`]).
    pub fn payload_path(self) -> &'static str {
        match self {
            InsurerField::InsurerNumber => "payload.insurer.insurer_number",
            InsurerField::Symbol => "payload.insurer.symbol",
            InsurerField::Number => "payload.insurer.number",
            InsurerField::Branch => "payload.insurer.branch",
            InsurerField::TicketNumber => "payload.insurer.ticket_number",
            InsurerField::TicketExpiry => "payload.insurer.ticket_expiry",
        }
    }
}

impl std::fmt::Display for InsurerField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.label_ja(), self.column())
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Empty where a value is needed.
    Empty,
    /// Not the digits the field takes (`expected` says how many, in words).
    Digits {
        /// The value given.
        value: String,
        /// How many digits the field takes, e.g. `"6 or 8"`.
        expected: &'static str,
    },
    /// The 保険者番号's last digit is not its 検証番号.
    CheckDigit {
        /// The value given.
        value: String,
        /// The check digit its other digits call for.
        expected: u8,
    },
    /// Longer than [`MAX_SYMBOL_CHARS`].
    TooLong {
        /// Characters given.
        chars: usize,
    },
    /// Contains control characters (a tab, a line break …).
    ControlCharacters,
    /// Not a real date written `YYYY-MM-DD`.
    NotADate {
        /// The value given.
        value: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Empty => f.write_str("空です / is empty"),
            Problem::Digits { value, expected } => write!(
                f,
                "{value:?} は{expected}桁の数字ではありません / {value:?} is not {expected} digits"
            ),
            Problem::CheckDigit { value, expected } => write!(
                f,
                "{value:?} の検証番号が合いません（末尾は {expected} のはず）/ \
                 {value:?} has a wrong check digit (the last digit should be {expected})"
            ),
            Problem::TooLong { chars } => write!(
                f,
                "{chars}文字あります（{MAX_SYMBOL_CHARS}文字まで）/ \
                 is {chars} characters; at most {MAX_SYMBOL_CHARS}"
            ),
            Problem::ControlCharacters => {
                f.write_str("制御文字が含まれています / contains control characters")
            }
            Problem::NotADate { value } => write!(
                f,
                "{value:?} は日付（YYYY-MM-DD）ではありません / {value:?} is not a date (YYYY-MM-DD)"
            ),
        }
    }
}

/// Why an insurer identity is refused: the field, named in Japanese and English, and what
/// is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct InsurerError {
    /// The field that failed.
    pub field: InsurerField,
    /// What is wrong with it.
    pub problem: Problem,
}

impl InsurerError {
    fn new(field: InsurerField, problem: Problem) -> Self {
        InsurerError { field, problem }
    }
}

impl From<InsurerError> for crate::ProtocolError {
    fn from(e: InsurerError) -> Self {
        crate::ProtocolError::InvalidPayload {
            field: e.field.payload_path(),
            reason: e.problem.to_string(),
        }
    }
}

/// The 検証番号 of a 保険者番号 whose other digits are `body` (ASCII digits; `None` if
/// anything else): from the rightmost digit, multiply by 2, 1, 2, 1 …, sum the digits of
/// the products, and take `(10 - sum mod 10) mod 10`.
pub fn check_digit(body: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in body.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = u32::from(b - b'0');
        let p = if i % 2 == 0 { d * 2 } else { d };
        sum += p / 10 + p % 10;
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// Check a 保険者番号: 6 or 8 ASCII digits whose last is the [`check_digit`] of the others.
pub fn check_insurer_number(s: &str) -> Result<(), InsurerError> {
    let field = InsurerField::InsurerNumber;
    if s.is_empty() {
        return Err(InsurerError::new(field, Problem::Empty));
    }
    if !matches!(s.len(), 6 | 8) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InsurerError::new(
            field,
            Problem::Digits {
                value: s.to_owned(),
                expected: "6 or 8",
            },
        ));
    }
    let (body, last) = s.split_at(s.len() - 1);
    let expected = check_digit(body).unwrap_or(0);
    if last.as_bytes()[0] - b'0' != expected {
        return Err(InsurerError::new(
            field,
            Problem::CheckDigit {
                value: s.to_owned(),
                expected,
            },
        ));
    }
    Ok(())
}

/// A 記号 or 番号: 1–20 characters (any width), no control characters.
fn check_symbol(field: InsurerField, s: &str) -> Result<(), InsurerError> {
    if s.trim().is_empty() {
        return Err(InsurerError::new(field, Problem::Empty));
    }
    let chars = s.chars().count();
    if chars > MAX_SYMBOL_CHARS {
        return Err(InsurerError::new(field, Problem::TooLong { chars }));
    }
    if s.chars().any(char::is_control) {
        return Err(InsurerError::new(field, Problem::ControlCharacters));
    }
    Ok(())
}

/// Exactly `n` ASCII digits.
fn check_digits(
    field: InsurerField,
    s: &str,
    n: usize,
    expected: &'static str,
) -> Result<(), InsurerError> {
    if s.is_empty() {
        return Err(InsurerError::new(field, Problem::Empty));
    }
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InsurerError::new(
            field,
            Problem::Digits {
                value: s.to_owned(),
                expected,
            },
        ));
    }
    Ok(())
}

/// Whether `s` is a real date written `YYYY-MM-DD` (years 1900–2999).
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !s.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2999).contains(&y) && (1..=days).contains(&d)
}

impl InsurerIdentity {
    /// A validated identity.
    pub fn new(
        insurer_number: impl Into<String>,
        symbol: Option<String>,
        number: impl Into<String>,
        branch: Option<String>,
        ticket_number: Option<String>,
        ticket_expiry: Option<String>,
    ) -> Result<InsurerIdentity, InsurerError> {
        let id = InsurerIdentity {
            insurer_number: insurer_number.into(),
            symbol,
            number: number.into(),
            branch,
            ticket_number,
            ticket_expiry,
        };
        id.validate()?;
        Ok(id)
    }

    /// Check every field (see the module documentation); the first failure, in card order.
    pub fn validate(&self) -> Result<(), InsurerError> {
        check_insurer_number(&self.insurer_number)?;
        if let Some(s) = &self.symbol {
            check_symbol(InsurerField::Symbol, s)?;
        }
        check_symbol(InsurerField::Number, &self.number)?;
        if let Some(b) = &self.branch {
            check_digits(InsurerField::Branch, b, 2, "2")?;
        }
        if let Some(t) = &self.ticket_number {
            check_digits(InsurerField::TicketNumber, t, 11, "11")?;
        }
        if let Some(e) = &self.ticket_expiry
            && !is_iso_date(e)
        {
            return Err(InsurerError::new(
                InsurerField::TicketExpiry,
                Problem::NotADate { value: e.clone() },
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 保険者番号 as the insurers publish them.
    const PUBLISHED: &[(&str, &str)] = &[
        ("01130012", "全国健康保険協会 東京支部"),
        ("01040013", "全国健康保険協会 宮城支部"),
        ("33120015", "警察共済組合 千葉県支部"),
        ("138057", "国民健康保険 (東京都)"),
    ];

    fn identity() -> InsurerIdentity {
        InsurerIdentity {
            insurer_number: "01130012".into(),
            symbol: Some("１２３４５".into()),
            number: "67".into(),
            branch: Some("01".into()),
            ticket_number: Some("26000000123".into()),
            ticket_expiry: Some("2027-03-31".into()),
        }
    }

    #[test]
    fn published_insurer_numbers_pass_and_their_check_digits_are_recomputed() {
        for (n, who) in PUBLISHED {
            assert_eq!(check_insurer_number(n), Ok(()), "{n} {who}");
            let (body, last) = n.split_at(n.len() - 1);
            assert_eq!(
                check_digit(body).map(|d| d.to_string()),
                Some(last.to_owned()),
                "{n} {who}"
            );
        }
    }

    #[test]
    fn the_worked_example_of_the_setting_rules_sums_digits_of_products() {
        // 3312001 → ×2,1,2,1,2,1,2 from the right: 6 3 2 2 0 0 2 = 15 → 10 - 5 = 5.
        assert_eq!(check_digit("3312001"), Some(5));
        // A product of two digits counts as the sum of its digits: 9×2 = 18 → 1 + 8 = 9.
        assert_eq!(check_digit("9"), Some(1));
        // Sum ending in 0 (19 → 9×2 = 18 → 9, plus 1 = 10): check digit 0, not 10.
        assert_eq!(check_digit("19"), Some(0));
        assert_eq!(check_digit("12a"), None);
    }

    #[test]
    fn each_bad_field_is_named_in_japanese_and_english() {
        let cases: Vec<(InsurerIdentity, InsurerField)> = vec![
            (
                InsurerIdentity {
                    insurer_number: "01130013".into(),
                    ..identity()
                },
                InsurerField::InsurerNumber,
            ),
            (
                InsurerIdentity {
                    insurer_number: "0113001".into(),
                    ..identity()
                },
                InsurerField::InsurerNumber,
            ),
            (
                InsurerIdentity {
                    insurer_number: "０１１３００１２".into(),
                    ..identity()
                },
                InsurerField::InsurerNumber,
            ),
            (
                InsurerIdentity {
                    symbol: Some("あ".repeat(21)),
                    ..identity()
                },
                InsurerField::Symbol,
            ),
            (
                InsurerIdentity {
                    symbol: Some("12\t3".into()),
                    ..identity()
                },
                InsurerField::Symbol,
            ),
            (
                InsurerIdentity {
                    number: "".into(),
                    ..identity()
                },
                InsurerField::Number,
            ),
            (
                InsurerIdentity {
                    branch: Some("1".into()),
                    ..identity()
                },
                InsurerField::Branch,
            ),
            (
                InsurerIdentity {
                    ticket_number: Some("2600000012".into()),
                    ..identity()
                },
                InsurerField::TicketNumber,
            ),
            (
                InsurerIdentity {
                    ticket_expiry: Some("2027-02-29".into()),
                    ..identity()
                },
                InsurerField::TicketExpiry,
            ),
            (
                InsurerIdentity {
                    ticket_expiry: Some("2027/03/31".into()),
                    ..identity()
                },
                InsurerField::TicketExpiry,
            ),
        ];
        assert_eq!(identity().validate(), Ok(()));
        for (id, field) in cases {
            let e = id.validate().expect_err("refused");
            assert_eq!(e.field, field, "{e}");
            let text = e.to_string();
            assert!(
                text.contains(field.label_ja()) && text.contains(field.column()),
                "{text}"
            );
        }
        assert_eq!(
            InsurerIdentity {
                insurer_number: "01130013".into(),
                ..identity()
            }
            .validate()
            .map_err(|e| e.problem),
            Err(Problem::CheckDigit {
                value: "01130013".into(),
                expected: 2
            })
        );
    }

    #[test]
    fn dates_are_real_dates() {
        for (d, ok) in [
            ("2028-02-29", true),
            ("2027-02-29", false),
            ("2000-02-29", true),
            ("2100-02-29", false),
            ("2027-04-31", false),
            ("2027-12-31", true),
            ("2027-13-01", false),
            ("2027-00-10", false),
            ("2027-1-10", false),
            ("２０２７-01-10", false),
            ("+027-01-10", false),
        ] {
            assert_eq!(is_iso_date(d), ok, "{d}");
        }
    }

    #[test]
    fn old_payloads_without_optional_fields_parse_and_absent_fields_are_not_written() {
        let id: InsurerIdentity =
            serde_json::from_str(r#"{"insurer_number":"138057","number":"1"}"#).expect("parses");
        assert_eq!(id.validate(), Ok(()));
        assert_eq!(
            serde_json::to_string(&id).expect("json"),
            r#"{"insurer_number":"138057","number":"1"}"#
        );
        assert!(
            serde_json::from_str::<InsurerIdentity>(
                r#"{"insurer_number":"138057","number":"1","x":1}"#
            )
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn a_body_with_its_check_digit_passes_and_any_one_wrong_digit_fails(
            body in prop_oneof!["[0-9]{5}", "[0-9]{7}"],
            pos in 0usize..8,
            delta in 1u8..10,
        ) {
            let d = check_digit(&body).expect("digits");
            let n = format!("{body}{d}");
            prop_assert_eq!(check_insurer_number(&n), Ok(()));
            // Changing any one digit (the check digit included) is detected.
            let pos = pos % n.len();
            let mut bytes = n.clone().into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let wrong = String::from_utf8(bytes).expect("ascii");
            let e = check_insurer_number(&wrong).expect_err("one wrong digit");
            let is_check_digit_problem = matches!(e.problem, Problem::CheckDigit { .. });
            prop_assert!(is_check_digit_problem);
        }

        #[test]
        fn exactly_one_last_digit_passes(body in prop_oneof!["[0-9]{5}", "[0-9]{7}"]) {
            let passing = (0..10)
                .filter(|d| check_insurer_number(&format!("{body}{d}")).is_ok())
                .count();
            prop_assert_eq!(passing, 1);
        }

        #[test]
        fn other_lengths_and_non_digits_never_pass(s in "\\PC{0,12}") {
            let plausible = matches!(s.len(), 6 | 8) && s.bytes().all(|b| b.is_ascii_digit());
            if !plausible {
                prop_assert_eq!(
                    check_insurer_number(&s).map_err(|e| e.field),
                    Err(InsurerField::InsurerNumber)
                );
            }
        }

        #[test]
        fn the_validator_accepts_well_formed_identities_and_round_trips(
            body in "[0-9]{7}",
            symbol in proptest::option::of("[0-9０-９あ-ん]{1,20}"),
            number in "[0-9A-Za-z０-９]{1,20}",
            branch in proptest::option::of("[0-9]{2}"),
            ticket in proptest::option::of("[0-9]{11}"),
            y in 1900u32..3000, m in 1u32..13, d in 1u32..29,
            expiry in any::<bool>(),
        ) {
            let insurer_number = format!("{body}{}", check_digit(&body).expect("digits"));
            let id = InsurerIdentity::new(
                insurer_number, symbol, number, branch, ticket,
                expiry.then(|| format!("{y:04}-{m:02}-{d:02}")),
            ).expect("well-formed");
            let json = serde_json::to_string(&id).expect("json");
            let back: InsurerIdentity = serde_json::from_str(&json).expect("parses");
            prop_assert_eq!(back, id);
        }

        #[test]
        fn the_validator_never_panics_and_names_a_field(
            n in "\\PC{0,10}", s in proptest::option::of("\\PC{0,25}"), num in "\\PC{0,25}",
            b in proptest::option::of("\\PC{0,3}"), t in proptest::option::of("\\PC{0,12}"),
            e in proptest::option::of("\\PC{0,11}"),
        ) {
            let id = InsurerIdentity {
                insurer_number: n, symbol: s, number: num, branch: b, ticket_number: t,
                ticket_expiry: e,
            };
            if let Err(err) = id.validate() {
                prop_assert!(InsurerField::ALL.contains(&err.field));
                prop_assert!(err.to_string().contains(err.field.column()));
            }
        }

        #[test]
        fn branch_and_ticket_take_exactly_their_digits(s in "[0-9]{0,13}") {
            let with = |branch: Option<String>, ticket: Option<String>| InsurerIdentity {
                branch, ticket_number: ticket, ..identity()
            }.validate().is_ok();
            prop_assert_eq!(with(Some(s.clone()), None), s.len() == 2);
            prop_assert_eq!(with(None, Some(s.clone())), s.len() == 11);
        }
    }
}
