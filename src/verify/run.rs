//! Run tests from libtest test binaries and settle each one: passed, failed (with its panic
//! output), timed out, or crashed.
//!
//! Stable libtest has no machine-readable output, so this reads the default ("pretty") format,
//! as cargo-nextest does: `test <name> ... ok|FAILED|ignored` lines, then a `failures:` section
//! with a `---- <name> stdout ----` block of captured output per failed test, then the list of
//! failed names and the `test result:` summary. Tests run many to a process; a process that hangs
//! or dies is killed or buried, and the tests it left unsettled are run again on their own.
//!
//! Every child gets `RUST_BACKTRACE=0` (and `RUST_LIB_BACKTRACE=0`), whatever the user set:
//! the output is for a report or a prompt, where the panic message is what counts, and a backtrace
//! costs time (capturing and symbolizing it per failure, on a machine that is compiling) and fills
//! the 4 KiB kept per test. Someone who wants one runs `cargo test` on the test.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::time::Instant;

use crate::process;

/// A test binary that `cargo test --no-run` built.
#[derive(Debug, Clone)]
pub struct TestBinary {
    pub path: PathBuf,
    /// The package directory: the cwd and `CARGO_MANIFEST_DIR` that `cargo test` gives tests.
    pub package_dir: PathBuf,
    /// Extra environment (e.g. CARGO_PKG_NAME). It is set last, so it wins.
    pub env: Vec<(String, String)>,
    /// Where it runs contained; `None` runs it as it is (our own fixtures, `--allow-uncontained`
    /// on a machine without the layers still goes through the launcher for its limits).
    pub sandbox: Option<std::sync::Arc<crate::contain::Sandbox>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    Passed,
    /// The test's captured output from `thread '…' panicked at` on (or all of it when there is
    /// no such line), at most 4 KiB, trailing `note: run with RUST_BACKTRACE…` line removed.
    Failed {
        output: String,
    },
    /// No result within the timeout; it was killed (its whole process group).
    TimedOut,
    /// The process died under it (abort, SIGSEGV, stack overflow): e.g. "signal 6 (SIGABRT)".
    Crashed {
        how: String,
    },
    /// Its process printed what libtest would not have: a summary that disagrees with the
    /// results or the exit status, a second result for one test. A test can print anything;
    /// one that fakes its harness's output is not kept.
    Forged {
        how: String,
    },
    /// It did what a test must not (left a process running): contained, it harmed nothing, but
    /// in the user's own `cargo test` it would.
    Escaped {
        what: String,
    },
}

impl TestOutcome {
    /// The binary has no test of that name.
    pub fn not_found(&self) -> bool {
        matches!(self, TestOutcome::Failed { output } if output == NOT_FOUND)
    }

    /// It ran to a result of its own: passed or failed (not hung, crashed, forged, escaped).
    pub fn ran(&self) -> bool {
        matches!(self, TestOutcome::Passed | TestOutcome::Failed { .. })
    }
}

/// What a name the binary does not have comes back as.
const NOT_FOUND: &str = "test not found in binary";
/// The most of a failed test's output that is kept.
const OUTPUT_LIMIT: usize = 4 * 1024;
/// Longer lines are cut: libtest's own lines are short, and only they are parsed.
const MAX_LINE: usize = 64 * 1024;
/// The tail of stderr that is kept, for the message of a runtime abort.
const STDERR_KEPT: usize = 4 * 1024;
/// How long the pipes are read after the process exited or was killed: what it wrote is already
/// in them; only a process outside its group (one that made itself a session leader) can hold
/// them open longer.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// Run exactly `names` (libtest full names like `money::testsmith_tests::test_add`) from
/// `binary`: one process with `--exact --test-threads <threads> --color never <names…>`, not one
/// process per test. A batch ends in one of three ways:
/// - normally: each name gets its outcome from its result line / failures block;
/// - no result line for `timeout` (progress-based: the clock restarts at every result line):
///   the group is killed; the tests still without a result are timed out directly when they
///   can all have been running for `timeout` (no more of them than `threads`), otherwise they
///   are isolated: each re-run alone with the same timeout;
/// - the process dies (signal / abnormal exit with missing results): tests without a result
///   are each re-run alone; one that crashes alone is `Crashed`. So is a test that reported a
///   failure there: libtest prints failures' output at the end, which the process never reached.
///
/// With one thread, libtest names each test as it starts, so the one that hung or crashed is
/// known: it gets its outcome directly and the tests after it, which never started, run on in a
/// new batch. `#[ignore]`d tests run too (`--include-ignored`): they were asked for by name.
/// Isolated runs go `threads` at a time.
///
/// Names the binary does not have come back `Failed` with output "test not found in binary".
/// Output is bounded: what is kept per failed test is capped, other output is not kept, and
/// both pipes are drained so the child never blocks.
pub async fn run_exact(
    binary: &TestBinary,
    names: &[String],
    threads: usize,
    timeout: Duration,
) -> io::Result<BTreeMap<String, TestOutcome>> {
    let threads = threads.max(1);
    let mut pending: Vec<String> = names
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut outcomes = BTreeMap::new();
    let mut isolate = Vec::new();
    // Without names libtest would run every test.
    while !pending.is_empty() {
        let batch_size = pending.len();
        let batch = run_libtest(
            binary,
            &exact_args(&pending, threads),
            Some(threads),
            timeout,
            Some(&pending),
        )
        .await?;
        let report = &batch.report;
        let mut unresolved = Vec::new();
        for name in std::mem::take(&mut pending) {
            match report.outcome(&name) {
                // A pass counts only from a process that ended as libtest ends: one that did
                // not may have printed it itself.
                Some(TestOutcome::Passed) if batch.end != End::Complete => isolate.push(name),
                // libtest prints failures' output at the end: a process that never got there
                // leaves a failure without it, and running the test alone gets it.
                Some(TestOutcome::Failed { .. })
                    if batch.end != End::Complete && !report.outputs.contains_key(&name) =>
                {
                    isolate.push(name);
                }
                Some(outcome) => {
                    outcomes.insert(name, outcome);
                }
                None => unresolved.push(name),
            }
        }
        let (exist, unknown) = if unresolved.is_empty() {
            (unresolved, Vec::new())
        } else {
            split_unknown(binary, report, batch_size, unresolved, timeout).await?
        };
        for name in unknown {
            outcomes.insert(name, not_found());
        }
        let mut unresolved = exist;
        let culprit = report
            .started
            .as_ref()
            .filter(|name| threads == 1 && unresolved.contains(name))
            .cloned();
        match (batch.end, culprit) {
            // No result line of its own: never a pass; alone, it gets one or is dropped.
            (End::Complete, _) => isolate.extend(unresolved),
            (end, Some(culprit)) => {
                unresolved.retain(|name| *name != culprit);
                outcomes.insert(culprit, end.outcome());
                pending = unresolved;
            }
            (End::TimedOut, None) if unresolved.len() <= threads => {
                outcomes.extend(unresolved.into_iter().map(|n| (n, TestOutcome::TimedOut)));
            }
            (_, None) => isolate.extend(unresolved),
        }
    }
    let alone: Vec<(String, TestOutcome)> = futures_util::stream::iter(isolate)
        .map(|name| async move {
            let outcome = run_alone(binary, &name, timeout).await?;
            Ok::<_, io::Error>((name, outcome))
        })
        .buffer_unordered(threads)
        .try_collect()
        .await?;
    outcomes.extend(alone);
    Ok(outcomes)
}

