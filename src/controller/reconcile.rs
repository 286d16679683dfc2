//! The reconcile of one CloudDbJob, top to bottom: the pure gates (deleted, terminal,
//! due) and validation, one poll step, the pure status transition, one write, and the
//! pure requeue policy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use tracing::{debug, info, warn};

use super::batching::batch_key;
use super::conditions::is_true;
use super::context::{Context, Error, FIELD_MANAGER};
use super::events::publish_events;
use super::gates::{gate, pending_refresh, validate, Gate, Stop};
use super::metrics::ResultLabels;
use super::policy::{
    recheck_credentials_within, requeue_delay, secret_backoff, transient_backoff, Found,
};
use super::poll::{poll, Answer, Polled};
use super::status::{needs_write, next_status, PollOutcome, StatusContext};
use crate::api::{CloudDbJob, ConditionType, JobPhase};
use crate::duration::format_duration;
use crate::providers::digest::CredentialDigest;

/// Reconciles one CloudDbJob.
pub async fn reconcile(job: Arc<CloudDbJob>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let result = reconcile_inner(&job, &ctx).await;
    ctx.metrics
        .reconcile_duration
        .observe(started.elapsed().as_secs_f64());
    let label = if result.is_ok() { "ok" } else { "error" };
    if result.is_ok() {
        ctx.metrics
            .last_reconcile_success
            .set((ctx.clock)().as_second());
    }
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

/// What this reconcile found out, owned; [`Outcome::view`] is what the pure status
/// transition reads.
enum Outcome {
    Answered(Box<Answer>),
    Stopped(Stop),
}

impl Outcome {
    fn view(&self) -> PollOutcome<'_> {
        match self {
            Outcome::Answered(a) => match &a.result {
                Ok(o) => PollOutcome::Observed(o),
                Err(e) => PollOutcome::ProviderFailed(e),
            },
            Outcome::Stopped(Stop::Blocked(b)) => PollOutcome::Blocked {
                reason: b.reason,
                message: b.message.clone(),
            },
            Outcome::Stopped(Stop::TimedOut(m)) => PollOutcome::TimedOut { message: m.clone() },
        }
    }

    /// The digest of the credential the provider refused, if it did.
    fn rejected(&self) -> Option<CredentialDigest> {
        match self {
            Outcome::Answered(a) => match &a.result {
                Err(e) if e.rejects_credentials() => Some(a.credentials.digest()),
                _ => None,
            },
            _ => None,
        }
    }
}

