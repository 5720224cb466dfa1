//! How `places::match_address` fares on every municipality and ward of Japan, each with one
//! of its towns, read exactly and damaged the ways OCR damages an address (prefecture lost or
//! misread, junk before it, a character of the municipality misread), and on every town read
//! exactly: counts right / prefecture only / none / wrong, and the time a call.
//! `cargo run --release -p checkup-drivers --example place_damage`

use checkup_drivers::notice::places::{Municipality, match_address, municipalities, towns};

/// A municipality's wards, or the municipality itself (None) when it has none.
fn wards(m: &Municipality) -> Vec<Option<&'static str>> {
    if m.wards.is_empty() {
        vec![None]
    } else {
        m.wards.iter().map(|w| Some(*w)).collect()
    }
}

fn main() {
    let mut places: Vec<(&str, &str, Option<&str>, &str)> = Vec::new();
    for m in municipalities() {
        for w in wards(m) {
            let towns = towns(m.prefecture, m.name, w);
            let town = towns.get(towns.len() / 2).copied().unwrap_or("");
            places.push((m.prefecture, m.name, w, town));
        }
    }
    let swap = |s: &str, i: usize| -> String {
        s.chars()
            .enumerate()
            .map(|(j, c)| {
                if j == i {
                    if c == '口' { '日' } else { '口' }
                } else {
                    c
                }
            })
            .collect()
    };
    type Damage = fn(&str, &str, &str, &dyn Fn(&str, usize) -> String) -> String;
    let variants: [(&str, Damage); 6] = [
        ("exact", |p, m, r, _| format!("{p}{m}{r}")),
        ("no prefecture", |_, m, r, _| format!("{m}{r}")),
        ("junk before", |p, m, r, _| format!("。DPワウ{p}{m}{r}")),
        ("prefecture's start lost", |p, m, r, _| {
            format!(
                "{}{m}{r}",
                p.chars().skip(p.chars().count() - 2).collect::<String>()
            )
        }),
        ("one character of the municipality", |p, m, r, sw| {
            format!("{p}{}{r}", sw(m, 0))
        }),
        ("one character of the prefecture", |p, m, r, sw| {
            format!("{}{m}{r}", sw(p, 0))
        }),
    ];
    let t = std::time::Instant::now();
    let mut calls = 0u32;
    for (label, damage) in variants {
        let (mut right, mut none, mut pref_only, mut wrong) = (0, 0, 0, 0);
        let mut examples = Vec::new();
        for (p, m, w, town) in &places {
            let rest = format!("{}{town}1番地", w.unwrap_or(""));
            let read = damage(p, m, &rest, &swap);
            calls += 1;
            match match_address(&read) {
                Some(x) if x.address == format!("{p}{m}{rest}") => right += 1,
                None => none += 1,
                Some(x) if x.municipality.is_none() && x.prefecture == *p => pref_only += 1,
                Some(x) => {
                    wrong += 1;
                    if examples.len() < 6 {
                        examples.push(format!("{read} → {}", x.address));
                    }
                }
            }
        }
        eprintln!(
            "{label}: {right} right, {pref_only} prefecture only, {none} none, {wrong} wrong of {}",
            places.len()
        );
        for e in examples {
            eprintln!("    {e}");
        }
    }
    eprintln!("{:?} per call", t.elapsed() / calls);
    // Every town of every place, read exactly.
    let (mut right, mut total) = (0, 0);
    let mut examples = Vec::new();
    for m in municipalities() {
        for w in wards(m) {
            for town in towns(m.prefecture, m.name, w) {
                let a = format!("{}{}{}{town}1番地", m.prefecture, m.name, w.unwrap_or(""));
                total += 1;
                match match_address(&a) {
                    Some(x) if x.address == a && x.edits == 0 => right += 1,
                    x => {
                        if examples.len() < 10 {
                            examples.push(format!("{a} → {:?}", x.map(|x| x.address)));
                        }
                    }
                }
            }
        }
    }
    eprintln!("every town, exact: {right} right of {total}");
    for e in examples {
        eprintln!("    {e}");
    }
}
