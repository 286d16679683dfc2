//! The `CloudDbJob` custom resource (`clouddb.io/v1alpha1`): spec, status and conditions.
//!
//! These types are the user-facing contract. Field names are what GitOps users write
//! jsonpath against, so they change only with a new API version.

mod conditions;
mod provider_api;
mod spec;
mod status;

pub use conditions::{ConditionStatus, ConditionType};
pub use provider_api::ProviderApi;
pub use spec::{
    CloudDbJob, CloudDbJobSpec, CredentialsSecretRef, ProviderKind, WorkloadIdentity,
    DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL,
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
