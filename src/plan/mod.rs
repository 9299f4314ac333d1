//! Which items of each file need a test, and what their test fns are named: an item is tested
//! when the file's test code calls it, `mod testsmith_tests` already holds its test's name, or
//! other test code of the package does: another file's unit tests, any doc test of the lib
//! (libs only), or an integration test that names the crate. What counts as a call is
//! `analysis`'s rule (methods and sugar credited by the light type flow).
//! A scaffold (an `#[ignore]`d test still holding its `todo!()`) is a to-do, not a test: its
//! item is not generated for again, but `--check` lists it. The [`FileRequest`] a generator
//! is asked for a file's untested items is made here too.

mod features;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::analysis::{
    Calls, Constructor, ExistingModule, Import, PublicFn, Signatures, TypedUses,
};
use crate::error::Warning;
use crate::git::ChangedLines;
use crate::rules::Rules;
use crate::scan;
use crate::workspace::Workspace;
pub use features::{Checkable, FeatureBuild, choose as choose_features};

/// Where an item's test was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The file's `#[cfg(test)]` code (or the file of its `#[cfg(test)] mod tests;`).
    TestCode,
    /// `mod testsmith_tests` holds a test by its name.
    Generated,
    /// The unit tests of another file of the package (its display path).
    OtherTests(String),
    /// A doc test of the lib (rustdoc runs them all, wherever they are).
    DocTest,
    /// An integration test file (its path relative to the workspace root).
    Integration(String),
}

/// Test code of the package outside the file being planned.
pub struct Elsewhere<'a> {
    pub found: Found,
    pub calls: &'a Calls,
    pub typed: TypedUses,
    /// The source file whose unit tests these are (not looked at for its own items).
    pub file: Option<&'a std::path::Path>,
    /// Doc tests, run for a lib's items only.
    pub lib_only: bool,
    /// The names of the items of `file`.
    pub own_names: HashSet<&'a str>,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::TestCode => f.write_str("in the file's tests"),
            Found::Generated => f.write_str("in `testsmith_tests`"),
            Found::OtherTests(file) => write!(f, "in the tests of {file}"),
            Found::DocTest => f.write_str("in a doc test"),
            Found::Integration(file) => write!(f, "in {file}"),
        }
    }
}

/// Which items of one file need a test.
pub struct FilePlan<'a> {
    /// Items that already have a test, and where it was found.
    pub tested: Vec<(&'a PublicFn, Found)>,
    /// Items whose only tests are scaffolds: nothing to generate, but not tested either.
    pub scaffolded: Vec<&'a PublicFn>,
    pub untested: Vec<&'a PublicFn>,
    /// The test fn name of each untested item, in the same order.
    pub test_names: Vec<String>,
}

/// Decide for one file which items need a test, with what `package` knows beyond the file.
pub fn plan_file<'a>(
    file: &'a scan::SourceFile,
    package: &Package<'_>,
) -> Result<FilePlan<'a>, Warning> {
    let analysis = &file.analysis;
    let existing_fns = match &analysis.existing {
        Some(ExistingModule::OutOfLine) => {
            return Err(Warning::OutOfLineModule {
                file: file.display.clone(),
            });
        }
        Some(ExistingModule::Inline { fns, .. }) => fns.clone(),
        None => Default::default(),
    };
    let mut plan = FilePlan {
        tested: Vec::new(),
        scaffolded: Vec::new(),
        untested: Vec::new(),
        test_names: Vec::new(),
    };
    let scaffolds = &analysis.scaffolds;
    // Typed once for the package already, where the file's tests are also "elsewhere".
    let own = package
        .elsewhere
        .iter()
        .find(|e| e.file == Some(file.path.as_path()));
    let typed_here;
    let typed = match own {
        Some(own) => &own.typed,
        None => {
            typed_here = analysis.calls.typed(package.signatures);
            &typed_here
        }
    };
    for (item, test_name) in analysis.items.iter().zip(test_names(&analysis.items)) {
        if !package.is_api(item) {
            continue;
        }
        // A ratchet: items the change did not touch are not its business.
        if package
            .changed
            .is_some_and(|c| !c.touches(&file.path, item.span.0, item.span.1))
        {
            continue;
        }
        let is_scaffold = scaffolds.fns.contains(&test_name);
        let found = if analysis.calls.covers_with(item, typed) {
            Some(Found::TestCode)
        } else if existing_fns.contains(&test_name) && !is_scaffold {
            Some(Found::Generated)
        } else {
            package
                .elsewhere
                .iter()
                .filter(|e| e.file != Some(file.path.as_path()) && (package.lib || !e.lib_only))
                // Another file's tests call their own file's item of the same name.
                .filter(|e| !e.own_names.contains(item.name.as_str()))
                .find(|e| e.calls.covers_with(item, &e.typed))
                .map(|e| e.found.clone())
        };
        if let Some(found) = found {
            plan.tested.push((item, found));
        } else if is_scaffold || scaffolds.calls.covers(item) {
            plan.scaffolded.push(item);
        } else {
            plan.untested.push(item);
            plan.test_names.push(test_name);
        }
    }
    Ok(plan)
}

