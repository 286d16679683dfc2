//! The controller: watches CloudDbJobs, polls their providers, writes status.
//!
//! Pure logic (status transitions, conditions, requeue policy, endpoint policy) lives in
//! its own modules and is tested without a cluster; `reconcile` wires it to the API.

pub mod batching;
pub mod conditions;
pub mod endpoints;
pub mod events;
pub mod memory;
pub mod metrics;
pub mod policy;
pub mod ratelimit;
pub mod reconcile;
pub mod rounds;
pub mod runner;
pub mod secrets;
pub mod server;
pub mod status;

pub use reconcile::{
    error_policy, reconcile, Clock, Context, Error, Sampler, Schedule, FIELD_MANAGER,
};
