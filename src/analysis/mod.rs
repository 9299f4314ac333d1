//! Parse one source file with syn and say what it holds: its public fns, what its test modules
//! already call, its out-of-line `mod` declarations, and where an existing `testsmith_tests`
//! module ends. The interface to the syn parser is localized here: every file is parsed once.
//! This file holds the entry points and the data they return; each concern has its own file.

mod attributes;
mod calls;
mod cfg;
mod doctests;
mod flow;
mod imports;
mod items;
mod sugar;
mod tested;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Span, TokenStream};

pub(crate) use attributes::is_cfg_test;
pub use calls::scan_calls;
pub use cfg::{Cfg, Facts, item_cfgs};
pub use flow::{Signatures, TypedUses};
pub use imports::Import;
pub use sugar::{Sugar, SugarCall, sugar};
pub use tested::{Calls, Scaffolds};
pub use text::{bound_text, compact};

use crate::rules::LintAttr;
use attributes::lint_attrs;
use doctests::doc_test_calls;
use imports::top_level_names;

/// The name of the module testsmith writes and later extends.
pub const MODULE_NAME: &str = "testsmith_tests";

/// A public fn that could get a test.
///
/// Syntax is kept as source text rather than syn trees: syn's trees cannot cross threads, and
/// files are analysed and generated for in parallel. A generator re-parses the small stubs.
#[derive(Clone, Debug)]
pub struct PublicFn {
    /// Wire name: `function`, `Type::method`, prefixed by inline module names (`inner::function`).
    pub name: String,
    /// The fn's own identifier.
    pub ident: String,
    /// Inline modules between the file's top level and the item.
    pub module_path: Vec<String>,
    /// `Some` for a method or associated fn of an inherent impl.
    pub impl_block: Option<ImplBlock>,
    /// Takes `self` in some form.
    pub has_receiver: bool,
    /// The item as written: doc comments, attributes, signature and body.
    pub source: String,
    /// `#[cfg(…)]* <signature> {}`: the cfg attributes of the item and of the modules and impl
    /// around it (a test must compile under the same conditions as what it calls), and the
    /// signature, parseable as a `syn::ItemFn`.
    pub stub: String,
    /// Deprecated, or of a deprecated trait, or allowed (on itself or its impl) to use what
    /// is: its test needs `deprecated` allowed.
    pub deprecated: bool,
    /// 1-based line of the fn's name.
    pub line: usize,
    /// 1-based column of the fn's name, as cargo's messages count.
    pub column: usize,
    /// 1-based lines of the item as written: its first attribute (or doc comment) or its
    /// signature, to its closing brace. A change inside them changes the item.
    pub span: (usize, usize),
}

impl PublicFn {
    /// The stub as a syn fn: cfg attributes and signature. `None` should not happen (the stub
    /// is cut from parsed source), but a file is never worth a panic.
    pub fn parse_stub(&self) -> Option<syn::ItemFn> {
        syn::parse_str(&self.stub).ok()
    }
}

/// The impl a method belongs to: inherent, or of a trait.
#[derive(Clone, Debug)]
pub struct ImplBlock {
    /// The last segment of the self type's path, e.g. `Stack` for `impl<T> Stack<T>`.
    pub type_name: String,
    /// `impl<…> [Trait for] SelfTy where … {}`, parseable as a `syn::ItemImpl`.
    pub stub: String,
    /// For a trait impl (or a trait's provided method): the trait.
    pub trait_: Option<TraitRef>,
}

/// The trait of a trait impl, or the trait whose provided method an item is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraitRef {
    /// The last segment's identifier: `Display`, `From`.
    pub name: String,
    /// The last segment as written, generic arguments included, compact: `From<u8>`.
    pub display: String,
    /// The self type as written, compact, without generic arguments that are only the impl's
    /// own parameters: `Money`, `Vec<u8>`, `&Stack`, `a::Error`.
    pub self_display: String,
    /// A provided method of the trait's own definition, not a method of an impl.
    pub provided: bool,
}

impl ImplBlock {
    pub fn parse_stub(&self) -> Option<syn::ItemImpl> {
        syn::parse_str(&self.stub).ok()
    }
}

/// What a trait's own attributes say of the methods of every impl of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraitMarks {
    /// `#[doc(hidden)]`: its methods are not API.
    pub hidden: bool,
    /// `#[deprecated]`: calling its methods warns.
    pub deprecated: bool,
}

