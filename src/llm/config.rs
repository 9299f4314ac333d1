//! Which provider, model and limits to use. Highest first: command-line flags, environment
//! (`TESTSMITH_PROVIDER`, `TESTSMITH_MODEL`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`,
//! `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, `OLLAMA_HOST`), `[package.metadata.testsmith]`
//! over `[workspace.metadata.testsmith]`, then defaults.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::providers::ProviderKind;
use crate::error::{Error, LlmError};

/// What the command line says about the LLM.
#[derive(Debug, Clone, Default)]
pub struct LlmFlags {
    pub provider: Option<ProviderKind>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub max_retries: Option<u32>,
    pub max_concurrent: Option<usize>,
    pub timeout: Option<f64>,
    pub cache_dir: Option<PathBuf>,
    pub no_cache: bool,
    pub no_batch: bool,
}

/// Everything the stack needs, resolved.
#[derive(Clone)]
pub struct Settings {
    pub provider: ProviderKind,
    pub model: String,
    pub base_url: String,
    /// Never printed, logged or cached.
    pub api_key: Option<String>,
    pub temperature: f32,
    /// Attempts in all, the first one included.
    pub attempts: u32,
    pub max_concurrent: usize,
    pub timeout: Duration,
    /// `None` with `--no-cache`.
    pub cache_dir: Option<PathBuf>,
    pub batch: bool,
    /// Where `TESTSMITH.md` lookups stop.
    pub workspace_root: PathBuf,
    /// Why the provider was picked when none was named, for an error about it.
    pub chosen_because: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("attempts", &self.attempts)
            .field("max_concurrent", &self.max_concurrent)
            .finish_non_exhaustive()
    }
}

pub const OPENAI_URL: &str = "https://api.openai.com/v1";
pub const ANTHROPIC_URL: &str = "https://api.anthropic.com";
pub const OLLAMA_URL: &str = "http://localhost:11434";

/// A server URL as the command line reads it: refused at once when unusable, in one sentence.
pub fn parse_base_url(text: &str) -> Result<String, String> {
    match super::http::unusable_url(text) {
        None => Ok(text.to_owned()),
        Some(why) => Err(format!(
            "not a usable URL ({why}): expected http:// or https://, a host and maybe a port and path, like http://127.0.0.1:8080/v1"
        )),
    }
}

/// The default cache directory under a target directory.
pub fn default_cache_dir(target_dir: &std::path::Path) -> PathBuf {
    target_dir.join("testsmith").join("cache")
}

/// Resolve settings. `env` reads an environment variable (a parameter so tests need not touch
/// the process environment); `metadata` is the merged `testsmith` metadata table.
pub fn resolve(
    flags: &LlmFlags,
    env: &dyn Fn(&str) -> Option<String>,
    metadata: &Value,
    target_dir: &std::path::Path,
    workspace_root: &std::path::Path,
) -> Result<Settings, Error> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let sources = Sources {
        flags,
        env: &env,
        metadata,
    };
    let (provider, chosen_because) = sources.provider()?;
    let defaults = ProviderDefaults::of(provider);
    let base_url = sources.base_url(&defaults)?;
    let api_key = sources.api_key(provider, &defaults, &base_url)?;
    let model = sources.model(&defaults);
    let attempts = sources
        .count(flags.max_retries.map(u64::from), "max-retries")?
        .unwrap_or(3);
    let max_concurrent = sources.count(flags.max_concurrent.map(|n| n as u64), "max-concurrent")?;
    let max_concurrent = max_concurrent.unwrap_or(5);
    let timeout = sources.timeout()?;
    let temperature = sources.meta_num("temperature").unwrap_or(0.2) as f32;
    let cache_dir = if flags.no_cache {
        None
    } else {
        Some(
            flags
                .cache_dir
                .clone()
                .unwrap_or_else(|| default_cache_dir(target_dir)),
        )
    };
    Ok(Settings {
        provider,
        model,
        base_url,
        api_key,
        temperature,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        max_concurrent: usize::try_from(max_concurrent).unwrap_or(usize::MAX),
        timeout: Duration::from_secs_f64(timeout),
        cache_dir,
        batch: !flags.no_batch,
        workspace_root: workspace_root.to_owned(),
        chosen_because,
    })
}

