//! Which jobs the demo tracks (one built-in job per provider API, a failing one, one that
//! recovers from provider errors) and the credentials and target of each.

use crate::api::ProviderKind;
use crate::providers::credentials::{GcpServiceAccountKey, SecretString};
use crate::providers::{Credentials, JobTarget};
use crate::simulator::auth::{
    default_gcp_key_json, DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET,
    DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY, DEFAULT_AZURE_CLIENT_ID,
    DEFAULT_AZURE_CLIENT_SECRET, DEFAULT_AZURE_SUBSCRIPTION_ID, DEFAULT_AZURE_TENANT_ID,
    DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK, DEFAULT_HUAWEI_TOKEN, DEFAULT_TENCENT_SECRET_ID,
    DEFAULT_TENCENT_SECRET_KEY,
};
use crate::simulator::{JobSpec, SimConfig};

/// The job the demo shows for each API, preferring the most telling built-in.
const PREFERRED: &[(&str, &str)] = &[("DescribeTasks", "15967")];

/// The built-in job shown failing: a Tencent SQL task that ends with the provider's own
/// error message.
const FAILING: &str = "51788";

/// A job whose provider answers HTTP 503 to its 2nd and 3rd polls: tracking retries with
/// backoff and the job still completes.
const RECOVERING: &str = r#"
provider: huawei
api: rds
jobId: 0d5e3f7a-9b1c-4e2d-8f6a-5c4b3a2d1e0f
projectId: 0483b6b16e954cb88930a360d2c4e663
instanceId: dsfae23fsfdsae3435in02
instanceName: rds-demo-2
type: reboot
timeline:
  - {after: 0s, status: RUNNING, progress: 10}
  - {after: 10s, status: RUNNING, progress: 60}
  - {after: 25s, status: COMPLETED}
faults:
  - {fault: status, status: 503, requests: 2-3}
"#;

/// One row of the demo.
#[derive(Clone, Debug)]
pub struct DemoJob {
    pub job: JobSpec,
    /// What the row shows besides tracking (the failure, the recovery).
    pub note: Option<&'static str>,
    /// Not a built-in job: the demo adds it to the simulator.
    pub added: bool,
}

/// The demo's rows: one built-in job per provider API, then a job that fails and one that
/// recovers from provider errors.
pub fn demo_jobs(config: &SimConfig) -> Result<Vec<DemoJob>, String> {
    let mut rows: Vec<DemoJob> = pick_jobs(config)
        .into_iter()
        .map(|job| DemoJob {
            job,
            note: None,
            added: false,
        })
        .collect();
    let failing = config
        .scenarios
        .iter()
        .flat_map(|s| &s.jobs)
        .find(|j| j.job_id == FAILING)
        .ok_or_else(|| format!("the built-in scenarios have no job {FAILING}"))?;
    rows.push(DemoJob {
        job: failing.clone(),
        note: Some("fails, as designed"),
        added: false,
    });
    let recovering: JobSpec =
        serde_norway::from_str(RECOVERING).map_err(|e| format!("the recovering demo job: {e}"))?;
    recovering.validate()?;
    rows.push(DemoJob {
        job: recovering,
        note: Some("HTTP 503 twice, retried"),
        added: true,
    });
    Ok(rows)
}

/// Picks one built-in job per provider API.
pub fn pick_jobs(config: &SimConfig) -> Vec<JobSpec> {
    let jobs: Vec<&JobSpec> = config.scenarios.iter().flat_map(|s| &s.jobs).collect();
    let mut picked = Vec::new();
    for kind in ProviderKind::ALL {
        for api in kind.apis() {
            let candidates: Vec<&&JobSpec> = jobs
                .iter()
                .filter(|j| j.provider == kind && j.api() == api)
                .collect();
            let preferred = PREFERRED
                .iter()
                .find(|(a, _)| *a == api)
                .and_then(|(_, id)| candidates.iter().find(|j| j.job_id == *id));
            if let Some(job) = preferred.or(candidates.first()) {
                picked.push((**job).clone());
            }
        }
    }
    picked
}

