//! Two boxes of one venue replicate through the real Mosquitto on 127.0.0.1:1883 (a unique
//! venue id, so topics never collide with other tests): live events, catching up after being
//! offline (anti-entropy, not broker retention), and hostile messages rejected and counted.

mod common;

use std::time::{Duration, Instant};

use checkup_edge::config::{PeerConfig, ReplicationConfig};
use checkup_protocol::{Actor, Event, EventBody, Hlc, NodeKey, Role, SessionClosed};
use common::{TestBox, open_session};
use serde_json::Value;
use uuid::Uuid;

fn write_key(dir: &std::path::Path) -> NodeKey {
    let key = NodeKey::generate();
    std::fs::write(dir.join("node.key"), key.to_bytes()).expect("key");
    key
}

async fn box_for(
    venue: &str,
    node: &str,
    dir: tempfile::TempDir,
    peer: (&str, &NodeKey),
) -> TestBox {
    let mut c = common::config(dir.path());
    c.venue_id = venue.into();
    c.node_id = node.into();
    c.peers = vec![PeerConfig {
        node: peer.0.into(),
        public_key: peer.1.verifying_key().to_base64(),
    }];
    c.replication = ReplicationConfig {
        broker: Some("127.0.0.1:1883".into()),
        discovery: false,
        ..Default::default()
    };
    TestBox::start_with(dir, c).await
}

async fn events(b: &TestBox) -> u64 {
    let v: Value = reqwest::get(b.url("/healthz"))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    v["events"].as_u64().unwrap_or(0)
}

async fn wait_events(b: &TestBox, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while events(b).await < n {
        assert!(
            Instant::now() < deadline,
            "box never reached {n} events (has {})",
            events(b).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boxes_replicate_live_catch_up_and_reject_hostile_messages() {
    let venue = format!("rep-{}", Uuid::now_v7().simple());
    let (da, db) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (ka, kb) = (write_key(da.path()), write_key(db.path()));
    let db_path = db.path().to_path_buf();
    let a = box_for(&venue, "edge-01", da, ("edge-02", &kb)).await;
    let ra = a.client("R1", "1111").await;
    let (s, _) = ra
        .post("/api/events", &open_session(Uuid::now_v7(), "0000000001"))
        .await;
    assert_eq!(s, 201);

    // B starts after A's event was published: it must ask for it.
    let b = box_for(&venue, "edge-02", db, ("edge-01", &ka)).await;
    wait_events(&b, 1).await;
    // Live, both ways.
    let rb = b.client("R1", "1111").await;
    rb.post("/api/events", &open_session(Uuid::now_v7(), "0000000002"))
        .await;
    wait_events(&a, 2).await;

    // B goes offline; A records three more; B comes back with the same data and catches up.
    let dir_b = b.stop().await;
    for i in 0..3 {
        ra.post(
            "/api/events",
            &open_session(Uuid::now_v7(), &format!("00000001{i:02}")),
        )
        .await;
    }
    let mut cb = common::config(dir_b.path());
    cb.venue_id = venue.clone();
    cb.node_id = "edge-02".into();
    cb.peers = vec![PeerConfig {
        node: "edge-01".into(),
        public_key: ka.verifying_key().to_base64(),
    }];
    cb.replication = ReplicationConfig {
        broker: Some("127.0.0.1:1883".into()),
        discovery: false,
        ..Default::default()
    };
    assert_eq!(dir_b.path(), db_path.as_path());
    let b = TestBox::start_with(dir_b, cb).await;
    wait_events(&b, 5).await;
    wait_events(&a, 5).await;

    // Hostile or broken messages on the venue's topics: rejected, counted, never applied.
    let mut opts = rumqttc::MqttOptions::new(format!("intruder-{venue}"), "127.0.0.1", 1883);
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = rumqttc::AsyncClient::new(opts, 16);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let forged = {
        let body = EventBody::SessionClosed(SessionClosed {
            session_id: Uuid::now_v7(),
            reason: None,
        });
        let actor = Actor {
            staff_id: "X".into(),
            role: Role::Reception,
        };
        Event::seal(
            Uuid::now_v7(),
            &venue,
            "edge-02",
            999,
            Hlc { ms: 1, c: 0 },
            actor,
            body,
            &NodeKey::generate(),
        )
    };
    let topic = format!("checkup/{venue}/events/edge-02");
    for payload in [
        b"{garbage".to_vec(),
        serde_json::to_vec(&vec![&forged]).expect("json"),
        br#"[{"format": 7}]"#.to_vec(),
    ] {
        client
            .publish(topic.clone(), rumqttc::QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let admin = a.client("A1", "9999").await;
    loop {
        let (_, board) = admin.get("/api/board").await;
        let r = &board["replication"]["rejected"];
        if r["malformed"].as_u64() == Some(2) && r["unauthenticated"].as_u64() == Some(1) {
            assert_eq!(board["replication"]["connected"], true);
            let boxes = board["replication"]["boxes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let b2 = boxes
                .iter()
                .find(|x| x["node"] == "edge-02")
                .expect("edge-02 on the board");
            assert_eq!(
                (b2["head"].as_u64(), b2["lag"].as_u64()),
                (Some(1), Some(0)),
                "{board}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "rejections not counted: {board}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events(&a).await, 5, "nothing hostile was applied");

    // A station on the second box records an item the first box already holds for the
    // resident: once replicated, the saved value is respected there too: a second value is
    // refused as a correction without a reason, and the correction (with its reason) is
    // kept on both boxes beside the first value, the later shown.
    let session = Uuid::now_v7();
    ra.post("/api/events", &open_session(session, "0000000009"))
        .await;
    wait_events(&b, 6).await;
    let (sa, sb) = (a.client("S1", "2222").await, b.client("S1", "2222").await);
    let first = common::height(session, "0000000009", 170.0);
    let (s, _) = sa.post("/api/events", &first).await;
    assert_eq!(s, 201);
    wait_events(&b, 7).await;
    let (s, v) = sb
        .post("/api/events", &common::height(session, "0000000009", 171.5))
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("correction_required")),
        "{v}"
    );
    let fix = serde_json::json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_corrected", "payload": {
        "session_id": session, "resident_id": "0000000009", "corrects": first["id"],
        "item_code": "9N001000000000001", "value": 171.5, "unit": "cm", "reason": "再測定"}}});
    let (s, v) = sb.post("/api/events", &fix).await;
    assert_eq!(s, 201, "{v}");
    wait_events(&a, 8).await;
    let admin_b = b.client("A1", "9999").await;
    for (name, admin, nurse) in [("A", &admin, &sa), ("B", &admin_b, &sb)] {
        let (_, board) = admin.get("/api/board").await;
        let row = board["sessions"]
            .as_array()
            .and_then(|v| v.iter().find(|s| s["session_id"] == session.to_string()))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            row["conflicts"],
            serde_json::json!([]),
            "box {name}: {board}"
        );
        let (s, view) = nurse.get(&format!("/api/sessions/{session}")).await;
        assert_eq!(s, 200, "{view}");
        assert_eq!(
            view["current"]["9N001000000000001"]["value"], 171.5,
            "box {name} shows the later value: {view}"
        );
        assert_eq!(
            view["session"]["results"]["9N001000000000001"]
                .as_array()
                .map(Vec::len),
            Some(2),
            "box {name} keeps both: {view}"
        );
    }
    b.stop().await;
    a.stop().await;
}
