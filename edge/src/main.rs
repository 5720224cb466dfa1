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
    /// Run a box from a configuration file.
    Run {
        /// TOML configuration (see edge/config.example.toml for every key).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Listen address; overrides `listen` in the file.
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<SocketAddr>,
        /// Data directory; overrides `data_dir` in the file.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Run a demo box: a demo venue with stations, 200 booked residents and demo staff.
    Demo {
        /// Listen address.
        #[arg(long, value_name = "ADDR:PORT", default_value_t = config::default_listen())]
        listen: SocketAddr,
        /// Data directory (created if missing; reused across runs).
        #[arg(long, value_name = "DIR", default_value = "data/demo")]
        data_dir: PathBuf,
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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            config,
            listen,
            data_dir,
        } => {
            let mut c = Config::load(&config)?;
            if let Some(l) = listen {
                c.listen = l;
            }
            if let Some(d) = data_dir {
                c.data_dir = d;
            }
            serve(c, None).await
        }
        Command::Demo { listen, data_dir } => {
            let n = demo::load_roster(&data_dir).context("loading the demo roster")?;
            let c = demo::config(&data_dir, listen).map_err(anyhow::Error::msg)?;
            serve(c, Some(n)).await
        }
    }
}

async fn serve(c: Config, demo_roster: Option<usize>) -> anyhow::Result<()> {
    let edge = Edge::open(&c)?;
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
    println!("Checkup Edge {} ready: http://{addr}/", c.node_id);
    edge.serve(listener, shutdown::signal()).await
}
