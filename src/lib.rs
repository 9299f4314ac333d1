//! cargo-testsmith: write unit tests for the public items of a Rust crate that have none.
//!
//! The stages run in one direction: [`workspace`] (cargo metadata → packages → targets) →
//! [`scan`] and [`analysis`] (module tree → syn → public items and existing tests) → [`plan`]
//! (which items need a test) → [`generate`] (scaffolds, or [`llm`] bodies) → [`verify`] (build
//! and run the model's tests in a scratch copy, repair or drop what fails) → [`emit`] (splice,
//! atomic write, diff). [`run`] wires them together from the [`options`]; `DESIGN.md` maps
//! each module.

pub mod analysis;
pub mod cli;
pub mod console;
pub mod emit;
pub mod error;
pub mod generate;
pub mod git;
pub mod hook;
pub mod interrupt;
pub mod llm;
pub mod messages;
pub mod options;
pub mod plan;
pub mod process;
pub mod rules;
pub mod scan;
pub mod verify;
pub mod watch;
pub mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use analysis::ExistingModule;
use console::Console;
use error::{Error, Warning};
use generate::{FileCandidates, FileOutput, FileRequest, Generator, ScaffoldGenerator};
use messages::{Message, Status};
use options::{CacheCommand, Mode, Options, VerifyOptions};
use plan::FilePlan;
use workspace::Workspace;

pub use plan::{plan_all, plan_file, request_for};

/// What a run did, for the exit status and for callers of the library.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
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
    /// The files written, with the text written (a watch tells its own writes by it).
    pub written: Vec<(PathBuf, String)>,
    /// Ended by Ctrl-C with files written before it (a watch): exit status 130.
    pub interrupted: bool,
    /// Items whose every test verification dropped.
    pub dropped: usize,
    /// Items left without a test (with `--check`: without even a scaffold).
    pub untested: usize,
}

impl Outcome {
    pub fn exit_code(&self) -> ExitCode {
        if self.interrupted {
            ExitCode::from(130)
        } else if self.check_failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// The `PATH` arguments, canonical; one that does not exist ends the run.
pub(crate) fn canonical_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    paths
        .iter()
        .map(|path| {
            path.canonicalize()
                .map_err(|_| Error::MissingPath(path.clone()))
        })
        .collect()
}

/// The pipeline for one invocation.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let console = Console::new(options.console);
    if let Some(command) = &options.cache {
        return cache_command(command, &options.selection, &console);
    }
    if let Some(action) = options.hook {
        hook::run(action, &console)?;
        return Ok(Outcome::default());
    }
    if options.watch {
        return watch::watch(options);
    }
    let workspace = workspace::load(&options.selection)?;
    // Asked before anything is read: not a work tree or an unknown revision ends the run.
    let changed = match &options.changes {
        Some(changes) => Some(git::changed_lines(&workspace.root, changes)?),
        None => None,
    };
    for spec in &workspace.unknown_excludes {
        console.warn_text(&format!("excluded package `{spec}` not found in workspace"));
    }
    let filter = canonical_paths(&options.paths)?;
    // `llm = true` in the testsmith metadata asks for the model where it can be had: without
    // a key or a server (a pre-commit hook in a sandbox), scaffolds are written instead, with a
    // warning. `--llm` insists: an LLM it cannot use ends the run.
    let soft_llm = options.llm.is_none()
        && options.mode != Mode::Check
        && workspace
            .config
            .get("llm")
            .and_then(serde_json::Value::as_bool)
            == Some(true);
    let flags = options
        .llm
        .clone()
        .or_else(|| soft_llm.then(llm::config::LlmFlags::default));
    // An LLM that cannot be used is found out before any file is read.
    let mut llm = match &flags {
        Some(flags) => {
            let built = interrupt::Runtime::new().and_then(|runtime| {
                llm::build(llm_settings(flags, &workspace)?, Arc::new(runtime))
            });
            match built {
                Ok(llm) => Some(llm),
                Err(Error::Llm(err)) if soft_llm => {
                    console.warn_text(&soft_fallback(&err));
                    None
                }
                Err(err) => return Err(err),
            }
        }
        None => None,
    };
    console.scanning();
    let scan = scan::scan(&workspace, &filter, &|n| console.scanned(n));
    let mut outcome = Outcome::default();
    // A change is answerable only for its own files: a file it did not touch that cannot be
    // read is old trouble, and must not block it.
    let in_change = |warning: &Warning| {
        changed.as_ref().is_none_or(|changed| {
            changed
                .files()
                .any(|file| scan::relative(&workspace.root, file) == warning.location().0)
        })
    };
    for warning in scan.warnings.iter().filter(|w| in_change(w)) {
        report(&console, &mut outcome, warning);
    }
    let (given, strays) = paths_in_targets(&options.paths, &filter, &scan, &workspace);
    for warning in &strays {
        report(&console, &mut outcome, warning);
    }

