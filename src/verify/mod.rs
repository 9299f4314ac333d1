//! The verify stage: every candidate test from a model is built and run in a scratch copy of
//! the workspace before anything is written, and only tests seen to compile and pass every run
//! are kept. Candidates that fail go back to the model with the compiler's or the test's own
//! words ([`Repairer`]); those that hang or pass only sometimes are dropped at once.
//!
//! [`scratch`] keeps the copy, [`build`] runs cargo and reads its diagnostics, [`run`] runs the
//! test binaries; this module decides what each result means for each candidate.

pub mod build;
mod mutation;
pub mod run;
pub mod scratch;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::contain::Sandbox;
use crate::error::{Error, VerifyError};
use crate::generate::{
    Candidate, Failure, FailureKind, FileOutput, FileRequest, RepairRequest, Repairer,
};
use crate::interrupt::Runtime;
use crate::scan::SourceFile;
use crate::splice;
use crate::workspace::{TargetKind, Workspace};
pub use mutation::{ItemMutants, MutationSummary};
use run::{TestBinary, TestOutcome};
pub use verdict::{Reason, TestVerdict};

/// Told what verification is doing, for the progress bar.
/// Run first in `main` of every binary that runs the verify stage: started as the containment
/// launcher or as cargo's compiler wrapper, it does that work and exits.
pub fn serve_if_asked() {
    build::wrap_rustc_if_asked();
    crate::contain::serve_if_asked();
}

pub trait Progress: crate::generate::Progress {
    fn phase(&self, text: &str);
}

/// One file's candidates, with what a repair needs to know about it.
pub struct FileUnderTest<'a> {
    pub file: &'a SourceFile,
    pub request: &'a FileRequest<'a>,
    pub candidates: Vec<Candidate>,
}

/// Files verified together: one scratch build, with the defaults or features added.
pub struct Batch<'a> {
    pub files: Vec<FileUnderTest<'a>>,
    pub features: Option<Features<'a>>,
}

/// Features added to one package's defaults: the build runs from that package's manifest,
/// where cargo's older resolver reads `--features` too.
#[derive(Clone, Copy)]
pub struct Features<'a> {
    pub package: &'a str,
    pub names: &'a BTreeSet<String>,
}

/// What verification made of one file's candidates.
#[derive(Default)]
pub struct FileVerdict {
    /// To write: tests that passed every run (and, with `--keep-failing`, failing ones,
    /// `#[ignore]`d with the reason).
    pub kept: Vec<Candidate>,
    /// Per test the generator first gave, by its item: what became of it. A test whose
    /// replacement was kept is not news; a repair that failed too says why it failed.
    pub tests: Vec<(String, TestVerdict)>,
    /// Per item with a kept test: what its tests make of its mutants (empty when the
    /// mutation stage did not run).
    pub mutants: Vec<ItemMutants>,
}

/// Per candidate a generator first gave: what became of it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub candidates: usize,
    /// Passed as first written.
    pub passed: usize,
    /// Passed after a repair (scaffolds: fell back to a lone `todo!()`).
    pub repaired: usize,
    /// Compiled but failed; written `#[ignore]`d (`--keep-failing`).
    pub kept_failing: usize,
    pub dropped: usize,
    /// Observed calls that passed, left out: they caught no mutant the chosen ones missed.
    pub unchosen: usize,
    /// The candidates were probes, whose first real test is what their runs showed.
    pub observed: bool,
}

pub struct Report {
    /// In the order of the files given.
    pub files: Vec<FileVerdict>,
    pub summary: Summary,
}

/// What verification did, for the summary line, `-v` and the benchmark.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Scaffolds, built only; `repaired` counts those that fell back to a lone `todo!()`.
    pub compile_only: bool,
    pub counts: Counts,
    /// `cargo test --no-run` invocations.
    pub builds: usize,
    pub build_time: Duration,
    pub run_time: Duration,
    /// The mutation stage's figures; `None` when it did not run.
    pub mutants: Option<MutationSummary>,
}

impl Summary {
    /// Another build's figures added to these.
    pub fn add(&mut self, other: &Summary) {
        let (ours, theirs) = (&mut self.counts, &other.counts);
        ours.candidates += theirs.candidates;
        ours.passed += theirs.passed;
        ours.repaired += theirs.repaired;
        ours.kept_failing += theirs.kept_failing;
        ours.dropped += theirs.dropped;
        ours.unchosen += theirs.unchosen;
        ours.observed |= theirs.observed;
        self.compile_only &= other.compile_only;
        self.builds += other.builds;
        self.build_time += other.build_time;
        self.run_time += other.run_time;
        self.mutants = match (self.mutants, other.mutants) {
            (Some(mut ours), Some(theirs)) => {
                ours.caught += theirs.caught;
                ours.total += theirs.total;
                ours.unbuildable += theirs.unbuildable;
                ours.builds += theirs.builds;
                ours.time += theirs.time;
                ours.isolated |= theirs.isolated;
                Some(ours)
            }
            (ours, theirs) => ours.or(theirs),
        };
    }
}

/// The verify stage's settings: every candidate from a model is built and run in a scratch
/// copy before it is written; offline scaffolds are compile-checked.
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
    /// Run tests even where a layer of containment is missing (`--allow-uncontained`).
    pub allow_uncontained: bool,
    /// Run the kept tests against their items' mutants (off with `--no-mutants`).
    pub mutants: bool,
    /// Rounds of asking the model again for tests that catch the surviving mutants
    /// (`--mutation-rounds`); 0 asks nothing.
    pub mutation_rounds: u32,
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
            allow_uncontained: false,
            mutants: true,
            mutation_rounds: 1,
        }
    }
}

/// An item one of whose tests fails among the crate's others reads what they change: its other
/// tests passed by luck of the order, and are dropped too. What is kept comes back.
fn drop_lucky_siblings(kept: Vec<Tracked>, dropped: &mut Vec<(Tracked, Reason)>) -> Vec<Tracked> {
    let shaky: BTreeSet<(usize, String)> = dropped
        .iter()
        .filter(|(_, reason)| *reason == Reason::FlakyTogether)
        .map(|(t, _)| (t.file, t.candidate.item.clone()))
        .collect();
    let (lucky, still): (Vec<Tracked>, Vec<Tracked>) = kept.into_iter().partition(|t| {
        !t.candidate.is_scaffold() && shaky.contains(&(t.file, t.candidate.item.clone()))
    });
    dropped.extend(lucky.into_iter().map(|t| (t, Reason::ItemFlakyTogether)));
    still
}

/// One test on its way through verification.
struct Tracked {
    /// Index into the files under test.
    file: usize,
    /// Index of the first candidate it descends from (itself, or the test a repair replaced).
    origin: usize,
    candidate: Candidate,
    repaired: bool,
    /// `Some(rendered diagnostic)` once it failed to compile.
    compile_error: Option<String>,
    /// Why the test it replaced was set aside (for a repair).
    replaced: Option<Reason>,
    /// Its runs among the other candidates.
    outcomes: Vec<TestOutcome>,
    /// Its run in a process of its own, after those.
    alone: Option<TestOutcome>,
}

impl Tracked {
    /// The same test, not yet built or run.
    fn fresh(&self) -> Tracked {
        Tracked {
            file: self.file,
            origin: self.origin,
            candidate: self.candidate.clone(),
            repaired: self.repaired,
            compile_error: None,
            replaced: self.replaced.clone(),
            outcomes: Vec::new(),
            alone: None,
        }
    }
}

/// A test worth a repair: the evidence for the repairer, the reason, whether it compiled.
type Broken = (Tracked, String, Reason, bool);

