//! Which items of each file need a test, and what their test fns are named: an item is tested
//! when the file's test code calls it or `mod testsmith_tests` already holds its test's name.
//! A scaffold (an `#[ignore]`d test still holding its `todo!()`) is a to-do, not a test: its
//! item is not generated for again, but `--check` lists it.

use std::collections::HashSet;

use crate::analysis::{ExistingModule, PublicFn};
use crate::error::Warning;
use crate::generate::{self, FileRequest, test_fn_name};
use crate::scan;
use crate::workspace::Workspace;

/// Which items of one file need a test.
pub struct FilePlan<'a> {
    /// Items that already have a test, by the test code's calls or by a generated test's name.
    pub tested: Vec<&'a PublicFn>,
    /// Items whose only tests are scaffolds: nothing to generate, but not tested either.
    pub scaffolded: Vec<&'a PublicFn>,
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
        scaffolded: Vec::new(),
        untested: Vec::new(),
        test_names: Vec::new(),
    };
    let scaffolds = &analysis.scaffolds;
    for (item, test_name) in analysis.items.iter().zip(test_names(&analysis.items)) {
        let is_scaffold = scaffolds.fns.contains(&test_name);
        if analysis.calls.covers(item) || (existing_fns.contains(&test_name) && !is_scaffold) {
            plan.tested.push(item);
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
