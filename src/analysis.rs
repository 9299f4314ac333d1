//! Parse one source file with syn and say what it holds: its public fns, what its test modules
//! already call, its out-of-line `mod` declarations, and where an existing `testsmith_tests`
//! module ends. The interface to the syn parser is localized here: every file is parsed once.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{
    Attribute, FnArg, ImplItem, Item, Meta, ReturnType, Signature, Token, Type, UseTree, Visibility,
};

use crate::rules::{Level, LintAttr, STD_NAMES};

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

/// An out-of-line `mod name;` declaration, to be resolved to a file by the scan.
#[derive(Clone, Debug)]
pub struct ModDecl {
    pub name: String,
    /// The value of a `#[path = "…"]` attribute.
    pub path_attr: Option<String>,
    /// Inline modules around the declaration (`mod a { mod b; }` → `["a"]`).
    pub inline_parents: Vec<String>,
    /// Declared under `#[cfg(test)]`: a file of tests, not of items.
    pub is_test: bool,
    /// `#[cfg_attr(<cfg>, path = "…")]`s: the file each platform or feature compiles, with
    /// the condition as written (`unix`).
    pub cfg_paths: Vec<(String, String)>,
    /// Lint attributes on the declaration: they apply to the module file.
    pub lints: Vec<LintAttr>,
    pub line: usize,
    pub column: usize,
}

/// A `use` inside an inline module, by the name it brings in: `use std::collections::BTreeSet`
/// → `BTreeSet` → `std::collections::BTreeSet`. A test at the file's top level cannot see a
/// private import of the module, so it writes the path instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub leading_colon: bool,
    pub segments: Vec<String>,
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

/// Names the file's test code calls or mentions.
#[derive(Default, Debug)]
pub struct Calls {
    /// The last segment of every called path: `foo` in `foo()`, `a::foo()`, `Type::foo()`.
    pub paths: HashSet<String>,
    /// `(Type, name)` for every qualified path mentioned: `Type::name(…)`, `.map(Type::name)`.
    pub qualified: HashSet<(String, String)>,
    /// Method-call names: `x.name(…)`.
    pub methods: HashSet<String>,
    /// Every identifier the code mentions (a type's name is evidence of which `len` it calls).
    pub idents: HashSet<String>,
    /// What the code does that a trait may stand behind: macros called (`format!`), operators
    /// (`+`, `==`, `neg-`), indexing (`[]`).
    pub signals: HashSet<String>,
    /// Names passed bare to a macro (`check!(double, 4)`): a fn passed as a value, unless the
    /// code binds a local of that name.
    pub mentions: HashSet<String>,
    /// Names the code binds with `let` or `for`.
    pub bound: HashSet<String>,
}

/// Methods that std's types have too: `v.len()` alone says nothing about the crate's `len`.
const STD_METHODS: &[&str] = &[
    "all",
    "and_then",
    "any",
    "append",
    "as_bytes",
    "as_mut",
    "as_ptr",
    "as_ref",
    "as_slice",
    "as_str",
    "borrow",
    "borrow_mut",
    "bytes",
    "capacity",
    "chars",
    "clear",
    "clone",
    "cmp",
    "collect",
    "contains",
    "count",
    "drain",
    "entry",
    "eq",
    "err",
    "expect",
    "extend",
    "filter",
    "find",
    "first",
    "flush",
    "fmt",
    "fold",
    "from",
    "get",
    "get_mut",
    "hash",
    "insert",
    "into",
    "into_iter",
    "is_empty",
    "is_err",
    "is_none",
    "is_ok",
    "is_some",
    "iter",
    "iter_mut",
    "join",
    "keys",
    "last",
    "len",
    "lines",
    "lock",
    "map",
    "max",
    "min",
    "next",
    "ok",
    "parse",
    "partial_cmp",
    "peek",
    "pop",
    "position",
    "push",
    "read",
    "remove",
    "replace",
    "reserve",
    "retain",
    "rev",
    "reverse",
    "set",
    "skip",
    "sort",
    "split",
    "starts_with",
    "sum",
    "swap",
    "take",
    "to_lowercase",
    "to_owned",
    "to_string",
    "to_uppercase",
    "to_vec",
    "trim",
    "truncate",
    "unwrap",
    "unwrap_or",
    "values",
    "write",
    "zip",
];

impl Calls {
    pub fn extend(&mut self, other: Calls) {
        self.paths.extend(other.paths);
        self.qualified.extend(other.qualified);
        self.methods.extend(other.methods);
        self.idents.extend(other.idents);
        self.signals.extend(other.signals);
        self.mentions.extend(other.mentions);
        self.bound.extend(other.bound);
    }

    /// Whether the test code calls `item`: a free fn by any path ending in its name (not one
    /// rooted in std), a method by `Type::name`, or by method-call syntax (the receiver's type
    /// is not known to syn) — for a name std's types share, only where the type is named too.
    pub fn covers(&self, item: &PublicFn) -> bool {
        self.covers_with(item, &BTreeSet::new())
    }

    /// [`Calls::covers`], where calling one of `makers` (fns that return the item's type) is
    /// evidence, like naming the type, that the code holds a value of it. A trait method also
    /// counts as called through `Trait::name`, `<Type as Trait>::name`, or the sugar the
    /// trait exists for (`to_string()` and `format!` for `Display`, `parse` for `FromStr`, a
    /// `for` loop for `Iterator`, `+` for `Add`, …) where the type is in evidence.
    pub fn covers_with(&self, item: &PublicFn, makers: &BTreeSet<String>) -> bool {
        let ident = &item.ident;
        let Some(block) = &item.impl_block else {
            return self.paths.contains(ident)
                || (self.mentions.contains(ident) && !self.bound.contains(ident));
        };
        let by = |qualifier: &str| {
            self.qualified
                .contains(&(qualifier.to_owned(), ident.to_owned()))
        };
        if by(&block.type_name) || by("Self") {
            return true;
        }
        let trait_name = block.trait_.as_ref().map(|t| t.name.as_str());
        if trait_name.is_some_and(by) {
            return true;
        }
        // A maker shared with std's types (`new`, `from`) says nothing: `Vec::new()` is not a
        // `Money`.
        let named = self.idents.contains(&block.type_name)
            || trait_name.is_some_and(|t| self.idents.contains(t))
            || makers.iter().any(|m| {
                !STD_METHODS.contains(&m.as_str())
                    && !matches!(m.as_str(), "new" | "default" | "with_capacity")
                    && self.paths.contains(m)
            });
        let distinctive = !STD_METHODS.contains(&ident.as_str());
        if item.has_receiver && self.methods.contains(ident) && (distinctive || named) {
            return true;
        }
        named
            && trait_name.is_some_and(|t| {
                sugar(t, ident).iter().any(|s| {
                    self.signals.contains(*s)
                        || self.methods.contains(*s)
                        || self.idents.contains(*s)
                })
            })
    }
}

