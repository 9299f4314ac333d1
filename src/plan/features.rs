//! Which cargo features the scratch builds enable. A file behind
//! `#[cfg(feature = "extra")] mod extra;`, or an item behind its own `#[cfg(…)]`, is checked in
//! a build with the fewest features added to the defaults that compile it, as the user's
//! `cargo test --features extra` would; files that need nothing added are checked with the
//! defaults alone, as the user's plain `cargo test` builds them. What no build of this machine
//! compiles (`windows` here, `not(feature = "std")` under a default `std`) gets no test, and a
//! warning names it.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::{Cfg, Facts, PublicFn, item_cfgs};
use crate::error::Warning;
use crate::scan::SourceFile;
use crate::workspace::{self, HostCfg, Workspace};

use super::FileRequest;

/// The features a package's condition may choose among, at most: 2^12 sets tried.
const MOST_CHOSEN: usize = 12;

/// Tests checked in one build, and the features it adds to the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureBuild {
    /// The package whose features are added; `None` for the defaults' build, which checks
    /// items of every package.
    pub package: Option<String>,
    /// Added to the package's defaults; empty for the defaults alone.
    pub features: BTreeSet<String>,
    /// Per file it checks: its index among the requests kept, and its items (by name) whose
    /// tests this build checks.
    pub files: Vec<(usize, BTreeSet<String>)>,
    /// The builds merged into this one, by the features each needs: built one by one should
    /// this one not build.
    pub parts: Vec<FeatureBuild>,
}

/// What the choice leaves.
pub struct Checkable<'a, 's> {
    pub requests: Vec<FileRequest<'a>>,
    pub sources: Vec<&'s SourceFile>,
    /// The builds, the defaults' first: every kept item in exactly one.
    pub builds: Vec<FeatureBuild>,
    pub warnings: Vec<Warning>,
}

impl<'a, 's> Checkable<'a, 's> {
    /// Every request kept, checked with the defaults alone (`--no-verify` builds nothing).
    pub fn unchanged(requests: Vec<FileRequest<'a>>, sources: Vec<&'s SourceFile>) -> Self {
        let builds = vec![FeatureBuild {
            package: None,
            features: BTreeSet::new(),
            files: requests
                .iter()
                .enumerate()
                .map(|(i, r)| (i, r.items.iter().map(|i| i.name.clone()).collect()))
                .collect(),
            parts: Vec::new(),
        }];
        Checkable {
            requests,
            sources,
            builds,
            warnings: Vec::new(),
        }
    }
}

impl Facts for HostCfg {
    fn name(&self, name: &str) -> bool {
        self.names.contains(name)
    }
    fn pair(&self, key: &str, value: &str) -> bool {
        self.pairs.contains(&(key.to_owned(), value.to_owned()))
    }
}

/// Choose each file's features, drop the items (and files) no build compiles, and group the
/// files by the build that checks them.
pub fn choose<'a, 's>(
    requests: Vec<FileRequest<'a>>,
    sources: Vec<&'s SourceFile>,
    workspace: &Workspace,
) -> Checkable<'a, 's> {
    let conditions: Vec<(Vec<Cfg>, ItemCfgs<'_>)> = requests
        .iter()
        .zip(&sources)
        .map(|(request, file)| {
            let target = &workspace.packages[file.package].targets[file.target];
            // A target with `required-features` is built only with them on, as a module
            // behind them is.
            let required = target.required_features.iter().cloned().map(Cfg::Feature);
            let file_cfgs: Vec<Cfg> = file
                .mod_cfgs
                .iter()
                .map(|c| Cfg::parse(c))
                .chain(required)
                .collect();
            let items = request
                .items
                .iter()
                .map(|i| (i.name.as_str(), item_cfgs(i)))
                .collect();
            (file_cfgs, items)
        })
        .collect();
    // Asked once, and only of a crate whose cfgs ask about the machine.
    let asks = conditions
        .iter()
        .flat_map(|(file, items)| file.iter().chain(items.iter().flat_map(|(_, c)| c)))
        .any(Cfg::asks_machine);
    let host = if asks {
        workspace::host_cfg(&workspace.root)
    } else {
        HostCfg {
            names: BTreeSet::from(["test".to_owned()]),
            ..HostCfg::default()
        }
    };
    let mut kept = Checkable {
        requests: Vec::new(),
        sources: Vec::new(),
        builds: Vec::new(),
        warnings: Vec::new(),
    };
    // The items of each kept file, grouped by the features they add.
    let mut units: Vec<Unit> = Vec::new();
    for ((mut request, file), (file_cfgs, item_cfgs)) in
        requests.into_iter().zip(sources).zip(conditions)
    {
        let table = &workspace.packages[file.package].features;
        let needs = choose_items(table, &host, &file_cfgs, &item_cfgs);
        let warnings = uncheckable(file, &request.items, &file_cfgs, &item_cfgs, &needs);
        kept.warnings.extend(warnings);
        let Some(needs) = needs else {
            continue;
        };
        let index = kept.requests.len();
        let mut by_added: BTreeMap<&BTreeSet<String>, Unit> = BTreeMap::new();
        for ((item, (_, cfgs)), added) in request.items.iter().zip(&item_cfgs).zip(&needs) {
            let Some(added) = added else {
                continue;
            };
            let unit = by_added.entry(added).or_insert_with(|| Unit {
                request: index,
                package: file.package,
                added: added.clone(),
                items: BTreeSet::new(),
                conditions: file_cfgs.clone(),
            });
            unit.items.insert(item.name.clone());
            unit.conditions.extend(cfgs.iter().cloned());
        }
        let mut keep = needs.iter().map(Option::is_some);
        request.items.retain(|_| keep.next().unwrap_or(false));
        let mut keep = needs.iter().map(Option::is_some);
        request.test_names.retain(|_| keep.next().unwrap_or(false));
        if request.items.is_empty() {
            continue;
        }
        units.extend(by_added.into_values());
        kept.requests.push(request);
        kept.sources.push(file);
    }
    kept.builds = group(&units, workspace, &host);
    kept
}

/// Each item's name and cfgs, in order.
type ItemCfgs<'a> = Vec<(&'a str, Vec<Cfg>)>;

