//! One test per rule; each fails when its rule is broken.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use kube::ResourceExt;
use serde_json::json;

use super::*;
use crate::api::{
    CloudDbInstance, CloudDbInstanceStatus, CloudDbJob, DiscoveredJobId, JobPhase, ProviderApi,
    INSTANCE_LABEL,
};
use crate::controller::status::tests::stored;
use crate::providers::discovery::{DiscoveredJob, Discovery, UpcomingMaintenance};
use crate::providers::{ErrorReason, JobObservation, ProviderError};

const UID: &str = "0b8f6c1e-inst";

fn now() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

fn hours_ago(h: i64) -> Timestamp {
    now() - jiff::SignedDuration::from_hours(h)
}

fn instance(extra: serde_json::Value) -> CloudDbInstance {
    let mut spec = json!({"provider": "tencent", "instanceId": "cdb-c1nl9rpv", "region": "ap-guangzhou",
        "credentialsSecretRef": {"name": "creds"}});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbInstance",
        "metadata": {"name": "orders", "namespace": "db", "uid": UID, "generation": 3},
        "spec": spec
    }))
    .unwrap()
}

fn listed(id: &str, phase: JobPhase, job_type: &str, started: Timestamp) -> DiscoveredJob {
    DiscoveredJob {
        job_id: id.to_string(),
        api: ProviderApi::DescribeTasks,
        observation: JobObservation {
            phase: Some(phase),
            job_type: Some(job_type.to_string()),
            progress: Some(40),
            start_time: Some(started),
            ..JobObservation::default()
        },
    }
}

fn discovery(jobs: Vec<DiscoveredJob>) -> Discovery {
    Discovery {
        jobs,
        ..Discovery::default()
    }
}

/// The CloudDbJob a previous round created for `id` (owned by the instance).
fn owned_job(inst: &CloudDbInstance, id: &str) -> CloudDbJob {
    let d = discovery(vec![listed(id, JobPhase::Running, "upgrade", hours_ago(1))]);
    let mut fresh = inst.clone();
    fresh.status = None;
    decide(&fresh, Outcome::Listed(&d), &[], now())
        .create
        .remove(0)
}

fn condition<'a>(status: &'a CloudDbInstanceStatus, type_: &str) -> (&'a str, &'a str) {
    let c = status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} condition: {:?}", status.conditions));
    (c.status.as_str(), c.reason.as_str())
}

#[test]
fn creates_one_job_per_listed_job_with_the_instance_fields() {
    let inst = instance(
        json!({"jobTemplate": {"labels": {"team": "db"}, "annotations": {"a": "b"},
        "pollInterval": "5s", "ttlSecondsAfterFinished": 600, "suspend": true}}),
    );
    let d = discovery(vec![
        listed("1001", JobPhase::Running, "upgrade", hours_ago(1)),
        listed("1002", JobPhase::Succeeded, "backup", hours_ago(2)),
    ]);
    let decision = decide(&inst, Outcome::Listed(&d), &[], now());
    assert_eq!(decision.create.len(), 2);
    let job = &decision.create[0];
    assert_eq!(job.name_any(), job_name("orders", "1001"));
    assert_eq!(job.namespace().as_deref(), Some("db"));
    assert_eq!(
        job.labels().get(INSTANCE_LABEL).map(String::as_str),
        Some("orders")
    );
    assert_eq!(job.labels().get("team").map(String::as_str), Some("db"));
    assert_eq!(job.annotations().get("a").map(String::as_str), Some("b"));
    let owner: &OwnerReference = &job.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("CloudDbInstance", UID, Some(true))
    );
    let spec = &job.spec;
    assert_eq!(spec.job_id, "1001");
    assert_eq!(spec.api.as_deref(), Some("DescribeTasks"));
    assert_eq!(spec.instance_id.as_deref(), Some("cdb-c1nl9rpv"));
    assert_eq!(spec.region.as_deref(), Some("ap-guangzhou"));
    assert_eq!(
        spec.credentials_secret_ref
            .as_ref()
            .map(|c| c.name.as_str()),
        Some("creds")
    );
    assert_eq!(spec.poll_interval.as_deref(), Some("5s"));
    assert_eq!(spec.ttl_seconds_after_finished, Some(600));
    assert_eq!(spec.suspend, Some(true));
    let ids: Vec<&str> = decision
        .status
        .discovered_job_ids
        .iter()
        .map(|d| d.job_id.as_str())
        .collect();
    assert_eq!(ids, ["1002", "1001"], "bookkept, oldest first");
}

