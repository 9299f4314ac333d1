//! The run: one invocation's stages in order, each a call that takes and returns typed values —
//! workspace → scan and analysis → plan → generate → verify → emit → report. The stages report
//! [`Event`]s to the console as they go; the run adds them up in a [`Tally`] and ends with the
//! summary. `watch` runs it once per round; nothing below it calls it.

mod check;
mod generation;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::console::Console;
use crate::emit::{self, FileTests};
use crate::error::{Error, Warning};
use crate::event::{Event, Mode, Reporter, Tally};
use crate::generate::Generator;
use crate::git::ChangedLines;
use crate::options::Options;
use crate::plan::{self, FilePlan};
use crate::scan::{self, Scan, SourceFile};
use crate::workspace::{self, Workspace};

pub use generation::{generate_and_render, llm_settings};

/// What a run did, for the exit status and for callers of the library.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub tally: Tally,
    /// The files written, with the text written (a watch tells its own writes by it).
    pub written: Vec<(PathBuf, String)>,
    /// Ended by Ctrl-C with files written before it (a watch): exit status 130.
    pub interrupted: bool,
}

impl Outcome {
    pub fn exit_code(&self) -> ExitCode {
        if self.interrupted {
            ExitCode::from(130)
        } else if self.tally.check_failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// The workspace as the options select it.
struct Selected {
    workspace: Workspace,
    /// With `--staged`/`--since`: the lines the change touched.
    changed: Option<ChangedLines>,
    /// The `PATH` arguments, canonical.
    filter: Vec<PathBuf>,
}

/// The pipeline for one invocation.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let console = Console::new(options.console);
    let selected = select(options, &console)?;
    let workspace = &selected.workspace;
    // An LLM that cannot be used is found out before any file is read.
    let llm = generation::Llm::choose(options, workspace, &console)?;
    console.scanning();
    let scan = scan::scan(workspace, &selected.filter, &|n| console.scanned(n));
    let mut tally = Tally::default();
    report_scan(&scan, &selected, &console, &mut tally);
    let given = check::paths_in_targets(
        options,
        &selected.filter,
        &scan,
        workspace,
        &console,
        &mut tally,
    );
    let plans = plan::plan_all(&scan, workspace, selected.changed.as_ref());
    tally.files_checked = plans.len();
    let generated = generation::generate(options, &plans, &scan, workspace, llm, &console);
    // Cleared before any error is printed.
    console.finish();
    let (mut generated, llm) = generated?;
    // A signal that came after the last wait still means: write nothing.
    if crate::interrupt::interrupted() {
        return Err(Error::Interrupted);
    }
    tally.verified = generated.verified;
    tally.unverified = generated.unverified;
    let written = emit_all(
        plans,
        &mut generated.files,
        options.mode,
        &console,
        &mut tally,
    );
    if options.console.verbose
        && let Some((hits, misses, entries)) = llm.as_ref().and_then(|llm| llm.cache_stats())
    {
        console.report(&Event::CacheStats {
            hits,
            misses,
            entries,
        });
    }
    report(
        options,
        &given,
        selected.changed.is_some(),
        &mut tally,
        &console,
    );
    Ok(Outcome {
        tally,
        written,
        interrupted: false,
    })
}

/// The workspace, the change (asked before anything is read: not a work tree or an unknown
/// revision ends the run) and the `PATH`s.
fn select(options: &Options, console: &Console) -> Result<Selected, Error> {
    let workspace = workspace::load(&options.selection)?;
    let changed = match &options.changes {
        Some(changes) => Some(crate::git::changed_lines(&workspace.root, changes)?),
        None => None,
    };
    for spec in &workspace.unknown_excludes {
        let spec = spec.clone();
        console.report(&Event::Warning(&Warning::UnknownExclude { spec }));
    }
    let filter = canonical_paths(&options.paths)?;
    Ok(Selected {
        workspace,
        changed,
        filter,
    })
}

/// The `PATH` arguments, canonical; one that does not exist ends the run.
pub fn canonical_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    paths
        .iter()
        .map(|path| {
            path.canonicalize()
                .map_err(|_| Error::MissingPath(path.clone()))
        })
        .collect()
}

/// The scan's warnings. A change is answerable only for its own files: a file it did not touch
/// that cannot be read is old trouble, and must not block it.
fn report_scan(scan: &Scan, selected: &Selected, console: &Console, tally: &mut Tally) {
    let in_change = |warning: &Warning| {
        selected.changed.as_ref().is_none_or(|changed| {
            changed.files().any(|file| {
                Some(scan::relative(&selected.workspace.root, file).as_str())
                    == warning.location().0
            })
        })
    };
    for warning in scan.warnings.iter().filter(|w| in_change(w)) {
        warn(console, tally, warning);
    }
}

fn warn(console: &Console, tally: &mut Tally, warning: &Warning) {
    console.report(&Event::Warning(warning));
    tally.count_skip(warning);
}

/// Emission, file by file, in the plans' order; the files written, with their text.
fn emit_all(
    plans: Vec<(&SourceFile, Result<FilePlan<'_>, Warning>)>,
    generated: &mut BTreeMap<String, FileTests>,
    mode: Mode,
    console: &Console,
    tally: &mut Tally,
) -> Vec<(PathBuf, String)> {
    let mut written = Vec::new();
    for (file, plan) in plans {
        let tests = generated.remove(&file.display);
        match plan.and_then(|plan| emit::file(file, plan, tests, mode, console, tally)) {
            Ok(Some(text)) => written.push((file.path.clone(), text)),
            Ok(None) => {}
            Err(warning) => warn(console, tally, &warning),
        }
    }
    written
}

/// The check's verdict, the summary and the hint.
fn report(
    options: &Options,
    given: &[&PathBuf],
    changed_only: bool,
    tally: &mut Tally,
    console: &Console,
) {
    if options.mode == Mode::Check {
        // The gate cannot vouch for a file it did not read, nor for a path it did not check.
        tally.check_failed |= !tally.skipped.is_empty();
    }
    console.report(&Event::Summary {
        mode: options.mode,
        changed_only,
        tally,
    });
    if options.mode == Mode::Check
        && let Some(hint) = check::hint(options, given, tally)
    {
        console.report(&Event::Hint(&hint));
    }
}
