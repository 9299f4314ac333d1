//! The two kinds of trouble: a fatal [`Error`] that ends the run with exit status 2, and a
//! [`Warning`] about one file, which is left untouched while the run goes on.

use std::path::PathBuf;

/// Ends the run before any file is written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `cargo metadata` failed; the text is cargo's own reason.
    #[error("{0}")]
    Cargo(String),
    #[error("package ID specification `{0}` did not match any packages in the workspace")]
    UnknownPackage(String),
    #[error("path `{}` does not exist", .0.display())]
    MissingPath(PathBuf),
    /// The LLM cannot be used at all: no key, no server, a refused key, an unknown model.
    #[error("{0}")]
    Llm(String),
    #[error("interrupted; no file was written")]
    Interrupted,
    #[error("{0}")]
    Io(String),
}

/// One file that could not be handled; each names the file (relative to the workspace root).
#[derive(Debug, thiserror::Error)]
pub enum Warning {
    #[error("{file}:{line}:{column}: could not parse ({message}); file left untouched")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file} is not valid UTF-8 (invalid byte at offset {offset}); file left untouched")]
    NotUtf8 { file: String, offset: usize },
    #[error("could not read {file}: {source}; skipped")]
    Unreadable {
        file: String,
        source: std::io::Error,
    },
    #[error(
        "{file}:{line}:{column}: no file for module `{name}` (looked for {candidates}); skipped"
    )]
    MissingModule {
        file: String,
        line: usize,
        column: usize,
        name: String,
        candidates: String,
    },
    #[error("{file} is outside package `{package}`; skipped")]
    OutsidePackage { file: String, package: String },
    #[error(
        "{file} declares `mod testsmith_tests;` in a file of its own; testsmith only extends an inline module, so the file is left untouched"
    )]
    OutOfLineModule { file: String },
    /// A piece of a model's reply that was not used.
    #[error("{file}: dropped {what}")]
    Dropped { file: String, what: String },
    /// No test could be had for the file's items from the model.
    #[error("{file}: no tests generated: {message}")]
    Generation { file: String, message: String },
    #[error("{file} changed while tests were being generated; left as it is now")]
    ChangedDuringRun { file: String },
    #[error("could not write {file}: {source}; file left as it was")]
    Write {
        file: String,
        source: std::io::Error,
    },
}

impl Warning {
    /// A short word for the summary line's count of skipped files.
    pub fn kind(&self) -> &'static str {
        match self {
            Warning::Parse { .. } => "unparsable",
            Warning::NotUtf8 { .. } => "not UTF-8",
            Warning::Unreadable { .. } => "unreadable",
            Warning::MissingModule { .. } => "missing module file",
            Warning::OutsidePackage { .. } => "outside its package",
            Warning::OutOfLineModule { .. } => "out-of-line testsmith_tests",
            Warning::Write { .. } => "write failed",
            Warning::ChangedDuringRun { .. } => "changed during the run",
            Warning::Dropped { .. } => "dropped",
            Warning::Generation { .. } => "generation failed",
        }
    }

    /// Whether the warning means a file was left out (and counts in the summary's skipped).
    pub fn skips_file(&self) -> bool {
        !matches!(self, Warning::Dropped { .. })
    }
}
