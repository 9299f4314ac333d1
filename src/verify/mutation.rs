//! The mutation stage: the kept tests of each item run against the item's mutants, all built
//! at once (mutant schemata: every mutated fn switches on the number `TESTSMITH_MUTANT` gives
//! the process), so N mutants cost one build where cargo-mutants makes N. A mutant that does
//! not compile is found from the compiler's spans and dropped, and the build is made once
//! more; nothing of this leaves the scratch copy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use quote::ToTokens;
use syn::visit::Visit;

use super::run::{self, TestBinary, TestOutcome};
use super::{FileUnderTest, Tracked, Verifier, build, plural, scratch, spawn_error};
use crate::error::{Error, VerifyError};
use crate::generate::{Candidate, Failure, FailureKind, Repairer};
use crate::mutate::{self, Mutant};
use crate::splice;
use crate::workspace::TargetKind;

/// What the kept tests of one item make of its mutants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemMutants {
    /// The item's wire name.
    pub item: String,
    /// Its mutants that built and ran.
    pub total: usize,
    pub caught: usize,
    /// The mutants no test caught, in source order.
    pub survivors: Vec<Mutant>,
    /// Why it has no mutants, when it has none: a `const fn`, `unsafe` code, mutants that did
    /// not build.
    pub note: Option<String>,
}

/// The mutation stage's figures, for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MutationSummary {
    pub caught: usize,
    pub total: usize,
    /// Mutants dropped because they did not compile.
    pub unbuildable: usize,
    pub builds: usize,
    pub time: Duration,
    /// Each mutant ran in a process of its own: the crate keeps state a process shares.
    pub isolated: bool,
}

impl MutationSummary {
    pub fn add(&mut self, items: &[ItemMutants]) {
        for item in items {
            self.caught += item.caught;
            self.total += item.total;
        }
    }
}

/// One file's mutants, numbered from 1 by their place in `mutants`.
struct Schema {
    /// Index into the files under test.
    file: usize,
    /// The file with its kept tests, as the mutants are made from and will be written.
    text: String,
    mutants: Vec<Mutant>,
    /// The same mutants at their places in `text` (where the wrappers moved code down).
    placed: Vec<Mutant>,
    /// The numbers still in the build (not dropped for a compile error, not left out).
    live: BTreeSet<u64>,
    /// The wrapper tests in `text`: each runs one kept test (by its name) against one mutant.
    wrappers: Vec<Wrapper>,
    /// Per item: why it has no mutants.
    skipped: BTreeMap<String, String>,
}

/// A wrapper test: its name, its mutant's number, the name of the test it runs.
struct Wrapper {
    name: String,
    number: u64,
    test: String,
}

/// Per file under test (by index), its items' figures.
pub(super) type Figures = BTreeMap<usize, Vec<ItemMutants>>;

/// A mutant as the stage tracks it: its schema and its number there.
type MutantKey = (usize, u64);

/// What a wrapper runs: its mutant, and the test (by name).
type Wrapped = (MutantKey, String);

/// Per mutant that ran, the tests (by name, in its schema's file) that caught it.
pub(super) type Kills = BTreeMap<MutantKey, BTreeSet<String>>;

/// The lines (1-based, first and last) of each mutant's arm in a schemata text.
#[derive(Default)]
struct Arms(Vec<(u64, usize, usize)>);

impl<'ast> Visit<'ast> for Arms {
    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        let switch = m.expr.to_token_stream().to_string().replace(' ', "");
        if switch == "crate::__testsmith_mutant()" {
            for arm in &m.arms {
                if let syn::Pat::Lit(syn::PatLit {
                    lit: syn::Lit::Int(number),
                    ..
                }) = &arm.pat
                    && let Ok(n) = number.base10_parse::<u64>()
                {
                    let first = number.span().start().line;
                    let last = arm
                        .body
                        .to_token_stream()
                        .into_iter()
                        .last()
                        .map_or(first, |t| t.span().end().line);
                    self.0.push((n, first, last.max(first)));
                }
            }
        }
        syn::visit::visit_expr_match(self, m);
    }
}

