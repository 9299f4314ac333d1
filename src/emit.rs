//! Emission, the last stage a file goes through: list its untested items (`--check`), diff
//! its new text (`--dry-run`) or write it atomically, and report what became of each item.
//! Nothing is written when the file changed since it was read. The interface to similar
//! (diffs) is localized here.

use std::io::Write;
use std::path::Path;

use crate::analysis::PublicFn;
use crate::error::Warning;
use crate::event::{Event, ItemRef, Listed, Mode, Reporter, Status, Tally};
use crate::generate::Candidate;
use crate::plan::FilePlan;
use crate::scan::SourceFile;
use crate::splice;
use crate::verify::TestVerdict;

/// One file's tests on their way out, with what became of the others.
#[derive(Default)]
pub struct FileTests {
    /// The tests to write, in order.
    pub candidates: Vec<Candidate>,
    /// The generator's own warnings (a piece of a reply dropped, a file it could not do).
    pub warnings: Vec<Warning>,
    /// Per test the generator gave, by item: what verification made of it (none when it did
    /// not run).
    pub verdicts: Vec<(String, TestVerdict)>,
    /// Per item with a written test: what its tests make of its mutants.
    pub mutants: Vec<crate::verify::ItemMutants>,
}

/// Write, diff or list what was planned for one file, reporting each item; the text written,
/// if any. A warning means the file was left as it was.
pub fn file(
    file: &SourceFile,
    plan: FilePlan<'_>,
    tests: Option<FileTests>,
    mode: Mode,
    reporter: &dyn Reporter,
    tally: &mut Tally,
) -> Result<Option<String>, Warning> {
    tally.already_tested += plan.tested.len();
    tally.scaffolded += plan.scaffolded.len();
    for (item, found) in &plan.tested {
        judged(
            file,
            item,
            Status::Tested,
            Some(found.to_string()),
            reporter,
        );
    }
    for item in &plan.scaffolded {
        judged(file, item, Status::ScaffoldOnly, None, reporter);
    }
    if mode == Mode::Check {
        check(file, &plan, reporter, tally);
        return Ok(None);
    }
    for item in &plan.scaffolded {
        let why = Listed::ScaffoldToFill;
        reporter.report(&Event::Listed {
            item: item_ref(file, item),
            why,
        });
    }
    if plan.untested.is_empty() {
        return Ok(None);
    }
    let Some(tests) = tests else {
        for item in &plan.untested {
            tally.untested += 1;
            judged(file, item, Status::Untested, None, reporter);
        }
        return Ok(None);
    };
    emit_tests(file, &plan, tests, mode, reporter, tally)
}

fn item_ref<'a>(file: &'a SourceFile, item: &'a PublicFn) -> ItemRef<'a> {
    ItemRef {
        file: &file.display,
        line: item.line,
        column: item.column,
        name: &item.name,
    }
}

/// What became of one item.
fn judged(
    file: &SourceFile,
    item: &PublicFn,
    status: Status,
    detail: Option<String>,
    reporter: &dyn Reporter,
) {
    reporter.report(&Event::Item {
        item: item_ref(file, item),
        status,
        detail,
    });
}

/// `--check`: each item without a test, or with only a scaffold, in line order. A scaffold is
/// work left, not a test: the gate fails on it as on a missing test.
fn check(file: &SourceFile, plan: &FilePlan<'_>, reporter: &dyn Reporter, tally: &mut Tally) {
    let mut listed: Vec<(&PublicFn, Listed)> = plan
        .untested
        .iter()
        .map(|item| (*item, Listed::NoTest))
        .chain(
            plan.scaffolded
                .iter()
                .map(|item| (*item, Listed::OnlyScaffold)),
        )
        .collect();
    if listed.is_empty() {
        return;
    }
    listed.sort_by_key(|(item, _)| item.line);
    tally.files_changed += 1;
    tally.tests += listed.len();
    tally.check_failed = true;
    for (item, why) in listed {
        reporter.report(&Event::Listed {
            item: item_ref(file, item),
            why,
        });
    }
    for item in &plan.untested {
        tally.untested += 1;
        judged(file, item, Status::Untested, None, reporter);
    }
}

/// The generator's and verification's word on the file's tests, the tests written or diffed,
/// and each untested item's status.
fn emit_tests(
    file: &SourceFile,
    plan: &FilePlan<'_>,
    tests: FileTests,
    mode: Mode,
    reporter: &dyn Reporter,
    tally: &mut Tally,
) -> Result<Option<String>, Warning> {
    let mut failed = None;
    for warning in &tests.warnings {
        reporter.report(&Event::Warning(warning));
        if warning.skips_file() {
            failed = Some(warning);
        }
    }
    for (item, verdict) in &tests.verdicts {
        let file = &file.display;
        reporter.report(&Event::Test {
            file,
            item,
            verdict,
        });
    }
    for mutants in &tests.mutants {
        reporter.report(&Event::Mutants {
            file: &file.display,
            mutants,
        });
    }
    // Why the file got no tests, when it got none.
    let (written, not_written) = if tests.candidates.is_empty() {
        // Nothing came back for the file: it counts as skipped, for the reason warned above.
        if let Some(warning) = failed {
            tally.count_skip(warning);
        }
        (None, None)
    } else {
        match write(file, &tests.candidates, mode, reporter, tally) {
            Ok(written) => (written, None),
            Err(warning) => (None, Some(warning)),
        }
    };
    for item in &plan.untested {
        let has_test = tests.candidates.iter().any(|c| c.item == item.name);
        let verdicts: Vec<&TestVerdict> = tests
            .verdicts
            .iter()
            .filter(|(name, _)| *name == item.name)
            .map(|(_, verdict)| verdict)
            .collect();
        let (status, detail) = item_status(has_test, &verdicts, not_written.as_ref(), failed);
        match status {
            Status::Untested => tally.untested += 1,
            Status::Dropped => tally.dropped += 1,
            _ => {}
        }
        judged(file, item, status, detail, reporter);
    }
    not_written.map_or(Ok(written), Err)
}

