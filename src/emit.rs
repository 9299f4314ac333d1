//! Put generated tests into the user's file: format them with prettyplease, append a new
//! `mod testsmith_tests` or extend the existing one, and write atomically. Every byte outside
//! the generated text stays as it was; the interface to prettyplease is localized here.

use std::io::Write;
use std::path::Path;

use crate::analysis::{ExistingModule, MODULE_NAME};

/// The new text of a file with `tests` added. `existing` is where the analysis found a
/// `mod testsmith_tests`; an out-of-line one is the caller's to refuse.
pub fn splice(source: &str, existing: Option<&ExistingModule>, tests: &[syn::ItemFn]) -> String {
    let line_ending = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let fns = render_fns(tests);
    let mut out = String::with_capacity(source.len() + fns.len() + 64);
    match existing {
        Some(ExistingModule::Inline { close_brace, .. }) => {
            let (before, after) = source.split_at(*close_brace);
            out.push_str(before);
            if !before.ends_with('\n') {
                out.push_str(line_ending);
            }
            out.push_str(line_ending);
            out.push_str(&with_line_ending(fns, line_ending));
            out.push_str(after);
        }
        _ => {
            out.push_str(source);
            if !source.is_empty() {
                if !source.ends_with('\n') {
                    out.push_str(line_ending);
                }
                out.push_str(line_ending);
            }
            let allow_unused = if tests.iter().any(calls_anything) {
                ""
            } else {
                "    #[allow(unused_imports)]\n"
            };
            let module = format!(
                "#[cfg(test)]\nmod {MODULE_NAME} {{\n{allow_unused}    use super::*;\n\n{fns}}}\n"
            );
            out.push_str(&with_line_ending(module, line_ending));
        }
    }
    out
}

/// Each test formatted by prettyplease one level in, a blank line between tests. prettyplease
/// does the indenting (inside a stand-in module), so multi-line string literals are kept as
/// they are.
fn render_fns(tests: &[syn::ItemFn]) -> String {
    let rendered: Vec<String> = tests
        .iter()
        .map(|test| {
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
        })
        .collect();
    rendered.join("\n")
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

/// A test that is a lone `todo!()` (a scaffold whose generic parameters could not be chosen)
/// calls nothing, and then `use super::*` would be an unused import.
fn calls_anything(test: &syn::ItemFn) -> bool {
    // A `#[cfg]`-gated test may be compiled out, and with it the only use of the import.
    let gated = test.attrs.iter().any(|a| a.path().is_ident("cfg"));
    test.block.stmts.len() > 1 && !gated
}

/// Replace `path` with `contents` through a temporary file in the same directory, keeping the
/// file's permissions; a crash leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".testsmith-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(contents.as_bytes())?;
    temp.as_file().sync_all()?;
    let permissions = std::fs::metadata(path)?.permissions();
    temp.as_file().set_permissions(permissions)?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// A unified diff from `old` to `new`, labelled with `display` the way `git diff` does.
pub fn unified_diff(display: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{display}"), &format!("b/{display}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn test_fn(name: &str) -> syn::ItemFn {
        let ident = quote::format_ident!("{}", name);
        syn::parse2(quote!(#[test] fn #ident() { let _result = f(); todo!("x"); })).unwrap()
    }

    #[test]
    fn appending_keeps_every_original_byte_and_crlf() {
        let source = "pub fn f() -> u8 { 1 }\r\n// trailing comment";
        let out = splice(source, None, &[test_fn("test_f")]);
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
        let out = splice("pub fn f() -> &'static str { \"\" }\n", None, &[test]);
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
        let out = splice(source, Some(&existing), &[test_fn("test_f")]);
        assert!(out.starts_with(&source[..close_brace]));
        assert!(out.ends_with("}\n}\n"));
        assert!(out.contains("\n\n    #[test]\n    fn test_f() {\n"));
    }
}
