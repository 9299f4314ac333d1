//! Syntax as text: tokens printed the way a person writes them, trait bounds, a trait impl's
//! self type for its items' names, and the identifiers in a stretch of tokens.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Token, Type};

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

/// A trait impl's self type for its items' names: as written, lifetimes left out, generic
/// arguments kept unless they are all the impl's own parameters (`Stack<T>` → `Stack`,
/// `Vec<u8>` stays), so that two impls of one trait for one type never share a name.
pub(super) fn self_type_display(ty: &Type, generics: &syn::Generics) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
