//! What ships: the CRD, the Helm chart, the examples, the container image, the Argo CD
//! health check and the monitoring (alert rules, Grafana dashboard).

mod argocd_health;
mod chart;
mod chart_metadata;
mod chart_oci;
#[path = "../common/mod.rs"]
mod common;
mod crd;
mod crd_instance;
mod examples;
mod image;
mod monitoring;
