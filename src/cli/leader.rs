//! Leader election for `run --leader-election`: only the holder of a
//! `coordination.k8s.io/v1` Lease reconciles; it renews the Lease and releases it on shutdown.
//!
//! kube-lease-manager does the locking. Its standby sleeps until the holder's Lease would
//! expire, so on its own a released Lease (a holder stopped by SIGTERM during a rolling
//! update) still costs the full Lease duration. A standby here also re-reads the Lease every
//! [`STANDBY_RECHECK`] (client-go's retry period) and, when it finds it free, starts a fresh
//! manager, which takes it at once.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use kube::{Api, Client};
use kube_lease_manager::{LeaseManagerBuilder, LeaseParams};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::shutdown::wait_true;
use crate::controller::runner::{run_operator, Operator};

/// Lease duration and renewal grace (renewed 5 s before it would expire).
const LEASE_SECONDS: u64 = 15;
const RENEW_GRACE_SECONDS: u64 = 5;
/// How often a standby checks whether the Lease was released.
const STANDBY_RECHECK: Duration = Duration::from_secs(2);

/// Whether nobody holds the Lease: released (no holder) or not renewed in time.
pub fn lease_is_free(spec: Option<&LeaseSpec>, now: jiff::Timestamp) -> bool {
    let Some(spec) = spec else {
        return true;
    };
    if spec.holder_identity.as_deref().is_none_or(str::is_empty) {
        return true;
    }
    match (&spec.renew_time, spec.lease_duration_seconds) {
        (Some(renewed), Some(seconds)) => {
            renewed.0 + jiff::SignedDuration::from_secs(i64::from(seconds)) < now
        }
        // A holder without renewal data cannot be judged stale here; the manager decides.
        _ => false,
    }
}

enum Next {
    Stop,
    TakeOver,
}

/// The Lease `run --lease-name/--lease-namespace` names.
pub(super) struct LeaseSettings {
    pub name: String,
    /// Default: the client's namespace (the pod's).
    pub namespace: Option<String>,
}

/// Reconciles only while holding the Lease; hands it over on shutdown by releasing it.
pub(super) async fn run_with_leader_election(
    client: Client,
    op: Operator,
    args: &LeaseSettings,
    mut stop_rx: watch::Receiver<bool>,
) -> Result<(), String> {
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_string());
    let identity = std::env::var("POD_NAME")
        .unwrap_or_else(|_| format!("clouddb-job-operator-{}", rand::random::<u32>()));
    let leases: Api<Lease> = Api::namespaced(client.clone(), &namespace);
    // Ready while waiting: a standby replica is healthy.
    op.health.set_ready(true);
    loop {
        let manager = LeaseManagerBuilder::new(client.clone(), &args.name)
            .with_namespace(&namespace)
            .with_parameters(LeaseParams::new(
                identity.clone(),
                LEASE_SECONDS,
                RENEW_GRACE_SECONDS,
            ))
            .build()
            .await
            .map_err(|e| {
                format!(
                    "cannot set up leader election Lease {namespace}/{}: {e}",
                    args.name
                )
            })?;
        let (mut leader_rx, lease_task) = manager.watch().await;
        info!(
            identity,
            lease = args.name,
            namespace,
            "waiting for leadership"
        );
        let next = loop {
            if *leader_rx.borrow_and_update() {
                info!(identity, "acquired leadership; starting controller");
                let mut lost = leader_rx.clone();
                let stop = stop_rx.clone();
                let until = async move {
                    tokio::select! {
                        _ = wait_true(stop) => {}
                        _ = async { while lost.changed().await.is_ok() { if !*lost.borrow() { break; } } } => {
                            warn!("lost leadership; stopping controller");
                        }
                    }
                };
                run_operator(&op, until).await;
                op.health.set_ready(true);
                if *stop_rx.borrow_and_update() {
                    break Next::Stop;
                }
                continue;
            }
            tokio::select! {
                _ = wait_true(stop_rx.clone()) => break Next::Stop,
                changed = leader_rx.changed() => {
                    if changed.is_err() {
                        warn!("leader election stopped");
                        break Next::Stop;
                    }
                }
                _ = tokio::time::sleep(STANDBY_RECHECK) => {
                    match leases.get_opt(&args.name).await {
                        Ok(lease) if lease_is_free(
                            lease.as_ref().and_then(|l| l.spec.as_ref()),
                            jiff::Timestamp::now(),
                        ) => break Next::TakeOver,
                        Ok(_) => {}
                        Err(e) => debug!(error = %e, "cannot read the Lease; retrying"),
                    }
                }
            }
        };
        // Dropping the receiver makes the lease task release the Lease if we hold it (a
        // standby's release is a no-op).
        drop(leader_rx);
        match tokio::time::timeout(Duration::from_secs(5), lease_task).await {
            Ok(Ok(Ok(_))) => debug!("lease manager stopped"),
            Ok(Ok(Err(e))) => warn!(error = %e, "could not release the Lease"),
            Ok(Err(e)) => warn!(error = %e, "lease task failed"),
            Err(_) => warn!("timed out releasing the Lease"),
        }
        match next {
            Next::Stop => {
                info!("released leadership");
                return Ok(());
            }
            Next::TakeOver => info!(identity, "the Lease is free; taking it over"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn spec(holder: Option<&str>, renewed: Option<&str>, seconds: Option<i32>) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(String::from),
            renew_time: renewed.map(|t| MicroTime(t.parse().unwrap())),
            lease_duration_seconds: seconds,
            ..Default::default()
        }
    }

    #[test]
    fn a_released_or_missing_lease_is_free() {
        let now: jiff::Timestamp = "2026-01-01T00:00:10Z".parse().unwrap();
        assert!(lease_is_free(None, now));
        assert!(lease_is_free(Some(&spec(None, None, None)), now));
        assert!(lease_is_free(Some(&spec(Some(""), None, None)), now));
    }

    #[test]
    fn a_held_lease_is_free_only_once_it_expired() {
        let now: jiff::Timestamp = "2026-01-01T00:00:10Z".parse().unwrap();
        let held = spec(Some("a"), Some("2026-01-01T00:00:00Z"), Some(15));
        assert!(!lease_is_free(Some(&held), now));
        let stale = spec(Some("a"), Some("2026-01-01T00:00:00Z"), Some(5));
        assert!(lease_is_free(Some(&stale), now));
        // Exactly at expiry it is still held.
        let edge = spec(Some("a"), Some("2026-01-01T00:00:00Z"), Some(10));
        assert!(!lease_is_free(Some(&edge), now));
        assert!(!lease_is_free(Some(&spec(Some("a"), None, Some(15))), now));
    }
}
