//! Mutants of the items under test: the genres users know from cargo-mutants — a body replaced
//! by a value of its return type, a binary operator swapped, a unary `!` or `-` deleted, a
//! match guard forced `true` or `false`, a compound assignment swapped — each with a stable id
//! and a name a person reads (`src/money.rs:41: replace < with > in Money::split`). What cannot
//! hold a runtime switch (a `const fn`, a constant, an array length) or should not be touched
//! (`unsafe`, `#[no_mangle]`, `extern`) is skipped and says why.
//!
//! Not yet wired into a run: the schemata build and the runs against each mutant come next.

mod schemata;
mod values;

pub use schemata::{VAR, is_wrapper, schemata, switch_fn, wrapper, wrapper_name};

use std::fmt;

use proc_macro2::Span;
use quote::ToTokens;
use sha2::{Digest, Sha256};
use syn::visit::{self, Visit};
use syn::{BinOp, Expr, ReturnType, Signature, UnOp};

use crate::analysis::PublicFn;

/// The kinds of change, as cargo-mutants names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Genre {
    /// The body replaced by a value of the return type.
    Body,
    BinaryOperator,
    UnaryDeleted,
    MatchGuard,
    CompoundAssignment,
}

/// One mutant of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// Stable across runs while the item's code and the change stay the same: a digest of the
    /// file, the item, the change and its place among the item's identical changes.
    pub id: String,
    /// The item it mutates, by its wire name.
    pub item: String,
    /// Relative to the workspace root.
    pub file: String,
    /// 1-based, of the changed token (the body's opening brace for a body replacement).
    pub line: usize,
    pub column: usize,
    pub genre: Genre,
    /// The code as it is and as the mutant has it: an operator, or a whole body's value.
    pub original: String,
    pub replacement: String,
    /// `replace < with > in Money::split`.
    pub description: String,
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.description)
    }
}

impl Mutant {
    /// The mutant as a person (or a model) reads it: its name, and for a changed operator
    /// the line of `source` before and after, as a diff.
    pub fn diff(&self, source: &str) -> String {
        let mut out = format!("// {self}\n");
        if self.genre == Genre::Body {
            out.push_str(&format!("+ the whole body: {}\n", self.replacement));
            return out;
        }
        let Some(line) = source.lines().nth(self.line.saturating_sub(1)) else {
            return out;
        };
        // Columns count chars, as proc-macro2 counts them.
        let at = line
            .char_indices()
            .nth(self.column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i);
        let replacement = match self.genre {
            Genre::UnaryDeleted => "",
            _ => self.replacement.as_str(),
        };
        if line[at..].starts_with(&self.original) {
            let changed = format!(
                "{}{replacement}{}",
                &line[..at],
                &line[at + self.original.len()..]
            );
            out.push_str(&format!("-{line}\n+{changed}\n"));
        }
        out
    }
}

/// Whether code in `source` keeps state a test process shares: a `static` (anywhere, a fn's
/// own included), `thread_local!`, `lazy_static!`, or a change to the environment or the
/// current directory. Mutants of such a crate are each run in a process of their own: one
/// mutant's leftovers (a counter moved on, a poisoned lock) would fail the tests of the next
/// and count as catches. Unparsable text counts as keeping state.
pub fn keeps_state(source: &str) -> bool {
    #[derive(Default)]
    struct State(bool);
    impl<'ast> Visit<'ast> for State {
        fn visit_item_static(&mut self, _: &'ast syn::ItemStatic) {
            self.0 = true;
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            let name = m.path.segments.last().map(|s| s.ident.to_string());
            if matches!(name.as_deref(), Some("thread_local" | "lazy_static")) {
                self.0 = true;
            }
            // Calls inside other macros' arguments are tokens: look at them as text.
            let tokens = m.tokens.to_string();
            if ["set_var", "remove_var", "set_current_dir"]
                .iter()
                .any(|f| tokens.contains(f))
            {
                self.0 = true;
            }
        }
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if let Some(last) = path.segments.last()
                && ["set_var", "remove_var", "set_current_dir"]
                    .iter()
                    .any(|f| last.ident == f)
            {
                self.0 = true;
            }
            visit::visit_path(self, path);
        }
    }
    let Ok(file) = syn::parse_file(source) else {
        return true;
    };
    let mut state = State::default();
    state.visit_file(&file);
    state.0
}

/// An item left without mutants, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub item: String,
    pub why: &'static str,
}

