//! Central's ingest API and resident record, against a real central on SQLite and on the
//! real PostgreSQL of this machine (127.0.0.1:5432, a database created and dropped here):
//! every bad batch is refused whole with a reason, replays and overlaps are harmless, and
//! the record and the export show corrected values, audited and for the right roles only.

use checkup_central::config::{BoxConfig, Config, StaffConfig, secret_digest};
use checkup_central::server::Central;
use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementCorrected, MeasurementRecorded,
    NodeKey, Role, SessionOpened, StationKind,
};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "box-one-secret";

struct Fixture {
    url: String,
    http: reqwest::Client,
    key: NodeKey,
    foreign_key: NodeKey,
    stop: tokio_util_stop::Stop,
    _dir: tempfile::TempDir,
    pg_db: Option<checkup_tests::pg::TempDatabase>,
    config: Config,
}

mod tokio_util_stop {
    /// Resolves the server's shutdown future when dropped or triggered.
    pub struct Stop(pub Option<tokio::sync::oneshot::Sender<()>>);
    impl Stop {
        pub fn now(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }
}

async fn fixture(postgres: bool) -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let key = NodeKey::generate();
    let foreign_key = NodeKey::generate();
    let pg_db = if postgres {
        Some(
            checkup_tests::pg::TempDatabase::create("checkup_test")
                .await
                .expect("database"),
        )
    } else {
        None
    };
    let mut boxes = vec![BoxConfig {
        node: "edge-01".into(),
        venue: "midori-day1".into(),
        municipality: "midori".into(),
        public_key: key.verifying_key().to_base64(),
        secret_sha256: secret_digest(SECRET),
    }];
    if postgres {
        // Another municipality's box: PostgreSQL serves several, SQLite one.
        boxes.push(BoxConfig {
            node: "edge-x1".into(),
            venue: "aoba-day1".into(),
            municipality: "aoba".into(),
            public_key: foreign_key.verifying_key().to_base64(),
            secret_sha256: secret_digest("aoba-secret"),
        });
    }
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database: pg_db.as_ref().map_or("sqlite".into(), |d| d.url()),
        max_batch_events: 50,
        max_batch_bytes: 64 * 1024,
        municipality: Some("midori".into()),
        boxes,
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
        ..Config::default()
    };
    let central = Central::open(&config).await.expect("open");
    let config_copy = config.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = central
            .serve(listener, async move {
                let _ = rx.await;
            })
            .await;
    });
    Fixture {
        url,
        http: reqwest::Client::new(),
        key,
        foreign_key,
        stop: tokio_util_stop::Stop(Some(tx)),
        _dir: dir,
        pg_db,
        config: config_copy,
    }
}

