//! Score the OCR intake on corpora made by `notice-corpus` or `tools/office-notices`:
//! field-level exact-match accuracy per field, overall and per form family; seconds per page
//! (median, one core: Tesseract is held to one thread, `OMP_THREAD_LIMIT=1` — the scorer
//! re-executes itself with it when it is not set — and pages are read one at a time), beside
//! raw `tesseract IMAGE - -l jpn` on the same pages as the baseline (a field counts for the
//! baseline when its printed text appears verbatim in Tesseract's output).
//!
//! With `--register` it also scores what the product gives a clerk: `checkup-edge ocr notice
//! FILES --residents DIR/register.csv --json` (the binary beside this one: build both with
//! `--release`): the same reading plus the match against the resident register. For that
//! run it reports the fields not sent to review that are right (precision above the review
//! threshold), the share sent to review, and the pages whose child is in the register (the
//! row with the truth's name, birth date and address, or the truth's `resident_id`) that the
//! CLI matched to that resident.
//!
//! ```text
//! notice-score DIR [DIR…] [--no-baseline] [--register] [--families a,b]
//!     [--exclude-families a,b] [--dump FILE] [--thresholds FILE] [--misses N]
//! ```
//!
//! - `--families`, `--exclude-families`: score only pages of (not of) these families
//!   (`truth.jsonl`'s `family`; older corpora without it: `render_colon`/`render_table` from
//!   the conditions).
//! - `--dump FILE`: one JSON line per page, field and run (`pipeline`, `register`) with
//!   `file, family, run, field, value, truth, confidence, review, correct`, for
//!   `notice-calibrate`.
//! - `--thresholds FILE`: per-field thresholds from `notice-calibrate --json`; a field is
//!   then sent to review when its confidence is below its field's threshold (`null`: always),
//!   in both runs, instead of the review flags as read.
//!
//! Output: markdown tables to paste into docs/benchmarks.md; misses on stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use checkup_drivers::notice::read::{FIELD_NAMES, read_page};
use checkup_drivers::scan::{self, ocr::Engine};
use checkup_tests::notice_calibration::{DumpLine, family_list, from_json};
use serde_json::Value;

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

/// The page's form family.
fn family(t: &Value) -> String {
    if let Some(f) = t["family"].as_str() {
        return f.to_owned();
    }
    let c = t["conditions"].as_str().unwrap_or("");
    if c.starts_with("Colon") {
        "render_colon".into()
    } else if c.starts_with("Table") {
        "render_table".into()
    } else {
        "unknown".into()
    }
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Resident ids of the page's child in `register.csv` (empty: not in it).
fn child_ids(t: &Value, register: &[Vec<String>]) -> BTreeSet<String> {
    if let Some(id) = t["resident_id"].as_str() {
        return [id.to_owned()].into();
    }
    let s = |k: &str| compact(t[k].as_str().unwrap_or(""));
    let (name, birth, addr) = (s("child_name"), s("child_birth_date"), s("child_address"));
    let col = |r: &Vec<String>, i: usize| compact(r.get(i).map_or("", String::as_str));
    let same = |r: &&Vec<String>| col(r, 1) == name && col(r, 3) == birth;
    let rows: Vec<&Vec<String>> = register.iter().filter(same).collect();
    let at_home: BTreeSet<String> = rows
        .iter()
        .filter(|r| col(r, 5) == addr)
        .map(|r| col(r, 0))
        .collect();
    if !at_home.is_empty() || rows.len() != 1 {
        at_home
    } else {
        rows.iter().map(|r| col(r, 0)).collect()
    }
}

/// `resident_id,name,name_kana,birth_date,sex,address` rows (no quoting in these corpora).
fn read_register(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect())
}

/// One field of one run.
#[derive(Debug, Clone, Default)]
struct Got {
    value: Option<String>,
    confidence: f32,
    review: bool,
    raw: String,
}

/// A page's scores.
struct Page {
    file: String,
    family: String,
    truth: Value,
    pipeline: Vec<Got>,
    secs: f64,
    cpu_secs: f64,
    raw: Option<(Vec<bool>, f64)>,
    register: Option<Vec<Got>>,
    /// The child's ids in the register (empty: not in it).
    child_ids: BTreeSet<String>,
    /// The CLI's `resident_id`.
    matched: Option<String>,
}