/// The mutants of `items` (of the file at `file`, whose text is `source`), in source order,
/// and the items skipped. An item is matched to its fn by the line of its name.
pub fn mutants(
    source: &str,
    file: &str,
    items: &[&PublicFn],
) -> Result<(Vec<Mutant>, Vec<Skipped>), syn::Error> {
    let parsed = syn::parse_file(source)?;
    let mut walk = Walk {
        file,
        items,
        current: None,
        mutants: Vec::new(),
        skipped: Vec::new(),
    };
    walk.visit_file(&parsed);
    let Walk {
        mut mutants,
        skipped,
        ..
    } = walk;
    assign_ids(&mut mutants);
    Ok((mutants, skipped))
}

/// Each mutant's id: the same change twice in one item differs by its rank among them.
fn assign_ids(mutants: &mut [Mutant]) {
    let mut seen: std::collections::HashMap<(String, String), usize> = Default::default();
    for mutant in mutants {
        let rank = seen
            .entry((mutant.item.clone(), mutant.description.clone()))
            .or_default();
        let mut hasher = Sha256::new();
        for part in [&mutant.file, &mutant.item, &mutant.description] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(rank.to_le_bytes());
        *rank += 1;
        let digest = hasher.finalize();
        mutant.id = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    }
}

struct Walk<'a> {
    file: &'a str,
    items: &'a [&'a PublicFn],
    /// The item whose body is being walked.
    current: Option<&'a PublicFn>,
    mutants: Vec<Mutant>,
    skipped: Vec<Skipped>,
}

impl<'a> Walk<'a> {
    /// Walk a fn's body as `item`'s if the fn is one of the items, else as no item's (a nested
    /// fn is not its outer item).
    fn fn_body(&mut self, sig: &Signature, attrs: &[syn::Attribute], body: &syn::Block) {
        let line = sig.ident.span().start().line;
        let item = self.items.iter().copied().find(|item| item.line == line);
        let outer = self.current.take();
        if let Some(item) = item {
            match skip_reason(sig, attrs) {
                Some(why) => self.skipped.push(Skipped {
                    item: item.name.clone(),
                    why,
                }),
                None => {
                    self.current = Some(item);
                    self.body(sig, body);
                }
            }
        }
        visit::visit_block(self, body);
        self.current = outer;
    }

    /// The body replaced by each value of the return type.
    fn body(&mut self, sig: &Signature, body: &syn::Block) {
        let returns = match &sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some(&**ty),
        };
        let shown = returns.map_or_else(String::new, |ty| {
            format!(" -> {}", crate::analysis::compact(&ty.to_token_stream()))
        });
        for value in values::of(returns) {
            let item = self.current.map(|i| i.name.clone()).unwrap_or_default();
            let description = format!("replace {item}{shown} with {value}");
            self.push(
                body.brace_token.span.open(),
                Genre::Body,
                "{ … }",
                value,
                description,
            );
        }
    }

    fn push(
        &mut self,
        at: Span,
        genre: Genre,
        original: &str,
        replacement: String,
        description: String,
    ) {
        let Some(item) = self.current else {
            return;
        };
        let start = at.start();
        self.mutants.push(Mutant {
            id: String::new(),
            item: item.name.clone(),
            file: self.file.to_owned(),
            line: start.line,
            column: start.column + 1,
            genre,
            original: original.to_owned(),
            replacement,
            description,
        });
    }

    fn change(&mut self, at: Span, genre: Genre, from: &str, to: &str) {
        let item = self.current.map(|i| i.name.clone()).unwrap_or_default();
        let description = match genre {
            Genre::UnaryDeleted => format!("delete {from} in {item}"),
            _ => format!("replace {from} with {to} in {item}"),
        };
        self.push(at, genre, from, to.to_owned(), description);
    }
}

/// Why a fn gets no mutants: a runtime switch cannot sit in a `const fn`, and code that is
/// `unsafe` or exported by symbol is not ours to break.
fn skip_reason(sig: &Signature, attrs: &[syn::Attribute]) -> Option<&'static str> {
    if sig.constness.is_some() {
        Some("a `const fn` cannot switch on a mutant at run time")
    } else if matches!(sig.safety, syn::Safety::Unsafe(_)) {
        Some("`unsafe` code is not mutated")
    } else if sig.abi.is_some() {
        Some("an `extern` fn is not mutated")
    } else if attrs.iter().any(|a| {
        a.path().is_ident("no_mangle")
            || a.path().is_ident("export_name")
            || a.meta.to_token_stream().to_string().contains("no_mangle")
    }) {
        Some("a `#[no_mangle]` fn is not mutated")
    } else {
        None
    }
}

