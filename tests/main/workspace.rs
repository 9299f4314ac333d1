//! Package selection like `cargo test`, and bad input: files that cannot be read or parsed are
//! reported and left alone while the rest of the run goes on.

use crate::common::{self, appended, cargo_test, changed, fixture, snapshot_tree, testsmith};
use predicates::prelude::*;

fn changed_files(args: &[&str]) -> Vec<String> {
    let dir = fixture("workspace");
    let before = snapshot_tree(dir.path());
    testsmith(dir.path()).args(args).assert().success();
    let mut files = changed(&before, &snapshot_tree(dir.path()));
    files.sort();
    files
}

#[test]
fn a_virtual_workspace_selects_its_default_members() {
    assert_eq!(changed_files(&[]), ["alpha/src/lib.rs", "beta/src/lib.rs"]);
}

#[test]
fn workspace_exclude_and_package_select_like_cargo() {
    assert_eq!(
        changed_files(&["--workspace", "--exclude", "beta"]),
        ["alpha/src/lib.rs", "gamma/src/main.rs"]
    );
    assert_eq!(
        changed_files(&["-p", "gamma", "-p", "beta@0.1.0"]),
        ["beta/src/lib.rs", "gamma/src/main.rs"]
    );
}

#[test]
fn inside_a_member_the_current_package_is_selected() {
    let dir = fixture("workspace");
    let before = snapshot_tree(dir.path());
    testsmith(&dir.path().join("gamma/src")).assert().success();
    assert_eq!(
        changed(&before, &snapshot_tree(dir.path())),
        ["gamma/src/main.rs"]
    );
    cargo_test(dir.path(), &["--workspace"]);
}

#[test]
fn manifest_path_selects_the_package() {
    let dir = fixture("workspace");
    let before = snapshot_tree(dir.path());
    testsmith(std::env::temp_dir().as_path())
        .arg("--manifest-path")
        .arg(dir.path().join("beta/Cargo.toml"))
        .assert()
        .success();
    assert_eq!(
        changed(&before, &snapshot_tree(dir.path())),
        ["beta/src/lib.rs"]
    );
}

#[test]
fn unknown_packages_and_bad_manifests_exit_2_with_cargos_reason() {
    let dir = fixture("workspace");
    let before = snapshot_tree(dir.path());
    testsmith(dir.path())
        .args(["-p", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: package ID specification `nope` did not match any packages",
        ));
    testsmith(dir.path())
        .args(["--manifest-path", "missing/Cargo.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "manifest path `missing/Cargo.toml` does not exist",
        ));
    std::fs::write(dir.path().join("alpha/Cargo.toml"), "[package\nname = ").unwrap();
    testsmith(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("alpha/Cargo.toml"));
    let after = snapshot_tree(dir.path());
    assert_eq!(changed(&before, &after), ["alpha/Cargo.toml"]);
}

#[test]
fn usage_errors_exit_2() {
    let dir = fixture("workspace");
    testsmith(dir.path())
        .arg("--check")
        .arg("--dry-run")
        .assert()
        .code(2);
    testsmith(dir.path())
        .arg("--exclude")
        .arg("alpha")
        .assert()
        .code(2);
}

#[test]
fn unreadable_files_are_reported_and_the_rest_goes_on() {
    let dir = fixture("broken");
    let before = snapshot_tree(dir.path());
    testsmith(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: src/bad_syntax.rs:3:14: could not parse (unbalanced delimiters or an invalid token); file left untouched",
        ))
        .stderr(predicate::str::contains(
            "warning: src/latin1.rs is not valid UTF-8 (invalid byte at offset 6); file left untouched",
        ))
        .stderr(predicate::str::contains(
            "warning: src/lib.rs:5:9: no file for module `missing` (looked for src/missing.rs and src/missing/mod.rs); skipped",
        ))
        .stderr(predicate::str::contains(
            "generated 2 tests in 2 files, 0 items already tested, 3 files skipped (1 missing module file, 1 not UTF-8, 1 unparsable)",
        ));
    let after = snapshot_tree(dir.path());
    assert_eq!(changed(&before, &after), ["src/good.rs", "src/lib.rs"]);
    // CRLF in, CRLF out: the added text has no bare line feed.
    let key = std::path::Path::new("src/good.rs");
    let added = appended(&before[key], &after[key]);
    assert!(added.contains("mod testsmith_tests {\r\n"));
    assert!(!added.replace("\r\n", "").contains('\n'));
}

