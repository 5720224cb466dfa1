//! A central for the access tests: configured from a few lines per staff member and box,
//! served in-process on a free port, with the box's side (sealed events, batches) and the
//! staff's side (sign-in, JSON requests) as small helpers.

#![allow(dead_code)]

use checkup_central::config::{BoxConfig, Config, Duty, StaffConfig, secret_digest};
use checkup_central::server::Central;
use checkup_protocol::{
    Actor, Event, EventBody, Hlc, MeasuredValue, MeasurementRecorded, NodeKey, Role, SessionOpened,
    StationKind,
};
use serde_json::Value;
use uuid::Uuid;

/// Every staff member's PIN here.
pub const PIN: &str = "2580";

/// 2026-11-25 10:00 JST.
pub const DAY_MS: u64 = 1_795_568_400_000;

/// A box: node, venue, municipality, its key and secret.
pub struct TestBox {
    pub node: String,
    pub venue: String,
    pub municipality: String,
    pub key: NodeKey,
    pub secret: String,
    pub seq: std::sync::atomic::AtomicU64,
}

impl TestBox {
    pub fn new(node: &str, venue: &str, municipality: &str) -> TestBox {
        TestBox {
            node: node.into(),
            venue: venue.into(),
            municipality: municipality.into(),
            key: NodeKey::generate(),
            secret: format!("{node}-secret"),
            seq: 0.into(),
        }
    }

    fn config(&self) -> BoxConfig {
        BoxConfig {
            node: self.node.clone(),
            venue: self.venue.clone(),
            municipality: self.municipality.clone(),
            public_key: self.key.verifying_key().to_base64(),
            secret_sha256: secret_digest(&self.secret),
        }
    }

    /// The next event of this box.
    pub fn seal(&self, ms: u64, body: EventBody) -> Event {
        self.seal_in(&self.venue.clone(), ms, body)
    }

    /// The next event of this box, at `venue` (another's, for the refusals).
    pub fn seal_in(&self, venue: &str, ms: u64, body: EventBody) -> Event {
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Event::seal(
            Uuid::now_v7(),
            venue,
            &self.node,
            seq,
            Hlc { ms, c: 0 },
            Actor {
                staff_id: "N9".into(),
                role: Role::Nurse,
            },
            body,
            &self.key,
        )
    }

    /// The next event of this box, by `actor` (a caseworker's photo, a clerk's notice).
    pub fn seal_by(&self, actor: Actor, ms: u64, body: EventBody) -> Event {
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Event::seal(
            Uuid::now_v7(),
            &self.venue,
            &self.node,
            seq,
            Hlc { ms, c: 0 },
            actor,
            body,
            &self.key,
        )
    }

    /// A photo of `case` as the box forwards it: `jpeg` (the box's re-encoding) taken by
    /// caseworker `by` at `ms`.
    pub fn photo(
        &self,
        case: Uuid,
        by: &str,
        ms: u64,
        jpeg: &[u8],
        (width, height): (u32, u32),
        note: Option<&str>,
    ) -> (Uuid, Event) {
        use base64::Engine as _;
        let photo_id = Uuid::now_v7();
        let e = self.seal_by(
            Actor {
                staff_id: by.into(),
                role: Role::Caseworker,
            },
            ms,
            EventBody::CasePhotoAdded(checkup_protocol::CasePhotoAdded {
                case_id: case,
                photo_id,
                jpeg: base64::engine::general_purpose::STANDARD.encode(jpeg),
                width,
                height,
                note: note.map(str::to_owned),
                location: None,
            }),
        );
        (photo_id, e)
    }

    /// A checkup of `resident`: the session and one height.
    pub fn checkup(&self, resident: &str, height: f64) -> Vec<Event> {
        let session = Uuid::now_v7();
        vec![
            self.seal(
                DAY_MS,
                EventBody::SessionOpened(SessionOpened {
                    session_id: session,
                    resident_id: resident.into(),
                    stations: vec![StationKind::Measurement],
                    card: None,
                    insurer: None,
                }),
            ),
            self.seal(
                DAY_MS + 1000,
                EventBody::MeasurementRecorded(MeasurementRecorded {
                    session_id: session,
                    resident_id: resident.into(),
                    station: StationKind::Measurement,
                    item_code: "9N001000000000001".into(),
                    value: MeasuredValue::Number(height),
                    unit: "cm".into(),
                    confirmed: false,
                    answered: None,
                }),
            ),
        ]
    }

