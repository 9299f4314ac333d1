//! Where developers run it: `--staged` and `--since` in real git repositories, the git hook
//! installed and refusing a real `git commit`, the pre-commit framework's entries run as the
//! framework runs them, and `--message-format json`. Nothing here builds a crate: checks build
//! nothing, and generation runs with `--no-verify`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{self, testsmith};
use predicates::prelude::*;
use tempfile::TempDir;

const OLD: &str =
    "pub fn legacy(x: u8) -> u8 {\n    x + 1\n}\n\npub fn other() -> u8 {\n    2\n}\n";

/// git with the machine's and the user's configuration left out, so the tests see git's
/// defaults (no global hooks path, no signing).
fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE");
    cmd
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = git_command(dir).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A package `flow` whose `src/lib.rs` is `OLD`, committed in a fresh repository.
fn repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::write_package(
        root,
        "flow",
        &[("src/lib.rs", OLD), (".gitignore", "/target\n")],
    );
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Test"]);
    git(root, &["config", "user.email", "test@example.com"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "legacy code"]);
    dir
}

/// The binary in `dir`, with git configured as in [`git_command`].
fn smith(dir: &Path) -> assert_cmd::Command {
    let mut cmd = testsmith(dir);
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd
}

fn write(dir: &Path, rel: &str, text: &str) {
    std::fs::write(dir.join(rel), text).unwrap();
}

#[test]
fn staged_looks_only_at_what_the_index_adds_or_edits() {
    let dir = repo();
    let root = dir.path();
    // Nothing staged: the legacy items never block.
    smith(root)
        .args(["--check", "--staged"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "the change adds or edits no public item",
        ));

    // A new fn, staged; an edit of `other`'s body, not staged.
    let new = format!("{OLD}\npub fn fresh(a: u8) -> u8 {{\n    a * 2\n}}\n");
    write(root, "src/lib.rs", &new);
    git(root, &["add", "src/lib.rs"]);
    write(root, "src/lib.rs", &new.replace("    2\n", "    3\n"));
    smith(root)
        .args(["--check", "--staged"])
        .assert()
        .code(1)
        .stdout("src/lib.rs:9: `fresh` has no test\n")
        .stderr(predicate::str::contains(
            "hint: run `cargo testsmith --staged` to write them from what the code does (or add --llm",
        ));

    // Unstaged lines above it move it: the staged item is found where it is now.
    write(
        root,
        "src/lib.rs",
        &format!("// one\n// two\n{}", new.replace("    2\n", "    3\n")),
    );
    smith(root)
        .args(["--check", "--staged"])
        .assert()
        .code(1)
        .stdout("src/lib.rs:11: `fresh` has no test\n");

    // Staging the body edit of `other` brings it in; `legacy` stays out.
    git(root, &["add", "src/lib.rs"]);
    smith(root)
        .args(["--check", "--staged"])
        .assert()
        .code(1)
        .stdout("src/lib.rs:7: `other` has no test\nsrc/lib.rs:11: `fresh` has no test\n");

    // Generation writes for those two only.
    smith(root)
        .args(["--staged", "--no-verify"])
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 2 tests in 1 file"));
    let text = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(text.contains("fn test_other()") && text.contains("fn test_fresh()"));
    assert!(!text.contains("fn test_legacy()"), "{text}");
}

#[test]
fn a_removed_line_inside_an_item_changes_it_and_a_new_file_counts_whole() {
    let dir = repo();
    let root = dir.path();
    write(
        root,
        "src/lib.rs",
        &format!("pub mod extra;\n{}", OLD.replace("    x + 1\n", "")),
    );
    write(root, "src/extra.rs", "pub fn added() {}\n");
    git(root, &["add", "."]);
    smith(root)
        .args(["--check", "--staged"])
        .assert()
        .code(1)
        .stdout("src/extra.rs:1: `added` has no test\nsrc/lib.rs:2: `legacy` has no test\n");
}

