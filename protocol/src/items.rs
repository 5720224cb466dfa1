//! Checkup items (特定健診 17-digit item codes, JLAC10-based) and the stations that measure
//! them. See DESIGN.md "Checkup items".
//!
//! Each item carries its unit, the kind of value it takes, hard limits (a value outside is
//! impossible and rejected) and soft limits (a value outside is possible but unusual and must
//! be confirmed by the staff member). BMI is derived from height and weight, never typed.

use serde::{Deserialize, Serialize};

use crate::questionnaire::AnswerSet;

/// The kind of value an item takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ItemValueKind {
    /// A number with hard limits `[min, max]` and soft limits `[soft_min, soft_max]`.
    Numeric {
        /// Lowest possible value.
        min: f64,
        /// Highest possible value.
        max: f64,
        /// Below this the entry must be confirmed.
        soft_min: f64,
        /// At or above this the entry must be confirmed.
        soft_max: f64,
        /// Decimal places recorded.
        decimals: u8,
    },
    /// A qualitative result (urine dipstick): one of [`QUALITATIVE_VALUES`].
    Qualitative,
    /// A questionnaire answer: one of the set's codes (`"1"`, `"2"`, …), never its text.
    Coded(AnswerSet),
    /// A finding staff record (CD in the standard): one of its own codes, never the label.
    Choice(&'static [Choice]),
    /// Free text (ST in the standard): trimmed, 1 to `max_chars` characters, no control
    /// characters but line breaks ([`check_free_text`]).
    Text {
        /// Longest text, in characters (the item table's format column).
        max_chars: usize,
    },
}

/// One code of a [`ItemValueKind::Choice`] item, with what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The result code as the archive writes it (`"1"`, `"2"`, …).
    pub code: &'static str,
    /// Japanese label (the standard's wording).
    pub label_ja: &'static str,
    /// English label.
    pub label_en: &'static str,
}

impl ItemValueKind {
    /// The codes a [`ItemValueKind::Coded`] or [`ItemValueKind::Choice`] item takes.
    pub fn codes(&self) -> Option<Vec<&'static str>> {
        match self {
            ItemValueKind::Coded(set) => Some(set.codes().to_vec()),
            ItemValueKind::Choice(choices) => Some(choices.iter().map(|c| c.code).collect()),
            ItemValueKind::Numeric { .. }
            | ItemValueKind::Qualitative
            | ItemValueKind::Text { .. } => None,
        }
    }
}

/// 結果コード OID 1.2.392.200119.6.2001 (既往歴・自覚症状・他覚症状).
pub const FINDINGS: &[Choice] = &[
    Choice {
        code: "1",
        label_ja: "特記すべきことあり",
        label_en: "Findings to note",
    },
    Choice {
        code: "2",
        label_ja: "特記すべきことなし",
        label_en: "Nothing to note",
    },
];

/// The [`FINDINGS`] code whose details must be written in the paired text item.
pub const FINDING_PRESENT: &str = "1";

/// 結果コード OID 1.2.392.200119.6.2202 (採血時間（食後）).
pub const HOURS_SINCE_MEAL: &[Choice] = &[
    Choice {
        code: "2",
        label_ja: "食後10時間以上",
        label_en: "10 hours or more after a meal",
    },
    Choice {
        code: "3",
        label_ja: "食後3.5時間以上10時間未満",
        label_en: "3.5 to under 10 hours after a meal",
    },
    Choice {
        code: "4",
        label_ja: "食後3.5時間未満",
        label_en: "Under 3.5 hours after a meal",
    },
];

/// 既往歴 (CD).
pub const HISTORY: &str = "9N056000000000011";
/// 具体的な既往歴 (ST).
pub const HISTORY_TEXT: &str = "9N056160400000049";
/// 自覚症状 (CD).
pub const SYMPTOMS: &str = "9N061000000000011";
/// 自覚症状（所見） (ST).
pub const SYMPTOMS_TEXT: &str = "9N061160800000049";
/// 他覚症状 (CD).
pub const SIGNS: &str = "9N066000000000011";
/// 他覚症状（所見） (ST).
pub const SIGNS_TEXT: &str = "9N066160800000049";
/// 医師の診断（判定） (ST).
pub const DIAGNOSIS: &str = "9N511000000000049";
/// 採血時間（食後） (CD).
pub const HOURS_SINCE_MEAL_ITEM: &str = "9N141000000000011";

