//! Lenient serde types for the `DescribeHistoryTasks` response (RDS and PolarDB).
//!
//! Every field is optional and tolerant of type drift: PolarDB sends `TotalCount` as a
//! string, an older SDK types `Status` as an integer, numbers may come as text. One odd
//! field must not make a whole task unreadable.

use serde::Deserialize;

pub use crate::decode::lenient_f64;
use crate::decode::{lenient_i64, lenient_string, one_or_many_lenient};

/// The whole response body.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryTasksPage {
    #[serde(default, deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub page_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub page_size: Option<i64>,
    /// A number for RDS, a string for PolarDB.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub total_count: Option<i64>,
    /// A plain array of tasks; items that are not objects are skipped.
    #[serde(default, deserialize_with = "one_or_many_lenient")]
    pub items: Vec<TaskItem>,
}

/// One task.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TaskItem {
    /// `t-83br18hloy3faf****`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub task_id: Option<String>,
    /// Task type or name, e.g. `MinorVersionUpgrade`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub task_type: Option<String>,
    /// `Scheduled`, `Running`, `Succeed`, `Failed`, `Cancelling`, `Canceled`, `Waiting`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// 0-100, a float.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub progress: Option<f64>,
    /// Estimated seconds left.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub remain_time: Option<i64>,
    /// `yyyy-MM-ddTHH:mm:ssZ` (UTC).
    #[serde(default, deserialize_with = "lenient_string")]
    pub start_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub end_time: Option<String>,
    /// Empty when the task has not started.
    #[serde(default, deserialize_with = "lenient_string")]
    pub current_step_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub instance_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub instance_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub db_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub product: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub region_id: Option<String>,
    /// Why the task was started.
    #[serde(default, deserialize_with = "lenient_string")]
    pub reason_code: Option<String>,
    /// JSON encoded as a string; its shape varies by task type.
    #[serde(default, deserialize_with = "lenient_string")]
    pub task_detail: Option<String>,
    /// JSON encoded as a string: the actions allowed per step and status.
    #[serde(default, deserialize_with = "lenient_string")]
    pub action_info: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub caller_source: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub caller_uid: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub uid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn polardb_total_count_is_a_string_and_fields_drift() {
        let page: HistoryTasksPage = serde_json::from_value(json!({
            "RequestId": "r", "TotalCount": "3", "PageSize": 10, "PageNumber": "1",
            "Items": [
                {"TaskId": "t-1", "Progress": "45.5", "RemainTime": "30", "Status": 3},
                "not an object",
                {"TaskId": "t-2", "Progress": "NaN", "InstanceName": null}
            ]
        }))
        .unwrap();
        assert_eq!(page.total_count, Some(3));
        assert_eq!(page.page_number, Some(1));
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].progress, Some(45.5));
        assert_eq!(page.items[0].remain_time, Some(30));
        assert_eq!(page.items[0].status.as_deref(), Some("3"));
        assert_eq!(page.items[1].progress, None);
        assert_eq!(page.items[1].instance_name, None);
    }

    #[test]
    fn missing_or_odd_items() {
        let page: HistoryTasksPage = serde_json::from_value(json!({})).unwrap();
        assert!(page.items.is_empty());
        let page: HistoryTasksPage =
            serde_json::from_value(json!({"Items": "x", "TotalCount": 0})).unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.total_count, Some(0));
        let page: HistoryTasksPage =
            serde_json::from_value(json!({"Items": {"TaskId": "t-9"}})).unwrap();
        assert_eq!(page.items[0].task_id.as_deref(), Some("t-9"));
    }
}
