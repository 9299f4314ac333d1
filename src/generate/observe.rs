//! The offline generator that runs the code: per item, several calls on chosen inputs (the
//! item's own literals, then boundaries), each first written as a *probe* — a test that calls
//! the item and fails on purpose, its message saying what the call returned (its `Debug`
//! form, where it has one), what it panicked with, and what the `&mut` locals became.
//! Verification runs the probes and hands their output back through [`Repairer`]; this module
//! then writes each as the test a person reads: `assert_eq!(parse(“1k”), Ok(1024))`, a
//! `Debug` comparison, a float within a tolerance, a `#[should_panic(expected = …)]`. What
//! differed between runs, or what a type makes unstable (a `HashMap`'s order, a time), is not
//! asserted. Where no input could be built, or nothing could be observed, the item gets the
//! scaffold, saying which.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::{ReturnType, Type};

use super::args::{GUESSES, Literals, StdNames, tuple_of};
use super::scaffold::{self, Gaps, Parts};
use super::{
    FileRequest, GeneratedTest, Generator, PROBE_MARK, PROBE_RUNS, Progress, RepairRequest,
    Repairer, Sink, hand_over,
};
use crate::analysis::PublicFn;
use crate::error::Error;

/// Calls tried per item; the mutation stage keeps the fewest that catch the most.
const CALLS: usize = 8;

/// Calls per type guessed for a bound on the package's own trait: most guesses do not compile.
const CALLS_PER_GUESS: usize = 2;

/// What a recorded test says about itself, so a reader does not take a bug for the spec.
const NOTE: &str =
    " Observed behaviour, recorded by cargo-testsmith: review it, a bug is recorded too.";

/// Writes probes, then the tests their runs show; needs no network and no configuration.
#[derive(Default)]
pub struct ObservingGenerator {
    /// Per file and test name, the forms still to try should the one written not compile: a
    /// literal needs `PartialEq`, the `Debug` text does not.
    fallbacks: Mutex<HashMap<(String, String), Vec<String>>>,
}

impl Generator for ObservingGenerator {
    fn generate_all(
        &self,
        requests: &[FileRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error> {
        scaffold::each_item(requests, progress, done, &probes);
        Ok(())
    }
}

/// Whether running `item` on chosen inputs can be observed: not `async`, `unsafe`, `-> !`,
/// deprecated, or a trait's provided method.
fn observable(item: &PublicFn, sig: &syn::Signature) -> bool {
    let provided = item
        .impl_block
        .as_ref()
        .and_then(|b| b.trait_.as_ref())
        .is_some_and(|t| t.provided);
    sig.asyncness.is_none()
        && !matches!(sig.safety, syn::Safety::Unsafe(_))
        && !provided
        && !item.deprecated
        && !scaffold::deprecated_in_std(item)
        && !scaffold::returns_never(item)
}

/// What the body names that reads or changes the world outside the call: the environment,
/// the clock, files, processes, sockets, randomness. Run contained, such a call sees the
/// sandbox (its PID, its cleared environment, its paths) or writes into the user's tree when
/// the test runs there; recorded, it would fail or do harm outside.
const OUTSIDE: &[&str] = &[
    "env::",
    "env!",
    "option_env!",
    "process::",
    "Command::",
    "SystemTime",
    "Instant",
    "fs::",
    "File::",
    "OpenOptions",
    "stdin",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "thread_rng",
    "rand::",
    "getrandom",
    "thread::sleep",
];

/// The first name of [`OUTSIDE`] the body of `source` (an item as written) holds.
fn outside(source: &str) -> Option<&'static str> {
    let body = source.find('{').map_or("", |at| &source[at..]);
    let tokens = body
        .parse::<TokenStream>()
        .ok()?
        .to_string()
        .replace(' ', "");
    OUTSIDE.iter().copied().find(|name| tokens.contains(name))
}

/// The probes of one item: up to [`CALLS`] distinct calls; the scaffold where none can be
/// built, or where the item reaches outside itself.
fn probes(
    item: &PublicFn,
    name: &str,
    request: &FileRequest<'_>,
    impls: &HashMap<&str, Option<syn::ItemImpl>>,
    std: &StdNames,
) -> Vec<GeneratedTest> {
    let scaffold = || {
        vec![GeneratedTest {
            item: item.name.clone(),
            function: scaffold::scaffold(item, name, request, impls, std),
        }]
    };
    let Some(stub) = item.parse_stub() else {
        return scaffold();
    };
    if !observable(item, &stub.sig) {
        return scaffold();
    }
    if let Some(what) = outside(&item.source) {
        let mut scaffold = scaffold();
        let why = format!(
            "it reaches outside itself (`{what}`), so what it does in the scratch copy is not what it does in your tests"
        );
        scaffold::say_why(&mut scaffold[0].function, &why);
        return scaffold;
    }
    let literals = Literals::of(&item.source);
    // The calls with the first `count` of the chosen inputs; `None` when one cannot be built.
    let calls = |std: &StdNames, count: usize| -> Option<Vec<Parts>> {
        (0..count)
            .map(|k| {
                let mut gaps = Gaps::default();
                let parts = scaffold::parts(
                    item,
                    &stub.sig,
                    request,
                    impls,
                    std,
                    Some((k, &literals)),
                    &mut gaps,
                );
                parts.filter(|_| !gaps.placeholders && !gaps.unsafe_block)
            })
            .collect()
    };
    let all = match calls(std, CALLS) {
        Some(all) => all,
        // Generic over the package's own traits, which no known type meets: each guess is
        // tried, and the build keeps those that compile.
        None => {
            let guessed: Vec<Parts> = (0..GUESSES.len())
                .filter_map(|index| {
                    let std = std.guessing(index, request.trait_defs.keys());
                    calls(&std, CALLS_PER_GUESS)
                })
                .flatten()
                .collect();
            if guessed.is_empty() {
                return scaffold();
            }
            guessed
        }
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for parts in all {
        let stmts = &parts.stmts;
        if !seen.insert(quote!(#(#stmts)* ; ).to_string() + &parts.call.to_string()) {
            continue;
        }
        let test_name = match out.len() {
            0 => name.to_owned(),
            n => format!("{name}_{}", n + 1),
        };
        out.push(GeneratedTest {
            item: item.name.clone(),
            function: probe(&stub, &test_name, &parts, request),
        });
    }
    out
}

/// The item type of an `impl Iterator<Item = T>` (or a `DoubleEndedIterator`,
/// `ExactSizeIterator`) return type.
fn iterated(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::ImplTrait(imp) = &**ty else {
        return None;
    };
    imp.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let last = t.path.segments.last()?;
        let iterator = ["Iterator", "DoubleEndedIterator", "ExactSizeIterator"]
            .iter()
            .any(|name| last.ident == name);
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(a) if iterator && a.ident == "Item" => Some(&a.ty),
            _ => None,
        })
    })
}

