//! The reconcile loop body: poll the provider for one CloudDbJob, write what changed,
//! decide when to look again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Client, Resource, ResourceExt};
use tracing::{debug, warn};

use super::batching::{batch_key, BatchKey};
use super::endpoints::EndpointPolicy;
use super::events::{publish_events, EventPublisher};
use super::memory::JobMemory;
use super::metrics::{ApiLabels, CallLabels, Metrics, ResultLabels};
use super::policy::{next_poll_delay, permanent_backoff, secret_backoff, transient_backoff};
use super::ratelimit::RATE_LIMITED;
use super::rounds::Rounds;
use super::secrets::SecretReader;
use super::status::{needs_write, next_status, refresh_generation, PollOutcome, StatusContext};
use crate::api::{CloudDbJob, CloudDbJobStatus, JobPhase};
use crate::duration::format_duration;
use crate::providers::target::{poll_interval, tracking_timeout};
use crate::providers::{
    Credentials, ErrorClass, JobObservation, JobTarget, Provider, ProviderError,
};

/// Field manager for server-side apply of the status.
pub const FIELD_MANAGER: &str = "clouddb-job-operator";

/// A source of the current time (injectable for tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;
/// A source of uniform random numbers in [0, 1) for jitter (injectable for tests).
pub type Sampler = Arc<dyn Fn() -> f64 + Send + Sync>;

/// Shared state of the reconciler.
pub struct Context {
    pub client: Client,
    pub provider: Arc<dyn Provider>,
    pub memory: Arc<JobMemory>,
    pub metrics: Arc<Metrics>,
    /// `None` disables Kubernetes Events.
    pub recorder: Option<EventPublisher>,
    pub endpoints: EndpointPolicy,
    pub clock: Clock,
    pub sampler: Sampler,
    pub schedule: Schedule,
    /// Where job credentials are read from (optionally cached).
    pub secrets: SecretReader,
}

/// How polls are scheduled.
#[derive(Debug, Default)]
pub struct Schedule {
    /// The benchmark baseline: every job polled exactly every `pollInterval`, no jitter,
    /// no adaptive delays, no rounds (the provider is then unbatched too).
    pub naive: bool,
    /// Poll rounds shared by the jobs of one batch (and by the batching provider, which
    /// reuses a sweep within a round).
    pub rounds: Arc<Rounds>,
}

/// Reconcile failures that are retried by `error_policy` (Kubernetes API trouble).
/// Provider trouble is handled inside `reconcile` and written to status instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),
    #[error("CloudDbJob has no namespace")]
    MissingNamespace,
}

/// What one reconcile decided, before it is written.
enum Step {
    /// Nothing to poll: terminal, deleted, or not due yet.
    Done(Action),
    /// Poll (or fail to) and write the outcome.
    Outcome {
        outcome: OwnedOutcome,
        polled: bool,
        interval: Option<Duration>,
        batch: Option<Box<BatchKey>>,
        /// Fingerprint of the credential the provider rejected, if it did.
        rejected: Option<u64>,
    },
}

enum OwnedOutcome {
    Observed(Box<JobObservation>),
    ProviderFailed(ProviderError),
    Blocked {
        reason: &'static str,
        message: String,
        retry: bool,
    },
    TimedOut(String),
}

impl OwnedOutcome {
    fn borrow(&self) -> PollOutcome<'_> {
        match self {
            OwnedOutcome::Observed(o) => PollOutcome::Observed(o),
            OwnedOutcome::ProviderFailed(e) => PollOutcome::ProviderFailed(e),
            OwnedOutcome::Blocked {
                reason, message, ..
            } => PollOutcome::Blocked {
                reason,
                message: message.clone(),
            },
            OwnedOutcome::TimedOut(m) => PollOutcome::TimedOut { message: m.clone() },
        }
    }
}

