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
    CloudDbJob, CloudDbJobSpec, CredentialsSecretRef, ProviderKind, DEFAULT_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
};
pub use status::{
    AlibabaDetail, AwsDetail, AwsTask, CloudDbJobStatus, DatabaseRename, GcpDetail, HuaweiDetail,
    HuaweiEntities, HuaweiInstanceEntity, ImportDetail, InstanceRef, InstanceSnapshot, JobPhase,
    ParameterChange, RollbackDetail, RollbackInstance, RollbackSubTask, TableRename, UpgradeDetail,
};

/// API group of every resource this operator owns.
pub const GROUP: &str = "clouddb.io";