/// What a test does when it uses a std trait's method without naming it.
fn sugar(trait_name: &str, method: &str) -> &'static [&'static str] {
    const FORMAT: &[&str] = &[
        "to_string",
        "format!",
        "write!",
        "writeln!",
        "print!",
        "println!",
        "eprint!",
        "eprintln!",
        "format_args!",
    ];
    const ITERATE: &[&str] = &[
        "next",
        "for",
        "collect",
        "map",
        "filter",
        "count",
        "sum",
        "fold",
        "take",
        "skip",
        "zip",
        "enumerate",
        "last",
        "nth",
        "find",
        "any",
        "all",
        "max",
        "min",
        "position",
        "for_each",
        "flat_map",
        "chain",
        "peekable",
        "step_by",
        "cloned",
        "copied",
        "rev",
    ];
    match (trait_name, method) {
        ("Display", "fmt") => FORMAT,
        ("Debug", "fmt") => &["format!", "println!", "eprintln!", "dbg!"],
        ("FromStr", "from_str") => &["parse"],
        ("From", "from") | ("Into", "into") => &["into", "from"],
        ("TryFrom", "try_from") | ("TryInto", "try_into") => &["try_into", "try_from"],
        ("Iterator", "next") => ITERATE,
        ("DoubleEndedIterator", "next_back") => &["rev", "next_back"],
        ("IntoIterator", "into_iter") => &["for", "into_iter", "collect"],
        ("FromIterator", "from_iter") => &["collect"],
        ("Extend", "extend") => &["extend"],
        ("Default", "default") => &["default", "unwrap_or_default"],
        ("PartialEq", _) => &["==", "!=", "assert_eq!", "assert_ne!"],
        ("PartialOrd", _) | ("Ord", _) => &[
            "<",
            ">",
            "<=",
            ">=",
            "cmp",
            "partial_cmp",
            "max",
            "min",
            "clamp",
            "sort",
            "sort_unstable",
            "BTreeMap",
            "BTreeSet",
        ],
        ("Hash", "hash") => &["HashMap", "HashSet", "hash"],
        ("Clone", _) => &["clone", "cloned"],
        ("Add", _) => &["+"],
        ("Sub", _) => &["-"],
        ("Mul", _) => &["*"],
        ("Div", _) => &["/"],
        ("Rem", _) => &["%"],
        ("Neg", _) => &["neg-"],
        ("Not", _) => &["!"],
        ("BitAnd", _) => &["&"],
        ("BitOr", _) => &["|"],
        ("BitXor", _) => &["^"],
        ("Shl", _) => &["<<"],
        ("Shr", _) => &[">>"],
        ("AddAssign", _) => &["+="],
        ("SubAssign", _) => &["-="],
        ("MulAssign", _) => &["*="],
        ("DivAssign", _) => &["/="],
        ("RemAssign", _) => &["%="],
        ("BitAndAssign", _) => &["&="],
        ("BitOrAssign", _) => &["|="],
        ("BitXorAssign", _) => &["^="],
        ("ShlAssign", _) => &["<<="],
        ("ShrAssign", _) => &[">>="],
        ("Index", _) | ("IndexMut", _) => &["[]"],
        ("Deref", _) | ("DerefMut", _) => &["deref*", "deref"],
        ("Drop", "drop") => &["drop"],
        ("AsRef", _) => &["as_ref"],
        ("AsMut", _) => &["as_mut"],
        ("Borrow", _) => &["borrow"],
        ("Write", _) => &["write!", "writeln!", "write_all", "write", "flush"],
        ("Read", _) => &["read_to_string", "read_to_end", "read_exact", "read"],
        ("Error", "source") => &["source"],
        _ => &[],
    }
}

/// The scaffolds in `mod testsmith_tests`: `#[ignore]`d tests that still hold a `todo!()`.
/// They call their items, but a test that cannot pass tests nothing: `--check` counts their
/// calls apart, while generation still leaves their items alone.
#[derive(Default, Debug)]
pub struct Scaffolds {
    pub fns: BTreeSet<String>,
    pub calls: Calls,
}

/// Everything the later stages need from one parsed file.
pub struct FileAnalysis {
    pub items: Vec<PublicFn>,
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
    /// Names of [`STD_NAMES`] the file's top level defines or imports from elsewhere.
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
    /// For each type the file's fns return (by the identifiers of the return type), those fns:
    /// calling one is evidence that a test holds a value of the type.
    pub returns: BTreeMap<String, BTreeSet<String>>,
    /// The calls in the file's doc tests (code blocks in the docs of its items and modules).
    pub doc_calls: Calls,
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
    let mut walker = Walker {
        source,
        offset: stripped_prefix_len(source, file.shebang.as_deref()),
        out: FileAnalysis {
            items: Vec::new(),
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
            shadowed: BTreeSet::new(),
            glob: false,
            imports: BTreeMap::new(),
            doc_calls: Calls::default(),
            public_names: BTreeSet::new(),
            trait_defs: BTreeMap::new(),
            returns: BTreeMap::new(),
        },
    };
    doc_test_calls(&file.attrs, &mut walker.out.doc_calls);
    top_level_names(&file.items, &mut walker.out);
    walker.items(&file.items, &mut Vec::new(), &mut Vec::new());
    // Spans are tracked in a thread-local map that only grows; a run over a big workspace should
    // not keep every file's spans alive.
    drop(file);
    proc_macro2::extra::invalidate_current_thread_spans();
    Ok(walker.out)
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

/// syn's spans count from after a byte-order mark and a shebang line; the file's bytes don't.
fn stripped_prefix_len(source: &str, shebang: Option<&str>) -> usize {
    let bom = if source.starts_with('\u{feff}') { 3 } else { 0 };
    bom + shebang.map_or(0, str::len)
}

struct Walker<'s> {
    source: &'s str,
    offset: usize,
    out: FileAnalysis,
}

