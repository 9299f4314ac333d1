//! `cargo testsmith hook install|uninstall`: a git `pre-commit` hook, for projects that do not
//! use the pre-commit framework, that refuses a commit whose staged changes add or edit a
//! public fn without a test. A hook is ours only when it is byte for byte what `install`
//! writes: any other hook (someone else's, or ours edited since) is never replaced without
//! `--force`, and never removed.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::console::{Console, ConsoleOptions, shell_word};
use crate::error::Error;
use crate::event::{Event, Reporter};
use crate::git;
use crate::options::HookAction;

/// What the hook runs, and what a hook of someone else's can run to chain it.
pub const COMMAND: &str = "cargo testsmith --check --staged";

/// The hook's text; `command` is its last line, the check with the manifest it was installed
/// for when that is not at the top of the work tree (where git starts hooks). The hook does not
/// `cd` there: the variables git gives a hook (`GIT_INDEX_FILE`, `GIT_DIR`) are relative to
/// where it started.
fn script(command: &str) -> String {
    let mut text = String::from(
        "#!/bin/sh\n\
         # Written by cargo-testsmith (`cargo testsmith hook install`); `cargo testsmith hook\n\
         # uninstall` removes it. Refuses a commit whose staged changes add or edit a public fn\n\
         # without a test; items the commit does not touch never block it.\n\
         # `git commit --no-verify` skips it once.\n\
         if ! command -v cargo >/dev/null 2>&1; then\n\
         \x20   echo 'cargo-testsmith pre-commit hook: cargo is not on PATH' >&2\n\
         \x20   exit 1\n\
         fi\n",
    );
    text.push_str(command);
    text.push('\n');
    text
}

/// The hook's last line, for a manifest at `manifest` (relative to the top of the work tree).
fn command_line(manifest: &Path) -> String {
    if manifest == Path::new("Cargo.toml") {
        format!("exec {COMMAND}")
    } else {
        format!(
            "exec {COMMAND} --manifest-path {}",
            shell_word(&manifest.display().to_string())
        )
    }
}

/// Whether `text` is a hook `install` wrote, unedited.
fn is_ours(text: &str) -> bool {
    let command = text
        .lines()
        .find(|line| line.starts_with("exec "))
        .unwrap_or("");
    command.starts_with(&format!("exec {COMMAND}")) && text == script(command)
}

/// Install or uninstall the hook for the repository that holds the current directory.
pub fn run(action: HookAction, console: ConsoleOptions) -> Result<(), Error> {
    let console = Console::new(console);
    let dir = std::env::current_dir().map_err(|source| Error::Io {
        action: "read",
        path: PathBuf::from("."),
        source,
    })?;
    let dir = dir.canonicalize().unwrap_or(dir);
    let what = match action {
        HookAction::Install { .. } => "`hook install`",
        HookAction::Uninstall => "`hook uninstall`",
    };
    let top = git::toplevel(&dir, what)?;
    let hooks = git::hooks_dir(&dir)?;
    let path = hooks.join("pre-commit");
    let shown = path
        .strip_prefix(&dir)
        .unwrap_or(&path)
        .display()
        .to_string();
    let existing = match std::fs::read(&path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(Error::Io {
                action: "read",
                path,
                source,
            });
        }
    };
    let ours = existing.as_deref().is_some_and(is_ours);
    match action {
        HookAction::Install { force } => {
            if existing.is_some() && !ours && !force {
                return Err(Error::Hook(format!(
                    "{shown} exists and was not written by cargo-testsmith, so it is left as it \
                     is; to run both, add the line `{COMMAND} || exit 1` to it before it ends \
                     (before any `exec`), or replace it with `cargo testsmith hook install --force`"
                )));
            }
            let Some(manifest) = nearest_manifest(&dir, &top) else {
                return Err(Error::Hook(format!(
                    "no Cargo.toml in {} or above it in the repository: run `cargo testsmith \
                     hook install` in the crate or workspace the hook should check",
                    dir.display()
                )));
            };
            let rel = manifest.strip_prefix(&top).unwrap_or(&manifest);
            write_executable(&path, &script(&command_line(rel)))?;
            let done = match (&existing, ours) {
                (None, _) => "installed",
                (Some(_), true) => "updated",
                (Some(_), false) => "replaced the existing hook with",
            };
            console.report(&Event::Hook(&format!(
                "{done} the pre-commit hook {shown}: it runs `{COMMAND}` for {}",
                rel.display()
            )));
        }
        HookAction::Uninstall => match existing {
            None => console.report(&Event::Hook(&format!(
                "no pre-commit hook at {shown}; nothing to remove"
            ))),
            Some(_) if ours => {
                std::fs::remove_file(&path).map_err(|source| Error::Io {
                    action: "remove",
                    path: path.clone(),
                    source,
                })?;
                console.report(&Event::Hook(&format!(
                    "removed the pre-commit hook {shown}"
                )));
            }
            Some(_) => {
                return Err(Error::Hook(format!(
                    "{shown} was not written by cargo-testsmith, or was edited since; it is left \
                     as it is"
                )));
            }
        },
    }
    Ok(())
}

/// The manifest cargo, run in `dir`, would find, if it is in the repository.
fn nearest_manifest(dir: &Path, top: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .take_while(|d| d.starts_with(top))
        .map(|d| d.join("Cargo.toml"))
        .find(|manifest| manifest.is_file())
}

/// Write atomically, executable by everyone who can read it (as git's sample hooks are).
fn write_executable(path: &Path, text: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        action: "write",
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".testsmith-")
        .tempfile_in(dir)
        .map_err(io)?;
    temp.write_all(text.as_bytes()).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o755))
            .map_err(io)?;
    }
    temp.persist(path).map_err(|err| io(err.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unedited_hook_is_ours() {
        let plain = script(&command_line(Path::new("Cargo.toml")));
        let nested = script(&command_line(Path::new("my crate/Cargo.toml")));
        assert!(nested.ends_with("--check --staged --manifest-path 'my crate/Cargo.toml'\n"));
        assert!(is_ours(&plain) && is_ours(&nested));
        assert!(!is_ours(&plain.replace("exec ", "exec env ")));
        assert!(!is_ours(&format!("{plain}echo more\n")));
        assert!(!is_ours("#!/bin/sh\nexec cargo fmt --check\n"));
    }
}
