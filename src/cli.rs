//! The command line: `cargo testsmith [OPTIONS] [PATH]...`, also reachable as
//! `cargo-testsmith testsmith …` (how cargo runs a subcommand) and as plain `cargo-testsmith …`.
//! clap's values are turned into an [`Invocation`] here, once; the interface to clap is
//! localized here.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::git::Changes;
use crate::llm::config::LlmFlags;
use crate::llm::providers::ProviderKind;
use crate::options::{self, ConsoleOptions, Invocation, Mode, Options, VerifyOptions};
use crate::workspace::Selection;

/// How cargo calls us: `cargo-testsmith testsmith <args>`.
#[derive(Parser, Debug)]
#[command(name = "cargo", bin_name = "cargo")]
enum CargoCli {
    Testsmith(Args),
}

/// Write unit tests for the public items of a crate that have none.
///
/// Each untested `pub fn` (free or in an inherent `impl`) gets a `#[test]` in a
/// `#[cfg(test)] mod testsmith_tests` at the end of its own file. Offline scaffolds build the
/// arguments, call the item and end in a `todo!()` naming what to assert; they are
/// `#[ignore]`d, so `cargo test` stays green and `cargo test -- --ignored` lists the work left.
/// With --llm, each test the model writes is built and run (3 times, and once alone) in a
/// scratch copy first, contained (no network, no writes outside the copy, no secrets): only
/// tests seen to compile and pass are written. Nothing outside the generated module is ever
/// changed.
///
/// Exit status: 0 success; 1 `--check` failed (untested items, or a file or path it could not
/// check); 2 usage or fatal error; 130 interrupted by Ctrl-C, SIGTERM or SIGHUP.
#[derive(clap::Args, Debug, Clone)]
#[command(version, verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Only these files, or the files under these directories
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH", help_heading = "Package Selection")]
    pub manifest_path: Option<PathBuf>,

    /// Package to generate tests for (name or name@version)
    #[arg(
        short = 'p',
        long = "package",
        value_name = "SPEC",
        help_heading = "Package Selection"
    )]
    pub packages: Vec<String>,

    /// All packages in the workspace
    #[arg(long, help_heading = "Package Selection", conflicts_with = "packages")]
    pub workspace: bool,

    /// Exclude packages from --workspace
    #[arg(
        long,
        value_name = "SPEC",
        requires = "workspace",
        help_heading = "Package Selection"
    )]
    pub exclude: Vec<String>,

    /// Print the changes as a unified diff; write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Only the public items the staged changes add or edit (`git diff --cached`)
    #[arg(long, help_heading = "Changed Only", conflicts_with = "since")]
    pub staged: bool,

    /// Only the public items added or edited since REV (a branch, tag or commit, e.g. origin/main), counted from where this branch left it
    #[arg(long, value_name = "REV", help_heading = "Changed Only")]
    pub since: Option<String>,

    // Generation options mean nothing to a check: refused rather than quietly dropped.
    /// Write nothing; exit 1 listing the public items without a test (or with only a scaffold), or when a selected file or PATH could not be checked; exit 0 if there are none
    #[arg(long, conflicts_with_all = ["dry_run", "llm", "no_verify"])]
    pub check: bool,

    /// Say what is done with each file and item
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,

    /// No progress bar and no summary; warnings and errors still print
    #[arg(short, long)]
    pub quiet: bool,

    /// Coloring (like cargo, CARGO_TERM_COLOR applies when --color is not given)
    #[arg(long, value_enum, value_name = "WHEN", env = "CARGO_TERM_COLOR", default_value_t = Color::Auto)]
    pub color: Color,

    /// Messages as human text on stderr, or also as JSON objects on stdout, one per line
    #[arg(long, value_enum, value_name = "FMT", default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,

    /// Ask an LLM for real test bodies instead of tests observed by running the code
    #[arg(long, help_heading = "LLM")]
    pub llm: bool,

    /// Offline: write #[ignore]d scaffolds that end in todo!() instead of running the code to observe what it returns
    #[arg(long, conflicts_with = "llm")]
    pub scaffolds: bool,

    /// Which API to speak [env: TESTSMITH_PROVIDER] [default: the one whose key is set, else ollama]
    #[arg(long, value_enum, requires = "llm", help_heading = "LLM")]
    pub provider: Option<Provider>,

    /// Model name [env: TESTSMITH_MODEL]
    #[arg(long, value_name = "NAME", requires = "llm", help_heading = "LLM")]
    pub model: Option<String>,

    /// Server URL [env: OPENAI_BASE_URL, ANTHROPIC_BASE_URL, OLLAMA_HOST]
    #[arg(long, value_name = "URL", requires = "llm", value_parser = crate::llm::config::parse_base_url, help_heading = "LLM")]
    pub base_url: Option<String>,

    /// Attempts per call, the first one included [default: 3]
    #[arg(long, value_name = "N", requires = "llm", value_parser = positive_count::<u32>, help_heading = "LLM")]
    pub max_retries: Option<u32>,

    /// Requests in flight at most [default: 5]
    #[arg(long, value_name = "N", requires = "llm", value_parser = positive_count::<usize>, help_heading = "LLM")]
    pub max_concurrent: Option<usize>,

    /// Seconds before one request is given up [default: 120]
    #[arg(long, value_name = "SECS", requires = "llm", value_parser = positive_seconds, help_heading = "LLM")]
    pub timeout: Option<f64>,

    /// Where generated tests are cached [default: target/testsmith/cache]
    #[arg(long, value_name = "DIR", requires = "llm", help_heading = "LLM")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the cache
    #[arg(long, requires = "llm", help_heading = "LLM")]
    pub no_cache: bool,

    /// One call per item instead of one per file
    #[arg(long, requires = "llm", help_heading = "LLM")]
    pub no_batch: bool,

    /// Write tests without building them first (offline: scaffolds are not compile-checked; with --llm: the model's tests are neither built nor run)
    #[arg(long, help_heading = "Verification")]
    pub no_verify: bool,

    /// Runs each test must pass before it is written; one that passes only some is flaky [default: 3]
    #[arg(long, value_name = "N", value_parser = positive_count::<u32>, help_heading = "Verification")]
    pub runs: Option<u32>,

    /// Seconds a test may run before it is killed and dropped [default: 10]
    #[arg(long, value_name = "SECS", value_parser = positive_seconds, help_heading = "Verification")]
    pub test_timeout: Option<f64>,

    /// Times a failing test goes back to the model with the compiler's or the test's output, at most 10; 0: never [default: 2]. A repair that gives back a test already tried, or fails as the last one did, ends them early
    #[arg(
        long,
        value_name = "N",
        requires = "llm",
        value_parser = clap::value_parser!(u32).range(0..=10),
        help_heading = "Verification"
    )]
    pub repair_rounds: Option<u32>,

    /// Write tests that compile but fail, #[ignore]d with the failure, instead of dropping them
    #[arg(
        long,
        requires = "llm",
        conflicts_with = "no_verify",
        help_heading = "Verification"
    )]
    pub keep_failing: bool,

    /// Skip the mutation stage: written tests are not run against mutants of their items
    #[arg(long, help_heading = "Verification")]
    pub no_mutants: bool,

    /// Times a test that leaves mutants of its item alive goes back to the model with those mutants, at most 10; 0: never [default: 1]. The new test replaces the old only when it passes and catches more
    #[arg(
        long,
        value_name = "N",
        requires = "llm",
        conflicts_with = "no_mutants",
        value_parser = clap::value_parser!(u32).range(0..=10),
        help_heading = "Verification"
    )]
    pub mutation_rounds: Option<u32>,

    /// Run tests (the model's, or the crate's code on chosen inputs) even where this machine lacks a layer of containment (network and PID namespaces, Landlock); without it, a --llm run stops before asking the model and an offline run writes scaffolds
    #[arg(long, help_heading = "Verification")]
    pub allow_uncontained: bool,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum Command {
    /// Inspect or clear the LLM cache
    ///
    /// Its options come after `cache`: `cargo testsmith cache stats --cache-dir <DIR>`.
    Cache {
        #[command(subcommand)]
        action: CacheActionArg,

        /// Path to Cargo.toml, whose target dir holds the cache
        // The top level's options conflict with subcommands (so `cargo testsmith cache.rs`
        // stays a path): the cache's own options live here, for both of its actions.
        #[arg(long, value_name = "PATH", global = true)]
        manifest_path: Option<PathBuf>,

        /// The cache's directory [default: target/testsmith/cache]
        #[arg(long, value_name = "DIR", global = true)]
        cache_dir: Option<PathBuf>,
    },
    /// Install or remove a git pre-commit hook that checks the staged changes
    ///
    /// For projects that do not use the pre-commit framework (for which cargo-testsmith's
    /// `.pre-commit-hooks.yaml` has hooks). The hook goes where git runs hooks from
    /// (`core.hooksPath`, or the main repository's when in a worktree) and runs
    /// `cargo testsmith --check --staged` for the manifest cargo finds from the directory it
    /// was installed in.
    Hook {
        #[command(subcommand)]
        action: HookActionArg,
    },
    /// Watch the selected packages' source files; write tests for the files saved
    ///
    /// Takes the options of a run, after `watch`: the package selection (`-p`, `--workspace`,
    /// `--exclude`, `--manifest-path`), `PATH`s to keep to, `--llm` and its options,
    /// `--no-verify`, `-v`, `-q`, `--color` (`cargo testsmith --help` lists them). Each save
    /// writes tests for the public items of the saved files that have none and prints one line
    /// per round; the tool's own writes start no round. Ctrl-C ends it with exit status 130.
    Watch {
        /// The options of a run
        #[arg(
            value_name = "OPTIONS",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        args: Vec<OsString>,
    },
}

