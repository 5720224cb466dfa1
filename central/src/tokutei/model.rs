//! What the 特定健診 writer takes and the reader gives back: an examinee with the insurer
//! identity, the checkup date and the results as item codes and values — independent of
//! central's database, so the export maps its rows into these types and the import maps
//! these types into its rows.

use time::Date;

/// Sex as the standard codes it (administrativeGenderCode, code system
/// 1.2.392.200119.6.1104).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// 1 男.
    Male,
    /// 2 女.
    Female,
}

impl Sex {
    /// The code written in the document.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "1",
            Sex::Female => "2",
        }
    }

    /// The sex of a code.
    pub fn from_code(code: &str) -> Option<Sex> {
        match code {
            "1" => Some(Sex::Male),
            "2" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// The examinee's insurance as printed on the card and the 受診券.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InsurerRef {
    /// 保険者番号: up to 8 digits; written zero-padded to 8 (国保's 6-digit numbers gain two
    /// leading zeros), and read back as written.
    pub insurer_number: String,
    /// 被保険者証記号 (≤ 20 characters).
    pub symbol: Option<String>,
    /// 被保険者証番号 (≤ 20 characters).
    pub number: String,
    /// 枝番 (2 digits).
    pub branch: Option<String>,
    /// 受診券整理番号 (11 digits).
    pub ticket_number: Option<String>,
    /// 受診券有効期限.
    pub ticket_expiry: Option<Date>,
}

impl InsurerRef {
    /// The insurer number as written in documents and archive names: 8 digits, zero-padded.
    pub fn padded_insurer_number(&self) -> String {
        format!("{:0>8}", self.insurer_number)
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obs {
    /// The 17-character item code.
    pub code17: String,
    /// The value.
    pub value: ObsValue,
}

impl Obs {
    /// A result of `code` with `value`.
    pub fn new(code17: &str, value: ObsValue) -> Obs {
        Obs {
            code17: code17.to_owned(),
            value,
        }
    }
}

/// The value of a result, in the form the item table's XML type asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObsValue {
    /// A number (PQ) as written, with the item's decimals (`"168.2"`, `"128"`).
    Quantity(String),
    /// A code (CD / CO) in the item's result code system (`"1"`, `"2"`, …).
    Coded(String),
    /// Text (ST).
    Text(String),
    /// 未実施: the examination was not done (`observation/@negationInd="true"`, no value).
    NotDone,
    /// 測定不可: done but could not be measured (`value/@nullFlavor="NI"`).
    Unmeasurable,
}

impl ObsValue {
    /// A quantity with `decimals` decimal places, rounded half away from zero.
    pub fn quantity(value: f64, decimals: usize) -> ObsValue {
        ObsValue::Quantity(format_decimal(value, decimals))
    }
}

/// `value` with `decimals` places, rounded half away from zero (not to even: 125.5 → 126).
pub fn format_decimal(value: f64, decimals: usize) -> String {
    let scale = 10f64.powi(i32::try_from(decimals).unwrap_or(0));
    // A small nudge keeps values such as 0.15 (stored as 0.1499…) rounding up.
    let rounded = ((value * scale).abs() + 1e-9).round() * value.signum() / scale;
    format!("{rounded:.decimals$}")
}

/// One examinee's checkup, as written to one DATA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examinee {
    /// Central's resident id: names the resident in failures. The standard has no place for
    /// it, so it is not written; the reader gives back an empty string and the importer
    /// assigns its own.
    pub resident_id: String,
    /// 氏名 in 全角カナ.
    pub name_kana: String,
    /// 性別.
    pub sex: Sex,
    /// 生年月日.
    pub birth_date: Date,
    /// 郵便番号 `NNN-NNNN`.
    pub postal_code: Option<String>,
    /// 住所.
    pub address: Option<String>,
    /// 保険者 and 受診券.
    pub insurer: InsurerRef,
    /// 健診実施日.
    pub checkup_date: Date,
    /// Results, one per item code (BMI, the blood-pressure average and 階層化 included).
    pub observations: Vec<Obs>,
    /// 健康診断を実施した医師の氏名 (9N516), written as the author of 医師の診断 (9N511).
    pub doctor_name: Option<String>,
}

impl Examinee {
    /// The value of item `code`, if recorded.
    pub fn value(&self, code: &str) -> Option<&ObsValue> {
        self.observations
            .iter()
            .find(|o| o.code17 == code)
            .map(|o| &o.value)
    }
}

/// 収縮期血圧 1回目 / 2回目 / その他.
pub const SYSTOLIC: [&str; 3] = [
    "9A751000000000001",
    "9A752000000000001",
    "9A755000000000001",
];
/// 拡張期血圧 1回目 / 2回目 / その他.
pub const DIASTOLIC: [&str; 3] = [
    "9A761000000000001",
    "9A762000000000001",
    "9A765000000000001",
];

/// Add the blood pressure as the standard reports two readings: the 1回目 and 2回目 items
/// stay, and その他 (9A755 / 9A765, method 9A75500009 / 9A76500009) carries their average
/// rounded half up to a whole mmHg — the value 階層化 uses. With one reading, その他 carries
/// that reading. An その他 already present is left alone.
pub fn add_blood_pressure_average(observations: &mut Vec<Obs>) {
    for [first, second, other] in [SYSTOLIC, DIASTOLIC] {
        if observations.iter().any(|o| o.code17 == other) {
            continue;
        }
        let reading = |code: &str| {
            observations.iter().find_map(|o| match &o.value {
                ObsValue::Quantity(v) if o.code17 == code => v.parse::<f64>().ok(),
                _ => None,
            })
        };
        let value = match (reading(first), reading(second)) {
            (Some(a), Some(b)) => (a + b) / 2.0,
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => continue,
        };
        observations.push(Obs::new(other, ObsValue::quantity(value, 0)));
    }
}

/// The 特定健診 code of a urine dipstick grade as the box records it (`-`, `±`, `+`, `2+`,
/// `3+`, `4+`): result code system 1.2.392.200119.6.2102 has 1 − … 5 ＋＋＋, so `4+` is
/// reported at the top grade 5 (＋＋＋ and above).
pub fn dipstick_code(grade: &str) -> Option<&'static str> {
    match grade {
        "-" | "－" => Some("1"),
        "±" => Some("2"),
        "+" | "＋" => Some("3"),
        "2+" | "＋＋" => Some("4"),
        "3+" | "4+" | "＋＋＋" => Some("5"),
        _ => None,
    }
}

