//! Review thresholds for the OCR intake of police notices, calibrated on scored fields: the
//! lines `notice-score --dump` writes (one per page, field and run) and the per-field
//! threshold `notice-calibrate` derives from them — the lowest confidence at which the
//! fields at or above it are right at least as often as the target (99.5 %).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One scored field, as `notice-score --dump` writes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DumpLine {
    /// Image file name.
    pub file: String,
    /// The page's form family.
    pub family: String,
    /// `pipeline` (`read_page` alone) or `register` (`checkup-edge ocr notice --residents`).
    pub run: String,
    /// Field name.
    pub field: String,
    /// The value read (None: nothing).
    pub value: Option<String>,
    /// The truth.
    pub truth: String,
    /// The field's confidence (0 when nothing was read).
    pub confidence: f32,
    /// Marked for review by the reader (or by the register step).
    pub review: bool,
    /// The value equals the truth exactly.
    pub correct: bool,
}

/// The calibrated threshold of one field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// Fields below this confidence go to review.
    pub at: f32,
    /// Fields at or above it.
    pub above: u32,
    /// Of which wrong.
    pub wrong: u32,
    /// All fields seen.
    pub total: u32,
}

impl Threshold {
    /// Share of the fields at or above the threshold that are right.
    pub fn precision(&self) -> f64 {
        f64::from(self.above - self.wrong) / f64::from(self.above.max(1))
    }

    /// 95 % Wilson lower bound of [`Self::precision`] (how sure the count makes it).
    pub fn lower_bound(&self) -> f64 {
        wilson_lower(self.above - self.wrong, self.above)
    }
}

/// 95 % Wilson score lower bound of `ok / n`.
pub fn wilson_lower(ok: u32, n: u32) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let (n, p, z) = (f64::from(n), f64::from(ok) / f64::from(n), 1.96_f64);
    let centre = p + z * z / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (centre - spread) / (1.0 + z * z / n)
}

/// The lowest confidence `t` among those seen such that the fields with confidence ≥ `t`
/// are right at least `target` of the time (None: no such `t`, or no fields).
pub fn threshold(samples: &[(f32, bool)], target: f64) -> Option<Threshold> {
    let mut s: Vec<(f32, bool)> = samples.to_vec();
    s.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total = s.len() as u32;
    let (mut above, mut wrong) = (0u32, 0u32);
    let mut best = None;
    let mut i = 0;
    while i < s.len() {
        // Every field of the same confidence is on the same side of a threshold.
        let c = s[i].0;
        while i < s.len() && s[i].0 == c {
            above += 1;
            wrong += u32::from(!s[i].1);
            i += 1;
        }
        if f64::from(above - wrong) >= target * f64::from(above) {
            best = Some(Threshold {
                at: c,
                above,
                wrong,
                total,
            });
        }
    }
    best
}

/// Per field (in first-seen order of `lines`), the threshold for `target`.
pub fn thresholds(lines: &[DumpLine], target: f64) -> Vec<(String, Option<Threshold>, u32)> {
    let mut by_field: BTreeMap<String, (usize, Vec<(f32, bool)>)> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        by_field
            .entry(l.field.clone())
            .or_insert_with(|| (i, Vec::new()))
            .1
            .push((l.confidence, l.correct));
    }
    let mut out: Vec<(usize, String, Option<Threshold>, u32)> = by_field
        .into_iter()
        .map(|(f, (first, s))| {
            let n = s.len() as u32;
            (first, f, threshold(&s, target), n)
        })
        .collect();
    out.sort_by_key(|x| x.0);
    out.into_iter().map(|(_, f, t, n)| (f, t, n)).collect()
}

