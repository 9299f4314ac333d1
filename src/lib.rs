//! cargo-testsmith: write unit tests for the public items of a Rust crate that have none.
//!
//! The stages run in one direction: [`workspace`] (cargo metadata → packages → target roots)
//! → [`scan`] and [`analysis`] (module tree → syn → public items and existing tests) →
//! [`generate`] (scaffolds, or [`llm`] bodies) → [`emit`] (splice, atomic write, diff).
//! [`run`] wires them together; `DESIGN.md` maps each module.

pub mod analysis;
pub mod cli;
pub mod console;
pub mod emit;
pub mod error;
pub mod generate;
pub mod llm;
pub mod scan;
pub mod workspace;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

use analysis::{ExistingModule, PublicFn};
use cli::{Args, CacheAction, Command};
use console::Console;
use error::{Error, Warning};
use generate::{FileOutput, FileRequest, Generator, ScaffoldGenerator, test_fn_name};
use workspace::{Selection, Workspace};

/// What a run did, for the exit status and for callers of the library.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Tests generated (or, with `--dry-run`, that would be; with `--check`, items without one).
    pub tests: usize,
    /// Files changed (or that would be).
    pub files_changed: usize,
    /// Public items that already had a test.
    pub already_tested: usize,
    /// Files skipped, by reason.
    pub skipped: BTreeMap<&'static str, usize>,
    /// `--check` found untested items.
    pub check_failed: bool,
}

impl Outcome {
    pub fn exit_code(&self) -> ExitCode {
        if self.check_failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// The pipeline for one invocation.
pub fn run(args: &Args) -> Result<Outcome, Error> {
    let console = Console::new(args.quiet, args.verbose, args.color);
    let workspace = workspace::load(&Selection {
        manifest_path: args.manifest_path.clone(),
        packages: args.packages.clone(),
        workspace: args.workspace,
        exclude: args.exclude.clone(),
    })?;
    if let Some(Command::Cache { action }) = args.command {
        return cache_command(action, args, &workspace, &console);
    }
    for spec in &workspace.unknown_excludes {
        console.warn_text(&format!("excluded package `{spec}` not found in workspace"));
    }
    let filter = args
        .paths
        .iter()
        .map(|path| {
            path.canonicalize()
                .map_err(|_| Error::MissingPath(path.clone()))
        })
        .collect::<Result<Vec<PathBuf>, Error>>()?;
    // An LLM that cannot be used is found out before any file is read.
    let llm = if args.llm && !args.check {
        Some(llm::build(llm_settings(args, &workspace)?)?)
    } else {
        None
    };
    let generator: &dyn Generator = match &llm {
        Some(llm) => llm,
        None => &ScaffoldGenerator,
    };

    console.scanning();
    let scan = scan::scan(&workspace, &filter, &|n| console.scanned(n));
    let mut outcome = Outcome::default();
    for warning in &scan.warnings {
        report(&console, &mut outcome, warning);
    }

    let plans = plan_all(&scan);
    let requests: Vec<FileRequest<'_>> = plans
        .iter()
        .filter_map(|(file, plan)| plan.as_ref().ok().map(|plan| (file, plan)))
        .filter(|(_, plan)| !args.check && !plan.untested.is_empty())
        .map(|(file, plan)| request_for(file, plan, &scan, &workspace))
        .collect();
    console.generating(requests.len(), args.llm);
    let rendered = generate_and_render(&requests, &scan, generator, &console);
    // Cleared before any error is printed.
    console.finish();
    let rendered = rendered?;
    let mut rendered: BTreeMap<&str, Rendered> =
        requests.iter().map(|r| r.display).zip(rendered).collect();

    for (file, plan) in plans {
        let output = rendered.remove(file.display.as_str());
        let result = plan.and_then(|plan| act(file, plan, output, args, &console, &mut outcome));
        if let Err(warning) = result {
            report(&console, &mut outcome, &warning);
        }
    }
    if args.verbose
        && let Some((hits, misses, entries)) = generator.cache_stats()
    {
        console.output(&format!(
            "LLM cache — hits: {hits} misses: {misses} entries: {entries}"
        ));
    }
    console.summary(&summary(args, &outcome));
    Ok(outcome)
}

fn report(console: &Console, outcome: &mut Outcome, warning: &Warning) {
    console.warn(warning);
    if warning.skips_file() {
        *outcome.skipped.entry(warning.kind()).or_default() += 1;
    }
}

fn llm_settings(args: &Args, workspace: &Workspace) -> Result<llm::config::Settings, Error> {
    let flags = llm::config::LlmFlags {
        provider: args.provider,
        model: args.model.clone(),
        base_url: args.base_url.clone(),
        max_retries: args.max_retries,
        max_concurrent: args.max_concurrent,
        timeout: args.timeout,
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
        no_batch: args.no_batch,
    };
    llm::config::resolve(
        &flags,
        &|name| std::env::var(name).ok(),
        &workspace.config,
        &workspace.target_dir,
        &workspace.root,
    )
}

/// `cargo testsmith cache stats|clear`.
fn cache_command(
    action: CacheAction,
    args: &Args,
    workspace: &Workspace,
    console: &Console,
) -> Result<Outcome, Error> {
    let dir = args
        .cache_dir
        .clone()
        .unwrap_or_else(|| llm::config::default_cache_dir(&workspace.target_dir));
    let shown = scan::relative(&workspace.root, &dir);
    match action {
        CacheAction::Stats => {
            let entries = llm::cache::count_entries(&dir);
            console.output(&format!("LLM cache — entries: {entries} ({shown})"));
        }
        CacheAction::Clear => {
            let removed = llm::cache::clear(&dir)
                .map_err(|err| Error::Io(format!("could not clear {shown}: {err}")))?;
            console.output(&format!("removed {removed} LLM cache entries from {shown}"));
        }
    }
    Ok(Outcome::default())
}

/// Which items of one file need a test.
pub struct FilePlan<'a> {
    /// Items that already have a test, by the test code's calls or by a generated test's name.
    pub tested: Vec<&'a PublicFn>,
    pub untested: Vec<&'a PublicFn>,
    /// The test fn name of each untested item, in the same order.
    pub test_names: Vec<String>,
}

/// Decide for one file which items need a test.
pub fn plan_file(file: &scan::SourceFile) -> Result<FilePlan<'_>, Warning> {
    let analysis = &file.analysis;
    let existing_fns = match &analysis.existing {
        Some(ExistingModule::OutOfLine) => {
            return Err(Warning::OutOfLineModule {
                file: file.display.clone(),
            });
        }
        Some(ExistingModule::Inline { fns, .. }) => fns.clone(),
        None => Default::default(),
    };
    let mut plan = FilePlan {
        tested: Vec::new(),
        untested: Vec::new(),
        test_names: Vec::new(),
    };
    for (item, test_name) in analysis.items.iter().zip(test_names(&analysis.items)) {
        if analysis.calls.covers(item) || existing_fns.contains(&test_name) {
            plan.tested.push(item);
        } else {
            plan.untested.push(item);
            plan.test_names.push(test_name);
        }
    }
    Ok(plan)
}

