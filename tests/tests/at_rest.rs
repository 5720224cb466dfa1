//! Encryption at rest with a real box (`checkup-edge run` with `store.key_file`): after a day
//! with a roster, sessions and a police notice from the scanner's hot folder, no file under
//! the data directory or the hot folder's `taken/` holds a resident's or the child's name,
//! and `strings` finds neither a resident id nor a birth date in the SQLCipher files; the
//! store opens with the key only; the box reads everything back after a restart. The same
//! day without a key is the control: there the names are found, so the checks can fail.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checkup_tests::central::{setup, start_box};
use checkup_tests::notice_corpus::{Layout, example, render_example};
use checkup_tests::venue::{self, Staff};
use checkup_tests::{binary, files_containing, files_containing_bytes};

/// A PNG file's first eight bytes: a scan in the clear (a shorter needle such as "PNG"
/// turns up in sealed bytes by chance).
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

const ROSTER: &str = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n\
0000000101,髙橋　節子,タカハシ　セツコ,1952-03-14,female,みどり市中央1丁目2番3号,特定健診,09:00\n\
0000000102,渡邊　健一,ワタナベ　ケンイチ,1958-04-22,male,みどり市緑町2丁目5番8号,特定健診,09:05\n\
0000000103,﨑山　花子,サキヤマ　ハナコ,1961-07-01,female,みどり市本町3丁目1番1号,特定健診,09:10\n";

/// What `strings` prints for a file.
fn strings(path: &Path) -> String {
    let out = std::process::Command::new("strings")
        .args(["-a", "-n", "6"])
        .arg(path)
        .output()
        .expect("strings (binutils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Day {
    config: PathBuf,
    data: PathBuf,
    hot: PathBuf,
    child: String,
    _setup: checkup_tests::central::Setup,
}

/// A box's day: roster, three sessions, one notice through the hot folder; the box is
/// stopped at the end. With `key`, the box has a data key.
async fn day(key: bool) -> Day {
    let s = setup("sqlite", 1);
    let config = s.box_configs[0].clone();
    let data = config.parent().expect("data dir").to_path_buf();
    let hot = s.dir().join("scanner");
    std::fs::create_dir_all(&hot).expect("hot folder");
    let mut extra = format!("\n[intake]\nhot_folder = \"{}\"\n", hot.display());
    if key {
        // Off the data directory, as on a real box (a USB key, tmpfs).
        let key_file = s.dir().join("data.key");
        let made = std::process::Command::new(
            binary("checkup-provisioning", "checkup-provision").expect("bin"),
        )
        .args(["data-key", "--out"])
        .arg(&key_file)
        .output()
        .expect("data-key");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        extra.push_str(&format!(
            "\n[store]\nkey_file = \"{}\"\n",
            key_file.display()
        ));
    }
    let mut text = std::fs::read_to_string(&config).expect("config");
    // Top-level tables go before the [[staff]] array in this file's layout.
    let at = text.find("\n[[staff]]").expect("staff");
    text.insert_str(at, &extra);
    std::fs::write(&config, text).expect("config");

    let mut edge = start_box(&config);
    let reception = venue::roster_and_reception(&edge.url, ROSTER).await;
    for resident in ["0000000101", "0000000102", "0000000103"] {
        reception.open_session(resident).await;
    }
    let t = example("notice-0001.png");
    let page = render_example(&t, Layout::Table, false).expect("render");
    page.save(hot.join("notice-0001.png"))
        .expect("drop the scan");
    // Read once: the crops are cut after the OCR.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let crops = std::fs::read_dir(data.join("intake"))
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
            .filter(|f| f.file_name().to_string_lossy().starts_with("crop-"))
            .count();
        let taken = std::fs::read_dir(hot.join("taken")).map_or(0, |d| d.count());
        if crops > 0 && taken > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the notice was never read");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let the record of the reading land after its crops.
    tokio::time::sleep(Duration::from_millis(500)).await;
    edge.terminate().expect("box stops");
    Day {
        config,
        data,
        hot,
        child: t.child_name.clone(),
        _setup: s,
    }
}

fn audit_verify(config: &Path) -> (Option<i32>, String) {
    let out = std::process::Command::new(binary("checkup-edge", "checkup-edge").expect("bin"))
        .args(["audit", "verify", "--config"])
        .arg(config)
        .output()
        .expect("audit verify");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_key_nothing_of_the_day_can_be_read() {
    // Control: the same day in the clear leaves the names where the checks look.
    let plain = day(false).await;
    assert!(!files_containing(&plain.data, "節子").is_empty());
    assert!(!files_containing(&plain.data, &plain.child).is_empty());
    assert!(!files_containing_bytes(&plain.hot.join("taken"), PNG_SIGNATURE).is_empty());
    assert!(strings(&plain.data.join("roster.sqlite3")).contains("1952-03-14"));
    assert!(strings(&plain.data.join("events.sqlite3")).contains("0000000101"));

    let d = day(true).await;
    for dir in [&d.data, &d.hot] {
        for needle in ["節子", "髙橋", d.child.as_str(), "0000000101", "1952-03-14"] {
            let found = files_containing(dir, needle);
            assert!(found.is_empty(), "{needle:?} readable in {found:?}");
        }
    }
    // The scan itself is sealed too (no PNG signature anywhere).
    assert!(files_containing_bytes(&d.data, PNG_SIGNATURE).is_empty());
    assert!(files_containing_bytes(&d.hot.join("taken"), PNG_SIGNATURE).is_empty());
    assert!(
        std::fs::read_dir(&d.hot)
            .expect("hot")
            .flatten()
            .all(|e| e.path().is_dir()),
        "the plain scan left the scanner's folder"
    );
    for db in ["events.sqlite3", "roster.sqlite3"] {
        let path = d.data.join(db);
        let text = strings(&path);
        for needle in [
            "0000000101",
            "1952-03-14",
            "SQLite format",
            "session_opened",
        ] {
            assert!(!text.contains(needle), "strings {db} shows {needle:?}");
        }
        // Unreadable without the key.
        let opened = rusqlite_open_plain(&path);
        assert!(opened.is_err(), "{db} opened without a key");
    }
    // With the key the audit chain verifies; without it, a clear refusal.
    let (code, text) = audit_verify(&d.config);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("intact: 3 entries") || text.contains("entries"),
        "{text}"
    );
    let keyless = d.config.with_file_name("keyless.toml");
    let without: String = std::fs::read_to_string(&d.config)
        .expect("config")
        .lines()
        .filter(|l| !l.starts_with("key_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&keyless, without).expect("config");
    let (code, text) = audit_verify(&keyless);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("data key"), "{text}");

    // The box reads its day back with the key.
    let edge = start_box(&d.config);
    let admin = Staff::login(&edge.url, "A1").await.expect("admin");
    let st = admin.get("/api/replication/state").await.expect("state");
    assert_eq!(st["stored"], 3, "{st}");
    let reception = Staff::login(&edge.url, "R1").await.expect("reception");
    let found = reception
        .get("/api/roster/search?birth=1952-03-14")
        .await
        .expect("roster search");
    assert!(found.to_string().contains("節子"), "{found}");
}

/// Open an SQLite file with no key, as any tool without the box's key would.
fn rusqlite_open_plain(path: &Path) -> Result<i64, String> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from sqlite_master').fetchone()[0])",
        ])
        .arg(path)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|e| format!("{e}"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
