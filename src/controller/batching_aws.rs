//! The AWS RDS source of the batching engine ([`super::batch_engine`]): the jobs of one API
//! that share the whole credential, region and endpoint are described together, with the
//! API's identifier filter holding the batch's job IDs (chunks of 100, each paged; see
//! [`crate::providers::aws::batch`]).
//!
//! A read waits for rate-limit tokens between chunks (a batch of 10,000 jobs is 100 calls),
//! and a chunk's call that RDS refuses fails the read: every job of the batch then gets
//! that error, throttled or transient, never a failure. A permanent refusal of the batched
//! call (a filter this endpoint does not take, a policy that allows only single describes)
//! is not the job's verdict: the job is polled on its own, and gets exactly what a single
//! poll gets.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::batch_engine::{Answer, Batching, Source, Tokens};
use super::ratelimit::RateLimits;
use crate::providers::aws::batch::Described;
use crate::providers::aws::AwsProvider;
use crate::providers::{Credentials, JobObservation, JobTarget, Provider, ProviderError};

impl Answer for Described {
    fn answers(&self, target: &JobTarget) -> bool {
        self.covers(&target.job_id)
    }

    fn observe(&self, target: &JobTarget) -> JobObservation {
        Described::observe(self, &target.job_id).unwrap_or_else(|| {
            JobObservation::not_found_yet(format!(
                "{} was not in this batch's describe call",
                target.job_id
            ))
        })
    }

    fn covers_member(&self, id: &str) -> bool {
        self.covers(id)
    }

    fn extended(&self, newer: Self) -> Self {
        let mut all = self.clone();
        all.merge(newer);
        all
    }
}

/// AWS RDS describes with an identifier filter.
pub struct AwsDescribes {
    inner: AwsProvider,
}

/// How long one batched read waits for rate-limit tokens in all: a few seconds of calls
/// at the configured rate, well inside a poll round.
pub const AWS_MAX_TOKEN_WAIT: Duration = Duration::from_secs(10);

#[async_trait]
impl Source for AwsDescribes {
    type Answer = Described;

    fn by_id(&self) -> bool {
        true
    }

    async fn read(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
        members: Vec<String>,
        tokens: &Tokens,
    ) -> Result<Described, ProviderError> {
        let at = (target.region.as_deref(), target.endpoint.as_ref());
        let mut all = Described::new(target.api);
        let chunks = crate::providers::aws::batch::chunks(members.iter().map(String::as_str));
        for chunk in chunks {
            tokens.wait().await?;
            let mut first = true;
            let result = self
                .inner
                .describe_many(target.api, at, &chunk, credentials, || {
                    // The chunk's first call has its token; later pages take their own.
                    match std::mem::replace(&mut first, false) {
                        true => Ok(()),
                        false => tokens.take(),
                    }
                })
                .await?;
            all.merge(result);
        }
        Ok(all)
    }

    async fn single(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError> {
        self.inner.observe(target, credentials).await
    }
}

/// A [`Provider`] for AWS RDS that batches the describe polls per batch key.
pub type BatchingAwsProvider = Batching<AwsDescribes>;

impl Batching<AwsDescribes> {
    /// Batches `inner`; `limits` (if any) are taken once per request sent.
    pub fn new(inner: AwsProvider, limits: Option<Arc<RateLimits>>) -> Self {
        Batching::with_source(AwsDescribes { inner }, limits)
            .with_max_token_wait(AWS_MAX_TOKEN_WAIT)
    }
}