/// A test sent for repair: the reason it failed, whether it compiled.
type Asked = (Tracked, Reason, bool);

/// How a tracked test ended.
enum End {
    Passed,
    /// Worth a repair: the evidence, and the reason shown when it is dropped.
    Broken {
        evidence: String,
        reason: Reason,
        compiled: bool,
    },
    /// Not worth a repair (rerunning is where the time goes).
    Dropped(Reason),
}

/// Where the tests stand after the rounds: passed, kept failing, dropped (with a reason each).
#[derive(Default)]
struct Ended {
    kept: Vec<Tracked>,
    /// Passed, then replaced by a test that catches more of its item's mutants: its first
    /// candidate's verdict stands, its code is not written.
    superseded: Vec<Tracked>,
    /// Passed, but caught no mutant the chosen tests of its item did not (observed tests):
    /// neither written nor counted.
    unchosen: Vec<Tracked>,
    failing: Vec<(Tracked, Reason)>,
    dropped: Vec<(Tracked, Reason)>,
}

/// Where the scratch copy and its final artifacts live, under the workspace's target dir:
/// stable paths, so cargo's fingerprints stay valid and a second verification is incremental.
/// The intermediate artifacts go to the user's own build dir (see [`build::BuildRequest`]).
fn scratch_paths(workspace: &Workspace) -> (PathBuf, PathBuf, PathBuf) {
    let base = workspace.target_dir.join("testsmith");
    (base.clone(), base.join("scratch"), base.join("out"))
}

/// The workspace's own dirs, never copied into the scratch copy.
fn not_copied(workspace: &Workspace) -> [PathBuf; 2] {
    [workspace.target_dir.clone(), workspace.build_dir.clone()]
}

pub fn verify(
    workspace: &Workspace,
    batch: Batch<'_>,
    options: &VerifyOptions,
    repairer: Option<&dyn Repairer>,
    runtime: &Runtime,
    progress: &dyn Progress,
    warm: Option<WarmUp>,
) -> Result<Report, Error> {
    let Batch { files, features } = batch;
    let mut verifier = Verifier::new(
        workspace, &files, features, options, runtime, progress, warm,
    )?;
    let mut tracked: Vec<Tracked> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for candidate in &file.candidates {
            tracked.push(Tracked {
                file: index,
                origin: tracked.len(),
                candidate: candidate.clone(),
                repaired: false,
                compile_error: None,
                replaced: None,
                outcomes: Vec::new(),
                alone: None,
            });
        }
    }
    let total = tracked.len();
    let mut ended = verifier.rounds(&files, tracked, repairer)?;
    let mut mutants = None;
    if !options.compile_only {
        let started = Instant::now();
        let built_also = verifier.built_beside(&ended);
        verifier.together(&mut ended, built_also)?;
        // A mutant that makes a loop endless is caught when its test takes far longer than
        // all the kept tests took together (as cargo-mutants scales its timeout from the
        // baseline); `--test-timeout` bounds it.
        verifier.mutant_timeout = (started.elapsed() * 5 + Duration::from_secs(1)).clamp(
            Duration::from_secs(1).min(options.test_timeout),
            options.test_timeout,
        );
        let observes = repairer.is_some_and(|r| r.observes());
        if options.mutants && !ended.kept.is_empty() {
            let mut totals = MutationSummary::default();
            let (mut figures, catches) = verifier.mutation(&files, &ended.kept, &mut totals)?;
            match repairer {
                // The chosen tests catch what all of them did: the figures stand.
                Some(_) if observes => {
                    let unchosen = mutation::choose(&mut ended.kept, &catches);
                    ended.unchosen.extend(unchosen);
                }
                Some(repairer) => {
                    verifier.strengthen(&files, &mut ended, &mut figures, repairer, &mut totals)?
                }
                None => {}
            }
            // What the written tests catch, after any replacement (and of items whose tests
            // are still kept).
            totals.isolated = verifier.isolated;
            for (file, items) in figures.iter_mut() {
                items.retain(|i| {
                    ended
                        .kept
                        .iter()
                        .any(|t| t.file == *file && t.candidate.item == i.item)
                });
                totals.add(items);
            }
            mutants = Some((figures, totals));
        } else if observes {
            // Nothing to choose by: the first of each item's tests.
            let unchosen = mutation::choose(&mut ended.kept, &Default::default());
            ended.unchosen.extend(unchosen);
        }
    }
    // The next run's warm-up builds the copy as this run leaves it, uncontained: leave it as
    // built, not as the tests left it.
    verifier.leave_as_built()?;
    let summary = Summary {
        compile_only: options.compile_only,
        counts: Counts {
            candidates: total,
            observed: repairer.is_some_and(|r| r.observes()),
            ..Counts::default()
        },
        builds: verifier.builds,
        build_time: verifier.build_time,
        run_time: verifier.run_time,
        mutants: mutants.as_ref().map(|(_, totals)| *totals),
    };
    let mut report = report(&files, ended, summary);
    if let Some((figures, _)) = mutants {
        for (file, items) in figures {
            report.files[file].mutants = items;
        }
    }
    Ok(report)
}

/// Each file's verdict from how its tests ended, with the counts per first candidate.
fn report(files: &[FileUnderTest<'_>], ended: Ended, mut summary: Summary) -> Report {
    let mut verdicts: Vec<FileVerdict> = files.iter().map(|_| FileVerdict::default()).collect();
    // Per first candidate, the first way it was kept.
    let mut origins: BTreeMap<usize, (usize, String, TestVerdict)> = BTreeMap::new();
    let passed = |test: &Tracked| match (&test.replaced, test.repaired) {
        (Some(reason), true) if summary.compile_only => TestVerdict::FellBack {
            first: match reason {
                Reason::DoesNotCompile { first } => first.clone(),
                other => other.to_string(),
            },
        },
        (_, true) => TestVerdict::Repaired,
        (_, false) => TestVerdict::Passed,
    };
    for test in &ended.kept {
        origins.entry(test.origin).or_insert((
            test.file,
            test.candidate.item.clone(),
            passed(test),
        ));
        verdicts[test.file].kept.push(test.candidate.clone());
    }
    for test in &ended.superseded {
        origins.entry(test.origin).or_insert((
            test.file,
            test.candidate.item.clone(),
            passed(test),
        ));
    }
    for (test, reason) in &ended.failing {
        origins.entry(test.origin).or_insert((
            test.file,
            test.candidate.item.clone(),
            TestVerdict::KeptFailing(reason.clone()),
        ));
        let ignored = splice::with_ignore(&test.candidate, &format!("testsmith: {reason}"));
        verdicts[test.file].kept.push(ignored);
    }
    // Observed tests that passed but were not chosen: neither kept nor dropped.
    let unchosen: BTreeSet<usize> = ended
        .unchosen
        .iter()
        .map(|t| t.origin)
        .filter(|o| !origins.contains_key(o))
        .collect();
    // The last reason of each first candidate that nothing replaced.
    let mut last: BTreeMap<usize, (usize, String, TestVerdict)> = BTreeMap::new();
    for (test, reason) in ended.dropped {
        if !origins.contains_key(&test.origin) && !unchosen.contains(&test.origin) {
            let reason = if test.repaired {
                Reason::AfterRepair(Box::new(reason))
            } else {
                reason
            };
            last.insert(
                test.origin,
                (test.file, test.candidate.item, TestVerdict::Dropped(reason)),
            );
        }
    }
    let counts = &mut summary.counts;
    for (file, item, verdict) in origins.into_values().chain(last.into_values()) {
        match &verdict {
            TestVerdict::Passed => counts.passed += 1,
            TestVerdict::Repaired | TestVerdict::FellBack { .. } => counts.repaired += 1,
            TestVerdict::KeptFailing(_) => counts.kept_failing += 1,
            TestVerdict::Dropped(_) => {}
        }
        verdicts[file].tests.push((item, verdict));
    }
    counts.unchosen = unchosen.len();
    counts.dropped =
        counts.candidates - counts.passed - counts.repaired - counts.kept_failing - counts.unchosen;
    // Kept tests go in the order the generator gave them.
    for (verdict, file) in verdicts.iter_mut().zip(files) {
        let order: HashMap<&str, usize> = file
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.item.as_str(), i))
            .collect();
        verdict
            .kept
            .sort_by_key(|c| order.get(c.item.as_str()).copied().unwrap_or(usize::MAX));
    }
    Report {
        files: verdicts,
        summary,
    }
}

