//! What the model is asked: the system prompt, the JSON schema of the test envelope (the
//! requested names enumerated, so a model cannot invent one), and the user prompt built from
//! the items and their context within a size budget.

use serde_json::{Value, json};

use crate::analysis::PublicFn;
use crate::generate::{Failure, FailureKind};

/// The context shared by every item of a file.
pub struct FileContext<'a> {
    pub display: &'a str,
    pub source: &'a str,
    /// The file's existing test code, as a style example.
    pub existing_tests: &'a str,
    /// `TESTSMITH.md`, never trimmed.
    pub conventions: Option<&'a str>,
    /// Crates a test may use: the package's dependencies and dev-dependencies.
    pub crates: &'a [String],
}

/// The whole file goes in only up to this many bytes: beyond, the items and their types' context
/// say what a test needs, and a large file's prompt does not grow with it.
const WHOLE_FILE_LIMIT: usize = 6_000;
/// Existing tests, as a style example, are cut to this many bytes.
const EXISTING_TESTS_BUDGET: usize = 3_000;

pub const SYSTEM: &str = "You write Rust unit tests. Answer with JSON only: \
{\"tests\":[{\"name\":\"<item name>\",\"code\":\"<Rust source>\"}]}, one entry per requested \
item, using exactly the item names given. Each `code` holds one or more complete `#[test]` \
functions and nothing else: no `use` lines, no modules, no helper functions. The tests go \
inside `#[cfg(test)] mod testsmith_tests { use super::*; }` at the end of the item's file, so \
call items by the names given. Every test must call its item, compile, pass, and be \
deterministic: no network, no clock, no randomness, no files outside a temp dir. Use only the \
standard library and the crates listed as available.";

/// The envelope's schema with `names` as the only allowed item names.
pub fn schema(names: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": {
            "tests": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "enum": names},
                        "code": {"type": "string"},
                    },
                    "required": ["name", "code"],
                    "additionalProperties": false,
                },
            },
        },
        "required": ["tests"],
        "additionalProperties": false,
    })
}

/// One item as the prompt shows it: its name, its source, and the package's types it uses
/// (shown once per prompt, with how to make each).
pub struct ItemContext<'a> {
    pub item: &'a PublicFn,
    pub uses: Vec<String>,
    /// For a repair: the failed test and what the compiler or the test printed; for a weak
    /// test, the mutants it did not catch.
    pub failure: Option<&'a Failure>,
}

/// Evidence beyond this many bytes is cut: the first error says the most.
const EVIDENCE_BUDGET: usize = 4_000;

