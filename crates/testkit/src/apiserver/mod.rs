//! A stateful fake Kubernetes API server (HTTP/1.1, JSON) for end-to-end tests and
//! benchmarks: the real operator binary, kube-rs and the real `kubectl` talk to it as to a
//! cluster.
//!
//! It serves discovery, CRDs (creating one registers its resource), `clouddb.io/v1alpha1
//! clouddbjobs` (pre-registered by default), core `secrets`, `namespaces`, `configmaps`,
//! `events`, `events.k8s.io/v1 events` and `coordination.k8s.io/v1 leases` with
//! get/list/watch/create/update/patch/delete, status-subresource isolation, generation
//! rules, no-op write detection, finalizers, `410 Gone` on too-old watch resumes, fault
//! hooks and counters.
//!
//! Not a real server: no authentication, admission, validation against schemas (CEL rules
//! are not evaluated), OpenAPI (`/openapi/*` answers 404; use `kubectl --validate=false`),
//! aggregated discovery, protobuf, field-ownership tracking (see [`patch`]), namespace
//! existence checks or cascading deletes, and core and `events.k8s.io` events are separate
//! stores.

mod controllers;
mod discovery;
mod errors;
mod events;
mod handlers;
mod meta;
mod paging;
pub mod patch;
mod resources;
mod route;
mod selectors;
mod shared;
mod stats;
mod store;
mod table;
mod watch;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use kube::CustomResourceExt;
use serde_json::Value;

pub use shared::FakeApiServerConfig;
use shared::Shared;
pub use stats::ApiStats;
use store::{Store, Target};

/// A running fake API server. Dropping it (or [`FakeApiServer::shutdown`]) stops it.
pub struct FakeApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl FakeApiServer {
    /// Starts a server on `bind` (port 0 picks a free port) with default settings.
    pub async fn start(bind: SocketAddr) -> std::io::Result<FakeApiServer> {
        Self::start_with(bind, FakeApiServerConfig::default()).await
    }

    /// Starts a server on `bind` with `config`.
    pub async fn start_with(
        bind: SocketAddr,
        config: FakeApiServerConfig,
    ) -> std::io::Result<FakeApiServer> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let crd = if config.preregister_clouddbjobs {
            serde_json::to_value(clouddb_api::CloudDbJob::crd()).ok()
        } else {
            None
        };
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(config.retained_events, crd)),
            config,
            shutdown: shutdown_rx.clone(),
            addr,
        });
        let app = axum::Router::new()
            .fallback(handlers::handle)
            .with_state(shared.clone());
        let mut stop = shutdown_rx;
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "fake apiserver stopped with an error");
            }
        });
        Ok(FakeApiServer {
            shared,
            addr,
            shutdown,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `http://127.0.0.1:34567` (an unspecified bind address is reported as
    /// loopback).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// A kubeconfig (plain HTTP, no credentials, namespace `default`) that kubectl and
    /// kube-rs accept.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{}}\npreferences: {{}}\n",
            self.url()
        )
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ApiStats {
        self.shared.lock().stats.clone()
    }

    /// The last committed resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().rv
    }

    /// Reads a stored object directly (no request counted): `group` is empty for core,
    /// `namespace` `None` for cluster-scoped resources.
    pub fn object(
        &self,
        group: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let store = self.shared.lock();
        let def = store
            .registry
            .all()
            .find(|d| d.group == group && d.plural == plural)?
            .clone();
        let version = def.versions.first()?.clone();
        let target = Target {
            def: &def,
            version: &version,
            namespace,
        };
        store.get(&target, name).ok()
    }

    /// Makes the next `n` updates, patches and deletes of any resource answer 409 Conflict.
    pub fn inject_conflicts(&self, n: u64) {
        self.shared.lock().inject_conflicts("*", n);
    }

    /// Makes the next `n` updates, patches and deletes of `plural` (e.g. `"clouddbjobs"`,
    /// covering its `/status` too) answer 409 Conflict.
    pub fn inject_conflicts_for(&self, plural: &str, n: u64) {
        self.shared.lock().inject_conflicts(plural, n);
    }

    /// Closes every open watch and forgets the event history, so that resuming from any
    /// earlier resourceVersion answers 410 Gone and clients must re-list.
    pub fn expire_watches(&self) {
        self.shared.lock().expire_watches();
    }

    /// Stops the server (same as dropping it): the listener closes and open watches end.
    pub fn shutdown(self) {}
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
