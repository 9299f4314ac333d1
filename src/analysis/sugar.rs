//! The sugar of std's traits, in one table: what test code does when it uses a trait's method
//! without naming it (`to_string()` for `Display::fmt`, `+` for `Add::add`), which the analysis
//! counts as a use of the method, and the call a scaffold writes where sugar reads better than
//! the full path. One table serves both, so a scaffold's call is always one the analysis sees.

/// The sugar of one std trait's method (or of all its methods).
#[derive(Clone, Copy, Debug)]
pub struct Sugar {
    pub trait_name: &'static str,
    /// The method; `None` for every method of the trait (`PartialEq`'s `eq` and `ne` are
    /// both behind `==` and `!=`).
    pub method: Option<&'static str>,
    /// What test code does that uses the method, as the call scanner records it: a method or
    /// macro called (`to_string`, `format!`), an operator (`+`, `neg-`), indexing (`[]`), or
    /// a word (`for`, `HashMap`).
    pub uses: &'static [&'static str],
    /// How a scaffold calls the method, where that reads better than the full path and cannot
    /// pick another impl.
    pub call: Option<SugarCall>,
    /// The uses act on the value they make (`let m: Money = 5.into()` uses `Money`'s
    /// `From`), not on their receiver.
    pub on_made: bool,
}

/// A call the way a user writes it, on a local named `value` of the impl's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SugarCall {
    /// `value.<method>()`.
    Method(&'static str),
    /// `format!("<format>", value)`.
    Format(&'static str),
    /// `"".parse::<Self>()`.
    Parse,
    /// `drop(value)`: `Drop::drop` cannot be called by its path (E0040).
    Drop,
}

impl SugarCall {
    /// What the call scanner records for the call: one of its row's [`Sugar::uses`].
    pub fn recorded_as(self) -> &'static str {
        match self {
            SugarCall::Method(method) => method,
            SugarCall::Format(_) => "format!",
            SugarCall::Parse => "parse",
            SugarCall::Drop => "drop",
        }
    }
}

impl Sugar {
    /// The sugar of one method of a trait.
    const fn of(
        trait_name: &'static str,
        method: &'static str,
        uses: &'static [&'static str],
    ) -> Sugar {
        Sugar {
            trait_name,
            method: Some(method),
            uses,
            call: None,
            on_made: false,
        }
    }

    /// The sugar of every method of a trait.
    const fn any(trait_name: &'static str, uses: &'static [&'static str]) -> Sugar {
        Sugar {
            trait_name,
            method: None,
            uses,
            call: None,
            on_made: false,
        }
    }

    /// Uses that act on the value they make.
    const fn made(self) -> Sugar {
        Sugar {
            on_made: true,
            ..self
        }
    }

    /// The call a scaffold writes.
    const fn written(self, call: SugarCall) -> Sugar {
        Sugar {
            call: Some(call),
            ..self
        }
    }
}

const FORMAT: &[&str] = &[
    "to_string",
    "format!",
    "write!",
    "writeln!",
    "print!",
    "println!",
    "eprint!",
    "eprintln!",
    "format_args!",
];

const ITERATE: &[&str] = &[
    "next",
    "for",
    "collect",
    "map",
    "filter",
    "count",
    "sum",
    "fold",
    "take",
    "skip",
    "zip",
    "enumerate",
    "last",
    "nth",
    "find",
    "any",
    "all",
    "max",
    "min",
    "position",
    "for_each",
    "flat_map",
    "chain",
    "peekable",
    "step_by",
    "cloned",
    "copied",
    "rev",
];

/// `<` and its kin call `partial_cmp`, whatever else the type implements.
const COMPARE: &[&str] = &["<", ">", "<=", ">=", "partial_cmp"];

const ORDER: &[&str] = &[
    "cmp",
    "max",
    "min",
    "clamp",
    "sort",
    "sort_unstable",
    "BTreeMap",
    "BTreeSet",
];

const CONVERT: &[&str] = &["into", "from"];
const TRY_CONVERT: &[&str] = &["try_into", "try_from"];
const DEREF: &[&str] = &["deref*", "deref"];

