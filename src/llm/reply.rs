//! Read what the model answered: the JSON envelope, or, from a model that answered in
//! Markdown, the fenced Rust blocks. Every piece of code is parsed with syn and checked before
//! use: code that does not parse, names not asked for, anything that is not a test fn, and
//! tests that do not call their item are dropped with a reason.

use std::collections::BTreeMap;

use quote::ToTokens;
use serde::Deserialize;

use crate::analysis::{self, Calls, PublicFn};
use crate::generate::unique_name;

#[derive(Deserialize)]
struct Envelope {
    tests: Vec<EnvelopeTest>,
}

#[derive(Deserialize)]
struct EnvelopeTest {
    name: String,
    code: String,
}

/// Code from a reply, with the item it claims to test (`None` from a Markdown reply).
pub struct Piece {
    pub name: Option<String>,
    pub code: String,
}

/// The envelope's entries, or, when the text is not the envelope, its ```rust blocks.
/// `None` when neither is there.
pub fn pieces(text: &str) -> Option<Vec<Piece>> {
    let trimmed = text.trim();
    let json = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .unwrap_or(trimmed);
    if let Ok(envelope) = serde_json::from_str::<Envelope>(json) {
        return Some(
            envelope
                .tests
                .into_iter()
                .map(|t| Piece {
                    name: Some(t.name),
                    code: t.code,
                })
                .collect(),
        );
    }
    let blocks = fenced_rust_blocks(text);
    (!blocks.is_empty()).then(|| {
        blocks
            .into_iter()
            .map(|code| Piece { name: None, code })
            .collect()
    })
}

/// The bodies of ```rust (or ```rs) fenced blocks.
fn fenced_rust_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```") => {
                let lang = fence.trim_start_matches('`').trim();
                if lang.is_empty() || lang == "rust" || lang == "rs" {
                    current = Some(String::new());
                }
            }
            Some(block) if fence.starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// Tests accepted per item, and why the rest were dropped.
#[derive(Default)]
pub struct Sorted {
    pub tests: BTreeMap<String, Vec<syn::ItemFn>>,
    pub dropped: Vec<String>,
}

/// Check each piece against the requested `items` and keep the test fns that call their item.
/// `tokio` says whether `#[tokio::test]` can be used.
pub fn sort(pieces: Vec<Piece>, items: &[&PublicFn], tokio: bool) -> Sorted {
    let mut sorted = Sorted::default();
    for piece in pieces {
        let claimed = match &piece.name {
            Some(name) => match items.iter().find(|i| &i.name == name) {
                Some(item) => Some(*item),
                None => {
                    sorted
                        .dropped
                        .push(format!("a test for `{name}`, which was not asked for"));
                    continue;
                }
            },
            None => None,
        };
        let what = claimed.map_or("a code block".to_owned(), |i| {
            format!("the code for `{}`", i.name)
        });
        let file = match syn::parse_file(&piece.code) {
            Ok(file) => file,
            Err(err) => {
                let at = err.span().start();
                sorted.dropped.push(format!(
                    "{what}, which does not parse ({err} at {}:{})",
                    at.line,
                    at.column + 1
                ));
                continue;
            }
        };
        for item in file.items {
            let syn::Item::Fn(function) = item else {
                sorted.dropped.push(format!(
                    "{}, in {what}, which is not a test fn",
                    describe_item(&item)
                ));
                continue;
            };
            let name = function.sig.ident.to_string();
            if !is_test(&function, tokio) {
                sorted.dropped.push(format!(
                    "fn `{name}` in {what}, which is not a #[test] fn this crate can run"
                ));
                continue;
            }
            // The build that compiles a test is not contained: a file it includes would be
            // read as the user, and its text could come back to the model in a failure.
            if let Some(how) = reads_at_compile_time(function.to_token_stream()) {
                sorted.dropped.push(format!(
                    "test `{name}` in {what}, which reads a file when compiled ({how})"
                ));
                continue;
            }
            let mut calls = Calls::default();
            analysis::scan_calls(function.block.to_token_stream(), &mut calls);
            let target = match claimed {
                Some(item) => calls.covers(item).then_some(item),
                // A test calls its item and often others (`Counter::new` to test `get`): give it
                // to the item it covers that has the fewest tests so far.
                None => items
                    .iter()
                    .copied()
                    .filter(|item| calls.covers(item))
                    .min_by_key(|item| sorted.tests.get(&item.name).map_or(0, Vec::len)),
            };
            match target {
                Some(item) => {
                    // `use super::*` shares one scope: a test named like a fn it calls would
                    // shadow that fn.
                    let mut function = function;
                    if calls.paths.contains(&name) {
                        let unique = unique_name(&name, |n| calls.paths.contains(n));
                        function.sig.ident = syn::Ident::new(&unique, function.sig.ident.span());
                    }
                    sorted
                        .tests
                        .entry(item.name.clone())
                        .or_default()
                        .push(function);
                }
                None => sorted.dropped.push(match claimed {
                    Some(item) => format!("test `{name}`, which does not call `{}`", item.name),
                    None => format!("test `{name}`, which calls none of the requested items"),
                }),
            }
        }
    }
    sorted
}

