//! Lenient response types for the CDB API 3.0 calls this provider makes.
//!
//! `DescribeTasks` items come in two shapes: the one in the published API document (`Status`
//! and `Type` integers, a `Data[]` array with per-type detail) and the one the live API and
//! SDKs use (`TaskStatus`/`TaskType` strings, `InstanceIds`, `AsyncRequestId`,
//! `TaskAttachInfo`). [`TaskItem`] accepts both. Every field is optional, numbers may arrive
//! as strings and lists may be `null`: one odd field must not make a job unreadable.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use crate::decode::{lenient_i64, lenient_object, lenient_string, lenient_strings};

/// Accepts an array (elements that do not parse are dropped), a single object (wrapped) or
/// anything else (empty). Unlike `decode::one_or_many`, a bad element never fails the parent.
fn lenient_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok().into_iter().collect(),
        _ => Vec::new(),
    })
}

/// The `Response` object of a successful `DescribeTasks` call: one page of tasks.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct DescribeTasksPage {
    /// Tasks matching the query in total (all pages).
    #[serde(rename = "TotalCount", default, deserialize_with = "lenient_i64")]
    pub total_count: Option<i64>,
    /// The tasks of this page.
    #[serde(rename = "Items", default, deserialize_with = "lenient_list")]
    pub items: Vec<TaskItem>,
    #[serde(rename = "RequestId", default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
}

/// One `DescribeTasks` item, in either shape (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct TaskItem {
    /// Task ID: a number, or a numeric string in some responses.
    #[serde(rename = "JobId", default, deserialize_with = "lenient_string")]
    pub job_id: Option<String>,
    /// Result code: `0` on success, an error number (e.g. `9013`) on failure.
    #[serde(rename = "Code", default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(rename = "Message", default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(rename = "Progress", default, deserialize_with = "lenient_i64")]
    pub progress: Option<i64>,
    /// Document shape: status integer (`-1`..`6`), kept as text.
    #[serde(rename = "Status", default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// Live shape: status name (`SUCCEED`, `RUNNING`, ...).
    #[serde(rename = "TaskStatus", default, deserialize_with = "lenient_string")]
    pub task_status: Option<String>,
    /// Document shape: type integer (`1`..`13`), kept as text.
    #[serde(rename = "Type", default, deserialize_with = "lenient_string")]
    pub task_type_code: Option<String>,
    /// Live shape: type name (`UPGRADE MASTER`, ...).
    #[serde(rename = "TaskType", default, deserialize_with = "lenient_string")]
    pub task_type: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, UTC+08:00.
    #[serde(rename = "StartTime", default, deserialize_with = "lenient_string")]
    pub start_time: Option<String>,
    #[serde(rename = "EndTime", default, deserialize_with = "lenient_string")]
    pub end_time: Option<String>,
    #[serde(rename = "InstanceIds", default, deserialize_with = "lenient_strings")]
    pub instance_ids: Vec<String>,
    #[serde(
        rename = "AsyncRequestId",
        default,
        deserialize_with = "lenient_string"
    )]
    pub async_request_id: Option<String>,
    #[serde(rename = "TaskAttachInfo", default, deserialize_with = "lenient_list")]
    pub attach_info: Vec<AttachInfo>,
    /// Document shape: per-type detail.
    #[serde(rename = "Data", default, deserialize_with = "lenient_list")]
    pub data: Vec<TaskData>,
}

/// A `TaskAttachInfo` key/value pair (e.g. `FastUpgradeStatus` = `1` for in-place upgrades).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AttachInfo {
    #[serde(rename = "AttachKey", default, deserialize_with = "lenient_string")]
    pub key: Option<String>,
    #[serde(rename = "AttachValue", default, deserialize_with = "lenient_string")]
    pub value: Option<String>,
}

