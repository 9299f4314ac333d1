//! What a change touched, as git tells it: the lines each file gained or changed in the staged
//! changes (`--staged`) or since a revision (`--since`), and where the repository's hooks
//! live. The interface to git (its command line) is localized here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;

/// Which change to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// `git diff --cached`: what the next commit holds.
    Staged,
    /// `git diff <REV>`: everything since `REV`, uncommitted work included.
    Since(String),
}

/// Per file (canonical path), the 1-based line ranges the change added or rewrote. A line
/// next to a deletion counts too: an item a deletion falls inside has changed.
#[derive(Debug, Default)]
pub struct ChangedLines {
    files: HashMap<PathBuf, Vec<(usize, usize)>>,
}

impl ChangedLines {
    /// Whether the change touched `file` between lines `first` and `last` (inclusive).
    pub fn touches(&self, file: &Path, first: usize, last: usize) -> bool {
        self.files
            .get(file)
            .is_some_and(|ranges| ranges.iter().any(|&(a, b)| a <= last && first <= b))
    }

    /// Whether the change touched `file` at all.
    pub fn has(&self, file: &Path) -> bool {
        self.files.contains_key(file)
    }
}

/// Run `git` in `dir` and return its stdout, or git's own reason as an error.
fn git(dir: &Path, args: &[&str]) -> Result<String, Error> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|err| Error::Git {
            command: format!("git {}", args.join(" ")),
            reason: format!("could not run git: {err}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed")
            .trim()
            .trim_start_matches("fatal: ")
            .to_owned();
        return Err(Error::Git {
            command: format!("git {}", args.join(" ")),
            reason,
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The lines `changes` touched, for the repository that holds `dir`.
pub fn changed_lines(dir: &Path, changes: &Changes) -> Result<ChangedLines, Error> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(top.trim());
    // No renames (a moved file is all new), no colour, no external diff tools, no context.
    let mut args = vec!["diff", "--no-color", "--no-ext-diff", "--no-renames", "-U0"];
    match changes {
        Changes::Staged => args.push("--cached"),
        Changes::Since(rev) => {
            // Checked first, so an unknown revision is git's own sentence, not a diff error.
            git(
                dir,
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{rev}^{{commit}}"),
                ],
            )
            .map_err(|_| Error::Git {
                command: format!("git rev-parse {rev}"),
                reason: format!("unknown revision `{rev}`"),
            })?;
            args.push(rev);
        }
    }
    args.push("--");
    let diff = git(dir, &args)?;
    Ok(parse_diff(&diff, &top))
}

/// The added side of a `-U0` unified diff: `+++ b/<path>` then `@@ -a,b +c,d @@` hunks.
fn parse_diff(diff: &str, top: &Path) -> ChangedLines {
    let mut changed = ChangedLines::default();
    let mut current: Option<PathBuf> = None;
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            current = path.strip_prefix("b/").map(|rel| {
                let path = top.join(rel);
                path.canonicalize().unwrap_or(path)
            });
            continue;
        }
        let (Some(file), Some(hunk)) = (&current, line.strip_prefix("@@ ")) else {
            continue;
        };
        let Some(added) = hunk.split(' ').find_map(|w| w.strip_prefix('+')) else {
            continue;
        };
        let (start, count) = match added.split_once(',') {
            Some((start, count)) => (start.parse().unwrap_or(0), count.parse().unwrap_or(0)),
            None => (added.parse().unwrap_or(0), 1),
        };
        let range = if count == 0 {
            // Lines were only removed, after line `start`: both neighbours changed.
            (start.max(1), start + 1)
        } else {
            (start, start + count - 1)
        };
        changed.files.entry(file.clone()).or_default().push(range);
    }
    changed
}

/// Where the repository holding `dir` keeps its hooks: `core.hooksPath` when set, and the
/// common directory's `hooks` in a linked worktree.
pub fn hooks_dir(dir: &Path) -> Result<PathBuf, Error> {
    let path = git(dir, &["rev-parse", "--git-path", "hooks"])?;
    let path = PathBuf::from(path.trim());
    Ok(if path.is_absolute() {
        path
    } else {
        dir.join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_become_line_ranges_and_deletions_touch_their_neighbours() {
        let diff = "diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,2 @@ fn a()\n+x\n+y\n@@ -10 +12 @@\n-a\n+b\n@@ -20,2 +21,0 @@\n-gone\n-gone\ndiff --git a/old.rs b/old.rs\n--- a/old.rs\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n";
        let changed = parse_diff(diff, Path::new("/repo"));
        let lib = Path::new("/repo/src/lib.rs");
        assert!(changed.touches(lib, 4, 4));
        assert!(changed.touches(lib, 5, 9));
        assert!(!changed.touches(lib, 6, 11));
        assert!(changed.touches(lib, 12, 12));
        assert!(changed.touches(lib, 22, 30), "next to a deletion");
        assert!(!changed.has(Path::new("/repo/old.rs")));
    }
}
