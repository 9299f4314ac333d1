//! Build a value for a parameter type, when the type allows: literals for primitives, empty
//! strings and collections, `None`, `Default::default()` or `new()` for crate types. Generic
//! parameters and `impl Trait` are first replaced by a concrete type that meets their bounds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::visit_mut::VisitMut;
use syn::{GenericArgument, PathArguments, Type, TypeParamBound};

use crate::analysis::{Constructor, bound_text};
use crate::rules::{Rules, STD_NAMES};

/// How a test names std's items where the file may hide them, and where core's paths start.
#[derive(Clone)]
pub struct StdNames {
    /// Names the test module sees as the package's own: the file defines or imports them, or
    /// a glob import may bring the package's type of that name.
    hidden: BTreeSet<String>,
    core: TokenStream,
    /// A type to try for a bound on one of the package's own traits, which no candidate is
    /// known to meet (implementations a macro writes cannot be read): the probe's build
    /// decides, and one that does not compile is set aside.
    guess: Option<Guess>,
}

/// See [`StdNames::guessing`].
#[derive(Clone)]
struct Guess {
    ty: &'static str,
    /// The std traits it implements, by the bound as written.
    traits: Vec<&'static str>,
    /// The package's own traits, by name.
    own_traits: BTreeSet<String>,
}

impl Guess {
    /// Whether `bound` names one of the package's own traits (`Array`, `private::Sealed`).
    fn owns(&self, bound: &str) -> bool {
        let name = bound.split('<').next().unwrap_or(bound);
        let name = name.rsplit("::").next().unwrap_or(name);
        self.own_traits.contains(name)
    }
}

/// The types a probe tries for a bound on the package's own trait: the numbers, text and
/// arrays such traits are most often implemented for.
pub const GUESSES: &[&str] = &[
    "i32",
    "u64",
    "u8",
    "f64",
    "&'static str",
    "String",
    "[i32; 4]",
];

/// The std traits of the guesses that are not [`CANDIDATES`]: a candidate's (an integer's
/// are near enough `i32`'s: the build tells), or these, by the bound as written.
const GUESSED: &[(&str, &str)] = &[
    ("u64", "i32"),
    ("u8", "i32"),
    (
        "f64",
        "Copy Clone Debug Display Default PartialEq PartialOrd",
    ),
    // A trait for arrays of every size (`smallvec::Array`).
    ("[i32; 4]", "Copy Clone Debug Default PartialEq Eq Hash"),
];

/// Every type is `Sized`, `Send`, `Sync` and `Unpin` here.
const MARKERS: &[&str] = &["Sized", "Send", "Sync", "Unpin"];

impl StdNames {
    pub fn new(rules: &Rules, type_defs: &BTreeMap<String, String>) -> StdNames {
        let mut hidden = rules.shadowed.clone();
        if rules.glob {
            hidden.extend(
                STD_NAMES
                    .iter()
                    .filter(|n| type_defs.contains_key(**n))
                    .map(|n| (*n).to_owned()),
            );
        }
        StdNames {
            hidden,
            core: rules.core_root(),
            guess: None,
        }
    }

