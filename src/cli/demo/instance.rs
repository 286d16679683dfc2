//! The demo's CloudDbInstance: a Cloud SQL instance with maintenance announced for next
//! week, on which the provider starts a maintenance operation by itself during the demo.
//! Listed through the real Google lister, with the controller's own decisions
//! ([`decide`]) run in-process (the CloudDbJobs it would create are kept in memory): it
//! shows the instance idle with the maintenance upcoming, busy while the operation runs,
//! and idle again, with one CloudDbJob discovered for a job nobody typed in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::MultiProgress;
use jiff::Timestamp;

use crate::api::{
    CloudDbInstance, CloudDbInstanceSpec, CloudDbInstanceStatus, CloudDbJob, IDLE_CONDITION,
};
use crate::cli::watch::{instance_summary, InstanceIdentity, InstanceLine, ShownInstance};
use crate::controller::discovery::{decide, window_start, Outcome};
use crate::providers::discovery::{InstanceTarget, JobLister};
use crate::providers::target::parse_endpoint;
use crate::providers::Credentials;
use crate::simulator::{JobSpec, Scenario};

use super::jobs::demo_credentials;

/// The instance's scenario: Cloud SQL announces maintenance for next week, and 30 s in
/// runs a `MAINTENANCE` operation nobody started from here.
pub const INSTANCE_SCENARIO: &str = r#"
name: demo-instance
description: A Cloud SQL instance on which the provider starts maintenance by itself
jobs:
  - provider: gcp
    api: cloudsql
    jobId: 3f9c1a7e-5d2b-4e8f-9a61-7c0d4b2e8f15
    projectId: simulator-project
    instanceId: inventory-db
    name: MAINTENANCE
    timeline:
      - {after: 30s, status: PENDING}
      - {after: 35s, status: RUNNING}
      - {after: 90s, status: SUCCEED}
maintenance:
  - provider: gcp
    instanceId: inventory-db
    action: scheduled-maintenance
    applyAfter: 168h
    forcedAfter: 720h
"#;

/// The CloudDbInstance of the demo, as a user would write it.
const INSTANCE_SPEC: &str = r#"{
  "provider": "gcp", "instanceId": "inventory-db", "projectId": "simulator-project",
  "region": "us-central1", "credentialsSecretRef": {"name": "gcp"}
}"#;

/// The demo's instance scenario, checked.
pub fn instance_scenario() -> Result<Scenario, String> {
    let scenario: Scenario = serde_norway::from_str(INSTANCE_SCENARIO)
        .map_err(|e| format!("the demo instance's scenario: {e}"))?;
    for job in &scenario.jobs {
        job.validate()?;
    }
    Ok(scenario)
}

/// The CloudDbInstance object the demo decides for (named, with a UID, so that the
/// CloudDbJobs it creates count as its own on the next round).
pub fn demo_instance(endpoint: &str) -> Result<CloudDbInstance, String> {
    let mut spec: CloudDbInstanceSpec =
        serde_json::from_str(INSTANCE_SPEC).map_err(|e| format!("the demo instance: {e}"))?;
    spec.endpoint = Some(endpoint.to_string());
    let mut instance = CloudDbInstance::new("inventory", spec);
    instance.metadata.namespace = Some("demo".into());
    instance.metadata.uid = Some("00000000-0000-4000-8000-00000000d3e0".into());
    instance.metadata.generation = Some(1);
    Ok(instance)
}

/// Whether the demo has shown what it came for: a job was discovered, and nothing is
/// active any more (the maintenance ran and finished).
pub fn settled(status: &CloudDbInstanceStatus) -> bool {
    let idle = status
        .conditions
        .iter()
        .any(|c| c.type_ == IDLE_CONDITION && c.status == "True");
    idle && status.active_jobs.is_empty() && !status.discovered_job_ids.is_empty()
}

/// What watching the instance gave.
pub struct InstanceResult {
    pub shown: ShownInstance,
    /// The CloudDbJobs the controller would have created, in order.
    pub created: Vec<CloudDbJob>,
    /// The instance was seen busy at least once.
    pub seen_busy: bool,
    /// It settled before the timeout.
    pub settled: bool,
}

