//! Benchmark: the mutation stage against cargo-mutants on the same mutants, and the cost of the
//! stage in a whole `--llm` run. A synthetic crate (2 files × 6 fns: arithmetic with a branch,
//! and range checks) gets tests from the scripted model of the integration tests (weak ones
//! first, stronger ones when the prompt shows surviving mutants), in two runs side by side:
//! `--no-mutants`, and the defaults (mutation on, one round of asking again). Then cargo-mutants
//! (an outside tool: `cargo install cargo-mutants --locked`; never a dependency) tests the
//! mutants both tools make on the written crate, `-- --lib -- testsmith_tests`, so only the
//! generated module judges them. Run with `cargo run --release --example mutation_bench`;
//! figures go in the README. `BENCH_LATENCY_MS` sets the model's time per call (200 ms).

#[path = "../tests/common/bench.rs"]
mod bench;
#[path = "../tests/common/llm_server.rs"]
mod llm_server;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use llm_server::{Call, Reply, Server, tests_for};
use serde_json::Value;

const FILES: usize = 2;
/// Per file: this many `scale` fns and as many `within` fns.
const PAIRS: usize = 3;
/// The scripted model's time per call; `BENCH_LATENCY_MS` sets another (a real model takes
/// seconds).
fn latency() -> Duration {
    let ms = std::env::var("BENCH_LATENCY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(200);
    Duration::from_millis(ms)
}

fn main() {
    // One run, as `cargo testsmith --llm -v --message-format json …`.
    let fixed = [
        "testsmith",
        "--llm",
        "-v",
        "--provider",
        "ollama",
        "--message-format",
        "json",
    ];
    if bench::serve(&fixed) {
        return;
    }
    let latency = latency();
    println!("model latency: {} ms per call\n", latency.as_millis());
    let server = Server::start(move |call| Reply::Delay(latency, Box::new(model(call))));
    let with = tempfile::tempdir().expect("temp dir");
    let without = tempfile::tempdir().expect("temp dir");
    write_crate(with.path());
    write_crate(without.path());

    let (off_wall, _, _) = testsmith(without.path(), &server.url, &["--no-mutants"]);
    let (on_wall, messages, stderr) = testsmith(with.path(), &server.url, &[]);
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        eprintln!("{stderr}");
    }
    let stage = stage_seconds(&stderr);
    println!("| run | wall |");
    println!("|---|---|");
    println!("| `--llm --no-mutants` | {:.2} s |", off_wall.as_secs_f64());
    println!(
        "| `--llm` (mutation on, 1 round of asking again) | {:.2} s (mutation stage {stage:.2} s) |",
        on_wall.as_secs_f64()
    );
    println!(
        "\nwhole run with mutation / without = {:.2} (target ≤ 2)\n",
        on_wall.as_secs_f64() / off_wall.as_secs_f64()
    );

    // `BENCH_ONLY_LARGER=1`: skip cargo-mutants; `BENCH_ONLY_AGREEMENT=1`: the larger crate.
    if std::env::var_os("BENCH_ONLY_LARGER").is_none() {
        let ours = our_verdicts(with.path(), &messages);
        let theirs = cargo_mutants(with.path(), &ours);
        compare(&ours, &theirs, stage);
    }
    if std::env::var_os("BENCH_ONLY_AGREEMENT").is_none() {
        larger(&server);
    }
}

