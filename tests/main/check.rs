//! `--check` as a gate: it fails on scaffolds still ending in `todo!()`, on files it could not
//! read, and on paths it was not given anything to check in. No crate is built here: `--check`
//! builds nothing, and generation runs with `--no-verify`.

use crate::common::{self, changed, snapshot_tree, testsmith};
use predicates::prelude::*;
use tempfile::TempDir;

/// A one-file package `gate` with `lib` as its `src/lib.rs`.
fn package(lib: &str) -> TempDir {
    common::package("gate", &[("src/lib.rs", lib)])
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
        ))
        .stderr(predicate::str::ends_with(
            "hint: replace the `todo!()` of each scaffold with assertions\n",
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

#[test]
fn check_ends_with_the_command_that_writes_the_tests_for_the_same_selection() {
    let dir = package(LIB);
    testsmith(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stderr(predicate::str::ends_with(
            "hint: run `cargo testsmith` to write them from what the code does (or add --llm for a model's)\n",
        ));
    testsmith(dir.path())
        .args(["--check", "src/lib.rs"])
        .assert()
        .code(1)
        .stderr(predicate::str::ends_with(
            "hint: run `cargo testsmith src/lib.rs` to write them from what the code does (or add --llm for a model's)\n",
        ));
    let manifest = dir.path().join("Cargo.toml");
    let hint = format!(
        "hint: run `cargo testsmith --manifest-path {} -p gate` to write them from what the code does (or add --llm for a model's)\n",
        manifest.display()
    );
    testsmith(&std::env::temp_dir())
        .args(["--check", "-p", "gate", "--manifest-path"])
        .arg(&manifest)
        .assert()
        .code(1)
        .stderr(predicate::str::ends_with(hint));
    // Some untested, some scaffolded: one line says both.
    testsmith(dir.path())
        .args(["--no-verify", "src/lib.rs"])
        .assert()
        .success();
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("pub fn four() -> u8 {{\n    4\n}}\n{text}")).unwrap();
    testsmith(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("src/lib.rs:1: `four` has no test\n"))
        .stderr(predicate::str::ends_with(
            "hint: run `cargo testsmith` to write the missing ones from what the code does (or add --llm for a model's), and replace the `todo!()` of each scaffold with assertions\n",
        ));
}

/// A package whose one item is tested, with an orphan file, an integration test and a build
/// script beside it.
fn tested_package() -> TempDir {
    let dir = package(
        "pub fn one() -> u8 {\n    1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() {\n        assert_eq!(super::one(), 1);\n    }\n}\n",
    );
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("src/orphan.rs", "pub fn forgotten() {}\n");
    write("tests/it.rs", "#[test]\nfn it() {}\n");
    write("build.rs", "fn main() {}\n");
    dir
}

#[test]
fn a_path_outside_the_selected_targets_fails_the_check_and_other_targets_are_ignored() {
    let dir = tested_package();
    testsmith(dir.path())
        .args(["--check", "src/lib.rs"])
        .assert()
        .code(0)
        .stderr("testsmith: every public item has a test, 1 item already tested\n");
    for stray in ["src/orphan.rs", "Cargo.toml"] {
        testsmith(dir.path())
            .args(["--check", "src/lib.rs", stray])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "warning: {stray} is not part of any selected target (no selected lib or bin crate reaches it through `mod`); skipped\n"
            )))
            .stderr(predicate::str::contains(
                "testsmith: no public item without a test in the files read, 1 item already tested, 1 file skipped (1 not in a selected target); the check fails: what was skipped was not checked\n",
            ));
    }
    // What a pre-commit hook passes along: quietly not checked, and never called tested.
    testsmith(dir.path())
        .args(["--check", "tests/it.rs", "build.rs", "tests"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("testsmith: no file to check, 0 items already tested\n");
    // Generation says so too, and goes on.
    testsmith(dir.path())
        .args(["--no-verify", "src/orphan.rs"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: src/orphan.rs is not part of any selected target",
        ));
}

#[test]
fn a_file_of_another_package_fails_the_check() {
    let dir = common::fixture("workspace");
    testsmith(dir.path())
        .args(["--check", "-p", "alpha", "beta/src/lib.rs"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "warning: beta/src/lib.rs is not part of any selected target",
        ));
}

#[test]
fn a_selected_file_that_cannot_be_read_or_parsed_fails_the_check() {
    let dir = tested_package();
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("mod bad;\nmod missing;\n{text}")).unwrap();
    std::fs::write(dir.path().join("src/bad.rs"), "pub fn broken( {}\n").unwrap();
    testsmith(dir.path())
        .arg("--check")
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("warning: src/bad.rs:1:"))
        .stderr(predicate::str::contains(
            "testsmith: no public item without a test in the files read, 1 item already tested, 2 files skipped (1 missing module file, 1 unparsable); the check fails: what was skipped was not checked\n",
        ));
    // Restricted to the good file, the gate vouches for it alone.
    std::fs::write(&lib, text).unwrap();
    testsmith(dir.path())
        .args(["--check", "src/lib.rs"])
        .assert()
        .code(0);
}