/// How a crate-local type can be built without knowing anything else about it.
#[derive(Clone, Debug)]
pub enum Constructor {
    /// It derives or implements `Default`.
    Default,
    /// It has a public inherent `new` with these argument types (as source text) and a `Self`
    /// return, in an impl whose generic parameters carry these bounds: a `new` from
    /// `impl<A: Array> ArrayVec<A>` does not exist for every `A` a test may pick.
    New {
        args: Vec<String>,
        bounds: Vec<String>,
    },
    /// Several types of the package share the name: not known which is meant.
    Ambiguous,
}

/// A path a `pub use` names (`pub use private::{shown, Thing as Other}` names
/// `private::shown` and `private::Thing`; `pub use private::*` names `private` as a glob), as
/// written, and the inline modules of the file it sits in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReExport {
    pub module: Vec<String>,
    pub path: Vec<String>,
    pub glob: bool,
    /// The name it is exported under (a rename's alias); empty for a glob.
    pub name: String,
}

/// An out-of-line `mod name;` declaration, to be resolved to a file by the scan.
#[derive(Clone, Debug)]
pub struct ModDecl {
    pub name: String,
    /// Declared `pub`: its `pub` items can be named from outside the crate.
    pub public: bool,
    /// The value of a `#[path = "…"]` attribute.
    pub path_attr: Option<String>,
    /// Inline modules around the declaration (`mod a { mod b; }` → `["a"]`).
    pub inline_parents: Vec<String>,
    /// Declared under `#[cfg(test)]`: a file of tests, not of items.
    pub is_test: bool,
    /// `#[cfg_attr(<cfg>, path = "…")]`s: the file each platform or feature compiles, with
    /// the condition as written (`unix`).
    pub cfg_paths: Vec<(String, String)>,
    /// The `#[cfg(…)]` conditions on the declaration and its inline parents, as written
    /// (`feature = "extra"`): the file is compiled only under them.
    pub cfgs: Vec<String>,
    /// Lint attributes on the declaration: they apply to the module file.
    pub lints: Vec<LintAttr>,
    pub line: usize,
    pub column: usize,
}

/// Where the existing `mod testsmith_tests` stands in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExistingModule {
    /// Inline: byte offset of its closing brace, and the names of the fns already in it.
    Inline {
        close_brace: usize,
        fns: BTreeSet<String>,
    },
    /// `mod testsmith_tests;` — its tests live in another file, which testsmith does not edit.
    OutOfLine,
}

/// Everything the later stages need from one parsed file.
pub struct FileAnalysis {
    pub items: Vec<PublicFn>,
    /// The file's `pub use`s: what the crate re-exports from modules that are not `pub`.
    pub reexports: Vec<ReExport>,
    /// Calls made by the file's test code, scaffolds left out.
    pub calls: Calls,
    pub scaffolds: Scaffolds,
    pub existing: Option<ExistingModule>,
    pub mod_decls: Vec<ModDecl>,
    pub constructors: BTreeMap<String, Constructor>,
    /// The source of the file's `#[cfg(test)]` modules, as a style example for a model.
    pub test_source: String,
    /// Struct, enum and type alias definitions by name, as written, for a model's context.
    pub type_defs: BTreeMap<String, String>,
    /// Type names defined more than once in the file (in different inline modules): what is
    /// known about building one says nothing about the other.
    pub duplicate_types: BTreeSet<String>,
    /// The file's inner lint attributes (`#![deny(warnings)]`).
    pub lints: Vec<LintAttr>,
    /// `#![no_std]` (meaningful at a crate root).
    pub no_std: bool,
    /// The file's inner `#![cfg(…)]`s, as written: it is compiled only under them.
    pub inner_cfgs: Vec<String>,
    /// Names of [`STD_NAMES`](crate::rules::STD_NAMES) the file's top level defines or imports from elsewhere.
    pub shadowed: BTreeSet<String>,
    /// The file's top level has a glob import.
    pub glob: bool,
    /// The imports of each inline module (by its path from the file's top level).
    pub imports: BTreeMap<Vec<String>, BTreeMap<String, Import>>,
    /// Names of the public types and traits the file defines (at any level a test can reach):
    /// a trait impl is API when its type or its trait is the package's own and public.
    pub public_names: BTreeSet<String>,
    /// Trait definitions by name, as written, for a model's context.
    pub trait_defs: BTreeMap<String, String>,
    /// What the file's traits' attributes say of every impl of them, where they say anything.
    pub trait_marks: BTreeMap<String, TraitMarks>,
    /// What every fn of the file returns (the light type flow's evidence).
    pub signatures: Signatures,
    /// How a test can make each type (by the identifiers its makers return): the signatures
    /// of public associated fns without a receiver that return it (`Money::new(cents: i64) ->
    /// Self`), of free fns that return it, and the headers of its `Default`, `From`,
    /// `TryFrom` and `FromStr` impls. What a model needs to build an argument.
    pub builders: BTreeMap<String, Vec<String>>,
    /// The calls in the file's doc tests (code blocks in the docs of its items and modules).
    pub doc_calls: Calls,
}