/// Every trait with sugar. Rows are looked up by trait and method, so no two may answer the
/// same pair. A static, so that a row found is the row itself.
static TABLE: &[Sugar] = &[
    Sugar::of("Display", "fmt", FORMAT).written(SugarCall::Method("to_string")),
    Sugar::of(
        "Debug",
        "fmt",
        &["format!", "println!", "eprintln!", "dbg!"],
    )
    .written(SugarCall::Format("{:?}")),
    Sugar::of("FromStr", "from_str", &["parse"])
        .made()
        .written(SugarCall::Parse),
    Sugar::of("From", "from", CONVERT).made(),
    Sugar::of("Into", "into", CONVERT),
    Sugar::of("TryFrom", "try_from", TRY_CONVERT).made(),
    Sugar::of("TryInto", "try_into", TRY_CONVERT),
    Sugar::of("Iterator", "next", ITERATE).written(SugarCall::Method("next")),
    Sugar::of("DoubleEndedIterator", "next_back", &["rev", "next_back"]),
    Sugar::of(
        "IntoIterator",
        "into_iter",
        &["for", "into_iter", "collect"],
    ),
    Sugar::of("FromIterator", "from_iter", &["collect"]).made(),
    Sugar::of("Extend", "extend", &["extend"]),
    Sugar::of("Default", "default", &["default", "unwrap_or_default"]),
    Sugar::of("Drop", "drop", &["drop"]).written(SugarCall::Drop),
    Sugar::any("PartialEq", &["==", "!=", "assert_eq!", "assert_ne!"]),
    Sugar::any("PartialOrd", COMPARE),
    Sugar::any("Ord", ORDER),
    Sugar::of("Hash", "hash", &["HashMap", "HashSet", "hash"]),
    Sugar::any("Clone", &["clone", "cloned"]),
    Sugar::any("Add", &["+"]),
    Sugar::any("Sub", &["-"]),
    Sugar::any("Mul", &["*"]),
    Sugar::any("Div", &["/"]),
    Sugar::any("Rem", &["%"]),
    Sugar::any("Neg", &["neg-"]),
    Sugar::any("Not", &["!"]),
    Sugar::any("BitAnd", &["&"]),
    Sugar::any("BitOr", &["|"]),
    Sugar::any("BitXor", &["^"]),
    Sugar::any("Shl", &["<<"]),
    Sugar::any("Shr", &[">>"]),
    Sugar::any("AddAssign", &["+="]),
    Sugar::any("SubAssign", &["-="]),
    Sugar::any("MulAssign", &["*="]),
    Sugar::any("DivAssign", &["/="]),
    Sugar::any("RemAssign", &["%="]),
    Sugar::any("BitAndAssign", &["&="]),
    Sugar::any("BitOrAssign", &["|="]),
    Sugar::any("BitXorAssign", &["^="]),
    Sugar::any("ShlAssign", &["<<="]),
    Sugar::any("ShrAssign", &[">>="]),
    Sugar::any("Index", &["[]"]),
    Sugar::any("IndexMut", &["[]"]),
    Sugar::any("Deref", DEREF),
    Sugar::any("DerefMut", DEREF),
    Sugar::any("AsRef", &["as_ref"]),
    Sugar::any("AsMut", &["as_mut"]),
    Sugar::any("Borrow", &["borrow"]),
    Sugar::any(
        "Write",
        &["write!", "writeln!", "write_all", "write", "flush"],
    ),
    Sugar::any(
        "Read",
        &["read_to_string", "read_to_end", "read_exact", "read"],
    ),
    Sugar::of("Error", "source", &["source"]),
];

/// The sugar of a trait's method, when the trait (by its last path segment) is one of std's
/// that has any.
pub fn sugar(trait_name: &str, method: &str) -> Option<&'static Sugar> {
    TABLE
        .iter()
        .find(|s| s.trait_name == trait_name && s.method.is_none_or(|m| m == method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_is_found_and_a_scaffolds_call_is_one_of_its_uses() {
        for row in TABLE {
            // A row shadowed by an earlier one would never be found.
            let method = row.method.unwrap_or("any_method");
            let found = sugar(row.trait_name, method).expect("in the table");
            assert!(std::ptr::eq(found, row), "{} {method}", row.trait_name);
            if let Some(call) = row.call {
                assert!(row.uses.contains(&call.recorded_as()), "{row:?}");
            }
        }
        assert!(sugar("Display", "to_string").is_none());
        assert!(sugar("Money", "fmt").is_none());
        assert_eq!(
            sugar("PartialEq", "ne").map(|s| s.trait_name),
            Some("PartialEq")
        );
    }
}
