//! The call scanner: what a stretch of test code calls, names and does, read from tokens
//! (most test calls sit inside macros, whose bodies syn leaves unparsed).

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

use super::tested::Calls;

/// Record the calls in a token stream. Tokens rather than syn's expression tree, because most
/// test calls sit inside macros (`assert_eq!(add(1, 2), 3)`) whose bodies syn leaves unparsed.
pub fn scan_calls(tokens: TokenStream, calls: &mut Calls) {
    super::flow::scan_uses(&tokens, &mut calls.uses, &mut calls.signatures);
    scan_tokens(tokens, calls, Context::Code);
}

/// [`scan_calls`] for an item syn has parsed already: the flow reads its tree, not its tokens
/// parsed again.
pub fn scan_item_calls(item: &syn::Item, calls: &mut Calls) {
    super::flow::scan_item_uses(item, &mut calls.uses, &mut calls.signatures);
    scan_tokens(quote::ToTokens::to_token_stream(item), calls, Context::Code);
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
}