/// What a test's runs add up to.
fn end_of(test: &Tracked, options: &VerifyOptions) -> End {
    // A scaffold is never run: built is all it can be.
    if (options.compile_only || test.candidate.is_scaffold()) && test.compile_error.is_none() {
        return End::Passed;
    }
    if let Some(rendered) = &test.compile_error {
        let first = rendered.lines().next().unwrap_or_default().to_owned();
        return End::Broken {
            evidence: rendered.clone(),
            reason: Reason::DoesNotCompile { first },
            compiled: false,
        };
    }
    // Compiled out by its `cfg` in this build (`not(feature = "x")` with `x` on).
    if !test.outcomes.is_empty() && test.outcomes.iter().all(TestOutcome::not_found) {
        return End::Dropped(Reason::NotRun);
    }
    let runs = test.outcomes.len();
    // A probe fails to say what its call did, in each run; whatever it did (a hang, a crash)
    // is the observing generator's to write down.
    if test.candidate.is_probe() && runs > 0 {
        let outputs: Vec<String> = test
            .outcomes
            .iter()
            .map(|o| match o {
                TestOutcome::Failed { output } => output.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        return End::Broken {
            evidence: outputs.join(crate::generate::PROBE_RUNS),
            reason: Reason::Fails {
                message: "a probe".to_owned(),
            },
            compiled: true,
        };
    }
    let passed = test
        .outcomes
        .iter()
        .filter(|o| **o == TestOutcome::Passed)
        .count();
    // Seen once is enough: in the user's own `cargo test` it would do it every time.
    let escaped = test
        .outcomes
        .iter()
        .chain(&test.alone)
        .find_map(|o| match o {
            TestOutcome::Escaped { what } => Some(what.clone()),
            _ => None,
        });
    if let Some(what) = escaped {
        return End::Dropped(Reason::Escaped { what });
    }
    if test.outcomes.contains(&TestOutcome::TimedOut) {
        return End::Dropped(Reason::TimedOut {
            after: options.test_timeout,
        });
    }
    if runs == 0 {
        return End::Dropped(Reason::NotRun);
    }
    let alone_passed = test.alone.as_ref().map(|o| *o == TestOutcome::Passed);
    if passed == runs {
        return match alone_passed {
            Some(false) => End::Dropped(Reason::OrderDependent {
                passes_alone: false,
            }),
            _ => End::Passed,
        };
    }
    if passed == 0 && alone_passed == Some(true) {
        return End::Dropped(Reason::OrderDependent { passes_alone: true });
    }
    if passed > 0 {
        return End::Dropped(Reason::Flaky { passed, runs });
    }
    match &test.outcomes[0] {
        TestOutcome::Crashed { how } => End::Broken {
            evidence: format!("the test process crashed: {how}"),
            reason: Reason::Crashed { how: how.clone() },
            compiled: true,
        },
        TestOutcome::Failed { output } => End::Broken {
            evidence: output.clone(),
            reason: Reason::Fails {
                message: panic_message(output),
            },
            compiled: true,
        },
        TestOutcome::Forged { how } => End::Dropped(Reason::Forged { how: how.clone() }),
        TestOutcome::Escaped { what } => End::Dropped(Reason::Escaped { what: what.clone() }),
        TestOutcome::Passed | TestOutcome::TimedOut => unreachable!("handled above"),
    }
}

/// The panic's message from a test's output, on one line: `assertion `left == right` failed
/// (left: -42, right: 42)`.
fn panic_message(output: &str) -> String {
    let mut lines = output.lines();
    let message: Vec<&str> = match lines.position(|l| l.contains("panicked at")) {
        Some(_) => lines
            .take_while(|l| !l.trim().is_empty() && !l.starts_with("note:"))
            .map(str::trim)
            .collect(),
        None => output
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(1)
            .collect(),
    };
    let text = match message.split_first() {
        Some((first, [])) => (*first).to_owned(),
        Some((first, rest)) => format!("{first} ({})", rest.join(", ")),
        None => "no output".to_owned(),
    };
    const MAX: usize = 300;
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    } else {
        text
    }
}

/// The scratch copy, its builds and its test runs.
struct Verifier<'a> {
    workspace: &'a Workspace,
    options: &'a VerifyOptions,
    runtime: &'a Runtime,
    progress: &'a dyn Progress,
    scratch: PathBuf,
    /// Per file under test: its path in the scratch copy, its source, where its module is,
    /// the libtest path of its `testsmith_tests` module and its crate root in the copy.
    files: Vec<ScratchFile<'a>>,
    request: build::BuildRequest,
    threads: usize,
    builds: usize,
    build_time: Duration,
    run_time: Duration,
    /// The candidates (by file and name) in the binaries built last.
    built: BTreeSet<(usize, String)>,
    binaries: BTreeMap<PathBuf, PathBuf>,
    /// Where tests run; `None` for scaffolds, which are only built.
    sandbox: Option<Arc<Sandbox>>,
    /// Per first candidate, what its repairs tried: rounds end when they stop making progress.
    tried: HashMap<usize, Tried>,
    /// Per file under test, the text the last build had.
    built_text: HashMap<usize, String>,
    /// Mutants ran one process each (the crate keeps global state).
    isolated: bool,
    /// How long a test may run against a mutant before the mutant counts as caught.
    mutant_timeout: Duration,
    /// Per package directory: whether its sources keep state a test process shares.
    keeps_state: HashMap<PathBuf, bool>,
    _lock: scratch::ScratchLock,
}

/// The code and the failures one first candidate's repairs went through.
#[derive(Default)]
struct Tried {
    codes: BTreeSet<String>,
    evidence: BTreeSet<String>,
}

/// Where a candidate landed in the scratch copy: its file and 1-based lines.
#[derive(Debug, Default, Clone, Copy)]
struct Place {
    file: usize,
    first: usize,
    last: usize,
}

struct ScratchFile<'a> {
    file: &'a SourceFile,
    path: PathBuf,
    rel: PathBuf,
    module: String,
    crate_root: PathBuf,
    package_dir: PathBuf,
    package: String,
}

