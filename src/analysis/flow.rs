//! A light type flow through test code: which value each method call, operator or piece of
//! trait sugar acts on, as a symbolic [`Val`] built from syntax alone (`bag.items()` is "what
//! `items` returns on what `Bag::new` returns"). The package's signatures, gathered from every
//! file ([`signatures`]), give those values their types later, when the package is known
//! ([`Signatures::resolve`]): a method or a trait's sugar is then credited to the type of the
//! value it acts on, not to any type the test happens to name.

use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, Pat, Type};

/// What a value is, as far as syntax tells.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Val {
    /// Of a type the code names: a struct literal, an annotation, `Type(…)`, `parse::<Type>`.
    Named(String),
    /// What `Type::name(…)` (or a free fn `name(…)` when `ty` is `None`) returns; `Type::Name`
    /// as a value is a variant or constant of `Type`.
    Call {
        ty: Option<String>,
        name: String,
    },
    /// What method `name` returns on `on`.
    Method {
        on: Box<Val>,
        name: String,
    },
    /// The value inside an `Option` or `Result` (`?`, `unwrap`, `if let Some(x)`).
    Unwrapped(Box<Val>),
    /// A reference to the value (`&bag`): `for x in &bag` uses the impl for `&Bag`.
    Ref(Box<Val>),
    Unknown,
}

/// One thing test code does to a value: a method call (`next`), or the sugar it writes
/// (`for`, `==`, `[]`, `neg-`, `to_string` for a `{}` placeholder, `dbg!` for a `{:?}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Use {
    pub on: Val,
    pub what: String,
}

/// A type as a return type names it: its last segment, and whether it is wrapped in an
/// `Option` or `Result` (what `?` and `unwrap` take off).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Typed {
    pub name: String,
    pub wrapped: bool,
    /// A reference (`&Bag`), for the impls of `&Bag`.
    pub by_ref: bool,
}

/// What the package's fns return, by (self type, fn name); `None` for a free fn. A key two
/// fns answer differently is ambiguous, and left out.
#[derive(Clone, Debug, Default)]
pub struct Signatures {
    /// Keyed by the self type's name (`&Bag` for an impl for references), or `None`.
    returns: HashMap<(Option<String>, String), Option<Typed>>,
    /// (type, name) of every inherent method: a method call of that name on the type calls
    /// it, never a trait's method of the same name.
    inherent: HashSet<(String, String)>,
}

/// Methods of `Option` and `Result` that give the value inside.
const UNWRAPS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "unwrap_unchecked",
    "unwrap_err",
    "expect_err",
];

/// Methods of `Option` and `Result` that keep the value inside where it is.
const KEEP_WRAPPED: &[&str] = &["as_ref", "as_mut", "ok", "cloned", "copied", "take"];

/// Methods that give back a value of the receiver's own type, whatever the type.
const SAME_TYPE: &[&str] = &["clone", "to_owned", "by_ref"];

/// Sugar whose target is the value made, not the receiver: `s.parse::<Version>()` uses
/// `Version`'s `FromStr`.
const MADE: &[&str] = &["parse", "collect", "into", "try_into"];

/// What a made value's sugar is recorded as: `made:parse` on `Version` for
/// `s.parse::<Version>()`, apart from `parse` on the receiver.
pub const MADE_PREFIX: &str = "made:";

/// Deeper than this, a value is not followed (a chain of a hundred calls is not a test's).
const DEPTH: usize = 32;

impl Signatures {
    pub fn is_empty(&self) -> bool {
        self.returns.is_empty() && self.inherent.is_empty()
    }

    pub fn extend(&mut self, other: &Signatures) {
        for (key, typed) in &other.returns {
            self.add(key.clone(), typed.clone());
        }
        self.inherent.extend(other.inherent.iter().cloned());
    }

    fn add(&mut self, key: (Option<String>, String), typed: Option<Typed>) {
        self.returns
            .entry(key)
            .and_modify(|known| {
                if *known != typed {
                    *known = None;
                }
            })
            .or_insert(typed);
    }

    /// The type of `val`, where the signatures tell it.
    fn resolve(&self, val: &Val) -> Option<Typed> {
        self.resolve_within(val, DEPTH)
    }