#[test]
fn pub_fns_of_private_modules_are_items_only_where_the_crate_re_exports_them() {
    let dir = common::package(
        "reexports",
        &[
            (
                "src/lib.rs",
                "mod private;\npub use private::shown;\npub mod open;\nmod globbed;\npub use globbed::*;\nmod types;\npub use crate::types::{Shout, Thing};\nmod inner {\n    pub(crate) mod deeper;\n}\npub use self::inner::deeper::reached as renamed;\nmod relay;\npub use relay::chained;\npub mod prelude {\n    pub use super::*;\n}\n",
            ),
            (
                "src/private.rs",
                "pub fn shown() -> u8 {\n    1\n}\n\npub fn hidden() -> u8 {\n    2\n}\n",
            ),
            ("src/open.rs", "pub fn opened() -> u8 {\n    3\n}\n"),
            (
                "src/globbed.rs",
                "mod below;\n\npub fn globbed() -> u8 {\n    4\n}\n",
            ),
            (
                "src/globbed/below.rs",
                "pub fn too_deep() -> u8 {\n    8\n}\n",
            ),
            (
                "src/relay/mod.rs",
                "mod leaf;\npub use self::leaf::chained;\n",
            ),
            (
                "src/relay/leaf.rs",
                "pub fn chained() -> u8 {\n    9\n}\n\npub fn leaf_only() -> u8 {\n    10\n}\n",
            ),
            (
                "src/types.rs",
                "pub struct Thing;\n\nimpl Thing {\n    pub fn new() -> Thing {\n        Thing\n    }\n}\n\nimpl std::fmt::Display for Thing {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        f.write_str(\"thing\")\n    }\n}\n\npub fn helper() -> u8 {\n    5\n}\n\npub struct Hidden;\n\nimpl Hidden {\n    pub fn make() -> Hidden {\n        Hidden\n    }\n}\n\npub trait Shout {\n    fn shout(&self) -> String;\n}\n\nimpl Shout for str {\n    fn shout(&self) -> String {\n        self.to_uppercase()\n    }\n}\n",
            ),
            (
                "src/inner/deeper.rs",
                "pub fn reached() -> u8 {\n    6\n}\n\npub fn unreached() -> u8 {\n    7\n}\n",
            ),
        ],
    );
    let out = testsmith(dir.path()).arg("--check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for listed in [
        "`shown`",
        "`opened`",
        "`globbed`",
        "`Thing::new`",
        "`reached`",
        // Through a private module's own `pub use`, which the root's names in turn.
        "`chained`",
    ] {
        assert!(stdout.contains(listed), "{listed} missing from:\n{stdout}");
    }
    // A glob reaches its module's names, not the files below it; a glob of the root (a
    // prelude) reaches no private module.
    for hidden in [
        "hidden",
        "helper",
        "unreached",
        "Hidden::make",
        "too_deep",
        "leaf_only",
    ] {
        assert!(!stdout.contains(hidden), "{hidden} listed:\n{stdout}");
    }
}

/// The items `--check --message-format json` judges in `dir`, with their status.
fn statuses(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let out = testsmith(dir)
        .args(["--check", "--message-format", "json"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "item")
        .map(|item| {
            let name = item["name"].as_str().unwrap().to_owned();
            (name, item["status"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn methods_and_sugar_count_for_the_type_of_the_value_they_act_on() {
    let bag = "pub struct Bag(Vec<u8>);\n\npub struct BagIter(u8);\n\npub struct Builder(u8);\n\n\
pub enum Side {\n    Left(u8),\n    Right(u8),\n}\n\n\
impl Bag {\n    pub fn new() -> Self {\n        Bag(Vec::new())\n    }\n\n    pub fn items(&self) -> BagIter {\n        BagIter(0)\n    }\n\n    pub fn len(&self) -> usize {\n        self.0.len()\n    }\n}\n\n\
impl Iterator for BagIter {\n    type Item = u8;\n    fn next(&mut self) -> Option<u8> {\n        None\n    }\n}\n\n\
impl Builder {\n    pub fn start() -> Builder {\n        Builder(0)\n    }\n\n    pub fn size(self, n: u8) -> Self {\n        Builder(n)\n    }\n\n    pub fn build(self) -> Bag {\n        Bag::new()\n    }\n}\n\n\
impl std::fmt::Display for Bag {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        write!(f, \"bag\")\n    }\n}\n\n\
impl Iterator for Side {\n    type Item = u8;\n    fn next(&mut self) -> Option<u8> {\n        None\n    }\n}\n";
    let tests = "use crate::bag::*;\n\n#[test]\nfn returned_values_and_chains() {\n    \
let bag = Builder::start().size(3).build();\n    let mut it = bag.items();\n    assert_eq!(it.next(), None);\n    \
// `len` and `to_string` on values of other types.\n    let c = 'a';\n    assert_eq!(c.to_string(), \"a\");\n    \
assert_eq!(vec![1].len(), 1);\n}\n";
    let dir = common::package(
        "flow",
        &[
            (
                "src/lib.rs",
                "pub mod bag;\nmod other;\n#[cfg(test)]\nmod tests;\n",
            ),
            ("src/bag.rs", bag),
            ("src/tests.rs", tests),
            (
                "src/other.rs",
                "//! ```\n//! use flow::bag::Side;\n//! let mut side = Side::Left(1);\n//! assert_eq!(side.next(), None);\n//! ```\n",
            ),
        ],
    );
    let statuses = statuses(dir.path());
    let status = |name: &str| statuses.get(name).map_or("missing", String::as_str);
    // A value another call returned, through a builder chain, has its type.
    for tested in [
        "Builder::start",
        "Builder::size",
        "Builder::build",
        "Bag::items",
        "<BagIter as Iterator>::next",
        // A doc test of another file, on a variant of the enum.
        "<Side as Iterator>::next",
    ] {
        assert_eq!(status(tested), "tested", "{tested}: {statuses:?}");
    }
    // A `char`'s `to_string` and a `Vec`'s `len` are not the crate's, though the tests name
    // the crate's types.
    for untested in ["<Bag as Display>::fmt", "Bag::len", "Bag::new"] {
        assert_eq!(status(untested), "untested", "{untested}: {statuses:?}");
    }
}
