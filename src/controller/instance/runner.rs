//! Runs the kube-runtime `Controller` over CloudDbInstances, once the CRD is served.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::{predicates, reflector, watcher, PredicateConfig, WatchStreamExt};
use kube::{Api, Client, Resource};
use tracing::{info, warn};

use super::reconcile::{instance_error_policy, reconcile_instance, InstanceContext};
use crate::api::CloudDbInstance;
use crate::controller::stream::{log_stream_error, ControllerSettings};

/// How often an operator whose cluster lacks the CloudDbInstance CRD looks again: an old
/// install (or a test installing only the CloudDbJob CRD) must run the job controller
/// without a crash loop or a log line per second.
pub const CRD_RECHECK: Duration = Duration::from_secs(300);

/// Whether the API server serves `clouddbinstances.clouddb.io/v1alpha1` (API discovery,
/// which every authenticated user may read).
pub async fn instances_served(client: &Client) -> Result<bool, kube::Error> {
    match client.list_api_group_resources("clouddb.io/v1alpha1").await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == "clouddbinstances")),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Waits for the CRD (logging once), then watches CloudDbInstances and reconciles them
/// until `shutdown` resolves.
pub async fn run_instance_controller(
    ictx: Arc<InstanceContext>,
    settings: ControllerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let shutdown = shutdown.shared();
    let client = ictx.ctx.client.clone();
    let mut waited = false;
    loop {
        match instances_served(&client).await {
            Ok(true) => break,
            Ok(false) if !waited => warn!(
                recheck_in = CRD_RECHECK.as_secs(),
                "the CloudDbInstance CRD is not installed: CloudDbInstances are not reconciled until it is"
            ),
            Ok(false) => {}
            Err(e) if !waited => warn!(error = %e, "cannot read API discovery for CloudDbInstance; looking again later"),
            Err(_) => {}
        }
        waited = true;
        tokio::select! {
            _ = shutdown.clone() => return,
            _ = tokio::time::sleep(CRD_RECHECK) => {}
        }
    }
    let api: Api<CloudDbInstance> = match &settings.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    info!(
        namespace = settings.namespace.as_deref().unwrap_or("<all>"),
        "starting CloudDbInstance controller"
    );
    let metrics = ictx.ctx.metrics.clone();
    let (reader, writer) = reflector::store();
    // Only spec changes start a round: status writes (the controller's own) do not, so an
    // instance is listed once per pollInterval, not once more after each write.
    let instances = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|i: &mut CloudDbInstance| i.meta_mut().managed_fields = None)
        .reflect(writer)
        .applied_objects()
        .predicate_filter(predicates::generation, PredicateConfig::default());
    Controller::for_stream(instances, reader)
        .with_config(ControllerConfig::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile_instance, instance_error_policy, ictx)
        .for_each(|result| {
            log_stream_error("CloudDbInstance", &metrics, &result);
            futures::future::ready(())
        })
        .await;
    info!("CloudDbInstance controller stopped");
}
