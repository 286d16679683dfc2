//! Batched polls: the jobs of one API that share a credential, region and endpoint are
//! described by one call per round, with the API's identifier filter holding many values
//! (`Filters.Filter.1.Name=<filter>&Filters.Filter.1.Values.Value.N=<id>`).
//!
//! The filters (RDS service model 2014-10-31, botocore `rds/2014-10-31/service-2.json`):
//!
//! | api | action | filter |
//! |---|---|---|
//! | `db-snapshot` | `DescribeDBSnapshots` | `db-snapshot-id` |
//! | `cluster-snapshot` | `DescribeDBClusterSnapshots` | `db-cluster-snapshot-id` |
//! | `export-task` | `DescribeExportTasks` | `export-task-identifier` |
//! | `blue-green`, `blue-green-switchover` | `DescribeBlueGreenDeployments` | `blue-green-deployment-identifier` |
//!
//! Every one pages by `Marker` with `MaxRecords` 20-100. The model gives no bound on a
//! filter's values (`FilterValueList` has no `max`); RDS refuses more than 100 unique values
//! per filter (`InvalidParameterCombination`: "Only up to 100 unique filter ... Identifiers
//! may be specified per filter"), so a batch is sent in chunks of [`FILTER_VALUE_LIMIT`].
//! A chunk of 100 identifiers fits one page of 100 records; the paging loop still follows
//! `Marker`.
//!
//! Each listed item is mapped by the same function as a single poll's answer
//! ([`map_snapshot`], [`map_export`], [`map_blue_green`]); an identifier the answer does not
//! list gets [`not_found_yet`], as a single poll does (an empty export list, a
//! `*NotFound` fault). Jobs named by an ARN are not batched: the identifier filters take
//! identifiers, and a shared snapshot is described only by its ARN.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use url::Url;

use clouddb_api::ProviderApi;

use super::client::{AwsProvider, VERSION};
use super::mapping::{map_blue_green, map_export, map_snapshot, not_found_yet};
use super::model::{
    from_xml, BlueGreenResponse, ClusterSnapshotsResponse, DbSnapshotsResponse, ExportTasksResponse,
};
use crate::{Credentials, JobObservation, ProviderError};

/// Identifiers per filter in one call (RDS refuses more than 100 unique values).
pub const FILTER_VALUE_LIMIT: usize = 100;

/// Pages read at most per chunk (a chunk of 100 identifiers needs one page of 100).
pub const MAX_CHUNK_PAGES: u32 = 5;

/// The action and identifier filter of a batchable API.
pub fn id_filter(api: ProviderApi) -> Option<(&'static str, &'static str)> {
    Some(match api {
        ProviderApi::DbSnapshot => ("DescribeDBSnapshots", "db-snapshot-id"),
        ProviderApi::ClusterSnapshot => ("DescribeDBClusterSnapshots", "db-cluster-snapshot-id"),
        ProviderApi::ExportTask => ("DescribeExportTasks", "export-task-identifier"),
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover => (
            "DescribeBlueGreenDeployments",
            "blue-green-deployment-identifier",
        ),
        _ => return None,
    })
}

/// Whether a job of `api` named `job_id` may be polled in a batch: a batchable API and a
/// plain identifier (not an ARN).
pub fn batchable(api: ProviderApi, job_id: &str) -> bool {
    let id = job_id.trim();
    id_filter(api).is_some()
        && !id.is_empty()
        && !id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:"))
}

/// The key an identifier is matched by (RDS identifiers are case-insensitive).
pub fn id_key(job_id: &str) -> String {
    job_id.trim().to_ascii_lowercase()
}

/// The identifiers of a batch in calls: trimmed, without duplicates (case-insensitively),
/// sorted, at most [`FILTER_VALUE_LIMIT`] per chunk.
pub fn chunks<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<Vec<String>> {
    let mut seen = HashSet::new();
    let unique: BTreeSet<String> = ids
        .into_iter()
        .map(str::trim)
        .filter(|id| !id.is_empty() && seen.insert(id_key(id)))
        .map(String::from)
        .collect();
    let unique: Vec<String> = unique.into_iter().collect();
    unique
        .chunks(FILTER_VALUE_LIMIT)
        .map(<[String]>::to_vec)
        .collect()
}

/// The form parameters (without `MaxRecords`/`Marker`) of one call describing `ids`.
pub fn filter_params(api: ProviderApi, ids: &[String]) -> Vec<(String, String)> {
    let Some((action, filter)) = id_filter(api) else {
        return Vec::new();
    };
    let mut params = vec![
        ("Action".to_string(), action.to_string()),
        ("Version".to_string(), VERSION.to_string()),
        ("Filters.Filter.1.Name".to_string(), filter.to_string()),
    ];
    params.extend(ids.iter().enumerate().map(|(n, id)| {
        (
            format!("Filters.Filter.1.Values.Value.{}", n + 1),
            id.clone(),
        )
    }));
    params
}

/// One listed job: its [`id_key`] and what a single poll would make of it.
pub type Keyed = (String, JobObservation);

