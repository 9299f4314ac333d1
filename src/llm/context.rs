//! What a model needs to build the values a test passes to an item: for each of the package's
//! types the item's signature names (receiver, arguments, return) its definition and the ways
//! to make one — public constructors, free fns that return it, `Default`/`From`/`FromStr`
//! impls, public fields — and, one level down, the same for the types those constructors
//! take. A request shows each type once, however many of its items name it (RUG builds the
//! same context bottom-up for Rust unit tests).

use std::collections::BTreeSet;

use crate::analysis::{Constructor, PublicFn, public_fields};
use crate::plan::FileRequest;

/// The ways to make one type a prompt lists: a few show how; a hundred only fill the prompt.
const MAX_WAYS: usize = 8;

/// The identifiers in `text`, in order, each once.
fn identifiers(text: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut word = String::new();
    for ch in text.chars().chain(std::iter::once(' ')) {
        if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
        } else if !word.is_empty() {
            let done = std::mem::take(&mut word);
            if seen.insert(done.clone()) {
                out.push(done);
            }
        }
    }
    out
}

/// The package's types and traits the item's signature and impl header name, in order.
fn named_by(item: &PublicFn, request: &FileRequest<'_>) -> Vec<String> {
    let mut text = item.stub.clone();
    if let Some(block) = &item.impl_block {
        text.push(' ');
        text.push_str(&block.stub);
        text.push(' ');
        text.push_str(&block.type_name);
    }
    identifiers(&text)
        .into_iter()
        .filter(|name| {
            request.type_defs.contains_key(name) || request.trait_defs.contains_key(name)
        })
        .collect()
}

/// The types (and traits) an item's test needs: those its signature names, then the package
/// types their constructors take, one level down.
pub fn needed_by(item: &PublicFn, request: &FileRequest<'_>) -> Vec<String> {
    let mut names = named_by(item, request);
    let mut seen: BTreeSet<String> = names.iter().cloned().collect();
    for name in names.clone() {
        for way in request.builders.get(&name).into_iter().flatten() {
            // What the constructor takes: its parameters, or an impl's trait arguments — not
            // what it returns (a `Result`'s error is not needed to make the value).
            let takes = match way.strip_prefix("impl") {
                Some(header) => header.split(" for ").next().unwrap_or(header),
                None => way.split(" -> ").next().unwrap_or(way),
            };
            for down in identifiers(takes) {
                if request.type_defs.contains_key(&down) && seen.insert(down.clone()) {
                    names.push(down);
                }
            }
        }
    }
    names
}

