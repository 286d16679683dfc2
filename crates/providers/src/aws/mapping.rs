//! Pure mapping from RDS describe responses to the common [`JobObservation`].
//!
//! No I/O and no clock: the client hands in the decoded response, tests hand in fixtures.
//! Every status is matched case-insensitively; a status this operator does not know maps
//! to `UnknownStatus` and never to a terminal phase.

use clouddb_api::{AwsDetail, AwsTask, JobPhase, ProviderApi};

use crate::decode::{parse_offset_time, parse_progress};
use crate::{JobDetail, JobObservation, ProviderError};

use super::model::{
    from_xml, text, BlueGreenDeployment, BlueGreenResponse, ClusterSnapshotsResponse,
    DbSnapshotsResponse, ExportTask, ExportTasksResponse, Snapshot,
};

/// The reason of a status this operator does not know.
pub const UNKNOWN_STATUS: &str = "UnknownStatus";

/// Decodes a successful (2xx) response body of `api` and finds the job `job_id` in it. A
/// list without the job means RDS does not know it (yet): `Pending` / `NotFoundYet`. A body
/// that is not the expected XML (truncated, an HTML page from a proxy) is a transient error.
pub fn observation_from_body(
    api: ProviderApi,
    body: &[u8],
    job_id: &str,
) -> Result<JobObservation, ProviderError> {
    let malformed = |e: String| {
        ProviderError::transient(
            "MalformedResponse",
            format!("AWS RDS returned a response that is not the expected XML: {e}"),
        )
    };
    let same = |id: Option<&str>| id.is_some_and(|id| id.trim().eq_ignore_ascii_case(job_id));
    let found = match api {
        ProviderApi::DbSnapshot => {
            let r: DbSnapshotsResponse = from_xml(body).map_err(malformed)?;
            let items = r.result.and_then(|r| r.list).map(|l| l.items);
            items
                .unwrap_or_default()
                .into_iter()
                .find(|s| same(s.identifier()))
                .map(|s| map_snapshot(api, &s))
        }
        ProviderApi::ClusterSnapshot => {
            let r: ClusterSnapshotsResponse = from_xml(body).map_err(malformed)?;
            let items = r.result.and_then(|r| r.list).map(|l| l.items);
            items
                .unwrap_or_default()
                .into_iter()
                .find(|s| same(s.identifier()))
                .map(|s| map_snapshot(api, &s))
        }
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover => {
            let r: BlueGreenResponse = from_xml(body).map_err(malformed)?;
            let items = r.result.and_then(|r| r.list).map(|l| l.items);
            items
                .unwrap_or_default()
                .into_iter()
                .find(|d| same(d.blue_green_deployment_identifier.as_deref()))
                .map(|d| map_blue_green(api, &d))
        }
        // The export API is the provider's default; any other API never reaches here.
        _ => {
            let r: ExportTasksResponse = from_xml(body).map_err(malformed)?;
            let items = r.result.and_then(|r| r.list).map(|l| l.items);
            items
                .unwrap_or_default()
                .into_iter()
                .find(|t| same(t.export_task_identifier.as_deref()))
                .map(|t| map_export(&t))
        }
    };
    Ok(found.unwrap_or_else(|| not_found_yet(api, job_id)))
}

/// The observation for a job RDS does not list: an export or snapshot shows up only once
/// the call that starts it has been processed, so the provider reports `Pending` /
/// `NotFoundYet` and the controller, which knows the resource's age, decides when to stop
/// waiting.
pub fn not_found_yet(api: ProviderApi, job_id: &str) -> JobObservation {
    JobObservation::not_found_yet(format!(
        "{} {job_id} is not listed by AWS RDS yet",
        kind_name(api)
    ))
}

fn kind_name(api: ProviderApi) -> &'static str {
    match api {
        ProviderApi::DbSnapshot => "DB snapshot",
        ProviderApi::ClusterSnapshot => "DB cluster snapshot",
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover => "blue/green deployment",
        _ => "export task",
    }
}

/// Phase, reason and default message of one status.
type Mapped = (JobPhase, Option<&'static str>, Option<&'static str>);

/// An export task's status (`DescribeExportTasks`).
pub fn map_export_status(status: &str) -> Option<Mapped> {
    Some(match status.trim().to_ascii_uppercase().as_str() {
        "STARTING" => (JobPhase::Pending, None, None),
        "IN_PROGRESS" => (JobPhase::Running, None, None),
        // Still running until RDS has stopped it; the outcome is CANCELED.
        "CANCELING" => (
            JobPhase::Running,
            None,
            Some("the export task is being canceled"),
        ),
        "COMPLETE" => (JobPhase::Succeeded, None, None),
        "FAILED" => (JobPhase::Failed, Some("JobFailed"), None),
        "CANCELED" => (
            JobPhase::Failed,
            Some("Canceled"),
            Some("the export task was canceled"),
        ),
        _ => return None,
    })
}