    let plans = plan_all(&scan, &workspace, changed.as_ref());
    outcome.files_checked = plans.len();
    let requests: Vec<FileRequest<'_>> = plans
        .iter()
        .filter_map(|(file, plan)| plan.as_ref().ok().map(|plan| (file, plan)))
        .filter(|(_, plan)| options.mode != Mode::Check && !plan.untested.is_empty())
        .map(|(file, plan)| request_for(file, plan, &scan, &workspace))
        .collect();
    // While the model answers, the scratch copy builds what the candidates will need.
    let warm = match &llm {
        // Not under `llm = true`: should the model fail, the scaffolds' check needs the
        // scratch copy the warm-up would hold.
        Some(llm) if options.verify.enabled && !requests.is_empty() && !soft_llm => {
            let by_display: std::collections::HashMap<&str, &scan::SourceFile> =
                scan.files.iter().map(|f| (f.display.as_str(), f)).collect();
            let sources: Vec<&scan::SourceFile> =
                requests.iter().map(|r| by_display[r.display]).collect();
            // A scratch copy that cannot be made is reported by the verify stage itself.
            verify::warm_up(&workspace, &sources, llm.runtime()).ok()
        }
        _ => None,
    };
    console.generating(requests.len(), llm.is_some());
    let generator: &dyn Generator = match &llm {
        Some(llm) => llm,
        None => &ScaffoldGenerator,
    };
    let mut rendered = generate_and_render(&requests, &scan, generator, &console);
    if soft_llm && let Err(Error::Llm(err)) = &rendered {
        console.warn_text(&soft_fallback(err));
        llm = None;
        console.generating(requests.len(), false);
        rendered = generate_and_render(&requests, &scan, &ScaffoldGenerator, &console);
    }
    let verify_options = VerifyOptions {
        compile_only: llm.is_none(),
        ..options.verify.clone()
    };
    let generated = rendered.and_then(|generated| {
        let any = generated.iter().any(|f| !f.candidates.is_empty());
        if !any || !verify_options.enabled {
            outcome.unverified = any && llm.is_some();
            return Ok(generated);
        }
        let checker = match &llm {
            Some(generator) => Checker::Llm { generator, warm },
            None => Checker::Scaffolds,
        };
        let (files, summary) = verify_all(
            &requests,
            generated,
            &scan,
            &workspace,
            &verify_options,
            checker,
            &console,
        )?;
        outcome.verified = summary;
        Ok(files)
    });
    // Cleared before any error is printed.
    console.finish();
    let generated = generated?;
    let mut generated: BTreeMap<&str, FileCandidates> =
        requests.iter().map(|r| r.display).zip(generated).collect();