/// A build being put together: the package whose features it adds (none for the defaults'
/// build), the features, and the units it checks.
#[derive(Default)]
struct Forming {
    package: Option<usize>,
    added: BTreeSet<String>,
    units: Vec<usize>,
}

/// Items of one file that need the same features added.
struct Unit {
    /// Index among the requests kept.
    request: usize,
    package: usize,
    added: BTreeSet<String>,
    /// By name.
    items: BTreeSet<String>,
    /// The file's cfgs and the items': all must hold in the build that checks them.
    conditions: Vec<Cfg>,
}

/// The builds: the items that need nothing added first, as the user's plain `cargo test`
/// builds them; then, per package (a build's features are one package's, so cargo reads them
/// alike under either resolver), as few builds as hold its other items, a unit joining a build
/// whose features, with its own added, still compile every unit in it. A merged build keeps
/// its parts, built one by one should it fail (one feature may need a nightly compiler or a
/// dependency not downloaded).
fn group(units: &[Unit], workspace: &Workspace, host: &HostCfg) -> Vec<FeatureBuild> {
    let mut builds: Vec<Forming> = Vec::new();
    if units.iter().any(|u| u.added.is_empty()) {
        builds.push(Forming::default());
    }
    for (index, unit) in units.iter().enumerate() {
        if unit.added.is_empty() {
            builds[0].units.push(index);
            continue;
        }
        let table = &workspace.packages[unit.package].features;
        let fits = |build: &Forming| {
            if build.package != Some(unit.package) {
                return false;
            }
            let merged = build.added.iter().chain(&unit.added);
            let on = enabled(table, defaults(table).iter().chain(merged));
            let mut all = build.units.iter().chain([&index]);
            all.all(|&u| units[u].conditions.iter().all(|c| c.holds(&on, host)))
        };
        match builds.iter().position(fits) {
            Some(n) => {
                let build = &mut builds[n];
                build.added.extend(unit.added.iter().cloned());
                build.units.push(index);
            }
            None => builds.push(Forming {
                package: Some(unit.package),
                added: unit.added.clone(),
                units: vec![index],
            }),
        }
    }
    let made = |package: Option<usize>, added: BTreeSet<String>, members: &[usize]| {
        let mut files: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        for &u in members {
            let items = files.entry(units[u].request).or_default();
            items.extend(units[u].items.iter().cloned());
        }
        FeatureBuild {
            package: package.map(|p| workspace.packages[p].name.clone()),
            features: added,
            files: files.into_iter().collect(),
            parts: Vec::new(),
        }
    };
    builds
        .into_iter()
        .map(|forming| {
            let mut build = made(forming.package, forming.added, &forming.units);
            // Units with the same features added are one part.
            let mut parts: BTreeMap<&BTreeSet<String>, Vec<usize>> = BTreeMap::new();
            for &u in &forming.units {
                parts.entry(&units[u].added).or_default().push(u);
            }
            if forming.package.is_some() && parts.len() > 1 {
                build.parts = parts
                    .into_iter()
                    .map(|(added, members)| made(forming.package, added.clone(), &members))
                    .collect();
            }
            build
        })
        .collect()
}

