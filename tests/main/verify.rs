//! Verification over real cargo: the real binary, a scripted model on 127.0.0.1 whose tests go
//! wrong in each of the ways models do, and real builds and test runs in the scratch copy.
//! These build crates, so they are few and each covers a lot.

use std::path::Path;

use crate::common::llm_server::{Call, Reply, Server, tests_for};
use crate::common::{self, cargo_test, changed, fixture, read, snapshot_tree, testsmith};
use predicates::prelude::*;

/// The binary with `--llm` against `server`, tests timed out after 2 s.
fn llm(dir: &Path, server: &Server) -> assert_cmd::Command {
    let mut cmd = common::ollama(dir, &server.url);
    cmd.args(["--test-timeout", "2"]);
    cmd
}

fn is_repair(call: &Call) -> bool {
    call.prompt.contains("The test that failed:")
}

/// The model of `fixtures/verify`: first answers that go wrong, and repairs that fix some.
fn model(call: &Call) -> Reply {
    let repair = is_repair(call);
    tests_for(&call.names, |name| {
        let code = match (name, repair) {
            // A method that does not exist; the repair reads the compiler's error.
            ("add", false) => "#[test]\nfn adds() {\n    assert_eq!(add(2, 3).nope(), 5);\n}",
            ("add", true) => "#[test]\nfn adds() {\n    assert_eq!(add(2, 3), 5);\n}",
            // A wrong expected value, and a repair that insists on it.
            ("negate", _) => "#[test]\nfn negates() {\n    assert_eq!(negate(42), 42);\n}",
            // Never ends.
            ("seven", _) => {
                "#[test]\nfn sevens() {\n    assert_eq!(seven(), 7);\n    loop {\n        std::thread::sleep(std::time::Duration::from_millis(50));\n    }\n}"
            }
            // Passes every other run: a marker file next to the crate flips it.
            ("ready", _) => {
                "#[test]\nfn is_ready() {\n    let marker = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"flaky-marker\");\n    if marker.exists() {\n        std::fs::remove_file(&marker).unwrap();\n        panic!(\"every other run\");\n    }\n    std::fs::write(&marker, \"\").unwrap();\n    assert!(ready());\n}"
            }
            // Panics; the repair reads the panic.
            ("divide", false) => "#[test]\nfn divides() {\n    assert_eq!(divide(1, 0), 0);\n}",
            ("divide", true) => "#[test]\nfn divides() {\n    assert_eq!(divide(7, 2), 3);\n}",
            ("double", _) => "#[test]\nfn doubles() {\n    assert_eq!(double(21), 42);\n}",
            (other, _) => panic!("not an item of the fixture: {other}"),
        };
        Some(code.to_owned())
    })
}

/// One call to generate, one to repair `add`, `negate` and `divide` with the tools' own
/// words; `negate`'s repair gives back the test it was asked to mend, which ends its rounds
/// without another build. Timeouts and flaky tests are not sent back.
fn assert_one_call_to_generate_and_one_to_repair(calls: &[Call]) {
    assert_eq!(
        calls.len(),
        2,
        "{:#?}",
        calls.iter().map(|c| &c.names).collect::<Vec<_>>()
    );
    assert!(!is_repair(&calls[0]));
    assert!(is_repair(&calls[1]));
    let mut repaired = calls[1].names.clone();
    repaired.sort();
    assert_eq!(repaired, ["add", "divide", "negate"]);
    let prompt = &calls[1].prompt;
    assert!(
        prompt.contains("error[E0599]: no method named `nope`"),
        "{prompt}"
    );
    assert!(prompt.contains("attempt to divide by zero"), "{prompt}");
    assert!(prompt.contains("left: -42"), "{prompt}");
    assert!(
        !prompt.contains("testsmith/scratch"),
        "no scratch paths: {prompt}"
    );
}

