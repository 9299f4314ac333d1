//! The mutation stage over real cargo: a scripted model's kept tests run against mutants of
//! their items, built once in the scratch copy; a weak test goes back to the model with the
//! mutants it left alive.

use std::path::Path;

use crate::common::llm_server::{Call, Reply, Server, tests_for};
use crate::common::{self, cargo_test, fixture, read};

/// Whether the prompt shows surviving mutants.
fn names_survivors(call: &Call) -> bool {
    call.prompt.contains("The mutants they did not catch:")
}

/// The model of `fixtures/mutants`: a weak test of `split` first, and one that pins every
/// share when the prompt shows the mutants the weak one left alive.
fn model(call: &Call) -> Reply {
    let stronger = names_survivors(call);
    tests_for(&call.names, |name| {
        let code = match (name, stronger) {
            ("count_up", _) => "#[test]\nfn counts() {\n    assert_eq!(count_up(3), 3);\n}",
            ("walk", _) => "#[test]\nfn walks() {\n    assert_eq!(walk(2, 3), Meters(6));\n}",
            ("<Meters as Display>::fmt", _) => {
                "#[test]\nfn shows_meters() {\n    assert_eq!(Meters(3).to_string(), \"3 m\");\n}"
            }
            ("largest", _) => {
                "#[test]\nfn finds_the_largest() {\n    assert_eq!(largest(&[1, 5, 2]), Some(5));\n    assert_eq!(largest::<u8>(&[]), None);\n}"
            }
            ("split", false) => "#[test]\nfn splits() {\n    assert_eq!(split(10, 3).len(), 3);\n}",
            ("split", true) => {
                "#[test]\nfn splits_exactly() {\n    assert_eq!(split(10, 3), vec![4, 3, 3]);\n    assert_eq!(split(9, 3), vec![3, 3, 3]);\n}"
            }
            (other, _) => panic!("not an item of the fixture: {other}"),
        };
        Some(code.to_owned())
    })
}

fn llm(dir: &Path, server: &Server) -> assert_cmd::Command {
    let mut cmd = common::ollama(dir, &server.url);
    cmd.args(["--test-timeout", "2"]);
    cmd
}

/// The JSON `mutants` message of `item`.
fn mutants_of<'a>(messages: &'a [serde_json::Value], item: &str) -> &'a serde_json::Value {
    messages
        .iter()
        .find(|m| m["reason"] == "mutants" && m["item"] == item)
        .unwrap_or_else(|| panic!("no mutants message for {item}: {messages:#?}"))
}

#[test]
fn kept_tests_are_judged_by_the_mutants_they_catch_and_weak_ones_are_asked_again() {
    let dir = fixture("mutants");
    let server = Server::start(model);
    // Judged, not asked again: the survivors are listed per item.
    let out = llm(dir.path(), &server)
        .args(["-v", "--mutation-rounds", "0", "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // `i += 1` made `i *= 1` never ends: a hang is caught, as cargo-mutants counts it. Every
    // other mutant of `count_up` changes what it returns or panics.
    assert!(
        stderr.contains("src/lib.rs: `count_up`: its tests catch 9 of 9 mutants"),
        "{stderr}"
    );
    // `walk`'s body as `Default::default()` does not compile (`Meters` has no `Default`), nor
    // `largest`'s as `Some(Default::default())` (`T` need not have one): they are
    // dropped from the build, not counted.
    assert!(
        stderr.contains("src/lib.rs: `walk`: its tests catch 2 of 2 mutants"),
        "{stderr}"
    );
    assert!(
        stderr.contains("src/lib.rs: `split`: its tests catch 3 of 12 mutants"),
        "{stderr}"
    );
    assert!(
        stderr.contains("    survived: src/lib.rs:28: replace / with % in split\n"),
        "{stderr}"
    );
    // A trait impl's method and a generic fn are mutated in their bodies; `>=` for `>` in
    // `largest` changes nothing a test can see (an equivalent mutant).
    assert!(
        stderr.contains("src/lib.rs: `<Meters as Display>::fmt`: its tests catch 1 of 1 mutant"),
        "{stderr}"
    );
    assert!(
        stderr.contains("replace > with >= in largest\n"),
        "{stderr}"
    );
    assert!(stderr.contains("mutants: 18 of 28 caught"), "{stderr}");
    assert!(
        stderr.contains("mutation: 2 builds of them, 2 mutants that did not compile dropped"),
        "{stderr}"
    );
    // The fixture keeps no global state (the switch the copy holds does not count): many
    // mutants run per process.
    assert!(!stderr.contains("keeps global state"), "{stderr}");
    assert_eq!(server.calls().len(), 1, "one call, no second round");

    // One round: `split`'s weak test goes back with its survivors, and the stronger test
    // replaces it.
    let out = llm(dir.path(), &server)
        .args(["--message-format", "json", "--dry-run"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = server.calls();
    // The first call came from the cache; the second asks about the items with survivors.
    // The model gives `largest` its test again: not worth a build, and the old test stays.
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let mut asked = calls[1].names.clone();
    asked.sort();
    assert_eq!(asked, ["largest", "split"]);
    let prompt = &calls[1].prompt;
    assert!(
        prompt.contains("assert_eq!(split(10, 3).len(), 3);"),
        "{prompt}"
    );
    assert!(
        prompt.contains("// src/lib.rs:28: replace / with % in split\n-    let share = total / parts;\n+    let share = total % parts;\n"),
        "{prompt}"
    );
    let messages: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let split = mutants_of(&messages, "split");
    assert_eq!(split["caught"], 12, "{split}");
    assert_eq!(split["total"], 12, "{split}");
    assert_eq!(split["survivors"], serde_json::json!([]));
    assert_eq!(mutants_of(&messages, "walk")["total"], 2);
    let summary = messages.last().unwrap();
    assert_eq!(
        summary["mutants"],
        serde_json::json!({"caught": 27, "total": 28})
    );
    let diff = messages
        .iter()
        .find(|m| m["reason"] == "file-diff")
        .unwrap();
    assert!(
        diff["diff"]
            .as_str()
            .unwrap()
            .contains("+    fn splits_exactly() {")
    );

    // The same run for real: the answers, the second round's too, come from the cache.
    let out = llm(dir.path(), &server).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.calls().len(), 2, "no new call");
    let written = read(dir.path(), "src/lib.rs");
    assert!(written.contains("fn splits_exactly()"), "{written}");
    assert!(!written.contains("fn splits()"), "{written}");
    // Nothing of the mutants reaches the user's file, and the crate's lints still hold.
    assert!(!written.contains("__testsmith_mutant"), "{written}");
    let tests = cargo_test(dir.path(), &[]);
    assert!(tests.contains("test result: ok. 6 passed"), "{tests}");
}
