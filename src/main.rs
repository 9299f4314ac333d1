//! `cargo testsmith`: parse the command line, run, and turn the outcome into an exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cargo_testsmith::cli::parse();
    let options = cargo_testsmith::options::Options::from_args(&args);
    match cargo_testsmith::run(&options) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            cargo_testsmith::console::error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