/// Whether a type definition (as `type_defs` holds it) can be built by a struct literal
/// outside its module: `Some(true)` for a struct whose fields are all `pub`, `Some(false)` for
/// one with a private field, `None` for what is not a struct with fields (an enum, a unit
/// struct, a union, text that does not parse).
pub fn public_fields(definition: &str) -> Option<bool> {
    let item: syn::ItemStruct = syn::parse_str(definition).ok()?;
    if item.fields.is_empty() {
        return None;
    }
    Some(
        item.fields
            .iter()
            .all(|field| matches!(field.vis, syn::Visibility::Public(_))),
    )
}

/// A file syn could not parse, with the position of the first error.
#[derive(Debug, Clone)]
pub struct ParseFailure {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ParseFailure {
    fn at(span: Span, error: &dyn std::fmt::Display) -> ParseFailure {
        let start = span.start();
        ParseFailure {
            line: start.line,
            column: start.column + 1,
            message: describe(&error.to_string()),
        }
    }
}

/// Parse `source` and analyse it.
pub fn analyze(source: &str) -> Result<FileAnalysis, ParseFailure> {
    let file = syn::parse_file(source).map_err(|err| ParseFailure::at(err.span(), &err))?;
    let mut out = FileAnalysis {
        items: Vec::new(),
        reexports: Vec::new(),
        calls: Calls::default(),
        scaffolds: Scaffolds::default(),
        existing: None,
        mod_decls: Vec::new(),
        constructors: BTreeMap::new(),
        test_source: String::new(),
        type_defs: BTreeMap::new(),
        duplicate_types: BTreeSet::new(),
        lints: lint_attrs(&file.attrs),
        no_std: file.attrs.iter().any(|a| a.path().is_ident("no_std")),
        inner_cfgs: file
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg"))
            .filter_map(|a| match &a.meta {
                syn::Meta::List(list) => Some(compact(&list.tokens)),
                _ => None,
            })
            .collect(),
        shadowed: BTreeSet::new(),
        glob: false,
        imports: BTreeMap::new(),
        doc_calls: Calls::default(),
        public_names: BTreeSet::new(),
        trait_defs: BTreeMap::new(),
        trait_marks: BTreeMap::new(),
        signatures: flow::signatures(&file),
        builders: BTreeMap::new(),
    };
    doc_test_calls(&file.attrs, &mut out.doc_calls);
    top_level_names(&file.items, &mut out);
    let out = items::walk(source, &file, out);
    // Spans are tracked in a thread-local map that only grows; a run over a big workspace should
    // not keep every file's spans alive.
    drop(file);
    proc_macro2::extra::invalidate_current_thread_spans();
    Ok(out)
}

/// Collect the calls in a whole file of tests (the target of a `#[cfg(test)] mod tests;`).
pub fn test_file_calls(source: &str) -> Result<Calls, ParseFailure> {
    let tokens: TokenStream = source
        .strip_prefix('\u{feff}')
        .unwrap_or(source)
        .parse()
        .map_err(|err: proc_macro2::LexError| ParseFailure::at(err.span(), &err))?;
    let mut calls = Calls::default();
    scan_calls(tokens, &mut calls);
    proc_macro2::extra::invalidate_current_thread_spans();
    Ok(calls)
}

/// The calls of an integration test file, when it names the crate (`crate_name::…`,
/// `use crate_name::…`): a file that never does calls something else.
pub fn integration_calls(source: &str, crate_name: &str) -> Result<Option<Calls>, ParseFailure> {
    let calls = test_file_calls(source)?;
    Ok(calls.idents.contains(crate_name).then_some(calls))
}

/// proc-macro2's lexer says only "cannot parse string into token stream"; say what it means.
fn describe(message: &str) -> String {
    if message == "cannot parse string into token stream" {
        "unbalanced delimiters or an invalid token".to_owned()
    } else {
        message.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Level;

    #[test]
    fn rules_imports_and_module_choices_are_read_from_attributes_and_uses() {
        let src = r#"
#![deny(warnings, reason = "CI")]
#![cfg_attr(feature = "strict", forbid(unused_imports))]
#![no_std]
use std::string::String;
use crate::text::{Text as Vec, self};
use other::*;
pub struct Option;
#[cfg_attr(unix, path = "sys_unix.rs")]
#[cfg_attr(not(unix), path = "sys_other.rs")]
#[allow(unreachable_code)]
mod sys;
pub mod inner {
    use std::collections::{BTreeSet, HashMap as Map};
    pub fn f() {}
}
"#;
        let analysis = analyze(src).unwrap();
        let lints: Vec<(Level, &str)> = analysis
            .lints
            .iter()
            .map(|l| (l.level, l.lint.as_str()))
            .collect();
        assert_eq!(
            lints,
            [(Level::Deny, "warnings"), (Level::Forbid, "unused_imports")]
        );
        assert!(analysis.no_std);
        // std's own `String` hides nothing; a renamed import and a definition do.
        assert_eq!(
            analysis.shadowed.iter().collect::<Vec<_>>(),
            ["Option", "Vec"]
        );
        assert!(analysis.glob);
        let sys = &analysis.mod_decls[0];
        assert_eq!(
            sys.cfg_paths,
            [
                ("unix".to_owned(), "sys_unix.rs".to_owned()),
                ("not (unix)".to_owned(), "sys_other.rs".to_owned())
            ]
        );
        assert_eq!(sys.lints[0].lint, "unreachable_code");
        let imports = &analysis.imports[&vec!["inner".to_owned()]];
        assert_eq!(imports["Map"].segments, ["std", "collections", "HashMap"]);
        assert_eq!(
            imports["BTreeSet"].segments,
            ["std", "collections", "BTreeSet"]
        );
    }

    #[test]
    fn scaffolds_are_told_apart_from_tests_and_their_calls_kept_apart() {
        let src = r#"
pub fn a() {}
pub fn b() {}
pub fn c() {}
pub unsafe fn d() {}
#[cfg(test)]
mod testsmith_tests {
    use super::*;
    #[test]
    #[ignore = "testsmith scaffold: assert on the effects of `a`"]
    fn test_a() { a(); todo!("assert on the effects of `a`"); }
    #[test]
    #[ignore]
    fn test_b() { b(); assert!(true); }
    #[test]
    fn test_c() { c(); todo!() }
    #[test]
    #[ignore]
    fn test_d() { todo!("uphold the safety contract"); unsafe { d() }; }
}
"#;
        let analysis = analyze(src).unwrap();
        let scaffolds: Vec<&str> = analysis.scaffolds.fns.iter().map(String::as_str).collect();
        assert_eq!(scaffolds, ["test_a", "test_d"]);
        assert!(analysis.scaffolds.calls.paths.contains("a"));
        assert!(!analysis.calls.paths.contains("a"));
        assert!(!analysis.calls.paths.contains("d"));
        // Filled in, or not ignored: a test like any other.
        assert!(analysis.calls.paths.contains("b"));
        assert!(analysis.calls.paths.contains("c"));
    }

    #[test]
    fn existing_module_offset_accounts_for_bom_and_shebang() {
        let src =
            "\u{feff}#!/usr/bin/env run\nfn main() {}\n#[cfg(test)]\nmod testsmith_tests {\n}\n";
        let analysis = analyze(src).unwrap();
        let Some(ExistingModule::Inline { close_brace, .. }) = analysis.existing else {
            panic!("module not found");
        };
        assert_eq!(&src[close_brace..], "}\n");
    }

    #[test]
    fn top_level_test_fns_are_test_code() {
        let src = "pub fn double(x: i32) -> i32 { x * 2 }\npub fn half(x: i32) -> i32 { x / 2 }\n\n#[test]\nfn doubles() {\n    assert_eq!(double(2), 4);\n}\n";
        let analysis = analyze(src).unwrap();
        let item = |name: &str| analysis.items.iter().find(|i| i.name == name).unwrap();
        assert!(analysis.calls.covers(item("double")));
        assert!(!analysis.calls.covers(item("half")));
        // The test fn itself is no item.
        assert_eq!(analysis.items.len(), 2);
    }
}
