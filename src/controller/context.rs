//! What every reconcile shares: the [`Context`] (built in one place, `controller::runner`),
//! the poll [`Schedule`], and the [`Error`] retried by the controller's error policy.

use std::sync::Arc;

use kube::Client;

use super::events::EventPublisher;
use super::memory::JobMemory;
use super::metrics::Metrics;
use super::rounds::Rounds;
use super::secrets::SecretReader;
use crate::providers::endpoints::EndpointPolicy;
use crate::providers::Provider;

pub use super::error::Error;
pub use crate::providers::clock::Clock;

/// Field manager for server-side apply of the status.
pub const FIELD_MANAGER: &str = "clouddb-job-operator";

/// A source of uniform random numbers in [0, 1) for jitter (injectable for tests).
pub type Sampler = Arc<dyn Fn() -> f64 + Send + Sync>;

/// Shared state of the reconciler.
pub struct Context {
    pub client: Client,
    pub provider: Arc<dyn Provider>,
    pub memory: Arc<JobMemory>,
    pub metrics: Arc<Metrics>,
    /// `None` disables Kubernetes Events.
    pub recorder: Option<EventPublisher>,
    pub endpoints: EndpointPolicy,
    pub clock: Clock,
    pub sampler: Sampler,
    pub schedule: Schedule,
    /// Where job credentials are read from (optionally cached).
    pub secrets: SecretReader,
}

/// How polls are scheduled.
#[derive(Debug, Default)]
pub struct Schedule {
    /// The benchmark baseline: every job polled exactly every `pollInterval`, no jitter,
    /// no adaptive delays, no rounds (the provider is then unbatched too).
    pub naive: bool,
    /// Poll rounds shared by the jobs of one batch (and by the batching provider, which
    /// reuses a sweep within a round).
    pub rounds: Arc<Rounds>,
}
