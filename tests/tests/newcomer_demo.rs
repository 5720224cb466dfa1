//! The demo as a newcomer runs it: `checkup-edge demo` with a relative data directory (the
//! Makefile's default `data/demo`), from a working directory of its own. Reception signs
//! in, finds the virtual card reader, taps a booked resident's venue card and reads it.

use std::time::{Duration, Instant};

use checkup_tests::venue::Staff;
use checkup_tests::{Process, binary};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_with_a_relative_data_dir_has_its_card_reader() {
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let cwd = tempfile::tempdir().expect("dir");
    let args = [
        "demo",
        "--insecure-dev",
        "--listen",
        "127.0.0.1:0",
        "--mqtt-port",
        "0",
        "--data-dir",
        "data/demo",
    ];
    let proc = Process::start_in(&bin, &args, cwd.path(), Duration::from_secs(60)).expect("box");
    let pid = proc.pid();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let reception = Staff::login_pin(http, &proc.url, "R001", "1111")
        .await
        .expect("reception signs in");
    // The reader appears once the private pcscd is up.
    let deadline = Instant::now() + Duration::from_secs(20);
    let readers = loop {
        let v = reception
            .get("/api/card/readers")
            .await
            .unwrap_or(Value::Null);
        let n = v["readers"].as_array().map_or(0, Vec::len);
        if n > 0 {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "no card reader on the demo box: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // vpcd offers its slots as readers (two), each empty until a card is tapped.
    assert!(
        readers["readers"][0]["name"]
            .as_str()
            .is_some_and(|n| n.contains("Virtual PCD")),
        "{readers}"
    );

    // Tap a booked resident's venue card and read it, as reception does.
    let (st, v) = reception
        .post(
            "/api/demo/tap",
            &json!({"resident_id": "0001000100", "card": "venue"}),
        )
        .await
        .expect("tap");
    assert_eq!(st, 200, "{v}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let read = loop {
        let (st, v) = reception
            .post("/api/card/read", &json!({}))
            .await
            .expect("read");
        if st == 200 {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the tapped card never read: {st} {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(read["kind"], "contactless", "{read}");
    assert!(
        read["uid"].as_str().is_some_and(|u| u.len() == 16),
        "{read}"
    );
    // Everything the box made is under the working directory's data/demo.
    assert!(
        cwd.path()
            .join("data/demo/virtual-reader/reader.conf.d")
            .is_dir()
    );
    // Stopped as an operator stops it: its private pcscd and network namespace go with it.
    let mut proc = proc;
    let status = proc.terminate().expect("stop");
    assert!(status.success(), "the demo box stops cleanly: {status}");
    let left: Vec<String> = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&format!("ce-vr-{pid}-")))
        .map(str::to_owned)
        .collect();
    assert!(left.is_empty(), "the box left its namespace: {left:?}");
}