/// Reconciles one CloudDbJob.
pub async fn reconcile(job: Arc<CloudDbJob>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let result = reconcile_inner(&job, &ctx).await;
    ctx.metrics
        .reconcile_duration
        .observe(started.elapsed().as_secs_f64());
    let label = if result.is_ok() { "ok" } else { "error" };
    ctx.metrics
        .reconciles
        .get_or_create(&ResultLabels { result: label })
        .inc();
    result
}

/// Requeue after a Kubernetes API failure: the transient backoff per job (2 s doubling to
/// 5 min with equal jitter, so 1-2 s first).
pub fn error_policy(job: Arc<CloudDbJob>, error: &Error, ctx: Arc<Context>) -> Action {
    let n = ctx.memory.api_error(&job.uid().unwrap_or_default());
    let delay = transient_backoff(n as i32, None, (ctx.sampler)()).max(Duration::from_secs(1));
    warn!(
        namespace = job.namespace().unwrap_or_default(),
        name = job.name_any(),
        job_id = job.spec.job_id,
        error = %error,
        retry_in = %format_duration(delay),
        "reconcile failed"
    );
    Action::requeue(delay)
}

async fn reconcile_inner(job: &CloudDbJob, ctx: &Context) -> Result<Action, Error> {
    let namespace = job.namespace().ok_or(Error::MissingNamespace)?;
    let uid = job.uid().unwrap_or_default();
    let now = (ctx.clock)();
    let prev = job.status.clone().unwrap_or_default();
    let generation = job.metadata.generation;

    let (outcome, polled, interval, batch, rejected) =
        match plan(job, &namespace, &uid, &prev, now, ctx).await? {
            Step::Done(action) => return Ok(action),
            Step::Outcome {
                outcome,
                polled,
                interval,
                batch,
                rejected,
            } => (outcome, polled, interval, batch, rejected),
        };

    let polls = ctx.memory.polls(&uid, prev.poll_count) + i64::from(polled);
    let status_ctx = StatusContext {
        generation,
        now,
        poll_count: polls,
    };
    let next = next_status(&prev, outcome.borrow(), &status_ctx);
    if needs_write(&prev, &next) {
        write_status(job, &namespace, &next, ctx).await?;
        publish_events(job, &prev, &next, ctx).await;
    } else {
        ctx.metrics.status_writes_skipped.inc();
    }

    let phase = next.phase.unwrap_or(JobPhase::Pending);
    let errors = next.consecutive_errors.unwrap_or(0);
    let sample = (ctx.sampler)();
    let delay = if phase.is_terminal() {
        None
    } else {
        match &outcome {
            OwnedOutcome::Observed(_) if ctx.schedule.naive => interval,
            OwnedOutcome::Observed(_) => interval.map(|i| {
                let delay = next_poll_delay(i, &next, now, sample);
                match &batch {
                    Some(key) => ctx.schedule.rounds.schedule(key, now, i, delay),
                    None => delay,
                }
            }),
            OwnedOutcome::ProviderFailed(e) if e.class != ErrorClass::Permanent => {
                Some(transient_backoff(errors, e.retry_after, sample))
            }
            OwnedOutcome::ProviderFailed(_) => Some(permanent_backoff(errors, sample)),
            OwnedOutcome::Blocked { retry: true, .. } => Some(secret_backoff(errors, sample)),
            OwnedOutcome::Blocked { retry: false, .. } | OwnedOutcome::TimedOut(_) => None,
        }
    };
    if phase.is_terminal() {
        ctx.memory.forget(&uid);
    } else {
        let due = delay.and_then(|d| now.checked_add(d).ok());
        ctx.memory.record(&uid, generation, polls, due, Some(phase));
        ctx.memory.set_rejected(&uid, rejected);
    }
    // Stalled on a rejected credential: the provider is asked again only when the
    // backoff is over, but the Secret is looked at sooner (see `plan`), so a fixed
    // credential is picked up within the Secret backoff (at most 2 min).
    let delay = match rejected {
        Some(_) => delay.map(|d| d.min(secret_backoff(errors, sample))),
        None => delay,
    };
    debug!(
        namespace,
        name = job.name_any(),
        job_id = job.spec.job_id,
        phase = %phase,
        next_poll = delay.map(format_duration).unwrap_or_else(|| "on change".into()),
        "reconciled"
    );
    Ok(delay.map_or_else(Action::await_change, Action::requeue))
}

