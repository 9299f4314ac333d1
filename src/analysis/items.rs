//! The item walker: which fns of a file a test at its top level can name, with their impls,
//! cfgs and source text, and what the file's types, traits and constructors are.

use std::collections::HashSet;

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Attribute, FnArg, ImplItem, Item, ReturnType, Signature, Type, Visibility};

use super::attributes::{
    cfg_paths, derives_default, is_cfg_test, is_doc_hidden, is_testable, lint_attrs, path_attr,
    push_cfgs, touches_deprecated,
};
use super::calls::scan_item_calls;
use super::doctests::doc_test_calls;
use super::imports::module_imports;
use super::tested::is_scaffold;
use super::text::{bound_text, compact, self_type_display};
use super::{
    Constructor, ExistingModule, FileAnalysis, ImplBlock, MODULE_NAME, ModDecl, PublicFn, ReExport,
    TraitMarks, TraitRef,
};

/// Walk the items of a parsed file into `out`.
pub(super) fn walk(source: &str, file: &syn::File, out: FileAnalysis) -> FileAnalysis {
    let mut walker = Walker {
        source,
        offset: stripped_prefix_len(source, file.shebang.as_deref()),
        out,
        private_depth: 0,
    };
    walker.items(&file.items, &mut Vec::new(), &mut Vec::new());
    walker.out
}

/// syn's spans count from after a byte-order mark and a shebang line; the file's bytes don't.
fn stripped_prefix_len(source: &str, shebang: Option<&str>) -> usize {
    let bom = if source.starts_with('\u{feff}') { 3 } else { 0 };
    bom + shebang.map_or(0, str::len)
}

