//! What the user asked for, decided once: the command line turned into the options each stage
//! takes. Stages never see the clap struct, so each can be driven without a command line.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Args, CacheAction, Color, Command, HookAction, MessageFormat};
use crate::git::Changes;
use crate::llm::config::LlmFlags;
use crate::workspace::Selection;

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

#[derive(Debug, Clone, Copy)]
pub struct ConsoleOptions {
    pub quiet: bool,
    pub verbose: bool,
    pub color: Color,
    pub format: MessageFormat,
}

/// The verify stage: every candidate from a model is built and run in a scratch copy before
/// it is written; offline scaffolds are compile-checked.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Off with `--no-verify` (and with `--check`, which generates nothing).
    pub enabled: bool,
    /// Build only, and fall back to a lone `todo!()` where a test does not compile: offline
    /// scaffolds are `#[ignore]`d, there is nothing to run.
    pub compile_only: bool,
    /// Runs each candidate must pass (`--runs`).
    pub runs: u32,
    /// Per test (`--test-timeout`).
    pub test_timeout: Duration,
    /// Rounds of repair by the model (`--repair-rounds`); 0 disables repair.
    pub repair_rounds: u32,
    /// Write tests that compiled but failed, `#[ignore]`d with the reason.
    pub keep_failing: bool,
}

impl Default for VerifyOptions {
    fn default() -> VerifyOptions {
        VerifyOptions {
            enabled: true,
            compile_only: false,
            runs: 3,
            test_timeout: Duration::from_secs(10),
            repair_rounds: 2,
            keep_failing: false,
        }
    }
}

/// `cargo testsmith cache stats|clear`.
#[derive(Debug, Clone)]
pub struct CacheCommand {
    pub action: CacheAction,
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub selection: Selection,
    /// Only these files, or the files under these directories.
    pub paths: Vec<PathBuf>,
    pub mode: Mode,
    pub console: ConsoleOptions,
    /// `Some` with `--llm` (and not `--check`, which generates nothing).
    pub llm: Option<LlmFlags>,
    pub verify: VerifyOptions,
    pub cache: Option<CacheCommand>,
    /// `--staged` or `--since REV`: only the items that change touched.
    pub changes: Option<Changes>,
    /// `cargo testsmith hook install|uninstall`.
    pub hook: Option<HookAction>,
    /// `cargo testsmith watch`: run on each save of the selected packages' files.
    pub watch: bool,
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

    pub fn from_args(args: &Args) -> Options {
        let mode = if args.check {
            Mode::Check
        } else if args.dry_run {
            Mode::DryRun
        } else {
            Mode::Write
        };
        // clap refuses `--check --llm`: a check generates nothing.
        let llm = (args.llm && mode != Mode::Check).then(|| LlmFlags {
            provider: args.provider,
            model: args.model.clone(),
            base_url: args.base_url.clone(),
            max_retries: args.max_retries,
            max_concurrent: args.max_concurrent,
            timeout: args.timeout,
            cache_dir: args.cache_dir.clone(),
            no_cache: args.no_cache,
            no_batch: args.no_batch,
        });
        let defaults = VerifyOptions::default();
        let (cache, cache_manifest) = match &args.command {
            Some(Command::Cache {
                action,
                manifest_path,
                cache_dir,
            }) => (
                Some(CacheCommand {
                    action: *action,
                    dir: cache_dir.clone(),
                }),
                manifest_path.clone(),
            ),
            _ => (None, None),
        };
        let hook = match &args.command {
            Some(Command::Hook { action }) => Some(*action),
            _ => None,
        };
        Options {
            selection: Selection {
                manifest_path: args.manifest_path.clone().or(cache_manifest),
                packages: args.packages.clone(),
                workspace: args.workspace,
                exclude: args.exclude.clone(),
            },
            paths: args.paths.clone(),
            mode,
            console: ConsoleOptions {
                quiet: args.quiet,
                verbose: args.verbose,
                color: args.color,
                format: args.message_format,
            },
            verify: VerifyOptions {
                enabled: mode != Mode::Check && !args.no_verify,
                compile_only: llm.is_none(),
                runs: args.runs.unwrap_or(defaults.runs),
                test_timeout: args
                    .test_timeout
                    .map_or(defaults.test_timeout, Duration::from_secs_f64),
                repair_rounds: args.repair_rounds.unwrap_or(defaults.repair_rounds),
                keep_failing: args.keep_failing,
            },
            llm,
            cache,
            changes: match (&args.since, args.staged) {
                (Some(rev), _) => Some(Changes::Since(rev.clone())),
                (None, true) => Some(Changes::Staged),
                (None, false) => None,
            },
            hook,
            watch: matches!(args.command, Some(Command::Watch { .. })),
        }
    }
}
