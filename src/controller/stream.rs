//! What the CloudDbJob and CloudDbInstance controllers' runners share: their settings and
//! the logging of their streams (apart from both runners, which start each other's).

use kube::runtime::controller::Error as ControllerError;
use tracing::warn;

use super::metrics::Metrics;

/// Controller settings from the command line.
#[derive(Clone, Debug)]
pub struct ControllerSettings {
    /// Watch one namespace instead of the whole cluster.
    pub namespace: Option<String>,
    /// How many jobs are reconciled (and so polled) at once.
    pub concurrency: u16,
}

/// Logs what a controller's stream yields that nothing else logs: watch-level trouble (RBAC,
/// the CRD not installed), counted as a watch error, and runner failures. Object-level
/// failures are logged by the error policies; a requeued object deleted meanwhile is not an
/// error.
pub(crate) fn log_stream_error<T, ReconcileErr, QueueErr>(
    kind: &str,
    metrics: &Metrics,
    result: &Result<T, ControllerError<ReconcileErr, QueueErr>>,
) where
    ReconcileErr: std::error::Error + 'static,
    QueueErr: std::error::Error + 'static,
{
    match result {
        Err(ControllerError::QueueError(e)) => {
            metrics.watch_errors.inc();
            warn!(error = %e, "{kind} watch failed");
        }
        Err(e @ ControllerError::RunnerError(_)) => {
            warn!(error = %e, "{kind} controller stream error")
        }
        _ => {}
    }
}
