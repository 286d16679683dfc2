//! `track`: polls one provider job from the command line through the same provider
//! clients and status mapping as the controller, without Kubernetes.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::exit;
use super::output::{render, JobIdentity, OutputFormat, TextProgress};
use crate::api::{CloudDbJobStatus, JobPhase, ProviderKind};
use crate::controller::policy::{next_poll_delay, transient_backoff};
use crate::controller::status::{needs_write, next_status, PollOutcome, StatusContext};
use crate::providers::{Credentials, ErrorClass, JobTarget, Provider};

/// Arguments of `track`. Credentials come from the providers' official SDK variables:
/// `TENCENTCLOUD_SECRET_ID`/`TENCENTCLOUD_SECRET_KEY` (optional `TENCENTCLOUD_SESSION_TOKEN`),
/// `HUAWEICLOUD_SDK_AK`/`HUAWEICLOUD_SDK_SK` or `HUAWEICLOUD_SDK_TOKEN`,
/// `ALIBABA_CLOUD_ACCESS_KEY_ID`/`ALIBABA_CLOUD_ACCESS_KEY_SECRET` (optional
/// `ALIBABA_CLOUD_SECURITY_TOKEN`), `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (optional
/// `AWS_SESSION_TOKEN`), `GOOGLE_APPLICATION_CREDENTIALS` (a service-account key file).
#[derive(Debug, Clone, clap::Args)]
pub struct TrackArgs {
    /// tencent, tencent-legacy, huawei, alibaba, aws or gcp.
    #[arg(long)]
    pub provider: ProviderKind,
    /// Provider API (defaults per provider, as in `spec.api`).
    #[arg(long)]
    pub api: Option<String>,
    /// Provider job ID.
    #[arg(long)]
    pub job_id: String,
    /// Provider region. For aws, `AWS_REGION` or `AWS_DEFAULT_REGION` when not given, as
    /// the AWS tools do; for alibaba, `ALIBABA_CLOUD_REGION_ID`.
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub instance_id: Option<String>,
    /// Huawei or Google Cloud project ID. For gcp, `GOOGLE_CLOUD_PROJECT` when not given,
    /// as the Google client libraries do.
    #[arg(long, env = "HUAWEICLOUD_SDK_PROJECT_ID")]
    pub project_id: Option<String>,
    /// Azure subscription ID (provider azure); `AZURE_SUBSCRIPTION_ID` when not given.
    #[arg(long)]
    pub subscription_id: Option<String>,
    /// Endpoint override: https:// anywhere, http:// only for loopback hosts.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Poll interval.
    #[arg(long, default_value = "15s", value_parser = super::run::parse_duration_arg)]
    pub interval: Duration,
    /// Give up after this long (exit code 3).
    #[arg(long, value_parser = super::run::parse_duration_arg)]
    pub timeout: Option<Duration>,
    /// Poll once, print, and exit.
    #[arg(long)]
    pub once: bool,
    /// json, yaml or text.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: OutputFormat,
}

