//! Lenient serde types for the RDS Query API's XML responses (`quick-xml`'s serde support).
//!
//! Every field is optional and kept as text (numbers included, parsed later), unknown
//! elements are ignored, and every list tolerates being empty or absent. The list element
//! names are the ones the service model gives (and the official SDKs read):
//! `<ExportTasks><ExportTask>`, `<DBSnapshots><DBSnapshot>`,
//! `<DBClusterSnapshots><DBClusterSnapshot>`, `<BlueGreenDeployments><member>` with
//! `<SwitchoverDetails><member>` and `<Tasks><member>` inside; the other spelling of each
//! (`member` or the item name) is accepted too.

use serde::Deserialize;

/// `<DescribeExportTasksResponse>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ExportTasksResponse {
    #[serde(rename = "DescribeExportTasksResult", default)]
    pub result: Option<ExportTasksResult>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ExportTasksResult {
    #[serde(rename = "ExportTasks", default)]
    pub list: Option<ExportTaskList>,
    /// The next page's `Marker` (batched polls page by it).
    #[serde(rename = "Marker", default)]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ExportTaskList {
    #[serde(rename = "ExportTask", alias = "member", default)]
    pub items: Vec<ExportTask>,
}

/// One snapshot or cluster export to S3.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ExportTask {
    #[serde(default)]
    pub export_task_identifier: Option<String>,
    #[serde(default)]
    pub source_arn: Option<String>,
    /// `STARTING`, `IN_PROGRESS`, `CANCELING`, `CANCELED`, `COMPLETE` or `FAILED`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub percent_progress: Option<String>,
    #[serde(default)]
    pub task_start_time: Option<String>,
    #[serde(default)]
    pub task_end_time: Option<String>,
    #[serde(default)]
    pub failure_cause: Option<String>,
    #[serde(default)]
    pub warning_message: Option<String>,
    #[serde(rename = "S3Bucket", default)]
    pub s3_bucket: Option<String>,
    /// `SNAPSHOT` or `CLUSTER`.
    #[serde(default)]
    pub source_type: Option<String>,
}

/// `<DescribeDBSnapshotsResponse>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct DbSnapshotsResponse {
    #[serde(rename = "DescribeDBSnapshotsResult", default)]
    pub result: Option<DbSnapshotsResult>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct DbSnapshotsResult {
    #[serde(rename = "DBSnapshots", default)]
    pub list: Option<DbSnapshotList>,
    /// The next page's `Marker` (discovery pages by it).
    #[serde(rename = "Marker", default)]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct DbSnapshotList {
    #[serde(rename = "DBSnapshot", alias = "member", default)]
    pub items: Vec<Snapshot>,
}

/// `<DescribeDBClusterSnapshotsResponse>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ClusterSnapshotsResponse {
    #[serde(rename = "DescribeDBClusterSnapshotsResult", default)]
    pub result: Option<ClusterSnapshotsResult>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ClusterSnapshotsResult {
    #[serde(rename = "DBClusterSnapshots", default)]
    pub list: Option<ClusterSnapshotList>,
    /// The next page's `Marker` (batched polls page by it).
    #[serde(rename = "Marker", default)]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ClusterSnapshotList {
    #[serde(rename = "DBClusterSnapshot", alias = "member", default)]
    pub items: Vec<Snapshot>,
}

/// A DB snapshot or a DB cluster snapshot: the fields this operator reads have the same
/// names in both, except the identifiers.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Snapshot {
    #[serde(rename = "DBSnapshotIdentifier", default)]
    pub db_snapshot_identifier: Option<String>,
    #[serde(rename = "DBClusterSnapshotIdentifier", default)]
    pub db_cluster_snapshot_identifier: Option<String>,
    #[serde(rename = "DBInstanceIdentifier", default)]
    pub db_instance_identifier: Option<String>,
    #[serde(rename = "DBClusterIdentifier", default)]
    pub db_cluster_identifier: Option<String>,
    /// `creating`, `available`, `failed`, `deleting`, `deleted`, `incompatible-*`, ...
    #[serde(rename = "Status", default)]
    pub status: Option<String>,
    #[serde(rename = "PercentProgress", default)]
    pub percent_progress: Option<String>,
    #[serde(rename = "SnapshotCreateTime", default)]
    pub snapshot_create_time: Option<String>,
    /// `manual`, `automated`, `shared`, `public`, `awsbackup`.
    #[serde(rename = "SnapshotType", default)]
    pub snapshot_type: Option<String>,
    #[serde(rename = "Engine", default)]
    pub engine: Option<String>,
}