    for (file, plan) in plans {
        let output = generated.remove(file.display.as_str());
        let result =
            plan.and_then(|plan| act(file, plan, output, options.mode, &console, &mut outcome));
        if let Err(warning) = result {
            report(&console, &mut outcome, &warning);
        }
    }
    if options.console.verbose
        && let Some((hits, misses, entries)) = llm.as_ref().and_then(|llm| llm.cache_stats())
    {
        console.output(&format!(
            "LLM cache — hits: {hits} misses: {misses} entries: {entries}"
        ));
    }
    if options.mode == Mode::Check {
        // The gate cannot vouch for a file it did not read, nor for a path it did not check.
        outcome.check_failed |= !outcome.skipped.is_empty();
    }
    console.summary(&summary(options.mode, &outcome, changed.is_some()));
    console.emit(&Message::Summary(messages::Summary {
        mode: match options.mode {
            Mode::Check => "check",
            Mode::DryRun => "dry-run",
            Mode::Write => "write",
        },
        success: !outcome.check_failed,
        tested: outcome.already_tested,
        untested: outcome.untested,
        scaffold_only: outcome.scaffolded,
        generated: if options.mode == Mode::Check {
            0
        } else {
            outcome.tests
        },
        dropped: outcome.dropped,
        files_changed: outcome.files_changed,
        files_skipped: outcome.skipped.values().sum(),
    }));
    if options.mode == Mode::Check
        && let Some(hint) = check_hint(options, &given, &outcome)
    {
        console.hint(&hint);
    }
    Ok(outcome)
}

/// Split the `PATH…` arguments into those that reach a file of a selected target (as the user
/// wrote them, for the hint) and a warning for each of the others. Paths of the packages'
/// other targets (`tests/`, `examples/`, `benches/`, `build.rs`), which a pre-commit hook
/// passes along, are left out quietly: not an error, and not checked either.
fn paths_in_targets<'a>(
    paths: &'a [PathBuf],
    canonical: &[PathBuf],
    scan: &scan::Scan,
    workspace: &Workspace,
) -> (Vec<&'a PathBuf>, Vec<Warning>) {
    let mut given = Vec::new();
    let mut strays = Vec::new();
    for (path, canonical) in paths.iter().zip(canonical) {
        if scan.reached.iter().any(|file| file.starts_with(canonical)) {
            given.push(path);
        } else if !workspace.packages.iter().any(|package| {
            package.other_roots.contains(canonical)
                || ["tests", "examples", "benches"]
                    .iter()
                    .any(|dir| canonical.starts_with(package.root.join(dir)))
        }) {
            strays.push(Warning::NotInTarget {
                path: path.display().to_string(),
            });
        }
    }
    (given, strays)
}

/// The one line `--check` ends with: the command that writes the missing tests, with the
/// selection the user gave, and what to do about scaffolds.
fn check_hint(options: &Options, given: &[&PathBuf], outcome: &Outcome) -> Option<String> {
    let missing = outcome.tests - outcome.scaffolded.min(outcome.tests);
    let scaffolds = "replace the `todo!()` of each scaffold with assertions";
    if missing == 0 {
        return (outcome.scaffolded > 0).then(|| scaffolds.to_owned());
    }
    let mut words = vec!["cargo".to_owned(), "testsmith".to_owned()];
    words.extend(options.selection_args());
    words.extend(given.iter().map(|path| path.display().to_string()));
    let command: Vec<String> = words.iter().map(|word| shell_word(word)).collect();
    let mut hint = format!(
        "run `{}` (add --llm for real assertions) to write them",
        command.join(" ")
    );
    if outcome.scaffolded > 0 {
        hint = hint.replace(" to write them", " to write the missing ones, and ");
        hint.push_str(scaffolds);
    }
    Some(hint)
}

/// A word as a POSIX shell reads it back: bare when it is plain, else single-quoted.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Who verifies, and with what.
enum Checker<'a> {
    /// Offline scaffolds: compile-checked, with the scaffold generator's fallback.
    Scaffolds,
    /// The model's tests: built, run and repaired by the model, maybe on a warm build.
    Llm {
        generator: &'a llm::LlmGenerator,
        warm: Option<verify::WarmUp>,
    },
}