impl Walker<'_> {
    /// The file's text from the start of `from` to the start of `to`: the source as written is
    /// cheaper to keep than printing the syntax tree back.
    fn text_between(&self, from: Span, to: Span) -> &str {
        let start = self.offset + from.byte_range().start;
        let end = self.offset + to.byte_range().start;
        self.source.get(start..end).unwrap_or_default()
    }

    /// The file's text from the start of `from` to the end of `to`.
    fn text_to_end(&self, from: Span, to: Span) -> String {
        let start = self.offset + from.byte_range().start;
        let end = self.offset + to.byte_range().end;
        self.source.get(start..end).unwrap_or_default().to_owned()
    }

    /// Record a type's definition: from its first attribute to `end`.
    fn type_def(&mut self, ident: &syn::Ident, attrs: &[Attribute], keyword: Span, end: Span) {
        let start = attrs.first().map_or(keyword, |a| a.pound_token.span);
        let text = self.text_to_end(start, end);
        if self.out.type_defs.insert(ident.to_string(), text).is_some() {
            self.out.duplicate_types.insert(ident.to_string());
        }
    }

    /// An attribute as written, always in outer form: a module's inner `#![cfg(…)]` gates the
    /// items in it, and a test of them carries it as `#[cfg(…)]`.
    fn attr_text(&self, attr: &Attribute) -> String {
        let start = self.offset + attr.pound_token.span.byte_range().start;
        let end = self.offset + attr.bracket_token.span.close().byte_range().end;
        let text = self.source.get(start..end).unwrap_or_default();
        match attr.style {
            syn::AttrStyle::Outer => text.to_owned(),
            syn::AttrStyle::Inner(_) => text.replacen('!', "", 1),
        }
    }

    /// Items of the file or of an inline module. Only items a test at the file's top level can
    /// name are collected: an inline module's own items, and deeper ones through `pub` modules.
    fn items(&mut self, items: &[Item], modules: &mut Vec<String>, cfgs: &mut Vec<Attribute>) {
        // An impl inside an inline module is reachable only when its type is `pub` there.
        let pub_types: HashSet<String> = items
            .iter()
            .filter_map(|item| match item {
                Item::Struct(s) if is_public(&s.vis) => Some(s.ident.to_string()),
                Item::Enum(e) if is_public(&e.vis) => Some(e.ident.to_string()),
                Item::Union(u) if is_public(&u.vis) => Some(u.ident.to_string()),
                Item::Type(t) if is_public(&t.vis) => Some(t.ident.to_string()),
                Item::Trait(t) if is_public(&t.vis) => Some(t.ident.to_string()),
                _ => None,
            })
            .collect();
        self.out.public_names.extend(pub_types.iter().cloned());
        // A type of this module that is not `pub` cannot be named from the file's top level.
        let private_types: HashSet<String> = items
            .iter()
            .filter_map(|item| match item {
                Item::Struct(s) if !is_public(&s.vis) => Some(s.ident.to_string()),
                Item::Enum(e) if !is_public(&e.vis) => Some(e.ident.to_string()),
                Item::Union(u) if !is_public(&u.vis) => Some(u.ident.to_string()),
                Item::Type(t) if !is_public(&t.vis) => Some(t.ident.to_string()),
                _ => None,
            })
            .collect();
        for item in items {
            if let Some(attrs) = item_attrs(item)
                && !is_cfg_test(attrs)
            {
                doc_test_calls(attrs, &mut self.out.doc_calls);
            }
            match item {
                Item::Fn(f) if is_public(&f.vis) && is_testable(&f.attrs) => {
                    let body = &f.block.brace_token;
                    self.push_fn(&f.sig, &f.attrs, body, modules, cfgs, None);
                }
                Item::Impl(imp) => self.impl_block(imp, modules, cfgs, &pub_types, &private_types),
                Item::Struct(s) => {
                    let end = match (&s.semi_token, &s.fields) {
                        (Some(semi), _) => semi.span,
                        (None, syn::Fields::Named(named)) => named.brace_token.span.close(),
                        (None, _) => s.ident.span(),
                    };
                    self.type_def(&s.ident, &s.attrs, s.struct_token.span, end);
                    if derives_default(&s.attrs) {
                        self.constructor(s.ident.to_string(), Constructor::Default);
                    }
                }
                Item::Enum(e) => {
                    let end = e.brace_token.span.close();
                    self.type_def(&e.ident, &e.attrs, e.enum_token.span, end);
                    if derives_default(&e.attrs) {
                        self.constructor(e.ident.to_string(), Constructor::Default);
                    }
                }
                Item::Type(t) => {
                    self.type_def(&t.ident, &t.attrs, t.type_token.span, t.semi_token.span);
                }
                Item::Trait(t) => self.trait_def(t, modules, cfgs, &pub_types),
                Item::Mod(m) => self.module(m, modules, cfgs),
                _ => {}
            }
        }
    }

    fn module(&mut self, m: &syn::ItemMod, modules: &mut Vec<String>, cfgs: &mut Vec<Attribute>) {
        let name = m.ident.to_string();
        let is_test = is_cfg_test(&m.attrs);
        let is_ours = modules.is_empty() && name == MODULE_NAME;
        if is_ours {
            self.out.existing = Some(match &m.content {
                Some((brace, items)) => ExistingModule::Inline {
                    close_brace: self.offset + brace.span.close().byte_range().start,
                    fns: items
                        .iter()
                        .filter_map(|item| match item {
                            Item::Fn(f) => Some(f.sig.ident.to_string()),
                            _ => None,
                        })
                        .collect(),
                },
                None => ExistingModule::OutOfLine,
            });
        }
        match &m.content {
            Some((brace, items)) if is_test => {
                for item in items {
                    match item {
                        Item::Fn(f) if is_ours && is_scaffold(f) => {
                            let scaffolds = &mut self.out.scaffolds;
                            scaffolds.fns.insert(f.sig.ident.to_string());
                            scan_calls(item.to_token_stream(), &mut scaffolds.calls);
                        }
                        _ => scan_calls(item.to_token_stream(), &mut self.out.calls),
                    }
                }
                let text = self.text_to_end(m.mod_token.span, brace.span.close());
                self.out.test_source.push_str(&text);
                self.out.test_source.push('\n');
            }
            // A private module inside an inline module cannot be named from the file's top level.
            Some(_) if !modules.is_empty() && !is_public(&m.vis) => {}
            Some((_, items)) => {
                let pushed = push_cfgs(cfgs, &m.attrs);
                modules.push(name);
                let imports = module_imports(items);
                if !imports.is_empty() {
                    self.out.imports.insert(modules.clone(), imports);
                }
                self.items(items, modules, cfgs);
                modules.pop();
                cfgs.truncate(cfgs.len() - pushed);
            }
            None => {
                let start = m.ident.span().start();
                self.out.mod_decls.push(ModDecl {
                    name,
                    path_attr: path_attr(&m.attrs),
                    inline_parents: modules.clone(),
                    is_test,
                    cfg_paths: cfg_paths(&m.attrs),
                    lints: lint_attrs(&m.attrs),
                    line: start.line,
                    column: start.column + 1,
                });
            }
        }
    }

    fn impl_block(
        &mut self,
        imp: &syn::ItemImpl,
        modules: &[String],
        cfgs: &mut Vec<Attribute>,
        pub_types: &HashSet<String>,
        private_types: &HashSet<String>,
    ) {
        // `impl Trait for &Stack<T>` is about `Stack` too.
        let self_ty = match &*imp.self_ty {
            Type::Reference(r) if imp.trait_.is_some() => &*r.elem,
            other => other,
        };
        let Type::Path(self_path) = self_ty else {
            return;
        };
        let Some(last) = self_path.path.segments.last() else {
            return;
        };
        let type_name = last.ident.to_string();
        if is_cfg_test(&imp.attrs) {
            return;
        }
        // A private type of an inline module: no test at the file's top level can name it.
        if !modules.is_empty()
            && self_path.path.segments.len() == 1
            && private_types.contains(&type_name)
        {
            return;
        }
        let mut trait_ = None;
        if let Some((trait_path, _)) = &imp.trait_ {
            // A hand-written `impl Default` may cover only some instantiations of a generic
            // type (`impl<T: Default> Default for Lazy<T>` leaves `Lazy<T, F>` out); trust it
            // for non-generic types only. Derives are trusted for all.
            let Some(segment) = trait_path.segments.last() else {
                return;
            };
            let is_default = segment.ident == "Default";
            if is_default && last.arguments.is_none() && imp.generics.params.is_empty() {
                self.constructor(type_name.clone(), Constructor::Default);
            }
            trait_ = Some(TraitRef {
                name: segment.ident.to_string(),
                display: compact(&segment.to_token_stream()),
                self_display: self_type_display(&imp.self_ty, &imp.generics),
                provided: false,
            });
        } else if !modules.is_empty() && !pub_types.contains(&type_name) {
            return;
        }
        let header = self.text_between(imp.impl_token.span, imp.brace_token.span.open());
        let is_trait_impl = trait_.is_some();
        let block = ImplBlock {
            type_name: type_name.clone(),
            stub: format!("{header}{{}}"),
            trait_,
        };
        let pushed = push_cfgs(cfgs, &imp.attrs);
        for item in &imp.items {
            let ImplItem::Fn(f) = item else { continue };
            doc_test_calls(&f.attrs, &mut self.out.doc_calls);
            // A trait impl's methods are as public as the impl; an inherent one's say so.
            if !(is_trait_impl || is_public(&f.vis)) || !is_testable(&f.attrs) {
                continue;
            }
            if is_trait_impl {
                let body = &f.block.brace_token;
                self.push_fn(&f.sig, &f.attrs, body, modules, cfgs, Some(block.clone()));
                continue;
            }
            if f.sig.ident == "new"
                && f.sig.receiver().is_none()
                && returns_self(&f.sig, &type_name)
            {
                let args = typed_inputs(&f.sig)
                    .map(|ty| ty.to_token_stream().to_string())
                    .collect();
                let bounds = generic_bounds(&[&imp.generics, &f.sig.generics]);
                self.constructor(type_name.clone(), Constructor::New { args, bounds });
            }
            let body = &f.block.brace_token;
            self.push_fn(&f.sig, &f.attrs, body, modules, cfgs, Some(block.clone()));
        }
        cfgs.truncate(cfgs.len() - pushed);
    }

    /// A trait's definition, for a model's context; its provided methods, when the trait is
    /// public, are items (called on any implementor).
    fn trait_def(
        &mut self,
        t: &syn::ItemTrait,
        modules: &[String],
        cfgs: &mut Vec<Attribute>,
        pub_types: &HashSet<String>,
    ) {
        let start = t
            .attrs
            .first()
            .map_or(t.trait_token.span, |a| a.pound_token.span);
        let text = self.text_to_end(start, t.brace_token.span.close());
        self.out.trait_defs.insert(t.ident.to_string(), text);
        if !pub_types.contains(&t.ident.to_string()) || is_cfg_test(&t.attrs) {
            return;
        }
        let name = t.ident.to_string();
        let block = ImplBlock {
            type_name: name.clone(),
            stub: String::new(),
            trait_: Some(TraitRef {
                name: name.clone(),
                display: name.clone(),
                self_display: name,
                provided: true,
            }),
        };
        let pushed = push_cfgs(cfgs, &t.attrs);
        for item in &t.items {
            let syn::TraitItem::Fn(f) = item else {
                continue;
            };
            doc_test_calls(&f.attrs, &mut self.out.doc_calls);
            let Some(body) = &f.default else { continue };
            if !is_testable(&f.attrs) {
                continue;
            }
            let brace = &body.brace_token;
            self.push_fn(&f.sig, &f.attrs, brace, modules, cfgs, Some(block.clone()));
        }
        cfgs.truncate(cfgs.len() - pushed);
    }

    /// `Default` wins over `new`: it needs no arguments.
    fn constructor(&mut self, type_name: String, ctor: Constructor) {
        let entry = self
            .out
            .constructors
            .entry(type_name)
            .or_insert(ctor.clone());
        if matches!(ctor, Constructor::Default) {
            *entry = ctor;
        }
    }

    fn push_fn(
        &mut self,
        sig: &Signature,
        attrs: &[Attribute],
        body: &syn::token::Brace,
        modules: &[String],
        cfgs: &[Attribute],
        impl_block: Option<ImplBlock>,
    ) {
        let mut name: Vec<String> = modules.to_vec();
        match &impl_block {
            // `<Money as Display>::fmt`: two impls of one method never share a name.
            Some(ImplBlock {
                trait_: Some(t),
                type_name,
                ..
            }) if !t.provided => {
                // A type the module imports is not the module's: no module path in front.
                let imported = self
                    .out
                    .imports
                    .get(modules)
                    .is_some_and(|i| i.contains_key(type_name));
                if imported {
                    name.clear();
                }
                let ty = name
                    .iter()
                    .chain([&t.self_display])
                    .cloned()
                    .collect::<Vec<_>>();
                name = vec![format!("<{} as {}>", ty.join("::"), t.display)];
            }
            Some(block) => name.push(block.type_name.clone()),
            None => {}
        }
        name.push(sig.ident.to_string());
        if let (None, ReturnType::Type(_, ty)) = (&impl_block, &sig.output) {
            for ident in idents_of(&ty.to_token_stream()) {
                self.out
                    .returns
                    .entry(ident)
                    .or_default()
                    .insert(sig.ident.to_string());
            }
        }
        let sig_text = self.text_between(sig_start(sig), body.span.open());
        // The item as written, from its first attribute (doc comments included) or its `pub`
        // (a trait's methods have none).
        let in_trait = impl_block.as_ref().is_some_and(|b| b.trait_.is_some());
        let source = match attrs.first() {
            Some(attr) => self.text_to_end(attr.pound_token.span, body.span.close()),
            None => {
                let text = self.text_to_end(sig_start(sig), body.span.close());
                if in_trait {
                    text
                } else {
                    format!("pub {text}")
                }
            }
        };
        let mut stub = String::new();
        let own_cfgs = attrs.iter().filter(|a| a.path().is_ident("cfg"));
        for attr in cfgs.iter().chain(own_cfgs) {
            stub.push_str(&self.attr_text(attr));
            stub.push('\n');
        }
        stub.push_str(sig_text);
        stub.push_str("{}");
        self.out.items.push(PublicFn {
            name: name.join("::"),
            ident: sig.ident.to_string(),
            module_path: modules.to_vec(),
            impl_block,
            has_receiver: sig.receiver().is_some(),
            source,
            stub,
            deprecated: attrs.iter().any(|a| a.path().is_ident("deprecated")),
            line: sig.ident.span().start().line,
            column: sig.ident.span().start().column + 1,
            span: (
                attrs
                    .first()
                    .map_or(sig_start(sig), |a| a.pound_token.span)
                    .start()
                    .line,
                body.span.close().end().line,
            ),
        });
    }
}