/// Maps one export task.
pub fn map_export(task: &ExportTask) -> JobObservation {
    let status = text(&task.status).unwrap_or_default();
    let progress = text(&task.percent_progress).and_then(parse_progress);
    let failure = text(&task.failure_cause);
    let mut observation = observe(
        status,
        map_export_status(status),
        progress,
        failure,
        "export task",
    );
    observation.job_type = Some("export".into());
    observation.provider_job_type = Some("ExportTask".into());
    observation.start_time = text(&task.task_start_time).and_then(parse_offset_time);
    observation.end_time = text(&task.task_end_time).and_then(parse_offset_time);
    observation.detail = detail(AwsDetail {
        source_arn: text(&task.source_arn).map(String::from),
        s3_bucket: text(&task.s3_bucket).map(String::from),
        warning_message: text(&task.warning_message).map(String::from),
        ..Default::default()
    });
    observation
}

/// A DB snapshot's or DB cluster snapshot's status.
pub fn map_snapshot_status(status: &str) -> Option<Mapped> {
    let status = status.trim().to_ascii_lowercase();
    Some(match status.as_str() {
        "creating" => (JobPhase::Running, None, None),
        // A snapshot being copied is still being made.
        "copying" => (JobPhase::Running, None, None),
        // The other documented values (botocore's `DBSnapshot.Status`): a scheduled
        // cross-Region copy that has not started, and changes RDS makes to the snapshot
        // before it is usable (engine upgrade, RDS Custom sharing). Not done until
        // `available`.
        "pending" => (
            JobPhase::Pending,
            None,
            Some("the snapshot copy is scheduled and has not started"),
        ),
        "upgrading" => (
            JobPhase::Running,
            None,
            Some("RDS is upgrading the snapshot's engine version"),
        ),
        "sharing" => (
            JobPhase::Running,
            None,
            Some("RDS is changing the accounts the snapshot is shared with"),
        ),
        "available" => (JobPhase::Succeeded, None, None),
        "unavailable" => (
            JobPhase::Failed,
            Some("JobFailed"),
            Some("the snapshot is unavailable (for example corrupted) and cannot be recovered"),
        ),
        "failed" => (
            JobPhase::Failed,
            Some("JobFailed"),
            Some("the snapshot failed"),
        ),
        "deleting" => (
            JobPhase::Failed,
            Some("Deleted"),
            Some("the snapshot is being deleted"),
        ),
        "deleted" => (
            JobPhase::Failed,
            Some("Deleted"),
            Some("the snapshot was deleted"),
        ),
        s if s.starts_with("incompatible-") => (
            JobPhase::Failed,
            Some("Incompatible"),
            Some("the snapshot is incompatible and cannot be restored"),
        ),
        _ => return None,
    })
}

/// Maps one DB snapshot (`api` `db-snapshot`) or DB cluster snapshot (`cluster-snapshot`).
pub fn map_snapshot(api: ProviderApi, snapshot: &Snapshot) -> JobObservation {
    let status = text(&snapshot.status).unwrap_or_default();
    let progress = text(&snapshot.percent_progress).and_then(parse_progress);
    let mut observation = observe(
        status,
        map_snapshot_status(status),
        progress,
        None,
        "snapshot",
    );
    observation.job_type = Some("backup".into());
    observation.provider_job_type = Some(
        match api {
            ProviderApi::ClusterSnapshot => "DBClusterSnapshot",
            _ => "DBSnapshot",
        }
        .into(),
    );
    observation.start_time = text(&snapshot.snapshot_create_time).and_then(parse_offset_time);
    observation.instance_ids = snapshot
        .source()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .into_iter()
        .collect();
    observation.detail = detail(AwsDetail {
        snapshot_type: text(&snapshot.snapshot_type).map(String::from),
        engine: text(&snapshot.engine).map(String::from),
        ..Default::default()
    });
    observation
}

/// A blue/green deployment's status, for the `blue-green` API (done when the green
/// environment is ready: `AVAILABLE`) or the `blue-green-switchover` API (done when the
/// switchover completed).
pub fn map_blue_green_status(api: ProviderApi, status: &str) -> Option<Mapped> {
    let switchover = api == ProviderApi::BlueGreenSwitchover;
    Some(match status.trim().to_ascii_uppercase().as_str() {
        "PROVISIONING" if switchover => (
            JobPhase::Pending,
            None,
            Some("the switchover has not started: the green environment is being provisioned"),
        ),
        "AVAILABLE" if switchover => (
            JobPhase::Pending,
            None,
            Some("the switchover has not started: the green environment is ready to switch over"),
        ),
        "PROVISIONING" => (JobPhase::Running, None, None),
        "AVAILABLE" => (JobPhase::Succeeded, None, None),
        "SWITCHOVER_IN_PROGRESS" if switchover => (JobPhase::Running, None, None),
        // The green environment was ready before any switchover could start.
        "SWITCHOVER_IN_PROGRESS" | "SWITCHOVER_COMPLETED" if !switchover => {
            (JobPhase::Succeeded, None, None)
        }
        "SWITCHOVER_COMPLETED" => (JobPhase::Succeeded, None, None),
        "SWITCHOVER_FAILED" => (
            JobPhase::Failed,
            Some("JobFailed"),
            Some("the switchover failed"),
        ),
        "INVALID_CONFIGURATION" => (
            JobPhase::Failed,
            Some("JobFailed"),
            Some("the blue/green deployment has an invalid configuration"),
        ),
        "DELETING" => (
            JobPhase::Failed,
            Some("Deleted"),
            Some("the blue/green deployment is being deleted"),
        ),
        _ => return None,
    })
}