/// Items the 特定健診 report requires (item table status 1) that a venue station records:
/// its sign-off is refused while one has no value, confirmation or not. (The questionnaire's
/// required answers are [`crate::questionnaire::Question::required`].)
pub const REQUIRED: &[&str] = &[HISTORY, SYMPTOMS, SIGNS, DIAGNOSIS];

/// (coded finding, its free text): the text is required when the finding is
/// [`FINDING_PRESENT`] (特記すべきことあり), and not asked for otherwise.
pub const DETAILED_BY: &[(&str, &str)] = &[
    (HISTORY, HISTORY_TEXT),
    (SYMPTOMS, SYMPTOMS_TEXT),
    (SIGNS, SIGNS_TEXT),
];

/// The coded finding whose 「あり」 the text item `code` describes, if it is such a text.
pub fn detail_of(code: &str) -> Option<&'static str> {
    DETAILED_BY
        .iter()
        .find(|(_, text)| *text == code)
        .map(|(coded, _)| *coded)
}

/// What is wrong with a free-text value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreeTextError {
    /// Nothing but spaces.
    #[error("is empty")]
    Empty,
    /// Spaces or line breaks before or after the text.
    #[error("has spaces or line breaks before or after the text: trim it")]
    Untrimmed,
    /// Longer than the item allows.
    #[error("is {chars} characters; at most {max}")]
    TooLong {
        /// Characters given.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A control character other than a line break.
    #[error("contains a control character (U+{0:04X})")]
    Control(u32),
}

/// A free-text value of an item of [`ItemValueKind::Text`]: not empty, trimmed (no
/// whitespace at either end), at most `max_chars` characters, and no control characters
/// except the line feed of a multi-line note.
pub fn check_free_text(value: &str, max_chars: usize) -> Result<(), FreeTextError> {
    if value.trim().is_empty() {
        return Err(FreeTextError::Empty);
    }
    if value.trim() != value {
        return Err(FreeTextError::Untrimmed);
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(FreeTextError::TooLong {
            chars,
            max: max_chars,
        });
    }
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(FreeTextError::Control(u32::from(c)));
    }
    Ok(())
}

/// Values a qualitative dipstick result may take (JIS notation).
pub const QUALITATIVE_VALUES: [&str; 6] = ["-", "±", "+", "2+", "3+", "4+"];

/// A checkup item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item {
    /// 17-character item code.
    pub code: &'static str,
    /// Japanese name shown in the UI.
    pub name_ja: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Unit as written in the national XML standard.
    pub unit: &'static str,
    /// Value kind and limits.
    pub kind: ItemValueKind,
    /// The station that records it.
    pub station: StationKind,
    /// Derived by the system (BMI); never recorded by hand.
    pub derived: bool,
}

const fn num(min: f64, max: f64, soft_min: f64, soft_max: f64, decimals: u8) -> ItemValueKind {
    ItemValueKind::Numeric {
        min,
        max,
        soft_min,
        soft_max,
        decimals,
    }
}

