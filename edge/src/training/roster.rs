//! The training venue's roster: residents with clearly fictional names (every family name
//! says 練習 or 見本 or the like, every address is in 練習市), so nobody mistakes a
//! rehearsal for a real resident's record. Resident numbers start with 99.

use crate::roster::Resident;

const FAMILY: &[(&str, &str)] = &[
    ("練習", "レンシュウ"),
    ("見本", "ミホン"),
    ("模擬", "モギ"),
    ("試行", "シコウ"),
    ("例題", "レイダイ"),
    ("仮名", "カメイ"),
];
const GIVEN_M: &[(&str, &str)] = &[
    ("一郎", "イチロウ"),
    ("次郎", "ジロウ"),
    ("三郎", "サブロウ"),
    ("太郎", "タロウ"),
    ("健太", "ケンタ"),
];
const GIVEN_F: &[(&str, &str)] = &[
    ("花子", "ハナコ"),
    ("桜", "サクラ"),
    ("梅子", "ウメコ"),
    ("菊代", "キクヨ"),
    ("春子", "ハルコ"),
];

/// The training day's `n` booked residents (the same list in every session).
pub fn roster(n: usize) -> Vec<Resident> {
    (0..n)
        .map(|i| {
            let female = i % 2 == 1;
            let (fam, fam_k) = FAMILY[i % FAMILY.len()];
            let (given, given_k) = if female {
                GIVEN_F[(i / 2) % GIVEN_F.len()]
            } else {
                GIVEN_M[(i / 2) % GIVEN_M.len()]
            };
            let year = 1950 + (i * 7) % 35;
            let month = 1 + (i * 5) % 12;
            let day = 1 + (i * 11) % 28;
            let minutes = 9 * 60 + (i % 30) * 6;
            Resident {
                resident_id: format!("99{:08}", i + 1),
                name: format!("{fam}　{given}"),
                name_kana: format!("{fam_k}　{given_k}"),
                birth_date: format!("{year:04}-{month:02}-{day:02}"),
                sex: if female { "female" } else { "male" }.into(),
                address: format!(
                    "練習市見本町{}丁目{}番{}号",
                    1 + i % 5,
                    1 + i % 20,
                    1 + i % 9
                ),
                course: if year <= 1951 {
                    "後期高齢者健診"
                } else {
                    "特定健診"
                }
                .into(),
                booked_at: format!("{:02}:{:02}", minutes / 60, minutes % 60),
                insurer: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_training_resident_is_plainly_fictional_and_distinct() {
        let r = roster(60);
        let ids: std::collections::HashSet<_> = r.iter().map(|x| &x.resident_id).collect();
        assert_eq!(ids.len(), 60);
        for x in &r {
            assert!(x.resident_id.starts_with("99"), "{}", x.resident_id);
            assert!(x.address.starts_with("練習市"), "{}", x.address);
            assert!(
                FAMILY.iter().any(|(f, _)| x.name.starts_with(f)),
                "{}",
                x.name
            );
        }
    }
}