/// Each of `names` in a process of its own, `threads` at a time: a test that passes only after
/// another test ran (a `set_var`, a file, a static) is found out here.
pub async fn run_each_alone(
    binary: &TestBinary,
    names: &[String],
    threads: usize,
    timeout: Duration,
) -> io::Result<BTreeMap<String, TestOutcome>> {
    futures_util::stream::iter(names)
        .map(|name| async move {
            let outcome = run_alone(binary, name, timeout).await?;
            Ok::<_, io::Error>((name.clone(), outcome))
        })
        .buffer_unordered(threads.max(1))
        .try_collect()
        .await
}

/// The ordinary harness, as `cargo test` runs it: default threads, libtest substring
/// `filters` (none = every test), no `--exact`. Returns the outcome of every test that
/// reported one (ignored tests left out); tests killed by the progress timeout are TimedOut;
/// if the process crashes, the tests without a result are Crashed.
///
/// A test that failed in a process that then timed out or crashed keeps no output: libtest
/// prints it at the end.
pub async fn run_together(
    binary: &TestBinary,
    filters: &[String],
    timeout: Duration,
) -> io::Result<BTreeMap<String, TestOutcome>> {
    let mut args = vec!["--color".to_owned(), "never".to_owned()];
    args.extend(filters.iter().cloned());
    let batch = run_libtest(binary, &args, None, timeout, None).await?;
    let report = &batch.report;
    let mut outcomes: BTreeMap<String, TestOutcome> = report
        .reported
        .keys()
        .chain(&report.seen)
        .chain(&report.failure_list)
        .filter_map(|name| Some((name.clone(), report.outcome(name)?)))
        .collect();
    if batch.end == End::Complete {
        // Seen without a result line of its own: no pass, and the caller drops it.
        return Ok(outcomes);
    }
    // Which tests went without a result is only known from a list of them.
    let with_list = |extra: &[&str]| {
        let mut args: Vec<String> = ["--list"]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect();
        args.extend(filters.iter().cloned());
        args
    };
    let Some(listed) = list(binary, &with_list(&[]), timeout).await? else {
        return Ok(outcomes);
    };
    let ignored = list(binary, &with_list(&["--ignored"]), timeout)
        .await?
        .unwrap_or_default();
    let outcome = batch.end.outcome();
    for name in listed {
        if !ignored.contains(&name) && !report.reported.contains_key(&name) {
            outcomes.entry(name).or_insert_with(|| outcome.clone());
        }
    }
    Ok(outcomes)
}

fn not_found() -> TestOutcome {
    TestOutcome::Failed {
        output: NOT_FOUND.to_owned(),
    }
}

fn exact_args(names: &[String], threads: usize) -> Vec<String> {
    let mut args: Vec<String> = ["--exact", "--include-ignored", "--test-threads"]
        .map(str::to_owned)
        .into();
    args.push(threads.to_string());
    args.extend(["--color".to_owned(), "never".to_owned()]);
    args.extend(names.iter().cloned());
    args
}

/// `unresolved` split into the names the binary has and those it does not. libtest's
/// `running N tests` says whether all `batch_size` names exist; otherwise the binary lists them.
/// If even that fails, all are taken to exist: running them alone settles it.
async fn split_unknown(
    binary: &TestBinary,
    report: &Report,
    batch_size: usize,
    unresolved: Vec<String>,
    timeout: Duration,
) -> io::Result<(Vec<String>, Vec<String>)> {
    if report.running == Some(batch_size) {
        return Ok((unresolved, Vec::new()));
    }
    let mut args = vec!["--list".to_owned(), "--exact".to_owned()];
    args.extend(unresolved.iter().cloned());
    Ok(match list(binary, &args, timeout).await? {
        Some(listed) => unresolved
            .into_iter()
            .partition(|name| listed.contains(name)),
        None => (unresolved, Vec::new()),
    })
}

