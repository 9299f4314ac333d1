//! The offline generator: for each item a `#[test]` that builds arguments where the types allow,
//! calls the item and ends in a `todo!()` naming what to assert. It is `#[ignore]`d, so
//! `cargo test` stays green and `cargo test -- --ignored` lists the work left.

use std::collections::{BTreeMap, HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{FnArg, GenericParam, Pat, ReceiverKind, ReturnType, Type, WherePredicate};

use super::args::{Arg, Env, Literals, NO_LITERALS, StdNames, choose, elide_lifetimes, expr_path};
use super::{
    FileRequest, GeneratedTest, Generator, Progress, RepairRequest, Repairer, Sink, hand_over,
};
use crate::analysis::{self, Import, PublicFn, SugarCall, compact};
use crate::error::Error;
use crate::rules::{Level, Rules};

/// Generates scaffolds; needs no network and no configuration.
pub struct ScaffoldGenerator;

/// A scaffold that does not compile under the crate's rules falls back to the lone `todo!()`
/// form, which names nothing but the item.
impl Repairer for ScaffoldGenerator {
    fn repair_all(
        &self,
        requests: &[RepairRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error> {
        for (index, request) in requests.iter().enumerate() {
            let tests = request
                .failures
                .iter()
                .filter_map(|failure| {
                    let file = request.file;
                    let at = file.items.iter().position(|i| i.name == failure.item)?;
                    let item = file.items[at];
                    Some(GeneratedTest {
                        item: item.name.clone(),
                        function: fallback(item, &file.test_names[at]),
                    })
                })
                .collect();
            hand_over(done, progress, index, request.file.display, tests);
        }
        Ok(())
    }
}

impl Generator for ScaffoldGenerator {
    fn generate_all(
        &self,
        requests: &[FileRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error> {
        each_item(
            requests,
            progress,
            done,
            &|item, name, request, impls, std| {
                vec![GeneratedTest {
                    item: item.name.clone(),
                    function: scaffold(item, name, request, impls, std),
                }]
            },
        );
        Ok(())
    }
}

/// What an offline generator makes of one item: its name's test fns.
pub(super) type PerItem = dyn Fn(
        &PublicFn,
        &str,
        &FileRequest<'_>,
        &HashMap<&str, Option<syn::ItemImpl>>,
        &StdNames,
    ) -> Vec<GeneratedTest>
    + Sync;

/// Each file's tests, `make` called per item (files in parallel), handed to `done`.
pub(super) fn each_item(
    requests: &[FileRequest<'_>],
    progress: &dyn Progress,
    done: &Sink<'_>,
    make: &PerItem,
) {
    use rayon::prelude::*;
    requests
        .par_iter()
        .enumerate()
        .for_each(|(index, request)| {
            let impls = impls(request);
            let std = StdNames::new(request.rules, request.type_defs);
            let tests = request
                .items
                .iter()
                .zip(&request.test_names)
                .flat_map(|(item, name)| make(item, name, request, &impls, &std))
                .collect();
            hand_over(done, progress, index, request.display, tests);
        });
}

/// The impl headers of a request's methods: the methods of one impl share its header, parsed
/// once.
pub(super) fn impls<'r>(request: &'r FileRequest<'_>) -> HashMap<&'r str, Option<syn::ItemImpl>> {
    let mut impls = HashMap::new();
    for block in request.items.iter().filter_map(|i| i.impl_block.as_ref()) {
        impls
            .entry(block.stub.as_str())
            .or_insert_with(|| block.parse_stub());
    }
    impls
}

/// What the body could not fill in, which decides the `todo!` text and the lints to allow.
#[derive(Default, Debug, PartialEq, Eq)]
pub(super) struct Gaps {
    /// Arguments or a receiver stand in as `todo!()`, so the call is unreachable.
    pub placeholders: bool,
    /// The call is in an `unsafe` block.
    pub unsafe_block: bool,
    /// The test is an `async fn` under `#[tokio::test]`, awaiting the call.
    pub awaits: bool,
}

/// A method of a std trait that std deprecated: calling a crate's impl of it by the trait's
/// path warns, whatever the impl says (`Error::description` and `Error::cause`).
pub(super) fn deprecated_in_std(item: &PublicFn) -> bool {
    const DEPRECATED: &[(&str, &str)] = &[("Error", "description"), ("Error", "cause")];
    let trait_name = item
        .impl_block
        .as_ref()
        .and_then(|block| block.trait_.as_ref())
        .map(|t| t.name.as_str());
    trait_name.is_some_and(|t| DEPRECATED.contains(&(t, item.ident.as_str())))
}

/// `-> !`: whatever follows the call is unreachable.
pub(super) fn returns_never(item: &PublicFn) -> bool {
    item.parse_stub().is_some_and(
        |f| matches!(&f.sig.output, syn::ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_))),
    )
}

impl Gaps {
    /// The lints a scaffold that calls `item` must allow, in groups of one attribute each.
    fn allows(&self, item: &PublicFn, rules: &Rules) -> Vec<&'static [&'static str]> {
        let mut allows: Vec<&'static [&'static str]> = Vec::new();
        if item.deprecated || deprecated_in_std(item) {
            allows.push(&["deprecated"]);
        }
        if self.placeholders {
            allows.push(&["unreachable_code", "unused_variables", "unused_mut"]);
        } else if returns_never(item) {
            // The `todo!()` after a call that never returns is unreachable.
            allows.push(&["unreachable_code"]);
        }
        if self.unsafe_block && rules.level("unsafe_code") > Level::Allow {
            allows.push(&["unsafe_code"]);
        }
        allows
    }
}

pub(super) fn scaffold(
    item: &PublicFn,
    name: &str,
    request: &FileRequest<'_>,
    impls: &HashMap<&str, Option<syn::ItemImpl>>,
    std: &StdNames,
) -> syn::ItemFn {
    let stub = item.parse_stub();
    if let Some(t) = item.impl_block.as_ref().and_then(|b| b.trait_.as_ref())
        && t.provided
    {
        let task = format!(
            "call `{}` on a type that implements `{}` and assert on the result",
            item.name, t.name
        );
        return lone(stub.as_ref(), name, &task);
    }
    let mut gaps = Gaps::default();
    let body = stub
        .as_ref()
        .and_then(|stub| call_body(item, &stub.sig, request, impls, std, &mut gaps));
    match body {
        Some((body, task)) => {
            let allows = gaps.allows(item, request.rules);
            let rules = request.rules;
            // `forbid` cannot be overridden, and a gated test's `use super::*` would be unused
            // where it is compiled out: only the form that calls nothing compiles there.
            let forbidden = allows
                .iter()
                .flat_map(|a| a.iter())
                .find(|l| rules.forbids(l));
            let gated = stub.as_ref().is_some_and(|s| !s.attrs.is_empty());
            let forbidden = forbidden
                .copied()
                .or_else(|| (gated && rules.forbids("unused_imports")).then_some("unused_imports"));
            match forbidden {
                Some(lint) => {
                    let task = format!(
                        "call `{}` and assert on the result (a scaffold that calls it needs `{lint}` allowed, which is forbidden here)",
                        item.name
                    );
                    lone(stub.as_ref(), name, &task)
                }
                None => assemble(stub.as_ref(), name, body, &task, &allows, gaps.awaits),
            }
        }
        None => {
            let generic = stub
                .as_ref()
                .is_some_and(|s| s.sig.generics.type_params().next().is_some())
                || item.impl_block.as_ref().is_some_and(|b| {
                    impls
                        .get(b.stub.as_str())
                        .and_then(Option::as_ref)
                        .is_some_and(|imp| imp.generics.type_params().next().is_some())
                });
            let task = if generic {
                format!(
                    "pick concrete types for the generic parameters of `{}`, call it and assert on the result",
                    item.name
                )
            } else {
                format!(
                    "choose the arguments of `{}`, call it and assert on the result",
                    item.name
                )
            };
            lone(stub.as_ref(), name, &task)
        }
    }
}

/// The scaffold's `#[ignore]` reason with why it is a scaffold put first.
pub(super) fn say_why(scaffold: &mut syn::ItemFn, why: &str) {
    for attr in &mut scaffold.attrs {
        if let syn::Meta::NameValue(nv) = &mut attr.meta
            && nv.path.is_ident("ignore")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(reason),
                ..
            }) = &nv.value
        {
            let task = reason.value();
            let task = task.strip_prefix("testsmith scaffold: ").unwrap_or(&task);
            let text = format!("testsmith scaffold: {why}; {task}");
            nv.value = syn::parse_quote!(#text);
        }
    }
}

/// The scaffold of a scaffold that did not compile: it names nothing but the item.
pub(super) fn fallback(item: &PublicFn, name: &str) -> syn::ItemFn {
    let task = format!(
        "choose the arguments of `{}`, call it and assert on the result",
        item.name
    );
    lone(item.parse_stub().as_ref(), name, &task)
}

/// The scaffold that only says what to do: when generic parameters could not be given concrete
/// types, or when the full scaffold does not compile.
fn lone(stub: Option<&syn::ItemFn>, name: &str, task: &str) -> syn::ItemFn {
    let body = quote!(todo!(#task););
    // It calls nothing, so it needs no lint allowed (a crate may forbid them).
    assemble(stub, name, body, task, &[], false)
}

/// The test fn around `body`: the item's cfgs, `#[test]`, `#[ignore]` with the task, and the
/// lints its call needs allowed.
fn assemble(
    stub: Option<&syn::ItemFn>,
    name: &str,
    body: TokenStream,
    task: &str,
    allows: &[&[&str]],
    awaits: bool,
) -> syn::ItemFn {
    let name = format_ident!("{}", name);
    // An async item's test awaits it on tokio's test runtime, where the package has one.
    let (test, asyncness) = if awaits {
        (quote!(#[tokio::test]), quote!(async))
    } else {
        (quote!(#[test]), quote!())
    };
    let reason = format!("testsmith scaffold: {task}");
    let cfgs = stub.map_or(&[][..], |stub| &stub.attrs[..]);
    let allows = allows.iter().map(|lints| {
        let lints = lints.iter().map(|l| format_ident!("{}", l));
        quote!(#[allow(#(#lints),*)])
    });
    let tokens = quote! {
        #(#cfgs)*
        #test
        #[ignore = #reason]
        #(#allows)*
        #asyncness fn #name() {
            #body
        }
    };
    syn::parse2(tokens).expect("generated scaffolds are valid Rust")
}

/// The statements that call `item`, and what is left to do; `None` when generic parameters
/// could not be given concrete types.
fn call_body(
    item: &PublicFn,
    sig: &syn::Signature,
    request: &FileRequest<'_>,
    impls: &HashMap<&str, Option<syn::ItemImpl>>,
    std: &StdNames,
    gaps: &mut Gaps,
) -> Option<(TokenStream, String)> {
    let parts = parts(item, sig, request, impls, std, None, gaps)?;
    Some(finish(
        &item.name,
        sig,
        request.tokio_test,
        &parts.stmts,
        parts.call,
        gaps,
    ))
}

/// A call of an item, in pieces: the statements that build what it takes, the call, and the
/// locals it may change (a `&mut` receiver or argument).
pub(super) struct Parts {
    pub stmts: Vec<TokenStream>,
    pub call: TokenStream,
    pub changed: Vec<syn::Ident>,
}

/// The call of `item` with its receiver and arguments built; with `values`, the `k`th of
/// several (the item's literals first). `None` when generic parameters could not be given
/// concrete types.
pub(super) fn parts(
    item: &PublicFn,
    sig: &syn::Signature,
    request: &FileRequest<'_>,
    impls: &HashMap<&str, Option<syn::ItemImpl>>,
    std: &StdNames,
    values: Option<(usize, &Literals)>,
    gaps: &mut Gaps,
) -> Option<Parts> {
    let mut body = Body::new(item, sig, request, impls, std, values)?;
    let callee = body.callee(request, impls, gaps)?;
    let call = match callee.sugar {
        // The sugar passes no arguments of its own (a `Formatter` is the trait's business).
        Some(sugar) => sugar,
        None => {
            let args = body.arguments(gaps)?;
            let path = callee.path;
            let receiver = callee.receiver.iter();
            quote!(#path(#(#receiver,)* #(#args),*))
        }
    };
    Some(Parts {
        stmts: body.stmts,
        call,
        changed: body.changed,
    })
}

/// A scaffold's body in the making: the item's signature with its generic parameters (and
/// `Self`) given concrete types, and the statements that build what the call takes.
struct Body<'a> {
    item: &'a PublicFn,
    sig: &'a syn::Signature,
    env: Env<'a>,
    scope: Scope<'a>,
    /// The turbofish of the fn's own generic parameters.
    turbofish: Option<TokenStream>,
    /// The item's inline modules, as the path to it starts.
    module_prefix: Vec<syn::Ident>,
    /// Whether the self type is named through the item's inline modules (`inner::Bag`).
    self_in_module: bool,
    stmts: Vec<TokenStream>,
    /// Locals must not shadow what the call names.
    taken: HashSet<String>,
    /// Locals the call may change: a `&mut` receiver or argument.
    changed: Vec<syn::Ident>,
}

/// What the body calls: a path (or a method on `value`) given the receiver, when there is
/// one, before the arguments; or the trait's sugar, which takes none.
struct Callee {
    path: TokenStream,
    receiver: Option<TokenStream>,
    sugar: Option<TokenStream>,
}

impl<'a> Body<'a> {
    /// `None` when a generic parameter or the self type cannot be made concrete.
    fn new(
        item: &'a PublicFn,
        sig: &'a syn::Signature,
        request: &'a FileRequest<'a>,
        impls: &HashMap<&str, Option<syn::ItemImpl>>,
        std: &'a StdNames,
        values: Option<(usize, &'a Literals)>,
    ) -> Option<Body<'a>> {
        let mut substitutions = HashMap::new();
        let mut consts = HashMap::new();
        let turbofish = substitute_generics(&sig.generics, &mut substitutions, &mut consts, std)?;
        // An inline module's private imports cannot be named from the test module: their
        // paths can.
        let scope = Scope {
            imports: request.imports(&item.module_path),
            rules: request.rules,
            crates: request.crates,
            depth: item.module_path.len(),
        };
        let mut self_in_module = !item.module_path.is_empty();
        if let Some(block) = &item.impl_block {
            let imp = impls.get(block.stub.as_str())?.as_ref()?;
            // A blanket impl (`impl<T: ToSnakeCase> ToKebab for T`) is for the types that
            // implement the bound, which the crate names (`impl ToSnakeCase for str`): a guess
            // of ours would not be one.
            let blanket = matches!(&*imp.self_ty, Type::Path(p)
            if p.qself.is_none()
                && p.path.get_ident().is_some_and(|i| {
                    imp.generics.type_params().any(|tp| tp.ident == *i)
                }));
            let unguessed;
            let std = if blanket {
                unguessed = std.without_guess();
                &unguessed
            } else {
                std
            };
            substitute_generics(&imp.generics, &mut substitutions, &mut consts, std)?;
            // A trait impl in an inline module may be for a type from anywhere (`super::Money`).
            let written = if block.trait_.is_some() {
                let (written, imported) = resolve_imports_noting(&imp.self_ty, &scope);
                self_in_module &= !imported && is_module_local(&written);
                written
            } else {
                (*imp.self_ty).clone()
            };
            let self_ty = Env {
                constructors: request.constructors,
                substitutions: substitutions.clone(),
                consts: consts.clone(),
                can_name_types: false,
                std,
                pick: None,
                literals: &NO_LITERALS,
                type_defs: request.type_defs,
                own: Some((request.own_constructors, request.own_type_defs)),
            }
            .concrete(&written)?;
            substitutions.insert("Self".to_owned(), self_ty);
        }
        let env = Env {
            constructors: request.constructors,
            substitutions,
            consts,
            can_name_types: item.module_path.is_empty(),
            std,
            pick: values.map(|(k, _)| k),
            literals: values.map_or(&NO_LITERALS, |(_, l)| l),
            type_defs: request.type_defs,
            own: Some((request.own_constructors, request.own_type_defs)),
        };
        let module_prefix = item
            .module_path
            .iter()
            .map(|m| format_ident!("{}", m))
            .collect();
        let mut taken: HashSet<String> = ["value", "_result", "_future"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        taken.insert(item.ident.clone());
        taken.extend(item.module_path.iter().cloned());
        Some(Body {
            item,
            sig,
            env,
            scope,
            turbofish,
            module_prefix,
            self_in_module,
            stmts: Vec::new(),
            taken,
            changed: Vec::new(),
        })
    }

    /// What to call, with the receiver built into `value` when the item takes one.
    fn callee(
        &mut self,
        request: &FileRequest<'_>,
        impls: &HashMap<&str, Option<syn::ItemImpl>>,
        gaps: &mut Gaps,
    ) -> Option<Callee> {
        // Held apart from `self`, which building the receiver changes.
        let (item, sig) = (self.item, self.sig);
        let ident = &sig.ident;
        let turbofish = self.turbofish.clone();
        let Some(block) = &item.impl_block else {
            let prefix = &self.module_prefix;
            return Some(Callee {
                path: quote!(#(#prefix::)* #ident #turbofish),
                receiver: None,
                sugar: None,
            });
        };
        let self_ty = self.env.substitutions.get("Self")?.clone();
        let Type::Path(self_path) = &self_ty else {
            return None;
        };
        let self_expr = expr_path(&self_path.path)?;
        let self_prefix = if self.self_in_module {
            &self.module_prefix[..]
        } else {
            &[]
        };
        let self_expr = quote!(#(#self_prefix::)* #self_expr);
        let value_ty = elide_lifetimes(&self_ty);
        let value_ty = quote!(#(#self_prefix::)* #value_ty);
        self.taken.insert(block.type_name.clone());
        // A call the way a user makes it (`value.to_string()`), in place of the whole call.
        let mut sugar = None;
        // `drop(value)` takes the value itself, whatever the method's receiver says.
        let mut consumed = false;
        // A trait's method is called by its full path, `<Money as From<u8>>::from`: that
        // names one impl, whatever else is in scope.
        let trait_call = match &block.trait_ {
            Some(t) => {
                let imp = impls.get(block.stub.as_str())?.as_ref()?;
                let (path, _) = imp.trait_.as_ref()?;
                let path: Type = syn::parse_quote!(#path);
                let path = resolve_imports(&path, &self.scope);
                let path = elide_lifetimes(&self.env.concrete(&path)?);
                // `to_string` and `format!` need std's prelude, which a `no_std` crate lacks;
                // `drop` is in core's.
                let call = analysis::sugar(&t.name, &ident.to_string()).and_then(|s| s.call);
                // An observed call links std itself.
                let std_linked = self.env.pick.is_some();
                if !request.rules.no_std || std_linked || call == Some(SugarCall::Drop) {
                    consumed = call == Some(SugarCall::Drop);
                    sugar = call.map(|call| sugar_call(call, &value_ty));
                }
                Some(quote!(<#value_ty as #path>::#ident #turbofish))
            }
            None => None,
        };
        let Some(receiver) = sig.receiver() else {
            return Some(Callee {
                path: trait_call.unwrap_or_else(|| quote!(#self_expr::#ident #turbofish)),
                receiver: None,
                sugar,
            });
        };
        let (argument, method_on) = self.receiver(receiver, &self_ty, &value_ty, consumed, gaps)?;
        Some(match trait_call {
            Some(path) => Callee {
                path,
                receiver: Some(argument),
                sugar,
            },
            None => Callee {
                path: quote!(#method_on.#ident #turbofish),
                receiver: None,
                sugar,
            },
        })
    }

    /// Build the receiver into the local `value`: what the call passes as its first argument,
    /// and what a method call is made on. `None` for a `self: T` other than `Box<Self>`.
    fn receiver(
        &mut self,
        receiver: &syn::Receiver,
        self_ty: &Type,
        value_ty: &TokenStream,
        consumed: bool,
        gaps: &mut Gaps,
    ) -> Option<(TokenStream, TokenStream)> {
        // `mut self` is the callee's business; only `&mut self` needs a mutable local.
        let by_ref = match &receiver.kind {
            ReceiverKind::Reference(..) if consumed => None,
            ReceiverKind::Reference(_, _, mutability) => Some(mutability.is_some()),
            _ => None,
        };
        let is_box = matches!(&receiver.kind, ReceiverKind::Typed(_, ty) if is_box_self(ty));
        if matches!(&receiver.kind, ReceiverKind::Typed(..)) && !is_box {
            return None;
        }
        let env = &self.env;
        // `&str`, `&[T]`, `&Path` have literal forms; their `Self` does not.
        let literal = match (by_ref, env.argument(&syn::parse_quote!(&#self_ty))) {
            (Some(false), Some(Arg::AsIs(value))) => Some(value),
            _ => None,
        };
        let boxed = env.std.path("Box");
        // Whether the local holds a reference (or a box) already: it is a literal or stands in
        // as a `todo!()`.
        let built = match env.build(self_ty) {
            _ if literal.is_some() => {
                self.stmts.push(quote!(let value: &#value_ty = #literal;));
                true
            }
            Some(value) => {
                let mutable = (by_ref == Some(true)).then(|| quote!(mut));
                if mutable.is_some() {
                    self.changed.push(format_ident!("value"));
                }
                self.stmts
                    .push(quote!(let #mutable value: #value_ty = #value;));
                false
            }
            None => {
                gaps.placeholders = true;
                let what = format!("build a `{}`", compact(&quote!(#self_ty)));
                // Behind a reference or a box, so that an unsized `Self` (a `str`-like type)
                // works.
                let ty = match by_ref {
                    Some(true) => quote!(&mut #value_ty),
                    Some(false) => quote!(&#value_ty),
                    None if is_box => quote!(#boxed<#value_ty>),
                    None => value_ty.clone(),
                };
                self.stmts.push(quote!(let value: #ty = todo!(#what);));
                true
            }
        };
        let argument = match by_ref {
            _ if built => quote!(value),
            Some(true) => quote!(&mut value),
            Some(false) => quote!(&value),
            None if is_box => quote!(#boxed::new(value)),
            None => quote!(value),
        };
        let method_on = if is_box && !built {
            quote!(#boxed::new(value))
        } else {
            quote!(value)
        };
        Some((argument, method_on))
    }

    /// The arguments other than the receiver: passed as is, bound to a local named after the
    /// parameter (and lent, where the parameter borrows), or a `todo!()` where none can be
    /// built. `None` when a type cannot be made concrete.
    fn arguments(&mut self, gaps: &mut Gaps) -> Option<Vec<TokenStream>> {
        let mut args = Vec::new();
        for (index, input) in self.sig.inputs.iter().enumerate() {
            let FnArg::Typed(pat_type) = input else {
                continue;
            };
            let local = local_name(&pat_type.pat, index, &mut self.taken);
            let written = resolve_imports(&pat_type.ty, &self.scope);
            let ty = self.env.concrete(&written)?;
            let arg = self.env.argument(&ty);
            // Each argument starts at its own place in the pools, so two of a type differ.
            if let Some(k) = &mut self.env.pick {
                *k += 1;
            }
            let Some(arg) = arg else {
                gaps.placeholders = true;
                let written = &pat_type.ty;
                let what = format!("a `{}` for `{}`", compact(&quote!(#written)), local);
                args.push(quote!(todo!(#what)));
                continue;
            };
            match arg {
                Arg::AsIs(value) => args.push(value),
                // Bind the owned value and lend it, so what the call returns may borrow from it.
                Arg::Lent { owned, mutable } => {
                    let mutability = mutable.then(|| quote!(mut));
                    if mutable {
                        self.changed.push(local.clone());
                    }
                    self.stmts.push(quote!(let #mutability #local = #owned;));
                    args.push(quote!(&#mutability #local));
                }
                Arg::Owned(value) => {
                    self.stmts.push(quote!(let #local = #value;));
                    args.push(quote!(#local));
                }
            }
        }
        Some(args)
    }
}

/// The body around `call`, and the task it leaves: the call's statement (awaited, or its
/// future kept, for an async item), then the `todo!()` naming what to assert; for an unsafe
/// item the `todo!()` comes first.
fn finish(
    name: &str,
    sig: &syn::Signature,
    tokio_test: bool,
    stmts: &[TokenStream],
    call: TokenStream,
    gaps: &mut Gaps,
) -> (TokenStream, String) {
    let is_unsafe = matches!(sig.safety, syn::Safety::Unsafe(_));
    let call = if is_unsafe {
        gaps.unsafe_block = true;
        quote!(unsafe { #call })
    } else {
        call
    };
    let returns_unit = match &sig.output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()),
    };
    let effects = format!("assert on the effects of `{name}`");
    let returns = format!("assert on what `{name}` returns");
    let (call_stmt, mut task) = match (sig.asyncness.is_some(), tokio_test, returns_unit) {
        (true, true, true) => {
            gaps.awaits = true;
            (quote!(#call.await;), effects)
        }
        (true, true, false) => {
            gaps.awaits = true;
            (quote!(let _result = #call.await;), returns)
        }
        (true, false, _) => (
            quote!(let _future = #call;),
            format!("run the future `{name}` returns on an async runtime and assert on its output"),
        ),
        (false, _, true) => (quote!(#call;), effects),
        (false, _, false) => (quote!(let _result = #call;), returns),
    };
    if gaps.placeholders {
        task = format!("build the arguments of `{name}`, then {task}");
    }
    if is_unsafe {
        // The safety contract comes first: the unsafe call must not run until a person has
        // chosen arguments that uphold it.
        gaps.placeholders = true;
        let task = format!("uphold the safety contract of `{name}`, then {task}");
        (quote!(todo!(#task); #(#stmts)* #call_stmt), task)
    } else {
        (quote!(#(#stmts)* #call_stmt todo!(#task);), task)
    }
}

/// A trait method's sugar call as tokens: `value.to_string()`, `format!("{:?}", value)`,
/// `"".parse::<Money>()`.
fn sugar_call(call: SugarCall, self_ty: &TokenStream) -> TokenStream {
    match call {
        SugarCall::Method(method) => {
            let method = format_ident!("{}", method);
            quote!(value.#method())
        }
        SugarCall::Format(format) => quote!(format!(#format, value)),
        SugarCall::Parse => quote!("".parse::<#self_ty>()),
        SugarCall::Drop => quote!(drop(value)),
    }
}

/// Fill `substitutions` for each type and const parameter; the turbofish to call with.
/// `None` when a parameter has bounds no candidate type is known to meet, or a where-clause
/// constrains something other than a plain parameter.
fn substitute_generics(
    generics: &syn::Generics,
    substitutions: &mut HashMap<String, Type>,
    consts: &mut HashMap<String, syn::Expr>,
    std: &StdNames,
) -> Option<Option<TokenStream>> {
    let mut turbofish = Vec::new();
    for param in &generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(tp) => {
                let name = tp.ident.to_string();
                let mut bounds: Vec<_> = tp.bounds.iter().collect();
                for predicate in generics.where_clause.iter().flat_map(|w| &w.predicates) {
                    match predicate {
                        WherePredicate::Type(pt) if is_param(&pt.bounded_ty, &name) => {
                            bounds.extend(pt.bounds.iter());
                        }
                        _ => {}
                    }
                }
                let concrete = choose(bounds.into_iter(), std)?;
                turbofish.push(quote!(#concrete));
                substitutions.insert(name, concrete);
            }
            GenericParam::Const(cp) => {
                let value = match &cp.ty {
                    Type::Path(p) if p.path.is_ident("bool") => quote!(false),
                    Type::Path(p) if p.path.is_ident("char") => quote!('a'),
                    _ => quote!(1),
                };
                consts.insert(cp.ident.to_string(), syn::parse2(value.clone()).ok()?);
                turbofish.push(value);
            }
        }
    }
    // Bounds on compound types (`Vec<T>: Debug`) are not checked; don't guess.
    for predicate in generics.where_clause.iter().flat_map(|w| &w.predicates) {
        if let WherePredicate::Type(pt) = predicate
            && !is_any_param(&pt.bounded_ty, generics)
        {
            return None;
        }
    }
    Some((!turbofish.is_empty()).then(|| quote!(::<#(#turbofish),*>)))
}

/// Where an inline module's item names types: its imports, and how deep it sits.
struct Scope<'a> {
    imports: Option<&'a BTreeMap<String, Import>>,
    rules: &'a Rules,
    /// Crates the package depends on: an import rooted in one is a path from anywhere.
    crates: &'a [String],
    /// Inline modules between the file's top level and the item.
    depth: usize,
}

/// `ty` as the test module can name it: names that an inline module imports written as the
/// paths they import, where those are paths from anywhere (std, core, alloc, a dependency, the
/// crate root; in an edition 2015 crate, where `use` paths start at the root, any path), and
/// `super::` from a module one level in dropped (the test module's `use super::*` sees the
/// same names).
fn resolve_imports(ty: &Type, scope: &Scope<'_>) -> Type {
    resolve_imports_noting(ty, scope).0
}

/// [`resolve_imports`], and whether the outermost path came from outside the module.
fn resolve_imports_noting(ty: &Type, scope: &Scope<'_>) -> (Type, bool) {
    struct Resolve<'a, 'b>(&'a Scope<'b>, bool);
    impl VisitMut for Resolve<'_, '_> {
        fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
            syn::visit_mut::visit_type_path_mut(self, ty);
            // Set by the outermost path, which is visited last.
            self.1 = false;
            let scope = self.0;
            if ty.qself.is_some() || ty.path.leading_colon.is_some() {
                return;
            }
            if scope.depth == 1
                && ty.path.segments.len() > 1
                && ty.path.segments[0].ident == "super"
            {
                ty.path.segments = ty.path.segments.iter().skip(1).cloned().collect();
                self.1 = true;
                return;
            }
            let Some(first) = ty.path.segments.first() else {
                return;
            };
            let Some(import) = scope.imports.and_then(|i| i.get(&first.ident.to_string())) else {
                return;
            };
            let mut segments: &[String] = &import.segments;
            let absolute = match segments.first().map(String::as_str) {
                Some("super") if scope.depth == 1 && segments.len() > 1 => {
                    segments = &segments[1..];
                    false
                }
                Some("self" | "super") | None => return,
                Some("crate") => false,
                Some("std" | "core" | "alloc") => true,
                Some(root) if scope.crates.iter().any(|c| c == root) => true,
                Some(_) if scope.rules.edition == 2015 || import.leading_colon => true,
                Some(_) => return,
            };
            let Ok(mut path) = syn::parse_str::<syn::Path>(&segments.join("::")) else {
                return;
            };
            if absolute {
                path.leading_colon = Some(Default::default());
            }
            // The imported item keeps the generic arguments written where it is used.
            if let Some(last) = path.segments.last_mut() {
                last.arguments = first.arguments.clone();
            }
            path.segments
                .extend(ty.path.segments.iter().skip(1).cloned());
            ty.path = path;
            self.1 = true;
        }
    }
    let mut ty = ty.clone();
    let mut resolve = Resolve(scope, false);
    if scope.depth > 0 {
        resolve.visit_type_mut(&mut ty);
    }
    (ty, resolve.1)
}

/// Whether a type names an item of the inline module it is written in: a lone name that no
/// import resolved (the module's own, to be reached through the module's path).
fn is_module_local(ty: &Type) -> bool {
    let ty = match ty {
        Type::Reference(r) => &*r.elem,
        other => other,
    };
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1)
}

fn is_param(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

fn is_any_param(ty: &Type, generics: &syn::Generics) -> bool {
    generics
        .type_params()
        .any(|tp| is_param(ty, &tp.ident.to_string()))
}

fn is_box_self(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    last.ident == "Box"
        && matches!(&last.arguments, syn::PathArguments::AngleBracketed(a)
            if a.args.len() == 1 && matches!(&a.args[0], syn::GenericArgument::Type(Type::Path(s)) if s.path.is_ident("Self")))
}

/// A local for the argument: the parameter's own name when it is a plain identifier that does
/// not clash with what the call names, else `arg{index}`.
fn local_name(pat: &Pat, index: usize, taken: &mut HashSet<String>) -> syn::Ident {
    let base = match pat {
        Pat::Ident(p) if p.ident != "_" => p.ident.to_string().trim_start_matches("r#").to_owned(),
        _ => format!("arg{index}"),
    };
    let base = base.trim_start_matches('_');
    let mut name = if base.is_empty() {
        format!("arg{index}")
    } else {
        base.to_owned()
    };
    while taken.contains(&name) || syn::parse_str::<syn::Ident>(&name).is_err() {
        name.push_str("_arg");
    }
    taken.insert(name.clone());
    syn::Ident::new(&name, Span::call_site())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use quote::ToTokens;

    use super::*;
    use crate::analysis::{Calls, analyze, scan_calls};

    use crate::plan::request_for_file as request;

    /// What [`call_body`] makes of the item `name` of `source`: the body as prettyplease
    /// prints it (one statement a line), the task, and the gaps.
    fn body_under(
        source: &str,
        name: &str,
        rules: &Rules,
        tokio_test: bool,
    ) -> Option<(String, String, Gaps)> {
        let analysis = analyze(source).unwrap();
        let request = FileRequest {
            tokio_test,
            ..request(source, &analysis, rules)
        };
        let item = analysis.items.iter().find(|i| i.name == name).expect(name);
        let stub = item.parse_stub().unwrap();
        let impls: HashMap<&str, Option<syn::ItemImpl>> = analysis
            .items
            .iter()
            .filter_map(|i| i.impl_block.as_ref())
            .map(|b| (b.stub.as_str(), b.parse_stub()))
            .collect();
        let std = StdNames::new(rules, &analysis.type_defs);
        let mut gaps = Gaps::default();
        let (body, task) = call_body(item, &stub.sig, &request, &impls, &std, &mut gaps)?;
        let file: syn::File = syn::parse_quote!(fn body() { #body });
        let text = prettyplease::unparse(&file);
        let lines: Vec<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.strip_prefix("    "))
            .collect();
        Some((lines.join("\n"), task, gaps))
    }

    const SOURCE: &str = r#"
use std::fmt;
use std::ops::{Add, Index, Neg};
use std::str::FromStr;

pub fn double(x: u32) -> u32 { x * 2 }
pub fn first<T: Clone>(items: &[T]) -> Option<T> { items.first().cloned() }
pub fn touch(path: &std::path::Path) { let _ = path; }
pub fn apply(f: &dyn Fn(u8) -> u8) -> u8 { f(1) }
pub unsafe fn poke(p: *mut u8) { unsafe { *p = 1 } }
pub async fn fetch(id: u32) -> u32 { id }
pub fn pick<T: Iterator + fmt::Write>(t: T) -> T { t }

pub mod inner {
    pub fn triple(x: u32) -> u32 { x * 3 }
}

#[derive(Default, Clone, Copy, PartialEq)]
pub struct Money(u32);

impl Money {
    pub fn new(cents: u32) -> Money { Money(cents) }
    pub fn cents(&self) -> u32 { self.0 }
    pub fn add_cents(&mut self, n: u32) { self.0 += n; }
    pub fn into_cents(self) -> u32 { self.0 }
    pub fn boxed(self: Box<Self>) -> u32 { self.0 }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{}", self.0) }
}
impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "M{}", self.0) }
}
impl FromStr for Money {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> { s.parse().map(Money) }
}
impl From<u32> for Money {
    fn from(cents: u32) -> Money { Money(cents) }
}
impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money { Money(self.0 + other.0) }
}
impl Neg for Money {
    type Output = i64;
    fn neg(self) -> i64 { -i64::from(self.0) }
}
impl Index<usize> for Money {
    type Output = u32;
    fn index(&self, _at: usize) -> &u32 { &self.0 }
}

pub struct Countdown(u8);

impl Drop for Countdown {
    fn drop(&mut self) { self.0 = 0; }
}

impl Iterator for Countdown {
    type Item = u8;
    fn next(&mut self) -> Option<u8> { self.0.checked_sub(1).inspect(|n| self.0 = *n) }
}
"#;

    fn body_of(name: &str) -> Option<(String, String, Gaps)> {
        body_under(SOURCE, name, &Rules::default(), false)
    }

    /// The body `call_body` writes for `name`, and whether it holds placeholders.
    fn written(name: &str) -> (String, bool) {
        let (body, _, gaps) = body_of(name).expect(name);
        (body, gaps.placeholders)
    }

    #[test]
    fn a_free_fn_is_called_with_arguments_named_after_its_parameters() {
        let (body, task, gaps) = body_of("double").unwrap();
        assert_eq!(
            body,
            "let x = 0;\nlet _result = double(x);\ntodo!(\"assert on what `double` returns\");"
        );
        assert_eq!(task, "assert on what `double` returns");
        assert_eq!(gaps, Gaps::default());
        // Through its inline module; generics get a concrete type by turbofish; a borrowed
        // literal is passed as is; a unit return leaves effects to assert on.
        assert_eq!(
            written("inner::triple").0,
            "let x = 0;\nlet _result = inner::triple(x);\ntodo!(\"assert on what `inner::triple` returns\");"
        );
        assert_eq!(
            written("first").0,
            "let _result = first::<i32>(&[]);\ntodo!(\"assert on what `first` returns\");"
        );
        assert_eq!(
            written("touch").0,
            "touch(::std::path::Path::new(\"\"));\ntodo!(\"assert on the effects of `touch`\");"
        );
        // No candidate type is known to be both an `Iterator` and a `fmt::Write`.
        assert!(body_of("pick").is_none());
    }

    #[test]
    fn a_method_is_called_on_a_value_built_as_its_receiver_takes_it() {
        let value = "let value: Money = Default::default();";
        assert_eq!(
            written("Money::cents"),
            (
                format!(
                    "{value}\nlet _result = value.cents();\ntodo!(\"assert on what `Money::cents` returns\");"
                ),
                false
            )
        );
        assert_eq!(
            written("Money::add_cents").0,
            "let mut value: Money = Default::default();\nlet n = 0;\nvalue.add_cents(n);\ntodo!(\"assert on the effects of `Money::add_cents`\");"
        );
        assert!(
            written("Money::into_cents")
                .0
                .contains("let _result = value.into_cents();")
        );
        assert!(
            written("Money::boxed")
                .0
                .contains("let _result = Box::new(value).boxed();")
        );
        // `Countdown` cannot be built: a placeholder stands in, behind the receiver's `&mut`.
        let (body, task, gaps) = body_of("<Countdown as Iterator>::next").unwrap();
        assert!(
            body.starts_with("let value: &mut Countdown = todo!(\"build a `Countdown`\");\nlet _result = value.next();"),
            "{body}"
        );
        assert!(task.starts_with("build the arguments of `<Countdown as Iterator>::next`, then"));
        assert!(gaps.placeholders);
    }

    #[test]
    fn lints_a_scaffold_would_trip_are_allowed_where_it_trips_them() {
        let source = "#[derive(Debug)]\npub struct Oops;\nimpl std::fmt::Display for Oops { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { Ok(()) } }\nimpl std::error::Error for Oops { fn description(&self) -> &str { \"oops\" } }\n";
        let analysis = crate::analysis::analyze(source).unwrap();
        let item = |name: &str| analysis.items.iter().find(|i| i.name == name).unwrap();
        let allows =
            Gaps::default().allows(item("<Oops as Error>::description"), &Rules::default());
        assert_eq!(allows, [&["deprecated"][..]]);
        let display = Gaps::default().allows(item("<Oops as Display>::fmt"), &Rules::default());
        assert!(display.is_empty());
        let source = "/// Never returns.\npub fn fail() -> ! { panic!() }\n";
        let analysis = crate::analysis::analyze(source).unwrap();
        let allows = Gaps::default().allows(&analysis.items[0], &Rules::default());
        assert_eq!(allows, [&["unreachable_code"][..]]);
    }

    #[test]
    fn a_drop_impl_is_called_as_drop_of_an_owned_value() {
        // `<Countdown as Drop>::drop(&mut value)` would not compile (E0040), and a `mut` the
        // call does not need would warn.
        let (body, _) = written("<Countdown as Drop>::drop");
        assert!(body.contains("drop(value);"), "{body}");
        assert!(
            !body.contains("mut value") && !body.contains("as Drop>::drop("),
            "{body}"
        );
    }

    #[test]
    fn a_trait_method_is_called_by_its_sugar_or_by_its_full_path() {
        let value = "let value: Money = Default::default();";
        assert!(
            written("<Money as Display>::fmt")
                .0
                .starts_with(&format!("{value}\nlet _result = value.to_string();"))
        );
        assert!(written("<Money as Debug>::fmt").0.starts_with(&format!(
            "{value}\nlet _result = format!(\"{{:?}}\", value);"
        )));
        assert!(
            written("<Money as FromStr>::from_str")
                .0
                .starts_with("let _result = \"\".parse::<Money>();")
        );
        assert!(
            written("<Money as From<u32>>::from")
                .0
                .starts_with("let cents = 0;\nlet _result = <Money as From<u32>>::from(cents);")
        );
        assert!(
            written("<Money as Index<usize>>::index")
                .0
                .contains("let _result = <Money as Index<usize>>::index(&value, at);")
        );
        assert!(
            written("<Money as Add>::add")
                .0
                .contains("let _result = <Money as Add>::add(value, other);")
        );
        // `to_string` needs std's prelude: a `no_std` crate gets the full path, `Formatter`
        // and all.
        let no_std = Rules {
            no_std: true,
            ..Rules::default()
        };
        let (body, _, gaps) =
            body_under(SOURCE, "<Money as Display>::fmt", &no_std, false).unwrap();
        assert!(
            body.contains("let _result = <Money as fmt::Display>::fmt(\n    &value,\n    todo!(\"a `&mut fmt::Formatter<'_>` for `f`\"),\n);"),
            "{body}"
        );
        assert!(gaps.placeholders);
    }

    #[test]
    fn placeholders_unsafe_calls_and_futures_say_so_in_the_task() {
        let (body, task, gaps) = body_of("apply").unwrap();
        assert_eq!(
            body,
            format!(
                "let _result = apply(todo!(\"a `&dyn Fn(u8) -> u8` for `f`\"));\ntodo!(\"{task}\");"
            )
        );
        assert_eq!(
            task,
            "build the arguments of `apply`, then assert on what `apply` returns"
        );
        assert!(gaps.placeholders);
        // The safety contract first: nothing unsafe runs before a person has looked.
        let (body, task, gaps) = body_of("poke").unwrap();
        assert_eq!(
            body,
            format!("todo!(\"{task}\");\nlet p = ::core::ptr::null_mut();\nunsafe {{ poke(p) }};")
        );
        assert_eq!(
            task,
            "uphold the safety contract of `poke`, then assert on the effects of `poke`"
        );
        assert!(gaps.placeholders && gaps.unsafe_block && !gaps.awaits);
        // An async fn: its future is made, or awaited where the package can run tokio's tests.
        let (body, task, gaps) = body_of("fetch").unwrap();
        assert!(body.contains("let _future = fetch(id);"), "{body}");
        assert_eq!(
            task,
            "run the future `fetch` returns on an async runtime and assert on its output"
        );
        assert!(!gaps.awaits);
        let (body, task, gaps) = body_under(SOURCE, "fetch", &Rules::default(), true).unwrap();
        assert!(body.contains("let _result = fetch(id).await;"), "{body}");
        assert_eq!(task, "assert on what `fetch` returns");
        assert!(gaps.awaits);
    }

    struct Quiet;
    impl Progress for Quiet {
        fn file_done(&self, _display: &str) {}
    }

    /// The property the analysis and the scaffolds share: a scaffold's call, read back by the
    /// call scanner, covers the item it was written for (so its item is not generated for
    /// again, and `--check` lists it as scaffolded).
    #[test]
    fn every_call_a_scaffold_writes_is_a_use_of_its_item() {
        let analysis = analyze(SOURCE).unwrap();
        let rules = Rules::default();
        let request = request(SOURCE, &analysis, &rules);
        // Each test's item, the calls of the whole fn (as the analysis reads a module), whether
        // its body calls anything, and its text.
        let written: Mutex<Vec<(String, Calls, bool, String)>> = Mutex::new(Vec::new());
        let done = |_: usize, output: super::super::FileOutput| {
            for test in output.tests {
                let mut calls = Calls::default();
                let tokens = test.function.to_token_stream();
                scan_calls(tokens.clone(), &mut calls);
                let mut body = Calls::default();
                scan_calls(test.function.block.to_token_stream(), &mut body);
                let calls_any = !(body.paths.is_empty() && body.methods.is_empty());
                let text = tokens.to_string();
                written
                    .lock()
                    .unwrap()
                    .push((test.item, calls, calls_any, text));
            }
        };
        ScaffoldGenerator
            .generate_all(std::slice::from_ref(&request), &Quiet, &done)
            .unwrap();
        let written = written.into_inner().unwrap();
        assert_eq!(written.len(), analysis.items.len());
        let mut lone = Vec::new();
        for (name, calls, calls_any, _) in &written {
            let item = analysis.items.iter().find(|i| &i.name == name).unwrap();
            if !calls_any {
                // The lone `todo!()` form calls nothing.
                lone.push(name.as_str());
            } else {
                assert!(
                    calls.covers(item),
                    "the scaffold of `{name}` is not seen as a use: {calls:?}"
                );
            }
        }
        assert_eq!(lone, ["pick"]);
        // Read back in the file, they are scaffolds.
        let module: String = written.iter().map(|(.., text)| text.as_str()).collect();
        let again = analyze(&format!(
            "{SOURCE}\n#[cfg(test)]\nmod testsmith_tests {{ use super::*; {module} }}"
        ))
        .unwrap();
        assert_eq!(again.scaffolds.fns.len(), written.len());
        for item in &again.items {
            assert!(
                !again.calls.covers(item),
                "`{}` counts as tested",
                item.name
            );
        }
    }
}