/// Where a provider's key and URL are read from, and what holds when nothing is set.
struct ProviderDefaults {
    /// Empty for a provider that takes no key.
    key_var: &'static str,
    url_var: &'static str,
    url: &'static str,
    model: &'static str,
}

impl ProviderDefaults {
    fn of(provider: ProviderKind) -> ProviderDefaults {
        let (key_var, url_var, url, model) = match provider {
            ProviderKind::Openai => (
                "OPENAI_API_KEY",
                "OPENAI_BASE_URL",
                OPENAI_URL,
                "gpt-4o-mini",
            ),
            ProviderKind::Anthropic => (
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_BASE_URL",
                ANTHROPIC_URL,
                "claude-3-5-haiku-latest",
            ),
            ProviderKind::Ollama => ("", "OLLAMA_HOST", OLLAMA_URL, "qwen2.5-coder:7b"),
        };
        ProviderDefaults {
            key_var,
            url_var,
            url,
            model,
        }
    }
}

/// The places a setting is read from, highest first: flags, the environment (blank values
/// count as unset), the metadata.
struct Sources<'a> {
    flags: &'a LlmFlags,
    env: &'a dyn Fn(&str) -> Option<String>,
    metadata: &'a Value,
}

impl Sources<'_> {
    fn meta_str(&self, key: &str) -> Option<String> {
        self.metadata
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    fn meta_num(&self, key: &str) -> Option<f64> {
        self.metadata.get(key).and_then(Value::as_f64)
    }

    /// The provider, and why it was picked when none was named.
    fn provider(&self) -> Result<(ProviderKind, Option<String>), Error> {
        if let Some(kind) = self.flags.provider {
            return Ok((kind, None));
        }
        let env = self.env;
        let kind = match env("TESTSMITH_PROVIDER").or_else(|| self.meta_str("provider")) {
            Some(name) => parse_provider(&name)?,
            // Nothing named: the provider whose key is set, else a local Ollama.
            None if env("OPENAI_API_KEY").is_some() => ProviderKind::Openai,
            None if env("ANTHROPIC_API_KEY").is_some() => ProviderKind::Anthropic,
            None => {
                let why = "ollama was used because no provider was named (--provider, \
                     TESTSMITH_PROVIDER or `provider` in the testsmith metadata) and neither \
                     OPENAI_API_KEY nor ANTHROPIC_API_KEY is set";
                return Ok((ProviderKind::Ollama, Some(why.to_owned())));
            }
        };
        Ok((kind, None))
    }

    /// The server URL, refused naming where it came from when unusable.
    fn base_url(&self, defaults: &ProviderDefaults) -> Result<String, Error> {
        let url_var = defaults.url_var;
        let (base_url, source) = self
            .flags
            .base_url
            .clone()
            .map(|url| (url, "--base-url"))
            .or_else(|| (self.env)(url_var).map(|url| (url, url_var)))
            .or_else(|| {
                self.meta_str("base-url")
                    .map(|url| (url, "`base-url` in the testsmith metadata"))
            })
            .unwrap_or_else(|| (defaults.url.to_owned(), "the default URL"));
        let base_url = if source == "OLLAMA_HOST" && !base_url.contains("://") {
            // Ollama itself reads OLLAMA_HOST as `host:port`.
            format!("http://{}", base_url.trim())
        } else {
            base_url
        };
        if let Err(why) = parse_base_url(&base_url) {
            return Err(LlmError::Setting(format!("{source} `{base_url}` is {why}")).into());
        }
        Ok(base_url)
    }

    /// The API key, an error when the provider at `base_url` needs one and none is set.
    fn api_key(
        &self,
        provider: ProviderKind,
        defaults: &ProviderDefaults,
        base_url: &str,
    ) -> Result<Option<String>, Error> {
        let key_var = defaults.key_var;
        let api_key = if key_var.is_empty() {
            None
        } else {
            (self.env)(key_var)
        };
        // A key is needed by Anthropic, and by OpenAI itself; a local OpenAI-compatible server
        // (vLLM, llama.cpp, LM Studio) at another URL usually needs none.
        let needs_key = match provider {
            ProviderKind::Anthropic => true,
            ProviderKind::Openai => base_url.trim_end_matches('/') == OPENAI_URL,
            ProviderKind::Ollama => false,
        };
        if needs_key && api_key.is_none() {
            return Err(LlmError::MissingKey {
                provider: provider.name(),
                var: key_var,
            }
            .into());
        }
        Ok(api_key)
    }

    fn model(&self, defaults: &ProviderDefaults) -> String {
        self.flags
            .model
            .clone()
            .or_else(|| (self.env)("TESTSMITH_MODEL"))
            .or_else(|| self.meta_str("model"))
            .unwrap_or_else(|| defaults.model.to_owned())
    }

    /// A limit from its flag or the metadata's `key`. One rule for every limit, wherever it was
    /// set: 0 is refused, never quietly made 1.
    fn count(&self, flag: Option<u64>, key: &str) -> Result<Option<u64>, Error> {
        let (value, text, source) = match (flag, self.metadata.get(key)) {
            (Some(n), _) => (Some(n), n.to_string(), format!("--{key}")),
            (None, Some(value)) => (
                value.as_u64(),
                value.to_string(),
                format!("`{key}` in the testsmith metadata"),
            ),
            (None, None) => return Ok(None),
        };
        match value {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(LlmError::Setting(format!(
                "{source} `{text}` is not a positive whole number"
            ))
            .into()),
        }
    }

    /// The request timeout in seconds: positive and finite.
    fn timeout(&self) -> Result<f64, Error> {
        let (timeout, source) = match (self.flags.timeout, self.meta_num("timeout")) {
            (Some(secs), _) => (secs, "--timeout"),
            (None, Some(secs)) => (secs, "`timeout` in the testsmith metadata"),
            (None, None) => (120.0, "the default timeout"),
        };
        if !(timeout > 0.0 && timeout.is_finite()) {
            return Err(LlmError::Setting(format!(
                "{source} `{timeout}` is not a positive number of seconds"
            ))
            .into());
        }
        Ok(timeout)
    }
}