/// One test in a process of its own.
async fn run_alone(binary: &TestBinary, name: &str, timeout: Duration) -> io::Result<TestOutcome> {
    let names = [name.to_owned()];
    let batch = run_libtest(
        binary,
        &exact_args(&names, 1),
        Some(1),
        timeout,
        Some(&names),
    )
    .await?;
    let report = batch.report;
    Ok(match (report.outcome(name), batch.end) {
        // Alone, what the launcher saw is this test's, whether it passed or not.
        (_, End::Escaped(what)) => TestOutcome::Escaped { what },
        (Some(TestOutcome::Passed), End::Complete) => TestOutcome::Passed,
        (Some(TestOutcome::Passed), end) => end.outcome(),
        (Some(outcome), _) => outcome,
        (None, End::Complete) if report.running == Some(1) || report.seen.contains(name) => {
            TestOutcome::Crashed {
                how: "it ran but printed no result line of its own".to_owned(),
            }
        }
        (None, End::Complete) => not_found(),
        (None, end) => end.outcome(),
    })
}

/// The binary's tests (ignored ones included), listed once per build of it.
pub async fn listed_tests(
    binary: &TestBinary,
    timeout: Duration,
) -> io::Result<Option<std::sync::Arc<BTreeSet<String>>>> {
    type Key = (PathBuf, u64, u128);
    type Lists = std::sync::Mutex<std::collections::HashMap<Key, std::sync::Arc<BTreeSet<String>>>>;
    static LISTS: std::sync::OnceLock<Lists> = std::sync::OnceLock::new();
    let key = std::fs::metadata(&binary.path).ok().map(|meta| {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        (binary.path.clone(), meta.len(), modified)
    });
    let lists = LISTS.get_or_init(Default::default);
    if let Some(key) = &key
        && let Some(names) = lists.lock().expect("lock").get(key)
    {
        return Ok(Some(names.clone()));
    }
    let listed = list(binary, &["--list".to_owned()], timeout)
        .await?
        .map(std::sync::Arc::new);
    if let (Some(key), Some(names)) = (key, &listed) {
        lists.lock().expect("lock").insert(key, names.clone());
    }
    Ok(listed)
}

/// The names `--list` prints (`name: test` lines); `None` when listing fails.
async fn list(
    binary: &TestBinary,
    args: &[String],
    timeout: Duration,
) -> io::Result<Option<BTreeSet<String>>> {
    let mut names = BTreeSet::new();
    let ran = run_process(command(binary, args, None), timeout, &mut |line| {
        if let Some(name) = line.strip_suffix(": test") {
            names.insert(name.to_owned());
        }
        false
    })
    .await?;
    let listed = !ran.timed_out && ran.status.is_some_and(|status| status.success());
    Ok(listed.then_some(names))
}

/// How a libtest process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// It printed its `test result:` summary: every test it ran reported.
    Complete,
    /// Killed after `timeout` without a result line.
    TimedOut,
    /// It exited or was killed by a signal before its summary.
    Died(String),
    /// It printed a summary that is not libtest's.
    Forged(String),
    /// A test in it left a process running (the launcher said so).
    Escaped(String),
}

impl End {
    /// What a test gets that was running when the process ended this way.
    fn outcome(&self) -> TestOutcome {
        match self {
            End::Complete => TestOutcome::Passed,
            End::TimedOut => TestOutcome::TimedOut,
            End::Died(how) => TestOutcome::Crashed { how: how.clone() },
            End::Forged(how) => TestOutcome::Forged { how: how.clone() },
            End::Escaped(what) => TestOutcome::Escaped { what: what.clone() },
        }
    }
}

struct Batch {
    report: Report,
    end: End,
}

/// One run of the test binary with `args`, read to its end.
async fn run_libtest(
    binary: &TestBinary,
    args: &[String],
    threads: Option<usize>,
    timeout: Duration,
    expected: Option<&[String]>,
) -> io::Result<Batch> {
    let exact = expected.is_some();
    let listed = listed_tests(binary, timeout).await?;
    // What a real summary says was filtered out: every test of the binary not asked for.
    let filtered = match (expected, &listed) {
        (Some(names), Some(listed)) => Some(listed.len().saturating_sub(names.len())),
        _ => None,
    };
    // Only a first result of a test that exists is progress: without names asked for, the
    // binary's own list says which.
    let expected = match expected {
        Some(names) => Some(names.iter().cloned().collect()),
        None => listed.map(|listed| (*listed).clone()),
    };
    let mut parser = Parser {
        expected,
        ..Parser::default()
    };
    let ran = run_process(command(binary, args, threads), timeout, &mut |line| {
        parser.line(line)
    })
    .await?;
    let report = parser.finish();
    // What the launcher saw the tests try beyond the sandbox.
    let escapes: Vec<&str> = ran
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix(crate::contain::ESCAPE))
        .collect();
    let end = if ran.timed_out {
        End::TimedOut
    } else if !escapes.is_empty() && exact {
        // Which test it was, only a run of one tells: passes here are not believed.
        End::Escaped(escapes.join("; "))
    } else if report.complete
        && let Some(why) = report.distrust(ran.status, filtered)
    {
        End::Forged(why)
    } else if report.complete {
        End::Complete
    } else {
        End::Died(describe(ran.status, &ran.stderr))
    };
    Ok(Batch { report, end })
}

/// The command for one run: the environment `cargo test` gives a test, in the package directory.
fn command(binary: &TestBinary, args: &[String], threads: Option<usize>) -> Command {
    let mut command = match &binary.sandbox {
        Some(sandbox) => sandbox.command(&binary.path),
        None => Command::new(&binary.path),
    };
    command
        .args(args)
        .current_dir(&binary.package_dir)
        .env("CARGO_MANIFEST_DIR", &binary.package_dir)
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        // Uncaptured output leaves no failure blocks to read.
        .env_remove("RUST_TEST_NOCAPTURE")
        // In its own process group a child reading the terminal would be stopped.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(threads) = threads {
        // `--test-threads` wins anyway; this keeps what a test reads consistent with it.
        command.env("RUST_TEST_THREADS", threads.to_string());
    }
    command.envs(binary.env.iter().map(|(key, value)| (key, value)));
    command
}

