//! Which jobs share a batched read: the [`BatchKey`] of a target and its credentials. Its
//! own module so that the poll rounds ([`super::rounds`]) and the batching provider
//! ([`super::batching`]), which uses the rounds, both name it without depending on each
//! other.

use crate::api::{ProviderApi, ProviderKind};
use crate::providers::aws::batch::batchable;
use crate::providers::digest::CredentialDigest;
use crate::providers::tencent::TasksQuery;
use crate::providers::{Credentials, JobTarget};

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
            })
        }
        _ => None,
    }
}
