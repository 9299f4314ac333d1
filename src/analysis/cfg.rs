//! `#[cfg(…)]` conditions as a tree the build can evaluate: which cargo features, and which
//! facts of the machine, a module or an item is compiled under.

use std::collections::BTreeSet;
use std::fmt;

use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Meta, Token};

use super::PublicFn;

/// A cfg predicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cfg {
    All(Vec<Cfg>),
    Any(Vec<Cfg>),
    Not(Box<Cfg>),
    /// `feature = "x"`: the one kind of option a cargo build chooses.
    Feature(String),
    /// `unix`, `test`, `docsrs`: a name the compiler sets or not.
    Name(String),
    /// `target_os = "linux"`.
    Pair(String, String),
    /// What could not be read: never true, so nothing under it is claimed checkable.
    Unknown(String),
}

/// What the build a test runs in sets, besides features.
pub trait Facts {
    fn name(&self, name: &str) -> bool;
    fn pair(&self, key: &str, value: &str) -> bool;
}

impl Cfg {
    /// The condition inside `cfg(…)`, as written.
    pub fn parse(text: &str) -> Cfg {
        match syn::parse_str::<Meta>(text) {
            Ok(meta) => Cfg::from_meta(&meta),
            Err(_) => Cfg::Unknown(text.to_owned()),
        }
    }

    fn from_meta(meta: &Meta) -> Cfg {
        let unknown = || Cfg::Unknown(super::compact(&quote::ToTokens::to_token_stream(meta)));
        let Some(ident) = meta.path().get_ident().map(ToString::to_string) else {
            return unknown();
        };
        match meta {
            Meta::Path(_) => Cfg::Name(ident),
            Meta::NameValue(pair) => match &pair.value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(value) if ident == "feature" => Cfg::Feature(value.value()),
                    Lit::Str(value) => Cfg::Pair(ident, value.value()),
                    _ => unknown(),
                },
                _ => unknown(),
            },
            Meta::List(list) => {
                let Ok(inner) =
                    list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                else {
                    return unknown();
                };
                let mut inner: Vec<Cfg> = inner.iter().map(Cfg::from_meta).collect();
                match ident.as_str() {
                    "all" => Cfg::All(inner),
                    "any" => Cfg::Any(inner),
                    "not" if inner.len() == 1 => Cfg::Not(Box::new(inner.remove(0))),
                    _ => unknown(),
                }
            }
        }
    }

    /// Whether the condition holds with `features` enabled, in a build that sets `facts`.
    pub fn holds(&self, features: &BTreeSet<String>, facts: &dyn Facts) -> bool {
        match self {
            Cfg::All(all) => all.iter().all(|c| c.holds(features, facts)),
            Cfg::Any(any) => any.iter().any(|c| c.holds(features, facts)),
            Cfg::Not(inner) => !inner.holds(features, facts),
            Cfg::Feature(name) => features.contains(name),
            Cfg::Name(name) => facts.name(name),
            Cfg::Pair(key, value) => facts.pair(key, value),
            Cfg::Unknown(_) => false,
        }
    }

    /// The features the condition names, to choose among.
    pub fn features(&self, out: &mut BTreeSet<String>) {
        match self {
            Cfg::All(inner) | Cfg::Any(inner) => inner.iter().for_each(|c| c.features(out)),
            Cfg::Not(inner) => inner.features(out),
            Cfg::Feature(name) => {
                out.insert(name.clone());
            }
            Cfg::Name(_) | Cfg::Pair(..) | Cfg::Unknown(_) => {}
        }
    }

    /// Whether the condition asks anything of the machine beyond `test`, which every test
    /// build sets, and features.
    pub fn asks_machine(&self) -> bool {
        match self {
            Cfg::All(inner) | Cfg::Any(inner) => inner.iter().any(Cfg::asks_machine),
            Cfg::Not(inner) => inner.asks_machine(),
            Cfg::Name(name) => name != "test",
            Cfg::Pair(..) => true,
            Cfg::Feature(_) | Cfg::Unknown(_) => false,
        }
    }
}

impl fmt::Display for Cfg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, inner: &[Cfg]| {
            write!(f, "{name}(")?;
            for (i, c) in inner.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str(")")
        };
        match self {
            Cfg::All(inner) => list(f, "all", inner),
            Cfg::Any(inner) => list(f, "any", inner),
            Cfg::Not(inner) => write!(f, "not({inner})"),
            Cfg::Feature(name) => write!(f, "feature = {name:?}"),
            Cfg::Name(name) => f.write_str(name),
            Cfg::Pair(key, value) => write!(f, "{key} = {value:?}"),
            Cfg::Unknown(text) => f.write_str(text),
        }
    }
}

/// The cfgs an item's test is written under: its own, its modules' and impl's in the file,
/// and those of the `cfg_attr` path that chose the file.
pub fn item_cfgs(item: &PublicFn) -> Vec<Cfg> {
    let Some(stub) = item.parse_stub() else {
        return Vec::new();
    };
    stub.attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .map(|a| match &a.meta {
            Meta::List(list) => Cfg::parse(&list.tokens.to_string()),
            other => Cfg::Unknown(super::compact(&quote::ToTokens::to_token_stream(other))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Linux;

    impl Facts for Linux {
        fn name(&self, name: &str) -> bool {
            matches!(name, "unix" | "test" | "debug_assertions")
        }
        fn pair(&self, key: &str, value: &str) -> bool {
            (key, value) == ("target_os", "linux")
        }
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn conditions_are_read_and_evaluated_as_the_compiler_does() {
        let cases = [
            ("feature = \"extra\"", &[][..], false),
            ("feature = \"extra\"", &["extra"][..], true),
            ("all(unix, feature = \"a\")", &["a"][..], true),
            ("all(windows, feature = \"a\")", &["a"][..], false),
            ("any(windows, target_os = \"linux\")", &[][..], true),
            ("not(feature = \"std\")", &["std"][..], false),
            ("any(test, feature = \"x\")", &[][..], true),
            ("docsrs", &[][..], false),
            ("all(doc, not(doctest))", &[][..], false),
            ("version(\"1.0\")", &[][..], false),
        ];
        for (text, features, expected) in cases {
            let cfg = Cfg::parse(text);
            assert_eq!(
                cfg.holds(&set(features), &Linux),
                expected,
                "{text}: {cfg:?}"
            );
        }
    }

    #[test]
    fn features_named_and_machine_questions_are_told_apart() {
        let cfg = Cfg::parse("all(any(feature = \"a\", feature = \"b\"), not(feature = \"c\"))");
        let mut named = BTreeSet::new();
        cfg.features(&mut named);
        assert_eq!(named, set(&["a", "b", "c"]));
        assert!(!cfg.asks_machine());
        assert!(Cfg::parse("all(test, unix)").asks_machine());
        assert!(!Cfg::parse("test").asks_machine());
        assert_eq!(
            cfg.to_string(),
            "all(any(feature = \"a\", feature = \"b\"), not(feature = \"c\"))"
        );
    }
}
