//! The middle of a run: which generator (the model, or scaffolds, with `llm = true`'s
//! fallback), the scratch build warmed while the model answers, generation, and verification,
//! ending with each file's tests and what became of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::console::Console;
use crate::contain;
use crate::emit::FileTests;
use crate::error::{Error, VerifyError, Warning};
use crate::event::{Event, Mode, Reporter};
use crate::generate::{
    self, FileCandidates, FileOutput, FileRequest, Generator, ObservingGenerator, Repairer,
    ScaffoldGenerator,
};
use crate::interrupt::Runtime;
use crate::llm::{self, LlmGenerator};
use crate::options::Options;
use crate::plan::{self, Checkable, FeatureBuild, FilePlan};
use crate::scan::{Scan, SourceFile};
use crate::splice;
use crate::verify::{self, Reason, TestVerdict, VerifyOptions};
use crate::workspace::Workspace;

/// The model, when there is one to ask.
pub(super) struct Llm {
    generator: Option<LlmGenerator>,
    /// Asked for by `llm = true` in the metadata, not `--llm`: scaffolds when it fails.
    soft: bool,
}

impl Llm {
    /// `llm = true` in the testsmith metadata asks for the model where it can be had: without
    /// a key or a server (a pre-commit hook in a sandbox), scaffolds are written instead, with
    /// a warning. `--llm` insists: an LLM it cannot use ends the run.
    pub(super) fn choose(
        options: &Options,
        workspace: &Workspace,
        console: &Console,
    ) -> Result<Llm, Error> {
        let soft = options.llm.is_none()
            && options.mode != Mode::Check
            && workspace
                .config
                .get("llm")
                .and_then(serde_json::Value::as_bool)
                == Some(true);
        let flags = options
            .llm
            .clone()
            .or_else(|| soft.then(llm::config::LlmFlags::default));
        let Some(flags) = flags else {
            return Ok(Llm {
                generator: None,
                soft,
            });
        };
        let built = Runtime::new()
            .and_then(|runtime| llm::build(llm_settings(&flags, workspace)?, Arc::new(runtime)));
        match built {
            Ok(generator) => Ok(Llm {
                generator: Some(generator),
                soft,
            }),
            Err(Error::Llm(reason)) if soft => {
                console.report(&Event::Warning(&Warning::LlmFallback { reason }));
                Ok(Llm {
                    generator: None,
                    soft,
                })
            }
            Err(err) => Err(err),
        }
    }
}

/// The LLM's settings from the flags, the environment and the workspace's metadata.
pub fn llm_settings(
    flags: &llm::config::LlmFlags,
    workspace: &Workspace,
) -> Result<llm::config::Settings, Error> {
    llm::config::resolve(
        flags,
        &|name| std::env::var(name).ok(),
        &workspace.config,
        &workspace.target_dir,
        &workspace.root,
    )
}

/// Each file's tests, by its display path, and what verification did.
pub(super) struct Generated {
    pub files: BTreeMap<String, FileTests>,
    pub verified: Option<verify::Summary>,
    /// Tests from a model written without verification (`--no-verify`).
    pub unverified: bool,
}

