//! `checkup-central doctor`: checks the machine and the configuration central would run
//! with, and says in Japanese and English what is wrong and the command that fixes it. It
//! reads the database without changing it (no migration is applied).
//!
//! | id | checks | finding |
//! |---|---|---|
//! | `database` | SQLite: `<data_dir>/central.sqlite3` opens read-only; PostgreSQL: the URL connects | not there yet: warning; unreachable: error |
//! | `migrations` | the schema version against this build's [`crate::db::migrations`] | pending: warning (applied at start); newer than this build: error |
//! | `clock` | PostgreSQL: this machine's clock against the database server's `clock_timestamp()` | above 2 s: warning; above 60 s: error; SQLite: skipped |
//! | `disk` | free space where the data directory is | under 256 MiB: error |
//! | `tls` | `[tls]` loads into a server configuration; certificate and CA in date | none: warning; expired or not yet valid: error; under 30 days: warning |
//! | `key_files` | the TLS private key (and CRL) readable, the key by its owner only | missing: error; readable by others: warning |
//! | `boxes` | boxes enrolled to forward | none: warning |
//!
//! The report and exit status are [`checkup_provisioning::doctor`]'s.

use std::path::Path;
use std::time::Duration;

use checkup_provisioning::doctor::{self, Check, Report};

use crate::config::Config;
use crate::db::migrations::MIGRATIONS;

/// How long reaching the database may take.
const TIMEOUT: Duration = Duration::from_secs(5);

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What the database said.
struct Database {
    /// The `database` finding.
    check: Check,
    /// Its schema version (None: not reached).
    version: Option<i64>,
    /// The `clock` finding.
    clock: Check,
}

/// Run every check for `config`, in a fixed order.
pub async fn diagnose(config: &Config) -> Report {
    let db = if config.database == "sqlite" {
        let c = config.clone();
        tokio::task::spawn_blocking(move || sqlite(&c))
            .await
            .unwrap_or_else(|e| Database {
                check: Check::error(
                    "database",
                    format!("診断が失敗しました: {e}"),
                    format!("the check failed: {e}"),
                    "RUST_BACKTRACE=1 checkup-central doctor … (and report it)",
                ),
                version: None,
                clock: Check::skipped("clock", "未確認", "not checked"),
            })
    } else {
        postgres(&config.database).await
    };
    let c = config.clone();
    let local = tokio::task::spawn_blocking(move || {
        [
            doctor::disk(
                &c.data_dir,
                &format!(
                    "free space on the disk holding {} (sudo du -xsh /var/* | sort -h), or use a larger disk",
                    c.data_dir.display()
                ),
            ),
            tls(&c),
            key_files(&c),
        ]
    })
    .await;
    let [disk, tls, key_files] = match local {
        Ok(x) => x,
        Err(e) => {
            let failed = |id| {
                Check::error(
                    id,
                    format!("診断が失敗しました: {e}"),
                    format!("the check failed: {e}"),
                    "RUST_BACKTRACE=1 checkup-central doctor … (and report it)",
                )
            };
            [failed("disk"), failed("tls"), failed("key_files")]
        }
    };
    let isolation = isolation(config, db.version).await;
    Report {
        checks: vec![
            db.check,
            migrations(db.version),
            db.clock,
            isolation,
            disk,
            tls,
            key_files,
            boxes(config),
        ],
    }
}

