//! The text of a file with tests in it: format each test with prettyplease, settle its name in
//! its file, and append a new `mod testsmith_tests` or extend the existing one. Every byte
//! outside the generated text stays as it was. Verification splices into its scratch copy and
//! emission into the user's file with the same functions, so what was verified is what is
//! written. The interface to prettyplease is localized here.

use std::collections::BTreeSet;

use crate::analysis::{ExistingModule, MODULE_NAME};
use crate::generate::{Candidate, GeneratedTest, unique_name};
use crate::rules::Rules;

/// A file's new text, and where each added test landed in it.
pub struct Spliced {
    pub text: String,
    /// 1-based first and last line of each test, in the order given.
    pub lines: Vec<(usize, usize)>,
}

/// The new text of a file with `tests` added. `existing` is where the analysis found a
/// `mod testsmith_tests`; an out-of-line one is the caller's to refuse. `rules` decide how a
/// new module imports `super::*`.
pub fn splice(
    source: &str,
    existing: Option<&ExistingModule>,
    tests: &[&Candidate],
    rules: &Rules,
) -> Spliced {
    let line_ending = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut fns = String::new();
    let mut offsets = Vec::with_capacity(tests.len());
    for (i, test) in tests.iter().enumerate() {
        if i > 0 {
            fns.push('\n');
        }
        offsets.push((fns.len(), fns.len() + test.text.trim_end().len()));
        fns.push_str(&test.text);
    }
    let fns_lf = fns.clone();
    let mut out = String::with_capacity(source.len() + fns.len() + 64);
    let fns_at = match existing {
        Some(ExistingModule::Inline { close_brace, .. }) => {
            let (before, after) = source.split_at(*close_brace);
            out.push_str(before);
            if !before.ends_with('\n') {
                out.push_str(line_ending);
            }
            out.push_str(line_ending);
            let at = out.len();
            out.push_str(&with_line_ending(fns, line_ending));
            out.push_str(after);
            at
        }
        _ => {
            out.push_str(source);
            if !source.is_empty() {
                if !source.ends_with('\n') {
                    out.push_str(line_ending);
                }
                out.push_str(line_ending);
            }
            let import = import_super(tests, rules);
            let head = format!("#[cfg(test)]\nmod {MODULE_NAME} {{\n{import}\n");
            out.push_str(&with_line_ending(head, line_ending));
            let at = out.len();
            out.push_str(&with_line_ending(fns, line_ending));
            out.push('}');
            out.push_str(line_ending);
            at
        }
    };
    // A CRLF is still one line: counting `\n`s is right in either form.
    let first_line = out[..fns_at].matches('\n').count() + 1;
    let lines = offsets
        .into_iter()
        .map(|(start, end)| {
            (
                first_line + fns_lf[..start].matches('\n').count(),
                first_line + fns_lf[..end].matches('\n').count(),
            )
        })
        .collect();
    Spliced { text: out, lines }
}

/// How a new module imports the file's items: plainly when a test always compiled uses them;
/// with the unused import allowed when none may; not at all when the crate forbids that
/// allow and no test needs the import.
fn import_super(tests: &[&Candidate], rules: &Rules) -> &'static str {
    if tests.iter().any(|t| t.uses_super && !t.gated) {
        "    use super::*;\n"
    } else if !rules.forbids("unused_imports") {
        "    #[allow(unused_imports)]\n    use super::*;\n"
    } else if tests.iter().any(|t| t.uses_super) {
        "    use super::*;\n"
    } else {
        ""
    }
}

/// Name each test uniquely against `taken` (the module's fns and tests already settled), then
/// format it.
pub fn prepare(tests: Vec<GeneratedTest>, taken: &mut BTreeSet<String>) -> Vec<Candidate> {
    tests
        .into_iter()
        .map(|test| {
            let mut function = test.function;
            let name = unique_name(&function.sig.ident.to_string(), |n| taken.contains(n));
            if function.sig.ident != name {
                function.sig.ident = syn::Ident::new(&name, function.sig.ident.span());
            }
            taken.insert(name.clone());
            Candidate {
                item: test.item,
                name,
                text: format_fn(&function),
                uses_super: uses_super(&function),
                // A `#[cfg]`-gated test may be compiled out, and with it the only use of the
                // import.
                gated: function.attrs.iter().any(|a| a.path().is_ident("cfg")),
            }
        })
        .collect()
}

