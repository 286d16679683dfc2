//! The controller: watches CloudDbJobs, polls their providers, writes status.
//!
//! Pure logic (gates and validation, status transitions, conditions, requeue policy,
//! transition events) lives in its own modules and is tested without a cluster; `poll` is
//! the one provider step and `reconcile` wires them to the API, top to bottom.

pub mod adaptive;
pub mod batch_engine;
pub mod batch_key;
pub mod batching;
pub mod batching_aws;
pub mod batching_tencent;
pub mod conditions;
pub mod context;
pub mod discovery;
pub mod error;
pub mod events;
pub mod gates;
pub mod identity;
pub mod instance;
pub mod lanes;
pub mod memory;
pub mod metrics;
pub mod policy;
pub mod poll;
pub mod ratelimit;
pub mod reconcile;
pub mod rounds;
pub mod runner;
pub mod secrets;
pub mod server;
pub mod status;
pub mod stream;

pub use context::{Clock, Context, Error, Sampler, Schedule, FIELD_MANAGER};
pub use reconcile::{error_policy, reconcile};
