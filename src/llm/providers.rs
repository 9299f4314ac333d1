//! The three wire formats: OpenAI-compatible chat completions, Anthropic messages, and Ollama
//! chat. Each turns a [`CompletionRequest`] into its provider's body and reads the model's text
//! back out of the reply; HTTP itself is [`Http`]'s.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use super::http::Http;
use super::provider::{Completion, CompletionRequest, Provider, ProviderError};

/// Which wire format to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Openai,
    Anthropic,
    Ollama,
}

impl ProviderKind {
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Ollama => "ollama",
        }
    }
}

/// A provider speaking to a real server.
pub struct RawProvider {
    kind: ProviderKind,
    http: Http,
    base_url: String,
    model: String,
    api_key: Option<String>,
    temperature: f32,
    /// The server refused `json_schema`; ask with `json_object` from now on.
    json_object_only: AtomicBool,
}

const SCHEMA_NAME: &str = "testsmith_tests";
const TOOL_NAME: &str = "emit_tests";

impl RawProvider {
    pub fn new(
        kind: ProviderKind,
        http: Http,
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        temperature: f32,
    ) -> RawProvider {
        RawProvider {
            kind,
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            api_key,
            temperature,
            json_object_only: AtomicBool::new(false),
        }
    }

    async fn openai(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let url = format!("{}/chat/completions", self.base_url);
        let auth = self.api_key.as_ref().map(|key| format!("Bearer {key}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let mut body = json!({
            "model": self.model,
            "temperature": self.temperature,
            "max_tokens": request.max_tokens,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
        });
        if !self.json_object_only.load(Ordering::Relaxed) {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": request.schema},
            });
            match self.http.post_json(&url, &headers, &body).await {
                Err(ProviderError::Permanent { message, status })
                    if matches!(status, 400 | 422) && mentions_schema(&message) =>
                {
                    // A server without json_schema support: once more with json_object.
                    self.json_object_only.store(true, Ordering::Relaxed);
                }
                other => return read_openai(&url, other?),
            }
        }
        body["response_format"] = json!({"type": "json_object"});
        let reply = self.http.post_json(&url, &headers, &body).await?;
        read_openai(&url, reply)
    }

    async fn anthropic(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let url = format!("{}/v1/messages", self.base_url);
        let key = self.api_key.as_deref().unwrap_or_default();
        let headers = [("x-api-key", key), ("anthropic-version", "2023-06-01")];
        let body = json!({
            "model": self.model,
            "max_tokens": request.max_tokens,
            "temperature": self.temperature,
            "system": request.system,
            "messages": [{"role": "user", "content": request.user}],
            "tools": [{
                "name": TOOL_NAME,
                "description": "Return the unit tests, one entry per requested item.",
                "input_schema": request.schema,
            }],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
        });
        let reply = self.http.post_json(&url, &headers, &body).await?;
        let value = parse_reply(&url, &reply)?;
        let content = value.get("content").and_then(Value::as_array);
        let tool_input = content
            .into_iter()
            .flatten()
            .find(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
            .and_then(|block| block.get("input"));
        if let Some(input) = tool_input {
            return Ok(Completion {
                text: input.to_string(),
            });
        }
        // No tool call: the model answered in prose; the fallback parser reads the text.
        let text: String = content
            .into_iter()
            .flatten()
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect();
        if text.is_empty() {
            return Err(garbage(&url, &reply));
        }
        Ok(Completion { text })
    }

    async fn ollama(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let url = format!("{}/api/chat", self.base_url);
        let body = json!({
            "model": self.model,
            "stream": false,
            "format": request.schema,
            "options": {"temperature": self.temperature, "num_predict": request.max_tokens},
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
        });
        let reply = self.http.post_json(&url, &[], &body).await?;
        let value = parse_reply(&url, &reply)?;
        value
            .pointer("/message/content")
            .and_then(Value::as_str)
            .map(|text| Completion {
                text: text.to_owned(),
            })
            .ok_or_else(|| garbage(&url, &reply))
    }
}

impl Provider for RawProvider {
    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        match self.kind {
            ProviderKind::Openai => self.openai(request).await,
            ProviderKind::Anthropic => self.anthropic(request).await,
            ProviderKind::Ollama => self.ollama(request).await,
        }
    }
}

fn mentions_schema(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("json_schema") || message.contains("response_format")
}

fn read_openai(url: &str, reply: String) -> Result<Completion, ProviderError> {
    let value = parse_reply(url, &reply)?;
    value
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(|text| Completion {
            text: text.to_owned(),
        })
        .ok_or_else(|| garbage(url, &reply))
}

fn parse_reply(url: &str, reply: &str) -> Result<Value, ProviderError> {
    serde_json::from_str(reply).map_err(|_| garbage(url, reply))
}

/// A 2xx whose body is not the provider's reply format: not retried, since a server that
/// answers garbage once will likely do it again.
fn garbage(url: &str, reply: &str) -> ProviderError {
    let start: String = reply.chars().take(80).collect();
    ProviderError::Permanent {
        message: format!(
            "{url} answered, but not in the provider's format (starts with {start:?})"
        ),
        status: 200,
    }
}
