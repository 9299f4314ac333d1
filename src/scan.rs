//! Walk each target's module tree from its crate root, following `mod x;` to `x.rs`,
//! `x/mod.rs` or a `#[path]`, and read and analyse every file once. Files under `#[cfg(test)]`
//! are read only for the calls their tests make, which count for the file that declares them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::analysis::{self, Calls, Constructor, FileAnalysis, ModDecl, Signatures, TraitMarks};
use crate::error::Warning;
use crate::rules::{LintAttr, Rules, unraw};
use crate::workspace::{TargetKind, Workspace};

/// A source file that was read and parsed.
pub struct SourceFile {
    /// Canonical absolute path.
    pub path: PathBuf,
    /// The path relative to the workspace root, for messages.
    pub display: String,
    /// Index into [`Workspace::packages`].
    pub package: usize,
    /// Index into the package's targets: the crate the file was first reached from.
    pub target: usize,
    /// Modules from the crate root to the file (`["money", "parse"]`), as libtest names them.
    pub module_path: Vec<String>,
    /// Every `mod` from the crate root down to the file is `pub`: its `pub` items are the
    /// crate's API without a `pub use`.
    pub exposed: bool,
    /// What the crate's attributes and edition let a test in this file write.
    pub rules: Rules,
    pub source: String,
    pub analysis: FileAnalysis,
    /// Within the `PATH…` arguments (all files when none were given).
    pub selected: bool,
    /// The `#[cfg(…)]`s of the `mod` declarations that lead to the file (`feature =
    /// "extra"`), as written: the file is compiled only under all of them.
    pub mod_cfgs: Vec<String>,
}

/// What the walk found.
pub struct Scan {
    pub files: Vec<SourceFile>,
    pub warnings: Vec<Warning>,
    /// Every file the walk reached, read or not: what the `PATH…` arguments can name.
    pub reached: Vec<PathBuf>,
    /// Per package: how its crate-local types can be built.
    pub constructors: Vec<BTreeMap<String, Constructor>>,
    /// Per package: its type definitions by name.
    pub type_defs: Vec<BTreeMap<String, String>>,
    /// Per package: the calls of each integration test file that names the crate, by the
    /// file's path relative to the workspace root.
    pub integration: Vec<Vec<(String, Calls)>>,
    /// Per package: the names of its public types and traits.
    pub public_names: Vec<BTreeSet<String>>,
    /// Per package: what each of its fns returns (the light type flow's evidence).
    pub signatures: Vec<Signatures>,
    /// Per package: its trait definitions by name.
    pub trait_defs: Vec<BTreeMap<String, String>>,
    /// Per package: how each type can be made (signatures and impl headers).
    pub builders: Vec<BTreeMap<String, Vec<String>>>,
}

struct Pending {
    path: PathBuf,
    package: usize,
    target: usize,
    module_path: Vec<String>,
    /// Every module from the crate root down is `pub`.
    exposed: bool,
    /// Children resolve relative to the file's own directory (crate roots, `mod.rs`, `#[path]`
    /// files) rather than to a directory named after it.
    mod_rs: bool,
    /// `Some(parent)`: a `#[cfg(test)]` file whose calls count for file `parent`.
    tests_for: Option<PathBuf>,
    /// The declaring file, the declaration and the candidates looked at, for a missing-file
    /// warning.
    declared: Option<(PathBuf, ModDecl, String)>,
    /// Lint attributes from the crate root down to the file (its own inner ones not yet).
    lints: Vec<LintAttr>,
    /// The crate root's `#![no_std]`; `None` at the crate root itself.
    no_std: Option<bool>,
    /// The conditions of `#[cfg_attr(<cfg>, path = "…")]`s that chose this file (or a parent),
    /// carried to its items' tests.
    cfgs: Vec<String>,
    /// `false` for a file that one platform or feature may lack: no warning when it is missing.
    required: bool,
    /// The `#[cfg(…)]`s of the `mod` declarations that lead to the file.
    mod_cfgs: Vec<String>,
}

