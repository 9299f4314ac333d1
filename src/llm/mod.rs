//! The LLM generator: real test bodies from a model, through a stack assembled in one place:
//! cache lookup → batch the misses per file → retry → concurrency limit → raw provider.
//!
//! Each layer is small and does one thing: [`cache`] (persistent, content-addressed),
//! [`retry`] (backoff, `Retry-After`), [`limit`] (requests in flight), [`providers`] (the three
//! wire formats over [`http`]). Batching and the follow-up calls for items a reply left out
//! live here, in [`LlmGenerator`].

pub mod cache;
pub mod config;
mod http;
mod limit;
mod prompt;
pub mod provider;
pub mod providers;
mod reply;
mod retry;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use futures_util::future::{join_all, try_join_all};
use quote::ToTokens;

use crate::analysis::PublicFn;
use crate::error::{Error, Warning};
use crate::generate::{FileOutput, FileRequest, GeneratedTest, Generator, Progress, Sink};
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

/// The generator behind `--llm`.
pub struct LlmGenerator {
    stack: Retry<Limit<RawProvider>>,
    cache: Cache,
    settings: Settings,
}

/// The factory: the one place the stack is put together.
pub fn build(settings: Settings) -> Result<LlmGenerator, Error> {
    let http = http::Http::new(settings.timeout).map_err(Error::Llm)?;
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
    })
}

impl Generator for LlmGenerator {
    fn generate_all(
        &self,
        requests: &[FileRequest<'_>],
        progress: &dyn Progress,
        done: &Sink<'_>,
    ) -> Result<(), Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| Error::Llm(format!("could not start the async runtime: {err}")))?;
        runtime.block_on(async {
            // The first fatal error (refused key, unreachable server) ends every other file's
            // calls too.
            let files = try_join_all(requests.iter().enumerate().map(
                |(index, request)| async move {
                    let output = self.file(request).await?;
                    done(index, output);
                    progress.file_done(request.display);
                    Ok::<(), Error>(())
                },
            ));
            let ticker = async {
                loop {
                    progress.calls(self.stack.inner().in_flight(), self.cache.hits());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            // Ctrl-C drops every request and every backoff wait at once; nothing is written.
            tokio::select! {
                results = files => results.map(drop),
                () = ticker => unreachable!("the ticker never ends"),
                _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
            }
        })
    }

    fn cache_stats(&self) -> Option<(usize, usize, usize)> {
        let stats = self.cache.stats();
        Some((stats.hits, stats.misses, stats.entries))
    }
}

impl LlmGenerator {
    /// Cache lookups, then one call for the file's misses (or one per item with
    /// `--no-batch`), then one call for each item a batched reply left out.
    async fn file(&self, request: &FileRequest<'_>) -> Result<FileOutput, Error> {
        let conventions = conventions_for(request.path, &self.settings.workspace_root);
        let context = FileContext {
            display: request.display,
            source: request.source,
            existing_tests: request.test_source,
            conventions: conventions.as_deref(),
            crates: request.crates,
        };
        // The type definitions an item's test depends on: in its cache key and its prompt.
        let types: BTreeMap<&str, Vec<&str>> = request
            .items
            .iter()
            .map(|item| (item.name.as_str(), type_defs_for(item, request.type_defs)))
            .collect();
        let tokio = tokio_available(request);
        let mut output = FileOutput::default();
        let mut misses = Vec::new();
        let mut keys = BTreeMap::new();
        for item in &request.items {
            let key = self.key(
                item,
                request,
                &types[item.name.as_str()],
                conventions.as_deref(),
            );
            // An entry whose code no longer passes the checks counts as a miss.
            let cached = self.cache.get(&key, &item.name).and_then(|code| {
                let piece = reply::Piece {
                    name: Some(item.name.clone()),
                    code,
                };
                reply::sort(vec![piece], &[item], tokio)
                    .tests
                    .into_values()
                    .next()
            });
            self.cache.count(cached.is_some());
            match cached {
                Some(tests) => push_tests(&mut output, &item.name, tests),
                None => misses.push(*item),
            }
            keys.insert(item.name.clone(), key);
        }
        let mut round: Vec<Vec<&PublicFn>> = if misses.is_empty() {
            Vec::new()
        } else if self.settings.batch {
            vec![misses]
        } else {
            misses.into_iter().map(|item| vec![item]).collect()
        };
        // At most two rounds: items a batched reply left out are asked for one by one, and a
        // lone item a reply left out is not asked for again (the same request would not help).
        while !round.is_empty() {
            let replies = join_all(
                round
                    .iter()
                    .map(|batch| self.ask(&context, batch, &types, tokio)),
            )
            .await;
            let mut left_out = Vec::new();
            for (batch, reply) in round.iter().zip(replies) {
                match reply {
                    Ok(sorted) => {
                        self.accept(request, &keys, batch, sorted, &mut output);
                        if batch.len() > 1 {
                            left_out.extend(
                                batch.iter().copied().filter(|item| {
                                    !output.tests.iter().any(|t| t.item == item.name)
                                }),
                            );
                        }
                    }
                    Err(failure) => {
                        output
                            .warnings
                            .push(self.failure(request.display, failure)?);
                    }
                }
            }
            round = left_out.into_iter().map(|item| vec![item]).collect();
        }
        Ok(output)
    }

