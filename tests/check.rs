//! `--check` as a gate: it fails on scaffolds still ending in `todo!()`, on files it could not
//! read, and on paths it was not given anything to check in. No crate is built here: `--check`
//! builds nothing, and generation runs with `--no-verify`.

mod common;

use common::{changed, snapshot_tree, testsmith};
use predicates::prelude::*;
use tempfile::TempDir;

/// A one-file package `gate` with `lib` as its `src/lib.rs`.
fn package(lib: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"gate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), lib).unwrap();
    dir
}

const LIB: &str = "pub fn one() -> u8 {\n    1\n}\n\npub fn two() -> u8 {\n    2\n}\n\n\
/// # Safety\n/// `p` must be valid.\npub unsafe fn three(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n";

#[test]
fn an_item_with_only_a_scaffold_fails_the_check_and_is_not_generated_again() {
    let dir = package(LIB);
    testsmith(dir.path())
        .arg("--no-verify")
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 3 tests in 1 file"));
    testsmith(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(
            "src/lib.rs:1: `one` has only a scaffold\n\
             src/lib.rs:5: `two` has only a scaffold\n\
             src/lib.rs:11: `three` has only a scaffold\n",
        )
        .stderr(predicate::str::contains(
            "3 public items in 1 file without a test (3 with only a scaffold), 0 items already tested",
        ));

    // The user fills in one scaffold: a real test from now on.
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    let filled = text.replacen(
        "todo!(\"assert on what `one` returns\");",
        "assert_eq!(_result, 1);",
        1,
    );
    assert_ne!(filled, text, "{text}");
    std::fs::write(&lib, &filled).unwrap();
    testsmith(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`one`").not())
        .stdout(predicate::str::contains("`two` has only a scaffold"))
        .stderr(predicate::str::contains(
            "2 public items in 1 file without a test (2 with only a scaffold), 1 item already tested",
        ));

    // A scaffold is a to-do, not a gap: generation leaves its item alone.
    let before = snapshot_tree(dir.path());
    testsmith(dir.path())
        .arg("--no-verify")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "nothing to generate, 1 item already tested, 2 with only a scaffold",
        ));
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());
}