#[derive(clap::Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookActionArg {
    /// Write the pre-commit hook; one that cargo-testsmith did not write is kept
    Install {
        /// Replace a pre-commit hook that cargo-testsmith did not write
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-commit hook, only if cargo-testsmith wrote it
    Uninstall,
}

#[derive(clap::Subcommand, Debug, Clone, Copy)]
pub enum CacheActionArg {
    /// Print the cache's directory and number of entries
    Stats,
    /// Remove every cached entry
    Clear,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// How messages are printed, as cargo's `--message-format` spells it.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFormat {
    Human,
    Json,
}

/// The API spoken to the model's server.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Openai,
    Anthropic,
    Ollama,
}

impl From<Provider> for ProviderKind {
    fn from(provider: Provider) -> ProviderKind {
        match provider {
            Provider::Openai => ProviderKind::Openai,
            Provider::Anthropic => ProviderKind::Anthropic,
            Provider::Ollama => ProviderKind::Ollama,
        }
    }
}

impl From<Color> for options::Color {
    fn from(color: Color) -> options::Color {
        match color {
            Color::Auto => options::Color::Auto,
            Color::Always => options::Color::Always,
            Color::Never => options::Color::Never,
        }
    }
}

/// A number of seconds that can time something: positive and finite.
fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() => Ok(secs),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

