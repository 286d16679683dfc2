//! Huawei RDS discovery against the simulator (`ListTasks` by instance, paged by
//! `offset`/`limit`), with a task that starts mid-run; and a job added through the control
//! API with `clock: added`, which appears by itself later.

use std::time::Duration;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister};
use clouddb_job_operator::providers::huawei::HuaweiProvider;
use clouddb_job_operator::providers::{Credentials, ErrorClass};
use clouddb_job_operator::simulator::auth::{DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK};
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};
use jiff::Timestamp;

use super::*;

fn scenario() -> String {
    let mut jobs = String::from(
        "jobs:\n  - {provider: huawei, jobId: hw-late-1, projectId: 0483b6b16e954cb88930a360d2c4e663, \
         instanceId: hw-in01, type: reboot, \
         timeline: [{after: 40s, status: RUNNING, progress: 5}, {after: 1h, status: COMPLETED}]}\n",
    );
    for i in 0..60 {
        jobs += &format!(
            "  - {{provider: huawei, jobId: hw-task-{i:03}, projectId: {PROJECT}, instanceId: hw-in01, \
             timeline: [{{after: 0s, status: RUNNING, progress: 40}}]}}\n"
        );
    }
    jobs
}

fn target(sim: &Simulator, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Huawei,
        api: ProviderApi::Rds,
        instance_id: instance.into(),
        region: Some("cn-north-4".into()),
        project_id: Some(PROJECT.into()),
        subscription_id: None,
        endpoint: Some(sim.url().parse().unwrap()),
    }
}

fn creds() -> Credentials {
    Credentials::HuaweiAkSk {
        ak: DEFAULT_HUAWEI_AK.into(),
        sk: SecretString::new(DEFAULT_HUAWEI_SK),
    }
}

#[tokio::test]
async fn huawei_lists_every_page_and_a_task_appears_mid_run() {
    let sim = start(SimConfig {
        scenarios: vec![Scenario::from_yaml(&scenario()).unwrap()],
        speed: 20.0,
        ..SimConfig::empty()
    })
    .await;
    let lister = HuaweiProvider::new(client(Duration::from_secs(5)));
    let since = Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let first = lister
        .list_jobs(&target(&sim, "hw-in01"), &creds(), since)
        .await
        .unwrap();
    assert_eq!(first.jobs.len(), 60);
    assert!(first.jobs.iter().all(|j| j.api == ProviderApi::Rds));
    assert_eq!(first.jobs[0].observation.phase, Some(JobPhase::Running));
    assert_eq!(first.jobs[0].observation.progress, Some(40));
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.api == "rds-tasklist")
        .count();
    assert_eq!(pages, 2, "two pages of 50");
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let later = lister
        .list_jobs(&target(&sim, "hw-in01"), &creds(), since)
        .await
        .unwrap();
    assert_eq!(later.jobs.len(), 61);
    assert!(later.jobs.iter().any(|j| j.job_id == "hw-late-1"));
    let e = lister
        .list_jobs(&target(&sim, "hw-nope"), &creds(), since)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("hw-nope does not exist"), "{e:?}");
}

#[tokio::test]
async fn a_job_added_with_clock_added_appears_after_its_first_step() {
    let sim = start(SimConfig {
        speed: 20.0,
        ..SimConfig::builtin().unwrap()
    })
    .await;
    let lister = HuaweiProvider::new(client(Duration::from_secs(5)));
    let since = Timestamp::now() - jiff::SignedDuration::from_hours(1);
    // After the simulator has run for a while, as in an end-to-end test.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let added: clouddb_job_operator::simulator::JobSpec =
        serde_json::from_value(serde_json::json!({
            "provider": "huawei", "jobId": "hw-added", "projectId": PROJECT,
            "instanceId": "hw-in-added", "clock": "added",
            "timeline": [{"after": "20s", "status": "RUNNING"},
                         {"after": "60s", "status": "COMPLETED"}],
        }))
        .unwrap();
    sim.add_job(added).unwrap();
    let before = lister
        .list_jobs(&target(&sim, "hw-in-added"), &creds(), since)
        .await
        .unwrap();
    assert!(before.jobs.is_empty(), "{before:?}");
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let running = lister
        .list_jobs(&target(&sim, "hw-in-added"), &creds(), since)
        .await
        .unwrap();
    assert_eq!(running.jobs.len(), 1);
    assert_eq!(running.jobs[0].observation.phase, Some(JobPhase::Running));
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let done = lister
        .list_jobs(&target(&sim, "hw-in-added"), &creds(), since)
        .await
        .unwrap();
    assert_eq!(done.jobs[0].observation.phase, Some(JobPhase::Succeeded));
}
