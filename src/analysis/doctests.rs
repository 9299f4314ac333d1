//! Doc tests: the Rust code blocks of doc comments, whose calls count as tests of a lib.

use proc_macro2::TokenStream;
use syn::{Attribute, Meta};

use super::calls::scan_calls;
use super::tested::Calls;

/// Record the calls of the doc tests in `attrs`: the Rust code blocks of the doc comment that
/// rustdoc runs (unmarked, `rust`, `should_panic`, …; not `no_run`, which is compiled but never
/// run, nor `ignore`, `compile_fail`, `text` or another language), hidden `# ` lines included.
pub(super) fn doc_test_calls(attrs: &[Attribute], calls: &mut Calls) {
    let mut doc = String::new();
    for attr in attrs {
        if let Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            doc.push_str(&s.value());
            doc.push('\n');
        }
    }
    if !doc.contains("```") && !doc.contains("~~~") {
        return;
    }
    let mut block: Option<(String, bool)> = None;
    let mut fence = "";
    for line in doc.lines() {
        let trimmed = line.trim_start();
        match &mut block {
            None => {
                for marker in ["```", "~~~"] {
                    if let Some(info) = trimmed.strip_prefix(marker) {
                        fence = marker;
                        block = Some((String::new(), is_rust_test(info)));
                    }
                }
            }
            Some((code, tested)) => {
                if trimmed.starts_with(fence) {
                    if *tested && let Ok(tokens) = code.parse::<TokenStream>() {
                        scan_calls(tokens, calls);
                    }
                    block = None;
                } else {
                    // rustdoc's hidden lines: `# code` and a lone `#`.
                    let code_line = trimmed
                        .strip_prefix("# ")
                        .or_else(|| (trimmed == "#").then_some(""))
                        .unwrap_or(line);
                    code.push_str(code_line);
                    code.push('\n');
                }
            }
        }
    }
}

/// Whether rustdoc runs (or at least builds) a code block with this info string.
fn is_rust_test(info: &str) -> bool {
    info.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .all(|word| {
            matches!(
                word,
                "rust" | "should_panic" | "test_harness" | "standalone_crate"
            ) || word.starts_with("edition")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_calls(doc: &str) -> Calls {
        let item: syn::ItemFn = syn::parse_str(&format!("{doc}\nfn f() {{}}")).unwrap();
        let mut calls = Calls::default();
        doc_test_calls(&item.attrs, &mut calls);
        calls
    }

    #[test]
    fn the_rust_blocks_rustdoc_runs_count_with_their_hidden_lines() {
        let calls = doc_calls(
            "/// Text.\n/// ```\n/// plain();\n/// # hidden();\n/// ```\n/// ```rust,no_run\n/// no_run();\n/// ```\n/// ~~~should_panic\n/// panics();\n/// ~~~",
        );
        for name in ["plain", "hidden", "panics"] {
            assert!(calls.paths.contains(name), "{name}: {:?}", calls.paths);
        }
        // Compiled, never run: no test of what it calls.
        assert!(!calls.paths.contains("no_run"), "{:?}", calls.paths);
        let calls = doc_calls(
            "/// ```ignore\n/// ignored();\n/// ```\n/// ```text\n/// text();\n/// ```\n/// ```compile_fail\n/// fails();\n/// ```\n/// ```python\n/// py()\n/// ```",
        );
        assert!(calls.paths.is_empty(), "{:?}", calls.paths);
    }
}
