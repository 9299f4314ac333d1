//! The LLM generator: real test bodies from a model, through a stack assembled in one place:
//! cache lookup → batch the misses per file → retry → concurrency limit → raw provider.
//!
//! Each layer is small and does one thing: [`cache`] (persistent, content-addressed),
//! [`retry`] (backoff, `Retry-After`), [`limit`] (requests in flight), [`providers`] (the three
//! wire formats over [`http`]). Batching and the follow-up calls for items a reply left out
//! live here, in [`LlmGenerator`].

pub mod cache;
pub mod config;
mod context;
mod http;
mod limit;
mod prompt;
pub mod provider;
pub mod providers;
mod reply;
mod retry;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{join_all, try_join_all};
use quote::ToTokens;

use crate::analysis::PublicFn;
use crate::error::{Error, LlmError, Warning};
use crate::generate::{
    Failure, FailureKind, FileOutput, FileRequest, GeneratedTest, Generator, Progress,
    RepairRequest, Repairer, Sink,
};
use crate::interrupt::Runtime;
use cache::Cache;
use config::Settings;
use limit::Limit;
use prompt::{FileContext, ItemContext};
use provider::{CompletionRequest, Provider, ProviderError};
use providers::RawProvider;
use retry::Retry;

/// Tokens allowed per requested item, and for a whole call.
const TOKENS_PER_ITEM: u32 = 1024;
const MAX_TOKENS: u32 = 8192;
/// The first backoff wait, and the longest wait whatever a server asks.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The generator behind `--llm`; also the [`Repairer`] of its own tests, through the same
/// stack, cache and runtime.
pub struct LlmGenerator {
    stack: Retry<Limit<RawProvider>>,
    cache: Cache,
    settings: Settings,
    runtime: Arc<Runtime>,
}

/// The factory: the one place the stack is put together.
pub fn build(settings: Settings, runtime: Arc<Runtime>) -> Result<LlmGenerator, Error> {
    let http = http::Http::new(settings.timeout).map_err(LlmError::Setting)?;
    let raw = RawProvider::new(
        settings.provider,
        http,
        &settings.base_url,
        &settings.model,
        settings.api_key.clone(),
        settings.temperature,
    );
    let stack = Retry::new(
        Limit::new(raw, settings.max_concurrent),
        settings.attempts,
        BACKOFF_BASE,
        MAX_WAIT,
    );
    Ok(LlmGenerator {
        stack,
        cache: Cache::new(settings.cache_dir.clone()),
        settings,
        runtime,
    })
}

