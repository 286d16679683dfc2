//! Lenient response types for the CDB API 2.0 job queries.
//!
//! The published examples disagree with their own tables (`data` documented as an Array
//! but returned as an object, Int fields returned as strings, zones as `""` or numbers), so
//! every field here goes through the shared lenient decoders and every nested object may be
//! missing, `null`, an object or a one-element array.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use crate::decode::{lenient_string, lenient_strings, one_or_many};
/// The instance specification is the same type in both Tencent APIs (camelCase here).
pub use crate::tencent::model::Snapshot;

/// The common API 2.0 envelope: `{code, message, codeDesc, data}`. `code` is an int or a
/// numeric string; `data` is kept raw and decoded per action once `code` is known to be 0.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Public error code as text (`0` is success).
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    /// English code description (`Success`, `InvalidParameter`, ...).
    #[serde(default, deserialize_with = "lenient_string")]
    pub code_desc: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
}

/// Decodes `data` that may be an object, an array of objects (first one wins), `null` or
/// absent. `Ok(None)` means the provider returned no record.
pub fn first_record<T: DeserializeOwned>(data: Option<Value>) -> Result<Option<T>, String> {
    #[derive(Deserialize)]
    #[serde(bound = "T: DeserializeOwned")]
    struct Wrapper<T> {
        #[serde(default, deserialize_with = "one_or_many")]
        data: Vec<T>,
    }
    let Some(data) = data else { return Ok(None) };
    let wrapper: Wrapper<T> = serde_json::from_value(serde_json::json!({ "data": data }))
        .map_err(|e| format!("unexpected data layout: {e}"))?;
    Ok(wrapper.data.into_iter().next())
}

/// Accepts an object (decoded as `T`) and treats anything else (`""`, numbers, `null`,
/// arrays) as absent; an array's first object is used.
fn lenient_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Option::<Value>::deserialize(d)?;
    let object = match value {
        Some(v @ Value::Object(_)) => v,
        Some(Value::Array(items)) => match items.into_iter().find(Value::is_object) {
            Some(v) => v,
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(serde_json::from_value(object).ok())
}

/// `GetCdbTaskInfo` `data`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskInfoData {
    /// `0` success, `1` failed, `2` running.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub function_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_strings")]
    pub u_instance_ids: Vec<String>,
}

/// `GetCdbUpgradeJobInfo` `data`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeJobData {
    /// Task error code (`0` success).
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub job_id: Option<String>,
    /// `9` read-only instance upgrade, `11` master upgrade.
    #[serde(default, deserialize_with = "lenient_string", rename = "type")]
    pub job_type: Option<String>,
    /// `0` running, `2` success, `3` failed, `4` aborted, `5` deleted, `6` aborting.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub progress: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", alias = "starttime")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", alias = "endtime")]
    pub end_time: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub detail: Vec<UpgradeDetailItem>,
}

/// One instance of an upgrade job.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeDetailItem {
    #[serde(default, deserialize_with = "lenient_string")]
    pub cdb_instance_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub deal_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub before: Option<Snapshot>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub after: Option<Snapshot>,
}

/// `GetCdbRollbackJobTask` `data`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackData {
    #[serde(default, deserialize_with = "lenient_object")]
    pub job_info: Option<RollbackJobInfo>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub task_detail: Vec<RollbackTask>,
}

/// The rollback job as a whole.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackJobInfo {
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub job_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", rename = "type")]
    pub job_type: Option<String>,
    /// Same codes as the upgrade job.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub progress: Option<String>,
    /// The seed example writes `starttime`; the international doc `startTime`.
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "starttime",
        alias = "startTime"
    )]
    pub start_time: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "endtime",
        alias = "endTime"
    )]
    pub end_time: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub detail: Vec<RollbackInstanceItem>,
}

