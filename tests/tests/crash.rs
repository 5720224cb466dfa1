//! Durability under `kill -9`: clients append over HTTP while the real `checkup-edge`
//! process is killed with SIGKILL at random moments and restarted. Afterwards every
//! acknowledged event is in the log exactly once, the node's sequence numbers have no gaps,
//! every event's signature verifies, and retried saves (same event id) were never doubled.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkup_protocol::{Event, NodeKey};
use checkup_tests::{Process, Rng, binary};
use serde_json::{Value, json};
use uuid::Uuid;

const KILLS: usize = 24;
const CLIENTS: usize = 4;

async fn login(http: &reqwest::Client, url: &str, id: &str, pin: &str) -> anyhow::Result<String> {
    let r = http
        .post(format!("{url}/api/login"))
        .json(&json!({"staff_id": id, "pin": pin}))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 200, "login {id}: {}", r.status());
    Ok(r.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string())
}

/// Demo residents checked in before the writes start, one for each client.
const RESIDENTS: [&str; CLIENTS] = ["0001000100", "0001000137", "0001000174", "0001000211"];

/// A resident's height as first measured: the result every later write corrects.
fn height(id: Uuid, session: &Value, resident: &str) -> Value {
    json!({"id": id, "body": {"kind": "measurement_recorded", "payload": {
        "session_id": session, "resident_id": resident, "station": "measurement",
        "item_code": "9N001000000000001", "value": 160.0, "unit": "cm"}}})
}