impl Fixture {
    async fn post(&self, secret: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut r = self
            .http
            .post(format!("{}/v1/batches", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = secret {
            r = r.bearer_auth(s);
        }
        let r = r.send().await.expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn healthz(&self) -> Value {
        self.http
            .get(format!("{}/healthz", self.url))
            .send()
            .await
            .expect("healthz")
            .json()
            .await
            .expect("json")
    }

    async fn events(&self) -> u64 {
        self.healthz().await["events"].as_u64().unwrap_or(u64::MAX)
    }

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

    async fn get(&self, cookie: &str, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", cookie)
            .send()
            .await
            .expect("get");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    async fn finish(mut self) {
        self.stop.now();
        if let Some(db) = self.pg_db.take() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            db.drop_now().await;
        }
    }
}

fn seal(key: &NodeKey, venue: &str, node: &str, seq: u64, ms: u64, body: EventBody) -> Event {
    Event::seal(
        Uuid::now_v7(),
        venue,
        node,
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

/// The body of a session closing (what these tests use where any event will do).
fn closed() -> EventBody {
    EventBody::SessionClosed(checkup_protocol::SessionClosed {
        session_id: Uuid::now_v7(),
        reason: None,
    })
}

fn json_of(events: &[Event]) -> Vec<u8> {
    serde_json::to_vec(events).expect("json")
}

/// 2026-11-25 10:00 JST.
const DAY_MS: u64 = 1_795_568_400_000;

fn checkup(key: &NodeKey, first_seq: u64, session: Uuid, ms: u64) -> Vec<Event> {
    let v = "midori-day1";
    let opened = seal(
        key,
        v,
        "edge-01",
        first_seq,
        ms,
        EventBody::SessionOpened(SessionOpened {
            session_id: session,
            resident_id: "0000000042".into(),
            stations: vec![StationKind::Measurement],
            card: None,
            insurer: None,
        }),
    );
    let height = seal(
        key,
        v,
        "edge-01",
        first_seq + 1,
        ms + 1000,
        EventBody::MeasurementRecorded(MeasurementRecorded {
            session_id: session,
            resident_id: "0000000042".into(),
            station: StationKind::Measurement,
            item_code: "9N001000000000001".into(),
            value: MeasuredValue::Number(165.2),
            unit: "cm".into(),
            confirmed: false,
            answered: None,
        }),
    );
    let corrected = seal(
        key,
        v,
        "edge-01",
        first_seq + 2,
        ms + 2000,
        EventBody::MeasurementCorrected(MeasurementCorrected {
            session_id: session,
            resident_id: "0000000042".into(),
            corrects: height.id,
            item_code: "9N001000000000001".into(),
            value: MeasuredValue::Number(156.2),
            unit: "cm".into(),
            reason: "転記ミス".into(),
            confirmed: false,
            answered: None,
        }),
    );
    vec![opened, height, corrected]
}

async fn scenario(postgres: bool) {
    let f = fixture(postgres).await;
    let batch = checkup(&f.key, 1, Uuid::now_v7(), DAY_MS);

    // No or wrong secret.
    assert_eq!(f.post(None, json_of(&batch)).await.0, 401);
    let (s, v) = f.post(Some("guess"), json_of(&batch)).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("unauthenticated")));

    // Bad batches: refused whole, with a reason, nothing stored.
    let mut unknown_version = serde_json::to_value(&batch).expect("json");
    unknown_version[1]["format"] = json!(99);
    let mut tampered = batch.clone();
    tampered[2].seq = 9;
    let foreign = vec![seal(&f.key, "aoba-day1", "edge-01", 1, DAY_MS, closed())];
    let too_many: Vec<Event> = (1..=51)
        .map(|i| seal(&f.key, "midori-day1", "edge-01", i, DAY_MS, closed()))
        .collect();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("not JSON", b"{nope".to_vec(), 400, "malformed_batch"),
        ("not an array", b"{}".to_vec(), 400, "malformed_batch"),
        (
            "unknown format version",
            serde_json::to_vec(&unknown_version).expect("json"),
            422,
            "unknown_format_version",
        ),
        ("altered event", json_of(&tampered), 422, "bad_signature"),
        (
            "another municipality's venue",
            json_of(&foreign),
            422,
            "foreign_municipality",
        ),
        (
            "too many events",
            json_of(&too_many),
            413,
            "batch_too_large",
        ),
        (
            "too many bytes",
            vec![b' '; 65 * 1024],
            413,
            "batch_too_large",
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, v) = f.post(Some(SECRET), body).await;
        assert_eq!(s, status, "{what}: {v}");
        assert_eq!(v["error"].as_str(), Some(code), "{what}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(f.events().await, 0, "nothing half-applied");
    // A box of another municipality (PostgreSQL serves several; SQLite one, where the
    // second box is not enrolled) cannot send this one's venue either.
    let (s, v) = f.post(Some("aoba-secret"), json_of(&batch)).await;
    let (refused_as, counts) = if f.pg_db.is_some() {
        (
            (422, Some("foreign_municipality")),
            json!({"unauthenticated": 2, "malformed_batch": 2, "unknown_format_version": 1,
                   "bad_signature": 1, "foreign_municipality": 2, "batch_too_large": 2}),
        )
    } else {
        (
            (401, Some("unauthenticated")),
            json!({"unauthenticated": 3, "malformed_batch": 2, "unknown_format_version": 1,
                   "bad_signature": 1, "foreign_municipality": 1, "batch_too_large": 2}),
        )
    };
    assert_eq!((s, v["error"].as_str()), refused_as);
    // Every refusal is counted by reason: the altered event among them.
    assert_eq!(f.healthz().await["rejected"], counts);

    // Accepted; then a replay and an overlap change nothing.
    let (s, v) = f.post(Some(SECRET), json_of(&batch)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["acked"]["edge-01"], 3);
    assert_eq!(v["new"], 3);
    let (s, v) = f.post(Some(SECRET), json_of(&batch)).await;
    assert_eq!(
        (s, v["new"].clone(), v["duplicate"].clone()),
        (200, json!(0), json!(3))
    );
    let later = checkup(&f.key, 4, Uuid::now_v7(), DAY_MS + 366 * 86_400_000);
    let mut overlap = batch[1..].to_vec();
    overlap.extend(later[..2].iter().cloned());
    let (s, v) = f.post(Some(SECRET), json_of(&overlap)).await;
    assert_eq!(
        (s, v["new"].clone(), v["acked"]["edge-01"].clone()),
        (200, json!(2), json!(5))
    );
    // A gap: seq 7 before 6 → acked stays at 5 until 6 arrives.
    let seven = seal(
        &f.key,
        "midori-day1",
        "edge-01",
        7,
        DAY_MS + 366 * 86_400_000 + 5000,
        closed(),
    );
    let (s, v) = f.post(Some(SECRET), json_of(&[seven])).await;
    assert_eq!((s, v["acked"]["edge-01"].clone()), (200, json!(5)));
    let (s, v) = f.post(Some(SECRET), json_of(&later[2..])).await;
    assert_eq!((s, v["acked"]["edge-01"].clone()), (200, json!(7)));
    assert_eq!(f.events().await, 7);
    // The same (node, seq) as another event: refused whole, nothing applied.
    let mut equivocation = checkup(&f.key, 8, Uuid::now_v7(), DAY_MS);
    equivocation[0] = seal(&f.key, "midori-day1", "edge-01", 3, DAY_MS, closed());
    let (s, v) = f.post(Some(SECRET), json_of(&equivocation)).await;
    assert_eq!((s, v["error"].as_str()), (409, Some("seq_conflict")), "{v}");
    assert_eq!(f.events().await, 7);

    // The record: staff only, audited, corrected value with its history, year over year.
    let (s, _) = f.get("", "/v1/residents/0000000042/record").await;
    assert_eq!(s, 401);
    let admin = f.login("C1", "1234").await;
    let worker = f.login("W1", "5678").await;
    let (s, body) = f.get(&admin, "/v1/residents/0000000042/record").await;
    assert_eq!(s, 200, "{body}");
    let rec: Value = serde_json::from_str(&body).expect("json");
    let checkups = rec["checkups"].as_array().expect("checkups");
    assert_eq!(checkups.len(), 2, "{rec}");
    assert_eq!(checkups[0]["date"], "2026-11-25");
    let item = &checkups[0]["items"][0];
    assert_eq!(item["value"], "156.2");
    assert_eq!(item["history"].as_array().map(Vec::len), Some(2));
    assert_eq!(item["history"][1]["reason"], "転記ミス");
    assert_eq!(
        rec["series"]["9N001000000000001"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        f.get(&worker, "/v1/residents/0000000042/record").await.0,
        403
    );

    // The export: one row per resident per item per checkup, current values.
    let (s, csv) = f
        .get(&admin, "/v1/export.csv?from=2026-04-01&to=2027-03-31")
        .await;
    assert_eq!(s, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "resident_id,item_code,value,unit,date,venue");
    assert_eq!(
        lines[1],
        "0000000042,9N001000000000001,156.2,cm,2026-11-25,midori-day1"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(
        f.get(&admin, "/v1/export.csv?from=2027-01-01&to=2026-01-01")
            .await
            .0,
        400
    );
    assert_eq!(
        f.get(&worker, "/v1/export.csv?from=2026-04-01&to=2027-03-31")
            .await
            .0,
        403
    );

    // A notice saved at a box lands in the child-welfare intake queue: caseworkers see it
    // (audited), the central admin gets 403, and it is no part of any health record.
    let mut fields = std::collections::BTreeMap::new();
    for (k, v) in [
        ("notice_date", "2026-11-24"),
        ("reporting_agency", "緑警察署"),
        ("child_name", "緑川ひかり"),
        ("child_birth_date", "2018-07-07"),
        ("child_sex", "female"),
        ("child_address", "神奈川県横浜市緑区中山1-2-3"),
        ("guardian_name", "緑川一郎"),
        ("abuse_type", "psychological"),
        ("summary", "面前での激しい口論が続いている。"),
    ] {
        fields.insert(
            k.to_owned(),
            checkup_protocol::NoticeField {
                value: v.into(),
                confidence: 0.93,
                corrected: k == "child_name",
            },
        );
    }
    let case_id = Uuid::now_v7();
    let notice = EventBody::NoticeIntakeSaved(checkup_protocol::NoticeIntakeSaved {
        case_id,
        fields,
        resident_id: Some("0000000077".into()),
        source: checkup_protocol::NoticeSource {
            file: "scan-0001.pdf".into(),
            sha256: "0".repeat(64),
        },
    });
    let next = f.events().await + 1;
    let e = seal(
        &f.key,
        "midori-day1",
        "edge-01",
        next,
        DAY_MS + 5_000,
        notice,
    );
    let (s, v) = f
        .post(Some(SECRET), json_of(std::slice::from_ref(&e)))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, body) = f.get(&worker, "/v1/notices").await;
    assert_eq!(s, 200, "{body}");
    let list: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list["cases"][0]["case_id"], case_id.to_string(), "{list}");
    assert_eq!(list["cases"][0]["child_name"], "緑川ひかり");
    let (s, body) = f.get(&worker, &format!("/v1/notices/{case_id}")).await;
    assert_eq!(s, 200, "{body}");
    let one: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        one["notice"]["fields"]["abuse_type"]["value"],
        "psychological"
    );
    assert_eq!(one["notice"]["fields"]["child_name"]["corrected"], true);
    assert_eq!(f.get(&admin, "/v1/notices").await.0, 403);
    assert_eq!(f.get("", "/v1/notices").await.0, 401);
    assert_eq!(
        f.get(&worker, &format!("/v1/notices/{}", Uuid::now_v7()))
            .await
            .0,
        404
    );
    let (_, rec) = f.get(&admin, "/v1/residents/0000000077/record").await;
    assert!(
        !rec.contains("緑川"),
        "a child case is not in the health record: {rec}"
    );
    // A replay is harmless: still one case.
    let (s, _) = f.post(Some(SECRET), json_of(&[e])).await;
    assert_eq!(s, 200);
    let (_, body) = f.get(&worker, "/v1/notices").await;
    let list: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list["cases"].as_array().map(Vec::len), Some(1));

    // A box's audit of a caseworker shown the case is taken in the batch like any event and
    // joins no health record, no export and no intake row.
    let view = Event::seal(
        Uuid::now_v7(),
        "midori-day1",
        "edge-01",
        f.events().await + 1,
        Hlc {
            ms: DAY_MS + 6_000,
            c: 0,
        },
        Actor {
            staff_id: "K1".into(),
            role: Role::Caseworker,
        },
        EventBody::CaseViewed(checkup_protocol::CaseViewed {
            scan_id: None,
            case_ids: vec![case_id],
            purpose: "GET /api/cases".into(),
        }),
        &f.key,
    );
    let (s, v) = f.post(Some(SECRET), json_of(&[view])).await;
    assert_eq!(s, 200, "{v}");
    let (_, body) = f.get(&worker, "/v1/notices").await;
    let list: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list["cases"].as_array().map(Vec::len), Some(1));
    let (_, rec) = f.get(&admin, "/v1/residents/0000000077/record").await;
    let (_, csv) = f
        .get(&admin, "/v1/export.csv?from=2026-04-01&to=2027-03-31")
        .await;
    for text in [rec, csv] {
        assert!(!text.contains(&case_id.to_string()), "{text}");
    }

    // A caseworker's photo of the case (issue 22) is forwarded with it: stored as its event
    // (a JPEG of the box's, base64 in the payload), no health record, no export, no second case.
    let events = f.events().await;
    // FF D8 FF E0 00 10 "JFIF\0photo of the case", in base64.
    let jpeg = "/9j/4AAQSkZJRgBwaG90byBvZiB0aGUgY2FzZQ==";
    let photo = Event::seal(
        Uuid::now_v7(),
        "midori-day1",
        "edge-01",
        events + 1,
        Hlc {
            ms: DAY_MS + 7_000,
            c: 0,
        },
        Actor {
            staff_id: "K1".into(),
            role: Role::Caseworker,
        },
        EventBody::CasePhotoAdded(checkup_protocol::CasePhotoAdded {
            case_id,
            photo_id: Uuid::now_v7(),
            jpeg: jpeg.into(),
            width: 640,
            height: 480,
            note: Some("右上腕のあざ".into()),
            location: None,
        }),
        &f.key,
    );
    let (s, v) = f.post(Some(SECRET), json_of(&[photo])).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(f.events().await, events + 1);
    let (_, body) = f.get(&worker, "/v1/notices").await;
    let list: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list["cases"].as_array().map(Vec::len), Some(1));
    let (_, rec) = f.get(&admin, "/v1/residents/0000000077/record").await;
    let (_, csv) = f
        .get(&admin, "/v1/export.csv?from=2026-04-01&to=2027-03-31")
        .await;
    for text in [rec, csv] {
        assert!(!text.contains("あざ") && !text.contains("/9j/"), "{text}");
    }