impl Verifier<'_> {
    /// Run the `kept` tests of each item against the item's mutants: one build for all, then
    /// a few processes running wrapper tests. Per file under test, its items' figures.
    pub(super) fn mutation(
        &mut self,
        files: &[FileUnderTest<'_>],
        kept: &[Tracked],
        summary: &mut MutationSummary,
    ) -> Result<(Figures, Catches), Error> {
        let started = Instant::now();
        let mut schemas = self.schemas(files, kept, &[]);
        let caught = if schemas.iter().all(|s| s.live.is_empty()) {
            Ok(BTreeMap::new())
        } else {
            match self.build_mutants(&mut schemas, summary)? {
                Ok(()) => Ok(self.run_mutants(&schemas, None)?),
                Err(why) => Err(why),
            }
        };
        summary.time += started.elapsed();
        // The totals are the caller's to add up, once the items' tests are final.
        Ok(match caught {
            Ok(caught) => (figures(&schemas, &caught, None), catches(&schemas, &caught)),
            Err(why) => (
                figures(&schemas, &BTreeMap::new(), Some(&why)),
                Catches::new(),
            ),
        })
    }

    /// Build the schemata and take their test binaries; why not, when no mutant explains a
    /// failed build.
    fn build_mutants(
        &mut self,
        schemas: &mut [Schema],
        summary: &mut MutationSummary,
    ) -> Result<Result<(), String>, Error> {
        self.progress.phase(&format!(
            "building {} with cargo",
            plural(
                schemas.iter().map(|s| s.live.len()).sum(),
                "mutant",
                "mutants"
            )
        ));
        let built = self.build_schemas(schemas, summary)?;
        // The binaries are the mutated ones now: a later round builds again.
        self.built.clear();
        Ok(built.map(|binaries| self.binaries = binaries))
    }

    /// Each file with kept tests: its text with them spliced in, and its items' mutants.
    /// With `others`: tests spliced in too, with no wrappers (so the build can also run
    /// them with the crate's others).
    fn schemas(
        &self,
        files: &[FileUnderTest<'_>],
        kept: &[Tracked],
        others: &[Tracked],
    ) -> Vec<Schema> {
        let mut by_file: BTreeMap<usize, Vec<&Tracked>> = BTreeMap::new();
        for test in kept {
            by_file.entry(test.file).or_default().push(test);
        }
        // A file with only `others` is written with them too, and has no mutants.
        for test in others {
            by_file.entry(test.file).or_default();
        }
        let mut schemas = Vec::new();
        for (file, tests) in by_file {
            let source = files[file].file;
            let candidates: Vec<&Candidate> = others
                .iter()
                .filter(|t| t.file == file)
                .chain(tests.iter().copied())
                .map(|t| &t.candidate)
                .collect();
            let written = written_text(files, file, kept);
            let tested: BTreeSet<&str> = tests.iter().map(|t| t.candidate.item.as_str()).collect();
            let display = self.files[file].rel.to_string_lossy().replace('\\', "/");
            // With the tests in a new module at the end, the items stand where the scan found
            // them; a module of tests in mid-file moves those below it: find them again.
            let (mutants, skipped) = match source.analysis.existing {
                None => {
                    let items: Vec<&crate::analysis::PublicFn> = files[file]
                        .request
                        .items
                        .iter()
                        .copied()
                        .filter(|item| tested.contains(item.name.as_str()))
                        .collect();
                    mutate::mutants(&written, &display, &items).unwrap_or_default()
                }
                Some(_) => mutants_in(&written, &display, &tested),
            };
            // Per mutant, a wrapper of each of its item's tests, spliced after them.
            let mut wrappers: Vec<Wrapper> = Vec::new();
            let mut wrapper_fns: Vec<Candidate> = Vec::new();
            for (index, mutant) in mutants.iter().enumerate() {
                let number = index as u64 + 1;
                // A scaffold is `#[ignore]`d: called by a wrapper, its `todo!()` would catch all.
                let of_item = tests
                    .iter()
                    .filter(|t| t.candidate.item == mutant.item && !t.candidate.is_scaffold());
                for test in of_item {
                    let Some(text) = mutate::wrapper(&test.candidate.text, number) else {
                        continue;
                    };
                    let name = mutate::wrapper_name(&test.candidate.name, number);
                    wrappers.push(Wrapper {
                        name: name.clone(),
                        number,
                        test: test.candidate.name.clone(),
                    });
                    wrapper_fns.push(Candidate {
                        item: mutant.item.clone(),
                        name,
                        text: format!("{text}\n"),
                        uses_super: false,
                        gated: test.candidate.gated,
                    });
                }
            }
            let all: Vec<&Candidate> = candidates.iter().copied().chain(&wrapper_fns).collect();
            let text = spliced(source, &all);
            // The same mutants where the text with the wrappers has them: only items after a
            // module of tests in mid-file move down (a new module goes at the end).
            let placed = source
                .analysis
                .existing
                .as_ref()
                .map(|_| mutants_in(&text, &display, &tested).0)
                .filter(|placed| {
                    placed.len() == mutants.len()
                        && placed.iter().zip(&mutants).all(|(p, m)| p.id == m.id)
                });
            schemas.push(Schema {
                file,
                text,
                live: (1..=mutants.len() as u64).collect(),
                placed: placed.unwrap_or_else(|| mutants.clone()),
                mutants,
                wrappers,
                skipped: skipped
                    .into_iter()
                    .map(|s| (s.item, s.why.to_owned()))
                    .collect(),
            });
        }
        schemas
    }

    /// Write the schemata of every file and the switch into each crate root, and build: a
    /// second time without the mutants the errors point at, and a third only when the second
    /// found mutants the first did not (rustc checks borrows only once the types check). The
    /// test binaries, or why the mutants could not be built.
    fn build_schemas(
        &mut self,
        schemas: &mut [Schema],
        summary: &mut MutationSummary,
    ) -> Result<Result<BTreeMap<PathBuf, PathBuf>, String>, Error> {
        const BUILDS: usize = 3;
        for attempt in 0..BUILDS {
            let arms = self.write_schemas(schemas)?;
            let started = Instant::now();
            let request = &self.request;
            let result = self
                .runtime
                .block_on(async { build::build(request).await.map_err(Error::from) })?;
            self.build_time += started.elapsed();
            self.builds += 1;
            summary.builds += 1;
            if result.success {
                return Ok(Ok(result.binaries));
            }
            let mut dropped = 0;
            let mut unattributed = None;
            for error in &result.errors {
                match self.mutant_at(error, schemas, &arms) {
                    Some((schema, n)) => {
                        if schemas[schema].live.remove(&n) {
                            dropped += 1;
                        }
                    }
                    None => unattributed = unattributed.or(Some(error)),
                }
            }
            summary.unbuildable += dropped;
            let why = match unattributed {
                Some(error) => super::first_lines(&error.rendered),
                None if result.errors.is_empty() => super::cargo_reason(&result.stderr),
                // Every error was a mutant's: once more without them.
                None if attempt + 1 < BUILDS && dropped > 0 => continue,
                None => {
                    "the build failed again without the mutants that did not compile".to_owned()
                }
            };
            return Ok(Err(why));
        }
        unreachable!("the last attempt returns")
    }

    /// The scratch copy as the workspace is, with each file's schemata and each crate root's
    /// switch; per schema, where its mutants' arms are.
    fn write_schemas(&mut self, schemas: &mut [Schema]) -> Result<Vec<Arms>, Error> {
        self.restore_scratch()?;
        // The files tests go into are not restored (the builds write them): those without
        // mutants this time are written as they are in the workspace.
        let mut texts: BTreeMap<PathBuf, String> = self
            .files
            .iter()
            .map(|f| (f.rel.clone(), f.file.source.clone()))
            .collect();
        let mut arms = Vec::with_capacity(schemas.len());
        for schema in schemas.iter_mut() {
            let live: Vec<Mutant> = schema
                .placed
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let mut m = m.clone();
                    // A dropped mutant matches no code: it keeps its number, out of the build.
                    if !schema.live.contains(&(i as u64 + 1)) {
                        m.line = 0;
                    }
                    m
                })
                .collect();
            let text = match mutate::schemata(&schema.text, &live) {
                Ok((file, included)) => {
                    // A mutant with no switch of its own (past the nesting limit) is not run.
                    schema.live.retain(|n| included.contains(n));
                    splice::unparse(&file)
                }
                Err(_) => {
                    schema.live.clear();
                    schema.text.clone()
                }
            };
            let mut found = Arms::default();
            if let Ok(parsed) = syn::parse_file(&text) {
                found.visit_file(&parsed);
            }
            arms.push(found);
            texts.insert(self.files[schema.file].rel.clone(), text);
        }
        for root in self.roots() {
            let text = match texts.remove(&root) {
                Some(text) => text,
                None => {
                    let path = self.scratch.join(&root);
                    std::fs::read_to_string(&path)
                        .map_err(|source| VerifyError::Scratch { path, source })?
                }
            };
            texts.insert(root, text + &mutate::switch_fn());
        }
        for (rel, text) in &texts {
            scratch::put(&self.scratch, rel, text).map_err(|source| VerifyError::Scratch {
                path: self.scratch.join(rel),
                source,
            })?;
        }
        Ok(arms)
    }

    /// The roots (relative to the workspace) of every lib and bin target the build makes: a
    /// module file a lib and a bin share calls the switch from both crates.
    fn roots(&self) -> BTreeSet<PathBuf> {
        let request = &self.request;
        self.workspace
            .packages
            .iter()
            .filter(|p| request.packages.contains(&p.name))
            .flat_map(|p| &p.targets)
            .filter(|t| match t.kind {
                TargetKind::Lib => request.lib,
                TargetKind::Bin => request.bins,
            })
            .filter_map(|t| Some(t.root.strip_prefix(&self.workspace.root).ok()?.to_owned()))
            .collect()
    }

    /// The mutant (schema, number) whose arm an error points at: its primary spans first.
    fn mutant_at(
        &self,
        error: &build::Diagnostic,
        schemas: &[Schema],
        arms: &[Arms],
    ) -> Option<(usize, u64)> {
        let hit = |(path, first, last): &(PathBuf, usize, usize)| {
            schemas
                .iter()
                .zip(arms)
                .enumerate()
                .find_map(|(s, (schema, arms))| {
                    if self.files[schema.file].path != *path {
                        return None;
                    }
                    // The innermost arm: an outer switch's arms hold copies of the inner ones.
                    arms.0
                        .iter()
                        .filter(|(_, from, to)| *first <= *to && *last >= *from)
                        .min_by_key(|(_, from, to)| to - from)
                        .map(|(n, _, _)| (s, *n))
                })
        };
        error.find_span(hit)
    }

    /// The wrappers of the live mutants, split over one single-threaded process per core and
    /// binary (with one thread, libtest names each test as it starts, so a mutant that hangs
    /// or crashes the process is known, and the rest go on in a new process): per (schema,
    /// number), whether a test caught it (failed, crashed, hung, or did what no test may).
    /// With `only`, only the wrappers of those tests (by file under test and name).
    fn run_mutants(
        &mut self,
        schemas: &[Schema],
        only: Option<&BTreeSet<(usize, String)>>,
    ) -> Result<Kills, Error> {
        // Per binary: the binary, and each wrapper's libtest name with its mutant and test.
        let mut by_binary: BTreeMap<PathBuf, (TestBinary, Vec<(String, Wrapped)>)> =
            BTreeMap::new();
        for (s, schema) in schemas.iter().enumerate() {
            let file = &self.files[schema.file];
            let Some(binary) = self.binary(&file.crate_root.clone(), schema.file) else {
                continue;
            };
            let module = &file.module;
            let entry = by_binary
                .entry(file.crate_root.clone())
                .or_insert_with(|| (binary, Vec::new()));
            for wrapper in &schema.wrappers {
                let wanted =
                    only.is_none_or(|only| only.contains(&(schema.file, wrapper.test.clone())));
                if wanted && schema.live.contains(&wrapper.number) {
                    entry.1.push((
                        format!("{module}::{}", wrapper.name),
                        ((s, wrapper.number), wrapper.test.clone()),
                    ));
                }
            }
        }
        let count: usize = by_binary.values().map(|(_, w)| w.len()).sum();
        self.restore_scratch()?;
        self.progress.phase(&format!(
            "running the kept tests against their mutants ({})",
            plural(count, "run", "runs")
        ));
        // (binary, names, each alone)
        let mut jobs: Vec<(TestBinary, Vec<String>, bool)> = Vec::new();
        let mut mutant_of: BTreeMap<String, Wrapped> = BTreeMap::new();
        for (binary, wrappers) in by_binary.into_values() {
            // The workspace's own sources: the copy's hold the switch and the wrappers now.
            let package = binary
                .package_dir
                .strip_prefix(&self.scratch)
                .unwrap_or(&binary.package_dir);
            let dir = self.workspace.root.join(package);
            // Read once per run: each round asks again.
            let stateful = *self
                .keeps_state
                .entry(dir)
                .or_insert_with_key(|dir| keeps_state(dir));
            if stateful {
                self.isolated = true;
                let names: Vec<String> = wrappers.iter().map(|(n, _)| n.clone()).collect();
                mutant_of.extend(wrappers);
                jobs.push((binary, names, true));
                continue;
            }
            let chunks = self.threads.min(wrappers.len()).max(1);
            let mut split: Vec<Vec<String>> = vec![Vec::new(); chunks];
            for (index, (name, mutant)) in wrappers.into_iter().enumerate() {
                split[index % chunks].push(name.clone());
                mutant_of.insert(name, mutant);
            }
            jobs.extend(
                split
                    .into_iter()
                    .map(|names| (binary.clone(), names, false)),
            );
        }
        let timeout = self.mutant_timeout;
        let started = Instant::now();
        let outcomes = self.runtime.block_on(async {
            let threads = self.threads;
            let runs = jobs.iter().map(|(binary, names, alone)| async move {
                let outcomes = if *alone {
                    // Short processes that spend much of their life starting.
                    run::run_each_alone(binary, names, threads * 2, timeout).await
                } else {
                    run::run_exact(binary, names, 1, timeout).await
                };
                outcomes.map_err(|source| spawn_error(binary, source))
            });
            futures_util::future::try_join_all(runs).await
        })?;
        self.run_time += started.elapsed();
        let mut caught: Kills = BTreeMap::new();
        for ((_, names, _), outcomes) in jobs.iter().zip(outcomes) {
            for name in names {
                // A wrapper compiled out (its test's `cfg`), or with no outcome, is no verdict.
                let Some(outcome) = outcomes.get(name).filter(|o| !o.not_found()) else {
                    continue;
                };
                let (mutant, test) = &mutant_of[name];
                let killers = caught.entry(*mutant).or_default();
                if *outcome != TestOutcome::Passed {
                    killers.insert(test.clone());
                }
            }
        }
        Ok(caught)
    }
}

