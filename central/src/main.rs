//! `checkup-central`: the municipal central system's command line.

use std::path::PathBuf;

use anyhow::Context;
use checkup_central::config::{BoxConfig, Config, StaffConfig};
use checkup_central::server::Central;
use clap::{Parser, Subcommand};

/// Checkup Edge central: ingest, resident records and exports.
#[derive(Parser)]
#[command(name = "checkup-central", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run central from a configuration file.
    Run {
        /// Configuration (TOML; see central/config.example.toml). Default: all defaults
        /// (SQLite under data/central, 127.0.0.1:8090, nobody enrolled).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Listen address; overrides `listen`.
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
        /// Serve plain HTTP when the configuration has no `[tls]` (development only: boxes
        /// then forward without mutual TLS).
        #[arg(long)]
        insecure_dev: bool,
    },
    /// Run a demo central on SQLite: staff C001 (PIN 1234, central admin), K001 (PIN 2468, caseworker),
    /// H001 (1357, nurse of district 中央), H010 (3579, health 係長), K010 (8642, child-welfare 係長),
    /// A001 (9753, auditor); with
    /// `--edge-data-dir`, the demo edge box of that directory is enrolled (secret printed).
    ///
    /// With `--sample-day N`, a checkup day of N residents is stored first (register,
    /// insurer identities, every station, the questionnaire, the doctor), signed by the demo
    /// box's key and received through the same ingest as a box's batches; the insurers and
    /// the `export tokutei` command for each are printed, then central serves as usual. A
    /// second run for the same day stores nothing new.
    Demo {
        /// Listen address.
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// Data directory.
        #[arg(long, value_name = "DIR", default_value = "data/central-demo")]
        data_dir: PathBuf,
        /// Data directory of a demo edge box (`checkup-edge demo --data-dir`) to enrol;
        /// central is enrolled with that demo municipality's CA (`<DIR>/pki`) and serves
        /// HTTPS with mutual TLS for the box.
        #[arg(long, value_name = "DIR")]
        edge_data_dir: Option<PathBuf>,
        /// Plain HTTP (and the box forwards without mutual TLS).
        #[arg(long)]
        insecure_dev: bool,
        /// Store a sample checkup day of N residents (1–20000) before serving. Signed by the
        /// `--edge-data-dir` box's key (as edge-01); without it, by a sample box whose key is
        /// kept in `<data dir>/sample-box.key` and which is enrolled as `sample-box`.
        #[arg(long, value_name = "N")]
        sample_day: Option<usize>,
        /// The sample day's date; default today (Japan).
        #[arg(long, value_name = "YYYY-MM-DD", requires = "sample_day")]
        sample_date: Option<String>,
        /// MHLW's XSD directory (with `items-hc24.csv` beside it): written into the printed
        /// export commands and, when it is there, configured as the demo's `[tokutei]`, so
        /// the staff page's 「特定健診データ（XML）」 exports the sample day too.
        #[arg(
            long,
            value_name = "DIR",
            default_value = "../shared/standards/tokutei-v4/XSD",
            requires = "sample_day"
        )]
        xsd_dir: PathBuf,
    },
    /// The audit trail: `audit verify` walks its hash chain, checks that every event an
    /// ingest entry vouches for is still there unchanged and that every stored event's
    /// signature verifies; exit status 4 names the first entry or event changed or deleted.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the machine and the configuration central would run with: the database
    /// (reachable, migrations applied; read only, nothing is migrated), the clock against
    /// the PostgreSQL server's, disk space, certificate expiry, key files and enrolled
    /// boxes. Prints one line per check, in Japanese then English, with the command that
    /// fixes what is wrong.
    ///
    /// Exit status: 0 every check ok (or skipped), 1 warnings only, 2 at least one error
    /// (also when the configuration does not load).
    Doctor {
        /// Configuration (TOML), as given to `run`. Default: all defaults.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print one JSON object (`status`, `exit`, `checks`: `id`, `status`, `ja`, `en`,
        /// `fix`) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Exports in national standards: `export tokutei`, `export record`.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Imports in national standards: `import record`.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// PostgreSQL's monthly partitions of `events`: this month's and the next two months'
    /// made if missing, any rows held in the DEFAULT partition moved into their month's
    /// partition (made, filled and attached in one transaction per month), then every
    /// partition listed with its rows and size. Safe to run at any time, e.g. monthly from
    /// a timer; a SQLite central has nothing to do.
    Partitions {
        #[command(flatten)]
        source: Source,
    },
    /// Check a batch file (a JSON array of signed events, as boxes forward them): format,
    /// payload rules, signatures against enrolled keys, venue. Prints per-node ranges.
    CheckBatch {
        /// Enrolled node keys: lines of `node-id base64-public-key`.
        #[arg(long, value_name = "FILE")]
        keys: PathBuf,
        /// Venue ids this central serves (repeatable).
        #[arg(long = "venue", value_name = "ID", required = true)]
        venues: Vec<String>,
        /// The batch.
        batch: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The 特定健診 archive (MHLW 第4期, HL7 CDA R2) of one insurer's checkups in a period:
    /// every record checked against MHLW's schemas and the standard's rules first. Prints
    /// the archive's path; or lists every failure by resident and item and exits 1, writing
    /// nothing.
    Tokutei {
        /// Configuration (TOML; its `[tokutei]` gives the sender, the doctors' names and
        /// the item table).
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "data_dir",
            required_unless_present = "data_dir"
        )]
        config: Option<PathBuf>,
        /// A central's data directory with all defaults (as `checkup-central demo` uses).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// 保険者番号 of the receiver: its insured residents' checkups are exported.
        #[arg(long, value_name = "NUMBER")]
        insurer: String,
        /// First checkup day, `YYYY-MM-DD`.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: String,
        /// Last checkup day, `YYYY-MM-DD`.
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: String,
        /// MHLW's XSD directory (the municipality's copy of the 2023-12 set).
        #[arg(long, value_name = "DIR")]
        xsd_dir: PathBuf,
        /// The 第4期 item table; default `[tokutei] item_table`, else `items-hc24.csv`
        /// beside the XSD directory.
        #[arg(long, value_name = "FILE")]
        items: Option<PathBuf>,
        /// 健診機関番号 (10 digits) of the sender; default `[tokutei] institution_number`.
        #[arg(long, value_name = "NUMBER")]
        sender: Option<String>,
        /// The sender's name; default `[tokutei] institution_name`.
        #[arg(long, value_name = "NAME")]
        sender_name: Option<String>,
        /// A doctor's name by staff id, `ID=NAME` (repeatable; added to `[tokutei.doctors]`):
        /// written as 健康診断を実施した医師の氏名 for the 医師の診断 that staff id recorded.
        #[arg(long = "doctor", value_name = "ID=NAME")]
        doctors: Vec<String>,
        /// Where the archive is written.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// One resident's every checkup as standard 特定健診 documents (one per checkup, oldest
    /// first) in the standard archive, every file validated against MHLW's XSDs first: the
    /// record that moves with a resident to another municipality (`import record` there).
    /// Prints the archive's path; or lists every failure and exits 1, writing nothing.
    Record {
        #[command(flatten)]
        source: Source,
        /// The resident number (宛名番号).
        #[arg(long, value_name = "ID")]
        resident: String,
        /// MHLW's XSD directory (the municipality's copy of the 2023-12 set).
        #[arg(long, value_name = "DIR")]
        xsd_dir: PathBuf,
        /// Where the archive is written.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Where central's database is: a configuration, or a data directory with all defaults.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct Source {
    /// Configuration (TOML; its `[tokutei]` gives the sender, the doctors' names, the XSD
    /// directory and the item table).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A central's data directory with all defaults (as `checkup-central demo` uses).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl Source {
    fn load(&self) -> anyhow::Result<Config> {
        Ok(match (&self.config, &self.data_dir) {
            (Some(p), _) => Config::load(p)?,
            (None, Some(d)) => Config {
                data_dir: d.clone(),
                ..Config::default()
            },
            (None, None) => anyhow::bail!("--config or --data-dir is required"),
        })
    }
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a resident's record from another municipality's central (the archive `export
    /// record` or `GET /v1/residents/{id}/tokutei.zip` wrote there) for the local resident:
    /// refused whole, nothing stored, when a file fails MHLW's XSDs or a document's birth
    /// date or sex is not the local register entry's. Importing the same again stores
    /// nothing new. Exit status: 0 imported, 1 refused (every problem listed), 2 could not
    /// run.
    Record {
        #[command(flatten)]
        source: Source,
        /// The local resident number (宛名番号) the record is imported for.
        #[arg(long, value_name = "ID")]
        resident: String,
        /// MHLW's XSD directory; default `[tokutei] xsd_dir`.
        #[arg(long, value_name = "DIR")]
        xsd_dir: Option<PathBuf>,
        /// The archive (zip).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the audit trail and the events against the enrolled boxes' keys.
    Verify {
        /// Configuration (database and enrolled boxes).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::Audit {
        command: AuditCommand::Verify { config },
    } = &cli.command
    {
        return audit_verify(config);
    }
    if let Command::Doctor { config, json } = &cli.command {
        return doctor(config.as_deref(), *json);
    }
    if let Command::Export {
        command: ExportCommand::Tokutei { .. },
    } = &cli.command
    {
        return export_tokutei(cli.command);
    }
    if let Command::Export {
        command:
            ExportCommand::Record {
                source,
                resident,
                xsd_dir,
                out,
            },
    } = &cli.command
    {
        return export_record(source, resident, xsd_dir, out);
    }
    if let Command::Import {
        command:
            ImportCommand::Record {
                source,
                resident,
                xsd_dir,
                file,
            },
    } = &cli.command
    {
        return import_record(source, resident, xsd_dir.clone(), file);
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `checkup-central audit verify`: 0 intact, 4 changed or deleted, 1 unreadable.
fn audit_verify(config: &std::path::Path) -> std::process::ExitCode {
    let result = (|| -> anyhow::Result<Result<checkup_central::audit::Verified, checkup_central::audit::AuditError>> {
        let c = Config::load(config)?;
        let keys: std::collections::HashMap<String, checkup_protocol::PublicKey> = c
            .boxes
            .iter()
            .map(|b| {
                checkup_protocol::PublicKey::from_base64(&b.public_key)
                    .map(|k| (b.node.clone(), k))
                    .map_err(anyhow::Error::msg)
            })
            .collect::<anyhow::Result<_>>()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let snapshot = rt.block_on(async {
            let db = checkup_central::db::open(&c).await?;
            db.audit_snapshot().await
        })?;
        Ok(checkup_central::audit::verify(&snapshot, &keys))
    })();
    match result {
        Ok(Ok(v)) => {
            println!(
                "audit trail intact: {} entries, {} events vouched for, every signature valid, head {}",
                v.entries, v.events, v.head
            );
            std::process::ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(4)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `checkup-central doctor`: 0 all ok, 1 warnings only, 2 any error.
fn doctor(config: Option<&std::path::Path>, json: bool) -> std::process::ExitCode {
    let loaded = match config {
        Some(p) => Config::load(p),
        None => Ok(Config::default()),
    };
    let report = match loaded {
        Ok(c) => {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return std::process::ExitCode::from(2);
                }
            };
            rt.block_on(checkup_central::doctor::diagnose(&c))
        }
        Err(e) => checkup_central::doctor::unloadable(&e.to_string()),
    };
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    std::process::ExitCode::from(report.exit_code())
}

/// `checkup-central export tokutei`: 0 written, 1 records failed (listed), 2 could not run.
fn export_tokutei(command: Command) -> std::process::ExitCode {
    use checkup_central::tokutei::export::Outcome;
    match export_tokutei_run(command) {
        Ok(Outcome::Written(w, n)) => {
            eprintln!("{n} 名の記録を書き出しました / {n} examinee(s) written");
            println!("{}", w.path.display());
            std::process::ExitCode::SUCCESS
        }
        Ok(Outcome::Checked(n)) => {
            eprintln!("{n} 名: 問題なし / {n} examinee(s): no failure");
            std::process::ExitCode::SUCCESS
        }
        Ok(Outcome::Refused(failures)) => refused(&failures),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// An export refused: every failure on standard output, one a line; exit status 1.
fn refused(failures: &[impl std::fmt::Display]) -> std::process::ExitCode {
    eprintln!(
        "書き出しませんでした: {} 件の不備 / not written: {} failure(s)",
        failures.len(),
        failures.len()
    );
    for f in failures {
        println!("{f}");
    }
    std::process::ExitCode::from(1)
}

fn export_tokutei_run(
    command: Command,
) -> anyhow::Result<checkup_central::tokutei::export::Outcome> {
    use checkup_central::tokutei::export;
    let Command::Export {
        command:
            ExportCommand::Tokutei {
                config,
                data_dir,
                insurer,
                from,
                to,
                xsd_dir,
                items,
                sender,
                sender_name,
                doctors,
                out,
            },
    } = command
    else {
        anyhow::bail!("not an export");
    };
    let config = match (config, data_dir) {
        (Some(p), _) => Config::load(&p)?,
        (None, Some(d)) => Config {
            data_dir: d,
            ..Config::default()
        },
        (None, None) => anyhow::bail!("--config or --data-dir is required"),
    };
    let t = config.tokutei.clone().unwrap_or_default();
    let day = |s: &str| {
        time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .with_context(|| format!("{s:?} is not a date (YYYY-MM-DD)"))
    };
    let (from_d, to_d) = (day(&from)?, day(&to)?);
    anyhow::ensure!(from_d <= to_d, "--from {from} is after --to {to}");
    let mut extra = std::collections::BTreeMap::new();
    for pair in &doctors {
        let (id, name) = pair
            .split_once('=')
            .filter(|(i, n)| !i.trim().is_empty() && !n.trim().is_empty())
            .with_context(|| format!("--doctor {pair:?}: expected ID=NAME"))?;
        extra.insert(id.trim().to_owned(), name.trim().to_owned());
    }
    let settings = export::Settings::from_config(
        &t,
        export::Overrides {
            xsd_dir: Some(xsd_dir),
            item_table: items,
            institution_number: sender,
            institution_name: sender_name,
            doctors: extra,
        },
    )?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let db = checkup_central::db::open_as(&config, None).await?;
        let today = time::OffsetDateTime::now_utc()
            .to_offset(time::macros::offset!(+9))
            .date();
        Ok(export::export(
            db.as_ref(),
            &settings,
            &insurer,
            (&from, &to),
            today,
            Some(&out),
        )
        .await?)
    })
}

fn cli_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// `checkup-central export record`: 0 written, 1 checkups failed (listed), 2 could not run.
fn export_record(
    source: &Source,
    resident: &str,
    xsd_dir: &std::path::Path,
    out: &std::path::Path,
) -> std::process::ExitCode {
    use checkup_central::tokutei::transfer::{self, RecordExport};
    let run = || -> anyhow::Result<RecordExport> {
        let config = source.load()?;
        let t = config.tokutei.clone().unwrap_or_default();
        let settings = transfer::settings(&t, Some(xsd_dir.to_owned()))?;
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        cli_runtime()?.block_on(async {
            let db = checkup_central::db::open_as(&config, None).await?;
            let today = time::OffsetDateTime::now_utc()
                .to_offset(time::macros::offset!(+9))
                .date();
            let outcome =
                transfer::export_record(db.as_ref(), &settings, resident, today, out).await?;
            db.audit("cli", "export_record", resident).await?;
            Ok(outcome)
        })
    };
    match run() {
        Ok(RecordExport::Written(path, n)) => {
            eprintln!("{n} 回分の健診を書き出しました / {n} checkup(s) written");
            println!("{}", path.display());
            std::process::ExitCode::SUCCESS
        }
        Ok(RecordExport::Refused(failures)) => refused(&failures),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// `checkup-central import record`: 0 imported, 1 refused (every problem listed), 2 could
/// not run.
fn import_record(
    source: &Source,
    resident: &str,
    xsd_dir: Option<PathBuf>,
    file: &std::path::Path,
) -> std::process::ExitCode {
    use checkup_central::tokutei::transfer::{self, ImportError, ImportOutcome};
    let run = || -> anyhow::Result<Result<ImportOutcome, ImportError>> {
        let config = source.load()?;
        let t = config.tokutei.clone().unwrap_or_default();
        let settings = transfer::settings(&t, xsd_dir)?;
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        cli_runtime()?.block_on(async {
            let db = checkup_central::db::open_as(&config, None).await?;
            let r =
                transfer::import_record(db.as_ref(), &settings, resident, &bytes, "cli", now_ms)
                    .await;
            match &r {
                Ok(o) => {
                    db.audit(
                        "cli",
                        "import_record",
                        &format!("{resident}: {} new, {} held", o.new, o.held),
                    )
                    .await?
                }
                Err(e) => {
                    db.audit(
                        "cli",
                        "import_record_refused",
                        &format!("{resident}: {}", e.code()),
                    )
                    .await?
                }
            }
            Ok(r)
        })
    };
    match run() {
        Ok(Ok(o)) => {
            println!(
                "{} 件の健診: 新規 {} 件、取り込み済み {} 件 / {} checkup(s): {} new, {} already held",
                o.documents, o.new, o.held, o.documents, o.new, o.held
            );
            std::process::ExitCode::SUCCESS
        }
        Ok(Err(ImportError::Refused(problems))) => {
            eprintln!(
                "取り込みませんでした: {} 件の問題 / nothing imported: {} problem(s)",
                problems.len(),
                problems.len()
            );
            for p in &problems {
                println!("{p}");
            }
            std::process::ExitCode::from(1)
        }
        Ok(Err(e @ (ImportError::Db(_) | ImportError::Xsd(_)))) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
        Ok(Err(e)) => {
            eprintln!("{e}");
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// The demo edge box's forwarding secret (printed; demo only).
const DEMO_SECRET: &str = "demo-forwarding-secret";

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let central = Central::open(&config).await?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("Checkup central ready: {scheme}://{addr}/");
    central.serve(listener, shutdown()).await
}

/// Central's certificate from the demo municipality's CA (made by `checkup-edge demo` in
/// `<edge data dir>/pki`), issued on first start.
fn demo_enrolment(
    pki: &std::path::Path,
    listen: std::net::SocketAddr,
) -> anyhow::Result<checkup_provisioning::tls::TlsFiles> {
    use checkup_provisioning::ca;
    anyhow::ensure!(
        pki.join(ca::CA_KEY).exists(),
        "{} holds no demo CA: start `checkup-edge demo` first (or pass --insecure-dev)",
        pki.display()
    );
    Ok(checkup_provisioning::demo::local_enrolment(
        pki,
        "central",
        "municipal",
        listen,
    )?)
}

/// Without a demo edge box: the sample box's key, kept in `<data dir>/sample-box.key` (made
/// on first use), enrolled in the demo configuration as `sample-box` at the demo venue.
fn sample_box(c: &mut Config) -> anyhow::Result<checkup_central::sample_day::Signer> {
    use checkup_central::sample_day::{MUNICIPALITY, Signer, VENUE};
    let path = c.data_dir.join("sample-box.key");
    let key = if path.exists() {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("{} must hold 32 bytes", path.display()))?;
        checkup_protocol::NodeKey::from_bytes(&bytes)
    } else {
        std::fs::create_dir_all(&c.data_dir)
            .with_context(|| format!("cannot create {}", c.data_dir.display()))?;
        let key = checkup_protocol::NodeKey::generate();
        write_private(&path, &key.to_bytes())?;
        key
    };
    // The sample box forwards nothing itself: its secret is random and never shown.
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    c.boxes.push(BoxConfig {
        node: "sample-box".into(),
        venue: VENUE.into(),
        municipality: MUNICIPALITY.into(),
        public_key: key.verifying_key().to_base64(),
        secret_sha256: checkup_central::config::secret_digest(&hex::encode(secret)),
    });
    println!(
        "サンプルの箱 sample-box を登録しました（鍵 {}）/ Enrolled the sample box sample-box (key {})",
        path.display(),
        path.display()
    );
    Ok(Signer {
        node: "sample-box".into(),
        key,
    })
}

/// Write a key file readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// What the sample day stored, and the export command of each insurer.
fn print_sample_day(
    f: &checkup_central::sample_day::Filled,
    data_dir: &std::path::Path,
    xsd_dir: &std::path::Path,
) {
    println!(
        "サンプルの健診日 {}: {} 名、{} 件のイベント（新規 {} 件）、住民台帳 {} 件 / sample day {}: {} residents, {} events ({} new), {} register entries written",
        f.day,
        f.residents,
        f.events,
        f.new_events,
        f.register_written,
        f.day,
        f.residents,
        f.events,
        f.new_events,
        f.register_written
    );
    if f.new_events == 0 {
        println!(
            "この日はすでに保存済みです（何も追加していません）/ this day was stored already: nothing added"
        );
    }
    println!("保険者ごとの書き出し / the archive of each insurer:");
    for i in &f.insurers {
        println!(
            "  保険者番号 {} {}: {} 名",
            i.number, i.name_ja, i.residents
        );
        let out = data_dir.join("export");
        println!(
            "    {}",
            checkup_central::sample_day::export_command(data_dir, &i.number, f.day, xsd_dir, &out)
        );
    }
}

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("shutting down");
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let rt = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match cli.command {
        Command::Run {
            config,
            listen,
            insecure_dev,
        } => {
            let mut c = match config {
                Some(p) => Config::load(&p)?,
                None => Config::default(),
            };
            if let Some(l) = listen {
                c.listen = l;
            }
            if c.tls.is_none() && !insecure_dev {
                anyhow::bail!(
                    "no [tls] in the configuration: enrol central (checkup-provision enrol --node central) or, for development only, pass --insecure-dev"
                );
            }
            rt()?.block_on(serve(c))?;
        }
        Command::Demo {
            listen,
            data_dir,
            edge_data_dir,
            insecure_dev,
            sample_day,
            sample_date,
            xsd_dir,
        } => {
            let mut c = Config {
                listen,
                data_dir,
                staff: vec![
                    StaffConfig {
                        id: "C001".into(),
                        name: "保健 太郎".into(),
                        role: checkup_protocol::Role::CentralAdmin,
                        pin_hash: checkup_provisioning::pin::hash("1234")
                            .map_err(anyhow::Error::msg)?,
                        duty: Default::default(),
                    },
                    StaffConfig {
                        id: "K001".into(),
                        name: "福祉 花子".into(),
                        role: checkup_protocol::Role::Caseworker,
                        pin_hash: checkup_provisioning::pin::hash("2468")
                            .map_err(anyhow::Error::msg)?,
                        duty: Default::default(),
                    },
                ],
                ..Config::default()
            };
            // The rest of the demo's people: a district nurse, the two section chiefs and
            // the auditor (rank and duty decide their reads, see `access`).
            for (id, name, role, pin, rank, districts) in [
                (
                    "H001",
                    "地区 保子",
                    checkup_protocol::Role::Nurse,
                    "1357",
                    "係員",
                    vec!["中央".to_owned()],
                ),
                (
                    "H010",
                    "保健 係長",
                    checkup_protocol::Role::Nurse,
                    "3579",
                    "係長",
                    vec![],
                ),
                (
                    "K010",
                    "子ども 係長",
                    checkup_protocol::Role::Caseworker,
                    "8642",
                    "係長",
                    vec![],
                ),
                (
                    "A001",
                    "監査 一郎",
                    checkup_protocol::Role::Auditor,
                    "9753",
                    "係員",
                    vec![],
                ),
            ] {
                c.staff.push(StaffConfig {
                    id: id.into(),
                    name: name.into(),
                    role,
                    pin_hash: checkup_provisioning::pin::hash(pin).map_err(anyhow::Error::msg)?,
                    duty: checkup_central::config::Duty {
                        rank: serde_json::from_value(serde_json::Value::String(rank.into()))?,
                        districts,
                        ..Default::default()
                    },
                });
            }
            let mut signer = None;
            if let Some(dir) = edge_data_dir {
                let key = std::fs::read(dir.join("node.key"))
                    .with_context(|| format!("reading {}/node.key", dir.display()))?;
                let key: [u8; 32] = key
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("node.key must hold 32 bytes"))?;
                let node_key = checkup_protocol::NodeKey::from_bytes(&key);
                let public = node_key.verifying_key();
                signer = Some(checkup_central::sample_day::Signer {
                    node: "edge-01".into(),
                    key: node_key,
                });
                c.boxes.push(BoxConfig {
                    node: "edge-01".into(),
                    venue: "demo-venue".into(),
                    municipality: "demo".into(),
                    public_key: public.to_base64(),
                    secret_sha256: checkup_central::config::secret_digest(DEMO_SECRET),
                });
                println!(
                    "Enrolled demo box edge-01 (venue demo-venue); forwarding secret: {DEMO_SECRET}"
                );
                if !insecure_dev {
                    c.tls = Some(demo_enrolment(&dir.join("pki"), listen)?);
                }
            } else if !insecure_dev {
                anyhow::bail!(
                    "a demo central takes the demo municipality's CA from --edge-data-dir (or pass --insecure-dev)"
                );
            }
            println!(
                "Demo staff: C001 / PIN 1234 (central admin), K001 / PIN 2468 (caseworker), \
                 H001 / 1357 (nurse, district 中央), H010 / 3579 (health 係長), \
                 K010 / 8642 (child-welfare 係長), A001 / 9753 (auditor)"
            );
            let rt = rt()?;
            if let Some(n) = sample_day {
                let signer = match signer {
                    Some(s) => s,
                    None => sample_box(&mut c)?,
                };
                let day = match sample_date {
                    Some(d) => time::Date::parse(
                        &d,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .with_context(|| format!("--sample-date {d:?} is not a date (YYYY-MM-DD)"))?,
                    None => time::OffsetDateTime::now_utc()
                        .to_offset(time::macros::offset!(+9))
                        .date(),
                };
                let filled = rt.block_on(async {
                    let db = checkup_central::db::open_as(&c, None).await?;
                    anyhow::Ok(
                        checkup_central::sample_day::fill(db.as_ref(), &c, &signer, day, n).await?,
                    )
                })?;
                // An absolute path, so the printed commands work from any directory.
                let xsd_dir = std::fs::canonicalize(&xsd_dir).unwrap_or(xsd_dir);
                print_sample_day(&filled, &c.data_dir, &xsd_dir);
                if xsd_dir.is_dir() {
                    use checkup_central::sample_day::{DOCTOR, SENDER_NAME, SENDER_NUMBER};
                    c.tokutei = Some(checkup_central::config::TokuteiConfig {
                        institution_number: Some(SENDER_NUMBER.into()),
                        institution_name: Some(SENDER_NAME.into()),
                        xsd_dir: Some(xsd_dir.clone()),
                        doctors: [(DOCTOR.0.to_owned(), DOCTOR.1.to_owned())].into(),
                        ..Default::default()
                    });
                    println!(
                        "職員ページ（C001）の「特定健診データ（XML）」でも書き出せます / the staff page (C001), section 特定健診データ, exports it too"
                    );
                } else {
                    println!(
                        "MHLW の XSD が {} にありません: 職員ページの書き出しは --xsd-dir を指定して使えます / no MHLW XSDs at {}: give --xsd-dir for the staff page's export",
                        xsd_dir.display(),
                        xsd_dir.display()
                    );
                }
            }
            rt.block_on(serve(c))?;
        }
        Command::Partitions { source } => {
            let c = source.load()?;
            if c.database == "sqlite" {
                println!(
                    "SQLite: events は1つの表です。パーティションはありません / SQLite keeps one events table: no partitions"
                );
                return Ok(());
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let done = rt.block_on(async {
                let db = checkup_central::db::postgres::Postgres::open(&c.database).await?;
                db.maintain_partitions().await
            })?;
            for (month, rows) in &done.moved {
                println!(
                    "{month}: DEFAULT から {rows} 行を移しました / moved {rows} rows from DEFAULT"
                );
            }
            println!("| partition | month | rows | size |");
            println!("|---|---|---:|---:|");
            for p in &done.partitions {
                println!(
                    "| {} | {} | {} | {:.1} MB |",
                    p.table,
                    p.month.map_or("DEFAULT".to_owned(), |m| m.to_string()),
                    p.rows,
                    p.bytes as f64 / 1e6
                );
            }
            if done.left_in_default > 0 {
                println!(
                    "DEFAULT に {} 行が残っています（2000〜2199年以外の時刻: 箱の時計を確認） / {} rows stay in DEFAULT (times outside 2000–2199: check the box's clock)",
                    done.left_in_default, done.left_in_default
                );
            }
        }
        Command::Audit { .. }
        | Command::Doctor { .. }
        | Command::Export { .. }
        | Command::Import { .. } => {}
        Command::CheckBatch {
            keys,
            venues,
            batch,
        } => {
            let keys = checkup_central::keys::parse(&std::fs::read_to_string(&keys)?)?;
            let bytes = std::fs::read(&batch)?;
            let events =
                checkup_central::ingest::check_batch(&bytes, &keys, &venues, 100_000, usize::MAX)?;
            println!("{} events accepted", events.len());
            for (node, r) in checkup_central::ingest::ranges(&events) {
                println!(
                    "{node}: seq {}..={} ({} events)",
                    r.min_seq, r.max_seq, r.count
                );
            }
        }
    }
    Ok(())
}