/// Walk all selected packages. `filter` holds canonical files or directories; empty means all.
/// Files are read and analysed in parallel; the result is ordered by path.
pub fn scan(workspace: &Workspace, filter: &[PathBuf], on_file: &(dyn Fn(usize) + Sync)) -> Scan {
    let state = Mutex::new(State {
        scan: Scan {
            files: Vec::new(),
            warnings: Vec::new(),
            reached: Vec::new(),
            constructors: vec![BTreeMap::new(); workspace.packages.len()],
            type_defs: vec![BTreeMap::new(); workspace.packages.len()],
            integration: (0..workspace.packages.len()).map(|_| Vec::new()).collect(),
            public_names: vec![BTreeSet::new(); workspace.packages.len()],
            signatures: vec![Signatures::default(); workspace.packages.len()],
            trait_defs: vec![BTreeMap::new(); workspace.packages.len()],
            builders: vec![BTreeMap::new(); workspace.packages.len()],
        },
        seen: HashSet::new(),
        test_calls: Vec::new(),
        def_counts: vec![BTreeMap::new(); workspace.packages.len()],
    });
    let walk = Walk {
        workspace,
        filter,
        on_file,
        state: &state,
    };
    let walk = &walk;
    rayon::scope(|scope| {
        for (package, sources) in workspace.packages.iter().enumerate() {
            if let Some(crate_name) = &sources.lib_name {
                for path in integration_files(sources) {
                    scope.spawn(move |_| walk.integration(package, crate_name, &path));
                }
            }
            for (target, root) in sources.targets.iter().enumerate() {
                let pending = Pending {
                    path: root.root.clone(),
                    package,
                    target,
                    module_path: Vec::new(),
                    exposed: true,
                    mod_rs: true,
                    tests_for: None,
                    declared: None,
                    lints: Vec::new(),
                    no_std: None,
                    cfgs: Vec::new(),
                    required: true,
                    mod_cfgs: Vec::new(),
                };
                scope.spawn(move |scope| walk.visit(scope, pending));
            }
        }
    });
    let State {
        mut scan,
        test_calls,
        def_counts,
        seen,
    } = state.into_inner().expect("no walker panicked");
    scan.reached = seen.into_iter().collect();
    // A name defined twice (`sse2::One`, `avx2::One`): constructors found for one say nothing
    // about the other.
    // Nor is either definition the one to show a model: which one the parallel walk met first
    // would change the prompt, and the cache key, from run to run.
    for ((constructors, defs), counts) in scan
        .constructors
        .iter_mut()
        .zip(scan.type_defs.iter_mut())
        .zip(def_counts)
    {
        for (name, count) in counts {
            if count > 1 {
                constructors.insert(name.clone(), Constructor::Ambiguous);
                defs.remove(&name);
            }
        }
    }
    // Calls of `#[cfg(test)] mod x;` files count for the file declaring them.
    for (parent, calls) in test_calls {
        if let Some(file) = scan.files.iter_mut().find(|f| f.path == parent) {
            file.analysis.calls.extend(calls);
        }
    }
    drop_unexported(&mut scan.files, workspace);
    follow_trait_attributes(&mut scan.files);
    scan.files.sort_by(|a, b| a.display.cmp(&b.display));
    scan.warnings.sort_by_key(ToString::to_string);
    for files in &mut scan.integration {
        files.sort_by(|a, b| a.0.cmp(&b.0));
    }
    scan
}

