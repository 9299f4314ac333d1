//! The command line's rules: every option means something where it is accepted, and a value
//! that cannot be used is refused when it is read, in one sentence.

use crate::common::{self, testsmith};
use predicates::prelude::*;

#[test]
fn the_cache_subcommand_takes_its_own_cache_dir_and_manifest_path() {
    let dir = tempfile::tempdir().unwrap();
    let moved = dir.path().join("moved");
    std::fs::create_dir_all(moved.join("ab")).unwrap();
    std::fs::write(moved.join("ab/entry.json"), "{}").unwrap();
    // No crate around: a moved cache needs none.
    testsmith(dir.path())
        .args(["cache", "stats", "--cache-dir", "moved"])
        .assert()
        .success()
        .stdout("LLM cache — entries: 1 (moved)\n");
    testsmith(dir.path())
        .args(["cache", "--cache-dir", "moved", "clear"])
        .assert()
        .success()
        .stdout("removed 1 LLM cache entry from moved\n");
    assert!(!moved.join("ab/entry.json").exists());

    let package = common::fixture("basic");
    testsmith(dir.path())
        .args(["cache", "stats", "--manifest-path"])
        .arg(package.path().join("Cargo.toml"))
        .assert()
        .success()
        .stdout("LLM cache — entries: 0 (target/testsmith/cache)\n");
    // Before `cache`, the options would make it a path: say where they go.
    testsmith(dir.path())
        .args(["--manifest-path", "x/Cargo.toml", "cache", "stats"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the options of `cache` go after it: `cargo testsmith cache stats --cache-dir <DIR> --manifest-path <PATH>`",
        ));
}

/// A one-file package with an untested item, so a run has something to ask a model for.
fn package() -> tempfile::TempDir {
    common::package(
        "flags",
        &[("src/lib.rs", "pub fn one() -> u8 {\n    1\n}\n")],
    )
}

#[test]
fn an_unusable_base_url_is_refused_when_it_is_read() {
    let dir = package();
    for bad in ["not-a-url", ""] {
        testsmith(dir.path())
            .args(["--llm", "--provider", "ollama", "--base-url", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "invalid value '{bad}' for '--base-url <URL>': not a usable URL ("
            )));
    }
    testsmith(dir.path())
        .args(["--llm", "--provider", "openai", "--no-verify"])
        .env("OPENAI_BASE_URL", "localhost:8080/v1")
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: OPENAI_BASE_URL `localhost:8080/v1` is not a usable URL (the scheme is `localhost`, not http or https)",
        ));
}

#[test]
fn a_fallback_to_ollama_that_cannot_be_reached_says_why_ollama() {
    let dir = package();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    testsmith(dir.path())
        .args(["--llm", "--no-verify", "--no-cache", "--max-retries", "1"])
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("TESTSMITH_PROVIDER")
        .env("OLLAMA_HOST", format!("127.0.0.1:{port}"))
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: could not reach the ollama server: request to http://127.0.0.1:",
        ))
        .stderr(predicate::str::ends_with(
            "; ollama was used because no provider was named (--provider, TESTSMITH_PROVIDER or `provider` in the testsmith metadata) and neither OPENAI_API_KEY nor ANTHROPIC_API_KEY is set\n",
        ));
}

#[test]
fn options_that_would_mean_nothing_or_zero_limits_are_refused_alike() {
    let dir = package();
    testsmith(dir.path())
        .args(["--check", "--llm"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the argument '--check' cannot be used with '--llm'",
        ));
    for (flag, why) in [
        ("--max-concurrent", "`0` is not a positive whole number"),
        ("--max-retries", "`0` is not a positive whole number"),
        ("--runs", "`0` is not a positive whole number"),
        ("--timeout", "`0` is not a positive number of seconds"),
        ("--test-timeout", "`0` is not a positive number of seconds"),
    ] {
        testsmith(dir.path())
            .args(["--llm", flag, "0"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("for '{flag} <")))
            .stderr(predicate::str::contains(format!("': {why}\n")));
    }
}

#[test]
fn cargo_term_color_is_honoured_and_each_coloured_line_closes_itself() {
    let dir = package();
    let out = testsmith(dir.path())
        .args(["--dry-run", "--no-verify"])
        .env("CARGO_TERM_COLOR", "always")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let diff = String::from_utf8(out).unwrap();
    assert!(
        diff.contains("\u{1b}[32m+mod testsmith_tests {\u{1b}[0m\n"),
        "{diff:?}"
    );
    for line in diff.lines() {
        assert!(!line.starts_with("\u{1b}[0m"), "a reset opens {line:?}");
    }
    // The flag wins over the environment, as with cargo.
    testsmith(dir.path())
        .args(["--dry-run", "--no-verify", "--color", "never"])
        .env("CARGO_TERM_COLOR", "always")
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}").not());
}

#[test]
fn verbose_counts_what_it_wrote_in_words_that_agree() {
    let dir = package();
    testsmith(dir.path())
        .args(["-v", "--no-verify"])
        .assert()
        .success()
        .stderr(predicate::str::contains("src/lib.rs: wrote 1 test\n"));
}
