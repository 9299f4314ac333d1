//! Offline tests that assert: the real binary, with no model and no network, runs the items of
//! `fixtures/observe` on chosen inputs in the contained scratch copy and writes what they were
//! seen to do, keeping the calls that catch the most mutants.

use crate::common::{appended, cargo_test, fixture, read, testsmith};

#[test]
fn offline_tests_assert_what_the_code_was_seen_to_do_and_what_varies_is_not_asserted() {
    let dir = fixture("observe");
    let before = std::fs::read(dir.path().join("src/lib.rs")).unwrap();
    let out = testsmith(dir.path())
        .args(["--message-format", "json", "-v"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let after = std::fs::read(dir.path().join("src/lib.rs")).unwrap();
    let module = appended(&before, &after);

    // Literal forms where the type has one, the package's unit variants, a float within a
    // tolerance, a panic as `should_panic`, a `&mut self` method through its receiver after,
    // an iterator through what it yields, a type guessed for the crate's own trait.
    for expected in [
        "assert_eq!(parse_size(",
        "Ok(",
        "assert_eq!(clamp_percent(",
        "Sign::",
        "assert!((result - ",
        "#[should_panic(expected = \"a name is needed\")]",
        "assert_eq!(value.bump(), ",
        ".collect::<Vec<_>>();",
        "assert_eq!(result, vec![",
        "assert_eq!(format!(\"{:?}\", value), \"Counter { count: ",
        // A bound on the crate's own trait, implemented by a macro: the guesses that
        // compile are kept; what the call returns borrows the receiver.
        "let result = value.write::<u64>(n);\n        assert_eq!(result, \"",
    ] {
        assert!(module.contains(expected), "no `{expected}` in:\n{module}");
    }
    // Each says what it is.
    let observed = module
        .matches("/// Observed behaviour, recorded by cargo-testsmith")
        .count();
    let tests = module.matches("#[test]").count();
    let scaffolds = module.matches("#[ignore = \"testsmith scaffold:").count();
    assert_eq!(observed + scaffolds, tests, "{module}");
    assert!(observed >= 9, "{module}");
    // A map's order, the time and an address change from run to run: not asserted, the
    // scaffold says why.
    for (unstable, why) in [
        (
            "word_counts",
            "what it returns changes from run to run, by its type",
        ),
        ("stamp", "it reaches outside itself (`SystemTime`)"),
        (
            "address_of",
            "nothing its calls did could be observed the same in every run",
        ),
    ] {
        let test = module
            .split("#[test]")
            .find(|t| t.contains(&format!("fn test_{unstable}")))
            .unwrap_or_else(|| panic!("no test of {unstable}:\n{module}"));
        assert!(test.contains(why), "{test}");
        assert!(
            !test.contains("assert_eq!") && !test.contains("assert!("),
            "{test}"
        );
    }
    // Chosen by mutants: fewer tests than calls, and what they catch is reported.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|m: &serde_json::Value| m["reason"] == "summary")
        .unwrap();
    let caught = summary["mutants"]["caught"].as_u64().unwrap();
    let total = summary["mutants"]["total"].as_u64().unwrap();
    assert!(total > 20 && caught * 10 >= total * 7, "{summary}");
    assert!(stderr.contains("calls observed:"), "{stderr}");
    assert!(stderr.contains("left out"), "{stderr}");

    // The user's `cargo test` passes, and a second run changes nothing.
    let tested = cargo_test(dir.path(), &[]);
    assert!(tested.contains("test result: ok"), "{tested}");
    let again = testsmith(dir.path()).output().unwrap();
    assert!(again.status.success());
    assert_eq!(read(dir.path(), "src/lib.rs").as_bytes(), &after[..]);
    let check = testsmith(dir.path()).arg("--check").output().unwrap();
    let check_err = String::from_utf8_lossy(&check.stderr);
    // Only the three scaffolds are left to fill in.
    assert!(check_err.contains("3 with only a scaffold"), "{check_err}");
}

/// Code behind features is checked in a build with the fewest features added to the defaults
/// that compile it, each item on its own (a fn and the alternative for when a feature is off
/// both get tests); code no build of this machine compiles is named in a warning and gets
/// none, and so is code behind a feature that does not build, which costs the others nothing.
/// The user's `cargo test`, with the defaults or with the features, passes.
#[test]
fn code_behind_features_is_run_with_its_features_and_what_no_build_compiles_is_named() {
    let dir = fixture("features");
    let out = testsmith(dir.path())
        .arg("-v")
        .env("RUSTFLAGS", "--cfg fast_path")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    // Seen run: only a build with `extra` compiles the module.
    let extra = read(dir.path(), "src/extra.rs");
    assert!(extra.contains("assert_eq!(triple("), "{extra}");
    // A file gated by its own `#![cfg]` is too.
    let inner = read(dir.path(), "src/inner.rs");
    assert!(inner.contains("assert_eq!(quadruple("), "{inner}");
    // So is a binary with `required-features`.
    let tool = read(dir.path(), "src/bin/tool.rs");
    assert!(tool.contains("assert_eq!(quintuple("), "{tool}");
    let lib = read(dir.path(), "src/lib.rs");
    for (test, gate) in [
        ("fn test_base()", None),
        (
            "fn test_doubled()",
            Some("#[cfg(all(feature = \"more\", feature = \"extra\"))]"),
        ),
        ("fn test_plain()", Some("#[cfg(not(feature = \"extra\"))]")),
        // `RUSTFLAGS`' `--cfg` is one of the machine's facts.
        ("fn test_fast()", Some("#[cfg(fast_path)]")),
        ("fn test_alone()", Some("#[cfg(feature = \"solo\")]")),
    ] {
        let at = lib
            .find(test)
            .unwrap_or_else(|| panic!("no `{test}` in:\n{lib}"));
        let before = &lib[..at];
        let own = &before[before.rfind("///").unwrap()..];
        match gate {
            Some(gate) => assert!(own.contains(gate), "{own}"),
            None => assert!(!own.contains("#[cfg("), "{own}"),
        }
        assert!(lib[at..].contains("assert_eq!("), "{lib}");
    }
    for untested in ["fn test_bare", "fn test_never", "fn test_speed"] {
        assert!(!lib.contains(untested), "{lib}");
    }
    assert_eq!(
        read(dir.path(), "src/windows_only.rs")
            .matches("mod testsmith_tests")
            .count(),
        0
    );
    for warning in [
        "warning: src/lib.rs: no tests written for `bare`: compiled only under `not(feature = \"std\")`",
        "warning: src/windows_only.rs: no tests written: the file is compiled only under `windows`",
        "warning: src/lib.rs: no tests written for `never`: the package does not build with `--features broken`: error: `broken` never builds",
        // Run again with the features the others were checked with: `solo` and `extra` do
        // not build together, so with each set.
        "warning: src/lib.rs: dropped the test of `speed`: recorded with the default features, it does not hold with `--features extra`",
    ] {
        assert!(stderr.contains(warning), "{stderr}");
    }
    assert!(stderr.contains("1 file skipped"), "{stderr}");
    // `-v` says which builds checked what: `broken` merged with the others failed, so each
    // was built on its own.
    for (build, counts) in [
        ("--features extra`", "3 items in 3 files"),
        ("--features more`", "1 item in 1 file"),
    ] {
        let line = format!("features: {counts} checked with `cargo test -p features {build}");
        assert!(stderr.contains(&line), "{stderr}");
    }

    let plain = cargo_test(dir.path(), &[]);
    assert!(
        plain.contains("test testsmith_tests::test_plain ... ok"),
        "{plain}"
    );
    let featured = cargo_test(dir.path(), &["--features", "more"]);
    for test in [
        "test testsmith_tests::test_doubled ... ok",
        "test extra::testsmith_tests::test_triple ... ok",
        "test inner::testsmith_tests::test_quadruple ... ok",
        "test testsmith_tests::test_quintuple ... ok",
    ] {
        assert!(featured.contains(test), "{featured}");
    }
}
