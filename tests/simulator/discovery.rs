//! Discovery against the simulator: each provider's list call by instance through the real
//! listers (signing, paging, mapping), the start-time window, unknown instances, and jobs
//! that start on their own mid-run (a timeline whose first step comes later, and a job added
//! through the control API with `clock: added`). Google Cloud SQL and Huawei RDS are in
//! `discovery_gcp.rs` and `discovery_huawei.rs`.

use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::alibaba::AlibabaProvider;
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister};
use clouddb_job_operator::providers::tencent::TencentProvider;
use clouddb_job_operator::providers::{Credentials, ErrorClass};
use clouddb_job_operator::simulator::auth::{
    DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET, DEFAULT_AWS_ACCESS_KEY_ID,
    DEFAULT_AWS_SECRET_ACCESS_KEY, DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use clouddb_job_operator::simulator::{JobSpec, Scenario, SimConfig, Simulator};
use jiff::Timestamp;

use super::*;

/// One finished and one running task on `cdb-disc`, one due 40 scenario-seconds (2 s at
/// speed 20) into the run, and a task on another instance.
const TENCENT: &str = r#"
jobs:
  - {provider: tencent, jobId: "9001", instanceId: cdb-disc, type: reboot,
     timeline: [{after: 0s, status: RUNNING}, {after: 1s, status: SUCCEED}]}
  - {provider: tencent, jobId: "9002", instanceId: cdb-disc, type: param,
     timeline: [{after: 0s, status: RUNNING, progress: 20}, {after: 1h, status: SUCCEED}]}
  - {provider: tencent, jobId: "9003", instanceId: cdb-disc, type: upgrade-master,
     timeline: [{after: 40s, status: RUNNING, progress: 5}, {after: 1h, status: SUCCEED}]}
  - {provider: tencent, jobId: "9100", instanceId: cdb-elsewhere, type: reboot,
     timeline: [{after: 0s, status: RUNNING}]}
"#;

pub(super) async fn sim(yaml: &str) -> Simulator {
    start(SimConfig {
        scenarios: vec![Scenario::from_yaml(yaml).unwrap()],
        speed: 20.0,
        ..SimConfig::empty()
    })
    .await
}

fn tencent_target(sim: &Simulator, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Tencent,
        api: ProviderApi::DescribeTasks,
        instance_id: instance.into(),
        region: Some("ap-guangzhou".into()),
        project_id: None,
        subscription_id: None,
        endpoint: Some(sim.url().parse().unwrap()),
    }
}

fn tencent_creds() -> Credentials {
    Credentials::Tencent {
        secret_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret_key: SecretString::new(DEFAULT_TENCENT_SECRET_KEY),
        token: None,
    }
}

pub(super) fn hour_ago() -> Timestamp {
    Timestamp::now() - jiff::SignedDuration::from_hours(1)
}

pub(super) fn ids(d: &clouddb_job_operator::providers::discovery::Discovery) -> Vec<String> {
    let mut ids: Vec<String> = d.jobs.iter().map(|j| j.job_id.clone()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn tencent_lists_the_instance_and_a_job_appears_mid_run() {
    let sim = sim(TENCENT).await;
    let lister = TencentProvider::new(client(Duration::from_secs(5)));
    let target = tencent_target(&sim, "cdb-disc");
    let first = lister
        .list_jobs(&target, &tencent_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&first), ["9001", "9002"]);
    let running = first.jobs.iter().find(|j| j.job_id == "9002").unwrap();
    assert_eq!(running.api, ProviderApi::DescribeTasks);
    assert_eq!(
        (running.observation.phase, running.observation.progress),
        (Some(JobPhase::Running), Some(20))
    );
    assert_eq!(running.observation.job_type.as_deref(), Some("parameter"));
    // A job added through the control API with `clock: added` and a job due later.
    let added: JobSpec = serde_json::from_value(serde_json::json!({
        "provider": "tencent", "jobId": "9004", "instanceId": "cdb-disc", "type": "reboot",
        "clock": "added", "timeline": [{"after": "20s", "status": "RUNNING"}],
    }))
    .unwrap();
    sim.add_job(added).unwrap();
    let not_yet = lister
        .list_jobs(&target, &tencent_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&not_yet), ["9001", "9002"]);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let later = lister
        .list_jobs(&target, &tencent_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&later), ["9001", "9002", "9003", "9004"]);
    // The window: nothing started in the future.
    let future = Timestamp::now() + jiff::SignedDuration::from_hours(2);
    let none = lister
        .list_jobs(&target, &tencent_creds(), future)
        .await
        .unwrap();
    assert!(none.jobs.is_empty(), "{none:?}");
}