/// Every item this build knows.
pub const ITEMS: &[Item] = &[
    Item {
        code: "9N001000000000001",
        name_ja: "身長",
        name_en: "Height",
        unit: "cm",
        kind: num(50.0, 300.0, 120.0, 200.0, 1),
        station: StationKind::Measurement,
        derived: false,
    },
    Item {
        code: "9N006000000000001",
        name_ja: "体重",
        name_en: "Weight",
        unit: "kg",
        kind: num(2.0, 300.0, 25.0, 150.0, 1),
        station: StationKind::Measurement,
        derived: false,
    },
    Item {
        code: "9N011000000000001",
        name_ja: "BMI",
        name_en: "BMI",
        unit: "kg/m2",
        kind: num(5.0, 100.0, 15.0, 40.0, 1),
        station: StationKind::Measurement,
        derived: true,
    },
    Item {
        code: "9N016160100000001",
        name_ja: "腹囲（実測）",
        name_en: "Waist (measured)",
        unit: "cm",
        kind: num(30.0, 250.0, 50.0, 150.0, 1),
        station: StationKind::Measurement,
        derived: false,
    },
    Item {
        code: "9A751000000000001",
        name_ja: "収縮期血圧（1回目）",
        name_en: "Systolic BP (1st)",
        unit: "mmHg",
        kind: num(50.0, 300.0, 80.0, 180.0, 0),
        station: StationKind::BloodPressure,
        derived: false,
    },
    Item {
        code: "9A752000000000001",
        name_ja: "収縮期血圧（2回目）",
        name_en: "Systolic BP (2nd)",
        unit: "mmHg",
        kind: num(50.0, 300.0, 80.0, 180.0, 0),
        station: StationKind::BloodPressure,
        derived: false,
    },
    Item {
        code: "9A761000000000001",
        name_ja: "拡張期血圧（1回目）",
        name_en: "Diastolic BP (1st)",
        unit: "mmHg",
        kind: num(20.0, 200.0, 40.0, 110.0, 0),
        station: StationKind::BloodPressure,
        derived: false,
    },
    Item {
        code: "9A762000000000001",
        name_ja: "拡張期血圧（2回目）",
        name_en: "Diastolic BP (2nd)",
        unit: "mmHg",
        kind: num(20.0, 200.0, 40.0, 110.0, 0),
        station: StationKind::BloodPressure,
        derived: false,
    },
    Item {
        code: "3D046000001999902",
        name_ja: "HbA1c（NGSP値・その他）",
        name_en: "HbA1c (NGSP, other method)",
        unit: "%",
        kind: num(2.0, 20.0, 4.0, 10.0, 1),
        station: StationKind::BloodDraw,
        derived: false,
    },
    Item {
        code: "3D010000001999901",
        name_ja: "空腹時血糖（その他）",
        name_en: "Fasting glucose (other)",
        unit: "mg/dL",
        kind: num(20.0, 1000.0, 60.0, 300.0, 0),
        station: StationKind::BloodDraw,
        derived: false,
    },
    Item {
        code: HOURS_SINCE_MEAL_ITEM,
        name_ja: "採血時間（食後）",
        name_en: "Time since last meal at blood draw",
        unit: "",
        kind: ItemValueKind::Choice(HOURS_SINCE_MEAL),
        station: StationKind::BloodDraw,
        derived: false,
    },
    Item {
        code: "1A020000000191111",
        name_ja: "尿糖",
        name_en: "Urine sugar",
        unit: "",
        kind: ItemValueKind::Qualitative,
        station: StationKind::Urine,
        derived: false,
    },
    Item {
        code: "1A010000000191111",
        name_ja: "尿蛋白",
        name_en: "Urine protein",
        unit: "",
        kind: ItemValueKind::Qualitative,
        station: StationKind::Urine,
        derived: false,
    },
    // 標準的な質問票 (第4期), in the form's order; texts in `questionnaire`.
    Item {
        code: "9N701000000000011",
        name_ja: "服薬1(血圧)",
        name_en: "Medication: blood pressure",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N706000000000011",
        name_ja: "服薬2(血糖)",
        name_en: "Medication: blood sugar or insulin",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N711000000000011",
        name_ja: "服薬3(脂質)",
        name_en: "Medication: cholesterol or triglycerides",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N716000000000011",
        name_ja: "既往歴1(脳血管)",
        name_en: "History: stroke",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N721000000000011",
        name_ja: "既往歴2(心血管)",
        name_en: "History: heart disease",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N726000000000011",
        name_ja: "既往歴3(腎不全・人工透析)",
        name_en: "History: kidney failure or dialysis",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N731000000000011",
        name_ja: "貧血",
        name_en: "Anaemia",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N736000000000011",
        name_ja: "喫煙",
        name_en: "Smoking",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::Smoking),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N741000000000011",
        name_ja: "20歳からの体重変化",
        name_en: "Weight gain of 10 kg since age 20",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N746000000000011",
        name_ja: "30分以上の運動習慣",
        name_en: "Exercise habit (30 min, twice a week)",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N751000000000011",
        name_ja: "歩行又は身体活動",
        name_en: "Walking or activity 1 hour a day",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N756000000000011",
        name_ja: "歩行速度",
        name_en: "Walking speed",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N872000000000011",
        name_ja: "咀嚼",
        name_en: "Chewing",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::Chewing),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N766000000000011",
        name_ja: "食べ方1(早食い等)",
        name_en: "Eating speed",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::EatingSpeed),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N771000000000011",
        name_ja: "食べ方2(就寝前)",
        name_en: "Supper within 2 hours of bed",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N782000000000011",
        name_ja: "食べ方3(間食)",
        name_en: "Snacks and sweet drinks",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::Snacks),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N781000000000011",
        name_ja: "食習慣",
        name_en: "Skipping breakfast",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N786000000000011",
        name_ja: "飲酒",
        name_en: "Drinking frequency",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::DrinkingFrequency),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N791000000000011",
        name_ja: "飲酒量",
        name_en: "Drinking amount",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::DrinkingAmount),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N796000000000011",
        name_ja: "睡眠",
        name_en: "Rest from sleep",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N801000000000011",
        name_ja: "生活習慣の改善",
        name_en: "Readiness to improve lifestyle",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::Improvement),
        station: StationKind::Questionnaire,
        derived: false,
    },
    Item {
        code: "9N808000000000011",
        name_ja: "特定保健指導の受診歴",
        name_en: "Had specific health guidance before",
        unit: "",
        kind: ItemValueKind::Coded(AnswerSet::YesNo),
        station: StationKind::Questionnaire,
        derived: false,
    },
    // 診察: the doctor's findings and judgement (the doctor's name is the signed-in doctor's).
    Item {
        code: HISTORY,
        name_ja: "既往歴",
        name_en: "Medical history",
        unit: "",
        kind: ItemValueKind::Choice(FINDINGS),
        station: StationKind::Doctor,
        derived: false,
    },
    Item {
        code: HISTORY_TEXT,
        name_ja: "具体的な既往歴",
        name_en: "Medical history: details",
        unit: "",
        kind: ItemValueKind::Text { max_chars: 256 },
        station: StationKind::Doctor,
        derived: false,
    },
    Item {
        code: SYMPTOMS,
        name_ja: "自覚症状",
        name_en: "Subjective symptoms",
        unit: "",
        kind: ItemValueKind::Choice(FINDINGS),
        station: StationKind::Doctor,
        derived: false,
    },
    Item {
        code: SYMPTOMS_TEXT,
        name_ja: "自覚症状（所見）",
        name_en: "Subjective symptoms: findings",
        unit: "",
        kind: ItemValueKind::Text { max_chars: 256 },
        station: StationKind::Doctor,
        derived: false,
    },
    Item {
        code: SIGNS,
        name_ja: "他覚症状",
        name_en: "Objective signs",
        unit: "",
        kind: ItemValueKind::Choice(FINDINGS),
        station: StationKind::Doctor,
        derived: false,
    },
    Item {
        code: SIGNS_TEXT,
        name_ja: "他覚症状（所見）",
        name_en: "Objective signs: findings",
        unit: "",
        kind: ItemValueKind::Text { max_chars: 256 },
        station: StationKind::Doctor,
        derived: false,
    },
    Item {
        code: DIAGNOSIS,
        name_ja: "医師の診断（判定）",
        name_en: "Doctor's diagnosis (judgement)",
        unit: "",
        kind: ItemValueKind::Text { max_chars: 256 },
        station: StationKind::Doctor,
        derived: false,
    },
];

