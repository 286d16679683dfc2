//! The provider simulator: one loopback HTTP server that speaks Tencent Cloud API 3.0,
//! Tencent API 2.0 and Huawei Cloud's job APIs as documented, verifies signatures like the
//! real gateways, plays scripted job timelines, injects faults and records every request.
//! No real cloud is reachable in tests, demos and benchmarks, so this is how the operator
//! (and users' pipelines) are exercised offline. See `docs/simulator.md`.
//!
//! - [`scenario`]: the scenario model, YAML loading and the built-ins.
//! - [`timeline`]: pure job state over time.
//! - [`faults`]: fault rules and their matching.
//! - [`auth`]: signature verification per provider, on the arithmetic of [`verify`]
//!   (written independently of the clients' signers).
//! - [`render`]: pure state → provider response JSON.
//! - [`sts`]: the clouds' token services for workload identity (ServiceAccount tokens in,
//!   temporary credentials out).
//! - [`server`]: the HTTP server ([`Simulator`]); [`recorder`]: the request log.
//! - [`cli`]: the `simulate` subcommand's arguments and entry point.

pub mod auth;
pub mod cli;
mod control;
pub mod faults;
mod handlers;
pub mod maintenance;
pub mod recorder;
pub mod render;
pub mod scenario;
pub mod server;
mod state;
pub mod sts;
pub mod timeline;
pub mod verify;

pub use auth::SimCredentials;
pub use faults::{FaultKind, FaultRule};
pub use recorder::{Counters, RecordedRequest};
pub use scenario::{ClockStart, JobSpec, Scenario, Shape};
pub use server::{SimError, Simulator};

/// How a simulator runs: its jobs, clock, faults and accepted credentials.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Scenarios in order; a later job with the same provider, API and ID replaces an
    /// earlier one.
    pub scenarios: Vec<Scenario>,
    /// Scenario seconds per real second (10 = ten times faster).
    pub speed: f64,
    /// Default clock start for jobs that do not set one.
    pub clock: ClockStart,
    /// Global fault rules.
    pub faults: Vec<FaultRule>,
    /// Seed of the RNG behind probabilistic faults and request IDs.
    pub seed: u64,
    pub credentials: SimCredentials,
    /// Requests kept in the request log's ring buffer.
    pub recorder_capacity: usize,
    /// Seconds the server's clock is ahead of (negative: behind) the real one, for the
    /// signature time windows: plays a client whose clock is skewed.
    pub clock_skew_secs: i64,
    /// Lifetime of the Azure access tokens the simulated token endpoint issues.
    pub azure_token_lifetime: std::time::Duration,
    /// Lifetime of the access tokens the Google token endpoint issues (`expires_in`),
    /// seconds; short values test the client's refresh before expiry.
    pub gcp_token_lifetime_secs: u64,
}

/// Google's access-token lifetime.
pub const DEFAULT_GCP_TOKEN_LIFETIME_SECS: u64 = 3600;

impl SimConfig {
    /// No jobs, real-time clock, no faults, the default credentials.
    pub fn empty() -> Self {
        SimConfig {
            scenarios: Vec::new(),
            speed: 1.0,
            clock: ClockStart::Start,
            faults: Vec::new(),
            seed: 0,
            credentials: SimCredentials::default(),
            recorder_capacity: recorder::DEFAULT_CAPACITY,
            clock_skew_secs: 0,
            azure_token_lifetime: auth::DEFAULT_AZURE_TOKEN_LIFETIME,
            gcp_token_lifetime_secs: DEFAULT_GCP_TOKEN_LIFETIME_SECS,
        }
    }

    /// The built-in scenarios with everything else as in [`SimConfig::empty`] (what `demo`
    /// uses).
    pub fn builtin() -> Result<Self, String> {
        Ok(SimConfig {
            scenarios: Scenario::builtins()?,
            ..SimConfig::empty()
        })
    }
}