#[test]
fn the_api_comes_from_the_discovered_job() {
    let inst =
        instance(json!({"provider": "aws", "region": "us-east-1", "instanceId": "orders-db"}));
    let mut job = listed("rds:orders-2026", JobPhase::Running, "backup", hours_ago(1));
    job.api = ProviderApi::DbSnapshot;
    let mut export = listed("orders-export", JobPhase::Running, "export", hours_ago(1));
    export.api = ProviderApi::ExportTask;
    let d = discovery(vec![job, export]);
    let created = decide(&inst, Outcome::Listed(&d), &[], now()).create;
    let apis: Vec<_> = created
        .iter()
        .map(|j| j.spec.api.clone().unwrap_or_default())
        .collect();
    assert_eq!(apis, ["db-snapshot", "export-task"]);
}

#[test]
fn never_creates_a_job_that_already_exists() {
    let inst = instance(json!({}));
    let existing = owned_job(&inst, "1001");
    let d = discovery(vec![listed(
        "1001",
        JobPhase::Running,
        "upgrade",
        hours_ago(1),
    )]);
    let decision = decide(&inst, Outcome::Listed(&d), &[existing], now());
    assert!(decision.create.is_empty(), "{:?}", decision.create);
    assert_eq!(
        decision.status.discovered_job_ids.len(),
        1,
        "an existing own job is recorded"
    );
    assert_eq!(
        decision.status.active_jobs[0].name.as_deref(),
        Some(job_name("orders", "1001").as_str())
    );
}

#[test]
fn never_recreates_a_deleted_job() {
    let mut inst = instance(json!({}));
    inst.status = Some(CloudDbInstanceStatus {
        discovered_job_ids: vec![DiscoveredJobId {
            job_id: "1001".into(),
            since: Time(hours_ago(1)),
        }],
        ..CloudDbInstanceStatus::default()
    });
    let d = discovery(vec![listed(
        "1001",
        JobPhase::Running,
        "upgrade",
        hours_ago(1),
    )]);
    let decision = decide(&inst, Outcome::Listed(&d), &[], now());
    assert!(decision.create.is_empty(), "re-created a deleted job");
    assert_eq!(
        decision.status.active_jobs[0].name, None,
        "no CloudDbJob tracks it now"
    );
    assert_eq!(
        condition(&decision.status, "Idle").0,
        "False",
        "still running at the provider"
    );
}

#[test]
fn never_touches_or_shadows_a_job_it_did_not_create() {
    let inst = instance(json!({}));
    let mut foreign = owned_job(&inst, "1001");
    foreign.metadata.owner_references = None;
    let d = discovery(vec![listed(
        "1001",
        JobPhase::Running,
        "upgrade",
        hours_ago(1),
    )]);
    let decision = decide(&inst, Outcome::Listed(&d), &[foreign], now());
    assert!(
        decision.create.is_empty(),
        "would conflict with someone else's job"
    );
    assert!(
        decision.status.discovered_job_ids.is_empty(),
        "not recorded as its own"
    );
    assert_eq!(decision.status.active_jobs[0].name, None);
}

#[test]
fn prunes_ids_older_than_the_window_unless_still_listed() {
    let mut inst = instance(json!({"discover": {"window": "24h"}}));
    inst.status = Some(CloudDbInstanceStatus {
        discovered_job_ids: vec![
            DiscoveredJobId {
                job_id: "old".into(),
                since: Time(hours_ago(30)),
            },
            DiscoveredJobId {
                job_id: "old-listed".into(),
                since: Time(hours_ago(30)),
            },
            DiscoveredJobId {
                job_id: "recent".into(),
                since: Time(hours_ago(2)),
            },
        ],
        ..CloudDbInstanceStatus::default()
    });
    let d = discovery(vec![listed(
        "old-listed",
        JobPhase::Succeeded,
        "backup",
        hours_ago(30),
    )]);
    let decision = decide(&inst, Outcome::Listed(&d), &[], now());
    let ids: Vec<&str> = decision
        .status
        .discovered_job_ids
        .iter()
        .map(|d| d.job_id.as_str())
        .collect();
    assert_eq!(ids, ["old-listed", "recent"]);
    assert!(decision.create.is_empty());
}

#[test]
fn types_filter_what_is_created_and_what_counts_for_idle() {
    let inst = instance(json!({"discover": {"types": ["upgrade"]}}));
    let d = discovery(vec![
        listed("1", JobPhase::Running, "backup", hours_ago(1)),
        listed("2", JobPhase::Succeeded, "upgrade", hours_ago(1)),
    ]);
    let decision = decide(&inst, Outcome::Listed(&d), &[], now());
    let ids: Vec<&str> = decision
        .create
        .iter()
        .map(|j| j.spec.job_id.as_str())
        .collect();
    assert_eq!(ids, ["2"]);
    assert_eq!(
        condition(&decision.status, "Idle"),
        ("True", "NoActiveJobs")
    );
}

