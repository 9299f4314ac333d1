//! The machine-readable messages of `--message-format json`: one JSON object per line on
//! stdout, each with a `reason` naming its kind, as cargo's messages have. The schema is
//! documented in the README and stable: fields may be added, none renamed or removed. The
//! interface to serde_json for our own output is localized here; the console decides when
//! a message is printed.

use serde::Serialize;

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
        detail: Option<String>,
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
    /// The last message of a run.
    Summary(Summary),
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
}

/// The message as one line of JSON.
pub fn to_line(message: &Message<'_>) -> String {
    serde_json::to_string(message).expect("messages serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_and_status_are_spelled_as_cargo_spells_them() {
        let line = to_line(&Message::Item {
            file: "src/lib.rs",
            line: 3,
            column: 8,
            name: "add",
            status: Status::ScaffoldOnly,
            detail: None,
        });
        assert_eq!(
            line,
            r#"{"reason":"item","file":"src/lib.rs","line":3,"column":8,"name":"add","status":"scaffold-only"}"#
        );
        let line = to_line(&Message::FileWritten {
            file: "src/lib.rs",
            tests: 2,
        });
        assert_eq!(
            line,
            r#"{"reason":"file-written","file":"src/lib.rs","tests":2}"#
        );
    }
}