#[test]
fn since_a_revision_counts_commits_staged_unstaged_and_new_files() {
    let dir = repo();
    let root = dir.path();
    git(root, &["checkout", "-q", "-b", "feature"]);
    write(
        root,
        "src/lib.rs",
        &format!(
            "{OLD}\npub fn committed() {{}}\n\n#[cfg(test)]\nmod tests {{\n    #[test]\n    fn t() {{\n        super::committed();\n    }}\n}}\n"
        ),
    );
    git(root, &["commit", "-q", "-am", "a tested fn"]);
    write(
        root,
        "src/lib.rs",
        &format!(
            "pub mod later;\n{}",
            std::fs::read_to_string(root.join("src/lib.rs")).unwrap()
        ),
    );
    write(root, "src/later.rs", "pub fn untracked_new() {}\n");

    smith(root)
        .args(["--check", "--since", "main"])
        .assert()
        .code(1)
        .stdout("src/later.rs:1: `untracked_new` has no test\n")
        .stderr(predicate::str::contains("1 item already tested"));
    // Since the last commit: the committed fn is not part of it.
    smith(root)
        .args(["--check", "--since", "HEAD", "-v"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`committed`").not());

    // main moving on is not this branch's work: counted from where the branch left it.
    git(root, &["stash", "-u", "-q"]);
    git(root, &["checkout", "-q", "main"]);
    write(
        root,
        "src/lib.rs",
        &format!("{OLD}\npub fn on_main() {{}}\n"),
    );
    git(root, &["commit", "-q", "-am", "main moves on"]);
    git(root, &["checkout", "-q", "feature"]);
    smith(root)
        .args(["--check", "--since", "main"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "every public item the change adds or edits has a test, 1 item already tested",
        ));
}

#[test]
fn not_a_work_tree_or_an_unknown_revision_is_gits_reason_and_exit_2() {
    let dir = repo();
    let root = dir.path();
    smith(root)
        .args(["--check", "--since", "no-such-branch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--since no-such-branch: git cannot read the revision `no-such-branch` (git: fatal: Not a valid object name no-such-branch)",
        ));
    std::fs::remove_dir_all(root.join(".git")).unwrap();
    smith(root)
        .args(["--staged", "--dry-run"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--staged needs a git work tree, and",
        ))
        .stderr(predicate::str::contains(
            "(git: fatal: not a git repository",
        ));
}

/// PATH with the binary under test first, so the hook's `cargo testsmith` finds it.
fn path_with_binary() -> std::ffi::OsString {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_cargo-testsmith"));
    let mut paths = vec![bin.parent().unwrap().to_owned()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

fn commit(dir: &Path, message: &str) -> Output {
    git_command(dir)
        .args(["commit", "-q", "-m", message])
        .env("PATH", path_with_binary())
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap()
}

#[test]
fn the_installed_hook_refuses_an_untested_fn_and_lets_a_tested_one_through() {
    let dir = repo();
    let root = dir.path();
    smith(root)
        .args(["hook", "install"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "installed the pre-commit hook .git/hooks/pre-commit",
        ));
    let hook = root.join(".git/hooks/pre-commit");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "not executable: {mode:o}");
    }

    write(
        root,
        "src/lib.rs",
        &format!("{OLD}\npub fn fresh() -> u8 {{\n    3\n}}\n"),
    );
    git(root, &["add", "src/lib.rs"]);
    let refused = commit(root, "untested");
    let said = String::from_utf8_lossy(&refused.stdout).into_owned()
        + &String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "the commit went through: {said}");
    assert!(said.contains("src/lib.rs:9: `fresh` has no test"), "{said}");
    assert!(!said.contains("legacy"), "{said}");
    assert_eq!(git(root, &["rev-list", "--count", "HEAD"]).trim(), "1");

    write(
        root,
        "src/lib.rs",
        &format!(
            "{OLD}\npub fn fresh() -> u8 {{\n    3\n}}\n\n#[cfg(test)]\nmod tests {{\n    #[test]\n    fn fresh_is_3() {{\n        assert_eq!(super::fresh(), 3);\n    }}\n}}\n"
        ),
    );
    git(root, &["add", "src/lib.rs"]);
    let passed = commit(root, "tested");
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stderr)
    );
    assert_eq!(git(root, &["rev-list", "--count", "HEAD"]).trim(), "2");

    smith(root)
        .args(["hook", "uninstall"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed the pre-commit hook"));
    assert!(!hook.exists());
}

#[test]
fn an_existing_hook_is_kept_unless_forced_and_never_uninstalled() {
    let dir = repo();
    let root = dir.path();
    let hook = root.join(".git/hooks/pre-commit");
    let theirs = "#!/bin/sh\nexec cargo fmt --check\n";
    write(root, ".git/hooks/pre-commit", theirs);
    smith(root)
        .args(["hook", "install"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            ".git/hooks/pre-commit exists and was not written by cargo-testsmith, so it is left as it is; to run both, add the line `cargo testsmith --check --staged || exit 1` to it",
        ))
        .stderr(predicate::str::contains("cargo testsmith hook install --force"));
    smith(root)
        .args(["hook", "uninstall"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "was not written by cargo-testsmith",
        ));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), theirs);

    smith(root)
        .args(["hook", "install", "--force"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "replaced the existing hook with the pre-commit hook",
        ));
    // Installing again over our own is an update, not a refusal.
    smith(root)
        .args(["hook", "install"])
        .assert()
        .success()
        .stdout(predicate::str::contains("updated"));
    // Edited by the user, it is theirs.
    let ours = std::fs::read_to_string(&hook).unwrap();
    write(root, ".git/hooks/pre-commit", &format!("{ours}# mine\n"));
    smith(root).args(["hook", "uninstall"]).assert().code(2);
    assert!(hook.exists());
}