/// In a lib target, a `pub` item of a module that is not `pub` all the way up cannot be named
/// from outside the crate: it is API only when the crate re-exports it (or its type, or a
/// module around it) with a `pub use` that outside code can reach: one in an exposed module,
/// or one in a private module whose export a reachable `pub use` names in turn. A glob
/// re-exports its module's own names (and its `pub` inline modules) only.
fn drop_unexported(files: &mut [SourceFile], workspace: &Workspace) {
    let is_lib = |file: &SourceFile| {
        workspace.packages[file.package].targets[file.target].kind == TargetKind::Lib
    };
    let reexported = reachable_reexports(files, &is_lib);
    // The types outside code can name: those of exposed files, and those re-exported (by
    // name, or by a glob of their module). A method is API where its type is, whichever file
    // its impl sits in.
    let mut types: HashMap<usize, HashSet<String>> = HashMap::new();
    for file in files.iter().filter(|f| is_lib(f)) {
        let module: Vec<String> = file
            .module_path
            .iter()
            .map(|s| unraw(s).to_owned())
            .collect();
        let paths = reexported.get(&file.package).map_or(&[][..], Vec::as_slice);
        let globbed = paths.iter().any(|(path, glob)| *glob && *path == module);
        let names = types.entry(file.package).or_default();
        if file.exposed || globbed {
            names.extend(file.analysis.public_names.iter().cloned());
        }
        names.extend(
            paths
                .iter()
                .filter(|(_, glob)| !glob)
                .filter_map(|(path, _)| path.last().cloned()),
        );
    }
    for file in files.iter_mut() {
        if file.exposed || !is_lib(file) {
            continue;
        }
        let paths = reexported.get(&file.package).map_or(&[][..], Vec::as_slice);
        let types = types.get(&file.package);
        let module: Vec<String> = file
            .module_path
            .iter()
            .map(|s| unraw(s).to_owned())
            .collect();
        file.analysis.items.retain(|item| {
            let path = item_path(&module, item);
            let exposed = |name: &str| types.is_some_and(|t| t.contains(unraw(name)));
            let of_exposed_type = item.impl_block.as_ref().is_some_and(|block| {
                exposed(&block.type_name) || block.trait_.as_ref().is_some_and(|t| exposed(&t.name))
            });
            of_exposed_type
                || paths.iter().any(|(export, glob)| {
                    // A glob of this file's module reaches its names and its `pub` inline
                    // modules; not the files of modules below it.
                    path.starts_with(export)
                        && (!glob || path.len() == export.len() + 1 || *export == module)
                })
        });
    }
}

/// What a package's trait says of its methods wherever they are implemented: those of a
/// `#[doc(hidden)]` trait are not API, those of a `#[deprecated]` one warn when called.
fn follow_trait_attributes(files: &mut [SourceFile]) {
    let mut marks: HashMap<(usize, String), TraitMarks> = HashMap::new();
    for file in files.iter() {
        for (name, mark) in &file.analysis.trait_marks {
            marks.insert((file.package, name.clone()), *mark);
        }
    }
    if marks.is_empty() {
        return;
    }
    for file in files.iter_mut() {
        let package = file.package;
        file.analysis.items.retain_mut(|item| {
            let Some(trait_) = item.impl_block.as_ref().and_then(|b| b.trait_.as_ref()) else {
                return true;
            };
            let Some(mark) = marks.get(&(package, trait_.name.clone())) else {
                return true;
            };
            item.deprecated |= mark.deprecated;
            !mark.hidden
        });
    }
}

/// A lib's `pub use`: its package, whether its module is exposed, the path it exports under,
/// and what it points at (from the crate root).
struct Use {
    package: usize,
    exposed: bool,
    alias: Vec<String>,
    target: Vec<String>,
    glob: bool,
}

/// Per package, the re-exported paths outside code reaches (with whether each is a glob):
/// those of `pub use`s in exposed modules, then, until none is added, those in private
/// modules whose export a reached one names (`pub use unicode::Graphemes` in the root,
/// `pub use self::grapheme::Graphemes` in the private `unicode`).
fn reachable_reexports(
    files: &[SourceFile],
    is_lib: &dyn Fn(&SourceFile) -> bool,
) -> HashMap<usize, Vec<(Vec<String>, bool)>> {
    let mut uses: Vec<Use> = Vec::new();
    for file in files.iter().filter(|f| is_lib(f)) {
        for export in &file.analysis.reexports {
            let here: Vec<String> = file
                .module_path
                .iter()
                .chain(&export.module)
                .map(|s| unraw(s).to_owned())
                .collect();
            let path: Vec<String> = export.path.iter().map(|s| unraw(s).to_owned()).collect();
            let alias = match export.glob {
                true => here.clone(),
                false => [&here[..], &[unraw(&export.name).to_owned()]].concat(),
            };
            for target in resolve_use(&here, &path) {
                uses.push(Use {
                    package: file.package,
                    exposed: file.exposed,
                    alias: alias.clone(),
                    target,
                    glob: export.glob,
                });
            }
        }
    }
    let mut reexported: HashMap<usize, Vec<(Vec<String>, bool)>> = HashMap::new();
    let mut counted = vec![false; uses.len()];
    loop {
        let mut grew = false;
        for (i, r) in uses.iter().enumerate() {
            if counted[i] {
                continue;
            }
            let paths = reexported.entry(r.package).or_default();
            let reached = r.exposed
                || paths.iter().any(|(export, export_glob)| {
                    if r.glob {
                        r.alias.starts_with(export) || export.starts_with(&r.alias)
                    } else {
                        r.alias.starts_with(export)
                            && (!export_glob || r.alias.len() == export.len() + 1)
                    }
                });
            if reached {
                paths.push((r.target.clone(), r.glob));
                counted[i] = true;
                grew = true;
            }
        }
        if !grew {
            return reexported;
        }
    }
}

