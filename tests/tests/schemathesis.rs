//! schemathesis against a real box and a real central, each signed in as every role it
//! knows: every operation of each service's OpenAPI document (`GET /openapi.json`) is sent
//! generated requests, and every answer must be no server error, of a documented status,
//! content type and headers, and of the documented schema — so every refusal is the
//! documented JSON error.
//!
//! schemathesis lives in a project-local virtual environment made by
//! `scripts/install-schemathesis.sh` (which `make test` runs through
//! `scripts/install-deps.sh --test`): `target/schemathesis-venv/bin/st`, or the `st` named by
//! `CHECKUP_SCHEMATHESIS`. Without it the test fails, saying how to install it.
//!
//! Examples per operation: `CHECKUP_SCHEMATHESIS_EXAMPLES` (default 20). The counts
//! schemathesis reports are printed (`cargo test -- --nocapture`) and are in the failure
//! message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementRecorded, NodeKey, Role, SessionOpened,
    StationKind,
};
use checkup_tests::central::{free_port, sha256_hex};
use checkup_tests::{Process, binary, hash_pin};
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

/// The checks every answer must pass.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// The `st` executable, or why there is none.
fn schemathesis() -> Result<PathBuf, String> {
    let st = match std::env::var_os("CHECKUP_SCHEMATHESIS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/schemathesis-venv/bin/st"),
    };
    if st.exists() {
        Ok(st)
    } else {
        Err(format!(
            "schemathesis not found at {}: run `bash scripts/install-schemathesis.sh` \
             (`make test` does) or set CHECKUP_SCHEMATHESIS to an `st` executable",
            st.display()
        ))
    }
}

/// What one schemathesis run reported.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// API operations tested.
    operations: u64,
    /// Test cases (examples) generated and sent.
    examples: u64,
    /// Checks run on the answers.
    checks: u64,
    /// Checks passed.
    passed: u64,
    /// Test cases with a failed check.
    failures: u64,
    /// Errors (operations schemathesis could not test).
    errors: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.operations += o.operations;
        self.examples += o.examples;
        self.checks += o.checks;
        self.passed += o.passed;
        self.failures += o.failures;
        self.errors += o.errors;
    }
}

/// One schemathesis run: a service, who is signed in, and which operations how deeply.
struct Run<'a> {
    /// Service name, for the report.
    service: &'a str,
    /// Who is signed in (`anonymous` for nobody).
    who: &'a str,
    /// Base URL.
    url: &'a str,
    /// Extra headers (`Cookie: …`, `Authorization: Bearer …`).
    headers: Vec<String>,
    /// Operations left out (`--exclude-path-regex`; its reasons are where it is written).
    exclude: Option<&'a str>,
    /// Only these operations (`--include-path-regex`), if given.
    include: Option<&'a str>,
    /// schemathesis phases: `fuzzing`, or `coverage,fuzzing` to add its boundary cases.
    phases: &'a str,
}

