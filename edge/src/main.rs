//! `checkup-edge`: the venue box's command line. Thin glue: parse flags, call the library,
//! choose the exit code.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use checkup_edge::{Config, Edge, config, demo, shutdown};
use clap::{Parser, Subcommand};

/// Checkup Edge: the venue box for municipal mass health checkups.
#[derive(Parser)]
#[command(name = "checkup-edge", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a box from a configuration file or an enrolment bundle.
    Run {
        #[command(flatten)]
        source: Source,
        /// Listen address; overrides `listen` in the file.
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<SocketAddr>,
        /// Serve plain HTTP and MQTT when the configuration has no `[tls]` enrolment
        /// (development only: staff PINs and health data would cross the Wi-Fi readable).
        #[arg(long)]
        insecure_dev: bool,
    },
    /// OCR intake: read police notices (児童通告書) into fields.
    Ocr {
        #[command(subcommand)]
        command: OcrCommand,
    },
    /// Card readers: list them, or read the next tapped card.
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// Wipe the box after the day: refused (exit status 3) while central has not
    /// acknowledged every event the box holds; otherwise every file under the data
    /// directory (and the hot folder's `taken/` scans) is overwritten and removed. Stop the
    /// box first.
    Wipe {
        #[command(flatten)]
        source: Source,
        /// Wipe even though central lacks events (a box that can never forward them): the
        /// wipe is first recorded at central with the reason and the events lost, and not
        /// done if central cannot record it (exit status 5).
        #[arg(long, requires = "reason")]
        force: bool,
        /// Why the events central lacks may be lost (recorded in central's audit trail).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// The audit trail: `audit verify` walks the event log's hash chain and checks its head,
    /// sealed with the node key; it names the first entry that was changed or deleted, or
    /// a cut end or a missing, rewritten or mismatched head (exit status 4), or prints the
    /// entries checked. A box does not start on a chain that does not hold.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check the machine and the configuration a box would run with: card readers (pcscd),
    /// the Tesseract Japanese model, the clock against central's, disk space, certificate
    /// expiry, the broker, central and the forwarding secret, the data key and the data
    /// directory. Prints one line per check, in Japanese then English, with the command
    /// that fixes what is wrong.
    ///
    /// Exit status: 0 every check ok (or skipped), 1 warnings only, 2 at least one error
    /// (also when the configuration does not load).
    ///
    /// The checks read the same environment as the box: PCSCLITE_CSOCK_NAME (pcscd's
    /// socket) and TESSDATA_PREFIX (the folder of Tesseract's models).
    Doctor {
        #[command(flatten)]
        source: Source,
        /// Print one JSON object (`status`, `exit`, `checks`: `id`, `status`, `ja`, `en`,
        /// `fix`) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Run a demo box: a demo venue with stations, 200 booked residents and demo staff.
    Demo {
        /// Listen address.
        #[arg(long, value_name = "ADDR:PORT", default_value_t = config::default_listen())]
        listen: SocketAddr,
        /// Data directory (created if missing; reused across runs).
        #[arg(long, value_name = "DIR", default_value = "data/demo")]
        data_dir: PathBuf,
        /// Do not start the virtual card reader (it needs root for its network namespace).
        #[arg(long)]
        no_card_reader: bool,
        /// Port of the demo box's embedded MQTT broker (other boxes of the venue find it by
        /// mDNS on the listen address's interface); 0 picks a free port.
        #[arg(long, value_name = "PORT", default_value_t = 18830)]
        mqtt_port: u16,
        /// Forward the day's events to this central (e.g. `checkup-central demo
        /// --edge-data-dir data/demo` on http://127.0.0.1:8090).
        #[arg(long, value_name = "URL")]
        central_url: Option<String>,
        /// The forwarding secret central printed.
        #[arg(long, value_name = "SECRET", env = "CHECKUP_CENTRAL_SECRET")]
        central_secret: Option<String>,
        /// Plain HTTP and MQTT instead of the demo municipality's certificates (made in
        /// `<data-dir>/pki` on first start).
        #[arg(long)]
        insecure_dev: bool,
    },
    /// Run a training box (練習モード): a rehearsal venue with the demo staff (PINs printed
    /// at start), a roster of plainly fictional residents, virtual My Number cards on the
    /// virtual reader and a scripted flow of residents arriving (with a wrong PIN, no card,
    /// an unusual value, one leaving early now and then). Every page carries the
    /// 「練習モード」 band, every event is marked as training and never forwarded (central
    /// refuses them too). At the end (Ctrl-C / SIGTERM, the end button on
    /// /training/summary, or --end-when-done) the trainer's summary is printed and the
    /// data directory is wiped: no file is left.
    Training {
        /// Listen address.
        #[arg(long, value_name = "ADDR:PORT", default_value_t = config::default_listen())]
        listen: SocketAddr,
        /// The session's own data directory (refused if it holds a real day's events;
        /// removed at the end).
        #[arg(long, value_name = "DIR", default_value = "data/training")]
        data_dir: PathBuf,
        /// Time factor of the scripted flow: 1 is real pace (a resident every 90 s), 60
        /// runs an hour in a minute.
        #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
        speed: f64,
        /// Residents booked and sent by the script.
        #[arg(long, value_name = "N", default_value_t = 40)]
        residents: usize,
        /// The script plays the staff too (a demonstration, or an unattended rehearsal day).
        #[arg(long)]
        autopilot: bool,
        /// End the session when the script's last resident is done.
        #[arg(long)]
        end_when_done: bool,
        /// Do not start the virtual card reader (it needs root for its network namespace):
        /// every resident then comes without a card.
        #[arg(long)]
        no_card_reader: bool,
        /// Accepted so a real box's settings can be reused, and ignored: a training box never
        /// forwards.
        #[arg(long, value_name = "URL")]
        central_url: Option<String>,
        /// Ignored with --central-url.
        #[arg(long, value_name = "SECRET")]
        central_secret: Option<String>,
        /// Plain HTTP instead of the training box's own certificates.
        #[arg(long)]
        insecure_dev: bool,
        /// Serve HTTPS with this certificate instead of the training box's own (a real box
        /// starting a rehearsal from its page passes its own, so tablets that trust the
        /// box trust the rehearsal). The data key stays the training box's own.
        #[arg(long, value_name = "FILE", hide = true, requires_all = ["tls_key", "tls_ca"], conflicts_with = "insecure_dev")]
        tls_cert: Option<PathBuf>,
        /// The key of --tls-cert.
        #[arg(long, value_name = "FILE", hide = true, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The CA of --tls-cert.
        #[arg(long, value_name = "FILE", hide = true, requires = "tls_cert")]
        tls_ca: Option<PathBuf>,
        /// The CA's revocation list, with --tls-cert.
        #[arg(long, value_name = "FILE", hide = true, requires = "tls_cert")]
        tls_crl: Option<PathBuf>,
        /// Read the certificate, key, CA and revocation list to serve HTTPS with as one
        /// JSON object on standard input (a real box started from a bundle, whose
        /// certificate is never written to disk).
        #[arg(long, hide = true, conflicts_with_all = ["tls_cert", "insecure_dev"])]
        tls_pem_stdin: bool,
    },
}

/// Where a box's configuration comes from.
#[derive(clap::Args)]
struct Source {
    /// TOML configuration (see edge/config.example.toml for every key).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    config: Option<PathBuf>,
    /// Enrolment bundle (`checkup-provision bundle`): configuration, keys and roster,
    /// decrypted into memory with the passphrase.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// File whose first line is the bundle's passphrase (else CHECKUP_BUNDLE_PASSPHRASE).
    #[arg(long, value_name = "FILE", requires = "bundle")]
    passphrase_file: Option<PathBuf>,
    /// Data directory; overrides `data_dir`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl Source {
    fn load(&self) -> anyhow::Result<Config> {
        let mut c = match (&self.config, &self.bundle) {
            (Some(path), _) => Config::load(path)?,
            (None, Some(bundle)) => {
                let passphrase =
                    checkup_provisioning::bundle::read_passphrase(self.passphrase_file.as_deref())?;
                let bytes = std::fs::read(bundle)
                    .with_context(|| format!("reading {}", bundle.display()))?;
                let contents = checkup_provisioning::bundle::open(&bytes, &passphrase)
                    .with_context(|| bundle.display().to_string())?;
                Config::from_bundle(contents)?
            }
            (None, None) => anyhow::bail!("give --config or --bundle"),
        };
        if let Some(d) = &self.data_dir {
            c.data_dir = d.clone();
        }
        Ok(c)
    }
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every link of the event log's hash chain and its sealed head (needs the node
    /// key: `key_file`, or the bundle).
    Verify {
        #[command(flatten)]
        source: Source,
    },
}

#[derive(Subcommand)]
enum OcrCommand {
    /// Read notice images (PNG, JPEG, TIFF): one JSON object per image, in order, with
    /// `file`, `fields` (each `{value, confidence, bbox, review}`) and `resident_id`; an image
    /// that cannot be read gives `{"file", "error": {"code", "message"}}` and the batch goes
    /// on. Pages are read on every core.
    Notice {
        /// The images.
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Resident register CSV (`resident_id,name,name_kana,birth_date,sex,address`) to
        /// match the child against.
        #[arg(long, value_name = "FILE")]
        residents: Option<PathBuf>,
        /// Print JSON lines (the only output format; accepted for scripts that pass it).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CardCommand {
    /// List the PC/SC readers and whether a card is in each.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Wait for a card, recognise it and read it: a My Number card's basic four items (needs
    /// the resident's PIN) or a contactless card's UID. Prints one JSON object; on failure a
    /// JSON error with a stable `code` and a non-zero exit.
    Read {
        /// Reader name (default: any reader).
        #[arg(long, value_name = "NAME")]
        reader: Option<String>,
        /// Read the resident's 4-digit PIN from standard input (first line).
        #[arg(long)]
        pin_stdin: bool,
        /// Send the PIN even when only one try is left (staff confirmed with the resident).
        #[arg(long)]
        confirm_last_try: bool,
        /// Seconds to wait for a card.
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        wait: u64,
        /// Print JSON (the only output format; accepted for scripts that pass it).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> std::process::ExitCode {
    // Debian's libtesseract uses OpenMP, which thrashes on two cores; pages are read in
    // parallel instead. Set before any thread exists.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        // SAFETY: nothing else runs yet: no thread can read the environment concurrently.
        unsafe { std::env::set_var("OMP_THREAD_LIMIT", "1") };
    }
    // The embedded broker logs every client coming and going, at levels up to ERROR; its
    // logs are off unless RUST_LOG names it (e.g. RUST_LOG=info,rumqttd=info).
    let mut filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    if !filter.contains("rumqttd") {
        filter.push_str(",rumqttd=off");
    }
    if !filter.contains("mdns_sd") {
        filter.push_str(",mdns_sd=warn");
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(|| LogSink)
        .init();
    let cli = Cli::parse();
    if let Command::Ocr {
        command: OcrCommand::Notice {
            images, residents, ..
        },
    } = &cli.command
    {
        return ocr_notice(images, residents.as_deref());
    }
    if let Command::Card { command } = &cli.command {
        return card_command(command);
    }
    if let Command::Wipe {
        source,
        force,
        reason,
    } = &cli.command
    {
        let force = force.then(|| checkup_edge::wipe::Force {
            reason: reason.clone().unwrap_or_default(),
        });
        return wipe(source, force);
    }
    if let Command::Audit {
        command: AuditCommand::Verify { source },
    } = &cli.command
    {
        return audit_verify(source);
    }
    if let Command::Doctor { source, json } = &cli.command {
        return doctor(source, *json);
    }
    // A training session's compartment: prepared first (refused for a real day's
    // directory), wiped last, after the virtual reader inside it has stopped.
    let training_dir = match &cli.command {
        Command::Training { data_dir, .. } => {
            if let Err(e) = checkup_edge::training::prepare(data_dir) {
                eprintln!("error: {e}");
                return std::process::ExitCode::FAILURE;
            }
            Some(data_dir.clone())
        }
        _ => None,
    };
    // The demo's virtual reader: started before any thread exists, because the PC/SC
    // client library reads its socket path from the environment.
    let mut virtual_reader = None;
    if let Command::Demo {
        data_dir,
        no_card_reader: false,
        ..
    }
    | Command::Training {
        data_dir,
        no_card_reader: false,
        ..
    } = &cli.command
    {
        let dir = data_dir.join("virtual-reader");
        match std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                checkup_drivers::virtual_reader::VirtualReader::start_with(&dir, true)
                    .map_err(|e| e.to_string())
            }) {
            Ok(r) => {
                // SAFETY: no other thread exists yet (the runtime starts below).
                unsafe { std::env::set_var("PCSCLITE_CSOCK_NAME", r.socket_path()) };
                virtual_reader = Some(r);
            }
            Err(e) => {
                tracing::warn!(error = %e, "no virtual card reader (needs root, pcscd and vsmartcard-vpcd); the demo runs without card taps");
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli, virtual_reader.as_ref()));
    drop(runtime);
    drop(virtual_reader);
    if let Some(dir) = training_dir {
        match checkup_edge::training::wipe(&dir) {
            Ok(w) => say(format_args!(
                "練習のデータを消去しました / training data wiped: {} files, {} removed",
                w.files,
                dir.display()
            )),
            Err(e) => {
                say_err(format_args!("error: the training data was not wiped: {e}"));
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Standard error for the log, never failing: a training box started from a real box's
/// page logs into its parent's pipe, gone when the parent is, and must still end cleanly
/// (tracing's own writer complains of a failed write by panicking).
struct LogSink;

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// A line on standard output that never panics: a training box started from a real box's
/// page writes into its parent's pipe, gone when the parent is (the session must still
/// end cleanly and wipe its data).
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// [`say`] on standard error.
fn say_err(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The box's configuration, or the error printed.
fn box_config(source: &Source) -> Option<Config> {
    match source.load() {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("error: {e:#}");
            None
        }
    }
}

/// `checkup-edge audit verify`: 0 intact, 4 changed or deleted entries or a missing,
/// unsealed or mismatched head, 1 unreadable.
fn audit_verify(source: &Source) -> std::process::ExitCode {
    use checkup_edge::log::store::chain::{ChainError, Sealer, verify};
    let Some(c) = box_config(source) else {
        return std::process::ExitCode::FAILURE;
    };
    let key = match c.data_key() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let conn = match checkup_edge::at_rest::open_sqlite(
        &c.store_path(),
        key.as_ref(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("error: {}: {e}", c.store_path().display());
            return std::process::ExitCode::FAILURE;
        }
    };
    // The head is sealed with the node key: read it, never make one here.
    let node_key = match &c.secrets.node_key {
        Some(bytes) => checkup_protocol::NodeKey::from_bytes(bytes),
        None => match std::fs::read(c.key_path())
            .map_err(|e| e.to_string())
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).map_err(|_| "not 32 bytes".to_owned()))
        {
            Ok(b) => checkup_protocol::NodeKey::from_bytes(&b),
            Err(e) => {
                eprintln!("error: node key {}: {e}", c.key_path().display());
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    let sealer = Sealer::new(&node_key, &c.venue_id, &c.node_id);
    match verify(&conn, &sealer) {
        Ok(v) => {
            println!(
                "audit chain intact: {} entries, last {}, head {}",
                v.entries, v.last_pos, v.head
            );
            if v.sealed_from > 0 {
                println!(
                    "note: the head has been sealed since entry {} only (the store was made by an older build): entries removed from the end before then cannot be detected",
                    v.sealed_from
                );
            }
            std::process::ExitCode::SUCCESS
        }
        Err(
            e @ (ChainError::Broken { .. } | ChainError::Truncated { .. } | ChainError::Head(_)),
        ) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(4)
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `checkup-edge doctor`: 0 all ok, 1 warnings only, 2 any error.
fn doctor(source: &Source, json: bool) -> std::process::ExitCode {
    let report = match source.load() {
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
            rt.block_on(checkup_edge::doctor::diagnose(&c))
        }
        Err(e) => checkup_edge::doctor::unloadable(&format!("{e:#}")),
    };
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    std::process::ExitCode::from(report.exit_code())
}

/// `checkup-edge wipe`: 0 wiped, 3 refused (events central lacks), 1 any other failure.
fn wipe(source: &Source, force: Option<checkup_edge::wipe::Force>) -> std::process::ExitCode {
    let Some(c) = box_config(source) else {
        return std::process::ExitCode::FAILURE;
    };
    // Multi-threaded: a current-thread runtime's handle cannot drive its own I/O.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let forced = force.as_ref().map(|f| (f, rt.handle()));
    match checkup_edge::wipe::wipe_with(&c, forced) {
        Ok(r) => {
            println!(
                "wiped {}: {} events, {} files, {} bytes overwritten",
                c.data_dir.display(),
                r.events,
                r.files,
                r.bytes
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e @ checkup_edge::wipe::WipeError::NotRecorded(_)) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(5)
        }
        Err(e @ checkup_edge::wipe::WipeError::Unforwarded { .. }) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(
    cli: Cli,
    virtual_reader: Option<&checkup_drivers::virtual_reader::VirtualReader>,
) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            source,
            listen,
            insecure_dev,
        } => {
            let mut c = source.load()?;
            if let Some(l) = listen {
                c.listen = l;
            }
            if !c.has_tls() && !insecure_dev {
                anyhow::bail!(
                    "the configuration has no [tls] enrolment: enrol the box (checkup-provision enrol or bundle) or, for development only, pass --insecure-dev"
                );
            }
            if !c.has_tls() {
                tracing::warn!(
                    "--insecure-dev: plain HTTP and MQTT, nothing on the network is encrypted"
                );
            }
            let edge = Edge::open(&c)?;
            serve(edge, c, None).await
        }
        Command::Training {
            listen,
            data_dir,
            speed,
            residents,
            autopilot,
            end_when_done,
            central_url,
            central_secret,
            insecure_dev,
            tls_cert,
            tls_key,
            tls_ca,
            tls_crl,
            tls_pem_stdin,
            ..
        } => {
            use checkup_edge::training::session;
            // Listening for SIGTERM from here on: a session stopped (or whose starter dies)
            // as soon as it is ready still prints its summary and wipes its data.
            let stop = shutdown::armed();
            anyhow::ensure!(
                speed.is_finite() && speed > 0.0,
                "--speed must be a positive number"
            );
            let mut c = session::config(&data_dir, listen)?;
            if let (Some(cert), Some(key), Some(ca)) = (tls_cert, tls_key, tls_ca) {
                // A real box's certificate; the data key is the session's own.
                c.tls = Some(checkup_provisioning::tls::TlsFiles {
                    cert,
                    key,
                    ca,
                    crl: tls_crl,
                });
                c.store.key_file = Some(demo::data_key_in(&data_dir.join("pki"))?);
            } else if tls_pem_stdin {
                let text =
                    tokio::task::spawn_blocking(|| std::io::read_to_string(std::io::stdin()))
                        .await?
                        .context("reading the certificate on standard input")?;
                let pem: checkup_edge::training::switch::PemOnStdin =
                    serde_json::from_str(&text).context("the certificate on standard input")?;
                c.secrets.tls = Some(pem.into());
                c.store.key_file = Some(demo::data_key_in(&data_dir.join("pki"))?);
            } else if !insecure_dev {
                let (tls, key) = demo::enrolment_for(&data_dir, listen, session::VENUE_ID)
                    .context("the training box's certificates")?;
                c.tls = Some(tls);
                c.store.key_file = Some(key);
            }
            let key = c.data_key()?;
            let n = session::load_roster(&data_dir, key.as_ref(), residents)
                .context("loading the training roster")?;
            // Kept in the configuration to show they are refused, not forgotten.
            c.central.url = central_url;
            c.central.secret = central_secret;
            let cards = demo_cards(&mut c, virtual_reader)?;
            let edge = Edge::open_with_cards(&c, cards)?;
            let listener = tokio::net::TcpListener::bind(c.listen)
                .await
                .with_context(|| format!("cannot listen on {}", c.listen))?;
            let addr = listener.local_addr()?;
            say(format_args!(
                "練習モード / Training mode: {} ({n} residents, speed ×{speed})",
                c.venue_name
            ));
            say(format_args!("Staff (id / PIN / role):"));
            for s in demo::STAFF {
                say(format_args!(
                    "  {:5} {}  {:20} {}",
                    s.id,
                    s.pin,
                    s.role.as_str(),
                    s.name
                ));
            }
            if let Some(tls) = &c.tls {
                say(format_args!(
                    "HTTPS with {} (trust {} on the tablets)",
                    tls.cert.display(),
                    tls.ca.display()
                ));
            }
            let scheme = if c.has_tls() { "https" } else { "http" };
            say(format_args!(
                "Trainer's summary: {scheme}://{addr}/training/summary"
            ));
            say(format_args!(
                "Checkup Edge {} ready: {scheme}://{addr}/",
                c.node_id
            ));
            let summary = session::serve(
                edge,
                &c,
                listener,
                session::TrainingOptions {
                    speed,
                    residents: n,
                    autopilot,
                    end_when_done,
                },
                stop,
            )
            .await?;
            say(format_args!("{summary}"));
            Ok(())
        }
        Command::Card { .. }
        | Command::Ocr { .. }
        | Command::Wipe { .. }
        | Command::Audit { .. }
        | Command::Doctor { .. } => Ok(()),
        Command::Demo {
            listen,
            data_dir,
            mqtt_port,
            central_url,
            central_secret,
            insecure_dev,
            ..
        } => {
            let mut c = demo::config(&data_dir, listen).map_err(anyhow::Error::msg)?;
            if !insecure_dev {
                let (tls, key) = demo::enrolment(&data_dir, listen)
                    .context("the demo municipality's certificates")?;
                c.tls = Some(tls);
                c.store.key_file = Some(key);
            }
            let key = c.data_key()?;
            let n =
                demo::load_roster(&data_dir, key.as_ref()).context("loading the demo roster")?;
            c.replication.broker_port = mqtt_port;
            c.central.url = central_url;
            c.central.secret = central_secret;
            let cards = demo_cards(&mut c, virtual_reader)?;
            let edge = Edge::open_with_cards(&c, cards)?;
            serve(edge, c, Some(n)).await
        }
    }
}

/// The cards of a demo or training box: the virtual reader's slot when one runs (the
/// configuration set to virtual cards), otherwise none (card mode off).
fn demo_cards(
    c: &mut Config,
    virtual_reader: Option<&checkup_drivers::virtual_reader::VirtualReader>,
) -> anyhow::Result<checkup_edge::cards::Cards> {
    Ok(match virtual_reader {
        Some(r) => {
            c.card.mode = checkup_edge::config::CardMode::Virtual;
            let slot = checkup_drivers::emulator::vpcd::VirtualCard::start(
                r.reader_addr(0),
                Some(r.netns_path()),
            )?;
            checkup_edge::cards::Cards::watch(Some(slot))?
        }
        None => {
            c.card.mode = checkup_edge::config::CardMode::Off;
            checkup_edge::cards::Cards::disabled()
        }
    })
}

async fn serve(edge: Edge, c: Config, demo_roster: Option<usize>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(c.listen)
        .await
        .with_context(|| format!("cannot listen on {}", c.listen))?;
    let addr = listener.local_addr()?;
    if let Some(n) = demo_roster {
        println!("Demo venue: {} ({} residents booked)", c.venue_name, n);
        println!("Demo staff (id / PIN / role):");
        for s in demo::STAFF {
            println!("  {:5} {}  {:20} {}", s.id, s.pin, s.role.as_str(), s.name);
        }
    }
    let scheme = if c.has_tls() { "https" } else { "http" };
    if let Some(tls) = &c.tls {
        println!(
            "HTTPS with {} (trust {} on the tablets)",
            tls.cert.display(),
            tls.ca.display()
        );
    }
    if let Some(folder) = &c.intake.hot_folder {
        println!(
            "Scanner folder for police notices: {} (clerk's inbox: {scheme}://{addr}/intake)",
            folder.display()
        );
    }
    if let Some(folder) = &c.paper_inbox {
        println!(
            "Scanner folder for paper questionnaires: {} (read files go to done/, refused ones to failed/)",
            folder.display()
        );
    }
    if c.card.mode == checkup_edge::config::CardMode::Virtual {
        println!("Virtual card reader: tap demo residents' cards on {scheme}://{addr}/reception");
    }
    println!("Checkup Edge {} ready: {scheme}://{addr}/", c.node_id);
    edge.serve(listener, shutdown::signal()).await
}

/// `checkup-edge card …`: blocking PC/SC work, no runtime needed.
fn card_command(command: &CardCommand) -> std::process::ExitCode {
    use checkup_drivers::card::{self, CardError, Pin, ReadOptions};
    let fail = |e: CardError| {
        let mut v =
            serde_json::json!({"kind": "error", "code": e.code(), "message": e.to_string()});
        if let CardError::WrongPin { tries_left } = e {
            v["tries_left"] = tries_left.into();
        }
        println!("{v}");
        std::process::ExitCode::FAILURE
    };
    match command {
        CardCommand::List { json } => {
            let readers = match card::pcsc::context().and_then(|c| card::pcsc::list_readers(&c)) {
                Ok(r) => r,
                Err(e) => return fail(e),
            };
            if *json {
                println!("{}", serde_json::json!({"readers": readers}));
            } else if readers.is_empty() {
                println!("no card readers");
            } else {
                for r in readers {
                    let state = if r.card_present {
                        format!("card present (ATR {})", r.atr)
                    } else {
                        "empty".into()
                    };
                    println!("{}\t{state}", r.name);
                }
            }
            std::process::ExitCode::SUCCESS
        }
        CardCommand::Read {
            reader,
            pin_stdin,
            confirm_last_try,
            wait,
            json: _,
        } => {
            let pin = if *pin_stdin {
                let mut line = String::new();
                if std::io::stdin().read_line(&mut line).is_err() {
                    return fail(CardError::PinFormat);
                }
                match Pin::parse(&line) {
                    Ok(p) => Some(p),
                    Err(e) => return fail(e),
                }
            } else {
                None
            };
            let options = ReadOptions {
                pin,
                confirm_last_try: *confirm_last_try,
            };
            let result = card::pcsc::context().and_then(|ctx| {
                card::pcsc::read(
                    &ctx,
                    reader.as_deref(),
                    std::time::Duration::from_secs(*wait),
                    &options,
                )
            });
            match result {
                Ok(reading) => {
                    match serde_json::to_string(&reading) {
                        Ok(s) => println!("{s}"),
                        Err(e) => return fail(CardError::MalformedCardData(e.to_string())),
                    }
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

fn ocr_notice(images: &[PathBuf], residents: Option<&std::path::Path>) -> std::process::ExitCode {
    let register = match residents.map(checkup_edge::intake::read_register) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            eprintln!("error: resident register: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
        None => Vec::new(),
    };
    match checkup_edge::intake::read_notices(images, &register) {
        Ok(out) => {
            for v in out {
                println!("{v}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