fn got_of(fields: &Value, f: &str) -> Got {
    let x = &fields[f];
    Got {
        value: x["value"].as_str().map(str::to_owned),
        confidence: x["confidence"].as_f64().unwrap_or(0.0) as f32,
        review: x["review"].as_bool().unwrap_or(true),
        raw: x["raw"].as_str().unwrap_or("").to_owned(),
    }
}

/// CPU seconds this process has used (all threads).
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

struct Args {
    dirs: Vec<PathBuf>,
    baseline: bool,
    with_register: bool,
    families: Option<Vec<String>>,
    exclude: Vec<String>,
    dump: Option<PathBuf>,
    thresholds: Option<(PathBuf, BTreeMap<String, f32>)>,
    misses: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        dirs: Vec::new(),
        baseline: true,
        with_register: false,
        families: None,
        exclude: Vec::new(),
        dump: None,
        thresholds: None,
        misses: 60,
    };
    let mut it = std::env::args().skip(1);
    let usage = "usage: notice-score DIR [DIR…] [--no-baseline] [--register] [--families a,b] \
                 [--exclude-families a,b] [--dump FILE] [--thresholds FILE] [--misses N]";
    while let Some(x) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{name} needs a value\n{usage}"))
        };
        match x.as_str() {
            "--no-baseline" => a.baseline = false,
            "--register" => a.with_register = true,
            "--families" => a.families = Some(family_list(&val("--families")?)),
            "--exclude-families" => a.exclude = family_list(&val("--exclude-families")?),
            "--dump" => a.dump = Some(val("--dump")?.into()),
            "--misses" => a.misses = val("--misses")?.parse()?,
            "--thresholds" => {
                let p = PathBuf::from(val("--thresholds")?);
                let v: Value = serde_json::from_str(
                    &std::fs::read_to_string(&p)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
                )?;
                a.thresholds = Some((p, from_json(&v)?));
            }
            "-h" | "--help" => {
                println!("{usage}");
                std::process::exit(0);
            }
            s if s.starts_with("--") => anyhow::bail!("unknown option {s}\n{usage}"),
            _ => a.dirs.push(x.into()),
        }
    }
    if a.dirs.is_empty() {
        a.dirs.push("corpus".into());
    }
    Ok(a)
}

