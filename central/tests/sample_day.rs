//! The sample checkup day (`checkup_central::sample_day`, `checkup-central demo
//! --sample-day N`): 20 residents stored in a fresh SQLite central through the real ingest,
//! then every insurer's archive exported by the library export and every file of it
//! checked by `xmllint --schema` against MHLW's XSDs in `../shared/standards/tokutei-v4/XSD`;
//! a second fill stores nothing. And the binary as a newcomer runs it: the printed export
//! commands, pasted into a shell, write the archives; a second start adds nothing.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use checkup_central::config::{BoxConfig, Config, secret_digest};
use checkup_central::sample_day::{self, Signer};
use checkup_central::tokutei::export::{Outcome, export};
use checkup_central::tokutei::model::ObsValue;
use checkup_central::tokutei::parse::parse_archive;
use checkup_protocol::NodeKey;
use time::Date;

fn standards() -> PathBuf {
    // `../shared/standards` beside the repository, or `$CHECKUP_STANDARDS_DIR` for a checkout
    // elsewhere.
    std::env::var_os("CHECKUP_STANDARDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards"))
        .join("tokutei-v4")
}

fn day() -> Date {
    Date::from_calendar_date(2026, time::Month::November, 18).expect("date")
}

fn unzip(zip: &Path, into: &Path) -> Vec<PathBuf> {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).expect("zip")).expect("a zip");
    let mut files = Vec::new();
    for i in 0..a.len() {
        let mut e = a.by_index(i).expect("entry");
        let Some(name) = e.enclosed_name() else {
            panic!("an entry outside the archive: {:?}", e.name());
        };
        if e.is_dir() {
            continue;
        }
        let path = into.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        let mut out = std::fs::File::create(&path).expect("file");
        std::io::copy(&mut e, &mut out).expect("copy");
        files.push(path);
    }
    files
}

