use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use clouddb_job_operator::cli::run::shutdown_signal;
use clouddb_job_operator::cli::{self, exit, Cli, Command};

// mimalloc returns freed memory to the OS more readily than glibc's malloc, which keeps the
// operator's resident set close to what it holds (BENCHMARKS.md: 10,000 jobs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Track(_) | Command::Demo(_) => "warn",
        // `watch` reports watch errors itself (kube-runtime would log each one again).
        Command::Watch(_) => "warn,kube_runtime::watcher=error",
        _ => "info",
    };
    cli::logging::init(cli.log_format, default_level);
    let mut builder = match cli.worker_threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(usize::from(n));
            builder
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    ExitCode::from(runtime.block_on(dispatch(cli.command)))
}

async fn dispatch(command: Command) -> u8 {
    match command {
        Command::Crd(args) => match cli::crd::yaml_for(args.kind) {
            Ok(yaml) => {
                print!("{yaml}");
                exit::SUCCEEDED
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::FAILED
            }
        },
        Command::Run(args) => match cli::run::run(args).await {
            Ok(()) => exit::SUCCEEDED,
            Err(e) => {
                eprintln!("error: {e}");
                exit::USAGE
            }
        },
        Command::Demo(args) => cli::demo::run(args).await,
        Command::Watch(args) => cli::watch::run(args).await,
        Command::Simulate(args) => {
            match clouddb_job_operator::simulator::cli::run(args, shutdown_signal()).await {
                Ok(()) => exit::SUCCEEDED,
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::USAGE
                }
            }
        }
        Command::Track(args) => {
            let (target, credentials) = match cli::track::prepare(&args, |k| std::env::var(k).ok())
            {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::USAGE;
                }
            };
            let provider = match cli::providers::standard(&Default::default()) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::USAGE;
                }
            };
            cli::track::track(&args, &target, &credentials, Arc::clone(&provider), None)
                .await
                .code
        }
    }
}