/// Look an item up by its code.
pub fn item(code: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.code == code)
}

/// A kind of station a resident visits (DESIGN.md "The people and the day").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StationKind {
    /// 問診: questionnaire.
    Questionnaire,
    /// 身体計測: height, weight, waist.
    Measurement,
    /// 血圧: blood pressure, two readings.
    BloodPressure,
    /// 尿: urine dipstick.
    Urine,
    /// 採血: blood draw.
    BloodDraw,
    /// 心電図: ECG.
    Ecg,
    /// 眼底: fundus photography.
    Fundus,
    /// 診察: doctor's examination.
    Doctor,
}

impl StationKind {
    /// Every station kind, in the usual walking order.
    pub const ALL: [StationKind; 8] = [
        StationKind::Questionnaire,
        StationKind::Measurement,
        StationKind::BloodPressure,
        StationKind::Urine,
        StationKind::BloodDraw,
        StationKind::Ecg,
        StationKind::Fundus,
        StationKind::Doctor,
    ];

    /// Stable identifier used in config and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::Questionnaire => "questionnaire",
            StationKind::Measurement => "measurement",
            StationKind::BloodPressure => "blood_pressure",
            StationKind::Urine => "urine",
            StationKind::BloodDraw => "blood_draw",
            StationKind::Ecg => "ecg",
            StationKind::Fundus => "fundus",
            StationKind::Doctor => "doctor",
        }
    }

    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            StationKind::Questionnaire => "問診",
            StationKind::Measurement => "身体計測",
            StationKind::BloodPressure => "血圧",
            StationKind::Urine => "尿検査",
            StationKind::BloodDraw => "採血",
            StationKind::Ecg => "心電図",
            StationKind::Fundus => "眼底",
            StationKind::Doctor => "診察",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            StationKind::Questionnaire => "Questionnaire",
            StationKind::Measurement => "Body measurement",
            StationKind::BloodPressure => "Blood pressure",
            StationKind::Urine => "Urine",
            StationKind::BloodDraw => "Blood draw",
            StationKind::Ecg => "ECG",
            StationKind::Fundus => "Fundus",
            StationKind::Doctor => "Doctor",
        }
    }

    /// Items typed in at this station (derived items excluded).
    pub fn items(self) -> impl Iterator<Item = &'static Item> {
        ITEMS
            .iter()
            .filter(move |i| i.station == self && !i.derived)
    }
}

