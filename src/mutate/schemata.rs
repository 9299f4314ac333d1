//! Mutant schemata: one source with every mutant of a file in it, each behind a switch on the
//! mutant number the test process is given (`TESTSMITH_MUTANT`), so N mutants cost one build,
//! not N. A body mutant is a `match` at the top of the body that returns the mutant's value; an
//! operator, a deleted `!`/`-` or a forced guard is a `match` in place of the expression. With
//! no number set (0), every switch takes the original code.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, parse_quote};

use super::{Genre, Mutant};

/// The environment variable a test process reads its mutant number from.
pub const VAR: &str = "TESTSMITH_MUTANT";

/// What the crate root gets: the switch every mutated body reads, parsed once per process.
pub fn switch_fn() -> String {
    format!(
        "\n#[doc(hidden)]\n#[allow(dead_code)]\npub(crate) fn __testsmith_mutant() -> u64 {{\n    \
         static ID: ::std::sync::OnceLock<u64> = ::std::sync::OnceLock::new();\n    \
         *ID.get_or_init(|| {{\n        ::std::env::var(\"{VAR}\")\n            .ok()\n            \
         .and_then(|id| id.parse().ok())\n            .unwrap_or(0)\n    }})\n}}\n"
    )
}

/// `source` with `mutants` (numbered by their place in the slice, from 1) behind switches.
/// Mutants that match no code of the file are left out of it.
pub fn schemata(source: &str, mutants: &[Mutant]) -> Result<syn::File, syn::Error> {
    let mut file = syn::parse_file(source)?;
    let mut by_place: HashMap<(usize, usize), Vec<(u64, &Mutant)>> = HashMap::new();
    for (index, mutant) in mutants.iter().enumerate() {
        by_place
            .entry((mutant.line, mutant.column))
            .or_default()
            .push((index as u64 + 1, mutant));
    }
    Rewrite { by_place }.visit_file_mut(&mut file);
    Ok(file)
}

struct Rewrite<'a> {
    by_place: HashMap<(usize, usize), Vec<(u64, &'a Mutant)>>,
}

fn place(span: Span) -> (usize, usize) {
    let start = span.start();
    (start.line, start.column + 1)
}

