//! What ships: the CRD, the Helm chart, the examples, the container image and the Argo CD
//! health check.

mod argocd_health;
mod chart;
#[path = "../common/mod.rs"]
mod common;
mod crd;
mod examples;
mod image;