/// The file creator: the 健診機関 (or the municipality acting as one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// 健診機関番号: 10 digits.
    pub institution_number: String,
    /// 機関名称.
    pub name: String,
    /// 電話番号 (written as `tel:…`).
    pub telephone: Option<String>,
    /// 郵便番号 `NNN-NNNN`.
    pub postal_code: Option<String>,
    /// 所在地.
    pub address: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_half_up() {
        assert_eq!(format_decimal(125.5, 0), "126");
        assert_eq!(format_decimal(125.4, 0), "125");
        assert_eq!(format_decimal(0.15, 1), "0.2");
        assert_eq!(format_decimal(168.25, 1), "168.3");
        assert_eq!(format_decimal(5.0, 2), "5.00");
    }

    #[test]
    fn two_readings_give_their_average_as_the_other_reading() {
        let mut obs = vec![
            Obs::new(SYSTOLIC[0], ObsValue::Quantity("131".into())),
            Obs::new(SYSTOLIC[1], ObsValue::Quantity("126".into())),
            Obs::new(DIASTOLIC[0], ObsValue::Quantity("80".into())),
        ];
        add_blood_pressure_average(&mut obs);
        assert!(obs.contains(&Obs::new(SYSTOLIC[2], ObsValue::Quantity("129".into()))));
        assert!(obs.contains(&Obs::new(DIASTOLIC[2], ObsValue::Quantity("80".into()))));
        let before = obs.clone();
        add_blood_pressure_average(&mut obs);
        assert_eq!(obs, before, "idempotent");
    }

    #[test]
    fn dipstick_grades_map_to_codes() {
        assert_eq!(dipstick_code("-"), Some("1"));
        assert_eq!(dipstick_code("2+"), Some("4"));
        assert_eq!(dipstick_code("4+"), Some("5"));
        assert_eq!(dipstick_code("?"), None);
    }
}
