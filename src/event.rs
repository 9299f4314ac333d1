//! What a run tells its user, as typed values: the stages and the run report [`Event`]s to a
//! [`Reporter`], and the console turns each one into human text and, with
//! `--message-format json`, into a JSON message (`messages.rs`). No call site formats for both;
//! a renderer leaves out what is not its kind (a diff's colours, a progress bar, the `-v`
//! lines are for people; some messages are JSON's alone).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Warning};
use crate::verify::{self, TestVerdict};

/// What to do with the tests once they exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write them into the files.
    Write,
    /// Print a diff; write no source file.
    DryRun,
    /// Generate nothing; list the items without a test.
    Check,
}

/// What became of one item a run looked at.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Tested,
    Untested,
    ScaffoldOnly,
    /// A test was written (or, with `--dry-run`, would be).
    Generated,
    /// Verification dropped its test.
    Dropped,
}

/// A public item, where it is.
#[derive(Debug, Clone, Copy)]
pub struct ItemRef<'a> {
    /// Relative to the workspace root.
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub name: &'a str,
}

/// Why `--check` lists an item, or (`-v`) what is left to do for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    NoTest,
    OnlyScaffold,
    /// Not a check: the item has a scaffold whose `todo!()` is the user's to fill in.
    ScaffoldToFill,
}

/// One thing that happened.
#[derive(Debug)]
pub enum Event<'a> {
    /// A file or a test left out, or a setting that did not apply; the run goes on.
    Warning(&'a Warning),
    /// An item judged: where its test was found, why it has none, what became of its test.
    Item {
        item: ItemRef<'a>,
        status: Status,
        detail: Option<String>,
    },
    /// An item `--check` fails on, or (`-v`) one with a scaffold left to fill in.
    Listed {
        item: ItemRef<'a>,
        why: Listed,
    },
    FileWritten {
        file: &'a str,
        tests: usize,
    },
    /// With `--dry-run`: what a real run would write, as a unified diff.
    FileDiff {
        file: &'a str,
        tests: usize,
        diff: &'a str,
    },
    /// What verification made of one test (`Passed` and `Repaired` are news only to JSON).
    Test {
        file: &'a str,
        item: &'a str,
        verdict: &'a TestVerdict,
    },
    /// What an item's kept tests make of its mutants (`-v` lists the survivors; JSON).
    Mutants {
        file: &'a str,
        mutants: &'a verify::ItemMutants,
    },
    /// How the tests that run are contained (`-v`, JSON).
    Containment(&'a crate::contain::Layers),
    /// The verify stage's builds and runs.
    Verified(&'a verify::Summary),
    /// `-v`: items checked in a build with features added to a package's defaults.
    Features {
        package: &'a str,
        features: &'a std::collections::BTreeSet<String>,
        files: usize,
        items: usize,
    },
    /// `-v` with an LLM: the cache's figures.
    CacheStats {
        hits: usize,
        misses: usize,
        entries: usize,
    },
    /// The last event of a run.
    Summary {
        mode: Mode,
        changed_only: bool,
        tally: &'a Tally,
    },
    /// What to do next, after a failed check.
    Hint(&'a str),
    /// `watch` started on these directories.
    Watching {
        dirs: &'a [String],
    },
    /// A round of a watch ended: the files saved and what the round did.
    Round {
        round: usize,
        saved: &'a [String],
        tally: &'a Tally,
    },
    /// A round of a watch failed; the watch goes on.
    RoundFailed {
        round: usize,
        saved: &'a [String],
        error: &'a Error,
    },
    /// Ctrl-C ended a watch.
    WatchStopped {
        rounds: usize,
        tests: usize,
        files: usize,
        mid_round: bool,
    },
    /// `cache stats`.
    CacheEntries {
        entries: usize,
        dir: &'a str,
    },
    /// `cache clear`.
    CacheCleared {
        removed: usize,
        dir: &'a str,
    },
    /// A line of `hook install|uninstall`'s result.
    Hook(&'a str),
}

/// The counts a run adds up as it goes, for the summary and the exit status.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Tests generated (or, with `--dry-run`, that would be; with `--check`, items without one).
    pub tests: usize,
    /// Files changed (or that would be).
    pub files_changed: usize,
    /// Public items that already had a test.
    pub already_tested: usize,
    /// Public items whose only test is a scaffold still ending in `todo!()` (with `--check`,
    /// also counted in `tests`).
    pub scaffolded: usize,
    /// Files skipped, by reason.
    pub skipped: BTreeMap<&'static str, usize>,
    /// Selected files that were read and planned.
    pub files_checked: usize,
    /// `--check` found untested items, or could not vouch for a file or a path it was given.
    pub check_failed: bool,
    /// What verification made of the candidates; `None` when it did not run.
    pub verified: Option<verify::Summary>,
    /// Tests from a model were written without verification (`--no-verify`).
    pub unverified: bool,
    /// Items whose every test verification dropped.
    pub dropped: usize,
    /// Items left without a test (with `--check`: without even a scaffold).
    pub untested: usize,
}

impl Tally {
    pub fn skipped_files(&self) -> usize {
        self.skipped.values().sum()
    }

    /// A warning that means a file was left out counts in the summary's skipped files.
    pub fn count_skip(&mut self, warning: &Warning) {
        if warning.skips_file() {
            *self.skipped.entry(warning.kind()).or_default() += 1;
        }
    }
}

/// The warning a test that was not kept as written gives, as people and JSON both read it.
pub fn test_warning(file: &str, item: &str, verdict: &TestVerdict) -> Option<String> {
    match verdict {
        TestVerdict::Dropped(reason) => {
            Some(format!("{file}: dropped the test of `{item}`: {reason}"))
        }
        TestVerdict::FellBack { first } => Some(format!(
            "{file}: the scaffold of `{item}` does not compile here ({first}); wrote a lone `todo!()` in its place"
        )),
        TestVerdict::Passed | TestVerdict::Repaired | TestVerdict::KeptFailing(_) => None,
    }
}

/// Takes the events of a run, in the order they happen.
pub trait Reporter {
    fn report(&self, event: &Event<'_>);
}