/// Each item's test fn name, unique in the file: `foo_bar` and `foo::bar` both make
/// `test_foo_bar`, so the later item (in source order, stable between runs) gets a suffix.
fn test_names(items: &[PublicFn]) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    items
        .iter()
        .map(|item| {
            let name = generate::unique_name(&test_fn_name(&item.name), |n| seen.contains(n));
            seen.insert(name.clone());
            name
        })
        .collect()
}

/// Plan every selected file, in parallel, in path order.
pub fn plan_all(scan: &scan::Scan) -> Vec<(&scan::SourceFile, Result<FilePlan<'_>, Warning>)> {
    use rayon::prelude::*;
    scan.files
        .par_iter()
        .filter(|file| file.selected)
        .map(|file| (file, plan_file(file)))
        .collect()
}

/// What a generator gets for one file.
pub fn request_for<'a>(
    file: &'a scan::SourceFile,
    plan: &FilePlan<'a>,
    scan: &'a scan::Scan,
    workspace: &'a Workspace,
) -> FileRequest<'a> {
    FileRequest {
        display: &file.display,
        path: &file.path,
        source: &file.source,
        items: plan.untested.clone(),
        test_names: plan.test_names.clone(),
        constructors: &scan.constructors[file.package],
        type_defs: &scan.type_defs[file.package],
        test_source: &file.analysis.test_source,
        crates: &workspace.packages[file.package].crates,
    }
}

/// One file's generated tests, rendered into its new text where they were made.
pub struct Rendered {
    pub tests: usize,
    /// `None` when nothing was generated.
    pub new_source: Option<String>,
    pub warnings: Vec<Warning>,
}