#[tokio::test]
async fn tencent_pages_through_the_simulator() {
    let jobs: String = (0..130)
        .map(|i| {
            format!(
                "  - {{provider: tencent, jobId: \"{}\", instanceId: cdb-many, \
                 timeline: [{{after: 0s, status: RUNNING}}]}}\n",
                7000 + i
            )
        })
        .collect();
    let sim = sim(&format!("jobs:\n{jobs}")).await;
    let lister = TencentProvider::new(client(Duration::from_secs(5)));
    let found = lister
        .list_jobs(
            &tencent_target(&sim, "cdb-many"),
            &tencent_creds(),
            hour_ago(),
        )
        .await
        .unwrap();
    assert_eq!(found.jobs.len(), 130);
    assert_eq!(found.clamped, None);
    let calls = sim
        .requests()
        .iter()
        .filter(|r| r.api == "DescribeTasks")
        .count();
    assert_eq!(calls, 2, "two pages of 100");
}

#[tokio::test]
async fn tencent_unknown_instance_and_bad_key_are_refused() {
    let sim = sim(TENCENT).await;
    let lister = TencentProvider::new(client(Duration::from_secs(5)));
    let e = lister
        .list_jobs(
            &tencent_target(&sim, "cdb-nope"),
            &tencent_creds(),
            hour_ago(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(e.code, "InvalidParameter.InstanceNotFound");
    assert!(e.message.contains("cdb-nope"), "{e:?}");
    let bad = Credentials::Tencent {
        secret_id: DEFAULT_TENCENT_SECRET_ID.into(),
        secret_key: SecretString::new("not-the-key"),
        token: None,
    };
    let e = lister
        .list_jobs(&tencent_target(&sim, "cdb-disc"), &bad, hour_ago())
        .await
        .unwrap_err();
    assert_eq!(e.code, "AuthFailure.SignatureFailure");
}

/// Two RDS tasks on `rm-disc` (one due 40 scenario-seconds in), a PolarDB task.
const ALIBABA: &str = r#"
jobs:
  - {provider: alibaba, api: rds, jobId: t-disc0001, instanceId: rm-disc, name: MinorVersionUpgrade,
     timeline: [{after: 0s, status: RUNNING, progress: 30}, {after: 1h, status: SUCCEED}]}
  - {provider: alibaba, api: rds, jobId: t-disc0002, instanceId: rm-disc, type: reboot,
     timeline: [{after: 40s, status: RUNNING}, {after: 1h, status: SUCCEED}]}
  - {provider: alibaba, api: polardb, jobId: t-polar0001, instanceId: pc-disc, type: reboot,
     timeline: [{after: 0s, status: RUNNING}]}
"#;

fn alibaba_target(sim: &Simulator, api: ProviderApi, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Alibaba,
        api,
        instance_id: instance.into(),
        region: Some("cn-hangzhou".into()),
        project_id: None,
        subscription_id: None,
        endpoint: Some(sim.url().parse().unwrap()),
    }
}

fn alibaba_creds() -> Credentials {
    Credentials::Alibaba {
        access_key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
        access_key_secret: SecretString::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
        security_token: None,
    }
}

#[tokio::test]
async fn alibaba_lists_rds_and_polardb_instances_and_a_task_appears_mid_run() {
    let sim = sim(ALIBABA).await;
    let lister = AlibabaProvider::new(client(Duration::from_secs(5)));
    let rds = alibaba_target(&sim, ProviderApi::AlibabaRds, "rm-disc");
    let first = lister
        .list_jobs(&rds, &alibaba_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&first), ["t-disc0001"]);
    assert_eq!(first.jobs[0].api, ProviderApi::AlibabaRds);
    assert_eq!(
        first.jobs[0].observation.progress,
        Some(30),
        "{:?}",
        first.jobs[0]
    );
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let later = lister
        .list_jobs(&rds, &alibaba_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&later), ["t-disc0001", "t-disc0002"]);
    let polar = lister
        .list_jobs(
            &alibaba_target(&sim, ProviderApi::PolarDb, "pc-disc"),
            &alibaba_creds(),
            hour_ago(),
        )
        .await
        .unwrap();
    assert_eq!(ids(&polar), ["t-polar0001"]);
    // A window beyond the 30 days the API keeps is clamped, and said.
    let old = Timestamp::now() - jiff::SignedDuration::from_hours(24 * 40);
    let clamped = lister.list_jobs(&rds, &alibaba_creds(), old).await.unwrap();
    assert!(clamped.clamped.is_some_and(|n| n.contains("30 days")));
    assert_eq!(clamped.jobs.len(), 2);
}

