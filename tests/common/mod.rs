//! Helpers for the integration tests: fixture workspaces copied into temp dirs, the real
//! binary, and real `cargo test` runs inside the copies.

pub mod llm_server;
mod tree;

pub use tree::copy_tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A copy of `fixtures/<name>` in a fresh temp dir.
pub fn fixture(name: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    copy_tree(&from, dir.path());
    dir
}

/// The binary, run as cargo runs it (`cargo-testsmith testsmith …`) in `dir`.
pub fn testsmith(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cargo-testsmith").unwrap();
    cmd.current_dir(dir)
        .arg("testsmith")
        .env_remove("CARGO_TARGET_DIR")
        // The caller's colour choice would reach our output; tests choose with `--color`.
        .env_remove("CARGO_TERM_COLOR");
    cmd
}

/// The binary writing offline scaffolds (`--scaffolds`), not tests observed by running the
/// code.
pub fn scaffolds(dir: &Path) -> assert_cmd::Command {
    let mut cmd = testsmith(dir);
    cmd.arg("--scaffolds");
    cmd
}

/// The binary with `--llm` against the scripted server at `url`, in Ollama's format (no key
/// needed), with nothing of the caller's LLM settings.
pub fn ollama(dir: &Path, url: &str) -> assert_cmd::Command {
    let mut cmd = testsmith(dir);
    cmd.args([
        "--llm",
        "--provider",
        "ollama",
        "--model",
        "m",
        "--base-url",
        url,
    ])
    .env_remove("TESTSMITH_PROVIDER")
    .env_remove("TESTSMITH_MODEL")
    .env_remove("OLLAMA_HOST");
    cmd
}

/// Every file under `dir` (but `target/`), path → bytes.
pub fn snapshot_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name() == "target" || entry.file_name() == "Cargo.lock" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            walk(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_owned();
            files.insert(rel, std::fs::read(&path).unwrap());
        }
    }
}

/// The files whose bytes differ between two snapshots.
pub fn changed(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<String> {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files were added or removed"
    );
    before
        .iter()
        .filter(|(path, bytes)| after[*path] != **bytes)
        .map(|(path, _)| path.display().to_string())
        .collect()
}

/// The text appended to a file, checking that every original byte is still there in front.
pub fn appended<'a>(before: &[u8], after: &'a [u8]) -> &'a str {
    assert!(after.starts_with(before), "original bytes changed");
    std::str::from_utf8(&after[before.len()..]).unwrap()
}

/// `cargo test` (with extra args) in `dir`, on a target dir shared between tests so that
/// repeated fixture builds are incremental. Returns stdout+stderr; panics on failure.
pub fn cargo_test(dir: &Path, extra: &[&str]) -> String {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-target");
    let output = Command::new(env!("CARGO"))
        .arg("test")
        .args(extra)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "-D warnings -A dead_code")
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "cargo test failed in {}:\n{text}",
        dir.display()
    );
    text
}

pub fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

/// `--check -v` in `dir`, expected to fail: stdout and stderr together.
pub fn check_verbose(dir: &Path) -> String {
    let out = testsmith(dir)
        .args(["--check", "-v"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A package `name` in a fresh temp dir: a plain manifest (unless `files` has its own
/// `Cargo.toml`) and `files`, each a path relative to the package and its text.
pub fn package(name: &str, files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_package(dir.path(), name, files);
    dir
}

/// [`package`] into an existing directory.
pub fn write_package(root: &Path, name: &str, files: &[(&str, &str)]) {
    let manifest =
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    let defaults = [("Cargo.toml", manifest.as_str())];
    let given = |rel: &str| files.iter().any(|(f, _)| *f == rel);
    for (rel, text) in defaults.iter().filter(|(f, _)| !given(f)).chain(files) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