impl Generator for LlmGenerator {
    fn generate_all(
        &self,
        requests: &[FileRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error> {
        let displays: Vec<&str> = requests.iter().map(|r| r.display).collect();
        self.runtime
            .block_on(self.all_files(&displays, progress, |index| async move {
                let output = self.file(&requests[index]).await?;
                done(index, output);
                Ok(())
            }))
    }

    fn cache_stats(&self) -> Option<(usize, usize, usize)> {
        let stats = self.cache.stats();
        Some((stats.hits, stats.misses, stats.entries))
    }
}

impl Repairer for LlmGenerator {
    fn repair_all(
        &self,
        requests: &[RepairRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error> {
        let displays: Vec<&str> = requests.iter().map(|r| r.file.display).collect();
        self.runtime
            .block_on(self.all_files(&displays, progress, |index| async move {
                let output = self.repair_file(&requests[index]).await?;
                done(index, output);
                Ok(())
            }))
    }
}

impl LlmGenerator {
    /// The run's runtime, for the stages that wait on processes.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// `each(index)` for every file at once, the progress bar ticking meanwhile. The first
    /// fatal error (refused key, unreachable server) ends every other file's calls too.
    async fn all_files<F>(
        &self,
        displays: &[&str],
        progress: &dyn Progress,
        each: impl Fn(usize) -> F,
    ) -> Result<(), Error>
    where
        F: Future<Output = Result<(), Error>>,
    {
        let files = try_join_all(displays.iter().enumerate().map(|(index, display)| {
            let done = each(index);
            async move {
                done.await?;
                progress.file_done(display);
                Ok::<(), Error>(())
            }
        }));
        let ticker = async {
            loop {
                progress.calls(self.stack.inner().in_flight(), self.cache.hits());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::select! {
            results = files => results.map(drop),
            () = ticker => unreachable!("the ticker never ends"),
        }
    }

    /// Tests for every item of one file.
    async fn file(&self, request: &FileRequest<'_>) -> Result<FileOutput, Error> {
        let setup = Setup::new(request, &self.settings);
        let asks = request
            .items
            .iter()
            .map(|item| Ask {
                item,
                key: self.key(item, request, &setup, None),
                failure: None,
            })
            .collect();
        self.answer(request, &setup, asks).await
    }

    /// Replacements for one file's failed tests. A repair is cached by its inputs, the
    /// evidence normalized, so a rerun over the same failures makes no call.
    async fn repair_file(&self, repair: &RepairRequest<'_>) -> Result<FileOutput, Error> {
        let request = repair.file;
        let setup = Setup::new(request, &self.settings);
        let asks = repair
            .failures
            .iter()
            .filter_map(|failure| {
                let item = request.items.iter().find(|i| i.name == failure.item)?;
                Some(Ask {
                    item,
                    key: self.key(item, request, &setup, Some(failure)),
                    failure: Some(failure),
                })
            })
            .collect();
        self.answer(request, &setup, asks).await
    }

    /// Cache lookups, then one call for the file's misses (or one per item with
    /// `--no-batch`), then one call for each item a batched reply left out.
    async fn answer(
        &self,
        request: &FileRequest<'_>,
        setup: &Setup<'_>,
        asks: Vec<Ask<'_>>,
    ) -> Result<FileOutput, Error> {
        let context = FileContext {
            display: request.display,
            source: request.source,
            existing_tests: request.test_source,
            conventions: setup.conventions.as_deref(),
            crates: request.crates,
        };
        let mut output = FileOutput::default();
        let mut misses = Vec::new();
        for ask in asks {
            // An entry whose code no longer passes the checks counts as a miss.
            let cached = self.cache.get(&ask.key, &ask.item.name).and_then(|code| {
                let piece = reply::Piece {
                    name: Some(ask.item.name.clone()),
                    code,
                };
                reply::sort(vec![piece], &[ask.item], setup.tokio)
                    .tests
                    .into_values()
                    .next()
            });
            self.cache.count(cached.is_some());
            match cached {
                Some(tests) => push_tests(&mut output, &ask.item.name, tests),
                None => misses.push(ask),
            }
        }
        let mut round: Vec<Vec<&Ask<'_>>> = if misses.is_empty() {
            Vec::new()
        } else if self.settings.batch {
            vec![misses.iter().collect()]
        } else {
            misses.iter().map(|ask| vec![ask]).collect()
        };
        // At most two rounds: items a batched reply left out are asked for one by one, and a
        // lone item a reply left out is not asked for again (the same request would not help).
        while !round.is_empty() {
            let replies =
                join_all(round.iter().map(|batch| self.ask(&context, batch, setup))).await;
            let mut left_out = Vec::new();
            for (batch, reply) in round.iter().zip(replies) {
                match reply {
                    Ok(sorted) => {
                        self.accept(request, batch, sorted, &mut output);
                        if batch.len() > 1 {
                            left_out.extend(batch.iter().copied().filter(|ask| {
                                !output.tests.iter().any(|t| t.item == ask.item.name)
                            }));
                        }
                    }
                    Err(failure) => {
                        output
                            .warnings
                            .push(self.failure(request.display, failure)?);
                    }
                }
            }
            round = left_out.into_iter().map(|ask| vec![ask]).collect();
        }
        Ok(output)
    }

    /// One call for `asks`; the pieces of the reply sorted per item.
    async fn ask(
        &self,
        context: &FileContext<'_>,
        asks: &[&Ask<'_>],
        setup: &Setup<'_>,
    ) -> Result<reply::Sorted, ProviderError> {
        let items: Vec<&PublicFn> = asks.iter().map(|ask| ask.item).collect();
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        let item_contexts: Vec<ItemContext<'_>> = asks
            .iter()
            .map(|ask| ItemContext {
                item: ask.item,
                uses: setup.uses(ask),
                failure: ask.failure,
            })
            .collect();
        // Each type once, in the order the items first name it.
        let mut shown: Vec<&str> = Vec::new();
        for name in item_contexts.iter().flat_map(|ctx| &ctx.uses) {
            if !shown.contains(&name.as_str()) {
                shown.push(name);
            }
        }
        let sections: Vec<String> = shown
            .iter()
            .map(|name| context::section(name, setup.request))
            .collect();
        let completion_request = CompletionRequest {
            system: prompt::SYSTEM.to_owned(),
            user: prompt::user_prompt(context, &item_contexts, &sections),
            schema: prompt::schema(&names),
            max_tokens: max_tokens(items.len()),
        };
        let completion = self.stack.complete(&completion_request).await?;
        Ok(match reply::pieces(&completion.text) {
            Some(pieces) => reply::sort(pieces, &items, setup.tokio),
            None => reply::Sorted {
                dropped: vec![
                    "a reply that is neither the JSON envelope nor Markdown with Rust blocks"
                        .to_owned(),
                ],
                ..Default::default()
            },
        })
    }

    /// Keep what a reply gave, cache it per item, and warn about what was dropped.
    fn accept(
        &self,
        request: &FileRequest<'_>,
        batch: &[&Ask<'_>],
        sorted: reply::Sorted,
        output: &mut FileOutput,
    ) {
        for what in sorted.dropped {
            output.warnings.push(Warning::Dropped {
                file: request.display.to_owned(),
                what,
            });
        }
        for (name, tests) in sorted.tests {
            let Some(ask) = batch.iter().find(|ask| ask.item.name == name) else {
                continue;
            };
            let code: Vec<String> = tests
                .iter()
                .map(|t| t.to_token_stream().to_string())
                .collect();
            self.cache.put(&ask.key, &name, &code.join("\n"));
            push_tests(output, &name, tests);
        }
    }

    /// A failed call: fatal when no call can succeed (server unreachable, key refused, model
    /// unknown), else a warning for this file.
    fn failure(&self, display: &str, failure: ProviderError) -> Result<Warning, Error> {
        match failure {
            ProviderError::Interrupted => Err(Error::Interrupted),
            ProviderError::Transient {
                unreachable: true,
                message,
                ..
            } => Err(LlmError::Unreachable {
                provider: self.settings.provider.name(),
                // A server the user never named is a surprise: say how it came to be asked.
                message: match &self.settings.chosen_because {
                    Some(why) => format!("{message}; {why}"),
                    None => message,
                },
            }
            .into()),
            ProviderError::Permanent {
                status: status @ (401 | 403 | 404),
                message,
            } => Err(LlmError::Refused {
                provider: self.settings.provider.name(),
                status,
                message,
            }
            .into()),
            // The request could not be made at all (a URL that cannot be used): no call will do.
            ProviderError::Permanent { status: 0, message } => {
                Err(LlmError::Setting(message).into())
            }
            other => Ok(Warning::Generation {
                file: display.to_owned(),
                message: other.to_string(),
            }),
        }
    }

    /// SHA-256 over what the test depends on: the prompt format, provider, model, temperature,
    /// the item's name and source, the definitions of the types its signature names, the
    /// conventions and the crates available — not its neighbours; for a repair, also the
    /// failed test and its evidence, normalized.
    fn key(
        &self,
        item: &PublicFn,
        request: &FileRequest<'_>,
        setup: &Setup<'_>,
        failure: Option<&Failure>,
    ) -> String {
        let temperature = self.settings.temperature.to_string();
        // What the prompt shows of the item's types: their definitions and constructors.
        let names = match failure {
            Some(failure) => setup.uses_for(item, Some(failure)),
            None => setup.uses_for(item, None),
        };
        let types: String = names
            .iter()
            .map(|name| context::section(name, request))
            .collect();
        let crates = request.crates.join(",");
        let mut parts = vec![
            self.settings.provider.name(),
            &self.settings.model,
            &temperature,
            &item.name,
            &item.source,
            &types,
            &crates,
            setup.conventions.as_deref().unwrap_or_default(),
        ];
        if let Some(block) = &item.impl_block {
            parts.push(&block.stub);
        }
        let evidence;
        if let Some(failure) = failure {
            evidence = normalize_evidence(&failure.evidence);
            let kind = match failure.kind {
                FailureKind::Broken => "repair",
                FailureKind::Weak => "strengthen",
            };
            parts.extend([kind, &failure.code, &evidence]);
        }
        cache::key(&parts)
    }
}

/// What every ask of one file shares.
struct Setup<'a> {
    request: &'a FileRequest<'a>,
    conventions: Option<String>,
    /// The package types (and traits) each item's test needs: in its cache key and, with
    /// their definitions and constructors, in its prompt.
    types: BTreeMap<&'a str, Vec<String>>,
    tokio: bool,
}

impl<'a> Setup<'a> {
    fn new(request: &'a FileRequest<'a>, settings: &Settings) -> Setup<'a> {
        Setup {
            request,
            conventions: conventions_for(request.path, &settings.workspace_root),
            types: request
                .items
                .iter()
                .map(|item| (item.name.as_str(), context::needed_by(item, request)))
                .collect(),
            tokio: tokio_available(request),
        }
    }

    /// The types an ask shows: its item's, and for a repair those its error names.
    fn uses(&self, ask: &Ask<'_>) -> Vec<String> {
        self.uses_for(ask.item, ask.failure)
    }

    fn uses_for(&self, item: &PublicFn, failure: Option<&Failure>) -> Vec<String> {
        let mut names = self
            .types
            .get(item.name.as_str())
            .cloned()
            .unwrap_or_default();
        if let Some(failure) = failure {
            for name in context::named_in_evidence(&failure.evidence, self.request) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }
}

/// One item to ask for: a test, or the repair of a failed one.
struct Ask<'a> {
    item: &'a PublicFn,
    key: String,
    failure: Option<&'a Failure>,
}

/// The evidence as it goes into a repair's cache key: positions (`src/lib.rs:57:9`, the
/// `57 |` gutter of a snippet) move when other tests are added or dropped, and thread ids
/// (`thread 't' (11342) panicked`) with every run, so their digits are left out; what the
/// failure says stays.
fn normalize_evidence(evidence: &str) -> String {
    let mut out = String::with_capacity(evidence.len());
    for line in evidence.lines() {
        let trimmed = line.trim_start();
        let gutter = trimmed
            .split_once('|')
            .is_some_and(|(head, _)| head.trim().chars().all(|c| c.is_ascii_digit()));
        let mut previous = ' ';
        for ch in line.chars() {
            let position = ch.is_ascii_digit() && (gutter || matches!(previous, ':' | '#' | '('));
            if position {
                previous = ':';
                continue;
            }
            previous = ch;
            out.push(ch);
        }
        out.push('\n');
    }
    out
}

/// The reply's token budget: scales with the items asked for, up to a cap.
fn max_tokens(items: usize) -> u32 {
    u32::try_from(items)
        .unwrap_or(u32::MAX)
        .saturating_mul(TOKENS_PER_ITEM)
        .min(MAX_TOKENS)
}

/// `#[tokio::test]` is usable only when the package depends on tokio with its macros and a
/// runtime.
fn tokio_available(request: &FileRequest<'_>) -> bool {
    request.tokio_test
}

fn push_tests(output: &mut FileOutput, item: &str, tests: Vec<syn::ItemFn>) {
    output
        .tests
        .extend(tests.into_iter().map(|function| GeneratedTest {
            item: item.to_owned(),
            function,
        }));
}

/// The `TESTSMITH.md` nearest the file: in its directory or the closest parent, up to the
/// workspace root.
fn conventions_for(path: &Path, root: &Path) -> Option<String> {
    path.ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(root))
        .map(|dir| dir.join("TESTSMITH.md"))
        .find(|candidate| candidate.is_file())
        .and_then(|file| std::fs::read_to_string(file).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_keys_ignore_positions_and_thread_ids_but_not_values() {
        let a = "thread 'm::t' (11342) panicked at src/lib.rs:41:9:\nassertion failed\n  left: -42\n right: 42\n";
        let b = "thread 'm::t' (977) panicked at src/lib.rs:57:9:\nassertion failed\n  left: -42\n right: 42\n";
        let c = "thread 'm::t' (977) panicked at src/lib.rs:57:9:\nassertion failed\n  left: -41\n right: 42\n";
        assert_eq!(normalize_evidence(a), normalize_evidence(b));
        assert_ne!(normalize_evidence(b), normalize_evidence(c));
        let d = "error[E0599]: no method\n  --> src/lib.rs:40:22\n40 |     add(2, 3).nope()\n";
        let e = "error[E0599]: no method\n  --> src/lib.rs:47:22\n47 |     add(2, 3).nope()\n";
        assert_eq!(normalize_evidence(d), normalize_evidence(e));
        assert!(normalize_evidence(d).contains("E0599"));
    }

    #[test]
    fn max_tokens_scales_with_items_up_to_the_cap() {
        assert_eq!(max_tokens(1), 1024);
        assert_eq!(max_tokens(6), 6144);
        assert_eq!(max_tokens(8), 8192);
        assert_eq!(max_tokens(40), 8192);
        assert_eq!(max_tokens(usize::MAX), 8192);
    }
}
