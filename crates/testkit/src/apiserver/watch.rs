//! Watch streams: newline-delimited JSON `{"type":..,"object":..}` events over a chunked
//! response, resumable from a resourceVersion, with bookmarks, `timeoutSeconds`,
//! `sendInitialEvents` and a `410 Gone` ERROR event when the version is too old.
//!
//! Simplifications: a watch with `sendInitialEvents=true` starts from the current state
//! whatever resourceVersion it names; an object leaving a selector yields `DELETED`, entering
//! it `ADDED`, like the real server.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;

use super::errors::ApiError;
use super::meta;
use super::resources::ResourceDef;
use super::selectors::{FieldSelector, LabelSelector};
use super::store::{Event, EventKind, Target, WatchMsg};
use super::table::{self, IncludeObject};
use super::Shared;

/// A parsed watch request.
pub struct WatchRequest {
    /// Resource watched.
    pub def: ResourceDef,
    /// Version addressed.
    pub version: String,
    /// Namespace, or all.
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: LabelSelector,
    /// Field selector.
    pub fields: FieldSelector,
    /// `resourceVersion`; `None` or `Some(0)` means "current state, then changes".
    pub resource_version: Option<u64>,
    /// `sendInitialEvents=true`.
    pub send_initial_events: bool,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// `timeoutSeconds`.
    pub timeout: Duration,
    /// Render event objects as one-row Tables (`kubectl get -w`).
    pub table: Option<IncludeObject>,
}

impl WatchRequest {
    fn matches(&self, object: &Value) -> bool {
        let ns_ok = self
            .namespace
            .as_deref()
            .is_none_or(|ns| meta::meta_str(object, "namespace") == Some(ns));
        ns_ok && self.labels.matches(object) && self.fields.matches(object)
    }

    fn typed(&self, object: &Value) -> Value {
        let mut object = object.clone();
        meta::set_type(&mut object, &self.def, &self.version);
        match self.table {
            Some(include) => table::render(&self.def, &[object], None, include),
            None => object,
        }
    }

    /// What this watcher sees of a committed event, if anything.
    fn translate(&self, event: &Event) -> Option<(&'static str, Value)> {
        if event.resource != self.def.key() {
            return None;
        }
        let now = self.matches(&event.object);
        let before = event.prev.as_ref().is_some_and(|p| self.matches(p));
        let kind = match (event.kind, before, now) {
            (EventKind::Added, _, true) => EventKind::Added,
            (EventKind::Modified, true, true) => EventKind::Modified,
            (EventKind::Modified, false, true) => EventKind::Added,
            (EventKind::Modified, true, false) => EventKind::Deleted,
            (EventKind::Deleted, b, n) if b || n => EventKind::Deleted,
            _ => return None,
        };
        Some((kind.as_str(), self.typed(&event.object)))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            "BOOKMARK",
            json!({"kind": self.def.kind, "apiVersion": self.def.api_version(&self.version), "metadata": metadata}),
        )
    }
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

fn gone_line(requested: u64, oldest: u64) -> Bytes {
    line("ERROR", ApiError::gone(requested, oldest).to_status())
}

