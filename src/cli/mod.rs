//! Command-line entry points: `run`, `crd`, `track`, `watch`, `demo`, `simulate`.

pub mod crd;
pub mod demo;
pub mod exit;
mod leader;
pub mod logging;
pub mod output;
pub mod providers;
pub mod run;
mod shutdown;
pub mod track;
pub mod watch;

use clap::{Parser, Subcommand};

/// Tracks long-running cloud database jobs (Tencent Cloud API 3.0 and CDB API 2.0, Huawei
/// Cloud RDS/TaurusDB, Alibaba Cloud RDS/PolarDB, AWS (Amazon RDS/Aurora), Google Cloud SQL,
/// Azure Database for PostgreSQL/MySQL) as Kubernetes resources.
#[derive(Debug, Parser)]
#[command(
    name = "clouddb-job-operator",
    version,
    about,
    propagate_version = true
)]
pub struct Cli {
    /// Log format (logs go to stderr; level from RUST_LOG, default info).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "LOG_FORMAT"
    )]
    pub log_format: logging::LogFormat,

    /// Threads that run the async work. 1 (the default) runs everything on one thread:
    /// the operator waits on I/O, and one thread spares it the cross-thread wake-ups that
    /// cost more CPU than they save (BENCHMARKS.md: 10,000 jobs on one core).
    #[arg(
        long,
        global = true,
        default_value_t = 1,
        env = "WORKER_THREADS",
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    pub worker_threads: u16,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the controller (kubeconfig or in-cluster config).
    Run(run::RunArgs),
    /// Print a CustomResourceDefinition as YAML (CloudDbJob by default; `--kind instance`
    /// for CloudDbInstance, `--kind all` for both).
    Crd(crd::CrdArgs),
    /// Track one provider job from the command line, without Kubernetes.
    Track(track::TrackArgs),
    /// Show the CloudDbJobs of a namespace (or all) as live progress bars, from a watch.
    Watch(watch::WatchArgs),
    /// Track one job of every provider API against the built-in simulator (no cloud, no
    /// cluster needed).
    Demo(demo::DemoArgs),
    /// Run the provider simulator: the APIs of all seven provider families (Tencent Cloud
    /// API 3.0 and CDB API 2.0, Huawei Cloud, Alibaba Cloud, AWS, Google Cloud SQL, Azure)
    /// on loopback, with signature checks, scripted job timelines and fault injection.
    Simulate(crate::simulator::cli::SimulateArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn one_worker_thread_by_default_and_a_bounded_override() {
        let cli = Cli::try_parse_from(["clouddb-job-operator", "crd"]).unwrap();
        assert_eq!(cli.worker_threads, 1);
        let cli =
            Cli::try_parse_from(["clouddb-job-operator", "crd", "--worker-threads", "4"]).unwrap();
        assert_eq!(cli.worker_threads, 4);
        for bad in ["0", "257", "many"] {
            let err = Cli::try_parse_from(["clouddb-job-operator", "--worker-threads", bad, "crd"])
                .unwrap_err();
            assert!(err.to_string().contains("worker-threads"), "{bad}: {err}");
        }
    }

    /// How `simulate --help` and the image's description name each provider family.
    fn family(kind: crate::api::ProviderKind) -> &'static str {
        use crate::api::ProviderKind::*;
        match kind {
            Tencent => "Tencent Cloud API 3.0",
            TencentLegacy => "CDB API 2.0",
            Huawei => "Huawei Cloud",
            Alibaba => "Alibaba Cloud",
            Aws => "AWS",
            Gcp => "Google Cloud SQL",
            Azure => "Azure",
        }
    }

    #[test]
    fn simulate_help_names_every_provider_family() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        let help = cli
            .find_subcommand_mut("simulate")
            .unwrap()
            .render_long_help()
            .to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(crate::api::ProviderKind::ALL.len(), 7);
        assert!(help.contains("all seven provider families"), "{help}");
        for kind in crate::api::ProviderKind::ALL {
            assert!(help.contains(family(kind)), "{kind:?}: {help}");
        }
    }
}
