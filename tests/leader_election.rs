//! Leader election with two operator processes against the fake API server: only the
//! Lease holder reconciles, and when it gets SIGTERM (and releases the Lease) the other
//! takes over quickly.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use clouddb_job_operator::api::CloudDbJob;
use clouddb_job_operator::testkit::apiserver::FakeApiServerConfig;
use kube::api::{Api, PostParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

struct Operator {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(kubeconfig: &std::path::Path, name: &str) -> Operator {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_clouddb-job-operator"))
        .args(["run", "--leader-election", "--lease-namespace", "default"])
        .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
        .env("KUBECONFIG", kubeconfig)
        .env("POD_NAME", name)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    Operator { child, port }
}

/// Reconciles so far, from the instance's /metrics (None while it is not serving).
async fn reconciles(port: u16) -> Option<u64> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await.ok()?;
    Some(
        body.lines()
            .filter(|l| l.starts_with("clouddb_job_operator_reconciles_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum(),
    )
}

async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: not within {limit:?}");
}

#[tokio::test]
async fn only_the_leader_reconciles_and_the_standby_takes_over_after_sigterm() {
    let (server, client) = support::start(FakeApiServerConfig::default()).await;
    let api: Api<CloudDbJob> = Api::namespaced(client.clone(), "default");
    // No Secret: every reconcile reports SecretNotFound, which is all this test needs.
    api.create(&PostParams::default(), &support::job("job-a", "1"))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("leader-election-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();

    let mut a = spawn(&kubeconfig, "operator-a");
    let mut b = spawn(&kubeconfig, "operator-b");
    let (pa, pb) = (a.port, b.port);
    wait_for(
        "one instance leads and reconciles",
        Duration::from_secs(30),
        async || reconciles(pa).await.unwrap_or(0) + reconciles(pb).await.unwrap_or(0) > 0,
    )
    .await;
    // Give a second (wrong) leader time to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (ra, rb) = (reconciles(pa).await.unwrap(), reconciles(pb).await.unwrap());
    assert!(
        (ra > 0) != (rb > 0),
        "exactly one instance reconciles: a={ra} b={rb}"
    );
    let (leader, standby_port) = if ra > 0 { (&mut a, pb) } else { (&mut b, pa) };

    let pid = leader.child.id().unwrap();
    let terminated = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exited = tokio::time::timeout(Duration::from_secs(15), leader.child.wait())
        .await
        .expect("the leader exits after SIGTERM")
        .unwrap();
    assert!(exited.success(), "clean exit: {exited}");
    wait_for(
        "the standby takes over",
        Duration::from_secs(20),
        async || reconciles(standby_port).await.unwrap_or(0) > 0,
    )
    .await;
    let takeover = terminated.elapsed();
    eprintln!("takeover after SIGTERM: {takeover:?}");
    assert!(takeover < Duration::from_secs(20), "{takeover:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
