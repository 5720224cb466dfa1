//! `checkup-provision`: the administrator's tool for setting boxes up before the day.

use std::io::Read;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Provision Checkup Edge boxes: the municipality's CA, box enrolment, keys and staff PIN
/// hashes.
#[derive(Parser)]
#[command(name = "checkup-provision", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a staff PIN (4–8 digits) from standard input and print its Argon2id hash for
    /// the `pin_hash` key of a box configuration.
    HashPin,
    /// Generate a node signing key file and print its public key (to enrol at peers and
    /// central).
    NodeKey {
        /// Where to write the 32-byte secret key (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Generate a box's data key (64 hex digits, owner-only) for `store.key_file`: the
    /// event store and roster are encrypted with it, scans sealed. Keep it off the box's
    /// disk (a USB key, tmpfs); enrolment bundles carry one inside instead.
    DataKey {
        /// Where to write it (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The municipality's certificate authority.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Enrol a box: a TLS key and certificate signed by the CA (server and client
    /// authentication), the CA's certificate, and an event-signing key; prints the
    /// signing public key for peers and central.
    Enrol {
        /// Directory of the CA (`ca.crt`, `ca.key`).
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// The box's node id (e.g. edge-01).
        #[arg(long)]
        node: String,
        /// The venue id.
        #[arg(long)]
        venue: String,
        /// Another host name or IP address the box is reached by (repeatable).
        #[arg(long = "host", value_name = "NAME|IP")]
        hosts: Vec<String>,
        /// Where to write the files (created if missing; nothing is overwritten).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Days the certificate is valid (a checkup season, by default).
        #[arg(long, default_value_t = 120)]
        days: u32,
    },
    /// Configure a venue's Mosquitto broker: enrol it (node `broker`) and write
    /// `mosquitto.conf` and its ACL (client certificates required, each box publishing only
    /// on its own topic). Start it with `mosquitto -c <out>/mosquitto.conf`.
    BrokerConfig {
        /// Directory of the CA.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// Where to write (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Address Mosquitto listens on (the venue network's).
        #[arg(long, value_name = "IP:PORT")]
        listen: std::net::SocketAddr,
        /// Account Mosquitto drops to when started as root.
        #[arg(long, default_value = "mosquitto")]
        user: String,
    },
    /// Make a venue day's enrolment bundles: for every box of the day file (TOML: venue,
    /// stations, staff with PIN hashes, boxes, roster CSV, central URL) a certificate, keys
    /// and its configuration in `<out>/<node>.bundle`, encrypted with the passphrase; and
    /// central's `[[boxes]]` in `<out>/central-boxes.toml`.
    Bundle {
        /// Directory of the CA.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// The venue day.
        #[arg(long, value_name = "FILE")]
        day: PathBuf,
        /// Where to write.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// File whose first line is the passphrase (else CHECKUP_BUNDLE_PASSPHRASE).
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Set up a whole demo municipality for tests and demonstrations: its CA, a venue day
    /// (stations, staff, a small roster), one encrypted bundle per box and central enrolled
    /// with its configuration. Prints how to start them.
    DemoMunicipality {
        /// Directory to create.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Boxes at the venue.
        #[arg(long, default_value_t = 2)]
        boxes: usize,
        /// Central's address.
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8090")]
        central: std::net::SocketAddr,
        /// The boxes' listen address.
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8443")]
        listen: String,
        /// The hub's embedded broker port (default: the box's, 18830; 0: a free port, which
        /// the other boxes find by mDNS).
        #[arg(long, value_name = "PORT")]
        broker_port: Option<u16>,
    },
    /// Revoke every certificate issued to a box (lost, stolen or retired): the CA's
    /// revocation list `crl.pem` is re-signed; give it to central, the brokers and the boxes.
    Revoke {
        /// Directory of the CA.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// The box's node id.
        #[arg(long)]
        node: String,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Create the CA: `ca.crt` and `ca.key` (owner-only) in a directory.
    Create {
        /// The municipality's name (in the certificate's subject).
        #[arg(long)]
        municipality: String,
        /// Directory to write into (created if missing; nothing is overwritten).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Days the CA is valid.
        #[arg(long, default_value_t = 1830)]
        days: u32,
    },
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::HashPin => {
            let mut pin = String::new();
            std::io::stdin().take(64).read_to_string(&mut pin)?;
            println!("{}", checkup_provisioning::pin::hash(&pin)?);
        }
        Command::NodeKey { out } => {
            let key = checkup_provisioning::keys::generate(&out)?;
            println!("{}", key.verifying_key().to_base64());
        }
        Command::DataKey { out } => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
            checkup_provisioning::keys::write_new(
                &out,
                format!("{}\n", hex::encode(key)).as_bytes(),
                0o600,
            )?;
            println!("{}", out.display());
        }
        Command::Ca {
            command:
                CaCommand::Create {
                    municipality,
                    out,
                    days,
                },
        } => {
            std::fs::create_dir_all(&out)?;
            let cert = checkup_provisioning::ca::create_ca(&out, &municipality, days)?;
            println!("{}", cert.display());
        }
        Command::Enrol {
            ca,
            node,
            venue,
            hosts,
            out,
            days,
        } => {
            let e = checkup_provisioning::ca::enrol_box(&ca, &node, &venue, &hosts, &out, days)?;
            println!("certificate: {}", e.cert.display());
            println!("tls key:     {}", e.key.display());
            println!("ca:          {}", e.ca.display());
            println!("signing key: {}", e.node_key.display());
            println!("public key:  {}", e.public_key);
        }
        Command::BrokerConfig {
            ca,
            out,
            listen,
            user,
        } => {
            std::fs::create_dir_all(&out)?;
            let conf = checkup_provisioning::mosquitto::write_config(&ca, &out, listen, &user)?;
            println!("{}", conf.display());
        }
        Command::Bundle {
            ca,
            day,
            out,
            passphrase_file,
        } => {
            let text = std::fs::read_to_string(&day)?;
            let day: checkup_provisioning::bundle::VenueDay =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", day.display()))?;
            let passphrase =
                checkup_provisioning::bundle::read_passphrase(passphrase_file.as_deref())?;
            let made = checkup_provisioning::bundle::make(&ca, &day, &out, &passphrase)?;
            for b in made.bundles {
                println!("bundle: {}", b.display());
            }
            println!("central: {}", made.central_boxes.display());
        }
        Command::DemoMunicipality {
            out,
            boxes,
            central,
            listen,
            broker_port,
        } => {
            let d = checkup_provisioning::demo::make(&out, boxes, central, &listen, broker_port)?;
            println!("CA:       {}", d.ca.display());
            println!(
                "central:  checkup-central run --config {}",
                d.central_config.display()
            );
            for b in &d.bundles {
                println!(
                    "box:      checkup-edge run --bundle {} --passphrase-file {} --data-dir <DIR>",
                    b.display(),
                    d.passphrase.display()
                );
            }
            println!("staff (id / PIN / role):");
            for (id, name, role, _, pin) in checkup_provisioning::demo::STAFF {
                println!("  {id} {pin} {role:12} {name}");
            }
            println!("central staff: C001 / 1234 (central admin)");
        }
        Command::Revoke { ca, node } => {
            let serials = checkup_provisioning::ca::revoke(&ca, &node)?;
            for s in serials {
                println!("revoked {node} certificate {s}");
            }
            println!(
                "revocation list: {}",
                ca.join(checkup_provisioning::ca::CA_CRL).display()
            );
        }
    }
    Ok(())
}
