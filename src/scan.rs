//! Walk each target's module tree from its crate root, following `mod x;` to `x.rs`,
//! `x/mod.rs` or a `#[path]`, and read and analyse every file once. Files under `#[cfg(test)]`
//! are read only for the calls their tests make, which count for the file that declares them.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::analysis::{self, Constructor, FileAnalysis, ModDecl};
use crate::error::Warning;
use crate::workspace::Workspace;

/// A source file that was read and parsed.
pub struct SourceFile {
    /// Canonical absolute path.
    pub path: PathBuf,
    /// The path relative to the workspace root, for messages.
    pub display: String,
    /// Index into [`Workspace::packages`].
    pub package: usize,
    pub source: String,
    pub analysis: FileAnalysis,
    /// Within the `PATH…` arguments (all files when none were given).
    pub selected: bool,
}

/// What the walk found.
pub struct Scan {
    pub files: Vec<SourceFile>,
    pub warnings: Vec<Warning>,
    /// Per package: how its crate-local types can be built.
    pub constructors: Vec<BTreeMap<String, Constructor>>,
}

struct Pending {
    path: PathBuf,
    package: usize,
    /// Children resolve relative to the file's own directory (crate roots, `mod.rs`, `#[path]`
    /// files) rather than to a directory named after it.
    mod_rs: bool,
    /// `Some(parent)`: a `#[cfg(test)]` file whose calls count for file `parent`.
    tests_for: Option<usize>,
    /// Where it was declared, for a missing-file warning.
    declared: Option<(usize, ModDecl, String)>,
}

/// Walk all selected packages. `filter` holds canonical files or directories; empty means all.
pub fn scan(workspace: &Workspace, filter: &[PathBuf], mut on_file: impl FnMut(usize)) -> Scan {
    let mut scan = Scan {
        files: Vec::new(),
        warnings: Vec::new(),
        constructors: vec![BTreeMap::new(); workspace.packages.len()],
    };
    let mut seen = HashSet::new();
    let mut queue: VecDeque<Pending> = VecDeque::new();
    for (package, sources) in workspace.packages.iter().enumerate() {
        for root in &sources.target_roots {
            queue.push_back(Pending {
                path: root.clone(),
                package,
                mod_rs: true,
                tests_for: None,
                declared: None,
            });
        }
    }
    let selected = |path: &Path| filter.is_empty() || filter.iter().any(|f| path.starts_with(f));
    while let Some(pending) = queue.pop_front() {
        let display = relative(&workspace.root, &pending.path);
        let package = &workspace.packages[pending.package];
        let path = match pending.path.canonicalize() {
            Ok(path) => path,
            Err(source) => {
                if selected(&pending.path) {
                    scan.warnings.push(match pending.declared {
                        Some((line, decl, candidates))
                            if source.kind() == std::io::ErrorKind::NotFound =>
                        {
                            Warning::MissingModule {
                                file: display_of(&scan, line),
                                line: decl.line,
                                column: decl.column,
                                name: decl.name,
                                candidates,
                            }
                        }
                        _ => Warning::Unreadable {
                            file: display,
                            source,
                        },
                    });
                }
                continue;
            }
        };
        if !seen.insert(path.clone()) {
            continue;
        }
        let is_selected = selected(&path);
        if !path.starts_with(&package.root) {
            if is_selected {
                scan.warnings.push(Warning::OutsidePackage {
                    file: display,
                    package: package.name.clone(),
                });
            }
            continue;
        }
        on_file(scan.files.len());
        let source = match read_source(&path, &display) {
            Ok(source) => source,
            Err(warning) => {
                if is_selected {
                    scan.warnings.push(warning);
                }
                continue;
            }
        };
        if let Some(parent) = pending.tests_for {
            match analysis::test_file_calls(&source) {
                Ok(calls) => scan.files[parent].analysis.calls.extend(calls),
                Err(failure) if is_selected => scan.warnings.push(Warning::Parse {
                    file: display,
                    line: failure.line,
                    column: failure.column,
                    message: failure.message,
                }),
                Err(_) => {}
            }
            continue;
        }
        let analysis = match analysis::analyze(&source) {
            Ok(analysis) => analysis,
            Err(failure) => {
                if is_selected {
                    scan.warnings.push(Warning::Parse {
                        file: display,
                        line: failure.line,
                        column: failure.column,
                        message: failure.message,
                    });
                }
                continue;
            }
        };
        let index = scan.files.len();
        for decl in &analysis.mod_decls {
            let (child, mod_rs, candidates) = resolve_module(&path, pending.mod_rs, decl);
            let candidates = candidates
                .iter()
                .map(|c| relative(&workspace.root, c))
                .collect::<Vec<_>>()
                .join(" and ");
            queue.push_back(Pending {
                path: child,
                package: pending.package,
                mod_rs,
                tests_for: decl.is_test.then_some(index),
                declared: Some((index, decl.clone(), candidates)),
            });
        }
        for (name, ctor) in &analysis.constructors {
            let known = &mut scan.constructors[pending.package];
            if matches!(ctor, Constructor::Default) || !known.contains_key(name) {
                known.insert(name.clone(), ctor.clone());
            }
        }
        scan.files.push(SourceFile {
            path,
            display,
            package: pending.package,
            source,
            analysis,
            selected: is_selected,
        });
    }
    scan
}

fn display_of(scan: &Scan, index: usize) -> String {
    scan.files[index].display.clone()
}

/// Read a file as UTF-8, or say why not.
fn read_source(path: &Path, display: &str) -> Result<String, Warning> {
    let bytes = std::fs::read(path).map_err(|source| Warning::Unreadable {
        file: display.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|err| Warning::NotUtf8 {
        file: display.to_owned(),
        offset: err.utf8_error().valid_up_to(),
    })
}

/// Where the file of `mod name;` declared in `file` lives, whether it owns its directory, and
/// the candidates looked at (for a warning), following the Rust reference's rules.
fn resolve_module(file: &Path, mod_rs: bool, decl: &ModDecl) -> (PathBuf, bool, Vec<PathBuf>) {
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut base = if mod_rs {
        dir.to_path_buf()
    } else {
        dir.join(file.file_stem().unwrap_or_default())
    };
    if let Some(path) = &decl.path_attr {
        // Outside inline modules a `#[path]` is relative to the declaring file's directory.
        let from = if decl.inline_parents.is_empty() {
            dir.to_path_buf()
        } else {
            decl.inline_parents.iter().fold(base, |acc, m| acc.join(m))
        };
        let child = from.join(path);
        return (child.clone(), true, vec![child]);
    }
    for parent in &decl.inline_parents {
        base.push(parent);
    }
    let flat = base.join(format!("{}.rs", decl.name));
    let nested = base.join(&decl.name).join("mod.rs");
    let candidates = vec![flat.clone(), nested.clone()];
    if !flat.exists() && nested.exists() {
        (nested, true, candidates)
    } else {
        (flat, false, candidates)
    }
}

/// `path` relative to the workspace root, or as given when it is outside.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