/// Each item's test fn name, unique in the file: `foo_bar` and `foo::bar` both make
/// `test_foo_bar`, so the later item (in source order, stable between runs) gets a suffix.
fn test_names(items: &[PublicFn]) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    items
        .iter()
        .map(|item| {
            let name = unique_name(&test_fn_name(&item.name), |n| seen.contains(n));
            seen.insert(name.clone());
            name
        })
        .collect()
}

/// Plan every selected file, in parallel, in path order.
/// With `changed` (`--staged`, `--since`), only the files and items the change touched.
pub fn plan_all<'a>(
    scan: &'a scan::Scan,
    workspace: &Workspace,
    changed: Option<&ChangedLines>,
) -> Vec<(&'a scan::SourceFile, Result<FilePlan<'a>, Warning>)> {
    use rayon::prelude::*;
    let skip_traits = skip_traits(workspace);
    // A lib's doc tests, wherever they are, test any of its items; not those of a module
    // only rustdoc's documentation pass compiles (`cfg(all(doc, not(doctest)))`).
    let mut docs: Vec<Calls> = vec![Calls::default(); workspace.packages.len()];
    for file in &scan.files {
        if workspace.packages[file.package].targets[file.target].kind
            == crate::workspace::TargetKind::Lib
            && !file.mod_cfgs.iter().any(|c| c.contains("doctest"))
        {
            docs[file.package].extend(file.analysis.doc_calls.clone());
        }
    }
    // Typed once per package: every file of it is judged against them.
    let elsewhere: Vec<Vec<Elsewhere<'_>>> = (0..workspace.packages.len())
        .map(|package| {
            let signatures = &scan.signatures[package];
            let unit = scan
                .files
                .iter()
                .filter(|f| f.package == package)
                .map(|f| Elsewhere {
                    found: Found::OtherTests(f.display.clone()),
                    calls: &f.analysis.calls,
                    typed: f.analysis.calls.typed(signatures),
                    file: Some(f.path.as_path()),
                    lib_only: false,
                    own_names: f.analysis.items.iter().map(|i| i.name.as_str()).collect(),
                });
            let doc = std::iter::once(Elsewhere {
                found: Found::DocTest,
                calls: &docs[package],
                typed: docs[package].typed(signatures),
                file: None,
                lib_only: true,
                own_names: HashSet::new(),
            });
            let integration = scan.integration[package]
                .iter()
                .map(|(path, calls)| Elsewhere {
                    found: Found::Integration(path.clone()),
                    calls,
                    typed: calls.typed(signatures),
                    file: None,
                    lib_only: false,
                    own_names: HashSet::new(),
                });
            unit.chain(doc).chain(integration).collect()
        })
        .collect();
    scan.files
        .par_iter()
        .filter(|file| file.selected)
        .filter(|file| changed.is_none_or(|c| c.has(&file.path)))
        .map(|file| {
            let package = Package {
                elsewhere: &elsewhere[file.package],
                lib: workspace.packages[file.package].targets[file.target].kind
                    == crate::workspace::TargetKind::Lib,
                public_names: &scan.public_names[file.package],
                signatures: &scan.signatures[file.package],
                skip_traits: &skip_traits,
                changed,
            };
            (file, plan_file(file, &package))
        })
        .collect()
}

