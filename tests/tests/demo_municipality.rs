//! One command sets up a whole demo municipality (`checkup-provision demo-municipality`):
//! central and two boxes start from what it wrote alone — central from its configuration,
//! each box from its encrypted bundle — and the venue works with TLS everywhere: the boxes
//! find each other by mDNS on loopback, replicate through the hub's gated broker, and
//! forward to central over mutual TLS.

use std::process::Command;
use std::time::{Duration, Instant};

use checkup_tests::central::{free_port, https_client};
use checkup_tests::venue::Staff;
use checkup_tests::{Process, binary};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_municipality_runs_from_one_command() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("midori");
    let central_addr = format!("127.0.0.1:{}", free_port());
    let made = Command::new(binary("checkup-provisioning", "checkup-provision").expect("bin"))
        .args(["demo-municipality", "--out"])
        .arg(&out)
        .args([
            "--boxes",
            "2",
            "--central",
            &central_addr,
            "--listen",
            "127.0.0.1:0",
            // Never the demo box's 18830: the test runs beside a `make demo` box.
            "--broker-port",
            "0",
        ])
        .output()
        .expect("demo-municipality");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let printed = String::from_utf8_lossy(&made.stdout);
    assert!(printed.contains("R001 1111 reception"), "{printed}");

    let central = Process::start(
        &binary("checkup-central", "checkup-central").expect("bin"),
        &[
            "run",
            "--config",
            &out.join("central/central.toml").display().to_string(),
        ],
        Duration::from_secs(30),
    )
    .expect("central");
    let edge = binary("checkup-edge", "checkup-edge").expect("bin");
    let start = |node: &str| {
        Process::start(
            &edge,
            &[
                "run",
                "--bundle",
                &out.join(format!("bundles/{node}.bundle"))
                    .display()
                    .to_string(),
                "--passphrase-file",
                &out.join("passphrase").display().to_string(),
                "--data-dir",
                &dir.path().join(node).display().to_string(),
            ],
            Duration::from_secs(30),
        )
        .expect("box")
    };
    let (b1, b2) = (start("edge-01"), start("edge-02"));
    let http = https_client(&out.join("ca"), None);
    let r2 = Staff::login_pin(http.clone(), &b2.url, "R001", "1111")
        .await
        .expect("the demo reception signs in on edge-02");
    let a1 = Staff::login_pin(http.clone(), &b1.url, "A001", "9991")
        .await
        .expect("the demo venue admin signs in on edge-01");
    r2.open_session("0000000101").await;
    let health = format!("{}/healthz", central.url);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = a1
            .get("/api/replication/state")
            .await
            .unwrap_or(Value::Null);
        let h: Value = match http.get(&health).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        // edge-02's session at the hub (replicated), and at central (forwarded).
        if state["events"].as_u64() >= Some(1) && h["events"].as_u64() >= Some(1) {
            assert_eq!(state["broker_node"], "edge-01", "{state}");
            assert!(
                state["gate"].is_object(),
                "the hub's broker is gated: {state}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the venue never worked: {state} {h}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