/// One `Data[]` entry of a document-shape item: the union of every task type's fields.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct TaskData {
    #[serde(rename = "InstanceId", default, deserialize_with = "lenient_string")]
    pub instance_id: Option<String>,
    #[serde(rename = "Code", default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(rename = "Message", default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(rename = "Status", default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(rename = "Progress", default, deserialize_with = "lenient_i64")]
    pub progress: Option<i64>,
    #[serde(rename = "StartTime", default, deserialize_with = "lenient_string")]
    pub start_time: Option<String>,
    #[serde(rename = "EndTime", default, deserialize_with = "lenient_string")]
    pub end_time: Option<String>,
    /// Upgrade: instance specification before.
    #[serde(rename = "Before", default, deserialize_with = "lenient_object")]
    pub before: Option<Snapshot>,
    /// Upgrade: instance specification after.
    #[serde(rename = "After", default, deserialize_with = "lenient_object")]
    pub after: Option<Snapshot>,
    /// Upgrade: order ID.
    #[serde(rename = "DealName", default, deserialize_with = "lenient_string")]
    pub deal_name: Option<String>,
    /// Rollback (`DatabaseName`/`NewDatabaseName`) or SQL (`Database`/`Code`/`Message`).
    #[serde(rename = "Databases", default, deserialize_with = "lenient_list")]
    pub databases: Vec<DataDatabase>,
    /// Rollback: tables restored, by database.
    #[serde(rename = "DatabaseTables", default, deserialize_with = "lenient_list")]
    pub database_tables: Vec<DatabaseTables>,
    /// Rollback: point in time restored to.
    #[serde(rename = "RollbackTime", default, deserialize_with = "lenient_string")]
    pub rollback_time: Option<String>,
    /// Import: target database.
    #[serde(rename = "Database", default, deserialize_with = "lenient_string")]
    pub database: Option<String>,
    /// Import: file name.
    #[serde(rename = "FileName", default, deserialize_with = "lenient_string")]
    pub file_name: Option<String>,
    /// Import: file size in bytes (a string in the document's example).
    #[serde(rename = "FileSize", default, deserialize_with = "lenient_i64")]
    pub file_size: Option<i64>,
    /// Parameter change: the parameters.
    #[serde(rename = "Parameters", default, deserialize_with = "lenient_list")]
    pub parameters: Vec<DataParameter>,
    /// Initialization: character set.
    #[serde(
        rename = "Character_set_server",
        default,
        deserialize_with = "lenient_string"
    )]
    pub character_set_server: Option<String>,
}

/// Instance specification in an upgrade's `Before`/`After`. API 3.0 spells the fields in
/// PascalCase, API 2.0 (`GetCdbUpgradeJobInfo`) in camelCase; both read into this type.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Snapshot {
    /// MB.
    #[serde(
        rename = "Memory",
        alias = "memory",
        default,
        deserialize_with = "lenient_i64"
    )]
    pub memory: Option<i64>,
    /// GB.
    #[serde(
        rename = "Volume",
        alias = "volume",
        default,
        deserialize_with = "lenient_i64"
    )]
    pub volume: Option<i64>,
    #[serde(
        rename = "EngineVersion",
        alias = "engineVersion",
        default,
        deserialize_with = "lenient_string"
    )]
    pub engine_version: Option<String>,
    #[serde(
        rename = "CdbType",
        alias = "cdbType",
        default,
        deserialize_with = "lenient_string"
    )]
    pub cdb_type: Option<String>,
    #[serde(
        rename = "ProtectMode",
        alias = "protectMode",
        default,
        deserialize_with = "lenient_string"
    )]
    pub protect_mode: Option<String>,
    #[serde(
        rename = "DeployMode",
        alias = "deployMode",
        default,
        deserialize_with = "lenient_string"
    )]
    pub deploy_mode: Option<String>,
    /// Zone IDs arrive as numbers or strings (`""` when unset).
    #[serde(
        rename = "MasterZone",
        alias = "masterZone",
        default,
        deserialize_with = "lenient_string"
    )]
    pub master_zone: Option<String>,
    #[serde(
        rename = "SlaveZoneFirst",
        alias = "slaveZoneFirst",
        default,
        deserialize_with = "lenient_string"
    )]
    pub slave_zone_first: Option<String>,
    #[serde(
        rename = "SlaveZoneSecond",
        alias = "slaveZoneSecond",
        default,
        deserialize_with = "lenient_string"
    )]
    pub slave_zone_second: Option<String>,
}

