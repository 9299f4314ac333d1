//! The JSON renderer: the [`Event`]s that have a machine-readable form, as the messages of
//! `--message-format json`: one JSON object per line on stdout, each with a `reason` naming
//! its kind, as cargo's messages have. The schema is documented in the README and stable:
//! fields may be added, none renamed or removed. The interface to serde_json for our own
//! output is localized here; the console decides when a message is printed.

use serde::Serialize;

use crate::error::Warning;
use crate::event::{Event, Mode, Status, Tally};
use crate::verify::TestVerdict;

/// One line of output.
#[derive(Serialize, Debug)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Message<'a> {
    /// A public item looked at.
    Item {
        file: &'a str,
        line: usize,
        column: usize,
        name: &'a str,
        status: Status,
        /// Where its test was found, why it was dropped or not generated; absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<&'a str>,
    },
    /// A warning, as the human text says it; the file (relative to the workspace root)
    /// where there is one, the line and column where they are known (else `null`).
    Warning {
        file: Option<&'a str>,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// A file written with new tests.
    FileWritten { file: &'a str, tests: usize },
    /// With `--dry-run`: the change a real run would write, as a unified diff.
    FileDiff {
        file: &'a str,
        tests: usize,
        diff: &'a str,
    },
    /// What an item's written tests make of its mutants: how many of them they catch, and
    /// those they do not (each with its stable id, line and what it changes).
    Mutants {
        file: &'a str,
        item: &'a str,
        caught: usize,
        total: usize,
        survivors: Vec<Survivor<'a>>,
        /// Why the item has no mutants, when it has none.
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a str>,
    },
    /// How the tests that run are contained: the active layers, and what is missing.
    Containment {
        namespaces: bool,
        landlock: bool,
        observe: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        missing: Option<String>,
    },
    /// The last message of a run.
    Summary(Summary),
}

/// A mutant no written test caught.
#[derive(Serialize, Debug)]
pub struct Survivor<'a> {
    pub id: &'a str,
    pub line: usize,
    pub column: usize,
    pub description: &'a str,
}

/// The mutation stage's totals.
#[derive(Serialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct MutantTotals {
    pub caught: usize,
    pub total: usize,
}

/// The counts of a run; `success` is whether it exits 0.
#[derive(Serialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `check`, `dry-run` or `write`.
    pub mode: &'static str,
    pub success: bool,
    pub tested: usize,
    pub untested: usize,
    pub scaffold_only: usize,
    pub generated: usize,
    pub dropped: usize,
    /// Files written (with `--dry-run`: that would be; with `--check`: that fail it).
    pub files_changed: usize,
    pub files_skipped: usize,
    /// What the written tests make of their items' mutants; absent when the stage did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutants: Option<MutantTotals>,
}

/// The event's JSON line, for the events that have one.
pub fn line(event: &Event<'_>) -> Option<String> {
    let message = match event {
        Event::Warning(warning) => warning_message(warning),
        Event::Item {
            item,
            status,
            detail,
        } => Message::Item {
            file: item.file,
            line: item.line,
            column: item.column,
            name: item.name,
            status: *status,
            detail: detail.as_deref(),
        },
        // A test dropped (or a scaffold that fell back) is a warning, as the human text says.
        Event::Test {
            file,
            item,
            verdict,
        } => match verdict {
            TestVerdict::Dropped(_) | TestVerdict::FellBack { .. } => Message::Warning {
                file: Some(file),
                line: None,
                column: None,
                message: crate::event::test_warning(file, item, verdict)?,
            },
            _ => return None,
        },
        Event::FileWritten { file, tests } => Message::FileWritten {
            file,
            tests: *tests,
        },
        Event::FileDiff { file, tests, diff } => Message::FileDiff {
            file,
            tests: *tests,
            diff,
        },
        Event::Summary { mode, tally, .. } => Message::Summary(summary(*mode, tally)),
        Event::Mutants { file, mutants } => Message::Mutants {
            file,
            item: &mutants.item,
            caught: mutants.caught,
            total: mutants.total,
            survivors: mutants
                .survivors
                .iter()
                .map(|m| Survivor {
                    id: &m.id,
                    line: m.line,
                    column: m.column,
                    description: &m.description,
                })
                .collect(),
            note: mutants.note.as_deref(),
        },
        Event::Containment(layers) => Message::Containment {
            namespaces: layers.namespaces.is_ok(),
            landlock: layers.landlock.is_ok(),
            observe: layers.observe.is_ok(),
            missing: layers.missing(),
        },
        _ => return None,
    };
    Some(serde_json::to_string(&message).expect("messages serialize"))
}

fn warning_message(warning: &Warning) -> Message<'_> {
    let (file, line, column) = warning.location();
    Message::Warning {
        file,
        line,
        column,
        message: warning.to_string(),
    }
}

fn summary(mode: Mode, tally: &Tally) -> Summary {
    Summary {
        mode: match mode {
            Mode::Check => "check",
            Mode::DryRun => "dry-run",
            Mode::Write => "write",
        },
        success: !tally.check_failed,
        tested: tally.already_tested,
        untested: tally.untested,
        scaffold_only: tally.scaffolded,
        generated: if mode == Mode::Check { 0 } else { tally.tests },
        dropped: tally.dropped,
        files_changed: tally.files_changed,
        files_skipped: tally.skipped_files(),
        mutants: tally
            .verified
            .and_then(|v| v.mutants)
            .map(|m| MutantTotals {
                caught: m.caught,
                total: m.total,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ItemRef;
    use crate::verify::Reason;

    #[test]
    fn reason_and_status_are_spelled_as_cargo_spells_them() {
        let item = ItemRef {
            file: "src/lib.rs",
            line: 3,
            column: 8,
            name: "add",
        };
        let line = line(&Event::Item {
            item,
            status: Status::ScaffoldOnly,
            detail: None,
        });
        assert_eq!(
            line.as_deref(),
            Some(
                r#"{"reason":"item","file":"src/lib.rs","line":3,"column":8,"name":"add","status":"scaffold-only"}"#
            )
        );
        let line = super::line(&Event::FileWritten {
            file: "src/lib.rs",
            tests: 2,
        });
        assert_eq!(
            line.as_deref(),
            Some(r#"{"reason":"file-written","file":"src/lib.rs","tests":2}"#)
        );
    }

    #[test]
    fn only_tests_that_were_not_kept_as_written_are_warnings() {
        let dropped = TestVerdict::Dropped(Reason::NotRun);
        let warning = line(&Event::Test {
            file: "src/lib.rs",
            item: "add",
            verdict: &dropped,
        })
        .unwrap();
        assert!(warning.starts_with(r#"{"reason":"warning","file":"src/lib.rs""#));
        assert!(warning.contains("dropped the test of `add`: was not run"));
        let passed = TestVerdict::Passed;
        let event = Event::Test {
            file: "src/lib.rs",
            item: "add",
            verdict: &passed,
        };
        assert_eq!(line(&event), None);
        let tally = Tally {
            tests: 4,
            check_failed: true,
            ..Tally::default()
        };
        let summary = line(&Event::Summary {
            mode: Mode::Check,
            changed_only: false,
            tally: &tally,
        })
        .unwrap();
        assert!(summary.contains(r#""mode":"check","success":false"#));
        assert!(summary.contains(r#""generated":0"#));
    }
}
