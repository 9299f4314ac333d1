//! The values a body is replaced with, from its return type, as cargo-mutants picks them:
//! `()`, `true`/`false`, `0`/`1` (and `-1` where signed), empty and one-element collections,
//! `""`/`"xyzzy"`, `None`/`Some(…)`, `Ok(…)`, and `Default::default()` for the rest.

use syn::{GenericArgument, PathArguments, Type};

/// The replacement bodies for a fn returning `ty` (`None`: nothing, `()`).
pub fn of(ty: Option<&Type>) -> Vec<String> {
    match ty {
        None => vec!["()".to_owned()],
        Some(ty) => values(ty, 0),
    }
}

/// `depth` keeps `Option<Option<Vec<…>>>` from growing: inner values are few.
fn values(ty: &Type, depth: usize) -> Vec<String> {
    match ty {
        Type::Tuple(tuple) if tuple.elems.is_empty() => vec!["()".to_owned()],
        Type::Reference(reference) => {
            reference_values(&reference.elem, reference.mutability.is_some())
        }
        Type::Paren(inner) => values(&inner.elem, depth),
        Type::Group(inner) => values(&inner.elem, depth),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return default();
            };
            let name = last.ident.to_string();
            let args = type_args(&last.arguments);
            path_values(&name, &args, depth)
        }
        // `impl Iterator<Item = T>`, `dyn Trait`, arrays, fn pointers: nothing that surely
        // builds; the default where there is one.
        _ => default(),
    }
}

fn default() -> Vec<String> {
    vec!["Default::default()".to_owned()]
}

fn path_values(name: &str, args: &[&Type], depth: usize) -> Vec<String> {
    let inner = |i: usize| -> Vec<String> {
        match args.get(i) {
            Some(ty) if depth < 1 => values(ty, depth + 1),
            _ => default(),
        }
    };
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    match name {
        "bool" => strings(&["true", "false"]),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => strings(&["0", "1"]),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => strings(&["0", "1", "-1"]),
        "f32" | "f64" => strings(&["0.0", "1.0", "-1.0"]),
        "String" => strings(&["String::new()", "\"xyzzy\".into()"]),
        "Option" => {
            let mut out = vec!["None".to_owned()];
            out.extend(inner(0).into_iter().map(|v| format!("Some({v})")));
            out
        }
        "Result" => inner(0).into_iter().map(|v| format!("Ok({v})")).collect(),
        "Vec" => {
            let mut out = vec!["vec![]".to_owned()];
            out.extend(inner(0).into_iter().map(|v| format!("vec![{v}]")));
            out
        }
        "Box" => inner(0)
            .into_iter()
            .map(|v| format!("Box::new({v})"))
            .collect(),
        "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" | "VecDeque" => {
            vec!["Default::default()".to_owned()]
        }
        _ => default(),
    }
}

fn reference_values(elem: &Type, mutable: bool) -> Vec<String> {
    let name = match elem {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        Type::Slice(_) => Some("[]".to_owned()),
        _ => None,
    };
    match (name.as_deref(), mutable) {
        (Some("str"), false) => vec!["\"\"".to_owned(), "\"xyzzy\"".to_owned()],
        (Some("[]"), false) => vec!["&[]".to_owned()],
        (Some("[]"), true) => vec!["&mut []".to_owned()],
        // A reference to anything else: leaked, as cargo-mutants does.
        (_, false) => vec![format!(
            "&*Box::leak(Box::new({}))",
            values(elem, 1).remove(0)
        )],
        (_, true) => vec![format!(
            "Box::leak(Box::new({}))",
            values(elem, 1).remove(0)
        )],
    }
}

fn type_args(arguments: &PathArguments) -> Vec<&Type> {
    match arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_type(text: &str) -> Vec<String> {
        of(Some(&syn::parse_str::<Type>(text).unwrap()))
    }

    #[test]
    fn values_follow_the_return_type() {
        assert_eq!(of(None), ["()"]);
        assert_eq!(of_type("bool"), ["true", "false"]);
        assert_eq!(of_type("u32"), ["0", "1"]);
        assert_eq!(of_type("i64"), ["0", "1", "-1"]);
        assert_eq!(of_type("String"), ["String::new()", "\"xyzzy\".into()"]);
        assert_eq!(of_type("&'static str"), ["\"\"", "\"xyzzy\""]);
        assert_eq!(
            of_type("Option<bool>"),
            ["None", "Some(true)", "Some(false)"]
        );
        assert_eq!(of_type("Result<u8, Error>"), ["Ok(0)", "Ok(1)"]);
        assert_eq!(
            of_type("Vec<String>"),
            ["vec![]", "vec![String::new()]", "vec![\"xyzzy\".into()]"]
        );
        assert_eq!(of_type("Money"), ["Default::default()"]);
        assert_eq!(
            of_type("Option<Option<u8>>"),
            ["None", "Some(None)", "Some(Some(Default::default()))"]
        );
        assert_eq!(of_type("&[u8]"), ["&[]"]);
    }
}
