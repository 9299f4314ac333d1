//! `cargo testsmith watch`: watch the selected packages' source files and, for each save, run
//! the pipeline on the files saved. The interface to the notify crates is localized here.
//!
//! A round is [`crate::run::run`] with the saved files as its `PATH`s. A saved file is taken when
//! its bytes differ from what the watch last knew of them: the bytes the last round started
//! from, or, for a file that round wrote, the bytes it wrote. So the tool's own writes (and
//! saves that change nothing) start no round, while a save made during a round leaves other
//! bytes and is taken in the next one.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify_debouncer_mini::notify::{self, RecursiveMode};

use crate::console::Console;
use crate::error::{Error, LlmError};
use crate::event::{Event, Reporter};
use crate::interrupt::Runtime;
use crate::options::{ConsoleOptions, Options};
use crate::run::{self, Outcome};
use crate::scan;
use crate::workspace::Workspace;

/// How long a file must be quiet before its save is taken: an editor's save (write, rename,
/// chmod) is one burst well within it, and a person does not wait for it.
const DEBOUNCE: Duration = Duration::from_millis(200);

enum Message {
    Saved(Vec<PathBuf>),
    /// The watcher's own trouble (a directory gone, too many watches), reported and survived.
    Failed(String),
    Interrupted,
}

type Debouncer = notify_debouncer_mini::Debouncer<notify::RecommendedWatcher>;

/// A watch under way: what it watches, what it knows of each file, what it did so far.
struct Watch<'a> {
    options: &'a Options,
    console: Console,
    workspace: Workspace,
    /// The `PATH`s to keep to, canonical.
    keep_to: Vec<PathBuf>,
    /// Where saved paths are shown from.
    cwd: Option<PathBuf>,
    /// What each file holds now: a round reads files it was not given (the module walk), and
    /// notify reports reads too; those, like a save that changes nothing, start no round.
    known: HashMap<PathBuf, u64>,
    rounds: usize,
    total: Outcome,
}

/// Watch until Ctrl-C, which ends it with exit status 130 (also in the middle of a round that
/// waits on a build or a model: its writes are dropped like any run's). A round that fails is
/// reported in its line and the watch goes on (the next save may fix the crate), unless the
/// LLM can never be used.
pub fn watch(options: &Options) -> Result<Outcome, Error> {
    let console = Console::new(options.console);
    let workspace = crate::workspace::load(&options.selection)?;
    // A setting that cannot work (a missing key, a bad URL) ends the watch now, not each save.
    if let Some(flags) = &options.llm {
        run::llm_settings(flags, &workspace)?;
    }
    let keep_to = run::canonical_paths(&options.paths)?;
    let dirs = watched_dirs(&workspace);
    let (sender, receiver) = mpsc::channel();
    // The watch waits on file events, outside any `block_on`: Ctrl-C reaches it as a message.
    let runtime = Runtime::new()?;
    let on_ctrl_c = sender.clone();
    runtime.on_interrupt(move || {
        let _ = on_ctrl_c.send(Message::Interrupted);
    });
    let _debouncer = watcher(&dirs, &workspace, sender)?;
    let shown: Vec<String> = dirs
        .iter()
        .map(|dir| scan::relative(&workspace.root, dir))
        .collect();
    let mut known = HashMap::new();
    for dir in &dirs {
        record(dir, &workspace.target_dir, &mut known);
    }
    // Said once the files are recorded: a save made after this line is always a round.
    console.report(&Event::Watching { dirs: &shown });
    let mut watch = Watch {
        options,
        console,
        workspace,
        keep_to,
        cwd: std::env::current_dir()
            .and_then(|dir| dir.canonicalize())
            .ok(),
        known,
        rounds: 0,
        total: Outcome::default(),
    };
    while let Ok(first) = receiver.recv() {
        // Everything that arrived meanwhile, saves made during the last round included, is
        // one round.
        let mut saved = BTreeSet::new();
        for message in std::iter::once(first).chain(receiver.try_iter()) {
            match message {
                Message::Saved(paths) => saved.extend(paths),
                Message::Failed(message) => {
                    let warning = crate::error::Warning::Watcher { message };
                    watch.console.report(&Event::Warning(&warning));
                }
                Message::Interrupted => return Ok(watch.stopped(false)),
            }
        }
        if let Some(stopped) = watch.round(saved)? {
            return Ok(stopped);
        }
    }
    // Every sender is gone: the watcher stopped of itself.
    Ok(watch.total)
}

/// The debounced watcher over `dirs`, sending each batch of events to `sender`.
fn watcher(
    dirs: &[PathBuf],
    workspace: &Workspace,
    sender: mpsc::Sender<Message>,
) -> Result<Debouncer, Error> {
    let mut debouncer = notify_debouncer_mini::new_debouncer(
        DEBOUNCE,
        move |result: notify_debouncer_mini::DebounceEventResult| {
            let _ = sender.send(match result {
                Ok(events) => Message::Saved(events.into_iter().map(|event| event.path).collect()),
                Err(err) => Message::Failed(err.to_string()),
            });
        },
    )
    .map_err(|err| watch_error(&workspace.root, err))?;
    for dir in dirs {
        debouncer
            .watcher()
            .watch(dir, RecursiveMode::Recursive)
            .map_err(|err| watch_error(dir, err))?;
    }
    Ok(debouncer)
}

