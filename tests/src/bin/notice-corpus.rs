//! Write a synthetic corpus of police notices with ground truth:
//! `notice-corpus DIR COUNT SEED` → DIR/notice-SEED-NNNN.{png,jpg} and DIR/truth.jsonl.
//! Tuning uses seed 1; the evaluation set is seed 2 and is never tuned on.

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, n, seed] = args.as_slice() else {
        anyhow::bail!("usage: notice-corpus DIR COUNT SEED");
    };
    let truths = checkup_tests::notice_corpus::generate(
        std::path::Path::new(dir),
        n.parse()?,
        seed.parse()?,
    )?;
    println!("{} pages written to {dir}", truths.len());
    Ok(())
}
