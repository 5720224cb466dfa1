//! Write a synthetic corpus of filled-in paper questionnaires with ground truth:
//! `paper-corpus DIR FORMS SEED SET` → DIR/{a,b}-SEED-NNNN-P.{png,jpg} and DIR/truth.jsonl.
//! Set `a` (marks stamped into the image) is for tuning; set `b` (marks printed as SVG,
//! another degradation) is held out and never tuned on.

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, n, seed, set] = args.as_slice() else {
        anyhow::bail!("usage: paper-corpus DIR FORMS SEED a|b");
    };
    let (truths, t) = checkup_tests::paper_corpus::generate(
        std::path::Path::new(dir),
        n.parse()?,
        seed.parse()?,
        set,
    )?;
    println!(
        "{} pages written to {dir}; chromium print {:.1} s, pdftoppm {:.2} s for {} pages ({:.3} s/page)",
        truths.len(),
        t.print_s,
        t.render_s,
        t.pages,
        t.render_s / t.pages.max(1) as f64
    );
    Ok(())
}
