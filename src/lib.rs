//! clouddb-job-operator: tracks long-running cloud database jobs as Kubernetes resources.
//!
//! - [`api`]: the `CloudDbJob` custom resource.
//! - [`providers`]: provider API clients and the pure response → observation mappings.
//! - [`controller`]: the reconcile loop, requeue policy and status writing.
//! - [`cli`]: the command-line entry points (`run`, `crd`, `track`, ...).
//! - [`simulator`]: the provider simulator (`simulate`, `demo`, tests).

pub mod api;
pub mod cli;
pub mod controller;
pub mod duration;
pub mod encoding;
pub mod providers;
pub mod simulator;
