//! `checkup-provision`: the administrator's tool for setting boxes up before the day.

use std::io::Read;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Provision Checkup Edge boxes: keys and staff PIN hashes.
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
    }
    Ok(())
}