/// Resolves the target and credentials; `Err` is a usage/configuration message.
pub fn prepare(
    args: &TrackArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(JobTarget, Credentials), String> {
    let region = args.region.clone().or_else(|| {
        let vars: &[&str] = match args.provider {
            ProviderKind::Aws => &["AWS_REGION", "AWS_DEFAULT_REGION"],
            ProviderKind::Alibaba => &["ALIBABA_CLOUD_REGION_ID"],
            _ => &[],
        };
        vars.iter()
            .find_map(|v| env(v).filter(|r| !r.trim().is_empty()))
    });
    let project_id = args.project_id.clone().or_else(|| match args.provider {
        ProviderKind::Gcp => env("GOOGLE_CLOUD_PROJECT").filter(|p| !p.trim().is_empty()),
        _ => None,
    });
    let target = JobTarget::new(
        args.provider,
        args.api.as_deref(),
        &args.job_id,
        region.as_deref(),
        args.instance_id.as_deref(),
        project_id.as_deref(),
        args.endpoint.as_deref(),
    )
    .and_then(|target| {
        // The environment variable only speaks for Azure jobs; an explicit flag on another
        // provider is refused by `with_subscription_id`.
        let subscription = args.subscription_id.clone().or_else(|| {
            (args.provider == ProviderKind::Azure)
                .then(|| env("AZURE_SUBSCRIPTION_ID"))
                .flatten()
                .filter(|s| !s.trim().is_empty())
        });
        target.with_subscription_id(subscription.as_deref())
    })
    .map_err(|e| e.to_string())?;
    let credentials = Credentials::from_env(args.provider, env)?;
    Ok((target, credentials))
}

/// How tracking ended.
#[derive(Debug)]
pub struct Tracked {
    /// The process exit code.
    pub code: u8,
    pub status: CloudDbJobStatus,
    /// Transient provider errors (faults, throttling) that were retried on the way.
    pub retried: u32,
}

/// Tracks until the job is terminal, the timeout passes, or (`--once`) after one poll.
pub async fn track(
    args: &TrackArgs,
    target: &JobTarget,
    credentials: &Credentials,
    provider: Arc<dyn Provider>,
    progress: Option<&mut TextProgress>,
) -> Tracked {
    let identity = JobIdentity::of_target(target);
    let started = Timestamp::now();
    let deadline = args.timeout.and_then(|t| started.checked_add(t).ok());
    let mut own_progress;
    let progress = match progress {
        Some(p) => Some(p),
        None if args.output == OutputFormat::Text => {
            own_progress = TextProgress::new(
                format!("{} {} {}", target.provider, target.api, target.job_id),
                None,
            );
            Some(&mut own_progress)
        }
        None => None,
    };
    let mut progress = progress;
    let mut status = CloudDbJobStatus::default();
    let mut polls = 0i64;
    let mut retried = 0u32;
    let mut printed = false;
    loop {
        let now = Timestamp::now();
        let age = Duration::try_from(now.duration_since(started)).unwrap_or_default();
        let result = provider
            .observe(target, credentials)
            .await
            .or_else(|e| crate::controller::poll::not_found_yet_within_grace(e, age));
        polls += 1;
        let ctx = StatusContext {
            generation: None,
            now,
            poll_count: polls,
        };
        let next = match &result {
            Ok(obs) => next_status(&status, PollOutcome::Observed(obs), &ctx),
            Err(e) => next_status(&status, PollOutcome::ProviderFailed(e), &ctx),
        };
        let changed = needs_write(&status, &next) || !printed;
        status = next;
        if changed {
            emit(args.output, &identity, &status, progress.as_deref_mut());
            printed = true;
        }
        let phase = status.phase.unwrap_or(JobPhase::Pending);
        let code = match (&result, phase) {
            (_, JobPhase::Succeeded) => Some(exit::SUCCEEDED),
            (_, JobPhase::Failed) => Some(exit::FAILED),
            (Err(e), _) if e.class == ErrorClass::Permanent => Some(exit::USAGE),
            (Err(_), _) if args.once => Some(exit::UNREACHABLE),
            (Ok(_), _) if args.once => Some(exit::SUCCEEDED),
            _ => None,
        };
        if let Some(code) = code {
            finish(progress.as_deref());
            return Tracked {
                code,
                status,
                retried,
            };
        }
        if matches!(&result, Err(e) if e.class != ErrorClass::Permanent) {
            retried += 1;
        }
        let delay = match &result {
            Ok(_) => next_poll_delay(args.interval, &status, now, rand::random()),
            Err(e) => transient_backoff(
                status.consecutive_errors.unwrap_or(1),
                e.retry_after,
                rand::random(),
            )
            .min(args.interval.max(Duration::from_secs(1)) * 4),
        };
        let mut delay = delay;
        if let Some(deadline) = deadline {
            let left =
                Duration::try_from(deadline.duration_since(Timestamp::now())).unwrap_or_default();
            if left.is_zero() {
                status.reason = Some("TrackingTimeout".into());
                emit(args.output, &identity, &status, progress.as_deref_mut());
                finish(progress.as_deref());
                return Tracked {
                    code: exit::TIMED_OUT,
                    status,
                    retried,
                };
            }
            // The last poll happens at the deadline.
            delay = delay.min(left);
        }
        tokio::time::sleep(delay).await;
    }
}

fn emit(
    format: OutputFormat,
    identity: &JobIdentity,
    status: &CloudDbJobStatus,
    progress: Option<&mut TextProgress>,
) {
    match (format, progress) {
        (OutputFormat::Text, Some(p)) => p.update(status),
        (f, _) => print!("{}", render(identity, status, f)),
    }
}

fn finish(progress: Option<&TextProgress>) {
    if let Some(p) = progress {
        p.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(provider: ProviderKind, subscription: Option<&str>) -> TrackArgs {
        TrackArgs {
            provider,
            api: None,
            job_id: "0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11".into(),
            region: Some("westeurope".into()),
            instance_id: None,
            project_id: None,
            subscription_id: subscription.map(String::from),
            endpoint: None,
            interval: Duration::from_secs(15),
            timeout: None,
            once: true,
            output: OutputFormat::Json,
        }
    }

    fn env(key: &str) -> Option<String> {
        match key {
            "AZURE_SUBSCRIPTION_ID" => Some("00000000-0000-0000-0000-00000000000e".into()),
            "AZURE_TENANT_ID" => Some("t".into()),
            "AZURE_CLIENT_ID" => Some("c".into()),
            "AZURE_CLIENT_SECRET" => Some("s".into()),
            "AWS_ACCESS_KEY_ID" => Some("AKIA".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("k".into()),
            _ => None,
        }
    }

    #[test]
    fn azure_reads_the_subscription_from_the_flag_or_the_environment() {
        let (target, credentials) = prepare(&args(ProviderKind::Azure, None), env).unwrap();
        assert_eq!(
            target.subscription_id.as_deref(),
            Some("00000000-0000-0000-0000-00000000000e")
        );
        assert!(matches!(credentials, Credentials::Azure { .. }));
        let flag = "00000000-0000-0000-0000-0000000000f1";
        let (target, _) = prepare(&args(ProviderKind::Azure, Some(flag)), env).unwrap();
        assert_eq!(target.subscription_id.as_deref(), Some(flag));
        let e = prepare(&args(ProviderKind::Azure, None), |_| None).unwrap_err();
        assert!(e.contains("subscriptionId is required"), "{e}");
    }

    #[test]
    fn the_azure_variable_does_not_leak_into_other_providers() {
        let (target, _) = prepare(&args(ProviderKind::Aws, None), env).unwrap();
        assert_eq!(target.subscription_id, None);
        let e = prepare(&args(ProviderKind::Aws, Some("x")), env).unwrap_err();
        assert!(e.contains("azure only"), "{e}");
    }
}