/// The candidate with `#[ignore = "<reason>"]` added (a test kept with `--keep-failing`).
pub fn with_ignore(candidate: &Candidate, reason: &str) -> Candidate {
    let Ok(mut function) = syn::parse_str::<syn::ItemFn>(&candidate.text) else {
        return candidate.clone();
    };
    function.attrs.push(syn::parse_quote!(#[ignore = #reason]));
    Candidate {
        text: format_fn(&function),
        ..candidate.clone()
    }
}

/// A test formatted by prettyplease one level in, ending in a newline. prettyplease does the
/// indenting (inside a stand-in module), so multi-line string literals are kept as they are.
fn format_fn(test: &syn::ItemFn) -> String {
    // Built, not parsed: `parse_quote!` would print and re-parse the whole fn.
    let module = syn::ItemMod {
        attrs: Vec::new(),
        vis: syn::Visibility::Inherited,
        unsafety: None,
        mod_token: Default::default(),
        ident: syn::Ident::new("m", proc_macro2::Span::call_site()),
        content: Some((Default::default(), vec![syn::Item::Fn(test.clone())])),
        semi: None,
    };
    let text = prettyplease::unparse(&syn::File {
        shebang: None,
        frontmatter: None,
        attrs: Vec::new(),
        items: vec![syn::Item::Mod(module)],
    });
    // Drop the stand-in's `mod m {` and `}` lines.
    let inner = text.split_once('\n').map_or("", |(_, rest)| rest);
    let inner = inner.trim_end().strip_suffix('}').unwrap_or(inner);
    inner.trim_end_matches(' ').to_owned()
}

/// A whole file as prettyplease prints it (a mutant schemata's scratch source).
pub fn unparse(file: &syn::File) -> String {
    prettyplease::unparse(file)
}

/// Generated text (prettyplease writes `\n`) in the file's line ending: a file with CRLF
/// endings gets CRLF in what is added.
fn with_line_ending(text: String, line_ending: &str) -> String {
    if line_ending == "\n" {
        text
    } else {
        text.replace('\n', line_ending)
    }
}

/// A test that is a lone `todo!()` (a scaffold that could not call its item) uses nothing of
/// `super::*`; any other may.
fn uses_super(test: &syn::ItemFn) -> bool {
    match test.block.stmts.as_slice() {
        [syn::Stmt::Macro(m)] => !m.mac.path.is_ident("todo"),
        [syn::Stmt::Expr(syn::Expr::Macro(m), _)] => !m.mac.path.is_ident("todo"),
        _ => true,
    }
}

/// The fns already in the file's `mod testsmith_tests`: a new test must not take their names.
pub fn existing_fns(file: &crate::scan::SourceFile) -> BTreeSet<String> {
    match &file.analysis.existing {
        Some(ExistingModule::Inline { fns, .. }) => fns.clone(),
        _ => BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn test_fn(name: &str) -> syn::ItemFn {
        let ident = quote::format_ident!("{}", name);
        syn::parse2(quote!(#[test] fn #ident() { let _result = f(); todo!("x"); })).unwrap()
    }

    fn candidates(fns: Vec<syn::ItemFn>, taken: &mut BTreeSet<String>) -> Vec<Candidate> {
        let tests = fns
            .into_iter()
            .map(|function| GeneratedTest {
                item: "f".into(),
                function,
            })
            .collect();
        prepare(tests, taken)
    }

    fn splice_fns(
        source: &str,
        existing: Option<&ExistingModule>,
        fns: Vec<syn::ItemFn>,
    ) -> String {
        let candidates = candidates(fns, &mut BTreeSet::new());
        splice(
            source,
            existing,
            &candidates.iter().collect::<Vec<_>>(),
            &Rules::default(),
        )
        .text
    }

    #[test]
    fn appending_keeps_every_original_byte_and_crlf() {
        let source = "pub fn f() -> u8 { 1 }\r\n// trailing comment";
        let out = splice_fns(source, None, vec![test_fn("test_f")]);
        assert!(out.starts_with(source));
        let added = &out[source.len()..];
        assert!(added.starts_with("\r\n\r\n#[cfg(test)]\r\nmod testsmith_tests {\r\n"));
        assert!(!added.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn multi_line_string_literals_are_not_indented() {
        let test: syn::ItemFn = syn::parse_str(
            "#[test] fn t() { assert_eq!(f(), \"line1\nline2\"); let r = r#\"a\n  b\"#; }",
        )
        .unwrap();
        let out = splice_fns("pub fn f() -> &'static str { \"\" }\n", None, vec![test]);
        assert!(out.contains("\"line1\nline2\""), "{out}");
        assert!(out.contains("r#\"a\n  b\"#"), "{out}");
        assert!(out.contains("\n    #[test]\n    fn t() {\n"), "{out}");
    }

    #[test]
    fn extending_inserts_before_the_closing_brace_only() {
        let source = "pub fn f() {}\n#[cfg(test)]\nmod testsmith_tests {\n    use super::*;\n    fn mine() {}\n}\n";
        let close_brace = source.rfind('}').unwrap();
        let existing = ExistingModule::Inline {
            close_brace,
            fns: Default::default(),
        };
        let out = splice_fns(source, Some(&existing), vec![test_fn("test_f")]);
        assert!(out.starts_with(&source[..close_brace]));
        assert!(out.ends_with("}\n}\n"));
        assert!(out.contains("\n\n    #[test]\n    fn test_f() {\n"));
    }

    #[test]
    fn names_are_settled_and_line_ranges_point_at_each_test() {
        let mut taken = BTreeSet::from(["t".to_owned()]);
        let fns = vec![test_fn("t"), test_fn("t"), test_fn("u")];
        let tests = candidates(fns, &mut taken);
        let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["t_2", "t_3", "u"]);
        for source in ["pub fn f() {}\n", "pub fn f() {}\r\n"] {
            let spliced = splice(
                source,
                None,
                &tests.iter().collect::<Vec<_>>(),
                &Rules::default(),
            );
            let lines: Vec<&str> = spliced.text.lines().collect();
            assert_eq!(spliced.lines.len(), 3);
            for ((first, last), test) in spliced.lines.iter().zip(&tests) {
                assert_eq!(lines[first - 1].trim(), "#[test]");
                assert_eq!(lines[*first].trim(), format!("fn {}() {{", test.name));
                assert_eq!(lines[last - 1].trim_end(), "    }");
            }
        }
        let ignored = with_ignore(&tests[2], "testsmith: fails: boom");
        assert!(
            ignored
                .text
                .contains("#[ignore = \"testsmith: fails: boom\"]"),
            "{}",
            ignored.text
        );
    }
}