/// The traits whose impls are not worth a test: `skip-traits` in the testsmith metadata, or
/// `Debug` (a hand-written `Debug` is rarely worth one).
pub fn skip_traits(workspace: &Workspace) -> Vec<String> {
    match workspace
        .config
        .get("skip-traits")
        .and_then(|v| v.as_array())
    {
        Some(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None => vec!["Debug".to_owned()],
    }
}

/// What the plan of a file needs to know about its package.
pub struct Package<'a> {
    /// The package's test code outside the file: other files' unit tests, the lib's doc
    /// tests, the integration test files that name the crate.
    pub elsewhere: &'a [Elsewhere<'a>],
    /// The file belongs to a lib target, whose doc tests rustdoc runs.
    pub lib: bool,
    /// The package's public types and traits.
    pub public_names: &'a BTreeSet<String>,
    /// What the package's fns return.
    pub signatures: &'a Signatures,
    pub skip_traits: &'a [String],
    /// With `--staged`/`--since`: the lines the change touched; other items are not looked at.
    pub changed: Option<&'a ChangedLines>,
}

impl Package<'_> {
    /// Whether an item is API worth a test: any item but a method of an impl of a skipped
    /// trait, or of a trait impl whose type and trait are both someone else's (or private).
    fn is_api(&self, item: &PublicFn) -> bool {
        let Some(block) = &item.impl_block else {
            return true;
        };
        let Some(t) = &block.trait_ else {
            return true;
        };
        if self.skip_traits.contains(&t.name) {
            return false;
        }
        t.provided
            || self.public_names.contains(&block.type_name)
            || self.public_names.contains(&t.name)
    }
}

/// What a generator gets for one file.
pub fn request_for<'a>(
    file: &'a scan::SourceFile,
    plan: &FilePlan<'a>,
    scan: &'a scan::Scan,
    workspace: &'a Workspace,
) -> FileRequest<'a> {
    FileRequest {
        display: &file.display,
        path: &file.path,
        source: &file.source,
        items: plan.untested.clone(),
        test_names: plan.test_names.clone(),
        constructors: &scan.constructors[file.package],
        own_constructors: &file.analysis.constructors,
        type_defs: &scan.type_defs[file.package],
        own_type_defs: &file.analysis.type_defs,
        trait_defs: &scan.trait_defs[file.package],
        builders: &scan.builders[file.package],
        test_source: &file.analysis.test_source,
        crates: &workspace.packages[file.package].crates,
        tokio_test: workspace.packages[file.package].tokio_test,
        rules: &file.rules,
        imports: &file.analysis.imports,
    }
}

/// The untested items of one file, with what a generator may want to know about the crate.
#[derive(Clone)]
pub struct FileRequest<'a> {
    /// Path relative to the workspace root.
    pub display: &'a str,
    /// Canonical path, to find the `TESTSMITH.md` that applies.
    pub path: &'a std::path::Path,
    pub source: &'a str,
    pub items: Vec<&'a PublicFn>,
    /// The name a test of each item should take (unique in the file), in the same order.
    pub test_names: Vec<String>,
    /// How the package's own types can be built.
    pub constructors: &'a BTreeMap<String, Constructor>,
    /// How the types this file defines can be built: a bare name in the file means its own
    /// type, where the package has two of that name.
    pub own_constructors: &'a BTreeMap<String, Constructor>,
    /// The package's type definitions by name.
    pub type_defs: &'a BTreeMap<String, String>,
    /// The type definitions of this file.
    pub own_type_defs: &'a BTreeMap<String, String>,
    /// The package's trait definitions by name.
    pub trait_defs: &'a BTreeMap<String, String>,
    /// How each of the package's types can be made: signatures and impl headers.
    pub builders: &'a BTreeMap<String, Vec<String>>,
    /// The file's existing `#[cfg(test)]` code.
    pub test_source: &'a str,
    /// Crates a test may use (the package's dependencies and dev-dependencies).
    pub crates: &'a [String],
    /// The package can run `#[tokio::test]`: it depends on tokio with its macros and a runtime.
    pub tokio_test: bool,
    /// The lint levels, edition and hidden std names where the tests go.
    pub rules: &'a Rules,
    /// The imports of each inline module of the file.
    pub imports: &'a BTreeMap<Vec<String>, BTreeMap<String, Import>>,
}