/// What a rollback restores on one instance (lower-case names as in the seed, camelCase as
/// in the international doc).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RollbackInstanceItem {
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "instanceid",
        alias = "cdbInstanceId",
        alias = "instanceId"
    )]
    pub instance_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "instancename",
        alias = "cdbInstanceName",
        alias = "instanceName"
    )]
    pub instance_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub strategy: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "rollbacktime",
        alias = "rollbackTime"
    )]
    pub rollback_time: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub dbs: Vec<DbRename>,
}

/// A database restored under a new name.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DbRename {
    #[serde(default, deserialize_with = "lenient_string", alias = "dbName")]
    pub dbname: Option<String>,
    #[serde(default, deserialize_with = "lenient_string", alias = "newName")]
    pub newname: Option<String>,
}

/// One per-instance rollback sub-task.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RollbackTask {
    #[serde(
        default,
        deserialize_with = "lenient_object",
        rename = "taskInfo",
        alias = "taskinfo"
    )]
    pub task_info: Option<RollbackInstanceItem>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "taskid",
        alias = "taskId"
    )]
    pub task_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "workid",
        alias = "workId"
    )]
    pub work_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub progress: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "starttime",
        alias = "startTime"
    )]
    pub start_time: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        rename = "endtime",
        alias = "endTime"
    )]
    pub end_time: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_as_object_array_null_or_empty() {
        let obj: Option<TaskInfoData> = first_record(Some(json!({"status": 2}))).unwrap();
        assert_eq!(obj.unwrap().status.as_deref(), Some("2"));
        let arr: Option<TaskInfoData> =
            first_record(Some(json!([{"status": "1"}, {"status": "0"}]))).unwrap();
        assert_eq!(arr.unwrap().status.as_deref(), Some("1"));
        let empty: Option<TaskInfoData> = first_record(Some(json!([]))).unwrap();
        assert!(empty.is_none());
        let null: Option<TaskInfoData> = first_record(Some(Value::Null)).unwrap();
        assert!(null.is_none());
        assert!(first_record::<TaskInfoData>(None).unwrap().is_none());
        assert!(first_record::<TaskInfoData>(Some(json!([1, 2]))).is_err());
    }

    #[test]
    fn envelope_code_as_int_or_string() {
        let a: Envelope = serde_json::from_value(json!({"code": 0})).unwrap();
        let b: Envelope = serde_json::from_value(json!({"code": "4100"})).unwrap();
        assert_eq!(a.code.as_deref(), Some("0"));
        assert_eq!(b.code.as_deref(), Some("4100"));
    }

    #[test]
    fn snapshot_zones_numbers_strings_and_blanks() {
        let s: Snapshot = serde_json::from_value(json!({
            "memory": "1000", "volume": 35, "masterZone": 100003,
            "slaveZoneFirst": "100004", "slaveZoneSecond": ""
        }))
        .unwrap();
        assert_eq!(s.memory, Some(1000));
        assert_eq!(s.volume, Some(35));
        assert_eq!(s.master_zone.as_deref(), Some("100003"));
        assert_eq!(s.slave_zone_first.as_deref(), Some("100004"));
        assert_eq!(s.slave_zone_second, None);
    }

    #[test]
    fn odd_nested_shapes_are_absent_not_errors() {
        let d: UpgradeDetailItem =
            serde_json::from_value(json!({"before": "", "after": [{"memory": 2000}]})).unwrap();
        assert!(d.before.is_none());
        assert_eq!(d.after.unwrap().memory, Some(2000));
        let r: RollbackData =
            serde_json::from_value(json!({"jobInfo": [], "taskDetail": {"taskid": 7}})).unwrap();
        assert!(r.job_info.is_none());
        assert_eq!(r.task_detail[0].task_id.as_deref(), Some("7"));
    }

    #[test]
    fn rollback_times_in_lower_or_camel_case() {
        let lower: RollbackJobInfo =
            serde_json::from_value(json!({"starttime": "2016-05-11 17:58:29"})).unwrap();
        let camel: RollbackJobInfo =
            serde_json::from_value(json!({"startTime": "2016-05-11 17:58:29", "endTime": "x"}))
                .unwrap();
        assert_eq!(lower.start_time, camel.start_time);
        assert_eq!(camel.end_time.as_deref(), Some("x"));
    }
}
