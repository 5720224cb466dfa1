//! A checkup day to the national standard, driven through a real box and forwarded to a
//! real central: the venue admin imports a roster with the residents' insurer identities
//! (Japanese headers), reception checks [`PEOPLE`] in, every station records its items and
//! the questionnaire is answered; [`LEFT`] leaves after measurement (so the 国保's records
//! fail the standard's rules). Central gets its register. Shared by the tests of the
//! `export tokutei` command and of central's 特定健診 web API and page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Two insurers: a 協会けんぽ branch (8 digits) and a 国保 (6 digits).
pub const KYOKAI: &str = "01130012";
pub const KOKUHO: &str = "138057";
/// The resident who leaves before 問診.
pub const LEFT: &str = "0009100004";
/// The register's 郵便番号 of [`PEOPLE`] as municipal systems write it (hyphen, none, 〒 and
/// full-width), and as the standard writes it.
pub const POSTAL: [&str; 3] = ["123-4567", "1234567", "〒１２３－４５６７"];
/// [`POSTAL`] as every document writes it.
pub const POSTAL_WRITTEN: &str = "123-4567";

/// The residents of the day: id, kana, birth, sex, insurer, 記号, 番号, 枝番, 受診券.
/// A roster row: id, kana, birth, sex, 保険者番号, 記号, 番号, 枝番, 受診券整理番号.
pub type Person = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

pub const PEOPLE: [Person; 3] = [
    (
        "0009100001",
        "ヤマダ　タロウ",
        "1961-05-20",
        "男",
        KYOKAI,
        "記号１",
        "1234",
        "01",
        "24000000001",
    ),
    (
        "0009100002",
        "スズキ　ハナコ",
        "1970-09-03",
        "女",
        KYOKAI,
        "",
        "5678",
        "02",
        "24000000002",
    ),
    (
        "0009100003",
        "サトウ　ジロウ",
        "1955-01-15",
        "男",
        KOKUHO,
        "みどり",
        "9012",
        "",
        "",
    ),
];

/// MHLW's files: `../shared/standards/tokutei-v4` beside the repository, or
/// `$CHECKUP_STANDARDS_DIR/tokutei-v4`.
pub fn standards() -> PathBuf {
    // `../shared/standards` beside the repository, or `$CHECKUP_STANDARDS_DIR` for a checkout
    // elsewhere.
    std::env::var_os("CHECKUP_STANDARDS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards"))
        .join("tokutei-v4")
}

/// A signed-in client of a box (`/api/login`) or of central (`/v1/login`).
pub struct Client {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The base URL.
    pub base: String,
    /// The session cookie(s), as sent back.
    pub cookie: String,
}

impl Client {
    /// Sign in at `base` + `path` with `body`; panics unless it succeeds.
    pub async fn login(base: &str, path: &str, body: Value) -> Client {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .expect("login");
        assert!(r.status().is_success(), "login {body}: {}", r.status());
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .collect::<Vec<_>>()
            .join("; ");
        Client {
            http,
            base: base.to_owned(),
            cookie,
        }
    }

    /// A request with an optional body and its content type: the status and the JSON answer
    /// (`null` when not JSON).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> (u16, Value) {
        let mut rq = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some((b, ct)) = body {
            rq = rq.header("content-type", ct).body(b);
        }
        let r = rq.send().await.expect("request");
        let st = r.status().as_u16();
        let v = r.json().await.unwrap_or(Value::Null);
        (st, v)
    }

    /// `POST` JSON.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            Some((body.to_string().into_bytes(), "application/json")),
        )
        .await
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
}

/// An event as the box's `/api/events` takes it.
pub fn event(kind: &str, payload: Value) -> Value {
    json!({"id": uuid::Uuid::now_v7(), "body": {"kind": kind, "payload": payload}})
}

