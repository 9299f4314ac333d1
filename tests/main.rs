//! The integration tests, one binary (one link step) with a module per subject in
//! `tests/main/`: the real binary, run on packages copied or written into temp dirs, with real
//! `cargo`, git, file events and HTTP servers. Helpers are in `tests/common/`.

mod common;

#[path = "main/check.rs"]
mod check;
#[path = "main/cli.rs"]
mod cli;
// Namespaces and Landlock are Linux's.
#[cfg(target_os = "linux")]
#[path = "main/contain.rs"]
mod contain;
#[path = "main/flow.rs"]
mod flow;
#[path = "main/generate.rs"]
mod generate;
#[path = "main/llm.rs"]
mod llm;
#[path = "main/mutants.rs"]
mod mutants;
#[cfg(target_os = "linux")]
#[path = "main/observe.rs"]
mod observe;
// `SSL_CERT_FILE` is how the platform verifier is given a root on Linux only (macOS and
// Windows ask the system's store).
#[cfg(target_os = "linux")]
#[path = "main/tls.rs"]
mod tls;
#[path = "main/verify.rs"]
mod verify;
// Ctrl-C is sent with `kill -INT`.
#[cfg(unix)]
#[path = "main/watch.rs"]
mod watch;
#[path = "main/workspace.rs"]
mod workspace;