/// The whole run with and without mutants on a larger crate: 40 files × 6 fns and a real
/// dependency, the tests asserting exact values but in every fourth file, whose tests check
/// only the sign at first: those 60 items go back to the model once, and their new tests
/// replace the old.
fn larger(server: &Server) {
    let with = tempfile::tempdir().expect("temp dir");
    let without = tempfile::tempdir().expect("temp dir");
    let no_rounds = tempfile::tempdir().expect("temp dir");
    for dir in [with.path(), without.path(), no_rounds.path()] {
        write_larger(dir);
        let fetched = Command::new("cargo")
            .arg("fetch")
            .current_dir(dir)
            .status()
            .expect("cargo runs");
        assert!(fetched.success(), "cargo fetch failed");
    }
    let (off_wall, _, _) = testsmith(without.path(), &server.url, &["--no-mutants"]);
    let (judged_wall, _, _) = testsmith(no_rounds.path(), &server.url, &["--mutation-rounds", "0"]);
    let (on_wall, messages, stderr) = testsmith(with.path(), &server.url, &[]);
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        eprintln!("{stderr}");
    }
    let summary = messages.last().expect("a summary");
    println!("\n| larger crate ({LARGE_FILES} files × {LARGE_FNS} fns, a dependency) | wall |");
    println!("|---|---|");
    println!("| `--llm --no-mutants` | {:.2} s |", off_wall.as_secs_f64());
    println!(
        "| `--llm --mutation-rounds 0` (judged, not asked again) | {:.2} s |",
        judged_wall.as_secs_f64()
    );
    println!(
        "| `--llm` (mutation on, 1 round) | {:.2} s (mutation stage {:.2} s; mutants {}) |",
        on_wall.as_secs_f64(),
        stage_seconds(&stderr),
        summary["mutants"]
    );
    println!(
        "\nlarger crate: whole run with mutation / without = {:.2} (target ≤ 2); judged only / without = {:.2}",
        on_wall.as_secs_f64() / off_wall.as_secs_f64(),
        judged_wall.as_secs_f64() / off_wall.as_secs_f64()
    );
}

const LARGE_FILES: usize = 40;
const LARGE_FNS: usize = 6;

fn write_larger(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"larger\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nitoa = \"1\"\n",
    )
    .unwrap();
    let mut lib = String::from(
        "/// `x` in decimal.\npub fn show(x: i32) -> String {\n    itoa::Buffer::new().format(x).to_owned()\n}\n\n",
    );
    for file in 0..LARGE_FILES {
        lib.push_str(&format!("pub mod l{file:02};\n"));
        let mut module = String::new();
        for i in 0..LARGE_FNS {
            module.push_str(&format!(
                "/// Adds {i} to `x`.\npub fn add_{file}_{i}(x: i32) -> i32 {{\n    x + {i}\n}}\n\n"
            ));
        }
        std::fs::write(root.join(format!("src/l{file:02}.rs")), module).unwrap();
    }
    std::fs::write(root.join("src/lib.rs"), lib).unwrap();
}

/// The scripted model: `scale` tested on its upper branch only and `within` at one point
/// first; when the prompt shows surviving mutants, both branches and both ends.
fn model(call: &Call) -> Reply {
    let stronger = call.prompt.contains("The mutants they did not catch:");
    tests_for(&call.names, |name| {
        if name == "show" {
            return Some(
                "#[test]\nfn shows() {\n    assert_eq!(show(-12), \"-12\");\n}".to_owned(),
            );
        }
        if let Some(rest) = name.rsplit("::").next()?.strip_prefix("add_") {
            let (file, i) = rest.split_once('_')?;
            let (file, i): (usize, i32) = (file.parse().ok()?, i.parse().ok()?);
            // Every fourth file's tests are weak at first: they only check the sign.
            return Some(if file % 4 == 0 && !stronger {
                format!("#[test]\nfn adds_{rest}() {{\n    assert!(add_{rest}(5) > 0);\n}}")
            } else {
                format!(
                    "#[test]\nfn adds_{rest}() {{\n    assert_eq!(add_{rest}(5), {});\n}}",
                    5 + i
                )
            });
        }
        let (kind, file, i) = parse_name(name)?;
        let f = format!("{kind}_{file}_{i}");
        Some(match (kind, stronger) {
            ("scale", false) => format!(
                "#[test]\nfn {f}_up() {{\n    assert_eq!({f}({x}), {y});\n}}",
                x = i + 5,
                y = 2 * (i + 5) + i
            ),
            ("scale", true) => format!(
                "#[test]\nfn {f}_both_ways() {{\n    assert_eq!({f}({x}), {y});\n    assert_eq!({f}({i}), 0);\n    assert_eq!({f}({lo}), -3);\n}}",
                x = i + 5,
                y = 2 * (i + 5) + i,
                lo = i as i64 - 3
            ),
            ("within", false) => format!(
                "#[test]\nfn {f}_inside() {{\n    assert!({f}({}));\n}}",
                i + 1
            ),
            (_, _) => format!(
                "#[test]\nfn {f}_ends() {{\n    assert!({f}({}));\n    assert!({f}({}));\n    assert!(!{f}({i}));\n    assert!(!{f}({}));\n}}",
                i + 1,
                i + 10,
                i + 11
            ),
        })
    })
}

