//! One round of one CloudDbInstance: credentials, one listing, the pure decision, the
//! creates, at most one status write, and when to look again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use kube::api::{ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource, ResourceExt};
use tracing::{debug, info, warn};

use crate::api::{
    CloudDbInstance, CloudDbInstanceSpec, CloudDbInstanceStatus, CloudDbJob,
    DEFAULT_INSTANCE_POLL_INTERVAL, INSTANCE_LABEL,
};
use crate::controller::context::{Context, Error, FIELD_MANAGER};
use crate::controller::discovery::{decide, instance_label_value, Outcome};
use crate::controller::metrics::{CallLabels, EventLabels, ProviderLabels};
use crate::controller::policy::{permanent_backoff, secret_backoff, transient_backoff};
use crate::controller::reconcile::write_status;
use crate::controller::secrets::CredentialSource;
use crate::duration::{format_duration, parse_duration};
use crate::providers::discovery::{Discovery, InstanceTarget, JobLister};
use crate::providers::target::parse_endpoint;
use crate::providers::{ErrorClass, ErrorReason, ProviderError};

/// What the instance controller shares: the job controller's context (client, metrics,
/// events, endpoint policy, clock, Secret reader) and the listers.
pub struct InstanceContext {
    pub ctx: Arc<Context>,
    pub lister: Arc<dyn JobLister>,
    /// Kubernetes API failures in a row per instance UID, for `instance_error_policy`.
    api_errors: Mutex<HashMap<String, u32>>,
}

impl InstanceContext {
    pub fn new(ctx: Arc<Context>, lister: Arc<dyn JobLister>) -> Self {
        InstanceContext {
            ctx,
            lister,
            api_errors: Mutex::default(),
        }
    }

