//! Command-line entry points: `run`, `crd`, `track`, `watch`, `demo`, `simulate`.

pub mod crd;
pub mod demo;
mod leader;
pub mod logging;
pub mod output;
pub mod providers;
pub mod run;
pub mod track;
pub mod watch;

use clap::{Parser, Subcommand};

/// Exit codes shared by the subcommands.
pub mod exit {
    pub const SUCCEEDED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const TIMED_OUT: u8 = 3;
    /// `track`: the provider could not be reached (transient errors until the deadline).
    pub const UNREACHABLE: u8 = 4;
}

/// Tracks long-running cloud database jobs (Tencent Cloud CDB, Huawei Cloud RDS/TaurusDB)
/// as Kubernetes resources.
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
    /// Print the CloudDbJob CustomResourceDefinition as YAML.
    Crd,
    /// Track one provider job from the command line, without Kubernetes.
    Track(track::TrackArgs),
    /// Show the CloudDbJobs of a namespace (or all) as live progress bars, from a watch.
    Watch(watch::WatchArgs),
    /// Track one job of every provider API against the built-in simulator (no cloud, no
    /// cluster needed).
    Demo(demo::DemoArgs),
    /// Run the provider simulator: all three provider APIs on loopback, with signature
    /// checks, scripted job timelines and fault injection.
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
}