/// `xmllint --noout --schema` over many files at once.
fn xmllint(schema: &Path, files: &[&PathBuf]) {
    assert!(!files.is_empty());
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .args(files)
        .output()
        .expect("xmllint (libxml2-utils)");
    assert!(
        out.status.success(),
        "xmllint: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every DATA file and the index of an archive, against MHLW's schemas; the examinees'
/// メタボ判定 codes.
fn check_archive_files(zip: &Path, into: &Path, examinees: usize) -> Vec<String> {
    let files = unzip(zip, into);
    let xsd = standards().join("XSD");
    let data: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.parent().and_then(|p| p.file_name()) == Some("DATA".as_ref()))
        .collect();
    assert_eq!(data.len(), examinees, "{files:?}");
    xmllint(&xsd.join("hc08_V08.xsd"), &data);
    let index: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.file_name() == Some("ix08_V08.xml".as_ref()))
        .collect();
    xmllint(&xsd.join("ix08_V08.xsd"), &index);
    let table =
        checkup_central::tokutei::items::ItemTable::load(&standards().join("items-hc24.csv"))
            .expect("table");
    let name = zip.file_name().and_then(|n| n.to_str()).expect("name");
    let parsed = parse_archive(name, &std::fs::read(zip).expect("zip"), &table).expect("parse");
    parsed
        .documents
        .iter()
        .map(|(_, d)| match d.examinee.value("9N501000000000011") {
            Some(ObsValue::Coded(c)) => c.clone(),
            other => panic!("メタボ判定: {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_day_exports_valid_archives_and_is_stored_once() {
    let dir = tempfile::tempdir().expect("dir");
    let key = NodeKey::generate();
    let config = Config {
        data_dir: dir.path().join("central"),
        boxes: vec![BoxConfig {
            node: "edge-01".into(),
            venue: sample_day::VENUE.into(),
            municipality: sample_day::MUNICIPALITY.into(),
            public_key: key.verifying_key().to_base64(),
            secret_sha256: secret_digest("s"),
        }],
        ..Config::default()
    };
    let db = checkup_central::db::open(&config).await.expect("open");
    let signer = Signer {
        node: "edge-01".into(),
        key,
    };
    let filled = sample_day::fill(db.as_ref(), &config, &signer, day(), 20)
        .await
        .expect("fill");
    assert_eq!(filled.residents, 20);
    assert_eq!(filled.new_events, filled.events);
    assert_eq!(filled.register_written, 20);
    assert_eq!(db.event_count().await.expect("count"), filled.events as u64);
    assert!(filled.insurers.len() >= 2, "{:?}", filled.insurers);
    assert_eq!(
        filled.insurers.iter().map(|i| i.residents).sum::<usize>(),
        20
    );

    // Every insurer's archive: written, every file valid.
    let settings = sample_day::export_settings(&standards().join("XSD")).expect("settings");
    let d = day().to_string();
    let mut metabolic: BTreeMap<String, usize> = BTreeMap::new();
    for ins in &filled.insurers {
        let out = dir.path().join("out").join(&ins.number);
        std::fs::create_dir_all(&out).expect("out");
        let outcome = export(
            db.as_ref(),
            &settings,
            &ins.number,
            (&d, &d),
            day(),
            Some(&out),
        )
        .await
        .expect("export");
        let Outcome::Written(w, n) = outcome else {
            panic!("{} not written: {outcome:?}", ins.number);
        };
        assert_eq!(n, ins.residents, "{}", ins.number);
        for code in check_archive_files(&w.path, &dir.path().join("unpacked").join(&ins.number), n)
        {
            *metabolic.entry(code).or_default() += 1;
        }
    }
    // Some メタボ (1 基準該当), some not (3 非該当).
    assert!(
        metabolic.get("1").is_some_and(|&n| n >= 2) && metabolic.get("3").is_some_and(|&n| n >= 5),
        "{metabolic:?}"
    );

    // Again: nothing new, not even an audit entry.
    let audit_before = db.audit_snapshot().await.expect("audit").entries.len();
    let again = sample_day::fill(db.as_ref(), &config, &signer, day(), 20)
        .await
        .expect("fill again");
    assert_eq!((again.new_events, again.register_written), (0, 0));
    assert_eq!(again.events, filled.events);
    assert_eq!(db.event_count().await.expect("count"), filled.events as u64);
    assert_eq!(
        db.audit_snapshot().await.expect("audit").entries.len(),
        audit_before
    );

    // A key that is not the enrolled one is refused before anything is stored.
    let stranger = Signer {
        node: "edge-01".into(),
        key: NodeKey::generate(),
    };
    let e = sample_day::fill(db.as_ref(), &config, &stranger, day(), 3)
        .await
        .expect_err("a foreign key");
    assert!(matches!(e, sample_day::SampleError::KeyMismatch(_)), "{e}");
    assert_eq!(db.event_count().await.expect("count"), filled.events as u64);
}

/// Start `checkup-central demo … --sample-day 5`, collect what it prints up to `ready:`,
/// then kill it.
fn demo_output(bin: &Path, data: &Path) -> Vec<String> {
    let mut child = Command::new(bin)
        .args(["demo", "--insecure-dev", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .args(["--sample-day", "5", "--sample-date", "2026-11-18"])
        .arg("--xsd-dir")
        .arg(standards().join("XSD"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let ready = line.contains("ready: http://");
        lines.push(line);
        if ready {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.last().is_some_and(|l| l.contains("ready: http://")),
        "the demo did not serve: {lines:?}"
    );
    lines
}

#[test]
fn the_demo_prints_export_commands_that_work_when_pasted() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("central data");
    let bin = checkup_tests::binary("checkup-central", "checkup-central").expect("binary");
    let first = demo_output(&bin, &data);
    let all = first.join("\n");
    assert!(all.contains("sample-box"), "{all}");
    assert!(data.join("sample-box.key").exists());
    assert!(all.contains("5 residents"), "{all}");
    let commands: Vec<&str> = first
        .iter()
        .map(|l| l.trim())
        .filter(|l| l.starts_with("checkup-central export tokutei "))
        .collect();
    assert!(!commands.is_empty(), "{all}");
    let mut written = 0;
    for c in &commands {
        // Pasted into a shell, with the binary on the PATH.
        let path = format!(
            "{}:{}",
            bin.parent().expect("dir").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let run = Command::new("sh")
            .args(["-c", c])
            .env("PATH", path)
            .output()
            .expect("sh");
        let stdout = String::from_utf8_lossy(&run.stdout).to_string();
        assert!(
            run.status.success(),
            "{c}: {stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let zip = PathBuf::from(stdout.trim());
        assert!(
            zip.exists() && zip.starts_with(data.join("export")),
            "{zip:?}"
        );
        written += 1;
    }
    assert_eq!(written, commands.len());

    // Started again: the same day is there already, nothing is added.
    let second = demo_output(&bin, &data).join("\n");
    assert!(second.contains("(0 new)"), "{second}");
    assert!(second.contains("nothing added"), "{second}");
}
