//! `CloudDbJob.status`: what the controller observed of the provider job.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::{Deserialize, Serialize};

/// `status.observedGeneration` of a CloudDbJob no controller has written yet: the CRD's
/// default for `status` (see [`CloudDbJobStatus::unobserved`]).
pub const UNOBSERVED_GENERATION: i64 = 0;

/// Observed state of the provider job. Written only by the controller, through the status
/// subresource, and only when something in it changed. Until its first write the apiserver
/// serves the default, `observedGeneration: 0`: not observed yet, so health checks wait.
//
// Why the default: kstatus (and so Flux, which checks health milliseconds after it applies)
// calls an object without conditions Current. With the default, a job read back the moment
// it is created already says no controller has observed it (generations start at 1), which
// kstatus, Flux's fork and the Argo CD health check all read as in progress. The controller
// writes `observedGeneration` on every status write, so the default never lingers.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("default" = {"observedGeneration": 0}))]
pub struct CloudDbJobStatus {
    /// `metadata.generation` of the spec this status describes (0 until the controller
    /// first writes the status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Lifecycle phase: `Pending` (not seen at the provider yet, or queued), `Running`,
    /// `Succeeded` or `Failed`. `Succeeded` and `Failed` are terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<JobPhase>,

    /// Percent complete, 0-100, as reported by the provider (100 on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub progress: Option<i32>,

    /// Human-readable detail: the provider's message, or why tracking is blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// CamelCase reason for the current state, e.g. `Aborted`, `Deleted`, `Paused`,
    /// `JobFailed`, `ProviderError`, `AuthenticationFailed`, `TrackingTimeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// The provider's raw status value, as text (e.g. `SUCCEED`, `2`, `Completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_status: Option<String>,

    /// Normalized job type: `upgrade`, `rollback`, `import`, `parameter`, `initialize`,
    /// `restart`, `sql`, `gtid`, `drop-tables`, `switch-to-master`, `create`, `delete`,
    /// `backup`, `restore`, `network`, `export`, `blue-green`, `switchover`, `update`,
    /// `maintenance`, `other`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,

    /// The provider's raw job type (e.g. `UPGRADE MASTER`, `11`, `upgrade`, `RestartGaussDBInstance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_job_type: Option<String>,

    /// When the provider started the job (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the provider finished the job (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,

    /// Predicted completion time, extrapolated from the progress history while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_completion_time: Option<Time>,

    /// Database instances the job touches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_ids: Vec<String>,

    /// Instance specification before and after an upgrade job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeDetail>,

    /// What a rollback job restores, per instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackDetail>,

    /// Parameters a parameter-change job modifies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterChange>,

    /// The file an import job loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportDetail>,

    /// Huawei Cloud job detail (instance and entities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei: Option<HuaweiDetail>,

    /// Alibaba Cloud task detail (reason code, current step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alibaba: Option<AlibabaDetail>,

    /// AWS RDS detail (export source and bucket, snapshot type, blue/green tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsDetail>,

    /// Azure async-operation detail (operation name, resource provider, error code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureDetail>,
    /// Google Cloud SQL operation detail (operation type, target, user, error codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpDetail>,

    /// Time of the last provider poll recorded in status. Refreshed together with other
    /// changes, not on every poll, so that an unchanged job costs no API-server writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_poll_time: Option<Time>,

    /// Provider polls made for this job, as of `lastPollTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_count: Option<i64>,

    /// The last value of the `clouddb.io/refresh-requested-at` annotation the controller
    /// acted on (with one immediate poll). Setting the annotation to any other value asks
    /// for one more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh_request: Option<String>,

    /// Provider calls that failed in a row (transient errors are retried with backoff and
    /// never change `phase`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_errors: Option<i32>,

    /// Standard conditions: `Ready`, `Reconciling`, `Complete`, `Failed`, `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

impl CloudDbJobStatus {
    /// The status the apiserver serves for a CloudDbJob no controller has written yet (the
    /// CRD's default): `observedGeneration: 0` and nothing else.
    pub fn unobserved() -> CloudDbJobStatus {
        CloudDbJobStatus {
            observed_generation: Some(UNOBSERVED_GENERATION),
            ..CloudDbJobStatus::default()
        }
    }