async fn reconcile_inner(job: &CloudDbJob, ctx: &Context) -> Result<Action, Error> {
    let namespace = job.namespace().ok_or(Error::MissingNamespace)?;
    let uid = job.uid().unwrap_or_default();
    let now = (ctx.clock)();
    let prev = job.status.clone().unwrap_or_default();
    let generation = job.metadata.generation;
    let memory = &ctx.memory;

    // 1. Whether to poll at all.
    let wait = memory.wait_before_poll(&uid, generation, now);
    let mut known_credentials = None;
    let mut stopped = None;
    match gate(job, &prev, wait, memory.rejected(&uid), now) {
        Gate::Due => {}
        // Suspended past `spec.timeout`: fails below exactly as an unsuspended job does.
        Gate::TimedOut(message) => stopped = Some(Stop::TimedOut(message)),
        Gate::Deleted => {
            memory.forget(&uid);
            return Ok(Action::await_change());
        }
        Gate::Terminal {
            refreshed,
            delete_in,
        } => {
            memory.forget(&uid);
            if let Some(refreshed) = refreshed {
                write_status(job, &namespace, &refreshed, ctx).await?;
            }
            // A restart loses nothing: the deadline is computed again from the status.
            return Ok(delete_in.map_or_else(Action::await_change, Action::requeue));
        }
        Gate::Expired => {
            memory.forget(&uid);
            delete_expired(job, &namespace, ctx).await?;
            return Ok(Action::await_change());
        }
        Gate::Suspended { status, wake_in } => {
            if let Some(status) = status {
                write_status(job, &namespace, &status, ctx).await?;
            }
            // Resuming changes the spec, which wakes the job (a new generation is due at
            // once); so does the `spec.timeout` deadline, at which it fails.
            return Ok(wake_in.map_or_else(Action::await_change, Action::requeue));
        }
        Gate::NotDue(wait) => return Ok(Action::requeue(wait)),
        Gate::RecheckCredentials { wait, rejected } => {
            // Stalled on a refused credential: poll at once if the Secret now holds a
            // different one (and use that one); otherwise look again on the Secret backoff.
            match ctx
                .secrets
                .credentials(&ctx.client, job, &namespace, now)
                .await?
            {
                Ok(current) if current.digest() != rejected => {
                    known_credentials = Some(current);
                }
                _ => {
                    let errors = prev.consecutive_errors.unwrap_or(0);
                    let recheck = secret_backoff(errors, (ctx.sampler)());
                    return Ok(Action::requeue(wait.min(recheck)));
                }
            }
        }
    }

    // 2. Whether the spec can be polled, and 3. the poll.
    let outcome = match stopped.map_or_else(|| validate(job, &ctx.endpoints, now), Err) {
        Err(stop) => Outcome::Stopped(stop),
        Ok(pollable) => match poll(job, &namespace, pollable, known_credentials, now, ctx).await? {
            Polled::RateLimited(wait) => return Ok(Action::requeue(wait)),
            Polled::NoCredentials(blocked) => Outcome::Stopped(Stop::Blocked(blocked)),
            Polled::Answered(answer) => Outcome::Answered(answer),
        },
    };

    // 4. The status transition (pure) and one write.
    let polled = matches!(outcome, Outcome::Answered(_));
    let polls = memory.polls(&uid, prev.poll_count) + i64::from(polled);
    let status_ctx = StatusContext {
        generation,
        now,
        poll_count: polls,
    };
    let mut next = next_status(&prev, outcome.view(), &status_ctx);
    if let Some(requested) = pending_refresh(job, &prev) {
        // Acted on: the same value never causes another poll, across restarts too.
        next.last_refresh_request = Some(requested.to_string());
    }
    if needs_write(&prev, &next) {
        write_status(job, &namespace, &next, ctx).await?;
        if let Some(phase) = next.phase.filter(|p| p.is_terminal()) {
            ctx.metrics.job_finished(phase, next.reason.as_deref());
        }
        publish_events(
            job,
            &prev,
            &next,
            ctx.recorder.as_ref(),
            &ctx.metrics,
            &ctx.clock,
        )
        .await;
    } else {
        ctx.metrics.status_writes_skipped.inc();
    }

    // 5. When to look again (pure policy; an observed job keeps to its batch's rounds).
    let sample = (ctx.sampler)();
    let naive = ctx.schedule.naive;
    let (found, round) = match &outcome {
        Outcome::Answered(a) => match &a.result {
            Ok(_) => (
                Found::Observed {
                    interval: a.pollable.interval,
                    naive,
                },
                match naive {
                    true => None,
                    false => batch_key(&a.pollable.target, &a.credentials)
                        .map(|key| (key, &a.pollable.target.job_id, a.pollable.interval)),
                },
            ),
            Err(e) => (Found::Failed(e), None),
        },
        Outcome::Stopped(Stop::Blocked(b)) => (Found::Blocked { retry: b.retry }, None),
        Outcome::Stopped(Stop::TimedOut(_)) => (Found::TimedOut, None),
    };
    let due_in = requeue_delay(found, &next, now, sample).map(|delay| match &round {
        Some((key, id, interval)) => {
            // The batching provider gave the job its lane when it polled; this finds it.
            let rounds = &ctx.schedule.rounds;
            let key = rounds.lanes().key_for(key.clone(), id, now);
            rounds.schedule(&key, now, *interval, delay)
        }
        None => delay,
    });
    let rejected = outcome.rejected();
    let phase = next.phase.unwrap_or(JobPhase::Pending);
    if phase.is_terminal() {
        memory.forget(&uid);
    } else {
        let due = due_in.and_then(|d| now.checked_add(d).ok());
        memory.record(&uid, generation, polls, due, Some(phase));
        memory.set_rejected(&uid, rejected);
        let stalled = is_true(&next.conditions, ConditionType::Stalled);
        memory.set_stall_reason(&uid, next.reason.clone().filter(|_| stalled));
    }
    // Stalled on a refused credential: the provider is asked again only when due, but the
    // Secret is looked at sooner (step 1).
    let delay = match rejected {
        Some(_) => recheck_credentials_within(due_in, &next, sample),
        None => due_in,
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

/// Deletes a finished job whose `spec.ttlSecondsAfterFinished` elapsed. The UID
/// precondition keeps a job re-created under the same name (by GitOps, say) from being
/// deleted in its place.
async fn delete_expired(job: &CloudDbJob, namespace: &str, ctx: &Context) -> Result<(), Error> {
    let api: Api<CloudDbJob> = Api::namespaced(ctx.client.clone(), namespace);
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: job.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(&job.name_any(), &params).await {
        Ok(_) => {
            ctx.metrics.ttl_deletions.inc();
            info!(
                namespace,
                name = job.name_any(),
                job_id = job.spec.job_id,
                ttl_seconds = job.spec.ttl_seconds_after_finished,
                "deleted finished job (spec.ttlSecondsAfterFinished)"
            );
            Ok(())
        }
        // Already gone, or replaced by a new object of the same name: nothing to do.
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Server-side applies the whole status (the controller owns every status field) of a
/// CloudDbJob or a CloudDbInstance.
pub(crate) async fn write_status<K>(
    object: &K,
    namespace: &str,
    status: &impl serde::Serialize,
    ctx: &Context,
) -> Result<(), Error>
where
    K: Resource<DynamicType = ()>,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let request = kube::core::Request::new(K::url_path(&(), Some(namespace)))
        .patch_subresource(
            "status",
            &object.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .map_err(kube::Error::BuildRequest)?;
    // The answer is the whole object, managedFields included; the watch brings it anyway,
    // so it is not decoded (at 10,000 jobs that decoding was a large share of the CPU).
    ctx.client.request_text(request).await?;
    ctx.metrics.status_writes.inc();
    Ok(())
}