/// Credentials the simulator at `endpoint` accepts for this job (the Huawei TaurusDB job
/// uses an IAM token, the others AK/SK, to show both modes; the token-based clouds fetch
/// their tokens from the simulator: Google Cloud with the simulator's service-account key,
/// whose `token_uri` points there, Azure with the simulator as its authority host).
pub(super) fn demo_credentials(job: &JobSpec, endpoint: &str) -> Result<Credentials, String> {
    Ok(match job.provider {
        ProviderKind::Tencent | ProviderKind::TencentLegacy => Credentials::Tencent {
            secret_id: DEFAULT_TENCENT_SECRET_ID.into(),
            secret_key: SecretString::new(DEFAULT_TENCENT_SECRET_KEY),
            token: None,
        },
        ProviderKind::Huawei if job.api() == "taurusdb" => Credentials::HuaweiToken {
            token: SecretString::new(DEFAULT_HUAWEI_TOKEN),
        },
        ProviderKind::Huawei => Credentials::HuaweiAkSk {
            ak: DEFAULT_HUAWEI_AK.into(),
            sk: SecretString::new(DEFAULT_HUAWEI_SK),
        },
        ProviderKind::Alibaba => Credentials::Alibaba {
            access_key_id: DEFAULT_ALIBABA_ACCESS_KEY_ID.into(),
            access_key_secret: SecretString::new(DEFAULT_ALIBABA_ACCESS_KEY_SECRET),
            security_token: None,
        },
        ProviderKind::Aws => Credentials::Aws {
            access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
            secret_access_key: SecretString::new(DEFAULT_AWS_SECRET_ACCESS_KEY),
            session_token: None,
        },
        ProviderKind::Azure => Credentials::Azure {
            tenant_id: DEFAULT_AZURE_TENANT_ID.into(),
            client_id: DEFAULT_AZURE_CLIENT_ID.into(),
            client_secret: SecretString::new(DEFAULT_AZURE_CLIENT_SECRET),
            authority_host: Some(endpoint.to_string()),
        },
        ProviderKind::Gcp => GcpServiceAccountKey::from_json(&default_gcp_key_json(endpoint))
            .map(Credentials::Gcp)?,
    })
}

pub(super) fn demo_target(job: &JobSpec, endpoint: &str) -> Result<JobTarget, String> {
    let region = match job.provider {
        ProviderKind::Tencent => "ap-guangzhou",
        ProviderKind::TencentLegacy => "gz",
        ProviderKind::Huawei => "cn-north-4",
        ProviderKind::Alibaba => "cn-hangzhou",
        ProviderKind::Aws => "us-east-1",
        ProviderKind::Gcp => "us-central1",
        ProviderKind::Azure => "eastus",
    };
    JobTarget::new(
        job.provider,
        Some(job.api()),
        &job.job_id,
        Some(region),
        job.instance_id.as_deref(),
        Some(
            job.project_id
                .as_deref()
                .unwrap_or("0483b6b16e954cb88930a360d2c4e663"),
        ),
        Some(endpoint),
    )
    .and_then(|target| match job.provider {
        ProviderKind::Azure => target.with_subscription_id(Some(DEFAULT_AZURE_SUBSCRIPTION_ID)),
        _ => Ok(target),
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_job_per_api() {
        let jobs = pick_jobs(&SimConfig::builtin().unwrap());
        let apis: Vec<&str> = jobs.iter().map(|j| j.api()).collect();
        assert_eq!(
            apis,
            vec![
                "DescribeTasks",
                "DescribeAsyncRequestInfo",
                "GetCdbTaskInfo",
                "GetCdbUpgradeJobInfo",
                "GetCdbRollbackJobTask",
                "rds",
                "taurusdb",
                "taurusdb-legacy",
                "rds",
                "polardb",
                "export-task",
                "db-snapshot",
                "cluster-snapshot",
                "blue-green",
                "blue-green-switchover",
                "cloudsql",
                "postgresql-flexible",
                "mysql-flexible"
            ]
        );
        assert_eq!(jobs[0].job_id, "15967", "the upgrade with before/after");
    }

    #[test]
    fn the_demo_adds_a_failing_job_and_one_that_recovers_from_provider_errors() {
        let config = SimConfig::builtin().unwrap();
        let rows = demo_jobs(&config).unwrap();
        assert_eq!(rows.len(), pick_jobs(&config).len() + 2);
        let failing = &rows[rows.len() - 2];
        assert_eq!(failing.job.job_id, FAILING);
        let last = failing.job.timeline.last().unwrap();
        assert_eq!(last.status, crate::simulator::scenario::Phase::Failed);
        let recovering = &rows[rows.len() - 1];
        assert_eq!(recovering.job.faults.len(), 1);
        assert_eq!(
            recovering.job.faults[0].fault,
            crate::simulator::FaultKind::Status
        );
        assert!(
            recovering.job.timeline.last().unwrap().status
                == crate::simulator::scenario::Phase::Succeed
        );
        // Every row is a different job, so the faults hit only the recovering one.
        let mut ids: Vec<&str> = rows.iter().map(|r| r.job.job_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rows.len());
        assert!(rows
            .iter()
            .all(|r| demo_target(&r.job, "http://127.0.0.1:1").is_ok()));
        assert!(rows
            .iter()
            .all(|r| demo_credentials(&r.job, "http://127.0.0.1:1").is_ok()));
    }

    #[test]
    fn the_gcp_key_points_its_token_uri_at_the_simulator() {
        let config = SimConfig::builtin().unwrap();
        let job = pick_jobs(&config)
            .into_iter()
            .find(|j| j.provider == ProviderKind::Gcp)
            .unwrap();
        // The quick success comes first for the demo.
        assert_eq!(job.name.as_deref(), Some("IMPORT"));
        match demo_credentials(&job, "http://127.0.0.1:9/").unwrap() {
            Credentials::Gcp(key) => assert_eq!(key.token_uri, "http://127.0.0.1:9/token"),
            other => panic!("expected a service-account key, got {other:?}"),
        }
    }
}
