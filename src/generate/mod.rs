//! Turn the untested items of each file into test fns. Every generator (the offline scaffolds,
//! the LLM) sits behind [`Generator`], so the stages around it do not change.

mod args;
mod scaffold;

use std::collections::BTreeMap;

pub use scaffold::ScaffoldGenerator;

use crate::analysis::{Constructor, Import, PublicFn};
use crate::error::{Error, Warning};
use crate::rules::Rules;

/// The untested items of one file, with what a generator may want to know about the crate.
pub struct FileRequest<'a> {
    /// Path relative to the workspace root.
    pub display: &'a str,
    /// Canonical path, to find the `TESTSMITH.md` that applies.
    pub path: &'a std::path::Path,
    pub source: &'a str,
    pub items: Vec<&'a PublicFn>,
    /// The name a test of each item should take (unique in the file), in the same order.
    pub test_names: Vec<String>,
    /// How the package's own types can be built.
    pub constructors: &'a BTreeMap<String, Constructor>,
    /// The package's type definitions by name.
    pub type_defs: &'a BTreeMap<String, String>,
    /// The package's trait definitions by name.
    pub trait_defs: &'a BTreeMap<String, String>,
    /// The file's existing `#[cfg(test)]` code.
    pub test_source: &'a str,
    /// Crates a test may use (the package's dependencies and dev-dependencies).
    pub crates: &'a [String],
    /// The package can run `#[tokio::test]`: it depends on tokio with its macros and a runtime.
    pub tokio_test: bool,
    /// The lint levels, edition and hidden std names where the tests go.
    pub rules: &'a Rules,
    /// The imports of each inline module of the file.
    pub imports: &'a BTreeMap<Vec<String>, BTreeMap<String, Import>>,
}

impl FileRequest<'_> {
    /// The imports of the inline module at `module_path` (none at the file's top level, where
    /// `use super::*` brings them).
    pub fn imports(&self, module_path: &[String]) -> Option<&BTreeMap<String, Import>> {
        if module_path.is_empty() {
            return None;
        }
        self.imports.get(module_path)
    }
}

/// One generated test fn and the item it tests, as the generator made it (a syn tree, which
/// stays on the thread that made it; see [`Candidate`] for what travels on).
pub struct GeneratedTest {
    /// The item's wire name (`function`, `Type::method`).
    pub item: String,
    pub function: syn::ItemFn,
}

/// A test ready to be spliced into its file: named uniquely there and formatted. Plain text,
/// so it crosses threads and a file can be spliced again with any subset of its tests —
/// without those that failed, with those a repair brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The item's wire name.
    pub item: String,
    /// The test fn's name, unique in its file.
    pub name: String,
    /// The fn as prettyplease prints it, indented one level, ending in a newline.
    pub text: String,
    /// Whether it can use anything of `super::*`: a lone `todo!()` cannot, and a module of
    /// only such tests would have an unused import.
    pub uses_super: bool,
    /// Under a `#[cfg]`: compiled out, it uses nothing.
    pub gated: bool,
}

/// One file's generated tests, and warnings about what was left out.
#[derive(Default)]
pub struct FileCandidates {
    pub candidates: Vec<Candidate>,
    pub warnings: Vec<Warning>,
}

/// A test that failed verification, with the evidence the tools printed.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The item's wire name.
    pub item: String,
    /// The test as it was built.
    pub code: String,
    /// rustc's rendered diagnostic, or the test's output from `thread '…' panicked at` on.
    pub evidence: String,
}

/// One file's failed tests, for a repair.
pub struct RepairRequest<'a> {
    pub file: &'a FileRequest<'a>,
    pub failures: Vec<Failure>,
}

/// A generator that can mend the tests it wrote, given why they failed (the LLM).
pub trait Repairer: Sync {
    /// Calls `done(index, output)` once for each request with the replacement tests (each
    /// still naming its item). An `Err` ends the run before any file is written.
    fn repair_all(
        &self,
        requests: &[RepairRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error>;
}

/// What a generator made of one file: its tests, and warnings about what it left out.
#[derive(Default)]
pub struct FileOutput {
    pub tests: Vec<GeneratedTest>,
    pub warnings: Vec<Warning>,
}

/// Told as work progresses, for the progress bar.
pub trait Progress: Sync {
    fn file_done(&self, display: &str);
    /// Calls in flight and cache hits so far (LLM generators).
    fn calls(&self, _in_flight: usize, _cache_hits: usize) {}
}

/// Where a generator hands each file's output, as soon as it has it, on whatever thread made
/// it: syn's trees cannot cross threads, so the output is rendered where it was made.
pub type Sink<'a> = dyn Fn(usize, FileOutput) + Sync + 'a;

/// Writes tests for the items of many files at once, so that a generator that waits on a
/// network can keep several calls in flight.
pub trait Generator: Sync {
    /// Calls `done(index, output)` once for each request. An `Err` ends the run before any
    /// file is written.
    fn generate_all(
        &self,
        requests: &[FileRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error>;

    /// `(hits, misses, entries)` of a cache, when the generator has one.
    fn cache_stats(&self) -> Option<(usize, usize, usize)> {
        None
    }
}

/// The name of the test fn for an item: `test_` and the item's path in snake case
/// (`Stack::push` → `test_stack_push`). The prefix keeps the test from shadowing the fn it calls,
/// which `use super::*` brings into the same scope.
pub fn test_fn_name(item_name: &str) -> String {
    let mut name = String::from("test");
    // `<Money as From<u8>>::from` → `money`, `from`, `u8`, `from`: the words, without `as`
    // and lifetimes.
    let mut word = String::new();
    let mut lifetime = false;
    for ch in item_name.chars().chain(std::iter::once(' ')) {
        if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
            continue;
        }
        let done = std::mem::take(&mut word);
        if ch == '#' && done == "r" {
            continue;
        }
        if !done.is_empty() && !lifetime && done != "as" {
            name.push('_');
            name.push_str(&snake_case(&done));
        }
        lifetime = ch == '\'';
    }
    name
}

/// `base`, or `base_2`, `base_3`, … : the first that `taken` does not hold.
pub fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while taken(&name) {
        n += 1;
        name = format!("{base}_{n}");
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
        assert_eq!(
            test_fn_name("<Money as Display>::fmt"),
            "test_money_display_fmt"
        );
        assert_eq!(
            test_fn_name("<inner::Code as From<&'a str>>::from"),
            "test_inner_code_from_str_from"
        );
    }
}
