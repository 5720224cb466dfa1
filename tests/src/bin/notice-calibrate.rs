//! Calibrate the notice reader's review thresholds on tuning families: read the lines
//! `notice-score --dump` wrote and print, per field, the lowest confidence at which the
//! fields at or above it are right at least 99.5 % of the time (with counts; "none" when no
//! threshold reaches it), as a markdown table and as a Rust const table to paste.
//!
//! ```text
//! notice-calibrate DUMP [DUMP…] [--run pipeline|register] [--target 0.995]
//!     [--families a,b] [--exclude-families a,b] [--json OUT] [--leave-one-family-out]
//! ```
//!
//! - `--run`: which run's confidences (default `pipeline`: `read_page`'s, which a threshold
//!   in the reader applies to; `register`: the CLI's after the register match).
//! - `--json OUT`: the thresholds as `notice-score --thresholds` reads them.
//! - `--leave-one-family-out`: for every family, thresholds calibrated on the others applied
//!   to it — precision above the threshold and the share sent to review on data the
//!   threshold never saw.

use std::collections::BTreeMap;
use std::path::PathBuf;

use checkup_tests::notice_calibration::{
    DumpLine, Threshold, family_list, thresholds, to_json, wilson_lower,
};

struct Args {
    dumps: Vec<PathBuf>,
    run: String,
    target: f64,
    families: Option<Vec<String>>,
    exclude: Vec<String>,
    json: Option<PathBuf>,
    lofo: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let usage = "usage: notice-calibrate DUMP [DUMP…] [--run pipeline|register] [--target 0.995] \
                 [--families a,b] [--exclude-families a,b] [--json OUT] [--leave-one-family-out]";
    let mut a = Args {
        dumps: Vec::new(),
        run: "pipeline".into(),
        target: 0.995,
        families: None,
        exclude: Vec::new(),
        json: None,
        lofo: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{name} needs a value\n{usage}"))
        };
        match x.as_str() {
            "--run" => a.run = val("--run")?,
            "--target" => a.target = val("--target")?.parse()?,
            "--families" => a.families = Some(family_list(&val("--families")?)),
            "--exclude-families" => a.exclude = family_list(&val("--exclude-families")?),
            "--json" => a.json = Some(val("--json")?.into()),
            "--leave-one-family-out" => a.lofo = true,
            "-h" | "--help" => {
                println!("{usage}");
                std::process::exit(0);
            }
            s if s.starts_with("--") => anyhow::bail!("unknown option {s}\n{usage}"),
            _ => a.dumps.push(x.into()),
        }
    }
    if a.dumps.is_empty() {
        anyhow::bail!("{usage}");
    }
    if !(0.0..=1.0).contains(&a.target) {
        anyhow::bail!("--target is a share (0.995 for 99.5 %)");
    }
    Ok(a)
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// `ok/n` as a share with its counts ("—" for nothing counted).
fn share(ok: u32, n: u32) -> String {
    if n == 0 {
        "— (0/0)".into()
    } else {
        format!("{} ({ok}/{n})", pct(f64::from(ok) / f64::from(n)))
    }
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let mut lines: Vec<DumpLine> = Vec::new();
    for d in &args.dumps {
        let text =
            std::fs::read_to_string(d).map_err(|e| anyhow::anyhow!("{}: {e}", d.display()))?;
        for (i, l) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let line: DumpLine = serde_json::from_str(l)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", d.display(), i + 1))?;
            if line.run == args.run
                && args
                    .families
                    .as_ref()
                    .is_none_or(|fs| fs.contains(&line.family))
                && !args.exclude.contains(&line.family)
            {
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        anyhow::bail!(
            "no `{}` lines in the dumps for these families (run notice-score with --dump{})",
            args.run,
            if args.run == "register" {
                " and --register"
            } else {
                ""
            }
        );
    }
    let mut fams: BTreeMap<&str, BTreeMap<&str, ()>> = BTreeMap::new();
    for l in &lines {
        fams.entry(&l.family).or_default().insert(&l.file, ());
    }
    let pages: usize = fams.values().map(BTreeMap::len).sum();
    let families: Vec<String> = fams
        .iter()
        .map(|(f, p)| format!("{f} ({} pages)", p.len()))
        .collect();
    let target = pct(args.target);
    let ts = thresholds(&lines, args.target);
    println!(
        "Calibrated on {} fields of {pages} pages, run `{}`, families: {}. Threshold: the lowest \
         confidence at which the fields at or above it are ≥ {target} right.",
        lines.len(),
        args.run,
        families.join(", ")
    );
    println!();
    println!(
        "| field | threshold | right at or above | wrong at or above | kept (not sent to review) | 95 % lower bound |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (f, t, n) in &ts {
        match t {
            Some(t) => println!(
                "| {f} | {} | {} ({}/{}) | {} | {} ({}/{n}) | {} |",
                t.at,
                pct(t.precision()),
                t.above - t.wrong,
                t.above,
                t.wrong,
                pct(f64::from(t.above) / f64::from((*n).max(1))),
                t.above,
                pct(t.lower_bound())
            ),
            None => println!("| {f} | none | — | — | 0 % (0/{n}) | — |"),
        }
    }
    println!();
    println!("```rust");
    println!(
        "/// Per field, the confidence below which it goes to review: the lowest at which ≥ {target}"
    );
    println!(
        "/// of the fields at or above it were right (`notice-calibrate`, run `{}`, {pages} pages of",
        args.run
    );
    println!(
        "/// {}). `f32::INFINITY`: no threshold reached it; always reviewed.",
        fams.keys().copied().collect::<Vec<_>>().join(", ")
    );
    println!(
        "pub const REVIEW_BELOW_BY_FIELD: [(&str, f32); {}] = [",
        ts.len()
    );
    for (f, t, n) in &ts {
        match t {
            Some(t) => println!(
                "    ({f:?}, {:?}), // {}/{} right at or above, {} of {n} kept",
                t.at,
                t.above - t.wrong,
                t.above,
                t.above
            ),
            None => println!("    ({f:?}, f32::INFINITY), // none: 0 of {n} kept"),
        }
    }
    println!("];");
    println!("```");
    if let Some(out) = &args.json {
        std::fs::write(out, serde_json::to_string_pretty(&to_json(&ts))? + "\n")
            .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
        println!();
        println!(
            "Thresholds written to {} (notice-score --thresholds).",
            out.display()
        );
    }
    if args.lofo {
        leave_one_family_out(&lines, args.target, &args.run)?;
    }
    Ok(())
}

/// Fields kept (not sent to review) and right among them.
#[derive(Default, Clone, Copy)]
struct Kept {
    fields: u32,
    kept: u32,
    right: u32,
}

impl Kept {
    fn add(&mut self, o: Kept) {
        self.fields += o.fields;
        self.kept += o.kept;
        self.right += o.right;
    }
}

fn leave_one_family_out(lines: &[DumpLine], target: f64, run: &str) -> anyhow::Result<()> {
    let families: Vec<&str> = {
        let mut f: Vec<&str> = lines.iter().map(|l| l.family.as_str()).collect();
        f.sort_unstable();
        f.dedup();
        f
    };
    if families.len() < 2 {
        anyhow::bail!("--leave-one-family-out needs two families at least");
    }
    let mut by_field: BTreeMap<String, Kept> = BTreeMap::new();
    let mut field_order: Vec<String> = Vec::new();
    let mut total = Kept::default();
    println!();
    println!(
        "Leave one family out (run `{run}`): each family scored with thresholds calibrated on the others."
    );
    println!();
    println!(
        "| held-out family | fields | right above the review threshold | sent to review | 95 % lower bound |"
    );
    println!("|---|---:|---:|---:|---:|");
    for fam in &families {
        let tuning: Vec<DumpLine> = lines.iter().filter(|l| l.family != *fam).cloned().collect();
        let ts: BTreeMap<String, Option<Threshold>> = thresholds(&tuning, target)
            .into_iter()
            .map(|(f, t, _)| (f, t))
            .collect();
        let mut k = Kept::default();
        for l in lines.iter().filter(|l| l.family == *fam) {
            let at = ts
                .get(&l.field)
                .copied()
                .flatten()
                .map_or(f32::INFINITY, |t| t.at);
            let one = Kept {
                fields: 1,
                kept: u32::from(l.confidence >= at),
                right: u32::from(l.confidence >= at && l.correct),
            };
            k.add(one);
            if !field_order.contains(&l.field) {
                field_order.push(l.field.clone());
            }
            by_field.entry(l.field.clone()).or_default().add(one);
        }
        total.add(k);
        println!(
            "| {fam} | {} | {} | {} | {} |",
            k.fields,
            share(k.right, k.kept),
            pct(f64::from(k.fields - k.kept) / f64::from(k.fields.max(1))),
            pct(wilson_lower(k.right, k.kept))
        );
    }
    println!(
        "| **all held-out pages** | {} | **{}** | {} | {} |",
        total.fields,
        share(total.right, total.kept),
        pct(f64::from(total.fields - total.kept) / f64::from(total.fields.max(1))),
        pct(wilson_lower(total.right, total.kept))
    );
    println!();
    println!("| field (held out, all folds) | right above the review threshold | sent to review |");
    println!("|---|---:|---:|");
    for f in &field_order {
        let k = by_field.get(f).copied().unwrap_or_default();
        println!(
            "| {f} | {} | {} |",
            share(k.right, k.kept),
            pct(f64::from(k.fields - k.kept) / f64::from(k.fields.max(1)))
        );
    }
    Ok(())
}