    /// True for a status no controller has written: absent fields only, or the CRD's
    /// default.
    pub fn is_unobserved(&self) -> bool {
        *self == CloudDbJobStatus::default() || *self == CloudDbJobStatus::unobserved()
    }
}

/// Lifecycle phase of a tracked job.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, schemars::JsonSchema)]
pub enum JobPhase {
    /// Known to the controller but not yet started (or not yet visible) at the provider.
    Pending,
    /// Running at the provider.
    Running,
    /// Finished successfully (terminal).
    Succeeded,
    /// Finished unsuccessfully, was aborted or deleted, or tracking timed out (terminal).
    Failed,
}

impl JobPhase {
    /// `Succeeded` and `Failed` never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobPhase::Succeeded | JobPhase::Failed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobPhase::Pending => "Pending",
            JobPhase::Running => "Running",
            JobPhase::Succeeded => "Succeeded",
            JobPhase::Failed => "Failed",
        }
    }
}

impl std::fmt::Display for JobPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Upgrade job detail: the instance specification before and after.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeDetail {
    /// Instance being upgraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Provider order ID, for support cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_name: Option<String>,
    /// Instance specification before the upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<InstanceSnapshot>,
    /// Instance specification after the upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<InstanceSnapshot>,
}

/// A database instance's specification at one point in time.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceSnapshot {
    /// Memory in MB.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "memoryMB")]
    pub memory_mb: Option<i64>,
    /// Disk volume in GB.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "volumeGB")]
    pub volume_gb: Option<i64>,
    /// Database engine version, e.g. `5.7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Instance class, e.g. `CUSTOM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdb_type: Option<String>,
    /// Data replication mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect_mode: Option<String>,
    /// Availability-zone deployment (`0` single zone, `1` multiple zones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_mode: Option<String>,
    /// Zone of the primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_zone: Option<String>,
    /// Zone of the first replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slave_zone_first: Option<String>,
    /// Zone of the second replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slave_zone_second: Option<String>,
}

/// Rollback job detail.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollbackDetail {
    /// Instances rolled back, with the databases and tables restored and their new names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<RollbackInstance>,
    /// Per-instance sub-tasks, with their own status and progress.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<RollbackSubTask>,
}

/// What a rollback restores on one instance.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollbackInstance {
    /// Instance ID.
    pub instance_id: String,
    /// Instance name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// Point in time restored to, as the provider wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_time: Option<String>,
    /// Rollback strategy (e.g. `full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Databases restored and the names they are restored under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<DatabaseRename>,
    /// Tables restored and the names they are restored under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableRename>,
}

/// A database restored under a new name.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseRename {
    /// Original database name.
    pub name: String,
    /// Name the restored copy gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
}

/// A table restored under a new name.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TableRename {
    /// Database of the table.
    pub database: String,
    /// Original table name.
    pub name: String,
    /// Name the restored copy gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
}

/// One per-instance sub-task of a rollback job.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollbackSubTask {
    /// Instance the sub-task runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Provider sub-task ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Normalized phase of the sub-task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<JobPhase>,
    /// The provider's raw sub-task status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_status: Option<String>,
    /// Percent complete, 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<i32>,
    /// The provider's message for the sub-task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Sub-task start (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// Sub-task end (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
}

/// One parameter modified by a parameter-change job.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParameterChange {
    /// Parameter name.
    pub name: String,
    /// Value before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_value: Option<String>,
    /// Value after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_value: Option<String>,
    /// The provider's per-parameter message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The file an import job loads.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportDetail {
    /// Target database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Imported file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// File size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size_bytes: Option<i64>,
}

/// Huawei Cloud job detail.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HuaweiDetail {
    /// The instance the job runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<InstanceRef>,
    /// Task-specific entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<HuaweiEntities>,
}

/// An instance by ID and name.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceRef {
    /// Instance ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Instance name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Huawei `entities`: what the job touched (varies by task).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HuaweiEntities {
    /// The instance queried in the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<HuaweiInstanceEntity>,
    /// Resource IDs involved in the task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_ids: Vec<String>,
    /// EIP bound or unbound by the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
}

/// Huawei `entities.instance`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HuaweiInstanceEntity {
    /// Connection address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Instance type.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub instance_type: Option<String>,
    /// Database engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore_type: Option<String>,
    /// Database engine version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore_version: Option<String>,
}