#[test]
fn record_finished_false_skips_jobs_already_finished() {
    let inst = instance(json!({"discover": {"recordFinished": false}}));
    let d = discovery(vec![
        listed("1", JobPhase::Succeeded, "backup", hours_ago(1)),
        listed("2", JobPhase::Pending, "upgrade", hours_ago(1)),
    ]);
    let decision = decide(&inst, Outcome::Listed(&d), &[], now());
    let ids: Vec<&str> = decision
        .create
        .iter()
        .map(|j| j.spec.job_id.as_str())
        .collect();
    assert_eq!(ids, ["2"]);
    let ids: Vec<&str> = decision
        .status
        .discovered_job_ids
        .iter()
        .map(|d| d.job_id.as_str())
        .collect();
    assert_eq!(ids, ["2"], "a skipped job is not bookkept");
}

#[test]
fn ids_no_cloud_db_job_can_carry_are_reported_not_created() {
    let inst = instance(json!({}));
    let d = discovery(vec![listed(
        "-bad id",
        JobPhase::Running,
        "upgrade",
        hours_ago(1),
    )]);
    let decision = decide(&inst, Outcome::Listed(&d), &[], now());
    assert!(decision.create.is_empty());
    assert_eq!(decision.unusable_ids, ["-bad id"]);
}

#[test]
fn idle_follows_pending_and_running_jobs() {
    let inst = instance(json!({}));
    let busy = discovery(vec![
        listed("1", JobPhase::Pending, "upgrade", hours_ago(1)),
        listed("2", JobPhase::Succeeded, "backup", hours_ago(1)),
    ]);
    let decision = decide(&inst, Outcome::Listed(&busy), &[], now());
    assert_eq!(condition(&decision.status, "Idle"), ("False", "JobsActive"));
    assert_eq!(condition(&decision.status, "Ready"), ("True", "Discovered"));
    // kstatus reads Reconciling, Stalled and Ready, not Idle: busy must be in progress.
    assert_eq!(
        condition(&decision.status, "Reconciling"),
        ("True", "JobsActive")
    );
    assert_eq!(decision.status.active_job_count, Some(1));
    let active = &decision.status.active_jobs[0];
    assert_eq!(
        (active.job_id.as_str(), active.phase, active.progress),
        ("1", JobPhase::Pending, Some(40))
    );
    assert_eq!(active.job_type.as_deref(), Some("upgrade"));

    let mut after = inst.clone();
    after.status = Some(decision.status);
    let quiet = discovery(vec![
        listed("1", JobPhase::Succeeded, "upgrade", hours_ago(1)),
        listed("2", JobPhase::Succeeded, "backup", hours_ago(1)),
    ]);
    let decision = decide(&after, Outcome::Listed(&quiet), &[], now());
    assert_eq!(
        condition(&decision.status, "Idle"),
        ("True", "NoActiveJobs")
    );
    assert_eq!(
        condition(&decision.status, "Reconciling"),
        ("False", "Discovered")
    );
    assert!(decision.status.active_jobs.is_empty());
}

#[test]
fn nothing_changed_means_the_same_status() {
    let inst = instance(json!({}));
    let d = discovery(vec![listed(
        "1",
        JobPhase::Running,
        "upgrade",
        hours_ago(1),
    )]);
    let first = decide(&inst, Outcome::Listed(&d), &[], now());
    assert!(first.status_changed(&inst));
    let mut after = inst.clone();
    after.status = Some(first.status.clone());
    let created = first.create[0].clone();
    let later = now() + jiff::SignedDuration::from_secs(60);
    let second = decide(&after, Outcome::Listed(&d), &[created], later);
    assert!(!second.status_changed(&after), "{:#?}", second.status);
}

#[test]
fn sub_second_maintenance_times_cause_no_write_once_stored() {
    let inst = instance(json!({}));
    let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
    let d = Discovery {
        jobs: vec![],
        upcoming: vec![UpcomingMaintenance {
            action: "system-update".into(),
            description: None,
            not_before: at("2026-03-02T03:00:00.250Z"),
            forced_after: at("2026-03-09T03:00:00.123456789Z"),
        }],
        clamped: None,
    };
    let first = decide(&inst, Outcome::Listed(&d), &[], now());
    let mut after = inst.clone();
    after.status = Some(stored(&first.status));
    let later = now() + jiff::SignedDuration::from_secs(60);
    let second = decide(&after, Outcome::Listed(&d), &[], later);
    assert!(!second.status_changed(&after), "{:#?}", second.status);
    assert_eq!(
        second.status.last_discovery_time,
        first.status.last_discovery_time.as_ref().map(stored),
        "nothing changed: the discovery time is not refreshed either"
    );
}