/// The walk's state: the file's text, to keep items as written, and what it found so far.
struct Walker<'s> {
    source: &'s str,
    offset: usize,
    out: FileAnalysis,
    /// Inline modules around the walk that are not `pub`: a `pub mod x;` or `pub use` inside
    /// one exposes nothing outside the crate.
    private_depth: usize,
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
                // Under any `cfg`: where it holds, the items are exposed.
                Item::Use(u) if is_public(&u.vis) && self.private_depth == 0 => {
                    reexports(&u.tree, &mut Vec::new(), modules, &mut self.out.reexports);
                }
                // A `#[test]` fn outside a `#[cfg(test)]` module (as shlex writes them) is test
                // code like any other: its calls count.
                Item::Fn(f) if is_test_fn(&f.attrs) => {
                    scan_item_calls(item, &mut self.out.calls);
                }
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
                            scan_item_calls(item, &mut scaffolds.calls);
                        }
                        _ => scan_item_calls(item, &mut self.out.calls),
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
                let private = usize::from(!is_public(&m.vis));
                self.private_depth += private;
                modules.push(name);
                let imports = module_imports(items);
                if !imports.is_empty() {
                    self.out.imports.insert(modules.clone(), imports);
                }
                self.items(items, modules, cfgs);
                modules.pop();
                self.private_depth -= private;
                cfgs.truncate(cfgs.len() - pushed);
            }
            None => {
                let start = m.ident.span().start();
                self.out.mod_decls.push(ModDecl {
                    name,
                    public: is_public(&m.vis) && self.private_depth == 0,
                    path_attr: path_attr(&m.attrs),
                    inline_parents: modules.clone(),
                    is_test,
                    cfg_paths: cfg_paths(&m.attrs),
                    cfgs: cfgs
                        .iter()
                        .chain(m.attrs.iter().filter(|a| a.path().is_ident("cfg")))
                        .filter_map(|a| match &a.meta {
                            syn::Meta::List(list) => Some(compact(&list.tokens)),
                            _ => None,
                        })
                        .collect(),
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
        // An impl that allows `deprecated` names what std or the crate deprecated
        // (`impl From<LayoutErr>`): a test of its methods names it too.
        let allows_deprecated = touches_deprecated(&imp.attrs);
        let first = self.out.items.len();
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
        if allows_deprecated {
            for item in &mut self.out.items[first..] {
                item.deprecated = true;
            }
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
        let marks = TraitMarks {
            hidden: is_doc_hidden(&t.attrs),
            deprecated: t.attrs.iter().any(|a| a.path().is_ident("deprecated")),
        };
        if marks != TraitMarks::default() {
            self.out.trait_marks.insert(t.ident.to_string(), marks);
        }
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
        let sig_text = self.text_between(sig_start(sig), body.span.open());
        let sig_owned = sig_text.trim().to_owned();
        self.builder(sig, &sig_owned, modules, impl_block.as_ref());
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
            deprecated: touches_deprecated(attrs),
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

impl Walker<'_> {
    /// Record `sig` as a way to make the type it returns, if it is one: an associated fn
    /// without a receiver returning `Self` (or the type, in an `Option` or `Result`), a free fn
    /// returning a type, or a method of a `Default`, `From`, `TryFrom` or `FromStr` impl.
    fn builder(
        &mut self,
        sig: &Signature,
        sig_text: &str,
        modules: &[String],
        impl_block: Option<&ImplBlock>,
    ) {
        if sig.receiver().is_some() {
            return;
        }
        let ReturnType::Type(_, ty) = &sig.output else {
            return;
        };
        let returned: Vec<String> = built_type(ty).into_iter().collect();
        // `fn new(…) -> Self` as a call reads: `Money::new(…) -> Self`.
        let call = |path: &str| match sig_text.split_once("fn ") {
            Some((qualifiers, rest)) => format!("{qualifiers}{path}{rest}"),
            None => sig_text.to_owned(),
        };
        let mut prefix: String = modules.iter().map(|m| format!("{m}::")).collect();
        let (built, text) = match impl_block {
            Some(block) => match &block.trait_ {
                Some(t) if ["Default", "From", "TryFrom", "FromStr"].contains(&t.name.as_str()) => {
                    let header = block.stub.trim().trim_end_matches("{}").trim_end();
                    (vec![block.type_name.clone()], header.to_owned())
                }
                Some(_) => return,
                None if returned
                    .iter()
                    .any(|i| i == "Self" || *i == block.type_name) =>
                {
                    prefix.push_str(&block.type_name);
                    prefix.push_str("::");
                    (vec![block.type_name.clone()], call(&prefix))
                }
                None => return,
            },
            None => (returned, call(&prefix)),
        };
        for ty in built {
            let known = self.out.builders.entry(ty).or_default();
            if !known.contains(&text) {
                known.push(text.clone());
            }
        }
    }
}

/// `#[test]`, `#[tokio::test]` and the like: an attribute whose last segment is `test`.
fn is_test_fn(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "test")
    })
}

/// The type a fn returning `ty` makes: the type itself, or what an `Option`, a `Result`'s `Ok`,
/// a `Box`/`Rc`/`Arc` or a `Vec` holds — not an error type, nor every name in the type.
fn built_type(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let name = last.ident.to_string();
    if ["Option", "Result", "Box", "Rc", "Arc", "Vec"].contains(&name.as_str()) {
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let first = args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })?;
        return built_type(first);
    }
    Some(name)
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

/// The arguments of a fn other than its receiver.
fn typed_inputs(sig: &Signature) -> impl Iterator<Item = &Type> {
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

/// The paths a `pub use` tree names, each with the inline modules it sits in.
fn reexports(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    modules: &[String],
    out: &mut Vec<ReExport>,
) {
    let mut push = |path: Vec<String>, glob: bool, name: String| {
        out.push(ReExport {
            module: modules.to_vec(),
            path,
            glob,
            name,
        })
    };
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            reexports(&p.tree, prefix, modules, out);
            prefix.pop();
        }
        // `pub use a::{self}` is `a` itself.
        syn::UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned().unwrap_or_default();
            push(prefix.clone(), false, name)
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            push(
                [&prefix[..], std::slice::from_ref(&name)].concat(),
                false,
                name,
            )
        }
        syn::UseTree::Rename(r) => push(
            [&prefix[..], &[r.ident.to_string()]].concat(),
            false,
            r.rename.to_string(),
        ),
        syn::UseTree::Glob(_) => push(prefix.clone(), true, String::new()),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                reexports(tree, prefix, modules, out);
            }
        }
    }
}

fn is_public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
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
