//! cargo-testsmith: write unit tests for the public items of a Rust crate that have none.
//!
//! The stages run in one direction: [`workspace`] (cargo metadata → packages → targets) →
//! [`scan`] and [`analysis`] (module tree → syn → public items and existing tests) → [`plan`]
//! (which items need a test) → [`generate`] (scaffolds, or [`llm`] bodies) → [`verify`] (build
//! and run the tests in a scratch copy, repair or drop what fails) → [`emit`] (atomic write,
//! diff, or the check's list), each reporting [`event`]s that the [`console`] renders. [`run`]
//! calls them in order from the [`options`]; [`watch`], [`hook`] and [`cache_command`] are the
//! other invocations [`cli`] can ask for. `DESIGN.md` maps each module.

pub mod analysis;
pub mod cache_command;
pub mod cli;
pub mod console;
pub mod contain;
pub mod emit;
pub mod error;
pub mod event;
pub mod generate;
pub mod git;
pub mod hook;
pub mod interrupt;
pub mod llm;
pub mod messages;
pub mod mutate;
pub mod options;
pub mod plan;
pub mod process;
pub mod rules;
pub mod run;
pub mod scan;
pub mod splice;
pub mod verify;
pub mod watch;
pub mod workspace;

pub use plan::{plan_all, plan_file, request_for};
pub use run::{Outcome, generate_and_render};