/// A count of attempts, requests or runs: at least 1. The same rule, and the same sentence, as
/// for seconds; 0 is refused, never quietly made 1.
fn positive_count<N: std::str::FromStr + PartialOrd + From<u8>>(text: &str) -> Result<N, String> {
    match text.parse::<N>() {
        Ok(n) if n >= N::from(1) => Ok(n),
        _ => Err(format!("`{text}` is not a positive whole number")),
    }
}

/// Parse the process arguments; exits with status 2 on a usage error, as clap does.
pub fn parse() -> Invocation {
    parse_from(std::env::args_os())
}

/// The invocation these words ask for; exits with status 2 on a usage error.
pub fn parse_from(args: impl IntoIterator<Item = OsString>) -> Invocation {
    invocation(&parse_args_from(args))
}

/// Accept both `cargo-testsmith testsmith …` and `cargo-testsmith …`.
fn parse_args_from(args: impl IntoIterator<Item = OsString>) -> Args {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_none_or(|arg| arg != "testsmith") {
        args.insert(1, OsString::from("testsmith"));
    }
    let CargoCli::Testsmith(parsed) = CargoCli::parse_from(&args);
    if let Some(Command::Watch { args: rest }) = &parsed.command {
        return watch_args(&args[0], rest);
    }
    let args = parsed;
    // `--cache-dir D cache stats`: clap took `cache stats` for paths, since an option came first.
    if args.command.is_none()
        && let [first, action] = args.paths.as_slice()
        && first.as_os_str() == "cache"
        && (action.as_os_str() == "stats" || action.as_os_str() == "clear")
    {
        use clap::CommandFactory;
        CargoCli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "the options of `cache` go after it: `cargo testsmith cache {} --cache-dir <DIR> --manifest-path <PATH>`",
                    action.display()
                ),
            )
            .exit();
    }
    args
}