#[test]
fn a_module_file_outside_the_package_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.rs");
    std::fs::write(&outside, "pub fn elsewhere() -> u8 {\n    1\n}\n").unwrap();
    let pkg = dir.path().join("pkg");
    common::write_package(
        &pkg,
        "pkg",
        &[(
            "src/lib.rs",
            "#[path = \"../../outside.rs\"]\npub mod outside;\n\npub fn inside() -> u8 {\n    2\n}\n",
        )],
    );
    testsmith(&pkg)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "outside.rs is outside package `pkg`; skipped",
        ))
        .stderr(predicate::str::contains("generated 1 test in 1 file"));
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "pub fn elsewhere() -> u8 {\n    1\n}\n"
    );
    assert!(
        std::fs::read_to_string(pkg.join("src/lib.rs"))
            .unwrap()
            .contains("fn test_inside()")
    );
}

#[test]
fn clashing_test_names_and_inner_cfg_attributes() {
    let dir = common::package(
        "clash",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"clash\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nextra = []\n",
            ),
            (
                "src/lib.rs",
                "pub fn foo_bar() -> u8 {\n    1\n}\n\npub mod foo {\n    pub fn bar() -> u8 {\n        2\n    }\n}\n\npub mod gated {\n    #![cfg(feature = \"extra\")]\n    pub fn only_extra() -> bool {\n        true\n    }\n}\n",
            ),
        ],
    );
    crate::common::scaffolds(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 3 tests in 1 file"));
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("fn test_foo_bar() {\n        let _result = foo_bar();"),
        "{lib}"
    );
    assert!(
        lib.contains("fn test_foo_bar_2() {\n        let _result = foo::bar();"),
        "{lib}"
    );
    assert!(
        lib.contains("#[cfg(feature = \"extra\")]\n    #[test]"),
        "{lib}"
    );
    // Each scaffold is found under its own name: both are work left, neither is a gap.
    crate::common::scaffolds(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`foo_bar` has only a scaffold"))
        .stdout(predicate::str::contains("`foo::bar` has only a scaffold"))
        .stdout(predicate::str::contains("has no test").not());
    cargo_test(dir.path(), &[]);
    cargo_test(dir.path(), &["--features", "extra"]);
}

#[test]
fn a_module_file_that_cannot_be_read_is_reported() {
    let dir = fixture("broken");
    // Running as root reads any file, so make the module's path a directory instead.
    std::fs::create_dir(dir.path().join("src/folder.rs")).unwrap();
    let lib = dir.path().join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("pub mod folder;\n{source}")).unwrap();
    testsmith(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: could not read src/folder.rs: ",
        ))
        .stderr(predicate::str::contains("1 unreadable"));
}

/// Tests outside the item's file count: doc tests, integration tests that name the crate
/// (their modules included); a test file that never names the crate, a path rooted in std and
/// a std-shared method name on another type do not.
#[test]
fn doc_tests_and_integration_tests_count_and_std_names_do_not() {
    let dir = fixture("elsewhere");
    let text = common::check_verbose(dir.path());
    for line in [
        "src/lib.rs:8: `double` has a test in a doc test",
        "src/lib.rs:13: `triple` has a test in tests/api.rs",
        "src/lib.rs:42: `Text::new` has a test in a doc test",
        "src/lib.rs:47: `Text::width` has a test in a doc test",
        "src/lib.rs:57: `Text::is_empty` has a test in tests/support/mod.rs",
        "src/lib.rs:22: `ignored` has no test",
        "src/lib.rs:25: `read` has no test",
        "src/lib.rs:30: `untouched` has no test",
        "src/lib.rs:52: `Text::len` has no test",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(text.contains("5 items already tested"), "{text}");
}