impl Snapshot {
    /// The snapshot's identifier, whichever kind it is.
    pub fn identifier(&self) -> Option<&str> {
        self.db_snapshot_identifier
            .as_deref()
            .or(self.db_cluster_snapshot_identifier.as_deref())
    }

    /// The instance or cluster the snapshot was taken of.
    pub fn source(&self) -> Option<&str> {
        self.db_instance_identifier
            .as_deref()
            .or(self.db_cluster_identifier.as_deref())
    }
}

/// `<DescribeBlueGreenDeploymentsResponse>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct BlueGreenResponse {
    #[serde(rename = "DescribeBlueGreenDeploymentsResult", default)]
    pub result: Option<BlueGreenResult>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct BlueGreenResult {
    #[serde(rename = "BlueGreenDeployments", default)]
    pub list: Option<BlueGreenList>,
    /// The next page's `Marker` (discovery pages by it).
    #[serde(rename = "Marker", default)]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct BlueGreenList {
    #[serde(rename = "member", alias = "BlueGreenDeployment", default)]
    pub items: Vec<BlueGreenDeployment>,
}

/// One blue/green deployment.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct BlueGreenDeployment {
    #[serde(default)]
    pub blue_green_deployment_identifier: Option<String>,
    #[serde(default)]
    pub blue_green_deployment_name: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub switchover_details: Option<SwitchoverDetailList>,
    #[serde(default)]
    pub tasks: Option<TaskList>,
    /// `PROVISIONING`, `AVAILABLE`, `SWITCHOVER_IN_PROGRESS`, `SWITCHOVER_COMPLETED`,
    /// `INVALID_CONFIGURATION`, `SWITCHOVER_FAILED` or `DELETING`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub status_details: Option<String>,
    #[serde(default)]
    pub create_time: Option<String>,
    #[serde(default)]
    pub delete_time: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct SwitchoverDetailList {
    #[serde(rename = "member", alias = "SwitchoverDetail", default)]
    pub items: Vec<SwitchoverDetail>,
}

/// One resource's switchover state.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct SwitchoverDetail {
    #[serde(default)]
    pub source_member: Option<String>,
    #[serde(default)]
    pub target_member: Option<String>,
    /// `PROVISIONING`, `AVAILABLE`, `SWITCHOVER_IN_PROGRESS`, `SWITCHOVER_COMPLETED`,
    /// `SWITCHOVER_FAILED`, `MISSING_SOURCE`, `MISSING_TARGET`.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct TaskList {
    #[serde(rename = "member", alias = "BlueGreenDeploymentTask", default)]
    pub items: Vec<BlueGreenTask>,
}

/// One step of creating the green environment.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct BlueGreenTask {
    #[serde(default)]
    pub name: Option<String>,
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    #[serde(default)]
    pub status: Option<String>,
}

/// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ErrorResponse {
    #[serde(rename = "Error", default)]
    pub error: Option<ErrorBody>,
    #[serde(rename = "RequestId", alias = "RequestID", default)]
    pub request_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorBody {
    /// `Sender` or `Receiver`.
    #[serde(default, rename = "Type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Decodes an XML body into `T`; `Err` with the parser's complaint when it is not XML of
/// that shape.
pub fn from_xml<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    quick_xml::de::from_str(text).map_err(|e| e.to_string())
}

/// Trimmed non-empty text of an optional field.
pub fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
