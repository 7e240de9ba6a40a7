//! What the server and the test handle share: the state, the fault queue, the request log and
//! the requests that hit no route, each behind its own lock, plus the base URL that every URL
//! in a body starts with.
//!
//! Locks are never held across an `.await`. A poisoned lock is taken over rather than
//! propagated: the fake must keep answering after a failed test thread.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::faults::FaultQueue;
use crate::state::State;

/// One request the fake served (admin requests are not logged).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, plus `?query` if there was one.
    pub path: String,
    /// The request body as text (lossy UTF-8).
    pub body: String,
    /// The status sent; 0 when the connection was dropped without a response.
    pub status: u16,
}

impl LoggedRequest {
    /// A request as the log records it (for tests of code that reads logs).
    pub fn new(method: &str, path: &str, body: &str, status: u16) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            body: body.to_owned(),
            status,
        }
    }
}

/// The shared core of one running fake.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Mutex<FaultQueue>,
    log: Mutex<Vec<LoggedRequest>>,
    unknown_routes: Mutex<Vec<String>>,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    served: AtomicU64,
}

/// A cheap handle on the shared core, given to every handler.
pub(crate) type App = Arc<Shared>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(state: State, base: String) -> App {
        Arc::new(Shared {
            state: Mutex::new(state),
            faults: Mutex::new(FaultQueue::default()),
            log: Mutex::new(Vec::new()),
            unknown_routes: Mutex::new(Vec::new()),
            base,
            served: AtomicU64::new(0),
        })
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        lock(&self.faults)
    }

    pub(crate) fn log(&self) -> MutexGuard<'_, Vec<LoggedRequest>> {
        lock(&self.log)
    }

    /// `METHOD /path` of every request that matched no route, oldest first.
    pub(crate) fn unknown_routes(&self) -> MutexGuard<'_, Vec<String>> {
        lock(&self.unknown_routes)
    }

    /// Strict mode's problems as sentences: requests that hit no route, then faults that must
    /// fire and still have times left. With `forget`, both are cleared.
    pub(crate) fn problems(&self, forget: bool) -> Vec<String> {
        let mut unknown = self.unknown_routes();
        let mut problems: Vec<String> = unknown
            .iter()
            .map(|route| format!("a request hit a route the fake does not implement: {route}"))
            .collect();
        let mut faults = self.faults();
        problems.extend(faults.unspent().iter().map(|f| {
            format!(
                "an injected fault never fired ({} time(s) left): {} {} {:?} (inject it with \
                 `inject_optional` if it may legitimately not fire)",
                f.times,
                f.method.as_deref().unwrap_or("any method"),
                f.path,
                f.kind
            )
        }));
        if forget {
            unknown.clear();
            faults.clear_required();
        }
        problems
    }

    /// Counts a request and returns its sequence number (from 1), for request ids and the
    /// rate-limit headers.
    pub(crate) fn next_request(&self) -> u64 {
        self.served.fetch_add(1, Ordering::Relaxed) + 1
    }
}
