//! Benchmark: `--llm` over a synthetic crate of 40 files × 6 public fns, against the scripted
//! server of the tests (200 ms per call) at the default concurrency of 5. Reports calls, wall
//! time and prompt size for `--no-batch`, batched, a warm second run, and one edited fn
//! (verification off: these measure the calls). Then the cost of verification (without the
//! mutation stage, which `mutation_bench` measures), side by side in
//! the same run: a cold `cargo test --no-run` of the same crate (with a real dependency), the
//! whole verified run, and a rerun from the cache with a warm scratch build. Run with
//! `cargo run --release --example llm_bench | grep '^|'` (the runs are dry runs, and their
//! diffs go to stdout too); figures go in the README.
//!
//! `… --example llm_bench -- prompts <crate dir> [<cargo-testsmith binary>]` measures only the
//! prompts: a copy of the crate, every public item asked for (no cache, no verification), by
//! this build or by the binary given (an older one, for a before and after).

// Only its in-process run is used here.
#[allow(dead_code)]
#[path = "../tests/common/bench.rs"]
mod bench;
#[path = "../tests/common/llm_server.rs"]
mod llm_server;

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use llm_server::{Reply, Server};

const FILES: usize = 40;
const FNS: usize = 6;
const LATENCY: Duration = Duration::from_millis(200);
const CONCURRENCY: usize = 5;

fn main() {
    // The verify stage runs tests through this binary as their launcher.
    cargo_testsmith::verify::serve_if_asked();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, dir, rest @ ..] = args.as_slice()
        && mode == "prompts"
    {
        prompts(Path::new(dir), rest.first().map(Path::new));
        return;
    }
    let server = Server::start(|_| Reply::Delay(LATENCY, Box::new(Reply::Tests)));
    let floor = FILES.div_ceil(CONCURRENCY) as f64 * LATENCY.as_secs_f64();
    calls(&server, floor);
    verification(&server, floor);
}

/// Calls and wall time of unverified runs: unbatched, batched, cached, one fn edited.
fn calls(server: &Server, floor: f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_crate(dir.path());

    println!("| run | calls | wall | prompt bytes | target |");
    println!("|---|---|---|---|---|");
    let row = |label: &str, extra: &[&str], target: &str| {
        let before = server.calls().len();
        let started = Instant::now();
        run(dir.path(), &server.url, &[extra, &["--no-verify"]].concat());
        let wall = started.elapsed();
        let calls = &server.calls()[before..];
        let prompt: usize = calls
            .iter()
            .map(|c| {
                c.body["messages"][1]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .len()
            })
            .sum();
        println!(
            "| {label} | {} | {:.2} s | {prompt} | {target} |",
            calls.len(),
            wall.as_secs_f64()
        );
        (calls.len(), wall)
    };
    let (unbatched, _) = row("`--no-batch`", &["--no-batch", "--no-cache"], "240 calls");
    let (batched, batched_wall) = row(
        "batched, cold cache",
        &[],
        &format!("40 calls, ≤ {:.2} s", 1.1 * floor),
    );
    let (warm, warm_wall) = row("batched, warm cache", &[], "0 calls, < 1 s");
    let path = dir.path().join("src/m07.rs");
    let source = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, source.replacen("x + 3", "x + 3 + 0", 1)).unwrap();
    let (edited, _) = row("one fn edited", &[], "1 call");
    let calls_ok = unbatched == FILES * FNS
        && batched == FILES
        && batched_wall.as_secs_f64() <= 1.1 * floor
        && warm == 0
        && warm_wall < Duration::from_secs(1)
        && edited == 1;
    println!(
        "\nfloor ⌈{FILES}/{CONCURRENCY}⌉ × {} ms = {floor:.2} s; batched/floor = {:.2}; all targets met: {calls_ok}\n",
        LATENCY.as_millis(),
        batched_wall.as_secs_f64() / floor
    );
}