/// A nurse's re-measured height, correcting the first (an item holds one result; each new
/// value is a correction with its reason). Each client writes in its own resident's
/// session, so the clients' writes reach the store side by side (group commit), while one
/// session's are decided one at a time.
fn event(id: Uuid, session: &Value, resident: &str, first: Uuid, n: u64) -> Value {
    json!({"id": id, "body": {"kind": "measurement_corrected", "payload": {
        "session_id": session, "resident_id": resident, "corrects": first,
        "item_code": "9N001000000000001", "value": 150.0 + (n % 400) as f64 / 10.0,
        "unit": "cm", "reason": format!("再計測 {n}")}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill_exactly_once() -> anyhow::Result<()> {
    let bin = binary("checkup-edge", "checkup-edge")?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("box");
    let data_arg = data.to_string_lossy().to_string();
    let args = [
        "demo",
        "--insecure-dev",
        "--no-card-reader",
        "--mqtt-port",
        "0",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_arg,
    ];
    let mut rng = Rng::from_env();
    checkup_provisioning::tls::install_provider();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;

    // Event id → acknowledged body (seq) as answered; and ids attempted but unanswered.
    let acked: Arc<Mutex<HashMap<Uuid, u64>>> = Arc::default();
    let unanswered: Arc<Mutex<Vec<(Uuid, Value)>>> = Arc::default();
    let mut retried = 0usize;
    let mut retried_already_stored = 0usize;

    // Each client's (session, first height's id).
    let mut sessions: Vec<(Value, Uuid)> = Vec::new();
    for round in 0..KILLS {
        let mut proc = Process::start(&bin, &args, Duration::from_secs(60))?;
        let cookie = login(&http, &proc.url, "N001", "3331").await?;
        if round == 0 {
            let reception = login(&http, &proc.url, "R001", "1111").await?;
            for resident in RESIDENTS {
                let r = http
                    .post(format!("{}/api/reception/check-in", proc.url))
                    .header("cookie", &reception)
                    .json(&json!({"id": Uuid::now_v7(), "resident_id": resident}))
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "check-in: {}", r.status());
                let v: Value = r.json().await?;
                let session = v["session_id"].clone();
                let first = Uuid::now_v7();
                let r = http
                    .post(format!("{}/api/events", proc.url))
                    .header("cookie", &cookie)
                    .json(&height(first, &session, resident))
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "first height: {}", r.status());
                let v: Value = r.json().await?;
                acked
                    .lock()
                    .expect("lock")
                    .insert(first, v["seq"].as_u64().unwrap_or(0));
                sessions.push((session, first));
            }
        }
        // First, like a tablet coming back, retry what was unanswered before the crash.
        let pending: Vec<(Uuid, Value)> = std::mem::take(&mut *unanswered.lock().expect("lock"));
        for (id, body) in pending {
            let r = http
                .post(format!("{}/api/events", proc.url))
                .header("cookie", &cookie)
                .json(&body)
                .send()
                .await?;
            let status = r.status().as_u16();
            let v: Value = r.json().await?;
            // 201: it had not reached the disk; 200: it had, and is not stored twice.
            // A refusal cannot happen: every retry carries its original id and body.
            anyhow::ensure!(status == 201 || status == 200, "retry {id}: {status} {v}");
            if status == 200 {
                retried_already_stored += 1;
            }
            acked
                .lock()
                .expect("lock")
                .insert(id, v["seq"].as_u64().unwrap_or(0));
            retried += 1;
        }
        let mut tasks = Vec::new();
        for (c, resident) in RESIDENTS.into_iter().enumerate() {
            let (http, url, cookie) = (http.clone(), proc.url.clone(), cookie.clone());
            let (acked, unanswered) = (acked.clone(), unanswered.clone());
            let (session, first) = sessions[c].clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                loop {
                    n += 1;
                    let id = Uuid::now_v7();
                    let body = event(id, &session, resident, first, n);
                    let sent = http
                        .post(format!("{url}/api/events"))
                        .header("cookie", &cookie)
                        .json(&body)
                        .send()
                        .await;
                    let answer = match sent {
                        Ok(r) if r.status() == 201 => r.json::<Value>().await.ok(),
                        _ => None,
                    };
                    match answer {
                        Some(v) => {
                            acked
                                .lock()
                                .expect("lock")
                                .insert(id, v["seq"].as_u64().unwrap_or(0));
                        }
                        None => {
                            unanswered.lock().expect("lock").push((id, body));
                            break;
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(rng.range(20, 400))).await;
        proc.kill9();
        for t in tasks {
            t.await?;
        }
        eprintln!(
            "round {round}: {} acknowledged so far",
            acked.lock().expect("lock").len()
        );
    }

    // Final check on a restarted box.
    let proc = Process::start(&bin, &args, Duration::from_secs(60))?;
    let cookie = login(&http, &proc.url, "A001", "9991").await?;
    let mut events: Vec<Event> = Vec::new();
    let mut after = 0i64;
    loop {
        let v: Value = http
            .get(format!("{}/api/events?after={after}&limit=5000", proc.url))
            .header("cookie", &cookie)
            .send()
            .await?
            .json()
            .await?;
        let batch = v["events"].as_array().cloned().unwrap_or_default();
        if batch.is_empty() {
            break;
        }
        for e in batch {
            events.push(
                Event::from_value(e).map_err(|e| anyhow::anyhow!("stored event invalid: {e}"))?,
            );
        }
        after = v["next"].as_i64().unwrap_or(after);
    }
    let key_bytes: [u8; 32] = std::fs::read(data.join("node.key"))?
        .try_into()
        .map_err(|_| anyhow::anyhow!("node key is not 32 bytes"))?;
    let key = NodeKey::from_bytes(&key_bytes).verifying_key();

    let acked = acked.lock().expect("lock").clone();
    let mut ids = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        assert!(ids.insert(e.id), "event {} stored twice", e.id);
        assert_eq!(e.seq, i as u64 + 1, "sequence numbers have no gaps");
        e.verify(&key).map_err(|err| anyhow::anyhow!("{err}"))?;
    }
    let by_id: HashMap<Uuid, u64> = events.iter().map(|e| (e.id, e.seq)).collect();
    for (id, seq) in &acked {
        assert_eq!(
            by_id.get(id),
            Some(seq),
            "acknowledged {id} present with the seq it was given"
        );
    }
    let unanswered_left = unanswered.lock().expect("lock").len();
    eprintln!(
        "{KILLS} kills: {} acknowledged, {retried} retried after a crash ({retried_already_stored} of them had reached the disk unanswered and were not doubled), {} stored, {unanswered_left} unanswered at the last kill",
        acked.len(),
        events.len()
    );
    assert!(acked.len() > KILLS * 4, "enough appends to mean something");
    // Everything stored was either acknowledged, a check-in, or one of the last
    // unanswered attempts.
    assert!(events.len() <= acked.len() + RESIDENTS.len() + unanswered_left);
    Ok(())
}
