//! Turn the untested items of one file into test fns. Every generator (the offline scaffolds
//! now, an LLM later) sits behind [`Generator`], so the stages around it do not change.

mod args;
mod scaffold;

use std::collections::BTreeMap;

pub use scaffold::ScaffoldGenerator;

use crate::analysis::{Constructor, PublicFn};

/// The untested items of one file, with what a generator may want to know about the crate.
pub struct FileRequest<'a> {
    /// Path relative to the workspace root.
    pub display: &'a str,
    pub source: &'a str,
    pub items: Vec<&'a PublicFn>,
    /// How the package's own types can be built.
    pub constructors: &'a BTreeMap<String, Constructor>,
}

/// One generated test fn and the item it tests.
pub struct GeneratedTest {
    /// The item's wire name (`function`, `Type::method`).
    pub item: String,
    pub function: syn::ItemFn,
}

/// Writes tests for the items of a file.
pub trait Generator {
    fn generate(&self, request: &FileRequest<'_>) -> Vec<GeneratedTest>;
}

/// The name of the test fn for an item: `test_` and the item's path in snake case
/// (`Stack::push` → `test_stack_push`). The prefix keeps the test from shadowing the fn it calls,
/// which `use super::*` brings into the same scope.
pub fn test_fn_name(item_name: &str) -> String {
    let mut name = String::from("test");
    for segment in item_name.split("::") {
        name.push('_');
        name.push_str(&snake_case(segment.trim_start_matches("r#")));
    }
    name
}

fn snake_case(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 4);
    let chars: Vec<char> = ident.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        if ch.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_are_snake_case_and_prefixed() {
        assert_eq!(test_fn_name("add"), "test_add");
        assert_eq!(test_fn_name("Stack::push"), "test_stack_push");
        assert_eq!(
            test_fn_name("HTTPClient::get_url"),
            "test_http_client_get_url"
        );
        assert_eq!(
            test_fn_name("inner::Parser2::r#type"),
            "test_inner_parser2_type"
        );
    }
}
