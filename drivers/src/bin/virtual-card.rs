//! `virtual-card`: put an emulated card into a vpcd virtual reader, for demos and manual
//! tests. The card stays in the field until Ctrl-C (or until a fault removes it).

use std::net::SocketAddr;
use std::path::PathBuf;

use checkup_drivers::emulator::vpcd::VirtualCard;
use checkup_drivers::emulator::{EmulatedCard, Faults, Profile};
use clap::Parser;

/// Emulate a My Number card or a contactless venue card on a vpcd virtual reader.
#[derive(Parser)]
#[command(name = "virtual-card", version, about)]
struct Cli {
    /// vpcd address (reader 0 on 127.0.0.1:35963, reader 1 on :35964).
    #[arg(long, default_value = "127.0.0.1:35963")]
    vpcd: SocketAddr,
    /// Enter this network namespace first (e.g. /run/netns/ce-vr-…).
    #[arg(long)]
    netns: Option<PathBuf>,
    /// Card profile as JSON, e.g. '{"kind":"contactless","uid":"0123456789abcdef"}'.
    #[arg(long)]
    profile: String,
    /// Faults as JSON, e.g. '{"chunk_limit":16,"delay_ms":50}'.
    #[arg(long, default_value = "{}")]
    faults: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let profile: Profile = serde_json::from_str(&cli.profile)?;
    let faults: Faults = serde_json::from_str(&cli.faults)?;
    let card = VirtualCard::start(cli.vpcd, cli.netns)?;
    card.insert(EmulatedCard::new(profile, faults));
    eprintln!("card in the field of {}; Ctrl-C to remove", cli.vpcd);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let _ = ctrlc_channel(tx);
    let _ = rx.recv();
    card.stop();
    Ok(())
}

/// Block until SIGINT/SIGTERM by waiting on a signal-driven channel.
fn ctrlc_channel(tx: std::sync::mpsc::Sender<()>) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        let _ = tx.send(());
    });
    Ok(())
}
