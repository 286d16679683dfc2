//! The server's settings and the state its handlers and watch tasks share. A file of its
//! own: the handlers and watches use it, and `apiserver/mod.rs` starts them.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::store::Store;

/// Server settings; [`Default`] suits tests.
#[derive(Clone, Debug)]
pub struct FakeApiServerConfig {
    /// How many change events are retained for watch resumes; resuming from a version older
    /// than the oldest retained event answers 410 Gone.
    pub retained_events: usize,
    /// How often watches with `allowWatchBookmarks=true` get a BOOKMARK.
    pub bookmark_interval: Duration,
    /// Create the `clouddbjobs.clouddb.io` CRD (and so serve the resource) at start.
    pub preregister_clouddbjobs: bool,
}

impl Default for FakeApiServerConfig {
    fn default() -> Self {
        FakeApiServerConfig {
            retained_events: 10_000,
            bookmark_interval: Duration::from_secs(5),
            preregister_clouddbjobs: true,
        }
    }
}

/// State shared by the handlers and watch tasks.
pub(crate) struct Shared {
    pub(super) store: Mutex<Store>,
    pub(super) config: FakeApiServerConfig,
    pub(super) shutdown: tokio::sync::watch::Receiver<bool>,
    pub(super) addr: SocketAddr,
}

impl Shared {
    /// The store, recovering from a poisoned lock (a panicking handler must not wedge the
    /// server for every later test step).
    pub(super) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