/// The operators a binary operator is swapped for, as cargo-mutants swaps them.
fn swaps(op: &BinOp) -> Option<(Genre, &'static str, &'static [&'static str])> {
    let binary = Genre::BinaryOperator;
    let compound = Genre::CompoundAssignment;
    Some(match op {
        BinOp::Add(_) => (binary, "+", &["-", "*"]),
        BinOp::Sub(_) => (binary, "-", &["+", "/"]),
        BinOp::Mul(_) => (binary, "*", &["+", "/"]),
        BinOp::Div(_) => (binary, "/", &["%", "*"]),
        BinOp::Rem(_) => (binary, "%", &["/", "+"]),
        BinOp::And(_) => (binary, "&&", &["||"]),
        BinOp::Or(_) => (binary, "||", &["&&"]),
        BinOp::Eq(_) => (binary, "==", &["!="]),
        BinOp::Ne(_) => (binary, "!=", &["=="]),
        BinOp::Lt(_) => (binary, "<", &["==", ">", "<="]),
        BinOp::Le(_) => (binary, "<=", &[">", "<"]),
        BinOp::Gt(_) => (binary, ">", &["==", "<", ">="]),
        BinOp::Ge(_) => (binary, ">=", &["<", ">"]),
        BinOp::BitAnd(_) => (binary, "&", &["|", "^"]),
        BinOp::BitOr(_) => (binary, "|", &["&", "^"]),
        BinOp::BitXor(_) => (binary, "^", &["|", "&"]),
        BinOp::Shl(_) => (binary, "<<", &[">>"]),
        BinOp::Shr(_) => (binary, ">>", &["<<"]),
        BinOp::AddAssign(_) => (compound, "+=", &["-=", "*="]),
        BinOp::SubAssign(_) => (compound, "-=", &["+=", "/="]),
        BinOp::MulAssign(_) => (compound, "*=", &["+=", "/="]),
        BinOp::DivAssign(_) => (compound, "/=", &["%=", "*="]),
        BinOp::RemAssign(_) => (compound, "%=", &["/=", "+="]),
        BinOp::BitAndAssign(_) => (compound, "&=", &["|=", "^="]),
        BinOp::BitOrAssign(_) => (compound, "|=", &["&=", "^="]),
        BinOp::BitXorAssign(_) => (compound, "^=", &["|=", "&="]),
        BinOp::ShlAssign(_) => (compound, "<<=", &[">>="]),
        BinOp::ShrAssign(_) => (compound, ">>=", &["<<="]),
        _ => return None,
    })
}

/// A `let` in a chain of `&&`: `if let … && …`.
fn has_let(expr: &Expr) -> bool {
    match expr {
        Expr::Let(_) => true,
        Expr::Binary(b) if matches!(b.op, BinOp::And(_)) => has_let(&b.left) || has_let(&b.right),
        _ => false,
    }
}

/// The value of a literal number (`0`, `1u8`, `1.0`), looking through parens.
fn literal_value(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            syn::Lit::Int(int) => int.base10_digits().parse().ok(),
            syn::Lit::Float(float) => float.base10_digits().parse().ok(),
            _ => None,
        },
        Expr::Paren(inner) => literal_value(&inner.expr),
        _ => None,
    }
}

/// Whether swapping `from` for `to` before the operand `right` cannot compile or cannot be
/// told apart: `x / 0` is rustc's `unconditional_panic`; `x - 0` is `x + 0` and `x / 1` is
/// `x * 1` (equivalent mutants, which no test can catch and which would send a good test
/// back to the model).
fn pointless(from: &str, to: &str, right: &Expr) -> bool {
    let from = from.trim_end_matches('=');
    let to = to.trim_end_matches('=');
    match literal_value(right) {
        Some(0.0) => matches!(to, "/" | "%") || matches!((from, to), ("+", "-") | ("-", "+")),
        Some(1.0) => matches!((from, to), ("*", "/") | ("/", "*")),
        _ => false,
    }
}

