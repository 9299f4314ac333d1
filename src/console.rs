//! Everything the user sees: the human renderer of [`Event`]s (warnings, `-v` details, diffs,
//! the summary and the hint), the progress bar, and with `--message-format json` the JSON
//! lines [`crate::messages`] makes of the same events on stdout, the human text then all on
//! stderr. The interface to the indicatif and console crates is localized here.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::{Event, ItemRef, Listed, Mode, Reporter, Status, Tally};
use crate::generate::Progress;
use crate::messages;

/// Coloring, as cargo's `--color` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// How messages are printed, as cargo's `--message-format` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct ConsoleOptions {
    pub quiet: bool,
    pub verbose: bool,
    pub color: Color,
    pub format: MessageFormat,
}

pub struct Console {
    quiet: bool,
    verbose: bool,
    /// stdout carries JSON messages only.
    json: bool,
    bar: ProgressBar,
}

impl Console {
    pub fn new(options: ConsoleOptions) -> Console {
        let ConsoleOptions {
            quiet,
            verbose,
            color,
            format,
        } = options;
        match color {
            Color::Always => set_colors(true),
            Color::Never => set_colors(false),
            Color::Auto => {}
        }
        // indicatif draws nothing when stderr is not a terminal.
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        Console {
            quiet,
            verbose,
            json: format == MessageFormat::Json,
            bar,
        }
    }

    /// Text that is the command's result: stdout, unless stdout is for JSON.
    fn print(&self, text: &str) {
        if self.json {
            self.bar.suspend(|| eprint!("{text}"));
        } else {
            self.bar.suspend(|| print!("{text}"));
        }
    }