/// The first token of a signature: `const`, `async`, `unsafe`, `extern` or `fn`.
fn sig_start(sig: &Signature) -> Span {
    if let Some(token) = &sig.constness {
        token.span
    } else if let Some(token) = &sig.asyncness {
        token.span
    } else if let syn::Safety::Unsafe(token) = &sig.safety {
        token.span
    } else if let syn::Safety::Safe(token) = &sig.safety {
        token.span
    } else if let Some(abi) = &sig.abi {
        abi.extern_token.span
    } else {
        sig.fn_token.span
    }
}

/// The trait bounds of generic parameters as text (`Clone`, `AsRef<str>`), in the impl's and
/// the fn's generics: which of them a type must meet is the generator's business.
fn generic_bounds(generics: &[&syn::Generics]) -> Vec<String> {
    let mut out = Vec::new();
    for generics in generics {
        let params = generics.type_params().flat_map(|tp| tp.bounds.iter());
        let predicates = generics
            .where_clause
            .iter()
            .flat_map(|w| &w.predicates)
            .flat_map(|p| match p {
                syn::WherePredicate::Type(pt) => pt.bounds.iter().collect::<Vec<_>>(),
                _ => Vec::new(),
            });
        out.extend(params.chain(predicates).filter_map(bound_text));
    }
    out
}

