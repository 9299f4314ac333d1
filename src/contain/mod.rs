//! Contained test processes. A test from a model, or a crate's fn called on inputs nobody
//! chose, is untrusted code: it runs through a launcher (our own binary, re-executed with
//! [`LAUNCHER_ARG`], as nextest's double spawn does) that puts it, on Linux, in
//! - user, network and PID namespaces of its own: no network but its own loopback, and when
//!   its first process ends (a timeout, Ctrl-C, the run ending) the kernel kills every process
//!   it started, `setsid` daemons included;
//! - a Landlock domain: the whole filesystem readable and executable, writable only in the
//!   scratch copy and a private temp dir (also its `HOME` and `TMPDIR`); no signals to
//!   processes outside it;
//! - rlimits on memory, file size and processes, and no core dumps;
//!
//! with an environment cleared to an allowlist (no `*_KEY`, `*_TOKEN`, `*_SECRET`). Which
//! layers this machine has is probed once, by the launcher itself. The interface to the
//! landlock and nix crates is localized here.

#[cfg(target_os = "linux")]
mod launcher;
#[cfg(target_os = "linux")]
mod observe;

/// How a launcher's line on a test's stderr starts when it tells what the test tried beyond
/// its sandbox.
#[cfg(target_os = "linux")]
pub use launcher::ESCAPE;
#[cfg(not(target_os = "linux"))]
pub const ESCAPE: &str = "testsmith launcher: escape: ";

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The first argument that makes our binary the launcher instead of the tool.
pub const LAUNCHER_ARG: &str = "__testsmith-contain";

/// Pretend these layers are missing (`namespaces`, `landlock`, `observe`, comma-separated):
/// how the tests exercise a machine without them. Not for users.
pub const DISABLE_VAR: &str = "TESTSMITH_CONTAIN_DISABLE";

/// Variables a contained process keeps (with their values from our environment), besides
/// the ones the runner sets itself. Anything named like a secret is dropped even so.
const KEPT_VARS: &[&str] = &[
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TERM",
    "RUST_MIN_STACK",
    "RUST_TEST_TIME_UNIT",
    "RUST_TEST_TIME_INTEGRATION",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    "DYLD_FALLBACK_LIBRARY_PATH",
];

/// Run this first in `main` of every binary that runs the verify stage: when the binary was
/// started as the launcher, it does the launcher's work and exits.
pub fn serve_if_asked() {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().as_deref() != Some(OsStr::new(LAUNCHER_ARG)) {
        return;
    }
    #[cfg(target_os = "linux")]
    std::process::exit(launcher::main(args.collect()));
    #[cfg(not(target_os = "linux"))]
    {
        eprintln!("testsmith: containment is only built on Linux");
        std::process::exit(125);
    }
}

/// The layers this machine gives a contained process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layers {
    /// User, network and PID namespaces; why not, when not.
    pub namespaces: Result<(), String>,
    /// Landlock (filesystem, signals); why not, when not.
    pub landlock: Result<(), String>,
    /// What a test tries beyond its sandbox is seen (it needs a /proc of the namespace's
    /// own); why not, when not. Tests run contained without it, but an escape a test
    /// swallows goes unseen.
    pub observe: Result<(), String>,
}

impl Layers {
    /// What is missing, and how to get it, in one sentence; `None` when nothing is.
    pub fn missing(&self) -> Option<String> {
        let mut missing = Vec::new();
        if let Err(why) = &self.namespaces {
            missing.push(format!(
                "no network or PID namespace ({why}; unprivileged user namespaces must be \
                 allowed: `sysctl kernel.unprivileged_userns_clone=1`, or on Ubuntu 24.04 \
                 `sysctl kernel.apparmor_restrict_unprivileged_userns=0`, or outside a \
                 container that forbids them)"
            ));
        }
        if let Err(why) = &self.landlock {
            missing.push(format!(
                "no Landlock ({why}; it needs Linux 5.13 or later with `lsm=landlock` enabled)"
            ));
        }
        (!missing.is_empty()).then(|| missing.join("; "))
    }
}

