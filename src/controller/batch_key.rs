//! Which jobs share a batched read: the [`BatchKey`] of a target and its credentials. Its
//! own module so that the poll rounds ([`super::rounds`]) and the batching provider
//! ([`super::batching`]), which uses the rounds, both name it without depending on each
//! other.

use std::time::Duration;

use crate::api::{ProviderApi, ProviderKind};
use crate::providers::aws::batch::batchable;
use crate::providers::digest::CredentialDigest;
use crate::providers::tencent::TasksQuery;
use crate::providers::{Credentials, JobTarget};

/// A job ID not polled for this long leaves its batch's reads (and its lane).
pub const MEMBER_TTL: Duration = Duration::from_secs(600);

/// Jobs with equal keys are answered by the same read. The fields are private so that the
/// only way to a key is [`batch_key`], which takes it from the credentials a read is made
/// with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchKey {
    /// The whole credential: only jobs holding the very same one share a read.
    credentials: CredentialDigest,
    api: &'static str,
    region: String,
    endpoint: String,
    instance_id: Option<String>,
    /// Whether the read names its jobs' identifiers (AWS filters, at most
    /// [`FILTER_VALUE_LIMIT`](crate::providers::aws::batch::FILTER_VALUE_LIMIT) per call)
    /// rather than sweeping a whole instance (Tencent).
    by_id: bool,
    /// Which lane of the batch (see [`super::lanes`]); 0 for a batch not split in lanes.
    lane: u32,
}

impl BatchKey {
    /// Whether the batch's reads name its jobs: only such a batch is split in lanes, since
    /// a sweep of a whole instance costs the same one call for any number of jobs.
    pub fn by_id(&self) -> bool {
        self.by_id
    }

    /// The lane this key names.
    pub fn lane(&self) -> u32 {
        self.lane
    }

    /// The key of lane `lane` of the same batch: the same credential, API, region and
    /// endpoint, so a lane only ever narrows who shares a read.
    pub fn in_lane(&self, lane: u32) -> BatchKey {
        BatchKey {
            lane,
            ..self.clone()
        }
    }
}

/// The batch of a target, or `None` when its API is not batched. Batched: Tencent
/// `DescribeTasks` (per instance: one sweep lists its tasks) and the AWS RDS describes that
/// filter by identifier (`db-snapshot`, `cluster-snapshot`, `export-task`, `blue-green`,
/// `blue-green-switchover`; a job named by an ARN is not).
pub fn batch_key(target: &JobTarget, credentials: &Credentials) -> Option<BatchKey> {
    match (target.provider, credentials) {
        (ProviderKind::Tencent, Credentials::Tencent { .. })
            if target.api == ProviderApi::DescribeTasks =>
        {
            let query = TasksQuery::for_target(target).ok()?;
            Some(BatchKey {
                credentials: credentials.digest(),
                api: target.api.as_str(),
                region: query.region,
                endpoint: query.endpoint.to_string(),
                instance_id: query.instance_id,
                by_id: false,
                lane: 0,
            })
        }
        (ProviderKind::Aws, Credentials::Aws { .. }) if batchable(target.api, &target.job_id) => {
            let region = target
                .region
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())?;
            let endpoint = match &target.endpoint {
                Some(url) => url.clone(),
                None => crate::providers::aws::default_endpoint(region).ok()?,
            };
            Some(BatchKey {
                credentials: credentials.digest(),
                api: target.api.as_str(),
                region: region.to_string(),
                endpoint: endpoint.to_string(),
                instance_id: None,
                by_id: true,
                lane: 0,
            })
        }
        _ => None,
    }
}
