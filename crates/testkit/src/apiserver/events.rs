//! Committed changes as watchers receive them.

use std::sync::Arc;

use serde_json::Value;

use super::resources::ResourceKey;

/// Watch event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Object created.
    Added,
    /// Object changed.
    Modified,
    /// Object removed.
    Deleted,
}

impl EventKind {
    /// The wire name (`ADDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Clone, Debug)]
pub struct Event {
    /// The resourceVersion the change was committed at.
    pub rv: u64,
    /// Resource type.
    pub resource: ResourceKey,
    /// Event type.
    pub kind: EventKind,
    /// The object after the change (for `Deleted`, the last state with the delete's rv).
    pub object: Value,
    /// The object before the change (`None` for `Added`), for selector transitions.
    pub prev: Option<Value>,
}

/// What watchers receive on the broadcast channel.
#[derive(Clone, Debug)]
pub enum WatchMsg {
    /// A committed change.
    Event(Arc<Event>),
    /// [`super::FakeApiServer::expire_watches`]: close every open watch.
    Expire,
}