    fn errors(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.api_errors.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reconciles one CloudDbInstance.
pub async fn reconcile_instance(
    instance: Arc<CloudDbInstance>,
    ictx: Arc<InstanceContext>,
) -> Result<Action, Error> {
    let result = reconcile_inner(&instance, &ictx).await;
    if result.is_ok() {
        ictx.errors().remove(&instance.uid().unwrap_or_default());
    }
    result
}

/// Requeue after a Kubernetes API failure: the job controller's transient backoff.
pub fn instance_error_policy(
    instance: Arc<CloudDbInstance>,
    error: &Error,
    ictx: Arc<InstanceContext>,
) -> Action {
    let n = {
        let mut errors = ictx.errors();
        let n = errors
            .entry(instance.uid().unwrap_or_default())
            .or_default();
        *n = n.saturating_add(1);
        *n
    };
    let sample = (ictx.ctx.sampler)();
    let delay = transient_backoff(n as i32, None, sample).max(Duration::from_secs(1));
    warn!(
        namespace = instance.namespace().unwrap_or_default(),
        name = instance.name_any(),
        error = %error,
        retry_in = %format_duration(delay),
        "instance reconcile failed"
    );
    Action::requeue(delay)
}

/// A round that could not list: the error written to status, and whether it is the
/// Secret (looked at again on the Secret backoff) rather than the provider.
struct Failure {
    error: ProviderError,
    /// The status reason when it is not the provider's (`SecretNotFound`, ...).
    reason: Option<&'static str>,
    secret: bool,
}

async fn reconcile_inner(
    instance: &CloudDbInstance,
    ictx: &InstanceContext,
) -> Result<Action, Error> {
    if instance.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ctx = &ictx.ctx;
    let namespace = instance.namespace().ok_or(Error::MissingNamespace)?;
    let now = (ctx.clock)();
    let interval = poll_interval(&instance.spec);

    let listed = match list(instance, &namespace, now, ictx).await? {
        Listed::RateLimited(wait) => {
            ctx.metrics.rate_limited.inc();
            return Ok(Action::requeue(wait));
        }
        Listed::Done(result) => result,
    };
    let (decision, failure) = match &listed {
        Ok(discovery) => {
            let existing = labelled_jobs(instance, &namespace, ctx).await?;
            (
                decide(instance, Outcome::Listed(discovery), &existing, now),
                None,
            )
        }
        Err(failure) => {
            let mut d = decide(instance, Outcome::Failed(&failure.error), &[], now);
            if let Some(reason) = failure.reason {
                relabel(&mut d.status, failure.error.reason.as_str(), reason);
            }
            (d, Some(failure))
        }
    };
    if !decision.unusable_ids.is_empty() {
        warn!(
            namespace,
            name = instance.name_any(),
            ids = ?decision.unusable_ids,
            "listed job IDs no CloudDbJob can carry were skipped"
        );
    }
    for job in &decision.create {
        if create_job(job, &namespace, ctx).await? {
            ctx.metrics
                .discovered_jobs
                .get_or_create(&ProviderLabels {
                    provider: instance.spec.provider.as_str(),
                })
                .inc();
            let note = format!(
                "created CloudDbJob {} for provider job {}",
                job.name_any(),
                job.spec.job_id
            );
            publish(instance, EventType::Normal, "JobDiscovered", note, ctx).await;
        }
    }
    if decision.status_changed(instance) {
        write_status(instance, &namespace, &decision.status, ctx).await?;
        let before = instance.status.clone().unwrap_or_default();
        if stalled(&decision.status)
            && (!stalled(&before) || before.reason != decision.status.reason)
        {
            let reason = decision.status.reason.clone().unwrap_or_default();
            let note = decision.status.message.clone().unwrap_or_default();
            publish(instance, EventType::Warning, &reason, note, ctx).await;
        }
    } else {
        ctx.metrics.status_writes_skipped.inc();
    }

    let errors = decision.status.consecutive_errors.unwrap_or(0);
    let sample = (ctx.sampler)();
    let delay = match failure {
        None => interval,
        Some(f) if f.secret => secret_backoff(errors, sample),
        Some(f) if f.error.class == ErrorClass::Permanent => {
            permanent_backoff(errors, sample).max(interval)
        }
        Some(f) => transient_backoff(errors, f.error.retry_after, sample),
    };
    debug!(
        namespace,
        name = instance.name_any(),
        created = decision.create.len(),
        next = %format_duration(delay),
        "instance reconciled"
    );
    Ok(Action::requeue(delay))
}

enum Listed {
    /// Refused by the local rate limit: nothing sent, nothing written.
    RateLimited(Duration),
    Done(Result<Discovery, Failure>),
}

/// Resolves the target and credentials and lists once, measured.
async fn list(
    instance: &CloudDbInstance,
    namespace: &str,
    now: Timestamp,
    ictx: &InstanceContext,
) -> Result<Listed, Error> {
    let ctx = &ictx.ctx;
    let spec = &instance.spec;
    let target = match instance_target(spec, ctx) {
        Ok(t) => t,
        Err((reason, error)) => {
            let f = Failure {
                error,
                reason: Some(reason),
                secret: false,
            };
            return Ok(Listed::Done(Err(f)));
        }
    };
    let source = CredentialSource {
        provider: spec.provider,
        secret_ref: spec.credentials_secret_ref.as_ref(),
        identity: spec.identity.as_ref(),
        region: spec.region.as_deref(),
        project_id: spec.project_id.as_deref(),
    };
    let credentials = match ctx
        .secrets
        .credentials_for(&ctx.client, &source, namespace, now)
        .await?
    {
        Ok(c) => c,
        Err((reason, message)) => {
            let error = ProviderError::permanent(ErrorReason::InvalidRequest, reason, message);
            let f = Failure {
                error,
                reason: Some(reason),
                secret: true,
            };
            return Ok(Listed::Done(Err(f)));
        }
    };
    let since = crate::controller::discovery::window_start(instance, now).unwrap_or(now);
    let result = ictx.lister.list_jobs(&target, &credentials, since).await;
    if let Err(e) = &result {
        if e.reason == ErrorReason::LocalRateLimit {
            return Ok(Listed::RateLimited(
                e.retry_after.unwrap_or(Duration::from_secs(1)),
            ));
        }
    }
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.class.as_str(),
    };
    ctx.metrics
        .discovery_listings
        .get_or_create(&CallLabels {
            provider: spec.provider.as_str(),
            api: target.api.as_str(),
            outcome,
        })
        .inc();
    let errors = instance
        .status
        .as_ref()
        .and_then(|s| s.consecutive_errors)
        .unwrap_or(0);
    let result = result.map_err(|e| e.settle(u32::try_from(errors).unwrap_or(0).saturating_add(1)));
    if let (Err(e), Some(secret)) = (&result, &spec.credentials_secret_ref) {
        // A refused credential is never served from the cache: the next round re-reads it.
        if e.is_permanent() {
            ctx.secrets.invalidate(namespace, &secret.name);
        }
    }
    Ok(Listed::Done(result.map_err(|error| Failure {
        error,
        reason: None,
        secret: false,
    })))
}

/// The instance as the listers take it; the endpoint checked against the operator's
/// allow-list exactly as a CloudDbJob's.
fn instance_target(
    spec: &CloudDbInstanceSpec,
    ctx: &Context,
) -> Result<InstanceTarget, (&'static str, ProviderError)> {
    let invalid = |reason: &'static str, message: String| {
        (
            reason,
            ProviderError::permanent(ErrorReason::InvalidRequest, reason, message),
        )
    };
    let api = spec.listed_api().ok_or_else(|| {
        invalid(
            "InvalidSpec",
            format!(
                "api {:?} is not an API of provider {}",
                spec.api,
                spec.provider.as_str()
            ),
        )
    })?;
    let endpoint = match spec.endpoint.as_deref() {
        Some(raw) => {
            let url = parse_endpoint(raw).map_err(|e| invalid("InvalidSpec", e.to_string()))?;
            ctx.endpoints
                .check(&url)
                .map_err(|m| invalid("EndpointNotAllowed", m))?;
            Some(url)
        }
        None => None,
    };
    Ok(InstanceTarget {
        provider: spec.provider,
        api,
        instance_id: spec.instance_id.clone(),
        region: spec.region.clone(),
        project_id: spec.project_id.clone(),
        subscription_id: spec.subscription_id.clone(),
        endpoint,
    })
}