impl fmt::Display for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut active = Vec::new();
        if self.namespaces.is_ok() {
            active.push("network and PID namespaces");
        }
        if self.landlock.is_ok() {
            active.push("Landlock filesystem and signal rules");
        }
        if self.observe.is_ok() {
            active.push("escapes observed");
        }
        if cfg!(target_os = "linux") {
            active.push("no Unix sockets");
            active.push("rlimits");
        }
        active.push("a cleared environment");
        f.write_str(&active.join(", "))
    }
}

/// The layers of this machine, probed once per process by running the launcher.
pub fn layers() -> &'static Layers {
    static LAYERS: OnceLock<Layers> = OnceLock::new();
    LAYERS.get_or_init(probe)
}

fn probe() -> Layers {
    let disabled = std::env::var(DISABLE_VAR).unwrap_or_default();
    let off = |layer: &str| disabled.split(',').any(|d| d.trim() == layer);
    let mut layers = probe_launcher();
    if off("namespaces") {
        layers.namespaces = Err(format!("disabled by {DISABLE_VAR}"));
        layers.observe = Err(format!("disabled by {DISABLE_VAR}"));
    }
    if off("landlock") {
        layers.landlock = Err(format!("disabled by {DISABLE_VAR}"));
    }
    if off("observe") {
        layers.observe = Err(format!("disabled by {DISABLE_VAR}"));
    }
    layers
}

#[cfg(target_os = "linux")]
fn probe_launcher() -> Layers {
    let failed = |why: String| Layers {
        namespaces: Err(why.clone()),
        landlock: Err(why.clone()),
        observe: Err(why),
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => return failed(format!("cannot find our own binary: {err}")),
    };
    let output = std::process::Command::new(exe)
        .args([LAUNCHER_ARG, "--probe"])
        .stdin(std::process::Stdio::null())
        .output();
    match output {
        Ok(output) => launcher::read_probe(&String::from_utf8_lossy(&output.stdout)),
        Err(err) => failed(format!("cannot start the launcher: {err}")),
    }
}

#[cfg(not(target_os = "linux"))]
fn probe_launcher() -> Layers {
    let why = || Err("containment is only built on Linux".to_owned());
    Layers {
        namespaces: why(),
        landlock: why(),
        observe: why(),
    }
}

/// Where a contained process may write, and the private directory it gets as `HOME` and
/// `TMPDIR`.
#[derive(Debug)]
pub struct Sandbox {
    layers: Layers,
    writable: Vec<PathBuf>,
    /// Readable besides the system's directories and `writable`.
    readable: Vec<PathBuf>,
    private: tempfile::TempDir,
    /// Processes started, for each one's own temp dir.
    runs: std::sync::atomic::AtomicUsize,
}

impl Sandbox {
    /// A sandbox whose processes may write under `writable` and in a fresh private directory,
    /// and read those, `readable` and the system's directories (not the user's home). With no
    /// layer missing, or with `allow_uncontained`, it is ready; otherwise the error says what
    /// is missing and how to get it.
    pub fn new(
        writable: &[&Path],
        readable: &[&Path],
        allow_uncontained: bool,
    ) -> Result<Sandbox, String> {
        let layers = layers().clone();
        if let (Some(missing), false) = (layers.missing(), allow_uncontained) {
            return Err(missing);
        }
        let private = tempfile::Builder::new()
            .prefix("testsmith-sandbox-")
            .tempdir()
            .map_err(|err| format!("cannot make a private temp dir: {err}"))?;
        // Each process also writes a directory of its own in `private` (see `command`).
        let dirs: Vec<PathBuf> = writable.iter().map(|p| p.to_path_buf()).collect();
        Ok(Sandbox {
            layers,
            writable: dirs,
            readable: readable
                .iter()
                .map(|p| p.to_path_buf())
                .chain(toolchain_dirs())
                .collect(),
            private,
            runs: Default::default(),
        })
    }

