//! `run`: the controller, with metrics/health endpoints and optional leader election.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::Reporter;
use kube::Client;
use tokio::sync::watch;
use tracing::{error, info};

use crate::controller::events::EventPublisher;
use crate::controller::identity::KubeServiceAccountTokens;
use crate::controller::memory::JobMemory;
use crate::controller::metrics::Metrics;
use crate::controller::ratelimit::RateLimitConfig;
use crate::controller::rounds::Rounds;
use crate::controller::runner::{run_operator, ControllerSettings};
use crate::controller::secrets::SecretReader;
use crate::controller::server::{self, Health};
use crate::controller::{Clock, Context, Schedule};
use crate::providers::endpoints::EndpointPolicy;
use crate::providers::http::HttpOptions;
use crate::providers::identity::StsEndpoints;
use crate::providers::Provider;

use super::providers::PollingOptions;
use super::shutdown::wait_true;

pub use super::shutdown::shutdown_signal;
/// Everything `run` builds before it starts (shared with the leader election).
pub use crate::controller::runner::Operator;

/// Arguments of `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE")]
    pub namespace: Option<String>,

    /// Address of the /metrics, /healthz and /readyz endpoints.
    #[arg(long, default_value = "0.0.0.0:8080", env = "METRICS_ADDR")]
    pub metrics_addr: SocketAddr,

    /// Elect a leader through a coordination.k8s.io Lease; only the leader reconciles.
    #[arg(long)]
    pub leader_election: bool,

    /// Name of the leader-election Lease.
    #[arg(long, default_value = "clouddb-job-operator")]
    pub lease_name: String,

    /// Namespace of the leader-election Lease (default: the pod's namespace).
    #[arg(long, env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// Extra host patterns (comma-separated) that `spec.endpoint` may point at, besides the
    /// built-in list: exactly the API hosts the provider clients build per service and region
    /// (e.g. `rds.<region>.amazonaws.com`), never whole cloud domains, where customers host
    /// their own servers. `*` matches within one DNS label (`10.0.0.*`, `db-*.corp.example`);
    /// a leading `**.` matches one or more labels (`**.corp.example`, the explicit whole-domain
    /// choice); `**` alone matches every host. E.g. `127.0.0.1,**.corp.example`.
    #[arg(long, value_delimiter = ',', env = "ALLOWED_ENDPOINTS")]
    pub allowed_endpoints: Vec<String>,

    /// PEM file of extra CA certificates to trust for provider endpoints.
    #[arg(long)]
    pub extra_ca_file: Option<PathBuf>,

    /// How many jobs are reconciled (and polled) at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_polls: u16,

    /// Timeout of one provider HTTP call, e.g. `10s`.
    #[arg(long, default_value = "15s", value_parser = parse_duration_arg)]
    pub provider_timeout: Duration,

    /// Let jobs that share a credentials Secret reuse one read of it for this long instead
    /// of reading it on every poll. A rotated credential is used within this time, and at
    /// once when the provider rejects the old one (the Secret is re-read and the poll
    /// repeated). 0 reads the Secret on every poll.
    #[arg(long, default_value = "5s", value_parser = parse_duration_arg)]
    pub secret_cache_ttl: Duration,

    /// Do not publish Kubernetes Events.
    #[arg(long)]
    pub no_events: bool,

    /// Baseline mode: one provider call per job every `pollInterval` exactly, without
    /// batching, shared poll rounds, adaptive delays or jitter.
    #[arg(long)]
    pub naive_polling: bool,

    /// How long one `DescribeTasks` sweep answers any later poll of jobs on the same
    /// credentials, region, endpoint and instance (keep well below the poll interval).
    /// Polls in the sweep's own poll round reuse it regardless.
    #[arg(long, default_value = "2s", value_parser = parse_duration_arg)]
    pub batch_cache_ttl: Duration,

    /// Tencent `DescribeTasks` calls per second per SecretId and endpoint (published: 50).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_tencent_tasks: u32,

    /// Tencent `DescribeAsyncRequestInfo` calls per second per SecretId and endpoint
    /// (published: 40).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_tencent_async: u32,

    /// Tencent API 2.0 calls per second per SecretId and endpoint (no published limit;
    /// 20 is an assumption).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_tencent_legacy: u32,

    /// Huawei RDS/TaurusDB calls per minute per user and endpoint (RDS publishes 60/min;
    /// TaurusDB publishes none, the RDS limit is assumed).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_huawei_per_minute: u32,

    /// Alibaba Cloud `DescribeHistoryTasks` calls per second per AccessKey and endpoint (no
    /// published limit for this action; 20 is an assumption).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_alibaba: u32,

    /// AWS RDS describe calls per second per access key and endpoint, a ceiling: RDS does
    /// not publish its bucket sizes and the SDKs set no client-side rate (botocore's
    /// adaptive mode cuts its rate only on throttling answers, as this limiter does).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_aws: u32,

    /// Google Cloud SQL Admin API calls per minute per service account and endpoint (the
    /// quota is set per project; 180 is an assumption).
    #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_gcp_per_minute: u32,

    /// Azure Resource Manager reads per second per client and endpoint (ARM refills 25/s per
    /// subscription and region).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_azure: u32,

    /// STS endpoint overrides for workload identity, as `provider=url` (e.g.
    /// `aws=https://sts.us-gov-west-1.amazonaws.com`). Set by the installer only: jobs
    /// cannot choose where their ServiceAccount tokens go.
    #[arg(long = "sts-endpoint", value_delimiter = ',', env = "STS_ENDPOINTS")]
    pub sts_endpoints: Vec<String>,
}