    fn resolve_within(&self, val: &Val, depth: usize) -> Option<Typed> {
        let depth = depth.checked_sub(1)?;
        let plain = |name: &str| Typed {
            name: name.to_owned(),
            wrapped: false,
            by_ref: false,
        };
        match val {
            Val::Named(name) => Some(plain(name)),
            Val::Call { ty, name } => {
                match self.returns.get(&(ty.clone(), name.clone())) {
                    Some(typed) => typed.clone(),
                    // `Sign::Plus`, `Wrapper(3)`: a variant or constructor of the type.
                    None if starts_upper(name) => Some(plain(ty.as_deref().unwrap_or(name))),
                    None => None,
                }
            }
            Val::Method { on, name } => {
                let on = self.resolve_within(on, depth)?;
                if on.wrapped {
                    return if UNWRAPS.contains(&name.as_str()) {
                        Some(Typed {
                            wrapped: false,
                            ..on
                        })
                    } else if KEEP_WRAPPED.contains(&name.as_str()) {
                        Some(on)
                    } else {
                        None
                    };
                }
                if SAME_TYPE.contains(&name.as_str()) {
                    return Some(Typed {
                        by_ref: false,
                        ..on
                    });
                }
                let by_ref = on
                    .by_ref
                    .then(|| (Some(format!("&{}", on.name)), name.clone()));
                by_ref
                    .and_then(|key| self.returns.get(&key))
                    .or_else(|| self.returns.get(&(Some(on.name), name.clone())))
                    .cloned()
                    .flatten()
            }
            Val::Unwrapped(inner) => {
                let inner = self.resolve_within(inner, depth)?;
                inner.wrapped.then_some(Typed {
                    wrapped: false,
                    ..inner
                })
            }
            Val::Ref(inner) => self.resolve_within(inner, depth).map(|typed| Typed {
                by_ref: true,
                ..typed
            }),
            Val::Unknown => None,
        }
    }
}

fn starts_upper(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}

/// The return types of every fn in `file` (private ones too: a test calls its own module's
/// helpers), by self type and name.
pub fn signatures(file: &syn::File) -> Signatures {
    let mut collector = SignatureCollector::default();
    collector.visit_file(file);
    collector.signatures
}

#[derive(Default)]
struct SignatureCollector {
    signatures: Signatures,
}

impl<'ast> Visit<'ast> for SignatureCollector {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        // A fn that returns nothing (every test) tells nothing, and hides no other.
        if !matches!(f.sig.output, syn::ReturnType::Default) {
            let typed = returned(&f.sig, None, &HashMap::new());
            self.signatures.add((None, f.sig.ident.to_string()), typed);
        }
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        let typed = Some(Typed {
            name: e.ident.to_string(),
            wrapped: false,
            by_ref: false,
        });
        // `Left(3)` (imported) and `Either::Left(3)` both make an `Either`.
        for variant in &e.variants {
            let name = variant.ident.to_string();
            self.signatures.add((None, name.clone()), typed.clone());
            self.signatures
                .add((Some(e.ident.to_string()), name), typed.clone());
        }
    }

    fn visit_item_impl(&mut self, imp: &'ast syn::ItemImpl) {
        let Some(self_name) = type_name(&imp.self_ty) else {
            return;
        };
        let key = if self_name.by_ref {
            format!("&{}", self_name.name)
        } else {
            self_name.name.clone()
        };
        let assoc: HashMap<String, &Type> = imp
            .items
            .iter()
            .filter_map(|item| match item {
                syn::ImplItem::Type(t) => Some((t.ident.to_string(), &t.ty)),
                _ => None,
            })
            .collect();
        for item in &imp.items {
            if let syn::ImplItem::Fn(f) = item {
                let name = f.sig.ident.to_string();
                if imp.trait_.is_none() {
                    self.signatures
                        .inherent
                        .insert((self_name.name.clone(), name.clone()));
                }
                if matches!(f.sig.output, syn::ReturnType::Default) {
                    continue;
                }
                let typed = returned(&f.sig, Some(&self_name.name), &assoc);
                self.signatures.add((Some(key.clone()), name), typed);
            }
        }
    }
}

