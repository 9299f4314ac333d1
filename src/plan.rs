//! Which items of each file need a test, and what their test fns are named: an item is tested
//! when the file's test code calls it, `mod testsmith_tests` already holds its test's name, a
//! doc test of the file calls it (libs only), or an integration test that names the crate does.
//! A scaffold (an `#[ignore]`d test still holding its `todo!()`) is a to-do, not a test: its
//! item is not generated for again, but `--check` lists it.

use std::collections::HashSet;

use crate::analysis::{Calls, ExistingModule, PublicFn};
use crate::error::Warning;
use crate::generate::{self, FileRequest, test_fn_name};
use crate::scan;
use crate::workspace::Workspace;

/// Where an item's test was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The file's `#[cfg(test)]` code (or the file of its `#[cfg(test)] mod tests;`).
    TestCode,
    /// `mod testsmith_tests` holds a test by its name.
    Generated,
    /// A doc test in the file.
    DocTest,
    /// An integration test file (its path relative to the workspace root).
    Integration(String),
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::TestCode => f.write_str("in the file's tests"),
            Found::Generated => f.write_str("in `testsmith_tests`"),
            Found::DocTest => f.write_str("in a doc test"),
            Found::Integration(file) => write!(f, "in {file}"),
        }
    }
}

/// Which items of one file need a test.
pub struct FilePlan<'a> {
    /// Items that already have a test, and where it was found.
    pub tested: Vec<(&'a PublicFn, Found)>,
    /// Items whose only tests are scaffolds: nothing to generate, but not tested either.
    pub scaffolded: Vec<&'a PublicFn>,
    pub untested: Vec<&'a PublicFn>,
    /// The test fn name of each untested item, in the same order.
    pub test_names: Vec<String>,
}

impl FilePlan<'_> {
    /// Keep only the items `keep` accepts (`--staged`, `--since`: those the change touched).
    /// Test names stay as the whole file's plan gave them, so a later full run agrees.
    pub fn retain(&mut self, keep: impl Fn(&PublicFn) -> bool) {
        self.tested.retain(|(item, _)| keep(item));
        self.scaffolded.retain(|item| keep(item));
        let (untested, names) = self
            .untested
            .iter()
            .zip(&self.test_names)
            .filter(|(item, _)| keep(item))
            .map(|(item, name)| (*item, name.clone()))
            .unzip();
        self.untested = untested;
        self.test_names = names;
    }
}

/// Decide for one file which items need a test. `integration` holds the calls of the
/// package's integration tests.
pub fn plan_file<'a>(
    file: &'a scan::SourceFile,
    integration: &[(String, Calls)],
    lib: bool,
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
        scaffolded: Vec::new(),
        untested: Vec::new(),
        test_names: Vec::new(),
    };
    let scaffolds = &analysis.scaffolds;
    for (item, test_name) in analysis.items.iter().zip(test_names(&analysis.items)) {
        let is_scaffold = scaffolds.fns.contains(&test_name);
        let found = if analysis.calls.covers(item) {
            Some(Found::TestCode)
        } else if existing_fns.contains(&test_name) && !is_scaffold {
            Some(Found::Generated)
        } else if lib && analysis.doc_calls.covers(item) {
            // rustdoc tests the docs of a lib only.
            Some(Found::DocTest)
        } else {
            integration
                .iter()
                .find(|(_, calls)| calls.covers(item))
                .map(|(file, _)| Found::Integration(file.clone()))
        };
        if let Some(found) = found {
            plan.tested.push((item, found));
        } else if is_scaffold || scaffolds.calls.covers(item) {
            plan.scaffolded.push(item);
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
pub fn plan_all<'a>(
    scan: &'a scan::Scan,
    workspace: &Workspace,
) -> Vec<(&'a scan::SourceFile, Result<FilePlan<'a>, Warning>)> {
    use rayon::prelude::*;
    scan.files
        .par_iter()
        .filter(|file| file.selected)
        .map(|file| {
            let lib = workspace.packages[file.package].targets[file.target].kind
                == crate::workspace::TargetKind::Lib;
            let integration = &scan.integration[file.package];
            (file, plan_file(file, integration, lib))
        })
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
        rules: &file.rules,
        imports: &file.analysis.imports,
    }
}
