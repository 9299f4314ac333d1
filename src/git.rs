//! What a change touched, as git tells it: the lines of each file that the staged changes
//! (`--staged`) or the work since a revision (`--since`) added or edited, and where the
//! repository's hooks live. The interface to git (its command line, run as a child process)
//! is localized here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::Error;

/// Which change to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// `git diff --cached`: what the next commit holds.
    Staged,
    /// What changed since the revision: committed, staged, unstaged and untracked work.
    Since(String),
}

impl Changes {
    /// The option as the user wrote it, for messages.
    pub fn flag(&self) -> String {
        match self {
            Changes::Staged => "--staged".to_owned(),
            Changes::Since(rev) => format!("--since {rev}"),
        }
    }
}

/// A place in the new side of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Touch {
    /// Lines `first..=last` were added or rewritten.
    Lines(usize, usize),
    /// Lines were removed between line `n` and line `n + 1`.
    Gap(usize),
}

impl Touch {
    /// Whether the touch falls inside the item on lines `first..=last`. A removal counts
    /// only strictly inside it: removing the fn above an item leaves the item as it was.
    fn inside(self, first: usize, last: usize) -> bool {
        match self {
            Touch::Lines(a, b) => a <= last && b >= first,
            Touch::Gap(n) => first <= n && n < last,
        }
    }
}

/// Per file (canonical path), the places the change touched.
#[derive(Debug, Default)]
pub struct ChangedLines {
    files: HashMap<PathBuf, Vec<Touch>>,
}

impl ChangedLines {
    /// Whether the change touched `file` at all.
    pub fn has(&self, file: &Path) -> bool {
        self.files.contains_key(file)
    }

    /// Whether the change touched `file` between lines `first` and `last` (inclusive).
    pub fn touches(&self, file: &Path, first: usize, last: usize) -> bool {
        self.files
            .get(file)
            .is_some_and(|touches| touches.iter().any(|t| t.inside(first, last)))
    }

    /// The files the change touched.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }
}

/// The lines `changes` touched in the work tree that holds `dir`. Line numbers are the work
/// tree's, as the scan reads the files: for `--staged`, the index's lines are carried over
/// any unstaged edits made since.
pub fn changed_lines(dir: &Path, changes: &Changes) -> Result<ChangedLines, Error> {
    let flag = changes.flag();
    let top = toplevel(dir, &flag)?;
    let mut out = ChangedLines::default();
    match changes {
        Changes::Staged => {
            let staged = diff(&top, &["--cached"], &flag)?;
            let unstaged = hunks_by_file(&diff(&top, &[], &flag)?);
            for (file, touches) in touches_by_file(&staged) {
                let touches = match unstaged.get(&file) {
                    Some(hunks) => touches.into_iter().map(|t| carry(t, hunks)).collect(),
                    None => touches,
                };
                out.files.insert(absolute(&top, &file), touches);
            }
        }
        Changes::Since(rev) => {
            if rev.starts_with('-') {
                return Err(Error::Git {
                    context: format!("{flag}: `{rev}` is not a revision"),
                    reason: "a revision does not start with `-`".to_owned(),
                });
            }
            let base = merge_base(&top, rev, &flag)?;
            for (file, touches) in touches_by_file(&diff(&top, &[&base], &flag)?) {
                out.files.insert(absolute(&top, &file), touches);
            }
            // A file written since REV and not yet added is new work too.
            let untracked = run_git(
                &top,
                &["ls-files", "--others", "--exclude-standard", "-z"],
                &flag,
            )?;
            for file in untracked.split('\0').filter(|f| !f.is_empty()) {
                out.files
                    .insert(absolute(&top, file), vec![Touch::Lines(1, usize::MAX)]);
            }
        }
    }
    Ok(out)
}

/// The directory git runs a repository's hooks from: `core.hooksPath` when set, else the
/// `hooks` directory of the main repository (shared by its worktrees).
pub fn hooks_dir(dir: &Path) -> Result<PathBuf, Error> {
    let what = "hook";
    toplevel(dir, what)?;
    let path = run_git(dir, &["rev-parse", "--git-path", "hooks"], what)?;
    // Relative to `dir`, where git was asked.
    Ok(dir.join(path.trim_end_matches(['\n', '\r'])))
}

/// The top of the work tree that holds `dir`, canonical.
pub fn toplevel(dir: &Path, flag: &str) -> Result<PathBuf, Error> {
    let output = git(dir, &["rev-parse", "--show-toplevel"], flag)?;
    if !output.status.success() {
        return Err(Error::Git {
            context: format!(
                "{flag} needs a git work tree, and {} is not in one",
                dir.display()
            ),
            reason: reason(&output),
        });
    }
    let top = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim_end_matches(['\n', '\r']));
    Ok(top.canonicalize().unwrap_or(top))
}