/// `scale_1_2` → ("scale", 1, 2).
fn parse_name(name: &str) -> Option<(&'static str, usize, usize)> {
    let name = name.rsplit("::").next()?;
    let kind = if name.starts_with("scale_") {
        "scale"
    } else if name.starts_with("within_") {
        "within"
    } else {
        return None;
    };
    let mut parts = name[kind.len() + 1..].split('_');
    Some((
        kind,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

fn write_crate(root: &Path) {
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"synthetic\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    let mut lib = String::new();
    for file in 0..FILES {
        lib.push_str(&format!("pub mod m{file};\n"));
        let mut module = String::new();
        for i in 0..PAIRS {
            module.push_str(&format!(
                "/// `x` scaled up past {i}, shifted down below.\npub fn scale_{file}_{i}(x: i32) -> i32 {{\n    if x > {i} {{\n        x * 2 + {i}\n    }} else {{\n        x - {i}\n    }}\n}}\n\n\
                 /// Whether `x` lies in ({i}, {i} + 10].\npub fn within_{file}_{i}(x: i32) -> bool {{\n    x > {i} && x <= {i} + 10\n}}\n\n"
            ));
        }
        std::fs::write(root.join(format!("src/m{file}.rs")), module).unwrap();
    }
    std::fs::write(root.join("src/lib.rs"), lib).unwrap();
}

/// This benchmark again, as `run`: its stdout (the JSON messages) and stderr, and the wall.
fn testsmith(dir: &Path, url: &str, extra: &[&str]) -> (Duration, Vec<Value>, String) {
    let started = Instant::now();
    let manifest = dir.join("Cargo.toml");
    let mut args = vec![
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--base-url",
        url,
    ];
    args.extend(extra);
    let out = bench::run_again(&args);
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let messages = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (wall, messages, stderr)
}

/// The seconds of the mutation stage, from `-v`'s `mutation: … X s in all`.
fn stage_seconds(stderr: &str) -> f64 {
    stderr
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("mutation: ")?;
            let (head, _) = rest.split_once(" s in all")?;
            head.rsplit_once(", ")?.1.parse().ok()
        })
        .unwrap_or_else(|| panic!("no mutation line in {stderr}"))
}

/// A mutant as both tools name it: the file, the line (none for a body replaced, which the
/// tools place differently) and what it changes.
type Key = (String, Option<usize>, String);

/// Our verdict per mutant of the written crate: every mutant of the items the run reported,
/// caught unless the run listed it as a survivor.
fn our_verdicts(dir: &Path, messages: &[Value]) -> BTreeMap<Key, bool> {
    let mut verdicts = BTreeMap::new();
    let reported: Vec<&Value> = messages
        .iter()
        .filter(|m| m["reason"] == "mutants")
        .collect();
    for file in 0..FILES {
        let rel = format!("src/m{file}.rs");
        let text = std::fs::read_to_string(dir.join(&rel)).unwrap();
        let analysis = cargo_testsmith::analysis::analyze(&text).expect("parses");
        for message in reported.iter().filter(|m| m["file"] == rel.as_str()) {
            let item = message["item"].as_str().unwrap();
            let items: Vec<_> = analysis.items.iter().filter(|i| i.name == item).collect();
            let (mutants, _) = cargo_testsmith::mutate::mutants(&text, &rel, &items).unwrap();
            // Those that did not compile (`x / 0` is a compile error) are not in the total;
            // cargo-mutants finds them unviable, so they are not compared.
            assert!(
                mutants.len() as u64 >= message["total"].as_u64().unwrap(),
                "{item}: the run judged the mutants made here"
            );
            let survivors: BTreeSet<&str> = message["survivors"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s["id"].as_str())
                .collect();
            for mutant in mutants {
                let body = mutant.genre == cargo_testsmith::mutate::Genre::Body;
                let key = (
                    rel.clone(),
                    (!body).then_some(mutant.line),
                    mutant.description.clone(),
                );
                verdicts.insert(key, !survivors.contains(mutant.id.as_str()));
            }
        }
    }
    verdicts
}

/// cargo-mutants' verdict per mutant both tools make, and its wall time: it lists its
/// mutants, then tests those we made too (`-F` with each exact name).
fn cargo_mutants(dir: &Path, ours: &BTreeMap<Key, bool>) -> (BTreeMap<Key, bool>, Duration) {
    let listed = Command::new("cargo")
        .args(["mutants", "--list", "--json"])
        .current_dir(dir)
        .output()
        .expect("cargo-mutants is installed (cargo install cargo-mutants --locked)");
    assert!(listed.status.success(), "cargo mutants --list failed");
    let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    let mut names = Vec::new();
    for mutant in &listed {
        let key = their_key(mutant);
        if ours.contains_key(&key) {
            names.push(mutant["name"].as_str().unwrap().to_owned());
        }
    }
    let out = tempfile::tempdir().unwrap();
    let mut command = Command::new("cargo");
    command
        .args([
            "mutants",
            "--no-shuffle",
            "--baseline",
            "skip",
            "--timeout",
            "10",
        ])
        .arg("-o")
        .arg(out.path())
        .current_dir(dir);
    for name in &names {
        command.arg("-F").arg(format!("^{}$", regex_escape(name)));
    }
    command.args(["--", "--lib", "--", "testsmith_tests"]);
    let started = Instant::now();
    let status = command.output().expect("cargo-mutants runs");
    let wall = started.elapsed();
    // Exit 2 when mutants were missed: not a failure of the tool.
    assert!(
        matches!(status.status.code(), Some(0 | 2 | 3)),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let outcomes: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("mutants.out/outcomes.json")).unwrap(),
    )
    .unwrap();
    let mut verdicts = BTreeMap::new();
    for outcome in outcomes["outcomes"].as_array().unwrap() {
        let Some(mutant) = outcome["scenario"].get("Mutant") else {
            continue;
        };
        let caught = match outcome["summary"].as_str().unwrap() {
            "CaughtMutant" | "Timeout" => true,
            "MissedMutant" => false,
            // Unviable: it did not build there; not a verdict to compare.
            _ => continue,
        };
        verdicts.insert(their_key(mutant), caught);
    }
    (verdicts, wall)
}