/// The polling options implied by the arguments.
pub fn polling_options(args: &RunArgs) -> PollingOptions {
    PollingOptions {
        naive: args.naive_polling,
        limits: RateLimitConfig {
            tencent_tasks_per_second: args.rate_limit_tencent_tasks,
            tencent_async_per_second: args.rate_limit_tencent_async,
            tencent_legacy_per_second: args.rate_limit_tencent_legacy,
            huawei_per_minute: args.rate_limit_huawei_per_minute,
            alibaba_per_second: args.rate_limit_alibaba,
            aws_per_second: args.rate_limit_aws,
            gcp_per_minute: args.rate_limit_gcp_per_minute,
            azure_per_second: args.rate_limit_azure,
        },
        batch_cache_ttl: args.batch_cache_ttl,
    }
}

pub fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    crate::duration::parse_duration(s)
}

/// The HTTP options implied by the arguments (timeouts, extra CA bundle).
pub fn http_options(args: &RunArgs) -> Result<HttpOptions, String> {
    let extra_ca_pem = match &args.extra_ca_file {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| format!("cannot read --extra-ca-file {}: {e}", path.display()))?,
        ),
        None => None,
    };
    Ok(HttpOptions {
        timeout: args.provider_timeout,
        extra_ca_pem,
        ..HttpOptions::default()
    })
}

/// Builds the controller context.
pub fn build(
    client: Client,
    provider: Arc<dyn Provider>,
    rounds: Arc<Rounds>,
    clock: Clock,
    args: &RunArgs,
) -> Operator {
    let reporter = Reporter {
        controller: "clouddb-job-operator".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let recorder = (!args.no_events).then(|| EventPublisher::new(client.clone(), reporter));
    // The installer's patterns extend the built-in list of provider API hosts; they never
    // replace it.
    let endpoints = EndpointPolicy::with_defaults(args.allowed_endpoints.iter().cloned());
    let ctx = Arc::new(Context {
        client,
        provider,
        memory: Arc::new(JobMemory::default()),
        metrics: Arc::new(Metrics::new()),
        recorder,
        endpoints,
        clock,
        sampler: Arc::new(rand::random::<f64>),
        schedule: Schedule {
            naive: args.naive_polling,
            rounds,
        },
        secrets: SecretReader::new(args.secret_cache_ttl),
    });
    Operator {
        ctx,
        health: Health::new(),
        settings: ControllerSettings {
            namespace: args.namespace.clone(),
            concurrency: args.max_concurrent_polls,
        },
        lister: None,
    }
}

/// Runs the operator until SIGTERM/SIGINT. Returns an error message on start-up failure.
pub async fn run(args: RunArgs) -> Result<(), String> {
    let options = http_options(&args)?;
    // The controller schedules batches on these rounds; the batcher reuses a sweep within one.
    let rounds = Arc::new(Rounds::default());
    let clock: Clock = Arc::new(jiff::Timestamp::now);
    let client = Client::try_default().await.map_err(|e| {
        format!("cannot configure the Kubernetes client (kubeconfig or in-cluster): {e}")
    })?;
    let sts = StsEndpoints::parse(args.sts_endpoints.iter().map(String::as_str))?;
    let tokens = Arc::new(KubeServiceAccountTokens::new(client.clone()));
    let providers = super::providers::for_run(
        &options,
        &polling_options(&args),
        (rounds.clone(), clock.clone()),
        (tokens, sts),
    )?;
    let mut op = build(client.clone(), providers.provider, rounds, clock, &args);
    op.lister = Some(providers.lister);
    providers
        .limits
        .report_cut_to(op.ctx.metrics.rate_limit_buckets_cut.clone());
    let app = server::router(
        op.ctx.metrics.clone(),
        op.ctx.memory.clone(),
        op.health.clone(),
    );
    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .map_err(|e| format!("cannot listen on --metrics-addr {}: {e}", args.metrics_addr))?;
    info!(addr = %args.metrics_addr, "serving /metrics, /healthz and /readyz");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            error!(error = %e, "metrics server stopped");
        }
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutdown requested");
        let _ = stop_tx.send(true);
    });

    if !args.leader_election {
        run_operator(&op, wait_true(stop_rx)).await;
        return Ok(());
    }
    let lease = super::leader::LeaseSettings {
        name: args.lease_name.clone(),
        namespace: args.lease_namespace.clone(),
    };
    super::leader::run_with_leader_election(client, op, &lease, stop_rx).await
}