/// What became of an untested item: a test written (maybe a scaffold's lone `todo!()`), its
/// test dropped by verification, or none, with the reason where there is one.
fn item_status(
    has_test: bool,
    verdicts: &[&TestVerdict],
    not_written: Option<&Warning>,
    failed: Option<&Warning>,
) -> (Status, Option<String>) {
    match (not_written, has_test) {
        (None, true) => {
            let fell_back = verdicts
                .iter()
                .find(|v| matches!(v, TestVerdict::FellBack { .. }));
            (Status::Generated, fell_back.map(ToString::to_string))
        }
        (Some(warning), true) => (Status::Untested, Some(warning.to_string())),
        (_, false) => match verdicts.iter().find_map(|v| match v {
            TestVerdict::Dropped(reason) => Some(reason),
            _ => None,
        }) {
            Some(reason) => (Status::Dropped, Some(reason.to_string())),
            None => (Status::Untested, failed.map(ToString::to_string)),
        },
    }
}

/// Splice one file's kept tests in, and diff or write the result; the text written.
fn write(
    file: &SourceFile,
    candidates: &[Candidate],
    mode: Mode,
    reporter: &dyn Reporter,
    tally: &mut Tally,
) -> Result<Option<String>, Warning> {
    let tests = candidates.len();
    let candidates: Vec<&Candidate> = candidates.iter().collect();
    let existing = file.analysis.existing.as_ref();
    let new_source = splice::splice(&file.source, existing, &candidates, &file.rules).text;
    let written = if mode == Mode::DryRun {
        let diff = unified_diff(&file.display, &file.source, &new_source);
        let file = &file.display;
        reporter.report(&Event::FileDiff {
            file,
            tests,
            diff: &diff,
        });
        None
    } else {
        // A run with an LLM can take minutes: an edit made meanwhile wins over the tests.
        if std::fs::read(&file.path).ok().as_deref() != Some(file.source.as_bytes()) {
            return Err(Warning::ChangedDuringRun {
                file: file.display.clone(),
            });
        }
        write_atomic(&file.path, &new_source).map_err(|source| Warning::Write {
            file: file.display.clone(),
            source,
        })?;
        let file = &file.display;
        reporter.report(&Event::FileWritten { file, tests });
        Some(new_source)
    };
    tally.files_changed += 1;
    tally.tests += tests;
    Ok(written)
}

/// Replace `path` with `contents` through a temporary file in the same directory, keeping the
/// file's permissions; a crash leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".testsmith-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(contents.as_bytes())?;
    temp.as_file().sync_all()?;
    let permissions = std::fs::metadata(path)?.permissions();
    temp.as_file().set_permissions(permissions)?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// A unified diff from `old` to `new`, labelled with `display` the way `git diff` does.
pub fn unified_diff(display: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{display}"), &format!("b/{display}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Reason;

    #[test]
    fn an_items_status_follows_its_tests_verdicts() {
        let fell_back = TestVerdict::FellBack {
            first: "error[E0599]: no method".into(),
        };
        let dropped = TestVerdict::Dropped(Reason::Flaky { passed: 2, runs: 3 });
        assert_eq!(
            item_status(true, &[], None, None),
            (Status::Generated, None)
        );
        let (status, detail) = item_status(true, &[&fell_back], None, None);
        assert_eq!(status, Status::Generated);
        assert!(detail.unwrap().contains("a lone `todo!()`"));
        assert_eq!(
            item_status(false, &[&fell_back, &dropped], None, None),
            (
                Status::Dropped,
                Some("flaky: passed 2 of 3 runs".to_owned())
            )
        );
        // A test written into a file that could not be written is no test.
        let changed = Warning::ChangedDuringRun {
            file: "src/lib.rs".into(),
        };
        let (status, detail) = item_status(true, &[], Some(&changed), None);
        assert_eq!(status, Status::Untested);
        assert!(
            detail
                .unwrap()
                .contains("changed while tests were being generated")
        );
        // No test and no verdict: the file's own failure, if any, is the reason.
        let failed = Warning::Generation {
            file: "src/lib.rs".into(),
            message: "the server answered garbage".into(),
        };
        let (status, detail) = item_status(false, &[], None, Some(&failed));
        assert_eq!(status, Status::Untested);
        assert!(detail.unwrap().ends_with("the server answered garbage"));
        assert_eq!(
            item_status(false, &[], None, None),
            (Status::Untested, None)
        );
    }
}
