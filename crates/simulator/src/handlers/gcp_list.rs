//! Cloud SQL calls of discovery, beside `operations.get` in `gcp.rs`: `operations.list`
//! (`GET /v1/projects/{project}/operations?instance=`, `maxResults`, `pageToken`) and
//! `instances.get` (`GET /v1/projects/{project}/instances/{instance}`) with the
//! `scheduledMaintenance` the scenarios announce. An instance no job or announced
//! maintenance names does not exist (404).

use super::gcp_error::google_error;
use super::{Incoming, Reply, Target};
use crate::render::{gcp as render, RenderJob};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

/// The project of an `operations.list` path (`/v1/projects/{project}/operations`).
pub(crate) fn parse_list_path(path: &str) -> Option<String> {
    let at = path.find("/v1/projects/")?;
    let rest = path[at + "/v1/projects/".len()..].strip_suffix("/operations")?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(rest)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// The `api` recorded for `operations.list`.
pub const LIST_API: &str = "cloudsql-list";
/// The largest `maxResults` (and its default).
const MAX_RESULTS: usize = 500;

pub(crate) fn query_param(req: &Incoming<'_>, name: &str) -> Option<String> {
    req.query_pairs()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.trim().is_empty())
}

/// The project's operations on `instance` (all the project's when `None`).
pub(crate) fn listed(st: &SimState, project: &str, instance: Option<&str>) -> Vec<usize> {
    st.find(|j| {
        j.provider == ProviderKind::Gcp
            && j.project_id.as_deref().is_none_or(|p| p == project)
            && instance.is_none_or(|i| j.instance_id.as_deref() == Some(i))
    })
}

/// `operations.list` with the `instance` filter (required here, as discovery sends it),
/// `maxResults` and `pageToken` (the next offset); an instance no job names is 404.
pub(crate) fn list_operations(
    st: &mut SimState,
    req: &Incoming<'_>,
    project: &str,
    target: &Target,
    (hidden, now): (&[usize], Clock),
) -> Reply {
    let Some(instance) = query_param(req, "instance") else {
        return google_error(
            400,
            "INVALID_ARGUMENT",
            "required",
            "The simulator serves operations.list with the instance filter only.",
        );
    };
    if target.targets.is_empty() {
        return google_error(
            404,
            "NOT_FOUND",
            "instanceDoesNotExist",
            &format!("The Cloud SQL instance {instance} does not exist."),
        );
    }
    let max = match query_param(req, "maxResults").map(|m| m.parse::<usize>()) {
        None => MAX_RESULTS,
        Some(Ok(n)) if (1..=MAX_RESULTS).contains(&n) => n,
        Some(_) => return google_error(400, "INVALID_ARGUMENT", "invalid", "Invalid maxResults."),
    };
    let Ok(offset) = query_param(req, "pageToken").map_or(Ok(0), |t| t.parse::<usize>()) else {
        return google_error(400, "INVALID_ARGUMENT", "invalid", "Invalid pageToken.");
    };
    let base = format!("http://{}", req.host);
    let mut items = Vec::new();
    for &idx in &target.targets {
        if hidden.contains(&idx) {
            continue;
        }
        let Some(view) = st.view(idx, now) else {
            continue;
        };
        let rj = RenderJob {
            job: &st.jobs[idx].spec,
            state: &view.state,
            start: view.start,
            end: view.end,
        };
        items.push((view.start, render::operation(&rj, project, &base)));
    }
    // Newest first, as Cloud SQL lists them.
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    let total = items.len();
    let page: Vec<_> = items
        .into_iter()
        .skip(offset)
        .take(max)
        .map(|(_, v)| v)
        .collect();
    let mut body = serde_json::json!({"kind": "sql#operationsList", "items": page});
    if offset.saturating_add(max) < total {
        body["nextPageToken"] = serde_json::json!((offset + max).to_string());
    }
    Reply::json(200, &body)
}

/// `(project, instance)` of an `instances.get` path, after any prefix.
pub(crate) fn parse_instance_path(path: &str) -> Option<(String, String)> {
    let at = path.find("/v1/projects/")?;
    let rest = &path[at + "/v1/projects/".len()..];
    let (project, instance) = rest.split_once("/instances/")?;
    if project.is_empty() || project.contains('/') || instance.is_empty() || instance.contains('/')
    {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((decode(project), decode(instance)))
}

/// The `api` recorded for `instances.get`.
pub const INSTANCE_API: &str = "cloudsql-instance";

/// `instances.get`: the instance, with `scheduledMaintenance` when the scenarios announce
/// one (`applyAfter` → `startTime`, `forcedAfter` → `scheduleDeadlineTime`); 404 for an
/// instance nothing names.
pub(crate) fn get_instance(st: &mut SimState, project: &str, instance: &str) -> Reply {
    let has_jobs = !listed(st, project, Some(instance)).is_empty();
    let announced = st
        .maintenance
        .iter()
        .find(|m| m.provider == ProviderKind::Gcp && m.instance_id == instance)
        .cloned();
    if !has_jobs && announced.is_none() {
        return google_error(
            404,
            "NOT_FOUND",
            "instanceDoesNotExist",
            &format!("The Cloud SQL instance {instance} does not exist."),
        );
    }
    let started = st.started.wall;
    let at = |d: Option<std::time::Duration>| {
        d.and_then(|d| jiff::SignedDuration::try_from(d).ok())
            .and_then(|d| started.checked_add(d).ok())
            .map(render::time)
    };
    let mut body = serde_json::json!({
        "kind": "sql#instance", "name": instance, "project": project, "state": "RUNNABLE",
        "databaseVersion": "POSTGRES_16",
    });
    if let Some(m) = announced {
        body["scheduledMaintenance"] = serde_json::json!({
            "startTime": at(m.apply_after),
            "canDefer": true,
            "canReschedule": true,
            "scheduleDeadlineTime": at(m.forced_after),
        });
    }
    Reply::json(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_paths_parse_after_any_prefix() {
        assert_eq!(
            parse_instance_path("/sql/v1/projects/p/instances/orders%2Dpg"),
            Some(("p".into(), "orders-pg".into()))
        );
        assert_eq!(parse_instance_path("/v1/projects/p/instances/"), None);
        assert_eq!(parse_instance_path("/v1/projects/p/instances/a/b"), None);
    }

    #[test]
    fn list_paths_parse_after_any_prefix() {
        assert_eq!(
            parse_list_path("/sql/v1/projects/my%20p/operations").as_deref(),
            Some("my p")
        );
        assert_eq!(parse_list_path("/v1/projects/p/operations/o"), None);
        assert_eq!(parse_list_path("/v1/projects//operations"), None);
    }
}
