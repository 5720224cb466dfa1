//! Where each resident should go next: residents are spread over the stations they still
//! have to do by expected wait, so that a hall of residents checked in together does not
//! all queue at one station.
//!
//! A resident who has begun a station (something recorded there, not done) is there. Every
//! other resident, in check-in order, is sent to the station of their course with the
//! smallest expected wait, where the wait is the residents already headed there (those at
//! it and those suggested it before) × the station's median duration (a default before
//! any resident finished it). 診察 comes last: it is suggested only when nothing else
//! remains. Ties go to the earlier station of the course. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use checkup_protocol::StationKind;

/// The duration assumed for a station no resident has finished yet (5 minutes).
pub const DEFAULT_MEDIAN_MS: u64 = 5 * 60_000;

/// One open session as the suggestion needs it.
#[derive(Debug, Clone)]
pub struct Walker {
    /// Stations still to do, in course order.
    pub remaining: Vec<StationKind>,
    /// The station the resident has begun and not finished, if any.
    pub begun: Option<StationKind>,
}

/// Stations that must come after every other station of the course.
fn comes_last(k: StationKind) -> bool {
    k == StationKind::Doctor
}

/// The stations a resident may be sent to now: their remaining stations, without those
/// that must come last while anything else remains.
fn eligible(remaining: &[StationKind]) -> Vec<StationKind> {
    let first: Vec<StationKind> = remaining
        .iter()
        .copied()
        .filter(|k| !comes_last(*k))
        .collect();
    if first.is_empty() {
        remaining.to_vec()
    } else {
        first
    }
}

/// The next station of each walker (same order as `walkers`, which should be check-in
/// order): the begun station, else the one with the smallest expected wait. `None` for a
/// walker with nothing left.
pub fn suggest(
    walkers: &[Walker],
    medians: &BTreeMap<StationKind, Option<u64>>,
) -> Vec<Option<StationKind>> {
    let median = |k: StationKind| {
        medians
            .get(&k)
            .copied()
            .flatten()
            .unwrap_or(DEFAULT_MEDIAN_MS)
    };
    // Residents at a station first: they are there whatever is suggested to others.
    let mut headed: BTreeMap<StationKind, u64> = BTreeMap::new();
    for w in walkers {
        if let Some(k) = w.begun {
            *headed.entry(k).or_default() += 1;
        }
    }
    walkers
        .iter()
        .map(|w| {
            if w.begun.is_some() {
                return w.begun;
            }
            let pick = eligible(&w.remaining)
                .into_iter()
                .enumerate()
                .min_by_key(|(i, k)| {
                    let n = headed.get(k).copied().unwrap_or(0);
                    (n.saturating_mul(median(*k)), *i)
                })
                .map(|(_, k)| k);
            if let Some(k) = pick {
                *headed.entry(k).or_default() += 1;
            }
            pick
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use StationKind::*;

    const COURSE: [StationKind; 7] = [
        Questionnaire,
        Measurement,
        BloodPressure,
        Urine,
        BloodDraw,
        Ecg,
        Doctor,
    ];

    fn fresh(n: usize) -> Vec<Walker> {
        (0..n)
            .map(|_| Walker {
                remaining: COURSE.to_vec(),
                begun: None,
            })
            .collect()
    }

    fn count(v: &[Option<StationKind>], k: StationKind) -> usize {
        v.iter().filter(|x| **x == Some(k)).count()
    }

    #[test]
    fn seven_checked_in_at_once_are_spread() {
        let medians: BTreeMap<StationKind, Option<u64>> = COURSE
            .iter()
            .map(|k| {
                (
                    *k,
                    if *k == Urine {
                        Some(30_000)
                    } else {
                        Some(180_000)
                    },
                )
            })
            .collect();
        let next = suggest(&fresh(7), &medians);
        assert!(next.iter().all(Option::is_some));
        // Six stations may be visited before 診察: the first six residents go one to each.
        for k in &COURSE[..6] {
            assert!(count(&next, *k) >= 1, "{k:?} got nobody: {next:?}");
        }
        assert!(count(&next, Urine) <= 2, "{next:?}");
        assert_eq!(count(&next, Doctor), 0, "診察 comes last");
    }

    #[test]
    fn ties_follow_course_order() {
        let next = suggest(&fresh(3), &BTreeMap::new());
        assert_eq!(
            next,
            vec![Some(Questionnaire), Some(Measurement), Some(BloodPressure)]
        );
    }

    #[test]
    fn a_long_station_gets_fewer() {
        let course = [Measurement, Urine];
        let medians = BTreeMap::from([(Measurement, Some(600_000)), (Urine, Some(60_000))]);
        let walkers: Vec<Walker> = (0..8)
            .map(|_| Walker {
                remaining: course.to_vec(),
                begun: None,
            })
            .collect();
        let next = suggest(&walkers, &medians);
        let long = count(&next, Measurement);
        let short = count(&next, Urine);
        assert_eq!(long + short, 8);
        assert!(long >= 1 && long < short, "{long} vs {short}");
    }

    #[test]
    fn residents_at_a_station_count_and_stay() {
        let mut walkers = fresh(2);
        walkers.insert(
            0,
            Walker {
                remaining: COURSE.to_vec(),
                begun: Some(Questionnaire),
            },
        );
        let next = suggest(&walkers, &BTreeMap::new());
        // The one at 問診 stays; the others go elsewhere first.
        assert_eq!(
            next,
            vec![Some(Questionnaire), Some(Measurement), Some(BloodPressure)]
        );
    }

    #[test]
    fn doctor_only_when_nothing_else_remains() {
        let walkers = vec![
            Walker {
                remaining: vec![Urine, Doctor],
                begun: None,
            },
            Walker {
                remaining: vec![Doctor],
                begun: None,
            },
            Walker {
                remaining: vec![],
                begun: None,
            },
        ];
        let next = suggest(&walkers, &BTreeMap::new());
        assert_eq!(next, vec![Some(Urine), Some(Doctor), None]);
    }
}