impl std::str::FromStr for StationKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown station kind {s:?}"))
    }
}

/// Body-mass index from height (cm) and weight (kg), rounded to one decimal.
pub fn bmi(height_cm: f64, weight_kg: f64) -> Option<f64> {
    if !(height_cm > 0.0 && weight_kg > 0.0) {
        return None;
    }
    let m = height_cm / 100.0;
    Some((weight_kg / (m * m) * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_codes_are_seventeen_characters_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for i in ITEMS {
            assert_eq!(i.code.len(), 17, "{}", i.code);
            assert!(seen.insert(i.code), "duplicate {}", i.code);
        }
    }

    #[test]
    fn every_coded_item_has_valid_unique_codes_and_labels() {
        for i in ITEMS {
            if let ItemValueKind::Choice(choices) = i.kind {
                assert!(!choices.is_empty(), "{}", i.code);
                let mut seen = std::collections::HashSet::new();
                for c in choices {
                    assert!(
                        !c.code.is_empty() && c.code.bytes().all(|b| b.is_ascii_digit()),
                        "{}: {:?}",
                        i.code,
                        c.code
                    );
                    assert!(seen.insert(c.code), "{}: duplicate {}", i.code, c.code);
                    assert!(
                        !c.label_ja.is_empty() && !c.label_en.is_empty(),
                        "{}",
                        i.code
                    );
                }
                assert_eq!(
                    i.kind.codes().map(|c| c.len()),
                    Some(choices.len()),
                    "{}",
                    i.code
                );
            }
        }
        // The 2001 set: 1 あり, 2 なし; the 2202 set: 2, 3, 4 (食後の時間).
        assert_eq!(
            FINDINGS.iter().map(|c| c.code).collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert!(FINDINGS[0].label_ja.contains("あり"));
        assert_eq!(
            HOURS_SINCE_MEAL.iter().map(|c| c.code).collect::<Vec<_>>(),
            ["2", "3", "4"]
        );
    }

    #[test]
    fn required_and_detailed_items_are_venue_items_of_the_right_kinds() {
        for code in REQUIRED {
            let i = item(code).expect("a required item is known");
            assert!(
                !i.derived && i.station != StationKind::Questionnaire,
                "{code}"
            );
        }
        for (coded, text) in DETAILED_BY {
            let c = item(coded).expect("coded");
            let t = item(text).expect("text");
            assert_eq!(c.kind, ItemValueKind::Choice(FINDINGS), "{coded}");
            assert!(matches!(t.kind, ItemValueKind::Text { .. }), "{text}");
            assert_eq!(c.station, t.station, "{coded} and {text} at one station");
            assert_eq!(detail_of(text), Some(*coded));
            // The standard's codes: the text's 5-character stem is its finding's.
            assert_eq!(coded[..5], text[..5]);
        }
        assert_eq!(detail_of(DIAGNOSIS), None);
        let doctor: Vec<_> = StationKind::Doctor.items().map(|i| i.code).collect();
        assert_eq!(
            doctor,
            [
                HISTORY,
                HISTORY_TEXT,
                SYMPTOMS,
                SYMPTOMS_TEXT,
                SIGNS,
                SIGNS_TEXT,
                DIAGNOSIS
            ]
        );
        assert!(
            StationKind::BloodDraw
                .items()
                .any(|i| i.code == HOURS_SINCE_MEAL_ITEM)
        );
    }

    #[test]
    fn free_text_is_trimmed_short_and_free_of_control_characters() {
        assert_eq!(check_free_text("高血圧症（治療中）", 256), Ok(()));
        assert_eq!(check_free_text("異常なし\n要経過観察", 256), Ok(()));
        assert_eq!(check_free_text("", 256), Err(FreeTextError::Empty));
        assert_eq!(
            check_free_text(" \n\u{3000}", 256),
            Err(FreeTextError::Empty)
        );
        assert_eq!(check_free_text(" 胃炎", 256), Err(FreeTextError::Untrimmed));
        assert_eq!(
            check_free_text("胃炎\n", 256),
            Err(FreeTextError::Untrimmed)
        );
        assert_eq!(check_free_text(&"あ".repeat(256), 256), Ok(()));
        assert_eq!(
            check_free_text(&"あ".repeat(257), 256),
            Err(FreeTextError::TooLong {
                chars: 257,
                max: 256
            })
        );
        assert_eq!(
            check_free_text("胃炎\t軽度", 256),
            Err(FreeTextError::Control(9))
        );
        assert_eq!(
            check_free_text("胃炎\r\n軽度", 256),
            Err(FreeTextError::Control(13))
        );
        assert_eq!(
            check_free_text("a\u{7}b", 256),
            Err(FreeTextError::Control(7))
        );
    }

    proptest::proptest! {
        #[test]
        fn free_text_accepted_exactly_when_every_rule_holds(s in "\\PC{0,3}[\\x00-\\x1f\\n ]?\\PC{0,300}", max in 1usize..300) {
            let ok = check_free_text(&s, max).is_ok();
            let expected = !s.trim().is_empty()
                && s.trim() == s
                && s.chars().count() <= max
                && s.chars().all(|c| !c.is_control() || c == '\n');
            proptest::prop_assert_eq!(ok, expected, "{:?}", s);
        }
    }

    #[test]
    fn bmi_is_derived_from_height_and_weight() {
        assert_eq!(bmi(170.0, 65.0), Some(22.5));
        assert_eq!(bmi(0.0, 65.0), None);
        assert!(StationKind::Measurement.items().all(|i| !i.derived));
    }
}