    /// A police notice saved as a case, its child matched to `child`.
    pub fn notice(&self, child: &str, child_name: &str) -> (Uuid, Event) {
        let mut fields = std::collections::BTreeMap::new();
        for (k, v) in [
            ("notice_date", "2026-11-20"),
            ("reporting_agency", "中央警察署"),
            ("child_name", child_name),
            ("child_birth_date", "2021-04-01"),
            ("child_sex", "female"),
            ("child_address", "北海道函館市1-2-3"),
            ("guardian_name", "保護者一郎"),
            ("abuse_type", "neglect"),
            ("summary", "夜間に子どもだけで過ごしている。"),
        ] {
            fields.insert(
                k.to_owned(),
                checkup_protocol::NoticeField {
                    value: v.into(),
                    confidence: 0.9,
                    corrected: false,
                },
            );
        }
        let case_id = Uuid::now_v7();
        let e = self.seal(
            DAY_MS + 5000,
            EventBody::NoticeIntakeSaved(checkup_protocol::NoticeIntakeSaved {
                case_id,
                fields,
                resident_id: Some(child.into()),
                source: checkup_protocol::NoticeSource {
                    file: "scan.pdf".into(),
                    sha256: "0".repeat(64),
                },
            }),
        );
        (case_id, e)
    }
}

/// A staff member: id, role and duty.
pub fn staff(id: &str, role: Role, duty: Duty) -> StaffConfig {
    StaffConfig {
        id: id.into(),
        name: format!("{id} さん"),
        role,
        pin_hash: pin_hash(),
        duty,
    }
}

fn pin_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| checkup_provisioning::pin::hash(PIN).expect("hash"))
        .clone()
}

/// A duty in `municipality` of `rank` with these districts and caseload.
pub fn duty(municipality: &str, rank: &str, districts: &[&str], caseload: &[&str]) -> Duty {
    Duty {
        municipality: Some(municipality.into()),
        rank: serde_json::from_value(Value::String(rank.into())).expect("rank"),
        department: None,
        districts: districts.iter().map(|s| s.to_string()).collect(),
        caseload: caseload.iter().map(|s| s.to_string()).collect(),
    }
}

/// A served central.
pub struct Served {
    pub url: String,
    pub http: reqwest::Client,
    pub config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub pg: Option<checkup_tests::pg::TempDatabase>,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Open and serve a central with these boxes and staff, on SQLite or a fresh
    /// PostgreSQL database.
    pub async fn start(postgres: bool, boxes: &[&TestBox], staff: Vec<StaffConfig>) -> Served {
        Self::start_with(postgres, boxes, staff, |_| {}).await
    }

    /// As [`Served::start`], the configuration changed by `change` before opening.
    pub async fn start_with(
        postgres: bool,
        boxes: &[&TestBox],
        staff: Vec<StaffConfig>,
        change: impl FnOnce(&mut Config),
    ) -> Served {
        let dir = tempfile::tempdir().expect("dir");
        let pg = if postgres {
            Some(
                checkup_tests::pg::TempDatabase::create("checkup_access")
                    .await
                    .expect("database"),
            )
        } else {
            None
        };
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            database: pg.as_ref().map_or("sqlite".into(), |d| d.url()),
            boxes: boxes.iter().map(|b| b.config()).collect(),
            staff,
            ..Config::default()
        };
        change(&mut config);
        let central = Central::open(&config).await.expect("open");
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
        Served {
            url,
            http: reqwest::Client::new(),
            config,
            stop: Some(tx),
            pg,
            _dir: dir,
        }
    }

    /// Send a batch as `b`; the status.
    pub async fn send(&self, b: &TestBox, events: &[Event]) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/v1/batches", self.url))
            .bearer_auth(&b.secret)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(events).expect("json"))
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Sign in; the cookie.
    pub async fn login(&self, id: &str) -> String {
        let r = self
            .http
            .post(format!("{}/v1/login", self.url))
            .json(&serde_json::json!({"staff_id": id, "pin": PIN}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200, "{id} signs in");
        r.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("cookie")
            .to_owned()
    }

    /// GET as `cookie`: status and JSON body.
    pub async fn get(&self, cookie: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", cookie)
            .send()
            .await
            .expect("get");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POST a body of `content_type` as `cookie`: status and JSON body.
    pub async fn post(
        &self,
        cookie: &str,
        path: &str,
        content_type: &str,
        body: String,
    ) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Import register rows (`resident_id,name,name_kana,birth_date,sex,address,district`)
    /// as the admin `cookie`.
    pub async fn register(&self, cookie: &str, rows: &[(&str, &str, &str)]) {
        let mut csv = String::from("resident_id,name,name_kana,birth_date,sex,address,district\n");
        for (id, name, district) in rows {
            csv.push_str(&format!(
                "{id},{name},カナ,1980-01-01,female,市内1-1,{district}\n"
            ));
        }
        let (s, v) = self.post(cookie, "/v1/residents", "text/csv", csv).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["imported"].as_u64(), Some(rows.len() as u64), "{v}");
    }

    /// Stop serving and drop the database.
    pub async fn finish(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(pg) = self.pg.take() {
            pg.drop_now().await;
        }
    }
}
