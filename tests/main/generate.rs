//! The offline pipeline end to end: the real binary on copies of the fixture crates, and real
//! `cargo test` runs proving that what it writes compiles.

use crate::common::{self, appended, cargo_test, changed, fixture, read, scaffolds, snapshot_tree};
use predicates::prelude::*;

#[test]
fn basic_crate_gets_scaffolds_that_compile_and_keep_every_original_byte() {
    let dir = fixture("basic");
    let before = snapshot_tree(dir.path());

    scaffolds(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "generated 46 tests in 8 files, 3 items already tested",
        ));

    let after = snapshot_tree(dir.path());
    let mut files = changed(&before, &after);
    files.sort();
    assert_eq!(
        files,
        [
            "src/edge.rs",
            "src/gated.rs",
            "src/geometry/vector_impl.rs",
            "src/lib.rs",
            "src/shapes/circle.rs",
            "src/shapes/mod.rs",
            "src/text.rs",
            "src/util/strings.rs"
        ]
    );
    for file in &files {
        let key = std::path::Path::new(file);
        let added = appended(&before[key], &after[key]);
        assert_eq!(added.matches("mod testsmith_tests").count(), 1, "{file}");
    }
    let lib = std::path::Path::new("src/lib.rs");
    insta::assert_snapshot!("basic_lib_module", appended(&before[lib], &after[lib]));
    let circle = std::path::Path::new("src/shapes/circle.rs");
    insta::assert_snapshot!(
        "basic_circle_module",
        appended(&before[circle], &after[circle])
    );
    // Shapes from published crates: unsized `Self`, const generics as type arguments, two
    // types of one name, `Default` for one instantiation only.
    let edge = std::path::Path::new("src/edge.rs");
    insta::assert_snapshot!("basic_edge_module", appended(&before[edge], &after[edge]));

    // Already tested: by a test in the file, by `Type::method` call, and from `#[cfg(test)] mod tests;`.
    let lib_text = read(dir.path(), "src/lib.rs");
    let lib_text = &lib_text[lib_text.find("mod testsmith_tests").unwrap()..];
    assert!(!lib_text.contains("fn test_add()"));
    assert!(!lib_text.contains("fn test_config_retries()"));
    assert!(!read(dir.path(), "src/text.rs").contains("fn test_reverse()"));
    // Not public API: private, pub(crate), and pub items of a private nested module.
    assert!(!lib_text.contains("test_config_private_helper"));
    assert!(!lib_text.contains("test_config_crate_only"));
    assert!(!lib_text.contains("unreachable_from_outside"));
    assert!(lib_text.contains("fn test_inner_helper()"));

    // The scaffolds compile (with warnings denied), stay ignored, and cargo test is green,
    // with and without the feature a cfg-gated item needs.
    let out = cargo_test(dir.path(), &[]);
    assert!(
        out.contains("test result: ok. 3 passed; 0 failed; 44 ignored"),
        "{out}"
    );
    let out = cargo_test(dir.path(), &["--features", "extra"]);
    assert!(out.contains("46 ignored"), "{out}");
    assert!(
        out.contains("testsmith_tests::test_only_with_extra ... ignored"),
        "{out}"
    );
}

#[test]
fn a_second_run_changes_nothing() {
    let dir = fixture("basic");
    scaffolds(dir.path()).assert().success();
    let first = snapshot_tree(dir.path());
    scaffolds(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "nothing to generate, 3 items already tested, 46 with only a scaffold",
        ));
    assert!(changed(&first, &snapshot_tree(dir.path())).is_empty());
}

