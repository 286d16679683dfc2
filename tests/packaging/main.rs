//! What ships: the CRD, the Helm chart, the examples, the container image, the Argo CD
//! health check and the monitoring (alert rules, Grafana dashboard).

mod argocd_health;
mod chart;
#[path = "../common/mod.rs"]
mod common;
mod crd;
mod examples;
mod image;
mod monitoring;