/// Whether the package in `dir` (its `src`) keeps state a test process shares.
fn keeps_state(dir: &std::path::Path) -> bool {
    fn walk(dir: &std::path::Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|entry| {
            let path = entry.path();
            // Not through symlinks: a link loop would never end.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&path)
            } else {
                path.extension().is_some_and(|e| e == "rs")
                    && std::fs::read_to_string(&path).is_ok_and(|t| mutate::keeps_state(&t))
            }
        })
    }
    walk(&dir.join("src"))
}

/// The text of file `file` with its `kept` tests in it: as it will be written, so the lines
/// of mutants made from it are the written file's.
fn written_text(files: &[FileUnderTest<'_>], file: usize, kept: &[Tracked]) -> String {
    let candidates: Vec<&Candidate> = kept
        .iter()
        .filter(|t| t.file == file)
        .map(|t| &t.candidate)
        .collect();
    spliced(files[file].file, &candidates)
}

/// `file`'s text with `tests` spliced into its module of tests.
fn spliced(file: &crate::scan::SourceFile, tests: &[&Candidate]) -> String {
    splice::splice(
        &file.source,
        file.analysis.existing.as_ref(),
        tests,
        &file.rules,
    )
    .text
}

/// The mutants of the items named `tested` in `text` (found there by name, at their lines
/// there), and the items skipped.
fn mutants_in(
    text: &str,
    display: &str,
    tested: &BTreeSet<&str>,
) -> (Vec<Mutant>, Vec<mutate::Skipped>) {
    let Ok(analysis) = crate::analysis::analyze(text) else {
        return Default::default();
    };
    let items: Vec<&crate::analysis::PublicFn> = analysis
        .items
        .iter()
        .filter(|item| tested.contains(item.name.as_str()))
        .collect();
    mutate::mutants(text, display, &items).unwrap_or_default()
}

/// Per test (by file under test and name), the mutants it caught.
pub(super) type Catches = BTreeMap<(usize, String), BTreeSet<MutantKey>>;

fn catches(schemas: &[Schema], caught: &Kills) -> Catches {
    let mut out = Catches::new();
    for (&(s, number), tests) in caught {
        for test in tests {
            out.entry((schemas[s].file, test.clone()))
                .or_default()
                .insert((s, number));
        }
    }
    out
}

/// Of each item's observed tests in `kept`, the fewest that catch the most of its mutants
/// (greedy, as Pynguin keeps only assertions some mutant violates): the test that catches
/// the most not yet caught, until none catches more. An item whose tests catch nothing keeps
/// its first; a scaffold is kept only where its item has no other test. Returns the tests
/// left out.
pub(super) fn choose(kept: &mut Vec<Tracked>, catches: &Catches) -> Vec<Tracked> {
    let mut by_item: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for (index, test) in kept.iter().enumerate() {
        by_item
            .entry((test.file, test.candidate.item.clone()))
            .or_default()
            .push(index);
    }
    let mut chosen = vec![false; kept.len()];
    let none = BTreeSet::new();
    for indices in by_item.values() {
        let real: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| !kept[i].candidate.is_scaffold())
            .collect();
        if real.is_empty() {
            indices.iter().for_each(|&i| chosen[i] = true);
            continue;
        }
        let caught_by = |i: usize| {
            catches
                .get(&(kept[i].file, kept[i].candidate.name.clone()))
                .unwrap_or(&none)
        };
        let mut caught: BTreeSet<MutantKey> = BTreeSet::new();
        loop {
            // Ties go to the first: the plainest inputs come first.
            let best = real
                .iter()
                .copied()
                .filter(|&i| !chosen[i])
                .map(|i| (caught_by(i).difference(&caught).count(), i))
                .max_by_key(|&(gain, i)| (gain, std::cmp::Reverse(i)));
            match best {
                Some((gain, i)) if gain > 0 => {
                    chosen[i] = true;
                    caught.extend(caught_by(i).iter().copied());
                }
                _ => break,
            }
        }
        if caught.is_empty() {
            chosen[real[0]] = true;
        }
    }
    let mut out = Vec::new();
    let mut index = 0;
    kept.retain_mut(|test| {
        let keep = chosen[index];
        index += 1;
        if !keep {
            out.push(test.fresh());
        }
        keep
    });
    out
}

