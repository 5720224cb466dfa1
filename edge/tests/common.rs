//! Shared helpers: a box served on 127.0.0.1:0 in this process, and a signed-in client.

#![allow(dead_code)]

use std::net::SocketAddr;

use checkup_edge::config::{Config, StaffConfig};
use checkup_edge::{Edge, auth};
use checkup_protocol::{Role, StationKind};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

pub struct TestBox {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn staff(id: &str, pin: &str, role: Role, stations: &[StationKind]) -> StaffConfig {
    StaffConfig {
        id: id.into(),
        name: format!("{id} さん"),
        role,
        stations: stations.to_vec(),
        rank: Default::default(),
        pin_hash: auth::hash_pin(pin).expect("hash"),
    }
}

/// The test venue's roster: residents `0000000000` to `0000000299`, booked for 特定健診.
/// (A session opens only for a booked resident.)
pub fn test_roster_csv() -> Vec<u8> {
    let mut csv =
        String::from("resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n");
    for i in 0..300 {
        csv.push_str(&format!(
            "{i:010},試験　{i}郎,シケン　イチロウ,1960-01-01,male,みどり市中央1丁目{i}番,特定健診,09:00\n"
        ));
    }
    csv.into_bytes()
}

pub fn config(dir: &std::path::Path) -> Config {
    Config {
        secrets: checkup_edge::config::Secrets {
            roster_csv: Some(test_roster_csv()),
            ..Default::default()
        },
        venue_id: "test-venue".into(),
        data_dir: dir.to_path_buf(),
        staff: vec![
            staff("R1", "1111", Role::Reception, &[]),
            staff("S1", "2222", Role::Station, &[StationKind::Measurement]),
            staff("N1", "3333", Role::Nurse, &[]),
            staff("D1", "4444", Role::Doctor, &[]),
            staff("A1", "9999", Role::VenueAdmin, &[]),
            staff("C1", "5555", Role::ChildWelfareClerk, &[]),
            staff("U1", "8888", Role::Auditor, &[]),
        ],
        card: checkup_edge::config::CardConfig {
            mode: checkup_edge::config::CardMode::Off,
        },
        // Many boxes run at once in these tests: no mDNS, no embedded broker.
        replication: checkup_edge::config::ReplicationConfig {
            discovery: false,
            ..Default::default()
        },
        ..Config::default()
    }
}

impl TestBox {
    pub async fn start() -> TestBox {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config(dir.path());
        Self::start_with(dir, config).await
    }

    /// A box whose roster is empty (for tests of the roster import itself).
    pub async fn start_without_roster() -> TestBox {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = config(dir.path());
        config.secrets.roster_csv = None;
        Self::start_with(dir, config).await
    }

    pub async fn start_with(dir: tempfile::TempDir, config: Config) -> TestBox {
        let edge = Edge::open(&config).expect("open box");
        Self::serve(dir, config, edge).await
    }

    pub async fn start_with_cards(
        dir: tempfile::TempDir,
        config: Config,
        cards: checkup_edge::cards::Cards,
    ) -> TestBox {
        let edge = Edge::open_with_cards(&config, cards).expect("open box");
        Self::serve(dir, config, edge).await
    }

    /// Serve an opened box (its state prepared by the test, e.g. its clock).
    pub async fn serve(dir: tempfile::TempDir, config: Config, edge: Edge) -> TestBox {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(edge.serve(listener, async move {
            let _ = rx.await;
        }));
        TestBox {
            addr,
            dir,
            config,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client signed in as `staff_id`.
    pub async fn client(&self, staff_id: &str, pin: &str) -> Client {
        let http = reqwest::Client::new();
        let r = http
            .post(self.url("/api/login"))
            .json(&json!({"staff_id": staff_id, "pin": pin}))
            .send()
            .await
            .expect("login request");
        assert_eq!(r.status(), 200, "login {staff_id}");
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("cookie")
            .to_string();
        Client {
            http,
            cookie,
            base: format!("http://{}", self.addr),
        }
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("join").expect("serve");
        }
        self.dir
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub cookie: String,
    pub base: String,
}

impl Client {
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string().into_bytes()).await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("cookie", &self.cookie)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let v = r.json::<Value>().await.unwrap_or(Value::Null);
        (status, v)
    }

    /// As `post`, but a transport error (box gone) is `None` instead of a panic.
    pub async fn try_post(&self, path: &str, body: &Value) -> Option<(u16, Value)> {
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("cookie", &self.cookie)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        Some((status, r.json::<Value>().await.ok()?))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let v = r.json::<Value>().await.unwrap_or(Value::Null);
        (status, v)
    }
}

pub fn open_session(session: Uuid, resident: &str) -> Value {
    json!({"id": Uuid::now_v7(), "body": {"kind": "session_opened", "payload": {
        "session_id": session, "resident_id": resident,
        "stations": ["measurement", "blood_pressure"]}}})
}

pub fn height(session: Uuid, resident: &str, cm: f64) -> Value {
    json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_recorded", "payload": {
        "session_id": session, "resident_id": resident, "station": "measurement",
        "item_code": "9N001000000000001", "value": cm, "unit": "cm"}}})
}
