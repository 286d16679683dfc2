//! Pure mapping from a Huawei Cloud task-center job to the common [`JobObservation`].
//!
//! No I/O and no clock: the client hands in the decoded response, tests hand in fixtures.

use crate::decode::{parse_offset_time, parse_progress};
use crate::{JobDetail, JobObservation, ProviderError};
use clouddb_api::{HuaweiDetail, HuaweiEntities, HuaweiInstanceEntity, InstanceRef, JobPhase};

use super::model::{Entities, Job, JobResponse};

/// Decodes a successful (2xx) response body. A body without a `job` object means the task
/// center does not list the job (yet): `Pending` / `NotFoundYet`. A body that is not JSON
/// (truncated, an HTML error page from a proxy) is a transient error.
pub fn observation_from_body(body: &[u8], job_id: &str) -> Result<JobObservation, ProviderError> {
    let response: JobResponse = serde_json::from_slice(body).map_err(|e| {
        ProviderError::transient(
            "MalformedResponse",
            format!("Huawei Cloud returned a response that is not the expected JSON: {e}"),
        )
    })?;
    Ok(match response.job {
        Some(job) => map_job(&job),
        None => not_found_yet(job_id),
    })
}

/// The observation for a job the task center does not list. Huawei lists a job only a few
/// seconds after it is created, so the provider always reports `Pending`/`NotFoundYet`;
/// the controller, which knows how old the resource is, decides when to stop waiting.
pub fn not_found_yet(job_id: &str) -> JobObservation {
    JobObservation::not_found_yet(format!(
        "job {job_id} is not listed by the Huawei Cloud task center yet"
    ))
}

/// Maps one job.
pub fn map_job(job: &Job) -> JobObservation {
    let status = job.status.as_deref().map(str::trim).unwrap_or_default();
    let parsed_progress = job
        .process
        .as_deref()
        .and_then(parse_progress)
        .or_else(|| job.progress.as_deref().and_then(parse_progress));
    let fail_reason = job
        .fail_reason
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let (phase, reason, message) = match map_status(status) {
        Some((phase, reason)) => (
            phase,
            reason,
            fail_reason
                .map(String::from)
                .or_else(|| default_message(reason)),
        ),
        None => {
            // Never guess a terminal phase from a value we do not know.
            let phase = if parsed_progress.is_some_and(|p| p > 0) {
                JobPhase::Running
            } else {
                JobPhase::Pending
            };
            let what = if status.is_empty() {
                "Huawei Cloud reported no job status".to_string()
            } else {
                format!("unrecognized Huawei Cloud job status {status:?}")
            };
            let message = match fail_reason {
                Some(m) => format!("{what}: {m}"),
                None => what,
            };
            (phase, Some("UnknownStatus"), Some(message))
        }
    };
    let progress = if phase == JobPhase::Succeeded {
        Some(100)
    } else {
        parsed_progress
    };
    let name = job.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let instance = job
        .instance
        .as_ref()
        .filter(|i| i.id.is_some() || i.name.is_some())
        .map(|i| InstanceRef {
            id: i.id.clone(),
            name: i.name.clone(),
        });
    let entities = job.entities.as_ref().and_then(map_entities);
    let huawei = (instance.is_some() || entities.is_some()).then(|| HuaweiDetail {
        instance: instance.clone(),
        entities,
    });
    JobObservation {
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: (!status.is_empty()).then(|| status.to_string()),
        progress,
        message,
        job_type: name.map(|n| normalize_job_type(n).to_string()),
        provider_job_type: name.map(String::from),
        start_time: job.created.as_deref().and_then(parse_offset_time),
        end_time: job.ended.as_deref().and_then(parse_offset_time),
        instance_ids: instance.and_then(|i| i.id).into_iter().collect(),
        detail: JobDetail {
            huawei,
            ..Default::default()
        },
        remaining: None,
    }
}