/// Whether the type names a reference or a lifetime: what the call returns may borrow the
/// locals, which are then not read again.
fn borrows(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else {
        return false;
    };
    let text = ty.to_token_stream().to_string();
    text.contains('&') || text.contains('\'')
}

/// The probe: build the inputs, call the item under `catch_unwind`, and fail with what was
/// seen, each value as the string literal of its `Debug` text (`-` where it has none: the
/// autoref pick between two local traits chooses at compile time, with no error).
fn probe(stub: &syn::ItemFn, name: &str, parts: &Parts, request: &FileRequest<'_>) -> syn::ItemFn {
    let name = format_ident!("{}", name);
    let cfgs = &stub.attrs;
    let stmts = &parts.stmts;
    let call = &parts.call;
    // An iterator shows what it yields: collected, its items are the value.
    let call = match iterated(&stub.sig.output) {
        Some(_) => quote!(#call.collect::<Vec<_>>()),
        None => quote!(#call),
    };
    let borrowed = borrows(&stub.sig.output);
    let changed: &[syn::Ident] = if borrowed { &[] } else { &parts.changed };
    // What borrows a local the closure captures cannot leave it: it is shown inside.
    let (call, shown) = if borrowed {
        (
            quote!({
                let __testsmith_value = #call;
                (&__TestsmithShow(&__testsmith_value)).show()
            }),
            quote!(value),
        )
    } else {
        (quote!(#call), quote!(&(&__TestsmithShow(value)).show()))
    };
    let labels = changed.iter().map(|c| format!("\nafter {c} "));
    // The probe is never written; what the crate denies must not stop it building (a lint
    // denied by name is not allowed by `warnings`).
    let lints: Vec<syn::Ident> = [
        "warnings",
        "unused_qualifications",
        "unused_extern_crates",
        "unused_imports",
        "unused_mut",
        "unused_variables",
        "dead_code",
        "non_camel_case_types",
        "unreachable_code",
    ]
    .iter()
    .filter(|l| !request.rules.forbids(l))
    .map(|l| format_ident!("{}", l))
    .collect();
    let allow = (!lints.is_empty()).then(|| quote!(#[allow(#(#lints),*)]));
    // A `no_std` crate's tests have no `::std`: the probe links it itself.
    let (root, link) = if request.rules.no_std {
        (
            quote!(std),
            quote!(
                #[allow(unused_extern_crates)]
                extern crate std;
                use std::borrow::ToOwned as _;
                use std::string::ToString as _;
                #[allow(unused_imports)]
                use std::vec;
                #[allow(unused_imports)]
                use std::vec::Vec;
            ),
        )
    } else {
        (quote!(::std), quote!())
    };
    let tokens = quote! {
        #(#cfgs)*
        #[test]
        #allow
        fn #name() {
            #link
            #(#stmts)*
            struct __TestsmithShow<'a, T: ?Sized>(&'a T);
            trait __TestsmithDebug {
                fn show(&self) -> #root::string::String;
            }
            impl<T: #root::fmt::Debug + ?Sized> __TestsmithDebug for __TestsmithShow<'_, T> {
                fn show(&self) -> #root::string::String {
                    #root::format!("{:?}", #root::format!("{:?}", self.0))
                }
            }
            trait __TestsmithOpaque {
                fn show(&self) -> #root::string::String;
            }
            impl<T: ?Sized> __TestsmithOpaque for &__TestsmithShow<'_, T> {
                fn show(&self) -> #root::string::String {
                    #root::string::String::from("-")
                }
            }
            let __testsmith_call =
                #root::panic::catch_unwind(#root::panic::AssertUnwindSafe(|| #call));
            let mut __testsmith_seen = #root::string::String::from(#PROBE_MARK);
            match &__testsmith_call {
                #root::result::Result::Ok(value) => {
                    __testsmith_seen.push_str("\nreturned ");
                    __testsmith_seen.push_str(#shown);
                }
                #root::result::Result::Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| #root::string::ToString::to_string(s))
                        .or_else(|| payload.downcast_ref::<#root::string::String>().cloned())
                        .unwrap_or_default();
                    __testsmith_seen.push_str("\npanicked ");
                    __testsmith_seen.push_str(&#root::format!("{:?}", message));
                }
            }
            #(
                __testsmith_seen.push_str(#labels);
                __testsmith_seen.push_str(&(&__TestsmithShow(&#changed)).show());
            )*
            #root::panic!("{}", __testsmith_seen);
        }
    };
    syn::parse2(tokens).expect("generated probes are valid Rust")
}

/// What a probe's runs showed, where every run agreed.
#[derive(Debug, Default, PartialEq)]
struct Observation {
    /// The `Debug` text of what the call returned; `Some(None)` when it has no `Debug`.
    returned: Option<Option<String>>,
    /// The panic's message.
    panicked: Option<String>,
    /// The `Debug` text of each changed local after the call.
    after: Vec<(String, Option<String>)>,
}

/// The observation in a probe's output (one or more runs, each with its marker); `None`
/// when no run got as far as the marker. A value that differs between runs is left out.
fn observation(evidence: &str) -> Option<Observation> {
    let runs: Vec<Observation> = evidence
        .split(PROBE_RUNS)
        .map(|run| {
            // A run that did not get as far as the marker agrees on nothing.
            let (_, run) = run.split_once(PROBE_MARK)?;
            let mut seen = Observation::default();
            for line in run.lines().skip(1) {
                let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
                let text = |s: &str| {
                    let s = s.trim();
                    match s {
                        "-" => Some(None),
                        _ => syn::parse_str::<syn::LitStr>(s)
                            .ok()
                            .map(|l| Some(l.value())),
                    }
                };
                match key {
                    "returned" => seen.returned = text(rest),
                    "panicked" => seen.panicked = text(rest).flatten(),
                    "after" => {
                        let (local, value) = rest.split_once(' ').unwrap_or((rest, ""));
                        if let Some(value) = text(value) {
                            seen.after.push((local.to_owned(), value));
                        }
                    }
                    _ => break,
                }
            }
            Some(seen)
        })
        .collect::<Option<_>>()?;
    let (first, rest) = runs.split_first()?;
    let mut agreed = Observation {
        returned: first
            .returned
            .clone()
            .filter(|r| rest.iter().all(|o| o.returned.as_ref() == Some(r))),
        panicked: first
            .panicked
            .clone()
            .filter(|p| rest.iter().all(|o| o.panicked.as_ref() == Some(p))),
        after: Vec::new(),
    };
    for (local, value) in &first.after {
        let same = rest
            .iter()
            .all(|o| o.after.iter().any(|(l, v)| l == local && v == value));
        if same {
            agreed.after.push((local.clone(), value.clone()));
        }
    }
    Some(agreed)
}

/// Types whose `Debug` text changes from run to run, or with the moment: not asserted.
const UNSTABLE: &[&str] = &[
    "HashMap",
    "HashSet",
    "RandomState",
    "Instant",
    "SystemTime",
    "ThreadId",
];

fn unstable(ty: &Type) -> bool {
    let text = ty.to_token_stream().to_string();
    matches!(ty, Type::Ptr(_))
        || UNSTABLE.iter().any(|u| {
            text.split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == *u)
        })
}

/// The tests a probe's observation makes, best first: the literal form, then the `Debug`
/// text. Empty when nothing stable was observed.
fn forms(
    stub: &syn::ItemFn,
    probe: &syn::ItemFn,
    seen: &Observation,
    defs: &Defs,
    debug_only: bool,
) -> Vec<syn::ItemFn> {
    let Some((mut stmts, call)) = split_probe(probe) else {
        return Vec::new();
    };
    // Inside a macro's arguments the code is not formatted: a call that lends or names a
    // type (`&x`, `::<Vec<_>>`) is bound to a local first.
    let plain = !call.to_token_stream().to_string().contains(['&', '<']);
    let call: syn::Expr = if plain {
        call
    } else {
        stmts.push(syn::parse_quote!(let result = #call;));
        syn::parse_quote!(result)
    };
    let name = &probe.sig.ident;
    let cfgs = &stub.attrs;
    let doc = quote!(#[doc = #NOTE]);
    if let Some(message) = &seen.panicked {
        let overflow = message.starts_with("attempt to ") && message.ends_with("with overflow");
        if overflow || debug_only {
            return Vec::new();
        }
        let expected = expected(message);
        let attr = match expected {
            Some(expected) => quote!(#[should_panic(expected = #expected)]),
            None => quote!(#[should_panic]),
        };
        let test: syn::ItemFn = syn::parse_quote! {
            #doc
            #(#cfgs)*
            #[test]
            #attr
            fn #name() {
                #(#stmts)*
                let _ = #call;
            }
        };
        return vec![test];
    }
    let after: Vec<TokenStream> = seen
        .after
        .iter()
        .filter_map(|(local, value)| {
            let local = format_ident!("{}", local);
            let value = value.as_ref().filter(|v| !unordered(v))?;
            Some(quote!(assert_eq!(format!("{:?}", #local), #value);))
        })
        .collect();
    // Trait sugar returns its own type: `value.to_string()` and `format!` a `String`.
    let string: Type = syn::parse_quote!(String);
    let items: Option<Type> = iterated(&stub.sig.output).map(|item| syn::parse_quote!(Vec<#item>));
    let output = match &stub.sig.output {
        _ if makes_string(&call) => Some(&string),
        _ if items.is_some() => items.as_ref(),
        ReturnType::Type(_, ty) if !matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()) => {
            Some(&**ty)
        }
        _ => None,
    };
    let returned = match (output, &seen.returned) {
        (Some(ty), Some(Some(text))) if !unstable(ty) && (!unordered(text) || sorted(ty)) => {
            Some((ty, text))
        }
        _ => None,
    };
    let test = |check: TokenStream| -> syn::ItemFn {
        syn::parse_quote! {
            #doc
            #(#cfgs)*
            #[test]
            fn #name() {
                #(#stmts)*
                #check
                #(#after)*
            }
        }
    };
    let Some((ty, text)) = returned else {
        if after.is_empty() {
            return Vec::new();
        }
        return vec![test(quote!(let _ = #call;))];
    };
    let mut out = Vec::new();
    if let Some(check) = literal_check(ty, text, &call, defs) {
        out.push(test(check));
    }
    out.push(test(quote!(assert_eq!(format!("{:?}", #call), #text);)));
    out
}

/// A test in a `no_std` crate links std where it uses `format!`, `vec!`, `to_owned` or
/// `to_string`, and imports those.
fn link_std(test: &mut syn::ItemFn) {
    let text = test.block.to_token_stream().to_string();
    // A whole identifier, then what follows it: `SmallVec <` is no use of `Vec`.
    let uses_tokens = |used: &str| {
        let (word, then) = used.split_once(' ').unwrap_or((used, ""));
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        text.match_indices(word).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = &text[at + word.len()..];
            !before.is_some_and(ident)
                && !after.chars().next().is_some_and(ident)
                && after.trim_start().starts_with(then)
        })
    };
    let mut uses: Vec<syn::Stmt> = vec![syn::parse_quote!(
        extern crate std;
    )];
    for (used, import) in [
        (
            "format !",
            quote!(
                use std::format;
            ),
        ),
        (
            "vec !",
            quote!(
                use std::vec;
            ),
        ),
        (
            "to_owned",
            quote!(
                use std::borrow::ToOwned;
            ),
        ),
        (
            "to_string",
            quote!(
                use std::string::ToString;
            ),
        ),
        (
            "Vec <",
            quote!(
                use std::vec::Vec;
            ),
        ),
    ] {
        if uses_tokens(used) {
            uses.push(syn::parse2(import).expect("a use item"));
        }
    }
    // Nothing of std used: no link, which `rust_2018_idioms` would call unused.
    if uses.len() > 1 {
        uses.append(&mut test.block.stmts);
        test.block.stmts = uses;
    }
}

/// Whether `Debug` text holds a map or a set (`{…}` after no type name), whose order may be a
/// hash's: a value of the package's own type may hold one.
fn unordered(text: &str) -> bool {
    let mut previous = ' ';
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' if !(previous.is_alphanumeric() || previous == '_' || previous == '>') => {
                return true;
            }
            _ => {}
        }
        if !c.is_whitespace() {
            previous = c;
        }
    }
    false
}

/// A `BTreeMap` or `BTreeSet`: its `Debug` order is its keys'.
fn sorted(ty: &Type) -> bool {
    let text = ty.to_token_stream().to_string();
    text.contains("BTreeMap") || text.contains("BTreeSet")
}

/// Why an observation gave no test, for the scaffold.
fn unobserved(stub: &syn::ItemFn, seen: &Observation) -> &'static str {
    match (&stub.sig.output, &seen.returned) {
        (ReturnType::Type(_, ty), _) if unstable(ty) => {
            "what it returns changes from run to run, by its type"
        }
        (_, Some(None)) => "what it returns has no `Debug` form to record",
        (ReturnType::Default, Some(_)) if seen.after.is_empty() => {
            "it returns nothing and changes nothing it is given: nothing to assert"
        }
        _ => "nothing its calls did could be observed the same in every run",
    }
}

/// `value.to_string()` or `format!(…)`: a `String`, whatever the item returns.
fn makes_string(call: &syn::Expr) -> bool {
    match call {
        syn::Expr::MethodCall(m) => m.method == "to_string" && m.args.is_empty(),
        syn::Expr::Macro(m) => m.mac.path.is_ident("format"),
        _ => false,
    }
}

/// A panic message as `should_panic` expects it: its first line, at most 80 characters
/// (a substring match), or `None` when it is empty.
fn expected(message: &str) -> Option<String> {
    let line = message.lines().next().unwrap_or_default();
    let cut: String = line.chars().take(80).collect();
    (!cut.trim().is_empty()).then_some(cut)
}

/// A probe's statements before the call, and the call.
fn split_probe(probe: &syn::ItemFn) -> Option<(Vec<syn::Stmt>, syn::Expr)> {
    let mut stmts = Vec::new();
    for stmt in &probe.block.stmts {
        if let syn::Stmt::Local(local) = stmt
            && let syn::Pat::Ident(pat) = &local.pat
            && pat.ident == "__testsmith_call"
        {
            let init = local.init.as_ref()?;
            // `catch_unwind(AssertUnwindSafe(|| CALL))`
            let syn::Expr::Call(catch) = &*init.expr else {
                return None;
            };
            let syn::Expr::Call(assert) = catch.args.first()? else {
                return None;
            };
            let syn::Expr::Closure(closure) = assert.args.first()? else {
                return None;
            };
            // `{ let __testsmith_value = CALL; … }` where what it returns borrows.
            if let syn::Expr::Block(block) = &*closure.body
                && let Some(syn::Stmt::Local(value)) = block.block.stmts.first()
                && matches!(&value.pat, syn::Pat::Ident(p) if p.ident == "__testsmith_value")
            {
                return Some((stmts, (*value.init.as_ref()?.expr).clone()));
            }
            return Some((stmts, (*closure.body).clone()));
        }
        // The probe's own items: its link to std (a `no_std` crate's test gets its own) and
        // what shows a value.
        if !matches!(stmt, syn::Stmt::Item(_)) {
            stmts.push(stmt.clone());
        }
    }
    None
}

/// `assert_eq!(call, literal)` where the type has a literal form the `Debug` text reads as;
/// a top-level float within a tolerance.
fn literal_check(ty: &Type, text: &str, call: &syn::Expr, defs: &Defs) -> Option<TokenStream> {
    if let Some(float) = float_name(ty) {
        let ty = format_ident!("{}", float);
        return Some(match text {
            "NaN" => quote!(assert!(#call.is_nan());),
            "inf" => quote!(assert_eq!(#call, #ty::INFINITY);),
            "-inf" => quote!(assert_eq!(#call, #ty::NEG_INFINITY);),
            _ => {
                let value: f64 = text.parse().ok()?;
                let lit: syn::Expr = syn::parse_str(text).ok()?;
                let scale = if float == "f32" { 1e-5 } else { 1e-9 };
                let tolerance: syn::Expr =
                    syn::parse_str(&format!("{:.0e}", scale * value.abs().max(1.0))).ok()?;
                quote!(assert!((#call - #lit).abs() <= #tolerance);)
            }
        });
    }
    let expr: syn::Expr = syn::parse_str(text).ok()?;
    let literal = literal(ty, &expr, true, defs)?;
    Some(quote!(assert_eq!(#call, #literal);))
}

/// The package's type definitions by name (as the analysis printed them).
type Defs = std::collections::BTreeMap<String, String>;

/// A value of the package's own type `path` from its derived `Debug` text: a unit variant
/// (`Sign::Zero`), or a struct whose fields are all `pub` (`Point { x: 1, y: 2 }`).
fn literal_own(path: &syn::Path, expr: &syn::Expr, defs: &Defs) -> Option<TokenStream> {
    let segment = path.segments.last()?;
    if !segment.arguments.is_none() {
        return None;
    }
    let def: syn::Item = syn::parse_str(defs.get(&segment.ident.to_string())?).ok()?;
    match (def, expr) {
        (syn::Item::Enum(def), syn::Expr::Path(value)) => {
            let variant = value.path.get_ident()?;
            def.variants
                .iter()
                .any(|v| v.ident == *variant && matches!(v.fields, syn::Fields::Unit))
                .then(|| quote!(#path::#variant))
        }
        (syn::Item::Struct(def), syn::Expr::Struct(value)) => {
            let syn::Fields::Named(fields) = &def.fields else {
                return None;
            };
            if value.path.get_ident()? != &def.ident
                || value.fields.len() != fields.named.len()
                || value.rest.is_some()
            {
                return None;
            }
            let mut out = Vec::new();
            for (field, given) in fields.named.iter().zip(&value.fields) {
                let name = field.ident.as_ref()?;
                let syn::Member::Named(given_name) = &given.member else {
                    return None;
                };
                if !matches!(field.vis, syn::Visibility::Public(_)) || given_name != name {
                    return None;
                }
                let v = literal(&field.ty, &given.expr, false, defs)?;
                out.push(quote!(#name: #v));
            }
            Some(quote!(#path { #(#out),* }))
        }
        _ => None,
    }
}

fn float_name(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Path(p) if p.path.is_ident("f64") => Some("f64"),
        Type::Path(p) if p.path.is_ident("f32") => Some("f32"),
        _ => None,
    }
}

/// The `Debug` text `expr` as a value of `ty` written in Rust, where the type has a literal
/// form that compares equal to it (`top`: the value itself, not inside another).
fn literal(ty: &Type, expr: &syn::Expr, top: bool, defs: &Defs) -> Option<TokenStream> {
    use syn::{Expr, Lit};
    match ty {
        Type::Paren(p) => literal(&p.elem, expr, top, defs),
        Type::Group(g) => literal(&g.elem, expr, top, defs),
        Type::Reference(r) => match &*r.elem {
            Type::Path(p) if p.path.is_ident("str") => match expr {
                Expr::Lit(l) if matches!(l.lit, Lit::Str(_)) => Some(expr.to_token_stream()),
                _ => None,
            },
            Type::Slice(slice) if top => {
                let Expr::Array(array) = expr else {
                    return None;
                };
                let elems = array
                    .elems
                    .iter()
                    .map(|e| literal(&slice.elem, e, false, defs))
                    .collect::<Option<Vec<_>>>()?;
                Some(quote!([#(#elems),*]))
            }
            // `&String` against a `&str`, `&u8` against `&1`.
            Type::Path(p) if top && last(&p.path) == Some("String") => {
                literal(&r.elem, expr, top, defs)
            }
            elem if top => {
                let inner = literal(elem, expr, false, defs)?;
                Some(quote!(&#inner))
            }
            _ => None,
        },
        Type::Tuple(tuple) => {
            let Expr::Tuple(values) = expr else {
                return None;
            };
            if values.elems.len() != tuple.elems.len() || tuple.elems.is_empty() {
                return None;
            }
            let elems = tuple
                .elems
                .iter()
                .zip(&values.elems)
                .map(|(t, e)| literal(t, e, false, defs))
                .collect::<Option<Vec<_>>>()?;
            Some(tuple_of(&elems))
        }
        Type::Array(array) => {
            let Expr::Array(values) = expr else {
                return None;
            };
            let elems = values
                .elems
                .iter()
                .map(|e| literal(&array.elem, e, false, defs))
                .collect::<Option<Vec<_>>>()?;
            Some(quote!([#(#elems),*]))
        }
        Type::Path(p) if p.qself.is_none() => literal_path(&p.path, expr, top, defs),
        _ => None,
    }
}

fn last(path: &syn::Path) -> Option<&str> {
    // Idents cannot be borrowed as `&str`; compare through a small table instead.
    let ident = &path.segments.last()?.ident;
    [
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
        "f32", "f64", "bool", "char", "String", "Option", "Result", "Vec", "Cow",
    ]
    .into_iter()
    .find(|name| ident == name)
}

fn literal_path(path: &syn::Path, expr: &syn::Expr, top: bool, defs: &Defs) -> Option<TokenStream> {
    use syn::{Expr, Lit};
    let args: Vec<&Type> = match &path.segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    fn lit(expr: &syn::Expr) -> Option<&syn::Lit> {
        match expr {
            syn::Expr::Lit(l) => Some(&l.lit),
            _ => None,
        }
    }
    let Some(name) = last(path) else {
        return literal_own(path, expr, defs);
    };
    match name {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" => match expr {
            Expr::Lit(l) if matches!(l.lit, Lit::Int(_)) => Some(expr.to_token_stream()),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) && lit(&u.expr).is_some() => {
                Some(expr.to_token_stream())
            }
            _ => None,
        },
        // Inside another value, exact: `Debug` prints the shortest text that reads back the same.
        "f32" | "f64" => match expr {
            Expr::Lit(l) if matches!(l.lit, Lit::Float(_) | Lit::Int(_)) => {
                Some(expr.to_token_stream())
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) && lit(&u.expr).is_some() => {
                Some(expr.to_token_stream())
            }
            _ => None,
        },
        "bool" => matches!(lit(expr)?, Lit::Bool(_)).then(|| expr.to_token_stream()),
        "char" => matches!(lit(expr)?, Lit::Char(_)).then(|| expr.to_token_stream()),
        "String" | "Cow" => {
            let Lit::Str(s) = lit(expr)? else {
                return None;
            };
            Some(if top {
                quote!(#s)
            } else {
                quote!(#s.to_owned())
            })
        }
        "Option" => match expr {
            Expr::Path(p) if p.path.is_ident("None") => Some(quote!(None)),
            Expr::Call(c) if is_ident(&c.func, "Some") && c.args.len() == 1 => {
                let inner = literal(args.first()?, &c.args[0], false, defs)?;
                Some(quote!(Some(#inner)))
            }
            _ => None,
        },
        "Result" => match expr {
            Expr::Call(c) if is_ident(&c.func, "Ok") && c.args.len() == 1 => {
                let inner = literal(args.first()?, &c.args[0], false, defs)?;
                Some(quote!(Ok(#inner)))
            }
            Expr::Call(c) if is_ident(&c.func, "Err") && c.args.len() == 1 => {
                let inner = literal(args.get(1)?, &c.args[0], false, defs)?;
                Some(quote!(Err(#inner)))
            }
            _ => None,
        },
        "Vec" => {
            let Expr::Array(array) = expr else {
                return None;
            };
            let elems = array
                .elems
                .iter()
                .map(|e| literal(args.first()?, e, false, defs))
                .collect::<Option<Vec<_>>>()?;
            Some(quote!(vec![#(#elems),*]))
        }
        _ => None,
    }
}

fn is_ident(expr: &syn::Expr, name: &str) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.path.is_ident(name))
}

/// A probe's runs become the test they show; a recorded test that did not build falls back
/// to its `Debug` form; the first probe of an item with nothing to record becomes the
/// scaffold.
impl Repairer for ObservingGenerator {
    fn repair_all(
        &self,
        requests: &[RepairRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error> {
        for (index, request) in requests.iter().enumerate() {
            let file = request.file;
            let impls = scaffold::impls(file);
            let std = StdNames::new(file.rules, file.type_defs);
            let mut tests = Vec::new();
            // Per item, its first failure this round with nothing to write, and why: the
            // scaffold goes there, should none of the item's calls give a test.
            let mut bare: Vec<(usize, String, &str, bool)> = Vec::new();
            let mut recorded: HashSet<usize> = HashSet::new();
            for failure in &request.failures {
                let Some(at) = file.items.iter().position(|i| i.name == failure.item) else {
                    continue;
                };
                let Ok(failed) = syn::parse_str::<syn::ItemFn>(&failure.code) else {
                    continue;
                };
                let (next, why) = self.next_form(file, at, &failed, failure);
                match next.and_then(|t| syn::parse_str::<syn::ItemFn>(&t).ok()) {
                    Some(function) => {
                        recorded.insert(at);
                        tests.push(GeneratedTest {
                            item: failure.item.clone(),
                            function,
                        });
                    }
                    None if bare.iter().any(|(a, ..)| *a == at) => {}
                    None => bare.push((
                        at,
                        failed.sig.ident.to_string(),
                        why,
                        is_scaffold(&failure.code),
                    )),
                }
            }
            for (at, name, why, was_scaffold) in bare {
                if recorded.contains(&at) {
                    continue;
                }
                let item = file.items[at];
                let function = if was_scaffold {
                    scaffold::fallback(item, &name)
                } else {
                    let mut function = scaffold::scaffold(item, &name, file, &impls, &std);
                    scaffold::say_why(&mut function, why);
                    function
                };
                tests.push(GeneratedTest {
                    item: item.name.clone(),
                    function,
                });
            }
            hand_over(done, progress, index, file.display, tests);
        }
        Ok(())
    }

    fn observes(&self) -> bool {
        true
    }
}

impl ObservingGenerator {
    /// The next test for a failed probe or recorded test (as tokens), and why there is none
    /// when there is none.
    fn next_form(
        &self,
        file: &FileRequest<'_>,
        at: usize,
        failed: &syn::ItemFn,
        failure: &super::Failure,
    ) -> (Option<String>, &'static str) {
        let item = file.items[at];
        let key = (file.display.to_owned(), failed.sig.ident.to_string());
        if !failure.code.contains(PROBE_MARK) {
            let next = self
                .fallbacks
                .lock()
                .expect("lock")
                .get_mut(&key)
                .and_then(|rest| (!rest.is_empty()).then(|| rest.remove(0)));
            return (
                next,
                "what its calls were seen to do did not hold when run again",
            );
        }
        let mut why = "its calls on chosen inputs did not build, or did not finish";
        let made = match (item.parse_stub(), observation(&failure.evidence)) {
            (Some(stub), Some(seen)) => {
                why = unobserved(&stub, &seen);
                // What only a debug build does (an overflow, a `debug_assert!`) is not what
                // `cargo test --release` does.
                let debug_only = item.source.contains("debug_assert");
                let mut made = forms(&stub, failed, &seen, file.type_defs, debug_only);
                if file.rules.no_std {
                    made.iter_mut().for_each(link_std);
                }
                made
            }
            _ => Vec::new(),
        };
        let mut made: Vec<String> = made
            .iter()
            .map(|f| f.to_token_stream().to_string())
            .collect();
        let first = (!made.is_empty()).then(|| made.remove(0));
        self.fallbacks.lock().expect("lock").insert(key, made);
        (first, why)
    }
}

fn is_scaffold(code: &str) -> bool {
    code.contains("testsmith scaffold:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &str) -> String {
        format!(
            "thread 't' panicked at src/lib.rs:9:5:\n{PROBE_MARK}\n{lines}\nnote: run with `RUST_BACKTRACE=1`"
        )
    }

    #[test]
    fn what_every_run_agrees_on_is_observed_and_what_differs_is_not() {
        let one = run("returned \"Ok(42)\"\nafter value \"Counter { count: 1 }\"");
        let two = run("returned \"Ok(42)\"\nafter value \"Counter { count: 2 }\"");
        let seen = observation(&[one.clone(), two].join(PROBE_RUNS)).unwrap();
        assert_eq!(seen.returned, Some(Some("Ok(42)".to_owned())));
        assert!(seen.after.is_empty(), "{seen:?}");
        let seen = observation(&[one.clone(), one.clone()].join(PROBE_RUNS)).unwrap();
        assert_eq!(
            seen.after,
            vec![("value".to_owned(), Some("Counter { count: 1 }".to_owned()))]
        );
        // A run that never got to the marker (a hang) agrees on nothing.
        assert!(observation(&[one, "TimedOut".to_owned()].join(PROBE_RUNS)).is_none());
        let panicked = observation(&run("panicked \"n must be at least 1\"")).unwrap();
        assert_eq!(panicked.panicked.as_deref(), Some("n must be at least 1"));
        assert_eq!(
            observation(&run("returned -")).unwrap().returned,
            Some(None)
        );
    }

    fn check(ty: &str, text: &str) -> Option<String> {
        let defs = Defs::from([
            (
                "Sign".to_owned(),
                "pub enum Sign { Negative, Zero, Positive(u8) }".to_owned(),
            ),
            (
                "Point".to_owned(),
                "pub struct Point { pub x: i32, pub name: String }".to_owned(),
            ),
            (
                "Secret".to_owned(),
                "pub struct Secret { x: i32 }".to_owned(),
            ),
        ]);
        let ty: Type = syn::parse_str(ty).unwrap();
        let call: syn::Expr = syn::parse_str("f()").unwrap();
        literal_check(&ty, text, &call, &defs).map(|t| t.to_string().replace(' ', ""))
    }

    #[test]
    fn debug_text_becomes_a_literal_of_the_type_where_it_has_one() {
        for (ty, text, written) in [
            ("u64", "1024", "assert_eq!(f(),1024);"),
            ("i8", "-1", "assert_eq!(f(),-1);"),
            ("String", "\"ab\"", "assert_eq!(f(),\"ab\");"),
            (
                "Option<String>",
                "Some(\"ab\")",
                "assert_eq!(f(),Some(\"ab\".to_owned()));",
            ),
            (
                "Result<Vec<u8>, String>",
                "Ok([1, 2])",
                "assert_eq!(f(),Ok(vec![1,2]));",
            ),
            ("(bool, char)", "(true, 'x')", "assert_eq!(f(),(true,'x'));"),
            ("&[u8]", "[3]", "assert_eq!(f(),[3]);"),
            ("&u8", "3", "assert_eq!(f(),&3);"),
            // The package's own: unit variants and structs whose fields are all pub.
            ("Sign", "Zero", "assert_eq!(f(),Sign::Zero);"),
            (
                "Point",
                "Point { x: 1, name: \"p\" }",
                "assert_eq!(f(),Point{x:1,name:\"p\".to_owned()});",
            ),
        ] {
            assert_eq!(check(ty, text).as_deref(), Some(written), "{ty}: {text}");
        }
        for (ty, text) in [
            ("Sign", "Positive(1)"),
            ("Secret", "Secret { x: 1 }"),
            ("Result<u8, MyError>", "Err(Bad)"),
            ("Box<u8>", "1"),
        ] {
            assert_eq!(check(ty, text), None, "{ty}: {text}");
        }
    }

    #[test]
    fn floats_are_asserted_within_a_tolerance_and_nan_as_nan() {
        assert_eq!(
            check("f64", "50.0").unwrap(),
            "assert!((f()-50.0).abs()<=5e-8);"
        );
        assert_eq!(
            check("f32", "0.5").unwrap(),
            "assert!((f()-0.5).abs()<=1e-5);"
        );
        assert_eq!(check("f64", "NaN").unwrap(), "assert!(f().is_nan());");
        assert_eq!(
            check("f64", "-inf").unwrap(),
            "assert_eq!(f(),f64::NEG_INFINITY);"
        );
    }

    fn probe_of(body: &str) -> syn::ItemFn {
        syn::parse_str(&format!(
            "fn test_f() {{ {body} let __testsmith_call = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| f(&x))); panic!() }}"
        ))
        .unwrap()
    }

    #[test]
    fn a_probe_becomes_the_test_of_what_it_showed_with_the_debug_form_to_fall_back_on() {
        let stub: syn::ItemFn = syn::parse_str("pub fn f(x: &u8) -> Option<u8> {}").unwrap();
        let probe = probe_of("let x = 3;");
        let seen = Observation {
            returned: Some(Some("Some(3)".to_owned())),
            ..Observation::default()
        };
        let made: Vec<String> = forms(&stub, &probe, &seen, &Defs::new(), false)
            .iter()
            .map(|f| f.to_token_stream().to_string().replace(' ', ""))
            .collect();
        assert_eq!(made.len(), 2, "{made:?}");
        // The call lends a local: it is bound first, outside the macro.
        assert!(
            made[0].contains("letresult=f(&x);assert_eq!(result,Some(3));"),
            "{}",
            made[0]
        );
        assert!(made[1].contains("assert_eq!(format!(\"{:?}\",result),\"Some(3)\");"));
        assert!(made.iter().all(|m| m.contains("Observedbehaviour")));
        let seen = Observation {
            panicked: Some("too big\nsecond line".to_owned()),
            ..Observation::default()
        };
        let made = forms(&stub, &probe, &seen, &Defs::new(), false);
        let text = made[0].to_token_stream().to_string();
        assert!(
            text.contains("should_panic (expected = \"too big\")"),
            "{text}"
        );
        // A map's order changes from run to run: nothing to assert.
        let unstable: syn::ItemFn =
            syn::parse_str("pub fn f(x: &u8) -> std::collections::HashMap<u8, u8> {}").unwrap();
        let seen = Observation {
            returned: Some(Some("{3: 3}".to_owned())),
            ..Observation::default()
        };
        assert!(forms(&unstable, &probe, &seen, &Defs::new(), false).is_empty());
    }

    #[test]
    fn a_no_std_test_links_std_only_for_what_it_uses() {
        let mut debug: syn::ItemFn =
            syn::parse_str("fn t() { assert_eq!(format!(\"{:?}\", f()), \"A\"); }").unwrap();
        link_std(&mut debug);
        let text = debug.to_token_stream().to_string();
        assert!(
            text.contains("extern crate std ; use std :: format ; assert_eq !"),
            "{text}"
        );
        assert!(!text.contains("vec") && !text.contains("ToOwned"), "{text}");
        let mut plain: syn::ItemFn = syn::parse_str("fn t() { assert_eq!(f(), 1); }").unwrap();
        link_std(&mut plain);
        assert!(!plain.to_token_stream().to_string().contains("extern crate"));
        // A name that ends in `Vec` is no use of std's.
        let mut own: syn::ItemFn = syn::parse_str(
            "fn t() { let v: SmallVec<[i32; 4]> = SmallVec::new(); let w: Vec<u8> = v.to_vec(); }",
        )
        .unwrap();
        link_std(&mut own);
        let text = own.to_token_stream().to_string();
        assert_eq!(text.matches("use std :: vec :: Vec").count(), 1, "{text}");
        let mut only_own: syn::ItemFn =
            syn::parse_str("fn t() { let v: SmallVec<[i32; 4]> = SmallVec::new(); }").unwrap();
        link_std(&mut only_own);
        assert!(
            !only_own
                .to_token_stream()
                .to_string()
                .contains("extern crate")
        );
    }

    #[test]
    fn what_reaches_outside_or_holds_a_hash_order_or_only_panics_in_debug_is_not_recorded() {
        assert_eq!(
            outside("pub fn pid() -> u32 { std::process::id() }"),
            Some("process::")
        );
        assert_eq!(
            outside("pub fn dir() -> &'static str { env!(\"CARGO_MANIFEST_DIR\") }"),
            Some("env!")
        );
        // A doc comment's words are not the body's.
        assert_eq!(
            outside("/// Reads fs::read\npub fn f(x: u8) -> u8 { x }"),
            None
        );
        assert!(unordered("{\"a\": 1, \"b\": 2}"));
        assert!(unordered("Config { names: {\"a\"} }"));
        assert!(!unordered("Counter { count: 1 }"));
        assert!(!unordered("\"{not a map}\""));
        let stub: syn::ItemFn = syn::parse_str("pub fn f(x: &u8) -> u8 {}").unwrap();
        let probe = probe_of("let x = 3;");
        let overflow = Observation {
            panicked: Some("attempt to multiply with overflow".to_owned()),
            ..Observation::default()
        };
        assert!(forms(&stub, &probe, &overflow, &Defs::new(), false).is_empty());
        let assertion = Observation {
            panicked: Some("x too big".to_owned()),
            ..Observation::default()
        };
        assert!(forms(&stub, &probe, &assertion, &Defs::new(), true).is_empty());
        assert_eq!(
            forms(&stub, &probe, &assertion, &Defs::new(), false).len(),
            1
        );
    }

    #[test]
    fn an_iterator_is_observed_through_what_it_yields() {
        let output = |sig: &str| syn::parse_str::<syn::ItemFn>(sig).unwrap().sig.output;
        let item = |sig: &str| iterated(&output(sig)).map(|t| t.to_token_stream().to_string());
        assert_eq!(
            item("fn f(s: &str) -> impl Iterator<Item = &str> + '_ {}").as_deref(),
            Some("& str")
        );
        assert_eq!(
            item("fn f() -> impl DoubleEndedIterator<Item = u8> {}").as_deref(),
            Some("u8")
        );
        assert_eq!(item("fn f() -> impl Display {}"), None);
        assert_eq!(item("fn f() -> Vec<u8> {}"), None);
    }
}
