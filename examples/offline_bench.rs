//! Benchmark: the cost of the default offline run (observed tests, chosen by mutants) against
//! one cold `cargo test --no-run` of the same crate, and of a rerun. Each crate is a published
//! one from the local cargo registry (`~/.cargo/registry/src`), copied with its own tests
//! removed when `STRIP_TESTS` names `strip_tests.py` (so every item is untested), else as it
//! is. Per crate, in one run: a cold `cargo test --no-run` (fresh target dir), the offline run
//! on a fresh copy (its scratch build cold too), the same run again with nothing changed
//! (nothing left to generate), and `--dry-run` twice on another copy (the second reuses the
//! scratch build). Run with `cargo run --release --example offline_bench [CRATE-DIR…]`;
//! figures go in the README.

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
    println!(
        "| crate | `cargo test --no-run`, cold | offline run | ratio (≤ 3) | rerun | ratio (≤ 0.3) | `--dry-run` again | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for dir in crates {
        bench(&dir);
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

fn bench(source: &Path) {
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
        dir
    };
    let plain = copy("plain");
    let cold = timed(|| {
        let status = Command::new(env!("CARGO"))
            .args(["test", "--no-run", "--quiet"])
            .current_dir(plain.path())
            .env("CARGO_TARGET_DIR", plain.path().join("target"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo test --no-run failed on {name}");
    });
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
