//! Read notice images and print what the reader found, for looking into a misread page:
//! `cargo run --release -p checkup-drivers --example read_notice -- FILE...` prints each
//! page's fields (and, with `RUST_LOG=checkup_drivers=debug`, its segments).

use checkup_drivers::notice::read::read_page;
use checkup_drivers::scan::{self, ocr::Engine};

fn main() -> anyhow::Result<()> {
    // RUST_LOG=checkup_drivers=debug shows the segments and the choices made.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut engine = Engine::new()?;
    for f in std::env::args().skip(1) {
        let pages = scan::read_file(std::path::Path::new(&f), &scan::Limits::default())?;
        let Some(page) = pages.first() else { continue };
        if let Ok(dir) = std::env::var("SAVE_PREPARED") {
            let prepared = checkup_drivers::scan::clean::for_recognition(&page.image);
            eprintln!("skew {:.2}", prepared.skew);
            let name = std::path::Path::new(&f)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned());
            prepared.page.save(
                std::path::Path::new(&dir).join(format!("{}.png", name.unwrap_or_default())),
            )?;
        }
        let got = read_page(&mut engine, &page.image)?;
        println!("== {f}");
        let v = serde_json::to_value(&got)?;
        for name in checkup_drivers::notice::read::FIELD_NAMES {
            let f = &v[name];
            println!(
                "{name:>17}: {} ({:.2}{}) raw {}",
                f["value"],
                f["confidence"].as_f64().unwrap_or(0.0),
                if f["review"].as_bool() == Some(true) {
                    " review"
                } else {
                    ""
                },
                f["raw"]
            );
        }
    }
    Ok(())
}
