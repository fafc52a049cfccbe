//! The layout rules of `src/`, checked on the source text: dependencies point one way
//! (formats, operations, join kernels and partitions know nothing of plans or of the eager
//! API built on them), every file says its one concern in an opening `//!` comment, and no
//! file passes 600 lines.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn lower_layers_do_not_use_plans_or_the_eager_api() {
    let mut offenders = Vec::new();
    for layer in ["io", "ops", "join", "partition", "geometry", "crs"] {
        let mut files = Vec::new();
        rust_files(&src().join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer} has no files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for upper in ["crate::plan", "crate::eager", "super::super::plan"] {
                    if code.contains(upper) {
                        offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "lower layers reach up:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_file_states_its_concern_and_stays_short() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    assert!(files.len() > 30);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} does not open with a //! comment saying its concern",
            file.display()
        );
        let lines = text.lines().count();
        assert!(
            lines <= 600,
            "{} has {lines} lines (at most 600)",
            file.display()
        );
    }
}