#[test]
fn the_hook_goes_where_git_runs_hooks_from() {
    // core.hooksPath, relative to the top of the work tree.
    let dir = repo();
    let root = dir.path();
    git(root, &["config", "core.hooksPath", "githooks"]);
    smith(root).args(["hook", "install"]).assert().success();
    assert!(root.join("githooks/pre-commit").is_file());
    assert!(!root.join(".git/hooks/pre-commit").exists());

    // A worktree: the main repository's hooks, which git runs for every worktree; from a
    // package in a subdirectory, the hook enters it.
    let dir = repo();
    let root = dir.path();
    let tree = root.join("wt");
    git(root, &["worktree", "add", "-q", tree.to_str().unwrap()]);
    std::fs::create_dir_all(tree.join("sub/src")).unwrap();
    write(
        &tree,
        "sub/Cargo.toml",
        "[package]\nname = \"sub\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    );
    write(&tree, "sub/src/lib.rs", "pub fn inner() {}\n");
    smith(&tree.join("sub"))
        .args(["hook", "install"])
        .assert()
        .success()
        .stdout(predicate::str::contains("for sub/Cargo.toml"));
    let hook = std::fs::read_to_string(root.join(".git/hooks/pre-commit")).unwrap();
    assert!(
        hook.ends_with("\nexec cargo testsmith --check --staged --manifest-path sub/Cargo.toml\n"),
        "{hook}"
    );

    git(&tree, &["add", "sub"]);
    let refused = commit(&tree, "untested in a worktree");
    let said = String::from_utf8_lossy(&refused.stdout).into_owned()
        + &String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("src/lib.rs:1: `inner` has no test"), "{said}");
}