    /// The same names, with `GUESSES[index]` tried for a bound on one of `own_traits`.
    pub fn guessing<'t>(&self, index: usize, own_traits: impl Iterator<Item = &'t String>) -> Self {
        let ty = GUESSES[index];
        let candidate = |ty: &str| CANDIDATES.iter().find(|(t, _)| *t == ty).map(|(_, t)| *t);
        let traits: Vec<&'static str> = match GUESSED.iter().find(|(t, _)| *t == ty) {
            Some((_, like)) => match candidate(like) {
                Some(traits) => traits.to_vec(),
                None => like.split(' ').collect(),
            },
            None => candidate(ty).unwrap_or_default().to_vec(),
        };
        StdNames {
            guess: Some(Guess {
                ty,
                traits,
                own_traits: own_traits.cloned().collect(),
            }),
            ..self.clone()
        }
    }

    /// The same names, guessing nothing.
    pub fn without_guess(&self) -> Self {
        StdNames {
            guess: None,
            ..self.clone()
        }
    }

    /// Whether the guess is taken to meet `bound`: one of the package's own traits (the build
    /// tells), or a std trait it implements. A `new` bound by them builds the guessed type.
    fn guess_meets(&self, bound: &str) -> bool {
        let Some(guess) = self.guess.as_ref() else {
            return false;
        };
        guess.traits.contains(&bound) || MARKERS.contains(&bound) || guess.owns(bound)
    }

    /// The guess, where `bounds` name one of the package's own traits and every other bound
    /// is one the guess meets.
    fn guessed(&self, bounds: &[String]) -> Option<Type> {
        let guess = self.guess.as_ref()?;
        let fits =
            bounds.iter().any(|b| guess.owns(b)) && bounds.iter().all(|b| self.guess_meets(b));
        if !fits {
            return None;
        }
        Some(if guess.ty == "String" {
            syn::parse2(self.path("String")).expect("std paths parse")
        } else {
            syn::parse_str(guess.ty).expect("guesses parse")
        })
    }

    /// Whether a bare `name` in the file means something other than std's.
    pub fn hides(&self, name: &str) -> bool {
        self.hidden.contains(name)
    }

    /// How a test names std's `name` (one of [`STD_NAMES`]): bare, or by its full path when
    /// the file hides it.
    pub fn path(&self, name: &str) -> TokenStream {
        if !self.hides(name) {
            let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
            return quote!(#ident);
        }
        let core = &self.core;
        match name {
            "String" => quote!(::std::string::String),
            "Vec" => quote!(::std::vec::Vec),
            "Box" => quote!(::std::boxed::Box),
            "Option" => quote!(#core::option::Option),
            "None" => quote!(#core::option::Option::None),
            _ => quote!(#core::default::Default),
        }
    }

    /// `::core`, or `::std` in an edition 2015 crate.
    pub fn core(&self) -> &TokenStream {
        &self.core
    }
}

/// What the builder knows besides the type itself.
pub struct Env<'a> {
    pub constructors: &'a BTreeMap<String, Constructor>,
    /// Generic parameter (and `Self`) → the concrete type chosen for it.
    pub substitutions: HashMap<String, Type>,
    /// Const generic parameter → the value chosen for it.
    pub consts: HashMap<String, syn::Expr>,
    /// Constructor paths may be named only for items at the file's top level: inside an inline
    /// module a type may be a private import that the test module cannot see.
    pub can_name_types: bool,
    pub std: &'a StdNames,
    /// `Some(k)`: the `k`th of several values per type (an observed test's inputs), with
    /// the item's own literals first; `None`: the one plain value a scaffold writes.
    pub pick: Option<usize>,
    pub literals: &'a Literals,
    /// The package's type definitions by name: a type with no constructor may be built as a
    /// literal.
    pub type_defs: &'a BTreeMap<String, String>,
    /// The constructors and definitions of the types the file defines, which its bare names
    /// mean first.
    pub own: Option<OwnTypes<'a>>,
}

/// The literals an item's body holds: the values its code singles out come first among the
/// inputs an observed test tries.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Literals {
    pub ints: Vec<i128>,
    pub floats: Vec<String>,
    pub strs: Vec<String>,
    pub chars: Vec<char>,
}

/// The constructors and definitions of the types one file defines.
pub type OwnTypes<'a> = (
    &'a BTreeMap<String, Constructor>,
    &'a BTreeMap<String, String>,
);

/// No literals: a scaffold's plain values.
pub static NO_LITERALS: Literals = Literals {
    ints: Vec::new(),
    floats: Vec::new(),
    strs: Vec::new(),
    chars: Vec::new(),
};

/// How many of an item's own literals of each kind are tried.
const MAX_LITERALS: usize = 3;