/// Alibaba Cloud `DescribeHistoryTasks` detail.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlibabaDetail {
    /// `ReasonCode`: why the task was started (e.g. a user action or a system event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// `CurrentStepName`: the step the task is at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step_name: Option<String>,
    /// `InstanceName` of the instance the task runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// `DbType`, e.g. `mysql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_type: Option<String>,
}

/// Azure Database flexible server async-operation detail (`azureAsyncOperation`).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureDetail {
    /// The operation's `name` (usually the operation ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    /// The operation's `id`: its ARM resource path (holds the subscription ID, no secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The resource provider namespace, `Microsoft.DBforPostgreSQL` or `Microsoft.DBforMySQL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider: Option<String>,
    /// `error.code` of a failed or canceled operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

/// AWS RDS detail: what the export, snapshot or blue/green deployment concerns.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsDetail {
    /// The exported snapshot or cluster (`SourceArn`), or a blue/green deployment's source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
    /// A blue/green deployment's green environment (`Target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// The bucket an export writes to (`S3Bucket`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// An export's `WarningMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_message: Option<String>,
    /// A snapshot's `SnapshotType` (`manual`, `automated`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_type: Option<String>,
    /// A snapshot's database `Engine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// A blue/green deployment's `Tasks`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<AwsTask>,
}

/// Google Cloud SQL operation detail: what the operation concerns and, when it failed,
/// the error codes (the messages are in `message`).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GcpDetail {
    /// `operationType` as sent, e.g. `IMPORT`, `BACKUP_VOLUME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<String>,
    /// The instance the operation acts on (`targetId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The project of the target instance (`targetProject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_project: Option<String>,
    /// Who started the operation (`user`, an email address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The codes of `error.errors[]` of a failed operation, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<String>,
}

/// One step of an AWS blue/green deployment.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsTask {
    /// Task name, e.g. `CREATING_READ_REPLICA_OF_SOURCE`.
    pub name: String,
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;
    use serde_json::json;

    use super::*;

    /// The schema of `status` in the generated CRD.
    fn status_schema() -> serde_json::Value {
        let crd = serde_json::to_value(crate::CloudDbJob::crd()).unwrap();
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"].clone()
    }

    #[test]
    fn the_crd_defaults_status_to_unobserved() {
        let schema = status_schema();
        assert_eq!(schema["default"], json!({"observedGeneration": 0}));
        let served: CloudDbJobStatus = serde_json::from_value(schema["default"].clone()).unwrap();
        assert_eq!(served, CloudDbJobStatus::unobserved());
        assert_eq!(served.observed_generation, Some(UNOBSERVED_GENERATION));
        // Generations start at 1: the default never equals an object's generation, so kstatus
        // (`observedGeneration != generation`) calls a fresh object in progress.
        const { assert!(UNOBSERVED_GENERATION < 1) };
        // The default must be valid against the schema it sits in (the apiserver refuses a
        // CRD whose default is not): only known fields, of the right type.
        assert_eq!(
            schema["properties"]["observedGeneration"]["type"],
            "integer"
        );
        // Conditions stay a list-map keyed by type, so the controller's apply of a condition
        // replaces the entry of that type.
        let conditions = &schema["properties"]["conditions"];
        assert_eq!(conditions["x-kubernetes-list-type"], "map");
        assert_eq!(conditions["x-kubernetes-list-map-keys"], json!(["type"]));
    }

    #[test]
    fn unobserved_is_the_default_or_nothing() {
        assert!(CloudDbJobStatus::default().is_unobserved());
        assert!(CloudDbJobStatus::unobserved().is_unobserved());
        let written = CloudDbJobStatus {
            observed_generation: Some(1),
            ..CloudDbJobStatus::default()
        };
        assert!(!written.is_unobserved());
        let with_phase = CloudDbJobStatus {
            phase: Some(JobPhase::Pending),
            ..CloudDbJobStatus::unobserved()
        };
        assert!(!with_phase.is_unobserved());
        // It serializes to exactly the CRD's default.
        assert_eq!(
            serde_json::to_value(CloudDbJobStatus::unobserved()).unwrap(),
            json!({"observedGeneration": 0})
        );
    }
}