#[test]
fn only_tests_seen_to_pass_are_written_and_failures_are_repaired_or_dropped_with_a_reason() {
    let dir = fixture("verify");
    let server = Server::start(model);
    let before = read(dir.path(), "src/lib.rs");
    let assert = llm(dir.path(), &server).arg("-v").assert().success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "generated 3 tests in 1 file (6 candidates: 1 passed, 2 after repair, 3 dropped), mutants: 15 of 15 caught, 0 items already tested"
        ),
        "{stderr}"
    );
    for warning in [
        "src/lib.rs: dropped the test of `negate`: fails: assertion `left == right` failed (left: -42, right: 42) (no progress: the repair gave back a test already tried)",
        "src/lib.rs: dropped the test of `seven`: timed out after 2 s",
        // Its first pass came from the batch `seven` hung, which proves nothing: run again
        // alone it failed (the marker was there), then passed, then failed.
        "src/lib.rs: dropped the test of `ready`: flaky: passed 1 of 3 runs",
    ] {
        assert!(
            stderr.contains(warning),
            "missing `{warning}` in:\n{stderr}"
        );
    }
    assert_eq!(stderr.matches("dropped the test of").count(), 3, "{stderr}");
    assert!(
        stderr.contains("verification: "),
        "-v prints the time spent: {stderr}"
    );

    assert_one_call_to_generate_and_one_to_repair(&server.calls());

    // Every byte of the file is kept; only the passing tests were added, repaired ones as
    // repaired.
    let after = read(dir.path(), "src/lib.rs");
    let added = common::appended(before.as_bytes(), after.as_bytes());
    for kept in [
        "fn doubles()",
        "assert_eq!(add(2, 3), 5)",
        "assert_eq!(divide(7, 2), 3)",
    ] {
        assert!(added.contains(kept), "{added}");
    }
    for gone in ["nope", "negate", "seven", "ready", "divide(1, 0)"] {
        assert!(!added.contains(gone), "{gone} was written:\n{added}");
    }
    let out = cargo_test(dir.path(), &[]);
    assert!(out.contains("test result: ok. 3 passed; 0 failed"), "{out}");

    // A second run: no call (answers and repairs are cached), nothing changes, and the
    // dropped items are still untested.
    let snapshot = snapshot_tree(dir.path());
    llm(dir.path(), &server)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "(3 candidates: 0 passed, 3 dropped), 3 items already tested",
        ));
    assert_eq!(server.calls().len(), 2, "the rerun called the model");
    assert!(changed(&snapshot, &snapshot_tree(dir.path())).is_empty());
    testsmith(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`negate` has no test"))
        .stdout(predicate::str::contains("`seven` has no test"))
        .stdout(predicate::str::contains("`ready` has no test"));

    // --keep-failing writes the failing test, ignored with its reason; not the hang or the
    // flaky one.
    let assert = llm(dir.path(), &server)
        .args(["--keep-failing", "--dry-run"])
        .assert()
        .success();
    let diff = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        diff.contains("+    #[ignore = \"testsmith: fails: assertion `left == right` failed (left: -42, right: 42)\"]\n+    fn negates() {"),
        "{diff}"
    );
    assert!(
        !diff.contains("fn sevens") && !diff.contains("fn is_ready"),
        "{diff}"
    );
    assert_eq!(server.calls().len(), 2);
}

#[test]
fn a_package_that_does_not_build_is_one_sentence_and_nothing_is_written() {
    let dir = fixture("verify");
    let lib = dir.path().join("src/lib.rs");
    let mut source = std::fs::read_to_string(&lib).unwrap();
    source.push_str("\n/// Does not type-check.\npub fn broken() -> u32 {\n    \"seven\"\n}\n");
    std::fs::write(&lib, &source).unwrap();
    // One item a call, one call at a time, a second each: the package's own build (a second
    // or so) fails long before the seven calls are through.
    let server = Server::start(|call: &Call| {
        let tests = tests_for(&call.names, |name| {
            Some(format!("#[test]\nfn t() {{\n    {name}();\n}}"))
        });
        Reply::Delay(std::time::Duration::from_secs(1), Box::new(tests))
    });
    let before = snapshot_tree(dir.path());
    llm(dir.path(), &server)
        .args(["--no-batch", "--max-concurrent", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: package `verify-me` does not build with the generated tests left out, so none can be verified: error[E0308]: mismatched types (src/lib.rs:",
        ));
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());
    let calls = server.calls().len();
    assert!(
        calls < 7,
        "{calls} calls were sent for a package that does not build"
    );
}