/// Per item, in order: the fewest features added to the defaults that compile it with its
/// file, or `None` where none do; `None` for the whole file when no build compiles the file
/// itself. Items of one name (a fn and its `cfg` alternative) share a test name, so a build:
/// the one of them that needs fewest features added (the defaults' where one compiles there),
/// where it compiles the others.
fn choose_items(
    table: &BTreeMap<String, Vec<String>>,
    host: &HostCfg,
    file_cfgs: &[Cfg],
    items: &[(&str, Vec<Cfg>)],
) -> Option<Vec<Option<BTreeSet<String>>>> {
    let defaults = defaults(table);
    fewest(table, host, &defaults, file_cfgs.iter())?;
    let alone: Vec<Option<BTreeSet<String>>> = items
        .iter()
        .map(|(_, cfgs)| fewest(table, host, &defaults, file_cfgs.iter().chain(cfgs)))
        .collect();
    let needs = items
        .iter()
        .map(|(name, cfgs)| {
            let namesakes = (0..items.len()).filter(|&j| items[j].0 == *name);
            let added = namesakes
                .filter_map(|j| alone[j].as_ref())
                .min_by_key(|added| added.len())?;
            let on = enabled(table, defaults.iter().chain(added));
            let all = file_cfgs.iter().chain(cfgs);
            all.clone()
                .all(|c| c.holds(&on, host))
                .then(|| added.clone())
        })
        .collect();
    Some(needs)
}

/// The fewest features, among those the conditions name, that make them all hold when added
/// to `on`.
fn fewest<'c>(
    table: &BTreeMap<String, Vec<String>>,
    host: &HostCfg,
    on: &BTreeSet<String>,
    conditions: impl Iterator<Item = &'c Cfg> + Clone,
) -> Option<BTreeSet<String>> {
    let mut named = BTreeSet::new();
    for c in conditions.clone() {
        c.features(&mut named);
    }
    let named: Vec<&String> = named
        .iter()
        .filter(|f| table.contains_key(*f) && !on.contains(*f))
        .take(MOST_CHOSEN)
        .collect();
    let mut sets: Vec<u32> = (0..1u32 << named.len()).collect();
    sets.sort_by_key(|s| s.count_ones());
    sets.into_iter().find_map(|set| {
        let added: BTreeSet<String> = (0..named.len())
            .filter(|i| set & (1 << i) != 0)
            .map(|i| named[i].clone())
            .collect();
        let all = enabled(table, on.iter().chain(&added));
        conditions
            .clone()
            .all(|c| c.holds(&all, host))
            .then_some(added)
    })
}

/// The features on when `chosen` are asked for: each with what it enables, all the way down.
/// `x/feature` turns on the implicit feature of an optional dependency `x`; `x?/feature` and
/// `dep:x` turn on none. Entries are read alike wherever they are (the `default` list too).
fn enabled<'f>(
    table: &'f BTreeMap<String, Vec<String>>,
    chosen: impl Iterator<Item = &'f String>,
) -> BTreeSet<String> {
    let feature = |entry: &'f str| -> Option<&'f str> {
        if entry.starts_with("dep:") || entry.contains("?/") {
            return None;
        }
        let name = entry.split_once('/').map_or(entry, |(dep, _)| dep);
        table.contains_key(name).then_some(name)
    };
    let mut on = BTreeSet::new();
    let mut todo: Vec<&str> = chosen.filter_map(|c| feature(c)).collect();
    while let Some(name) = todo.pop() {
        if !on.insert(name.to_owned()) {
            continue;
        }
        todo.extend(
            table
                .get(name)
                .into_iter()
                .flatten()
                .filter_map(|e| feature(e)),
        );
    }
    on
}

/// The features the defaults turn on: `default` and what it enables.
fn defaults(table: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    let default = "default".to_owned();
    enabled(table, std::iter::once(&default))
}

