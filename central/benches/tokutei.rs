//! The 特定健診 export of a day of N residents (default 10,000), timed phase by phase, beside
//! the raw work of the same tools in the same run:
//!
//! - `fill` (for information): the sample day ([`checkup_central::sample_day`]) signed and
//!   received through the real ingest into a fresh SQLite central;
//! - the export of every insurer's archive (together N examinees): `gather` (the records
//!   read and mapped, 階層化), `check` (every document written and validated against
//!   hc08_V08.xsd with libxml2, the business rules), `write` (the zip with the XSDs);
//! - raw anchors: `xmllint --noout --schema hc08_V08.xsd` over the same N DATA files (many
//!   per invocation), and one `SELECT` of the same result rows straight from SQLite.
//!
//! `cargo bench -p checkup-central --bench tokutei [-- N]`. MHLW's files are read from
//! `../shared/standards/tokutei-v4` beside the repository or `$CHECKUP_STANDARDS_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use checkup_central::config::{BoxConfig, Config, secret_digest};
use checkup_central::sample_day::{self, Signer};
use checkup_central::tokutei::archive::{ArchiveSpec, Receiver, check_archive, write_checked};
use checkup_central::tokutei::export::gather;
use checkup_central::tokutei::validate::{BusinessRules, XsdValidator};
use checkup_protocol::NodeKey;
use time::Date;

fn standards() -> PathBuf {
    std::env::var_os("CHECKUP_STANDARDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards"))
        .join("tokutei-v4")
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// CPU time of this process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU time of this process's waited-for children (user + system), in seconds.
fn children_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(13) + ticks(14)) / 100.0
}