/// "signal 6 (SIGABRT)" or "exit code 3", and the runtime's own word when it aborted
/// ("fatal runtime error: stack overflow").
fn describe(status: Option<ExitStatus>, stderr: &str) -> String {
    let mut how = match status {
        None => "did not exit".to_owned(),
        Some(status) => exit_description(status),
    };
    if let Some(fatal) = stderr
        .lines()
        .rev()
        .find(|line| line.starts_with("fatal runtime error:"))
    {
        how.push_str(": ");
        how.push_str(fatal.trim());
    }
    how
}

fn exit_description(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return match signal_name(signal) {
                Some(name) => format!("signal {signal} ({name})"),
                None => format!("signal {signal}"),
            };
        }
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => status.to_string(),
    }
}

#[cfg(unix)]
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    })
}

/// How a process run ended.
struct Ran {
    /// `None` when it was killed and still not reaped after [`DRAIN_GRACE`].
    status: Option<ExitStatus>,
    /// It was killed for making no progress.
    timed_out: bool,
    /// The last [`STDERR_KEPT`] bytes of stderr.
    stderr: String,
}

/// Run `command`, handing each stdout line to `on_line`, which says whether it was progress (a
/// result). With no progress for `timeout` the process group is killed. Both pipes are drained
/// to the end, keeping only bounded lines and stderr's tail.
async fn run_process(
    command: Command,
    timeout: Duration,
    on_line: &mut dyn FnMut(&str) -> bool,
) -> io::Result<Ran> {
    let mut child = process::spawn(command)?;
    let mut stdout = child.stdout().expect("stdout is piped");
    let mut stderr = child.stderr().expect("stderr is piped");
    let mut lines = Lines::default();
    let mut stderr_tail = Tail::default();
    let mut out_buf = vec![0u8; 32 * 1024];
    let mut err_buf = vec![0u8; 4 * 1024];
    let (mut out_open, mut err_open) = (true, true);
    let mut status = None;
    let mut timed_out = false;
    let mut deadline = Instant::now() + timeout;
    while out_open || err_open || status.is_none() {
        tokio::select! {
            read = stdout.read(&mut out_buf), if out_open => match read? {
                0 => out_open = false,
                n => {
                    if lines.feed(&out_buf[..n], on_line) && status.is_none() && !timed_out {
                        deadline = Instant::now() + timeout;
                    }
                }
            },
            read = stderr.read(&mut err_buf), if err_open => match read? {
                0 => err_open = false,
                n => stderr_tail.push(&err_buf[..n]),
            },
            exit = child.wait(), if status.is_none() => {
                status = Some(exit?);
                // What it left behind (a test's server, a `sleep`) would hold the pipes open.
                child.kill_group();
                deadline = deadline.min(Instant::now() + DRAIN_GRACE);
            }
            () = tokio::time::sleep_until(deadline) => {
                if status.is_some() || timed_out {
                    break;
                }
                timed_out = true;
                child.kill_group();
                deadline = Instant::now() + DRAIN_GRACE;
            }
        }
    }
    lines.finish(on_line);
    Ok(Ran {
        status,
        timed_out,
        stderr: stderr_tail.into_string(),
    })
}

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes (the rest of a longer line is
/// dropped), keeping the unfinished last line for [`Lines::finish`].
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Whether any line was progress.
    fn feed(&mut self, mut bytes: &[u8], on_line: &mut dyn FnMut(&str) -> bool) -> bool {
        let mut progress = false;
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            self.push(&bytes[..end]);
            progress |= self.emit(on_line);
            bytes = &bytes[end + 1..];
        }
        self.push(bytes);
        progress
    }

    /// The unfinished last line: with one thread libtest prints `test x ... ` when `x` starts.
    fn finish(&mut self, on_line: &mut dyn FnMut(&str) -> bool) {
        if !self.partial.is_empty() {
            self.emit(on_line);
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn emit(&mut self, on_line: &mut dyn FnMut(&str) -> bool) -> bool {
        let line = String::from_utf8_lossy(&self.partial);
        let progress = on_line(line.strip_suffix('\r').unwrap_or(&line));
        self.partial.clear();
        progress
    }
}

/// The last [`STDERR_KEPT`] bytes of a stream.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
}

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        if self.bytes.len() > 2 * STDERR_KEPT {
            self.bytes.drain(..self.bytes.len() - STDERR_KEPT);
        }
    }

    fn into_string(self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// A test's result line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reported {
    Passed,
    Failed,
    Ignored,
}

/// What one libtest run printed, as far as it got.
#[derive(Debug, Default)]
struct Report {
    reported: BTreeMap<String, Reported>,
    /// The settled output of each failed test that had a `---- name stdout ----` block.
    outputs: BTreeMap<String, String>,
    /// Every name in a start or result line.
    seen: BTreeSet<String>,
    /// The names under the closing `failures:` heading.
    failure_list: BTreeSet<String>,
    /// `running N tests`.
    running: Option<usize>,
    /// A test that printed its start (`test x ... `) but no result yet.
    started: Option<String>,
    /// The `test result:` summary was printed.
    complete: bool,
    /// Its counts: passed, failed, ignored, filtered out.
    summary: Option<(usize, usize, usize, usize)>,
    /// Names with more than one result line: someone else printed one.
    duplicates: BTreeSet<String>,
}

impl Report {
    /// Why the summary cannot be believed, if it cannot: a test can print anything, a fake
    /// summary included, and end the process. The real one agrees with the result lines, is
    /// printed once, and is followed by libtest's own exit: 0, or 101 when a test failed.
    fn distrust(&self, status: Option<ExitStatus>, filtered: Option<usize>) -> Option<String> {
        let count = |wanted: Reported| self.reported.values().filter(|r| **r == wanted).count();
        let lines = (
            count(Reported::Passed),
            count(Reported::Failed),
            count(Reported::Ignored),
        );
        let summary = self.summary.map(|(p, f, i, _)| (p, f, i));
        let code = status.and_then(|status| status.code());
        let expected_code = if lines.1 > 0 { 101 } else { 0 };
        if !self.duplicates.is_empty() {
            Some("it printed a second result line for a test".to_owned())
        } else if summary != Some(lines) {
            Some("it printed a summary that does not agree with its result lines".to_owned())
        } else if let (Some(said), Some(real)) = (self.summary.map(|s| s.3), filtered)
            && said != real
        {
            Some(format!(
                "it printed a summary of {said} tests filtered out, where the binary filters out {real}"
            ))
        } else if code != Some(expected_code) {
            Some(format!(
                "it ended with {} after a summary that calls for exit code {expected_code}",
                status.map_or("no exit status".to_owned(), exit_description)
            ))
        } else {
            None
        }
    }