#[test]
fn upcoming_maintenance_and_clamped_window_are_shown() {
    let inst = instance(json!({"discover": {"window": "2000h"}}));
    let d = Discovery {
        jobs: vec![],
        upcoming: vec![UpcomingMaintenance {
            action: "system-update".into(),
            description: Some("OS patch".into()),
            not_before: Some(hours_ago(-24)),
            forced_after: None,
        }],
        clamped: Some("the provider keeps 30 days of tasks".into()),
    };
    let status = decide(&inst, Outcome::Listed(&d), &[], now()).status;
    assert_eq!(status.upcoming_maintenance[0].action, "system-update");
    assert_eq!(
        status.upcoming_maintenance[0].not_before,
        Some(Time(hours_ago(-24)))
    );
    assert_eq!(
        status.window_clamped.as_deref(),
        Some("the provider keeps 30 days of tasks")
    );
}

#[test]
fn a_transient_error_keeps_ready_and_idle_and_creates_nothing() {
    let inst = instance(json!({}));
    let d = discovery(vec![listed(
        "1",
        JobPhase::Running,
        "upgrade",
        hours_ago(1),
    )]);
    let mut after = inst.clone();
    after.status = Some(decide(&inst, Outcome::Listed(&d), &[], now()).status);
    let err = ProviderError::transient("InternalError", "try again");
    let decision = decide(&after, Outcome::Failed(&err), &[], now());
    assert!(decision.create.is_empty());
    let s = &decision.status;
    assert_eq!(condition(s, "Ready"), ("True", "Discovered"));
    assert_eq!(condition(s, "Idle").0, "False");
    assert_eq!(condition(s, "Reconciling"), ("True", "ProviderError"));
    assert_eq!(condition(s, "Stalled").0, "False");
    assert_eq!(s.consecutive_errors, Some(1));
    assert_eq!(s.active_jobs.len(), 1, "what was known stays");
}

#[test]
fn an_unknown_instance_stalls_with_the_providers_message() {
    let inst = instance(json!({}));
    let err = ProviderError::permanent(
        ErrorReason::JobNotFound,
        "InvalidParameter.InstanceNotFound",
        "instance cdb-c1nl9rpv not found",
    );
    let s = decide(&inst, Outcome::Failed(&err), &[], now()).status;
    assert_eq!(condition(&s, "Stalled"), ("True", "InstanceNotFound"));
    assert_eq!(condition(&s, "Ready"), ("False", "InstanceNotFound"));
    assert_eq!(
        condition(&s, "Idle").0,
        "Unknown",
        "nothing is known, so not Idle"
    );
    let stalled = s.conditions.iter().find(|c| c.type_ == "Stalled").unwrap();
    assert_eq!(stalled.message, "instance cdb-c1nl9rpv not found");
    assert_eq!(s.observed_generation, Some(3));

    let denied = ProviderError::permanent(ErrorReason::AccessDenied, "AuthFailure", "no");
    let s = decide(&inst, Outcome::Failed(&denied), &[], now()).status;
    assert_eq!(condition(&s, "Stalled"), ("True", "AccessDenied"));
}

#[test]
fn names_are_deterministic_dns_labels_distinct_per_id() {
    let a = job_name("orders", "1001");
    assert_eq!(a, job_name("orders", "1001"));
    assert!(a.starts_with("orders-1001-"), "{a}");
    assert_ne!(job_name("orders", "t-ABC"), job_name("orders", "t-abc"));
    let long_id = "projects/p/operations/".to_string() + &"x".repeat(200);
    let long = job_name(&"i".repeat(250), &long_id);
    assert!(long.len() <= 63, "{long}");
    for name in [
        a.as_str(),
        long.as_str(),
        &job_name("Orders.DB", "::weird::"),
    ] {
        assert!(name.len() <= 63);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}"
        );
        assert!(!name.starts_with('-') && !name.ends_with('-'), "{name}");
    }
    assert_ne!(
        job_name(&"i".repeat(250), &(long_id.clone() + "1")),
        job_name(&"i".repeat(250), &(long_id + "2")),
        "cut names differ by their hash"
    );
    assert_eq!(instance_label_value("orders"), "orders");
    assert!(instance_label_value(&"n".repeat(100)).len() <= 63);
}