fn unzip_data(zip: &Path, into: &Path) -> Vec<PathBuf> {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).expect("zip")).expect("a zip");
    let mut files = Vec::new();
    for i in 0..a.len() {
        let mut e = a.by_index(i).expect("entry");
        let Some(name) = e.enclosed_name() else {
            panic!("an entry outside the archive");
        };
        if e.is_dir() || name.parent().and_then(|p| p.file_name()) != Some("DATA".as_ref()) {
            continue;
        }
        let path = into.join(name.file_name().expect("name"));
        let mut out = std::fs::File::create(&path).expect("file");
        std::io::copy(&mut e, &mut out).expect("copy");
        files.push(path);
    }
    files
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let day = Date::from_calendar_date(2026, time::Month::November, 18).expect("date");
    let d = day.to_string();
    let xsd = standards().join("XSD");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let key = NodeKey::generate();
    let config = Config {
        data_dir: dir.path().join("central"),
        boxes: vec![BoxConfig {
            node: "edge-01".into(),
            venue: sample_day::VENUE.into(),
            municipality: sample_day::MUNICIPALITY.into(),
            public_key: key.verifying_key().to_base64(),
            secret_sha256: secret_digest("bench"),
        }],
        ..Config::default()
    };
    let signer = Signer {
        node: "edge-01".into(),
        key,
    };
    let db = rt
        .block_on(checkup_central::db::open(&config))
        .expect("open");

    eprintln!("fill: {n} residents …");
    let (t, c0) = (Instant::now(), cpu_seconds());
    let filled = rt
        .block_on(sample_day::fill(db.as_ref(), &config, &signer, day, n))
        .expect("fill");
    let fill = t.elapsed();
    let fill_cpu = cpu_seconds() - c0;
    eprintln!(
        "  {} events in {:.1} s; insurers {:?}",
        filled.events,
        secs(fill),
        filled
            .insurers
            .iter()
            .map(|i| (&i.number, i.residents))
            .collect::<Vec<_>>()
    );

    // The export, insurer by insurer, phase by phase (what `export::export` does: gather,
    // then `write_archive` = check, then write).
    let settings = sample_day::export_settings(&xsd).expect("settings");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    let (mut gather_t, mut check_t, mut write_t) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut gather_c, mut check_c, mut write_c) = (0.0, 0.0, 0.0);
    let cpu0 = cpu_seconds();
    let mut zips = Vec::new();
    let mut examinees = 0;
    for ins in &filled.insurers {
        let (t, c0) = (Instant::now(), cpu_seconds());
        let g = rt
            .block_on(gather(
                db.as_ref(),
                &settings.table,
                &ins.number,
                &d,
                &d,
                &settings.doctors,
            ))
            .expect("gather");
        gather_t += t.elapsed();
        gather_c += cpu_seconds() - c0;
        assert!(g.failures.is_empty(), "{:?}", g.failures);
        examinees += g.examinees.len();

        let (t, c0) = (Instant::now(), cpu_seconds());
        let rules =
            BusinessRules::for_recorded(&settings.table, g.recorded.iter().map(String::as_str));
        let spec = ArchiveSpec::new(
            settings.sender.clone(),
            Receiver::Insurer(ins.number.clone()),
            day,
        );
        let mut validator = XsdValidator::load(&xsd).expect("schemas");
        let failures = check_archive(&spec, &g.examinees, &settings.table, &rules, &mut validator)
            .expect("check");
        check_t += t.elapsed();
        check_c += cpu_seconds() - c0;
        assert!(failures.is_empty(), "{failures:?}");

        let (t, c0) = (Instant::now(), cpu_seconds());
        let w = write_checked(&spec, &g.examinees, &settings.table, &xsd, &out).expect("write");
        write_t += t.elapsed();
        write_c += cpu_seconds() - c0;
        zips.push(w.path);
        eprintln!(
            "  {}: {} examinees; gather {:.1} s, check {:.1} s, write {:.1} s so far",
            ins.number,
            g.examinees.len(),
            secs(gather_t),
            secs(check_t),
            secs(write_t)
        );
    }
    let export_cpu = cpu_seconds() - cpu0;
    assert_eq!(examinees, n);
    let total = gather_t + check_t + write_t;

    // Raw: xmllint over the same DATA files, many per invocation.
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).expect("data");
    let files: Vec<PathBuf> = zips.iter().flat_map(|z| unzip_data(z, &data_dir)).collect();
    assert_eq!(files.len(), n);
    let (t, c0) = (Instant::now(), children_cpu_seconds());
    for chunk in files.chunks(1000) {
        let run = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(xsd.join("hc08_V08.xsd"))
            .args(chunk)
            .output()
            .expect("xmllint (libxml2-utils)");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let xmllint = t.elapsed();
    let xmllint_cpu = children_cpu_seconds() - c0;

    // Raw: the same result rows, one SELECT.
    let c = rusqlite::Connection::open(config.data_dir.join("central.sqlite3")).expect("sqlite");
    let (t, c0) = (Instant::now(), cpu_seconds());
    let mut st = c
        .prepare(
            "SELECT event_id, resident_id, session_id, venue, day, item_code, value, unit,
                    hlc_ms, hlc_c, corrects, reason, staff_id
             FROM results WHERE day BETWEEN ?1 AND ?2
             ORDER BY day, resident_id, hlc_ms, hlc_c, event_id",
        )
        .expect("prepare");
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = st
        .query_map([&d, &d], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let select = t.elapsed();
    let select_cpu = cpu_seconds() - c0;

    let per = |x: f64| 1000.0 * x / n as f64;
    println!(
        "N = {n} residents ({} archives, {} events, {} result rows)",
        zips.len(),
        filled.events,
        rows.len()
    );
    println!();
    println!("| phase | wall | CPU | CPU per resident |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, wall: Duration, cpu: f64| {
        println!(
            "| {name} | {:.1} s | {:.1} s | {:.2} ms |",
            secs(wall),
            cpu,
            per(cpu)
        );
    };
    row(
        "fill: sample day signed and ingested (for information)",
        fill,
        fill_cpu,
    );
    row(
        "export: gather (records read, mapped, 階層化)",
        gather_t,
        gather_c,
    );
    row(
        "export: check (documents written, XSD with libxml2, business rules)",
        check_t,
        check_c,
    );
    row("export: write (zip with DATA and XSD)", write_t, write_c);
    row("**export total**", total, gather_c + check_c + write_c);
    row(
        &format!("raw: `xmllint --noout --schema hc08_V08.xsd`, same {n} files (1,000 per run)"),
        xmllint,
        xmllint_cpu,
    );
    row(
        &format!(
            "raw: one SQLite SELECT of the same {} result rows",
            rows.len()
        ),
        select,
        select_cpu,
    );
    println!();
    println!(
        "CPU ratios: check / xmllint {:.2}; gather / SELECT {:.0}; export total / xmllint {:.1} (export CPU {:.1} s over {:.1} s wall)",
        check_c / xmllint_cpu.max(1e-9),
        gather_c / select_cpu.max(1e-9),
        (gather_c + check_c + write_c) / xmllint_cpu.max(1e-9),
        export_cpu,
        secs(total)
    );
}