/// Decides what this reconcile does, polling the provider when it is due.
async fn plan(
    job: &CloudDbJob,
    namespace: &str,
    uid: &str,
    prev: &CloudDbJobStatus,
    now: Timestamp,
    ctx: &Context,
) -> Result<Step, Error> {
    let generation = job.metadata.generation;
    if job.meta().deletion_timestamp.is_some() {
        ctx.memory.forget(uid);
        return Ok(Step::Done(Action::await_change()));
    }
    if prev.phase.is_some_and(JobPhase::is_terminal) {
        ctx.memory.forget(uid);
        if prev.observed_generation != generation {
            write_status(job, namespace, &refresh_generation(prev, generation), ctx).await?;
        }
        return Ok(Step::Done(Action::await_change()));
    }
    // Our own status writes and controller restarts also trigger reconciles; only poll
    // when the schedule says so, or, for a job stalled on a rejected credential, when its
    // Secret now holds a different one.
    // The credential read for that check, if it changed, is the one this poll uses.
    let mut changed_credentials = None;
    if let Some(wait) = ctx.memory.wait_before_poll(uid, generation, now) {
        let Some(rejected) = ctx.memory.rejected(uid) else {
            return Ok(Step::Done(Action::requeue(wait)));
        };
        match ctx
            .secrets
            .credentials(&ctx.client, job, namespace, now)
            .await?
        {
            Ok(current) if current.fingerprint() != rejected => {
                changed_credentials = Some(current);
            }
            // Unchanged; or now missing or incomplete, which the next poll reports.
            _ => {
                let errors = prev.consecutive_errors.unwrap_or(0);
                let recheck = secret_backoff(errors, (ctx.sampler)());
                return Ok(Step::Done(Action::requeue(wait.min(recheck))));
            }
        }
    }

    let blocked = |reason: &'static str, message: String, retry: bool| {
        Ok(Step::Outcome {
            outcome: OwnedOutcome::Blocked {
                reason,
                message,
                retry,
            },
            polled: false,
            interval: None,
            batch: None,
            rejected: None,
        })
    };
    let target = match JobTarget::from_spec(&job.spec) {
        Ok(t) => t,
        Err(e) => return blocked("InvalidSpec", e.to_string(), false),
    };
    if let Some(endpoint) = &target.endpoint {
        if let Err(e) = ctx.endpoints.check(endpoint) {
            return blocked("EndpointNotAllowed", e, false);
        }
    }
    let (interval, timeout) = match (poll_interval(&job.spec), tracking_timeout(&job.spec)) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => return blocked("InvalidSpec", e.to_string(), false),
    };
    if let (Some(timeout), Some(created)) = (timeout, job.meta().creation_timestamp.as_ref()) {
        if created
            .0
            .checked_add(timeout)
            .is_ok_and(|deadline| deadline <= now)
        {
            return Ok(Step::Outcome {
                outcome: OwnedOutcome::TimedOut(format!(
                    "stopped tracking after {} (spec.timeout) before the job finished; the provider job itself was not cancelled",
                    format_duration(timeout)
                )),
                polled: false,
                interval: None,
                batch: None,
                rejected: None,
            });
        }
    }
    let mut credentials = match changed_credentials {
        Some(c) => c,
        None => match ctx
            .secrets
            .credentials(&ctx.client, job, namespace, now)
            .await?
        {
            Ok(c) => c,
            Err((reason, message)) => return blocked(reason, message, true),
        },
    };
    let age = job
        .meta()
        .creation_timestamp
        .as_ref()
        .map(|created| now.duration_since(created.0))
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or_default();
    let secret_name = &job.spec.credentials_secret_ref.name;
    let mut result = observe(&target, &credentials, ctx).await;
    if matches!(&result, Err(e) if e.rejects_credentials()) && ctx.secrets.caches() {
        // A cached credential may have been rotated since it was read: re-read it, and if
        // it changed, poll again now instead of stalling until the next retry.
        ctx.secrets.invalidate(namespace, secret_name);
        if let Ok(fresh) = ctx
            .secrets
            .credentials(&ctx.client, job, namespace, now)
            .await?
        {
            if fresh != credentials {
                result = observe(&target, &fresh, ctx).await;
                credentials = fresh;
            }
        }
    }
    let outcome = match result.or_else(|e| not_found_yet_within_grace(e, age)) {
        Ok(obs) => OwnedOutcome::Observed(Box::new(obs)),
        Err(e) if e.reason == RATE_LIMITED => {
            // No request was sent: come back when the bucket has a token, without
            // holding a reconcile slot or touching the status.
            ctx.metrics.rate_limited.inc();
            let wait = e.retry_after.unwrap_or(Duration::from_secs(1));
            return Ok(Step::Done(Action::requeue(wait)));
        }
        Err(e) => {
            if e.is_permanent() {
                // A credential the provider rejects is never served from the cache.
                ctx.secrets.invalidate(namespace, secret_name);
            }
            OwnedOutcome::ProviderFailed(e)
        }
    };
    let rejected = match &outcome {
        OwnedOutcome::ProviderFailed(e) if e.rejects_credentials() => {
            Some(credentials.fingerprint())
        }
        _ => None,
    };
    Ok(Step::Outcome {
        outcome,
        polled: true,
        interval: Some(interval),
        rejected,
        batch: if ctx.schedule.naive {
            None
        } else {
            batch_key(&target, &credentials).map(Box::new)
        },
    })
}

