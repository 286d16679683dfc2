//! Which CloudDbJobs to create for what the provider listed.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::{Resource, ResourceExt};

use crate::api::{
    CloudDbInstance, CloudDbInstanceStatus, CloudDbJob, CloudDbJobSpec, DiscoveredJobId,
    INSTANCE_LABEL,
};
use crate::controller::status::same_when_written;
use crate::providers::discovery::{DiscoveredJob, Discovery};
use crate::providers::ProviderError;

use super::naming::{instance_label_value, job_name};
use super::status::{failed_status, listed_status, window_start};

/// What the provider answered this round.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    Listed(&'a Discovery),
    Failed(&'a ProviderError),
}

/// What to do for one instance this round.
#[derive(Clone, Debug)]
pub struct Decision {
    /// CloudDbJobs to create, in the provider's listing order.
    pub create: Vec<CloudDbJob>,
    /// The status to write (only when it differs from the current one).
    pub status: CloudDbInstanceStatus,
    /// Listed job IDs no CloudDbJob can carry (not a valid `spec.jobId`), for a log line.
    pub unusable_ids: Vec<String>,
}

impl Decision {
    /// Whether the status must be written.
    pub fn status_changed(&self, instance: &CloudDbInstance) -> bool {
        !instance
            .status
            .as_ref()
            .is_some_and(|s| same_when_written(s, &self.status))
    }
}

/// Decides one round. `existing` are the CloudDbJobs carrying the instance's label; only
/// those the instance owns (controller owner reference with its UID) count as its own.
pub fn decide(
    instance: &CloudDbInstance,
    outcome: Outcome<'_>,
    existing: &[CloudDbJob],
    now: Timestamp,
) -> Decision {
    let previous = instance.status.clone().unwrap_or_default();
    let discovery = match outcome {
        Outcome::Failed(error) => {
            return Decision {
                create: Vec::new(),
                status: failed_status(instance, &previous, error, now),
                unusable_ids: Vec::new(),
            }
        }
        Outcome::Listed(d) => d,
    };
    let uid = instance.meta().uid.clone().unwrap_or_default();
    let name = instance.name_any();
    // Names taken by any labelled job block a create (it would conflict); only owned
    // ones are recorded as this instance's.
    let taken: BTreeSet<String> = existing.iter().map(|j| j.name_any()).collect();
    let owned: BTreeSet<String> = existing
        .iter()
        .filter(|j| is_owned_by(j, &uid))
        .map(|j| j.name_any())
        .collect();
    let mut known: BTreeMap<String, Time> = previous
        .discovered_job_ids
        .iter()
        .map(|d| (d.job_id.clone(), d.since.clone()))
        .collect();

    let mut create = Vec::new();
    let mut unusable_ids = Vec::new();
    let mut tracked: BTreeSet<String> = BTreeSet::new();
    for job in selected(instance, discovery) {
        let job_name = job_name(&name, &job.job_id);
        let since = Time(job.observation.start_time.unwrap_or(now));
        if owned.contains(&job_name) {
            tracked.insert(job.job_id.clone());
            known.entry(job.job_id.clone()).or_insert(since);
            continue;
        }
        if known.contains_key(&job.job_id) || taken.contains(&job_name) {
            // Created before (and maybe deleted since), or the name is someone else's.
            continue;
        }
        let finished = job.observation.phase.is_some_and(|p| p.is_terminal());
        if finished && !instance.spec.discover.record_finished {
            continue;
        }
        if !valid_job_id(&job.job_id) {
            unusable_ids.push(job.job_id.clone());
            continue;
        }
        create.push(new_job(instance, &uid, &job_name, job));
        tracked.insert(job.job_id.clone());
        known.insert(job.job_id.clone(), since);
    }

    // Forget IDs the provider can no longer list (older than the window); an ID it still
    // lists stays, whatever its time says, so it is never created again.
    let listed: BTreeSet<&str> = discovery.jobs.iter().map(|j| j.job_id.as_str()).collect();
    if let Some(start) = window_start(instance, now) {
        known.retain(|id, since| since.0 >= start || listed.contains(id.as_str()));
    }
    let mut ids: Vec<DiscoveredJobId> = known
        .into_iter()
        .map(|(job_id, since)| DiscoveredJobId { job_id, since })
        .collect();
    ids.sort_by(|a, b| (a.since.0, &a.job_id).cmp(&(b.since.0, &b.job_id)));

    let status = listed_status(
        instance,
        &previous,
        discovery,
        selected(instance, discovery),
        &tracked,
        ids,
        now,
    );
    Decision {
        create,
        status,
        unusable_ids,
    }
}

/// The listed jobs of the types `discover.types` names (all when empty).
pub(super) fn selected<'a>(
    instance: &'a CloudDbInstance,
    discovery: &'a Discovery,
) -> impl Iterator<Item = &'a DiscoveredJob> + 'a {
    let types = &instance.spec.discover.types;
    discovery.jobs.iter().filter(move |j| {
        types.is_empty()
            || j.observation
                .job_type
                .as_ref()
                .is_some_and(|t| types.iter().any(|want| want == t))
    })
}

fn is_owned_by(job: &CloudDbJob, uid: &str) -> bool {
    !uid.is_empty()
        && job
            .owner_references()
            .iter()
            .any(|o| o.uid == uid && o.controller == Some(true))
}

/// A CloudDbJob's `spec.jobId` schema: 1-128 characters, `^[A-Za-z0-9][A-Za-z0-9._:-]*$`.
fn valid_job_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

fn new_job(instance: &CloudDbInstance, uid: &str, name: &str, job: &DiscoveredJob) -> CloudDbJob {
    let spec = &instance.spec;
    let template = spec.job_template.clone().unwrap_or_default();
    let mut labels = template.labels;
    labels.insert(
        INSTANCE_LABEL.to_string(),
        instance_label_value(&instance.name_any()),
    );
    let metadata = ObjectMeta {
        name: Some(name.to_string()),
        namespace: instance.namespace(),
        labels: Some(labels),
        annotations: (!template.annotations.is_empty()).then_some(template.annotations),
        owner_references: Some(vec![OwnerReference {
            api_version: "clouddb.io/v1alpha1".to_string(),
            kind: "CloudDbInstance".to_string(),
            name: instance.name_any(),
            uid: uid.to_string(),
            controller: Some(true),
            // Unset: blocking the owner's deletion would need `update` on its finalizers.
            block_owner_deletion: None,
        }]),
        ..ObjectMeta::default()
    };
    CloudDbJob {
        metadata,
        spec: CloudDbJobSpec {
            provider: spec.provider,
            api: Some(job.api.as_str().to_string()),
            job_id: job.job_id.clone(),
            region: spec.region.clone(),
            instance_id: Some(spec.instance_id.clone()),
            project_id: spec.project_id.clone(),
            subscription_id: spec.subscription_id.clone(),
            endpoint: spec.endpoint.clone(),
            credentials_secret_ref: spec.credentials_secret_ref.clone(),
            identity: spec.identity.clone(),
            poll_interval: template.poll_interval,
            timeout: None,
            suspend: template.suspend,
            ttl_seconds_after_finished: template.ttl_seconds_after_finished,
        },
        status: None,
    }
}