/// The user prompt for `items` of one file, with `types`: the sections of the types they use,
/// each once.
pub fn user_prompt(file: &FileContext<'_>, items: &[ItemContext<'_>], types: &[String]) -> String {
    let mut out = String::with_capacity(WHOLE_FILE_LIMIT + 4096);
    if let Some(conventions) = file.conventions {
        out.push_str("Project conventions for tests (TESTSMITH.md):\n");
        out.push_str(conventions.trim());
        out.push_str("\n\n");
    }
    out.push_str("Crates available to tests: std");
    for name in file.crates {
        out.push_str(", ");
        out.push_str(name);
    }
    let weak = items
        .iter()
        .any(|ctx| ctx.failure.is_some_and(|f| f.kind == FailureKind::Weak));
    if weak {
        out.push_str(".\n\nThese tests of items of `");
        out.push_str(file.display);
        out.push_str(
            "` pass, but they did not catch the bugs shown below each: mutants, small changes \
             to the item's code that a good test fails on. Write for each item a test that \
             passes on the code as it is and fails on each mutant shown, still calling its \
             item: assert the exact values the item returns, on inputs where the changed code \
             gives another.\n",
        );
    } else if items.iter().any(|ctx| ctx.failure.is_some()) {
        out.push_str(".\n\nThese tests of items of `");
        out.push_str(file.display);
        out.push_str(
            "` failed. Rewrite each so that it compiles and passes, still calling its item. \
             Read the error: where a test expected a value the item does not return, assert \
             what the item really does; where it used an API that does not exist, use the one \
             shown.\n",
        );
    } else {
        out.push_str(".\n\nWrite tests for these items of `");
        out.push_str(file.display);
        out.push_str("`:\n");
    }
    for ctx in items {
        out.push_str("\n### ");
        out.push_str(&ctx.item.name);
        // A trait's method is read with its impl: which type, which trait.
        if let Some(block) = &ctx.item.impl_block
            && block.trait_.as_ref().is_some_and(|t| !t.provided)
        {
            out.push_str("\nIn `");
            out.push_str(block.stub.trim_end_matches("{}").trim());
            out.push_str("`:");
        }
        out.push_str("\n```rust\n");
        out.push_str(ctx.item.source.trim());
        out.push_str("\n```\n");
        if !ctx.uses.is_empty() {
            let names: Vec<String> = ctx.uses.iter().map(|n| format!("`{n}`")).collect();
            out.push_str("Uses (below): ");
            out.push_str(&names.join(", "));
            out.push('\n');
        }
        if let Some(failure) = ctx.failure {
            let (test, evidence, lang) = match failure.kind {
                FailureKind::Broken => ("The test that failed:", "What happened:", "text"),
                FailureKind::Weak => (
                    "The tests that passed:",
                    "The mutants they did not catch:",
                    "diff",
                ),
            };
            out.push_str(&format!("{test}\n```rust\n"));
            out.push_str(failure.code.trim());
            out.push_str(&format!("\n```\n{evidence}\n```{lang}\n"));
            out.push_str(&cut(failure.evidence.trim(), EVIDENCE_BUDGET));
            out.push_str("\n```\n");
        }
    }
    let types: Vec<&String> = types.iter().filter(|t| !t.is_empty()).collect();
    if !types.is_empty() {
        out.push_str("\nThe package's types these items use, and how to make each:\n");
        for section in types {
            out.push_str(section);
        }
    }
    if !file.existing_tests.trim().is_empty() {
        out.push_str("\nExisting tests in this file (match their style):\n```rust\n");
        out.push_str(&cut(file.existing_tests, EXISTING_TESTS_BUDGET));
        out.push_str("\n```\n");
    }
    if file.source.len() <= WHOLE_FILE_LIMIT {
        out.push_str("\nThe whole file, for context:\n```rust\n");
        out.push_str(file.source.trim_end());
        out.push_str("\n```\n");
    }
    out
}

/// At most `budget` bytes of `text`, cut at a line end, with a last line saying so when cut.
fn cut(text: &str, budget: usize) -> String {
    if text.len() <= budget {
        return text.to_owned();
    }
    let mut end = budget;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let kept = match text[..end].rfind('\n') {
        Some(line_end) => &text[..line_end],
        None => &text[..end],
    };
    format!("{kept}\n// … cut: {} more bytes", text.len() - kept.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_enumerates_the_names() {
        let s = schema(&["add", "Stack::push"]);
        assert_eq!(
            s.pointer("/properties/tests/items/properties/name/enum"),
            Some(&json!(["add", "Stack::push"]))
        );
    }

    #[test]
    fn cutting_stays_on_char_and_line_boundaries_and_says_so() {
        // "é" is two bytes: a budget of 100 ends inside one ("é\n" is three bytes).
        let text = "é\n".repeat(10_000);
        let cut_text = cut(&text, 100);
        let (kept, note) = cut_text.rsplit_once('\n').unwrap();
        assert!(kept.len() <= 100);
        assert!(text.starts_with(kept));
        assert!(kept.ends_with('é'));
        assert_eq!(
            note,
            format!("// … cut: {} more bytes", text.len() - kept.len())
        );
        assert_eq!(cut("short", 100), "short");
    }
}