/// Generate and verify tests for the untested items of every plan; the model comes back for
/// its cache's figures.
pub(super) fn generate(
    options: &Options,
    plans: &[(&SourceFile, Result<FilePlan<'_>, Warning>)],
    scan: &Scan,
    workspace: &Workspace,
    mut llm: Llm,
    console: &Console,
) -> Result<(Generated, Option<LlmGenerator>), Error> {
    let requests: Vec<FileRequest<'_>> = plans
        .iter()
        .filter_map(|(file, plan)| plan.as_ref().ok().map(|plan| (file, plan)))
        .filter(|(_, plan)| options.mode != Mode::Check && !plan.untested.is_empty())
        .map(|(file, plan)| plan::request_for(file, plan, scan, workspace))
        .collect();
    // The source file of each request, found once.
    let sources = sources(&requests, scan);
    // What is checked is checked with the features it is compiled under.
    let Checkable {
        requests,
        sources,
        builds,
        warnings: uncheckable,
    } = if options.verify.enabled {
        plan::choose_features(requests, sources, workspace)
    } else {
        Checkable::unchanged(requests, sources)
    };
    let allow_uncontained = options.verify.allow_uncontained
        || workspace
            .config
            .get("allow-uncontained")
            .and_then(serde_json::Value::as_bool)
            == Some(true);
    if llm.generator.is_some() && options.verify.enabled && !requests.is_empty() {
        match contained(allow_uncontained, console) {
            // `llm = true` is a preference: where the model's tests cannot run contained, the
            // scaffolds are written, as where the model cannot be reached.
            Err(Error::Verify(reason)) if llm.soft => {
                let reason = crate::error::LlmError::Setting(reason.to_string());
                console.report(&Event::Warning(&Warning::LlmFallback { reason }));
                llm.generator = None;
            }
            result => result?,
        }
    }
    let observing = ObservingGenerator::default();
    let observe =
        llm.generator.is_none() && observes(options, &requests, allow_uncontained, console);
    let warm = warm_up(options, &llm, &sources, &builds, workspace)?;
    console.generating(requests.len(), llm.generator.is_some());
    let generator: &dyn Generator = match &llm.generator {
        Some(generator) => generator,
        None if observe => &observing,
        None => &ScaffoldGenerator,
    };
    let mut rendered = render(&requests, &sources, generator, console);
    if llm.soft && matches!(rendered, Err(Error::Llm(_))) {
        let Err(Error::Llm(reason)) = rendered else {
            unreachable!("matched above")
        };
        console.report(&Event::Warning(&Warning::LlmFallback { reason }));
        llm.generator = None;
        console.generating(requests.len(), false);
        rendered = render(&requests, &sources, &ScaffoldGenerator, console);
    }
    let rendered = rendered?;
    let verify_options = VerifyOptions {
        compile_only: llm.generator.is_none() && !observe,
        // What is observed once may be chance: a value is asserted only when two processes
        // at least saw it alike.
        runs: if observe {
            options.verify.runs.max(2)
        } else {
            options.verify.runs
        },
        allow_uncontained,
        ..options.verify.clone()
    };
    let any = rendered.iter().any(|f| !f.candidates.is_empty());
    let (files, verified) = if !any || !verify_options.enabled {
        let files = rendered.into_iter().map(unverified).collect();
        (files, None)
    } else {
        let checker = match &llm.generator {
            Some(generator) => Checker::Llm { generator, warm },
            None if observe => Checker::Observed(&observing),
            None => Checker::Scaffolds,
        };
        let under_test = UnderTest {
            requests: &requests,
            sources: &sources,
            builds: &builds,
            workspace,
        };
        verify_all(&under_test, rendered, &verify_options, checker, console)?
    };
    let mut files: BTreeMap<String, FileTests> = requests
        .iter()
        .map(|r| r.display.to_owned())
        .zip(files)
        .collect();
    // Said with the file, first: what of it could not be checked.
    for warning in uncheckable {
        let Some(display) = warning.location().0 else {
            continue;
        };
        let tests = files
            .entry(display.to_owned())
            .or_insert_with(|| FileTests {
                candidates: Vec::new(),
                warnings: Vec::new(),
                verdicts: Vec::new(),
                mutants: Vec::new(),
            });
        tests.warnings.insert(0, warning);
    }
    let generated = Generated {
        files,
        verified,
        unverified: any && !verify_options.enabled && llm.generator.is_some(),
    };
    Ok((generated, llm.generator))
}

/// Offline, the code runs on chosen inputs where it can run contained; scaffolds where it
/// cannot (loudly), with `--scaffolds`, and where nothing is built.
fn observes(
    options: &Options,
    requests: &[FileRequest<'_>],
    allow_uncontained: bool,
    console: &Console,
) -> bool {
    if options.scaffolds || !options.verify.enabled || requests.is_empty() {
        return false;
    }
    match contain::layers().missing() {
        Some(missing) if !allow_uncontained => {
            console.report(&Event::Warning(&Warning::ScaffoldsOnly { missing }));
            false
        }
        _ => contained(allow_uncontained, console).is_ok(),
    }
}

/// The model's tests will run: say how they are contained, and refuse before the first call
/// when a layer is missing and the user did not allow it.
fn contained(allow_uncontained: bool, console: &Console) -> Result<(), Error> {
    let layers = contain::layers();
    console.report(&Event::Containment(layers));
    if let (Err(why), Ok(())) = (&layers.observe, &layers.namespaces) {
        let why = why.clone();
        console.report(&Event::Warning(&Warning::Unobserved { why }));
    }
    match layers.missing() {
        Some(missing) if !allow_uncontained => Err(VerifyError::Uncontained { missing }.into()),
        Some(missing) => {
            let warning = Warning::RunUncontained { missing };
            console.report(&Event::Warning(&warning));
            Ok(())
        }
        None => Ok(()),
    }
}

/// While the model answers, the scratch copy builds what the candidates will need. Not under
/// `llm = true`: should the model fail, the scaffolds' check needs the scratch copy the
/// warm-up would hold.
fn warm_up(
    options: &Options,
    llm: &Llm,
    sources: &[&SourceFile],
    builds: &[FeatureBuild],
    workspace: &Workspace,
) -> Result<Option<verify::WarmUp>, Error> {
    let Some(generator) = llm.generator.as_ref() else {
        return Ok(None);
    };
    let Some(first) = builds.first() else {
        return Ok(None);
    };
    // A build with features may fail for them alone: only the defaults' is worth ending the
    // run over.
    if !options.verify.enabled || llm.soft || first.package.is_some() {
        return Ok(None);
    }
    let files: Vec<&SourceFile> = first.files.iter().map(|(i, _)| sources[*i]).collect();
    // A scratch copy that cannot be made (a target dir that cannot be written, a full disk)
    // ends the run before the first call.
    verify::warm_up(workspace, &files, features_of(first), generator.runtime()).map(Some)
}

/// The source file of each request, in order.
fn sources<'s>(requests: &[FileRequest<'_>], scan: &'s Scan) -> Vec<&'s SourceFile> {
    let by_display: HashMap<&str, &SourceFile> =
        scan.files.iter().map(|f| (f.display.as_str(), f)).collect();
    requests.iter().map(|r| by_display[r.display]).collect()
}

/// Run the generator over `requests` and turn each file's output into named, formatted
/// candidates on the thread that made it (syn's trees cannot cross threads); one
/// [`FileCandidates`] per request, in order.
pub fn generate_and_render(
    requests: &[FileRequest<'_>],
    scan: &Scan,
    generator: &dyn Generator,
    progress: &dyn generate::Progress,
) -> Result<Vec<FileCandidates>, Error> {
    render(requests, &sources(requests, scan), generator, progress)
}

/// [`generate_and_render`] with each request's source file found already.
fn render(
    requests: &[FileRequest<'_>],
    files: &[&SourceFile],
    generator: &dyn Generator,
    progress: &dyn generate::Progress,
) -> Result<Vec<FileCandidates>, Error> {
    let slots: Vec<std::sync::Mutex<Option<FileCandidates>>> =
        requests.iter().map(|_| Default::default()).collect();
    generator.generate_all(requests, progress, &|index, output: FileOutput| {
        // A new test must not take a name the module already has.
        let mut taken = splice::existing_fns(files[index]);
        *slots[index].lock().expect("lock") = Some(FileCandidates {
            candidates: splice::prepare(output.tests, &mut taken),
            warnings: output.warnings,
        });
    })?;
    Ok(slots
        .into_iter()
        .map(|slot| slot.into_inner().expect("lock").unwrap_or_default())
        .collect())
}

fn unverified(generated: FileCandidates) -> FileTests {
    FileTests {
        candidates: generated.candidates,
        warnings: generated.warnings,
        verdicts: Vec::new(),
        mutants: Vec::new(),
    }
}

/// The defaults' tests run again under the features a package's other items were checked
/// with: a value recorded with the defaults may be another with a feature on (a `Debug` form
/// that gains a field), and `cargo test --features x` runs them too.
struct Again<'a> {
    under_test: &'a UnderTest<'a>,
    options: &'a VerifyOptions,
    runtime: &'a Runtime,
    console: &'a Console,
}

impl Again<'_> {
    /// Run the tests of `package`'s items outside any feature with every set in `sets` on at
    /// once, or, should that not build, with each; drop those that do not hold, with a
    /// warning. The figures of the builds that ran.
    fn under_features(
        &self,
        package: &str,
        sets: &[&BTreeSet<String>],
        files: &mut [FileTests],
    ) -> Result<Option<verify::Summary>, Error> {
        let union: BTreeSet<String> = sets.iter().flat_map(|s| s.iter().cloned()).collect();
        let mut tries: Vec<BTreeSet<String>> = vec![union];
        if sets.len() > 1 {
            tries.extend(sets.iter().map(|s| (*s).clone()));
        }
        let mut figures: Option<verify::Summary> = None;
        let mut held_with_all = false;
        for (attempt, features) in tries.iter().enumerate() {
            if attempt > 0 && held_with_all {
                break;
            }
            match self.run(package, features, files)? {
                RunAgain::Ran(summary) => {
                    held_with_all |= attempt == 0;
                    match &mut figures {
                        Some(figures) => figures.add(&summary),
                        None => figures = Some(summary),
                    }
                }
                // Nothing of the package's to run again.
                RunAgain::Nothing => return Ok(figures),
                // The features together (`a` and `b` may exclude each other): each set next.
                RunAgain::Unbuilt => {}
            }
        }
        Ok(figures)
    }

    /// One run.
    fn run(
        &self,
        package: &str,
        features: &BTreeSet<String>,
        files: &mut [FileTests],
    ) -> Result<RunAgain, Error> {
        let under_test = self.under_test;
        // The files of the package whose tests were checked with the defaults.
        let defaults = under_test.builds.iter().find(|b| b.package.is_none());
        let chosen: Vec<(usize, BTreeSet<String>)> = defaults
            .into_iter()
            .flat_map(|b| &b.files)
            .filter(|(index, _)| {
                let file = under_test.sources[*index];
                under_test.workspace.packages[file.package].name == package
            })
            .map(|(index, items)| {
                // An `#[ignore]`d scaffold is not run; it compiled, and asserts nothing.
                let written = files[*index].candidates.iter();
                let ran: BTreeSet<String> = written
                    .filter(|c| items.contains(&c.item) && !c.is_scaffold())
                    .map(|c| c.name.clone())
                    .collect();
                (*index, ran)
            })
            .filter(|(_, ran)| !ran.is_empty())
            .collect();
        if chosen.is_empty() {
            return Ok(RunAgain::Nothing);
        }
        let candidates: Vec<Vec<generate::Candidate>> = chosen
            .iter()
            .map(|(index, names)| {
                let written = files[*index].candidates.iter();
                written
                    .filter(|c| names.contains(&c.name))
                    .cloned()
                    .collect()
            })
            .collect();
        let requests: Vec<FileRequest<'_>> = chosen
            .iter()
            .zip(&candidates)
            .map(|((index, _), candidates)| {
                let items = candidates.iter().map(|c| c.item.clone()).collect();
                under_test.requests[*index].only(&items)
            })
            .collect();
        let under: Vec<verify::FileUnderTest<'_>> = chosen
            .iter()
            .zip(&requests)
            .zip(candidates)
            .map(
                |(((index, _), request), candidates)| verify::FileUnderTest {
                    file: under_test.sources[*index],
                    request,
                    candidates,
                },
            )
            .collect();
        // Seen to pass already: run, not repaired, not mutated again.
        let options = VerifyOptions {
            repair_rounds: 0,
            mutants: false,
            mutation_rounds: 0,
            keep_failing: false,
            ..self.options.clone()
        };
        let batch = verify::Batch {
            files: under,
            features: Some(verify::Features {
                package,
                names: features,
            }),
        };
        let report = match verify::verify(
            under_test.workspace,
            batch,
            &options,
            None,
            self.runtime,
            self.console,
            None,
        ) {
            Ok(report) => report,
            Err(Error::Verify(VerifyError::Baseline { .. } | VerifyError::Cargo { .. })) => {
                return Ok(RunAgain::Unbuilt);
            }
            Err(err) => return Err(err),
        };
        let flag = features.iter().cloned().collect::<Vec<_>>().join(",");
        for ((index, ran), verdict) in chosen.iter().zip(report.files) {
            let kept: BTreeSet<&str> = verdict.kept.iter().map(|c| c.name.as_str()).collect();
            // Compiled out with these features (`cfg(not(feature = "x"))`): nothing to hold.
            let compiled_out: BTreeSet<&str> = verdict
                .tests
                .iter()
                .filter(|(_, v)| matches!(v, TestVerdict::Dropped(Reason::NotRun)))
                .map(|(item, _)| item.as_str())
                .collect();
            let tests = &mut files[*index];
            let display = under_test.requests[*index].display;
            let mut dropped = Vec::new();
            tests.candidates.retain(|c| {
                let held = !ran.contains(&c.name)
                    || kept.contains(c.name.as_str())
                    || compiled_out.contains(c.item.as_str());
                if !held {
                    dropped.push(c.item.clone());
                }
                held
            });
            for item in dropped {
                tests.warnings.push(Warning::Dropped {
                    file: display.to_owned(),
                    what: format!(
                        "the test of `{item}`: recorded with the default features, it does not hold with `--features {flag}`"
                    ),
                });
            }
            let left: BTreeSet<&str> = tests.candidates.iter().map(|c| c.item.as_str()).collect();
            tests.mutants.retain(|m| left.contains(m.item.as_str()));
        }
        Ok(RunAgain::Ran(report.summary))
    }
}

/// What running the defaults' tests again came to.
enum RunAgain {
    /// The package has none.
    Nothing,
    /// The package does not build with the features.
    Unbuilt,
    Ran(verify::Summary),
}

/// A build's features as verification takes them; `None` for the defaults' build.
fn features_of(build: &FeatureBuild) -> Option<verify::Features<'_>> {
    Some(verify::Features {
        package: build.package.as_deref()?,
        names: &build.features,
    })
}

/// Items by name, in their file's order: `` `a`, `b` ``, or how many when they are many.
fn quoted(items: &BTreeSet<String>, request: &FileRequest<'_>) -> String {
    let names: Vec<String> = request
        .items
        .iter()
        .filter(|i| items.contains(&i.name))
        .map(|i| format!("`{}`", i.name))
        .collect();
    match names.len() {
        0..=3 => names.join(", "),
        n => format!("{n} items"),
    }
}

/// Who verifies, and with what.
enum Checker<'a> {
    /// Offline scaffolds: compile-checked, with the scaffold generator's fallback.
    Scaffolds,
    /// Offline probes: run, and written as what they showed.
    Observed(&'a ObservingGenerator),
    /// The model's tests: built, run and repaired by the model, maybe on a warm build.
    Llm {
        generator: &'a LlmGenerator,
        warm: Option<verify::WarmUp>,
    },
}

/// What the candidates are tests of.
struct UnderTest<'a> {
    requests: &'a [FileRequest<'a>],
    /// The source file of each request.
    sources: &'a [&'a SourceFile],
    /// The builds that check them, each with the features its files need.
    builds: &'a [FeatureBuild],
    workspace: &'a Workspace,
}

