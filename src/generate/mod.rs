//! Turn the untested items of each file into test fns. Every generator (the offline scaffolds,
//! the LLM) sits behind [`Generator`], so the stages around it do not change.

mod args;
mod observe;
mod scaffold;

pub use observe::ObservingGenerator;
pub use scaffold::ScaffoldGenerator;

/// The first line of what a probe (a test that reports what a call did, by failing) says; no
/// test a person writes holds it.
pub const PROBE_MARK: &str = "__testsmith_observed";

/// What separates the outputs of a probe's runs, in the evidence it is handed back with.
pub const PROBE_RUNS: &str = "\n__testsmith_next_run\n";

/// What a generator is asked, and how test fns are named, are the plan's.
pub use crate::plan::{FileRequest, test_fn_name, unique_name};

use crate::error::{Error, Warning};

/// One generated test fn and the item it tests, as the generator made it (a syn tree, which
/// stays on the thread that made it; see [`Candidate`] for what travels on).
pub struct GeneratedTest {
    /// The item's wire name (`function`, `Type::method`).
    pub item: String,
    pub function: syn::ItemFn,
}

/// A test ready to be spliced into its file: named uniquely there and formatted. Plain text,
/// so it crosses threads and a file can be spliced again with any subset of its tests —
/// without those that failed, with those a repair brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The item's wire name.
    pub item: String,
    /// The test fn's name, unique in its file.
    pub name: String,
    /// The fn as prettyplease prints it, indented one level, ending in a newline.
    pub text: String,
    /// Whether it can use anything of `super::*`: a lone `todo!()` cannot, and a module of
    /// only such tests would have an unused import.
    pub uses_super: bool,
    /// Under a `#[cfg]`: compiled out, it uses nothing.
    pub gated: bool,
}

impl Candidate {
    /// A probe: it fails on purpose, saying what its call did (see [`ObservingGenerator`]).
    pub fn is_probe(&self) -> bool {
        self.text.contains(PROBE_MARK)
    }

    /// An `#[ignore]`d scaffold: it compiles, and is never run.
    pub fn is_scaffold(&self) -> bool {
        self.text.contains("#[ignore = \"testsmith scaffold:")
    }
}

/// One file's generated tests, and warnings about what was left out.
#[derive(Default)]
pub struct FileCandidates {
    pub candidates: Vec<Candidate>,
    pub warnings: Vec<Warning>,
}

/// A test that failed verification, or passed but left mutants of its item alive, with the
/// evidence.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The item's wire name.
    pub item: String,
    /// The test as it was built (a weak item's tests, one after the other).
    pub code: String,
    /// rustc's rendered diagnostic, the test's output from `thread '…' panicked at` on, or
    /// the surviving mutants as small diffs.
    pub evidence: String,
    pub kind: FailureKind,
}

/// What is wrong with a test sent back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// It did not compile or did not pass.
    Broken,
    /// It passed, but did not catch the mutants its evidence shows.
    Weak,
}

/// One file's failed tests, for a repair.
pub struct RepairRequest<'a> {
    pub file: &'a FileRequest<'a>,
    pub failures: Vec<Failure>,
}

/// A generator that can mend the tests it wrote, given why they failed (the LLM).
pub trait Repairer: Sync {
    /// Calls `done(index, output)` once for each request with the replacement tests (each
    /// still naming its item). An `Err` ends the run before any file is written.
    fn repair_all(
        &self,
        requests: &[RepairRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error>;

    /// The first tests are probes, which fail to say what their calls did: a probe's
    /// replacement is its first real test, not a repair; every probe is answered, by the
    /// probe's name; nothing is asked again for mutants; and of an item's tests, the fewest
    /// that catch the most of its mutants are kept.
    fn observes(&self) -> bool {
        false
    }
}

/// What a generator made of one file: its tests, and warnings about what it left out.
#[derive(Default)]
pub struct FileOutput {
    pub tests: Vec<GeneratedTest>,
    pub warnings: Vec<Warning>,
}

/// Told as work progresses, for the progress bar.
pub trait Progress: Sync {
    fn file_done(&self, display: &str);
    /// Calls in flight and cache hits so far (LLM generators).
    fn calls(&self, _in_flight: usize, _cache_hits: usize) {}
}

/// Where a generator hands each file's output, as soon as it has it, on whatever thread made
/// it: syn's trees cannot cross threads, so the output is rendered where it was made.
pub type Sink<'a> = dyn Fn(usize, FileOutput) + Sync + 'a;

/// Hand one file's tests to `done` (no warnings: the offline generators leave nothing out)
/// and tell `progress` the file is done.
fn hand_over(
    done: &Sink<'_>,
    progress: &dyn Progress,
    index: usize,
    display: &str,
    tests: Vec<GeneratedTest>,
) {
    done(
        index,
        FileOutput {
            tests,
            warnings: Vec::new(),
        },
    );
    progress.file_done(display);
}

/// Writes tests for the items of many files at once, so that a generator that waits on a
/// network can keep several calls in flight.
pub trait Generator: Sync {
    /// Calls `done(index, output)` once for each request. An `Err` ends the run before any
    /// file is written.
    fn generate_all(
        &self,
        requests: &[FileRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error>;

    /// `(hits, misses, entries)` of a cache, when the generator has one.
    fn cache_stats(&self) -> Option<(usize, usize, usize)> {
        None
    }
}
