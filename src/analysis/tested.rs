//! The rules of what counts as tested: the calls test code makes, and when they cover an item
//! (by path, by method call where the type is in evidence, or by a trait's sugar). A scaffold
//! still holding its `todo!()` is told apart: it calls its item but tests nothing.

use std::collections::{BTreeSet, HashSet};

use super::PublicFn;
use super::flow::{MADE_PREFIX, Signatures, TypedUses, Use, resolve_uses};
use super::sugar::sugar;

/// Names the file's test code calls or mentions.
#[derive(Default, Debug, Clone)]
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
    /// What the code does to which value (the light type flow), typed by [`Calls::typed`].
    pub uses: HashSet<Use>,
    /// What the fns the test code defines return (helpers that make values).
    pub signatures: Signatures,
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
        self.uses.extend(other.uses);
        self.signatures.extend(&other.signatures);
    }

    /// The uses whose values' types the package's `signatures` (and the test code's own) tell.
    pub fn typed(&self, package: &Signatures) -> TypedUses {
        if self.signatures.is_empty() {
            return resolve_uses(&self.uses, package);
        }
        let mut signatures = package.clone();
        signatures.extend(&self.signatures);
        resolve_uses(&self.uses, &signatures)
    }

    /// Whether code written for `item` (a model's test, a scaffold) calls it: a free fn by
    /// any path ending in its name (not one rooted in std), a method by `Type::name`, or by
    /// method-call syntax — for a name std's types share, or a trait's sugar, only where the
    /// type is named too. Loose, since the code is known to be about the item.
    pub fn covers(&self, item: &PublicFn) -> bool {
        self.covers_by(item, None)
    }

    /// Whether the test code calls `item`, by `typed` (what it does to values whose types the
    /// package's signatures tell, [`Calls::typed`]): a method named like std's (`len`,
    /// `next`), or a trait's sugar (`to_string()` and `{}` for `Display`, `parse` for
    /// `FromStr`, a `for` loop for `Iterator`, `+` for `Add`, …), counts only on a value of
    /// the item's type, never for a mere mention of the type. A trait method also counts as
    /// called through `Trait::name` or `<Type as Trait>::name`, and a method whose name std's
    /// types do not share by a call on any value.
    pub fn covers_with(&self, item: &PublicFn, typed: &TypedUses) -> bool {
        self.covers_by(item, Some(typed))
    }

    fn covers_by(&self, item: &PublicFn, typed: Option<&TypedUses>) -> bool {
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
        let distinctive = !STD_METHODS.contains(&ident.as_str());
        // Called on some value, unless every call of the name the flow saw was on a value of
        // another type.
        let on_some_value = typed.is_none_or(|typed| {
            typed.untyped.contains(ident) || !typed.typed.iter().any(|(_, what, _)| what == ident)
        });
        if item.has_receiver && self.methods.contains(ident) && distinctive && on_some_value {
            return true;
        }
        let sugar = trait_name.and_then(|t| sugar(t, ident));
        let uses = sugar.map_or(&[][..], |s| s.uses);
        // `Hash` is used by putting the value in a `HashMap`: a word, not an act on a value.
        let named = self.idents.contains(&block.type_name)
            || trait_name.is_some_and(|t| self.idents.contains(t));
        if named && uses.iter().any(|u| is_word(u) && self.idents.contains(*u)) {
            return true;
        }
        let Some(typed) = typed else {
            return named
                && ((item.has_receiver && self.methods.contains(ident))
                    || uses.iter().any(|u| {
                        self.signals.contains(*u)
                            || self.methods.contains(*u)
                            || self.idents.contains(*u)
                    }));
        };
        // An impl for `&Bag` is used through a reference only; any other impl either way.
        let by_ref = block
            .trait_
            .as_ref()
            .is_some_and(|t| t.self_display.starts_with('&'));
        let on = |what: String| {
            let typed = &typed.typed;
            typed.contains(&(block.type_name.clone(), what.clone(), true))
                || (!by_ref && typed.contains(&(block.type_name.clone(), what, false)))
        };
        // A method call finds the type's inherent method before any trait's.
        let shadowed = trait_name.is_some()
            && typed
                .inherent
                .contains(&(block.type_name.clone(), ident.clone()));
        let made = sugar.is_some_and(|s| s.on_made);
        (item.has_receiver && !shadowed && on(ident.clone()))
            || uses.iter().any(|u| {
                if made {
                    on(format!("{MADE_PREFIX}{u}"))
                } else {
                    on((*u).to_owned())
                }
            })
    }
}

/// A word among a sugar's uses (`HashMap`), not something done to a value.
fn is_word(what: &str) -> bool {
    what.chars().next().is_some_and(char::is_uppercase)
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