/// The package's types an error names in backticks (`` struct `Money` ``): for an error that
/// says a value cannot be built that way, the ways that do build it.
pub fn named_in_evidence(evidence: &str, request: &FileRequest<'_>) -> Vec<String> {
    let mut names = Vec::new();
    for quoted in evidence.split('`').skip(1).step_by(2) {
        for name in identifiers(quoted) {
            if request.type_defs.contains_key(&name) && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// A type (or trait) as the prompt shows it: its definition and how to make one.
pub fn section(name: &str, request: &FileRequest<'_>) -> String {
    if let Some(definition) = request.trait_defs.get(name) {
        return format!("#### `{name}`\n```rust\n{}\n```\n", definition.trim());
    }
    let Some(definition) = request.type_defs.get(name) else {
        return String::new();
    };
    let all = request.builders.get(name).map_or(&[][..], Vec::as_slice);
    let mut ways: Vec<String> = all
        .iter()
        .take(MAX_WAYS)
        .map(|way| format!("- `{way}`"))
        .collect();
    if all.len() > MAX_WAYS {
        ways.push(format!("- and {} more", all.len() - MAX_WAYS));
    }
    let derived_default = matches!(request.constructors.get(name), Some(Constructor::Default))
        && !ways.iter().any(|way| way.contains("Default for"));
    if derived_default {
        ways.push(format!("- `{name}::default()`"));
    }
    let how = match (public_fields(definition), ways.is_empty()) {
        (Some(true), true) => "Its fields are public: a struct literal builds one.".to_owned(),
        (Some(true), false) => {
            "Its fields are public: a struct literal builds one, and so do:".to_owned()
        }
        (Some(false), true) => "It has private fields and no public way to make one here: \
                                use a value one of the items returns."
            .to_owned(),
        (Some(false), false) => "It has private fields, so a struct literal does not compile \
                                 in a test; make one with:"
            .to_owned(),
        (None, true) => String::new(),
        (None, false) => "Make one with:".to_owned(),
    };
    let mut out = format!("#### `{name}`\n```rust\n{}\n```\n", definition.trim());
    if !how.is_empty() {
        out.push_str(&how);
        out.push('\n');
    }
    for way in ways {
        out.push_str(&way);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::rules::Rules;

    const MONEY: &str = r#"
pub struct Money { cents: i64 }
impl Money {
    pub fn new(dollars: i64, cents: i64) -> Self { Money { cents: dollars * 100 + cents } }
    pub fn from_cents(cents: i64) -> Money { Money { cents } }
    pub fn cents(&self) -> i64 { self.cents }
}
impl From<Rate> for Money { fn from(r: Rate) -> Money { Money { cents: r.0 } } }
pub struct Rate(pub i64);
#[derive(Default)]
pub struct Point { pub x: i32, pub y: i32 }
pub fn parse_money(text: &str) -> Option<Money> { None }
pub fn pay(from: Money, to: &mut Money, id: u32) -> bool { true }
pub fn origin() -> Point { Point::default() }
pub struct Oops { code: u8 }
pub fn load(text: &str) -> Result<Money, Oops> { Err(Oops { code: 1 }) }
"#;

    fn with_request(check: impl Fn(&FileRequest<'_>, &[PublicFn])) {
        let analysis = analyze(MONEY).unwrap();
        let rules = Rules::default();
        let request = crate::plan::request_for_file(MONEY, &analysis, &rules);
        check(&request, &analysis.items);
    }

    fn item<'a>(items: &'a [PublicFn], name: &str) -> &'a PublicFn {
        items.iter().find(|i| i.name == name).unwrap()
    }

    #[test]
    fn a_type_with_private_fields_names_its_constructors() {
        with_request(|request, _| {
            let money = section("Money", request);
            assert!(money.contains("struct Money { cents: i64 }"), "{money}");
            assert!(money.contains("private fields"), "{money}");
            for way in [
                "- `Money::new(dollars: i64, cents: i64) -> Self`",
                "- `Money::from_cents(cents: i64) -> Money`",
                "- `impl From<Rate> for Money`",
                "- `parse_money(text: &str) -> Option<Money>`",
            ] {
                assert!(money.contains(way), "no `{way}` in:\n{money}");
            }
            // A method with a receiver makes nothing; a fallible fn makes its `Ok` type, not
            // its error.
            assert!(!money.contains("cents(&self)"), "{money}");
            assert!(
                money.contains("- `load(text: &str) -> Result<Money, Oops>`"),
                "{money}"
            );
            let oops = section("Oops", request);
            assert!(!oops.contains("load("), "{oops}");
            let point = section("Point", request);
            assert!(point.contains("Its fields are public"), "{point}");
            assert!(point.contains("- `origin() -> Point`"), "{point}");
            assert!(point.contains("- `Point::default()`"), "{point}");
        });
    }

    #[test]
    fn an_item_needs_its_types_and_what_their_constructors_take() {
        with_request(|request, items| {
            // `Money`'s `From<Rate>` takes a `Rate`: one level down.
            assert_eq!(needed_by(item(items, "pay"), request), ["Money", "Rate"]);
            assert_eq!(needed_by(item(items, "origin"), request), ["Point"]);
            assert!(needed_by(item(items, "Money::cents"), request).contains(&"Money".to_owned()));
            let evidence = "error[E0451]: field `cents` of struct `Money` is private";
            assert_eq!(named_in_evidence(evidence, request), ["Money"]);
        });
    }
}