/// `station` records `items` for `resident` in `session` and signs the station off.
pub async fn record(
    c: &Client,
    session: &Value,
    resident: &str,
    station: &str,
    items: &[(&str, Value, &str)],
    missing: &[&str],
) {
    for (code, value, unit) in items {
        let (st, v) = c
            .post(
                "/api/events",
                &event(
                    "measurement_recorded",
                    json!({"session_id": session, "resident_id": resident, "station": station,
                           "item_code": code, "value": value, "unit": unit, "confirmed": true}),
                ),
            )
            .await;
        assert_eq!(st, 201, "{station} {code}: {v}");
    }
    let (st, v) = c
        .post(
            "/api/events",
            &event(
                "station_visited",
                json!({"session_id": session, "resident_id": resident, "station": station,
                       "confirmed": true, "missing": missing}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{station} sign-off: {v}");
}

/// `xmllint --schema` accepts `file`.
pub fn xmllint(schema: &Path, file: &Path) {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(file)
        .output()
        .expect("xmllint (libxml2-utils)");
    assert!(
        out.status.success(),
        "xmllint {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files of a zip, unpacked into `into`.
pub fn unzip(zip: &Path, into: &Path) -> Vec<PathBuf> {
    let f = std::fs::File::open(zip).expect("zip");
    let mut a = zip::ZipArchive::new(f).expect("a zip archive");
    let mut files = Vec::new();
    for i in 0..a.len() {
        let mut e = a.by_index(i).expect("entry");
        let Some(name) = e.enclosed_name() else {
            panic!("an entry outside the archive: {:?}", e.name());
        };
        let path = into.join(name);
        if e.is_dir() {
            continue;
        }
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        let mut out = std::fs::File::create(&path).expect("file");
        std::io::copy(&mut e, &mut out).expect("copy");
        files.push(path);
    }
    files
}

/// What central holds after [`day`].
pub struct Day {
    /// The checkup day (JST), `YYYY-MM-DD`.
    pub day: String,
    /// Each of [`PEOPLE`]'s record at central (`GET /v1/residents/{id}/record`).
    pub held: BTreeMap<String, Value>,
}

/// Run the day at the demo box `bx` forwarding to the demo central `cx` (both base URLs,
/// no trailing slash; demo staff) and wait until central holds all of it.
pub async fn day(bx: &str, cx: &str) -> Day {
    let (bx, cx) = (bx.to_owned(), cx.to_owned());
    // The roster with the insurer identities, under the Japanese headers municipal systems use.
    let admin = Client::login(
        &bx,
        "/api/login",
        json!({"staff_id": "A001", "pin": "9991"}),
    )
    .await;
    let mut csv = String::from(
        "宛名番号,氏名,カナ氏名,生年月日,性別,住所,コース,予約時刻,保険者番号,被保険者証記号,被保険者証番号,枝番,受診券整理番号\n",
    );
    for (i, p) in PEOPLE.iter().enumerate() {
        csv.push_str(&format!(
            "{},{},{},{},{},みどり市緑町{}番,特定健診,09:{:02},{},{},{},{},{}\n",
            p.0,
            p.1,
            p.1,
            p.2,
            p.3,
            i + 1,
            10 * i,
            p.4,
            p.5,
            p.6,
            p.7,
            p.8
        ));
    }
    // A fourth, of the 国保, who will leave before 問診.
    csv.push_str(&format!("{LEFT},タナカ　ミツル,タナカ　ミツル,1958-07-07,男,みどり市緑町4番,特定健診,09:40,{KOKUHO},みどり,3456,,\n"));
    let (st, v) = admin
        .send(
            reqwest::Method::POST,
            "/api/roster/import",
            Some((csv.into_bytes(), "text/csv")),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["added"].as_u64().unwrap_or(0) + v["updated"].as_u64().unwrap_or(0),
        4,
        "{v}"
    );

    // The day: check-in, every station, the questionnaire.
    let reception = Client::login(
        &bx,
        "/api/login",
        json!({"staff_id": "R001", "pin": "1111"}),
    )
    .await;
    let measure = Client::login(
        &bx,
        "/api/login",
        json!({"staff_id": "S001", "pin": "2221"}),
    )
    .await;
    let bp = Client::login(
        &bx,
        "/api/login",
        json!({"staff_id": "S002", "pin": "2222"}),
    )
    .await;
    let lab = Client::login(
        &bx,
        "/api/login",
        json!({"staff_id": "S003", "pin": "2223"}),
    )
    .await;
    let nurse = Client::login(
        &bx,
        "/api/login",
        json!({"staff_id": "N001", "pin": "3331"}),
    )
    .await;
    let doctor = Client::login(
        &bx,
        "/api/login",
        json!({"staff_id": "D001", "pin": "4441"}),
    )
    .await;
    let (_, q) = nurse.get("/api/questionnaire?lang=ja").await;
    let questions = q["items"].as_array().expect("items").clone();
    assert_eq!(questions.len(), 22);
    let mut sessions = Vec::new();
    for (i, p) in PEOPLE.iter().enumerate() {
        let (st, opened) = reception
            .post(
                "/api/reception/check-in",
                &json!({"id": uuid::Uuid::now_v7(), "resident_id": p.0}),
            )
            .await;
        assert_eq!(st, 201, "{opened}");
        let s = opened["session_id"].clone();
        let f = i as f64;
        record(
            &measure,
            &s,
            p.0,
            "measurement",
            &[
                ("9N001000000000001", json!(160.0 + 5.0 * f), "cm"),
                ("9N006000000000001", json!([58.5, 67.5, 76.5][i]), "kg"),
                ("9N016160100000001", json!(80.0 + 6.0 * f), "cm"),
            ],
            &[],
        )
        .await;
        record(
            &bp,
            &s,
            p.0,
            "blood_pressure",
            &[
                ("9A751000000000001", json!(118.0 + 12.0 * f), "mmHg"),
                ("9A761000000000001", json!(74.0 + 6.0 * f), "mmHg"),
                ("9A752000000000001", json!(121.0 + 12.0 * f), "mmHg"),
                ("9A762000000000001", json!(77.0 + 6.0 * f), "mmHg"),
            ],
            &[],
        )
        .await;
        record(
            &lab,
            &s,
            p.0,
            "urine",
            &[
                ("1A020000000191111", json!(["-", "±", "+"][i]), ""),
                ("1A010000000191111", json!("-"), ""),
            ],
            &[],
        )
        .await;
        record(
            &lab,
            &s,
            p.0,
            "blood_draw",
            // 採血時間 asked at the draw: fasting for the first two, after a meal for the
            // third, whose fasting glucose is then not taken.
            &[
                ("9N141000000000011", json!(["2", "2", "3"][i]), ""),
                ("3D046000001999902", json!([5.2, 5.6, 6.1][i]), "%"),
            ],
            &["3D010000001999901"],
        )
        .await;
        // The questionnaire, asked at 問診: every item, a different answer per resident.
        let answers: Vec<Value> = questions
            .iter()
            .enumerate()
            .map(|(n, q)| {
                let a = q["answers"].as_array().expect("answers");
                json!({"item_code": q["code"], "code": a[(n + i) % a.len()]["code"]})
            })
            .collect();
        let (st, v) = nurse
            .post(
                &format!(
                    "/api/questionnaire/sessions/{}/answers",
                    s.as_str().expect("id")
                ),
                &json!({"via": "tablet", "lang": "ja", "answers": answers}),
            )
            .await;
        assert!(st == 200 || st == 201, "answers: {st} {v}");
        record(&nurse, &s, p.0, "questionnaire", &[], &[]).await;
        // 診察: the findings, a finding's text where there is one, and the diagnosis.
        let mut findings = vec![
            ("9N056000000000011", json!(["2", "1", "2"][i]), ""),
            ("9N061000000000011", json!("2"), ""),
            ("9N066000000000011", json!("2"), ""),
            (
                "9N511000000000049",
                json!(["異常なし", "要経過観察（血圧）", "異常なし"][i]),
                "",
            ),
        ];
        if i == 1 {
            findings.push(("9N056160400000049", json!("高血圧（2019年〜）"), ""));
        }
        record(&doctor, &s, p.0, "doctor", &findings, &[]).await;
        sessions.push(s);
    }

    let (st, opened) = reception
        .post(
            "/api/reception/check-in",
            &json!({"id": uuid::Uuid::now_v7(), "resident_id": LEFT}),
        )
        .await;
    assert_eq!(st, 201, "{opened}");
    let left = opened["session_id"].clone();
    record(
        &measure,
        &left,
        LEFT,
        "measurement",
        &[
            ("9N001000000000001", json!(171.0), "cm"),
            ("9N006000000000001", json!(70.0), "kg"),
            ("9N016160100000001", json!(88.0), "cm"),
        ],
        &[],
    )
    .await;

    // Central: its register, then the box's forwarding.
    let clerk = Client::login(&cx, "/v1/login", json!({"staff_id": "C001", "pin": "1234"})).await;
    let mut register =
        String::from("resident_id,name,name_kana,birth_date,sex,address,postal_code\n");
    for (i, p) in PEOPLE.iter().enumerate() {
        register.push_str(&format!(
            "{},{},{},{},{},みどり市,{}\n",
            p.0,
            p.1,
            p.1,
            p.2,
            if p.3 == "男" { "male" } else { "female" },
            POSTAL[i]
        ));
    }
    register.push_str(&format!(
        "{LEFT},田中　満,タナカ　ミツル,1958-07-07,male,みどり市,\n"
    ));
    let (st, v) = clerk
        .send(
            reqwest::Method::POST,
            "/v1/residents",
            Some((register.into_bytes(), "text/csv")),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let deadline = Instant::now() + Duration::from_secs(60);
    // Every resident: 3 measurements, 4 readings, 2 urine, 2 at the draw, 22 answers, 4 at 診察.
    let want_items = 3 + 4 + 2 + 2 + 22 + 4;
    let mut held: BTreeMap<String, Value> = BTreeMap::new();
    loop {
        held.clear();
        for p in PEOPLE {
            let (_, r) = clerk.get(&format!("/v1/residents/{}/record", p.0)).await;
            held.insert(p.0.to_owned(), r);
        }
        let complete = held.values().all(|r| {
            r["checkups"]
                .as_array()
                .and_then(|c| c.first())
                .and_then(|c| c["items"].as_array())
                .is_some_and(|x| x.len() >= want_items)
        });
        let (_, l) = clerk.get(&format!("/v1/residents/{LEFT}/record")).await;
        let left_there = l["checkups"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(|c| c["items"].as_array())
            .is_some_and(|x| x.len() >= 3);
        if complete && left_there {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "central has not got the day: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let day = held[PEOPLE[0].0]["checkups"][0]["date"]
        .as_str()
        .expect("date")
        .to_owned();
    Day { day, held }
}