/// The items of one page of a batched describe, each mapped as a single poll maps it and
/// keyed by [`id_key`], and the next page's marker. A body that is not the expected XML is
/// a transient error, as for a single poll.
pub fn page_items(
    api: ProviderApi,
    body: &[u8],
) -> Result<(Vec<Keyed>, Option<String>), ProviderError> {
    let malformed = |e: String| {
        ProviderError::transient(
            "MalformedResponse",
            format!("AWS RDS returned a response that is not the expected XML: {e}"),
        )
    };
    let keyed = |id: Option<&str>, o: JobObservation| id.map(|id| (id_key(id), o));
    Ok(match api {
        ProviderApi::DbSnapshot => {
            let r = from_xml::<DbSnapshotsResponse>(body).map_err(malformed)?;
            let r = r.result.unwrap_or_default();
            let items = r.list.map(|l| l.items).unwrap_or_default();
            let mapped = items
                .iter()
                .filter_map(|s| keyed(s.identifier(), map_snapshot(api, s)));
            (mapped.collect(), r.marker)
        }
        ProviderApi::ClusterSnapshot => {
            let r = from_xml::<ClusterSnapshotsResponse>(body).map_err(malformed)?;
            let r = r.result.unwrap_or_default();
            let items = r.list.map(|l| l.items).unwrap_or_default();
            let mapped = items
                .iter()
                .filter_map(|s| keyed(s.identifier(), map_snapshot(api, s)));
            (mapped.collect(), r.marker)
        }
        ProviderApi::BlueGreen | ProviderApi::BlueGreenSwitchover => {
            let r = from_xml::<BlueGreenResponse>(body).map_err(malformed)?;
            let r = r.result.unwrap_or_default();
            let items = r.list.map(|l| l.items).unwrap_or_default();
            let mapped = items.iter().filter_map(|d| {
                keyed(
                    d.blue_green_deployment_identifier.as_deref(),
                    map_blue_green(api, d),
                )
            });
            (mapped.collect(), r.marker)
        }
        _ => {
            let r = from_xml::<ExportTasksResponse>(body).map_err(malformed)?;
            let r = r.result.unwrap_or_default();
            let items = r.list.map(|l| l.items).unwrap_or_default();
            let mapped = items
                .iter()
                .filter_map(|t| keyed(t.export_task_identifier.as_deref(), map_export(t)));
            (mapped.collect(), r.marker)
        }
    })
}

/// What one batched describe answered: the mapped items by [`id_key`], and the
/// identifiers it answers for (asked, in a chunk whose pages were all read). Items are
/// shared, so that extending an answer with a read for newcomers copies no observation.
#[derive(Clone, Debug, Default)]
pub struct Described {
    api: Option<ProviderApi>,
    items: HashMap<String, Arc<JobObservation>>,
    covered: HashSet<String>,
    calls: u64,
}

impl Described {
    /// Collects the answer to the chunks of `api`: each chunk's identifiers, the items its
    /// pages listed, and whether its pages ended.
    pub fn new(api: ProviderApi) -> Self {
        Described {
            api: Some(api),
            ..Default::default()
        }
    }

    /// Adds one chunk's answer. Identifiers of a chunk whose pages did not end and that
    /// were not listed are not answered for (a single poll will ask for them).
    pub fn add_chunk(&mut self, ids: &[String], items: Vec<Keyed>, ended: bool) {
        let listed: HashSet<String> = items.iter().map(|(k, _)| k.clone()).collect();
        for id in ids {
            let key = id_key(id);
            if ended || listed.contains(&key) {
                self.covered.insert(key);
            }
        }
        for (key, observation) in items {
            self.items
                .entry(key)
                .or_insert_with(|| Arc::new(observation));
        }
    }

    /// Whether this answer is for `job_id` (a job it does not cover needs a call of its own).
    pub fn covers(&self, job_id: &str) -> bool {
        self.covered.contains(&id_key(job_id))
    }

    /// What a single poll of `job_id` would have found: the mapped item, or not found yet
    /// when the answer covers it but does not list it; `None` when it does not cover it.
    pub fn observe(&self, job_id: &str) -> Option<JobObservation> {
        let key = id_key(job_id);
        if !self.covered.contains(&key) {
            return None;
        }
        let api = self.api.unwrap_or(ProviderApi::ExportTask);
        Some(
            self.items
                .get(&key)
                .map(|o| JobObservation::clone(o))
                .unwrap_or_else(|| not_found_yet(api, job_id.trim())),
        )
    }

    /// Adds another answer of the same API (a later chunk's).
    pub fn merge(&mut self, other: Described) {
        self.covered.extend(other.covered);
        for (key, observation) in other.items {
            self.items.entry(key).or_insert(observation);
        }
        self.calls += other.calls;
    }

    /// Calls (pages) made.
    pub fn calls(&self) -> u64 {
        self.calls
    }
}

impl AwsProvider {
    /// Describes every job of `ids` (one `api`) in chunks of [`FILTER_VALUE_LIMIT`]
    /// identifiers, each chunk paged through the client's one paging loop;
    /// `before_call` may refuse a call (rate limit), which fails the whole describe, as
    /// does any failed call.
    pub async fn describe_many(
        &self,
        api: ProviderApi,
        at: (Option<&str>, Option<&Url>),
        ids: &[String],
        credentials: &Credentials,
        mut before_call: impl FnMut() -> Result<(), ProviderError> + Send,
    ) -> Result<Described, ProviderError> {
        let mut described = Described::new(api);
        for chunk in chunks(ids.iter().map(String::as_str)) {
            let params = filter_params(api, &chunk);
            let params: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let mut items = Vec::new();
            let mut calls = 0;
            let ended = self
                .page_form_with(
                    at,
                    &params,
                    credentials,
                    MAX_CHUNK_PAGES,
                    || {
                        calls += 1;
                        before_call()
                    },
                    |body| {
                        let (page, marker) = page_items(api, body)?;
                        items.extend(page);
                        Ok(marker)
                    },
                )
                .await?;
            described.calls += calls;
            described.add_chunk(&chunk, items, ended);
        }
        Ok(described)
    }
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
