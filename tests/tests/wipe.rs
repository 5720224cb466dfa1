//! Wiping a box after the day, with a real central (`checkup-central`) and box
//! (`checkup-edge`) as processes: the wipe is refused while central lacks any event (central
//! down), leaving every file as it was; once the box has forwarded everything, the wipe
//! overwrites and removes every file under the data directory and no resident's name can
//! be found there any more.

use std::path::Path;
use std::time::{Duration, Instant};

use checkup_tests::central::{setup, start_box, start_central};
use checkup_tests::venue::{self, Staff};
use checkup_tests::{binary, files_containing};
use uuid::Uuid;

const ROSTER: &str = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n\
0000000101,髙橋　節子,タカハシ　セツコ,1952-03-14,female,みどり市中央1丁目2番3号,特定健診,09:00\n";

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    files_under(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

fn wipe(config: &Path) -> (Option<i32>, String) {
    let out = std::process::Command::new(binary("checkup-edge", "checkup-edge").expect("bin"))
        .args(["wipe", "--config"])
        .arg(config)
        .output()
        .expect("wipe runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wipe_is_refused_until_central_holds_every_event_then_leaves_no_name() {
    let s = setup("sqlite", 1);
    let config = &s.box_configs[0];
    let data = config.parent().expect("data dir").to_path_buf();

    // Central is down: the box records the day, nothing can be forwarded.
    let mut edge = start_box(config);
    let reception = venue::roster_and_reception(&edge.url, ROSTER).await;
    for _ in 0..3 {
        let (st, v) = reception
            .post(
                "/api/events",
                &venue::open_session(Uuid::now_v7(), "0000000101"),
            )
            .await
            .expect("event");
        assert!(st == 201 || st == 409, "{st} {v}");
    }
    edge.terminate().expect("box stops");
    assert!(
        !files_containing(&data, "節子").is_empty(),
        "the roster holds the name"
    );

    let files_before = files_under(&data);
    let (code, text) = wipe(config);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("not yet acknowledged by central"), "{text}");
    assert_eq!(
        files_under(&data),
        files_before,
        "a refused wipe touches nothing"
    );
    assert!(!files_containing(&data, "節子").is_empty());

    // Central comes up; the box forwards everything it holds.
    let mut central = start_central(&s);
    let mut edge = start_box(config);
    let admin = Staff::login(&edge.url, "A1").await.expect("admin");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = admin.get("/api/forward/status").await.expect("status");
        if status["queue_depth"].as_u64() == Some(0) && status["last_success"].is_number() {
            break;
        }
        assert!(Instant::now() < deadline, "never forwarded: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    edge.terminate().expect("box stops");

    let (code, text) = wipe(config);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("wiped"), "{text}");
    assert_eq!(
        files_under(&data),
        0,
        "nothing left under {}",
        data.display()
    );
    assert!(files_containing(&data, "節子").is_empty());
    assert!(files_containing(&data, "髙橋").is_empty());
    central.terminate().expect("central stops");
}