/// A trait bound as compact text (`AsRef<str>`); `None` for `?Sized` and lifetimes, which
/// every candidate meets.
pub fn bound_text(bound: &syn::TypeParamBound) -> Option<String> {
    match bound {
        syn::TypeParamBound::Trait(t) if t.maybe.is_some() => None,
        syn::TypeParamBound::Trait(t) => {
            Some(t.path.segments.last().map_or_else(String::new, |s| {
                s.to_token_stream().to_string().replace(' ', "")
            }))
        }
        syn::TypeParamBound::Lifetime(_) => None,
        // Anything newer than syn knows of here: never met.
        other => Some(other.to_token_stream().to_string()),
    }
}

/// The arguments of a fn other than its receiver.
pub fn typed_inputs(sig: &Signature) -> impl Iterator<Item = &Type> {
    sig.inputs.iter().filter_map(|arg| match arg {
        FnArg::Typed(pat) => Some(&*pat.ty),
        FnArg::Receiver(_) => None,
    })
}

fn returns_self(sig: &Signature, type_name: &str) -> bool {
    match &sig.output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(p) => {
                p.qself.is_none() && {
                    let last = p.path.segments.last().map(|s| s.ident.to_string());
                    last.as_deref() == Some("Self") || last.as_deref() == Some(type_name)
                }
            }
            _ => false,
        },
        ReturnType::Default => false,
    }
}

fn is_public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// Tests themselves, procedural macros (which panic outside the compiler) and hidden items are
/// not API worth a test.
fn is_testable(attrs: &[Attribute]) -> bool {
    !attrs.iter().any(|attr| {
        let path = attr.path();
        path.is_ident("test")
            || path.is_ident("proc_macro")
            || path.is_ident("proc_macro_derive")
            || path.is_ident("proc_macro_attribute")
            || (path.is_ident("doc") && contains_ident(attr.meta.to_token_stream(), "hidden"))
    })
}

/// A testsmith scaffold, or one like it: `#[ignore]`d, with a `todo!(…)` statement in its body
/// (last, or first for an unsafe item). Such a test panics whenever it runs, so it tests
/// nothing; once the user replaces the `todo!()` with assertions it is a real test.
fn is_scaffold(f: &syn::ItemFn) -> bool {
    let is_todo = |mac: &syn::Macro| mac.path.is_ident("todo");
    f.attrs.iter().any(|a| a.path().is_ident("ignore"))
        && f.block.stmts.iter().any(|stmt| match stmt {
            syn::Stmt::Macro(m) => is_todo(&m.mac),
            syn::Stmt::Expr(syn::Expr::Macro(m), _) => is_todo(&m.mac),
            _ => false,
        })
}

fn push_cfgs(cfgs: &mut Vec<Attribute>, attrs: &[Attribute]) -> usize {
    let before = cfgs.len();
    cfgs.extend(attrs.iter().filter(|a| a.path().is_ident("cfg")).cloned());
    cfgs.len() - before
}

/// `#[cfg(test)]`, `#[cfg(all(test, …))]`: any cfg naming `test` outside a `not(…)`.
fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && match &attr.meta {
                syn::Meta::List(list) => mentions_test(list.tokens.clone()),
                _ => false,
            }
    })
}

fn mentions_test(tokens: TokenStream) -> bool {
    let mut iter = tokens.into_iter().peekable();
    while let Some(tree) = iter.next() {
        match tree {
            TokenTree::Ident(ident) if ident == "not" => {
                iter.next(); // skip the negated group
            }
            TokenTree::Ident(ident) if ident == "test" => return true,
            TokenTree::Group(group) if mentions_test(group.stream()) => return true,
            _ => {}
        }
    }
    false
}

fn contains_ident(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == name,
        TokenTree::Group(group) => contains_ident(group.stream(), name),
        _ => false,
    })
}

fn derives_default(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("derive") && contains_ident(attr.meta.to_token_stream(), "Default")
    })
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Tokens as a person writes them: `From < & \'a str , u8 >` → `From<&\'a str, u8>`. A space
/// is dropped inside brackets and after `&`, `::` and `#`, and before punctuation that hugs
/// what comes before it; it is kept between words, after commas, and around operators.
pub fn compact(tokens: &TokenStream) -> String {
    let text = tokens.to_string();
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        if ch != ' ' {
            out.push(ch);
            continue;
        }
        let before = out.chars().last();
        let after = chars.get(i + 1).copied();
        let hugs_before = before.is_some_and(|c| "<([&:!#".contains(c));
        let hugs_after = after.is_some_and(|c| ">)],;:<(.?".contains(c));
        if before.is_some() && !hugs_before && !hugs_after {
            out.push(' ');
        }
    }
    out
}

/// A trait impl's self type for its items' names: as written, lifetimes left out, generic
/// arguments kept unless they are all the impl's own parameters (`Stack<T>` → `Stack`,
/// `Vec<u8>` stays), so that two impls of one trait for one type never share a name.
fn self_type_display(ty: &Type, generics: &syn::Generics) -> String {
    let params: HashSet<String> = generics
        .params
        .iter()
        .map(|p| match p {
            syn::GenericParam::Type(t) => t.ident.to_string(),
            syn::GenericParam::Const(c) => c.ident.to_string(),
            syn::GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
        })
        .collect();
    let mut ty = ty.clone();
    if let Type::Reference(r) = &mut ty {
        r.lifetime = None;
    }
    let path = match &mut ty {
        Type::Path(p) => Some(&mut p.path),
        Type::Reference(r) => match &mut *r.elem {
            Type::Path(p) => Some(&mut p.path),
            _ => None,
        },
        _ => None,
    };
    if let Some(last) = path.and_then(|p| p.segments.last_mut())
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
    {
        let own = |arg: &syn::GenericArgument| match arg {
            syn::GenericArgument::Lifetime(_) => true,
            syn::GenericArgument::Type(Type::Path(p)) => p
                .path
                .get_ident()
                .is_some_and(|i| params.contains(&i.to_string())),
            syn::GenericArgument::Const(syn::Expr::Path(p)) => p
                .path
                .get_ident()
                .is_some_and(|i| params.contains(&i.to_string())),
            _ => false,
        };
        if args.args.iter().all(own) {
            last.arguments = syn::PathArguments::None;
        } else {
            let kept: Punctuated<syn::GenericArgument, Token![,]> = args
                .args
                .iter()
                .filter(|a| !matches!(a, syn::GenericArgument::Lifetime(_)))
                .cloned()
                .collect();
            let mut args = args.clone();
            args.args = kept;
            last.arguments = syn::PathArguments::AngleBracketed(args);
        }
    }
    compact(&ty.to_token_stream())
}

