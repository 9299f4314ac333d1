//! At most N requests in flight. Sits between retry and the raw provider, so a slot is held
//! only while a request is actually out.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use super::provider::{Completion, CompletionRequest, Provider, ProviderError};

pub struct Limit<P> {
    inner: P,
    slots: Semaphore,
    in_flight: AtomicUsize,
}

impl<P> Limit<P> {
    pub fn new(inner: P, max_concurrent: usize) -> Limit<P> {
        Limit {
            inner,
            slots: Semaphore::new(max_concurrent.max(1)),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Requests out right now, for the progress bar.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

impl<P: Provider> Provider for Limit<P> {
    async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| ProviderError::Interrupted)?;
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        // Decrement even if the future is dropped mid-request.
        struct Out<'a>(&'a AtomicUsize);
        impl Drop for Out<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let _out = Out(&self.in_flight);
        self.inner.complete(request).await
    }
}