/// Thresholds as `notice-score --thresholds` reads them: field → threshold, `null` when
/// none reaches the target (every such field goes to review).
pub fn to_json(ts: &[(String, Option<Threshold>, u32)]) -> serde_json::Value {
    serde_json::Value::Object(
        ts.iter()
            .map(|(f, t, _)| {
                (
                    f.clone(),
                    // The f32's shortest decimal (it reads back as the same f32).
                    t.and_then(|t| t.at.to_string().parse::<f64>().ok())
                        .map_or(serde_json::Value::Null, |x| serde_json::json!(x)),
                )
            })
            .collect(),
    )
}

/// Read `notice-score --thresholds` JSON: field → threshold (`f32::INFINITY` for `null`).
pub fn from_json(v: &serde_json::Value) -> anyhow::Result<BTreeMap<String, f32>> {
    let obj = v
        .as_object()
        .ok_or_else(|| anyhow::anyhow!("thresholds: expected a JSON object field → number"))?;
    obj.iter()
        .map(|(k, x)| match x {
            serde_json::Value::Null => Ok((k.clone(), f32::INFINITY)),
            x => x
                .as_f64()
                .map(|t| (k.clone(), t as f32))
                .ok_or_else(|| anyhow::anyhow!("thresholds: {k}: not a number or null")),
        })
        .collect()
}

/// A comma-separated family list (`--families a,b`).
pub fn family_list(arg: &str) -> Vec<String> {
    arg.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_confidence_that_keeps_the_target_is_chosen() {
        // 0.9: 200 right; 0.7: one wrong among 100 → 1/300 wrong ≥ 99.5 % still; 0.5: 3 wrong.
        let mut s = vec![(0.9, true); 200];
        s.extend(vec![(0.7, true); 99]);
        s.push((0.7, false));
        s.extend(vec![(0.5, false); 3]);
        let t = threshold(&s, 0.995).expect("a threshold");
        assert_eq!(t.at, 0.7);
        assert_eq!((t.above, t.wrong, t.total), (300, 1, 303));
        assert!(t.precision() >= 0.995);
    }

    #[test]
    fn a_wrong_field_at_the_top_leaves_no_threshold_until_enough_right_ones_follow() {
        let mut s = vec![(0.99, false)];
        s.extend(vec![(0.8, true); 150]);
        assert_eq!(threshold(&s, 0.995), None);
        s.extend(vec![(0.6, true); 59]);
        let t = threshold(&s, 0.995).expect("210 with one wrong");
        assert_eq!((t.at, t.above, t.wrong), (0.6, 210, 1));
    }

    #[test]
    fn nothing_right_gives_none_and_ties_stay_together() {
        assert_eq!(threshold(&[(0.5, false), (0.4, false)], 0.995), None);
        assert_eq!(threshold(&[], 0.995), None);
        // A tie of one right and one wrong at the top: never split.
        assert_eq!(threshold(&[(0.9, true), (0.9, false)], 0.995), None);
    }

    #[test]
    fn thresholds_round_trip_through_json() {
        let lines: Vec<DumpLine> = [("a", 0.9, true), ("b", 0.9, false), ("a", 0.1, false)]
            .iter()
            .map(|(f, c, ok)| DumpLine {
                file: "x".into(),
                family: "f".into(),
                run: "pipeline".into(),
                field: (*f).into(),
                value: None,
                truth: String::new(),
                confidence: *c,
                review: false,
                correct: *ok,
            })
            .collect();
        let ts = thresholds(&lines, 0.995);
        assert_eq!(ts[0].0, "a");
        assert_eq!(ts[0].1.map(|t| t.at), Some(0.9));
        assert_eq!(ts[1].1, None);
        let back = from_json(&to_json(&ts)).expect("parse");
        assert_eq!(back["a"], 0.9);
        assert!(back["b"].is_infinite());
    }

    #[test]
    fn wilson_bound_is_below_the_rate_and_tightens_with_count() {
        assert!(wilson_lower(100, 100) < 1.0);
        assert!(wilson_lower(1000, 1000) > wilson_lower(100, 100));
        assert!(wilson_lower(1000, 1000) > 0.995);
    }
}