impl Literals {
    /// The literals in `source` (an item as written), deduplicated, at most a few of each.
    pub fn of(source: &str) -> Literals {
        fn walk(tokens: TokenStream, out: &mut Literals) {
            for token in tokens {
                match token {
                    proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                    proc_macro2::TokenTree::Literal(lit) => {
                        match syn::Lit::new(lit) {
                            syn::Lit::Int(i) => {
                                if let Ok(v) = i.base10_parse::<i128>()
                                    && !out.ints.contains(&v)
                                {
                                    out.ints.push(v);
                                }
                            }
                            syn::Lit::Float(f) => {
                                let digits = f.base10_digits().to_owned();
                                if !out.floats.contains(&digits) {
                                    out.floats.push(digits);
                                }
                            }
                            // Long strings are messages, not inputs.
                            syn::Lit::Str(s) if s.value().chars().count() <= 12 => {
                                let v = s.value();
                                if !out.strs.contains(&v) && !v.contains('{') {
                                    out.strs.push(v);
                                }
                            }
                            syn::Lit::Char(c) if !out.chars.contains(&c.value()) => {
                                out.chars.push(c.value());
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut out = Literals::default();
        // The body only: a doc comment's text is a literal too.
        let body = source.find('{').map_or("", |at| &source[at..]);
        if let Ok(tokens) = body.parse::<TokenStream>() {
            walk(tokens, &mut out);
        }
        out.ints.truncate(MAX_LITERALS);
        out.floats.truncate(MAX_LITERALS);
        out.strs.truncate(MAX_LITERALS);
        out.chars.truncate(MAX_LITERALS);
        out
    }
}

/// A tuple expression of `elems` (a one-element tuple keeps its comma).
pub fn tuple_of(elems: &[TokenStream]) -> TokenStream {
    if elems.len() == 1 {
        quote!((#(#elems),*,))
    } else {
        quote!((#(#elems),*))
    }
}

/// The `k`th of `pool`, wrapping.
fn nth<T: Clone>(pool: &[T], k: usize) -> T {
    pool[k % pool.len()].clone()
}

/// How far `new(…)` arguments are followed into other `new(…)`s.
const MAX_DEPTH: usize = 3;

impl Env<'_> {
    /// `ty` with generic parameters, `Self` and `impl Trait` replaced by concrete types.
    pub fn concrete(&self, ty: &Type) -> Option<Type> {
        let mut ty = ty.clone();
        let mut sub = Substitute {
            map: &self.substitutions,
            consts: &self.consts,
            std: self.std,
            failed: false,
        };
        sub.visit_type_mut(&mut ty);
        (!sub.failed).then_some(ty)
    }

    /// An expression of type `ty` (already concrete), or `None` when none can be written.
    pub fn build(&self, ty: &Type) -> Option<TokenStream> {
        self.build_at(ty, 0, self.pick)
    }

    fn build_at(&self, ty: &Type, depth: usize, pick: Option<usize>) -> Option<TokenStream> {
        match ty {
            Type::Paren(inner) => self.build_at(&inner.elem, depth, pick),
            Type::Group(inner) => self.build_at(&inner.elem, depth, pick),
            Type::Tuple(tuple) => {
                let elems = tuple
                    .elems
                    .iter()
                    .enumerate()
                    .map(|(i, t)| self.build_at(t, depth, pick.map(|k| k + i)))
                    .collect::<Option<Vec<_>>>()?;
                Some(tuple_of(&elems))
            }
            Type::Array(array) => {
                let elem = self.build_at(&array.elem, depth, pick)?;
                let len = &array.len;
                let core = self.std.core();
                Some(if is_literal(&elem) {
                    quote!([#elem; #len])
                } else {
                    quote!(#core::array::from_fn(|_| #elem))
                })
            }
            Type::Reference(reference) => self.build_reference(reference, depth, pick),
            Type::Ptr(ptr) => {
                let core = self.std.core();
                Some(
                    if matches!(ptr.mutability, syn::PointerMutability::Mut(_)) {
                        quote!(#core::ptr::null_mut())
                    } else {
                        quote!(#core::ptr::null())
                    },
                )
            }
            Type::Path(path) if path.qself.is_none() => self.build_path(&path.path, depth, pick),
            _ => None,
        }
    }

    /// How to pass a value of `ty` (already concrete) as an argument, or `None` when none can
    /// be written.
    pub fn argument(&self, ty: &Type) -> Option<Arg> {
        let Type::Reference(reference) = ty else {
            return self.build(ty).map(Arg::Owned);
        };
        if let Some(value) = self.literal_reference(reference, self.pick) {
            return Some(Arg::AsIs(value));
        }
        if matches!(&*reference.elem, Type::TraitObject(_) | Type::ImplTrait(_)) {
            return None;
        }
        self.build(&reference.elem).map(|owned| Arg::Lent {
            owned,
            mutable: reference.mutability.is_some(),
        })
    }

    /// Behind a reference; `&str`, `&[T]`, `&Path` and `&OsStr` have literal forms.
    fn build_reference(
        &self,
        reference: &syn::TypeReference,
        depth: usize,
        pick: Option<usize>,
    ) -> Option<TokenStream> {
        if let Some(value) = self.literal_reference(reference, pick) {
            return Some(value);
        }
        if matches!(&*reference.elem, Type::TraitObject(_) | Type::ImplTrait(_)) {
            return None;
        }
        let value = self.build_at(&reference.elem, depth, pick)?;
        Some(if reference.mutability.is_some() {
            quote!(&mut #value)
        } else {
            quote!(&#value)
        })
    }

    fn build_path(
        &self,
        path: &syn::Path,
        depth: usize,
        pick: Option<usize>,
    ) -> Option<TokenStream> {
        let last = path.segments.last()?;
        let name = last.ident.to_string();
        let first_arg = || match &last.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            }),
            _ => None,
        };
        // A bare name the file defines or imports is the package's own, not std's.
        if path.leading_colon.is_none() && path.segments.len() == 1 && self.std.hides(&name) {
            return self.build_crate_type(path, &name, depth, pick);
        }
        if let Some(k) = pick
            && let Some(value) = self.pooled(&name, k, first_arg(), depth)
        {
            return Some(value);
        }
        let default = self.std.path("Default");
        let value = match name.as_str() {
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
            | "u128" | "usize" => quote!(0),
            "f32" | "f64" => quote!(0.0),
            "bool" => quote!(false),
            "char" => quote!('a'),
            "String" | "Vec" => {
                let ty = self.std.path(&name);
                quote!(#ty::new())
            }
            "Option" => self.std.path("None"),
            "Box" | "Rc" | "Arc" => {
                let inner = self.build_at(first_arg()?, depth, pick)?;
                match name.as_str() {
                    "Box" => {
                        let ty = self.std.path("Box");
                        quote!(#ty::new(#inner))
                    }
                    "Rc" => quote!(::std::rc::Rc::new(#inner)),
                    _ => quote!(::std::sync::Arc::new(#inner)),
                }
            }
            "HashMap" | "HashSet" | "BTreeMap" | "BTreeSet" | "VecDeque" | "BinaryHeap"
            | "PathBuf" | "OsString" | "Duration" | "Cow" | "Cell" | "RefCell" | "Mutex"
            | "RwLock" | "PhantomData" | "AtomicBool" | "AtomicUsize" | "AtomicIsize"
            | "AtomicU64" | "AtomicI64" | "AtomicU32" | "AtomicI32" => {
                quote!(#default::default())
            }
            _ => return self.build_crate_type(path, &name, depth, pick),
        };
        Some(value)
    }

    /// The `k`th value of a std type's pool (`None` where the type has none): the item's
    /// own literals, then the boundaries that find bugs (`0`, `1`, `-1`, `MIN`, `MAX`, `""`, a
    /// non-ASCII string, empty and one-element collections, `None`).
    fn pooled(
        &self,
        name: &str,
        k: usize,
        arg: Option<&Type>,
        depth: usize,
    ) -> Option<TokenStream> {
        let lits = self.literals;
        let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
        let int = |v: i128| {
            let lit = proc_macro2::Literal::i128_unsuffixed(v.abs());
            if v < 0 { quote!(-#lit) } else { quote!(#lit) }
        };
        match name {
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
            | "u128" | "usize" => {
                let (min, max) = int_range(name);
                let boundaries: &[i128] = if min < 0 {
                    &[1, -1, 2, 0, -7, 10]
                } else {
                    &[1, 2, 0, 3, 10, 100]
                };
                let mut pool: Vec<TokenStream> = Vec::new();
                let mut seen = BTreeSet::new();
                for &v in lits.ints.iter().chain(boundaries) {
                    if v >= min && v <= max && seen.insert(v) {
                        pool.push(int(v));
                    }
                }
                // The bounds of small types find overflows; those of wide ones (sizes, counts)
                // mostly make loops that never end.
                if max <= i128::from(u16::MAX) {
                    if min < 0 {
                        pool.push(quote!(#ident::MIN));
                    }
                    pool.push(quote!(#ident::MAX));
                } else if seen.insert(1000) {
                    pool.push(int(1000));
                }
                Some(nth(&pool, k))
            }
            "f32" | "f64" => {
                let mut pool: Vec<String> = lits.floats.clone();
                for v in ["1.5", "0.0", "-2.5", "100.0"] {
                    if !pool.iter().any(|p| p == v) {
                        pool.push(v.to_owned());
                    }
                }
                syn::parse_str(&nth(&pool, k)).ok()
            }
            "bool" => Some(if k.is_multiple_of(2) {
                quote!(true)
            } else {
                quote!(false)
            }),
            "char" => {
                let mut pool = lits.chars.clone();
                pool.extend(
                    ['a', 'Z', '7', ' ', 'é']
                        .iter()
                        .filter(|c| !lits.chars.contains(c)),
                );
                let c = nth(&pool, k);
                Some(quote!(#c))
            }
            "String" => {
                let s = self.string(k);
                let ty = self.std.path("String");
                Some(quote!(#ty::from(#s)))
            }
            "Option" => {
                if k % 3 == 1 {
                    return Some(self.std.path("None"));
                }
                let inner = self.build_at(arg?, depth, Some(k))?;
                Some(quote!(Some(#inner)))
            }
            "Vec" => {
                let elems = self.elements(arg?, depth, k)?;
                let vec = self.std.path("Vec");
                Some(if elems.is_empty() {
                    quote!(#vec::new())
                } else {
                    quote!(vec![#(#elems),*])
                })
            }
            _ => None,
        }
    }

    /// The `k`th string: the item's own, then `"a"`, `""`, digits, words, non-ASCII.
    fn string(&self, k: usize) -> String {
        let mut pool = self.literals.strs.clone();
        // Neighbours differ a little (a transposition, a substitution), as what compares two
        // strings needs; then digits, spaces and non-ASCII.
        for v in [
            "a",
            "",
            "ab",
            "ba",
            "hello",
            "hallo",
            "42",
            "hello world",
            "é",
        ] {
            if !pool.iter().any(|p| p == v) {
                pool.push(v.to_owned());
            }
        }
        nth(&pool, k)
    }

    /// The `k`th collection's elements: two, none, one.
    fn elements(&self, elem: &Type, depth: usize, k: usize) -> Option<Vec<TokenStream>> {
        Some(match k % 3 {
            0 => vec![
                self.build_at(elem, depth, Some(k))?,
                self.build_at(elem, depth, Some(k + 1))?,
            ],
            1 => Vec::new(),
            _ => vec![self.build_at(elem, depth, Some(k))?],
        })
    }

    /// References with a literal form of their own; with `pick`, the `k`th of several.
    fn literal_reference(
        &self,
        reference: &syn::TypeReference,
        pick: Option<usize>,
    ) -> Option<TokenStream> {
        let Some(k) = pick else {
            return literal_reference(reference);
        };
        let mutable = reference.mutability.is_some();
        match &*reference.elem {
            Type::Slice(slice) => {
                let elems = self.elements(&slice.elem, 0, k)?;
                Some(if mutable {
                    quote!(&mut [#(#elems),*])
                } else {
                    quote!(&[#(#elems),*])
                })
            }
            Type::Path(p) if !mutable && p.path.is_ident("str") => {
                let s = self.string(k);
                Some(quote!(#s))
            }
            _ => literal_reference(reference),
        }
    }

    fn build_crate_type(
        &self,
        path: &syn::Path,
        name: &str,
        depth: usize,
        pick: Option<usize>,
    ) -> Option<TokenStream> {
        // A bare name the file defines is the file's own type (the package may have two).
        let own = self
            .own
            .filter(|(_, defs)| path.segments.len() == 1 && defs.contains_key(name));
        let found = match own {
            Some((constructors, _)) => constructors.get(name),
            None => self.constructors.get(name),
        };
        let Some(constructor) = found else {
            return self.build_literal(path, name, depth, pick);
        };
        match constructor {
            Constructor::Default => {
                let default = self.std.path("Default");
                Some(quote!(#default::default()))
            }
            Constructor::New { args, bounds }
                if self.can_name_types
                    && depth < MAX_DEPTH
                    && bounds
                        .iter()
                        .all(|b| met_by_every_candidate(b) || self.std.guess_meets(b)) =>
            {
                let path = expr_path(path)?;
                let args = args
                    .iter()
                    .enumerate()
                    .map(|(i, ty)| {
                        let ty: Type = syn::parse_str(ty).ok()?;
                        self.concrete(&ty)
                            .and_then(|ty| self.build_at(&ty, depth + 1, pick.map(|k| k + i)))
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(quote!(#path::new(#(#args),*)))
            }
            Constructor::New { .. } | Constructor::Ambiguous => None,
        }
    }

    /// A type with no constructor written as a literal, where its definition allows: a struct
    /// whose fields are all `pub` (each field built in turn), or an enum's unit variant (the
    /// `k`th, with a pick).
    fn build_literal(
        &self,
        path: &syn::Path,
        name: &str,
        depth: usize,
        pick: Option<usize>,
    ) -> Option<TokenStream> {
        if !self.can_name_types || depth >= MAX_DEPTH {
            return None;
        }
        let defs = match self.own {
            Some((_, defs)) if path.segments.len() == 1 && defs.contains_key(name) => defs,
            _ => self.type_defs,
        };
        let def: syn::Item = syn::parse_str(defs.get(name)?).ok()?;
        let written = expr_path(path)?;
        match def {
            syn::Item::Enum(def) => {
                let units: Vec<&syn::Ident> = def
                    .variants
                    .iter()
                    .filter(|v| matches!(v.fields, syn::Fields::Unit))
                    .map(|v| &v.ident)
                    .collect();
                let variant = units.get(pick.unwrap_or(0) % units.len().max(1))?;
                Some(quote!(#written::#variant))
            }
            syn::Item::Struct(def) => {
                // The definition's type parameters are the path's arguments.
                let args: Vec<&Type> = match &path.segments.last()?.arguments {
                    PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                if def.generics.type_params().count() != args.len()
                    || def.generics.const_params().next().is_some()
                    || !def
                        .fields
                        .iter()
                        .all(|f| matches!(f.vis, syn::Visibility::Public(_)))
                {
                    return None;
                }
                let mut substitutions = self.substitutions.clone();
                for (param, arg) in def.generics.type_params().zip(args) {
                    substitutions.insert(param.ident.to_string(), arg.clone());
                }
                let fields = Env {
                    substitutions,
                    consts: self.consts.clone(),
                    ..*self
                };
                let value = |i: usize, ty: &Type| {
                    let ty = fields.concrete(ty)?;
                    fields.build_at(&ty, depth + 1, pick.map(|k| k + i))
                };
                // `Fields` iterates named and unnamed fields alike; each value is built once.
                let values = def
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| value(i, &f.ty))
                    .collect::<Option<Vec<_>>>()?;
                let names = def.fields.iter().filter_map(|f| f.ident.as_ref());
                Some(match &def.fields {
                    syn::Fields::Named(_) => quote!(#written { #(#names: #values),* }),
                    syn::Fields::Unnamed(_) => quote!(#written(#(#values),*)),
                    syn::Fields::Unit => quote!(#written),
                })
            }
            _ => None,
        }
    }
}

/// How a scaffold passes one argument.
pub enum Arg {
    /// A value that is a reference already (`""`, `&[]`, `Path::new("")`): passed inline.
    AsIs(TokenStream),
    /// An owned value to bind to a local and lend (`&local` or `&mut local`).
    Lent { owned: TokenStream, mutable: bool },
    /// An owned value to bind to a local and pass.
    Owned(TokenStream),
}

/// References with a literal form of their own.
fn literal_reference(reference: &syn::TypeReference) -> Option<TokenStream> {
    let mutable = reference.mutability.is_some();
    match &*reference.elem {
        Type::Slice(_) if mutable => Some(quote!(&mut [])),
        Type::Slice(_) => Some(quote!(&[])),
        Type::Path(p) if !mutable && p.path.is_ident("str") => Some(quote!("")),
        Type::Path(p) if !mutable && last_ident(&p.path).as_deref() == Some("Path") => {
            Some(quote!(::std::path::Path::new("")))
        }
        Type::Path(p) if !mutable && last_ident(&p.path).as_deref() == Some("OsStr") => {
            Some(quote!(::std::ffi::OsStr::new("")))
        }
        _ => None,
    }
}

/// A type path written as an expression path: turbofish for generic arguments, lifetimes left
/// to inference. `None` for paths relative to a module (`self::`, `super::`), which would
/// resolve differently from inside the test module.
pub fn expr_path(path: &syn::Path) -> Option<TokenStream> {
    let first = path.segments.first()?;
    if first.ident == "self" || first.ident == "super" {
        return None;
    }
    let mut path = path.clone();
    for segment in &mut path.segments {
        if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
            // Top-level lifetimes are left to inference; nested ones (`Reader<'a>` inside)
            // become `'_`, since the test has no `'a` to name.
            args.args = args
                .args
                .iter()
                .filter(|a| !matches!(a, GenericArgument::Lifetime(_)))
                .map(|a| match a {
                    GenericArgument::Type(ty) => GenericArgument::Type(elide_lifetimes(ty)),
                    other => other.clone(),
                })
                .collect();
            if args.args.is_empty() {
                segment.arguments = PathArguments::None;
            } else {
                args.colon2_token = Some(Default::default());
            }
        }
    }
    Some(path.to_token_stream())
}

/// Named lifetimes replaced by `'_`, so the type can annotate a local binding.
pub fn elide_lifetimes(ty: &Type) -> Type {
    struct Elide;
    impl VisitMut for Elide {
        fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
            if lifetime.ident != "static" {
                *lifetime = syn::Lifetime::new("'_", lifetime.span());
            }
        }
    }
    let mut ty = ty.clone();
    Elide.visit_type_mut(&mut ty);
    ty
}

/// The values an integer type holds, as `i128` (`u128::MAX` is clamped; only small values are
/// written as literals).
fn int_range(name: &str) -> (i128, i128) {
    match name {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "u128" | "usize" => (0, i128::MAX),
        _ => (i128::MIN, i128::MAX),
    }
}

fn last_ident(path: &syn::Path) -> Option<String> {
    path.segments.last().map(|s| s.ident.to_string())
}

fn is_literal(tokens: &TokenStream) -> bool {
    let text = tokens.to_string();
    matches!(text.as_str(), "0" | "0.0" | "false" | "'a'")
}

struct Substitute<'a> {
    map: &'a HashMap<String, Type>,
    consts: &'a HashMap<String, syn::Expr>,
    std: &'a StdNames,
    failed: bool,
}

impl VisitMut for Substitute<'_> {
    /// A const parameter used as a generic argument (`ArrayVec<T, CAP>`) parses as a type.
    fn visit_generic_argument_mut(&mut self, arg: &mut GenericArgument) {
        if let GenericArgument::Type(Type::Path(p)) = arg
            && p.qself.is_none()
            && let Some(value) = p
                .path
                .get_ident()
                .and_then(|i| self.consts.get(&i.to_string()))
        {
            *arg = GenericArgument::Const(value.clone());
            return;
        }
        syn::visit_mut::visit_generic_argument_mut(self, arg);
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::Path(p) = expr
            && let Some(value) = p
                .path
                .get_ident()
                .and_then(|i| self.consts.get(&i.to_string()))
        {
            *expr = value.clone();
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_type_mut(&mut self, ty: &mut Type) {
        match ty {
            Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                let ident = p.path.segments[0].ident.to_string();
                if let Some(concrete) = self.map.get(&ident) {
                    *ty = concrete.clone();
                    return;
                }
            }
            Type::ImplTrait(imp) => {
                match choose(imp.bounds.iter(), self.std) {
                    Some(concrete) => *ty = concrete,
                    None => self.failed = true,
                }
                return;
            }
            _ => {}
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// The traits each candidate type implements, by the last segment of the bound as written.
const CANDIDATES: &[(&str, &[&str])] = &[
    (
        "i32",
        &[
            "Copy",
            "Clone",
            "Debug",
            "Display",
            "Default",
            "PartialEq",
            "Eq",
            "PartialOrd",
            "Ord",
            "Hash",
            "Send",
            "Sync",
            "Unpin",
            "ToString",
            "Sized",
            "FromStr",
            "Into<i64>",
            "Into<f64>",
            "Into<i128>",
        ],
    ),
    (
        "&'static str",
        &[
            "Copy",
            "Clone",
            "Debug",
            "Display",
            "Default",
            "PartialEq",
            "Eq",
            "PartialOrd",
            "Ord",
            "Hash",
            "Send",
            "Sync",
            "Unpin",
            "ToString",
            "Sized",
            "AsRef<str>",
            "AsRef<[u8]>",
            "AsRef<Path>",
            "AsRef<OsStr>",
            "Into<String>",
            "Into<PathBuf>",
            "Into<Box<str>>",
            "Into<Vec<u8>>",
        ],
    ),
    (
        "String",
        &[
            "Clone",
            "Debug",
            "Display",
            "Default",
            "PartialEq",
            "Eq",
            "PartialOrd",
            "Ord",
            "Hash",
            "Send",
            "Sync",
            "Unpin",
            "ToString",
            "Sized",
            "FromStr",
            "AsRef<str>",
            "AsRef<[u8]>",
            "AsRef<Path>",
            "AsRef<OsStr>",
            "Into<String>",
            "Into<PathBuf>",
            "Into<Box<str>>",
            "Into<Vec<u8>>",
            "Borrow<str>",
        ],
    ),
    // What takes words: `I: IntoIterator<Item = &'a str>`.
    (
        "Vec<&'static str>",
        &[
            "Clone",
            "Debug",
            "Default",
            "PartialEq",
            "Eq",
            "Hash",
            "Send",
            "Sync",
            "Unpin",
            "Sized",
            "IntoIterator",
            "IntoIterator<Item=&str>",
        ],
    ),
];

/// A concrete type meeting all `bounds`, or `None` when no candidate is known to. `String` is
/// written in full where the file hides std's.
pub fn choose<'b>(
    bounds: impl Iterator<Item = &'b TypeParamBound> + Clone,
    std: &StdNames,
) -> Option<Type> {
    let known = CANDIDATES.iter().find_map(|(ty, traits)| {
        let fits = bounds
            .clone()
            .filter_map(|b| bound_text(&without_lifetimes(b)))
            .all(|bound| traits.contains(&bound.as_str()));
        fits.then(|| {
            if *ty == "String" {
                syn::parse2(std.path("String")).expect("std paths parse")
            } else {
                syn::parse_str(ty).expect("candidate types parse")
            }
        })
    });
    known.or_else(|| {
        let texts: Vec<String> = bounds
            .filter_map(|b| bound_text(&without_lifetimes(b)))
            .collect();
        std.guessed(&texts)
    })
}

/// A bound with the lifetimes of its references left out (`IntoIterator<Item = &'a str>` →
/// `IntoIterator<Item = &str>`): a candidate meets it whatever the lifetime is named.
fn without_lifetimes(bound: &TypeParamBound) -> TypeParamBound {
    struct Strip;
    impl VisitMut for Strip {
        fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
            reference.lifetime = None;
            syn::visit_mut::visit_type_reference_mut(self, reference);
        }
    }
    let mut bound = bound.clone();
    Strip.visit_type_param_bound_mut(&mut bound);
    bound
}

/// Whether whichever candidate a test picks meets `bound`.
fn met_by_every_candidate(bound: &str) -> bool {
    // The scalars: a collection is picked only for bounds no scalar meets.
    CANDIDATES
        .iter()
        .filter(|(ty, _)| !ty.starts_with("Vec"))
        .all(|(_, traits)| traits.contains(&bound))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(ty: &str) -> Option<String> {
        let constructors = BTreeMap::from([
            ("Config".to_owned(), Constructor::Default),
            (
                "Client".to_owned(),
                Constructor::New {
                    args: vec!["&str".to_owned()],
                    bounds: vec!["Clone".to_owned()],
                },
            ),
        ]);
        build_under(ty, &constructors, &Rules::default())
    }

    fn build_under(
        ty: &str,
        constructors: &BTreeMap<String, Constructor>,
        rules: &Rules,
    ) -> Option<String> {
        let std = StdNames::new(rules, &BTreeMap::new());
        let env = Env {
            constructors,
            substitutions: HashMap::from([("T".to_owned(), syn::parse_str("i32").unwrap())]),
            consts: HashMap::from([("N".to_owned(), syn::parse_str("1").unwrap())]),
            can_name_types: true,
            std: &std,
            pick: None,
            literals: &NO_LITERALS,
            type_defs: &BTreeMap::new(),
            own: None,
        };
        let ty = env.concrete(&syn::parse_str(ty).unwrap())?;
        env.build(&ty).map(|t| t.to_string())
    }

    #[test]
    fn picks_walk_pools_that_start_with_the_items_literals_and_types_without_constructors_are_literals()
     {
        let std = StdNames::new(&Rules::default(), &BTreeMap::new());
        let literals = Literals::of("pub fn f(s: &str) -> u8 { if s == \"k\" { 7 } else { 0 } }");
        assert_eq!(literals.strs, ["k"]);
        assert_eq!(literals.ints, [7, 0]);
        let type_defs = BTreeMap::from([
            ("Wrap".to_owned(), "pub struct Wrap<T>(pub T);".to_owned()),
            (
                "Shade".to_owned(),
                "enum Shade { Dark, Light, Mixed(u8) }".to_owned(),
            ),
            (
                "Closed".to_owned(),
                "pub struct Closed { secret: u8 }".to_owned(),
            ),
        ]);
        let constructors = BTreeMap::new();
        let at = |k: usize, ty: &str| {
            let env = Env {
                constructors: &constructors,
                substitutions: HashMap::new(),
                consts: HashMap::new(),
                can_name_types: true,
                std: &std,
                pick: Some(k),
                literals: &literals,
                type_defs: &type_defs,
                own: None,
            };
            env.build(&syn::parse_str(ty).unwrap())
                .map(|t| t.to_string())
        };
        // The item's own values first, then boundaries; a small type's bounds, a wide one's 1000.
        let u8s: Vec<String> = (0..9).filter_map(|k| at(k, "u8")).collect();
        assert_eq!(u8s[..4], ["7", "0", "1", "2"]);
        assert!(u8s.contains(&"u8 :: MAX".to_owned()), "{u8s:?}");
        assert!((0..12).filter_map(|k| at(k, "u64")).any(|v| v == "1000"));
        assert!(
            !(0..12)
                .filter_map(|k| at(k, "u64"))
                .any(|v| v.contains("MAX"))
        );
        assert_eq!(at(0, "&str").as_deref(), Some("\"k\""));
        assert_eq!(at(1, "Option<u8>").as_deref(), Some("None"));
        assert_eq!(at(1, "Vec<u8>").as_deref(), Some("Vec :: new ()"));
        assert_eq!(at(2, "&[u8]").as_deref(), Some("& [1]"));
        // No constructor: a literal, where every field is `pub`.
        assert_eq!(at(0, "Wrap<u8>").as_deref(), Some("Wrap :: < u8 > (7)"));
        assert_eq!(at(1, "Shade").as_deref(), Some("Shade :: Light"));
        assert_eq!(at(0, "Closed"), None);
    }

    #[test]
    fn a_generic_parameter_gets_the_first_candidate_meeting_its_bounds_whatever_its_lifetimes() {
        let std = StdNames::new(&Rules::default(), &BTreeMap::new());
        let chosen = |generics: &str| {
            let generics: syn::Generics = syn::parse_str(generics).unwrap();
            let param = generics.type_params().next().unwrap();
            choose(param.bounds.iter(), &std).map(|t| t.to_token_stream().to_string())
        };
        assert_eq!(chosen("<T: Display + Copy>").as_deref(), Some("i32"));
        assert_eq!(chosen("<T: AsRef<str>>").as_deref(), Some("& 'static str"));
        assert_eq!(
            chosen("<'a, I: IntoIterator<Item = &'a str>>").as_deref(),
            Some("Vec < & 'static str >")
        );
        assert_eq!(chosen("<I: IntoIterator<Item = u8>>"), None);
    }

    #[test]
    fn hidden_std_names_are_written_in_full_and_bare_ones_are_the_files() {
        let constructors = BTreeMap::from([("String".to_owned(), Constructor::Default)]);
        let rules = Rules {
            shadowed: ["String".to_owned(), "Default".to_owned()].into(),
            edition: 2015,
            ..Rules::default()
        };
        let build = |ty: &str| build_under(ty, &constructors, &rules);
        // The file's own `String`, built as the file's type.
        assert_eq!(
            build("String").as_deref(),
            Some(":: std :: default :: Default :: default ()")
        );
        assert_eq!(
            build("std::string::String").as_deref(),
            Some(":: std :: string :: String :: new ()")
        );
        assert_eq!(
            build("[std::string::String; 2]").as_deref(),
            Some(":: std :: array :: from_fn (| _ | :: std :: string :: String :: new ())")
        );
        assert_eq!(build("Vec<u8>").as_deref(), Some("Vec :: new ()"));
    }

    #[test]
    fn values_for_common_types() {
        assert_eq!(build("u64").as_deref(), Some("0"));
        assert_eq!(build("&str").as_deref(), Some("\"\""));
        assert_eq!(build("&mut [u8]").as_deref(), Some("& mut []"));
        assert_eq!(build("(bool, char)").as_deref(), Some("(false , 'a')"));
        assert_eq!(build("[u8; 4]").as_deref(), Some("[0 ; 4]"));
        assert_eq!(
            build("[String; N]").as_deref(),
            Some(":: core :: array :: from_fn (| _ | String :: new ())")
        );
        assert_eq!(build("Option<Url>").as_deref(), Some("None"));
        assert_eq!(build("Vec<T>").as_deref(), Some("Vec :: new ()"));
        assert_eq!(build("&Config").as_deref(), Some("& Default :: default ()"));
        assert_eq!(build("Client<'a>").as_deref(), Some("Client :: new (\"\")"));
        assert_eq!(build("impl AsRef<str>").as_deref(), Some("\"\""));
        assert_eq!(build("Url"), None);
        assert_eq!(
            build("*mut u8").as_deref(),
            Some(":: core :: ptr :: null_mut ()")
        );
        assert_eq!(build("Option<ArrayVec<T, N>>").as_deref(), Some("None"));
        assert_eq!(build("&dyn Fn()"), None);
        assert_eq!(build("impl Fn(u8)"), None);
    }
}