/// Where a `use` path written in module `here` may point, from the crate root: `crate::`,
/// `self::` and `super::` as Rust reads them; a plain path both relative to `here` (2018) and
/// to the root (2015, or a path through the crate's own top level).
fn resolve_use(here: &[String], path: &[String]) -> Vec<Vec<String>> {
    match path.first().map(String::as_str) {
        Some("crate") => vec![path[1..].to_vec()],
        Some("self") => vec![[here, &path[1..]].concat()],
        Some("super") => {
            let supers = path.iter().take_while(|s| *s == "super").count();
            let up = here.len().saturating_sub(supers);
            vec![[&here[..up], &path[supers..]].concat()]
        }
        _ => vec![[here, path].concat(), path.to_vec()],
    }
}

/// An item's path from the crate root: its file's module, its inline modules, its impl's
/// type for a method, its name.
fn item_path(module: &[String], item: &analysis::PublicFn) -> Vec<String> {
    let own = item
        .module_path
        .iter()
        .chain(item.impl_block.as_ref().map(|b| &b.type_name))
        .chain([&item.ident]);
    module
        .iter()
        .cloned()
        .chain(own.map(|s| unraw(s).to_owned()))
        .collect()
}

/// The package's integration test files: `tests/**/*.rs` and the roots of `[[test]]` targets
/// elsewhere.
fn integration_files(package: &crate::workspace::PackageSources) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => walk(&path, out),
                Ok(_) if path.extension().is_some_and(|e| e == "rs") => out.push(path),
                _ => {}
            }
        }
    }
    let mut files = Vec::new();
    walk(&package.root.join("tests"), &mut files);
    for root in &package.test_roots {
        if !files.contains(root) {
            files.push(root.clone());
        }
    }
    files
}

struct State {
    scan: Scan,
    /// Per package: how many definitions each type name has.
    def_counts: Vec<BTreeMap<String, usize>>,
    seen: HashSet<PathBuf>,
    /// (declaring file, calls) of `#[cfg(test)]` module files.
    test_calls: Vec<(PathBuf, Calls)>,
}

struct Walk<'a> {
    workspace: &'a Workspace,
    filter: &'a [PathBuf],
    on_file: &'a (dyn Fn(usize) + Sync),
    state: &'a Mutex<State>,
}