/// Each file's items with what their tests caught; `failed` says why no mutant ran.
fn figures(schemas: &[Schema], caught: &Kills, failed: Option<&str>) -> Figures {
    let mut out: Figures = BTreeMap::new();
    for (s, schema) in schemas.iter().enumerate() {
        let mut items: BTreeMap<&str, ItemMutants> = BTreeMap::new();
        for (item, why) in &schema.skipped {
            items.insert(
                item,
                ItemMutants {
                    item: item.clone(),
                    total: 0,
                    caught: 0,
                    survivors: Vec::new(),
                    note: Some(why.clone()),
                },
            );
        }
        for (i, mutant) in schema.mutants.iter().enumerate() {
            let number = i as u64 + 1;
            let figures = items
                .entry(mutant.item.as_str())
                .or_insert_with(|| ItemMutants {
                    item: mutant.item.clone(),
                    total: 0,
                    caught: 0,
                    survivors: Vec::new(),
                    note: None,
                });
            if let Some(why) = failed {
                figures.note = Some(format!("its mutants did not build: {why}"));
                continue;
            }
            match caught.get(&(s, number)).map(|k| !k.is_empty()) {
                Some(true) => {
                    figures.total += 1;
                    figures.caught += 1;
                }
                Some(false) => {
                    figures.total += 1;
                    figures.survivors.push(mutant.clone());
                }
                // Did not compile, or its binary was not built.
                None => {}
            }
        }
        out.entry(schema.file)
            .or_default()
            .extend(items.into_values());
    }
    out
}