/// Progress of a blue/green deployment.
///
/// * `blue-green`: the completed share of `Tasks[]` (the steps that build the green
///   environment).
/// * `blue-green-switchover`: the share of `SwitchoverDetails[]` members that completed
///   their switchover. `Tasks[]` are all `COMPLETED` before a switchover may start, so they
///   say nothing about it; before the switchover starts there is no progress to report.
pub fn blue_green_progress(api: ProviderApi, deployment: &BlueGreenDeployment) -> Option<u8> {
    let statuses: Vec<Option<&str>> = match api {
        ProviderApi::BlueGreenSwitchover => deployment
            .switchover_details
            .iter()
            .flat_map(|l| &l.items)
            .map(|d| text(&d.status))
            .collect(),
        _ => deployment
            .tasks
            .iter()
            .flat_map(|l| &l.items)
            .map(|t| text(&t.status))
            .collect(),
    };
    let done = match api {
        ProviderApi::BlueGreenSwitchover => "SWITCHOVER_COMPLETED",
        _ => "COMPLETED",
    };
    share(&statuses, done)
}

/// Percentage (rounded down) of `statuses` equal to `done`; `None` for an empty list.
fn share(statuses: &[Option<&str>], done: &str) -> Option<u8> {
    if statuses.is_empty() {
        return None;
    }
    let completed = statuses
        .iter()
        .filter(|s| s.is_some_and(|s| s.eq_ignore_ascii_case(done)))
        .count();
    u8::try_from(completed * 100 / statuses.len()).ok()
}

/// Maps one blue/green deployment for the `blue-green` or `blue-green-switchover` API.
pub fn map_blue_green(api: ProviderApi, deployment: &BlueGreenDeployment) -> JobObservation {
    let status = text(&deployment.status).unwrap_or_default();
    let mapped = map_blue_green_status(api, status);
    let progress = match mapped {
        Some((JobPhase::Pending, _, _)) => None,
        _ => blue_green_progress(api, deployment),
    };
    let details = text(&deployment.status_details);
    let mut observation = observe(status, mapped, progress, details, "blue/green deployment");
    // A switchover that has not started says so, with RDS's own detail after it.
    if let (Some((JobPhase::Pending, _, Some(why))), Some(d)) = (mapped, details) {
        observation.message = Some(format!("{why} ({d})"));
    }
    let switchover = api == ProviderApi::BlueGreenSwitchover;
    observation.job_type = Some(
        if switchover {
            "switchover"
        } else {
            "blue-green"
        }
        .into(),
    );
    observation.provider_job_type = Some("BlueGreenDeployment".into());
    observation.start_time = text(&deployment.create_time).and_then(parse_offset_time);
    observation.end_time = text(&deployment.delete_time).and_then(parse_offset_time);
    observation.detail = detail(AwsDetail {
        source_arn: text(&deployment.source).map(String::from),
        target_arn: text(&deployment.target).map(String::from),
        tasks: deployment
            .tasks
            .iter()
            .flat_map(|l| &l.items)
            .filter_map(|t| {
                Some(AwsTask {
                    name: text(&t.name)?.to_string(),
                    status: text(&t.status).unwrap_or_default().to_string(),
                })
            })
            .collect(),
        ..Default::default()
    });
    observation
}

/// The parts every API shares: phase, reason, status, progress and message.
///
/// The provider's own text (`failure`: `FailureCause`, `StatusDetails`) wins over the
/// default message. A status this operator does not know is `Running` when there is
/// progress and `Pending` otherwise, with reason `UnknownStatus`.
fn observe(
    status: &str,
    mapped: Option<Mapped>,
    progress: Option<u8>,
    failure: Option<&str>,
    what: &str,
) -> JobObservation {
    let (phase, reason, message) = match mapped {
        Some((phase, reason, default)) => (
            phase,
            reason,
            failure.map(String::from).or(default.map(String::from)),
        ),
        None => {
            let phase = if progress.is_some_and(|p| p > 0) {
                JobPhase::Running
            } else {
                JobPhase::Pending
            };
            let why = if status.is_empty() {
                format!("AWS RDS reported no {what} status")
            } else {
                format!("unrecognized AWS RDS {what} status {status:?}")
            };
            let message = match failure {
                Some(m) => format!("{why}: {m}"),
                None => why,
            };
            (phase, Some(UNKNOWN_STATUS), Some(message))
        }
    };
    JobObservation {
        phase: Some(phase),
        reason: reason.map(String::from),
        provider_status: (!status.is_empty()).then(|| status.to_string()),
        progress: if phase == JobPhase::Succeeded {
            Some(100)
        } else {
            progress
        },
        message,
        ..Default::default()
    }
}

fn detail(aws: AwsDetail) -> JobDetail {
    JobDetail {
        aws: (aws != AwsDetail::default()).then_some(aws),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
