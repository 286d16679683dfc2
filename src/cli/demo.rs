//! `demo`: the quickest look at the product. Starts the provider simulator in-process and
//! tracks one job of every provider API through the real provider clients (signing,
//! HTTP, mapping), with live progress bars and the final statuses, plus the hard parts: a
//! job that fails, and one whose provider answers 503 twice before it recovers. No cloud
//! account, no cluster.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use indicatif::MultiProgress;

use super::exit;
use super::output::{render, summary_line, JobIdentity, OutputFormat, TextProgress};
use super::track::{track, TrackArgs, Tracked};
use crate::api::{CloudDbJobStatus, JobPhase, ProviderKind};
use crate::providers::credentials::SecretString;
use crate::providers::http::HttpOptions;
use crate::providers::{Credentials, JobTarget};
use crate::simulator::auth::{
    DEFAULT_ALIBABA_ACCESS_KEY_ID, DEFAULT_ALIBABA_ACCESS_KEY_SECRET, DEFAULT_AWS_ACCESS_KEY_ID,
    DEFAULT_AWS_SECRET_ACCESS_KEY, DEFAULT_HUAWEI_AK, DEFAULT_HUAWEI_SK, DEFAULT_HUAWEI_TOKEN,
    DEFAULT_TENCENT_SECRET_ID, DEFAULT_TENCENT_SECRET_KEY,
};
use crate::simulator::{JobSpec, SimConfig, Simulator};

/// Arguments of `demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Simulated seconds per real second (the built-in jobs take 15-90 simulated seconds).
    #[arg(long, default_value_t = 10.0)]
    pub speed: f64,
    /// text (progress bars and a summary) or json/yaml (the final status of each job).
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Give up after this long.
    #[arg(long, default_value = "2m", value_parser = super::run::parse_duration_arg)]
    pub timeout: Duration,
}

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

/// Credentials the simulator accepts for this job (the Huawei TaurusDB job uses an IAM
/// token, the others AK/SK, to show both modes).
fn demo_credentials(job: &JobSpec) -> Credentials {
    match job.provider {
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
    }
}

fn demo_target(job: &JobSpec, endpoint: &str) -> Result<JobTarget, String> {
    let region = match job.provider {
        ProviderKind::Tencent => "ap-guangzhou",
        ProviderKind::TencentLegacy => "gz",
        ProviderKind::Huawei => "cn-north-4",
        ProviderKind::Alibaba => "cn-hangzhou",
        ProviderKind::Aws => "us-east-1",
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
    .map_err(|e| e.to_string())
}

/// Runs the demo; returns the exit code (0 when every job reached a final state).
pub async fn run(args: DemoArgs) -> u8 {
    let mut config = match SimConfig::builtin() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: built-in scenarios: {e}");
            return exit::FAILED;
        }
    };
    if !(args.speed.is_finite() && args.speed > 0.0) {
        eprintln!("error: --speed must be a positive number");
        return exit::USAGE;
    }
    config.speed = args.speed;
    let rows = match demo_jobs(&config) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let simulator = match Simulator::start(([127, 0, 0, 1], 0).into(), config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the simulator: {e}");
            return exit::FAILED;
        }
    };
    for row in rows.iter().filter(|r| r.added) {
        if let Err(e) = simulator.add_job(row.job.clone()) {
            eprintln!("error: demo job {}: {e}", row.job.job_id);
            simulator.shutdown().await;
            return exit::FAILED;
        }
    }
    let provider = match super::providers::standard(&HttpOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let text = args.output == OutputFormat::Text;
    if text {
        println!(
            "Provider simulator on {} ({}x speed); tracking {} jobs through the real provider clients:\n",
            simulator.url(),
            args.speed,
            rows.len()
        );
    }
    let multi = MultiProgress::new();
    let interval = Duration::from_secs_f64((5.0 / args.speed).clamp(0.2, 5.0));
    let endpoint = simulator.url();
    let runs = rows.iter().map(|row| {
        track_row(
            row,
            &endpoint,
            interval,
            &args,
            Arc::clone(&provider),
            &multi,
        )
    });
    let results = join_all(runs).await;
    let requests = simulator.request_count();
    simulator.shutdown().await;

    let all_final = results
        .iter()
        .all(|r| r.tracked.code == exit::SUCCEEDED || r.tracked.code == exit::FAILED);
    match args.output {
        OutputFormat::Text => print_summary(&rows, &results, requests),
        format => {
            for r in &results {
                print!("{}", render(&r.identity, &r.tracked.status, format));
            }
        }
    }
    if all_final {
        exit::SUCCEEDED
    } else {
        exit::TIMED_OUT
    }
}

/// What tracking one row gave.
struct RowResult {
    label: String,
    identity: JobIdentity,
    tracked: Tracked,
}