#[tokio::test]
async fn alibaba_unknown_instance_is_permanent() {
    let sim = sim(ALIBABA).await;
    let lister = AlibabaProvider::new(client(Duration::from_secs(5)));
    let e = lister
        .list_jobs(
            &alibaba_target(&sim, ProviderApi::AlibabaRds, "rm-nope"),
            &alibaba_creds(),
            hour_ago(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(e.code, "InvalidDBInstanceId.NotFound");
    assert!(e.message.contains("rm-nope"), "{e:?}");
    let e = lister
        .list_jobs(
            &alibaba_target(&sim, ProviderApi::PolarDb, "pc-nope"),
            &alibaba_creds(),
            hour_ago(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "InvalidDBClusterId.NotFound");
}

/// Snapshots of `orders-sim` (one due 40 scenario-seconds in), a blue/green deployment of
/// it, a snapshot of another instance, and an announced upgrade.
const AWS: &str = r#"
jobs:
  - {provider: aws, api: db-snapshot, jobId: orders-sim-1, instanceId: orders-sim,
     timeline: [{after: 0s, status: RUNNING, progress: 30}, {after: 1h, status: SUCCEED}]}
  - {provider: aws, api: db-snapshot, jobId: orders-sim-2, instanceId: orders-sim,
     timeline: [{after: 40s, status: RUNNING}, {after: 1h, status: SUCCEED}]}
  - {provider: aws, api: blue-green, jobId: bgd-sim1, instanceId: orders-sim,
     timeline: [{after: 0s, status: RUNNING, progress: 10}]}
  - {provider: aws, api: db-snapshot, jobId: other-1, instanceId: other-db,
     timeline: [{after: 0s, status: RUNNING}]}
maintenance:
  - {provider: aws, instanceId: orders-sim, action: db-upgrade, description: Minor version upgrade,
     applyAfter: 72h, forcedAfter: 720h}
"#;

fn aws_target(sim: &Simulator, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Aws,
        api: ProviderApi::DbSnapshot,
        instance_id: instance.into(),
        region: Some("us-east-1".into()),
        project_id: None,
        subscription_id: None,
        endpoint: Some(sim.url().parse().unwrap()),
    }
}

fn aws_creds() -> Credentials {
    Credentials::Aws {
        access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::new(DEFAULT_AWS_SECRET_ACCESS_KEY),
        session_token: None,
    }
}

#[tokio::test]
async fn aws_lists_the_instance_with_its_pending_maintenance() {
    let sim = sim(AWS).await;
    let lister = AwsProvider::new(client(Duration::from_secs(5)));
    let target = aws_target(&sim, "orders-sim");
    let first = lister
        .list_jobs(&target, &aws_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&first), ["bgd-sim1", "orders-sim-1"]);
    let bgd = first.jobs.iter().find(|j| j.job_id == "bgd-sim1").unwrap();
    assert_eq!(bgd.api, ProviderApi::BlueGreen);
    assert_eq!(first.upcoming.len(), 1);
    let upgrade = &first.upcoming[0];
    assert_eq!(upgrade.action, "db-upgrade");
    assert_eq!(
        upgrade.description.as_deref(),
        Some("Minor version upgrade")
    );
    assert!(upgrade.not_before.is_some_and(|t| t > Timestamp::now()));
    assert!(upgrade.forced_after > upgrade.not_before);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let later = lister
        .list_jobs(&target, &aws_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(ids(&later), ["bgd-sim1", "orders-sim-1", "orders-sim-2"]);
    let e = lister
        .list_jobs(&aws_target(&sim, "nope"), &aws_creds(), hour_ago())
        .await
        .unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Permanent, "DBInstanceNotFound")
    );
}

#[tokio::test]
async fn aws_pages_snapshots_by_marker() {
    let jobs: String = (0..130)
        .map(|i| {
            format!(
                "  - {{provider: aws, api: db-snapshot, jobId: snap-{i}, instanceId: many-db, \
                 timeline: [{{after: 0s, status: RUNNING}}]}}\n"
            )
        })
        .collect();
    let sim = sim(&format!("jobs:\n{jobs}")).await;
    let lister = AwsProvider::new(client(Duration::from_secs(5)));
    let found = lister
        .list_jobs(&aws_target(&sim, "many-db"), &aws_creds(), hour_ago())
        .await
        .unwrap();
    assert_eq!(found.jobs.len(), 130);
    let snapshot_calls = sim
        .requests()
        .iter()
        .filter(|r| r.api == "db-snapshot")
        .count();
    assert_eq!(snapshot_calls, 2, "two pages of 100");
}

/// The simulator applies the window itself (the lister also drops older tasks, so this is
/// checked on the raw answer).
#[tokio::test]
async fn tencent_describe_tasks_applies_the_start_time_window() {
    let sim = sim(TENCENT).await;
    let http = client(Duration::from_secs(5));
    let fmt = |t: Timestamp| {
        t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let hour = jiff::SignedDuration::from_hours(1);
    let count = |begin: Timestamp, end: Timestamp| {
        let body = serde_json::json!({"InstanceId": "cdb-disc",
            "StartTimeBegin": fmt(begin), "StartTimeEnd": fmt(end)});
        let (http, sim) = (&http, &sim);
        async move {
            tencent_ok(http, sim, "DescribeTasks", body).await["Response"]["TotalCount"].clone()
        }
    };
    let now = Timestamp::now();
    assert_eq!(count(now - hour, now + hour).await, 2);
    assert_eq!(count(now + hour, now + hour + hour).await, 0);
    assert_eq!(count(now - hour - hour, now - hour).await, 0);
    let bad = tencent_ok(
        &http,
        &sim,
        "DescribeTasks",
        serde_json::json!({"InstanceId": "cdb-disc", "StartTimeBegin": "yesterday"}),
    )
    .await;
    assert_eq!(bad["Response"]["Error"]["Code"], "InvalidParameterValue");
}
