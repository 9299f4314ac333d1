//! `cargo testsmith`: parse the command line, run, and turn the outcome into an exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cargo_testsmith::cli::parse();
    match cargo_testsmith::run(&args) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            cargo_testsmith::console::error(&err);
            // 130: the shell's convention for a run ended by Ctrl-C.
            let interrupted = matches!(err, cargo_testsmith::error::Error::Interrupted);
            ExitCode::from(if interrupted { 130 } else { 2 })
        }
    }
}
