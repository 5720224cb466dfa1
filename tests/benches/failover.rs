//! Hub failover time: N edge boxes (separate processes, each in its own network namespace
//! on a venue LAN) replicate through the hub's embedded broker, found by mDNS; the hub dies
//! and the clock runs until every surviving box is connected to one new broker and an event
//! recorded on each survivor after the death has reached all the others. Prints a table row
//! per run. Needs root (network namespaces).
//!
//! How the hub dies (`DEATH`): `kill` — SIGKILL, its host still up, so its broker port
//! refuses connections (a crash); `power` — its LAN link cut first, then SIGKILL, so nothing
//! answers at all (power loss: decided on silence, `hub_silence_secs`).
//!
//! `cargo bench -p checkup-tests --bench failover [-- BOXES [FAILOVER_SECS [RUNS [DEATH]]]]`

use std::time::{Duration, Instant};

use checkup_tests::venue::{self, BrokerKind, Staff, Venue};
use serde_json::Value;
use uuid::Uuid;

async fn state(admin: &Staff) -> Option<Value> {
    admin.get("/api/replication/state").await.ok()
}

async fn run(
    boxes: usize,
    failover: u64,
    power: bool,
) -> anyhow::Result<(Duration, Duration, String)> {
    let mut v = Venue::new(boxes, BrokerKind::Embedded, failover)?;
    for i in 0..boxes {
        v.start(i)?;
    }
    let mut admins = Vec::new();
    let mut reception = Vec::new();
    for (i, b) in v.boxes.iter().enumerate() {
        admins.push(venue::login_retry(&b.url, "A1").await?);
        reception.push(venue::login_retry(&b.url, "R1").await?);
        venue::book(&b.url, &[format!("{:010}", i + 1)]).await?;
    }
    // Everyone on the hub's broker first.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut ok = true;
        for a in &admins {
            let s = state(a).await;
            ok &= s.is_some_and(|s| s["connected"] == true && s["broker_node"] == "edge-01");
        }
        if ok {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "venue never formed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    if power {
        v.set_link(0, false)?;
    }
    let killed = Instant::now();
    v.kill(0);
    let survivors = 1..boxes;
    // Until all survivors agree on a connected new broker.
    let broker_node = loop {
        let mut nodes = Vec::new();
        for i in survivors.clone() {
            let s = state(&admins[i]).await.unwrap_or(Value::Null);
            nodes.push((s["connected"] == true).then(|| s["broker_node"].clone()));
        }
        // One new broker: a link to the dead hub's may still look up until the keep-alive
        // notices (power loss sends no reset).
        if let Some(Some(first)) = nodes.first()
            && !first.is_null()
            && *first != "edge-01"
            && nodes.iter().all(|n| n.as_ref() == Some(first))
        {
            break first.to_string();
        }
        anyhow::ensure!(
            killed.elapsed() < Duration::from_secs(failover + 120),
            "no new broker"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let on_broker = killed.elapsed();
    // One event from each survivor, after the kill; wait until every survivor holds all.
    let mut before = 0;
    for i in survivors.clone() {
        let sid = Uuid::now_v7();
        let (status, _) = reception[i]
            .post(
                "/api/events",
                &venue::open_session(sid, &format!("{:010}", i + 1)),
            )
            .await?;
        anyhow::ensure!(status == 201, "append on box {} failed: {status}", i + 1);
        before += 1;
    }
    let _ = before;
    loop {
        let mut digests = Vec::new();
        for i in survivors.clone() {
            let s = state(&admins[i]).await.unwrap_or(Value::Null);
            digests.push(s["ids_digest"].clone());
        }
        if digests.iter().all(|d| !d.is_null() && *d == digests[0]) {
            break;
        }
        anyhow::ensure!(
            killed.elapsed() < Duration::from_secs(failover + 180),
            "events never crossed the new broker"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((on_broker, killed.elapsed(), broker_node))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let boxes: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let failover: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(30);
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let death = args.get(3).map(String::as_str).unwrap_or("kill");
    anyhow::ensure!(
        death == "kill" || death == "power",
        "DEATH is kill or power, not {death}"
    );
    if let Some(why) = venue::netns_unavailable() {
        println!("failover benchmark skipped: {why}");
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "| boxes | hub death | hub death → survivors on one broker | → every survivor's new event everywhere | new broker |"
    );
    println!("|---:|---|---:|---:|---|");
    for _ in 0..runs {
        let (broker, all, node) = rt.block_on(run(boxes, failover, death == "power"))?;
        println!(
            "| {boxes} | {death} | {:.2} s | {:.2} s | {node} |",
            broker.as_secs_f64(),
            all.as_secs_f64()
        );
    }
    Ok(())
}
