//! Helpers shared by the fake API server integration tests.
#![allow(dead_code)]

pub mod operator;

use std::time::Duration;

use clouddb_job_operator::api::CloudDbJob;
use clouddb_testkit::apiserver::{FakeApiServer, FakeApiServerConfig};
use futures::StreamExt;
use kube::api::WatchEvent;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, ResourceExt};
use serde_json::{json, Value};

pub async fn start(config: FakeApiServerConfig) -> (FakeApiServer, Client) {
    let server = FakeApiServer::start_with("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig_yaml()).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    (server, client)
}

pub fn job(name: &str, job_id: &str) -> CloudDbJob {
    serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": name, "labels": {"app": "test"}},
        "spec": {"provider": "tencent", "jobId": job_id, "region": "ap-guangzhou", "credentialsSecretRef": {"name": "creds"}}
    }))
    .unwrap()
}

pub fn rv(job: &CloudDbJob) -> u64 {
    job.resource_version().unwrap().parse().unwrap()
}

pub fn status_of(job: &CloudDbJob) -> Value {
    serde_json::to_value(job).unwrap()["status"].clone()
}

pub fn api_code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub async fn next_event(
    stream: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<CloudDbJob>>> + Unpin),
) -> WatchEvent<CloudDbJob> {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("watch event in time")
        .expect("stream open")
        .unwrap()
}