/// The identifiers in a token stream.
fn idents_of(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => out.extend(idents_of(&group.stream())),
            _ => {}
        }
    }
    out
}

fn item_attrs(item: &Item) -> Option<&[Attribute]> {
    Some(match item {
        Item::Fn(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Const(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        _ => return None,
    })
}

/// Record the calls of the doc tests in `attrs`: the Rust code blocks of the doc comment
/// (unmarked, `rust`, `no_run`, `should_panic`, …; not `ignore`, `compile_fail`, `text` or
/// another language), hidden `# ` lines included.
fn doc_test_calls(attrs: &[Attribute], calls: &mut Calls) {
    let mut doc = String::new();
    for attr in attrs {
        if let Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            doc.push_str(&s.value());
            doc.push('\n');
        }
    }
    if !doc.contains("```") && !doc.contains("~~~") {
        return;
    }
    let mut block: Option<(String, bool)> = None;
    let mut fence = "";
    for line in doc.lines() {
        let trimmed = line.trim_start();
        match &mut block {
            None => {
                for marker in ["```", "~~~"] {
                    if let Some(info) = trimmed.strip_prefix(marker) {
                        fence = marker;
                        block = Some((String::new(), is_rust_test(info)));
                    }
                }
            }
            Some((code, tested)) => {
                if trimmed.starts_with(fence) {
                    if *tested && let Ok(tokens) = code.parse::<TokenStream>() {
                        scan_calls(tokens, calls);
                    }
                    block = None;
                } else {
                    // rustdoc's hidden lines: `# code` and a lone `#`.
                    let code_line = trimmed
                        .strip_prefix("# ")
                        .or_else(|| (trimmed == "#").then_some(""))
                        .unwrap_or(line);
                    code.push_str(code_line);
                    code.push('\n');
                }
            }
        }
    }
}

/// Whether rustdoc runs (or at least builds) a code block with this info string.
fn is_rust_test(info: &str) -> bool {
    info.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .all(|word| {
            matches!(
                word,
                "rust" | "no_run" | "should_panic" | "test_harness" | "standalone_crate"
            ) || word.starts_with("edition")
        })
}

/// `#[cfg_attr(<cfg>, path = "…")]` on a module: each condition, as written, and its file.
fn cfg_paths(attrs: &[Attribute]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("cfg_attr")) {
        let Ok((condition, metas)) = attr.parse_args_with(cfg_attr_args) else {
            continue;
        };
        for meta in metas {
            if let Meta::NameValue(nv) = &meta
                && nv.path.is_ident("path")
                && let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
            {
                out.push((condition.to_token_stream().to_string(), s.value()));
            }
        }
    }
    out
}

/// `cfg_attr`'s arguments: the condition, then the attributes it applies.
fn cfg_attr_args(input: syn::parse::ParseStream<'_>) -> syn::Result<(Meta, Vec<Meta>)> {
    let condition: Meta = input.parse()?;
    input.parse::<Token![,]>()?;
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated(input)?;
    Ok((condition, metas.into_iter().collect()))
}

/// The lints that `allow`/`warn`/`deny`/`forbid` attributes name, `cfg_attr`'d ones included
/// (a test must compile whichever way the condition goes).
fn lint_attrs(attrs: &[Attribute]) -> Vec<LintAttr> {
    let mut out = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("cfg_attr") {
            if let Ok((_, metas)) = attr.parse_args_with(cfg_attr_args) {
                for meta in &metas {
                    lint_meta(meta, &mut out);
                }
            }
        } else {
            lint_meta(&attr.meta, &mut out);
        }
    }
    out
}

fn lint_meta(meta: &Meta, out: &mut Vec<LintAttr>) {
    let Meta::List(list) = meta else { return };
    let Some(level) = list
        .path
        .get_ident()
        .and_then(|i| Level::of_attr(&i.to_string()))
    else {
        return;
    };
    let Ok(lints) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) else {
        return;
    };
    for lint in lints {
        // `reason = "…"` is not a lint.
        if let Meta::Path(path) = lint {
            let lint = path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join("::");
            out.push(LintAttr { level, lint });
        }
    }
}

/// What the file's top level brings into a test module's `use super::*` that hides std's names.
fn top_level_names(items: &[Item], out: &mut FileAnalysis) {
    for item in items {
        let ident = match item {
            Item::Struct(i) => &i.ident,
            Item::Enum(i) => &i.ident,
            Item::Union(i) => &i.ident,
            Item::Type(i) => &i.ident,
            Item::Trait(i) => &i.ident,
            Item::Fn(i) => &i.sig.ident,
            Item::Const(i) => &i.ident,
            Item::Static(i) => &i.ident,
            Item::Mod(i) => &i.ident,
            Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
            Item::Use(u) => {
                let mut leaves = Vec::new();
                use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                for leaf in leaves {
                    match leaf {
                        UseLeaf::Glob => out.glob = true,
                        UseLeaf::Name { name, path, .. } => {
                            // `use std::string::String` is std's own name, not a stand-in.
                            let from_std = matches!(
                                path.first().map(String::as_str),
                                Some("std" | "core" | "alloc")
                            ) && path.last() == Some(&name);
                            if STD_NAMES.contains(&name.as_str()) && !from_std {
                                out.shadowed.insert(name);
                            }
                        }
                    }
                }
                continue;
            }
            _ => continue,
        };
        let name = ident.to_string();
        if STD_NAMES.contains(&name.as_str()) {
            out.shadowed.insert(name);
        }
    }
}

/// The names an inline module's `use` items bring in, and from where.
fn module_imports(items: &[Item]) -> BTreeMap<String, Import> {
    let mut out = BTreeMap::new();
    for item in items {
        let Item::Use(u) = item else { continue };
        let mut leaves = Vec::new();
        use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
        for leaf in leaves {
            if let UseLeaf::Name { name, path, .. } = leaf {
                out.insert(
                    name,
                    Import {
                        leading_colon: u.leading_colon.is_some(),
                        segments: path,
                    },
                );
            }
        }
    }
    out
}

enum UseLeaf {
    Glob,
    /// The name brought in, and the full path it names.
    Name {
        name: String,
        path: Vec<String>,
    },
}