/// Run the generator over `requests` and render each file's output as it comes; one
/// [`Rendered`] per request, in order.
pub fn generate_and_render(
    requests: &[FileRequest<'_>],
    scan: &scan::Scan,
    generator: &dyn Generator,
    progress: &dyn generate::Progress,
) -> Result<Vec<Rendered>, Error> {
    let slots: Vec<std::sync::Mutex<Option<Rendered>>> =
        requests.iter().map(|_| Default::default()).collect();
    let by_display: std::collections::HashMap<&str, &scan::SourceFile> =
        scan.files.iter().map(|f| (f.display.as_str(), f)).collect();
    let files: Vec<&scan::SourceFile> = requests.iter().map(|r| by_display[r.display]).collect();
    generator.generate_all(requests, progress, &|index, output: FileOutput| {
        let tests = output.tests.len();
        let new_source = (tests > 0).then(|| render(files[index], output.tests));
        *slots[index].lock().expect("lock") = Some(Rendered {
            tests,
            new_source,
            warnings: output.warnings,
        });
    })?;
    Ok(slots
        .into_iter()
        .map(|slot| {
            slot.into_inner().expect("lock").unwrap_or(Rendered {
                tests: 0,
                new_source: None,
                warnings: Vec::new(),
            })
        })
        .collect())
}

/// The file with `tests` added, their names settled: a new test must not take a name the
/// module or another new test already has.
fn render(file: &scan::SourceFile, tests: Vec<generate::GeneratedTest>) -> String {
    let mut taken: BTreeSet<String> = match &file.analysis.existing {
        Some(ExistingModule::Inline { fns, .. }) => fns.clone(),
        _ => BTreeSet::new(),
    };
    let mut functions = Vec::with_capacity(tests.len());
    for test in tests {
        let mut function = test.function;
        let name = generate::unique_name(&function.sig.ident.to_string(), |n| taken.contains(n));
        if function.sig.ident != name {
            function.sig.ident = syn::Ident::new(&name, function.sig.ident.span());
        }
        taken.insert(name);
        functions.push(function);
    }
    emit::splice(&file.source, file.analysis.existing.as_ref(), &functions)
}

/// Write, diff or list what was planned for one file.
fn act(
    file: &scan::SourceFile,
    plan: FilePlan<'_>,
    output: Option<Rendered>,
    args: &Args,
    console: &Console,
    outcome: &mut Outcome,
) -> Result<(), Warning> {
    outcome.already_tested += plan.tested.len();
    for item in &plan.tested {
        console.detail(&format!(
            "{}:{}: `{}` has a test",
            file.display, item.line, item.name
        ));
    }
    if plan.untested.is_empty() {
        return Ok(());
    }
    if args.check {
        outcome.files_changed += 1;
        outcome.tests += plan.untested.len();
        outcome.check_failed = true;
        for item in &plan.untested {
            console.output(&format!(
                "{}:{}: `{}` has no test",
                file.display, item.line, item.name
            ));
        }
        return Ok(());
    }
    let Some(mut output) = output else {
        return Ok(());
    };
    let mut failed = None;
    for warning in std::mem::take(&mut output.warnings) {
        console.warn(&warning);
        if warning.skips_file() {
            failed = Some(warning.kind());
        }
    }
    let Some(new_source) = output.new_source else {
        // Nothing came back for the file: it counts as skipped, for the reason warned above.
        if let Some(kind) = failed {
            *outcome.skipped.entry(kind).or_default() += 1;
        }
        return Ok(());
    };
    let tests = output.tests;
    if args.dry_run {
        console.diff(&emit::unified_diff(
            &file.display,
            &file.source,
            &new_source,
        ));
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
        console.detail(&format!("{}: wrote {tests} tests", file.display));
    }
    outcome.files_changed += 1;
    outcome.tests += tests;
    Ok(())
}

fn summary(args: &Args, outcome: &Outcome) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let head = if outcome.tests == 0 {
        if args.check {
            "every public item has a test".to_owned()
        } else {
            "nothing to generate".to_owned()
        }
    } else if args.check {
        format!(
            "{} in {} without a test",
            plural(outcome.tests, "public item", "public items"),
            plural(outcome.files_changed, "file", "files")
        )
    } else {
        format!(
            "{} {} in {}",
            if args.dry_run {
                "would generate"
            } else {
                "generated"
            },
            plural(outcome.tests, "test", "tests"),
            plural(outcome.files_changed, "file", "files")
        )
    };
    let mut text = format!(
        "{head}, {} already tested",
        plural(outcome.already_tested, "item", "items")
    );
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
    }
    text
}