/// Phase and reason for a job status (case-insensitive); `None` for a status this
/// operator does not know (mapped to `UnknownStatus`, never to a terminal phase).
pub fn map_status(status: &str) -> Option<(JobPhase, Option<&'static str>)> {
    match status.trim().to_ascii_lowercase().as_str() {
        "pending" => Some((JobPhase::Pending, None)),
        "running" => Some((JobPhase::Running, None)),
        "completed" => Some((JobPhase::Succeeded, None)),
        "failed" => Some((JobPhase::Failed, Some("JobFailed"))),
        "unauthorized" => Some((JobPhase::Failed, Some("Unauthorized"))),
        "canceled" | "cancelled" => Some((JobPhase::Failed, Some("Canceled"))),
        _ => None,
    }
}

fn default_message(reason: Option<&str>) -> Option<String> {
    match reason {
        Some("Unauthorized") => Some("Huawei Cloud did not authorize the task to run".into()),
        Some("Canceled") => Some("the task was canceled".into()),
        _ => None,
    }
}

fn map_entities(e: &Entities) -> Option<HuaweiEntities> {
    let instance = e.instance.as_ref().and_then(|i| {
        let out = HuaweiInstanceEntity {
            endpoint: i.endpoint.clone(),
            instance_type: i.instance_type.clone(),
            datastore_type: i.datastore.as_ref().and_then(|d| d.datastore_type.clone()),
            datastore_version: i.datastore.as_ref().and_then(|d| d.version.clone()),
        };
        (out != HuaweiInstanceEntity::default()).then_some(out)
    });
    let out = HuaweiEntities {
        instance,
        resource_ids: e.resource_ids.clone(),
        public_ip: e.public_ip.clone(),
    };
    (out != HuaweiEntities::default()).then_some(out)
}

/// Normalized job type by keyword in the task name, first match wins. Keywords are matched
/// case-insensitively after dropping blanks, `_` and `-`. The order matters: a
/// `CreateManualBackup` is a backup, a `RestoreToNewInstance` a restore, not a create.
pub const JOB_TYPE_KEYWORDS: &[(&[&str], &str)] = &[
    (&["restore", "recovery"], "restore"),
    (&["backup"], "backup"),
    (&["restart", "reboot"], "restart"),
    (
        &[
            "upgrade",
            "resize",
            "enlarge",
            "scale",
            "modifyspec",
            "modifyflavor",
        ],
        "upgrade",
    ),
    (&["parameter", "configuration"], "parameter"),
    (&["eip", "publicip", "bind"], "network"),
    (&["delete"], "delete"),
    (&["create"], "create"),
];