impl FileRequest<'_> {
    /// The request for those of its items `names` holds.
    pub fn only(&self, names: &BTreeSet<String>) -> Self {
        let mut only = self.clone();
        let kept: Vec<bool> = self.items.iter().map(|i| names.contains(&i.name)).collect();
        let mut keep = kept.iter().copied();
        only.items.retain(|_| keep.next().unwrap_or(false));
        let mut keep = kept.iter().copied();
        only.test_names.retain(|_| keep.next().unwrap_or(false));
        only
    }

    /// The imports of the inline module at `module_path` (none at the file's top level, where
    /// `use super::*` brings them).
    pub fn imports(&self, module_path: &[String]) -> Option<&BTreeMap<String, Import>> {
        if module_path.is_empty() {
            return None;
        }
        self.imports.get(module_path)
    }
}

/// The name of the test fn for an item: `test_` and the item's path in snake case
/// (`Stack::push` → `test_stack_push`). The prefix keeps the test from shadowing the fn it calls,
/// which `use super::*` brings into the same scope.
pub fn test_fn_name(item_name: &str) -> String {
    let mut name = String::from("test");
    // `<Money as From<u8>>::from` → `money`, `from`, `u8`, `from`: the words, without `as`
    // and lifetimes.
    let mut word = String::new();
    let mut lifetime = false;
    for ch in item_name.chars().chain(std::iter::once(' ')) {
        if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
            continue;
        }
        let done = std::mem::take(&mut word);
        if ch == '#' && done == "r" {
            continue;
        }
        if !done.is_empty() && !lifetime && done != "as" {
            name.push('_');
            name.push_str(&snake_case(&done));
        }
        lifetime = ch == '\'';
    }
    name
}

/// `base`, or `base_2`, `base_3`, … : the first that `taken` does not hold.
pub fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while taken(&name) {
        n += 1;
        name = format!("{base}_{n}");
    }
    name
}

fn snake_case(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 4);
    let chars: Vec<char> = ident.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        if ch.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// A request for every item of a file under `rules`, for the unit tests of what reads requests.
#[cfg(test)]
pub(crate) fn request_for_file<'a>(
    source: &'a str,
    analysis: &'a crate::analysis::FileAnalysis,
    rules: &'a Rules,
) -> FileRequest<'a> {
    FileRequest {
        display: "src/lib.rs",
        path: std::path::Path::new("src/lib.rs"),
        source,
        items: analysis.items.iter().collect(),
        test_names: analysis
            .items
            .iter()
            .map(|i| test_fn_name(&i.name))
            .collect(),
        constructors: &analysis.constructors,
        own_constructors: &analysis.constructors,
        type_defs: &analysis.type_defs,
        own_type_defs: &analysis.type_defs,
        trait_defs: &analysis.trait_defs,
        builders: &analysis.builders,
        test_source: "",
        crates: &[],
        tokio_test: false,
        rules,
        imports: &analysis.imports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, test_file_calls};
    use crate::rules::Rules;

    const SOURCE: &str = r#"
use std::fmt;

pub fn called() {}
pub fn named_in_module() {}
pub fn scaffolded() {}
pub fn renamed() {}
/// ```
/// in_doc();
/// ```
pub fn in_doc() {}
pub fn in_integration() {}
pub fn untested() {}
pub mod a {
    pub fn foo_bar() {}
}
pub fn a_foo_bar() {}

pub struct Money;
impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("M") }
}
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("M") }
}
struct Hidden;
impl fmt::Display for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("H") }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn t() { called(); }
}

