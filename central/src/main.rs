//! `checkup-central`: the municipal central system's command line.

use std::path::PathBuf;

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

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
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
        Command::CheckBatch {
            keys,
            venues,
            batch,
        } => {
            let keys = checkup_central::keys::parse(&std::fs::read_to_string(&keys)?)?;
            let bytes = std::fs::read(&batch)?;
            let (events, ranges) =
                checkup_central::ingest::check_batch(&bytes, &keys, &venues, 100_000)?;
            println!("{} events accepted", events.len());
            for (node, r) in ranges {
                println!(
                    "{node}: seq {}..={} ({} events)",
                    r.min_seq, r.max_seq, r.count
                );
            }
        }
    }
    Ok(())
}