/// Run schemathesis for `r` with up to `examples` generated cases per operation; its counts,
/// and its report when something failed.
async fn run(st: &Path, r: &Run<'_>, examples: u32, dir: &Path) -> (Counts, Option<String>) {
    let name = format!("{}-{}", r.service, r.who);
    let (ndjson, json) = (
        dir.join(format!("{name}.ndjson")),
        dir.join(format!("{name}.json")),
    );
    let mut cmd = tokio::process::Command::new(st);
    cmd.arg("run")
        .arg(format!("{}/openapi.json", r.url))
        .args(["--checks", CHECKS])
        .args(["--max-examples", &examples.to_string()])
        .args(["--phases", r.phases])
        // One worker thread per process: CPython 3.11 keeps the AST constructor's recursion
        // counter in interpreter-wide state, so two threads parsing at once (Hypothesis
        // parses its strategies' lambdas to name them) fail with "AST constructor recursion
        // depth mismatch". The runs go two processes at a time instead (below).
        .args(["--workers", "1"])
        .args(["--seed", "20261201"])
        // A redirect is an answer of its own (303 to the sign-in page), documented as such.
        .args(["--max-redirects", "0"])
        .args(["--request-timeout", "30"])
        .args(["--suppress-health-check", "all"])
        .args(["--report", "ndjson,json"])
        .arg("--report-ndjson-path")
        .arg(&ndjson)
        .arg("--report-json-path")
        .arg(&json)
        .args(["--output-truncate", "false"]);
    for h in &r.headers {
        cmd.args(["-H", h]);
    }
    if let Some(e) = r.exclude {
        cmd.args(["--exclude-path-regex", e]);
    }
    if let Some(i) = r.include {
        cmd.args(["--include-path-regex", i]);
    }
    cmd.env("NO_COLOR", "1").current_dir(dir).kill_on_drop(true);
    let out = cmd.output().await.expect("running schemathesis");
    let report: Value = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let counts = counts(
        &report,
        &std::fs::read_to_string(&ndjson).unwrap_or_default(),
    );
    println!(
        "schemathesis {} as {} ({}): {} operations, {} examples, {} checks ({} passed), \
         {} examples failing, {} errors",
        r.service,
        r.who,
        r.phases,
        counts.operations,
        counts.examples,
        counts.checks,
        counts.passed,
        counts.failures,
        counts.errors
    );
    let failed = !out.status.success()
        || report["exit_code"] != 0
        || counts.failures > 0
        || counts.errors > 0
        || counts.passed != counts.checks;
    (
        counts,
        failed.then(|| {
            format!(
                "schemathesis {} as {} ({}):\n{}\n{}",
                r.service,
                r.who,
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        }),
    )
}

/// Counts from schemathesis' JSON run report (operations, test cases, failures, errors)
/// and its NDJSON event stream (every check run on every answer).
fn counts(report: &Value, ndjson: &str) -> Counts {
    let mut c = Counts {
        operations: report["operations"]["tested"].as_u64().unwrap_or(0),
        examples: report["test_cases"]["generated"].as_u64().unwrap_or(0),
        failures: report["test_cases"]["with_failures"].as_u64().unwrap_or(0),
        errors: report["errors"].as_array().map_or(1, |e| e.len() as u64)
            + report["test_cases"]["errored"].as_u64().unwrap_or(0),
        ..Counts::default()
    };
    for line in ndjson.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let checks = &v["ScenarioFinished"]["recorder"]["checks"];
        for (_, case) in checks.as_object().into_iter().flatten() {
            for check in case.as_array().into_iter().flatten() {
                c.checks += 1;
                if check["status"] == "success" {
                    c.passed += 1;
                }
            }
        }
    }
    c
}

/// A session cookie from `url` (`Cookie: name=value`).
async fn sign_in(url: &str, path: &str, staff: &str, pin: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .json(&json!({"staff_id": staff, "pin": pin}))
        .send()
        .await
        .expect("sign-in request");
    assert_eq!(r.status(), 200, "{staff} signs in at {url}{path}");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|c| c.contains("_session="))
        .collect::<Vec<_>>()
        .join("; ");
    assert!(!cookie.is_empty(), "{staff}: no session cookie");
    format!("Cookie: {cookie}")
}