#[test]
fn new_items_are_added_inside_the_existing_module_without_touching_edited_tests() {
    let dir = fixture("basic");
    scaffolds(dir.path()).arg("src/shapes").assert().success();
    // The user fills in a generated test and adds a new public fn above the module.
    let path = dir.path().join("src/shapes/mod.rs");
    let generated = std::fs::read_to_string(&path).unwrap();
    let edited = generated
        .replace(
            "let _result = unit_square_area();\n        todo!(\"assert on what `unit_square_area` returns\");",
            "assert_eq!(unit_square_area(), 1.0);",
        )
        .replace(
            "pub fn unit_square_area",
            "pub fn unit_circle_area() -> f64 {\n    std::f64::consts::PI\n}\n\npub fn unit_square_area",
        );
    assert_ne!(edited, generated);
    std::fs::write(&path, &edited).unwrap();

    scaffolds(dir.path()).arg("src/shapes").assert().success();
    let after = std::fs::read_to_string(&path).unwrap();
    let close = edited.rfind('}').unwrap();
    assert!(
        after.starts_with(&edited[..close]),
        "bytes before the module's closing brace changed"
    );
    assert!(after.ends_with("}\n"));
    assert_eq!(after.matches("mod testsmith_tests").count(), 1);
    assert!(after.contains("assert_eq!(unit_square_area(), 1.0);"));
    assert!(after.contains("fn test_unit_circle_area()"));
    cargo_test(dir.path(), &[]);
}

#[test]
fn check_lists_untested_items_and_writes_nothing() {
    let dir = fixture("basic");
    let before = snapshot_tree(dir.path());
    scaffolds(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "src/lib.rs:22: `greet` has no test",
        ))
        .stdout(predicate::str::contains(
            "src/shapes/circle.rs:7: `Circle::new` has no test",
        ))
        .stdout(predicate::str::contains("`add`").not())
        .stderr(predicate::str::contains(
            "46 public items in 8 files without a test",
        ));
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());

    // Scaffolds are work left, not tests: the gate still fails, naming them as such.
    scaffolds(dir.path()).assert().success();
    scaffolds(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "src/shapes/circle.rs:7: `Circle::new` has only a scaffold",
        ))
        .stdout(predicate::str::contains("has no test").not())
        .stderr(predicate::str::contains(
            "46 public items in 8 files without a test (46 with only a scaffold)",
        ));
}

#[test]
fn dry_run_prints_a_unified_diff_and_writes_nothing() {
    let dir = fixture("basic");
    let before = snapshot_tree(dir.path());
    scaffolds(dir.path())
        .args(["--dry-run", "--color", "never", "src/shapes/mod.rs"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "--- a/src/shapes/mod.rs\n+++ b/src/shapes/mod.rs\n@@ -5,3 +5,15 @@",
        ))
        .stdout(predicate::str::contains(
            "+mod testsmith_tests {\n+    use super::*;\n",
        ))
        .stdout(predicate::str::contains("circle.rs").not())
        .stderr(predicate::str::contains("would generate 1 test in 1 file"));
    assert!(changed(&before, &snapshot_tree(dir.path())).is_empty());
}

#[test]
fn paths_restrict_the_files_written() {
    let dir = fixture("basic");
    let before = snapshot_tree(dir.path());
    scaffolds(dir.path())
        .args(["src/shapes", "src/text.rs"])
        .assert()
        .success();
    let mut files = changed(&before, &snapshot_tree(dir.path()));
    files.sort();
    assert_eq!(
        files,
        ["src/shapes/circle.rs", "src/shapes/mod.rs", "src/text.rs"]
    );

    scaffolds(dir.path())
        .arg("src/nowhere")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "path `src/nowhere` does not exist",
        ));
}

#[test]
fn quiet_prints_nothing_and_no_progress_bar_without_a_terminal() {
    let dir = fixture("basic");
    scaffolds(dir.path())
        .arg("-q")
        .assert()
        .success()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::is_empty());
    // Not a TTY: the only stderr line is the summary, with no progress bar or escape codes.
    let dir = fixture("basic");
    let out = scaffolds(dir.path())
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

