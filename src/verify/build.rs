//! Build every candidate at once: `cargo test --no-run --message-format json` in the scratch
//! copy, for the touched packages' lib and bin test targets. What comes back is the compiler's
//! errors, each with every place it points at, and the test binaries cargo made. cargo's JSON
//! messages are read with cargo_metadata's types (as `workspace.rs` reads `cargo metadata`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};

use cargo_metadata::Message;
use cargo_metadata::diagnostic::{Diagnostic as RustcDiagnostic, DiagnosticLevel, DiagnosticSpan};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::error::VerifyError;
use crate::process;

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// `$CARGO` (set when cargo runs us as a subcommand), else `cargo`.
    pub cargo: OsString,
    /// The scratch copy of the workspace root.
    pub scratch: PathBuf,
    /// The scratch build's own target dir: the final artifacts cargo copies out of the build
    /// dir (a lib's `.rlib` beside its bins), which would otherwise replace the user's.
    pub target_dir: PathBuf,
    /// The user's build dir, shared: the dependencies the user built are fresh for the copy
    /// too (their fingerprints do not depend on the workspace's path), and the copy's own
    /// package gets artifacts of its own, hashed from its path.
    pub build_dir: PathBuf,
    pub packages: Vec<String>,
    /// Added to the defaults of the one package built from `manifest`.
    pub features: Vec<String>,
    /// The copy's root manifest, or for a build with features, their package's.
    pub manifest: PathBuf,
    pub lib: bool,
    pub bins: bool,
}

impl BuildRequest {
    /// `--features x,y`, or nothing for the defaults alone.
    pub fn features_flag(&self) -> String {
        if self.features.is_empty() {
            String::new()
        } else {
            format!("--features {}", self.features.join(","))
        }
    }
}

/// One compiler error.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// As rustc prints it: `error[E0599]: no method named …` and the source snippet.
    pub rendered: String,
    /// Every place it points at, primary spans first: file (absolute), first and last line.
    pub spans: Vec<(PathBuf, usize, usize)>,
    /// Spans the message marks as primary (a prefix of `spans`).
    pub primary: usize,
}

impl Diagnostic {
    /// The first of its places (`path`, first line, last line) that `hit` maps to something:
    /// the primary spans first, then the others.
    pub fn find_span<T>(&self, hit: impl Fn(&(PathBuf, usize, usize)) -> Option<T>) -> Option<T> {
        let (primary, secondary) = self.spans.split_at(self.primary);
        primary
            .iter()
            .find_map(&hit)
            .or_else(|| secondary.iter().find_map(&hit))
    }
}

pub struct Build {
    pub errors: Vec<Diagnostic>,
    /// Test binaries by the crate root they were built from (absolute, in the scratch copy).
    pub binaries: BTreeMap<PathBuf, PathBuf>,
    pub success: bool,
    /// The end of cargo's own stderr, for a failure without a diagnostic.
    pub stderr: String,
    pub command: String,
}

/// Bytes of cargo's stderr kept: its last lines hold the reason.
const STDERR_KEPT: usize = 16 * 1024;

/// Set when this binary can serve as cargo's `RUSTC_WORKSPACE_WRAPPER` ([`wrap_rustc_if_asked`]
/// ran first in its `main`).
static WRAPS_RUSTC: AtomicBool = AtomicBool::new(false);

/// Tells the binary it was started as cargo's workspace wrapper; its value is the wrapper the
/// user had, if any, run in turn.
const WRAPPER_VAR: &str = "TESTSMITH_RUSTC_WRAPPER";

/// Run first in `main` (through `verify::serve_if_asked`): started by cargo as the workspace
/// wrapper, run the compiler (through the user's own wrapper, if any) and exit with its status;
/// otherwise note that this binary can be the wrapper and return.
pub fn wrap_rustc_if_asked() {
    let Some(inner) = std::env::var_os(WRAPPER_VAR) else {
        WRAPS_RUSTC.store(true, Ordering::Relaxed);
        return;
    };
    let mut args = std::env::args_os().skip(1);
    let program = if inner.is_empty() {
        args.next()
    } else {
        Some(inner)
    };
    let Some(program) = program else {
        eprintln!("cargo-testsmith: started as the compiler wrapper with no compiler to run");
        std::process::exit(101);
    };
    let mut command = std::process::Command::new(&program);
    command.args(args).env_remove(WRAPPER_VAR);
    let error = run_in_place(command);
    eprintln!(
        "cargo-testsmith: cannot run {} as the compiler: {error}",
        Path::new(&program).display()
    );
    std::process::exit(101);
}

#[cfg(unix)]
fn run_in_place(mut command: std::process::Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    command.exec()
}

#[cfg(not(unix))]
fn run_in_place(mut command: std::process::Command) -> std::io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(101)),
        Err(err) => err,
    }
}

/// Let the build share the user's build dir: their dependencies are then fresh for the copy
/// too. The copy's own packages must not get the file names of the user's (cargo hashes a
/// member by its path relative to the workspace root, the same in the copy): cargo mixes a
/// workspace wrapper into its members' hashes alone, so this binary wraps rustc for them. A
/// binary that cannot wrap builds everything in the scratch target dir instead.
fn share_build_dir(command: &mut tokio::process::Command, build_dir: &Path) {
    if !WRAPS_RUSTC.load(Ordering::Relaxed) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let theirs = std::env::var_os("RUSTC_WORKSPACE_WRAPPER").unwrap_or_default();
    command
        .env("RUSTC_WORKSPACE_WRAPPER", exe)
        .env(WRAPPER_VAR, theirs)
        // `build.build-dir` (cargo 1.91); an older cargo ignores it and builds all in the
        // target dir.
        .env("CARGO_BUILD_BUILD_DIR", build_dir);
}

