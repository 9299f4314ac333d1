//! The two kinds of trouble: a fatal [`Error`] that ends the run with exit status 2, and a
//! [`Warning`] about one file (left untouched), one test (dropped) or a setting that did not
//! apply, while the run goes on.

use std::path::PathBuf;

/// Ends the run before any file is written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `cargo metadata` failed; the text is cargo's own reason.
    #[error("{0}")]
    Metadata(String),
    #[error("package ID specification `{0}` did not match any packages in the workspace")]
    UnknownPackage(String),
    #[error("path `{}` does not exist", .0.display())]
    MissingPath(PathBuf),
    /// The LLM cannot be used at all.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// The candidates could not be verified at all.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("interrupted; no file was written")]
    Interrupted,
    /// Something found in the background that the run cannot go on (the package does not
    /// build as it is); no more calls are sent, nothing is written.
    #[error("{0}; no file was written")]
    Stopped(String),
    /// `--staged`, `--since` or `hook` asked git, which could not answer; the reason is git's.
    #[error("{context} (git: {reason})")]
    Git { context: String, reason: String },
    /// `hook install|uninstall` found a pre-commit hook it did not write; the text says what
    /// to do instead.
    #[error("{0}")]
    Hook(String),
    /// The file watcher could not be set up (`watch`).
    #[error("could not watch {}: {message}", .path.display())]
    Watch { path: PathBuf, message: String },
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// 130 is the shell's convention for a run ended by Ctrl-C; every other error is 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted => 130,
            _ => 2,
        }
    }
}

