//! Cloud SQL Admin API v1 `sql#operation` and Google's JSON error bodies, as documented.
//! Times are RFC 3339 UTC with milliseconds; a pending operation has no `startTime`, a
//! running one no `endTime`; a failed one is `DONE` with `error.errors[]`.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::RenderJob;
use crate::auth::DEFAULT_GCP_CLIENT_EMAIL;
use crate::scenario::{Phase, TaskKind};

/// `status` for a simulated phase.
pub fn status(phase: Phase) -> &'static str {
    match phase {
        Phase::Initial | Phase::Waiting | Phase::Paused => "PENDING",
        Phase::Running => "RUNNING",
        Phase::Succeed | Phase::Failed | Phase::Killed | Phase::Removed => "DONE",
    }
}

/// A plausible `operationType` for a kind of work (the job's `name` overrides it).
pub fn operation_type(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Import => "IMPORT",
        TaskKind::Reboot => "RESTART",
        TaskKind::Init => "CREATE",
        TaskKind::Rollback | TaskKind::BatchRollback => "RESTORE_VOLUME",
        TaskKind::UpgradeMaster | TaskKind::UpgradeRo => "MAJOR_VERSION_UPGRADE",
        TaskKind::SwitchDr => "FAILOVER",
        TaskKind::Param | TaskKind::Sql | TaskKind::Gtid | TaskKind::DropTables => "UPDATE",
    }
}

/// RFC 3339 with milliseconds and `Z`, as the API sends.
pub fn time(t: Timestamp) -> String {
    format!("{t:.3}")
}

/// The operation as `operations.get` returns it, for a server reached at `base`
/// (`http://host:port`) and project `project`.
pub fn operation(j: &RenderJob<'_>, project: &str, base: &str) -> Value {
    let phase = j.state.phase;
    let instance = j.instance_id();
    let mut op = json!({
        "kind": "sql#operation",
        "targetLink": format!("{base}/v1/projects/{project}/instances/{instance}"),
        "status": status(phase),
        "user": j.job.detail.user.as_deref().unwrap_or(DEFAULT_GCP_CLIENT_EMAIL),
        "insertTime": time(j.start),
        "operationType": j.job.name.clone().unwrap_or_else(|| operation_type(j.job.kind).to_string()),
        "name": j.job.job_id,
        "targetId": instance,
        "selfLink": format!("{base}/v1/projects/{project}/operations/{}", j.job.job_id),
        "targetProject": project,
    });
    if !matches!(phase, Phase::Initial | Phase::Waiting | Phase::Paused) {
        op["startTime"] = json!(time(j.start));
    }
    if let Some(end) = j.end {
        op["endTime"] = json!(time(end));
    }
    let error = match phase {
        Phase::Failed => Some((
            j.job.detail.error_code.as_deref().unwrap_or("UNKNOWN"),
            j.state.message.as_str(),
        )),
        Phase::Killed | Phase::Removed => {
            Some(("OPERATION_CANCELLED", "The operation was cancelled."))
        }
        _ => None,
    };
    if let Some((code, message)) = error {
        let mut item = json!({"kind": "sql#operationError", "code": code});
        if !message.is_empty() {
            item["message"] = json!(message);
        }
        op["error"] = json!({"kind": "sql#operationErrors", "errors": [item]});
    }
    op
}

/// Google's error body: `{"error": {"code", "message", "errors": [{"message", "domain",
/// "reason"}], "status"}}`.
pub fn error(code: u16, status: &str, reason: &str, message: &str) -> Value {
    json!({
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status,
        }
    })
}

/// The token endpoint's answer.
pub fn token(access_token: &str, expires_in: u64) -> Value {
    json!({"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer"})
}

/// The token endpoint's refusal.
pub fn token_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::JobSpec;
    use crate::timeline::JobState;
    use clouddb_providers::gcp::mapping::{map_operation, normalize_job_type};

    fn job(yaml: &str) -> JobSpec {
        serde_norway::from_str(yaml).unwrap()
    }

    fn state(phase: Phase, message: &str) -> JobState {
        JobState {
            phase,
            progress: 0,
            message: message.into(),
            code: 0,
            started: Default::default(),
            ended: None,
        }
    }

    #[test]
    fn every_phase_maps_back_through_the_client() {
        let spec = job("{provider: gcp, jobId: op-1, instanceId: orders-db, type: import, detail: {errorCode: ERROR_RDBMS}, timeline: [{after: 0s, status: RUNNING}]}");
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        for (phase, expected) in [
            (Phase::Initial, clouddb_api::JobPhase::Pending),
            (Phase::Running, clouddb_api::JobPhase::Running),
            (Phase::Succeed, clouddb_api::JobPhase::Succeeded),
            (Phase::Failed, clouddb_api::JobPhase::Failed),
            (Phase::Killed, clouddb_api::JobPhase::Failed),
        ] {
            let st = state(phase, "disk full");
            let end = phase.is_terminal().then_some(start);
            let rj = RenderJob {
                job: &spec,
                state: &st,
                start,
                end,
            };
            let body = operation(&rj, "p", "http://127.0.0.1:1");
            let op = serde_json::from_value(body.clone()).unwrap();
            let obs = map_operation(&op);
            assert_eq!(obs.phase, Some(expected), "{body}");
            assert_eq!(obs.instance_ids, vec!["orders-db"]);
            if phase == Phase::Failed {
                assert_eq!(obs.message.as_deref(), Some("ERROR_RDBMS: disk full"));
            }
            assert_eq!(body.get("startTime").is_some(), phase != Phase::Initial);
        }
        assert_eq!(
            normalize_job_type(operation_type(TaskKind::Import)),
            "import"
        );
        assert_eq!(time(start), "2027-01-15T08:00:00.000Z");
    }
}
