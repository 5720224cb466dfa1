//! Checkup courses (from the roster's `course` column) and the stations each one visits.
//!
//! Names are matched after removing spaces; a course that combines items ("特定健診+がん検診")
//! visits the union of its parts' stations, in walking order.

use checkup_protocol::StationKind;

/// Stations of a known course name, `None` if the name is unknown.
fn base(name: &str) -> Option<&'static [StationKind]> {
    use StationKind::*;
    Some(match name {
        "特定健診" | "特定健康診査" => &[
            Questionnaire,
            Measurement,
            BloodPressure,
            Urine,
            BloodDraw,
            Doctor,
        ],
        "後期高齢者健診" => &[
            Questionnaire,
            Measurement,
            BloodPressure,
            Urine,
            BloodDraw,
            Doctor,
        ],
        "詳細健診" => &[Ecg, Fundus],
        "がん検診" | "胃がん検診" | "肺がん検診" | "大腸がん検診" => {
            &[Questionnaire, Doctor]
        }
        _ => return None,
    })
}

/// The stations a course visits, or an error naming the unknown part.
pub fn stations(course: &str) -> Result<Vec<StationKind>, String> {
    let mut out: Vec<StationKind> = Vec::new();
    let compact: String = course.chars().filter(|c| !c.is_whitespace()).collect();
    for part in compact
        .split(['+', '＋', '・', '/', '、'])
        .filter(|p| !p.is_empty())
    {
        let s = base(part).ok_or_else(|| format!("unknown course {part:?}"))?;
        for k in s {
            if !out.contains(k) {
                out.push(*k);
            }
        }
    }
    if out.is_empty() {
        return Err("empty course".into());
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn courses_map_to_stations_and_combine() {
        assert_eq!(stations("特定健診").map(|s| s.len()), Ok(6));
        let both = stations("特定健診 + 詳細健診").expect("known");
        assert!(both.contains(&StationKind::Ecg) && both.contains(&StationKind::Measurement));
        assert!(stations("謎の健診").is_err());
    }
}
