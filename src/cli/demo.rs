//! `demo`: the quickest look at the product. Starts the provider simulator in-process and
//! tracks one job of every provider API through the real provider clients (signing,
//! HTTP, mapping), with live progress bars and the final statuses. No cloud account, no
//! cluster.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use indicatif::MultiProgress;

use super::exit;
use super::output::{render, summary_line, OutputFormat, TextProgress};
use super::track::{track, TrackArgs};
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
    let jobs = pick_jobs(&config);
    let simulator = match Simulator::start(([127, 0, 0, 1], 0).into(), config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the simulator: {e}");
            return exit::FAILED;
        }
    };
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
            jobs.len()
        );
    }
    let multi = MultiProgress::new();
    let interval = Duration::from_secs_f64((5.0 / args.speed).clamp(0.2, 5.0));
    let runs = jobs.iter().map(|job| {
        let provider = Arc::clone(&provider);
        let endpoint = simulator.url();
        let multi = &multi;
        async move {
            let label = format!(
                "{:<14} {:<24} {:<13}",
                job.provider.as_str(),
                job.api(),
                short(&job.job_id)
            );
            let target = match demo_target(job, &endpoint) {
                Ok(t) => t,
                Err(e) => {
                    return (
                        label,
                        exit::USAGE,
                        CloudDbJobStatus {
                            message: Some(e),
                            ..Default::default()
                        },
                    )
                }
            };
            let track_args = TrackArgs {
                provider: job.provider,
                api: Some(job.api().to_string()),
                job_id: job.job_id.clone(),
                region: target.region.clone(),
                instance_id: target.instance_id.clone(),
                project_id: target.project_id.clone(),
                endpoint: Some(endpoint.clone()),
                interval,
                timeout: Some(args.timeout),
                once: false,
                output: if text {
                    OutputFormat::Text
                } else {
                    OutputFormat::Json
                },
            };
            let mut progress = text.then(|| TextProgress::new(label.clone(), Some(multi)));
            let quiet = !text;
            let (code, status) = if quiet {
                track_quiet(&track_args, &target, &demo_credentials(job), provider).await
            } else {
                track(
                    &track_args,
                    &target,
                    &demo_credentials(job),
                    provider,
                    progress.as_mut(),
                )
                .await
            };
            (label, code, status)
        }
    });
    let results = join_all(runs).await;
    let requests = simulator.request_count();
    simulator.shutdown().await;

    let all_final = results
        .iter()
        .all(|(_, code, _)| *code == exit::SUCCEEDED || *code == exit::FAILED);
    match args.output {
        OutputFormat::Text => {
            println!("\nFinal statuses:");
            for (label, _, status) in &results {
                println!("  {label}  {}", summary_line(status));
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
                        "  {:<54}  upgrade: memory {} → {} MB, volume {} → {} GB",
                        "",
                        mem(&upgrade.before),
                        mem(&upgrade.after),
                        vol(&upgrade.before),
                        vol(&upgrade.after)
                    );
                }
            }
            let failed = results
                .iter()
                .filter(|(_, _, s)| s.phase == Some(JobPhase::Failed))
                .count();
            println!(
                "\n{} jobs tracked ({} succeeded, {failed} failed) with {requests} signed provider requests.",
                results.len(),
                results.iter().filter(|(_, _, s)| s.phase == Some(JobPhase::Succeeded)).count(),
            );
            println!("Next: `clouddb-job-operator simulate` serves these APIs for your own tests; see README.");
        }
        format => {
            for (_, _, status) in &results {
                print!("{}", render(status, format));
            }
        }
    }
    if all_final {
        exit::SUCCEEDED
    } else {
        exit::TIMED_OUT
    }
}

/// `track` without per-change output (for `--output json|yaml`, which prints only the end).
async fn track_quiet(
    args: &TrackArgs,
    target: &JobTarget,
    credentials: &Credentials,
    provider: Arc<dyn crate::providers::Provider>,
) -> (u8, CloudDbJobStatus) {
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

fn short(id: &str) -> String {
    if id.len() > 13 {
        format!("{}…", &id[..12])
    } else {
        id.to_string()
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
                "taurusdb-legacy",
                "rds",
                "polardb",
                "export-task",
                "db-snapshot",
                "cluster-snapshot",
                "blue-green",
                "blue-green-switchover"
            ]
        );
        assert_eq!(jobs[0].job_id, "15967", "the upgrade with before/after");
    }
}