/// Why no call to the model can succeed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("--llm with provider {provider} needs an API key: set {var} in the environment")]
    MissingKey {
        provider: &'static str,
        var: &'static str,
    },
    #[error("could not reach the {provider} server: {message}")]
    Unreachable {
        provider: &'static str,
        message: String,
    },
    #[error("the {provider} server refused the request: {message}")]
    Refused {
        provider: &'static str,
        status: u16,
        message: String,
    },
    /// A setting that cannot be used (an unknown provider, a bad timeout, a URL that cannot be
    /// requested); the text names it.
    #[error("{0}")]
    Setting(String),
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Why the candidates could not be built or run at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    /// The build failed outside every candidate test: the package does not build as it is.
    #[error(
        "{package} does not build with the generated tests left out, so none can be verified: {first_error}"
    )]
    Baseline {
        package: String,
        first_error: String,
    },
    /// cargo failed without a diagnostic to show (a bad manifest, a dependency it could not
    /// fetch).
    #[error("`{command}` failed ({status}): {stderr}")]
    Cargo {
        command: String,
        status: String,
        stderr: String,
    },
    /// The disk is full: not the package's fault, whatever the compiler says about it.
    #[error("no space left on the device that holds {}; free some and run again", .path.display())]
    NoSpace { path: PathBuf },
    /// A test would run without a layer of containment, and the user did not allow it.
    #[error(
        "tests are not run uncontained, and this machine lacks a layer: {missing}; or pass --allow-uncontained (or set `allow-uncontained = true` in the testsmith metadata) to run them anyway"
    )]
    Uncontained { missing: String },
    #[error("could not prepare the scratch copy in {}: {source}", .path.display())]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl VerifyError {
    /// What went wrong, without the command or the package already named around it: the
    /// first compiler error, or cargo's own words.
    pub fn cause(&self) -> String {
        match self {
            VerifyError::Baseline { first_error, .. } => first_error.clone(),
            VerifyError::Cargo { stderr, .. } => stderr.clone(),
            other => other.to_string(),
        }
    }
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
    /// A `PATH` argument that names no file of a selected lib or bin target.
    #[error(
        "{path} is not part of any selected target (no selected lib or bin crate reaches it through `mod`); skipped"
    )]
    NotInTarget { path: String },
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
    /// `--exclude` named a package the workspace does not have.
    #[error("excluded package `{spec}` not found in workspace")]
    UnknownExclude { spec: String },
    /// `llm = true` in the metadata, and the model cannot be had this time.
    #[error(
        "the LLM (`llm = true` in the testsmith metadata) cannot be used: {reason}; writing scaffolds instead"
    )]
    LlmFallback { reason: LlmError },
    /// The scaffolds' compile-check could not run at all.
    #[error("scaffolds were not compile-checked: {reason}")]
    Unchecked { reason: VerifyError },
    /// Tests run contained, but what they try beyond the sandbox cannot be seen here.
    #[error(
        "what a test tries beyond its sandbox is refused but not seen ({why}): a test that swallows the refusal can be written"
    )]
    Unobserved { why: String },
    /// Tests run with a layer of containment missing, as the user allowed.
    #[error("tests run without full containment (--allow-uncontained): {missing}")]
    RunUncontained { missing: String },
    /// Offline, the code cannot run contained: scaffolds are written in place of the tests
    /// its runs would show.
    #[error(
        "offline tests run the crate's code, which needs containment this machine lacks ({missing}); writing scaffolds instead (--allow-uncontained runs it anyway)"
    )]
    ScaffoldsOnly { missing: String },
    /// The file watcher's own trouble (a directory gone, too many watches).
    #[error("watching files: {message}")]
    Watcher { message: String },
    /// A file no test build of this machine compiles: a test of its items could not be
    /// checked, so none is written.
    #[error(
        "{file}: no tests written: the file is compiled only under `{cfg}`, which no test build on this machine meets (the default features, with any others added)"
    )]
    UncheckableFile { file: String, cfg: String },
    /// Items no test build of this machine compiles.
    #[error(
        "{file}: no tests written for {items}: compiled only under `{cfg}`, which no test build on this machine meets (the default features, with any others added)"
    )]
    UncheckableItems {
        file: String,
        /// By name, quoted: `` `a`, `b` ``.
        items: String,
        cfg: String,
    },
    /// An item and its alternative under another cfg share a test name: the alternative that
    /// needs fewer features gets the test.
    #[error(
        "{file}: `{item}` under `{cfg}` gets no test of its own: the name's test is its alternative's, under `{checked}`"
    )]
    Alternative {
        file: String,
        item: String,
        cfg: String,
        checked: String,
    },
    /// The package does not build with the features some items' tests need.
    #[error(
        "{file}: no tests written for {items}: the package does not build with `--features {features}`: {reason}"
    )]
    FeaturesUnbuilt {
        file: String,
        /// By name, quoted, or how many.
        items: String,
        features: String,
        /// The failure, said once per file it leaves without tests.
        reason: String,
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
            Warning::NotInTarget { .. } => "not in a selected target",
            Warning::OutOfLineModule { .. } => "out-of-line testsmith_tests",
            Warning::Write { .. } => "write failed",
            Warning::ChangedDuringRun { .. } => "changed during the run",
            Warning::Dropped { .. } => "dropped",
            Warning::Generation { .. } => "generation failed",
            Warning::UnknownExclude { .. } => "unknown exclude",
            Warning::LlmFallback { .. } => "no LLM",
            Warning::Unchecked { .. } => "not compile-checked",
            Warning::Watcher { .. } => "watcher",
            Warning::RunUncontained { .. } => "uncontained",
            Warning::Unobserved { .. } => "unobserved",
            Warning::ScaffoldsOnly { .. } => "scaffolds only",
            Warning::UncheckableFile { .. } => "compiled on no build here",
            Warning::UncheckableItems { .. } => "items compiled on no build here",
            Warning::Alternative { .. } => "an alternative tested",
            Warning::FeaturesUnbuilt { .. } => "features do not build",
        }
    }

    /// The file the warning is about (relative to the workspace root), with the line and
    /// column where there is one; no file for a warning about the run as a whole.
    pub fn location(&self) -> (Option<&str>, Option<usize>, Option<usize>) {
        match self {
            Warning::Parse {
                file, line, column, ..
            }
            | Warning::MissingModule {
                file, line, column, ..
            } => (Some(file), Some(*line), Some(*column)),
            Warning::NotInTarget { path } => (Some(path), None, None),
            Warning::UnknownExclude { .. }
            | Warning::LlmFallback { .. }
            | Warning::Unchecked { .. }
            | Warning::Watcher { .. }
            | Warning::RunUncontained { .. }
            | Warning::ScaffoldsOnly { .. }
            | Warning::Unobserved { .. } => (None, None, None),
            Warning::NotUtf8 { file, .. }
            | Warning::Unreadable { file, .. }
            | Warning::OutsidePackage { file, .. }
            | Warning::OutOfLineModule { file }
            | Warning::Dropped { file, .. }
            | Warning::Generation { file, .. }
            | Warning::ChangedDuringRun { file }
            | Warning::UncheckableFile { file, .. }
            | Warning::UncheckableItems { file, .. }
            | Warning::Alternative { file, .. }
            | Warning::FeaturesUnbuilt { file, .. }
            | Warning::Write { file, .. } => (Some(file), None, None),
        }
    }

    /// Whether the warning means a file was left out (and counts in the summary's skipped).
    pub fn skips_file(&self) -> bool {
        !matches!(
            self,
            Warning::Dropped { .. }
                | Warning::UnknownExclude { .. }
                | Warning::LlmFallback { .. }
                | Warning::Unchecked { .. }
                | Warning::Watcher { .. }
                | Warning::RunUncontained { .. }
                | Warning::ScaffoldsOnly { .. }
                | Warning::Unobserved { .. }
                | Warning::UncheckableItems { .. }
                | Warning::Alternative { .. }
        )
    }
}
