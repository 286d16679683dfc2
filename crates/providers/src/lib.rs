//! Provider APIs: request signing, HTTP calls, and the pure mapping from each provider's
//! response to the common [`JobObservation`].
//!
//! Every provider module follows the same shape: `sign` (pure signing functions tested
//! against the published vectors), `model` (lenient response types), `mapping` (pure
//! response → observation functions) and a client implementing [`Provider`].

pub mod alibaba;
pub mod aws;
pub mod azure;
pub mod clock;
pub mod credentials;
pub mod decode;
pub mod digest;
pub mod discovery;
pub mod duration;
pub mod encoding;
pub mod endpoints;
#[cfg(test)]
mod endpoints_sdk;
pub mod error;
pub mod gcp;
pub mod http;
pub mod huawei;
pub mod identity;
pub mod listers;
pub mod observation;
pub mod redact;
pub mod registry;
pub mod scripted;
#[cfg(test)]
mod sdk_codes;
pub mod secret;
pub mod target;
pub mod tencent;
pub mod tencent_legacy;
pub mod token_cache;

use async_trait::async_trait;

pub use clouddb_api::ProviderKind;
pub use credentials::Credentials;
pub use error::{ErrorClass, ErrorReason, ProviderError, RetryBound, DEFAULT_RETRY_BOUND};
pub use observation::{JobDetail, JobObservation};
pub use registry::ProviderSet;
pub use target::JobTarget;

/// One provider API family. Implementations are cheap to share (`Arc<dyn Provider>`) and
/// hold no per-job state: everything a call needs comes in the [`JobTarget`].
#[async_trait]
pub trait Provider: Send + Sync {
    /// Polls the provider once for the job's current state.
    ///
    /// A job the provider does not know (yet) is `Ok` with phase `Pending`, not an error:
    /// providers list new jobs only seconds after creation.
    async fn observe(
        &self,
        target: &JobTarget,
        credentials: &Credentials,
    ) -> Result<JobObservation, ProviderError>;
}