/// The `entry` of a hook in `.pre-commit-hooks.yaml`, as words.
fn entry(id: &str) -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let block = text
        .split("- id: ")
        .find(|block| block.starts_with(&format!("{id}\n")))
        .unwrap_or_else(|| panic!("no hook {id}"));
    assert!(block.contains("\n  language: rust\n"), "{block}");
    assert!(block.contains("\n  types: [rust]\n"), "{block}");
    let line = block
        .lines()
        .find_map(|line| line.strip_prefix("  entry: "))
        .unwrap();
    line.split_whitespace().map(str::to_owned).collect()
}

/// The hook's entry run as pre-commit runs it: the installed binary, from the top of the
/// work tree, with the staged `.rs` files appended.
fn run_entry(id: &str, root: &Path, files: &[&str]) -> assert_cmd::Command {
    let words = entry(id);
    assert_eq!(words[0], "cargo-testsmith");
    let mut cmd = assert_cmd::Command::cargo_bin("cargo-testsmith").unwrap();
    cmd.current_dir(root)
        .args(&words[1..])
        .args(files)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_TERM_COLOR")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd
}

#[test]
fn the_framework_hooks_entries_with_the_files_pre_commit_passes() {
    let dir = repo();
    let root = dir.path();
    std::fs::create_dir_all(root.join("tests")).unwrap();
    write(root, "tests/it.rs", "#[test]\nfn it() {}\n");
    write(
        root,
        "src/lib.rs",
        &format!("{OLD}\npub fn fresh() -> u8 {{\n    3\n}}\n"),
    );
    git(root, &["add", "."]);
    let files = ["src/lib.rs", "tests/it.rs"];

    run_entry("testsmith-check", root, &files)
        .assert()
        .code(1)
        .stdout("src/lib.rs:9: `fresh` has no test\n");

    // `testsmith` writes the test and leaves the rest to pre-commit, which fails a hook that
    // changed files; the check then passes once the test is filled in and staged.
    run_entry("testsmith", root, &files)
        .arg("--no-verify")
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 1 test in 1 file"));
    let text = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(text.contains("fn test_fresh()") && !text.contains("fn test_legacy()"));
    let filled = text.replace(
        "todo!(\"assert on what `fresh` returns\");",
        "assert_eq!(_result, 3);",
    );
    assert_ne!(filled, text, "{text}");
    write(
        root,
        "src/lib.rs",
        &filled.replace(
            "    #[ignore = \"testsmith scaffold: assert on what `fresh` returns\"]\n",
            "",
        ),
    );
    git(root, &["add", "src/lib.rs"]);
    run_entry("testsmith-check", root, &files)
        .assert()
        .success();

    // A commit of only other files passes at once.
    let dir = repo();
    let root = dir.path();
    write(root, "README.md", "docs\n");
    git(root, &["add", "."]);
    run_entry("testsmith-check", root, &[]).assert().success();
}

/// Stdout, and each of its lines read as a JSON message.
fn json_messages(output: &Output) -> (String, Vec<serde_json::Value>) {
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let messages = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    (stdout, messages)
}