/// What `sig` returns, with `Self` as `self_name` and `Self::Assoc` looked up in `assoc`;
/// `None` for a generic parameter, `impl Trait`, a tuple, or nothing.
fn returned(
    sig: &syn::Signature,
    self_name: Option<&str>,
    assoc: &HashMap<String, &Type>,
) -> Option<Typed> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let generics: HashSet<String> = sig
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    let mut typed = resolve_type(ty, self_name, assoc, DEPTH)?;
    if generics.contains(&typed.name) {
        return None;
    }
    typed.by_ref = false;
    Some(typed)
}

fn resolve_type(
    ty: &Type,
    self_name: Option<&str>,
    assoc: &HashMap<String, &Type>,
    depth: usize,
) -> Option<Typed> {
    let depth = depth.checked_sub(1)?;
    if let Type::Path(path) = ty
        && path.qself.is_none()
        && path.path.segments.len() == 2
        && path.path.segments[0].ident == "Self"
    {
        let name = path.path.segments[1].ident.to_string();
        return resolve_type(assoc.get(&name)?, self_name, assoc, depth);
    }
    let mut typed = type_name(ty)?;
    if typed.name == "Self" {
        typed.name = self_name?.to_owned();
    }
    if let Some(inner) = &typed.inner {
        let inner = resolve_type(inner, self_name, assoc, depth)?;
        return Some(Typed {
            name: inner.name,
            wrapped: typed.wrapped || inner.wrapped,
            by_ref: typed.by_ref,
        });
    }
    Some(Typed {
        name: typed.name,
        wrapped: false,
        by_ref: typed.by_ref,
    })
}

/// A type's name as a path names it (`Bag` for `&mut bag::Bag<T>`), with what it wraps: the
/// first argument of `Option`/`Result` (wrapped) or of a pointer (`Box`, `Rc`, `Arc`), which
/// method calls see through.
struct Named<'a> {
    name: String,
    inner: Option<&'a Type>,
    wrapped: bool,
    by_ref: bool,
}

fn type_name(ty: &Type) -> Option<Named<'_>> {
    match ty {
        Type::Reference(r) => type_name(&r.elem).map(|named| Named {
            by_ref: true,
            ..named
        }),
        Type::Paren(p) => type_name(&p.elem),
        Type::Group(g) => type_name(&g.elem),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let name = last.ident.to_string();
            let first_argument = || match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => {
                    args.args.iter().find_map(|arg| match arg {
                        syn::GenericArgument::Type(ty) => Some(ty),
                        _ => None,
                    })
                }
                _ => None,
            };
            let (inner, wrapped) = match name.as_str() {
                "Option" | "Result" => (Some(first_argument()?), true),
                "Box" | "Rc" | "Arc" => (Some(first_argument()?), false),
                _ => (None, false),
            };
            Some(Named {
                name,
                inner,
                wrapped,
                by_ref: false,
            })
        }
        _ => None,
    }
}

/// The uses in one item of test code (a test module, a test fn), and what the fns it defines
/// return.
pub fn scan_item_uses(item: &syn::Item, uses: &mut HashSet<Use>, defined: &mut Signatures) {
    let mut collector = SignatureCollector::default();
    collector.visit_item(item);
    defined.extend(&collector.signatures);
    let mut flow = Flow::default();
    flow.visit_item(item);
    uses.extend(flow.uses);
}

/// The uses in a stretch of test code (a file, a doc test's statements), and what the fns it
/// defines return; nothing when it does not parse as items or as statements.
pub fn scan_uses(tokens: &TokenStream, uses: &mut HashSet<Use>, defined: &mut Signatures) {
    let mut flow = Flow::default();
    if let Ok(file) = syn::parse2::<syn::File>(tokens.clone()) {
        defined.extend(&signatures(&file));
        flow.visit_file(&file);
    } else if let Ok(stmts) = syn::parse::Parser::parse2(syn::Block::parse_within, tokens.clone()) {
        flow.scopes.push(HashMap::new());
        for stmt in &stmts {
            flow.visit_stmt(stmt);
        }
    }
    uses.extend(flow.uses);
}

#[derive(Default)]
struct Flow {
    /// Locals by name, innermost scope last.
    scopes: Vec<HashMap<String, Val>>,
    uses: Vec<Use>,
}