pub async fn build(request: &BuildRequest) -> Result<Build, VerifyError> {
    let mut command = tokio::process::Command::new(&request.cargo);
    command
        .args(["test", "--no-run", "--message-format", "json"])
        .arg("--manifest-path")
        .arg(&request.manifest)
        .current_dir(&request.scratch)
        .env("CARGO_TARGET_DIR", &request.target_dir)
        // The copy's package is built a few times a run, every time with another test module:
        // its incremental state would outweigh the artifacts the user's own build keeps.
        .env("CARGO_INCREMENTAL", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A candidate's `env!` or a build script would read them at compile time, and its error
    // goes back to the model as evidence.
    for (name, _) in std::env::vars_os() {
        if crate::contain::is_secret(&name.to_string_lossy()) {
            command.env_remove(&name);
        }
    }
    share_build_dir(&mut command, &request.build_dir);
    for package in &request.packages {
        command.args(["-p", package]);
    }
    if request.lib {
        command.arg("--lib");
    }
    if request.bins {
        command.arg("--bins");
    }
    if !request.features.is_empty() {
        command.args(["--features", &request.features.join(",")]);
    }
    let shown = format!(
        "cargo test --no-run {}{}{}{}",
        request
            .packages
            .iter()
            .map(|p| format!("-p {p} "))
            .collect::<String>(),
        if request.lib { "--lib " } else { "" },
        if request.bins { "--bins " } else { "" },
        request.features_flag(),
    )
    .trim_end()
    .to_owned();
    let mut child = process::spawn(command).map_err(|source| VerifyError::Spawn {
        command: shown.clone(),
        source,
    })?;
    let stdout = child.stdout().expect("piped");
    let mut stderr = child.stderr().expect("piped");
    // Drained at the same time as stdout, so cargo never blocks on a full pipe.
    let stderr_task = async move {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all).await;
        let start = all.len().saturating_sub(STDERR_KEPT);
        String::from_utf8_lossy(&all[start..]).into_owned()
    };
    let stdout_task = async move {
        let mut build = Build {
            errors: Vec::new(),
            binaries: BTreeMap::new(),
            success: false,
            stderr: String::new(),
            command: String::new(),
        };
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok(message) = serde_json::from_str::<Message>(&line) else {
                continue;
            };
            match message {
                Message::CompilerMessage(message) => {
                    if let Some(error) = diagnostic(&message.message, &request.scratch) {
                        build.errors.push(error);
                    }
                }
                Message::CompilerArtifact(artifact) if artifact.profile.test => {
                    if let Some(executable) = artifact.executable {
                        let root = canonical(artifact.target.src_path.as_std_path());
                        build.binaries.insert(root, executable.into_std_path_buf());
                    }
                }
                Message::BuildFinished(finished) => build.success = finished.success,
                _ => {}
            }
        }
        build
    };
    let (mut build, stderr) = tokio::join!(stdout_task, stderr_task);
    let status = child.wait().await.map_err(|source| VerifyError::Spawn {
        command: shown.clone(),
        source,
    })?;
    build.success &= status.success();
    build.stderr = stderr;
    build.command = shown;
    Ok(build)
}

/// An error diagnostic with the places it points at; `None` for warnings, notes, and the
/// "aborting due to N previous errors" summary (it points nowhere and says nothing new).
fn diagnostic(message: &RustcDiagnostic, root: &Path) -> Option<Diagnostic> {
    if !matches!(message.level, DiagnosticLevel::Error | DiagnosticLevel::Ice)
        || message.message.starts_with("aborting due to")
    {
        return None;
    }
    let mut primary = Vec::new();
    let mut secondary = Vec::new();
    collect_spans(message, root, &mut primary, &mut secondary);
    let count = primary.len();
    primary.extend(secondary);
    Some(Diagnostic {
        rendered: message
            .rendered
            .clone()
            .unwrap_or_else(|| message.message.clone()),
        spans: primary,
        primary: count,
    })
}

/// Spans of the message and its children, and the call sites of the macros they came from
/// (an error inside `assert_eq!` points into std, but its call site is in the test).
fn collect_spans(
    message: &RustcDiagnostic,
    root: &Path,
    primary: &mut Vec<(PathBuf, usize, usize)>,
    secondary: &mut Vec<(PathBuf, usize, usize)>,
) {
    fn push(
        span: &DiagnosticSpan,
        root: &Path,
        is_primary: bool,
        primary: &mut Vec<(PathBuf, usize, usize)>,
        secondary: &mut Vec<(PathBuf, usize, usize)>,
    ) {
        let place = (root.join(&span.file_name), span.line_start, span.line_end);
        if is_primary {
            primary.push(place);
        } else {
            secondary.push(place);
        }
        if let Some(expansion) = &span.expansion {
            push(&expansion.span, root, is_primary, primary, secondary);
        }
    }
    for span in &message.spans {
        push(span, root, span.is_primary, primary, secondary);
    }
    for child in &message.children {
        for span in &child.spans {
            push(span, root, false, primary, secondary);
        }
    }
}

pub fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}
