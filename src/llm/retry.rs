//! Retry transient failures with exponential backoff and jitter. The outer layer of the call
//! stack, so that each attempt takes its own concurrency slot and no slot is held while waiting.

use std::time::Duration;

use super::provider::{Completion, CompletionRequest, Provider, ProviderError};

/// Retries `inner` up to `attempts` times in all.
pub struct Retry<P> {
    inner: P,
    attempts: u32,
    /// The first wait; each later one doubles.
    base: Duration,
    /// No wait is longer, whatever the server asks for.
    cap: Duration,
}

impl<P> Retry<P> {
    pub fn new(inner: P, attempts: u32, base: Duration, cap: Duration) -> Retry<P> {
        Retry {
            inner,
            attempts: attempts.max(1),
            base,
            cap,
        }
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The wait before attempt `attempt` (1 = the first retry): the server's `Retry-After`
    /// when it gave one, else `base · 2^(attempt-1)` with ±20 % jitter, so that callers who
    /// failed together do not retry together.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let wait = match retry_after {
            Some(asked) => asked,
            None => {
                let exp = self.base.saturating_mul(1 << (attempt - 1).min(16));
                exp.mul_f64(0.8 + 0.4 * fastrand::f64())
            }
        };
        wait.min(self.cap)
    }
}

impl<P: Provider> Provider for Retry<P> {
    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let mut attempt = 0;
        loop {
            match self.inner.complete(request).await {
                Ok(completion) => return Ok(completion),
                Err(ProviderError::Transient {
                    message,
                    retry_after,
                    unreachable,
                }) => {
                    attempt += 1;
                    if attempt >= self.attempts {
                        let attempts = self.attempts;
                        let tries = if attempts == 1 { "attempt" } else { "attempts" };
                        return Err(ProviderError::Transient {
                            message: format!("{message} (after {attempts} {tries})"),
                            retry_after,
                            unreachable,
                        });
                    }
                    // Dropping this future (Ctrl-C) ends the wait at once.
                    tokio::time::sleep(self.wait(attempt, retry_after)).await;
                }
                Err(other) => return Err(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_the_server_wins_up_to_the_cap() {
        let retry = Retry::new((), 3, Duration::from_millis(200), Duration::from_secs(5));
        for _ in 0..50 {
            let first = retry.wait(1, None);
            let second = retry.wait(2, None);
            assert!(first >= Duration::from_millis(160) && first <= Duration::from_millis(240));
            assert!(second >= Duration::from_millis(320) && second <= Duration::from_millis(480));
        }
        assert_eq!(
            retry.wait(1, Some(Duration::from_millis(50))),
            Duration::from_millis(50)
        );
        assert_eq!(
            retry.wait(1, Some(Duration::from_secs(60))),
            Duration::from_secs(5)
        );
    }
}