/// A `Databases[]` entry: rollback rename or SQL per-database result.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct DataDatabase {
    #[serde(rename = "DatabaseName", default, deserialize_with = "lenient_string")]
    pub database_name: Option<String>,
    #[serde(
        rename = "NewDatabaseName",
        default,
        deserialize_with = "lenient_string"
    )]
    pub new_database_name: Option<String>,
    #[serde(rename = "Database", default, deserialize_with = "lenient_string")]
    pub database: Option<String>,
    #[serde(rename = "Code", default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(rename = "Message", default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

/// A `DatabaseTables[]` entry of a rollback.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct DatabaseTables {
    #[serde(rename = "Database", default, deserialize_with = "lenient_string")]
    pub database: Option<String>,
    #[serde(rename = "Tables", default, deserialize_with = "lenient_list")]
    pub tables: Vec<TableRenameRaw>,
}

/// A table restored under a new name.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct TableRenameRaw {
    #[serde(rename = "TableName", default, deserialize_with = "lenient_string")]
    pub table_name: Option<String>,
    #[serde(rename = "NewTableName", default, deserialize_with = "lenient_string")]
    pub new_table_name: Option<String>,
}

/// A `Parameters[]` entry of a parameter change.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct DataParameter {
    #[serde(rename = "Name", default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(rename = "OldValue", default, deserialize_with = "lenient_string")]
    pub old_value: Option<String>,
    #[serde(rename = "CurrentValue", default, deserialize_with = "lenient_string")]
    pub current_value: Option<String>,
    #[serde(rename = "Code", default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    #[serde(rename = "Message", default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

/// The `Response` object of a successful `DescribeAsyncRequestInfo` call.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AsyncRequestInfo {
    /// `INITIAL`, `RUNNING`, `SUCCESS`, `FAILED`, `KILLED`, `REMOVED`, `PAUSED`, `UNDEFINED`;
    /// may be `null`.
    #[serde(rename = "Status", default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// Result text; may be `null`.
    #[serde(rename = "Info", default, deserialize_with = "lenient_string")]
    pub info: Option<String>,
    #[serde(rename = "RequestId", default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
}

/// `Response.Error` of a failed call.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ApiError {
    #[serde(rename = "Code", default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(rename = "Message", default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_as_strings_nulls_and_odd_elements() {
        let page: DescribeTasksPage = serde_json::from_value(json!({
            "TotalCount": "3",
            "Items": [
                {"JobId": "79", "Code": "9013", "Progress": "10", "InstanceIds": null,
                 "TaskAttachInfo": null, "Data": null, "TaskStatus": null},
                "not an object",
                {"JobId": 80, "Data": [{"FileSize": "5857113", "Before": "junk",
                  "Databases": [1, {"Database": "d", "Code": "3"}]}]}
            ]
        }))
        .unwrap();
        assert_eq!(page.total_count, Some(3));
        assert_eq!(page.items.len(), 2);
        let first = &page.items[0];
        assert_eq!(first.job_id.as_deref(), Some("79"));
        assert_eq!(first.code, Some(9013));
        assert_eq!(first.progress, Some(10));
        assert!(first.instance_ids.is_empty() && first.data.is_empty());
        assert_eq!(first.task_status, None);
        let data = &page.items[1].data[0];
        assert_eq!(data.file_size, Some(5857113));
        assert_eq!(data.before, None);
        assert_eq!(data.databases.len(), 1);
        assert_eq!(data.databases[0].code, Some(3));
    }

    #[test]
    fn a_null_items_list_is_an_empty_page() {
        let page: DescribeTasksPage =
            serde_json::from_value(json!({"TotalCount": null, "Items": null})).unwrap();
        assert_eq!(page, DescribeTasksPage::default());
    }
}