fn streaming_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let mut response = Response::new(Body::from_stream(rx.map(Ok::<_, Infallible>)));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Starts a watch: subscribes under the store lock (so no change is missed or doubled),
/// then streams from a task until timeout, client disconnect, expiry or server shutdown.
pub fn start(shared: Arc<Shared>, request: WatchRequest) -> Response {
    let (mut tx, rx) = mpsc::channel::<Bytes>(256);
    let mut first: Vec<Bytes> = Vec::new();
    let (subscription, start_rv) = {
        let mut store = shared.lock();
        let from = request.resource_version.filter(|rv| *rv > 0);
        if request.send_initial_events || from.is_none() {
            let target = Target {
                def: &request.def,
                version: &request.version,
                namespace: request.namespace.as_deref(),
            };
            for object in store.list(&target, &request.labels, &request.fields) {
                first.push(line("ADDED", request.typed(&object)));
            }
            let rv = store.rv;
            if request.send_initial_events && request.bookmarks {
                first.push(request.bookmark(rv, true));
            }
            (Some(store.tx.subscribe()), rv)
        } else {
            let from = from.unwrap_or_default();
            match store.events_since(&request.def.key(), from) {
                Ok(events) => {
                    let mut last = from;
                    for event in events {
                        last = event.rv;
                        if let Some((kind, object)) = request.translate(&event) {
                            first.push(line(kind, object));
                        }
                    }
                    (Some(store.tx.subscribe()), last)
                }
                Err(oldest) => {
                    store.stats.gone += 1;
                    first.push(gone_line(from, oldest));
                    (None, from)
                }
            }
        }
    };
    tokio::spawn(async move {
        for chunk in first {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        if let Some(rx) = subscription {
            pump(shared, request, rx, tx, start_rv).await;
        }
    });
    streaming_response(rx)
}

/// What happened to a watcher on one broadcast message.
enum Step {
    Continue,
    Close,
    Gone,
}

impl WatchRequest {
    fn step(
        &self,
        msg: Result<WatchMsg, RecvError>,
        last_rv: &mut u64,
        out: &mut Vec<Bytes>,
    ) -> Step {
        match msg {
            Ok(WatchMsg::Event(event)) => {
                if event.rv > *last_rv {
                    *last_rv = event.rv;
                    if let Some((kind, object)) = self.translate(&event) {
                        out.push(line(kind, object));
                    }
                }
                Step::Continue
            }
            Ok(WatchMsg::Expire) | Err(RecvError::Closed) => Step::Close,
            Err(RecvError::Lagged(_)) => Step::Gone,
        }
    }
}

async fn pump(
    shared: Arc<Shared>,
    request: WatchRequest,
    mut rx: Receiver<WatchMsg>,
    mut tx: mpsc::Sender<Bytes>,
    mut last_rv: u64,
) {
    let deadline = tokio::time::sleep(request.timeout);
    tokio::pin!(deadline);
    let mut shutdown = shared.shutdown.clone();
    let mut ticker = tokio::time::interval(
        shared
            .config
            .bookmark_interval
            .max(Duration::from_millis(10)),
    );
    ticker.tick().await;
    loop {
        let mut out: Vec<Bytes> = Vec::new();
        let step = tokio::select! {
            msg = rx.recv() => request.step(msg, &mut last_rv, &mut out),
            _ = ticker.tick() => {
                // Drain what was committed so far under the lock, so the bookmark's version
                // covers everything sent before it.
                let mut pending = Vec::new();
                let current = {
                    let store = shared.lock();
                    loop {
                        match rx.try_recv() {
                            Ok(msg) => pending.push(Ok(msg)),
                            Err(TryRecvError::Lagged(n)) => pending.push(Err(RecvError::Lagged(n))),
                            Err(TryRecvError::Closed) => pending.push(Err(RecvError::Closed)),
                            Err(TryRecvError::Empty) => break,
                        }
                    }
                    store.rv
                };
                let mut step = Step::Continue;
                for msg in pending {
                    step = request.step(msg, &mut last_rv, &mut out);
                    if !matches!(step, Step::Continue) {
                        break;
                    }
                }
                if matches!(step, Step::Continue) && request.bookmarks {
                    last_rv = last_rv.max(current);
                    out.push(request.bookmark(last_rv, false));
                }
                step
            },
            _ = &mut deadline => Step::Close,
            _ = shutdown.changed() => Step::Close,
        };
        if matches!(step, Step::Gone) {
            let oldest = shared.lock().compacted;
            out.push(gone_line(last_rv, oldest));
        }
        for chunk in out {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        if !matches!(step, Step::Continue) || tx.is_closed() {
            return;
        }
    }
}
