//! `checkup-central doctor`, run as an operator runs it, against real parts: SQLite, the
//! PostgreSQL server of this machine (127.0.0.1:5432, a database created and dropped
//! here), a CA of the test's own. One test per check injects its fault the way a machine
//! would show it — a closed database port, a schema from a newer build or with a
//! migration pending, this process's clock five minutes off (libfaketime) against
//! PostgreSQL's, a tmpfs of 8 MiB in a mount namespace of the doctor's own, an expired
//! certificate, a private key readable by others or missing — and checks the exit status,
//! the failing check's id, its Japanese and English text and its fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use checkup_central::config::{Config, secret_digest};
use checkup_provisioning::ca;
use checkup_tests::binary;
use checkup_tests::central::free_port;

/// Central's files: a CA, central's enrolment, a data directory.
struct Fixture {
    dir: tempfile::TempDir,
    pki: PathBuf,
}

/// What a configuration holds beyond the fixture's defaults.
#[derive(Default)]
struct Opts {
    /// `sqlite` unless given.
    database: Option<String>,
    data_dir: Option<PathBuf>,
    /// Another enrolment's directory (`central.crt`, `central.key`).
    tls_from: Option<PathBuf>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("dir");
        let pki = dir.path().join("pki");
        std::fs::create_dir_all(&pki).expect("pki");
        ca::create_ca(&pki, "みどり市", 400).expect("CA");
        ca::enrol_box(
            &pki,
            "central",
            "municipal",
            &["127.0.0.1".into()],
            &dir.path().join("tls"),
            365,
        )
        .expect("enrol");
        Fixture { dir, pki }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config_text(&self, o: &Opts) -> String {
        let tls = o.tls_from.clone().unwrap_or_else(|| self.path("tls"));
        let key = checkup_protocol::NodeKey::generate();
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\ndatabase = \"{}\"\n\n\
             [[boxes]]\nnode = \"edge-01\"\nvenue = \"hall-1\"\nmunicipality = \"midori\"\npublic_key = \"{}\"\nsecret_sha256 = \"{}\"\n\n\
             [tls]\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\ncrl = \"{}\"\n",
            o.data_dir
                .clone()
                .unwrap_or_else(|| self.path("data"))
                .display(),
            o.database.as_deref().unwrap_or("sqlite"),
            key.verifying_key().to_base64(),
            secret_digest("s"),
            tls.join("central.crt").display(),
            tls.join("central.key").display(),
            self.pki.join("ca.crt").display(),
            self.pki.join("crl.pem").display()
        )
    }

    /// Write a configuration for `o`; return its path and the configuration.
    fn config(&self, o: &Opts) -> (PathBuf, Config) {
        let p = self.path(&format!("central-{}.toml", uuid::Uuid::now_v7().simple()));
        std::fs::write(&p, self.config_text(o)).expect("config");
        let c = Config::load(&p).expect("valid configuration");
        (p, c)
    }
}

/// Make (and migrate) the database `c` names, as `run` would.
/// The database as a central that started once leaves it: migrated, the municipalities'
/// roles made.
async fn migrated(c: &Config) {
    let db = checkup_central::db::open(c).await.expect("database");
    let all: Vec<String> = c.municipalities().into_iter().collect();
    db.prepare_municipalities(&all, c.default_municipality().as_deref())
        .await
        .expect("municipalities");
    drop(db);
}

/// What one doctor run printed.
struct Run {
    code: i32,
    stdout: String,
}

impl Run {
    fn line(&self, id: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{}", self.stdout))
    }

    /// Check `id` has `status` and its line holds `ja`, `en` and (for a fault) `fix`.
    fn shows(&self, id: &str, status: &str, ja: &str, en: &str, fix: Option<&str>) {
        let line = self.line(id);
        assert!(line.starts_with(status), "{id} should be {status}: {line}");
        let (text, fix_text) = match line.split_once("→ 対処 / fix: ") {
            Some((t, f)) => (t, Some(f)),
            None => (line, None),
        };
        let (ja_text, en_text) = text
            .split_once(" / ")
            .unwrap_or_else(|| panic!("no ja / en in: {line}"));
        assert!(ja_text.contains(ja), "Japanese {ja:?} in: {line}");
        assert!(en_text.contains(en), "English {en:?} in: {line}");
        match fix {
            Some(f) => assert!(
                fix_text.is_some_and(|t| t.contains(f)),
                "fix {f:?} in: {line}"
            ),
            None => assert!(fix_text.is_none(), "no fix expected: {line}"),
        }
    }
}