impl Verifier<'_> {
    /// `--mutation-rounds`: the items whose kept tests left mutants alive go back to the
    /// model with those mutants; a new test replaces an item's tests only when it passes
    /// verification and catches more of them. `figures` is updated with what was replaced.
    pub(super) fn strengthen(
        &mut self,
        files: &[FileUnderTest<'_>],
        ended: &mut super::Ended,
        figures: &mut Figures,
        repairer: &dyn Repairer,
        summary: &mut MutationSummary,
    ) -> Result<(), Error> {
        for _ in 0..self.options.mutation_rounds {
            if !self.round(files, ended, figures, repairer, summary)? {
                break;
            }
        }
        Ok(())
    }

    /// One round of asking again; whether it replaced anything (another round may help).
    fn round(
        &mut self,
        files: &[FileUnderTest<'_>],
        ended: &mut super::Ended,
        figures: &mut Figures,
        repairer: &dyn Repairer,
        summary: &mut MutationSummary,
    ) -> Result<bool, Error> {
        let weak = weak_tests(files, &ended.kept, figures);
        if weak.is_empty() {
            return Ok(false);
        }
        self.progress.phase(&format!(
            "asking the model again for {} that left mutants alive",
            plural(weak.values().map(Vec::len).sum(), "test", "tests")
        ));
        let candidates = self.ask(files, &ended.kept, weak, repairer)?;
        let pending = new_tests(&ended.kept, candidates);
        if pending.is_empty() {
            return Ok(false);
        }
        // Verified as any test is, with no repair: the old test stands meanwhile.
        let mut scratch_totals = MutationSummary::default();
        let judged = self.judge_new(files, &pending, &ended.kept, &mut scratch_totals)?;
        // Whether the binaries built last hold every test the run together needs.
        let holds_all = judged.is_some();
        let (passed, new) = match judged {
            Some(judged) => judged,
            None => {
                let fresh = pending.iter().map(Tracked::fresh).collect();
                let passed = self.rounds(files, fresh, None)?.kept;
                let (new, _) = self.mutation(files, &passed, &mut scratch_totals)?;
                (passed, new)
            }
        };
        // The same mutants as the first build's: those that did not compile are counted.
        summary.builds += scratch_totals.builds;
        summary.time += scratch_totals.time;
        if passed.is_empty() {
            return Ok(false);
        }
        let before = Before {
            kept: ended.kept.iter().map(Tracked::fresh).collect(),
            figures: figures.clone(),
            superseded: ended.superseded.len(),
        };
        let better = replace_where_better(figures, new);
        if better.is_empty() {
            return Ok(false);
        }
        let is_better = |t: &Tracked| better.contains(&(t.file, t.candidate.item.clone()));
        let (old, kept): (Vec<Tracked>, Vec<Tracked>) = std::mem::take(&mut ended.kept)
            .into_iter()
            .partition(is_better);
        ended.kept = kept;
        ended.superseded.extend(old);
        let (new, _): (Vec<Tracked>, Vec<Tracked>) = passed.into_iter().partition(is_better);
        // Built in but not to run: the tests replaced, the new ones not taken.
        let built_also = holds_all.then(|| {
            let taken: BTreeSet<&str> = new.iter().map(|t| t.candidate.name.as_str()).collect();
            ended.superseded[before.superseded..]
                .iter()
                .chain(
                    pending
                        .iter()
                        .filter(|t| !taken.contains(t.candidate.name.as_str())),
                )
                .map(|t| self.libtest_name(t))
                .collect()
        });
        let added: Vec<(usize, String)> = new
            .iter()
            .map(|t| (t.file, t.candidate.name.clone()))
            .collect();
        ended.kept.extend(new);
        // The new tests with the crate's others, as `cargo test` will run them. Should that
        // cost any test (a new one flaky in company, or one they no longer build with), the
        // round is undone: the tests before it passed together already, and the new figures
        // counted every new test.
        self.together(ended, built_also)?;
        if before.lost(ended, &better, &added) {
            ended.kept = before.kept;
            *figures = before.figures;
            ended.superseded.truncate(before.superseded);
            return Ok(false);
        }
        Ok(true)
    }

    /// The new tests verified and judged in one build: they run (as in the rounds: `--runs`
    /// times, then alone) in the schemata build, where no mutant is on unless a wrapper's
    /// thread names it, then their wrappers run. The `kept` tests are built in too, so the
    /// run with the crate's others needs no build of its own. `None` when that build fails for a reason
    /// no mutant explains (a new test that does not compile): the rounds find out which.
    fn judge_new(
        &mut self,
        files: &[FileUnderTest<'_>],
        pending: &[Tracked],
        kept: &[Tracked],
        summary: &mut MutationSummary,
    ) -> Result<Option<(Vec<Tracked>, Figures)>, Error> {
        let started = Instant::now();
        let mut schemas = self.schemas(files, pending, kept);
        let built = self.build_mutants(&mut schemas, summary)?;
        summary.time += started.elapsed();
        if built.is_err() {
            return Ok(None);
        }
        let mut tests: Vec<Tracked> = pending.iter().map(Tracked::fresh).collect();
        self.run_rounds(&mut tests)?;
        let passed: Vec<Tracked> = tests
            .into_iter()
            .filter(|t| matches!(super::end_of(t, self.options), super::End::Passed))
            .collect();
        let started = Instant::now();
        let only: BTreeSet<(usize, String)> = passed
            .iter()
            .map(|t| (t.file, t.candidate.name.clone()))
            .collect();
        let caught = self.run_mutants(&schemas, Some(&only))?;
        summary.time += started.elapsed();
        Ok(Some((passed, figures(&schemas, &caught, None))))
    }
}

/// What a round of asking again started from, to undo it.
struct Before {
    kept: Vec<Tracked>,
    figures: Figures,
    /// How many tests were superseded already.
    superseded: usize,
}

impl Before {
    /// Whether the run together cost a test the round did not replace, or one it added.
    fn lost(
        &self,
        ended: &super::Ended,
        better: &BTreeSet<(usize, String)>,
        added: &[(usize, String)],
    ) -> bool {
        let replaced = |t: &Tracked| better.contains(&(t.file, t.candidate.item.clone()));
        let still = |file: usize, name: &str| {
            ended
                .kept
                .iter()
                .any(|k| k.file == file && k.candidate.name == name)
        };
        let lost_old = self
            .kept
            .iter()
            .any(|t| !replaced(t) && !still(t.file, &t.candidate.name));
        lost_old || added.iter().any(|(file, name)| !still(*file, name))
    }
}

/// The model's new tests of weak items, tracked under the first of their item's kept tests
/// (which stands for it in the report); a test that is one already kept, renamed, is left
/// out: it catches nothing more and is not worth a build.
fn new_tests(kept: &[Tracked], candidates: BTreeMap<usize, Vec<Candidate>>) -> Vec<Tracked> {
    candidates
        .into_iter()
        .flat_map(|(file, tests)| tests.into_iter().map(move |c| (file, c)))
        .filter_map(|(file, candidate)| {
            let mut olds = kept
                .iter()
                .filter(|t| t.file == file && t.candidate.item == candidate.item);
            if olds.clone().any(|t| same_code(&t.candidate, &candidate)) {
                return None;
            }
            let old = olds.next()?;
            Some(Tracked {
                candidate,
                ..old.fresh()
            })
        })
        .collect()
}

/// Whether two tests are the same code under their names (a model that gives back the test it
/// was shown, renamed apart from it).
fn same_code(a: &Candidate, b: &Candidate) -> bool {
    let body = |c: &Candidate| c.text.replacen(&c.name, "", 1);
    body(a) == body(b)
}

/// Per file, one `Weak` failure per item whose tests left mutants alive: its tests' code and
/// the survivors as diffs.
fn weak_tests(
    files: &[FileUnderTest<'_>],
    kept: &[Tracked],
    figures: &Figures,
) -> BTreeMap<usize, Vec<Failure>> {
    let mut weak: BTreeMap<usize, Vec<Failure>> = BTreeMap::new();
    for (&file, items) in figures {
        for item in items.iter().filter(|i| !i.survivors.is_empty()) {
            let code: Vec<&str> = kept
                .iter()
                .filter(|t| t.file == file && t.candidate.item == item.item)
                .map(|t| t.candidate.text.trim())
                .collect();
            if code.is_empty() {
                continue;
            }
            let written = written_text(files, file, kept);
            let evidence: String = item.survivors.iter().map(|m| m.diff(&written)).collect();
            weak.entry(file).or_default().push(Failure {
                item: item.item.clone(),
                code: code.join("\n\n"),
                evidence,
                kind: FailureKind::Weak,
            });
        }
    }
    weak
}

/// Take the new figures of each item whose new tests catch more than its old ones and miss
/// none the old ones caught; the (file, item) pairs replaced.
fn replace_where_better(figures: &mut Figures, new: Figures) -> BTreeSet<(usize, String)> {
    let mut better = BTreeSet::new();
    for (file, items) in new {
        let Some(old_items) = figures.get_mut(&file) else {
            continue;
        };
        for item in items {
            let Some(old) = old_items.iter_mut().find(|o| o.item == item.item) else {
                continue;
            };
            let old_missed: BTreeSet<&str> = old.survivors.iter().map(|m| m.id.as_str()).collect();
            let loses_none = item
                .survivors
                .iter()
                .all(|m| old_missed.contains(m.id.as_str()));
            if item.note.is_none() && item.caught > old.caught && loses_none {
                better.insert((file, item.item.clone()));
                *old = item;
            }
        }
    }
    better
}
