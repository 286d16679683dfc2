//! The built-in AWS jobs, rendered at every step of their timelines, read back by the
//! client's decoder: the phases, progress and details it sees are the scenario's.

use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::scenario::{JobSpec, Scenario};
use crate::timeline::state_at;
use clouddb_api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_providers::aws::mapping::observation_from_body;

fn aws_jobs() -> Vec<JobSpec> {
    Scenario::builtins()
        .unwrap()
        .iter()
        .flat_map(|s| s.resolved_jobs())
        .filter(|j| j.provider == ProviderKind::Aws)
        .collect()
}

fn action(api: &str) -> &'static str {
    match api {
        "db-snapshot" => "DescribeDBSnapshots",
        "cluster-snapshot" => "DescribeDBClusterSnapshots",
        "blue-green" | "blue-green-switchover" => "DescribeBlueGreenDeployments",
        _ => "DescribeExportTasks",
    }
}

/// The response body for `job` `at` into its timeline.
fn body(job: &JobSpec, at: Duration) -> Option<String> {
    let state = state_at(&job.timeline, at)?;
    let start = Timestamp::from_second(1_764_400_000).unwrap();
    let end = state.ended.map(|e| {
        start
            .checked_add(jiff::SignedDuration::try_from(e).unwrap())
            .unwrap()
    });
    let rj = RenderJob {
        job,
        state: &state,
        start,
        end,
    };
    let item = match job.api() {
        "db-snapshot" => snapshot(&rj, false),
        "cluster-snapshot" => snapshot(&rj, true),
        "blue-green" | "blue-green-switchover" => blue_green(&rj),
        _ => export_task(&rj),
    };
    let action = action(job.api());
    Some(response(action, &list(action, &[item]), "req-1"))
}

/// The phase the client must see for a scenario phase on `api`.
fn expected(api: &str, phase: Phase) -> JobPhase {
    match (api, phase) {
        ("export-task", Phase::Initial | Phase::Waiting) => JobPhase::Pending,
        ("blue-green-switchover", Phase::Initial | Phase::Waiting) => JobPhase::Pending,
        (_, Phase::Succeed) => JobPhase::Succeeded,
        (_, Phase::Failed | Phase::Killed | Phase::Removed) => JobPhase::Failed,
        _ => JobPhase::Running,
    }
}

#[test]
fn every_api_has_a_quick_successful_first_job() {
    for api in ProviderKind::Aws.apis() {
        let first = aws_jobs()
            .into_iter()
            .find(|j| j.api() == api)
            .unwrap_or_else(|| panic!("no built-in {api} job"));
        let last = first.timeline.last().unwrap();
        assert_eq!(last.status, Phase::Succeed, "{api}");
        assert!(
            (30..=90).contains(&last.after.as_secs()),
            "{api}: {:?}",
            last.after
        );
    }
    assert!(aws_jobs()
        .iter()
        .any(|j| j.timeline.iter().any(|s| s.status == Phase::Failed)));
}

#[test]
fn the_client_reads_every_step_of_every_built_in_job() {
    for job in aws_jobs() {
        let api = ProviderApi::parse(ProviderKind::Aws, job.api()).unwrap();
        for step in &job.timeline {
            let at = step.after + Duration::from_millis(1);
            let xml = body(&job, at).unwrap();
            let o = observation_from_body(api, xml.as_bytes(), &job.job_id)
                .unwrap_or_else(|e| panic!("{}: {e}\n{xml}", job.job_id));
            let state = state_at(&job.timeline, at).unwrap();
            assert_eq!(
                o.phase,
                Some(expected(job.api(), state.phase)),
                "{} at {at:?}:\n{xml}",
                job.job_id
            );
            assert_ne!(o.reason.as_deref(), Some("UnknownStatus"), "{}", job.job_id);
            if o.phase == Some(JobPhase::Running) && job.api() != "blue-green-switchover" {
                // Tasks move in quarters; the others report the step's progress.
                let want = if job.api() == "blue-green" {
                    state.progress / 25 * 25
                } else {
                    state.progress
                };
                assert_eq!(o.progress, Some(want), "{} at {at:?}", job.job_id);
            }
            if o.phase == Some(JobPhase::Failed) {
                assert!(
                    o.message.as_deref().is_some_and(|m| m == state.message),
                    "{}: {:?}",
                    job.job_id,
                    o.message
                );
            }
        }
    }
}

#[test]
fn a_switchover_passes_through_available_and_renames_on_completion() {
    let job = aws_jobs()
        .into_iter()
        .find(|j| j.api() == "blue-green-switchover")
        .unwrap();
    let first = body(&job, Duration::ZERO).unwrap();
    assert!(first.contains("<Status>AVAILABLE</Status>"), "{first}");
    let mid = body(&job, Duration::from_secs(26)).unwrap();
    assert!(
        mid.contains("<Status>SWITCHOVER_IN_PROGRESS</Status>"),
        "{mid}"
    );
    assert!(
        mid.contains("<Status>SWITCHOVER_COMPLETED</Status>"),
        "one member done: {mid}"
    );
    let o = observation_from_body(
        ProviderApi::BlueGreenSwitchover,
        mid.as_bytes(),
        &job.job_id,
    )
    .unwrap();
    assert_eq!(o.progress, Some(50));
    let done = body(&job, Duration::from_secs(3600)).unwrap();
    assert!(done.contains(":db:orders-db-old1</Source>"), "{done}");
    assert!(done.contains(":db:orders-db</Target>"), "{done}");
}

#[test]
fn documented_element_names() {
    let job = aws_jobs()
        .into_iter()
        .find(|j| j.api() == "export-task")
        .unwrap();
    let xml = body(&job, Duration::from_secs(3600)).unwrap();
    for part in [
        "<DescribeExportTasksResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">",
        "<DescribeExportTasksResult>",
        "<ExportTasks><ExportTask><ExportTaskIdentifier>orders-export-2026-11-29</ExportTaskIdentifier>",
        "<Status>COMPLETE</Status><PercentProgress>100</PercentProgress>",
        "<ResponseMetadata>",
        "<RequestId>req-1</RequestId>",
    ] {
        assert!(xml.contains(part), "{part} in {xml}");
    }
    assert_eq!(
        list("DescribeBlueGreenDeployments", &[]),
        "<BlueGreenDeployments/>"
    );
}