fn doctor_cmd(config: &Path) -> Command {
    let bin = binary("checkup-central", "checkup-central").expect("central binary");
    let mut cmd = Command::new(bin);
    cmd.arg("doctor")
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn");
    cmd
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("doctor runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}");
    Run {
        code: out.status.code().expect("exit status"),
        stdout,
    }
}

/// Run the (blocking) doctor from an async test.
async fn doctor(cmd: Command) -> Run {
    tokio::task::spawn_blocking(move || run(cmd))
        .await
        .expect("doctor task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_on_postgresql_with_everything_in_place_is_all_green() {
    let db = checkup_tests::pg::TempDatabase::create("doctor")
        .await
        .expect("PostgreSQL on 127.0.0.1:5432");
    let f = Fixture::new();
    let (cfg, c) = f.config(&Opts {
        database: Some(db.url()),
        ..Opts::default()
    });
    migrated(&c).await;
    let out = doctor(doctor_cmd(&cfg)).await;
    for id in [
        "database",
        "migrations",
        "clock",
        "isolation",
        "disk",
        "tls",
        "key_files",
        "boxes",
    ] {
        assert!(out.line(id).starts_with("OK "), "{id}: {}", out.line(id));
    }
    // Row-level security turned off on one table is an error naming it.
    {
        let (client, conn) = tokio_postgres::connect(&db.url(), tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .batch_execute("ALTER TABLE residents DISABLE ROW LEVEL SECURITY")
            .await
            .expect("disable");
        let off = doctor(doctor_cmd(&cfg)).await;
        assert!(
            off.line("isolation").starts_with("ERROR "),
            "{}",
            off.line("isolation")
        );
        assert!(off.stdout.contains("residents"), "{}", off.stdout);
        client
            .batch_execute("ALTER TABLE residents ENABLE ROW LEVEL SECURITY")
            .await
            .expect("enable");
    }
    out.shows(
        "clock",
        "OK",
        "データベースサーバー",
        "agrees with the database server's",
        None,
    );
    assert_eq!(out.code, 0);

    let mut json = doctor_cmd(&cfg);
    json.arg("--json");
    let out = tokio::task::spawn_blocking(move || json.output().expect("doctor"))
        .await
        .expect("task");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["checks"].as_array().map(Vec::len), Some(8));
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_on_a_closed_port_is_an_error() {
    let f = Fixture::new();
    let url = format!("postgres://postgres@127.0.0.1:{}/nowhere", free_port());
    let (cfg, _) = f.config(&Opts {
        database: Some(url),
        ..Opts::default()
    });
    let out = doctor(doctor_cmd(&cfg)).await;
    out.shows(
        "database",
        "ERROR",
        "接続できません",
        "is unreachable",
        Some("sudo systemctl start postgresql"),
    );
    out.shows(
        "migrations",
        "SKIP",
        "確認していません",
        "not checked",
        None,
    );
    assert_eq!(out.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_from_a_newer_build_is_an_error_and_a_pending_migration_a_warning() {
    let f = Fixture::new();
    let (cfg, c) = f.config(&Opts::default());
    migrated(&c).await;
    let path = c.data_dir.join("central.sqlite3");
    let newest = checkup_central::db::migrations::MIGRATIONS
        .last()
        .map(|m| m.version)
        .expect("migrations");
    let sql = |q: &str| {
        rusqlite::Connection::open(&path)
            .and_then(|conn| conn.execute_batch(q))
            .expect("sql");
    };
    sql("INSERT INTO schema_migrations (version) VALUES (9999)");
    let out = doctor(doctor_cmd(&cfg)).await;
    out.shows(
        "migrations",
        "ERROR",
        "より新しいです",
        "newer than this build's",
        Some("install the checkup-central release"),
    );
    assert_eq!(out.code, 2);

    sql(&format!(
        "DELETE FROM schema_migrations WHERE version >= {newest}"
    ));
    let out = doctor(doctor_cmd(&cfg)).await;
    out.shows(
        "migrations",
        "WARN",
        "未適用のマイグレーション",
        "pending",
        Some("checkup-central run"),
    );
    assert_eq!(out.code, 1);
}

/// libfaketime as Debian installs it (package faketime, scripts/install-deps.sh).
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_five_minutes_behind_the_database_servers_is_an_error() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "{LIBFAKETIME} missing: scripts/install-deps.sh installs faketime"
    );
    let db = checkup_tests::pg::TempDatabase::create("doctor")
        .await
        .expect("PostgreSQL on 127.0.0.1:5432");
    let f = Fixture::new();
    let (cfg, c) = f.config(&Opts {
        database: Some(db.url()),
        ..Opts::default()
    });
    migrated(&c).await;
    let mut cmd = doctor_cmd(&cfg);
    cmd.env("LD_PRELOAD", LIBFAKETIME).env("FAKETIME", "-5m");
    let out = doctor(cmd).await;
    out.shows(
        "clock",
        "ERROR",
        "データベースサーバーより",
        "behind the database server's",
        Some("sudo chronyc makestep"),
    );
    assert_eq!(out.code, 2);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nearly_full_disk_is_an_error() {
    let f = Fixture::new();
    let small = f.path("small");
    std::fs::create_dir_all(&small).expect("dir");
    let (cfg, _) = f.config(&Opts {
        data_dir: Some(small.clone()),
        ..Opts::default()
    });
    // The doctor in a mount namespace of its own where the data directory is an 8 MiB
    // tmpfs: nothing outside sees the mount, and it goes with the process.
    let bin = binary("checkup-central", "checkup-central").expect("central binary");
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg("mount -t tmpfs -o size=8m tmpfs \"$0\" && exec \"$@\"")
        .arg(&small)
        .arg(bin)
        .arg("doctor")
        .arg("--config")
        .arg(&cfg)
        .env("RUST_LOG", "warn");
    let out = doctor(cmd).await;
    out.shows(
        "disk",
        "ERROR",
        "の空きが",
        "free on",
        Some("free space on the disk"),
    );
    assert!(out.line("disk").contains("8.0 MiB"), "{}", out.line("disk"));
    assert_eq!(out.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_an_error() {
    let f = Fixture::new();
    let now = time::OffsetDateTime::now_utc();
    let expired = f.path("expired");
    ca::enrol_box_between(
        &f.pki,
        "central",
        "municipal",
        &["127.0.0.1".into()],
        &expired,
        now - time::Duration::days(400),
        now - time::Duration::days(1),
    )
    .expect("expired enrolment");
    let (cfg, c) = f.config(&Opts {
        tls_from: Some(expired),
        ..Opts::default()
    });
    migrated(&c).await;
    let out = doctor(doctor_cmd(&cfg)).await;
    out.shows(
        "tls",
        "ERROR",
        "期限切れです",
        "expired on",
        Some("checkup-provision enrol"),
    );
    assert_eq!(out.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_readable_by_others_is_a_warning_and_a_missing_one_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let (cfg, c) = f.config(&Opts::default());
    migrated(&c).await;
    let out = doctor(doctor_cmd(&cfg)).await;
    out.shows("key_files", "OK", "所有者だけ", "owner only", None);
    assert_eq!(out.code, 0, "the fixture alone is sound");

    let key = f.path("tls/central.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = doctor(doctor_cmd(&cfg)).await;
    out.shows(
        "key_files",
        "WARN",
        "他のユーザーも読めます",
        "readable by other users",
        Some(&format!("chmod 600 {}", key.display())),
    );
    assert_eq!(out.code, 1);

    std::fs::remove_file(&key).expect("remove");
    let out = doctor(doctor_cmd(&cfg)).await;
    out.shows(
        "key_files",
        "ERROR",
        "読めません",
        "cannot read",
        Some("checkup-provision enrol"),
    );
    assert_eq!(out.code, 2);
}

#[test]
fn a_configuration_that_does_not_load_is_an_error() {
    let f = Fixture::new();
    let bad = f.path("bad.toml");
    std::fs::write(&bad, "database = \"mysql\"\n").expect("write");
    let out = run(doctor_cmd(&bad));
    out.shows(
        "config",
        "ERROR",
        "設定を読み込めません",
        "does not load",
        Some("config.example.toml"),
    );
    assert_eq!(out.code, 2);
}