/// Lists the instance every `interval` and decides as the controller does, until it
/// settled or `timeout` passed.
pub async fn watch_instance(
    endpoint: &str,
    lister: Arc<dyn JobLister>,
    interval: Duration,
    timeout: Duration,
    progress: Option<&MultiProgress>,
) -> Result<InstanceResult, String> {
    let mut instance = demo_instance(endpoint)?;
    let target = target(&instance)?;
    let credentials = credentials(endpoint)?;
    let identity = InstanceIdentity::of_object(&instance);
    let mut line = progress.map(|multi| InstanceLine::new(row_label(&identity), multi));
    let mut created: Vec<CloudDbJob> = Vec::new();
    let mut seen_busy = false;
    let deadline = Instant::now() + timeout;
    loop {
        let now = Timestamp::now();
        let since = window_start(&instance, now).unwrap_or(now);
        let listed = lister.list_jobs(&target, &credentials, since).await;
        let decision = match &listed {
            Ok(discovery) => decide(&instance, Outcome::Listed(discovery), &created, now),
            Err(error) => decide(&instance, Outcome::Failed(error), &created, now),
        };
        created.extend(decision.create);
        let status = decision.status;
        seen_busy |= !status.active_jobs.is_empty();
        if let Some(line) = line.as_mut() {
            line.show(instance_summary(&status));
        }
        let done = settled(&status);
        instance.status = Some(status);
        if done || Instant::now() >= deadline {
            if let Some(line) = &line {
                line.finish();
            }
            return Ok(InstanceResult {
                shown: ShownInstance {
                    identity,
                    status: instance.status.unwrap_or_default(),
                },
                created,
                seen_busy,
                settled: done,
            });
        }
        tokio::time::sleep(interval).await;
    }
}

fn target(instance: &CloudDbInstance) -> Result<InstanceTarget, String> {
    let spec = &instance.spec;
    let endpoint = match spec.endpoint.as_deref() {
        Some(raw) => Some(parse_endpoint(raw).map_err(|e| e.to_string())?),
        None => None,
    };
    Ok(InstanceTarget {
        provider: spec.provider,
        api: spec
            .listed_api()
            .ok_or_else(|| format!("the demo instance's api {:?}", spec.api))?,
        instance_id: spec.instance_id.clone(),
        region: spec.region.clone(),
        project_id: spec.project_id.clone(),
        subscription_id: None,
        endpoint,
    })
}

/// The label of the instance's row: provider, API and instance, in the columns of the
/// job rows (which have no object name in the demo).
pub(super) fn row_label(identity: &InstanceIdentity) -> String {
    InstanceIdentity {
        namespace: None,
        name: None,
        ..identity.clone()
    }
    .label(false)
}

/// The simulator's Google service-account key, as for the demo's Cloud SQL job.
fn credentials(endpoint: &str) -> Result<Credentials, String> {
    let scenario = instance_scenario()?;
    let job: &JobSpec = scenario
        .jobs
        .first()
        .ok_or("the demo instance's scenario has no job")?;
    demo_credentials(job, endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ActiveJob, DiscoveredJobId, JobPhase, ProviderKind};
    use crate::simulator::scenario::Phase;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    #[test]
    fn the_maintenance_is_announced_and_starts_by_itself_later() {
        let scenario = instance_scenario().unwrap();
        let job = &scenario.jobs[0];
        assert_eq!((job.provider, job.api()), (ProviderKind::Gcp, "cloudsql"));
        assert_eq!(job.name.as_deref(), Some("MAINTENANCE"));
        // Not there at first: the provider starts it later, by itself.
        let first = &job.timeline[0];
        assert!(first.after >= Duration::from_secs(20), "{first:?}");
        assert_eq!(job.timeline.last().unwrap().status, Phase::Succeed);
        // Announced for later than the demo runs, so it is upcoming throughout.
        let announced = &scenario.maintenance[0];
        assert_eq!(announced.instance_id, "inventory-db");
        assert!(announced
            .apply_after
            .is_some_and(|t| t > job.timeline.last().unwrap().after));
        assert_eq!(job.instance_id.as_deref(), Some("inventory-db"));

        let instance = demo_instance("http://127.0.0.1:1").unwrap();
        let target = target(&instance).unwrap();
        assert_eq!(target.instance_id, "inventory-db");
        assert_eq!(target.project_id.as_deref(), job.project_id.as_deref());
        assert!(credentials("http://127.0.0.1:1").is_ok());
        let label = row_label(&InstanceIdentity::of_object(&instance));
        assert!(
            label.starts_with("gcp "),
            "aligned with the job rows: {label:?}"
        );
    }

    #[test]
    fn settled_once_a_job_was_discovered_and_nothing_is_active() {
        let idle = Condition {
            type_: "Idle".into(),
            status: "True".into(),
            reason: "NoActiveJobs".into(),
            message: String::new(),
            observed_generation: Some(1),
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
        };
        let mut status = CloudDbInstanceStatus {
            conditions: vec![idle.clone()],
            ..Default::default()
        };
        assert!(!settled(&status), "idle before anything was discovered");
        status.discovered_job_ids = vec![DiscoveredJobId {
            job_id: "op".into(),
            since: Time(Timestamp::UNIX_EPOCH),
        }];
        assert!(settled(&status));
        status.active_jobs = vec![ActiveJob {
            name: None,
            job_id: "op".into(),
            job_type: None,
            phase: JobPhase::Running,
            progress: None,
        }];
        assert!(!settled(&status), "still running");
        status.active_jobs.clear();
        status.conditions[0].status = "Unknown".into();
        assert!(!settled(&status), "not known to be idle");
    }
}
