//! End-to-end suite: the real operator binary and the provider simulator against a real
//! Kubernetes control plane (etcd, kube-apiserver and kubectl built from the official Go
//! modules by testenv/build.sh, started by scripts/testenv.sh), driven with the real kubectl.
//!
//! Needs `KUBECONFIG` and `KUBECTL` (`eval "$(scripts/testenv.sh up)"` sets both, and
//! `TESTENV_DIR`); ./scripts/test.sh does all of it. Against another cluster, skip the
//! `testenv_` tests (they restart or audit the control plane): `-- --skip testenv_`.
//! Each test has its own namespace; every wait is bounded.

#[path = "../common/mod.rs"]
mod common;

mod cluster;
mod harness;
mod history;
mod manifests;

mod addon;
mod admission;
mod admission_policy;
mod cli;
mod cluster_status;
mod control_plane;
mod faults;
mod flux;
mod gitops;
mod identity;
mod job_controls;
mod leader;
mod lifecycle;
mod monitoring;
mod providers;
mod secrets;
mod tenants;
mod watch;
