//! `cargo testsmith`: parse the command line into an invocation, carry it out, and turn the
//! outcome into an exit status (0, 1 for a failed `--check`, 2 for an error, 130 for Ctrl-C).

use std::process::ExitCode;

use cargo_testsmith::options::Invocation;
use cargo_testsmith::{cache_command, cli, console, hook, run, watch};

fn main() -> ExitCode {
    // Started as the launcher of a contained test process or as cargo's compiler wrapper:
    // that, and nothing else.
    cargo_testsmith::verify::serve_if_asked();
    let done = match cli::parse() {
        Invocation::Run(options) => run::run(&options),
        Invocation::Watch(options) => watch::watch(&options),
        Invocation::Cache(command) => {
            cache_command::run(&command).map(|()| run::Outcome::default())
        }
        Invocation::Hook(action, console) => {
            hook::run(action, console).map(|()| run::Outcome::default())
        }
    };
    match done {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            console::error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
