//! `cargo testsmith hook install|uninstall`: a git `pre-commit` hook, for projects that do not
//! use the pre-commit framework, that fails a commit whose staged changes add or edit a public
//! fn without a test. A hook this tool did not write is never replaced without `--force`,
//! and never removed.

use std::path::PathBuf;

use crate::error::Error;
use crate::git;

/// The line that marks a hook as ours.
const MARK: &str = "# Written by cargo-testsmith";

const SCRIPT: &str = "#!/bin/sh\n\
# Written by cargo-testsmith (`cargo testsmith hook install`); `cargo testsmith hook uninstall`\n\
# removes it. Fails the commit when the staged changes add or edit a public fn without a test;\n\
# items the commit does not touch never block it.\n\
exec cargo testsmith --check --staged\n";

/// What a hook command did, for the user.
pub enum Done {
    Installed(PathBuf),
    Removed(PathBuf),
    NothingToRemove(PathBuf),
}

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Done::Installed(path) => write!(
                f,
                "installed {}: commits whose staged changes add an untested public fn are refused",
                path.display()
            ),
            Done::Removed(path) => write!(f, "removed {}", path.display()),
            Done::NothingToRemove(path) => {
                write!(
                    f,
                    "no hook written by cargo-testsmith at {}",
                    path.display()
                )
            }
        }
    }
}

/// Write the hook into the hooks directory of the repository holding the current directory.
pub fn install(force: bool) -> Result<Done, Error> {
    let path = hook_path()?;
    if let Ok(existing) = std::fs::read_to_string(&path)
        && !existing.contains(MARK)
        && !force
    {
        return Err(Error::ForeignHook(path));
    }
    let io = |source| Error::Io {
        action: "write",
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(&path, SCRIPT).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
    }
    Ok(Done::Installed(path))
}

/// Remove the hook, if this tool wrote it.
pub fn uninstall() -> Result<Done, Error> {
    let path = hook_path()?;
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.contains(MARK) => {
            std::fs::remove_file(&path).map_err(|source| Error::Io {
                action: "remove",
                path: path.clone(),
                source,
            })?;
            Ok(Done::Removed(path))
        }
        _ => Ok(Done::NothingToRemove(path)),
    }
}

fn hook_path() -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        action: "read the current directory",
        path: PathBuf::from("."),
        source,
    })?;
    Ok(git::hooks_dir(&cwd)?.join("pre-commit"))
}
