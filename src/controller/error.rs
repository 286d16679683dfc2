//! The [`Error`] a reconcile returns for the controller's error policy to retry. Its own
//! module so that what `Context` holds (the Secret reader) can return it without depending
//! on `context`.

/// Reconcile failures that are retried by `error_policy` (Kubernetes API trouble).
/// Provider trouble is handled inside `reconcile` and written to status instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),
    #[error("CloudDbJob has no namespace")]
    MissingNamespace,
    /// Refused (403) and not yet confirmed: see `poll::FORBIDDEN_RETRIES`.
    #[error("{0} (retrying before reporting it)")]
    Refused(String),
}