impl Flow {
    fn local(&self, name: &str) -> Option<&Val> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name))
    }

    fn bind(&mut self, pat: &Pat, val: Val) {
        match pat {
            Pat::Ident(ident) => {
                // Dropped when its scope ends: `Drop` is used by every binding.
                self.used(val.clone(), "drop");
                if let Some(scope) = self.scopes.last_mut() {
                    scope.insert(ident.ident.to_string(), val);
                }
            }
            Pat::Type(typed) => {
                let val = annotated(&typed.ty).unwrap_or(val);
                self.bind(&typed.pat, val);
            }
            Pat::TupleStruct(tuple)
                if tuple.elems.len() == 1
                    && tuple
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "Some" || s.ident == "Ok") =>
            {
                self.bind(&tuple.elems[0], Val::Unwrapped(Box::new(val)));
            }
            Pat::Reference(r) => self.bind(&r.pat, val),
            Pat::Paren(p) => self.bind(&p.pat, val),
            _ => self.bind_unknown(pat),
        }
    }

    /// Bind every name in `pat` as a value of unknown type (a tuple's parts, a closure's
    /// parameters), so they hide outer locals of the same name.
    fn bind_unknown(&mut self, pat: &Pat) {
        struct Names<'a>(&'a mut Vec<String>);
        impl<'ast> Visit<'ast> for Names<'_> {
            fn visit_pat_ident(&mut self, ident: &'ast syn::PatIdent) {
                self.0.push(ident.ident.to_string());
            }
        }
        let mut names = Vec::new();
        Names(&mut names).visit_pat(pat);
        if let Some(scope) = self.scopes.last_mut() {
            for name in names {
                scope.insert(name, Val::Unknown);
            }
        }
    }

    /// Record a use; one on a value of unknown type too, which says a method of that name was
    /// called on something that may be the crate's.
    fn used(&mut self, on: Val, what: &str) {
        self.uses.push(Use {
            on,
            what: what.to_owned(),
        });
    }

    /// What `expr` evaluates to, from syntax and the locals in scope (nothing is recorded).
    fn val(&self, expr: &Expr) -> Val {
        match expr {
            Expr::Path(path) if path.qself.is_none() => {
                let segments = &path.path.segments;
                match segments.len() {
                    1 => {
                        let name = segments[0].ident.to_string();
                        self.local(&name).cloned().unwrap_or(Val::Unknown)
                    }
                    _ => path_call(&path.path),
                }
            }
            Expr::Call(call) => match &*call.func {
                Expr::Path(path) if path.qself.is_none() => path_call(&path.path),
                _ => Val::Unknown,
            },
            Expr::MethodCall(call) => {
                let name = call.method.to_string();
                if MADE.contains(&name.as_str())
                    && let Some(made) = call.turbofish.as_ref().and_then(|t| t.args.first())
                    && let syn::GenericArgument::Type(ty) = made
                {
                    return annotated(ty).unwrap_or(Val::Unknown);
                }
                Val::Method {
                    on: Box::new(self.val(&call.receiver)),
                    name,
                }
            }
            Expr::Try(t) => Val::Unwrapped(Box::new(self.val(&t.expr))),
            Expr::Reference(r) => Val::Ref(Box::new(self.val(&r.expr))),
            Expr::Paren(p) => self.val(&p.expr),
            Expr::Group(g) => self.val(&g.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => match self.val(&u.expr) {
                Val::Ref(inner) => *inner,
                other => other,
            },
            Expr::Struct(s) if s.qself.is_none() => s
                .path
                .segments
                .last()
                .map_or(Val::Unknown, |last| Val::Named(last.ident.to_string())),
            Expr::Cast(cast) => annotated(&cast.ty).unwrap_or(Val::Unknown),
            // Every arm or branch has the same type: the first one says which.
            Expr::Match(m) => m
                .arms
                .first()
                .map_or(Val::Unknown, |arm| self.val(&arm.body)),
            Expr::If(i) => self.tail(&i.then_branch),
            Expr::Block(b) => self.tail(&b.block),
            Expr::Unsafe(u) => self.tail(&u.block),
            _ => Val::Unknown,
        }
    }

    /// The bodies of a test's own `macro_rules!`, read as statements with each `$name` as a
    /// local of unknown type (the matchers do not parse, and are passed over).
    fn visit_macro_rules(&mut self, tokens: TokenStream) {
        for tree in tokens {
            if let proc_macro2::TokenTree::Group(group) = tree {
                let body = without_dollars(group.stream());
                if let Ok(stmts) = syn::parse::Parser::parse2(syn::Block::parse_within, body) {
                    self.scopes.push(HashMap::new());
                    for stmt in &stmts {
                        self.visit_stmt(stmt);
                    }
                    self.scopes.pop();
                }
            }
        }
    }

    /// The value a block ends with (its locals are not in scope here).
    fn tail(&self, block: &syn::Block) -> Val {
        match block.stmts.last() {
            Some(syn::Stmt::Expr(expr, None)) => self.val(expr),
            _ => Val::Unknown,
        }
    }

    /// A macro's arguments, where they parse as expressions: walked, and the uses its format
    /// string and comparisons make recorded.
    fn visit_macro_args(&mut self, mac: &syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let Ok(args) = mac.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        else {
            return;
        };
        let args: Vec<&Expr> = args.iter().collect();
        for arg in &args {
            self.visit_expr(arg);
        }
        // The place of the format string, for the macros that take one.
        let format_at = match name.as_str() {
            "format" | "print" | "println" | "eprint" | "eprintln" | "format_args" | "panic" => {
                Some(0)
            }
            "write" | "writeln" | "assert" | "debug_assert" => Some(1),
            "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => {
                for arg in args.iter().take(2) {
                    let on = self.val(arg);
                    self.used(on, "assert_eq!");
                }
                Some(2)
            }
            "dbg" => {
                for arg in &args {
                    let on = self.val(arg);
                    self.used(on, "dbg!");
                }
                None
            }
            _ => None,
        };
        if let Some(at) = format_at
            && let Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(format),
                ..
            })) = args.get(at)
        {
            self.format_uses(&format.value(), &args[at + 1..]);
        }
    }

    /// The uses of a format string's placeholders: `{}` (`to_string`, Display's) and `{:?}`
    /// (`dbg!`, Debug's), on the argument each takes, positional or captured by name.
    fn format_uses(&mut self, format: &str, args: &[&Expr]) {
        let mut next = 0;
        let mut rest = format;
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            if let Some(after) = rest.strip_prefix('{') {
                rest = after;
                continue;
            }
            let Some(close) = rest.find('}') else { break };
            let spec = &rest[..close];
            rest = &rest[close + 1..];
            let (argument, format) = spec.split_once(':').unwrap_or((spec, ""));
            let what = if format.contains('?') {
                "dbg!"
            } else {
                "to_string"
            };
            let on = if argument.is_empty() {
                next += 1;
                args.get(next - 1).map(|arg| self.val(arg))
            } else if let Ok(index) = argument.parse::<usize>() {
                args.get(index).map(|arg| self.val(arg))
            } else {
                let named = args.iter().find_map(|arg| match arg {
                    Expr::Assign(assign) => matches!(&*assign.left, Expr::Path(p)
                        if p.path.is_ident(argument))
                    .then(|| self.val(&assign.right)),
                    _ => None,
                });
                named.or_else(|| self.local(argument).cloned())
            };
            if let Some(on) = on {
                self.used(on, what);
            }
        }
    }
}

