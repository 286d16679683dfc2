//! Runs the kube-runtime `Controller` over CloudDbJobs until shutdown.

use std::future::Future;
use std::sync::Arc;

use futures::{FutureExt, StreamExt, TryStreamExt};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};
use tracing::info;

use super::context::Context;
use super::instance::{run_instance_controller, InstanceContext};
use super::reconcile::{error_policy, reconcile};
use super::server::Health;
use super::stream::log_stream_error;
pub use super::stream::ControllerSettings;
use crate::api::CloudDbJob;
use crate::providers::discovery::JobLister;

/// kubectl's copy of the last applied manifest: a second copy of the spec.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Everything `run` builds before it starts, so tests and the benchmark can build it too.
pub struct Operator {
    pub ctx: Arc<Context>,
    pub health: Arc<Health>,
    pub settings: ControllerSettings,
    /// The listers of CloudDbInstance discovery; `None` runs the CloudDbJob controller only.
    pub lister: Option<Arc<dyn JobLister>>,
}

/// Runs the CloudDbJob controller and, with listers, the CloudDbInstance controller beside
/// it, until `shutdown` resolves (both stop together: they share the leadership).
pub async fn run_operator(op: &Operator, shutdown: impl Future<Output = ()> + Send + 'static) {
    let shutdown = shutdown.shared();
    let jobs = run_controller(
        op.ctx.clone(),
        op.settings.clone(),
        op.health.clone(),
        shutdown.clone(),
    );
    match &op.lister {
        Some(lister) => {
            let ictx = Arc::new(InstanceContext::new(op.ctx.clone(), lister.clone()));
            let instances = run_instance_controller(ictx, op.settings.clone(), shutdown);
            futures::join!(jobs, instances);
        }
        None => jobs.await,
    }
}

/// Drops what the reconciler never reads from a watched object before it is cached.
///
/// `managedFields` (one field tree per manager, the status one naming every condition
/// field) and kubectl's last-applied annotation are most of a tracked object's size, and
/// the cache holds every CloudDbJob for the life of the process.
pub fn trim_for_cache(job: &mut CloudDbJob) {
    let meta = job.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
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
    let metrics = ctx.metrics.clone();
    metrics.leader.set(1);
    // What `Controller::new` builds, plus trimming before objects reach the cache and
    // forgetting deleted jobs (the controller never reconciles an object that is gone).
    let (reader, writer) = reflector::store();
    let memory = ctx.memory.clone();
    let store = reader.clone();
    let jobs = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(trim_for_cache)
        .reflect(writer)
        .inspect_ok(move |event| match event {
            watcher::Event::Delete(job) => memory.forget(&job.uid().unwrap_or_default()),
            // The store now holds exactly the listing.
            watcher::Event::InitDone => {
                memory.retain(&store.state().iter().filter_map(|j| j.uid()).collect())
            }
            _ => {}
        })
        .applied_objects();
    Controller::for_stream(jobs, reader)
        .with_config(ControllerConfig::default().concurrency(settings.concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| {
            log_stream_error("CloudDbJob", &metrics, &result);
            futures::future::ready(())
        })
        .await;
    metrics.leader.set(0);
    health.set_ready(false);
    info!("controller stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CloudDbJobSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
    use std::collections::BTreeMap;

    #[test]
    fn trimming_drops_managed_fields_and_last_applied_but_keeps_the_rest() {
        let spec: CloudDbJobSpec = serde_json::from_value(serde_json::json!({
            "provider": "tencent", "jobId": "1", "region": "ap-guangzhou",
            "credentialsSecretRef": {"name": "creds"}
        }))
        .unwrap();
        let mut job = CloudDbJob::new("j", spec);
        job.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("kubectl".into()),
            fields_v1: Some(FieldsV1(serde_json::json!({"f:spec": {}}))),
            ..Default::default()
        }]);
        job.metadata.annotations = Some(BTreeMap::from([
            (LAST_APPLIED.to_string(), "{}".to_string()),
            ("team".to_string(), "db".to_string()),
        ]));
        job.metadata.uid = Some("u".into());
        let before = job.clone();
        trim_for_cache(&mut job);
        assert_eq!(job.metadata.managed_fields, None);
        assert_eq!(
            job.metadata.annotations,
            Some(BTreeMap::from([("team".to_string(), "db".to_string())]))
        );
        assert_eq!(job.spec, before.spec);
        assert_eq!(job.metadata.uid, before.metadata.uid);

        job.metadata.annotations = Some(BTreeMap::from([(LAST_APPLIED.into(), "{}".into())]));
        trim_for_cache(&mut job);
        assert_eq!(job.metadata.annotations, None, "no empty map left behind");
    }
}