/// How long after a CloudDbJob is created an unknown job ID still counts as "not listed
/// yet": providers show new jobs only seconds after creation, and users often apply the
/// CloudDbJob in the same pipeline step that starts the job.
pub const NOT_FOUND_GRACE: Duration = Duration::from_secs(300);

/// A `JobNotFound` error from a young resource is `Pending`, not a stall.
pub fn not_found_yet_within_grace(
    error: ProviderError,
    age: Duration,
) -> Result<JobObservation, ProviderError> {
    if error.reason == "JobNotFound" && age < NOT_FOUND_GRACE {
        Ok(JobObservation::not_found_yet(format!(
            "the provider does not list the job yet ({}); waiting up to {} after creation",
            error.describe(),
            format_duration(NOT_FOUND_GRACE)
        )))
    } else {
        Err(error)
    }
}

/// One provider call, measured.
async fn observe(
    target: &JobTarget,
    credentials: &Credentials,
    ctx: &Context,
) -> Result<JobObservation, ProviderError> {
    let started = Instant::now();
    let result = ctx.provider.observe(target, credentials).await;
    let labels = ApiLabels {
        provider: target.provider.as_str(),
        api: target.api.clone(),
    };
    ctx.metrics
        .provider_latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.class.as_str(),
    };
    if matches!(&result, Err(e) if e.class == ErrorClass::Throttled) {
        ctx.metrics.provider_throttled.get_or_create(&labels).inc();
    }
    ctx.metrics
        .provider_calls
        .get_or_create(&CallLabels {
            provider: labels.provider,
            api: labels.api,
            outcome,
        })
        .inc();
    result
}

/// Server-side applies the whole status (the controller owns every status field).
async fn write_status(
    job: &CloudDbJob,
    namespace: &str,
    status: &CloudDbJobStatus,
    ctx: &Context,
) -> Result<(), Error> {
    let api: Api<CloudDbJob> = Api::namespaced(ctx.client.clone(), namespace);
    let patch = serde_json::json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "status": status,
    });
    api.patch_status(
        &job.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    ctx.metrics.status_writes.inc();
    Ok(())
}
