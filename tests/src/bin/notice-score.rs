//! Score the OCR intake on a corpus made by `notice-corpus`: field-level exact-match accuracy
//! per field and overall, seconds per page (median, one core: run with OMP_THREAD_LIMIT=1),
//! beside raw `tesseract IMAGE - -l jpn` on the same pages as the baseline (a field counts for
//! the baseline when its printed text appears verbatim in Tesseract's output).
//!
//! With `--register` it also scores what the product gives a clerk: `checkup-edge ocr notice
//! FILES --residents DIR/register.csv --json` (the binary beside this one: build both with
//! `--release`), i.e. the same reading plus the match against the resident register, and
//! prints that run's wall time per page with both cores.
//!
//! `notice-score DIR [--no-baseline] [--register]`

use std::collections::BTreeMap;
use std::time::Instant;

use checkup_drivers::notice::read::{NoticeFields, read_page};
use checkup_drivers::scan::{self, ocr::Engine};
use serde_json::Value;

fn value(f: &NoticeFields, name: &str) -> Option<String> {
    let v = serde_json::to_value(f).ok()?;
    v[name]["value"].as_str().map(str::to_owned)
}

/// The text a field is printed as on the page (for the raw baseline).
fn printed(t: &Value, name: &str) -> String {
    let s = t[name].as_str().unwrap_or("").to_owned();
    match name {
        "child_sex" => if s == "male" { "男" } else { "女" }.into(),
        "abuse_type" => match s.as_str() {
            "physical" => "身体的虐待",
            "psychological" => "心理的虐待",
            "neglect" => "ネグレクト",
            _ => "性的虐待",
        }
        .into(),
        "notice_date" | "child_birth_date" => {
            // As printed: 和暦 (the corpus prints every date so).
            let p: Vec<u32> = s.split('-').filter_map(|x| x.parse().ok()).collect();
            if p.len() != 3 {
                return s;
            }
            let (y, m, d) = (p[0], p[1], p[2]);
            let (era, base) = if (y, m, d) >= (2019, 5, 1) {
                ("令和", 2018)
            } else {
                ("平成", 1988)
            };
            let ey = y - base;
            format!(
                "{era}{}年{m}月{d}日",
                if ey == 1 {
                    "元".into()
                } else {
                    ey.to_string()
                }
            )
        }
        _ => s,
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(args.first().map(String::as_str).unwrap_or("corpus"));
    let baseline = !args.iter().any(|a| a == "--no-baseline");
    let with_register = args.iter().any(|a| a == "--register");
    let truth = std::fs::read_to_string(dir.join("truth.jsonl"))?;
    let mut engine = Engine::new()?;
    let mut ok: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut raw_ok: BTreeMap<&str, u32> = BTreeMap::new();
    let mut secs = Vec::new();
    let mut raw_secs = Vec::new();
    let mut misses: Vec<String> = Vec::new();
    for line in truth.lines() {
        let t: Value = serde_json::from_str(line)?;
        let file = dir.join(t["file"].as_str().unwrap_or(""));
        let start = Instant::now();
        let pages = scan::read_file(&file, &scan::Limits::default())?;
        let got = read_page(&mut engine, &pages[0].image)?;
        secs.push(start.elapsed().as_secs_f64());
        for f in checkup_drivers::notice::read::FIELD_NAMES {
            let want = t[f].as_str().unwrap_or("");
            let v = value(&got, f);
            let e = ok.entry(f).or_default();
            e.1 += 1;
            if v.as_deref() == Some(want) {
                e.0 += 1;
            } else if misses.len() < 60 {
                let raw = serde_json::to_value(&got).ok().map(|x| x[f]["raw"].clone());
                misses.push(format!(
                    "{} {f}: want {want:?} got {v:?} raw {raw:?}",
                    t["file"]
                ));
            }
        }
        if baseline {
            let start = Instant::now();
            let out = std::process::Command::new("tesseract")
                .arg(&file)
                .args(["-", "-l", "jpn"])
                .env("OMP_THREAD_LIMIT", "1")
                .output()?;
            raw_secs.push(start.elapsed().as_secs_f64());
            let text: String = String::from_utf8_lossy(&out.stdout)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            for f in checkup_drivers::notice::read::FIELD_NAMES {
                let p: String = printed(&t, f)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if !p.is_empty() && text.contains(&p) {
                    *raw_ok.entry(f).or_default() += 1;
                }
            }
        }
    }
    // The product's path: the CLI with the register, all pages in one batch.
    let mut reg_ok: BTreeMap<&str, u32> = BTreeMap::new();
    let mut reg_secs = 0.0;
    let mut reg_misses = Vec::new();
    if with_register {
        let truths: Vec<Value> = truth
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?;
        let exe = std::env::current_exe()?;
        let edge = exe
            .parent()
            .map(|d| d.join("checkup-edge"))
            .ok_or_else(|| anyhow::anyhow!("no directory"))?;
        let start = Instant::now();
        let out = std::process::Command::new(&edge)
            .args(["ocr", "notice"])
            .args(
                truths
                    .iter()
                    .map(|t| dir.join(t["file"].as_str().unwrap_or(""))),
            )
            .arg("--residents")
            .arg(dir.join("register.csv"))
            .arg("--json")
            .env("OMP_THREAD_LIMIT", "1")
            .output()
            .map_err(|e| anyhow::anyhow!("{}: {e} (build it with --release)", edge.display()))?;
        reg_secs = start.elapsed().as_secs_f64() / truths.len().max(1) as f64;
        let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        for (t, r) in truths.iter().zip(&rows) {
            for f in checkup_drivers::notice::read::FIELD_NAMES {
                let want = t[f].as_str().unwrap_or("");
                let got = r["fields"][f]["value"].as_str();
                if got == Some(want) {
                    *reg_ok.entry(f).or_default() += 1;
                } else if reg_misses.len() < 60 {
                    reg_misses.push(format!(
                        "register: {} {f}: want {want:?} got {got:?}",
                        t["file"]
                    ));
                }
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let n = secs.len();
    let pct = |o: u32, t: u32| format!("{:.1} %", 100.0 * o as f64 / t.max(1) as f64);
    println!("| field | this pipeline | with the register | raw tesseract (verbatim) |");
    println!("|---|---:|---:|---:|");
    let (mut all_ok, mut all) = (0, 0);
    let (mut raw_all, mut reg_all) = (0, 0);
    for f in checkup_drivers::notice::read::FIELD_NAMES {
        let (o, t) = ok.get(f).copied().unwrap_or((0, 0));
        let r = raw_ok.get(f).copied().unwrap_or(0);
        let g = reg_ok.get(f).copied().unwrap_or(0);
        all_ok += o;
        all += t;
        raw_all += r;
        reg_all += g;
        println!(
            "| {f} | {:.1} % ({o}/{t}) | {} | {} |",
            100.0 * o as f64 / t.max(1) as f64,
            if with_register {
                pct(g, t)
            } else {
                "—".into()
            },
            if baseline { pct(r, t) } else { "—".into() }
        );
    }
    println!(
        "| **overall** | **{:.1} %** ({all_ok}/{all}) | {} | {} |",
        100.0 * all_ok as f64 / all.max(1) as f64,
        if with_register {
            format!("**{}** ({reg_all}/{all})", pct(reg_all, all))
        } else {
            "—".into()
        },
        if baseline {
            pct(raw_all, all)
        } else {
            "—".into()
        }
    );
    println!(
        "| seconds per page (median of {n}, one core) | {:.2} | {} | {} |",
        median(&mut secs),
        if with_register {
            format!("{reg_secs:.2} (batch on all cores, mean)")
        } else {
            "—".into()
        },
        if baseline {
            format!("{:.2}", median(&mut raw_secs))
        } else {
            "—".into()
        }
    );
    for m in misses.into_iter().chain(reg_misses) {
        eprintln!("{m}");
    }
    Ok(())
}
