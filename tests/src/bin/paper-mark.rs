//! Fill in rendered pages of a paper questionnaire as a resident would, then scan them:
//! `paper-mark PLAN.json LANG SEED OUT_DIR PAGE1.png [PAGE2.png …]` writes
//! `OUT_DIR/LANG-N.png` (one per page given, in form order) and prints their paths.
//!
//! PLAN.json maps an item code to its marks, each `[answer_code, kind]` with kind one of
//! `tick` (a thin pen, lighter ink), `heavy` (a thick dark tick), `cross`, `faint` (a light
//! thin pencil tick: the reader must send it to review) or `fill` (the box filled in, i.e.
//! cancelled). Marks are the corpus's set-a strokes
//! ([`checkup_tests::paper_corpus::draw_mark`]) at the pages' resolution (200 dpi, as
//! rendered by `pdftoppm -r 200`); each page is then skewed (±1.2°, alternating), shifted,
//! slightly blurred, lightened and noisy ([`checkup_tests::paper_corpus::scan`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use checkup_drivers::questionnaire_form::layout;
use checkup_protocol::questionnaire::Lang;
use checkup_tests::Rng;
use checkup_tests::paper_corpus::{Mark, Scan, draw_mark, scan};

const DPI: u32 = 200;

fn kind(k: &str) -> anyhow::Result<Mark> {
    Ok(match k {
        "tick" => Mark::Check { heavy: false },
        "heavy" => Mark::Check { heavy: true },
        "cross" => Mark::Cross { heavy: false },
        "faint" => Mark::Faint,
        "fill" => Mark::Fill,
        other => anyhow::bail!("unknown mark {other}"),
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [plan, lang, seed, out, pages @ ..] = args.as_slice() else {
        anyhow::bail!("usage: paper-mark PLAN.json LANG SEED OUT_DIR PAGE.png…");
    };
    let plan: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_str(&std::fs::read_to_string(plan).context("plan")?)
            .context("plan JSON")?;
    let lang = Lang::ALL
        .into_iter()
        .find(|l| l.tag() == lang)
        .with_context(|| format!("unknown language {lang}"))?;
    let form = layout::cached(lang);
    anyhow::ensure!(
        pages.len() == form.pages.len(),
        "{} pages given, the form has {}",
        pages.len(),
        form.pages.len()
    );
    let mut r = Rng::new(seed.parse().context("seed")?);
    for (n, (file, page)) in pages.iter().zip(&form.pages).enumerate() {
        let mut img = image::open(file).with_context(|| file.clone())?.to_luma8();
        for it in &page.items {
            for (code, k) in plan.get(it.item_code).map(Vec::as_slice).unwrap_or(&[]) {
                let b = it
                    .boxes
                    .iter()
                    .find(|b| b.code == code)
                    .with_context(|| format!("{}: no answer {code}", it.item_code))?;
                draw_mark(&mut r, &mut img, (b.x, b.y), kind(k)?, DPI);
            }
        }
        let sc = Scan {
            angle_deg: if n % 2 == 0 { 1.2 } else { -1.2 },
            scale: 1.0,
            shift: (12.0, -9.0),
            blur: 0.6,
            light: 0.9,
            noise: 6.0,
        };
        let img = scan(&mut r, &img, &sc);
        let path = Path::new(out).join(format!("{}-{}.png", lang.tag(), n + 1));
        img.save(&path)?;
        println!("{}", path.display());
    }
    Ok(())
}
