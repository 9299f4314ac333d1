//! What the user asked for, decided once: the command line turned into an [`Invocation`] (a
//! run, a watch, the cache or the hook command) and the options each stage takes. Nothing
//! below the command line sees clap's types, so each stage can be driven without one.

use std::path::PathBuf;

pub use crate::console::{Color, ConsoleOptions, MessageFormat};
pub use crate::event::Mode;
use crate::git::Changes;
use crate::llm::config::LlmFlags;
pub use crate::verify::VerifyOptions;
use crate::workspace::Selection;

/// What one invocation of the tool does.
#[derive(Debug, Clone)]
pub enum Invocation {
    /// Generate, write, diff or check tests.
    Run(Options),
    /// `cargo testsmith watch`: a run on each save of the selected packages' files.
    Watch(Options),
    /// `cargo testsmith cache stats|clear`.
    Cache(CacheCommand),
    /// `cargo testsmith hook install|uninstall`.
    Hook(HookAction, ConsoleOptions),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    /// Write the pre-commit hook; with `force`, over one cargo-testsmith did not write.
    Install { force: bool },
    /// Remove the pre-commit hook, only if cargo-testsmith wrote it.
    Uninstall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheAction {
    Stats,
    Clear,
}

/// `cargo testsmith cache stats|clear`.
#[derive(Debug, Clone)]
pub struct CacheCommand {
    pub action: CacheAction,
    pub dir: Option<PathBuf>,
    pub selection: Selection,
    pub console: ConsoleOptions,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub selection: Selection,
    /// Only these files, or the files under these directories.
    pub paths: Vec<PathBuf>,
    pub mode: Mode,
    pub console: ConsoleOptions,
    /// `--scaffolds`: offline, scaffolds instead of observed tests.
    pub scaffolds: bool,
    /// `Some` with `--llm` (and not `--check`, which generates nothing).
    pub llm: Option<LlmFlags>,
    pub verify: VerifyOptions,
    /// `--staged` or `--since REV`: only the items that change touched.
    pub changes: Option<Changes>,
}

impl Options {
    /// The selection (packages, and the change with `--staged`/`--since`) as the command line
    /// gave it, for a command to suggest.
    pub fn selection_args(&self) -> Vec<String> {
        let selection = &self.selection;
        let mut args = Vec::new();
        if let Some(path) = &selection.manifest_path {
            args.push("--manifest-path".to_owned());
            args.push(path.display().to_string());
        }
        for spec in &selection.packages {
            args.push("-p".to_owned());
            args.push(spec.clone());
        }
        if selection.workspace {
            args.push("--workspace".to_owned());
        }
        for spec in &selection.exclude {
            args.push("--exclude".to_owned());
            args.push(spec.clone());
        }
        match &self.changes {
            Some(Changes::Staged) => args.push("--staged".to_owned()),
            Some(Changes::Since(rev)) => {
                args.push("--since".to_owned());
                args.push(rev.clone());
            }
            None => {}
        }
        args
    }
}
