//! What a crate's own rules let a generated test write where `mod testsmith_tests` goes: the
//! lint levels in force there (crate root, `mod` declarations and module files on the way),
//! the edition (which paths resolve, how libtest spells module names) and the names of the
//! file that hide std's. The analysis reads the attributes, the scan puts them together along
//! the module walk, and generation and emission obey them.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

/// A lint level, in the order rustc ranks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Allow,
    Warn,
    Deny,
    Forbid,
}

impl Level {
    /// The level an attribute named `name` sets (`expect` counts as `allow`).
    pub fn of_attr(name: &str) -> Option<Level> {
        Some(match name {
            "allow" | "expect" => Level::Allow,
            "warn" => Level::Warn,
            "deny" => Level::Deny,
            "forbid" => Level::Forbid,
            _ => return None,
        })
    }
}

/// One lint named in a lint attribute: `#![deny(warnings)]` → `(Deny, "warnings")`. One under
/// `cfg_attr` counts as set: a scaffold must compile whichever way the condition goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintAttr {
    pub level: Level,
    pub lint: String,
}

/// The std names a scaffold writes bare (`String::new()`, `None`, `Default::default()`).
pub const STD_NAMES: &[&str] = &["String", "Vec", "Box", "Option", "None", "Default"];

/// The rules in force where a file's test module goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The target's edition: 2015, 2018, 2021, 2024.
    pub edition: u16,
    /// `#![no_std]` at the crate root.
    pub no_std: bool,
    /// Lint attributes from the crate root down to the file's own inner ones, in order.
    pub lints: Vec<LintAttr>,
    /// Names of [`STD_NAMES`] that the file's top level defines or imports from elsewhere:
    /// `use super::*` brings them into the test module, where they hide std's.
    pub shadowed: BTreeSet<String>,
    /// The file's top level has a glob import: a name of the package's own may come in by it.
    pub glob: bool,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            edition: 2021,
            no_std: false,
            lints: Vec::new(),
            shadowed: BTreeSet::new(),
            glob: false,
        }
    }
}

impl Rules {
    /// The level of `lint` in the test module: the last attribute naming it or a group holding
    /// it wins, except that nothing overrides a `forbid`.
    pub fn level(&self, lint: &str) -> Level {
        let mut level = default_level(lint);
        for attr in &self.lints {
            if level != Level::Forbid && names(&attr.lint, lint) {
                level = attr.level;
            }
        }
        level
    }

    /// Whether `#[allow(lint)]` on a test would be an error (or, for a forbidden group, a
    /// warning that `deny(warnings)` makes one).
    pub fn forbids(&self, lint: &str) -> bool {
        self.level(lint) == Level::Forbid
    }

    /// Where core's items are reached from: `::core`, except in an edition 2015 crate with std,
    /// where `::` is the crate root and only `std` is declared there.
    pub fn core_root(&self) -> TokenStream {
        if self.edition == 2015 && !self.no_std {
            quote!(::std)
        } else {
            quote!(::core)
        }
    }

    /// A module name as libtest prints it in test names: raw (`r#async`) only when it is a
    /// keyword of the crate's edition.
    pub fn libtest_segment(&self, name: &str) -> String {
        let bare = unraw(name);
        if is_keyword(bare, self.edition) {
            format!("r#{bare}")
        } else {
            bare.to_owned()
        }
    }
}

/// A name without its raw prefix: `r#async` is the module `async`, in `async.rs`.
pub fn unraw(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// rustc's default level, for the lints a scaffold may need allowed.
fn default_level(lint: &str) -> Level {
    match lint {
        "unsafe_code" => Level::Allow,
        _ => Level::Warn,
    }
}

/// Whether the attribute's `named` (a lint or a group) covers `lint`.
fn names(named: &str, lint: &str) -> bool {
    named == lint
        || match named {
            "warnings" => default_level(lint) == Level::Warn,
            "unused" => matches!(
                lint,
                "unused_imports" | "unused_variables" | "unused_mut" | "unreachable_code"
            ),
            _ => false,
        }
}

/// Strict and reserved keywords, which libtest prints raw.
fn is_keyword(name: &str, edition: u16) -> bool {
    const ALWAYS: &[&str] = &[
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
        "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
        "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
        "priv", "typeof", "unsized", "virtual", "yield",
    ];
    ALWAYS.contains(&name)
        || (edition >= 2018 && matches!(name, "async" | "await" | "dyn" | "try"))
        || (edition >= 2024 && name == "gen")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lints: &[(Level, &str)]) -> Rules {
        Rules {
            lints: lints
                .iter()
                .map(|(level, lint)| LintAttr {
                    level: *level,
                    lint: (*lint).to_owned(),
                })
                .collect(),
            ..Rules::default()
        }
    }

    #[test]
    fn the_last_level_wins_but_forbid_stays() {
        let r = rules(&[(Level::Deny, "warnings"), (Level::Allow, "unused_imports")]);
        assert_eq!(r.level("unused_imports"), Level::Allow);
        assert_eq!(r.level("unused_mut"), Level::Deny);
        assert_eq!(
            r.level("unsafe_code"),
            Level::Allow,
            "not a warning by default"
        );
        let r = rules(&[(Level::Forbid, "unused"), (Level::Allow, "unused_mut")]);
        assert!(r.forbids("unused_mut"));
        assert!(r.forbids("unreachable_code"));
        assert!(!r.forbids("deprecated"));
        let r = rules(&[(Level::Deny, "unsafe_code")]);
        assert_eq!(r.level("unsafe_code"), Level::Deny);
    }

    #[test]
    fn paths_and_names_follow_the_edition() {
        let old = Rules {
            edition: 2015,
            ..Rules::default()
        };
        assert_eq!(old.core_root().to_string(), ":: std");
        assert_eq!(old.libtest_segment("r#async"), "async");
        assert_eq!(old.libtest_segment("r#type"), "r#type");
        let new = Rules::default();
        assert_eq!(new.core_root().to_string(), ":: core");
        assert_eq!(new.libtest_segment("r#async"), "r#async");
        assert_eq!(new.libtest_segment("r#gen"), "gen");
        assert_eq!(new.libtest_segment("money"), "money");
    }
}
