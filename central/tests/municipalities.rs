//! Many municipalities in one central on PostgreSQL (issue 21): each municipality's staff
//! and boxes see and write only their own — through the HTTP API, through the store scoped
//! to a municipality (whose queries carry no municipality filter: row-level security is what
//! keeps the other out), and connecting as each municipality's database role directly, where
//! reading another's rows finds nothing and writing them is refused by the database.
//! SQLite serves one municipality and refuses a configuration naming two.

mod common;

use checkup_protocol::Role;
use common::{Served, TestBox, duty, staff};
use serde_json::json;

/// 函館市 and 小樽市 (JIS X 0402).
const A: &str = "012025";
const B: &str = "012033";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_municipalities_see_and_write_only_their_own() {
    let ba = TestBox::new("edge-hakodate-1", "hakodate-2026-11-25", A);
    let bb = TestBox::new("edge-otaru-1", "otaru-2026-11-25", B);
    let c = Served::start(
        true,
        &[&ba, &bb],
        vec![
            staff("CA", Role::CentralAdmin, duty(A, "係員", &[], &[])),
            staff("CB", Role::CentralAdmin, duty(B, "係員", &[], &[])),
            staff("NA", Role::Nurse, duty(A, "係長", &[], &[])),
            staff("NB", Role::Nurse, duty(B, "係員", &["中央"], &[])),
            staff("WA", Role::Caseworker, duty(A, "係員", &[], &[])),
            staff("WB", Role::Caseworker, duty(B, "係員", &[], &[])),
        ],
    )
    .await;
    let (ca, cb) = (c.login("CA").await, c.login("CB").await);
    let (na, nb) = (c.login("NA").await, c.login("NB").await);
    let (wa, wb) = (c.login("WA").await, c.login("WB").await);
    // The same resident number in both registers: two different people.
    c.register(&ca, &[("R1", "函館花子", "東"), ("R2", "函館次郎", "西")])
        .await;
    c.register(&cb, &[("R1", "小樽海子", "中央")]).await;
    let mut a_events = ba.checkup("R1", 151.0);
    a_events.extend(ba.checkup("R2", 160.0));
    assert_eq!(c.send(&ba, &a_events).await.0, 200);
    let mut b_events = bb.checkup("R1", 172.0);
    let (b_case, notice) = bb.notice("R1", "小樽海子");
    b_events.push(notice);
    assert_eq!(c.send(&bb, &b_events).await.0, 200);
    // A box writes only its municipality's venues.
    let foreign = ba.seal_in(
        &bb.venue,
        common::DAY_MS,
        bb.checkup("R1", 150.0).remove(0).body,
    );
    let (s, v) = c.send(&ba, &[foreign]).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (422, Some("foreign_municipality")),
        "{v}"
    );

    // Staff: each sees their own register, record, export, cases and flags.
    let (s, v) = c.get(&ca, "/v1/residents?q=").await;
    assert_eq!(s, 200, "{v}");
    let names: Vec<&str> = v["residents"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{v}");
    assert!(names.iter().all(|n| n.starts_with("函館")), "{v}");
    let (_, v) = c.get(&cb, "/v1/residents?q=").await;
    assert_eq!(v["residents"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["residents"][0]["name"], "小樽海子");
    let (s, v) = c.get(&ca, "/v1/residents/R1/record").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["resident"]["name"], "函館花子");
    assert_eq!(v["checkups"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["checkups"][0]["items"][0]["value"], "151");
    let (_, v) = c.get(&na, "/v1/residents/R1/record").await;
    assert_eq!(v["checkups"][0]["items"][0]["value"], "151", "{v}");
    let (s, v) = c.get(&nb, "/v1/residents/R1/record").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["resident"]["name"], "小樽海子");
    assert_eq!(v["checkups"][0]["items"][0]["value"], "172");
    // A's R2 does not exist for B's staff.
    let (s, v) = c.get(&cb, "/v1/residents/R2/record").await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            v["resident"].is_null(),
            v["checkups"].as_array().map(Vec::len)
        ),
        (true, Some(0)),
        "{v}"
    );
    let (s, v) = c
        .get(&ca, "/v1/export.csv?from=2026-11-25&to=2026-11-25")
        .await;
    assert_eq!(s, 200);
    let csv = v.as_str().expect("csv text");
    assert!(
        csv.contains("151") && csv.contains("160") && !csv.contains("172"),
        "{csv}"
    );
    let (_, v) = c.get(&wa, "/v1/notices").await;
    assert_eq!(v["cases"].as_array().map(Vec::len), Some(0), "{v}");
    let (_, v) = c.get(&wb, "/v1/notices").await;
    assert_eq!(v["cases"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(c.get(&wa, &format!("/v1/notices/{b_case}")).await.0, 404);
    assert_eq!(c.get(&wb, &format!("/v1/notices/{b_case}")).await.0, 200);
    let (s, v) = c
        .post(
            &nb,
            "/v1/residents/R1/flags",
            "application/json",
            json!({"kind": "specified_pregnancy", "note": "若年の妊娠、支援者なし"}).to_string(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        c.get(&wa, "/v1/flags").await.1["flags"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(
        c.get(&wb, "/v1/flags").await.1["flags"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // A's access report for its R1 holds A's reads only.
    let (_, v) = c.get(&ca, "/v1/residents/R1/access-report").await;
    let who: Vec<&str> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["staff_id"].as_str())
        .collect();
    assert_eq!(who, vec!["CA", "NA"], "{v}");

    // The store scoped to a municipality: its queries name no municipality; the database
    // keeps the other out.
    let db = checkup_central::db::open(&c.config).await.expect("db");
    db.prepare_municipalities(&[A.into(), B.into()], None)
        .await
        .expect("prepare");
    let a = db.scoped(A).expect("scoped");
    let all_day = a
        .results_between("2026-01-01", "2026-12-31")
        .await
        .expect("results");
    assert_eq!(all_day.len(), 2, "A's two heights only");
    assert!(
        a.search("", None)
            .await
            .expect("search")
            .iter()
            .all(|r| r.name.starts_with("函館"))
    );
    assert!(a.notices(None, 100).await.expect("notices").is_empty());
    assert!(a.risk_flags(0, 100).await.expect("flags").is_empty());
    assert_eq!(
        db.results_between("2026-01-01", "2026-12-31")
            .await
            .expect("owner")
            .len(),
        3
    );
    assert!(matches!(
        db.scoped("999999"),
        Err(checkup_central::db::DbError::UnknownMunicipality(_))
    ));

    // Connecting as each municipality's database role directly.
    let pg = c.pg.as_ref().expect("postgres");
    let (owner, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .expect("owner");
    tokio::spawn(conn);
    let roles: Vec<(String, String)> = owner
        .query(
            "SELECT role_name, municipality FROM municipality_roles ORDER BY municipality",
            &[],
        )
        .await
        .expect("roles")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        roles.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        vec![A, B]
    );
    for (role, me) in &roles {
        let other = if me == A { B } else { A };
        owner
            .batch_execute(&format!("ALTER ROLE \"{role}\" LOGIN"))
            .await
            .expect("login");
        let url = format!("host=127.0.0.1 port=5432 user={role} dbname={}", pg.name);
        let (r, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect as the role");
        tokio::spawn(conn);
        for table in checkup_central::db::migrations::MUNICIPAL_TABLES {
            let row = r
                .query_one(
                    &format!(
                        "SELECT count(*) FILTER (WHERE municipality <> $1), count(*) FROM {table}"
                    ),
                    &[me],
                )
                .await
                .unwrap_or_else(|e| panic!("{role} reads {table}: {e}"));
            let (others, mine): (i64, i64) = (row.get(0), row.get(1));
            assert_eq!(
                others, 0,
                "{me} sees none of another municipality's {table}"
            );
            if ["residents", "events", "results", "audit", "sessions"].contains(table) {
                assert!(mine > 0, "{me} sees its own {table}");
            }
        }
        // The policy costs one lookup of the role's municipality per statement, not one per
        // row (migration 13): the planner takes it as an InitPlan, and uses it as the key of
        // the index that leads with the municipality.
        for (table, query) in [
            (
                "results",
                "SELECT * FROM results WHERE day BETWEEN '2024-04-01' AND '2025-03-31'",
            ),
            ("events", "SELECT * FROM events WHERE resident = 'R1'"),
            ("residents", "SELECT * FROM residents"),
        ] {
            let plan: Vec<String> = r
                .query(&format!("EXPLAIN {query}"), &[])
                .await
                .unwrap_or_else(|e| panic!("explain {table}: {e}"))
                .iter()
                .map(|row| row.get(0))
                .collect();
            let plan = plan.join("\n");
            assert!(
                !plan.contains("= checkup_municipality()") && plan.contains("InitPlan"),
                "{table}: the municipality looked up once per statement:\n{plan}"
            );
        }
        let own_names: Vec<String> = r
            .query("SELECT name FROM residents ORDER BY name", &[])
            .await
            .expect("names")
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert!(
            own_names
                .iter()
                .all(|n| n.starts_with(if me == A { "函館" } else { "小樽" })),
            "{own_names:?}"
        );
        // Writing another municipality's rows is refused by the database itself.
        let e = r
            .execute(
                "INSERT INTO residents (resident_id, name, name_kana, birth_date, sex, address, municipality)
                 VALUES ('X1', '侵入', 'シンニュウ', '1990-01-01', 'male', '-', $1)",
                &[&other],
            )
            .await
            .expect_err("another municipality's row refused");
        assert!(db_message(&e).contains("row-level security"), "{e:?}");
        let e = r
            .execute("UPDATE residents SET municipality = $1", &[&other])
            .await
            .expect_err("moving rows to another municipality refused");
        assert!(db_message(&e).contains("row-level security"), "{e:?}");
        // Deleting another's: nothing to delete (they are not there for this role).
        let n = r
            .execute("DELETE FROM risk_flags WHERE municipality = $1", &[&other])
            .await
            .expect("delete");
        assert_eq!(n, 0);
        // The month partitions of `events` are not the role's to read directly (row-level
        // security is on `events`, which is what the role is granted).
        let month = r
            .query("SELECT count(*) FROM events_default", &[])
            .await
            .expect_err("a partition read directly is refused");
        assert!(
            db_message(&month).contains("permission denied"),
            "{month:?}"
        );
        // And the role cannot become the other municipality's.
        let other_role = &roles.iter().find(|x| x.1 == other).expect("other").0;
        assert!(
            r.batch_execute(&format!("SET ROLE \"{other_role}\""))
                .await
                .is_err()
        );
        // Rows without a municipality are written as its own (the column's default).
        r.execute(
            "INSERT INTO residents (resident_id, name, name_kana, birth_date, sex, address)
             VALUES ('Z9', '既定', 'キテイ', '1990-01-01', 'male', '-')",
            &[],
        )
        .await
        .expect("own row");
        let m: String = owner
            .query_one(
                "SELECT municipality FROM residents WHERE resident_id = 'Z9' AND municipality = $1",
                &[me],
            )
            .await
            .expect("Z9")
            .get(0);
        assert_eq!(&m, me);
    }
    // The owner (central's own login: migrations, audit verify) sees both.
    let n: i64 = owner
        .query_one("SELECT count(*) FROM residents", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 5);
    drop(owner);
    drop(db);
    let name = c.pg.as_ref().map(|p| p.name.clone()).expect("name");
    c.finish().await;
    // The roles went with the database.
    let (admin, conn) = tokio_postgres::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
        tokio_postgres::NoTls,
    )
    .await
    .expect("admin");
    tokio::spawn(conn);
    assert!(
        checkup_tests::pg::TempDatabase::roles_of(&admin, &name)
            .await
            .is_empty()
    );
}

/// The database's own words for a refusal.
fn db_message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_owned())
}

#[test]
fn sqlite_serves_one_municipality() {
    let mut config = checkup_central::config::Config::default();
    for (node, m) in [("e1", A), ("e2", B)] {
        config.boxes.push(checkup_central::config::BoxConfig {
            node: node.into(),
            venue: format!("{node}-venue"),
            municipality: m.into(),
            public_key: checkup_protocol::NodeKey::generate()
                .verifying_key()
                .to_base64(),
            secret_sha256: "0".repeat(64),
        });
    }
    let e = config.check().expect_err("two municipalities on SQLite");
    assert!(e.to_string().contains("PostgreSQL"), "{e}");
    config.database = "postgres://x@127.0.0.1/y".into();
    config.check().expect("PostgreSQL serves several");
    // Staff of a central with several municipalities say which is theirs.
    config
        .staff
        .push(staff("S1", Role::Nurse, Default::default()));
    let e = config.check().expect_err("no municipality");
    assert!(e.to_string().contains("duty.municipality"), "{e}");
    config.staff[0].duty.municipality = Some(B.into());
    config.check().expect("named");
}
