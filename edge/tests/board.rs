//! The board's next-station suggestion on a real box: residents checked in together are
//! spread over their stations by expected wait (not all sent to one), and each station's
//! 待ち is exactly the residents whose next station it is.

mod common;

use std::collections::BTreeMap;

use common::TestBox;
use serde_json::json;

#[tokio::test]
async fn seven_residents_checked_in_at_once_are_spread_and_the_counts_agree() {
    let b = TestBox::start().await;
    let reception = b.client("R1", "1111").await;
    for i in 0..7 {
        let body = json!({"id": uuid::Uuid::now_v7(), "resident_id": format!("{:010}", 200 + i), "mynumber": true});
        let (s, v) = reception.post("/api/reception/check-in", &body).await;
        assert_eq!(s, 201, "{v}");
    }
    let (s, board) = reception.get("/api/board").await;
    assert_eq!(s, 200, "{board}");
    let sessions = board["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 7);
    let mut next: BTreeMap<String, usize> = BTreeMap::new();
    for s in sessions {
        let k = s["next"].as_str().expect("a next station").to_owned();
        assert_ne!(k, "doctor", "診察 comes last: {board}");
        *next.entry(k).or_default() += 1;
    }
    // Six stations before 診察: seven residents land on at least five of them, never more
    // than two at one.
    assert!(next.len() >= 5, "{next:?}");
    assert!(next.values().all(|n| *n <= 2), "{next:?}");
    // 待ち is the residents whose next station it is.
    for st in board["stations"].as_array().expect("stations") {
        let kind = st["kind"].as_str().expect("kind");
        assert_eq!(
            st["waiting"].as_u64(),
            Some(next.get(kind).copied().unwrap_or(0) as u64),
            "{kind}: {board}"
        );
    }
    b.stop().await;
}