/// `tokens` with each `$name` as `name` (a macro's metavariables as plain locals).
fn without_dollars(tokens: TokenStream) -> TokenStream {
    use proc_macro2::TokenTree;
    tokens
        .into_iter()
        .filter(|tree| !matches!(tree, TokenTree::Punct(p) if p.as_char() == '$'))
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), without_dollars(group.stream()));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other,
        })
        .collect()
}

/// `Type::name` or `name` called (or named, for a variant or constant): the type is the
/// segment before the last where there is one and it names a type.
fn path_call(path: &syn::Path) -> Val {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let name = segments.last().cloned().unwrap_or_default();
    let ty = segments
        .len()
        .checked_sub(2)
        .map(|i| segments[i].clone())
        .filter(|ty| starts_upper(ty));
    Val::Call { ty, name }
}

/// The value an annotation names (`let v: Version = …`, `parse::<Version>()`).
fn annotated(ty: &Type) -> Option<Val> {
    let named = type_name(ty)?;
    if named.name == "_" {
        return None;
    }
    let val = match named.inner {
        Some(inner) if !named.wrapped => return annotated(inner),
        _ => Val::Named(named.name),
    };
    Some(if named.by_ref {
        Val::Ref(Box::new(val))
    } else {
        val
    })
}

impl<'ast> Visit<'ast> for Flow {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.scopes.push(HashMap::new());
        for input in &f.sig.inputs {
            if let syn::FnArg::Typed(param) = input {
                let val = annotated(&param.ty).unwrap_or(Val::Unknown);
                self.bind(&param.pat, val);
            }
        }
        self.visit_block(&f.block);
        self.scopes.pop();
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.scopes.push(HashMap::new());
        syn::visit::visit_block(self, block);
        self.scopes.pop();
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        let Some(init) = &local.init else {
            self.bind_unknown(&local.pat);
            return;
        };
        self.visit_expr(&init.expr);
        if let Some((_, diverge)) = &init.diverge {
            self.visit_expr(diverge);
        }
        let val = self.val(&init.expr);
        // `let v: Version = s.parse().unwrap()`: the annotation names what `parse` made.
        if let Pat::Type(typed) = &local.pat
            && let Some(target) = annotated(&typed.ty)
            && let Some(made) = made_by(&init.expr)
        {
            self.used(target, &format!("{MADE_PREFIX}{made}"));
        }
        self.bind(&local.pat, val);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        syn::visit::visit_expr_method_call(self, call);
        let name = call.method.to_string();
        if MADE.contains(&name.as_str()) {
            let made = self.val(&Expr::MethodCall(call.clone()));
            self.used(made, &format!("{MADE_PREFIX}{name}"));
        }
        let on = self.val(&call.receiver);
        self.used(on, &name);
        // What a call makes is dropped, bound or not.
        let made = self.val(&Expr::MethodCall(call.clone()));
        self.used(made, "drop");
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        syn::visit::visit_expr_call(self, call);
        let made = self.val(&Expr::Call(call.clone()));
        self.used(made, "drop");
        if let Expr::Path(path) = &*call.func
            && path.path.is_ident("drop")
            && let Some(arg) = call.args.first()
        {
            let on = self.val(arg);
            self.used(on, "drop");
        }
    }

    fn visit_expr_binary(&mut self, binary: &'ast syn::ExprBinary) {
        syn::visit::visit_expr_binary(self, binary);
        let op = operator(&binary.op);
        let on = self.val(&binary.left);
        self.used(on, &op);
    }

    fn visit_expr_unary(&mut self, unary: &'ast syn::ExprUnary) {
        syn::visit::visit_expr_unary(self, unary);
        let what = match unary.op {
            syn::UnOp::Deref(_) => "deref*",
            syn::UnOp::Not(_) => "!",
            syn::UnOp::Neg(_) => "neg-",
            _ => return,
        };
        let on = self.val(&unary.expr);
        self.used(on, what);
    }

    fn visit_expr_index(&mut self, index: &'ast syn::ExprIndex) {
        syn::visit::visit_expr_index(self, index);
        let on = self.val(&index.expr);
        self.used(on, "[]");
    }

    fn visit_expr_for_loop(&mut self, for_loop: &'ast syn::ExprForLoop) {
        self.visit_expr(&for_loop.expr);
        let on = self.val(&for_loop.expr);
        self.used(on, "for");
        self.scopes.push(HashMap::new());
        self.bind_unknown(&for_loop.pat);
        self.visit_block(&for_loop.body);
        self.scopes.pop();
    }

    fn visit_expr_let(&mut self, expr: &'ast syn::ExprLet) {
        self.visit_expr(&expr.expr);
        let val = self.val(&expr.expr);
        // The binding lives in the `if`'s block; a scope of its own is close enough.
        self.bind(&expr.pat, val);
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        self.scopes.push(HashMap::new());
        for input in &closure.inputs {
            match input {
                Pat::Type(typed) => {
                    let val = annotated(&typed.ty).unwrap_or(Val::Unknown);
                    self.bind(&typed.pat, val);
                }
                pat => self.bind_unknown(pat),
            }
        }
        self.visit_expr(&closure.body);
        self.scopes.pop();
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.is_ident("macro_rules") {
            self.visit_macro_rules(mac.tokens.clone());
        } else {
            self.visit_macro_args(mac);
        }
    }
}

