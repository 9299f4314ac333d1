//! The rules of what counts as tested: the calls test code makes, and when they cover an item
//! (by path, by method call where the type is in evidence, or by a trait's sugar). A scaffold
//! still holding its `todo!()` is told apart: it calls its item but tests nothing.

use std::collections::{BTreeSet, HashSet};

use super::PublicFn;
use super::sugar::sugar;

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
            && trait_name.and_then(|t| sugar(t, ident)).is_some_and(|s| {
                s.uses.iter().any(|u| {
                    self.signals.contains(*u)
                        || self.methods.contains(*u)
                        || self.idents.contains(*u)
                })
            })
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

/// A testsmith scaffold, or one like it: `#[ignore]`d, with a `todo!(…)` statement in its body
/// (last, or first for an unsafe item). Such a test panics whenever it runs, so it tests
/// nothing; once the user replaces the `todo!()` with assertions it is a real test.
pub(super) fn is_scaffold(f: &syn::ItemFn) -> bool {
    let is_todo = |mac: &syn::Macro| mac.path.is_ident("todo");
    f.attrs.iter().any(|a| a.path().is_ident("ignore"))
        && f.block.stmts.iter().any(|stmt| match stmt {
            syn::Stmt::Macro(m) => is_todo(&m.mac),
            syn::Stmt::Expr(syn::Expr::Macro(m), _) => is_todo(&m.mac),
            _ => false,
        })
}
