//! Tencent Cloud CDB API 2.0 (`cdb.api.qcloud.com/v2/index.php`), provider `tencent-legacy`.
//!
//! API 2.0 is announced retired, but older accounts and private deployments still serve it,
//! so it is implemented exactly as documented: `sign` (HmacSHA1/HmacSHA256 over the sorted
//! query), `model` (lenient response types), `mapping` (pure response → observation),
//! `errors` (error-code classification) and `client` (signed requests, [`Provider`] impl).
//!
//! Discovery (a `CloudDbInstance`): not supported. This client implements no API 2.0 task
//! list (the stored documents do not verify `GetCdbJobList`'s instance filter), and the same
//! CDB tasks are listed by API 3.0 `DescribeTasks` with `InstanceId` (provider `tencent`).
//! So this provider has no [`JobLister`](crate::discovery::JobLister).
//!
//! [`Provider`]: crate::Provider

pub mod client;
pub mod errors;
pub mod mapping;
pub mod model;
pub mod sign;

pub use client::{Api, TencentLegacyProvider};

/// The public API 2.0 endpoint for CDB; `JobTarget::endpoint` overrides it.
pub fn default_endpoint() -> url::Url {
    url::Url::parse("https://cdb.api.qcloud.com")
        .unwrap_or_else(|_| unreachable!("constant URL is valid"))
}