/// A build of the untouched sources in the scratch copy, started while the model is still
/// answering: the dependencies are compiled by the time the candidates arrive, and the build
/// of the candidates is incremental. Dropping it kills the build.
pub struct WarmUp {
    lock: Option<scratch::ScratchLock>,
    request: build::BuildRequest,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WarmUp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Lock and sync the scratch copy, then start building what `files` belong to.
pub fn warm_up(
    workspace: &Workspace,
    files: &[&SourceFile],
    features: Option<Features<'_>>,
    runtime: &Runtime,
) -> Result<WarmUp, Error> {
    let (lock, request) = prepare(workspace, files, features)?;
    let background = request.clone();
    let stopper = runtime.stopper();
    // The files tests go into hold the last run's tests, which may not compile now: a failure
    // is believed only from the files as they are.
    let scratch = request.scratch.clone();
    let originals: Vec<(PathBuf, String)> = files
        .iter()
        .filter_map(|f| {
            Some((
                f.path.strip_prefix(&workspace.root).ok()?.to_owned(),
                f.source.clone(),
            ))
        })
        .collect();
    let task = runtime.spawn(async move {
        // A package that does not build as it is cannot verify a test: no call is worth
        // sending. Errors in the candidates' build come again, attributed, later.
        let mut failure = match build::build(&background).await {
            Ok(build) if build.success => return,
            Ok(build) => untouched_failure(&background, build),
            Err(err) => err,
        };
        let mut restored = false;
        for (rel, source) in &originals {
            match scratch::put(&scratch, rel, source) {
                Ok(wrote) => restored |= wrote,
                Err(source) => {
                    let path = scratch.join(rel);
                    failure = VerifyError::Scratch { path, source };
                    restored = false;
                    break;
                }
            }
        }
        if restored {
            match build::build(&background).await {
                Ok(build) if build.success => return,
                Ok(build) => failure = untouched_failure(&background, build),
                Err(err) => failure = err,
            }
        }
        stopper.stop(failure.to_string());
    });
    Ok(WarmUp {
        lock: Some(lock),
        request,
        task,
    })
}

/// Why the untouched sources did not build: the disk, or the package itself.
fn untouched_failure(request: &build::BuildRequest, build: build::Build) -> VerifyError {
    if let Some(no_space) = no_space(request, &build) {
        return no_space;
    }
    match build.errors.first() {
        Some(error) => VerifyError::Baseline {
            package: format!("package `{}`", request.packages.join("`, `")),
            first_error: first_lines(&error.rendered),
        },
        None => VerifyError::Cargo {
            command: build.command,
            status: "failed".to_owned(),
            stderr: cargo_reason(&build.stderr),
        },
    }
}

/// A build that failed for want of disk space, whatever the compiler made of it (a linker
/// that could not write its output reads as the package's error).
fn no_space(request: &build::BuildRequest, build: &build::Build) -> Option<VerifyError> {
    const NO_SPACE: &str = "No space left on device";
    let full = build.stderr.contains(NO_SPACE)
        || build.errors.iter().any(|e| e.rendered.contains(NO_SPACE));
    full.then(|| VerifyError::NoSpace {
        path: request.build_dir.clone(),
    })
}

/// Take the scratch copy's lock, sync it with the workspace, and say what to build for
/// `files`: their packages' lib and bin test targets.
fn prepare(
    workspace: &Workspace,
    files: &[&SourceFile],
    features: Option<Features<'_>>,
) -> Result<(scratch::ScratchLock, build::BuildRequest), Error> {
    let (base, scratch, out_dir) = scratch_paths(workspace);
    let scratch_error = |path: &Path| {
        let path = path.to_owned();
        move |source| VerifyError::Scratch { path, source }
    };
    let lock = scratch::lock(&base).map_err(scratch_error(&base))?;
    // Earlier versions built everything again here, dependencies included; that copy is
    // ours and now unused.
    let _ = std::fs::remove_dir_all(base.join("build"));
    // The files tests go into are written by the builds themselves.
    let own = files
        .iter()
        .filter_map(|f| f.path.strip_prefix(&workspace.root).ok())
        .map(Path::to_path_buf)
        .collect();
    scratch::sync_keeping(&workspace.root, &not_copied(workspace), &scratch, &own)
        .map_err(scratch_error(&scratch))?;
    let mut packages = BTreeSet::new();
    let (mut lib, mut bins) = (false, false);
    for file in files {
        let package = &workspace.packages[file.package];
        packages.insert(package.name.clone());
        match package.targets[file.target].kind {
            TargetKind::Lib => lib = true,
            TargetKind::Bin => bins = true,
        }
    }
    let scratch = build::canonical(&scratch);
    let request = build::BuildRequest {
        cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        target_dir: out_dir,
        build_dir: workspace.build_dir.clone(),
        packages: packages.into_iter().collect(),
        manifest: features
            .and_then(|f| workspace.packages.iter().find(|p| p.name == f.package))
            .and_then(|p| p.root.strip_prefix(&workspace.root).ok())
            .map_or_else(
                || scratch.join("Cargo.toml"),
                |rel| scratch.join(rel).join("Cargo.toml"),
            ),
        features: features.map_or_else(Vec::new, |f| f.names.iter().cloned().collect()),
        scratch,
        lib,
        bins,
    };
    Ok((lock, request))
}

impl<'a> Verifier<'a> {
    fn new(
        workspace: &'a Workspace,
        files: &[FileUnderTest<'a>],
        features: Option<Features<'_>>,
        options: &'a VerifyOptions,
        runtime: &'a Runtime,
        progress: &'a dyn Progress,
        warm: Option<WarmUp>,
    ) -> Result<Verifier<'a>, Error> {
        let started = Instant::now();
        let (lock, request) = match warm {
            Some(mut warm) => {
                progress.phase("waiting for the build of the untouched sources");
                let task = &mut warm.task;
                runtime.block_on(async move {
                    let _ = task.await;
                    Ok(())
                })?;
                let lock = warm.lock.take().expect("taken once");
                (lock, warm.request.clone())
            }
            None => {
                progress.phase("copying the workspace to a scratch directory");
                let sources: Vec<&SourceFile> = files.iter().map(|f| f.file).collect();
                prepare(workspace, &sources, features)?
            }
        };
        // What the candidates' build waited on counts as building.
        let waited = started.elapsed();
        let scratch = request.scratch.clone();
        let in_scratch = |path: &Path| -> PathBuf {
            scratch.join(path.strip_prefix(&workspace.root).unwrap_or(path))
        };
        let scratch_files = files
            .iter()
            .map(|under_test| {
                let file = under_test.file;
                let package = &workspace.packages[file.package];
                let target = &package.targets[file.target];
                let mut module = file.module_path.join("::");
                if !module.is_empty() {
                    module.push_str("::");
                }
                module.push_str(crate::analysis::MODULE_NAME);
                ScratchFile {
                    file,
                    path: in_scratch(&file.path),
                    rel: file
                        .path
                        .strip_prefix(&workspace.root)
                        .unwrap_or(&file.path)
                        .to_owned(),
                    module,
                    crate_root: in_scratch(&target.root),
                    package_dir: in_scratch(&package.root),
                    package: package.name.clone(),
                }
            })
            .collect();
        // Tests are untrusted code: they run only contained (or where the user allowed it).
        let sandbox = if options.compile_only {
            None
        } else {
            // The test binaries and their libraries are in the build dir.
            let sandbox = Sandbox::new(
                &[scratch.as_path()],
                &[request.build_dir.as_path(), request.target_dir.as_path()],
                options.allow_uncontained,
            )
            .map_err(|missing| VerifyError::Uncontained { missing })?;
            Some(Arc::new(sandbox))
        };
        Ok(Verifier {
            sandbox,
            tried: HashMap::new(),
            built_text: HashMap::new(),
            isolated: false,
            mutant_timeout: options.test_timeout,
            keeps_state: HashMap::new(),
            workspace,
            options,
            runtime,
            progress,
            scratch,
            files: scratch_files,
            request,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            builds: 0,
            build_time: waited,
            run_time: Duration::ZERO,
            built: BTreeSet::new(),
            binaries: BTreeMap::new(),
            _lock: lock,
        })
    }

