//! Training mode keeps a rehearsal apart from a real day inside the box: a training box's
//! store seals every event as training; a real box's store refuses a training event from
//! anywhere (a peer, `/api/replicate`), and a training box's store a real one; a real box
//! does not open a training data directory.

use checkup_edge::log::store::{Draft, EventStore, StoreError, StoreOptions};
use checkup_protocol::{Actor, EventBody, NodeKey, Role, SessionClosed};
use uuid::Uuid;

fn store(dir: &std::path::Path, node: &str, training: bool) -> (EventStore, NodeKey) {
    let key = NodeKey::generate();
    let s = EventStore::open(
        &dir.join(format!("{node}.sqlite3")),
        StoreOptions {
            venue: "v".into(),
            node: node.into(),
            max_batch_events: 64,
            key: None,
            training,
        },
        key.clone(),
    )
    .expect("store");
    (s, key)
}

fn draft() -> Draft {
    Draft {
        id: None,
        actor: Actor {
            staff_id: "R001".into(),
            role: Role::Reception,
        },
        body: EventBody::SessionClosed(SessionClosed {
            session_id: Uuid::now_v7(),
            reason: None,
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_and_real_events_never_share_a_store() {
    let dir = tempfile::tempdir().expect("dir");
    let (training, _) = store(dir.path(), "edge-t", true);
    let (real, _) = store(dir.path(), "edge-r", false);
    training
        .append_local(vec![draft()])
        .await
        .expect("training append");
    real.append_local(vec![draft()]).await.expect("real append");
    let t = training.read_after(0, 10).expect("read");
    let r = real.read_after(0, 10).expect("read");
    assert!(t[0].event.training, "a training box seals training events");
    assert!(!r[0].event.training, "a real box seals real events");
    assert!(
        !r[0].event.to_json().contains("training"),
        "a real event's encoding is unchanged"
    );
    let t_event = (*t[0].event).clone();
    let r_event = (*r[0].event).clone();
    // A training event offered to the real box (replication, /api/replicate): refused.
    match real.append_signed(vec![t_event.clone()]).await {
        Err(e @ StoreError::TrainingMismatch { training: true }) => {
            assert!(e.to_string().contains("練習モード"), "{e}")
        }
        other => panic!("a real box took a training event: {other:?}"),
    }
    assert_eq!(real.read_after(0, 10).expect("read").len(), 1);
    // A real event offered to the training box: refused as well.
    assert!(matches!(
        training.append_signed(vec![r_event]).await,
        Err(StoreError::TrainingMismatch { training: false })
    ));
    assert_eq!(training.read_after(0, 10).expect("read").len(), 1);
    training.close().await;
    real.close().await;
}

#[test]
fn a_real_box_does_not_open_a_training_directory() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("training");
    checkup_edge::training::prepare(&data).expect("prepare");
    let config = checkup_edge::Config {
        data_dir: data.clone(),
        card: checkup_edge::config::CardConfig {
            mode: checkup_edge::config::CardMode::Off,
        },
        ..checkup_edge::Config::default()
    };
    let err = match checkup_edge::Edge::open(&config) {
        Ok(_) => panic!("a real box opened a training directory"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("training data directory"), "{err}");
    assert!(
        !data.join("events.sqlite3").exists(),
        "no real store was made in it"
    );
}
