//! `fake-apiserver`: runs the fake Kubernetes API server on its own (dev only; the test
//! control plane of scripts/testenv.sh is the real thing).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use clouddb_testkit::apiserver::FakeApiServer;

/// Arguments of `fake-apiserver`.
#[derive(Debug, Clone, Parser)]
pub struct FakeApiServerArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Write a kubeconfig for this server here (default: print it).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(FakeApiServerArgs::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

/// Serves until SIGINT/SIGTERM.
async fn run(args: FakeApiServerArgs) -> Result<(), String> {
    let server = FakeApiServer::start(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let kubeconfig = server.kubeconfig_yaml();
    match &args.kubeconfig {
        Some(path) => {
            std::fs::write(path, &kubeconfig)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "fake API server at {}; kubeconfig written to {}",
                server.url(),
                path.display()
            );
        }
        None => print!("{kubeconfig}"),
    }
    clouddb_job_operator::cli::run::shutdown_signal().await;
    Ok(())
}