fn first_span(tokens: impl ToTokens) -> Span {
    tokens
        .into_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

impl Rewrite<'_> {
    /// The mutants of `genre` at `at`.
    fn at(&self, at: Span, genre: Genre) -> Vec<(u64, &Mutant)> {
        self.by_place
            .get(&place(at))
            .into_iter()
            .flatten()
            .filter(|(_, m)| m.genre == genre)
            .copied()
            .collect()
    }

    /// `match crate::__testsmith_mutant() { n => <mutant>, …, _ => <original> }`.
    fn switch(arms: Vec<(u64, Expr)>, original: Expr) -> Expr {
        let numbers = arms
            .iter()
            .map(|(n, _)| syn::LitInt::new(&n.to_string(), Span::call_site()));
        let bodies = arms.iter().map(|(_, e)| e);
        parse_quote! {
            match crate::__testsmith_mutant() {
                #(#numbers => #bodies,)*
                _ => #original,
            }
        }
    }

    fn body(&self, block: &mut syn::Block) {
        let mutants = self.at(block.brace_token.span.open(), Genre::Body);
        if mutants.is_empty() {
            return;
        }
        let mut arms = Vec::new();
        for (n, mutant) in mutants {
            let n = syn::LitInt::new(&n.to_string(), Span::call_site());
            let Ok(value) = syn::parse_str::<Expr>(&mutant.replacement) else {
                continue;
            };
            arms.push(quote::quote!(#n => return #value,));
        }
        let switch: syn::Stmt = parse_quote! {
            match crate::__testsmith_mutant() {
                #(#arms)*
                _ => {}
            }
        };
        block.stmts.insert(0, switch);
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        visit_mut::visit_block_mut(self, block);
    }

    fn visit_item_fn_mut(&mut self, f: &mut syn::ItemFn) {
        visit_mut::visit_item_fn_mut(self, f);
        self.body(&mut f.block);
    }

    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        visit_mut::visit_impl_item_fn_mut(self, f);
        self.body(&mut f.block);
    }

    fn visit_trait_item_fn_mut(&mut self, f: &mut syn::TraitItemFn) {
        visit_mut::visit_trait_item_fn_mut(self, f);
        if let Some(block) = &mut f.default {
            self.body(block);
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        // Inner expressions first: their places are those of the original code.
        visit_mut::visit_expr_mut(self, expr);
        let replaced = match expr {
            Expr::Binary(binary) => {
                let genre = match self.at(first_span(binary.op), Genre::BinaryOperator) {
                    found if !found.is_empty() => found,
                    _ => self.at(first_span(binary.op), Genre::CompoundAssignment),
                };
                let arms: Vec<(u64, Expr)> = genre
                    .into_iter()
                    .filter_map(|(n, m)| {
                        let op: syn::BinOp = syn::parse_str(&m.replacement).ok()?;
                        let mut changed = binary.clone();
                        changed.op = op;
                        Some((n, Expr::Binary(changed)))
                    })
                    .collect();
                (!arms.is_empty()).then(|| Self::switch(arms, Expr::Binary(binary.clone())))
            }
            Expr::Unary(unary) => {
                let arms: Vec<(u64, Expr)> = self
                    .at(first_span(unary.op), Genre::UnaryDeleted)
                    .into_iter()
                    .map(|(n, _)| (n, (*unary.expr).clone()))
                    .collect();
                (!arms.is_empty()).then(|| Self::switch(arms, Expr::Unary(unary.clone())))
            }
            _ => None,
        };
        if let Some(replaced) = replaced {
            *expr = replaced;
        }
    }

    fn visit_pat_guard_mut(&mut self, guard: &mut syn::PatGuard) {
        visit_mut::visit_pat_guard_mut(self, guard);
        let arms: Vec<(u64, Expr)> = self
            .at(guard.if_token.span, Genre::MatchGuard)
            .into_iter()
            .filter_map(|(n, m)| Some((n, syn::parse_str(&m.replacement).ok()?)))
            .collect();
        if !arms.is_empty() {
            *guard.guard = Self::switch(arms, (*guard.guard).clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{PublicFn, analyze};

    const SOURCE: &str = r#"
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

pub fn is_positive(x: i32) -> bool {
    x > 0
}

pub fn sign(x: i32) -> i32 {
    match x {
        n if n < 0 => -1,
        _ => 1,
    }
}

pub fn flip(on: bool) -> bool {
    !on
}

pub fn scaled(a: i32, b: i32, c: i32) -> i32 {
    (a + b) * c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 2), 4);
    }

    #[test]
    fn positives() {
        assert!(is_positive(3));
        assert!(!is_positive(-3));
    }

    #[test]
    fn signs() {
        assert_eq!(sign(-5), -1);
        assert_eq!(sign(5), 1);
    }

    #[test]
    fn flips() {
        assert!(flip(false));
    }

    #[test]
    fn scales() {
        assert_eq!(scaled(1, 2, 3), 9);
    }
}
"#;

    /// The test binary of a crate holding `lib`, built once.
    fn build(lib: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"schemata\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), lib).unwrap();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args(["test", "--no-run", "--message-format", "json", "-q"])
            .current_dir(dir.path())
            .env("CARGO_TARGET_DIR", dir.path().join("target"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let binary = stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find_map(|message| message["executable"].as_str().map(std::path::PathBuf::from))
            .expect("a test binary");
        (dir, binary)
    }

    /// Whether the crate's tests all pass with mutant `n` switched on.
    fn passes(binary: &std::path::Path, n: usize) -> bool {
        std::process::Command::new(binary)
            .arg("-q")
            .env(VAR, n.to_string())
            .output()
            .unwrap()
            .status
            .success()
    }

    #[test]
    fn one_build_holds_every_mutant_and_each_is_switched_on_by_its_number() {
        let analysis = analyze(SOURCE).unwrap();
        let items: Vec<&PublicFn> = analysis.items.iter().collect();
        let (mutants, _) = super::super::mutants(SOURCE, "src/lib.rs", &items).unwrap();
        let text = crate::splice::unparse(&schemata(SOURCE, &mutants).unwrap()) + &switch_fn();
        let (_dir, binary) = build(&text);
        assert!(passes(&binary, 0), "the original code fails its own tests");
        let number = |description: &str| {
            1 + mutants
                .iter()
                .position(|m| m.description == description)
                .unwrap_or_else(|| panic!("no mutant `{description}`"))
        };
        for caught in [
            "replace + with - in add",
            "replace add -> i32 with 0",
            "replace > with < in is_positive",
            "replace is_positive -> bool with false",
            "replace match guard with false in sign",
            "delete ! in flip",
            "replace * with + in scaled",
            "replace + with - in scaled",
        ] {
            assert!(
                !passes(&binary, number(caught)),
                "`{caught}` was not caught"
            );
        }
        // 2 * 2 is 4 too: a weak test lets this one live.
        assert!(passes(&binary, number("replace + with * in add")));
    }
}
