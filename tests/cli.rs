//! The command line's rules: every option means something where it is accepted, and a value
//! that cannot be used is refused when it is read, in one sentence.

mod common;

use common::testsmith;
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
        .stdout("removed 1 LLM cache entries from moved\n");
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
