//! Batched polling, as the rest of the operator names it: the engine
//! ([`super::batch_engine`]: one read per batch and poll round, shared by every job of the
//! batch), its sources (Tencent `DescribeTasks` sweeps, [`super::batching_tencent`]; AWS
//! RDS describes by identifier filter, [`super::batching_aws`]) and the key that says which
//! jobs share a read ([`super::batch_key`]: the whole credential's digest, API, region,
//! endpoint, and for Tencent the instance).

pub use super::batch_engine::{
    Answer, BatchStats, Batching, Source, Tokens, DEFAULT_CACHE_TTL, DEFAULT_NEWCOMER_GATHER,
};
pub use super::batch_key::{batch_key, BatchKey, MEMBER_TTL};
pub use super::batching_aws::{AwsDescribes, BatchingAwsProvider, AWS_MAX_TOKEN_WAIT};
pub use super::batching_tencent::{BatchingTencentProvider, Sweep, TencentTasks};

#[cfg(test)]
#[path = "batching_tests.rs"]
pub(crate) mod tests;
