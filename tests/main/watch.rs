//! `cargo testsmith watch`: the real binary watching a real package in a temp dir, real edits,
//! real file events. Rounds run with `--no-verify` (building scaffolds is the verify tests'
//! subject); a round that must still run when the test saves waits on a scripted model.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::common;
use crate::common::llm_server::{Server, tests_for};

/// Waits here are bounded: a machine busy with other builds may take a while, a broken watch
/// takes forever.
const DEADLINE: Duration = Duration::from_secs(60);

/// A package `watched`: `one` in `src/lib.rs`, `two` in `src/more.rs`, neither tested.
fn package() -> tempfile::TempDir {
    common::package(
        "watched",
        &[
            (
                "src/lib.rs",
                "pub mod more;\n\npub fn one() -> u8 {\n    1\n}\n",
            ),
            ("src/more.rs", "pub fn two() -> u8 {\n    2\n}\n"),
        ],
    )
}

/// The running watch and the lines of its stderr so far.
struct Watch {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    fn start(dir: &Path, options: &[&str]) -> Watch {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("cargo-testsmith"))
            .current_dir(dir)
            .args(["testsmith", "watch"])
            .args(options)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_TERM_COLOR")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                sink.lock().unwrap().push(line.unwrap());
            }
        });
        Watch { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn rounds(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|line| line.starts_with("testsmith: round "))
            .collect()
    }

    /// Poll until `done` holds, failing with what the watch printed at the deadline.
    fn wait_for(&self, what: &str, done: impl Fn(&Watch) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {what}; stderr:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // A failed assertion must not leave the watch running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn append(path: &Path, text: &str) {
    let mut contents = std::fs::read_to_string(path).unwrap();
    contents.push_str(text);
    std::fs::write(path, contents).unwrap();
}

#[test]
fn a_save_is_answered_its_own_write_starts_no_round_and_ctrl_c_stops_it() {
    let dir = package();
    let lib = dir.path().join("src/lib.rs");
    let more = dir.path().join("src/more.rs");
    let mut watch = Watch::start(dir.path(), &["--no-verify"]);
    watch.wait_for("the watch to start", |w| {
        w.lines().iter().any(|line| line.contains("watching src"))
    });
    assert!(watch.rounds().is_empty(), "{:?}", watch.lines());

    // A save: the saved file's untested items get their tests, in one round.
    append(&lib, "\npub fn added() -> u8 {\n    3\n}\n");
    watch.wait_for("the first round", |w| !w.rounds().is_empty());
    let text = std::fs::read_to_string(&lib).unwrap();
    assert!(text.contains("fn test_added()"), "{text}");
    assert!(text.contains("fn test_one()"), "{text}");
    assert_eq!(
        watch.rounds(),
        ["testsmith: round 1 (src/lib.rs): generated 2 tests in 1 file, 0 items already tested"]
    );
    // The other file was not saved, so not touched.
    assert!(
        !std::fs::read_to_string(&more)
            .unwrap()
            .contains("testsmith_tests")
    );

    // A save of another file. Events come in order: had the tool's own write to src/lib.rs
    // started a round, it would show before this one, or in it.
    append(&more, "\npub fn three() -> u8 {\n    3\n}\n");
    watch.wait_for("the second round", |w| w.rounds().len() >= 2);
    assert_eq!(
        watch.rounds()[1],
        "testsmith: round 2 (src/more.rs): generated 2 tests in 1 file, 0 items already tested"
    );
    assert!(
        std::fs::read_to_string(&more)
            .unwrap()
            .contains("fn test_three()")
    );
    let written = std::fs::read_to_string(&lib).unwrap();
    assert_eq!(written, text, "src/lib.rs was written again");

    // Ctrl-C ends it at once, with the status of a run ended by Ctrl-C.
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &watch.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = loop {
        if let Some(status) = watch.child.try_wait().unwrap() {
            break status;
        }
        assert!(sent.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{:?}", watch.lines());
    watch.wait_for("the last line", |w| {
        w.lines()
            .last()
            .is_some_and(|line| line.contains("watch stopped"))
    });
    assert_eq!(
        watch.lines().last().unwrap(),
        "testsmith: watch stopped after 2 rounds: 4 tests written in 2 files"
    );
    assert_eq!(watch.rounds().len(), 2, "{:?}", watch.lines());
}

/// Closed until the test opens it: what holds the model's answer back.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }

    /// Wait until open; after the deadline, go on (the test then fails on what it sees).
    fn wait(&self) {
        let (open, changed) = &*self.0;
        let guard = open.lock().unwrap();
        drop(changed.wait_timeout_while(guard, DEADLINE, |open| !*open));
    }
}

#[test]
fn a_save_made_while_a_round_runs_is_taken_in_the_next_round() {
    let dir = package();
    let lib = dir.path().join("src/lib.rs");
    // The model holds round 1's answer until the test has saved again: the save is made while
    // the round runs, after it read the file and before it can write.
    let gate = Gate::default();
    let held = gate.clone();
    let server = Server::start(move |call| {
        if call.index == 0 {
            held.wait();
        }
        tests_for(&call.names, |name| {
            Some(format!(
                "#[test]\nfn test_{name}() {{\n    let _ = {name}();\n}}"
            ))
        })
    });
    let url = server.url.clone();
    let options = ["--llm", "--no-verify", "--no-cache", "--provider", "ollama"];
    let watch = Watch::start(dir.path(), &[&options[..], &["--base-url", &url]].concat());
    watch.wait_for("the watch to start", |w| {
        w.lines().iter().any(|line| line.contains("watching src"))
    });
    append(&lib, "\npub fn added() -> u8 {\n    3\n}\n");
    let start = Instant::now();
    while server.calls().is_empty() {
        assert!(start.elapsed() < DEADLINE, "{:?}", watch.lines());
        std::thread::sleep(Duration::from_millis(20));
    }
    append(&lib, "\npub fn later() -> u8 {\n    4\n}\n");
    let saved = std::fs::read_to_string(&lib).unwrap();
    gate.open();
    watch.wait_for("the second round", |w| w.rounds().len() >= 2);

    // Round 1 read the file before the save, and wrote nothing over it.
    let calls = server.calls();
    assert_eq!(calls[0].names, ["one", "added"]);
    let lines = watch.lines();
    assert!(
        lines.contains(
            &"warning: src/lib.rs changed while tests were being generated; left as it is now"
                .to_owned()
        ),
        "{lines:#?}"
    );
    let rounds = watch.rounds();
    assert!(
        rounds[0].starts_with("testsmith: round 1 (src/lib.rs): ")
            && rounds[0].ends_with(", 1 file skipped (1 changed during the run)"),
        "{rounds:#?}"
    );
    assert_eq!(
        rounds[1..],
        [
            "testsmith: round 2 (src/lib.rs): generated 3 tests in 1 file (not verified: --no-verify), 0 items already tested"
        ]
    );
    // Round 2 took the saved bytes: every one of them is there, and the tests after them.
    assert_eq!(calls.len(), 2, "{lines:#?}");
    assert_eq!(calls[1].names, ["one", "added", "later"]);
    let text = std::fs::read_to_string(&lib).unwrap();
    let added = common::appended(saved.as_bytes(), text.as_bytes());
    for wanted in ["fn test_one()", "fn test_added()", "fn test_later()"] {
        assert!(added.contains(wanted), "no `{wanted}` in:\n{text}");
    }
}
