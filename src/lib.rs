//! cargo-testsmith: write unit tests for the public items of a Rust crate that have none.
//!
//! The stages run in one direction: [`workspace`] (cargo metadata → packages → target roots)
//! → [`scan`] and [`analysis`] (module tree → syn → public items and existing tests) →
//! [`generate`] (scaffolds) → [`emit`] (splice, atomic write, diff). [`run`] wires them
//! together; `DESIGN.md` maps each module.

pub mod analysis;
pub mod cli;
pub mod console;
pub mod emit;
pub mod error;
pub mod generate;
pub mod scan;
pub mod workspace;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

use analysis::{ExistingModule, PublicFn};
use cli::Args;
use console::Console;
use error::{Error, Warning};
use generate::{FileRequest, Generator, ScaffoldGenerator, test_fn_name};
use workspace::Selection;

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

    console.scanning();
    let scan = scan::scan(&workspace, &filter, &|n| console.scanned(n));
    let mut outcome = Outcome::default();
    for warning in &scan.warnings {
        console.warn(warning);
        *outcome.skipped.entry(warning.kind()).or_default() += 1;
    }

    let selected = scan.files.iter().filter(|f| f.selected).count();
    console.generating(selected);
    let plans = plan_all(&scan, &ScaffoldGenerator, !args.check, &|file| {
        console.file_done(&file.display);
    });
    for (file, plan) in plans {
        let result = plan.and_then(|plan| act(file, plan, args, &console, &mut outcome));
        if let Err(warning) = result {
            console.warn(&warning);
            *outcome.skipped.entry(warning.kind()).or_default() += 1;
        }
    }
    console.finish();
    console.summary(&summary(args, &outcome));
    Ok(outcome)
}

/// What one file needs: the items without a test, and the file's new text.
pub struct FilePlan<'a> {
    /// Items that already have a test, by the test code's calls or by a generated test's name.
    pub tested: Vec<&'a PublicFn>,
    pub untested: Vec<&'a PublicFn>,
    /// Items whose test fn name another item of the file already takes; left for a later run.
    pub name_clashes: Vec<&'a PublicFn>,
    /// The file with the generated tests added; `None` when nothing is to be added.
    pub new_source: Option<String>,
}

/// Decide and generate for one file, writing nothing. `generate` is false for `--check`.
pub fn plan_file<'a>(
    file: &'a scan::SourceFile,
    scan: &'a scan::Scan,
    generator: &dyn Generator,
    generate: bool,
) -> Result<FilePlan<'a>, Warning> {
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
        name_clashes: Vec::new(),
        new_source: None,
    };
    let mut names: HashSet<String> = existing_fns.iter().cloned().collect();
    for item in &analysis.items {
        let test_name = test_fn_name(&item.name);
        if analysis.calls.covers(item) || existing_fns.contains(&test_name) {
            plan.tested.push(item);
        } else if names.insert(test_name) {
            plan.untested.push(item);
        } else {
            plan.name_clashes.push(item);
        }
    }
    if generate && !plan.untested.is_empty() {
        let tests = generator.generate(&FileRequest {
            display: &file.display,
            source: &file.source,
            items: plan.untested.clone(),
            constructors: &scan.constructors[file.package],
        });
        let functions: Vec<syn::ItemFn> = tests.into_iter().map(|t| t.function).collect();
        plan.new_source = Some(emit::splice(
            &file.source,
            analysis.existing.as_ref(),
            &functions,
        ));
    }
    Ok(plan)
}

/// Plan every selected file, in parallel, in path order.
pub fn plan_all<'a>(
    scan: &'a scan::Scan,
    generator: &(dyn Generator + Sync),
    generate: bool,
    on_file: &(dyn Fn(&scan::SourceFile) + Sync),
) -> Vec<(&'a scan::SourceFile, Result<FilePlan<'a>, Warning>)> {
    use rayon::prelude::*;
    scan.files
        .par_iter()
        .filter(|file| file.selected)
        .map(|file| {
            let plan = plan_file(file, scan, generator, generate);
            on_file(file);
            (file, plan)
        })
        .collect()
}

/// Write, diff or list what was planned for one file.
fn act(
    file: &scan::SourceFile,
    plan: FilePlan<'_>,
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
    for item in &plan.name_clashes {
        console.detail(&format!(
            "{}:{}: `{}` would get a test fn name another item of this file already takes; left for a later run",
            file.display, item.line, item.name
        ));
    }
    if plan.untested.is_empty() {
        return Ok(());
    }
    outcome.files_changed += 1;
    outcome.tests += plan.untested.len();
    if args.check {
        outcome.check_failed = true;
        for item in &plan.untested {
            console.output(&format!(
                "{}:{}: `{}` has no test",
                file.display, item.line, item.name
            ));
        }
        return Ok(());
    }
    let Some(new_source) = plan.new_source else {
        return Ok(());
    };
    if args.dry_run {
        console.diff(&emit::unified_diff(
            &file.display,
            &file.source,
            &new_source,
        ));
        return Ok(());
    }
    emit::write_atomic(&file.path, &new_source).map_err(|source| Warning::Write {
        file: file.display.clone(),
        source,
    })?;
    console.detail(&format!(
        "{}: wrote {} tests",
        file.display,
        plan.untested.len()
    ));
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
