//! `fake-apiserver` (hidden): runs the project's fake Kubernetes API server so the operator
//! and kubectl can be tried without a cluster.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::testkit::apiserver::FakeApiServer;

/// Arguments of `fake-apiserver`.
#[derive(Debug, Clone, clap::Args)]
pub struct FakeApiServerArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Write a kubeconfig for this server here (default: print it).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// Serves until SIGINT/SIGTERM.
pub async fn run(args: FakeApiServerArgs) -> Result<(), String> {
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
    super::run::shutdown_signal().await;
    Ok(())
}
