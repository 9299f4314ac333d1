//! The one trait every layer of the LLM stack implements, and what goes over it: a completion
//! request asking for the test envelope, the model's text, and errors that know whether they
//! are worth a retry.

use std::future::Future;
use std::time::Duration;

/// One structured-output request.
#[derive(Debug, Clone)]
pub struct CompletionRequest {
    pub system: String,
    pub user: String,
    /// JSON schema the answer must follow (the test envelope, names enumerated).
    pub schema: serde_json::Value,
    pub max_tokens: u32,
}

/// The model's answer: its text, which should be the JSON envelope.
#[derive(Debug, Clone)]
pub struct Completion {
    pub text: String,
}

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// Worth another attempt: connect error, timeout, 408, 409, 429, 5xx, 529, dropped
    /// connection. `retry_after` is the server's own wish, when it said one.
    #[error("{message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
        /// The server could not be reached at all (as opposed to answering with an error).
        unreachable: bool,
    },
    /// Not worth another attempt: 400, 401, 403, 404, 422 and other client errors, with the
    /// server's message.
    #[error("{message}")]
    Permanent { message: String, status: u16 },
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

impl ProviderError {
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Transient { .. })
    }
}

/// Anything that can answer a [`CompletionRequest`]: a raw provider, or a wrapper around one.
pub trait Provider: Send + Sync {
    fn complete(
        &self,
        request: &CompletionRequest,
    ) -> impl Future<Output = Result<Completion, ProviderError>> + Send;
}