/// `isolation`: on PostgreSQL, row-level security is on for every municipal table (with its
/// policy) and each configured municipality has its database role; on SQLite, one
/// municipality.
async fn isolation(config: &Config, version: Option<i64>) -> Check {
    const ID: &str = "isolation";
    let municipalities = config.municipalities();
    if config.database == "sqlite" {
        return Check::ok(
            ID,
            format!(
                "SQLite: 1つの自治体（{}）",
                municipalities.into_iter().collect::<Vec<_>>().join(", ")
            ),
            "SQLite: one municipality",
        );
    }
    if version.is_none_or(|v| v < 10) {
        return Check::skipped(
            ID,
            "自治体の分離はまだ移行されていません（central を一度起動してください）",
            "municipal isolation not migrated yet (start central once)",
        );
    }
    let checked = async {
        let (client, conn) =
            tokio_postgres::connect(&config.database, tokio_postgres::NoTls).await?;
        let driver = tokio::spawn(conn);
        let tables: Vec<&str> = crate::db::migrations::MUNICIPAL_TABLES.to_vec();
        let open: Vec<String> = client
            .query(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relname = ANY($1)
                   AND (NOT c.relrowsecurity OR NOT EXISTS (
                        SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
                 ORDER BY 1",
                &[&tables],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mapped: Vec<String> = client
            .query("SELECT municipality FROM municipality_roles", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        drop(client);
        let _ = driver.await;
        Ok::<_, tokio_postgres::Error>((open, mapped))
    };
    match tokio::time::timeout(TIMEOUT, checked).await {
        Ok(Ok((open, _))) if !open.is_empty() => Check::error(
            ID,
            format!(
                "行レベルセキュリティが無効な表があります: {}",
                open.join(", ")
            ),
            format!("row-level security is off on: {}", open.join(", ")),
            format!(
                "ALTER TABLE … ENABLE ROW LEVEL SECURITY on each (as the tables' owner), or restore \
                 the schema: {}",
                open.join(", ")
            ),
        ),
        Ok(Ok((_, mapped))) => {
            let missing: Vec<String> = municipalities
                .into_iter()
                .filter(|m| !mapped.contains(m))
                .collect();
            if missing.is_empty() {
                Check::ok(
                    ID,
                    format!(
                        "自治体ごとのデータベースロールと行レベルセキュリティ（{} 自治体）",
                        mapped.len()
                    ),
                    format!(
                        "a database role per municipality and row-level security ({} municipalities)",
                        mapped.len()
                    ),
                )
            } else {
                Check::warning(
                    ID,
                    format!("データベースロールのない自治体: {}", missing.join(", ")),
                    format!(
                        "municipalities without their database role yet: {}",
                        missing.join(", ")
                    ),
                    "start central once (it creates them; its login needs CREATEROLE)",
                )
            }
        }
        Ok(Err(e)) => Check::error(
            ID,
            format!("確認できません: {e}"),
            format!("could not be checked: {e}"),
            "check `database` and the login's privileges",
        ),
        Err(_) => Check::error(ID, "応答がありません", "no answer", "check `database`"),
    }
}

/// The report for a configuration that does not load at all.
pub fn unloadable(error: &str) -> Report {
    Report {
        checks: vec![Check::error(
            "config",
            format!("設定を読み込めません: {error}"),
            format!("the configuration does not load: {error}"),
            "fix the file (central/config.example.toml lists every key)",
        )],
    }
}

fn sqlite(c: &Config) -> Database {
    let path = c.data_dir.join("central.sqlite3");
    let no_clock = Check::skipped(
        "clock",
        "SQLite はこのマシン上にあるため、比べる時計がありません",
        "SQLite on this machine: no other clock to compare",
    );
    if !path.exists() {
        return Database {
            check: Check::warning(
                "database",
                format!(
                    "データベース {} はまだありません (初回起動時に作られます)",
                    path.display()
                ),
                format!(
                    "no database at {} yet (central makes it at first start)",
                    path.display()
                ),
                "checkup-central run --config FILE (or correct data_dir if central ran elsewhere)",
            ),
            version: None,
            clock: no_clock,
        };
    }
    let opened =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|conn| schema_version_sqlite(&conn));
    match opened {
        Ok(v) => Database {
            check: Check::ok(
                "database",
                format!("データベース {} を開けます", path.display()),
                format!("the database {} opens", path.display()),
            ),
            version: Some(v),
            clock: no_clock,
        },
        Err(e) => Database {
            check: Check::error(
                "database",
                format!("データベース {} を開けません: {e}", path.display()),
                format!("the database {} does not open: {e}", path.display()),
                format!(
                    "check {} (owner, permissions; sqlite3 {} 'PRAGMA integrity_check')",
                    path.display(),
                    path.display()
                ),
            ),
            version: None,
            clock: no_clock,
        },
    }
}

fn schema_version_sqlite(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    let has: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if has == 0 {
        return Ok(0);
    }
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
}

/// `postgres://user@host:port/db` without a password, for messages.
fn redacted(url: &str) -> String {
    match url.split_once("://").and_then(|(s, rest)| {
        rest.split_once('@')
            .map(|(creds, host)| (s, creds.split(':').next().unwrap_or(""), host))
    }) {
        Some((scheme, user, host)) => format!("{scheme}://{user}@{host}"),
        None => url.to_owned(),
    }
}

async fn postgres(url: &str) -> Database {
    let shown = redacted(url);
    let unreachable = |e: String| Database {
        check: Check::error(
            "database",
            format!("PostgreSQL ({shown}) に接続できません: {e}"),
            format!("PostgreSQL ({shown}) is unreachable: {e}"),
            "sudo systemctl start postgresql, and check `database` (postgres://user@host:port/db)",
        ),
        version: None,
        clock: Check::skipped(
            "clock",
            "データベースに接続できないため、時計を比べていません",
            "the clock was not compared: the database is unreachable",
        ),
    };
    let connected =
        tokio::time::timeout(TIMEOUT, tokio_postgres::connect(url, tokio_postgres::NoTls)).await;
    let (client, conn) = match connected {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return unreachable(e.to_string()),
        Err(_) => return unreachable(format!("no answer within {} s", TIMEOUT.as_secs())),
    };
    let driver = tokio::spawn(conn);
    let measured = async {
        let before = unix_now();
        let row = client
            .query_one("SELECT extract(epoch FROM clock_timestamp())::float8", &[])
            .await?;
        let after = unix_now();
        let theirs: f64 = row.get(0);
        let has: bool = client
            .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
            .await?
            .get(0);
        let version: i64 = if has {
            client
                .query_one(
                    "SELECT coalesce(max(version), 0)::BIGINT FROM schema_migrations",
                    &[],
                )
                .await?
                .get(0)
        } else {
            0
        };
        Ok::<_, tokio_postgres::Error>((doctor::skew(before, after, theirs, theirs), version))
    };
    let result = tokio::time::timeout(TIMEOUT, measured).await;
    drop(client);
    let _ = driver.await;
    match result {
        Ok(Ok((skew, version))) => Database {
            check: Check::ok(
                "database",
                format!("PostgreSQL ({shown}) に接続できます"),
                format!("PostgreSQL ({shown}) answers"),
            ),
            version: Some(version),
            clock: doctor::clock(skew, "データベースサーバー", "the database server's"),
        },
        Ok(Err(e)) => unreachable(e.to_string()),
        Err(_) => unreachable(format!("no answer within {} s", TIMEOUT.as_secs())),
    }
}

fn migrations(version: Option<i64>) -> Check {
    const ID: &str = "migrations";
    let newest = MIGRATIONS.last().map_or(0, |m| m.version);
    let Some(v) = version else {
        return Check::skipped(
            ID,
            "データベースを読めないため、スキーマを確認していません",
            "schema not checked: no database to read",
        );
    };
    if v > newest {
        Check::error(
            ID,
            format!(
                "データベースのスキーマ (版 {v}) がこのプログラム (版 {newest}) より新しいです"
            ),
            format!("the database's schema (version {v}) is newer than this build's ({newest})"),
            "install the checkup-central release that made this database (never run an older one against it)",
        )
    } else if v < newest {
        Check::warning(
            ID,
            format!(
                "未適用のマイグレーションが {} 件あります (版 {v} → {newest})",
                newest - v
            ),
            format!(
                "{} migration(s) pending (version {v} → {newest})",
                newest - v
            ),
            "checkup-central run --config FILE applies them at start (back the database up first)",
        )
    } else {
        Check::ok(
            ID,
            format!("スキーマは最新です (版 {v})"),
            format!("schema up to date (version {v})"),
        )
    }
}

fn renew() -> &'static str {
    "checkup-provision enrol --ca <CA dir> --node central --venue municipal --host <central's host name> --out <new dir>, then point [tls] at it"
}

fn tls(c: &Config) -> Check {
    const ID: &str = "tls";
    let Some(files) = &c.tls else {
        return Check::warning(
            ID,
            "TLS の設定がありません: `run` は --insecure-dev なしでは起動しません (ボックスは相互 TLS なしで転送します)",
            "no [tls]: `run` refuses to start without --insecure-dev (boxes would forward without mutual TLS)",
            renew(),
        );
    };
    let read = |p: &Path| std::fs::read(p).map_err(|e| (p.to_path_buf(), e));
    let (cert, ca) = match (read(&files.cert), read(&files.ca)) {
        (Ok(cert), Ok(ca)) => (cert, ca),
        (Err((p, e)), _) | (_, Err((p, e))) => {
            return Check::error(
                ID,
                format!("{} を読めません: {e}", p.display()),
                format!("cannot read {}: {e}", p.display()),
                renew(),
            );
        }
    };
    let loaded = files.load().and_then(|(creds, trust)| {
        checkup_provisioning::tls::server_config(
            &creds,
            checkup_provisioning::tls::ClientAuth::Optional(&trust),
        )
    });
    if let Err(e) = loaded {
        return Check::error(
            ID,
            format!("TLS の設定を使えません: {e}"),
            format!("the [tls] files do not load: {e}"),
            renew(),
        );
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    doctor::certificates(&cert, &ca, now, doctor::WARN_CERT_DAYS, renew())
}

fn key_files(c: &Config) -> Check {
    use std::os::unix::fs::PermissionsExt;
    const ID: &str = "key_files";
    let Some(files) = &c.tls else {
        return Check::skipped(ID, "TLS の鍵はありません", "no TLS key (no [tls])");
    };
    let mut problems = Vec::new();
    for (what, path) in
        std::iter::once(("key", &files.key)).chain(files.crl.iter().map(|p| ("crl", p)))
    {
        match std::fs::File::open(path).and_then(|f| f.metadata()) {
            Err(e) => {
                return Check::error(
                    ID,
                    format!("{} を読めません: {e}", path.display()),
                    format!("cannot read {}: {e}", path.display()),
                    if what == "key" {
                        renew().to_owned()
                    } else {
                        format!(
                            "copy the CA's crl.pem to {} (checkup-provision revoke re-signs it)",
                            path.display()
                        )
                    },
                );
            }
            Ok(m) if what == "key" && m.permissions().mode() & 0o077 != 0 => {
                problems.push(path.clone());
            }
            Ok(_) => {}
        }
    }
    match problems.first() {
        Some(p) => Check::warning(
            ID,
            format!("秘密鍵 {} を他のユーザーも読めます", p.display()),
            format!("the private key {} is readable by other users", p.display()),
            format!("chmod 600 {}", p.display()),
        ),
        None => Check::ok(
            ID,
            format!("秘密鍵 {} は所有者だけが読めます", files.key.display()),
            format!(
                "the private key {} is readable by its owner only",
                files.key.display()
            ),
        ),
    }
}

fn boxes(c: &Config) -> Check {
    const ID: &str = "boxes";
    if c.boxes.is_empty() {
        Check::warning(
            ID,
            "登録されたボックスがありません: どのボックスも転送できません",
            "no box is enrolled: none can forward",
            "add the boxes' [[boxes]] entries (checkup-provision bundle writes central-boxes.toml)",
        )
    } else {
        Check::ok(
            ID,
            format!("登録されたボックス {} 台", c.boxes.len()),
            format!("{} box(es) enrolled", c.boxes.len()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_report() {
        assert_eq!(
            redacted("postgres://central:s3cret@db:5432/checkup"),
            "postgres://central@db:5432/checkup"
        );
        assert_eq!(redacted("postgres://db/checkup"), "postgres://db/checkup");
    }
}