    /// The outcome the output gives `name`, if it gives one (not for an ignored test).
    fn outcome(&self, name: &str) -> Option<TestOutcome> {
        let reported = self.reported.get(name);
        if reported == Some(&Reported::Failed)
            || self.failure_list.contains(name)
            || self.outputs.contains_key(name)
        {
            let output = self.outputs.get(name).cloned().unwrap_or_default();
            return Some(TestOutcome::Failed { output });
        }
        (reported == Some(&Reported::Passed)).then_some(TestOutcome::Passed)
    }
}

/// Reads libtest's pretty output line by line.
#[derive(Default)]
struct Parser {
    report: Report,
    state: State,
    /// The names asked for, when known: only their first results are progress.
    expected: Option<BTreeSet<String>>,
}

enum State {
    /// Result lines; `in_list` after a `failures:` heading, whose indented lines name failures.
    Normal { in_list: bool },
    /// Inside the `---- name stdout ----` block of a failed test. `after_heading`: the last line
    /// was `failures:`, which ends the blocks if the next line names a failure, and otherwise
    /// was the test's own output.
    Block {
        name: String,
        capture: Capture,
        after_heading: bool,
    },
}

impl Default for State {
    fn default() -> Self {
        State::Normal { in_list: false }
    }
}

impl Parser {
    /// Whether the line was progress: a result.
    fn line(&mut self, line: &str) -> bool {
        match std::mem::take(&mut self.state) {
            State::Normal { in_list } => self.normal_line(line, in_list),
            State::Block {
                name,
                capture,
                after_heading,
            } => {
                self.block_line(line, name, capture, after_heading);
                false
            }
        }
    }

    fn finish(mut self) -> Report {
        if let State::Block { name, capture, .. } = std::mem::take(&mut self.state) {
            self.close_block(name, capture);
        }
        self.report
    }

    fn normal_line(&mut self, line: &str, in_list: bool) -> bool {
        if in_list && let Some(name) = line.strip_prefix("    ") {
            self.report.failure_list.insert(name.trim().to_owned());
            self.state = State::Normal { in_list: true };
            return false;
        }
        if line == "failures:" {
            self.state = State::Normal { in_list: true };
            return false;
        }
        if line.starts_with("test result: ") {
            // A second summary is a forged one, or the first was.
            if self.report.complete {
                self.report.summary = None;
            } else {
                self.report.summary = summary_counts(line);
            }
            self.report.complete = true;
            return false;
        }
        if let Some(count) = running_count(line) {
            self.report.running = Some(count);
            return false;
        }
        if let Some(name) = block_header(line)
            && self.opens_block(name)
        {
            self.state = State::Block {
                name: name.to_owned(),
                capture: Capture::default(),
                after_heading: false,
            };
            return false;
        }
        if let Some((name, rest)) = test_line(line) {
            self.report.seen.insert(name.to_owned());
            return match result_word(rest) {
                Some(result) => self.record(name, result),
                // A start (one thread), maybe followed by the test's uncaptured output.
                None => {
                    self.report.started = Some(name.to_owned());
                    false
                }
            };
        }
        // The result of a started test, after the test's uncaptured output ended its line.
        if let Some(result) = result_word(line)
            && let Some(name) = self.report.started.clone()
        {
            return self.record(&name, result);
        }
        // A result line with uncaptured output (no newline at its end) glued in front.
        for (at, _) in line.match_indices("test ").filter(|(at, _)| *at > 0) {
            if let Some((name, rest)) = test_line(&line[at..])
                && let Some(result) = result_word(rest)
            {
                self.report.seen.insert(name.to_owned());
                return self.record(name, result);
            }
        }
        false
    }

    fn block_line(&mut self, line: &str, name: String, mut capture: Capture, after_heading: bool) {
        if after_heading {
            if let Some(listed) = line.strip_prefix("    ")
                && self.report.seen.contains(listed.trim())
            {
                self.report.failure_list.insert(listed.trim().to_owned());
                self.close_block(name, capture);
                self.state = State::Normal { in_list: true };
                return;
            }
            capture.push("failures:");
        }
        if let Some(next) = block_header(line)
            && next != name
            && self.opens_block(next)
        {
            let next = next.to_owned();
            self.close_block(name, capture);
            self.state = State::Block {
                name: next,
                capture: Capture::default(),
                after_heading: false,
            };
            return;
        }
        let after_heading = line == "failures:";
        if !after_heading {
            capture.push(line);
        }
        self.state = State::Block {
            name,
            capture,
            after_heading,
        };
    }

    /// Only a test this run reported has a block: other `---- x stdout ----` lines are output.
    fn opens_block(&self, name: &str) -> bool {
        self.report.seen.contains(name) && !self.report.outputs.contains_key(name)
    }

    fn close_block(&mut self, name: String, capture: Capture) {
        let _ = self.record(&name, Reported::Failed);
        self.report.outputs.insert(name, capture.finish());
    }

