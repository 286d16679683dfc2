//! Secret reads against the fake API server: the polls of a round that miss the cache
//! together share one GET per Secret, and never another namespace's.

use std::time::Duration;

use clouddb_job_operator::api::{CredentialsSecretRef, ProviderKind};
use clouddb_job_operator::controller::secrets::{CredentialSource, SecretReader};
use clouddb_testkit::apiserver::FakeApiServerConfig;
use futures::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, PostParams};
use kube::Client;
use serde_json::json;

use crate::support;

async fn secret(client: &Client, namespace: &str, key: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let _ = namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": namespace}})).unwrap(),
        )
        .await;
    Api::<Secret>::namespaced(client.clone(), namespace)
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "aws"},
                "stringData": {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": key},
            }))
            .unwrap(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn polls_missing_the_cache_together_share_one_read_per_secret() {
    let (server, client) = support::start(FakeApiServerConfig::default()).await;
    secret(&client, "team-a", "a-secret").await;
    secret(&client, "team-b", "b-secret").await;
    let reader = SecretReader::new(Duration::from_secs(5));
    let secret_ref: CredentialsSecretRef = serde_json::from_value(json!({"name": "aws"})).unwrap();
    let source = CredentialSource {
        provider: ProviderKind::Aws,
        secret_ref: Some(&secret_ref),
        identity: None,
        region: Some("us-east-1"),
        project_id: None,
    };
    let now = Timestamp::now();
    let read = |namespace: &'static str| reader.credentials_for(&client, &source, namespace, now);
    let before = server.stats().count("get", "secrets");
    // 100 polls of team A and 100 of team B, all at once.
    let all = join_all((0..200).map(|i| read(if i % 2 == 0 { "team-a" } else { "team-b" }))).await;
    let digests: Vec<_> = all
        .into_iter()
        .map(|r| r.unwrap().unwrap().digest())
        .collect();
    assert_eq!(
        server.stats().count("get", "secrets") - before,
        2,
        "one GET per Secret"
    );
    // Each team got its own Secret's credential: the same name, never the other's.
    assert!(digests.iter().step_by(2).all(|d| *d == digests[0]));
    assert!(digests.iter().skip(1).step_by(2).all(|d| *d == digests[1]));
    assert_ne!(digests[0], digests[1]);
}
