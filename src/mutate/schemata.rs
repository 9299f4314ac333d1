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

/// The environment variable a test process reads its mutant number from, where its thread's
/// name names none.
pub const VAR: &str = "TESTSMITH_MUTANT";

/// How a wrapper test's name starts: `__testsmith_m<n>_<test>` runs `<test>` against mutant
/// `n`.
const WRAPPER: &str = "__testsmith_m";

/// What the crate root gets: the switch every mutated body reads, once per thread. libtest
/// names each test's thread after the test, so a wrapper test runs its mutant and many
/// mutants run in one process; any other thread (the crate's own tests, threads the code
/// starts) runs the mutant `TESTSMITH_MUTANT` names, or none. `extern crate std` in the fn
/// makes `std` there in a `#![no_std]` crate too (its tests link std anyway), its lint
/// allowed for crates under `rust_2018_idioms`.
pub fn switch_fn() -> String {
    format!(
        r#"
#[doc(hidden)]
#[allow(dead_code, unused_qualifications)]
pub(crate) fn __testsmith_mutant() -> u64 {{
    #[allow(unused_extern_crates)]
    extern crate std;
    std::thread_local! {{
        static ID: std::cell::Cell<u64> = const {{ std::cell::Cell::new(u64::MAX) }};
    }}
    ID.with(|id| {{
        if id.get() == u64::MAX {{
            let named = std::thread::current().name().and_then(|name| {{
                let tail = name.rsplit("::").next()?.strip_prefix("{WRAPPER}")?;
                tail.split('_').next()?.parse().ok()
            }});
            let chosen = named
                .or_else(|| std::env::var("{VAR}").ok()?.parse().ok())
                .unwrap_or(0);
            id.set(chosen);
        }}
        id.get()
    }})
}}
"#
    )
}

/// Whether a libtest name (`module::test`) is a wrapper's.
pub fn is_wrapper(name: &str) -> bool {
    name.rsplit("::")
        .next()
        .is_some_and(|last| last.starts_with(WRAPPER))
}

/// The name of the wrapper test that runs `test` against mutant `number`.
pub fn wrapper_name(test: &str, number: u64) -> String {
    format!("{WRAPPER}{number}_{test}")
}

/// A test fn that runs the test fn `test` (its text, as spliced) against mutant `number`: the
/// test's `should_panic`, `cfg` and lint attributes and its return type, a body that calls it.
/// `None` when the text is not a fn, or a fn that takes arguments or generics.
pub fn wrapper(test: &str, number: u64) -> Option<String> {
    let function: syn::ItemFn = syn::parse_str(test).ok()?;
    // A test that takes arguments (rstest's cases) cannot be called plainly.
    if !function.sig.inputs.is_empty() || !function.sig.generics.params.is_empty() {
        return None;
    }
    let name = &function.sig.ident;
    let wrapper = syn::Ident::new(
        &wrapper_name(&name.to_string(), number),
        proc_macro2::Span::call_site(),
    );
    let kept = function.attrs.iter().filter(|a| {
        ["should_panic", "cfg", "cfg_attr", "allow", "expect"]
            .iter()
            .any(|k| a.path().is_ident(k))
    });
    let output = &function.sig.output;
    let item: syn::ItemFn = parse_quote! {
        #[test]
        #(#kept)*
        fn #wrapper() #output {
            #name()
        }
    };
    Some(item.into_token_stream().to_string())
}

/// `source` with `mutants` (numbered by their place in the slice, from 1) behind switches, and
/// the numbers it holds. An operator whose operands hold switches already gets its own around
/// copies of them, while they hold at most [`NEST_LIMIT`]: past that, its mutants are left out,
/// or a long chain (`a + b + c + d + …`) would copy its switches into every arm and grow the
/// source exponentially. Mutants that match no code of the file are left out too.
pub fn schemata(source: &str, mutants: &[Mutant]) -> Result<(syn::File, Vec<u64>), syn::Error> {
    let mut file = syn::parse_file(source)?;
    let mut by_place: HashMap<(usize, usize), Vec<(u64, &Mutant)>> = HashMap::new();
    for (index, mutant) in mutants.iter().enumerate() {
        by_place
            .entry((mutant.line, mutant.column))
            .or_default()
            .push((index as u64 + 1, mutant));
    }
    let mut rewrite = Rewrite {
        by_place,
        included: Vec::new(),
    };
    rewrite.visit_file_mut(&mut file);
    let mut included = rewrite.included;
    included.sort_unstable();
    Ok((file, included))
}

