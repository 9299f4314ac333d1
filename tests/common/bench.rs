//! What the benchmarks share (each includes this file by `#[path]`): one run of the library in
//! the benchmark's own process, and the benchmark re-run as one such run, its output captured.

use std::ffi::OsString;
use std::process::{Command, Output};

use cargo_testsmith::options::Invocation;

/// `cargo-testsmith <words>…` (`testsmith` first, as cargo passes it), run by the library in
/// this process.
pub fn run_library<S: Into<OsString>>(
    words: impl IntoIterator<Item = S>,
) -> cargo_testsmith::Outcome {
    let mut args = vec![OsString::from("cargo-testsmith")];
    args.extend(words.into_iter().map(Into::into));
    let Invocation::Run(options) = cargo_testsmith::cli::parse_from(args) else {
        unreachable!("the words of a run")
    };
    cargo_testsmith::run::run(&options).expect("the run succeeds")
}

/// The first thing a benchmark's `main` does: serve as the containment launcher when asked
/// (the verify stage runs tests through this binary), and, started as `<bench> run <words>…`,
/// be one run of the library with `fixed` words first. Whether it was that run.
pub fn serve(fixed: &[&str]) -> bool {
    cargo_testsmith::verify::serve_if_asked();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("run") {
        return false;
    }
    let words = fixed
        .iter()
        .map(|w| (*w).to_owned())
        .chain(args[1..].iter().cloned());
    let outcome = run_library(words);
    assert_eq!(outcome.tally.skipped.len(), 0, "no file failed");
    true
}

/// This benchmark re-run as `run <args>…`: one run in a process of its own. Panics, with its
/// stderr, when the run fails.
pub fn run_again(args: &[&str]) -> Output {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("run")
        .args(args)
        .output()
        .expect("the benchmark runs itself");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
