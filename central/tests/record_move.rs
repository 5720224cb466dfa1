//! A record that moves with the resident (seed story: a resident of E市 moves, and their
//! records used to stop at the municipal border): two real centrals in one test — A on
//! SQLite and B on this machine's PostgreSQL, and the reverse. A holds a resident's
//! checkups of two years, put in through the real ingest (signed batches on
//! `POST /v1/batches`, a correction among them); A exports the resident's record over HTTP
//! as standard 特定健診 documents; B imports them for its own, differently numbered
//! resident. B's record then shows both years, marked with where they came from, with the
//! same values, codes and units as A's. Importing again stores nothing; every refusal
//! (birth date, sex, not a zip, a document the XSDs refuse, a non-admin) stores nothing.
//! The command line does the same round trip.

use std::path::{Path, PathBuf};

use checkup_central::config::{BoxConfig, Config, StaffConfig, TokuteiConfig, secret_digest};
use checkup_central::server::Central;
use checkup_protocol::{
    Actor, Event, EventBody, Hlc, InsurerIdentity, MeasuredValue, MeasurementCorrected,
    MeasurementRecorded, NodeKey, Role, SessionOpened, StationKind,
};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "e-city-box-secret";
/// 2025-06-10 10:00 JST and 2026-06-09 10:00 JST.
const YEAR1_MS: u64 = 1_749_517_200_000;
const YEAR2_MS: u64 = 1_780_966_800_000;

fn standards() -> PathBuf {
    std::env::var_os("CHECKUP_STANDARDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards"))
        .join("tokutei-v4")
}

struct Node {
    url: String,
    http: reqwest::Client,
    config: Config,
    config_file: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pg: Option<checkup_tests::pg::TempDatabase>,
    _dir: tempfile::TempDir,
}

/// A central of municipality `name` (its `[tokutei]` sender named `name`), on PostgreSQL or
/// SQLite, serving on a free port in this process.
async fn central(postgres: bool, name: &str, number: &str, key: &NodeKey) -> Node {
    let dir = tempfile::tempdir().expect("dir");
    let pg = if postgres {
        Some(
            checkup_tests::pg::TempDatabase::create("checkup_move")
                .await
                .expect("database"),
        )
    } else {
        None
    };
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database: pg.as_ref().map_or("sqlite".into(), |d| d.url()),
        boxes: vec![BoxConfig {
            node: "edge-01".into(),
            venue: "city-day1".into(),
            municipality: "city".into(),
            public_key: key.verifying_key().to_base64(),
            secret_sha256: secret_digest(SECRET),
        }],
        staff: vec![
            StaffConfig {
                id: "C1".into(),
                name: "保健 太郎".into(),
                role: Role::CentralAdmin,
                pin_hash: checkup_provisioning::pin::hash("1234").expect("hash"),
                duty: Default::default(),
            },
            StaffConfig {
                id: "W1".into(),
                name: "相談 花子".into(),
                role: Role::Caseworker,
                pin_hash: checkup_provisioning::pin::hash("5678").expect("hash"),
                duty: Default::default(),
            },
        ],
        tokutei: Some(TokuteiConfig {
            institution_number: Some(number.into()),
            institution_name: Some(name.into()),
            xsd_dir: Some(standards().join("XSD")),
            item_table: Some(standards().join("items-hc24.csv")),
            ..TokuteiConfig::default()
        }),
        ..Config::default()
    };
    let config_file = dir.path().join("central.toml");
    std::fs::write(
        &config_file,
        toml::to_string(&config).expect("configuration as TOML"),
    )
    .expect("write configuration");
    let c = Central::open(&config).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = c
            .serve(listener, async move {
                let _ = rx.await;
            })
            .await;
    });
    Node {
        url,
        http: reqwest::Client::new(),
        config,
        config_file,
        stop: Some(tx),
        pg,
        _dir: dir,
    }
}