    /// Build, run and repair until every test has passed or ended: scaffolds get one round
    /// (their fallback form), a model's tests `--repair-rounds`.
    fn rounds(
        &mut self,
        files: &[FileUnderTest<'_>],
        mut pending: Vec<Tracked>,
        repairer: Option<&dyn Repairer>,
    ) -> Result<Ended, Error> {
        let options = self.options;
        let repair_rounds = if options.compile_only {
            1
        } else if repairer.is_some_and(|r| r.observes()) {
            // A probe's record, its `Debug` form, the scaffold, the scaffold's lone form.
            4
        } else {
            options.repair_rounds
        };
        let mut ended = Ended::default();
        let mut round = 0;
        while !pending.is_empty() {
            if self.build_until_clean(&ended.kept, &mut pending)? && !options.compile_only {
                self.run_rounds(&mut pending)?;
            }
            let mut broken: Vec<Broken> = Vec::new();
            for test in pending.drain(..) {
                match end_of(&test, options) {
                    End::Passed => ended.kept.push(test),
                    End::Dropped(reason) => ended.dropped.push((test, reason)),
                    End::Broken {
                        evidence,
                        reason,
                        compiled,
                    } => broken.push((test, evidence, reason, compiled)),
                }
            }
            let Some(repairer) = repairer.filter(|_| round < repair_rounds) else {
                for (test, _, reason, compiled) in broken {
                    if compiled && options.keep_failing {
                        ended.failing.push((test, reason));
                    } else {
                        ended.dropped.push((test, reason));
                    }
                }
                break;
            };
            if broken.is_empty() {
                break;
            }
            round += 1;
            pending = self.repair(files, broken, repairer, &mut ended)?;
        }
        Ok(ended)
    }

    /// The copy as the workspace is, and the files tests go into as the last build had them.
    fn leave_as_built(&self) -> Result<(), Error> {
        self.restore_scratch()?;
        for (index, text) in &self.built_text {
            let file = &self.files[*index];
            scratch::put(&self.scratch, &file.rel, text).map_err(|source| {
                VerifyError::Scratch {
                    path: file.path.clone(),
                    source,
                }
            })?;
        }
        Ok(())
    }

    /// The scratch copy as the workspace is, but for the files tests go into (written next):
    /// the tests that ran since the last build may have changed or deleted its files.
    fn restore_scratch(&self) -> Result<(), Error> {
        let own = self.files.iter().map(|f| f.rel.clone()).collect();
        let skip = not_copied(self.workspace);
        scratch::sync_keeping(&self.workspace.root, &skip, &self.scratch, &own).map_err(
            |source| VerifyError::Scratch {
                path: self.scratch.clone(),
                source,
            },
        )?;
        Ok(())
    }

    /// Splice `tests` into the scratch copy of each file (the others as they are) and build.
    /// Returns each test's line range, by index into `tests`.
    fn write_and_build(
        &mut self,
        tests: &[&Candidate],
        file_of: &[usize],
    ) -> Result<(build::Build, Vec<Place>), Error> {
        if self.builds > 0 {
            self.restore_scratch()?;
        }
        let mut places = vec![Place::default(); tests.len()];
        for (index, file) in self.files.iter().enumerate() {
            let mine: Vec<usize> = (0..tests.len()).filter(|&t| file_of[t] == index).collect();
            let chosen: Vec<&Candidate> = mine.iter().map(|&t| tests[t]).collect();
            let text = if chosen.is_empty() {
                file.file.source.clone()
            } else {
                let spliced = splice::splice(
                    &file.file.source,
                    file.file.analysis.existing.as_ref(),
                    &chosen,
                    &file.file.rules,
                );
                for (&t, (first, last)) in mine.iter().zip(spliced.lines) {
                    places[t] = Place {
                        file: index,
                        first,
                        last,
                    };
                }
                spliced.text
            };
            scratch::put(&self.scratch, &file.rel, &text).map_err(|source| {
                VerifyError::Scratch {
                    path: file.path.clone(),
                    source,
                }
            })?;
            self.built_text.insert(index, text);
        }
        self.progress.phase(&format!(
            "building {} with cargo",
            plural(tests.len(), "candidate test", "candidate tests")
        ));
        let started = Instant::now();
        let request = &self.request;
        let result = self
            .runtime
            .block_on(async { build::build(request).await.map_err(Error::from) });
        self.build_time += started.elapsed();
        self.builds += 1;
        Ok((result?, places))
    }

    /// Build `kept` and `pending` together; set aside the pending tests the compiler's errors
    /// point at and build again without them, until the build succeeds. Returns whether any
    /// pending test compiled (and is in the binaries built).
    fn build_until_clean(
        &mut self,
        kept: &[Tracked],
        pending: &mut [Tracked],
    ) -> Result<bool, Error> {
        loop {
            let live: Vec<usize> = (0..pending.len())
                .filter(|&i| pending[i].compile_error.is_none())
                .collect();
            if live.is_empty() {
                return Ok(false);
            }
            let tests: Vec<&Candidate> = kept
                .iter()
                .map(|t| &t.candidate)
                .chain(live.iter().map(|&i| &pending[i].candidate))
                .collect();
            let file_of: Vec<usize> = kept
                .iter()
                .map(|t| t.file)
                .chain(live.iter().map(|&i| pending[i].file))
                .collect();
            let (build, places) = self.write_and_build(&tests, &file_of)?;
            let mut blamed: BTreeMap<usize, String> = BTreeMap::new();
            for error in &build.errors {
                match self.blame(error, &places[kept.len()..]) {
                    Some(index) => {
                        blamed
                            .entry(live[index])
                            .or_insert_with(|| error.rendered.clone());
                    }
                    None => {
                        if let Some(no_space) = no_space(&self.request, &build) {
                            return Err(no_space.into());
                        }
                        // A kept test has compiled before; an error elsewhere is the
                        // package's own.
                        let package = self.package_of(error);
                        return Err(VerifyError::Baseline {
                            package,
                            first_error: first_lines(&error.rendered),
                        }
                        .into());
                    }
                }
            }
            if blamed.is_empty() {
                if let Some(no_space) = no_space(&self.request, &build).filter(|_| !build.success) {
                    return Err(no_space.into());
                }
                if !build.success {
                    return Err(VerifyError::Cargo {
                        command: build.command,
                        status: "failed".to_owned(),
                        stderr: cargo_reason(&build.stderr),
                    }
                    .into());
                }
                self.binaries = build.binaries;
                self.built = tests
                    .iter()
                    .zip(&file_of)
                    .map(|(t, &f)| (f, t.name.clone()))
                    .collect();
                return Ok(true);
            }
            for (index, rendered) in blamed {
                pending[index].compile_error = Some(rendered);
            }
        }
    }

    /// The candidate (index into `places`) an error points at: its primary spans first, then
    /// any other place it names.
    fn blame(&self, error: &build::Diagnostic, places: &[Place]) -> Option<usize> {
        let hit = |(path, first, last): &(PathBuf, usize, usize)| {
            places.iter().position(|place| {
                place.last > 0
                    && self.files[place.file].path == *path
                    && *first <= place.last
                    && *last >= place.first
            })
        };
        error.find_span(hit)
    }

    /// The package an error belongs to, by the file it points at, for the message.
    fn package_of(&self, error: &build::Diagnostic) -> String {
        let named = error.spans.first().and_then(|(path, _, _)| {
            self.workspace
                .packages
                .iter()
                .filter(|p| {
                    let dir = self
                        .scratch
                        .join(p.root.strip_prefix(&self.workspace.root).unwrap_or(&p.root));
                    path.starts_with(dir)
                })
                .max_by_key(|p| p.root.as_os_str().len())
        });
        match named {
            Some(package) => format!("package `{}`", package.name),
            None => "the workspace".to_owned(),
        }
    }

    /// Run every pending test that compiled `runs` times, batched per test binary, then each
    /// on its own once.
    fn run_rounds(&mut self, pending: &mut [Tracked]) -> Result<(), Error> {
        self.run_batches(pending)?;
        self.run_alone(pending)
    }

    /// The indices of the pending tests `wanted` picks, by the crate root of their binary.
    fn by_binary(
        &self,
        pending: &[Tracked],
        wanted: impl Fn(&Tracked) -> bool,
    ) -> BTreeMap<PathBuf, Vec<usize>> {
        let mut by_binary: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
        for (index, test) in pending.iter().enumerate().filter(|(_, t)| wanted(t)) {
            let root = self.files[test.file].crate_root.clone();
            by_binary.entry(root).or_default().push(index);
        }
        by_binary
    }

    /// Each pending test that ran and neither hung nor crashed, in a process of its own.
    fn run_alone(&mut self, pending: &mut [Tracked]) -> Result<(), Error> {
        let by_binary = self.by_binary(pending, |test| {
            !test.outcomes.is_empty() && test.outcomes.iter().all(TestOutcome::ran)
        });
        let count: usize = by_binary.values().map(Vec::len).sum();
        if count == 0 {
            return Ok(());
        }
        // What the batches left in the copy must not make a test pass alone.
        self.restore_scratch()?;
        self.progress
            .phase(&format!("running {} alone", plural(count, "test", "tests")));
        for (root, indices) in by_binary {
            for (index, outcome) in self.run_group(&root, &indices, pending, true)? {
                pending[index].alone = Some(outcome);
            }
        }
        Ok(())
    }

    /// Run the tests at `indices` of `pending` from the binary of `root`: in one batch, or
    /// each alone; each index with the outcome it got.
    fn run_group(
        &mut self,
        root: &Path,
        indices: &[usize],
        pending: &[Tracked],
        alone: bool,
    ) -> Result<Vec<(usize, TestOutcome)>, Error> {
        let names: Vec<String> = indices
            .iter()
            .map(|&i| self.libtest_name(&pending[i]))
            .collect();
        let Some(binary) = self.binary(root, pending[indices[0]].file) else {
            return Ok(Vec::new());
        };
        let started = Instant::now();
        let timeout = self.options.test_timeout;
        let outcomes = self.runtime.block_on(async {
            let outcomes = if alone {
                // Twice the cores: each is a short process that spends much of its life
                // starting.
                run::run_each_alone(&binary, &names, self.threads * 2, timeout).await
            } else {
                run::run_exact(&binary, &names, self.threads, timeout).await
            };
            outcomes.map_err(|source| spawn_error(&binary, source))
        })?;
        self.run_time += started.elapsed();
        Ok(indices
            .iter()
            .zip(&names)
            .filter_map(|(&index, name)| Some((index, outcomes.get(name)?.clone())))
            .collect())
    }

    /// Every pending test that compiled, `runs` times, batched per test binary.
    fn run_batches(&mut self, pending: &mut [Tracked]) -> Result<(), Error> {
        let runs = self.options.runs as usize;
        for run in 0..runs {
            let by_binary = self.by_binary(pending, |test| {
                test.compile_error.is_none() && test.outcomes.iter().all(TestOutcome::ran)
            });
            let count: usize = by_binary.values().map(Vec::len).sum();
            if count == 0 {
                return Ok(());
            }
            self.progress.phase(&format!(
                "running {} × {runs} (run {})",
                plural(count, "test", "tests"),
                run + 1
            ));
            for (root, indices) in by_binary {
                for (index, outcome) in self.run_group(&root, &indices, pending, false)? {
                    pending[index].outcomes.push(outcome);
                }
            }
        }
        Ok(())
    }

    /// Where the last build holds every kept test (and no failing one to write `#[ignore]`d):
    /// the libtest names of the others it holds, which the run with the crate's tests skips,
    /// so that run needs no build of its own.
    fn built_beside(&self, ended: &Ended) -> Option<BTreeSet<String>> {
        let wanted: BTreeSet<(usize, String)> = ended
            .kept
            .iter()
            .map(|t| (t.file, t.candidate.name.clone()))
            .collect();
        (ended.failing.is_empty() && wanted.is_subset(&self.built)).then(|| {
            self.built
                .difference(&wanted)
                .map(|(file, name)| format!("{}::{}", self.files[*file].module, name))
                .collect()
        })
    }

    fn libtest_name(&self, test: &Tracked) -> String {
        format!("{}::{}", self.files[test.file].module, test.candidate.name)
    }

    fn binary(&self, crate_root: &Path, file: usize) -> Option<TestBinary> {
        let path = self.binaries.get(&build::canonical(crate_root))?;
        let file = &self.files[file];
        Some(TestBinary {
            path: path.clone(),
            package_dir: file.package_dir.clone(),
            env: vec![("CARGO_PKG_NAME".to_owned(), file.package.clone())],
            sandbox: self.sandbox.clone(),
        })
    }

    /// Ask the model to mend the broken tests, one call per file; their replacements are
    /// the next round's pending tests. A test whose item got no replacement, or whose repair
    /// makes no progress, is dropped.
    fn repair(
        &mut self,
        files: &[FileUnderTest<'_>],
        broken: Vec<Broken>,
        repairer: &dyn Repairer,
        ended: &mut Ended,
    ) -> Result<Vec<Tracked>, Error> {
        let per_test = repairer.observes();
        self.progress.phase(&if per_test {
            format!(
                "writing what {} showed",
                plural(broken.len(), "call", "calls")
            )
        } else {
            format!(
                "repairing {} with the model",
                plural(broken.len(), "test", "tests")
            )
        });
        let (asked, by_file) = self.failures(broken, ended, per_test);
        let rendered = self.ask(files, &ended.kept, by_file, repairer)?;
        Ok(self.replacements(asked, rendered, ended, per_test))
    }

    /// One call per file to the repairer for `by_file`'s failures (broken tests, or weak ones);
    /// what it gave back per file, named and formatted like any candidate where they are made
    /// (syn trees stay on their thread), apart from the module's fns and the `kept` tests.
    fn ask(
        &self,
        files: &[FileUnderTest<'_>],
        kept: &[Tracked],
        by_file: BTreeMap<usize, Vec<Failure>>,
        repairer: &dyn Repairer,
    ) -> Result<BTreeMap<usize, Vec<Candidate>>, Error> {
        let order: Vec<usize> = by_file.keys().copied().collect();
        let requests: Vec<RepairRequest<'_>> = by_file
            .into_iter()
            .map(|(file, failures)| RepairRequest {
                file: files[file].request,
                failures,
            })
            .collect();
        let taken: Vec<BTreeSet<String>> = order
            .iter()
            .map(|&file| {
                let mut taken = splice::existing_fns(files[file].file);
                taken.extend(
                    kept.iter()
                        .filter(|t| t.file == file)
                        .map(|t| t.candidate.name.clone()),
                );
                taken
            })
            .collect();
        let slots: Vec<std::sync::Mutex<Option<Vec<Candidate>>>> =
            requests.iter().map(|_| Default::default()).collect();
        repairer.repair_all(&requests, self.progress, &|index, output: FileOutput| {
            let mut taken = taken[index].clone();
            *slots[index].lock().expect("lock") = Some(splice::prepare(output.tests, &mut taken));
        })?;
        Ok(order
            .into_iter()
            .zip(slots)
            .filter_map(|(file, slot)| Some((file, slot.into_inner().expect("lock")?)))
            .collect())
    }

    /// A test whose repairs ended without a passing one: kept failing (`--keep-failing`, when
    /// it compiled, with the failure as the reason), or dropped with `why`.
    fn give_up(
        &self,
        test: Tracked,
        reason: Reason,
        compiled: bool,
        why: Reason,
        ended: &mut Ended,
    ) {
        if compiled && self.options.keep_failing {
            ended.failing.push((test, reason));
        } else {
            ended.dropped.push((test, why));
        }
    }

    /// What goes back to the model, per file: one failure per item. A test that fails as
    /// its last repair failed is not asked about again (the model would answer alike).
    fn failures(
        &mut self,
        broken: Vec<Broken>,
        ended: &mut Ended,
        per_test: bool,
    ) -> (Vec<Asked>, BTreeMap<usize, Vec<Failure>>) {
        let mut asked: Vec<Asked> = Vec::new();
        let mut by_file: BTreeMap<usize, Vec<Failure>> = BTreeMap::new();
        for (test, evidence, reason, compiled) in broken {
            // What a probe saw is data: a value that names the scratch copy (a path from
            // `env!`, the working directory) would differ in the user's own run.
            let evidence = if !test.candidate.is_probe() {
                self.strip_scratch(&evidence)
            } else if evidence.contains(&*self.scratch.to_string_lossy()) {
                "its output names the scratch copy, so it would differ outside it".to_owned()
            } else {
                evidence
            };
            let tried = self.tried.entry(test.origin).or_default();
            // What stopped a probe may stop its scaffold too: that is no lack of progress.
            if !test.candidate.is_probe() && !tried.evidence.insert(evidence.clone()) {
                let stuck = Reason::NoProgress {
                    reason: Box::new(reason.clone()),
                    repeated: "the same failure after a repair",
                };
                self.give_up(test, reason, compiled, stuck, ended);
                continue;
            }
            tried.codes.insert(test.candidate.text.clone());
            let failures = by_file.entry(test.file).or_default();
            if !per_test && failures.iter().any(|f| f.item == test.candidate.item) {
                ended.dropped.push((test, reason));
                continue;
            }
            failures.push(Failure {
                item: test.candidate.item.clone(),
                code: test.candidate.text.clone(),
                evidence,
                kind: FailureKind::Broken,
            });
            asked.push((test, reason, compiled));
        }
        (asked, by_file)
    }

    /// The repairs of each asked test, as the next round's tests; a repair that gives back a
    /// test already tried for the same item is no repair.
    fn replacements(
        &mut self,
        asked: Vec<Asked>,
        mut rendered: BTreeMap<usize, Vec<Candidate>>,
        ended: &mut Ended,
        per_test: bool,
    ) -> Vec<Tracked> {
        let mut replaced: Vec<Tracked> = Vec::new();
        for (test, reason, compiled) in asked {
            let mine: Vec<Candidate> = rendered
                .get_mut(&test.file)
                .map(|candidates| {
                    let (mine, rest) = std::mem::take(candidates).into_iter().partition(|c| {
                        c.item == test.candidate.item
                            && (!per_test || c.name == test.candidate.name)
                    });
                    *candidates = rest;
                    mine
                })
                .unwrap_or_default();
            let tried = self.tried.entry(test.origin).or_default();
            let (new, old): (Vec<Candidate>, Vec<Candidate>) = mine
                .into_iter()
                .partition(|candidate| tried.codes.insert(candidate.text.clone()));
            // A probe with nothing to write down is one call of several: not a failure.
            if new.is_empty() && per_test && test.candidate.is_probe() {
                ended.unchosen.push(test);
                continue;
            }
            if new.is_empty() {
                let why = match old.is_empty() {
                    true => Reason::NoRepair(Box::new(reason.clone())),
                    false => Reason::NoProgress {
                        reason: Box::new(reason.clone()),
                        repeated: "the repair gave back a test already tried",
                    },
                };
                self.give_up(test, reason, compiled, why, ended);
                continue;
            }
            // What a probe showed is its first real test, not a repair of it.
            let probe = test.candidate.is_probe();
            for candidate in new {
                replaced.push(Tracked {
                    file: test.file,
                    origin: test.origin,
                    candidate,
                    repaired: !probe,
                    compile_error: None,
                    replaced: Some(reason.clone()),
                    outcomes: Vec::new(),
                    alone: None,
                });
            }
            // The failed test's reason, should every replacement fail too.
            ended.dropped.push((test, reason));
        }
        replaced
    }

    /// The kept tests once more, all together with the rest of their crates' tests in the
    /// ordinary threaded harness, as `cargo test` will run them: one that fails only in
    /// company is flaky. Failing tests kept `#[ignore]`d are built in as they will be written.
    /// With `built_also`: the binaries built last hold the kept tests and also these (by
    /// libtest name, with the mutation stage's wrappers), which must not run.
    fn together(
        &mut self,
        ended: &mut Ended,
        built_also: Option<BTreeSet<String>>,
    ) -> Result<(), Error> {
        let Ended {
            kept,
            failing,
            dropped,
            ..
        } = ended;
        if kept.is_empty() {
            return Ok(());
        }
        let wanted: BTreeSet<(usize, String)> = kept
            .iter()
            .chain(failing.iter().map(|(t, _)| t))
            .map(|t| (t.file, t.candidate.name.clone()))
            .collect();
        // Then the kept tests run by exact name, with no build.
        let reuse = match built_also {
            Some(skip) => self.exact_filters(kept, &skip)?,
            None => None,
        };
        if reuse.is_none() && (wanted != self.built || !failing.is_empty()) {
            let ignored: Vec<Candidate> = failing
                .iter()
                .map(|(t, reason)| {
                    splice::with_ignore(&t.candidate, &format!("testsmith: {reason}"))
                })
                .collect();
            let tests: Vec<&Candidate> = kept
                .iter()
                .map(|t| &t.candidate)
                .chain(ignored.iter())
                .collect();
            let file_of: Vec<usize> = kept
                .iter()
                .map(|t| t.file)
                .chain(failing.iter().map(|(t, _)| t.file))
                .collect();
            let (build, _) = self.write_and_build(&tests, &file_of)?;
            if !build.success {
                // Each of them compiled in an earlier build; together they do not.
                let reason = Reason::DoesNotCompileTogether {
                    first: build
                        .errors
                        .first()
                        .map(|e| e.rendered.lines().next().unwrap_or_default().to_owned()),
                };
                dropped.extend(kept.drain(..).map(|t| (t, reason.clone())));
                return Ok(());
            }
            self.binaries = build.binaries;
        }
        let mut roots: BTreeMap<PathBuf, usize> = BTreeMap::new();
        for test in kept.iter() {
            roots
                .entry(self.files[test.file].crate_root.clone())
                .or_insert(test.file);
        }
        self.progress.phase(&format!(
            "running {} with the crate's other tests",
            plural(kept.len(), "kept test", "kept tests")
        ));
        let mut outcomes: BTreeMap<String, TestOutcome> = BTreeMap::new();
        for (root, file) in roots {
            let Some(binary) = self.binary(&root, file) else {
                continue;
            };
            let started = Instant::now();
            let timeout = self.options.test_timeout;
            let filters = reuse
                .as_ref()
                .and_then(|r| r.get(&root))
                .cloned()
                .unwrap_or_default();
            let result = self.runtime.block_on(async {
                run::run_together(&binary, &filters, timeout)
                    .await
                    .map_err(|source| spawn_error(&binary, source))
            })?;
            self.run_time += started.elapsed();
            for (name, outcome) in result {
                outcomes.insert(format!("{}\0{name}", root.display()), outcome);
            }
        }
        self.sort_together(kept, dropped, &outcomes);
        Ok(())
    }

    /// Keep what passed with the crate's other tests (by crate root and libtest name in
    /// `outcomes`); drop the rest.
    fn sort_together(
        &self,
        kept: &mut Vec<Tracked>,
        dropped: &mut Vec<(Tracked, Reason)>,
        outcomes: &BTreeMap<String, TestOutcome>,
    ) {
        let mut still = Vec::with_capacity(kept.len());
        for test in kept.drain(..) {
            let key = format!(
                "{}\0{}",
                self.files[test.file].crate_root.display(),
                self.libtest_name(&test)
            );
            match outcomes.get(&key) {
                Some(TestOutcome::Passed) => still.push(test),
                // `#[ignore]`d: libtest says so, with no result of its own.
                _ if test.candidate.is_scaffold() => still.push(test),
                Some(_) => dropped.push((test, Reason::FlakyTogether)),
                None => dropped.push((test, Reason::NoResultTogether)),
            }
        }
        *kept = drop_lucky_siblings(still, dropped);
    }

    /// Per crate root of `kept`: `--exact` and every test its binary lists but `skip` and the
    /// mutation stage's wrappers. `None` when a binary is missing or cannot list its tests.
    fn exact_filters(
        &self,
        kept: &[Tracked],
        skip: &BTreeSet<String>,
    ) -> Result<Option<BTreeMap<PathBuf, Vec<String>>>, Error> {
        let mut filters = BTreeMap::new();
        for test in kept {
            let root = self.files[test.file].crate_root.clone();
            if filters.contains_key(&root) {
                continue;
            }
            let Some(binary) = self.binary(&root, test.file) else {
                return Ok(None);
            };
            let timeout = self.options.test_timeout;
            let listed = self.runtime.block_on(async {
                run::listed_tests(&binary, timeout)
                    .await
                    .map_err(|source| spawn_error(&binary, source))
            })?;
            let Some(listed) = listed else {
                return Ok(None);
            };
            let mut args = vec!["--exact".to_owned()];
            args.extend(
                listed
                    .iter()
                    .filter(|name| !skip.contains(*name) && !crate::mutate::is_wrapper(name))
                    .cloned(),
            );
            // Past this, a command line may not hold them all (Windows allows 32K): build.
            const MAX_ARGS: usize = 24 * 1024;
            if args.iter().map(|a| a.len() + 1).sum::<usize>() > MAX_ARGS {
                return Ok(None);
            }
            filters.insert(root, args);
        }
        Ok(Some(filters))
    }

    /// Evidence without the scratch directory's path: the model needs none of it, and the
    /// repair's cache key must not depend on where the copy lives.
    fn strip_scratch(&self, evidence: &str) -> String {
        let mut prefix = self.scratch.display().to_string();
        prefix.push(std::path::MAIN_SEPARATOR);
        evidence.replace(&prefix, "")
    }
}

fn spawn_error(binary: &TestBinary, source: std::io::Error) -> Error {
    VerifyError::Spawn {
        command: binary.path.display().to_string(),
        source,
    }
    .into()
}

/// A diagnostic's head: its first line and its `-->` location.
fn first_lines(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let head = lines.next().unwrap_or_default().to_owned();
    match lines.find(|l| l.trim_start().starts_with("-->")) {
        Some(at) => format!("{head} ({})", at.trim_start().trim_start_matches("--> ")),
        None => head,
    }
}

/// cargo's reason from its stderr: the lines from its first `error` on.
fn cargo_reason(stderr: &str) -> String {
    let from = stderr.find("error").unwrap_or(0);
    stderr[from..].trim().to_owned()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_one_line() {
        let output = "thread 'm::t' panicked at src/lib.rs:5:9:\nassertion `left == right` failed\n  left: -42\n right: 42\n";
        assert_eq!(
            panic_message(output),
            "assertion `left == right` failed (left: -42, right: 42)"
        );
        assert_eq!(
            panic_message("thread 'x' panicked at src/a.rs:1:1:\nboom\nnote: run with\n"),
            "boom"
        );
        assert_eq!(panic_message("\nsomething else\n"), "something else");
    }

    #[test]
    fn a_diagnostic_head_names_its_place() {
        let rendered = "error[E0599]: no method named `nope` found\n  --> src/lib.rs:3:7\n   |\n";
        assert_eq!(
            first_lines(rendered),
            "error[E0599]: no method named `nope` found (src/lib.rs:3:7)"
        );
    }

    #[test]
    fn a_test_whose_sibling_fails_in_company_is_dropped_with_it() {
        let test = |file: usize, item: &str, name: &str, text: &str| Tracked {
            file,
            origin: 0,
            candidate: Candidate {
                item: item.to_owned(),
                name: name.to_owned(),
                text: text.to_owned(),
                uses_super: true,
                gated: false,
            },
            repaired: false,
            compile_error: None,
            replaced: None,
            outcomes: Vec::new(),
            alone: None,
        };
        let scaffold = "#[ignore = \"testsmith scaffold: x\"] fn t() {}";
        let kept = vec![
            test(0, "current", "test_current_2", "fn t() {}"),
            test(0, "current", "test_current_3", scaffold),
            test(1, "current", "test_current", "fn t() {}"),
            test(0, "bump", "test_bump", "fn t() {}"),
        ];
        let mut dropped = vec![(
            test(0, "current", "test_current", "fn t() {}"),
            Reason::FlakyTogether,
        )];
        let still = drop_lucky_siblings(kept, &mut dropped);
        let names: Vec<(usize, &str)> = still
            .iter()
            .map(|t| (t.file, t.candidate.name.as_str()))
            .collect();
        // The scaffold asserts nothing; another file's item of that name is another item.
        assert_eq!(
            names,
            [(0, "test_current_3"), (1, "test_current"), (0, "test_bump")]
        );
        assert_eq!(dropped.len(), 2);
        assert_eq!(dropped[1].0.candidate.name, "test_current_2");
        assert_eq!(dropped[1].1, Reason::ItemFlakyTogether);
    }

    #[test]
    fn a_full_disk_is_named_and_the_package_blamed_only_for_its_own_errors() {
        let request = build::BuildRequest {
            cargo: "cargo".into(),
            scratch: PathBuf::from("/w/target/testsmith/scratch"),
            target_dir: PathBuf::from("/w/target/testsmith/out"),
            build_dir: PathBuf::from("/w/target"),
            packages: vec!["app".to_owned()],
            features: Vec::new(),
            manifest: PathBuf::from("/w/target/testsmith/scratch/Cargo.toml"),
            lib: true,
            bins: false,
        };
        let failed = |rendered: &str, stderr: &str| build::Build {
            errors: vec![build::Diagnostic {
                rendered: rendered.to_owned(),
                spans: Vec::new(),
                primary: 0,
            }],
            binaries: BTreeMap::new(),
            success: false,
            stderr: stderr.to_owned(),
            command: "cargo test --no-run".to_owned(),
        };
        // A linker that could not write reads as the package's error; it is the disk's.
        let linker = failed(
            "error: linking with `cc` failed: exit status: 1\n  = note: /usr/bin/ld: final link failed: No space left on device",
            "",
        );
        let err = untouched_failure(&request, linker);
        assert!(matches!(err, VerifyError::NoSpace { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("no space left on the device that holds /w/target")
        );
        let own = failed("error[E0308]: mismatched types\n --> src/lib.rs:3:5", "");
        let err = untouched_failure(&request, own);
        assert!(
            err.to_string()
                .starts_with("package `app` does not build with the generated tests left out"),
            "{err}"
        );
    }
}
