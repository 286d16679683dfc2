//! `demo`: the quickest look at the product. Starts the provider simulator in-process and
//! tracks one job of every provider API through the real provider clients (signing,
//! HTTP, mapping), with live progress bars and the final statuses, plus the hard parts: a
//! job that fails, one whose provider answers 503 twice before it recovers, and a
//! CloudDbInstance whose announced maintenance starts by itself and is discovered. No
//! cloud account, no cluster.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use indicatif::MultiProgress;

mod instance;
mod jobs;

pub use instance::{instance_scenario, settled, InstanceResult};
pub use jobs::{demo_jobs, pick_jobs, DemoJob};

use super::exit;
use super::output::{render, summary_line, JobIdentity, OutputFormat, TextProgress};
use super::track::{track, TrackArgs, Tracked};
use super::watch::{instance_summary, render_instance};
use crate::api::{CloudDbJobStatus, JobPhase};
use crate::providers::http::{HttpClient, HttpOptions};
use crate::providers::{Credentials, JobTarget};
use crate::simulator::{SimConfig, Simulator};
use jobs::{demo_credentials, demo_target};

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
    // After the rows are picked: the instance's job is not one of them, it is discovered.
    match instance_scenario() {
        Ok(scenario) => config.scenarios.push(scenario),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    }
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
    let lister: Arc<dyn crate::providers::discovery::JobLister> =
        match HttpClient::new(&HttpOptions::default()) {
            Ok(http) => Arc::new(super::providers::listers(&http)),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::FAILED;
            }
        };
    let text = args.output == OutputFormat::Text;
    if text {
        println!(
            "Provider simulator on {} ({}x speed); tracking {} jobs through the real provider clients, \
             and discovering the jobs of one instance:\n",
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
    let watched = instance::watch_instance(
        &endpoint,
        lister,
        interval,
        args.timeout,
        text.then_some(&multi),
    );
    let (results, watched) = futures::join!(join_all(runs), watched);
    let requests = simulator.request_count();
    simulator.shutdown().await;
    let watched = match watched {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: the demo instance: {e}");
            return exit::FAILED;
        }
    };

    let all_final = watched.settled
        && results
            .iter()
            .all(|r| r.tracked.code == exit::SUCCEEDED || r.tracked.code == exit::FAILED);
    match args.output {
        OutputFormat::Text => {
            print_summary(&rows, &results, &watched, requests);
        }
        format => {
            for r in &results {
                print!("{}", render(&r.identity, &r.tracked.status, format));
            }
            print!("{}", render_instance(&watched.shown, false, format));
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
    let resolved = demo_target(job, endpoint)
        .and_then(|target| Ok((target, demo_credentials(job, endpoint)?)));
    let (target, credentials) = match resolved {
        Ok(resolved) => resolved,
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
        subscription_id: target.subscription_id.clone(),
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

fn print_summary(rows: &[DemoJob], results: &[RowResult], watched: &InstanceResult, requests: u64) {
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
    print_instance(watched);
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

fn print_instance(watched: &InstanceResult) {
    let label = instance::row_label(&watched.shown.identity);
    println!(
        "\nDiscovered on instance {}:",
        watched.shown.identity.instance_id
    );
    println!("  {label}  {}", instance_summary(&watched.shown.status));
    let width = label.chars().count();
    for job in &watched.created {
        println!(
            "  {:<width$}  CloudDbJob {} created for job {} (nobody typed its ID in)",
            "",
            job.metadata.name.as_deref().unwrap_or("?"),
            job.spec.job_id
        );
    }
    if watched.seen_busy {
        println!(
            "  {:<width$}  seen Busy while it ran: `kubectl wait cdbinst/NAME --for=condition=Idle` waits for that",
            ""
        );
    }
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
    use crate::api::ProviderKind;

    #[test]
    fn quiet_tracking_prints_nothing_per_change() {
        let args = TrackArgs {
            provider: ProviderKind::Tencent,
            api: None,
            job_id: "1".into(),
            region: None,
            instance_id: None,
            project_id: None,
            subscription_id: None,
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
}