    /// A spinner while the module trees are walked.
    pub fn scanning(&self) {
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} Scanning {pos} files").expect("valid template"),
        );
        self.bar.enable_steady_tick(Duration::from_millis(100));
    }

    pub fn scanned(&self, files: usize) {
        self.bar.set_position(files as u64);
    }

    /// A bar over the files being generated for; with an LLM it also shows the calls in
    /// flight and the cache hits.
    pub fn generating(&self, files: usize, llm: bool) {
        let template = if llm {
            "{spinner} {bar:30} {pos}/{len} files · {prefix} {wide_msg}"
        } else {
            "{bar:30} {pos}/{len} files {wide_msg}"
        };
        self.bar
            .set_style(ProgressStyle::with_template(template).expect("valid template"));
        self.bar.set_position(0);
        self.bar.set_length(files as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn warning(&self, text: &str) {
        let label = console::style("warning").yellow().bold().for_stderr();
        self.bar.suspend(|| eprintln!("{label}: {text}"));
    }

    /// Detail shown with `--verbose`.
    fn detail(&self, text: &str) {
        if self.verbose {
            self.bar.suspend(|| eprintln!("{text}"));
        }
    }

    /// `-v`: how many of an item's mutants its tests catch, and each survivor where it is.
    fn mutants(&self, file: &str, mutants: &crate::verify::ItemMutants) {
        let item = &mutants.item;
        if let Some(note) = &mutants.note {
            self.detail(&format!("{file}: `{item}`: no mutants: {note}"));
            return;
        }
        self.detail(&format!(
            "{file}: `{item}`: its tests catch {} of {} {}",
            mutants.caught,
            mutants.total,
            if mutants.total == 1 {
                "mutant"
            } else {
                "mutants"
            }
        ));
        for survivor in &mutants.survivors {
            self.detail(&format!("    survived: {survivor}"));
        }
    }

    /// A line of the command's result, on stdout (stderr when stdout is for JSON).
    fn output(&self, text: &str) {
        self.print(&format!("{text}\n"));
    }

    /// A unified diff on stdout, coloured like `git diff`.
    fn diff(&self, diff: &str) {
        let mut out = String::with_capacity(diff.len() + diff.len() / 4);
        for line in diff.split_inclusive('\n') {
            // The line ending stays outside the colour, so each reset closes its own line.
            let ending = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            let line = &line[..line.len() - ending.len()];
            let styled = if line.starts_with("+++") || line.starts_with("---") {
                console::style(line).bold()
            } else if line.starts_with('+') {
                console::style(line).green()
            } else if line.starts_with('-') {
                console::style(line).red()
            } else if line.starts_with("@@") {
                console::style(line).cyan()
            } else {
                console::style(line)
            };
            out.push_str(&styled.to_string());
            out.push_str(ending);
        }
        self.print(&out);
    }

    /// A labelled line on stderr, unless `--quiet`: the summary (`testsmith`) or the hint.
    fn closing(&self, label: console::StyledObject<&str>, text: &str) {
        if !self.quiet {
            let label = label.bold().for_stderr();
            self.bar.suspend(|| eprintln!("{label}: {text}"));
        }
    }

    /// The human text of an event, where it has one.
    fn human(&self, event: &Event<'_>) {
        match event {
            Event::Warning(warning) => self.warning(&warning.to_string()),
            Event::Item {
                item,
                status: Status::Tested,
                detail: Some(found),
            } => self.detail(&format!("{} has a test {found}", at(item))),
            Event::Item { .. } => {}
            Event::Listed { item, why } => match why {
                Listed::NoTest => self.output(&format!("{} has no test", at(item))),
                Listed::OnlyScaffold => self.output(&format!("{} has only a scaffold", at(item))),
                Listed::ScaffoldToFill => {
                    self.detail(&format!("{} has a scaffold to fill in", at(item)));
                }
            },
            Event::Test {
                file,
                item,
                verdict,
            } => {
                if let Some(text) = crate::event::test_warning(file, item, verdict) {
                    self.warning(&text);
                }
            }
            Event::FileWritten { file, tests } => {
                self.detail(&format!(
                    "{file}: wrote {}",
                    plural(*tests, "test", "tests")
                ));
            }
            Event::FileDiff { diff, .. } => self.diff(diff),
            Event::Containment(layers) => self.detail(&format!("containment: {layers}")),
            Event::Mutants { file, mutants } => self.mutants(file, mutants),
            Event::Features {
                package,
                features,
                files,
                items,
            } => {
                let features = features.iter().cloned().collect::<Vec<_>>().join(",");
                self.detail(&format!(
                    "features: {} in {} checked with `cargo test -p {package} --features {features}`",
                    plural(*items, "item", "items"),
                    plural(*files, "file", "files"),
                ));
            }
            Event::Verified(summary) => {
                let runs = if summary.compile_only {
                    String::new()
                } else {
                    format!(", tests run in {:.1} s", summary.run_time.as_secs_f64())
                };
                self.detail(&format!(
                    "verification: {} in {:.1} s{runs}",
                    plural(summary.builds, "build", "builds"),
                    summary.build_time.as_secs_f64(),
                ));
                if let Some(mutants) = summary.mutants {
                    let isolated = if mutants.isolated {
                        " (each mutant in a process of its own: the crate keeps global state)"
                    } else {
                        ""
                    };
                    self.detail(&format!(
                        "mutation: {} of them, {} that did not compile dropped, {:.1} s in all{isolated}",
                        plural(mutants.builds, "build", "builds"),
                        plural(mutants.unbuildable, "mutant", "mutants"),
                        mutants.time.as_secs_f64(),
                    ));
                }
            }
            Event::CacheStats {
                hits,
                misses,
                entries,
            } => self.output(&format!(
                "LLM cache — hits: {hits} misses: {misses} entries: {entries}"
            )),
            Event::Summary {
                mode,
                changed_only,
                tally,
            } => self.closing(
                console::style("testsmith").green(),
                &summary(*mode, tally, *changed_only),
            ),
            Event::Hint(hint) => self.closing(console::style("hint").cyan(), hint),
            _ => self.human_command(event),
        }
    }

    /// The human text of the events of `watch`, `cache` and `hook`.
    fn human_command(&self, event: &Event<'_>) {
        let testsmith = || console::style("testsmith").green();
        match event {
            Event::Watching { dirs } => self.closing(
                testsmith(),
                &format!(
                    "watching {} for saved files; Ctrl-C to stop",
                    dirs.join(", ")
                ),
            ),
            Event::Round {
                round,
                saved,
                tally,
            } => self.closing(
                testsmith(),
                &format!(
                    "round {round} ({}): {}",
                    saved.join(", "),
                    summary(Mode::Write, tally, false)
                ),
            ),
            Event::RoundFailed {
                round,
                saved,
                error: err,
            } => error(&format!("round {round} ({}): {err}", saved.join(", "))),
            Event::WatchStopped {
                rounds,
                tests,
                files,
                mid_round,
            } => {
                let cut = if *mid_round {
                    " (the last one cut short, writing nothing)"
                } else {
                    ""
                };
                self.closing(
                    testsmith(),
                    &format!(
                        "watch stopped after {}{cut}: {} written in {}",
                        plural(*rounds, "round", "rounds"),
                        plural(*tests, "test", "tests"),
                        plural(*files, "file", "files"),
                    ),
                );
            }
            Event::CacheEntries { entries, dir } => {
                self.output(&format!("LLM cache — entries: {entries} ({dir})"));
            }
            Event::CacheCleared { removed, dir } => self.output(&format!(
                "removed {} from {dir}",
                plural(*removed, "LLM cache entry", "LLM cache entries")
            )),
            Event::Hook(text) => self.output(text),
            _ => {}
        }
    }
}

impl Reporter for Console {
    fn report(&self, event: &Event<'_>) {
        if self.json
            && let Some(line) = messages::line(event)
        {
            self.bar.suspend(|| println!("{line}"));
        }
        self.human(event);
    }
}

/// `src/lib.rs:3: `add``, as an item's lines start.
fn at(item: &ItemRef<'_>) -> String {
    format!("{}:{}: `{}`", item.file, item.line, item.name)
}

impl crate::verify::Progress for Console {
    fn phase(&self, text: &str) {
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} {wide_msg}").expect("valid template"),
        );
        self.bar.enable_steady_tick(Duration::from_millis(100));
        self.bar.set_message(text.to_owned());
    }
}