    /// Record a result; whether it was the name's first, which alone is progress (a test
    /// printing result lines over and over does not keep its batch alive).
    fn record(&mut self, name: &str, result: Reported) -> bool {
        if self.report.started.as_deref() == Some(name) {
            self.report.started = None;
        }
        match self.report.reported.get_mut(name) {
            None => {
                self.report.reported.insert(name.to_owned(), result);
                self.expected
                    .as_ref()
                    .is_none_or(|names| names.contains(name))
            }
            Some(entry) => {
                // A failure block closing after the failure's own line is the same result.
                if !(*entry == Reported::Failed && result == Reported::Failed) {
                    self.report.duplicates.insert(name.to_owned());
                }
                // A failure stays one: a later "ok" can be the test's own output.
                if *entry != Reported::Failed {
                    *entry = result;
                }
                false
            }
        }
    }
}

/// `test <name> ... <rest>`: the name (without ` - should panic`) and what follows.
fn test_line(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.strip_prefix("test ")?.split_once(" ... ")?;
    let name = name.strip_suffix(" - should panic").unwrap_or(name);
    let is_path = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '#'));
    is_path.then_some((name, rest))
}

fn result_word(text: &str) -> Option<Reported> {
    match text.trim_end() {
        "ok" => Some(Reported::Passed),
        "FAILED" => Some(Reported::Failed),
        word if word == "ignored" || word.starts_with("ignored, ") => Some(Reported::Ignored),
        _ => None,
    }
}

/// `test result: ok. 3 passed; 1 failed; 2 ignored; 0 measured; 5 filtered out; finished in …`
/// as its passed, failed, ignored and filtered-out counts.
fn summary_counts(line: &str) -> Option<(usize, usize, usize, usize)> {
    let (_, counts) = line.split_once(". ")?;
    let count = |word: &str| -> Option<usize> {
        counts
            .split("; ")
            .find_map(|part| part.strip_suffix(word)?.trim().parse().ok())
    };
    Some((
        count(" passed")?,
        count(" failed")?,
        count(" ignored")?,
        count(" filtered out")?,
    ))
}

fn running_count(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("running ")?;
    rest.strip_suffix(" tests")
        .or_else(|| rest.strip_suffix(" test"))?
        .parse()
        .ok()
}

fn block_header(line: &str) -> Option<&str> {
    line.strip_prefix("---- ")?.strip_suffix(" stdout ----")
}

fn is_panic_line(line: &str) -> bool {
    line.starts_with("thread '") && line.contains(" panicked at ")
}

fn is_backtrace_note(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE=")
}

/// A failed test's output as it streams by: from its first panic line on (the head, as far as
/// it will be kept), or, until there is one, the last of it.
#[derive(Default)]
struct Capture {
    from_panic: Option<String>,
    tail: String,
}

impl Capture {
    fn push(&mut self, line: &str) {
        match &mut self.from_panic {
            Some(kept) => {
                // Room for the note line, which is dropped at the end.
                if kept.len() <= OUTPUT_LIMIT + 128 {
                    kept.push_str(line);
                    kept.push('\n');
                }
            }
            None if is_panic_line(line) => {
                self.from_panic = Some(format!("{line}\n"));
                self.tail = String::new();
            }
            None => {
                self.tail.push_str(line);
                self.tail.push('\n');
                if self.tail.len() > 2 * OUTPUT_LIMIT {
                    let cut = ceil_char_boundary(&self.tail, self.tail.len() - OUTPUT_LIMIT);
                    self.tail.drain(..cut);
                }
            }
        }
    }

