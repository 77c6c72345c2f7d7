//! How far the accounting writer has come, for callers waiting in async code on any runtime:
//! a value behind a lock and the wakers of the tasks waiting for it to change.

use std::future::poll_fn;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

/// The disclosures durable so far, the last failed commit (cleared by the next good one), and
/// whether the writer has stopped.
#[derive(Debug, Clone, Default)]
pub(super) struct Progress {
    pub(super) durable: u64,
    pub(super) error: Option<String>,
    pub(super) gone: bool,
}

/// The latest [`Progress`], and who waits for news of it.
#[derive(Debug, Default)]
pub(super) struct Watch {
    inner: Mutex<(Progress, Vec<Waker>)>,
}

impl Watch {
    fn lock(&self) -> MutexGuard<'_, (Progress, Vec<Waker>)> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the progress and wakes every waiting task, which looks again.
    pub(super) fn send_modify(&self, f: impl FnOnce(&mut Progress)) {
        let wakers = {
            let mut inner = self.lock();
            f(&mut inner.0);
            std::mem::take(&mut inner.1)
        };
        for w in wakers {
            w.wake();
        }
    }

    /// The progress once `done` holds of it.
    pub(super) async fn wait_for(&self, done: impl Fn(&Progress) -> bool) -> Progress {
        poll_fn(|cx| {
            let mut inner = self.lock();
            if done(&inner.0) {
                return Poll::Ready(inner.0.clone());
            }
            if !inner.1.iter().any(|w| w.will_wake(cx.waker())) {
                inner.1.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}