impl Progress for Console {
    fn file_done(&self, display: &str) {
        self.bar.set_message(display.to_owned());
        self.bar.inc(1);
    }

    fn calls(&self, in_flight: usize, cache_hits: usize) {
        self.bar.set_prefix(format!(
            "{in_flight} calls in flight · {cache_hits} cache hits"
        ));
    }
}

fn set_colors(on: bool) {
    console::set_colors_enabled(on);
    console::set_colors_enabled_stderr(on);
}

/// A fatal error, on stderr.
pub fn error(err: &dyn std::fmt::Display) {
    let label = console::style("error").red().bold().for_stderr();
    eprintln!("{label}: {err}");
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A word as a POSIX shell reads it back: bare when it is plain, else single-quoted.
pub fn shell_word(word: &str) -> String {
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

/// The summary line: what the run found or did, what verification made of the tests, what
/// was already tested and what was skipped.
pub fn summary(mode: Mode, tally: &Tally, changed_only: bool) -> String {
    let mut text = if tally.tests == 0 {
        nothing_found(mode, tally, changed_only).to_owned()
    } else if mode == Mode::Check {
        let scaffolds = if tally.scaffolded > 0 {
            format!(" ({} with only a scaffold)", tally.scaffolded)
        } else {
            String::new()
        };
        format!(
            "{} in {} without a test{scaffolds}",
            plural(tally.tests, "public item", "public items"),
            plural(tally.files_changed, "file", "files")
        )
    } else {
        let verb = if mode == Mode::DryRun {
            "would generate"
        } else {
            "generated"
        };
        format!(
            "{verb} {} in {}",
            plural(tally.tests, "test", "tests"),
            plural(tally.files_changed, "file", "files")
        )
    };
    if let Some(verified) = verification(tally) {
        text.push_str(&format!(" ({verified})"));
    }
    if let Some(mutants) = tally.verified.and_then(|v| v.mutants) {
        text.push_str(&format!(
            ", mutants: {} of {} caught",
            mutants.caught, mutants.total
        ));
    }
    text.push_str(&format!(
        ", {} already tested",
        plural(tally.already_tested, "item", "items")
    ));
    if mode != Mode::Check && tally.scaffolded > 0 {
        text.push_str(&format!(", {} with only a scaffold", tally.scaffolded));
    }
    let skipped = tally.skipped_files();
    if skipped > 0 {
        let reasons: Vec<String> = tally
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

/// The summary's head when the run found nothing to write or list.
fn nothing_found(mode: Mode, tally: &Tally, changed_only: bool) -> &'static str {
    let judged = tally.already_tested + tally.scaffolded + tally.untested + tally.dropped;
    if mode == Mode::Check && !tally.skipped.is_empty() {
        "no public item without a test in the files read"
    } else if changed_only && judged == 0 {
        // Not "no file to check": a change that adds no public item passes the gate.
        "the change adds or edits no public item"
    } else if mode == Mode::Check && changed_only {
        "every public item the change adds or edits has a test"
    } else if mode == Mode::Check && tally.files_checked == 0 {
        // Never "every public item has a test" about nothing.
        "no file to check"
    } else if mode == Mode::Check {
        "every public item has a test"
    } else {
        "nothing to generate"
    }
}

/// What verification made of the candidates, in the summary's parentheses.
fn verification(tally: &Tally) -> Option<String> {
    if let Some(checked) = tally.verified.filter(|v| v.compile_only) {
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
        (!parts.is_empty()).then(|| parts.join(", "))
    } else if let Some(counts) = tally.verified.map(|v| v.counts)
        && counts.candidates > 0
        && counts.observed
    {
        // Offline: each candidate was a call on chosen inputs; its test is what it showed.
        let mut parts = vec![format!("{} kept", counts.passed + counts.repaired)];
        if counts.unchosen > 0 {
            parts.push(format!("{} left out", counts.unchosen));
        }
        if counts.dropped > 0 {
            parts.push(format!("{} dropped", counts.dropped));
        }
        Some(format!(
            "{} observed: {}",
            plural(counts.candidates, "call", "calls"),
            parts.join(", ")
        ))
    } else if let Some(counts) = tally.verified.map(|v| v.counts)
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
        Some(format!(
            "{}: {}",
            plural(counts.candidates, "candidate", "candidates"),
            parts.join(", ")
        ))
    } else if tally.unverified {
        Some("not verified: --no-verify".to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Counts, Summary};

    #[test]
    fn the_summary_says_what_was_done_and_what_verification_made_of_it() {
        let mut tally = Tally {
            tests: 3,
            files_changed: 1,
            already_tested: 1,
            ..Tally::default()
        };
        tally.verified = Some(Summary {
            counts: Counts {
                candidates: 5,
                passed: 2,
                repaired: 1,
                dropped: 2,
                ..Counts::default()
            },
            ..Summary::default()
        });
        assert_eq!(
            summary(Mode::Write, &tally, false),
            "generated 3 tests in 1 file (5 candidates: 2 passed, 1 after repair, 2 dropped), 1 item already tested"
        );
        assert!(summary(Mode::DryRun, &tally, false).starts_with("would generate 3 tests"));
        tally.verified = None;
        tally.unverified = true;
        tally.skipped.insert("unparsable", 2);
        assert_eq!(
            summary(Mode::Write, &tally, false),
            "generated 3 tests in 1 file (not verified: --no-verify), 1 item already tested, 2 files skipped (2 unparsable)"
        );
    }

    #[test]
    fn a_check_never_vouches_for_what_it_did_not_read() {
        let mut tally = Tally::default();
        assert_eq!(
            summary(Mode::Check, &tally, false),
            "no file to check, 0 items already tested"
        );
        assert!(
            summary(Mode::Check, &tally, true)
                .starts_with("the change adds or edits no public item")
        );
        tally.files_checked = 2;
        tally.already_tested = 4;
        assert!(summary(Mode::Check, &tally, false).starts_with("every public item has a test"));
        tally.skipped.insert("not UTF-8", 1);
        let text = summary(Mode::Check, &tally, false);
        assert!(
            text.starts_with("no public item without a test in the files read"),
            "{text}"
        );
        assert!(
            text.ends_with("; the check fails: what was skipped was not checked"),
            "{text}"
        );
        tally.tests = 2;
        tally.scaffolded = 1;
        tally.files_changed = 1;
        assert!(
            summary(Mode::Check, &tally, false)
                .starts_with("2 public items in 1 file without a test (1 with only a scaffold)")
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_they_must_be() {
        assert_eq!(shell_word("src/lib.rs"), "src/lib.rs");
        assert_eq!(shell_word("my crate"), "'my crate'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
