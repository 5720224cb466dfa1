//! Score the paper questionnaire reader on a corpus from `paper-corpus`:
//! `paper-score DIR [--verbose]`. Per item: right (auto-accepted answer or unanswered equal
//! to the truth), wrong (auto-accepted answer that differs from the truth, or an ambiguous
//! item not sent to review: must be ~0), missed (an answer read as unanswered), review
//! (sent to the nurse; split by whether the truth was ambiguous). Pages that fail whole
//! (no fiducials, no QR) count every item as review.

use std::collections::BTreeMap;
use std::time::Instant;

use checkup_drivers::questionnaire_form::{ItemOutcome, read_page};
use checkup_tests::paper_corpus::PageTruth;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        anyhow::bail!("usage: paper-score DIR [--verbose]");
    };
    let verbose = args.iter().any(|a| a == "--verbose");
    let dir = std::path::Path::new(dir);
    let truths: Vec<PageTruth> = std::fs::read_to_string(dir.join("truth.jsonl"))?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let mut c: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut load_s, mut read_s) = (0f64, 0f64);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for t in &truths {
        let t0 = Instant::now();
        let img = image::open(dir.join(&t.file))?.to_luma8();
        load_s += t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let read = read_page(&img);
        read_s += t1.elapsed().as_secs_f64();
        let read = match read {
            Ok(r) => r,
            Err(e) => {
                println!("{}: page not read: {e}", t.file);
                *c.entry("pages_failed").or_default() += 1;
                for truth in t.items.values() {
                    *c.entry("items").or_default() += 1;
                    if truth == "ambiguous" {
                        *c.entry("truth_ambiguous").or_default() += 1;
                    }
                    *c.entry(if truth == "ambiguous" {
                        "review_ambiguous"
                    } else {
                        "review_clear"
                    })
                    .or_default() += 1;
                }
                continue;
            }
        };
        if read.id.session != t.session || read.id.page != t.page {
            println!(
                "{}: QR says {} p{}, truth {} p{}",
                t.file, read.id.session, read.id.page, t.session, t.page
            );
            *c.entry("qr_mismatch").or_default() += 1;
        }
        for it in &read.items {
            let Some(truth) = t.items.get(it.item_code) else {
                *c.entry("item_not_in_truth").or_default() += 1;
                continue;
            };
            *c.entry("items").or_default() += 1;
            if truth == "ambiguous" {
                *c.entry("truth_ambiguous").or_default() += 1;
            }
            let key = match (&it.outcome, truth.as_str()) {
                (ItemOutcome::Review { reason }, tr) => {
                    *reasons.entry(format!("{reason:?}")).or_default() += 1;
                    if tr == "ambiguous" {
                        "review_ambiguous"
                    } else {
                        "review_clear"
                    }
                }
                (ItemOutcome::Answer { code }, tr) if *code == tr => "right",
                (ItemOutcome::Unanswered, "unanswered") => "right",
                (ItemOutcome::Unanswered, "ambiguous") => "wrong",
                (ItemOutcome::Unanswered, _) => "missed",
                (ItemOutcome::Answer { .. }, _) => "wrong",
            };
            *c.entry(key).or_default() += 1;
            if verbose && (key != "right" && key != "review_ambiguous") {
                let b: Vec<String> = it
                    .boxes
                    .iter()
                    .map(|b| {
                        format!(
                            "{}:{:?} d{:.3} l{:.3} c{} o{:.2}",
                            b.code, b.mark, b.dark, b.light, b.dark_cells, b.outline
                        )
                    })
                    .collect();
                println!(
                    "{} item {} truth {truth} → {key} {:?} [{}]",
                    t.file,
                    it.number,
                    it.outcome,
                    b.join(", ")
                );
            }
        }
    }
    let get = |k: &str| *c.get(k).unwrap_or(&0);
    let items = get("items");
    let clear = items.saturating_sub(get("truth_ambiguous"));
    let pages = truths.len();
    println!(
        "pages {pages} (failed whole: {}), items {items}",
        get("pages_failed")
    );
    println!(
        "clear items {clear}: right {} ({:.2} %), wrong {}, missed {}, sent to review {} ({:.2} %)",
        get("right"),
        100.0 * get("right") as f64 / clear.max(1) as f64,
        get("wrong"),
        get("missed"),
        get("review_clear"),
        100.0 * get("review_clear") as f64 / clear.max(1) as f64
    );
    println!(
        "ambiguous items {}: sent to review {}",
        get("truth_ambiguous"),
        get("review_ambiguous")
    );
    println!("review reasons: {reasons:?}");
    println!(
        "time: image load {:.3} s/page, read {:.3} s/page ({:.1} pages/s read only)",
        load_s / pages.max(1) as f64,
        read_s / pages.max(1) as f64,
        pages as f64 / read_s.max(1e-9)
    );
    Ok(())
}
