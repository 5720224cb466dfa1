//! A checkup day to the national standard, with real processes: a demo box forwarding to a
//! demo central (plain HTTP, `--insecure-dev`). The venue admin imports a roster with the
//! residents' insurer identities (Japanese headers); reception checks three residents in;
//! each station records its items, the questionnaire is answered; the box forwards. Central
//! gets its register, and `checkup-central export tokutei` (exactly as an operator runs it)
//! writes the insurer's archive. Every file of it is then checked by `xmllint --schema`
//! against MHLW's XSDs in `../shared/standards/tokutei-v4/XSD`, and the archive read back
//! gives the values, codes and units central holds. An insurer with no checkups, and a
//! period with a record that fails the standard's rules, are refused with every failure
//! listed and nothing written.

use std::path::{Path, PathBuf};
use std::process::Command;

use checkup_central::tokutei::items::ItemTable;
use checkup_central::tokutei::model::ObsValue;
use checkup_central::tokutei::parse::parse_archive;
use checkup_tests::binary;
use checkup_tests::tokutei_day::{
    KOKUHO, KYOKAI, LEFT, PEOPLE, POSTAL_WRITTEN, standards, unzip, xmllint,
};

fn export(
    central_data: &str,
    insurer: &str,
    day: &str,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    Command::new(binary("checkup-central", "checkup-central").expect("binary"))
        .args([
            "export",
            "tokutei",
            "--data-dir",
            central_data,
            "--insurer",
            insurer,
        ])
        .args(["--from", day, "--to", day, "--xsd-dir"])
        .arg(standards().join("XSD"))
        .arg("--out")
        .arg(out)
        .args([
            "--sender",
            "1312345678",
            "--sender-name",
            "みどり市保健センター",
            "--doctor",
            "D001=医師 誠",
        ])
        .args(extra)
        .output()
        .expect("export")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkup_day_becomes_a_valid_tokutei_archive() {
    let pair = checkup_tests::central::demo_pair();
    let (dir, central_data, mut central, mut edge) =
        (&pair.dir, &pair.central_data, pair.central, pair.edge);
    let bx = edge.url.trim_end_matches('/').to_owned();
    let cx = central.url.trim_end_matches('/').to_owned();
    let checkup_tests::tokutei_day::Day { day, held } =
        checkup_tests::tokutei_day::day(&bx, &cx).await;

    // The export, as an operator runs it.
    let out = dir.path().join("out");
    let run = export(central_data, KYOKAI, &day, &out, &[]);
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "export: {stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let zip = PathBuf::from(stdout.trim());
    let name = zip
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_owned();
    assert!(
        name.starts_with(&format!("1312345678_{KYOKAI}_")) && name.ends_with("_1.zip"),
        "{name}"
    );

    // Every file against MHLW's schemas, with xmllint.
    let unpacked = dir.path().join("unpacked");
    let files = unzip(&zip, &unpacked);
    let xsd = standards().join("XSD");
    let data: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.parent().and_then(|p| p.file_name()) == Some("DATA".as_ref()))
        .collect();
    assert_eq!(data.len(), 2, "two 協会けんぽ examinees: {files:?}");
    for f in &data {
        xmllint(&xsd.join("hc08_V08.xsd"), f);
    }
    let index: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.file_name() == Some("ix08_V08.xml".as_ref()))
        .collect();
    assert_eq!(index.len(), 1, "{files:?}");
    xmllint(&xsd.join("ix08_V08.xsd"), index[0]);
    assert!(
        files.iter().any(|f| f.ends_with("XSD/hc08_V08.xsd")),
        "the XSDs travel in the archive"
    );

    // Read back: the values, codes and units central holds.
    let table = ItemTable::load(&standards().join("items-hc24.csv")).expect("table");
    let parsed = parse_archive(&name, &std::fs::read(&zip).expect("zip"), &table).expect("parse");
    assert_eq!(parsed.documents.len(), 2);
    for (p, (_, doc)) in PEOPLE[..2].iter().zip(parsed.documents.iter()) {
        let ex = &doc.examinee;
        assert_eq!(ex.name_kana, p.1);
        assert_eq!(ex.postal_code.as_deref(), Some(POSTAL_WRITTEN));
        assert_eq!(ex.insurer.insurer_number, KYOKAI);
        assert_eq!(ex.insurer.number, p.6);
        assert_eq!(ex.insurer.ticket_number.as_deref(), Some(p.8));
        let results = held[p.0]["checkups"][0]["items"]
            .as_array()
            .expect("results");
        for r in results {
            let code = r["item_code"].as_str().expect("code");
            let value = r["value"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| r["value"].to_string());
            let got = ex
                .value(code)
                .unwrap_or_else(|| panic!("{} {code} missing from the archive", p.0));
            let def = table.get(code).expect("in the table");
            match got {
                ObsValue::Quantity(q) => {
                    let (a, b): (f64, f64) =
                        (q.parse().expect("number"), value.parse().expect("number"));
                    assert!((a - b).abs() < 1e-9, "{code}: archive {q}, central {value}");
                    // The box writes mmHg; the standard's UCUM is mm[Hg]. Every other unit the
                    // same.
                    let unit = match r["unit"].as_str().unwrap_or("") {
                        "mmHg" => "mm[Hg]",
                        u => u,
                    };
                    assert_eq!(def.unit_ucum.as_deref().unwrap_or(""), unit, "{code}: unit");
                }
                ObsValue::Coded(c) if code.starts_with("1A0") => {
                    assert_eq!(
                        Some(c.as_str()),
                        checkup_central::tokutei::model::dipstick_code(&value),
                        "{code}"
                    );
                }
                ObsValue::Coded(c) => assert_eq!(c.as_str(), value.as_str(), "{code}"),
                ObsValue::Text(t) => assert_eq!(t.as_str(), value.as_str(), "{code}"),
                other => panic!("{code}: {other:?}"),
            }
        }
        // The doctor who recorded the diagnosis is its author.
        assert_eq!(ex.doctor_name.as_deref(), Some("医師 誠"));
        // 階層化 is in each document.
        assert!(ex.value("9N501000000000011").is_some() && ex.value("9N506000000000011").is_some());
        // …and the record shows the same judgements, with their reasons.
        let shown = &held[p.0]["checkups"][0]["stratification"];
        for (code, field) in [
            ("9N501000000000011", "metabolic_code"),
            ("9N506000000000011", "guidance_code"),
        ] {
            match ex.value(code) {
                Some(ObsValue::Coded(c)) => {
                    assert_eq!(shown[field].as_str(), Some(c.as_str()), "{}: {shown}", p.0)
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        assert!(
            shown["metabolic_ja"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
                && shown["reasons"].is_array(),
            "{shown}"
        );
    }

    // The 国保's archive: the resident who left before 問診 has no 服薬 or 喫煙 answers. The
    // export is refused, each failure named by resident and item, and nothing is written.
    let refused = dir.path().join("refused");
    let run = export(central_data, KOKUHO, &day, &refused, &[]);
    let listed = String::from_utf8_lossy(&run.stdout).to_string();
    assert_eq!(run.status.code(), Some(1), "{listed}");
    for item in [
        "9N701000000000011",
        "9N706000000000011",
        "9N711000000000011",
        "9N736000000000011",
    ] {
        assert!(
            listed.lines().any(|l| l.contains(LEFT) && l.contains(item)),
            "{item} of {LEFT} not listed: {listed}"
        );
    }
    assert!(
        !listed.contains(PEOPLE[2].0),
        "the complete resident was listed: {listed}"
    );
    assert_eq!(
        std::fs::read_dir(&refused).map(|d| d.count()).unwrap_or(0),
        0,
        "something was written"
    );

    // An insurer with no checkup in the period: refused, nothing written.
    let none = dir.path().join("none");
    let run = export(central_data, "06139994", &day, &none, &[]);
    assert!(!run.status.success());
    assert!(
        std::fs::read_dir(&none).map(|d| d.count()).unwrap_or(0) == 0,
        "something was written"
    );

    let status = edge.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");
    let status = central.terminate().expect("terminate");
    assert!(status.success(), "central exit: {status}");
}