    /// A command that runs `program` contained, with only the kept environment; the caller
    /// adds arguments with [`tokio::process::Command::args`] after these, and its own
    /// variables.
    pub fn command(&self, program: &Path) -> tokio::process::Command {
        // A temp dir and home of its own per process, the only part of `private` it may write:
        // what one run left there cannot make another pass (an alone run must not find a file
        // a batch wrote).
        let n = self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let own = self.private.path().join(format!("run-{n}"));
        // Not made, the launch fails on the missing directory and says so.
        let _ = std::fs::create_dir_all(own.join("home"));
        let mut command = self.launch(program, &own);
        command.env_clear();
        command.envs(kept_env(std::env::vars_os()));
        command.env("HOME", own.join("home")).env("TMPDIR", &own);
        command
    }
}

impl Sandbox {
    /// `program` through the launcher, with the layers this machine has.
    #[cfg(target_os = "linux")]
    fn launch(&self, program: &Path, own: &Path) -> tokio::process::Command {
        // Not found, the launcher fails to start and the run says so; never another binary
        // of that name from `PATH`.
        let launcher = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
        let mut command = tokio::process::Command::new(launcher);
        command.arg(LAUNCHER_ARG);
        if self.layers.namespaces.is_ok() {
            command.arg("--namespaces");
        }
        if self.layers.landlock.is_ok() {
            command.arg("--landlock");
        }
        if self.layers.observe.is_ok() {
            command.arg("--observe");
        }
        for dir in self.writable.iter().map(PathBuf::as_path).chain([own]) {
            command.arg("--write").arg(dir);
        }
        for dir in &self.readable {
            command.arg("--read").arg(dir);
        }
        command.arg("--").arg(program);
        command
    }

    /// No launcher where there is no layer to set up: only the environment is cleared.
    #[cfg(not(target_os = "linux"))]
    fn launch(&self, program: &Path, _own: &Path) -> tokio::process::Command {
        let _ = (&self.writable, &self.readable);
        tokio::process::Command::new(program)
    }
}

/// The Rust toolchain and cargo's downloads, readable so a test can run `rustc` or read a
/// dependency's files; not the rest of `CARGO_HOME` (its `credentials.toml` holds a token).
fn toolchain_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let dir = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|home| home.join(default)))
    };
    let cargo = dir("CARGO_HOME", ".cargo");
    let rustup = dir("RUSTUP_HOME", ".rustup");
    let mut dirs: Vec<PathBuf> = ["bin", "registry", "git"]
        .iter()
        .filter_map(|sub| Some(cargo.as_ref()?.join(sub)))
        .collect();
    dirs.extend(rustup.map(|rustup| rustup.join("toolchains")));
    dirs.retain(|dir| dir.is_dir());
    dirs
}

/// The variables of `vars` a contained process keeps.
fn kept_env(
    vars: impl Iterator<Item = (OsString, OsString)>,
) -> impl Iterator<Item = (OsString, OsString)> {
    vars.filter(|(name, _)| {
        let name = name.to_string_lossy();
        KEPT_VARS.contains(&name.as_ref()) && !is_secret(&name)
    })
}

/// Named like something a test must never see.
pub fn is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allowlist_is_kept_and_never_a_secret() {
        let vars = [
            ("PATH", "/usr/bin"),
            ("OPENAI_API_KEY", "sk-1"),
            ("GITHUB_TOKEN", "t"),
            ("HOME", "/root"),
            ("LANG", "C.UTF-8"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let kept: Vec<String> = kept_env(vars.into_iter())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert_eq!(kept, ["PATH", "LANG"]);
        assert!(is_secret("ANTHROPIC_API_KEY") && is_secret("db_password"));
        assert!(!is_secret("PATH"));
    }

    #[test]
    fn a_missing_layer_says_how_to_get_it() {
        let layers = Layers {
            namespaces: Err("unshare: Operation not permitted".into()),
            landlock: Ok(()),
            observe: Err("unshare: Operation not permitted".into()),
        };
        let missing = layers.missing().unwrap();
        assert!(missing.contains("unprivileged_userns_clone"), "{missing}");
        let all = Layers {
            namespaces: Ok(()),
            landlock: Ok(()),
            observe: Ok(()),
        };
        assert_eq!(all.missing(), None);
        assert!(
            all.to_string()
                .starts_with("network and PID namespaces, Landlock")
        );
    }
}