fn use_leaves(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseLeaf>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let ident = n.ident.to_string();
            // `use a::b::{self}` brings in `b`.
            let (name, path) = if ident == "self" {
                (prefix.last().cloned().unwrap_or_default(), prefix.clone())
            } else {
                let mut path = prefix.clone();
                path.push(ident.clone());
                (ident, path)
            };
            if !name.is_empty() {
                out.push(UseLeaf::Name { name, path });
            }
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push(UseLeaf::Name {
                name: r.rename.to_string(),
                path,
            });
        }
        UseTree::Glob(_) => out.push(UseLeaf::Glob),
        UseTree::Group(g) => {
            for tree in &g.items {
                use_leaves(tree, prefix, out);
            }
        }
    }
}

/// Record the calls in a token stream. Tokens rather than syn's expression tree, because most
/// test calls sit inside macros (`assert_eq!(add(1, 2), 3)`) whose bodies syn leaves unparsed.
pub fn scan_calls(tokens: TokenStream, calls: &mut Calls) {
    scan_tokens(tokens, calls, Context::Code);
}

/// Where a token stream sits, which decides what its tokens mean.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Code,
    /// The arguments of a macro call: a bare name passed there is used (`check!(double, 4)`).
    MacroArgs,
    /// The arguments of `assert!`/`debug_assert!`: `<` and `>` compare there.
    Assert,
}

fn scan_tokens(tokens: TokenStream, calls: &mut Calls, context: Context) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) => {
                let macro_name = macro_before(&trees, i);
                let inner = match macro_name.as_deref() {
                    Some("assert" | "debug_assert") => Context::Assert,
                    Some(_) => Context::MacroArgs,
                    None if context == Context::Code => Context::Code,
                    // Parentheses inside a macro's arguments are still its arguments.
                    None => context,
                };
                if let Some(name) = macro_name {
                    calls.signals.insert(format!("{name}!"));
                }
                if group.delimiter() == Delimiter::Bracket && is_indexed(&trees, i) {
                    calls.signals.insert("[]".to_owned());
                }
                scan_tokens(group.stream(), calls, inner);
            }
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                calls.idents.insert(name.clone());
                // `std::fs::read(…)` calls std's `read`, whatever the crate has of that name.
                if rooted_in_std(&trees, i) {
                    continue;
                }
                for qualifier in qualifiers_before(&trees, i) {
                    calls.qualified.insert((qualifier, name.clone()));
                }
                if name == "let" || name == "for" {
                    let next = trees[i + 1..]
                        .iter()
                        .find(|t| !matches!(t, TokenTree::Ident(w) if w == "mut" || w == "ref"));
                    if let Some(TokenTree::Ident(local)) = next {
                        calls.bound.insert(local.to_string());
                    }
                }
                let called = is_called(&trees, i + 1);
                let after_dot = i > 0 && is_punct(&trees[i - 1], '.');
                if called && after_dot {
                    calls.methods.insert(name);
                } else if called {
                    calls.paths.insert(name);
                } else if context != Context::Code && is_bare_argument(&trees, i) {
                    calls.mentions.insert(name);
                }
            }
            TokenTree::Punct(p) => {
                if let Some(op) = operator_at(&trees, i, context)
                    && p.spacing() == Spacing::Alone
                {
                    calls.signals.insert(op);
                }
            }
            TokenTree::Literal(_) => {}
        }
    }
}

/// The name of the macro whose arguments the group at `i` holds (`format` in `format!(…)`).
fn macro_before(trees: &[TokenTree], i: usize) -> Option<String> {
    if i >= 2
        && is_punct(&trees[i - 1], '!')
        && let TokenTree::Ident(name) = &trees[i - 2]
    {
        return Some(name.to_string());
    }
    None
}

/// `x[i]`, `f()[i]`, `v[0][1]`: a bracket group right after a value, not `vec![…]`,
/// `let [a, b]`, `&[…]` or an attribute.
fn is_indexed(trees: &[TokenTree], i: usize) -> bool {
    match i.checked_sub(1).map(|p| &trees[p]) {
        Some(TokenTree::Ident(prev)) => !is_keyword_before_value(&prev.to_string()),
        Some(TokenTree::Group(g)) => g.delimiter() != Delimiter::Brace,
        _ => false,
    }
}

fn is_keyword_before_value(word: &str) -> bool {
    matches!(
        word,
        "let"
            | "in"
            | "return"
            | "move"
            | "if"
            | "match"
            | "while"
            | "mut"
            | "ref"
            | "else"
            | "for"
            | "as"
            | "break"
            | "yield"
            | "box"
    )
}

/// A name standing alone as a macro argument: between `(`/`,` and `,`/`)`.
fn is_bare_argument(trees: &[TokenTree], i: usize) -> bool {
    let before = i == 0 || is_punct(&trees[i - 1], ',');
    let after = trees
        .get(i + 1)
        .is_none_or(|t| is_punct(t, ',') || is_punct(t, ';'));
    before && after
}

/// The operator whose last character is the punct at `i` (`+=`, `==`, `<<`), as a signal for
/// the traits behind operators: binary ones after a value, unary ones elsewhere (`neg-`,
/// `deref*`, `!`). `<` and `>` count only inside `assert!`, where they are not generics.
fn operator_at(trees: &[TokenTree], i: usize, context: Context) -> Option<String> {
    let mut start = i;
    while start > 0
        && matches!(&trees[start - 1], TokenTree::Punct(p) if p.spacing() == Spacing::Joint)
    {
        start -= 1;
    }
    let op: String = trees[start..=i]
        .iter()
        .filter_map(|t| match t {
            TokenTree::Punct(p) => Some(p.as_char()),
            _ => None,
        })
        .collect();
    let after_value = match start.checked_sub(1).map(|p| &trees[p]) {
        Some(TokenTree::Ident(prev)) => !is_keyword_before_value(&prev.to_string()),
        Some(TokenTree::Literal(_)) => true,
        Some(TokenTree::Group(g)) => g.delimiter() != Delimiter::Brace,
        _ => false,
    };
    Some(match op.as_str() {
        "<" | ">" if context == Context::Assert => op,
        "<=" | ">=" | "==" | "!=" => op,
        "+" | "/" | "%" | "^" | "<<" | ">>" => op,
        "+=" | "-=" | "*=" | "/=" | "%=" | "^=" | "&=" | "|=" | "<<=" | ">>=" => op,
        "-" | "*" if after_value => op,
        // Closures (`|x| …`), references and `!` on a `bool` are everywhere in code; an
        // assertion's operands are what a test checks.
        "&" | "|" if after_value && context != Context::Code => op,
        "-" if context != Context::Code => "neg-".to_owned(),
        "*" if context != Context::Code => "deref*".to_owned(),
        "!" if !after_value && context != Context::Code => op,
        _ => return None,
    })
}

/// Whether the path ending in the ident at `i` starts at `std`, `core` or `alloc`.
fn rooted_in_std(trees: &[TokenTree], i: usize) -> bool {
    let mut at = i;
    while at >= 3 && is_path_sep(trees, at - 2) {
        match &trees[at - 3] {
            TokenTree::Ident(_) => at -= 3,
            _ => break,
        }
    }
    at != i
        && matches!(&trees[at], TokenTree::Ident(root) if root == "std" || root == "core" || root == "alloc")
}

