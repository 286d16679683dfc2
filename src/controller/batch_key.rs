//! Which jobs share a `DescribeTasks` sweep: the [`BatchKey`] of a target and its
//! credentials. Its own module so that the poll rounds ([`super::rounds`]) and the batching
//! provider ([`super::batching`]), which uses the rounds, both name it without depending on
//! each other.

use crate::api::ProviderApi;
use crate::providers::digest::CredentialDigest;
use crate::providers::tencent::TasksQuery;
use crate::providers::{Credentials, JobTarget};

/// Jobs with equal keys are answered by the same `DescribeTasks` pages. The fields are
/// private so that the only way to a key is [`batch_key`], which takes it from the
/// credentials a sweep is read with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchKey {
    /// The whole credential: only jobs holding the very same one share a sweep.
    credentials: CredentialDigest,
    region: String,
    endpoint: String,
    instance_id: Option<String>,
}

/// The batch of a target, or `None` when its API is not batched (only Tencent
/// `DescribeTasks` lists many jobs per call).
pub fn batch_key(target: &JobTarget, credentials: &Credentials) -> Option<BatchKey> {
    if target.api != ProviderApi::DescribeTasks {
        return None;
    }
    if !matches!(credentials, Credentials::Tencent { .. }) {
        return None;
    }
    let query = TasksQuery::for_target(target).ok()?;
    Some(BatchKey {
        credentials: credentials.digest(),
        region: query.region,
        endpoint: query.endpoint.to_string(),
        instance_id: query.instance_id,
    })
}