struct Rewrite<'a> {
    by_place: HashMap<(usize, usize), Vec<(u64, &'a Mutant)>>,
    /// The mutant numbers written so far.
    included: Vec<u64>,
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

/// `crate::__testsmith_mutant()`.
fn read_switch() -> Expr {
    parse_quote!(crate::__testsmith_mutant())
}

fn arm(pat: syn::Pat, body: Expr) -> syn::Arm {
    syn::Arm {
        attrs: Vec::new(),
        pat,
        fat_arrow_token: Default::default(),
        body: Box::new(body),
        comma: Some(Default::default()),
    }
}

fn number(n: u64) -> syn::Pat {
    syn::Pat::Lit(syn::PatLit {
        attrs: Vec::new(),
        lit: syn::Lit::Int(syn::LitInt::new(&n.to_string(), Span::call_site())),
    })
}

/// `(match crate::__testsmith_mutant() { n => <mutant>, …, _ => <original> })`, built as a
/// tree (printing and parsing it back would trip on a `match` as an operand) and in parens, so
/// it is one operand wherever it stands.
fn switch(arms: Vec<(u64, Expr)>, original: Expr) -> Expr {
    let mut all: Vec<syn::Arm> = arms.into_iter().map(|(n, e)| arm(number(n), e)).collect();
    all.push(arm(parse_quote!(_), original));
    let matched = Expr::Match(syn::ExprMatch {
        attrs: Vec::new(),
        match_token: Default::default(),
        expr: Box::new(read_switch()),
        brace_token: Default::default(),
        arms: all,
    });
    Expr::Paren(syn::ExprParen {
        attrs: Vec::new(),
        paren_token: Default::default(),
        expr: Box::new(matched),
    })
}

/// The most switches an operator's operands may hold for it to get one of its own: each of
/// its arms copies them.
const NEST_LIMIT: usize = 4;

/// How many switches `expr` holds already.
fn switches(expr: &Expr) -> usize {
    expr.to_token_stream()
        .to_string()
        .matches("__testsmith_mutant")
        .count()
}

impl<'a> Rewrite<'a> {
    /// The mutants of `genre` at `at`.
    fn at(&self, at: Span, genre: Genre) -> Vec<(u64, &'a Mutant)> {
        self.by_place
            .get(&place(at))
            .into_iter()
            .flatten()
            .filter(|(_, m)| m.genre == genre)
            .copied()
            .collect()
    }

    fn body(&mut self, block: &mut syn::Block) -> bool {
        let mutants = self.at(block.brace_token.span.open(), Genre::Body);
        let mut arms = Vec::new();
        for (n, mutant) in mutants {
            let Ok(value) = syn::parse_str::<Expr>(&mutant.replacement) else {
                continue;
            };
            let ret: Expr = parse_quote!(return #value);
            arms.push(arm(number(n), ret));
            self.included.push(n);
        }
        if arms.is_empty() {
            return false;
        }
        arms.push(arm(parse_quote!(_), parse_quote!({})));
        let matched = syn::ExprMatch {
            attrs: Vec::new(),
            match_token: Default::default(),
            expr: Box::new(read_switch()),
            brace_token: Default::default(),
            arms,
        };
        block
            .stmts
            .insert(0, syn::Stmt::Expr(Expr::Match(matched), None));
        true
    }

    /// The arms of a binary operator's mutants: the same operands, another operator.
    fn binary(&mut self, binary: &syn::ExprBinary) -> Vec<(u64, Expr)> {
        let at = first_span(binary.op);
        let mut found = self.at(at, Genre::BinaryOperator);
        found.extend(self.at(at, Genre::CompoundAssignment));
        let arms: Vec<(u64, Expr)> = found
            .into_iter()
            .filter_map(|(n, m)| {
                let op: syn::BinOp = syn::parse_str(&m.replacement).ok()?;
                let mut changed = binary.clone();
                changed.op = op;
                Some((n, Expr::Binary(changed)))
            })
            .collect();
        self.included.extend(arms.iter().map(|(n, _)| *n));
        arms
    }
}

/// Lints a switch can trip in the crate's own rules: the parens around it, the code after a
/// body mutant's `return`.
fn allow_switch_lints(attrs: &mut Vec<syn::Attribute>) {
    attrs.push(parse_quote!(#[allow(
        unused_parens,
        unreachable_code,
        unused_braces,
        unused_qualifications
    )]));
}