/// Whether the tokens from `at` open an argument list, possibly after a turbofish.
fn is_called(trees: &[TokenTree], mut at: usize) -> bool {
    if is_path_sep(trees, at) && trees.get(at + 2).is_some_and(|t| is_punct(t, '<')) {
        at = skip_angle_forward(trees, at + 2);
    }
    matches!(trees.get(at), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
}

/// What qualifies the ident at `i`: the segment before `::` (`Stack::<i32>::new` → `Stack`),
/// or, after `<Money as Display>::`, both the type and the trait.
fn qualifiers_before(trees: &[TokenTree], i: usize) -> Vec<String> {
    if i >= 3
        && is_path_sep(trees, i - 2)
        && is_punct(&trees[i - 3], '>')
        && let Some(open) = skip_angle_backward(trees, i - 3)
    {
        let inside = &trees[open + 1..i - 3];
        if let Some(as_at) = inside
            .iter()
            .position(|t| matches!(t, TokenTree::Ident(w) if w == "as"))
        {
            // `<inner::Money<T> as fmt::Display>`: each side's last segment before its
            // generics.
            let last_ident = |part: &[TokenTree]| {
                let end = part
                    .iter()
                    .position(|t| is_punct(t, '<'))
                    .unwrap_or(part.len());
                part[..end].iter().rev().find_map(|t| match t {
                    TokenTree::Ident(w) => Some(w.to_string()),
                    _ => None,
                })
            };
            let ty = last_ident(&inside[..as_at]);
            let tr = last_ident(&inside[as_at + 1..]);
            return ty.into_iter().chain(tr).collect();
        }
    }
    qualifier_before(trees, i).into_iter().collect()
}

/// The path segment before `::` that precedes the ident at `i`, skipping a turbofish:
/// `Stack::<i32>::new` → `Stack`.
fn qualifier_before(trees: &[TokenTree], i: usize) -> Option<String> {
    if i < 3 || !is_path_sep(trees, i - 2) {
        return None;
    }
    let mut at = i - 3;
    if is_punct(&trees[at], '>') {
        at = skip_angle_backward(trees, at)?;
        if at < 3 || !is_path_sep(trees, at - 2) {
            return None;
        }
        at -= 3;
    }
    match &trees[at] {
        TokenTree::Ident(ident) => Some(ident.to_string()),
        _ => None,
    }
}

fn is_punct(tree: &TokenTree, ch: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == ch)
}

/// `::` starting at `at`.
fn is_path_sep(trees: &[TokenTree], at: usize) -> bool {
    matches!(trees.get(at), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
        && trees.get(at + 1).is_some_and(|t| is_punct(t, ':'))
}

/// From a `<` at `at`, the index after its matching `>`.
fn skip_angle_forward(trees: &[TokenTree], at: usize) -> usize {
    let mut depth = 0usize;
    for (j, tree) in trees.iter().enumerate().skip(at) {
        if is_punct(tree, '<') {
            depth += 1;
        } else if is_punct(tree, '>') {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return j + 1;
            }
        }
    }
    trees.len()
}

/// From a `>` at `at`, the index of its matching `<`.
fn skip_angle_backward(trees: &[TokenTree], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    for j in (0..=at).rev() {
        if is_punct(&trees[j], '>') {
            depth += 1;
        } else if is_punct(&trees[j], '<') {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(src: &str) -> Calls {
        let mut calls = Calls::default();
        scan_calls(src.parse().unwrap(), &mut calls);
        calls
    }

    #[test]
    fn calls_inside_macros_and_turbofish_are_seen() {
        let c = calls(
            "assert_eq!(add(1, 2), 3); let s = Stack::<i32>::new(); s.push(1); x.map(Parser::parse);",
        );
        assert!(c.paths.contains("add"));
        assert!(c.paths.contains("new"));
        assert!(c.qualified.contains(&("Stack".into(), "new".into())));
        assert!(c.qualified.contains(&("Parser".into(), "parse".into())));
        assert!(c.methods.contains("push"));
        assert!(!c.paths.contains("push"));
        assert!(!c.paths.contains("s"));
    }

    #[test]
    fn trait_calls_operators_and_macro_arguments_are_seen() {
        let c = calls(
            "let s = <inner::Money<T> as fmt::Display>::fmt(&m, f); let t = a + b; let r = &x; \
             assert_eq!(-x, y); let i = v[0]; let m = v.iter().map(|x| x + 1); let w = vec![1]; let v: Vec<Money> = Vec::new(); \
             let f = format!(\"{}\", m); check!(double, 2); assert!(a < b); for x in it {}",
        );
        assert!(c.qualified.contains(&("Money".into(), "fmt".into())));
        assert!(c.qualified.contains(&("Display".into(), "fmt".into())));
        for signal in ["+", "neg-", "[]", "format!", "check!", "<", "vec!"] {
            assert!(c.signals.contains(signal), "{signal}: {:?}", c.signals);
        }
        assert!(!c.signals.contains("&"), "{:?}", c.signals);
        assert!(
            !c.signals.contains(">"),
            "only inside assert!: {:?}",
            c.signals
        );
        assert!(c.mentions.contains("double") && !c.bound.contains("double"));
        assert!(
            !c.signals.contains("|"),
            "a closure is not `BitOr`: {:?}",
            c.signals
        );
        let local = calls("let area = r.area(); assert_eq!(area, 6);");
        assert!(local.mentions.contains("area") && local.bound.contains("area"));
        assert!(c.idents.contains("for"));
        // `std::fs::read(…)` is std's.
        assert!(!calls("std::fs::read(p);").paths.contains("read"));
    }

    #[test]
    fn types_read_as_written() {
        let text = |src: &str| compact(&syn::parse_str::<Type>(src).unwrap().to_token_stream());
        assert_eq!(text("From<&'a str, u8>"), "From<&'a str, u8>");
        assert_eq!(text("&mut Vec<[u8; 4]>"), "&mut Vec<[u8; 4]>");
        assert_eq!(text("::std::string::String"), "::std::string::String");
        assert_eq!(
            text("Box<dyn Fn(u8) -> u8 + Send>"),
            "Box<dyn Fn(u8) -> u8 + Send>"
        );
        assert_eq!(text("Chunks<'_>"), "Chunks<'_>");
    }

    #[test]
    fn cfg_test_detection_ignores_negation() {
        let attrs = |src: &str| {
            syn::parse_str::<syn::ItemMod>(&format!("{src} mod m {{}}"))
                .unwrap()
                .attrs
        };
        assert!(is_cfg_test(&attrs("#[cfg(test)]")));
        assert!(is_cfg_test(&attrs("#[cfg(all(test, feature = \"x\"))]")));
        assert!(!is_cfg_test(&attrs("#[cfg(not(test))]")));
        assert!(!is_cfg_test(&attrs("#[cfg(feature = \"test\")]")));
    }

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
}