    /// At most [`OUTPUT_LIMIT`] bytes, without the backtrace note and surrounding blank lines;
    /// a cut is marked with `…`.
    fn finish(self) -> String {
        let (text, keep_head) = match self.from_panic {
            Some(text) => (text, true),
            None => (self.tail, false),
        };
        let text: Vec<&str> = text.lines().filter(|l| !is_backtrace_note(l)).collect();
        let text = text.join("\n");
        let text = text.trim_matches(|c: char| c == '\n' || c == '\r');
        let text = text.trim_end();
        if text.len() <= OUTPUT_LIMIT {
            return text.to_owned();
        }
        const CUT: &str = "…";
        let room = OUTPUT_LIMIT - CUT.len();
        if keep_head {
            let end = floor_char_boundary(text, room);
            format!("{}{CUT}", &text[..end])
        } else {
            let start = ceil_char_boundary(text, text.len() - room);
            format!("{CUT}{}", &text[start..])
        }
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::OnceLock;
    use std::time::Instant;

    use super::*;

    /// One crate, compiled once per test process, with a test for each way a test can end.
    const FIXTURE: &str = r#"
mod tests {
    use std::time::Duration;

    #[test]
    fn passes() {
        assert_eq!(1 + 1, 2);
    }

    #[test]
    fn fails() {
        assert_eq!(-42, 42);
    }

    #[test]
    fn hangs() {
        loop {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn hangs_too() {
        loop {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fails on odd runs and passes on even ones, counted in the file `FLAKY_COUNTER` names.
    #[test]
    fn flaky() {
        let path = std::env::var("FLAKY_COUNTER").unwrap();
        let before: u32 = std::fs::read_to_string(&path).map_or(0, |s| s.trim().parse().unwrap());
        std::fs::write(&path, (before + 1).to_string()).unwrap();
        assert!(before % 2 == 1, "run {} is odd", before + 1);
    }

    #[test]
    fn aborts() {
        std::process::abort();
    }

    #[test]
    fn floods() {
        let line = "x".repeat(1023);
        for _ in 0..5 * 1024 {
            println!("{line}");
        }
        panic!("flooded {}", "y".repeat(10_000));
    }

    #[test]
    fn sees_its_package() {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        let dir = std::path::Path::new(&dir).canonicalize().unwrap();
        assert_eq!(std::env::current_dir().unwrap(), dir);
        assert_eq!(std::env::var("CARGO_PKG_NAME").as_deref(), Ok("fixture"));
    }
}
"#;

    const TIMEOUT: Duration = Duration::from_secs(2);

    /// The fixture's test binary, built next to this test binary (`target/…/deps`) under a name
    /// made from its source and the compiler, so that a later run reuses it.
    fn fixture_binary() -> &'static Path {
        static BINARY: OnceLock<PathBuf> = OnceLock::new();
        BINARY.get_or_init(|| {
            use std::hash::{DefaultHasher, Hash, Hasher};
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let version = std::process::Command::new(&rustc)
                .arg("-vV")
                .output()
                .unwrap();
            let mut hasher = DefaultHasher::new();
            (FIXTURE, &version.stdout).hash(&mut hasher);
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().unwrap().join("testsmith-run-fixture");
            let binary = dir.join(format!("fixture-{:016x}", hasher.finish()));
            if binary.exists() {
                return binary;
            }
            std::fs::create_dir_all(&dir).unwrap();
            // Built under a name of this process, then renamed: concurrent runs share the result.
            let pid = std::process::id();
            let source = dir.join(format!("fixture-{pid}.rs"));
            let built = dir.join(format!("fixture-{pid}.tmp"));
            std::fs::write(&source, FIXTURE).unwrap();
            let output = std::process::Command::new(&rustc)
                .args(["--test", "--edition", "2021", "-o"])
                .arg(&built)
                .arg(&source)
                .output()
                .unwrap();
            let _ = std::fs::remove_file(&source);
            assert!(
                output.status.success(),
                "fixture does not compile:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            std::fs::rename(&built, &binary).unwrap();
            binary
        })
    }

    /// The fixture binary, with a package directory and a flaky counter of its own.
    fn fixture(package: &tempfile::TempDir) -> TestBinary {
        TestBinary {
            path: fixture_binary().to_owned(),
            package_dir: package.path().to_owned(),
            env: vec![
                ("CARGO_PKG_NAME".to_owned(), "fixture".to_owned()),
                (
                    "FLAKY_COUNTER".to_owned(),
                    package.path().join("flaky").display().to_string(),
                ),
            ],
            sandbox: None,
        }
    }

    fn names(short: &[&str]) -> Vec<String> {
        short.iter().map(|name| format!("tests::{name}")).collect()
    }

    fn failed_output(outcome: Option<&TestOutcome>) -> &str {
        match outcome {
            Some(TestOutcome::Failed { output }) => output,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn run_exact_settles_every_outcome_in_few_processes() {
        let package = tempfile::tempdir().unwrap();
        let binary = fixture(&package);
        let names = names(&[
            "passes",
            "fails",
            "hangs",
            "hangs_too",
            "flaky",
            "aborts",
            "floods",
            "sees_its_package",
            "no_such_test",
        ]);
        let start = Instant::now();
        let outcomes = run_exact(&binary, &names, 4, TIMEOUT).await.unwrap();
        let elapsed = start.elapsed();
        let get = |name: &str| outcomes.get(&format!("tests::{name}"));

        assert_eq!(outcomes.len(), names.len(), "{outcomes:#?}");
        assert_eq!(get("passes"), Some(&TestOutcome::Passed));
        assert_eq!(get("sees_its_package"), Some(&TestOutcome::Passed));
        let fails = failed_output(get("fails"));
        assert!(fails.starts_with("thread 'tests::fails'"), "{fails}");
        assert!(fails.contains("left: -42"), "{fails}");
        assert!(!fails.contains("RUST_BACKTRACE"), "{fails}");
        assert_eq!(get("hangs"), Some(&TestOutcome::TimedOut));
        assert_eq!(get("hangs_too"), Some(&TestOutcome::TimedOut));
        match get("aborts") {
            Some(TestOutcome::Crashed { how }) => assert!(how.starts_with("signal 6 (SIGABRT)")),
            other => panic!("{other:?}"),
        }
        let floods = failed_output(get("floods"));
        assert!(floods.len() <= OUTPUT_LIMIT, "{}", floods.len());
        assert!(floods.starts_with("thread 'tests::floods'"), "{floods}");
        assert!(floods.contains("flooded yyyy"), "{floods}");
        assert!(floods.ends_with('…'));
        assert_eq!(failed_output(get("no_such_test")), NOT_FOUND);
        // The abort ends the first process: `flaky` may have run once or twice by now.
        assert!(matches!(
            get("flaky"),
            Some(TestOutcome::Passed | TestOutcome::Failed { .. })
        ));
        // One test per process, one at a time, would take 2 timeouts; alone is 9 processes.
        assert!(
            elapsed < TIMEOUT * names.len() as u32 / 3,
            "took {elapsed:?}"
        );
    }

    #[tokio::test]
    async fn a_hang_among_fewer_tests_than_threads_times_out_in_its_batch() {
        let package = tempfile::tempdir().unwrap();
        let names = names(&["passes", "fails", "hangs"]);
        let start = Instant::now();
        let outcomes = run_exact(&fixture(&package), &names, 4, TIMEOUT)
            .await
            .unwrap();
        let elapsed = start.elapsed();
        assert_eq!(outcomes[&names[0]], TestOutcome::Passed);
        assert!(matches!(outcomes[&names[1]], TestOutcome::Failed { .. }));
        assert_eq!(outcomes[&names[2]], TestOutcome::TimedOut);
        // Isolating `hangs` would have cost a second timeout.
        assert!(elapsed < TIMEOUT * 2, "took {elapsed:?}");
    }

    #[tokio::test]
    async fn more_unsettled_tests_than_threads_run_again_alone() {
        let package = tempfile::tempdir().unwrap();
        // Both hangs fill the two threads; `passes` never starts in the batch.
        let names = names(&["hangs", "hangs_too", "passes"]);
        let outcomes = run_exact(&fixture(&package), &names, 2, TIMEOUT)
            .await
            .unwrap();
        assert_eq!(outcomes[&names[0]], TestOutcome::TimedOut);
        assert_eq!(outcomes[&names[1]], TestOutcome::TimedOut);
        assert_eq!(outcomes[&names[2]], TestOutcome::Passed);
    }

    #[tokio::test]
    async fn with_one_thread_the_culprit_is_known_and_the_rest_run_on() {
        let package = tempfile::tempdir().unwrap();
        // libtest runs them in name order: `aborts` ends the first process, `hangs` the second,
        // after `fails` reported a failure whose output never came: it is run again alone.
        let names = names(&["aborts", "fails", "hangs", "passes", "sees_its_package"]);
        let start = Instant::now();
        let outcomes = run_exact(&fixture(&package), &names, 1, TIMEOUT)
            .await
            .unwrap();
        let elapsed = start.elapsed();
        assert!(
            matches!(&outcomes[&names[0]], TestOutcome::Crashed { how } if how.starts_with("signal 6 (SIGABRT)")),
            "{outcomes:?}"
        );
        assert!(failed_output(outcomes.get(&names[1])).contains("left: -42"));
        assert_eq!(outcomes[&names[2]], TestOutcome::TimedOut);
        assert_eq!(outcomes[&names[3]], TestOutcome::Passed);
        assert_eq!(outcomes[&names[4]], TestOutcome::Passed);
        assert!(elapsed < TIMEOUT * 2, "took {elapsed:?}");
    }

    #[tokio::test]
    async fn every_call_runs_the_test_again() {
        let package = tempfile::tempdir().unwrap();
        let binary = fixture(&package);
        let names = names(&["flaky"]);
        let first = run_exact(&binary, &names, 1, TIMEOUT).await.unwrap();
        let second = run_exact(&binary, &names, 1, TIMEOUT).await.unwrap();
        assert!(failed_output(first.get(&names[0])).contains("run 1 is odd"));
        assert_eq!(second[&names[0]], TestOutcome::Passed);
    }

    #[tokio::test]
    async fn run_together_runs_what_the_filters_select() {
        let package = tempfile::tempdir().unwrap();
        let binary = fixture(&package);
        let filters = |f: &[&str]| f.iter().map(|f| f.to_string()).collect::<Vec<_>>();

        let outcomes = run_together(&binary, &filters(&["tests::pa", "fails"]), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(outcomes.len(), 2, "{outcomes:?}");
        assert_eq!(outcomes["tests::passes"], TestOutcome::Passed);
        assert!(failed_output(outcomes.get("tests::fails")).contains("left: -42"));

        let outcomes = run_together(&binary, &filters(&["hangs"]), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(outcomes.len(), 2, "{outcomes:?}");
        assert!(outcomes.values().all(|o| *o == TestOutcome::TimedOut));

        let outcomes = run_together(&binary, &filters(&["aborts"]), TIMEOUT)
            .await
            .unwrap();
        assert!(
            matches!(&outcomes["tests::aborts"], TestOutcome::Crashed { how } if how.starts_with("signal 6")),
            "{outcomes:?}"
        );
    }

    /// Feeds `chunks` to a parser as a process's stdout would arrive.
    fn parse(chunks: &[&str]) -> Report {
        let mut parser = Parser::default();
        let mut lines = Lines::default();
        for chunk in chunks {
            lines.feed(chunk.as_bytes(), &mut |line| parser.line(line));
        }
        lines.finish(&mut |line| parser.line(line));
        parser.finish()
    }

    #[test]
    fn a_result_may_come_after_the_start_and_the_tests_own_output() {
        let report = parse(&[
            "\nrunning 3 tests\ntest a::one ... ",
            "ok\ntest a::two ... direct output\nok\n",
            "stray!test a::three - should panic ... ok\ntest a::four ... ",
        ]);
        assert_eq!(report.running, Some(3));
        assert_eq!(report.outcome("a::one"), Some(TestOutcome::Passed));
        assert_eq!(report.outcome("a::two"), Some(TestOutcome::Passed));
        assert_eq!(report.outcome("a::three"), Some(TestOutcome::Passed));
        // Started when the output ended: the one a single-threaded run was running.
        assert_eq!(report.started.as_deref(), Some("a::four"));
        assert!(!report.complete);
    }

    #[test]
    fn failure_blocks_end_at_the_closing_list_not_at_look_alikes_in_the_output() {
        let report = parse(&[
            "running 2 tests\ntest m::bad ... FAILED\ntest m::worse ... FAILED\n\nfailures:\n\n",
            "---- m::bad stdout ----\nprinted first\n---- other stdout ----\nfailures:\nstill mine\n",
            "thread 'm::bad' (7) panicked at src/lib.rs:1:1:\nboom\n",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n",
            "---- m::worse stdout ----\nno panic line here\n\n\nfailures:\n    m::bad\n    m::worse\n\n",
            "test result: FAILED. 0 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n",
        ]);
        assert!(report.complete);
        assert_eq!(
            report.outcome("m::bad"),
            Some(TestOutcome::Failed {
                output: "thread 'm::bad' (7) panicked at src/lib.rs:1:1:\nboom".to_owned()
            })
        );
        assert_eq!(
            report.outcome("m::worse"),
            Some(TestOutcome::Failed {
                output: "no panic line here".to_owned()
            })
        );
        assert_eq!(report.failure_list.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_crash_is_described_by_its_signal_and_the_runtime_s_last_word() {
        use std::os::unix::process::ExitStatusExt;
        let stderr =
            "thread 'x' has overflowed its stack\nfatal runtime error: stack overflow, aborting\n";
        assert_eq!(
            describe(Some(ExitStatus::from_raw(libc::SIGABRT)), stderr),
            "signal 6 (SIGABRT): fatal runtime error: stack overflow, aborting"
        );
        assert_eq!(
            describe(Some(ExitStatus::from_raw(3 << 8)), ""),
            "exit code 3"
        );
    }

    #[test]
    fn output_without_a_panic_line_keeps_its_end() {
        let mut capture = Capture::default();
        for i in 0..10_000 {
            capture.push(&format!("line {i}"));
        }
        let output = capture.finish();
        assert!(output.len() <= OUTPUT_LIMIT);
        assert!(
            output.starts_with('…') && output.ends_with("line 9999"),
            "{output}"
        );
    }
}