/// Crates with rules of their own (lints denied and forbidden, edition 2015, names that hide
/// std's, imports inside inline modules, a raw module name, a module file chosen by
/// `cfg_attr`): the scaffolds compile as written, with no compile-check to fall back on.
#[test]
fn scaffolds_compile_under_each_crates_own_rules_and_every_module_file_is_found() {
    let dir = fixture("rules");
    let before = snapshot_tree(dir.path());
    scaffolds(dir.path())
        .args(["--workspace", "--no-verify"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not())
        .stderr(predicate::str::contains(
            "generated 18 tests in 7 files, 0 items already tested",
        ));
    let after = snapshot_tree(dir.path());
    let added = |file: &str| {
        let key = std::path::Path::new(file);
        appended(&before[key], &after[key]).to_owned()
    };

    // Lints: `unsafe_code` is denied, so its allow is written; where `forbid` rules out the
    // allows a call needs, the lone form; a module of lone forms imports nothing.
    let lints = added("lints/src/lib.rs");
    assert!(
        lints.contains("#[allow(unsafe_code)]\n    fn test_peek()"),
        "{lints}"
    );
    let strict = added("lints/src/strict.rs");
    assert!(!strict.contains("use super::*"), "{strict}");
    assert!(
        strict.contains("needs `unreachable_code` allowed, which is forbidden here"),
        "{strict}"
    );
    assert!(!strict.contains("#[allow("), "{strict}");
    // Edition 2015: core's paths through `::std`.
    let old = added("old/src/lib.rs");
    assert!(old.contains("let ptr = ::std::ptr::null();"), "{old}");
    assert!(!old.contains("::core"), "{old}");
    // The crate's own `String` is built as the crate's; std's by its full path.
    let names = added("names/src/lib.rs");
    assert!(
        names.contains(
            "let text = ::std::string::String::new();\n        let _result = std_len(text);"
        ),
        "{names}"
    );
    assert!(
        names.contains("let text = Default::default();\n        let _result = own_len(text);"),
        "{names}"
    );
    // `Text` is a private import of `inner`: the test writes the path it names.
    assert!(
        names.contains(
            "let text = ::std::string::String::new();\n        let _result = inner::text_len(text);"
        ),
        "{names}"
    );
    // `mod r#async;` is `async.rs`; each file `cfg_attr` can choose gets tests, gated alike.
    assert!(added("names/src/async.rs").contains("fn test_ready()"));
    assert!(added("names/src/sys_unix.rs").contains("#[cfg(unix)]\n    #[test]"));
    assert!(added("names/src/sys_other.rs").contains("#[cfg(not(unix))]\n    #[test]"));

    let out = cargo_test(dir.path(), &["--workspace"]);
    let ignored: usize = out
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. 0 passed; 0 failed; "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    // Every test but the one for the other platforms' file is compiled here.
    assert_eq!(ignored, 17, "{out}");

    let settled = snapshot_tree(dir.path());
    scaffolds(dir.path())
        .args(["--workspace", "--no-verify"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "nothing to generate, 0 items already tested, 18 with only a scaffold",
        ));
    assert!(changed(&settled, &snapshot_tree(dir.path())).is_empty());
}

/// An API behind traits: each method of a trait impl whose type or trait is the crate's own is
/// an item with a name no other impl shares; `Debug` and private types are left out; an item
/// tested only through its trait's sugar or a test macro is tested; the scaffolds call the
/// methods the way a user would and compile.
#[test]
fn trait_impls_are_items_with_stable_names_and_their_sugar_counts_as_a_test() {
    let dir = fixture("traits");
    let text = common::check_verbose(dir.path());
    for line in [
        "src/lib.rs:17: `<Money as Display>::fmt` has no test",
        "src/lib.rs:32: `<Money as FromStr>::from_str` has no test",
        "src/lib.rs:39: `<Money as From<i64>>::from` has no test",
        "src/lib.rs:45: `<Money as From<u8>>::from` has no test",
        "src/lib.rs:55: `<Money as Add>::add` has no test",
        "src/lib.rs:79: `<Chunks as Iterator>::next` has no test",
        "src/lib.rs:95: `ToSnakeCase::shout` has no test",
        "src/lib.rs:101: `<str as ToSnakeCase>::to_snake_case` has no test",
        // One trait for two instantiations of one type: two names.
        "src/lib.rs:134: `<Vec<u8> as Encode>::encode` has no test",
        "src/lib.rs:140: `<Vec<String> as Encode>::encode` has no test",
        "src/lib.rs:149: `<&Money as IntoIterator>::into_iter` has no test",
        // In an inline module, for a type it imports; and for a type of its own.
        "src/lib.rs:160: `<Money as Neg>::neg` has no test",
        "src/lib.rs:174: `<units::Metres as Display>::fmt` has no test",
        // Through `to_string()` in a test macro, `parse`, `From::from` in the macro, and
        // `count()` on what `countdown` returns.
        "src/tested.rs:10: `<Celsius as Display>::fmt` has a test in the file's tests",
        "src/tested.rs:18: `<Celsius as FromStr>::from_str` has a test in the file's tests",
        "src/tested.rs:24: `<Celsius as From<f64>>::from` has a test in the file's tests",
        "src/tested.rs:40: `<Countdown as Iterator>::next` has a test in the file's tests",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // Nor a `#[doc(hidden)]` trait's methods; a deprecated trait's are items.
    assert!(
        !text.contains("Debug") && !text.contains("Secret") && !text.contains("Hidden"),
        "{text}"
    );
    assert!(
        text.contains("`<Money as OldShow>::old_show` has no test"),
        "{text}"
    );
    assert!(
        text.contains("16 public items in 1 file without a test, 5 items already tested"),
        "{text}"
    );

    // `skip-traits` in the package's metadata replaces the default (`Debug`).
    let manifest = dir.path().join("Cargo.toml");
    let original = read(dir.path(), "Cargo.toml");
    std::fs::write(
        &manifest,
        format!("{original}\n[package.metadata.testsmith]\nskip-traits = [\"Add\"]\n"),
    )
    .unwrap();
    scaffolds(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "`<Money as Debug>::fmt` has no test",
        ))
        .stdout(predicate::str::contains("Add>::add").not());
    std::fs::write(&manifest, original).unwrap();

    // Generation, compile-checked: every scaffold compiles as written.
    let before = read(dir.path(), "src/lib.rs");
    scaffolds(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not())
        .stderr(predicate::str::contains(
            "generated 16 tests in 1 file, 5 items already tested",
        ));
    let after = read(dir.path(), "src/lib.rs");
    let added = appended(before.as_bytes(), after.as_bytes());
    for call in [
        "let _result = value.to_string();",
        "let _result = \"\".parse::<Money>();",
        "let _result = <Money as From<u8>>::from(cents);",
        "let _result = <Money as Add>::add(value, other);",
        "let _result = value.next();",
        "let _result = <str as ToSnakeCase>::to_snake_case(value);",
        "let _result = <Vec<u8> as Encode>::encode(&value);",
        "let _result = <Money as std::ops::Neg>::neg(value);",
    ] {
        assert!(added.contains(call), "missing {call:?} in:\n{added}");
    }
    let out = cargo_test(dir.path(), &["--lib"]);
    // Under `-D warnings`: the deprecated trait's test allows `deprecated`.
    assert!(out.contains("3 passed; 0 failed; 16 ignored"), "{out}");
    let settled = snapshot_tree(dir.path());
    scaffolds(dir.path()).assert().success();
    assert!(changed(&settled, &snapshot_tree(dir.path())).is_empty());
}

/// `async fn` items: awaited under `#[tokio::test]` where the package has tokio's macros and
/// a runtime, a scaffold that compiles without one elsewhere.
#[test]
fn async_items_are_awaited_where_tokio_can_run_them() {
    let dir = fixture("asyncs");
    scaffolds(dir.path())
        .args(["--workspace", "--no-verify"])
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 3 tests in 2 files"));
    let with = read(dir.path(), "with_tokio/src/lib.rs");
    assert!(
        with.contains("#[tokio::test]\n    #[ignore = \"testsmith scaffold: assert on what `double` returns\"]\n    async fn test_double() {\n        let x = 0;\n        let _result = double(x).await;"),
        "{with}"
    );
    assert!(with.contains("        settle().await;\n"), "{with}");
    let without = read(dir.path(), "without/src/lib.rs");
    assert!(
        without.contains("#[test]") && without.contains("let _future = double(x);"),
        "{without}"
    );
    let out = cargo_test(dir.path(), &["--workspace", "--lib"]);
    assert!(out.contains("0 passed; 0 failed; 2 ignored"), "{out}");
    assert!(out.contains("0 passed; 0 failed; 1 ignored"), "{out}");
}