fn reasons(messages: &[serde_json::Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect()
}

/// A repository whose lib has a tested item, an untested one, and a module that does not parse.
fn repo_with_a_broken_module() -> tempfile::TempDir {
    let dir = repo();
    write(
        dir.path(),
        "src/lib.rs",
        &format!(
            "mod broken;\n{OLD}\n#[cfg(test)]\nmod tests {{\n    #[test]\n    fn t() {{\n        super::other();\n    }}\n}}\n"
        ),
    );
    write(dir.path(), "src/broken.rs", "pub fn oops( {\n");
    dir
}

#[test]
fn json_messages_one_per_line_with_a_reason() {
    let dir = repo_with_a_broken_module();
    let root = dir.path();
    let assert = smith(root)
        .args(["--check", "--message-format", "json"])
        .assert()
        .code(1);
    let (stdout, messages) = json_messages(assert.get_output());
    assert_eq!(
        reasons(&messages),
        ["warning", "item", "item", "summary"],
        "{stdout}"
    );
    assert_eq!(
        messages[0],
        serde_json::json!({
            "reason": "warning", "file": "src/broken.rs", "line": 1, "column": 14,
            "message": messages[0]["message"],
        })
    );
    assert!(
        messages[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("src/broken.rs:1:14: could not parse")
    );
    assert_eq!(
        messages[1],
        serde_json::json!({
            "reason": "item", "file": "src/lib.rs", "line": 6, "column": 8, "name": "other",
            "status": "tested", "detail": "in the file's tests",
        })
    );
    assert_eq!(
        messages[2],
        serde_json::json!({
            "reason": "item", "file": "src/lib.rs", "line": 2, "column": 8, "name": "legacy",
            "status": "untested",
        })
    );
    assert_eq!(
        messages[3],
        serde_json::json!({
            "reason": "summary", "mode": "check", "success": false, "tested": 1,
            "untested": 1, "scaffold_only": 0, "generated": 0, "dropped": 0,
            "files_changed": 1, "files_skipped": 1,
        })
    );
    // The human text is all on stderr.
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("src/lib.rs:2: `legacy` has no test"),
        "{stderr}"
    );

    // A dry run: the diff a real run would write, in the message.
    write(root, "src/lib.rs", OLD);
    let assert = smith(root)
        .args(["--dry-run", "--no-verify", "--message-format", "json"])
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["reason"], "file-diff", "{stdout}");
    assert_eq!(first["tests"], 2);
    assert!(
        first["diff"]
            .as_str()
            .unwrap()
            .contains("+    fn test_legacy() {"),
        "{first}"
    );

    // Writing: one message per file written, the items generated.
    let assert = smith(root)
        .args(["--no-verify", "--message-format=json"])
        .assert()
        .success();
    let (stdout, messages) = json_messages(assert.get_output());
    assert_eq!(
        reasons(&messages),
        ["file-written", "item", "item", "summary"],
        "{stdout}"
    );
    let written = serde_json::json!({"reason": "file-written", "file": "src/lib.rs", "tests": 2});
    assert_eq!(messages[0], written);
    assert_eq!(messages[1]["status"], "generated");
    assert_eq!(
        (&messages[3]["generated"], &messages[3]["success"]),
        (&2.into(), &true.into())
    );
}

#[test]
fn the_write_hook_asked_for_the_llm_writes_scaffolds_when_no_server_answers() {
    let dir = repo();
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"flow\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [workspace]\n\n[workspace.metadata.testsmith]\nllm = true\n",
    );
    write(
        root,
        "src/lib.rs",
        &format!("{OLD}\npub fn fresh() -> u8 {{\n    3\n}}\n"),
    );
    git(root, &["add", "."]);
    let unreachable = || {
        let mut cmd = run_entry("testsmith", root, &["src/lib.rs"]);
        cmd.arg("--no-verify")
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("TESTSMITH_PROVIDER")
            .env_remove("TESTSMITH_MODEL")
            // Nothing listens on the discard port.
            .env("OLLAMA_HOST", "http://127.0.0.1:9");
        cmd
    };
    // A dry run first: `--llm` would end here with exit 2; `llm = true` goes on offline.
    unreachable()
        .arg("--dry-run")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: the LLM (`llm = true` in the testsmith metadata) cannot be used: ",
        ))
        .stderr(predicate::str::contains("writing scaffolds instead"))
        .stdout(predicate::str::contains("+    fn test_fresh() {"));
    unreachable()
        .assert()
        .success()
        .stderr(predicate::str::contains("generated 1 test in 1 file"));
    let text = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(text.contains("#[ignore = \"testsmith scaffold"), "{text}");
    // The check is not affected: it never asks a model.
    run_entry("testsmith-check", root, &["src/lib.rs"])
        .env("OLLAMA_HOST", "http://127.0.0.1:9")
        .assert()
        .code(1)
        .stdout("src/lib.rs:9: `fresh` has only a scaffold\n");
}