impl Walk<'_> {
    fn selected(&self, path: &Path) -> bool {
        self.filter.is_empty() || self.filter.iter().any(|f| path.starts_with(f))
    }

    /// Read an integration test file for its calls. One that cannot be read or lexed counts
    /// for nothing: its own build will say what is wrong with it.
    fn integration(&self, package: usize, crate_name: &str, path: &Path) {
        let Ok(source) = std::fs::read_to_string(path) else {
            return;
        };
        if let Ok(Some(calls)) = analysis::integration_calls(&source, crate_name) {
            let display = relative(&self.workspace.root, path);
            let mut state = self.state.lock().expect("lock");
            state.scan.integration[package].push((display, calls));
        }
    }

    fn warn(&self, warning: Warning) {
        self.state.lock().expect("lock").scan.warnings.push(warning);
    }

    /// Read and analyse one file, then spawn its module children.
    fn visit<'s>(&'s self, scope: &rayon::Scope<'s>, pending: Pending) {
        let Some(Read {
            path,
            display,
            source,
            selected,
        }) = self.read(&pending)
        else {
            return;
        };
        let parse_warning = |failure: analysis::ParseFailure| Warning::Parse {
            file: display.clone(),
            line: failure.line,
            column: failure.column,
            message: failure.message,
        };
        if let Some(parent) = pending.tests_for {
            match analysis::test_file_calls(&source) {
                Ok(calls) => self
                    .state
                    .lock()
                    .expect("lock")
                    .test_calls
                    .push((parent, calls)),
                Err(failure) if selected => self.warn(parse_warning(failure)),
                Err(_) => {}
            }
            return;
        }
        let mut analysis = match analysis::analyze(&source) {
            Ok(analysis) => analysis,
            Err(failure) => {
                if selected {
                    self.warn(parse_warning(failure));
                }
                return;
            }
        };
        let target = &self.workspace.packages[pending.package].targets[pending.target];
        let mut lints = pending.lints;
        lints.extend(std::mem::take(&mut analysis.lints));
        let rules = Rules {
            edition: target.edition,
            no_std: pending.no_std.unwrap_or(analysis.no_std),
            lints,
            shadowed: std::mem::take(&mut analysis.shadowed),
            glob: analysis.glob,
        };
        // A file chosen by `cfg_attr(<cfg>, path)` is compiled only under `<cfg>`: its tests
        // say so too.
        if !pending.cfgs.is_empty() {
            let prefix: String = pending
                .cfgs
                .iter()
                .map(|c| format!("#[cfg({c})]\n"))
                .collect();
            for item in &mut analysis.items {
                item.stub.insert_str(0, &prefix);
            }
        }
        // `#![cfg(feature = "x")]` at the top of the file gates it as its `mod` would.
        let mut mod_cfgs = pending.mod_cfgs;
        mod_cfgs.extend(std::mem::take(&mut analysis.inner_cfgs));
        let parent = Parent {
            path: &path,
            mod_rs: pending.mod_rs,
            module_path: &pending.module_path,
            exposed: pending.exposed,
            cfgs: &pending.cfgs,
            mod_cfgs: &mod_cfgs,
            package: pending.package,
            target: pending.target,
            rules: &rules,
        };
        for decl in &analysis.mod_decls {
            self.spawn_module(scope, &parent, decl);
        }
        self.record(SourceFile {
            path,
            display,
            package: pending.package,
            target: pending.target,
            module_path: pending.module_path,
            exposed: pending.exposed,
            rules,
            source,
            analysis,
            selected,
            mod_cfgs,
        });
    }

    /// The file's canonical path and text, the first time it is reached: `None` when it is
    /// missing, unreadable, outside its package or seen already, with a warning where one is
    /// due (for a selected file that must exist).
    fn read(&self, pending: &Pending) -> Option<Read> {
        let workspace = self.workspace;
        let display = relative(&workspace.root, &pending.path);
        let package = &workspace.packages[pending.package];
        let path = match pending.path.canonicalize() {
            Ok(path) => path,
            Err(source) => {
                if self.selected(&pending.path) && pending.required {
                    self.warn(match &pending.declared {
                        Some((file, decl, candidates))
                            if source.kind() == std::io::ErrorKind::NotFound =>
                        {
                            Warning::MissingModule {
                                file: relative(&workspace.root, file),
                                line: decl.line,
                                column: decl.column,
                                name: decl.name.clone(),
                                candidates: candidates.clone(),
                            }
                        }
                        _ => Warning::Unreadable {
                            file: display,
                            source,
                        },
                    });
                }
                return None;
            }
        };
        let selected = self.selected(&path);
        {
            let mut state = self.state.lock().expect("lock");
            if !state.seen.insert(path.clone()) {
                return None;
            }
            (self.on_file)(state.seen.len());
        }
        if !path.starts_with(&package.root) {
            if selected {
                self.warn(Warning::OutsidePackage {
                    file: display,
                    package: package.name.clone(),
                });
            }
            return None;
        }
        match read_source(&path, &display) {
            Ok(source) => Some(Read {
                path,
                display,
                source,
                selected,
            }),
            Err(warning) => {
                if selected {
                    self.warn(warning);
                }
                None
            }
        }
    }

    /// Spawn the visit of the file (or, under `cfg_attr` paths, each file) a `mod x;` of the
    /// file `parent` names.
    fn spawn_module<'s>(&'s self, scope: &rayon::Scope<'s>, parent: &Parent<'_>, decl: &ModDecl) {
        let rules = parent.rules;
        let mut module_path = parent.module_path.to_vec();
        module_path.extend(decl.inline_parents.iter().map(|m| rules.libtest_segment(m)));
        module_path.push(rules.libtest_segment(&decl.name));
        let mut lints = rules.lints.clone();
        lints.extend(decl.lints.iter().cloned());
        // Each file a `cfg_attr` can name, with its condition; and the file named without
        // one, which must exist only when no `cfg_attr` names another.
        let mut choices: Vec<(Option<&String>, ModDecl)> = decl
            .cfg_paths
            .iter()
            .map(|(condition, file)| {
                let mut decl = decl.clone();
                decl.path_attr = Some(file.clone());
                (Some(condition), decl)
            })
            .collect();
        choices.push((None, decl.clone()));
        for (condition, chosen) in choices {
            let (child, mod_rs, candidates) = resolve_module(parent.path, parent.mod_rs, &chosen);
            let candidates = candidates
                .iter()
                .map(|c| relative(&self.workspace.root, c))
                .collect::<Vec<_>>()
                .join(" and ");
            let mut cfgs = parent.cfgs.to_vec();
            cfgs.extend(condition.cloned());
            let child = Pending {
                path: child,
                package: parent.package,
                target: parent.target,
                module_path: module_path.clone(),
                exposed: parent.exposed && decl.public,
                mod_rs,
                tests_for: decl.is_test.then(|| parent.path.to_path_buf()),
                declared: Some((parent.path.to_path_buf(), decl.clone(), candidates)),
                lints: lints.clone(),
                no_std: Some(rules.no_std),
                cfgs,
                required: condition.is_some() || decl.cfg_paths.is_empty(),
                mod_cfgs: {
                    let mut mod_cfgs: Vec<String> =
                        parent.mod_cfgs.iter().chain(&decl.cfgs).cloned().collect();
                    // The file a `cfg_attr` path does not choose is compiled where none does.
                    if condition.is_none() && !decl.cfg_paths.is_empty() {
                        let conditions: Vec<&str> =
                            decl.cfg_paths.iter().map(|(c, _)| c.as_str()).collect();
                        mod_cfgs.push(format!("not(any({}))", conditions.join(", ")));
                    }
                    mod_cfgs
                },
            };
            scope.spawn(move |scope| self.visit(scope, child));
        }
    }

    /// Add a file, and what it tells of its package, to what the walk found.
    fn record(&self, file: SourceFile) {
        let mut state = self.state.lock().expect("lock");
        let analysis = &file.analysis;
        let package = file.package;
        for (name, def) in &analysis.type_defs {
            let extra = usize::from(analysis.duplicate_types.contains(name));
            *state.def_counts[package].entry(name.clone()).or_default() += 1 + extra;
            let defs = &mut state.scan.type_defs[package];
            defs.entry(name.clone()).or_insert_with(|| def.clone());
        }
        state.scan.public_names[package].extend(analysis.public_names.iter().cloned());
        state.scan.signatures[package].extend(&analysis.signatures);
        for (ty, ways) in &analysis.builders {
            let known = state.scan.builders[package].entry(ty.clone()).or_default();
            known.extend(ways.iter().cloned());
            // The walk is parallel: sorted, the list (in the cache key) is the same each run.
            known.sort();
            known.dedup();
        }
        for (name, def) in &analysis.trait_defs {
            let defs = &mut state.scan.trait_defs[package];
            defs.entry(name.clone()).or_insert_with(|| def.clone());
        }
        for (name, ctor) in &analysis.constructors {
            let known = &mut state.scan.constructors[package];
            if matches!(ctor, Constructor::Default) || !known.contains_key(name) {
                known.insert(name.clone(), ctor.clone());
            }
        }
        state.scan.files.push(file);
    }
}

/// A file read for the first time.
struct Read {
    path: PathBuf,
    display: String,
    source: String,
    /// Within the `PATH…` arguments.
    selected: bool,
}

/// What the `mod x;` declarations of a file take from it.
struct Parent<'a> {
    /// Its canonical path.
    path: &'a Path,
    mod_rs: bool,
    module_path: &'a [String],
    exposed: bool,
    cfgs: &'a [String],
    mod_cfgs: &'a [String],
    package: usize,
    target: usize,
    rules: &'a Rules,
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
            decl.inline_parents
                .iter()
                .fold(base, |acc, m| acc.join(unraw(m)))
        };
        let child = from.join(path);
        return (child.clone(), true, vec![child]);
    }
    for parent in &decl.inline_parents {
        base.push(unraw(parent));
    }
    let name = unraw(&decl.name);
    let flat = base.join(format!("{name}.rs"));
    let nested = base.join(name).join("mod.rs");
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
