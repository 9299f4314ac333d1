//! Changed-only runs and the pre-commit hook, on real git repositories in temp dirs.

mod common;

use std::path::Path;
use std::process::Command;

use common::{read, testsmith};
use predicates::prelude::*;

/// `git` in `dir`, isolated from the machine's own configuration.
fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("PATH", path_with_the_binary())
        .output()
        .expect("git runs")
}

fn ok(dir: &Path, args: &[&str]) {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// PATH with the built binary first, so a hook's `cargo testsmith` finds it.
fn path_with_the_binary() -> std::ffi::OsString {
    let bin = assert_cmd::cargo::cargo_bin("cargo-testsmith");
    let mut paths = vec![bin.parent().unwrap().to_owned()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

const OLD: &str = "/// Untested since long ago.\npub fn legacy() -> u8 {\n    1\n}\n";

/// A one-package repository with one commit holding an untested fn.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"ratchet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), OLD).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "target/\nCargo.lock\n").unwrap();
    ok(dir.path(), &["init", "-q", "-b", "main"]);
    ok(dir.path(), &["config", "user.name", "T"]);
    ok(dir.path(), &["config", "user.email", "t@example.com"]);
    ok(dir.path(), &["add", "."]);
    ok(dir.path(), &["commit", "-q", "-m", "start"]);
    dir
}

fn append(dir: &Path, text: &str) {
    let lib = dir.join("src/lib.rs");
    let mut source = std::fs::read_to_string(&lib).unwrap();
    source.push_str(text);
    std::fs::write(&lib, source).unwrap();
}

#[test]
fn staged_and_since_look_only_at_what_the_change_touched() {
    let dir = repo();
    append(dir.path(), "\n/// New.\npub fn fresh() -> u8 {\n    2\n}\n");
    ok(dir.path(), &["add", "src/lib.rs"]);
    append(
        dir.path(),
        "\n/// Not staged.\npub fn unstaged() -> u8 {\n    3\n}\n",
    );
    // Legacy untested code never blocks; what is staged does; what is not staged is not asked.
    testsmith(dir.path())
        .args(["--check", "--staged"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "src/lib.rs:7: `fresh` has no test",
        ))
        .stdout(predicate::str::contains("legacy").not())
        .stdout(predicate::str::contains("unstaged").not());
    // As pre-commit runs it, with the staged file names.
    testsmith(dir.path())
        .args(["--check", "--staged", "src/lib.rs"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`fresh` has no test"))
        .stderr(predicate::str::contains(
            "hint: run `cargo testsmith --staged src/lib.rs`",
        ));
    // Generation too: only `fresh` gets a test.
    testsmith(dir.path())
        .args(["--staged", "--no-verify"])
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 1 test in 1 file"));
    let lib = read(dir.path(), "src/lib.rs");
    assert!(
        lib.contains("fn test_fresh()") && !lib.contains("fn test_legacy()"),
        "{lib}"
    );

    // Since a revision: committed and uncommitted changes since then.
    ok(dir.path(), &["commit", "-q", "-m", "fresh"]);
    testsmith(dir.path())
        .args(["--check", "--since", "HEAD~1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`unstaged` has no test"))
        .stdout(predicate::str::contains("`fresh` has only a scaffold"))
        .stdout(predicate::str::contains("legacy").not());
    testsmith(dir.path())
        .args(["--check", "--since", "no-such-rev"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown revision `no-such-rev`"));
}

#[test]
fn outside_a_work_tree_changed_only_runs_say_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"loose\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), OLD).unwrap();
    testsmith(dir.path())
        .args(["--check", "--staged"])
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error: not a git repository"));
}

#[test]
fn the_installed_hook_refuses_a_commit_with_an_untested_fn_and_keeps_a_foreign_hook() {
    let dir = repo();
    testsmith(dir.path())
        .args(["hook", "install"])
        .assert()
        .success()
        .stdout(predicate::str::contains("installed"));
    let hook = dir.path().join(".git/hooks/pre-commit");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_ne!(
            std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
            0
        );
    }
    // An untested public fn: refused, naming it.
    append(dir.path(), "\n/// New.\npub fn fresh() -> u8 {\n    2\n}\n");
    ok(dir.path(), &["add", "src/lib.rs"]);
    let refused = git(dir.path(), &["commit", "-q", "-m", "fresh"]);
    assert!(!refused.status.success());
    // git shows a hook's output on its stderr.
    let said = String::from_utf8_lossy(&refused.stdout).into_owned()
        + &String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("src/lib.rs:7: `fresh` has no test"), "{said}");
    // With its test, the commit goes through; the legacy fn never mattered.
    append(
        dir.path(),
        "\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn fresh_is_two() {\n        assert_eq!(super::fresh(), 2);\n    }\n}\n",
    );
    ok(dir.path(), &["add", "src/lib.rs"]);
    ok(dir.path(), &["commit", "-q", "-m", "fresh, tested"]);

    // A hook someone else wrote is kept, unless forced.
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    testsmith(dir.path())
        .args(["hook", "install"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "was not written by cargo-testsmith",
        ));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    testsmith(dir.path())
        .args(["hook", "uninstall"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "no hook written by cargo-testsmith",
        ));
    assert!(hook.exists());
    testsmith(dir.path())
        .args(["hook", "install", "--force"])
        .assert()
        .success();
    testsmith(dir.path())
        .args(["hook", "uninstall"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed"));
    assert!(!hook.exists());
}
