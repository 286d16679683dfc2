//! The custom resources (`clouddb.io/v1alpha1`): `CloudDbJob` (one tracked job) and
//! `CloudDbInstance` (an instance whose jobs are discovered): spec, status and conditions.
//!
//! These types are the user-facing contract. Field names are what GitOps users write
//! jsonpath against, so they change only with a new API version.

mod conditions;
mod instance;
pub mod patterns;
mod provider_api;
mod spec;
mod status;

pub use conditions::{ConditionStatus, ConditionType};
pub use instance::{
    default_instance_api, ActiveJob, CloudDbInstance, CloudDbInstanceSpec, CloudDbInstanceStatus,
    DiscoverSpec, DiscoveredJobId, JobTemplate, MaintenanceWindow, DEFAULT_DISCOVERY_WINDOW,
    DEFAULT_INSTANCE_POLL_INTERVAL, IDLE_CONDITION, INSTANCE_LABEL,
};
pub use provider_api::{ProviderApi, ProviderKind};
pub use spec::{
    CloudDbJob, CloudDbJobSpec, CredentialsSecretRef, WorkloadIdentity, DEFAULT_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
};
pub use status::{
    AlibabaDetail, AwsDetail, AwsTask, AzureDetail, CloudDbJobStatus, DatabaseRename, GcpDetail,
    HuaweiDetail, HuaweiEntities, HuaweiInstanceEntity, ImportDetail, InstanceRef,
    InstanceSnapshot, JobPhase, ParameterChange, RollbackDetail, RollbackInstance, RollbackSubTask,
    TableRename, UpgradeDetail, UNOBSERVED_GENERATION,
};

/// Setting this annotation on a CloudDbJob to a new value (e.g. the current time) asks for
/// one immediate poll; `status.lastRefreshRequest` records the value acted on.
pub const REFRESH_ANNOTATION: &str = "clouddb.io/refresh-requested-at";

/// `status.reason` (and the `Reconciling` condition's reason) while `spec.suspend` is true.
pub const SUSPENDED_REASON: &str = "Suspended";

/// API group of every resource this operator owns.
pub const GROUP: &str = "clouddb.io";