/// Which made-value sugar (`parse`, `collect`, `into`, `try_into`) ends `expr`, seen through
/// `?` and the unwrapping methods.
fn made_by(expr: &Expr) -> Option<&'static str> {
    match expr {
        Expr::Try(t) => made_by(&t.expr),
        Expr::Paren(p) => made_by(&p.expr),
        Expr::MethodCall(call) => {
            let name = call.method.to_string();
            if let Some(made) = MADE.iter().find(|m| **m == name) {
                return Some(made);
            }
            UNWRAPS
                .contains(&name.as_str())
                .then(|| made_by(&call.receiver))
                .flatten()
        }
        _ => None,
    }
}

/// The operator as written (`+`, `==`, `+=`), as the call scanner records it.
fn operator(op: &syn::BinOp) -> String {
    quote::ToTokens::to_token_stream(op)
        .to_string()
        .replace(' ', "")
}

/// What test code does to values whose types the signatures tell.
#[derive(Debug, Default)]
pub struct TypedUses {
    /// (type, what, by reference).
    pub typed: HashSet<(String, String, bool)>,
    /// What is done to values of unknown type (a method called on a closure's parameter).
    pub untyped: HashSet<String>,
    /// (type, method) of the inherent methods called on their own type.
    pub inherent: HashSet<(String, String)>,
}