    /// One call for `items`; the pieces of the reply sorted per item.
    async fn ask(
        &self,
        context: &FileContext<'_>,
        items: &[&PublicFn],
        types: &BTreeMap<&str, Vec<&str>>,
        tokio: bool,
    ) -> Result<reply::Sorted, ProviderError> {
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        let item_contexts: Vec<ItemContext<'_>> = items
            .iter()
            .map(|item| ItemContext {
                item,
                type_defs: types[item.name.as_str()].clone(),
            })
            .collect();
        let completion_request = CompletionRequest {
            system: prompt::SYSTEM.to_owned(),
            user: prompt::user_prompt(context, &item_contexts),
            schema: prompt::schema(&names),
            max_tokens: max_tokens(items.len()),
        };
        let completion = self.stack.complete(&completion_request).await?;
        Ok(match reply::pieces(&completion.text) {
            Some(pieces) => reply::sort(pieces, items, tokio),
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
        keys: &BTreeMap<String, String>,
        batch: &[&PublicFn],
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
            if !batch.iter().any(|item| item.name == name) {
                continue;
            }
            let code: Vec<String> = tests
                .iter()
                .map(|t| t.to_token_stream().to_string())
                .collect();
            self.cache.put(&keys[&name], &name, &code.join("\n"));
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
            } => Err(Error::Llm(format!(
                "could not reach the {} server: {message}",
                self.settings.provider.name()
            ))),
            ProviderError::Permanent {
                status: 401 | 403 | 404,
                message,
            } => Err(Error::Llm(format!(
                "the {} server refused the request: {message}",
                self.settings.provider.name()
            ))),
            // The request could not be made at all (a URL that cannot be used): no call will do.
            ProviderError::Permanent { status: 0, message } => Err(Error::Llm(message)),
            other => Ok(Warning::Generation {
                file: display.to_owned(),
                message: other.to_string(),
            }),
        }
    }

    /// SHA-256 over what the test depends on: the prompt format, provider, model, temperature,
    /// the item's name and source, the definitions of the types its signature names, the
    /// conventions and the crates available. Not its neighbours.
    fn key(
        &self,
        item: &PublicFn,
        request: &FileRequest<'_>,
        types: &[&str],
        conventions: Option<&str>,
    ) -> String {
        let temperature = self.settings.temperature.to_string();
        let types = types.join("\n");
        let crates = request.crates.join(",");
        let mut parts = vec![
            self.settings.provider.name(),
            &self.settings.model,
            &temperature,
            &item.name,
            &item.source,
            &types,
            &crates,
            conventions.unwrap_or_default(),
        ];
        if let Some(block) = &item.impl_block {
            parts.push(&block.stub);
        }
        cache::key(&parts)
    }
}

/// The reply's token budget: scales with the items asked for, up to a cap.
fn max_tokens(items: usize) -> u32 {
    u32::try_from(items)
        .unwrap_or(u32::MAX)
        .saturating_mul(TOKENS_PER_ITEM)
        .min(MAX_TOKENS)
}

/// `#[tokio::test]` is usable only when the package depends on tokio.
fn tokio_available(request: &FileRequest<'_>) -> bool {
    request.crates.iter().any(|name| name == "tokio")
}

fn push_tests(output: &mut FileOutput, item: &str, tests: Vec<syn::ItemFn>) {
    output
        .tests
        .extend(tests.into_iter().map(|function| GeneratedTest {
            item: item.to_owned(),
            function,
        }));
}

/// Definitions of the crate-local types an item's signature (and impl header) names.
fn type_defs_for<'a>(item: &PublicFn, defs: &'a BTreeMap<String, String>) -> Vec<&'a str> {
    let mut names = BTreeSet::new();
    let mut text = item.stub.clone();
    if let Some(block) = &item.impl_block {
        text.push_str(&block.stub);
    }
    let mut word = String::new();
    for ch in text.chars().chain(std::iter::once(' ')) {
        if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
        } else if !word.is_empty() {
            names.insert(std::mem::take(&mut word));
        }
    }
    names
        .iter()
        .filter_map(|name| defs.get(name).map(String::as_str))
        .collect()
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
    fn max_tokens_scales_with_items_up_to_the_cap() {
        assert_eq!(max_tokens(1), 1024);
        assert_eq!(max_tokens(6), 6144);
        assert_eq!(max_tokens(8), 8192);
        assert_eq!(max_tokens(40), 8192);
        assert_eq!(max_tokens(usize::MAX), 8192);
    }
}
