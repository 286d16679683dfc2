//! The operator against the fake Kubernetes API server (clouddb-testkit) and a mocked one:
//! API semantics, kubectl against it, watches, logs, operations endpoints, and the
//! reconciler request by request.

mod apiserver;
mod apiserver_kubectl;
mod apiserver_watch;
mod aws_batch;
#[path = "../common/mod.rs"]
mod common;
mod ops;
mod reconcile_mock;
mod secret_reads;
#[path = "../support/mod.rs"]
mod support;