/// `include_str!`, `include_bytes!`, `include!` or a `#[path]` module: how the code reads a
/// file at compile time, if it does.
fn reads_at_compile_time(tokens: proc_macro2::TokenStream) -> Option<&'static str> {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Ident(ident) => {
                let bang =
                    matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let name = ident.to_string();
                if bang {
                    match name.as_str() {
                        "include_str" => return Some("`include_str!`"),
                        "include_bytes" => return Some("`include_bytes!`"),
                        "include" => return Some("`include!`"),
                        _ => {}
                    }
                }
            }
            TokenTree::Group(group) => {
                let attribute = i > 0
                    && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '#')
                    && group.delimiter() == proc_macro2::Delimiter::Bracket;
                let first = group.stream().into_iter().next();
                if attribute && matches!(first, Some(TokenTree::Ident(ref id)) if id == "path") {
                    return Some("a `#[path]` module");
                }
                if let Some(how) = reads_at_compile_time(group.stream()) {
                    return Some(how);
                }
            }
            _ => {}
        }
    }
    None
}

/// `#[test]` on a plain fn, or `#[tokio::test]` on an async fn when tokio is a dependency.
fn is_test(function: &syn::ItemFn, tokio: bool) -> bool {
    let is_async = function.sig.asyncness.is_some();
    function.attrs.iter().any(|attr| {
        let path = attr.path();
        let is_tokio = path.segments.len() == 2
            && path.segments[0].ident == "tokio"
            && path.segments[1].ident == "test";
        (path.is_ident("test") && !is_async) || (is_tokio && tokio && is_async)
    })
}

fn describe_item(item: &syn::Item) -> String {
    match item {
        syn::Item::Use(_) => "a `use` item".to_owned(),
        syn::Item::Mod(m) => format!("module `{}`", m.ident),
        syn::Item::Struct(s) => format!("struct `{}`", s.ident),
        _ => "an item".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str) -> PublicFn {
        let ident = name.rsplit("::").next().unwrap().to_owned();
        PublicFn {
            name: name.to_owned(),
            ident: ident.clone(),
            module_path: Vec::new(),
            impl_block: None,
            has_receiver: false,
            stub: format!("fn {ident}() {{}}"),
            source: String::new(),
            deprecated: false,
            line: 1,
            column: 1,
            span: (1, 1),
        }
    }

    #[test]
    fn json_envelope_even_when_fenced() {
        let text =
            "```json\n{\"tests\":[{\"name\":\"add\",\"code\":\"#[test] fn t() { add(); }\"}]}\n```";
        let pieces = pieces(text).unwrap();
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].name.as_deref(), Some("add"));
    }

    #[test]
    fn markdown_blocks_are_assigned_by_what_they_call() {
        let text = "Here you go:\n```rust\n#[test]\nfn a() { assert_eq!(add(1, 2), 3); }\n#[test]\nfn b() { sub(); }\n```\nand\n```python\nprint()\n```\n";
        let (add, sub, mul) = (item("add"), item("sub"), item("mul"));
        let sorted = sort(pieces(text).unwrap(), &[&add, &sub, &mul], false);
        assert_eq!(sorted.tests["add"].len(), 1);
        assert_eq!(sorted.tests["sub"].len(), 1);
        assert!(!sorted.tests.contains_key("mul"));
        assert!(sorted.dropped.is_empty(), "{:?}", sorted.dropped);
    }

    #[test]
    fn a_test_named_like_the_fn_it_calls_is_renamed() {
        let add = item("add");
        let pieces = vec![Piece {
            name: Some("add".into()),
            code: "#[test] fn add() { assert_eq!(add(), ()); }".into(),
        }];
        let sorted = sort(pieces, &[&add], false);
        assert_eq!(sorted.tests["add"][0].sig.ident, "add_2");
    }

    #[test]
    fn bad_pieces_are_dropped_with_a_reason() {
        let add = item("add");
        let pieces = vec![
            Piece { name: Some("evil".into()), code: "#[test] fn t() { add(); }".into() },
            Piece { name: Some("add".into()), code: "#[test] fn t( {".into() },
            Piece { name: Some("add".into()), code: "use std::fmt; fn helper() { add(); } #[test] fn nope() {} #[test] fn ok() { add(); }".into() },
        ];
        let sorted = sort(pieces, &[&add], false);
        assert_eq!(sorted.tests["add"].len(), 1);
        assert_eq!(sorted.tests["add"][0].sig.ident, "ok");
        let reasons = sorted.dropped.join("\n");
        assert!(
            reasons.contains("`evil`, which was not asked for"),
            "{reasons}"
        );
        assert!(reasons.contains("does not parse"), "{reasons}");
        assert!(reasons.contains("a `use` item"), "{reasons}");
        assert!(reasons.contains("`helper`"), "{reasons}");
        assert!(
            reasons.contains("test `nope`, which does not call `add`"),
            "{reasons}"
        );
    }

    #[test]
    fn a_test_that_reads_a_file_when_compiled_is_dropped() {
        let reads = |code: &str| reads_at_compile_time(code.parse().unwrap());
        assert_eq!(
            reads("fn t() { assert_eq!(include_str!(\"/root/.ssh/id_rsa\"), \"\"); }"),
            Some("`include_str!`")
        );
        assert_eq!(
            reads("fn t() { let b = include_bytes!(\"x\"); }"),
            Some("`include_bytes!`")
        );
        assert_eq!(
            reads("fn t() { #[path = \"/etc/shadow\"] mod m; }"),
            Some("a `#[path]` module")
        );
        assert_eq!(
            reads("fn t() { let include_str = 1; assert_eq!(add(1, 2), 3); }"),
            None
        );
    }
}
