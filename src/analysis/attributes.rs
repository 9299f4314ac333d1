//! What attributes say: `cfg` gates (and whether one means test code), lint levels, `#[path]`
//! and `cfg_attr` paths of module files, derives, and marks that make an item no API.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

use crate::rules::{Level, LintAttr};

/// Tests themselves, procedural macros (which panic outside the compiler) and hidden items are
/// not API worth a test.
pub(super) fn is_testable(attrs: &[Attribute]) -> bool {
    !attrs.iter().any(|attr| {
        let path = attr.path();
        path.is_ident("test")
            || path.is_ident("proc_macro")
            || path.is_ident("proc_macro_derive")
            || path.is_ident("proc_macro_attribute")
    }) && !is_doc_hidden(attrs)
}

/// `#[doc(hidden)]`: not documented, so not API.
pub(super) fn is_doc_hidden(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("doc") && contains_ident(a.meta.to_token_stream(), "hidden"))
}

/// `#[deprecated]`, or `#[allow(deprecated)]` (also under `cfg_attr`): a test of what it
/// marks names something deprecated.
pub(super) fn touches_deprecated(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("deprecated"))
        || lint_attrs(attrs)
            .iter()
            .any(|l| l.level == crate::rules::Level::Allow && l.lint == "deprecated")
}

pub(super) fn push_cfgs(cfgs: &mut Vec<Attribute>, attrs: &[Attribute]) -> usize {
    let before = cfgs.len();
    cfgs.extend(attrs.iter().filter(|a| a.path().is_ident("cfg")).cloned());
    cfgs.len() - before
}

/// `#[cfg(test)]`, `#[cfg(all(test, …))]`: any cfg naming `test` outside a `not(…)`.
pub(crate) fn is_cfg_test(attrs: &[Attribute]) -> bool {
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

pub(super) fn contains_ident(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == name,
        TokenTree::Group(group) => contains_ident(group.stream(), name),
        _ => false,
    })
}

pub(super) fn derives_default(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("derive") && contains_ident(attr.meta.to_token_stream(), "Default")
    })
}

pub(super) fn path_attr(attrs: &[Attribute]) -> Option<String> {
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

/// `#[cfg_attr(<cfg>, path = "…")]` on a module: each condition, as written, and its file.
pub(super) fn cfg_paths(attrs: &[Attribute]) -> Vec<(String, String)> {
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
pub(super) fn lint_attrs(attrs: &[Attribute]) -> Vec<LintAttr> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
