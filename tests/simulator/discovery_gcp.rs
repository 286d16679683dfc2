//! Google Cloud SQL discovery against the simulator: `instances.get` (scheduled
//! maintenance, the missing instance) and `operations.list` by instance, paged by
//! `pageToken`, through the real lister and its token cache.

use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::credentials::GcpServiceAccountKey;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister};
use clouddb_job_operator::providers::gcp::GcpProvider;
use clouddb_job_operator::providers::{Credentials, ErrorClass};
use clouddb_job_operator::simulator::auth::default_gcp_key_json;
use clouddb_job_operator::simulator::Simulator;
use jiff::Timestamp;

use super::client;
use super::discovery::{hour_ago, ids, sim};

/// Cloud SQL operations on `orders-pg` (one due 40 scenario-seconds in), its scheduled
/// maintenance, and an operation on another instance.
const GCP: &str = r#"
jobs:
  - {provider: gcp, jobId: 0f1e2d3c-0000-4000-8000-000000000001, projectId: my-project,
     instanceId: orders-pg, name: BACKUP_VOLUME,
     timeline: [{after: 0s, status: RUNNING}, {after: 1h, status: SUCCEED}]}
  - {provider: gcp, jobId: 0f1e2d3c-0000-4000-8000-000000000002, projectId: my-project,
     instanceId: orders-pg, name: UPDATE,
     timeline: [{after: 40s, status: RUNNING}, {after: 1h, status: SUCCEED}]}
  - {provider: gcp, jobId: 0f1e2d3c-0000-4000-8000-000000000003, projectId: my-project,
     instanceId: other-pg, timeline: [{after: 0s, status: RUNNING}]}
maintenance:
  - {provider: gcp, instanceId: orders-pg, action: maintenance, applyAfter: 48h, forcedAfter: 336h}
"#;

fn gcp_target(sim: &Simulator, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Gcp,
        api: ProviderApi::CloudSql,
        instance_id: instance.into(),
        region: None,
        project_id: Some("my-project".into()),
        subscription_id: None,
        endpoint: Some(sim.url().parse().unwrap()),
    }
}

fn gcp_key(sim: &Simulator) -> Credentials {
    Credentials::Gcp(GcpServiceAccountKey::from_json(&default_gcp_key_json(&sim.url())).unwrap())
}

#[tokio::test]
async fn gcp_lists_the_instance_operations_and_one_appears_mid_run() {
    let sim = sim(GCP).await;
    let lister = GcpProvider::new(client(Duration::from_secs(5)));
    let target = gcp_target(&sim, "orders-pg");
    let first = lister
        .list_jobs(&target, &gcp_key(&sim), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&first), ["0f1e2d3c-0000-4000-8000-000000000001"]);
    assert_eq!(first.jobs[0].api, ProviderApi::CloudSql);
    assert_eq!(first.jobs[0].observation.phase, Some(JobPhase::Running));
    let announced = &first.upcoming;
    assert_eq!(announced.len(), 1, "{announced:?}");
    assert!(announced[0]
        .not_before
        .is_some_and(|t| t > Timestamp::now()));
    assert!(announced[0].forced_after > announced[0].not_before);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let later = lister
        .list_jobs(&target, &gcp_key(&sim), hour_ago())
        .await
        .unwrap();
    assert_eq!(
        ids(&later),
        [
            "0f1e2d3c-0000-4000-8000-000000000001",
            "0f1e2d3c-0000-4000-8000-000000000002"
        ]
    );
    assert_eq!(
        sim.gcp_token_requests(),
        1,
        "the token is cached across rounds"
    );
    let e = lister
        .list_jobs(&gcp_target(&sim, "nope"), &gcp_key(&sim), hour_ago())
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("nope does not exist"), "{e:?}");
}

#[tokio::test]
async fn gcp_pages_by_page_token() {
    let jobs: String = (0..130)
        .map(|i| {
            format!(
                "  - {{provider: gcp, jobId: op-{i:04}, projectId: my-project, instanceId: many-pg, \
                 timeline: [{{after: 0s, status: RUNNING}}]}}\n"
            )
        })
        .collect();
    let sim = sim(&format!("jobs:\n{jobs}")).await;
    let lister = GcpProvider::new(client(Duration::from_secs(5)));
    let found = lister
        .list_jobs(&gcp_target(&sim, "many-pg"), &gcp_key(&sim), hour_ago())
        .await
        .unwrap();
    assert_eq!(found.jobs.len(), 130);
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.api == "cloudsql-list")
        .count();
    assert_eq!(pages, 2, "two pages of 100");
}