/// The normalized `jobType` of a Huawei task name (see [`JOB_TYPE_KEYWORDS`]); `other`
/// when no keyword matches.
pub fn normalize_job_type(name: &str) -> &'static str {
    crate::decode::job_type_by_keyword(name, JOB_TYPE_KEYWORDS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use serde_json::json;

    fn job(v: serde_json::Value) -> Job {
        serde_json::from_value(v).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn seed_example_maps_exactly() {
        let body = include_bytes!("../../../../tests/fixtures/huawei/gaussdb-mysql-GetJob.json");
        let obs = observation_from_body(body, "31b8ae23-c687-4d80-b7b4-42a66c9bb886").unwrap();
        let expected = JobObservation {
            remaining: None,
            phase: Some(JobPhase::Succeeded),
            reason: None,
            provider_status: Some("Completed".into()),
            progress: Some(100),
            message: None,
            job_type: Some("restart".into()),
            provider_job_type: Some("RestartGaussDBInstance".into()),
            start_time: Some(ts("2018-08-06T10:41:14Z")),
            end_time: Some(ts("2018-08-06T16:41:14Z")),
            instance_ids: vec!["a48e43ff268f4c0e879652d65e63d0fbin01".into()],
            detail: JobDetail {
                huawei: Some(HuaweiDetail {
                    instance: Some(InstanceRef {
                        id: Some("a48e43ff268f4c0e879652d65e63d0fbin01".into()),
                        name: Some("DO-NOT-TOUCH-mgr2-gaussdb".into()),
                    }),
                    entities: None,
                }),
                ..Default::default()
            },
        };
        assert_eq!(obs, expected);
    }

    #[test]
    fn every_status() {
        let cases = [
            ("Pending", Some(JobPhase::Pending), None),
            ("Running", Some(JobPhase::Running), None),
            ("running", Some(JobPhase::Running), None),
            ("Completed", Some(JobPhase::Succeeded), None),
            ("COMPLETED", Some(JobPhase::Succeeded), None),
            ("Failed", Some(JobPhase::Failed), Some("JobFailed")),
            ("Unauthorized", Some(JobPhase::Failed), Some("Unauthorized")),
            ("Canceled", Some(JobPhase::Failed), Some("Canceled")),
            ("cancelled", Some(JobPhase::Failed), Some("Canceled")),
            ("Exploded", Some(JobPhase::Pending), Some("UnknownStatus")),
        ];
        for (status, phase, reason) in cases {
            let obs = map_job(&job(json!({"status": status})));
            assert_eq!(obs.phase, phase, "{status}");
            assert_eq!(obs.reason.as_deref(), reason, "{status}");
            assert_eq!(obs.provider_status.as_deref(), Some(status));
        }
        let unknown = map_job(&job(json!({"status": "Exploded"})));
        assert!(unknown.message.unwrap().contains("Exploded"));
        let unknown = map_job(&job(json!({"status": "Paused", "process": "40%"})));
        assert_eq!(unknown.phase, Some(JobPhase::Running));
        assert_eq!(unknown.progress, Some(40));
        let none = map_job(&job(json!({})));
        assert_eq!(none.phase, Some(JobPhase::Pending));
        assert_eq!(none.reason.as_deref(), Some("UnknownStatus"));
        assert_eq!(none.provider_status, None);
    }

    #[test]
    fn failure_reason_is_the_message() {
        let obs = map_job(&job(json!({
            "status": "Failed", "process": "35%", "fail_reason": "  disk full  "
        })));
        assert_eq!(obs.message.as_deref(), Some("disk full"));
        assert_eq!(obs.progress, Some(35));
        let canceled = map_job(&job(json!({"status": "Canceled"})));
        assert_eq!(canceled.message.as_deref(), Some("the task was canceled"));
    }

    #[test]
    fn progress_from_process_or_progress() {
        let p = |v| map_job(&job(v)).progress;
        assert_eq!(p(json!({"status": "Running", "process": "60%"})), Some(60));
        assert_eq!(p(json!({"status": "Running", "process": ""})), None);
        assert_eq!(p(json!({"status": "Running", "progress": "25%"})), Some(25));
        assert_eq!(p(json!({"status": "Running", "progress": 70})), Some(70));
        assert_eq!(
            p(json!({"status": "Running", "process": "", "progress": "15"})),
            Some(15)
        );
        assert_eq!(p(json!({"status": "Completed", "process": ""})), Some(100));
        assert_eq!(p(json!({"status": "Running", "process": "abc"})), None);
    }

    #[test]
    fn times_with_offsets_become_utc() {
        let obs = map_job(&job(json!({
            "status": "Running",
            "created": "2024-03-01T10:00:00+0800",
            "ended": ""
        })));
        assert_eq!(obs.start_time, Some(ts("2024-03-01T02:00:00Z")));
        assert_eq!(obs.end_time, None);
        let obs = map_job(&job(json!({
            "created": "2024-03-01T10:00:00+08:00", "ended": "2024-03-01T03:30:00Z"
        })));
        assert_eq!(obs.start_time, Some(ts("2024-03-01T02:00:00Z")));
        assert_eq!(obs.end_time, Some(ts("2024-03-01T03:30:00Z")));
        let bad = map_job(&job(json!({"created": "yesterday"})));
        assert_eq!(bad.start_time, None);
    }

    #[test]
    fn entities_are_carried() {
        let obs = map_job(&job(json!({
            "status": "Completed",
            "name": "CreateMysqlInstance",
            "instance": {"id": "i1", "name": "db"},
            "entities": {
                "instance": {
                    "endpoint": "192.168.0.5:3306",
                    "type": "Ha",
                    "datastore": {"type": "MySQL", "version": "8.0"}
                },
                "resource_ids": ["i1.vm", "i1.volume"],
                "switch_strategy": "reliability"
            }
        })));
        let entities = obs.detail.huawei.unwrap().entities.unwrap();
        assert_eq!(
            entities,
            HuaweiEntities {
                instance: Some(HuaweiInstanceEntity {
                    endpoint: Some("192.168.0.5:3306".into()),
                    instance_type: Some("Ha".into()),
                    datastore_type: Some("MySQL".into()),
                    datastore_version: Some("8.0".into()),
                }),
                resource_ids: vec!["i1.vm".into(), "i1.volume".into()],
                public_ip: None,
            }
        );
        assert_eq!(obs.instance_ids, vec!["i1"]);
        let eip = map_job(&job(
            json!({"name": "BindEIP", "entities": {"public_ip": "10.1.2.3"}}),
        ));
        assert_eq!(eip.job_type.as_deref(), Some("network"));
        let detail = eip.detail.huawei.unwrap();
        assert_eq!(detail.instance, None);
        assert_eq!(
            detail.entities.unwrap().public_ip.as_deref(),
            Some("10.1.2.3")
        );
        let none = map_job(&job(json!({"entities": {}, "instance": {}})));
        assert_eq!(none.detail.huawei, None);
        assert!(none.instance_ids.is_empty());
    }

    #[test]
    fn names_are_trimmed_and_normalized() {
        let cases = [
            (" RestartGaussDBInstance", "restart"),
            ("RebootInstance", "restart"),
            ("UpgradeDatabaseVersion", "upgrade"),
            ("ResizeFlavor", "upgrade"),
            ("EnlargeVolume", "upgrade"),
            ("ScaleOutReadReplica", "upgrade"),
            ("ModifySpec", "upgrade"),
            ("RestoreToNewInstance", "restore"),
            ("PointInTimeRecovery", "restore"),
            ("CreateManualBackup", "backup"),
            ("CreateMysqlInstance", "create"),
            ("DeleteInstance", "delete"),
            ("ApplyParameterGroup", "parameter"),
            ("ModifyConfiguration", "parameter"),
            ("BindEIP", "network"),
            ("UnbindPublicIp", "network"),
            ("Unbind EIP", "network"),
            ("restart_instance", "restart"),
            ("SwitchoverMasterSlave", "other"),
            ("", "other"),
        ];
        for (name, want) in cases {
            assert_eq!(normalize_job_type(name), want, "{name:?}");
        }
        let obs = map_job(&job(json!({"name": "  Unbind EIP  "})));
        assert_eq!(obs.provider_job_type.as_deref(), Some("Unbind EIP"));
        assert_eq!(obs.job_type.as_deref(), Some("network"));
        let unnamed = map_job(&job(json!({"name": "   "})));
        assert_eq!(unnamed.provider_job_type, None);
        assert_eq!(unnamed.job_type, None);
    }

    #[test]
    fn absent_job_is_pending_and_garbage_is_transient() {
        let obs = observation_from_body(br#"{"job": null}"#, "j1").unwrap();
        assert_eq!(obs.phase, Some(JobPhase::Pending));
        assert_eq!(obs.reason.as_deref(), Some("NotFoundYet"));
        assert!(obs.message.unwrap().contains("j1"));
        for body in [
            &b"{\"job\": {\"id\": \"x\""[..],
            b"<html>gateway</html>",
            b"",
        ] {
            let err = observation_from_body(body, "j1").unwrap_err();
            assert_eq!(err.class, crate::ErrorClass::Transient);
            assert_eq!(err.code, "MalformedResponse");
        }
    }
}