/// What `uses` do to values whose type `signatures` tell, and what to values it does not.
pub fn resolve_uses(uses: &HashSet<Use>, signatures: &Signatures) -> TypedUses {
    let mut out = TypedUses::default();
    for u in uses {
        match signatures.resolve(&u.on).filter(|t| !t.wrapped) {
            Some(typed) => {
                let key = (typed.name, u.what.clone());
                if signatures.inherent.contains(&key) {
                    out.inherent.insert(key.clone());
                }
                out.typed.insert((key.0, key.1, typed.by_ref));
            }
            None => {
                out.untyped.insert(u.what.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(package: &str, tests: &str) -> TypedUses {
        let signatures = signatures(&syn::parse_file(package).unwrap());
        let (mut uses, mut own) = (HashSet::new(), Signatures::default());
        scan_uses(&tests.parse().unwrap(), &mut uses, &mut own);
        resolve_uses(&uses, &signatures)
    }

    fn has(typed: &TypedUses, ty: &str, what: &str, by_ref: bool) -> bool {
        typed
            .typed
            .contains(&(ty.to_owned(), what.to_owned(), by_ref))
    }

    #[test]
    fn values_get_their_types_from_the_package_signatures() {
        let package = "pub struct Slab;\npub struct IntoIter;\npub struct Iter;\n\
impl Slab {\n    pub fn new() -> Self { Slab }\n    pub fn get(&self) -> Option<&Slab> { None }\n}\n\
impl IntoIterator for Slab {\n    type Item = u8;\n    type IntoIter = IntoIter;\n    fn into_iter(self) -> Self::IntoIter { IntoIter }\n}\n\
impl<'a> IntoIterator for &'a Slab {\n    type Item = u8;\n    type IntoIter = Iter;\n    fn into_iter(self) -> Iter { Iter }\n}\n\
pub fn make() -> Result<Slab, ()> { Ok(Slab) }\n\
pub fn helper() -> u8 { 1 }\nmod other {\n    pub fn helper() -> u16 { 1 }\n}\n";
        let tests = "fn t() {\n    let s = Slab::new();\n    let mut it = s.into_iter();\n    it.next();\n    \
for x in &s {}\n    let r = make().unwrap();\n    r.len();\n    let g = s.get().unwrap();\n    g.peek();\n    \
helper().count_ones();\n    let c = 'a';\n    assert_eq!(c.to_string(), \"a\");\n}\n";
        let typed = typed(package, tests);
        // `Self::IntoIter` resolved in the impl, the by-value impl's, not the reference's.
        assert!(has(&typed, "IntoIter", "next", false), "{typed:?}");
        assert!(has(&typed, "Slab", "for", true), "{typed:?}");
        // Through `Result` and `Option`, taken off by `unwrap`.
        assert!(has(&typed, "Slab", "len", false), "{typed:?}");
        assert!(has(&typed, "Slab", "peek", false), "{typed:?}");
        // Two free fns named alike: no type. A `char` literal: no type either.
        assert!(typed.untyped.contains("count_ones"), "{typed:?}");
        assert!(typed.untyped.contains("to_string"), "{typed:?}");
        assert!(!typed.typed.iter().any(|(_, what, _)| what == "to_string"));
    }
}