fn their_key(mutant: &Value) -> Key {
    let name = mutant["name"].as_str().unwrap();
    // `src/m0.rs:4:12: replace > with >= in scale_0_1`
    let mut parts = name.splitn(4, ':');
    let file = parts.next().unwrap().to_owned();
    let line: usize = parts.next().unwrap().parse().unwrap();
    let _column = parts.next();
    let description = parts.next().unwrap().trim().to_owned();
    let body = mutant["genre"] == "FnValue";
    (file, (!body).then_some(line), description)
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for ch in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn compare(
    ours: &BTreeMap<Key, bool>,
    (theirs, wall): &(BTreeMap<Key, bool>, Duration),
    stage: f64,
) {
    let common: Vec<(&Key, bool, bool)> = ours
        .iter()
        .filter_map(|(key, &a)| Some((key, a, *theirs.get(key)?)))
        .collect();
    let agree = common.iter().filter(|(_, a, b)| a == b).count();
    let caught_ours = common.iter().filter(|(_, a, _)| *a).count();
    let caught_theirs = common.iter().filter(|(_, _, b)| *b).count();
    println!("| tool | mutants | caught | wall |");
    println!("|---|---|---|---|");
    println!(
        "| testsmith's mutation stage (all of its mutants) | {} | {} | {stage:.2} s |",
        ours.len(),
        ours.values().filter(|c| **c).count()
    );
    println!(
        "| cargo-mutants on the mutants both make | {} | {caught_theirs} (testsmith: {caught_ours}) | {:.2} s |",
        common.len(),
        wall.as_secs_f64()
    );
    println!(
        "\ncargo-mutants / testsmith = {:.1}× the time (target ≥ 10×); agreement on {} common mutants: {:.1}% (target ≥ 95%)",
        wall.as_secs_f64() / stage,
        common.len(),
        100.0 * agree as f64 / common.len().max(1) as f64
    );
    for (key, a, b) in common.iter().filter(|(_, a, b)| a != b) {
        println!("disagree: {key:?}: testsmith caught {a}, cargo-mutants caught {b}");
    }
    for key in ours.keys().filter(|key| !theirs.contains_key(*key)) {
        println!("only testsmith's: {key:?}");
    }
}
