//! Lenient serde types for the Huawei Cloud task-center response (`GET …/jobs?id=`).
//!
//! Every field is optional and tolerant of type drift (numbers as strings, `null`, `""`,
//! a non-object where an object is documented): one odd field must not make a whole job
//! unreadable. The same shape serves RDS, TaurusDB (both paths) and GaussDB (openGauss).

use serde::Deserialize;

use crate::decode::{lenient_object, lenient_string, lenient_strings};

/// The whole response body: `{"job": {...}}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct JobResponse {
    #[serde(default, deserialize_with = "lenient_object")]
    pub job: Option<Job>,
}

/// One task-center job.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Job {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    /// Task name, e.g. `RestartGaussDBInstance` (may carry stray blanks).
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// `Pending`, `Running`, `Completed`, `Failed`, `Unauthorized` or `Canceled`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// `yyyy-mm-ddThh:mm:ss+0800`-style creation time.
    #[serde(default, deserialize_with = "lenient_string")]
    pub created: Option<String>,
    /// End time, same format; empty while running.
    #[serde(default, deserialize_with = "lenient_string")]
    pub ended: Option<String>,
    /// RDS/TaurusDB progress, `"60%"` while running, else `""`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub process: Option<String>,
    /// GaussDB (openGauss) spelling of the progress field.
    #[serde(default, deserialize_with = "lenient_string")]
    pub progress: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub instance: Option<JobInstance>,
    /// Task-specific entities; `{}` when there are none.
    #[serde(default, deserialize_with = "lenient_object")]
    pub entities: Option<Entities>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub fail_reason: Option<String>,
}

/// `job.instance`: the DB instance the task runs on.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct JobInstance {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
}

/// `job.entities` (fields vary by task; unknown ones are ignored).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Entities {
    #[serde(default, deserialize_with = "lenient_object")]
    pub instance: Option<EntityInstance>,
    #[serde(default, deserialize_with = "lenient_strings")]
    pub resource_ids: Vec<String>,
    /// EIP bound or unbound by the task.
    #[serde(default, deserialize_with = "lenient_string")]
    pub public_ip: Option<String>,
}

/// `job.entities.instance`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct EntityInstance {
    #[serde(default, deserialize_with = "lenient_string")]
    pub endpoint: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient_string")]
    pub instance_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub datastore: Option<Datastore>,
}

/// `job.entities.instance.datastore`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Datastore {
    #[serde(default, rename = "type", deserialize_with = "lenient_string")]
    pub datastore_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerates_odd_types() {
        let r: JobResponse = serde_json::from_value(json!({"job": {
            "id": 12, "name": null, "status": "Running", "process": 40,
            "instance": "not-an-object", "entities": {"resource_ids": "r1", "public_ip": ""}
        }}))
        .unwrap();
        let job = r.job.unwrap();
        assert_eq!(job.id.as_deref(), Some("12"));
        assert_eq!(job.name, None);
        assert_eq!(job.process.as_deref(), Some("40"));
        assert_eq!(job.instance, None);
        let entities = job.entities.unwrap();
        assert_eq!(entities.resource_ids, vec!["r1"]);
        assert_eq!(entities.public_ip, None);
    }

    #[test]
    fn missing_or_null_job() {
        let r: JobResponse = serde_json::from_value(json!({})).unwrap();
        assert_eq!(r.job, None);
        let r: JobResponse = serde_json::from_value(json!({"job": null})).unwrap();
        assert_eq!(r.job, None);
    }
}