#[test]
fn a_target_dir_that_cannot_be_written_ends_the_run_before_any_call() {
    let dir = fixture("verify");
    // A file where the target dir would be: nothing can be made under it.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let server = Server::start(|call: &Call| {
        tests_for(&call.names, |name| {
            Some(format!("#[test]\nfn t() {{\n    {name}();\n}}"))
        })
    });
    llm(dir.path(), &server)
        .env("CARGO_TARGET_DIR", blocker.join("target"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: could not prepare the scratch copy in",
        ))
        .stderr(predicate::str::contains("Not a directory"));
    assert!(server.calls().is_empty(), "the model was asked");
}

#[test]
fn ctrl_c_sigterm_and_sighup_during_verification_kill_the_tests_and_write_nothing() {
    let dir = fixture("verify");
    // `seven`'s test says where it runs, then never ends.
    let server = Server::start(|call: &Call| {
        tests_for(&call.names, |name| {
            Some(if name == "seven" {
                "#[test]\nfn hangs() {\n    let marker = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"hang-pid\");\n    std::fs::write(&marker, \"started\").unwrap();\n    assert_eq!(seven(), 7);\n    loop {\n        std::thread::sleep(std::time::Duration::from_millis(50));\n    }\n}".to_owned()
            } else {
                format!("#[test]\nfn calls_it() {{\n    let _ = {name};\n    {name}(1, 2);\n}}")
            })
        })
    });
    // A CI job cancelled sends SIGTERM, a closed terminal SIGHUP: each is a Ctrl-C. The
    // second and third runs reuse the first one's build.
    for signal in ["INT", "TERM", "HUP"] {
        interrupt_mid_verification(dir.path(), &server, signal);
    }
}