/// Verification: a fresh crate with a real dependency; every answer correct. The first run
/// against a cold `cargo test --no-run`, and a rerun from the cache.
fn verification(server: &Server, floor: f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_crate(dir.path());
    add_dependency(dir.path());
    let cold_target = tempfile::tempdir().expect("temp dir");
    // Fetch the dependency first: the download is not what is measured.
    let fetched = std::process::Command::new(cargo())
        .arg("fetch")
        .current_dir(dir.path())
        .status()
        .expect("cargo runs");
    assert!(fetched.success(), "cargo fetch failed");
    let started = Instant::now();
    let built = std::process::Command::new(cargo())
        .args(["test", "--no-run", "-q"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", cold_target.path())
        .status()
        .expect("cargo runs");
    assert!(built.success(), "the synthetic crate builds");
    let cold_build = started.elapsed();
    let before = server.calls().len();
    let started = Instant::now();
    let first = run(dir.path(), &server.url, &["--no-mutants"]);
    let first_wall = started.elapsed();
    let first_calls = server.calls().len() - before;
    let started = Instant::now();
    let rerun = run(dir.path(), &server.url, &["--no-mutants"]);
    let rerun_wall = started.elapsed();
    let rerun_calls = server.calls().len() - before - first_calls;
    let budget = 1.5 * (cold_build.as_secs_f64() + floor);
    let first_v = first.tally.verified.expect("verified");
    let rerun_v = rerun.tally.verified.expect("verified");
    println!("| run | calls | builds | wall | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| `cargo test --no-run`, cold | — | 1 | {:.2} s | — |",
        cold_build.as_secs_f64()
    );
    println!(
        "| `--llm`, cold cache and scratch build | {first_calls} | {} | {:.2} s (build {:.2} s, tests {:.2} s) | ≤ 1.5 × ({:.2} s + {floor:.2} s) = {budget:.2} s |",
        first_v.builds,
        first_wall.as_secs_f64(),
        first_v.build_time.as_secs_f64(),
        first_v.run_time.as_secs_f64(),
        cold_build.as_secs_f64()
    );
    println!(
        "| `--llm` rerun, cache and scratch build warm | {rerun_calls} | {} | {:.2} s | ≤ 0.3 × first = {:.2} s |",
        rerun_v.builds,
        rerun_wall.as_secs_f64(),
        0.3 * first_wall.as_secs_f64()
    );
    // `show` in lib.rs is one more file and one more item.
    let verify_ok = first_v.builds == 1
        && first_calls == FILES + 1
        && first_v.counts.passed == FILES * FNS + 1
        && first_wall.as_secs_f64() <= budget
        && rerun_calls == 0
        && rerun_wall.as_secs_f64() <= 0.3 * first_wall.as_secs_f64();
    println!(
        "\nfirst run / (cold build + floor) = {:.2}; rerun / first run = {:.2}; all targets met: {verify_ok}",
        first_wall.as_secs_f64() / (cold_build.as_secs_f64() + floor),
        rerun_wall.as_secs_f64() / first_wall.as_secs_f64()
    );
}

/// The prompts a run over the crate at `dir` sends: requests, items, bytes.
fn prompts(dir: &Path, binary: Option<&Path>) {
    let copy = tempfile::tempdir().expect("temp dir");
    let status = std::process::Command::new("cp")
        .args(["-r", "--"])
        .arg(dir.join("."))
        .arg(copy.path())
        .status()
        .expect("cp runs");
    assert!(status.success(), "copying {}", dir.display());
    let server = Server::start(|_| Reply::Tests);
    let mut words: Vec<OsString> = [
        "testsmith",
        "--llm",
        "--no-verify",
        "--no-cache",
        "--dry-run",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    words.extend(["--provider", "ollama", "--base-url", &server.url].map(OsString::from));
    words.extend([
        "--manifest-path".into(),
        copy.path().join("Cargo.toml").into(),
    ]);
    words.push("-q".into());
    match binary {
        Some(binary) => {
            let status = std::process::Command::new(binary)
                .args(&words)
                .stdout(std::process::Stdio::null())
                .status()
                .expect("the binary runs");
            assert!(status.success(), "{} failed", binary.display());
        }
        None => {
            bench::run_library(words);
        }
    }
    let calls = server.calls();
    let items: usize = calls.iter().map(|c| c.names.len()).sum();
    let bytes: usize = calls.iter().map(|c| c.prompt.len()).sum();
    let largest = calls.iter().map(|c| c.prompt.len()).max().unwrap_or(0);
    println!("| requests | items | prompt bytes | per request | per item | largest request |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {items} | {bytes} | {} | {} | {largest} |",
        calls.len(),
        bytes / calls.len().max(1),
        bytes / items.max(1)
    );
}

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// A real dependency from crates.io, used by one item, so the build compiles more than the
/// crate itself.
fn add_dependency(root: &Path) {
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[dependencies]\nitoa = \"1\"\n")).unwrap();
    let lib = root.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!("{text}\n/// `x` in decimal.\npub fn show(x: i32) -> String {{\n    itoa::Buffer::new().format(x).to_owned()\n}}\n"),
    )
    .unwrap();
}

/// The library's own entry point, as `cargo testsmith --llm --dry-run …` would run it.
fn run(dir: &Path, url: &str, extra: &[&str]) -> cargo_testsmith::Outcome {
    let manifest = dir.join("Cargo.toml");
    let mut words = vec!["testsmith", "--llm", "--dry-run", "-q"];
    words.extend(["--provider", "ollama", "--base-url", url]);
    words.extend(["--manifest-path", manifest.to_str().unwrap()]);
    words.extend(extra);
    // The diff goes to stdout; the benchmark's table is what matters here.
    let outcome = bench::run_library(words);
    assert_eq!(outcome.tally.skipped.len(), 0, "no file failed");
    outcome
}

fn write_crate(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"synthetic\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    let mut lib = String::new();
    for file in 0..FILES {
        lib.push_str(&format!("pub mod m{file:02};\n"));
        let mut module = String::new();
        for i in 0..FNS {
            module.push_str(&format!(
                "/// Adds {i} to `x`.\npub fn f{file}_{i}(x: i32) -> i32 {{\n    x + {i}\n}}\n\n"
            ));
        }
        std::fs::write(root.join(format!("src/m{file:02}.rs")), module).unwrap();
    }
    std::fs::write(root.join("src/lib.rs"), lib).unwrap();
}