/// `watch`'s words read as a run's options (so every option of a run works, and means the
/// same), then marked as a watch. A watch writes: a check or a diff per save is refused.
fn watch_args(program: &OsString, rest: &[OsString]) -> Args {
    use clap::CommandFactory;
    let words = [program.clone(), OsString::from("testsmith")]
        .into_iter()
        .chain(rest.iter().cloned());
    let CargoCli::Testsmith(mut args) = CargoCli::parse_from(words);
    let refuse = |message: &str| {
        CargoCli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit()
    };
    if args.command.is_some() {
        refuse("`watch` takes the options of a run, not another command");
    }
    if args.check || args.dry_run {
        refuse("`watch` writes tests: --check and --dry-run do not apply to it");
    }
    args.command = Some(Command::Watch {
        args: rest.to_vec(),
    });
    args
}

/// clap's values as the invocation they ask for.
fn invocation(args: &Args) -> Invocation {
    let console = ConsoleOptions {
        quiet: args.quiet,
        verbose: args.verbose,
        color: args.color.into(),
        format: match args.message_format {
            MessageFormat::Human => options::MessageFormat::Human,
            MessageFormat::Json => options::MessageFormat::Json,
        },
    };
    match &args.command {
        Some(Command::Cache {
            action,
            manifest_path,
            cache_dir,
        }) => Invocation::Cache(options::CacheCommand {
            action: match action {
                CacheActionArg::Stats => options::CacheAction::Stats,
                CacheActionArg::Clear => options::CacheAction::Clear,
            },
            dir: cache_dir.clone(),
            selection: Selection {
                manifest_path: args.manifest_path.clone().or(manifest_path.clone()),
                ..Selection::default()
            },
            console,
        }),
        Some(Command::Hook { action }) => Invocation::Hook(
            match action {
                HookActionArg::Install { force } => options::HookAction::Install { force: *force },
                HookActionArg::Uninstall => options::HookAction::Uninstall,
            },
            console,
        ),
        Some(Command::Watch { .. }) => Invocation::Watch(run_options(args, console)),
        None => Invocation::Run(run_options(args, console)),
    }
}

