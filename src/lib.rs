//! clouddb-job-operator: tracks long-running cloud database jobs as Kubernetes resources.
//!
//! The workspace's crates are its architecture; this one is the operator:
//! - [`api`] (crate `clouddb-api`): the `CloudDbJob` custom resource.
//! - [`providers`] (crate `clouddb-providers`): provider API clients and the pure
//!   response → observation mappings; no Kubernetes client.
//! - [`simulator`] (crate `clouddb-simulator`): the provider simulator (`simulate`, `demo`,
//!   tests).
//! - [`controller`]: the reconcile loop, poll scheduling and status writing.
//! - [`cli`]: the command-line entry points (`run`, `crd`, `track`, ...).

pub use clouddb_api as api;
pub use clouddb_providers as providers;
pub use clouddb_providers::duration;
pub use clouddb_providers::encoding;
pub use clouddb_simulator as simulator;

pub mod cli;
pub mod controller;
