//! The insurer identity travels with the checkup: a real box (its own process) imports a
//! roster with the insurer columns, reception checks residents in, the box forwards the day
//! to a real central (its own process), and central's store answers "the checkups of this
//! insurer" and "the insurer of this checkup" — on SQLite and on this machine's PostgreSQL.

use std::time::{Duration, Instant};

use checkup_central::db::{InsuredCheckup, Store, jst_day};
use checkup_protocol::InsurerIdentity;
use checkup_tests::central::{setup, start_box, start_central};
use checkup_tests::venue::roster_and_reception;
use serde_json::json;

/// Three residents: insured by 協会けんぽ東京支部 with every field, by a 国保 with the least,
/// and one with no identity at all.
const ROSTER: &str = "宛名番号,氏名,カナ氏名,生年月日,性別,住所,コース,予約時刻,保険者番号,被保険者証記号,被保険者証番号,枝番,受診券整理番号,受診券有効期限\n\
    0000000101,保険　一郎,ホケン　イチロウ,1960-01-01,男,みどり市中央1丁目1番,特定健診,09:00,01130012,１２３４,56,01,26000000123,2027/03/31\n\
    0000000102,国保　花子,コクホ　ハナコ,1958-05-05,女,みどり市中央1丁目2番,特定健診,09:05,138057,,７８９,,,\n\
    0000000103,無保　三郎,ムホ　サブロウ,1955-09-09,男,みどり市中央1丁目3番,特定健診,09:10,,,,,,\n";

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn scenario(postgres: bool) {
    let pg = if postgres {
        Some(
            checkup_tests::pg::TempDatabase::create("checkup_insurer")
                .await
                .expect("database"),
        )
    } else {
        None
    };
    let database = pg.as_ref().map_or("sqlite".into(), |d| d.url());
    let s = setup(&database, 1);
    let mut central = start_central(&s);
    let mut edge = start_box(&s.box_configs[0]);

    let day_before = jst_day(now_ms());
    let reception = roster_and_reception(&edge.url, ROSTER).await;
    let mut sessions = Vec::new();
    for resident in ["0000000101", "0000000102", "0000000103"] {
        let (st, v) = reception
            .post(
                "/api/reception/check-in",
                &json!({"id": uuid::Uuid::now_v7(), "resident_id": resident}),
            )
            .await
            .expect("check-in");
        assert_eq!(st, 201, "{v}");
        sessions.push(v["session_id"].as_str().expect("session").to_owned());
    }
    let day_after = jst_day(now_ms());

    let store: Box<dyn Store> = match &pg {
        Some(db) => Box::new(
            checkup_central::db::postgres::Postgres::open(&db.url())
                .await
                .expect("postgres"),
        ),
        None => Box::new(
            checkup_central::db::sqlite::Sqlite::open(&s.dir().join("central/central.sqlite3"))
                .expect("sqlite"),
        ),
    };
    let (all_from, all_to) = ("2000-01-01", "2999-12-31");
    // The box forwards on its own; wait until both insured check-ins are at central.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (kyokai, kokuho) = loop {
        let kyokai = store
            .checkups_of_insurer("01130012", all_from, all_to)
            .await
            .expect("query");
        let kokuho = store
            .checkups_of_insurer("138057", all_from, all_to)
            .await
            .expect("query");
        if !kyokai.is_empty() && !kokuho.is_empty() {
            break (kyokai, kokuho);
        }
        assert!(
            Instant::now() < deadline,
            "the check-ins did not reach central"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let day = kyokai[0].day.clone();
    assert!(
        day == day_before || day == day_after,
        "{day} is the day of the check-in"
    );
    let expected_kyokai = InsuredCheckup {
        session_id: sessions[0].clone(),
        resident_id: "0000000101".into(),
        day: day.clone(),
        venue: s.venue.clone(),
        insurer: InsurerIdentity {
            insurer_number: "01130012".into(),
            symbol: Some("１２３４".into()),
            number: "56".into(),
            branch: Some("01".into()),
            ticket_number: Some("26000000123".into()),
            ticket_expiry: Some("2027-03-31".into()),
        },
    };
    assert_eq!(kyokai, std::slice::from_ref(&expected_kyokai));
    assert_eq!(
        kokuho,
        [InsuredCheckup {
            session_id: sessions[1].clone(),
            resident_id: "0000000102".into(),
            day: day.clone(),
            venue: s.venue.clone(),
            insurer: InsurerIdentity {
                insurer_number: "138057".into(),
                symbol: None,
                number: "７８９".into(),
                branch: None,
                ticket_number: None,
                ticket_expiry: None,
            },
        }]
    );
    // The range is of checkup days, both ends included.
    assert_eq!(
        store
            .checkups_of_insurer("01130012", &day, &day)
            .await
            .expect("query"),
        std::slice::from_ref(&expected_kyokai)
    );
    assert!(
        store
            .checkups_of_insurer("01130012", "2000-01-01", "2000-12-31")
            .await
            .expect("query")
            .is_empty()
    );
    // Another insurer has none of them.
    assert!(
        store
            .checkups_of_insurer("01040013", all_from, all_to)
            .await
            .expect("query")
            .is_empty()
    );
    // Per checkup: the identity, or none for the resident the roster gave none.
    assert_eq!(
        store.checkup_insurer(&sessions[0]).await.expect("query"),
        Some(expected_kyokai)
    );
    // Wait until the third check-in is at central too, then ask for its insurer.
    let deadline = Instant::now() + Duration::from_secs(60);
    while opening_held(&*store, &sessions[2]).await.is_none() {
        assert!(
            Instant::now() < deadline,
            "the third check-in did not reach central"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The identity travelled inside the signed event, not beside it.
    let payload = |json: String| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&json).expect("stored JSON");
        v["body"]["payload"].clone()
    };
    let signed = payload(opening_held(&*store, &sessions[0]).await.expect("held"));
    assert_eq!(signed["insurer"]["insurer_number"], "01130012", "{signed}");
    let uninsured = payload(opening_held(&*store, &sessions[2]).await.expect("held"));
    assert!(uninsured.get("insurer").is_none(), "{uninsured}");
    assert_eq!(
        store.checkup_insurer(&sessions[2]).await.expect("query"),
        None
    );

    drop(store);
    let _ = edge.terminate();
    let _ = central.terminate();
    if let Some(db) = pg {
        db.drop_now().await;
    }
}

/// The signed JSON of the `session_opened` event of `session`, if central holds it (its
/// audit snapshot lists every event it holds).
async fn opening_held(store: &dyn Store, session: &str) -> Option<String> {
    let snapshot = store.audit_snapshot().await.ok()?;
    snapshot
        .events
        .into_iter()
        .map(|(_, _, _, json)| json)
        .find(|json| json.contains("session_opened") && json.contains(session))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insurer_identity_reaches_central_on_sqlite() {
    scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insurer_identity_reaches_central_on_postgresql() {
    scenario(true).await;
}
