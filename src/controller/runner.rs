//! Runs the kube-runtime `Controller` over CloudDbJobs until shutdown.

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::watcher;
use kube::Api;
use tracing::{info, warn};

use super::reconcile::{error_policy, reconcile, Context};
use super::server::Health;
use crate::api::CloudDbJob;

/// Controller settings from the command line.
#[derive(Clone, Debug)]
pub struct ControllerSettings {
    /// Watch one namespace instead of the whole cluster.
    pub namespace: Option<String>,
    /// How many jobs are reconciled (and so polled) at once.
    pub concurrency: u16,
}

/// Watches CloudDbJobs and reconciles them until `shutdown` resolves. Readiness turns on
/// once the controller is running and off when it stops.
pub async fn run_controller(
    ctx: Arc<Context>,
    settings: ControllerSettings,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<CloudDbJob> = match &settings.namespace {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    };
    info!(
        namespace = settings.namespace.as_deref().unwrap_or("<all>"),
        concurrency = settings.concurrency,
        "starting controller"
    );
    health.set_ready(true);
    Controller::new(api, watcher::Config::default().any_semantic())
        .with_config(ControllerConfig::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                // Object-level failures are already logged by error_policy; this catches
                // watch-level trouble (e.g. the CRD is not installed).
                warn!(error = %e, "controller stream error");
            }
        })
        .await;
    health.set_ready(false);
    info!("controller stopped");
}
