//! Benchmark: `--llm` over a synthetic crate of 40 files × 6 public fns, against the scripted
//! server of the tests (200 ms per call) at the default concurrency of 5. Reports calls, wall
//! time and prompt size for `--no-batch`, batched, a warm second run, and one edited fn. Run
//! with `cargo run --release --example llm_bench`; figures go in the README.

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
    let dir = tempfile::tempdir().expect("temp dir");
    write_crate(dir.path());
    let server = Server::start(|_| Reply::Delay(LATENCY, Box::new(Reply::Tests)));
    let floor = FILES.div_ceil(CONCURRENCY) as f64 * LATENCY.as_secs_f64();

    println!("| run | calls | wall | prompt bytes | target |");
    println!("|---|---|---|---|---|");
    let row = |label: &str, extra: &[&str], target: &str| {
        let before = server.calls().len();
        let started = Instant::now();
        run(dir.path(), &server.url, extra);
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

    let ok = unbatched == FILES * FNS
        && batched == FILES
        && batched_wall.as_secs_f64() <= 1.1 * floor
        && warm == 0
        && warm_wall < Duration::from_secs(1)
        && edited == 1;
    println!(
        "\nfloor ⌈{FILES}/{CONCURRENCY}⌉ × {} ms = {floor:.2} s; batched/floor = {:.2}; all targets met: {ok}",
        LATENCY.as_millis(),
        batched_wall.as_secs_f64() / floor
    );
}

/// The library's own entry point, as `cargo testsmith --llm --dry-run …` would run it.
fn run(dir: &Path, url: &str, extra: &[&str]) {
    let mut args: Vec<OsString> = ["cargo-testsmith", "testsmith", "--llm", "--dry-run", "-q"]
        .iter()
        .map(OsString::from)
        .collect();
    args.extend(["--provider", "ollama", "--base-url", url].map(OsString::from));
    args.push("--manifest-path".into());
    args.push(dir.join("Cargo.toml").into());
    args.extend(extra.iter().map(OsString::from));
    let args = cargo_testsmith::cli::parse_from(args);
    // The diff goes to stdout; the benchmark's table is what matters here.
    let outcome = cargo_testsmith::run(&args).expect("the run succeeds");
    assert_eq!(outcome.skipped.len(), 0, "no file failed");
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
