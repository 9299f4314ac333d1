//! Benchmark: the cost of the default offline run (observed tests, chosen by mutants) against
//! one cold `cargo test --no-run` of the same crate, and of a rerun; and its first run on a
//! crate whose tests the user has built, against an incremental `cargo test --no-run`, with
//! the disk it adds. Each crate is a published one from the local cargo registry
//! (`~/.cargo/registry/src`), copied with its own tests removed when `STRIP_TESTS` names
//! `strip_tests.py` (so every item is untested), else as it is; `DEV_DEPENDENCY=name@version`
//! adds a dev-dependency to each (`criterion@0.7`: the heavy kind benches bring).
//!
//! Per crate, in one run:
//! - a cold `cargo test --no-run` (fresh target dir), the user's own build;
//! - the same after a comment is appended to `src/lib.rs`: an incremental build;
//! - the offline run on that copy: its first run, on the user's warm build;
//! - the offline run on a fresh copy (its scratch build cold too), the same run again with
//!   nothing changed (nothing left to generate), and `--dry-run` twice on another copy (the
//!   second reuses the scratch build).
//!
//! Run with `cargo run --release --example offline_bench [CRATE-DIR…]`; figures go in the
//! README.

#[path = "../tests/common/bench.rs"]
mod bench;
#[path = "../tests/common/tree.rs"]
mod tree;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tree::copy_tree;

/// Crates tried when none are named (name-version, as the registry unpacks them).
const DEFAULT: &[&str] = &["strsim-0.11.1", "shlex-2.0.1", "heck-0.5.0"];

fn main() {
    if bench::serve(&["testsmith", "-q"]) {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let crates: Vec<PathBuf> = if args.is_empty() {
        DEFAULT.iter().filter_map(|name| registry(name)).collect()
    } else {
        args.iter().map(PathBuf::from).collect()
    };
    let mut warm = Vec::new();
    println!(
        "| crate | `cargo test --no-run`, cold | offline run | ratio (≤ 3) | rerun | ratio (≤ 0.3) | `--dry-run` again | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for dir in crates {
        warm.push(bench(&dir));
    }
    println!();
    println!(
        "| crate | `cargo test --no-run`, incremental | first offline run on the user's build | limit (2 × incremental + 5 s) | disk added | the crate's own artifacts |"
    );
    println!("|---|---|---|---|---|---|");
    for line in warm {
        println!("{line}");
    }
}

/// `name` in the local registry's sources, if it is there.
fn registry(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|index| index.path().join(name))
        .find(|dir| dir.is_dir())
}

/// The cold and fresh-copy figures, printed; the warm first run's table row, returned.
fn bench(source: &Path) -> String {
    let name = source.file_name().unwrap().to_string_lossy().into_owned();
    let copy = |label: &str| {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{label}-"))
            .tempdir()
            .expect("temp dir");
        copy_tree(source, dir.path());
        if let Some(strip) = std::env::var_os("STRIP_TESTS") {
            let status = Command::new("python3")
                .arg(strip)
                .arg(dir.path())
                .stdout(std::process::Stdio::null())
                .status()
                .expect("python3 runs");
            assert!(status.success(), "strip_tests.py failed on {name}");
        }
        if let Some((dependency, version)) = std::env::var("DEV_DEPENDENCY")
            .ok()
            .as_deref()
            .and_then(|d| d.split_once('@'))
        {
            let manifest = dir.path().join("Cargo.toml");
            let mut text = std::fs::read_to_string(&manifest).unwrap();
            text.push_str(&format!(
                "\n[dev-dependencies.{dependency}]\nversion = \"{version}\"\n"
            ));
            std::fs::write(&manifest, text).unwrap();
        }
        dir
    };
    let plain = copy("plain");
    let cold = timed(|| cargo_no_run(plain.path()));
    let lib = plain.path().join("src/lib.rs");
    let source = std::fs::read(&lib).unwrap();
    let mut touched = source.clone();
    touched.extend_from_slice(b"\n// touched\n");
    std::fs::write(&lib, &touched).unwrap();
    let incremental = timed(|| cargo_no_run(plain.path()));
    std::fs::write(&lib, &source).unwrap();
    cargo_no_run(plain.path());
    let target = plain.path().join("target");
    let own = own_artifacts(&target, &name);
    let before = disk(std::slice::from_ref(&target));
    let first_warm = timed(|| testsmith(plain.path(), &[]));
    let added = disk(&[target]).saturating_sub(before);
    let written = copy("written");
    let first = timed(|| testsmith(written.path(), &[]));
    let rerun = timed(|| testsmith(written.path(), &[]));
    let dry = copy("dry");
    testsmith(dry.path(), &["--dry-run"]);
    let again = timed(|| testsmith(dry.path(), &["--dry-run"]));
    let s = |d: Duration| d.as_secs_f64();
    println!(
        "| {name} | {:.1} s | {:.1} s | {:.2} | {:.2} s | {:.3} | {:.1} s | {:.2} |",
        s(cold),
        s(first),
        s(first) / s(cold),
        s(rerun),
        s(rerun) / s(first),
        s(again),
        s(again) / s(first),
    );
    let mb = |kb: u64| kb as f64 / 1024.0;
    format!(
        "| {name} | {:.2} s | {:.1} s | {:.1} s | {:.0} MB | {:.0} MB |",
        s(incremental),
        s(first_warm),
        2.0 * s(incremental) + 5.0,
        mb(added),
        mb(own),
    )
}

/// The user's build: `cargo test --no-run` in `dir`, on its own target dir.
fn cargo_no_run(dir: &Path) {
    let status = Command::new(env!("CARGO"))
        .args(["test", "--no-run", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo test --no-run failed in {}",
        dir.display()
    );
}

/// Kilobytes `du` counts under `paths` (a hard link once).
fn disk(paths: &[PathBuf]) -> u64 {
    let out = Command::new("du")
        .args(["-skc"])
        .args(paths)
        .output()
        .expect("du runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let total = text
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next());
    total.and_then(|kb| kb.parse().ok()).unwrap_or(0)
}

/// Kilobytes of the artifacts the user's build keeps for the crate itself (`name-version`):
/// its libraries, test binaries, incremental state and fingerprints.
fn own_artifacts(target: &Path, name: &str) -> u64 {
    let crate_name = name
        .rsplit_once('-')
        .map_or(name, |(n, _)| n)
        .replace('-', "_");
    let debug = target.join("debug");
    let paths: Vec<PathBuf> = ["deps", "incremental", ".fingerprint"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(debug.join(dir)).into_iter().flatten())
        .flatten()
        .filter(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let file = file.strip_prefix("lib").unwrap_or(&file);
            file.split_once('-')
                .is_some_and(|(stem, _)| stem == crate_name)
        })
        .map(|entry| entry.path())
        .collect();
    if paths.is_empty() { 0 } else { disk(&paths) }
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

/// One offline run in `dir`, as `cargo testsmith` runs it there, in a process of its own.
fn testsmith(dir: &Path, extra: &[&str]) {
    let manifest = dir.join("Cargo.toml");
    let mut args = vec!["--manifest-path", manifest.to_str().unwrap()];
    args.extend(extra);
    bench::run_again(&args);
}