/// A box with staff of every role, a small roster and one open session.
async fn start_box(dir: &Path) -> (Process, Vec<(&'static str, String)>) {
    let data = dir.join("box");
    std::fs::create_dir_all(&data).expect("dir");
    let staff: &[(&str, &str, &str, &str)] = &[
        ("R1", "1111", "reception", ""),
        (
            "S1",
            "2222",
            "station",
            "stations = [\"measurement\", \"blood_pressure\"]\n",
        ),
        ("N1", "3333", "nurse", ""),
        ("D1", "4444", "doctor", ""),
        ("A1", "9999", "venue_admin", ""),
        ("C1", "5555", "child_welfare_clerk", ""),
        ("K1", "6666", "caseworker", ""),
        ("U1", "8888", "auditor", ""),
    ];
    let mut cfg = format!(
        "venue_id = \"st-{}\"\nnode_id = \"edge-01\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
         [card]\nmode = \"off\"\n\n[replication]\ndiscovery = false\n",
        Uuid::now_v7().simple(),
        data.display()
    );
    for (id, pin, role, extra) in staff {
        cfg.push_str(&format!(
            "\n[[staff]]\nid = \"{id}\"\nname = \"{id} さん\"\nrole = \"{role}\"\npin_hash = \"{}\"\n{extra}",
            hash_pin(pin)
        ));
    }
    let path = data.join("edge.toml");
    std::fs::write(&path, cfg).expect("config");
    let bin = binary("checkup-edge", "checkup-edge").expect("edge binary");
    let p = path.display().to_string();
    let b = Process::start(
        &bin,
        &["run", "--config", &p, "--insecure-dev"],
        Duration::from_secs(60),
    )
    .expect("box starts");
    let mut sessions = Vec::new();
    for (id, pin, role, _) in staff {
        sessions.push((*role, sign_in(&b.url, "/api/login", id, pin).await));
    }
    // Something to find: a roster and one resident checked in.
    let http = reqwest::Client::new();
    let admin = &sessions[4].1["Cookie: ".len()..];
    let roster = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n\
                  0000000001,試験　一郎,シケン　イチロウ,1960-01-01,male,みどり市中央1丁目1番,特定健診,09:00\n\
                  0000000002,試験　花子,シケン　ハナコ,1962-02-02,female,みどり市中央1丁目2番,特定健診,09:10\n";
    let r = http
        .post(format!("{}/api/roster/import", b.url))
        .header("cookie", admin)
        .header("content-type", "text/csv")
        .body(roster)
        .send()
        .await
        .expect("roster");
    assert_eq!(r.status(), 200, "roster import");
    let r = http
        .post(format!("{}/api/reception/check-in", b.url))
        .header("cookie", admin)
        .json(&json!({"id": Uuid::now_v7(), "resident_id": "0000000001"}))
        .send()
        .await
        .expect("check-in");
    assert_eq!(r.status(), 201, "check-in");
    (b, sessions)
}

/// Central on a PostgreSQL database of its own, with staff of each of its roles, one
/// enrolled box (its secret returned) and a stored batch.
async fn start_central(
    dir: &Path,
    database: &str,
) -> (Process, Vec<(&'static str, String)>, String) {
    let port = free_port();
    let key = NodeKey::generate();
    let secret = format!("secret-{}", Uuid::now_v7().simple());
    let venue = "st-venue";
    let mut cfg = format!(
        "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\ndatabase = \"{database}\"\n\n\
         [[boxes]]\nnode = \"edge-01\"\nvenue = \"{venue}\"\nmunicipality = \"midori\"\n\
         public_key = \"{}\"\nsecret_sha256 = \"{}\"\n",
        dir.join("central").display(),
        key.verifying_key().to_base64(),
        sha256_hex(&secret)
    );
    let staff: &[(&str, &str, &str)] = &[
        ("C1", "1234", "central_admin"),
        ("K1", "2468", "caseworker"),
        ("W1", "5551", "child_welfare_clerk"),
        ("N1", "1357", "nurse"),
    ];
    for (id, pin, role) in staff {
        cfg.push_str(&format!(
            "\n[[staff]]\nid = \"{id}\"\nname = \"{id} さん\"\nrole = \"{role}\"\npin_hash = \"{}\"\n",
            hash_pin(pin)
        ));
    }
    // MHLW's files, so the 特定健診 routes answer beyond `tokutei_not_configured`.
    let standards = checkup_tests::tokutei_day::standards();
    cfg.push_str(&format!(
        "\n[tokutei]\ninstitution_number = \"1312345678\"\nxsd_dir = \"{}\"\nitem_table = \"{}\"\n",
        standards.join("XSD").display(),
        standards.join("items-hc24.csv").display()
    ));
    let path = dir.join("central.toml");
    std::fs::write(&path, cfg).expect("config");
    let bin = binary("checkup-central", "checkup-central").expect("central binary");
    let p = path.display().to_string();
    let c = Process::start(
        &bin,
        &["run", "--config", &p, "--insecure-dev"],
        Duration::from_secs(60),
    )
    .expect("central starts");
    let mut sessions = Vec::new();
    for (id, pin, role) in staff {
        sessions.push((*role, sign_in(&c.url, "/v1/login", id, pin).await));
    }
    // Something to find: a resident's session and a height.
    let session = Uuid::now_v7();
    let seal = |seq: u64, body| {
        Event::seal(
            Uuid::now_v7(),
            venue,
            "edge-01",
            seq,
            Hlc {
                ms: 1_795_568_400_000 + seq,
                c: 0,
            },
            Actor {
                staff_id: "N1".into(),
                role: Role::Nurse,
            },
            body,
            &key,
        )
    };
    let batch = vec![
        seal(
            1,
            EventBody::SessionOpened(SessionOpened {
                session_id: session,
                resident_id: "0000000001".into(),
                stations: vec![StationKind::Measurement],
                card: None,
                insurer: None,
            }),
        ),
        seal(
            2,
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id: session,
                resident_id: "0000000001".into(),
                station: StationKind::Measurement,
                item_code: "9N001000000000001".into(),
                value: MeasuredValue::Number(165.2),
                unit: "cm".into(),
                confirmed: false,
                answered: None,
            }),
        ),
    ];
    let r = reqwest::Client::new()
        .post(format!("{}/v1/batches", c.url))
        .bearer_auth(&secret)
        .json(&batch)
        .send()
        .await
        .expect("batch");
    assert_eq!(r.status(), 200, "batch stored");
    (c, sessions, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_every_answer_as_documented() {
    let st = schemathesis().unwrap_or_else(|e| panic!("{e}"));
    let examples: u32 = std::env::var("CHECKUP_SCHEMATHESIS_EXAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("dir");
    let db = checkup_tests::pg::TempDatabase::create("checkup_st")
        .await
        .expect("PostgreSQL");
    let (edge, edge_sessions) = start_box(dir.path()).await;
    let (central, central_sessions, secret) = start_central(dir.path(), &db.url()).await;

    // Left out of every box run, each because it must be: the sign-outs would end the run's
    // own session half-way; the event streams never end (they are in the document, and the
    // unit tests check how they are described).
    let edge_exclude = Some("^/api/logout$|^/logout$|^/api/(board|card|intake|cases)/events$");
    // The venue admin may start a rehearsal: a process of its own beside the box, for each
    // valid example. Its start is left out of that role's run (the other roles' runs send
    // it and are refused; the switch is tests/tests/training_switch.rs').
    let admin_exclude = Some(
        "^/api/logout$|^/logout$|^/api/(board|card|intake|cases)/events$|^/api/training/start$",
    );
    // Every role's run sends each operation generated requests; the roles that reach the most
    // of the box (venue admin: the checkup side; clerk: intake) also get schemathesis'
    // boundary cases (the coverage phase), which find most malformed-input faults.
    let mut runs = vec![Run {
        service: "box",
        who: "anonymous",
        url: &edge.url,
        headers: Vec::new(),
        exclude: edge_exclude,
        include: None,
        phases: "fuzzing",
    }];
    for (role, cookie) in &edge_sessions {
        runs.push(Run {
            service: "box",
            who: role,
            url: &edge.url,
            headers: vec![cookie.clone()],
            exclude: if *role == "venue_admin" {
                admin_exclude
            } else {
                edge_exclude
            },
            include: None,
            phases: if matches!(*role, "venue_admin" | "child_welfare_clerk") {
                "coverage,fuzzing"
            } else {
                "fuzzing"
            },
        });
    }
    // The boxes' routes are run with a box's secret; central's sign-out (it would end the
    // run's own session half-way) and its flag stream (it never ends) are left out of the
    // staff runs, as the box's are.
    let boxes_only = "^/v1/(batches|wipes|questionnaire/answers/lookup)$";
    let staff_exclude = "^/v1/(batches|wipes|questionnaire/answers/lookup|logout|flags/stream)$";
    runs.push(Run {
        service: "central",
        who: "anonymous",
        url: &central.url,
        headers: Vec::new(),
        exclude: None,
        include: None,
        phases: "fuzzing",
    });
    for (role, cookie) in &central_sessions {
        runs.push(Run {
            service: "central",
            who: role,
            url: &central.url,
            headers: vec![cookie.clone()],
            exclude: Some(staff_exclude),
            include: None,
            phases: "coverage,fuzzing",
        });
    }
    runs.push(Run {
        service: "central",
        who: "box",
        url: &central.url,
        headers: vec![format!("Authorization: Bearer {secret}")],
        exclude: None,
        include: Some(boxes_only),
        phases: "coverage,fuzzing",
    });

    // Two schemathesis processes at a time (each with one worker thread, see `run`); the
    // results are gathered in the runs' order.
    let started = std::time::Instant::now();
    let mut total = Counts::default();
    let mut failures = Vec::new();
    let results: Vec<_> = futures::stream::iter(runs.iter())
        .map(|r| run(&st, r, examples, dir.path()))
        .buffered(2)
        .collect()
        .await;
    for (c, failed) in results {
        total += c;
        failures.extend(failed);
    }
    let summary = format!(
        "schemathesis, {} runs in {:.0} s: {} operations, {} examples, {} checks ({} passed), \
         {} examples failing, {} errors",
        runs.len(),
        started.elapsed().as_secs_f64(),
        total.operations,
        total.examples,
        total.checks,
        total.passed,
        total.failures,
        total.errors
    );
    println!("{summary}");
    drop(edge);
    drop(central);
    db.drop_now().await;
    assert!(
        failures.is_empty(),
        "{summary}\n\n{}",
        failures.join("\n\n")
    );
    assert!(
        total.examples > 0 && total.checks > 0 && total.passed == total.checks,
        "schemathesis ran nothing: {summary}"
    );
}