impl VisitMut for Rewrite<'_> {
    fn visit_item_fn_mut(&mut self, f: &mut syn::ItemFn) {
        let before = self.included.len();
        visit_mut::visit_item_fn_mut(self, f);
        self.body(&mut f.block);
        if self.included.len() > before {
            allow_switch_lints(&mut f.attrs);
        }
    }

    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let before = self.included.len();
        visit_mut::visit_impl_item_fn_mut(self, f);
        self.body(&mut f.block);
        if self.included.len() > before {
            allow_switch_lints(&mut f.attrs);
        }
    }

    fn visit_trait_item_fn_mut(&mut self, f: &mut syn::TraitItemFn) {
        let before = self.included.len();
        visit_mut::visit_trait_item_fn_mut(self, f);
        if let Some(block) = &mut f.default {
            self.body(block);
        }
        if self.included.len() > before {
            allow_switch_lints(&mut f.attrs);
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        // Inner expressions first: their places are those of the original code.
        visit_mut::visit_expr_mut(self, expr);
        let replaced = match expr {
            Expr::Binary(binary)
                if switches(&binary.left) + switches(&binary.right) <= NEST_LIMIT =>
            {
                let arms = self.binary(binary);
                (!arms.is_empty()).then(|| switch(arms, Expr::Binary(binary.clone())))
            }
            Expr::Unary(unary) if switches(&unary.expr) <= NEST_LIMIT => {
                let arms: Vec<(u64, Expr)> = self
                    .at(first_span(unary.op), Genre::UnaryDeleted)
                    .into_iter()
                    .map(|(n, _)| (n, (*unary.expr).clone()))
                    .collect();
                self.included.extend(arms.iter().map(|(n, _)| *n));
                (!arms.is_empty()).then(|| switch(arms, Expr::Unary(unary.clone())))
            }
            _ => None,
        };
        if let Some(replaced) = replaced {
            *expr = replaced;
        }
    }

    fn visit_pat_guard_mut(&mut self, guard: &mut syn::PatGuard) {
        // A forced guard's arms are constants: a switch inside the guard is not copied.
        visit_mut::visit_pat_guard_mut(self, guard);
        let arms: Vec<(u64, Expr)> = self
            .at(guard.if_token.span, Genre::MatchGuard)
            .into_iter()
            .filter_map(|(n, m)| Some((n, syn::parse_str(&m.replacement).ok()?)))
            .collect();
        self.included.extend(arms.iter().map(|(n, _)| *n));
        if !arms.is_empty() {
            *guard.guard = switch(arms, (*guard.guard).clone());
        }
    }

    // Constants (a type's array length, a repeat count, a const generic argument) cannot
    // switch at run time; the generator makes no mutants there either.
    fn visit_type_mut(&mut self, _: &mut syn::Type) {}

    fn visit_expr_repeat_mut(&mut self, e: &mut syn::ExprRepeat) {
        self.visit_expr_mut(&mut e.expr);
    }

    fn visit_generic_argument_mut(&mut self, arg: &mut syn::GenericArgument) {
        if !matches!(arg, syn::GenericArgument::Const(_)) {
            visit_mut::visit_generic_argument_mut(self, arg);
        }
    }

    fn visit_item_const_mut(&mut self, _: &mut syn::ItemConst) {}

    fn visit_item_static_mut(&mut self, _: &mut syn::ItemStatic) {}

    fn visit_expr_const_mut(&mut self, _: &mut syn::ExprConst) {}
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

pub fn sum3(a: i32, b: i32, c: i32) -> i32 {
    a + b + c
}

pub fn positive(o: Option<i32>) -> bool {
    if let Some(x) = o && x > 0 { -x < 0 } else { false }
}

pub fn four() -> usize {
    [0u8; 2 * 2].len()
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

    #[test]
    fn sums() {
        assert_eq!(sum3(1, 2, 4), 7);
        assert!(positive(Some(3)) && !positive(Some(-3)) && !positive(None));
        assert_eq!(four(), 4);
    }
}
"#;

    /// The test binary of a crate holding `lib`, built once.
    fn build(lib: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"schemata\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
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
        // The crate's own tests, not the wrappers (which turn on mutants of their own).
        std::process::Command::new(binary)
            .args(["-q", "--skip", WRAPPER])
            .env(VAR, n.to_string())
            .output()
            .unwrap()
            .status
            .success()
    }

    #[test]
    fn one_build_holds_every_mutant_and_each_is_switched_on_by_its_number() {
        // A `no_std` crate under `rust_2018_idioms`: the switch must build there too.
        let source = format!("#![no_std]\n#![deny(rust_2018_idioms)]\n{SOURCE}");
        let analysis = analyze(&source).unwrap();
        let items: Vec<&PublicFn> = analysis.items.iter().collect();
        let (mutants, _) = super::super::mutants(&source, "src/lib.rs", &items).unwrap();
        let (file, included) = schemata(&source, &mutants).unwrap();
        let mut text = crate::splice::unparse(&file);
        // A wrapper of `adds` per mutant of `add`: its thread's name turns the mutant on.
        let wrappers: Vec<String> = mutants
            .iter()
            .enumerate()
            .filter(|(_, m)| m.item == "add")
            .map(|(i, _)| {
                wrapper(
                    "#[test]\nfn adds() {\n    assert_eq!(add(2, 2), 4);\n}",
                    i as u64 + 1,
                )
                .unwrap()
            })
            .collect();
        let end = text.rfind('}').unwrap();
        text.insert_str(end, &wrappers.join("\n"));
        text.push_str(&switch_fn());
        let (_dir, binary) = build(&text);
        assert!(passes(&binary, 0), "the original code fails its own tests");
        let number = |description: &str| {
            let n = 1 + mutants
                .iter()
                .position(|m| m.description == description)
                .unwrap_or_else(|| panic!("no mutant `{description}`"));
            assert!(included.contains(&(n as u64)), "`{description}` left out");
            n
        };
        // The inner `+` of `a + b + c` holds a switch; the outer one gets its own around
        // copies of it, as does the `*` of `(a + b) * c`.
        let outer = mutants
            .iter()
            .position(|m| m.description == "replace + with - in sum3" && m.column == 11)
            .unwrap();
        assert!(included.contains(&(outer as u64 + 1)));
        assert!(!passes(&binary, outer + 1), "the outer `+` was not caught");
        // A long chain stops copying: its source stays small.
        let chain = "pub fn chain(a: i32) -> i32 {\n    a + a + a + a + a + a + a + a\n}\n";
        let chain_analysis = analyze(chain).unwrap();
        let chain_items: Vec<&PublicFn> = chain_analysis.items.iter().collect();
        let (chain_mutants, _) = super::super::mutants(chain, "src/lib.rs", &chain_items).unwrap();
        let (chain_file, chain_included) = schemata(chain, &chain_mutants).unwrap();
        assert!(chain_included.len() < chain_mutants.len());
        assert!(switches(&syn::parse_quote!({ #chain_file })) < 60);
        // No mutant in a constant, nor of a let chain's `&&`.
        assert!(
            !mutants
                .iter()
                .any(|m| m.item == "four" && m.genre != Genre::Body)
        );
        assert!(
            !mutants
                .iter()
                .any(|m| m.description.contains("&& with || in positive"))
        );
        for caught in [
            "replace + with - in add",
            "replace add -> i32 with 0",
            "replace > with < in is_positive",
            "replace is_positive -> bool with false",
            "replace match guard with false in sign",
            "delete ! in flip",
            "replace + with - in scaled",
            "replace * with + in scaled",
            "replace > with < in positive",
            "delete - in positive",
            "replace four -> usize with 0",
        ] {
            assert!(
                !passes(&binary, number(caught)),
                "`{caught}` was not caught"
            );
        }
        // 2 * 2 is 4 too: a weak test lets this one live.
        assert!(passes(&binary, number("replace + with * in add")));
        // In one process with no number in the environment, each wrapper runs its own mutant.
        let out = std::process::Command::new(&binary)
            .args(["--test-threads", "2"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let minus = wrapper_name("adds", number("replace + with - in add") as u64);
        let times = wrapper_name("adds", number("replace + with * in add") as u64);
        assert!(
            stdout.contains(&format!("test tests::{minus} ... FAILED")),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("test tests::{times} ... ok")),
            "{stdout}"
        );
        assert!(stdout.contains("test tests::adds ... ok"), "{stdout}");
    }
}
