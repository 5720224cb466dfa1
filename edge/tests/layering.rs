//! The box's folders show the direction of its dependencies, and this test keeps them
//! honest: `http/` → `venue/` (the day's rules) → `log/` (store, projection); `ui/` renders
//! what it is given. A file that imports against the direction fails here, naming the line.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Lines of code (comments dropped) of every file under `folder` that mention any of
/// `forbidden`.
fn offences(folder: &str, forbidden: &[&str]) -> (usize, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(folder);
    let files = rust_files(&dir);
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read source");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in forbidden {
                if code.contains(word) {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    (files.len(), found)
}

#[test]
fn the_rules_and_the_log_know_no_http_and_no_html() {
    for folder in ["venue", "log"] {
        let (files, found) = offences(
            folder,
            &["axum", "maud", "crate::http", "crate::ui", "AppState"],
        );
        assert!(files >= 2, "src/{folder} holds the layer ({files} files)");
        assert!(
            found.is_empty(),
            "src/{folder} imports upward:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_log_does_not_decide_or_replicate() {
    let (_, found) = offences(
        "log",
        &["crate::venue", "crate::replication", "crate::forward"],
    );
    assert!(
        found.is_empty(),
        "src/log imports upward:\n{}",
        found.join("\n")
    );
}

#[test]
fn pages_only_render_what_they_are_given() {
    let (files, found) = offences(
        "ui",
        &[
            "AppState",
            "crate::http",
            "crate::log",
            "crate::venue::Core",
            "axum::extract",
        ],
    );
    assert!(files >= 2, "src/ui holds the pages ({files} files)");
    assert!(
        found.is_empty(),
        "src/ui reaches past its view models:\n{}",
        found.join("\n")
    );
}
