//! `use` trees: the names a file's top level brings in that hide std's, and what an inline
//! module imports (a test at the top level must write those paths out).

use std::collections::BTreeMap;

use syn::{Item, UseTree};

use super::FileAnalysis;
use crate::rules::STD_NAMES;

/// A `use` inside an inline module, by the name it brings in: `use std::collections::BTreeSet`
/// → `BTreeSet` → `std::collections::BTreeSet`. A test at the file's top level cannot see a
/// private import of the module, so it writes the path instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub leading_colon: bool,
    pub segments: Vec<String>,
}

/// What the file's top level brings into a test module's `use super::*` that hides std's names.
pub(super) fn top_level_names(items: &[Item], out: &mut FileAnalysis) {
    for item in items {
        let ident = match item {
            Item::Struct(i) => &i.ident,
            Item::Enum(i) => &i.ident,
            Item::Union(i) => &i.ident,
            Item::Type(i) => &i.ident,
            Item::Trait(i) => &i.ident,
            Item::Fn(i) => &i.sig.ident,
            Item::Const(i) => &i.ident,
            Item::Static(i) => &i.ident,
            Item::Mod(i) => &i.ident,
            Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
            Item::Use(u) => {
                let mut leaves = Vec::new();
                use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                for leaf in leaves {
                    match leaf {
                        UseLeaf::Glob => out.glob = true,
                        UseLeaf::Name { name, path, .. } => {
                            // `use std::string::String` is std's own name, not a stand-in.
                            let from_std = matches!(
                                path.first().map(String::as_str),
                                Some("std" | "core" | "alloc")
                            ) && path.last() == Some(&name);
                            if STD_NAMES.contains(&name.as_str()) && !from_std {
                                out.shadowed.insert(name);
                            }
                        }
                    }
                }
                continue;
            }
            _ => continue,
        };
        let name = ident.to_string();
        if STD_NAMES.contains(&name.as_str()) {
            out.shadowed.insert(name);
        }
    }
}

/// The names an inline module's `use` items bring in, and from where.
pub(super) fn module_imports(items: &[Item]) -> BTreeMap<String, Import> {
    let mut out = BTreeMap::new();
    for item in items {
        let Item::Use(u) = item else { continue };
        let mut leaves = Vec::new();
        use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
        for leaf in leaves {
            if let UseLeaf::Name { name, path, .. } = leaf {
                out.insert(
                    name,
                    Import {
                        leading_colon: u.leading_colon.is_some(),
                        segments: path,
                    },
                );
            }
        }
    }
    out
}

enum UseLeaf {
    Glob,
    /// The name brought in, and the full path it names.
    Name {
        name: String,
        path: Vec<String>,
    },
}

fn use_leaves(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseLeaf>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let ident = n.ident.to_string();
            // `use a::b::{self}` brings in `b`.
            let (name, path) = if ident == "self" {
                (prefix.last().cloned().unwrap_or_default(), prefix.clone())
            } else {
                let mut path = prefix.clone();
                path.push(ident.clone());
                (ident, path)
            };
            if !name.is_empty() {
                out.push(UseLeaf::Name { name, path });
            }
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push(UseLeaf::Name {
                name: r.rename.to_string(),
                path,
            });
        }
        UseTree::Glob(_) => out.push(UseLeaf::Glob),
        UseTree::Group(g) => {
            for tree in &g.items {
                use_leaves(tree, prefix, out);
            }
        }
    }
}
