//! The run's one async runtime, and Ctrl-C. Every wait of a run — a call to the model, a
//! backoff, cargo, a test binary — goes through [`Runtime::block_on`], which drops the whole
//! future at Ctrl-C, `SIGTERM` (a CI job cancelled, `timeout`) or `SIGHUP` (the terminal
//! closed): requests are abandoned and child processes killed (their guards run on drop),
//! nothing is written, and the run ends with [`Error::Interrupted`].

use std::future::Future;

use tokio::sync::watch;

use crate::error::{Error, LlmError};

/// The first of Ctrl-C, `SIGTERM` and `SIGHUP`. The handlers are installed here, before the
/// future is first polled: a signal that arrives before the listener runs is not lost.
#[cfg(unix)]
fn stop_signal() -> impl Future<Output = std::io::Result<()>> + Send {
    use tokio::signal::unix::{SignalKind, signal};
    let streams = [SignalKind::terminate(), SignalKind::hangup()].map(signal);
    async move {
        let [term, hup] = streams;
        let (mut term, mut hup) = (term?, hup?);
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
            _ = hup.recv() => Ok(()),
        }
    }
}

#[cfg(not(unix))]
fn stop_signal() -> impl Future<Output = std::io::Result<()>> + Send {
    tokio::signal::ctrl_c()
}

/// Set once Ctrl-C, `SIGTERM` or `SIGHUP` arrived, for a step that waits on nothing (the
/// writes at the end of a run) to check before it acts.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the run was told to stop by a signal.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

pub struct Runtime {
    runtime: tokio::runtime::Runtime,
    interrupted: watch::Receiver<bool>,
    /// Why the run cannot go on, once something in the background found out (the warm-up
    /// build of a package that does not build): every wait ends with it.
    stopped: watch::Sender<Option<String>>,
}

impl Runtime {
    pub fn new() -> Result<Runtime, Error> {
        // One worker, so the Ctrl-C listener below runs even between two `block_on`s: a
        // Ctrl-C pressed while files are rendered still ends the run at the next wait.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(LlmError::Runtime)?;
        let (sender, interrupted) = watch::channel(false);
        let stop = {
            // Signal streams register with the runtime they are made in.
            let _entered = runtime.enter();
            stop_signal()
        };
        runtime.spawn(async move {
            if stop.await.is_ok() {
                INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = sender.send(true);
            }
            // Keep the sender: a closed channel would read as "never interrupted".
            std::future::pending::<()>().await;
        });
        Ok(Runtime {
            runtime,
            interrupted,
            stopped: watch::channel(None).0,
        })
    }

    /// Start `future` in the background, on the runtime's worker. Abort the handle (or drop
    /// the runtime) to drop the future, and with it any child process it holds.
    pub fn spawn(
        &self,
        future: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.runtime.spawn(future)
    }

    /// Call `f` once at Ctrl-C, on the runtime's worker: for a caller that waits outside
    /// `block_on` (a watch waits for file events).
    pub fn on_interrupt(&self, f: impl FnOnce() + Send + 'static) {
        let mut interrupted = self.interrupted.clone();
        self.runtime.spawn(async move {
            if interrupted.wait_for(|&yes| yes).await.is_ok() {
                f();
            }
        });
    }

    /// A handle that ends every wait of the run with `Error::Stopped`, from any thread.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stopped.clone())
    }

    /// Run `future` to completion, or drop it at Ctrl-C (pressed before or during it) or when
    /// the run was stopped.
    pub fn block_on<T>(&self, future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let mut interrupted = self.interrupted.clone();
        let mut stopped = self.stopped.subscribe();
        self.runtime.block_on(async move {
            tokio::select! {
                biased;
                _ = interrupted.wait_for(|&yes| yes) => Err(Error::Interrupted),
                why = stopped.wait_for(Option::is_some) => {
                    let why = why.map(|why| why.clone().unwrap_or_default()).unwrap_or_default();
                    Err(Error::Stopped(why))
                }
                result = future => result,
            }
        })
    }
}

/// Ends a run's waits: see [`Runtime::stopper`].
#[derive(Clone)]
pub struct Stopper(watch::Sender<Option<String>>);

impl Stopper {
    /// Stop the run, saying why; the first reason given stays.
    pub fn stop(&self, why: String) {
        self.0.send_if_modified(|stopped| {
            let first = stopped.is_none();
            if first {
                *stopped = Some(why);
            }
            first
        });
    }
}