/// The verify stage over every file's candidates; the kept ones come back in the same order.
/// Scaffolds of a package that cannot be built are written unchecked, with a warning: they
/// are `#[ignore]`d, and the package is broken already.
fn verify_all(
    requests: &[FileRequest<'_>],
    generated: Vec<FileCandidates>,
    scan: &scan::Scan,
    workspace: &Workspace,
    verify_options: &VerifyOptions,
    checker: Checker<'_>,
    console: &Console,
) -> Result<(Vec<FileCandidates>, Option<verify::Summary>), Error> {
    let offline = matches!(checker, Checker::Scaffolds);
    let by_display: std::collections::HashMap<&str, &scan::SourceFile> =
        scan.files.iter().map(|f| (f.display.as_str(), f)).collect();
    let unchecked: Vec<Vec<generate::Candidate>> = if offline {
        generated.iter().map(|f| f.candidates.clone()).collect()
    } else {
        Vec::new()
    };
    let mut warnings = Vec::with_capacity(generated.len());
    let files: Vec<verify::FileUnderTest<'_>> = requests
        .iter()
        .zip(generated)
        .map(|(request, generated)| {
            warnings.push(generated.warnings);
            verify::FileUnderTest {
                file: by_display[request.display],
                request,
                candidates: generated.candidates,
            }
        })
        .collect();
    let offline_runtime;
    let (repairer, runtime, warm): (&dyn generate::Repairer, &interrupt::Runtime, _) = match checker
    {
        Checker::Llm { generator, warm } => (generator, generator.runtime(), warm),
        Checker::Scaffolds => {
            offline_runtime = interrupt::Runtime::new()?;
            (&ScaffoldGenerator, &offline_runtime, None)
        }
    };
    let verified = verify::verify(
        workspace,
        files,
        verify_options,
        Some(repairer),
        runtime,
        console,
        warm,
    );
    let report = match verified {
        Ok(report) => report,
        Err(Error::Verify(err)) if offline => {
            console.warn_text(&format!("scaffolds were not compile-checked: {err}"));
            let files = unchecked
                .into_iter()
                .zip(warnings)
                .map(|(candidates, warnings)| FileCandidates {
                    candidates,
                    warnings,
                })
                .collect();
            return Ok((files, None));
        }
        Err(err) => return Err(err),
    };
    let summary = report.summary;
    let runs = if summary.compile_only {
        String::new()
    } else {
        format!(", tests run in {:.1} s", summary.run_time.as_secs_f64())
    };
    console.detail(&format!(
        "verification: {} in {:.1} s{runs}",
        plural(summary.builds, "build", "builds"),
        summary.build_time.as_secs_f64(),
    ));
    let files = report
        .files
        .into_iter()
        .zip(warnings)
        .map(|(verdict, mut warnings)| {
            warnings.extend(verdict.warnings);
            FileCandidates {
                candidates: verdict.kept,
                warnings,
            }
        })
        .collect();
    Ok((files, Some(summary)))
}

/// Why `llm = true` in the metadata gave scaffolds this time.
fn soft_fallback(err: &error::LlmError) -> String {
    format!(
        "the LLM (`llm = true` in the testsmith metadata) cannot be used: {err}; writing scaffolds instead"
    )
}

fn report(console: &Console, outcome: &mut Outcome, warning: &Warning) {
    console.warn(warning);
    if warning.skips_file() {
        *outcome.skipped.entry(warning.kind()).or_default() += 1;
    }
}

pub(crate) fn llm_settings(
    flags: &llm::config::LlmFlags,
    workspace: &Workspace,
) -> Result<llm::config::Settings, Error> {
    llm::config::resolve(
        flags,
        &|name| std::env::var(name).ok(),
        &workspace.config,
        &workspace.target_dir,
        &workspace.root,
    )
}

/// `cargo testsmith cache stats|clear`. A `--cache-dir` needs no workspace: the cache may have
/// been moved out of every crate.
fn cache_command(
    command: &CacheCommand,
    selection: &workspace::Selection,
    console: &Console,
) -> Result<Outcome, Error> {
    let (dir, shown) = match &command.dir {
        Some(dir) => (dir.clone(), dir.display().to_string()),
        None => {
            let workspace = workspace::load(selection)?;
            let dir = llm::config::default_cache_dir(&workspace.target_dir);
            let shown = scan::relative(&workspace.root, &dir);
            (dir, shown)
        }
    };
    match command.action {
        cli::CacheAction::Stats => {
            let entries = llm::cache::count_entries(&dir);
            console.output(&format!("LLM cache — entries: {entries} ({shown})"));
        }
        cli::CacheAction::Clear => {
            let removed = llm::cache::clear(&dir).map_err(|source| Error::Io {
                action: "clear",
                path: dir.clone(),
                source,
            })?;
            console.output(&format!(
                "removed {} from {shown}",
                plural(removed, "LLM cache entry", "LLM cache entries")
            ));
        }
    }
    Ok(Outcome::default())
}

/// Run the generator over `requests` and turn each file's output into named, formatted
/// candidates on the thread that made it (syn's trees cannot cross threads); one
/// [`FileCandidates`] per request, in order.
pub fn generate_and_render(
    requests: &[FileRequest<'_>],
    scan: &scan::Scan,
    generator: &dyn Generator,
    progress: &dyn generate::Progress,
) -> Result<Vec<FileCandidates>, Error> {
    let slots: Vec<std::sync::Mutex<Option<FileCandidates>>> =
        requests.iter().map(|_| Default::default()).collect();
    let by_display: std::collections::HashMap<&str, &scan::SourceFile> =
        scan.files.iter().map(|f| (f.display.as_str(), f)).collect();
    let files: Vec<&scan::SourceFile> = requests.iter().map(|r| by_display[r.display]).collect();
    generator.generate_all(requests, progress, &|index, output: FileOutput| {
        // A new test must not take a name the module already has.
        let mut taken = existing_fns(files[index]);
        *slots[index].lock().expect("lock") = Some(FileCandidates {
            candidates: emit::prepare(output.tests, &mut taken),
            warnings: output.warnings,
        });
    })?;
    Ok(slots
        .into_iter()
        .map(|slot| slot.into_inner().expect("lock").unwrap_or_default())
        .collect())
}

/// The fns already in the file's `mod testsmith_tests`.
pub fn existing_fns(file: &scan::SourceFile) -> BTreeSet<String> {
    match &file.analysis.existing {
        Some(ExistingModule::Inline { fns, .. }) => fns.clone(),
        _ => BTreeSet::new(),
    }
}

/// Write, diff or list what was planned for one file.
fn act(
    file: &scan::SourceFile,
    plan: FilePlan<'_>,
    output: Option<FileCandidates>,
    mode: Mode,
    console: &Console,
    outcome: &mut Outcome,
) -> Result<(), Warning> {
    outcome.already_tested += plan.tested.len();
    outcome.scaffolded += plan.scaffolded.len();
    let emit = |item: &analysis::PublicFn, status: Status, detail: Option<String>| {
        console.emit(&Message::Item {
            file: &file.display,
            line: item.line,
            column: item.column,
            name: &item.name,
            status,
            detail,
        });
    };
    for (item, found) in &plan.tested {
        console.detail(&format!(
            "{}:{}: `{}` has a test {found}",
            file.display, item.line, item.name
        ));
        emit(item, Status::Tested, Some(found.to_string()));
    }
    for item in &plan.scaffolded {
        emit(item, Status::ScaffoldOnly, None);
    }
    if mode == Mode::Check {
        // A scaffold is work left, not a test: the gate fails on it as on a missing test.
        let mut listed: Vec<(&analysis::PublicFn, &str)> = plan
            .untested
            .iter()
            .map(|item| (*item, "has no test"))
            .chain(
                plan.scaffolded
                    .iter()
                    .map(|item| (*item, "has only a scaffold")),
            )
            .collect();
        if listed.is_empty() {
            return Ok(());
        }
        listed.sort_by_key(|(item, _)| item.line);
        outcome.files_changed += 1;
        outcome.tests += listed.len();
        outcome.check_failed = true;
        for (item, what) in listed {
            console.output(&format!(
                "{}:{}: `{}` {what}",
                file.display, item.line, item.name
            ));
        }
        outcome.untested += plan.untested.len();
        for item in &plan.untested {
            emit(item, Status::Untested, None);
        }
        return Ok(());
    }
    for item in &plan.scaffolded {
        console.detail(&format!(
            "{}:{}: `{}` has a scaffold to fill in",
            file.display, item.line, item.name
        ));
    }
    if plan.untested.is_empty() {
        return Ok(());
    }
    let Some(output) = output else {
        outcome.untested += plan.untested.len();
        for item in &plan.untested {
            emit(item, Status::Untested, None);
        }
        return Ok(());
    };
    let mut failed = None;
    for warning in &output.warnings {
        console.warn(warning);
        if warning.skips_file() {
            failed = Some(warning);
        }
    }
    // Why the file got no tests, when it got none.
    let not_written = if output.candidates.is_empty() {
        // Nothing came back for the file: it counts as skipped, for the reason warned above.
        if let Some(warning) = failed {
            *outcome.skipped.entry(warning.kind()).or_default() += 1;
        }
        None
    } else {
        write_file(file, &output.candidates, mode, console, outcome).err()
    };
    for item in &plan.untested {
        let about = |pick: fn(&Warning) -> Option<(&str, &str)>| {
            output
                .warnings
                .iter()
                .filter_map(pick)
                .find(|(name, _)| *name == item.name)
                .map(|(_, reason)| reason.to_owned())
        };
        let has_test = output.candidates.iter().any(|c| c.item == item.name);
        let (status, detail) = match (&not_written, has_test) {
            (None, true) => (
                Status::Generated,
                about(|w| match w {
                    Warning::FellBack { item, reason, .. } => Some((item, reason)),
                    _ => None,
                })
                .map(|reason| {
                    format!("a lone `todo!()`: the scaffold does not compile ({reason})")
                }),
            ),
            (Some(warning), true) => (Status::Untested, Some(warning.to_string())),
            (_, false) => match about(|w| match w {
                Warning::Unverified { item, reason, .. } => Some((item, reason)),
                _ => None,
            }) {
                Some(reason) => {
                    outcome.dropped += 1;
                    (Status::Dropped, Some(reason))
                }
                None => (Status::Untested, failed.map(ToString::to_string)),
            },
        };
        if status == Status::Untested {
            outcome.untested += 1;
        }
        emit(item, status, detail);
    }
    not_written.map_or(Ok(()), Err)
}

/// Splice one file's kept candidates in, and diff or write the result.
fn write_file(
    file: &scan::SourceFile,
    candidates: &[generate::Candidate],
    mode: Mode,
    console: &Console,
    outcome: &mut Outcome,
) -> Result<(), Warning> {
    let tests = candidates.len();
    let candidates: Vec<&generate::Candidate> = candidates.iter().collect();
    let new_source = emit::splice(
        &file.source,
        file.analysis.existing.as_ref(),
        &candidates,
        &file.rules,
    )
    .text;
    if mode == Mode::DryRun {
        let diff = emit::unified_diff(&file.display, &file.source, &new_source);
        console.emit(&Message::FileDiff {
            file: &file.display,
            tests,
            diff: &diff,
        });
        console.diff(&diff);
    } else {
        // A run with an LLM can take minutes: an edit made meanwhile wins over the tests.
        if std::fs::read(&file.path).ok().as_deref() != Some(file.source.as_bytes()) {
            return Err(Warning::ChangedDuringRun {
                file: file.display.clone(),
            });
        }
        emit::write_atomic(&file.path, &new_source).map_err(|source| Warning::Write {
            file: file.display.clone(),
            source,
        })?;
        console.emit(&Message::FileWritten {
            file: &file.display,
            tests,
        });
        console.detail(&format!(
            "{}: wrote {}",
            file.display,
            plural(tests, "test", "tests")
        ));
        outcome.written.push((file.path.clone(), new_source));
    }
    outcome.files_changed += 1;
    outcome.tests += tests;
    Ok(())
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn summary(mode: Mode, outcome: &Outcome, changed_only: bool) -> String {
    let unchecked = !outcome.skipped.is_empty();
    let head = if outcome.tests == 0 {
        if mode == Mode::Check && unchecked {
            "no public item without a test in the files read".to_owned()
        } else if changed_only
            && outcome.already_tested + outcome.scaffolded + outcome.untested + outcome.dropped == 0
        {
            // Not "no file to check": a change that adds no public item passes the gate.
            "the change adds or edits no public item".to_owned()
        } else if mode == Mode::Check && changed_only {
            "every public item the change adds or edits has a test".to_owned()
        } else if mode == Mode::Check && outcome.files_checked == 0 {
            // Never "every public item has a test" about nothing.
            "no file to check".to_owned()
        } else if mode == Mode::Check {
            "every public item has a test".to_owned()
        } else {
            "nothing to generate".to_owned()
        }
    } else if mode == Mode::Check {
        let scaffolds = if outcome.scaffolded > 0 {
            format!(" ({} with only a scaffold)", outcome.scaffolded)
        } else {
            String::new()
        };
        format!(
            "{} in {} without a test{scaffolds}",
            plural(outcome.tests, "public item", "public items"),
            plural(outcome.files_changed, "file", "files")
        )
    } else {
        format!(
            "{} {} in {}",
            if mode == Mode::DryRun {
                "would generate"
            } else {
                "generated"
            },
            plural(outcome.tests, "test", "tests"),
            plural(outcome.files_changed, "file", "files")
        )
    };
    let mut text = head;
    if let Some(checked) = outcome.verified.filter(|v| v.compile_only) {
        let counts = checked.counts;
        let mut parts = Vec::new();
        if counts.repaired > 0 {
            parts.push(format!(
                "{} fell back to a lone todo!()",
                plural(counts.repaired, "scaffold", "scaffolds")
            ));
        }
        if counts.dropped > 0 {
            parts.push(format!("{} dropped", counts.dropped));
        }
        if !parts.is_empty() {
            text.push_str(&format!(" ({})", parts.join(", ")));
        }
    } else if let Some(counts) = outcome.verified.map(|v| v.counts)
        && counts.candidates > 0
    {
        let mut parts = vec![format!("{} passed", counts.passed)];
        if counts.repaired > 0 {
            parts.push(format!("{} after repair", counts.repaired));
        }
        if counts.kept_failing > 0 {
            parts.push(format!("{} failing, kept ignored", counts.kept_failing));
        }
        parts.push(format!("{} dropped", counts.dropped));
        text.push_str(&format!(
            " ({}: {})",
            plural(counts.candidates, "candidate", "candidates"),
            parts.join(", ")
        ));
    } else if outcome.unverified {
        text.push_str(" (not verified: --no-verify)");
    }
    text.push_str(&format!(
        ", {} already tested",
        plural(outcome.already_tested, "item", "items")
    ));
    if mode != Mode::Check && outcome.scaffolded > 0 {
        text.push_str(&format!(", {} with only a scaffold", outcome.scaffolded));
    }
    let skipped: usize = outcome.skipped.values().sum();
    if skipped > 0 {
        let reasons: Vec<String> = outcome
            .skipped
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        text.push_str(&format!(
            ", {} skipped ({})",
            plural(skipped, "file", "files"),
            reasons.join(", ")
        ));
        if mode == Mode::Check {
            text.push_str("; the check fails: what was skipped was not checked");
        }
    }
    text
}
