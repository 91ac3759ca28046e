//! Tidy checks over the source tree, run by `cargo test`: every Rust file opens with a `//!`
//! line saying what it owns, and no test is switched off.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && !name.starts_with('.') {
                rust_files(&path, found);
            }
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    rust_files(&crates_dir(), &mut found);
    assert!(found.len() > 20, "the walk found too few files: {found:?}");
    found
}

#[test]
fn every_rust_file_opens_with_a_module_doc_line() {
    let missing: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            !text
                .lines()
                .next()
                .is_some_and(|line| line.starts_with("//!"))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading `//!` line:\n{}",
        missing.join("\n")
    );
}

#[test]
fn no_test_is_ignored() {
    // Spelled in two pieces so that this file does not find itself.
    let attribute = format!("#[{}", "ignore");
    let offenders: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|path| std::fs::read_to_string(path).unwrap().contains(&attribute))
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "ignored tests in:\n{}",
        offenders.join("\n")
    );
}