impl Watch<'_> {
    /// A round of the run over the files of `saved` whose bytes are new; `Some` outcome when
    /// Ctrl-C ended the watch in it.
    fn round(&mut self, saved: BTreeSet<PathBuf>) -> Result<Option<Outcome>, Error> {
        let files: Vec<(PathBuf, u64)> = saved
            .into_iter()
            .filter(|path| wanted(path, &self.workspace, &self.keep_to))
            .filter_map(|path| {
                let digest = digest(&std::fs::read(&path).ok()?);
                (self.known.get(&path) != Some(&digest)).then_some((path, digest))
            })
            .collect();
        if files.is_empty() {
            return Ok(None);
        }
        self.rounds += 1;
        let mut paths = Vec::with_capacity(files.len());
        for (path, digest) in files {
            paths.push(match &self.cwd {
                Some(cwd) => path.strip_prefix(cwd).unwrap_or(&path).to_owned(),
                None => path.clone(),
            });
            self.known.insert(path, digest);
        }
        let saved: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let round = Options {
            paths,
            // One line per round, the watch's own: the round's summary and bar stay quiet.
            console: ConsoleOptions {
                quiet: true,
                ..self.options.console
            },
            ..self.options.clone()
        };
        let round_number = self.rounds;
        match run::run(&round) {
            Ok(outcome) => {
                for (path, text) in &outcome.written {
                    self.known.insert(path.clone(), digest(text.as_bytes()));
                }
                self.console.report(&Event::Round {
                    round: round_number,
                    saved: &saved,
                    tally: &outcome.tally,
                });
                self.total.tally.tests += outcome.tally.tests;
                self.total.tally.files_changed += outcome.tally.files_changed;
            }
            Err(Error::Interrupted) => return Ok(Some(self.stopped(true))),
            Err(Error::Llm(err)) if !matches!(err, LlmError::Unreachable { .. }) => {
                return Err(Error::Llm(err));
            }
            Err(error) => self.console.report(&Event::RoundFailed {
                round: round_number,
                saved: &saved,
                error: &error,
            }),
        }
        Ok(None)
    }

    /// The last line, and an outcome that exits 130 like any run ended by Ctrl-C.
    fn stopped(&mut self, mid_round: bool) -> Outcome {
        self.console.report(&Event::WatchStopped {
            rounds: self.rounds,
            tests: self.total.tally.tests,
            files: self.total.tally.files_changed,
            mid_round,
        });
        let mut total = std::mem::take(&mut self.total);
        total.interrupted = true;
        total
    }
}

/// The directories holding the selected lib and bin targets' roots (`src/`, usually), each
/// watched with what is below it; none inside another.
fn watched_dirs(workspace: &Workspace) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = workspace
        .packages
        .iter()
        .flat_map(|package| &package.targets)
        .filter_map(|target| target.root.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut outer: Vec<PathBuf> = Vec::with_capacity(dirs.len());
    for dir in dirs {
        if !outer.iter().any(|kept| dir.starts_with(kept)) {
            outer.push(dir);
        }
    }
    outer
}

/// A Rust file that is there, not in the target dir (the scratch copy lives there), and within
/// the `PATH`s given, if any.
fn wanted(path: &Path, workspace: &Workspace, keep_to: &[PathBuf]) -> bool {
    path.extension().is_some_and(|ext| ext == "rs")
        && path.is_file()
        && !path.starts_with(&workspace.target_dir)
        && (keep_to.is_empty() || keep_to.iter().any(|dir| path.starts_with(dir)))
}

/// The digest of every Rust file under `dir` (but the target dir's).
fn record(dir: &Path, target_dir: &Path, known: &mut HashMap<PathBuf, u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() && path != target_dir => record(&path, target_dir, known),
            Ok(kind) if kind.is_file() && path.extension().is_some_and(|ext| ext == "rs") => {
                if let Ok(bytes) = std::fs::read(&path) {
                    known.insert(path, digest(&bytes));
                }
            }
            _ => {}
        }
    }
}

/// Enough to tell two versions of a file apart within one watch.
fn digest(bytes: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

fn watch_error(path: &Path, err: notify::Error) -> Error {
    Error::Watch {
        path: path.to_owned(),
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_source_dirs_are_watched_once() {
        let workspace = Workspace {
            root: PathBuf::from("/w"),
            packages: vec![crate::workspace::PackageSources {
                name: "app".into(),
                root: PathBuf::from("/w"),
                targets: ["/w/src/lib.rs", "/w/src/bin/tool.rs", "/w/other/main.rs"]
                    .into_iter()
                    .map(|root| crate::workspace::Target {
                        name: "t".into(),
                        kind: crate::workspace::TargetKind::Bin,
                        root: PathBuf::from(root),
                        edition: 2021,
                        required_features: Vec::new(),
                    })
                    .collect(),
                other_roots: Vec::new(),
                crates: Vec::new(),
                test_roots: Vec::new(),
                lib_name: None,
                tokio_test: false,
                features: Default::default(),
            }],
            unknown_excludes: Vec::new(),
            target_dir: PathBuf::from("/w/target"),
            build_dir: PathBuf::from("/w/target"),
            config: serde_json::Value::Null,
        };
        assert_eq!(
            watched_dirs(&workspace),
            [PathBuf::from("/w/other"), PathBuf::from("/w/src")]
        );
    }
}