#[cfg(test)]
mod testsmith_tests {
    use super::*;
    #[test]
    fn test_named_in_module() { assert!(true); }
    #[test]
    #[ignore]
    fn test_scaffolded() { scaffolded(); todo!(); }
    #[test]
    #[ignore]
    fn test_old_name() { renamed(); todo!("assert"); }
}
"#;

    fn file(source: &str) -> scan::SourceFile {
        scan::SourceFile {
            path: "/ws/src/lib.rs".into(),
            display: "src/lib.rs".to_owned(),
            package: 0,
            target: 0,
            module_path: Vec::new(),
            exposed: true,
            rules: Rules::default(),
            source: source.to_owned(),
            analysis: analyze(source).unwrap(),
            selected: true,
            mod_cfgs: Vec::new(),
        }
    }

    /// The plan of `file` in a package whose one integration test calls `in_integration`.
    fn plan_in(file: &scan::SourceFile, lib: bool) -> FilePlan<'_> {
        let calls =
            test_file_calls("use krate::in_integration; #[test] fn t() { in_integration(); }");
        let calls = calls.unwrap();
        let docs = file.analysis.doc_calls.clone();
        let elsewhere = [
            Elsewhere {
                found: Found::DocTest,
                typed: docs.typed(&file.analysis.signatures),
                calls: &docs,
                file: None,
                lib_only: true,
                own_names: HashSet::new(),
            },
            Elsewhere {
                found: Found::Integration("tests/api.rs".to_owned()),
                typed: calls.typed(&file.analysis.signatures),
                calls: &calls,
                file: None,
                lib_only: false,
                own_names: HashSet::new(),
            },
        ];
        let package = Package {
            elsewhere: &elsewhere,
            lib,
            public_names: &file.analysis.public_names,
            signatures: &file.analysis.signatures,
            skip_traits: &["Debug".to_owned()],
            changed: None,
        };
        plan_file(file, &package).unwrap()
    }

    fn names<'a>(items: &[&'a PublicFn]) -> Vec<&'a str> {
        items.iter().map(|i| i.name.as_str()).collect()
    }

    #[test]
    fn each_item_is_tested_where_its_test_is_found_scaffolded_or_untested() {
        let file = file(SOURCE);
        let plan = plan_in(&file, true);
        let tested: Vec<(&str, Found)> = plan
            .tested
            .iter()
            .map(|(item, found)| (item.name.as_str(), found.clone()))
            .collect();
        assert_eq!(
            tested,
            [
                ("called", Found::TestCode),
                ("named_in_module", Found::Generated),
                ("in_doc", Found::DocTest),
                (
                    "in_integration",
                    Found::Integration("tests/api.rs".to_owned())
                ),
            ]
        );
        // By its test's name, or by a scaffold of another name that calls it.
        assert_eq!(names(&plan.scaffolded), ["scaffolded", "renamed"]);
        // `Debug` is skipped; `Hidden`'s `Display` is neither the package's trait nor a
        // public type.
        assert_eq!(
            names(&plan.untested),
            [
                "untested",
                "a::foo_bar",
                "a_foo_bar",
                "<Money as Display>::fmt"
            ]
        );
        // Two items whose names make one test name: the later one gets a suffix.
        assert_eq!(
            plan.test_names,
            [
                "test_untested",
                "test_a_foo_bar",
                "test_a_foo_bar_2",
                "test_money_display_fmt"
            ]
        );
    }

    #[test]
    fn doc_tests_count_for_a_lib_only() {
        let file = file(SOURCE);
        let plan = plan_in(&file, false);
        assert!(plan.tested.iter().all(|(item, _)| item.name != "in_doc"));
        assert_eq!(names(&plan.untested)[0], "in_doc");
        assert_eq!(plan.test_names[0], "test_in_doc");
    }

    #[test]
    fn a_file_with_an_out_of_line_testsmith_module_is_not_planned() {
        let file = file("pub fn f() {}\n#[cfg(test)]\nmod testsmith_tests;\n");
        let package = Package {
            elsewhere: &[],
            lib: true,
            public_names: &BTreeSet::new(),
            signatures: &Signatures::default(),
            skip_traits: &[],
            changed: None,
        };
        let result = plan_file(&file, &package);
        assert!(
            matches!(&result, Err(Warning::OutOfLineModule { file }) if file == "src/lib.rs"),
            "{:?}",
            result.err()
        );
    }

    #[test]
    fn test_names_are_snake_case_and_prefixed() {
        assert_eq!(test_fn_name("add"), "test_add");
        assert_eq!(test_fn_name("Stack::push"), "test_stack_push");
        assert_eq!(
            test_fn_name("HTTPClient::get_url"),
            "test_http_client_get_url"
        );
        assert_eq!(
            test_fn_name("inner::Parser2::r#type"),
            "test_inner_parser2_type"
        );
        assert_eq!(
            test_fn_name("<Money as Display>::fmt"),
            "test_money_display_fmt"
        );
        assert_eq!(
            test_fn_name("<inner::Code as From<&'a str>>::from"),
            "test_inner_code_from_str_from"
        );
    }
}