/// The options of a run (or of each round of a watch).
fn run_options(args: &Args, console: ConsoleOptions) -> Options {
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    // clap refuses `--check --llm`: a check generates nothing.
    let llm = (args.llm && mode != Mode::Check).then(|| LlmFlags {
        provider: args.provider.map(ProviderKind::from),
        model: args.model.clone(),
        base_url: args.base_url.clone(),
        max_retries: args.max_retries,
        max_concurrent: args.max_concurrent,
        timeout: args.timeout,
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
        no_batch: args.no_batch,
    });
    let defaults = VerifyOptions::default();
    Options {
        selection: Selection {
            manifest_path: args.manifest_path.clone(),
            packages: args.packages.clone(),
            workspace: args.workspace,
            exclude: args.exclude.clone(),
        },
        paths: args.paths.clone(),
        mode,
        console,
        scaffolds: args.scaffolds,
        verify: VerifyOptions {
            enabled: mode != Mode::Check && !args.no_verify,
            compile_only: llm.is_none(),
            runs: args.runs.unwrap_or(defaults.runs),
            test_timeout: args
                .test_timeout
                .map_or(defaults.test_timeout, Duration::from_secs_f64),
            repair_rounds: args.repair_rounds.unwrap_or(defaults.repair_rounds),
            keep_failing: args.keep_failing,
            allow_uncontained: args.allow_uncontained,
            mutants: !args.no_mutants,
            mutation_rounds: args.mutation_rounds.unwrap_or(defaults.mutation_rounds),
        },
        llm,
        changes: match (&args.since, args.staged) {
            (Some(rev), _) => Some(Changes::Since(rev.clone())),
            (None, true) => Some(Changes::Staged),
            (None, false) => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_from(args: impl IntoIterator<Item = OsString>) -> Args {
        parse_args_from(args)
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        CargoCli::command().debug_assert();
    }

    #[test]
    fn cache_subcommand_and_paths_do_not_clash() {
        let args =
            parse_from(["cargo-testsmith", "testsmith", "cache", "stats"].map(OsString::from));
        assert!(matches!(
            args.command,
            Some(Command::Cache {
                action: CacheActionArg::Stats,
                ..
            })
        ));
        let args = parse_from(["cargo-testsmith", "src/cache.rs"].map(OsString::from));
        assert!(args.command.is_none());
        assert_eq!(args.paths, [PathBuf::from("src/cache.rs")]);
    }

    #[test]
    fn cache_options_are_read_after_cache_and_after_its_action() {
        for words in [
            ["cargo-testsmith", "cache", "--cache-dir", "d", "stats"],
            ["cargo-testsmith", "cache", "stats", "--cache-dir", "d"],
        ] {
            let args = parse_from(words.map(OsString::from));
            let Some(Command::Cache { cache_dir, .. }) = args.command else {
                panic!("not the cache command: {words:?}");
            };
            assert_eq!(cache_dir, Some(PathBuf::from("d")));
        }
    }

    #[test]
    fn watch_takes_the_options_of_a_run() {
        let args = parse_from(
            [
                "cargo-testsmith",
                "testsmith",
                "watch",
                "-p",
                "app",
                "--llm",
                "src",
            ]
            .map(OsString::from),
        );
        assert!(matches!(args.command, Some(Command::Watch { .. })));
        assert_eq!(args.packages, ["app"]);
        assert!(args.llm);
        assert_eq!(args.paths, [PathBuf::from("src")]);
    }

    #[test]
    fn repair_rounds_have_an_upper_bound() {
        let words = |n: &'static str| ["cargo", "testsmith", "--llm", "--repair-rounds", n];
        assert!(CargoCli::try_parse_from(words("10")).is_ok());
        let err = CargoCli::try_parse_from(words("1000000000")).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
    }

    #[test]
    fn mutation_rounds_are_bounded_and_mean_nothing_without_mutants() {
        let verify = |words: &[&str]| match crate::cli::parse_from(words.iter().map(OsString::from))
        {
            Invocation::Run(options) => options.verify.clone(),
            _ => panic!("a run"),
        };
        let words = |n: &'static str| ["cargo", "testsmith", "--llm", "--mutation-rounds", n];
        let judged_only = verify(&words("0"));
        assert!(judged_only.mutants);
        assert_eq!(judged_only.mutation_rounds, 0);
        let err = CargoCli::try_parse_from(words("11")).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        let both = [
            "cargo",
            "testsmith",
            "--llm",
            "--no-mutants",
            "--mutation-rounds",
            "2",
        ];
        let err = CargoCli::try_parse_from(both).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(!verify(&["cargo", "testsmith", "--no-mutants"]).mutants);
        let defaults = verify(&["cargo", "testsmith", "--llm"]);
        assert!(defaults.mutants);
        assert_eq!(defaults.mutation_rounds, 1);
    }

    #[test]
    fn subcommand_word_is_optional() {
        let with =
            parse_from(["cargo-testsmith", "testsmith", "--check", "src"].map(OsString::from));
        let without = parse_from(["cargo-testsmith", "--check", "src"].map(OsString::from));
        assert!(with.check && without.check);
        assert_eq!(with.paths, without.paths);
    }
}