fn parse_provider(name: &str) -> Result<ProviderKind, Error> {
    match name.trim().to_ascii_lowercase().as_str() {
        "openai" => Ok(ProviderKind::Openai),
        "anthropic" => Ok(ProviderKind::Anthropic),
        "ollama" => Ok(ProviderKind::Ollama),
        other => Err(LlmError::Setting(format!(
            "unknown provider `{other}`: expected openai, anthropic or ollama"
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn resolve_with(
        flags: LlmFlags,
        vars: &[(&str, &str)],
        meta: Value,
    ) -> Result<Settings, Error> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        resolve(&flags, &env, &meta, Path::new("/t"), Path::new("/w"))
    }

    #[test]
    fn flags_beat_environment_beat_metadata_beat_defaults() {
        let meta = json!({"provider": "ollama", "model": "meta-model", "max-concurrent": 2});
        let s = resolve_with(LlmFlags::default(), &[], meta.clone()).unwrap();
        assert_eq!(
            (s.provider, s.model.as_str(), s.max_concurrent),
            (ProviderKind::Ollama, "meta-model", 2)
        );
        let s = resolve_with(
            LlmFlags::default(),
            &[("TESTSMITH_MODEL", "env-model")],
            meta.clone(),
        )
        .unwrap();
        assert_eq!(s.model, "env-model");
        let flags = LlmFlags {
            model: Some("flag-model".into()),
            ..Default::default()
        };
        let s = resolve_with(flags, &[("TESTSMITH_MODEL", "env-model")], meta).unwrap();
        assert_eq!(s.model, "flag-model");
        assert_eq!(
            s.cache_dir.as_deref(),
            Some(Path::new("/t/testsmith/cache"))
        );
    }

    #[test]
    fn the_provider_with_a_key_is_picked_and_a_missing_key_is_one_sentence() {
        let s = resolve_with(
            LlmFlags::default(),
            &[("ANTHROPIC_API_KEY", "sk-secret")],
            json!({}),
        )
        .unwrap();
        assert_eq!(s.provider, ProviderKind::Anthropic);
        assert!(!format!("{s:?}").contains("sk-secret"));
        let s = resolve_with(LlmFlags::default(), &[], json!({})).unwrap();
        assert_eq!(
            (s.provider, s.base_url.as_str()),
            (ProviderKind::Ollama, OLLAMA_URL)
        );
        let flags = LlmFlags {
            provider: Some(ProviderKind::Openai),
            ..Default::default()
        };
        let err = resolve_with(flags.clone(), &[], json!({}))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "--llm with provider openai needs an API key: set OPENAI_API_KEY in the environment"
        );
        let local = resolve_with(
            flags,
            &[("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")],
            json!({}),
        );
        assert!(
            local.is_ok(),
            "a local OpenAI-compatible server needs no key"
        );
        let s = resolve_with(
            LlmFlags::default(),
            &[("OLLAMA_HOST", "127.0.0.1:9")],
            json!({}),
        )
        .unwrap();
        assert_eq!(s.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn an_unusable_url_is_refused_naming_where_it_came_from() {
        let openai = LlmFlags {
            provider: Some(ProviderKind::Openai),
            ..Default::default()
        };
        let err = resolve_with(
            openai,
            &[("OPENAI_BASE_URL", "127.0.0.1:8080/v1")],
            json!({}),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.starts_with("OPENAI_BASE_URL `127.0.0.1:8080/v1` is not a usable URL ("),
            "{err}"
        );
        let err = resolve_with(LlmFlags::default(), &[], json!({"base-url": "http://"}))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("`base-url` in the testsmith metadata `http://` is not a usable URL"),
            "{err}"
        );
        for bad in ["", "not-a-url", "localhost:11434", "ftp://host"] {
            assert!(parse_base_url(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_base_url("https://api.example.com/v1").is_ok());
    }

    #[test]
    fn zero_limits_are_refused_wherever_they_were_set() {
        let err = |flags: LlmFlags, meta: Value| {
            resolve_with(flags, &[], meta).err().unwrap().to_string()
        };
        assert_eq!(
            err(LlmFlags::default(), json!({"max-concurrent": 0})),
            "`max-concurrent` in the testsmith metadata `0` is not a positive whole number"
        );
        assert_eq!(
            err(LlmFlags::default(), json!({"max-retries": 1.5})),
            "`max-retries` in the testsmith metadata `1.5` is not a positive whole number"
        );
        let flags = LlmFlags {
            max_concurrent: Some(0),
            ..Default::default()
        };
        assert_eq!(
            err(flags, json!({})),
            "--max-concurrent `0` is not a positive whole number"
        );
        assert_eq!(
            err(LlmFlags::default(), json!({"timeout": 0})),
            "`timeout` in the testsmith metadata `0` is not a positive number of seconds"
        );
    }

    #[test]
    fn a_fallback_to_ollama_says_why() {
        let s = resolve_with(LlmFlags::default(), &[], json!({})).unwrap();
        let why = s.chosen_because.unwrap();
        assert!(
            why.contains("OPENAI_API_KEY nor ANTHROPIC_API_KEY"),
            "{why}"
        );
        let named = LlmFlags {
            provider: Some(ProviderKind::Ollama),
            ..Default::default()
        };
        assert!(
            resolve_with(named, &[], json!({}))
                .unwrap()
                .chosen_because
                .is_none()
        );
    }
}
