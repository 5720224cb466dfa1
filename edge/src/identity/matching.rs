//! Ranked roster candidates for a card's basic four items.
//!
//! Score: name (after normalisation) and birth date are what identifies a resident at the
//! venue; sex and address confirm. Reception acts on one rule: exactly one candidate with name,
//! birth date and sex all matching opens the session on one confirmation; anything else shows
//! the candidates (or the search) to choose from.

use serde::Serialize;

use super::normalize::{address_key, name_key};
use crate::roster::Resident;

/// A roster entry with how well it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    /// The resident.
    pub resident: Resident,
    /// 0–100.
    pub score: u8,
    /// Which items matched: `name`, `birth_date`, `sex`, `address`.
    pub matched: Vec<&'static str>,
}

/// What reception should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MatchOutcome {
    /// Exactly one strong candidate: confirm and open.
    Exact {
        /// The candidate (boxed: a roster entry with its insurer identity is large).
        candidate: Box<Candidate>,
    },
    /// Several, or only partial, candidates: staff choose.
    Choose {
        /// Best first.
        candidates: Vec<Candidate>,
    },
    /// Nobody on the roster resembles the card.
    NotFound,
}

/// Match a card's items against the roster.
pub fn match_card(
    name: &str,
    birth_date: &str,
    sex: &str,
    address: &str,
    roster: &[Resident],
) -> MatchOutcome {
    let (n, a) = (name_key(name), address_key(address));
    let mut candidates: Vec<Candidate> = roster
        .iter()
        .filter_map(|r| {
            let mut matched = Vec::new();
            let mut score = 0u8;
            if name_key(&r.name) == n {
                matched.push("name");
                score += 45;
            }
            if r.birth_date == birth_date {
                matched.push("birth_date");
                score += 35;
            }
            if r.sex == sex {
                matched.push("sex");
                score += 5;
            }
            if address_key(&r.address) == a {
                matched.push("address");
                score += 15;
            }
            // Worth showing only if name or birth date matches.
            (score >= 35 && (matched.contains(&"name") || matched.contains(&"birth_date"))).then(
                || Candidate {
                    resident: r.clone(),
                    score,
                    matched,
                },
            )
        })
        .collect();
    candidates.sort_by(|x, y| {
        y.score
            .cmp(&x.score)
            .then_with(|| x.resident.resident_id.cmp(&y.resident.resident_id))
    });
    let strong: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| {
            ["name", "birth_date", "sex"]
                .iter()
                .all(|m| c.matched.contains(m))
        })
        .collect();
    match (strong.len(), candidates.is_empty()) {
        (1, _) => MatchOutcome::Exact {
            candidate: Box::new(strong[0].clone()),
        },
        (_, true) => MatchOutcome::NotFound,
        _ => MatchOutcome::Choose { candidates },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, name: &str, birth: &str, sex: &str, address: &str) -> Resident {
        Resident {
            resident_id: id.into(),
            name: name.into(),
            name_kana: "カナ".into(),
            birth_date: birth.into(),
            sex: sex.into(),
            address: address.into(),
            course: "特定健診".into(),
            booked_at: "09:00".into(),
            insurer: None,
        }
    }

    #[test]
    fn variant_spellings_on_card_and_roster_still_match_exactly() {
        let roster = [
            r(
                "1",
                "高橋　節子",
                "1952-03-14",
                "female",
                "みどり市中央1-2-3",
            ),
            r(
                "2",
                "高橋　節子",
                "1960-01-01",
                "female",
                "みどり市中央9-9-9",
            ),
            r("3", "斎藤　和夫", "1947-01-01", "male", "みどり市本郷12"),
        ];
        let m = match_card(
            "髙橋 節子",
            "1952-03-14",
            "female",
            "みどり市中央一丁目二番三号",
            &roster,
        );
        assert!(
            matches!(&m, MatchOutcome::Exact { candidate } if candidate.resident.resident_id == "1" && candidate.score == 100),
            "{m:?}"
        );
        let m = match_card(
            "齋藤和夫",
            "1947-01-01",
            "male",
            "みどり市大字本郷12番地",
            &roster,
        );
        assert!(
            matches!(&m, MatchOutcome::Exact { candidate } if candidate.resident.resident_id == "3"),
            "{m:?}"
        );
    }

    #[test]
    fn ambiguous_and_partial_matches_ask_staff_to_choose() {
        // Two residents with the same name and birth date (it happens in a city).
        let roster = [
            r("1", "佐藤　清", "1946-01-01", "male", "みどり市中央1-1-1"),
            r("2", "佐藤　清", "1946-01-01", "male", "みどり市西山4-9-1"),
            r("3", "佐藤　清", "1950-05-05", "male", "みどり市中央1-1-1"),
        ];
        let MatchOutcome::Choose { candidates } = match_card(
            "佐藤清",
            "1946-01-01",
            "male",
            "みどり市西山4丁目9番1号",
            &roster,
        ) else {
            panic!("two strong candidates must not open a session");
        };
        assert_eq!(
            candidates[0].resident.resident_id, "2",
            "the address decides the order"
        );
        assert_eq!(candidates.len(), 3);
        // Name matches but the birth date does not: only a choice, never exact.
        let m = match_card("佐藤清", "1950-05-06", "male", "どこか", &roster);
        assert!(matches!(m, MatchOutcome::Choose { .. }), "{m:?}");
        assert_eq!(
            match_card("田中一郎", "1999-09-09", "male", "x", &roster),
            MatchOutcome::NotFound
        );
    }
}