async fn track_row(
    row: &DemoJob,
    endpoint: &str,
    interval: Duration,
    args: &DemoArgs,
    provider: Arc<dyn crate::providers::Provider>,
    multi: &MultiProgress,
) -> RowResult {
    let job = &row.job;
    let text = args.output == OutputFormat::Text;
    let target = match demo_target(job, endpoint) {
        Ok(t) => t,
        Err(e) => {
            let identity = JobIdentity {
                namespace: None,
                name: None,
                provider: job.provider.as_str().into(),
                api: job.api().into(),
                job_id: job.job_id.clone(),
            };
            return RowResult {
                label: identity.label(false),
                identity,
                tracked: Tracked {
                    code: exit::USAGE,
                    status: CloudDbJobStatus {
                        message: Some(e),
                        ..Default::default()
                    },
                    retried: 0,
                },
            };
        }
    };
    let identity = JobIdentity::of_target(&target);
    let label = match row.note {
        Some(note) => format!("{} ({note})", identity.label(false)),
        None => identity.label(false),
    };
    let track_args = TrackArgs {
        provider: job.provider,
        api: Some(job.api().to_string()),
        job_id: job.job_id.clone(),
        region: target.region.clone(),
        instance_id: target.instance_id.clone(),
        project_id: target.project_id.clone(),
        endpoint: Some(endpoint.to_string()),
        interval,
        timeout: Some(args.timeout),
        once: false,
        output: if text {
            OutputFormat::Text
        } else {
            OutputFormat::Json
        },
    };
    let credentials = demo_credentials(job);
    let tracked = if text {
        let mut progress = TextProgress::new(label.clone(), Some(multi));
        track(
            &track_args,
            &target,
            &credentials,
            provider,
            Some(&mut progress),
        )
        .await
    } else {
        track_quiet(&track_args, &target, &credentials, provider).await
    };
    RowResult {
        label,
        identity,
        tracked,
    }
}

fn print_summary(rows: &[DemoJob], results: &[RowResult], requests: u64) {
    println!("\nFinal statuses:");
    let width = results
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    for r in results {
        let status = &r.tracked.status;
        println!("  {:<width$}  {}", r.label, summary_line(status));
        if r.tracked.retried > 0 && status.phase == Some(JobPhase::Succeeded) {
            println!(
                "  {:<width$}  recovered: {} provider error(s) retried with backoff",
                "", r.tracked.retried
            );
        }
        if let Some(upgrade) = &status.upgrade {
            let mem = |s: &Option<crate::api::InstanceSnapshot>| {
                s.as_ref()
                    .and_then(|s| s.memory_mb)
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "?".into())
            };
            let vol = |s: &Option<crate::api::InstanceSnapshot>| {
                s.as_ref()
                    .and_then(|s| s.volume_gb)
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "?".into())
            };
            println!(
                "  {:<width$}  upgrade: memory {} → {} MB, volume {} → {} GB",
                "",
                mem(&upgrade.before),
                mem(&upgrade.after),
                vol(&upgrade.before),
                vol(&upgrade.after)
            );
        }
    }
    let count = |phase| {
        results
            .iter()
            .filter(|r| r.tracked.status.phase == Some(phase))
            .count()
    };
    println!(
        "\n{} jobs tracked ({} succeeded, {} failed) with {requests} signed provider requests.",
        rows.len(),
        count(JobPhase::Succeeded),
        count(JobPhase::Failed),
    );
    println!("A failed job is a final state too: `track` exits 1 for it, the operator sets the Failed condition.");
    println!(
        "Next: `clouddb-job-operator simulate` serves these APIs for your own tests; see README."
    );
}

/// `track` without per-change output (for `--output json|yaml`, which prints only the end).
async fn track_quiet(
    args: &TrackArgs,
    target: &JobTarget,
    credentials: &Credentials,
    provider: Arc<dyn crate::providers::Provider>,
) -> Tracked {
    let mut silent = TextProgress::hidden();
    let args = quiet_args(args);
    track(&args, target, credentials, provider, Some(&mut silent)).await
}

/// `track` prints every change itself unless the output is text going to a progress
/// sink, so quiet tracking uses text output into a hidden bar.
fn quiet_args(args: &TrackArgs) -> TrackArgs {
    TrackArgs {
        output: OutputFormat::Text,
        ..args.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_tracking_prints_nothing_per_change() {
        let args = TrackArgs {
            provider: ProviderKind::Tencent,
            api: None,
            job_id: "1".into(),
            region: None,
            instance_id: None,
            project_id: None,
            endpoint: None,
            interval: Duration::from_secs(1),
            timeout: None,
            once: false,
            output: OutputFormat::Json,
        };
        let quiet = quiet_args(&args);
        assert_eq!(
            quiet.output,
            OutputFormat::Text,
            "text goes to the hidden bar"
        );
        assert_eq!(quiet.job_id, args.job_id);
    }

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
                "taurusdb-legacy"
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
    }
}