/// `spec.pollInterval`, or the default (admission refuses what does not parse).
fn poll_interval(spec: &CloudDbInstanceSpec) -> Duration {
    spec.poll_interval
        .as_deref()
        .and_then(|s| parse_duration(s).ok())
        .filter(|d| *d >= Duration::from_secs(1))
        .unwrap_or(DEFAULT_INSTANCE_POLL_INTERVAL)
}

/// Replaces `from` by `to` as the status reason and in the conditions.
fn relabel(status: &mut CloudDbInstanceStatus, from: &str, to: &str) {
    if status.reason.as_deref() == Some(from) {
        status.reason = Some(to.to_string());
    }
    for c in &mut status.conditions {
        if c.reason == from {
            c.reason = to.to_string();
        }
    }
}

fn stalled(status: &CloudDbInstanceStatus) -> bool {
    status
        .conditions
        .iter()
        .any(|c| c.type_ == "Stalled" && c.status == "True")
}

/// The CloudDbJobs carrying the instance's label (the only ones it ever considers).
async fn labelled_jobs(
    instance: &CloudDbInstance,
    namespace: &str,
    ctx: &Context,
) -> Result<Vec<CloudDbJob>, Error> {
    let api: Api<CloudDbJob> = Api::namespaced(ctx.client.clone(), namespace);
    let selector = format!(
        "{INSTANCE_LABEL}={}",
        instance_label_value(&instance.name_any())
    );
    Ok(api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items)
}

/// Creates one CloudDbJob; `false` when it exists already (a create that raced a failed
/// status write, found by its deterministic name).
async fn create_job(job: &CloudDbJob, namespace: &str, ctx: &Context) -> Result<bool, Error> {
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PostParams::default()
    };
    let body = serde_json::to_vec(job).map_err(kube::Error::SerdeError)?;
    let request = kube::core::Request::new(CloudDbJob::url_path(&(), Some(namespace)))
        .create(&params, body)
        .map_err(kube::Error::BuildRequest)?;
    match ctx.client.request_text(request).await {
        Ok(_) => {
            info!(
                namespace,
                name = job.name_any(),
                job_id = job.spec.job_id,
                "created CloudDbJob for a discovered job"
            );
            Ok(true)
        }
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn publish(
    instance: &CloudDbInstance,
    type_: EventType,
    reason: &str,
    note: String,
    ctx: &Context,
) {
    let Some(recorder) = ctx.recorder.as_ref() else {
        return;
    };
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(note),
        action: "Discover".into(),
        secondary: None,
    };
    match recorder
        .publish(&event, &instance.object_ref(&()), (ctx.clock)())
        .await
    {
        Ok(()) => {
            ctx.metrics
                .events
                .get_or_create(&EventLabels {
                    reason: event.reason.clone(),
                })
                .inc();
        }
        Err(e) => warn!(name = instance.name_any(), error = %e, "could not publish event"),
    }
}