/// The span of an operator token, for its line and column.
fn op_span(op: &BinOp) -> Span {
    op.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

impl<'ast> Visit<'ast> for Walk<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.fn_body(&f.sig, &f.attrs, &f.block);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.fn_body(&f.sig, &f.attrs, &f.block);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(body) = &f.default {
            self.fn_body(&f.sig, &f.attrs, body);
        }
    }

    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        // In a let chain (`if let Some(x) = o && x > 0`), `&&` is syntax, not an operator.
        let in_let_chain = has_let(&e.left) || has_let(&e.right);
        if self.current.is_some()
            && !in_let_chain
            && let Some((genre, from, tos)) = swaps(&e.op)
        {
            for to in tos {
                if pointless(from, to, &e.right) {
                    continue;
                }
                self.change(op_span(&e.op), genre, from, to);
            }
        }
        visit::visit_expr_binary(self, e);
    }

    fn visit_expr_unary(&mut self, e: &'ast syn::ExprUnary) {
        let op = match e.op {
            UnOp::Not(_) => Some("!"),
            UnOp::Neg(_) => Some("-"),
            _ => None,
        };
        // `-1` is a literal's sign, not an operation on a value.
        let literal = matches!(&*e.expr, Expr::Lit(_));
        if let (Some(op), false) = (op, literal) {
            let span = e.op.to_token_stream().into_iter().next().map(|t| t.span());
            self.change(
                span.unwrap_or_else(Span::call_site),
                Genre::UnaryDeleted,
                op,
                "",
            );
        }
        visit::visit_expr_unary(self, e);
    }

    fn visit_pat_guard(&mut self, g: &'ast syn::PatGuard) {
        for forced in ["true", "false"] {
            let item = self.current.map(|i| i.name.clone()).unwrap_or_default();
            let description = format!("replace match guard with {forced} in {item}");
            let span = g.if_token.span;
            self.push(
                span,
                Genre::MatchGuard,
                "if …",
                forced.to_owned(),
                description,
            );
        }
        visit::visit_pat_guard(self, g);
    }

    // Nothing in a type (an array's length) or a constant can switch at run time.
    fn visit_type(&mut self, _: &'ast syn::Type) {}

    fn visit_item_const(&mut self, _: &'ast syn::ItemConst) {}

    fn visit_item_static(&mut self, _: &'ast syn::ItemStatic) {}

    fn visit_expr_const(&mut self, _: &'ast syn::ExprConst) {}

    // Tests are not mutated.
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !crate::analysis::is_cfg_test(&m.attrs) {
            visit::visit_item_mod(self, m);
        }
    }

    // An array length or a const generic argument is a constant.
    fn visit_expr_repeat(&mut self, e: &'ast syn::ExprRepeat) {
        self.visit_expr(&e.expr);
    }

    fn visit_generic_argument(&mut self, arg: &'ast syn::GenericArgument) {
        if !matches!(arg, syn::GenericArgument::Const(_)) {
            visit::visit_generic_argument(self, arg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;

    const SOURCE: &str = r#"
pub struct Money {
    cents: i64,
}

impl Money {
    pub fn split(&self, parts: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut left = self.cents;
        for i in 0..parts {
            let share = left / (parts - i);
            out.push(share);
            left -= share;
        }
        out
    }

    pub fn is_positive(&self) -> bool {
        !(self.cents < 0) && self.cents != 0
    }

    pub fn sign(&self) -> i8 {
        match self.cents {
            c if c > 0 => 1,
            _ => -1,
        }
    }

    pub const fn zero() -> Money {
        Money { cents: 0 }
    }

    pub fn negated(&self) -> Money {
        Money { cents: -self.cents }
    }
}

pub fn log(message: &str) {
    let _ = message.len() + 1;
}

#[cfg(test)]
mod tests {
    fn helper() -> bool {
        1 + 1 == 2
    }
}
"#;

    fn all() -> (Vec<Mutant>, Vec<Skipped>) {
        let analysis = analyze(SOURCE).unwrap();
        let items: Vec<&PublicFn> = analysis.items.iter().collect();
        mutants(SOURCE, "src/money.rs", &items).unwrap()
    }

    fn named(mutants: &[Mutant]) -> Vec<String> {
        mutants.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn each_genre_is_found_and_named_as_cargo_mutants_names_it() {
        let (mutants, _) = all();
        let names = named(&mutants);
        for wanted in [
            "src/money.rs:7: replace Money::split -> Vec<i64> with vec![]",
            "src/money.rs:7: replace Money::split -> Vec<i64> with vec![0]",
            "src/money.rs:11: replace / with % in Money::split",
            "src/money.rs:11: replace - with + in Money::split",
            "src/money.rs:13: replace -= with += in Money::split",
            "src/money.rs:19: delete ! in Money::is_positive",
            "src/money.rs:19: replace < with <= in Money::is_positive",
            "src/money.rs:19: replace && with || in Money::is_positive",
            "src/money.rs:19: replace != with == in Money::is_positive",
            "src/money.rs:18: replace Money::is_positive -> bool with false",
            "src/money.rs:24: replace match guard with true in Money::sign",
            "src/money.rs:24: replace match guard with false in Money::sign",
            "src/money.rs:22: replace Money::sign -> i8 with -1",
            "src/money.rs:34: delete - in Money::negated",
            "src/money.rs:33: replace Money::negated -> Money with Default::default()",
            "src/money.rs:38: replace log with ()",
            "src/money.rs:39: replace + with - in log",
        ] {
            assert!(
                names.iter().any(|n| n == wanted),
                "no `{wanted}` in {names:#?}"
            );
        }
        // Division by a literal zero does not compile, and `x + 0` is `x - 0`: no such mutant.
        let (zero, _) = super::mutants(
            "pub fn f(x: i32) -> i32 {\n    x - 0\n}\n",
            "src/lib.rs",
            &analyze("pub fn f(x: i32) -> i32 {\n    x - 0\n}\n")
                .unwrap()
                .items
                .iter()
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(
            named(&zero)
                .iter()
                .filter(|n| n.contains("replace - with"))
                .collect::<Vec<_>>(),
            Vec::<&String>::new()
        );
        let times_one = "pub fn g(x: i32) -> i32 {\n    x * 1 + x\n}\n";
        let (one, _) = super::mutants(
            times_one,
            "src/lib.rs",
            &analyze(times_one).unwrap().items.iter().collect::<Vec<_>>(),
        )
        .unwrap();
        let names = named(&one);
        assert!(
            !names.iter().any(|n| n.contains("replace * with /")),
            "{names:#?}"
        );
        assert!(
            names.iter().any(|n| n.contains("replace * with + in g")),
            "{names:#?}"
        );
        // A literal's sign is no operation; tests are not mutated.
        assert!(
            !names.iter().any(|n| n.contains("delete - in Money::sign")),
            "{names:#?}"
        );
        assert!(
            !names
                .iter()
                .any(|n| n.contains("helper") || n.contains(":45:")),
            "{names:#?}"
        );
    }

    #[test]
    fn state_a_test_process_shares_is_found() {
        for stateful in [
            "static NEXT: AtomicU64 = AtomicU64::new(0);",
            "pub fn f() -> u64 { static N: u64 = 1; N }",
            "thread_local! { static X: Cell<u8> = Cell::new(0); }",
            "pub fn f() { std::env::set_var(\"A\", \"1\"); }",
            "pub fn f() { println!(\"{:?}\", std::env::remove_var(\"A\")); }",
        ] {
            assert!(keeps_state(stateful), "{stateful}");
        }
        for pure in [
            "pub fn f(s: &'static str) -> usize { s.len() }",
            "pub struct S { m: std::sync::Mutex<u8> }",
            "const N: u8 = 3;",
        ] {
            assert!(!keeps_state(pure), "{pure}");
        }
    }

    #[test]
    fn a_mutant_reads_as_a_one_line_diff() {
        let (mutants, _) = all();
        let find = |name: &str| {
            mutants
                .iter()
                .find(|m| m.to_string() == name)
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let swapped = find("src/money.rs:19: replace < with <= in Money::is_positive");
        let line = SOURCE.lines().nth(18).unwrap();
        assert_eq!(
            swapped.diff(SOURCE),
            format!(
                "// {swapped}\n-{line}\n+{}\n",
                line.replacen(" < ", " <= ", 1)
            )
        );
        let deleted = find("src/money.rs:19: delete ! in Money::is_positive");
        assert!(
            deleted
                .diff(SOURCE)
                .ends_with(&format!("+{}\n", line.replacen('!', "", 1))),
            "{}",
            deleted.diff(SOURCE)
        );
        let body = find("src/money.rs:7: replace Money::split -> Vec<i64> with vec![]");
        assert!(body.diff(SOURCE).ends_with("+ the whole body: vec![]\n"));
    }

    #[test]
    fn const_fns_are_skipped_with_a_reason_and_ids_are_stable_and_distinct() {
        let (mutants, skipped) = all();
        assert_eq!(
            skipped,
            [Skipped {
                item: "Money::zero".into(),
                why: "a `const fn` cannot switch on a mutant at run time",
            }]
        );
        assert!(!mutants.iter().any(|m| m.item == "Money::zero"));
        let ids: std::collections::BTreeSet<&str> = mutants.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), mutants.len(), "ids collide");
        assert!(mutants.iter().all(|m| m.id.len() == 12));
        // The same code gives the same ids.
        let (again, _) = all();
        assert_eq!(mutants, again);
        // Moving an item down a line changes no id.
        let moved = format!("\n{SOURCE}");
        let analysis = analyze(&moved).unwrap();
        let items: Vec<&PublicFn> = analysis.items.iter().collect();
        let (shifted, _) = super::mutants(&moved, "src/money.rs", &items).unwrap();
        let old: Vec<&str> = mutants.iter().map(|m| m.id.as_str()).collect();
        let new: Vec<&str> = shifted.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(old, new);
    }
}