    let _ = &f.foreign_key;
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_record_and_export_on_sqlite() {
    scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_record_and_export_on_postgresql() {
    scenario(true).await;
}

/// Concurrent batches are committed together; one refused batch among them is rolled back
/// alone and the others are stored.
async fn concurrent(postgres: bool) {
    let f = fixture(postgres).await;
    let first = checkup(&f.key, 1, Uuid::now_v7(), DAY_MS);
    assert_eq!(f.post(Some(SECRET), json_of(&first)).await.0, 200);
    let mut bodies = Vec::new();
    for k in 0..8u64 {
        bodies.push(json_of(&checkup(&f.key, 4 + 3 * k, Uuid::now_v7(), DAY_MS)));
    }
    // Seq 2 again, as another event.
    let clash = seal(&f.key, "midori-day1", "edge-01", 2, DAY_MS, closed());
    bodies.insert(3, json_of(&[clash]));
    let results =
        futures_util::future::join_all(bodies.into_iter().map(|b| f.post(Some(SECRET), b))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        8,
        "{statuses:?}"
    );
    assert_eq!(f.events().await, 3 + 8 * 3);
    // Concurrent appends made one unbroken audit chain; the refused batch left no entry.
    let db = checkup_central::db::open(&f.config).await.expect("db");
    let snapshot = db.audit_snapshot().await.expect("snapshot");
    let keys: std::collections::HashMap<String, checkup_protocol::PublicKey> =
        std::collections::HashMap::from([("edge-01".to_owned(), f.key.verifying_key())]);
    let v = checkup_central::audit::verify(&snapshot, &keys).expect("intact");
    assert_eq!(v.entries, 9, "one entry per stored batch");
    assert_eq!(v.events, 3 + 8 * 3);
    // An event removed behind central's back is found.
    let mut cut = snapshot.clone();
    cut.events.retain(|e| e.1 != 5);
    assert!(matches!(
        checkup_central::audit::verify(&cut, &keys),
        Err(checkup_central::audit::AuditError::Events { .. })
    ));
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_on_sqlite() {
    concurrent(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_on_postgresql() {
    concurrent(true).await;
}

/// Questionnaire answers arrive like any result: stored as their codes, shown in the record
/// with the Japanese answer text, a nurse's amendment in the history.
async fn questionnaire_answers(postgres: bool) {
    let f = fixture(postgres).await;
    let session = Uuid::now_v7();
    let v = "midori-day1";
    let resident = "0000000043";
    let opened = seal(
        &f.key,
        v,
        "edge-01",
        1,
        DAY_MS,
        EventBody::SessionOpened(SessionOpened {
            session_id: session,
            resident_id: resident.into(),
            stations: vec![StationKind::Questionnaire],
            card: None,
            insurer: None,
        }),
    );
    let answer = |seq: u64, code: &str, value: &str| {
        seal(
            &f.key,
            v,
            "edge-01",
            seq,
            DAY_MS + seq * 1000,
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id: session,
                resident_id: resident.into(),
                station: StationKind::Questionnaire,
                item_code: code.into(),
                value: MeasuredValue::Text(value.into()),
                unit: String::new(),
                confirmed: false,
                answered: Some(checkup_protocol::Answered {
                    via: checkup_protocol::Channel::Phone,
                    lang: checkup_protocol::Lang::Vi,
                }),
            }),
        )
    };
    let smoking = answer(2, "9N736000000000011", "3");
    let drinking = answer(3, "9N786000000000011", "8");
    let amended = seal(
        &f.key,
        v,
        "edge-01",
        4,
        DAY_MS + 9000,
        EventBody::MeasurementCorrected(MeasurementCorrected {
            session_id: session,
            resident_id: resident.into(),
            corrects: smoking.id,
            item_code: "9N736000000000011".into(),
            value: MeasuredValue::Text("2".into()),
            unit: String::new(),
            reason: "聞き取りで確認（先月禁煙）".into(),
            confirmed: false,
            answered: None,
        }),
    );
    let (s, a) = f
        .post(Some(SECRET), json_of(&[opened, smoking, drinking, amended]))
        .await;
    assert_eq!(s, 200, "{a}");
    let admin = f.login("C1", "1234").await;
    let (s, rec) = f
        .get(&admin, &format!("/v1/residents/{resident}/record"))
        .await;
    assert_eq!(s, 200, "{rec}");
    let rec: Value = serde_json::from_str(&rec).expect("json");
    let items = rec["checkups"][0]["items"].as_array().expect("items");
    let item = |code: &str| {
        items
            .iter()
            .find(|i| i["item_code"] == code)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let smoking = item("9N736000000000011");
    assert_eq!(smoking["value"], "2", "stored as the code");
    assert_eq!(
        smoking["value_ja"],
        "以前は吸っていたが、最近1か月間は吸っていない"
    );
    assert_eq!(smoking["name_ja"], "喫煙");
    assert_eq!(smoking["history"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        smoking["history"][0]["value_ja"],
        "いいえ（吸ったことがない）"
    );
    assert_eq!(
        item("9N786000000000011")["value_ja"],
        "飲まない（飲めない）"
    );
    assert_eq!(
        rec["series"]["9N786000000000011"][0]["value_ja"], "飲まない（飲めない）",
        "year over year"
    );

    // A paper page read at the venue (with an item sent to review) is accepted and stored
    // with the resident's events; it derives no result, and a replay is harmless.
    let before = f.events().await;
    let paper = seal(
        &f.key,
        v,
        "edge-01",
        5,
        DAY_MS + 10_000,
        EventBody::QuestionnairePaperRead(checkup_protocol::QuestionnairePaperRead {
            session_id: session,
            resident_id: resident.into(),
            lang: checkup_protocol::Lang::Vi,
            page: 1,
            answered: vec!["9N701000000000011".into()],
            review: vec![checkup_protocol::PaperReviewItem {
                item_code: "9N706000000000011".into(),
                reason: "several_ticked".into(),
                marked: vec![
                    checkup_protocol::PaperMark {
                        code: "1".into(),
                        mark: "ticked".into(),
                    },
                    checkup_protocol::PaperMark {
                        code: "2".into(),
                        mark: "ticked".into(),
                    },
                ],
            }],
        }),
    );
    let (s, a) = f
        .post(Some(SECRET), json_of(std::slice::from_ref(&paper)))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(f.events().await, before + 1, "stored");
    let (s, a) = f.post(Some(SECRET), json_of(&[paper])).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        f.events().await,
        before + 1,
        "a replay stores nothing twice"
    );
    let (s, again) = f
        .get(&admin, &format!("/v1/residents/{resident}/record"))
        .await;
    assert_eq!(s, 200, "{again}");
    let again: Value = serde_json::from_str(&again).expect("json");
    assert_eq!(
        again["checkups"][0]["items"], rec["checkups"][0]["items"],
        "a page read derives no result"
    );
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questionnaire_answers_in_the_record_on_sqlite() {
    questionnaire_answers(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questionnaire_answers_in_the_record_on_postgresql() {
    questionnaire_answers(true).await;
}

/// A batch of training events (`checkup-edge training`, `"training": true` in the signed
/// envelope), even one from an enrolled box with valid signatures, is refused whole with
/// `training_event`: nothing is stored, the refusal is counted, and it is recorded in the
/// hash-chained audit trail. A real batch mixed with one training event is refused as well.
async fn training(postgres: bool) {
    let f = fixture(postgres).await;
    let sealed = |seq: u64, training: bool| {
        Event::seal_as(
            Uuid::now_v7(),
            "midori-day1",
            "edge-01",
            seq,
            Hlc {
                ms: DAY_MS + seq,
                c: 0,
            },
            Actor {
                staff_id: "R001".into(),
                role: Role::Reception,
            },
            closed(),
            training,
            &f.key,
        )
    };
    let rehearsal: Vec<Event> = (1..=3).map(|s| sealed(s, true)).collect();
    assert!(
        String::from_utf8(json_of(&rehearsal))
            .expect("utf-8")
            .contains("\"training\":true"),
        "the mark travels in the signed envelope"
    );
    let (st, v) = f.post(Some(SECRET), json_of(&rehearsal)).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"], "training_event", "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("練習モード"),
        "{v}"
    );
    // One training event among real ones: the whole batch is refused.
    let mixed = vec![sealed(1, false), sealed(2, true)];
    let (st, v) = f.post(Some(SECRET), json_of(&mixed)).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"], "training_event", "{v}");
    assert_eq!(f.events().await, 0, "nothing of a training batch is stored");
    assert_eq!(f.healthz().await["rejected"]["training_event"], 2);
    let db = checkup_central::db::open(&f.config).await.expect("db");
    let snapshot = db.audit_snapshot().await.expect("snapshot");
    let refusals: Vec<_> = snapshot
        .entries
        .iter()
        .filter(|e| e.action == "training_batch_refused")
        .collect();
    assert_eq!(refusals.len(), 2, "{:?}", snapshot.entries);
    assert!(refusals.iter().all(|e| e.staff_id == "edge-01"));
    // The same box's real events (an event without the field, as every box wrote before
    // it existed) are still taken.
    let real: Vec<Event> = (1..=2).map(|s| sealed(s, false)).collect();
    assert!(
        !String::from_utf8(json_of(&real))
            .expect("utf-8")
            .contains("training"),
        "a real event's encoding is unchanged"
    );
    let (st, v) = f.post(Some(SECRET), json_of(&real)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(f.events().await, 2);
    f.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_refuses_training_events_on_sqlite() {
    training(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_refuses_training_events_on_postgresql() {
    training(true).await;
}
