//! The one async step of a reconcile: read the job's credentials and ask its provider,
//! measured, with the retry a rotated credential needs and the grace a new job needs.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::context::{Context, Error};
use super::gates::{Blocked, Pollable};
use super::metrics::{ApiLabels, CallLabels};
use super::secrets::SECRET_FORBIDDEN;
use crate::api::CloudDbJob;
use crate::duration::format_duration;
use crate::providers::{
    Credentials, ErrorClass, ErrorReason, JobObservation, JobTarget, ProviderError,
};

/// What one poll step found.
pub enum Polled {
    /// Refused by the local rate limit: no request was sent; look again after the wait,
    /// without touching the status.
    RateLimited(Duration),
    /// No usable credentials (Secret missing, forbidden or incomplete).
    NoCredentials(Blocked),
    /// The provider answered, or the call failed.
    Answered(Box<Answer>),
}

/// A provider's answer (or failure) to one poll.
pub struct Answer {
    pub result: Result<JobObservation, ProviderError>,
    /// The credentials the answer is for.
    pub credentials: Credentials,
    /// What was polled.
    pub pollable: Pollable,
}

/// Polls once. `known` are credentials already read in this reconcile.
pub async fn poll(
    job: &CloudDbJob,
    namespace: &str,
    pollable: Pollable,
    known: Option<Credentials>,
    now: Timestamp,
    ctx: &Context,
) -> Result<Polled, Error> {
    let secrets = &ctx.secrets;
    let uid = job.metadata.uid.as_deref().unwrap_or_default();
    let mut credentials = match known {
        Some(c) => c,
        None => match secrets
            .credentials(&ctx.client, job, namespace, now)
            .await?
        {
            Ok(c) => {
                ctx.memory.clear_refusals(uid);
                c
            }
            Err((SECRET_FORBIDDEN, message))
                if ctx.memory.count_refusal(uid) <= FORBIDDEN_RETRIES =>
            {
                return Err(Error::Refused(message));
            }
            Err((reason, message)) => {
                return Ok(Polled::NoCredentials(Blocked {
                    reason,
                    message,
                    retry: true,
                }));
            }
        },
    };
    let target = &pollable.target;
    let secret_name = job
        .spec
        .credentials_secret_ref
        .as_ref()
        .map(|r| r.name.as_str());
    let mut result = observe(target, &credentials, ctx).await;
    if let (Some(secret_name), true) = (
        secret_name,
        matches!(&result, Err(e) if e.rejects_credentials()) && secrets.caches(),
    ) {
        // A cached credential may have been rotated since it was read: re-read it, and if
        // it changed, poll again now instead of stalling until the next retry.
        secrets.invalidate(namespace, secret_name);
        if let Ok(fresh) = secrets
            .credentials(&ctx.client, job, namespace, now)
            .await?
        {
            if fresh != credentials {
                result = observe(target, &fresh, ctx).await;
                credentials = fresh;
            }
        }
    }
    let result = result
        .map_err(|e| e.settle(failures_in_a_row(job)))
        .or_else(|e| not_found_yet_within_grace(e, age(job, now)));
    match &result {
        Err(e) if e.reason == ErrorReason::LocalRateLimit => {
            ctx.metrics.rate_limited.inc();
            return Ok(Polled::RateLimited(
                e.retry_after.unwrap_or(Duration::from_secs(1)),
            ));
        }
        // A credential the provider rejects is never served from the cache.
        Err(e) if e.is_permanent() => {
            if let Some(secret_name) = secret_name {
                secrets.invalidate(namespace, secret_name);
            }
        }
        _ => {}
    }
    Ok(Polled::Answered(Box::new(Answer {
        result,
        credentials,
        pollable,
    })))
}

/// How many times in a row a Secret read refused with 403 is retried as an API failure
/// (the controller's API backoff, 1-2 s doubling) before the job is reported stalled on
/// `SecretForbidden`.
/// A kube-apiserver that has just started serves requests a moment before its RBAC caches
/// are synced and refuses them meanwhile; that must not show as a stall and a warning
/// Event. Missing RBAC refuses every time and is reported a few seconds later.
pub const FORBIDDEN_RETRIES: u32 = 3;

/// How long after a CloudDbJob is created an unknown job ID still counts as "not listed
/// yet": providers show new jobs only seconds after creation, and users often apply the
/// CloudDbJob in the same pipeline step that starts the job.
pub const NOT_FOUND_GRACE: Duration = Duration::from_secs(300);

/// A `JobNotFound` error from a young resource is `Pending`, not a stall.
pub fn not_found_yet_within_grace(
    error: ProviderError,
    age: Duration,
) -> Result<JobObservation, ProviderError> {
    if error.reason == ErrorReason::JobNotFound && age < NOT_FOUND_GRACE {
        Ok(JobObservation::not_found_yet(format!(
            "the provider does not list the job yet ({}); waiting up to {} after creation",
            error.describe(),
            format_duration(NOT_FOUND_GRACE)
        )))
    } else {
        Err(error)
    }
}

/// Failed polls in a row if this one fails too: what a bounded transient error
/// ([`ProviderError::settle`]) is measured against. Kept in `status.consecutiveErrors`, so
/// a restart does not reset the bound.
fn failures_in_a_row(job: &CloudDbJob) -> u32 {
    let before = job
        .status
        .as_ref()
        .and_then(|s| s.consecutive_errors)
        .unwrap_or(0);
    u32::try_from(before).unwrap_or(0).saturating_add(1)
}

/// Time since the object was created (zero when unknown).
fn age(job: &CloudDbJob, now: Timestamp) -> Duration {
    job.metadata
        .creation_timestamp
        .as_ref()
        .map(|created| now.duration_since(created.0))
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or_default()
}

/// One provider call, measured.
async fn observe(
    target: &JobTarget,
    credentials: &Credentials,
    ctx: &Context,
) -> Result<JobObservation, ProviderError> {
    let started = Instant::now();
    let result = ctx.provider.observe(target, credentials).await;
    if matches!(&result, Err(e) if e.reason == ErrorReason::LocalRateLimit) {
        // Nothing was sent: the caller counts it in `rate_limited_polls`, not as a provider
        // call, its latency or the provider's throttling.
        return result;
    }
    let labels = ApiLabels {
        provider: target.provider.as_str(),
        api: target.api.as_str(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_job_is_pending_only_within_the_grace() {
        let missing = || ProviderError::permanent(ErrorReason::JobNotFound, "X", "no such job");
        let young = not_found_yet_within_grace(missing(), Duration::from_secs(299)).unwrap();
        assert!(young.is_not_found_yet());
        assert!(young.message.unwrap().contains("no such job"));
        let old = not_found_yet_within_grace(missing(), NOT_FOUND_GRACE).unwrap_err();
        assert_eq!(old.reason, ErrorReason::JobNotFound);
        let other = ProviderError::permanent(ErrorReason::InvalidRequest, "X", "bad");
        assert!(not_found_yet_within_grace(other, Duration::ZERO).is_err());
    }
}
