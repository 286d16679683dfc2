//! The normalized result of one provider poll: what every provider maps its response to.

use jiff::Timestamp;

use std::time::Duration;

use clouddb_api::{
    AlibabaDetail, AwsDetail, AzureDetail, GcpDetail, HuaweiDetail, ImportDetail, JobPhase,
    ParameterChange, RollbackDetail, UpgradeDetail,
};

/// One provider's view of a job, normalized. Built by the pure mapping functions of each
/// provider module and turned into `CloudDbJobStatus` by `controller::status`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobObservation {
    /// Normalized phase.
    pub phase: Option<JobPhase>,
    /// CamelCase reason for non-plain outcomes (`Aborted`, `Deleted`, `Paused`, `Canceled`,
    /// `Unauthorized`, `JobFailed`, `NotFoundYet`, ...).
    pub reason: Option<String>,
    /// The provider's raw status value, as text.
    pub provider_status: Option<String>,
    /// Percent complete, clamped to 0-100.
    pub progress: Option<u8>,
    /// The provider's message (trimmed; `None` when empty).
    pub message: Option<String>,
    /// Normalized job type (see `CloudDbJobStatus::job_type`).
    pub job_type: Option<String>,
    /// The provider's raw job type.
    pub provider_job_type: Option<String>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    /// The provider's own estimate of the time left (Alibaba `RemainTime`); preferred over
    /// the controller's extrapolation from progress.
    pub remaining: Option<Duration>,
    pub instance_ids: Vec<String>,
    pub detail: JobDetail,
}

/// Provider-specific detail carried into status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobDetail {
    pub upgrade: Option<UpgradeDetail>,
    pub rollback: Option<RollbackDetail>,
    pub parameters: Vec<ParameterChange>,
    pub import: Option<ImportDetail>,
    pub huawei: Option<HuaweiDetail>,
    pub alibaba: Option<AlibabaDetail>,
    pub aws: Option<AwsDetail>,
    pub azure: Option<AzureDetail>,
    pub gcp: Option<GcpDetail>,
}

/// The reason of a job the provider does not list (yet).
pub const NOT_FOUND_YET: &str = "NotFoundYet";

impl JobObservation {
    /// A job the provider does not list (yet): `Pending` with reason [`NOT_FOUND_YET`].
    pub fn not_found_yet(message: impl Into<String>) -> Self {
        JobObservation {
            phase: Some(JobPhase::Pending),
            reason: Some(NOT_FOUND_YET.into()),
            message: Some(message.into()),
            ..Default::default()
        }
    }

    /// Whether this is a job the provider does not list (yet).
    pub fn is_not_found_yet(&self) -> bool {
        self.reason.as_deref() == Some(NOT_FOUND_YET)
    }

    pub fn phase_or_pending(&self) -> JobPhase {
        self.phase.unwrap_or(JobPhase::Pending)
    }
}
