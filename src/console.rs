//! Everything the user sees: warnings, the progress bar, diffs and the summary, and with
//! `--message-format json` the JSON messages of [`crate::messages`] on stdout, the human text
//! then all on stderr. The interface to the indicatif and console crates is localized here.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{Color, MessageFormat};
use crate::error::Warning;
use crate::generate::Progress;
use crate::messages::{self, Message};
use crate::options::ConsoleOptions;

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

    /// A machine-readable message, on stdout with `--message-format json`; nothing otherwise.
    pub fn emit(&self, message: &Message<'_>) {
        if self.json {
            let line = messages::to_line(message);
            self.bar.suspend(|| println!("{line}"));
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

    pub fn warn(&self, warning: &Warning) {
        let text = warning.to_string();
        let (file, line, column) = warning.location();
        self.emit(&Message::Warning {
            file: Some(file),
            line,
            column,
            message: text.clone(),
        });
        self.human_warning(&text);
    }

    /// A warning about no file in particular.
    pub fn warn_text(&self, text: &str) {
        self.emit(&Message::Warning {
            file: None,
            line: None,
            column: None,
            message: text.to_owned(),
        });
        self.human_warning(text);
    }

    fn human_warning(&self, text: &str) {
        let label = console::style("warning").yellow().bold().for_stderr();
        self.bar.suspend(|| eprintln!("{label}: {text}"));
    }

    /// Detail shown with `--verbose`.
    pub fn detail(&self, text: &str) {
        if self.verbose {
            self.bar.suspend(|| eprintln!("{text}"));
        }
    }

    /// A line of the command's result, on stdout (stderr when stdout is for JSON).
    pub fn output(&self, text: &str) {
        self.print(&format!("{text}\n"));
    }

    /// A unified diff on stdout, coloured like `git diff`.
    pub fn diff(&self, diff: &str) {
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

    /// What to do next, after the summary, unless `--quiet`.
    pub fn hint(&self, text: &str) {
        if !self.quiet {
            let label = console::style("hint").cyan().bold().for_stderr();
            self.bar.suspend(|| eprintln!("{label}: {text}"));
        }
    }

    /// The closing line, unless `--quiet`.
    pub fn summary(&self, text: &str) {
        if !self.quiet {
            let label = console::style("testsmith").green().bold().for_stderr();
            self.bar.suspend(|| eprintln!("{label}: {text}"));
        }
    }
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