impl Node {
    async fn login(&self, id: &str, pin: &str) -> String {
        let r = self
            .http
            .post(format!("{}/v1/login", self.url))
            .json(&json!({"staff_id": id, "pin": pin}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200);
        r.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("cookie")
            .to_owned()
    }

    async fn register(&self, cookie: &str, csv: &str) {
        let r = self
            .http
            .post(format!("{}/v1/residents", self.url))
            .header("cookie", cookie)
            .header("content-type", "text/csv")
            .body(format!(
                "resident_id,name,name_kana,birth_date,sex,address\n{csv}"
            ))
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), 200);
    }

    async fn record(&self, cookie: &str, id: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/v1/residents/{id}/record", self.url))
            .header("cookie", cookie)
            .send()
            .await
            .expect("record");
        assert_eq!(r.status(), 200);
        r.json().await.expect("json")
    }

    async fn export(&self, cookie: &str, id: &str) -> (u16, Option<String>, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}/v1/residents/{id}/tokutei.zip", self.url))
            .header("cookie", cookie)
            .send()
            .await
            .expect("export");
        let status = r.status().as_u16();
        let disposition = r
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, disposition, r.bytes().await.expect("body").to_vec())
    }

    async fn import(&self, cookie: &str, id: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/v1/residents/{id}/imports", self.url))
            .header("cookie", cookie)
            .header("content-type", "application/zip")
            .body(body)
            .send()
            .await
            .expect("import");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn audit_actions(&self) -> Vec<String> {
        let db = checkup_central::db::open(&self.config).await.expect("db");
        let snapshot = db.audit_snapshot().await.expect("audit");
        snapshot
            .entries
            .into_iter()
            .map(|e| format!("{} {} {}", e.staff_id, e.action, e.subject))
            .collect()
    }

    async fn finish(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(db) = self.pg.take() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            db.drop_now().await;
        }
    }
}

fn seal(key: &NodeKey, seq: u64, ms: u64, body: EventBody) -> Event {
    Event::seal(
        Uuid::now_v7(),
        "city-day1",
        "edge-01",
        seq,
        Hlc { ms, c: 0 },
        Actor {
            staff_id: "N1".into(),
            role: Role::Nurse,
        },
        body,
        key,
    )
}

/// One checkup of resident `resident` at `ms` (seqs from `seq`): the insurer identity at
/// check-in, body measurements, two blood-pressure readings, HbA1c, a urine grade, the
/// blood-draw time and questionnaire answers; in the second year the height is corrected.
fn checkup(key: &NodeKey, seq: u64, ms: u64, resident: &str, second: bool) -> Vec<Event> {
    let session = Uuid::now_v7();
    let mut events = vec![seal(
        key,
        seq,
        ms,
        EventBody::SessionOpened(SessionOpened {
            session_id: session,
            resident_id: resident.into(),
            stations: vec![
                StationKind::Questionnaire,
                StationKind::Measurement,
                StationKind::BloodPressure,
                StationKind::Urine,
                StationKind::BloodDraw,
            ],
            card: None,
            insurer: Some(InsurerIdentity {
                insurer_number: "138057".into(),
                symbol: None,
                number: "７８９".into(),
                branch: None,
                ticket_number: None,
                ticket_expiry: None,
            }),
        }),
    )];
    let results: Vec<(&str, MeasuredValue, &str)> = vec![
        (
            "9N001000000000001",
            MeasuredValue::Number(if second { 158.0 } else { 158.4 }),
            "cm",
        ),
        (
            "9N006000000000001",
            MeasuredValue::Number(if second { 56.3 } else { 54.9 }),
            "kg",
        ),
        (
            "9N016160100000001",
            MeasuredValue::Number(if second { 82.5 } else { 79.0 }),
            "cm",
        ),
        (
            "9A751000000000001",
            MeasuredValue::Number(if second { 134.0 } else { 128.0 }),
            "mmHg",
        ),
        (
            "9A752000000000001",
            MeasuredValue::Number(if second { 131.0 } else { 125.0 }),
            "mmHg",
        ),
        ("9A761000000000001", MeasuredValue::Number(84.0), "mmHg"),
        ("9A762000000000001", MeasuredValue::Number(80.0), "mmHg"),
        (
            "3D046000001999902",
            MeasuredValue::Number(if second { 5.9 } else { 5.6 }),
            "%",
        ),
        (
            "1A020000000191111",
            MeasuredValue::Text(if second { "±" } else { "-" }.into()),
            "",
        ),
        ("9N141000000000011", MeasuredValue::Text("2".into()), ""),
        ("9N701000000000011", MeasuredValue::Text("2".into()), ""),
        (
            "9N736000000000011",
            MeasuredValue::Text(if second { "1" } else { "2" }.into()),
            "",
        ),
    ];
    let mut first_height = None;
    for (i, (code, value, unit)) in results.into_iter().enumerate() {
        let e = seal(
            key,
            seq + 1 + i as u64,
            ms + 1000 * (i as u64 + 1),
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id: session,
                resident_id: resident.into(),
                station: checkup_protocol::items::item(code)
                    .map_or(StationKind::Measurement, |i| i.station),
                item_code: code.into(),
                value,
                unit: unit.into(),
                confirmed: false,
                answered: None,
            }),
        );
        if code == "9N001000000000001" {
            first_height = Some(e.id);
        }
        events.push(e);
    }
    if second && let Some(corrects) = first_height {
        let n = events.len() as u64;
        events.push(seal(
            key,
            seq + n,
            ms + 60_000,
            EventBody::MeasurementCorrected(MeasurementCorrected {
                session_id: session,
                resident_id: resident.into(),
                corrects,
                item_code: "9N001000000000001".into(),
                value: MeasuredValue::Number(158.1),
                unit: "cm".into(),
                reason: "転記ミス".into(),
                confirmed: false,
                answered: None,
            }),
        ));
    }
    events
}