/// Start a run whose test hangs, send `signal` once the test runs, and check that the run
/// ended at once with 130, wrote nothing, and took the test process with it.
fn interrupt_mid_verification(dir: &Path, server: &Server, signal: &str) {
    let marker = dir.join("target/testsmith/scratch/hang-pid");
    // The last run's test left it there.
    let _ = std::fs::remove_file(&marker);
    let before = snapshot_tree(dir);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-testsmith"))
        .current_dir(dir)
        .args(["testsmith", "--llm", "--provider", "ollama", "--base-url"])
        .arg(&server.url)
        .args(["--test-timeout", "60", "--repair-rounds", "0"])
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_TERM_COLOR")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !marker.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the hanging test never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The test process, found by its binary under this fixture's directory: in its own PID
    // namespace its pid is not ours to see (a zombie counts as gone).
    let dir_text = dir.display().to_string();
    let running = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let zombie = std::fs::read_to_string(entry.path().join("status"))
                .is_ok_and(|status| status.contains("State:\tZ"));
            !zombie
                && String::from_utf8_lossy(&cmdline).contains(&dir_text)
                && String::from_utf8_lossy(&cmdline).contains("hangs")
        })
    };
    assert!(running(), "the hanging test is not seen running");
    let sent = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(5),
        "Ctrl-C took too long"
    );
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: interrupted; no file was written"),
        "{stderr}"
    );
    assert!(changed(&before, &snapshot_tree(dir)).is_empty());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while running() {
        assert!(
            std::time::Instant::now() < deadline,
            "the hanging test still runs"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn offline_scaffolds_are_compile_checked_and_fall_back_to_a_lone_todo() {
    let dir = fixture("fallback");
    let before = read(dir.path(), "src/lib.rs");
    crate::common::scaffolds(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: src/lib.rs: the scaffold of `old::Yards::feet` does not compile here (error: use of deprecated struct `old::Yards`: use `Meters`); wrote a lone `todo!()` in its place",
        ))
        .stderr(predicate::str::contains(
            "generated 2 tests in 1 file (1 scaffold fell back to a lone todo!()), 0 items already tested",
        ));
    let after = read(dir.path(), "src/lib.rs");
    let added = common::appended(before.as_bytes(), after.as_bytes());
    // `new_way` keeps its full scaffold; `old::Yards::feet` only says what to do.
    assert!(added.contains("let _result = new_way(x);"), "{added}");
    assert!(
        added.contains("choose the arguments of `old::Yards::feet`"),
        "{added}"
    );
    assert!(!added.contains("value.feet()"), "{added}");
    let out = cargo_test(dir.path(), &[]);
    assert!(
        out.contains("test result: ok. 0 passed; 0 failed; 2 ignored"),
        "{out}"
    );
}

/// In a workspace, only the packages that get tests are built, build scripts included: a
/// member that does not build but gets nothing stays out of the build.
#[test]
fn only_touched_packages_are_built_and_build_scripts_run_in_the_copy() {
    let dir = fixture("verify_ws");
    // The user's own build of alpha's tests: the scratch build shares its build dir (and so
    // its dependencies), never the file names of its artifacts. Without incremental state,
    // as the scratch build is, so that only the workspace wrapper keeps the names apart.
    let user_build = std::process::Command::new(env!("CARGO"))
        .args([
            "test",
            "--no-run",
            "-p",
            "alpha",
            "--message-format",
            "json",
            "-q",
        ])
        .current_dir(dir.path())
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .unwrap();
    assert!(user_build.status.success());
    let binary = String::from_utf8_lossy(&user_build.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|m| m["executable"].as_str().map(std::path::PathBuf::from))
        .expect("the user's test binary");
    let built = std::fs::metadata(&binary).unwrap().modified().unwrap();
    let server = Server::start(|call| {
        tests_for(&call.names, |_| {
            Some(
                "#[test]\nfn greets() {\n    assert_eq!(greet(\"Ada\"), \"hello, Ada\");\n}"
                    .to_owned(),
            )
        })
    });
    // `--no-mutants`: no mutation stage, and no figures in the summary.
    llm(dir.path(), &server)
        .args(["--workspace", "--no-mutants"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "generated 1 test in 1 file (1 candidate: 1 passed, 0 dropped), 1 item already tested",
        ))
        .stderr(predicate::str::contains("mutants").not());
    assert!(read(dir.path(), "alpha/src/lib.rs").contains("fn greets() {"));
    assert_eq!(
        std::fs::metadata(&binary).unwrap().modified().unwrap(),
        built,
        "the user's test binary was overwritten"
    );
    let deps = std::fs::read_dir(binary.parent().unwrap()).unwrap();
    let alphas = deps
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("alpha-") && !name.contains('.')
        })
        .count();
    assert_eq!(
        alphas, 2,
        "the scratch copy's test binary beside the user's"
    );
}

#[test]
fn a_rename_across_files_since_the_last_run_does_not_read_as_a_broken_package() {
    let dir = common::package(
        "renamed",
        &[
            ("src/lib.rs", "pub mod a;\npub mod b;\n"),
            (
                "src/a.rs",
                "/// One.\npub fn helper() -> u8 {\n    1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() {\n        assert_eq!(super::helper(), 1);\n    }\n}\n",
            ),
            (
                "src/b.rs",
                "/// Two.\npub fn uses() -> u8 {\n    crate::a::helper() + 1\n}\n",
            ),
        ],
    );
    let server = Server::start(|call: &Call| {
        tests_for(&call.names, |name| {
            let value = if name == "uses" { 2 } else { 3 };
            Some(format!(
                "#[test]\nfn checks() {{\n    assert_eq!({name}(), {value});\n}}"
            ))
        })
    });
    llm(dir.path(), &server).assert().success();
    // The user renames `helper` in both files and adds an item: the copy of `b.rs` the last
    // run left still calls `helper`.
    for file in ["src/a.rs", "src/b.rs"] {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("helper", "helper2")).unwrap();
    }
    let b = dir.path().join("src/b.rs");
    let text = std::fs::read_to_string(&b).unwrap();
    std::fs::write(
        &b,
        format!("/// Three.\npub fn more() -> u8 {{\n    3\n}}\n\n{text}"),
    )
    .unwrap();
    llm(dir.path(), &server)
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 1 test in 1 file"));
    assert!(read(dir.path(), "src/b.rs").contains("assert_eq!(more(), 3)"));
}