/// The warnings for what is left untested: the file, or its items by condition.
fn uncheckable(
    file: &SourceFile,
    items: &[&PublicFn],
    file_cfgs: &[Cfg],
    item_cfgs: &[(&str, Vec<Cfg>)],
    needs: &Option<Vec<Option<BTreeSet<String>>>>,
) -> Vec<Warning> {
    let both = |item: &[Cfg]| -> String {
        let all: Vec<Cfg> = file_cfgs.iter().chain(item).cloned().collect();
        match all.len() {
            0 => "no cfg".to_owned(),
            1 => all[0].to_string(),
            _ => Cfg::All(all).to_string(),
        }
    };
    let Some(needs) = needs else {
        return vec![Warning::UncheckableFile {
            file: file.display.clone(),
            cfg: both(&[]),
        }];
    };
    let mut by_cfg: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut warnings = Vec::new();
    for (i, item) in items
        .iter()
        .enumerate()
        .filter(|(i, _)| needs[*i].is_none())
    {
        let cfg = both(&item_cfgs[i].1);
        let namesake = (0..items.len()).find(|&j| items[j].name == item.name && needs[j].is_some());
        match namesake {
            Some(j) => warnings.push(Warning::Alternative {
                file: file.display.clone(),
                item: item.name.clone(),
                cfg,
                checked: both(&item_cfgs[j].1),
            }),
            None => by_cfg
                .entry(cfg)
                .or_default()
                .push(format!("`{}`", item.name)),
        }
    }
    warnings.extend(
        by_cfg
            .into_iter()
            .map(|(cfg, names)| Warning::UncheckableItems {
                file: file.display.clone(),
                items: names.join(", "),
                cfg,
            }),
    );
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    fn linux() -> HostCfg {
        HostCfg {
            names: ["unix", "test"].map(str::to_owned).into(),
            pairs: [("target_os".to_owned(), "linux".to_owned())].into(),
        }
    }

    fn cfgs(texts: &[&str]) -> Vec<Cfg> {
        texts.iter().map(|t| Cfg::parse(t)).collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn each_item_gets_the_fewest_features_that_compile_it_with_its_file() {
        let table = table(&[
            ("default", &["std"]),
            ("std", &[]),
            ("extra", &[]),
            ("more", &["extra", "serde/derive"]),
            ("serde", &["dep:serde"]),
            ("fast", &[]),
        ]);
        type Case<'c> = (
            &'c [&'c str],
            &'c [(&'c str, &'c [&'c str])],
            Option<Vec<Option<&'c [&'c str]>>>,
        );
        let cases: [Case<'_>; 7] = [
            // Nothing asked: the defaults alone.
            (&[], &[("a", &[])], Some(vec![Some(&[])])),
            (&["feature = \"std\""], &[("a", &[])], Some(vec![Some(&[])])),
            (
                &["feature = \"extra\""],
                &[("a", &[]), ("b", &[])],
                Some(vec![Some(&["extra"]), Some(&["extra"])]),
            ),
            // `more` turns on `extra` and the optional `serde`: one is enough.
            (
                &["all(feature = \"more\", feature = \"extra\")"],
                &[("a", &[])],
                Some(vec![Some(&["more"])]),
            ),
            // Each item on its own; one the defaults rule out is left.
            (
                &[],
                &[
                    ("a", &["feature = \"fast\""]),
                    ("b", &["not(feature = \"std\")"]),
                    ("c", &[]),
                ],
                Some(vec![Some(&["fast"]), None, Some(&[])]),
            ),
            // A fn and its alternative share a name, so a build: the defaults', whichever
            // comes first.
            (
                &[],
                &[
                    ("run", &["all(unix, feature = \"fast\")"]),
                    ("run", &["not(feature = \"fast\")"]),
                    ("other", &["all(unix, feature = \"fast\")"]),
                ],
                Some(vec![None, Some(&[]), Some(&["fast"])]),
            ),
            (&["windows"], &[("a", &[])], None),
        ];
        for (file, items, expected) in cases {
            let items: Vec<(&str, Vec<Cfg>)> =
                items.iter().map(|(name, c)| (*name, cfgs(c))).collect();
            let needs = choose_items(&table, &linux(), &cfgs(file), &items);
            let expected: Option<Vec<Option<BTreeSet<String>>>> =
                expected.map(|needs| needs.into_iter().map(|n| n.map(set)).collect());
            assert_eq!(needs, expected, "{file:?} {items:?}");
        }
    }

    #[test]
    fn what_a_feature_turns_on_is_followed_to_the_end() {
        let table = table(&[
            ("a", &["b", "dep:x"]),
            ("b", &["c", "y/std", "z?/std"]),
            ("c", &[]),
            ("y", &["dep:y"]),
            ("z", &["dep:z"]),
        ]);
        let on = enabled(&table, [&"a".to_owned()].into_iter());
        assert_eq!(on, set(&["a", "b", "c", "y"]));
        // The `default` list is read as any other: `y/std` there turns on `y`.
        let mut with_default = table.clone();
        with_default.insert(
            "default".to_owned(),
            vec!["z?/std".to_owned(), "y/std".to_owned()],
        );
        assert_eq!(defaults(&with_default), set(&["default", "y"]));
    }
}