/// Where the current branch left `rev` (as a pull request's diff starts), so that what `rev`
/// gained since is not counted as this branch's work; `rev` itself when they share no history.
fn merge_base(top: &Path, rev: &str, flag: &str) -> Result<String, Error> {
    let output = git(top, &["merge-base", rev, "HEAD"], flag)?;
    match output.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned()),
        // No common ancestor: git says nothing and exits 1.
        Some(1) if output.stderr.is_empty() => Ok(rev.to_owned()),
        _ => Err(Error::Git {
            context: format!("{flag}: git cannot read the revision `{rev}`"),
            reason: reason(&output),
        }),
    }
}

/// `git diff -U0` with every setting that changes its shape pinned down.
fn diff(top: &Path, extra: &[&str], flag: &str) -> Result<String, Error> {
    let mut args = vec![
        "-c",
        "core.quotePath=false",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "-U0",
        // A file only moved is not new work: its items stay as old as they were.
        "-M",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    ];
    args.extend_from_slice(extra);
    args.push("--");
    run_git(top, &args, flag)
}

/// Run git; its stdout, or its own reason as the error.
fn run_git(dir: &Path, args: &[&str], flag: &str) -> Result<String, Error> {
    let output = git(dir, args, flag)?;
    if !output.status.success() {
        return Err(Error::Git {
            context: format!("{flag}: `git {}` failed", args.join(" ")),
            reason: reason(&output),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn git(dir: &Path, args: &[&str], flag: &str) -> Result<Output, Error> {
    let mut command = Command::new("git");
    command.args(args).current_dir(dir);
    // Git gives its hooks these relative to where the hook started, which is where we
    // started, not `dir`; and with `GIT_DIR` alone, the work tree is where we started.
    let cwd = std::env::current_dir().ok();
    let var = |name: &str| std::env::var_os(name).map(PathBuf::from);
    if let Some(cwd) = &cwd {
        for name in ["GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE"] {
            if let Some(value) = var(name).filter(|value| value.is_relative()) {
                command.env(name, cwd.join(value));
            }
        }
        if var("GIT_DIR").is_some() && var("GIT_WORK_TREE").is_none() {
            command.env("GIT_WORK_TREE", cwd);
        }
    }
    command.output().map_err(|err| Error::Git {
        context: format!("{flag} needs git, which could not be run"),
        reason: err.to_string(),
    })
}

fn reason(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    let text = text.trim();
    if text.is_empty() {
        format!("git exited with {}", output.status)
    } else {
        text.lines().next().unwrap_or(text).to_owned()
    }
}

fn absolute(top: &Path, file: &str) -> PathBuf {
    let path = top.join(file);
    path.canonicalize().unwrap_or(path)
}

/// A hunk header's numbers: `@@ -old_start,old_len +new_start,new_len @@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hunk {
    old_start: usize,
    old_len: usize,
    new_start: usize,
    new_len: usize,
}

/// The hunks of a `-U0` diff, by the new side's path (relative to the top of the work tree).
/// A file deleted has no new side and is left out.
fn hunks_by_file(diff: &str) -> HashMap<String, Vec<Hunk>> {
    let mut files: HashMap<String, Vec<Hunk>> = HashMap::new();
    let mut current: Option<String> = None;
    let mut lines = diff.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("diff --git ") {
            current = None;
        } else if let Some(path) = line.strip_prefix("+++ ") {
            current = new_path(path);
            if let Some(path) = &current {
                files.entry(path.clone()).or_default();
            }
        } else if let Some(hunk) = line.strip_prefix("@@ ").and_then(parse_hunk) {
            if let Some(path) = &current {
                files.entry(path.clone()).or_default().push(hunk);
            }
            // The hunk's own lines are skipped by count: a removed line `-- x` or an added
            // `++ y` must not be read as a header.
            let (mut old, mut new) = (hunk.old_len, hunk.new_len);
            while old + new > 0 {
                match lines.next() {
                    Some(body) if body.starts_with('-') => old = old.saturating_sub(1),
                    Some(body) if body.starts_with('+') => new = new.saturating_sub(1),
                    Some(_) => {}
                    None => break,
                }
            }
        }
    }
    files
}

/// Per file, the places its hunks touched on the new side.
fn touches_by_file(diff: &str) -> Vec<(String, Vec<Touch>)> {
    hunks_by_file(diff)
        .into_iter()
        .filter(|(_, hunks)| !hunks.is_empty())
        .map(|(file, hunks)| {
            let touches = hunks
                .iter()
                .map(|h| match h.new_len {
                    0 => Touch::Gap(h.new_start),
                    n => Touch::Lines(h.new_start, h.new_start + n - 1),
                })
                .collect();
            (file, touches)
        })
        .collect()
}

/// `@@ -a[,b] +c[,d] @@…` (the `@@ ` already taken off).
fn parse_hunk(text: &str) -> Option<Hunk> {
    let mut parts = text.split(' ');
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |s: &str| -> Option<(usize, usize)> {
        match s.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (old_start, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    Some(Hunk {
        old_start,
        old_len,
        new_start,
        new_len,
    })
}

/// The path after `+++ `: `b/<path>`, C-quoted when it holds unusual characters, or
/// `/dev/null` for a deleted file.
fn new_path(text: &str) -> Option<String> {
    let text = text.trim_end_matches('\t');
    let path = if text.starts_with('"') {
        unquote(text)?
    } else {
        text.to_owned()
    };
    path.strip_prefix("b/").map(str::to_owned)
}

/// Undo git's C-style quoting of a path: `"a\tb\303\251"`.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next()? {
            b'n' => bytes.push(b'\n'),
            b't' => bytes.push(b'\t'),
            b'a' => bytes.push(7),
            b'b' => bytes.push(8),
            b'f' => bytes.push(12),
            b'r' => bytes.push(b'\r'),
            b'v' => bytes.push(11),
            d @ b'0'..=b'7' => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    let d = chars.next()?;
                    value = value * 8 + u32::from(d.checked_sub(b'0')?);
                }
                bytes.push(u8::try_from(value).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

/// Carry a place in the index's version of a file over the unstaged hunks (index → work
/// tree) to the work tree's lines.
fn carry(touch: Touch, unstaged: &[Hunk]) -> Touch {
    match touch {
        Touch::Lines(a, b) => {
            let (first, _) = carry_line(a, unstaged);
            let (_, last) = carry_line(b, unstaged);
            Touch::Lines(first, last.max(first))
        }
        Touch::Gap(n) => {
            let (_, before) = carry_line(n, unstaged);
            let (after, _) = carry_line(n + 1, unstaged);
            if after == before + 1 {
                Touch::Gap(before)
            } else {
                Touch::Lines(before.min(after), before.max(after))
            }
        }
    }
}

/// The work tree's lines for the index's line `n`: one line, or the lines an unstaged edit
/// put in its place.
fn carry_line(n: usize, unstaged: &[Hunk]) -> (usize, usize) {
    let mut shift: isize = 0;
    for hunk in unstaged {
        if hunk.old_len == 0 {
            // An insertion after old line `old_start`.
            if n > hunk.old_start {
                shift += hunk.new_len as isize;
                continue;
            }
            break;
        }
        let old_last = hunk.old_start + hunk.old_len - 1;
        if n < hunk.old_start {
            break;
        }
        if n <= old_last {
            let first = hunk.new_start.max(1);
            let last = (hunk.new_start + hunk.new_len).saturating_sub(1).max(first);
            // A line removed by the unstaged edit: its neighbours stand for it.
            return if hunk.new_len == 0 {
                (first, first + 1)
            } else {
                (first, last)
            };
        }
        shift += hunk.new_len as isize - hunk.old_len as isize;
    }
    let line = (n as isize + shift).max(1) as usize;
    (line, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_are_read_by_count_not_by_their_text() {
        let diff = "diff --git a/src/lib.rs b/src/lib.rs\n\
                    --- a/src/lib.rs\n\
                    +++ b/src/lib.rs\n\
                    @@ -3 +3 @@ fn a()\n\
                    --- a/fake\n\
                    +++ b/fake\n\
                    @@ -10,0 +11,2 @@\n\
                    +x\n\
                    +y\n\
                    @@ -20,2 +22,0 @@\n\
                    -gone\n\
                    -gone\n";
        let files = touches_by_file(diff);
        assert_eq!(files.len(), 1);
        let (file, touches) = &files[0];
        assert_eq!(file, "src/lib.rs");
        assert_eq!(
            touches,
            &[Touch::Lines(3, 3), Touch::Lines(11, 12), Touch::Gap(22)]
        );
    }

    #[test]
    fn new_and_quoted_paths() {
        assert_eq!(new_path("b/src/a b.rs"), Some("src/a b.rs".to_owned()));
        assert_eq!(new_path("/dev/null"), None);
        assert_eq!(
            new_path("\"b/src/t\\tab\\303\\251.rs\""),
            Some("src/t\tab\u{e9}.rs".to_owned())
        );
    }

    #[test]
    fn a_removal_counts_only_strictly_inside() {
        // An item on lines 5..=9.
        assert!(Touch::Gap(5).inside(5, 9));
        assert!(Touch::Gap(8).inside(5, 9));
        assert!(!Touch::Gap(9).inside(5, 9));
        assert!(!Touch::Gap(4).inside(5, 9));
        assert!(Touch::Lines(9, 12).inside(5, 9));
        assert!(!Touch::Lines(10, 12).inside(5, 9));
    }

    #[test]
    fn staged_lines_are_carried_over_unstaged_edits() {
        // Unstaged: two lines inserted after line 2, line 10 rewritten as three lines.
        let unstaged = [
            Hunk {
                old_start: 2,
                old_len: 0,
                new_start: 3,
                new_len: 2,
            },
            Hunk {
                old_start: 10,
                old_len: 1,
                new_start: 12,
                new_len: 3,
            },
        ];
        assert_eq!(carry(Touch::Lines(1, 2), &unstaged), Touch::Lines(1, 2));
        assert_eq!(carry(Touch::Lines(5, 6), &unstaged), Touch::Lines(7, 8));
        assert_eq!(carry(Touch::Lines(10, 10), &unstaged), Touch::Lines(12, 14));
        assert_eq!(carry(Touch::Lines(11, 11), &unstaged), Touch::Lines(15, 15));
        assert_eq!(carry(Touch::Gap(6), &unstaged), Touch::Gap(8));
    }
}