/// The verify stage over every file's candidates, one build of the features each item needs
/// after another; the kept ones come back in the same order. Scaffolds of a package that
/// cannot be built with its defaults are written unchecked, with a warning: they are
/// `#[ignore]`d, and the package is broken already. Items whose features do not build get
/// nothing: it is not how the user's `cargo test` builds the package.
fn verify_all(
    under_test: &UnderTest<'_>,
    mut generated: Vec<FileCandidates>,
    options: &VerifyOptions,
    checker: Checker<'_>,
    console: &Console,
) -> Result<(Vec<FileTests>, Option<verify::Summary>), Error> {
    let offline = matches!(checker, Checker::Scaffolds);
    let observed = matches!(checker, Checker::Observed(_));
    // What is written should the check not run at all: probes never are, their items get
    // scaffolds.
    let unchecked: Vec<Vec<generate::Candidate>> = if offline {
        generated.iter().map(|f| f.candidates.clone()).collect()
    } else if observed {
        render(
            under_test.requests,
            under_test.sources,
            &ScaffoldGenerator,
            console,
        )?
        .into_iter()
        .map(|f| f.candidates)
        .collect()
    } else {
        generated.iter().map(|_| Vec::new()).collect()
    };
    let offline_runtime;
    let (repairer, runtime, mut warm): (&dyn Repairer, &Runtime, _) = match checker {
        Checker::Llm { generator, warm } => (generator, generator.runtime(), warm),
        Checker::Scaffolds => {
            offline_runtime = Runtime::new()?;
            (&ScaffoldGenerator, &offline_runtime, None)
        }
        Checker::Observed(generator) => {
            offline_runtime = Runtime::new()?;
            (generator, &offline_runtime, None)
        }
    };
    // Each file's tests, its generator's warnings first.
    let mut files: Vec<FileTests> = generated
        .iter_mut()
        .map(|g| FileTests {
            candidates: Vec::new(),
            warnings: std::mem::take(&mut g.warnings),
            verdicts: Vec::new(),
            mutants: Vec::new(),
        })
        .collect();
    let mut summary: Option<verify::Summary> = None;
    // Per file, the builds whose tests it got.
    let mut checked_in = vec![0; files.len()];
    // Per package, the features of each of its builds that built.
    let mut built: BTreeMap<&str, Vec<&BTreeSet<String>>> = BTreeMap::new();
    let mut queue: std::collections::VecDeque<&FeatureBuild> = under_test.builds.iter().collect();
    while let Some(build) = queue.pop_front() {
        let of = |all: &[generate::Candidate], items: &BTreeSet<String>| {
            all.iter()
                .filter(|c| items.contains(&c.item))
                .cloned()
                .collect::<Vec<_>>()
        };
        let requests: Vec<FileRequest<'_>> = build
            .files
            .iter()
            .map(|(index, items)| under_test.requests[*index].only(items))
            .collect();
        let under: Vec<verify::FileUnderTest<'_>> = build
            .files
            .iter()
            .zip(&requests)
            .map(|((index, items), request)| verify::FileUnderTest {
                file: under_test.sources[*index],
                request,
                candidates: of(&generated[*index].candidates, items),
            })
            .collect();
        let batch = verify::Batch {
            files: under,
            features: features_of(build),
        };
        let verified = verify::verify(
            under_test.workspace,
            batch,
            options,
            Some(repairer),
            runtime,
            console,
            // The warm-up built the first build's features.
            warm.take(),
        );
        let report = match verified {
            Ok(report) => report,
            // One of the features merged may be what does not build: each on its own.
            Err(Error::Verify(VerifyError::Baseline { .. } | VerifyError::Cargo { .. }))
                if !build.parts.is_empty() =>
            {
                for part in build.parts.iter().rev() {
                    queue.push_front(part);
                }
                continue;
            }
            Err(Error::Verify(
                reason @ (VerifyError::Baseline { .. } | VerifyError::Cargo { .. }),
            )) if build.package.is_some() => {
                let features = build.features.iter().cloned().collect::<Vec<_>>().join(",");
                for (index, items) in &build.files {
                    let request = &under_test.requests[*index];
                    files[*index].warnings.push(Warning::FeaturesUnbuilt {
                        file: request.display.to_owned(),
                        items: quoted(items, request),
                        features: features.clone(),
                        reason: reason.cause(),
                    });
                }
                continue;
            }
            Err(Error::Verify(reason)) if offline || observed => {
                console.report(&Event::Warning(&Warning::Unchecked { reason }));
                for (index, items) in &build.files {
                    let written = of(&unchecked[*index], items);
                    files[*index].candidates.extend(written);
                }
                continue;
            }
            Err(err) => return Err(err),
        };
        if let Some(package) = &build.package {
            built.entry(package).or_default().push(&build.features);
            console.report(&Event::Features {
                package,
                features: &build.features,
                files: build.files.len(),
                items: build.files.iter().map(|(_, items)| items.len()).sum(),
            });
        }
        match &mut summary {
            Some(summary) => summary.add(&report.summary),
            None => summary = Some(report.summary),
        }
        for ((index, _), verdict) in build.files.iter().zip(report.files) {
            checked_in[*index] += 1;
            let tests = &mut files[*index];
            tests.candidates.extend(verdict.kept);
            tests.verdicts.extend(verdict.tests);
            tests.mutants.extend(verdict.mutants);
        }
    }
    let again = Again {
        under_test,
        options,
        runtime,
        console,
    };
    // Scaffolds alone are not run.
    let built = if options.compile_only {
        BTreeMap::new()
    } else {
        built
    };
    for (package, sets) in built {
        let written = |files: &[FileTests]| files.iter().map(|f| f.candidates.len()).sum();
        let before: usize = written(&files);
        let figures = again.under_features(package, &sets, &mut files)?;
        if let (Some(summary), Some(figures)) = (&mut summary, figures) {
            // Its builds and runs count; its tests were counted once already.
            summary.builds += figures.builds;
            summary.build_time += figures.build_time;
            summary.run_time += figures.run_time;
            let dropped = before - written(&files);
            summary.counts.dropped += dropped;
            summary.counts.passed = summary.counts.passed.saturating_sub(dropped);
        }
    }
    // Tests in their items' order, whichever build checked them.
    for (file, (tests, request)) in files.iter_mut().zip(under_test.requests).enumerate() {
        if checked_in[file] < 2 {
            continue;
        }
        let place = |item: &str| request.items.iter().position(|i| i.name == item);
        tests.candidates.sort_by_key(|c| place(&c.item));
        tests.mutants.sort_by_key(|m| place(&m.item));
    }
    if let Some(summary) = &summary {
        console.report(&Event::Verified(summary));
    }
    Ok((files, summary))
}