fn main() -> anyhow::Result<()> {
    // Tesseract's OpenMP reads OMP_THREAD_LIMIT when the library loads, before main: set it
    // for a fresh copy of this process rather than for this one.
    if std::env::var("OMP_THREAD_LIMIT").as_deref() != Ok("1") {
        use std::os::unix::process::CommandExt;
        let err = std::process::Command::new(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .env("OMP_THREAD_LIMIT", "1")
            .exec();
        anyhow::bail!("re-executing with OMP_THREAD_LIMIT=1: {err}");
    }
    let args = parse_args()?;
    let mut engine = Engine::new()?;
    let reader = scan::Reader::new(scan::Limits::default()).first_pages(1);
    let mut pages: Vec<Page> = Vec::new();
    let mut reg_secs: Vec<(f64, usize)> = Vec::new();
    for dir in &args.dirs {
        let truth = std::fs::read_to_string(dir.join("truth.jsonl"))
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join("truth.jsonl").display()))?;
        let register = if args.with_register {
            read_register(&dir.join("register.csv"))?
        } else {
            Vec::new()
        };
        let first = pages.len();
        for line in truth.lines().filter(|l| !l.trim().is_empty()) {
            let t: Value = serde_json::from_str(line)?;
            let fam = family(&t);
            if args.families.as_ref().is_some_and(|fs| !fs.contains(&fam))
                || args.exclude.contains(&fam)
            {
                continue;
            }
            let name = t["file"].as_str().unwrap_or("").to_owned();
            let file = dir.join(&name);
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let read = reader
                .read_file(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let first_page = read
                .first()
                .ok_or_else(|| anyhow::anyhow!("{}: no page", file.display()))?;
            let got = read_page(&mut engine, &first_page.image)?;
            let (secs, cpu_secs) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
            let all = serde_json::to_value(&got)?;
            let pipeline = FIELD_NAMES.iter().map(|f| got_of(&all, f)).collect();
            let raw = if args.baseline {
                let start = Instant::now();
                let out = std::process::Command::new("tesseract")
                    .arg(&file)
                    .args(["-", "-l", "jpn"])
                    .env("OMP_THREAD_LIMIT", "1")
                    .output()?;
                let s = start.elapsed().as_secs_f64();
                let text = compact(&String::from_utf8_lossy(&out.stdout));
                let hits = FIELD_NAMES
                    .iter()
                    .map(|f| {
                        let p = compact(&printed(&t, f));
                        !p.is_empty() && text.contains(&p)
                    })
                    .collect();
                Some((hits, s))
            } else {
                None
            };
            pages.push(Page {
                file: name,
                family: fam,
                child_ids: child_ids(&t, &register),
                truth: t,
                pipeline,
                secs,
                cpu_secs,
                raw,
                register: None,
                matched: None,
            });
        }
        // The product's path: the CLI with the register, this directory's pages in one batch.
        if args.with_register && pages.len() > first {
            let exe = std::env::current_exe()?;
            let edge = exe
                .parent()
                .map(|d| d.join("checkup-edge"))
                .ok_or_else(|| anyhow::anyhow!("no directory"))?;
            let start = Instant::now();
            let out = std::process::Command::new(&edge)
                .args(["ocr", "notice"])
                .args(pages[first..].iter().map(|p| dir.join(&p.file)))
                .arg("--residents")
                .arg(dir.join("register.csv"))
                .arg("--json")
                .env("OMP_THREAD_LIMIT", "1")
                .output()
                .map_err(|e| {
                    anyhow::anyhow!("{}: {e} (build it with --release)", edge.display())
                })?;
            reg_secs.push((start.elapsed().as_secs_f64(), pages.len() - first));
            let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            if rows.len() != pages.len() - first {
                anyhow::bail!(
                    "{}: {} results for {} pages: {}",
                    edge.display(),
                    rows.len(),
                    pages.len() - first,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            for (p, r) in pages[first..].iter_mut().zip(&rows) {
                p.register = Some(
                    FIELD_NAMES
                        .iter()
                        .map(|f| got_of(&r["fields"], f))
                        .collect(),
                );
                p.matched = r["resident_id"].as_str().map(str::to_owned);
            }
        }
    }
    let thresholds = args.thresholds.as_ref().map(|(_, t)| t);
    let review = |f: &str, g: &Got| match thresholds.and_then(|t| t.get(f)) {
        Some(t) => g.confidence < *t,
        None => g.review,
    };
    let right = |p: &Page, f: &str, g: &Got| g.value.as_deref() == p.truth[f].as_str();

    // --dump
    if let Some(path) = &args.dump {
        let mut out = String::new();
        for p in &pages {
            let runs = [
                ("pipeline", Some(&p.pipeline)),
                ("register", p.register.as_ref()),
            ];
            for (run, gs) in runs {
                let Some(gs) = gs else { continue };
                for (f, g) in FIELD_NAMES.iter().zip(gs) {
                    let line = DumpLine {
                        file: p.file.clone(),
                        family: p.family.clone(),
                        run: run.into(),
                        field: (*f).into(),
                        value: g.value.clone(),
                        truth: p.truth[f].as_str().unwrap_or("").into(),
                        confidence: g.confidence,
                        review: g.review,
                        correct: right(p, f, g),
                    };
                    out.push_str(&serde_json::to_string(&line)?);
                    out.push('\n');
                }
            }
        }
        std::fs::write(path, out).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }

    let pct = |o: usize, t: usize| format!("{:.1} %", 100.0 * o as f64 / t.max(1) as f64);
    let frac = |o: usize, t: usize| {
        if t == 0 {
            "— (0/0)".to_owned()
        } else {
            format!("{} ({o}/{t})", pct(o, t))
        }
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let n = pages.len();
    let with_reg = args.with_register;
    let dash = || "—".to_owned();

    /// Counts over a set of pages.
    #[derive(Default, Clone)]
    struct Tally {
        fields: usize,
        ok: usize,
        raw_ok: usize,
        reg_ok: usize,
        pipe_kept: usize,
        pipe_kept_ok: usize,
        reg_kept: usize,
        reg_kept_ok: usize,
    }
    let tally = |pages: &[&Page], only: Option<&str>| {
        let mut t = Tally::default();
        for p in pages {
            for (i, f) in FIELD_NAMES.iter().enumerate() {
                if only.is_some_and(|o| o != *f) {
                    continue;
                }
                t.fields += 1;
                let g = &p.pipeline[i];
                t.ok += usize::from(right(p, f, g));
                if !review(f, g) {
                    t.pipe_kept += 1;
                    t.pipe_kept_ok += usize::from(right(p, f, g));
                }
                if let Some((hits, _)) = &p.raw {
                    t.raw_ok += usize::from(hits[i]);
                }
                if let Some(r) = &p.register {
                    let g = &r[i];
                    t.reg_ok += usize::from(right(p, f, g));
                    if !review(f, g) {
                        t.reg_kept += 1;
                        t.reg_kept_ok += usize::from(right(p, f, g));
                    }
                }
            }
        }
        t
    };
    let all: Vec<&Page> = pages.iter().collect();
    let mut fams: BTreeMap<&str, Vec<&Page>> = BTreeMap::new();
    for p in &pages {
        fams.entry(p.family.as_str()).or_default().push(p);
    }

    println!(
        "Pages: {n} ({}) from {}. Pipeline timed on one core: Tesseract held to one thread \
         (OMP_THREAD_LIMIT={}), pages read one at a time. Review flags: {}.",
        fams.iter()
            .map(|(f, ps)| format!("{f} {}", ps.len()))
            .collect::<Vec<_>>()
            .join(", "),
        args.dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        std::env::var("OMP_THREAD_LIMIT").unwrap_or_default(),
        match &args.thresholds {
            Some((p, _)) => format!("confidence below the threshold of {}", p.display()),
            None => "as read (the reader's threshold, then the register's)".into(),
        }
    );
    println!();

    // Per field × {pipeline, with the register, raw}.
    println!("| field | pipeline | with the register | raw tesseract (verbatim) |");
    println!("|---|---:|---:|---:|");
    for f in FIELD_NAMES {
        let t = tally(&all, Some(f));
        println!(
            "| {f} | {} | {} | {} |",
            frac(t.ok, t.fields),
            if with_reg {
                pct(t.reg_ok, t.fields)
            } else {
                dash()
            },
            if args.baseline {
                pct(t.raw_ok, t.fields)
            } else {
                dash()
            }
        );
    }
    let t = tally(&all, None);
    println!(
        "| **overall** | **{}** ({}/{}) | {} | {} |",
        pct(t.ok, t.fields),
        t.ok,
        t.fields,
        if with_reg {
            format!(
                "**{}** ({}/{})",
                pct(t.reg_ok, t.fields),
                t.reg_ok,
                t.fields
            )
        } else {
            dash()
        },
        if args.baseline {
            pct(t.raw_ok, t.fields)
        } else {
            dash()
        }
    );
    let secs_median = median(pages.iter().map(|p| p.secs).collect());
    let cpu_median = median(pages.iter().map(|p| p.cpu_secs).collect());
    let (reg_total, reg_n) = reg_secs
        .iter()
        .fold((0.0, 0), |(s, k), (x, m)| (s + x, k + m));
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!(
        "| seconds per page | {secs_median:.2} wall, {cpu_median:.2} CPU (median of {n}, one core) | {} | {} |",
        if with_reg {
            format!(
                "{:.2} (batch on {cores} cores, mean)",
                reg_total / reg_n.max(1) as f64
            )
        } else {
            dash()
        },
        if args.baseline {
            format!(
                "{:.2} (median, one core)",
                median(
                    pages
                        .iter()
                        .filter_map(|p| p.raw.as_ref().map(|r| r.1))
                        .collect()
                )
            )
        } else {
            dash()
        }
    );
    println!();

    // Review: precision above the threshold and the share sent to review, per field.
    println!(
        "| field | right above the review threshold (pipeline) | sent to review (pipeline) | \
         right above the review threshold (with the register) | sent to review (with the register) |"
    );
    println!("|---|---:|---:|---:|---:|");
    let review_row = |label: &str, t: &Tally| {
        println!(
            "| {label} | {} | {} | {} | {} |",
            frac(t.pipe_kept_ok, t.pipe_kept),
            pct(t.fields - t.pipe_kept, t.fields),
            if with_reg {
                frac(t.reg_kept_ok, t.reg_kept)
            } else {
                dash()
            },
            if with_reg {
                pct(t.fields - t.reg_kept, t.fields)
            } else {
                dash()
            }
        );
    };
    for f in FIELD_NAMES {
        review_row(f, &tally(&all, Some(f)));
    }
    review_row("**overall**", &t);
    println!();

    // Child matched to the register.
    let matching = |ps: &[&Page]| {
        let (mut in_reg, mut hit, mut other, mut stray) = (0, 0, 0, 0);
        for p in ps {
            if p.register.is_none() {
                continue;
            }
            match (&p.matched, p.child_ids.is_empty()) {
                (Some(id), false) if p.child_ids.contains(id) => {
                    in_reg += 1;
                    hit += 1;
                }
                (Some(_), false) => {
                    in_reg += 1;
                    other += 1;
                }
                (None, false) => in_reg += 1,
                (Some(_), true) => stray += 1,
                (None, true) => {}
            }
        }
        (in_reg, hit, other, stray)
    };
    let ok_mark = |good: bool| if good { "✔" } else { "✘" };
    println!("| figure | measured | target |");
    println!("|---|---:|---:|");
    if with_reg {
        let prec = t.reg_kept_ok as f64 / t.reg_kept.max(1) as f64;
        println!(
            "| fields above the review threshold right (with the register) | {} | ≥ 99.5 % {} |",
            frac(t.reg_kept_ok, t.reg_kept),
            ok_mark(prec >= 0.995)
        );
        println!(
            "| fields sent to review (with the register) | {} | |",
            frac(t.fields - t.reg_kept, t.fields)
        );
        let (in_reg, hit, other, stray) = matching(&all);
        println!(
            "| child matched to the register (pages whose child is in it) | {}; {other} matched to someone else, {stray} matched with the child not in it | ≥ 97 % {} |",
            frac(hit, in_reg),
            ok_mark(hit as f64 >= 0.97 * in_reg as f64)
        );
    } else {
        println!(
            "| fields above the review threshold right (pipeline) | {} | ≥ 99.5 % {} |",
            frac(t.pipe_kept_ok, t.pipe_kept),
            ok_mark(t.pipe_kept_ok as f64 >= 0.995 * t.pipe_kept as f64)
        );
    }
    println!(
        "| seconds per page, pipeline (median, one core, OMP_THREAD_LIMIT=1) | {secs_median:.2} wall, {cpu_median:.2} CPU | ≤ 0.7 s {} |",
        ok_mark(secs_median <= 0.7)
    );
    println!();

    // Per family.
    println!(
        "| family | pages | pipeline | with the register | raw tesseract | right above the review threshold (register) | sent to review (register) | child matched | s/page (median, one core) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (f, ps) in &fams {
        let t = tally(ps, None);
        let (in_reg, hit, _, _) = matching(ps);
        println!(
            "| {f} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            ps.len(),
            pct(t.ok, t.fields),
            if with_reg {
                pct(t.reg_ok, t.fields)
            } else {
                dash()
            },
            if args.baseline {
                pct(t.raw_ok, t.fields)
            } else {
                dash()
            },
            if with_reg {
                frac(t.reg_kept_ok, t.reg_kept)
            } else {
                dash()
            },
            if with_reg {
                pct(t.fields - t.reg_kept, t.fields)
            } else {
                dash()
            },
            if with_reg { frac(hit, in_reg) } else { dash() },
            median(ps.iter().map(|p| p.secs).collect())
        );
    }

    // Misses (stderr).
    let mut shown = 0;
    for p in &pages {
        let runs = [("", Some(&p.pipeline)), ("register: ", p.register.as_ref())];
        for (run, gs) in runs {
            let Some(gs) = gs else { continue };
            for (f, g) in FIELD_NAMES.iter().zip(gs) {
                if right(p, f, g) {
                    continue;
                }
                if shown < args.misses {
                    shown += 1;
                    eprintln!(
                        "{run}{} [{}] {f}: want {:?} got {:?} conf {:.3}{} raw {:?}",
                        p.file,
                        p.family,
                        p.truth[f].as_str().unwrap_or(""),
                        g.value,
                        g.confidence,
                        if review(f, g) { " review" } else { "" },
                        g.raw
                    );
                }
            }
        }
    }
    Ok(())
}