/// Post a batch as the enrolled box does.
async fn ingest(node: &Node, events: &[Event]) {
    let r = node
        .http
        .post(format!("{}/v1/batches", node.url))
        .bearer_auth(SECRET)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(events).expect("json"))
        .send()
        .await
        .expect("batch");
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

/// A value as compared across centrals: codes unquoted, numbers as numbers.
fn norm(v: &str) -> String {
    let v = v.trim_matches('"');
    match v.parse::<f64>() {
        Ok(n) if v.contains('.') || v.len() > 1 => format!("{n}"),
        _ => v.to_owned(),
    }
}

/// The dipstick grade of a code (1 − … 5 ＋＋＋).
fn grade_code(v: &str) -> &str {
    match v {
        "-" => "1",
        "±" => "2",
        "+" => "3",
        "2+" => "4",
        other => other,
    }
}

/// Rewrite one DATA file of an archive with `edit`.
fn edit_first_document(zip_bytes: &[u8], edit: impl Fn(&str) -> String) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut input = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("zip");
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        let mut edited = false;
        for i in 0..input.len() {
            let mut entry = input.by_index(i).expect("entry");
            let name = entry.name().expect("entry name").into_owned();
            let options = zip::write::SimpleFileOptions::default();
            if entry.is_dir() {
                w.add_directory(name, options).expect("dir");
                continue;
            }
            let mut content = Vec::new();
            entry.read_to_end(&mut content).expect("read");
            if !edited && name.contains("/DATA/") {
                content = edit(&String::from_utf8(content).expect("utf-8")).into_bytes();
                edited = true;
            }
            w.start_file(name, options).expect("start");
            w.write_all(&content).expect("write");
        }
        assert!(edited, "the archive has a DATA file");
        w.finish().expect("finish");
    }
    out.into_inner()
}

fn imported(record: &Value) -> Vec<&Value> {
    record["checkups"]
        .as_array()
        .expect("checkups")
        .iter()
        .filter(|c| !c["origin"].is_null())
        .collect()
}

