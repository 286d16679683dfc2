//! Discovery of the jobs on one database instance (issue 30, `CloudDbInstance`): each
//! provider's documented list call with its instance filter, mapped to the same
//! [`JobObservation`] a job poll gives, so that a discovered job and the CloudDbJob that
//! later tracks it read the same.
//!
//! No Kubernetes here: the controller decides which CloudDbJobs to create from a
//! [`Discovery`]; listers only ask the provider.
//!
//! Listers (each provider's client implements [`JobLister`], see its `list` module):
//! Tencent API 3.0 `DescribeTasks`; Alibaba `DescribeHistoryTasks` (RDS, PolarDB; 30-day
//! history, clamped); AWS RDS snapshots, blue/green deployments and pending maintenance;
//! Google Cloud SQL `operations.list`; Huawei RDS `ListTasks`. None for Tencent API 2.0
//! (API 3.0 lists the same tasks), Azure (ARM lists no long-running operations of a server)
//! and Huawei TaurusDB (its task lists take no instance filter).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use url::Url;

use crate::{Credentials, ErrorReason, JobObservation, ProviderError, ProviderKind};
use clouddb_api::ProviderApi;

/// The instance whose jobs are listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceTarget {
    pub provider: ProviderKind,
    /// The API family whose jobs are listed (one that [`JobLister::lists`] accepts).
    pub api: ProviderApi,
    pub instance_id: String,
    pub region: Option<String>,
    pub project_id: Option<String>,
    /// The Azure subscription.
    pub subscription_id: Option<String>,
    /// Endpoint override (scheme, host and optional port; a path prefix is kept).
    pub endpoint: Option<Url>,
}

impl InstanceTarget {
    /// The instance ID, trimmed; an empty one is refused before any call, since most list
    /// calls without their instance filter list the whole account.
    pub fn require_instance_id(&self) -> Result<&str, ProviderError> {
        let id = self.instance_id.trim();
        if id.is_empty() {
            return Err(ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "MissingInstanceId",
                format!(
                    "instanceId is required to list the jobs of provider {}",
                    self.provider.as_str()
                ),
            ));
        }
        Ok(id)
    }

    /// The region, required by the providers whose endpoint or signature depends on it.
    pub fn require_region(&self) -> Result<&str, ProviderError> {
        match self.region.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => Ok(r),
            _ => Err(ProviderError::permanent(
                ErrorReason::InvalidRequest,
                "MissingRegion",
                format!("region is required for provider {}", self.provider.as_str()),
            )),
        }
    }

    /// Refuses an API family this lister does not list.
    pub fn require_api(&self, accepted: &[ProviderApi]) -> Result<ProviderApi, ProviderError> {
        if accepted.contains(&self.api) {
            return Ok(self.api);
        }
        Err(ProviderError::permanent(
            ErrorReason::InvalidRequest,
            "UnsupportedApi",
            format!(
                "api {:?} cannot list the jobs of an instance of provider {}",
                self.api,
                self.provider.as_str()
            ),
        ))
    }
}

/// One job the provider listed for the instance.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscoveredJob {
    /// The provider's job ID, exactly as a CloudDbJob's `spec.jobId` takes it.
    pub job_id: String,
    /// The API a CloudDbJob tracks this job with (e.g. `db-snapshot` for a snapshot found
    /// by the AWS lister).
    pub api: ProviderApi,
    /// What the listing says of it (phase, progress, type, times), mapped as a poll is.
    pub observation: JobObservation,
}

impl DiscoveredJob {
    /// A listed item as a discovered job: `None` without a job ID (nothing could track it)
    /// or when it started before `since` (a provider ignoring the window's filter).
    pub fn listed(
        job_id: Option<&str>,
        api: ProviderApi,
        observation: JobObservation,
        since: Timestamp,
    ) -> Option<Self> {
        let job_id = job_id.map(str::trim).filter(|s| !s.is_empty())?;
        if observation.start_time.is_some_and(|t| t < since) {
            return None;
        }
        Some(Self {
            job_id: job_id.to_string(),
            api,
            observation,
        })
    }
}

/// Maintenance the provider announces ahead (RDS pending maintenance actions, Cloud SQL's
/// scheduled maintenance).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpcomingMaintenance {
    /// The provider's name for it (e.g. `system-update`, `db-upgrade`).
    pub action: String,
    pub description: Option<String>,
    /// When it starts at the earliest, if the provider says.
    pub not_before: Option<Timestamp>,
    /// When it is applied without asking, if the provider says.
    pub forced_after: Option<Timestamp>,
}

/// What one discovery round found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Discovery {
    /// Every job in the window, newest or oldest first as the provider lists them.
    pub jobs: Vec<DiscoveredJob>,
    pub upcoming: Vec<UpcomingMaintenance>,
    /// Set when the asked window exceeds the provider's history limit: the window used
    /// starts later than asked, and this says why (shown in status).
    pub clamped: Option<String>,
}

/// Lists the jobs of one instance.
#[async_trait]
pub trait JobLister: Send + Sync {
    /// Every job of the instance that started at or after `since` (and, where the provider
    /// cannot filter by time, every job it returns, filtered here), with all pages read.
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError>;
}

/// One [`JobLister`] per provider that can list; itself a `JobLister` that routes by
/// `target.provider`. A provider without a lister answers a permanent
/// `UnsupportedProvider` error (admission refuses those specs first).
#[derive(Clone, Default)]
pub struct ListerSet {
    listers: HashMap<ProviderKind, Arc<dyn JobLister>>,
}

impl ListerSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the lister for `kind`.
    pub fn with(mut self, kind: ProviderKind, lister: Arc<dyn JobLister>) -> Self {
        self.listers.insert(kind, lister);
        self
    }

    /// Whether `kind` has a lister.
    pub fn lists(&self, kind: ProviderKind) -> bool {
        self.listers.contains_key(&kind)
    }
}

#[async_trait]
impl JobLister for ListerSet {
    async fn list_jobs(
        &self,
        target: &InstanceTarget,
        credentials: &Credentials,
        since: Timestamp,
    ) -> Result<Discovery, ProviderError> {
        match self.listers.get(&target.provider) {
            Some(l) => l.list_jobs(target, credentials, since).await,
            None => Err(ProviderError::permanent(
                ErrorReason::UnsupportedProvider,
                "UnsupportedProvider",
                format!(
                    "provider {} cannot list an instance's jobs",
                    target.provider.as_str()
                ),
            )),
        }
    }
}