async fn scenario(a_postgres: bool, b_postgres: bool) {
    let key_a = NodeKey::generate();
    let key_b = NodeKey::generate();
    let a = central(a_postgres, "E市保健センター", "2712345678", &key_a).await;
    let b = central(b_postgres, "みどり市保健センター", "1312345670", &key_b).await;
    let (ca, cb) = (a.login("C1", "1234").await, b.login("C1", "1234").await);

    // E市: the resident and two years of checkups, through the real ingest.
    a.register(
        &ca,
        "0000000042,健診　花子,ケンシン　ハナコ,1960-04-01,女,E市本町1-1\n",
    )
    .await;
    let mut events = checkup(&key_a, 1, YEAR1_MS, "0000000042", false);
    let next = events.len() as u64 + 1;
    events.extend(checkup(&key_a, next, YEAR2_MS, "0000000042", true));
    ingest(&a, &events).await;
    let record_a = a.record(&ca, "0000000042").await;
    let a_checkups = record_a["checkups"].as_array().expect("checkups");
    assert_eq!(a_checkups.len(), 2, "{record_a}");

    // みどり市: the same person under its own number; two others for the refusals.
    b.register(
        &cb,
        "M-7781,健診　花子,ケンシン　ハナコ,1960-04-01,女,みどり市中央2-3\n\
         M-9000,別人　花子,ベツジン　ハナコ,1961-04-01,女,みどり市中央2-4\n\
         M-9001,健診　花男,ケンシン　ハナオ,1960-04-01,男,みどり市中央2-5\n\
         M-9002,健診　花子,ケンシン　ハナコ,1960-04-01,女,みどり市中央2-6\n\
         M-9003,伊藤　茂子,イトウ　シゲコ,1960-04-01,女,みどり市中央2-7\n",
    )
    .await;

    // Only a central admin exports and imports.
    let wa = a.login("W1", "5678").await;
    assert_eq!(a.export(&wa, "0000000042").await.0, 403);
    let wb = b.login("W1", "5678").await;
    assert_eq!(b.import(&wb, "M-7781", b"PK".to_vec()).await.0, 403);

    // Export at A.
    let (status, disposition, zip_bytes) = a.export(&ca, "0000000042").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&zip_bytes));
    let disposition = disposition.expect("a file name");
    assert!(
        disposition.contains("2712345678_00138057_"),
        "{disposition}"
    );
    assert!(
        a.audit_actions()
            .await
            .iter()
            .any(|e| e.starts_with("C1 export_record 0000000042")),
        "the export is audited"
    );
    // It is the standard archive: two documents, read back by the reader.
    let table =
        checkup_central::tokutei::items::ItemTable::load(&standards().join("items-hc24.csv"))
            .expect("table");
    let parsed = checkup_central::tokutei::parse::parse_archive("e.zip", &zip_bytes, &table)
        .expect("the standard archive");
    assert_eq!(parsed.documents.len(), 2);
    assert_eq!(parsed.index.total_record_count, 2);

    // Refusals at B, each storing nothing.
    let (s, v) = b.import(&cb, "M-9000", zip_bytes.clone()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("resident_mismatch")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("生年月日")),
        "{v}"
    );
    assert!(imported(&b.record(&cb, "M-9000").await).is_empty());
    let (s, v) = b.import(&cb, "M-9001", zip_bytes.clone()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("resident_mismatch")),
        "{v}"
    );
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("性別")),
        "{v}"
    );
    assert!(imported(&b.record(&cb, "M-9001").await).is_empty());
    // Born the same day, the same sex, another person: the kana name tells them apart.
    let (s, v) = b.import(&cb, "M-9003", zip_bytes.clone()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("resident_mismatch")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("氏名") && m.contains("イトウ")),
        "{v}"
    );
    assert!(imported(&b.record(&cb, "M-9003").await).is_empty());
    // A central's own export taken back in would show each checkup twice: refused.
    let (s, v) = a.import(&ca, "0000000042", zip_bytes.clone()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("resident_mismatch")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("2712345678")),
        "{v}"
    );
    assert!(imported(&a.record(&ca, "0000000042").await).is_empty());
    // A line break or a bidi override in a path is kept in the audit trail as an escape:
    // no forged line, nothing reordered.
    a.record(&ca, "x%0AC1%20import_record%20y%E2%80%AE").await;
    let actions = a.audit_actions().await;
    assert!(
        actions
            .iter()
            .any(|e| e == "C1 view_record x\\u{a}C1 import_record y\\u{202e}"),
        "{actions:?}"
    );
    assert!(actions.iter().all(|e| !e.contains('\n')), "{actions:?}");
    let (s, v) = b.import(&cb, "M-9002", b"not a zip at all".to_vec()).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("not_a_zip")), "{v}");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("zip")),
        "{v}"
    );
    // A document the XSDs refuse (an element hc08 does not have): its reader would take it.
    let invalid = edit_first_document(&zip_bytes, |xml| {
        xml.replacen(
            "<languageCode code=\"ja-JP\"/>",
            "<languageCode code=\"ja-JP\"/><unknownElement/>",
            1,
        )
    });
    assert_ne!(invalid, zip_bytes);
    let (s, v) = b.import(&cb, "M-9002", invalid).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("schema_invalid")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("hc08_V08.xsd") && m.contains("/DATA/h")),
        "{v}"
    );
    assert!(imported(&b.record(&cb, "M-9002").await).is_empty());

    // Import at B for its own number.
    let (s, v) = b.import(&cb, "M-7781", zip_bytes.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!({"documents": 2, "new": 2, "held": 0}));
    let record_b = b.record(&cb, "M-7781").await;
    let moved = imported(&record_b);
    assert_eq!(moved.len(), 2, "{record_b}");
    assert_eq!(moved[0]["date"], "2025-06-10");
    assert_eq!(moved[1]["date"], "2026-06-09");
    for c in &moved {
        assert_eq!(c["origin"]["institution_number"], "2712345678");
        assert_eq!(
            c["origin"]["label_ja"],
            "転入前の記録（E市保健センターから）"
        );
        assert_eq!(c["origin"]["imported_by"], "C1");
        // 階層化 as the document carries it (9N501, 9N506).
        let items = c["items"].as_array().expect("items");
        let code_of = |code: &str| {
            items
                .iter()
                .find(|i| i["item_code"] == code)
                .and_then(|i| i["value"].as_str())
        };
        assert_eq!(
            c["stratification"]["metabolic_code"].as_str(),
            code_of("9N501000000000011"),
            "{c}"
        );
        assert_eq!(
            c["stratification"]["guidance_code"].as_str(),
            code_of("9N506000000000011"),
            "{c}"
        );
        assert!(c["stratification"]["metabolic_code"].is_string(), "{c}");
    }
    // The same values, codes and units as A holds, checkup by checkup.
    for (ca_checkup, cb_checkup) in a_checkups.iter().zip(&moved) {
        assert_eq!(ca_checkup["date"], cb_checkup["date"]);
        let b_items = cb_checkup["items"].as_array().expect("items");
        for item in ca_checkup["items"].as_array().expect("items") {
            let code = item["item_code"].as_str().expect("code");
            let there = b_items
                .iter()
                .find(|i| i["item_code"] == code)
                .unwrap_or_else(|| panic!("{code} is in B's record: {cb_checkup}"));
            let a_value = item["value"].as_str().expect("value");
            let expected = if code.starts_with("1A0") {
                grade_code(a_value.trim_matches('"')).to_owned()
            } else {
                norm(a_value)
            };
            assert_eq!(
                norm(there["value"].as_str().expect("value")),
                expected,
                "{code}"
            );
            assert_eq!(there["unit"], item["unit"], "{code}");
            if code.starts_with("1A0") {
                // A urine grade reads as its standard grade.
                assert!(
                    there["value_ja"].as_str().is_some_and(|g| !g.is_empty()),
                    "{code}"
                );
            } else {
                assert_eq!(there["value_ja"], item["value_ja"], "{code} as text");
            }
        }
    }
    // The corrected height travelled, not the first one.
    let height = |c: &Value| {
        c["items"]
            .as_array()
            .and_then(|i| i.iter().find(|i| i["item_code"] == "9N001000000000001"))
            .and_then(|i| i["value"].as_str())
            .map(norm)
    };
    assert_eq!(height(moved[1]).as_deref(), Some("158.1"));
    // Year over year: each item's series holds both years, with the origin.
    let waist = record_b["series"]["9N016160100000001"]
        .as_array()
        .expect("series");
    assert_eq!(waist.len(), 2);
    assert!(waist.iter().all(|p| p["origin"] == "E市保健センター"));
    assert_eq!(
        waist
            .iter()
            .map(|p| norm(p["value"].as_str().unwrap_or("")))
            .collect::<Vec<_>>(),
        ["79", "82.5"]
    );
    assert!(
        b.audit_actions()
            .await
            .iter()
            .any(|e| e == "C1 import_record M-7781: 2 new, 0 held"),
        "the import is audited"
    );

    // Again: nothing new.
    let (s, v) = b.import(&cb, "M-7781", zip_bytes.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!({"documents": 2, "new": 0, "held": 2}));
    assert_eq!(imported(&b.record(&cb, "M-7781").await).len(), 2);

    // The command line: export at A, import at B for another of its numbers.
    let bin = env!("CARGO_BIN_EXE_checkup-central");
    let out_dir = tempfile::tempdir().expect("dir");
    let out = std::process::Command::new(bin)
        .args(["export", "record", "--config"])
        .arg(&a.config_file)
        .args(["--resident", "0000000042", "--xsd-dir"])
        .arg(standards().join("XSD"))
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .expect("export record");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        path.ends_with(".zip") && Path::new(&path).is_file(),
        "{path}"
    );
    let run_import = |resident: &str| {
        std::process::Command::new(bin)
            .args(["import", "record", "--config"])
            .arg(&b.config_file)
            .args(["--resident", resident, &path])
            .output()
            .expect("import record")
    };
    let out = run_import("M-9002");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 new"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(imported(&b.record(&cb, "M-9002").await).len(), 2);
    let out = run_import("M-9000");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a birth-date mismatch is refused"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("生年月日"));
    assert!(imported(&b.record(&cb, "M-9000").await).is_empty());

    a.finish().await;
    b.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_moves_from_sqlite_to_postgresql() {
    scenario(false, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_moves_from_postgresql_to_sqlite() {
    scenario(true, false).await;
}
