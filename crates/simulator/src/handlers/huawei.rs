//! Huawei Cloud: `GET /v3/{project_id}/jobs?id=` (RDS and TaurusDB) and the legacy
//! `GET /mysql/v3/{project_id}/jobs?id=` (TaurusDB), authenticated with SDK-HMAC-SHA256 or
//! `X-Auth-Token`; and RDS `ListTasks` (`GET /v3/{project_id}/tasklist`) by `instance_id`
//! with its time window and paging, for discovery. Every response carries `X-Request-Id`.

use super::{unix_now, Incoming, Reply, Target};
use crate::auth::{verify_huawei, HuaweiInput};
use crate::render::{huawei as render, RenderJob};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

/// `(legacy, project_id)` for a jobs path.
fn parse_path(path: &str) -> Option<(bool, String)> {
    let (legacy, rest) = match path.strip_prefix("/mysql") {
        Some(rest) => (true, rest),
        None => (false, path),
    };
    let rest = rest.strip_prefix("/v3/")?;
    let project = rest
        .strip_suffix("/jobs")
        .or_else(|| rest.strip_suffix("/jobs/"))?;
    if project.is_empty() || project.contains('/') {
        return None;
    }
    Some((legacy, project.to_string()))
}

fn decoded_path(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

/// The job named by `id` on this path's API family and project; `None` for other paths.
/// The path of IAM's "Obtaining a Token with an OpenID Connect ID Token".
pub(crate) const OIDC_TOKEN_PATH: &str = "/v3.0/OS-AUTH/id-token/tokens";

/// IAM's OpenID Connect token: the identity provider in `X-Idp-Id`, the ServiceAccount token
/// in `auth.id_token.id`, the scope in `auth.scope.project.id`; an IAM token in
/// `X-Subject-Token` (HTTP 201).
pub(crate) fn oidc_token(st: &mut SimState, req: &Incoming<'_>) -> Reply {
    let iam_error = |status: u16, title: &str, message: &str| {
        Reply::json(
            status,
            &serde_json::json!({"error": {"code": status, "title": title, "message": message}}),
        )
    };
    if req.method != http::Method::POST {
        return iam_error(405, "Method Not Allowed", "The method is not allowed.");
    }
    let body: serde_json::Value = serde_json::from_slice(req.body).unwrap_or_default();
    let (Some(idp), Some(token), Some(project)) = (
        req.header("x-idp-id")
            .map(str::trim)
            .filter(|v| !v.is_empty()),
        body["auth"]["id_token"]["id"].as_str(),
        body["auth"]["scope"]["project"]["id"].as_str(),
    ) else {
        return iam_error(
            400,
            "Bad Request",
            "X-Idp-Id, auth.id_token.id and auth.scope.project.id are required.",
        );
    };
    let now = unix_now(st.config.clock_skew_secs);
    // The audience is the identity provider's client ID, configured on the role; the
    // provider's own ID stands in when the role names none.
    let grant = match st.sts.verify(idp, None, token, idp, now) {
        Ok(grant) => grant,
        Err(crate::sts::Refusal::NoProvider) => {
            return iam_error(
                404,
                "Not Found",
                "The identity provider could not be found.",
            )
        }
        Err(crate::sts::Refusal::InvalidToken(why)) => {
            return iam_error(
                401,
                "Unauthorized",
                &format!("The id_token is invalid: {why}"),
            )
        }
        Err(crate::sts::Refusal::NotTrusted) => {
            return iam_error(
                403,
                "Forbidden",
                "The identity provider's mapping rules do not map this user.",
            )
        }
    };
    let issued = format!(
        "MIIDkgYJKoZIhvcNAQcC{:032x}{:032x}",
        rand::Rng::random::<u128>(&mut st.rng),
        rand::Rng::random::<u128>(&mut st.rng)
    );
    let key = crate::auth::TemporaryKey {
        id: issued.clone(),
        secret: String::new(),
        token: String::new(),
    };
    st.sts.issue(ProviderKind::Huawei, key, &grant, now);
    let expires = jiff::Timestamp::from_second(grant.expires)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default();
    let id = st.request_id();
    Reply::json(
        201,
        &serde_json::json!({"token": {
            "expires_at": expires,
            "methods": ["mapped"],
            "project": {"id": project},
            "user": {"name": grant.subject, "OS-FEDERATION": {"identity_provider": {"id": idp}}},
        }}),
    )
    .with_header("x-subject-token", issued)
    .with_header("x-request-id", id)
}

/// The project of an RDS `ListTasks` path (`/v3/{project_id}/tasklist`).
fn parse_tasklist_path(path: &str) -> Option<String> {
    let project = path.strip_prefix("/v3/")?.strip_suffix("/tasklist")?;
    (!project.is_empty() && !project.contains('/')).then(|| project.to_string())
}

/// The `api` recorded for `ListTasks`.
pub const TASKLIST_API: &str = "rds-tasklist";

fn query_param(req: &Incoming<'_>, name: &str) -> Option<String> {
    req.query_pairs()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

pub(crate) fn target(st: &SimState, req: &Incoming<'_>) -> Option<Target> {
    if let Some(project) = parse_tasklist_path(&decoded_path(req.path)) {
        let instance = query_param(req, "instance_id");
        let targets = st.find(|j| {
            j.provider == ProviderKind::Huawei
                && j.api() == "rds"
                && j.project_id.as_ref().is_none_or(|p| *p == project)
                && instance
                    .as_ref()
                    .is_none_or(|i| j.instance_id.as_ref() == Some(i))
        });
        return Some(Target {
            provider: ProviderKind::Huawei,
            api: TASKLIST_API.into(),
            job_id: None,
            targets,
        });
    }
    let (legacy, project) = parse_path(&decoded_path(req.path))?;
    let job_id = req
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty());
    let targets = match &job_id {
        Some(id) => st.find(|j| {
            j.provider == ProviderKind::Huawei
                && j.job_id == *id
                && (j.api() == "taurusdb-legacy") == legacy
                && j.project_id.as_ref().is_none_or(|p| *p == project)
        }),
        None => Vec::new(),
    };
    let api = match targets.first() {
        Some(idx) => st.jobs[*idx].spec.api().to_string(),
        None if legacy => "taurusdb-legacy".into(),
        None => "rds".into(),
    };
    Some(Target {
        provider: ProviderKind::Huawei,
        api,
        job_id,
        targets,
    })
}

fn error(st: &mut SimState, status: u16, code: &str, message: &str) -> Reply {
    let id = st.request_id();
    Reply::json(status, &render::error(code, message)).with_header("x-request-id", id)
}

/// HTTP 429 `APIGW.0308` with `Retry-After`.
pub(crate) fn throttled(st: &mut SimState, retry_after: Option<u64>) -> Reply {
    error(
        st,
        429,
        "APIGW.0308",
        "The throttling threshold has been reached.",
    )
    .with_header("retry-after", retry_after.unwrap_or(1).to_string())
}

/// Checks the credentials, then answers with the job.
pub(crate) fn answer(
    st: &mut SimState,
    req: &Incoming<'_>,
    target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    if req.method != http::Method::GET {
        return error(
            st,
            405,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment.",
        );
    }
    let path = decoded_path(req.path);
    let query = req.query_pairs();
    let input = HuaweiInput {
        method: req.method.as_str(),
        path: &path,
        query: &query,
        headers: req.headers,
        body: req.body,
    };
    let unix = unix_now(st.config.clock_skew_secs);
    if let Some(token) = req.header("x-auth-token") {
        if st.sts.expired(ProviderKind::Huawei, token.trim(), unix) {
            return error(st, 401, "APIGW.0307", "The token must be updated.");
        }
    }
    // The configured tokens, and the IAM tokens workload identity obtained and not expired.
    let accepted = st
        .sts
        .accepted(&st.config.credentials, ProviderKind::Huawei, unix);
    if let Err(e) = verify_huawei(&accepted, &input, unix) {
        return error(st, e.status, e.code, &e.message);
    }
    if target.api == TASKLIST_API {
        return list_tasks(st, req, target, (hidden, now));
    }
    if target.job_id.is_none() {
        return error(st, 400, "DBS.200001", "The parameter id is missing.");
    }
    let found = target
        .targets
        .iter()
        .copied()
        .filter(|idx| !hidden.contains(idx))
        .find_map(|idx| st.view(idx, now).map(|v| (idx, v)));
    let Some((idx, view)) = found else {
        return error(st, 404, "DBS.280011", "The job does not exist.");
    };
    let id = st.request_id();
    let job = &st.jobs[idx].spec;
    let rj = RenderJob {
        job,
        state: &view.state,
        start: view.start,
        end: view.end,
    };
    Reply::json(200, &render::job(&rj)).with_header("x-request-id", id)
}

/// RDS `ListTasks` by `instance_id` (required here, as discovery sends it) with
/// `start_time`/`end_time` (UTC milliseconds, on the creation time) and `offset`/`limit`
/// (at most 50); an instance no RDS job names is `DBS.200823` (HTTP 404).
fn list_tasks(
    st: &mut SimState,
    req: &Incoming<'_>,
    target: &Target,
    (hidden, now): (&[usize], Clock),
) -> Reply {
    let Some(instance) = query_param(req, "instance_id") else {
        return error(
            st,
            400,
            "DBS.200001",
            "The simulator serves ListTasks by instance_id.",
        );
    };
    let number = |name: &str, default: i64| {
        query_param(req, name).map_or(Some(default), |v| v.parse::<i64>().ok())
    };
    let (Some(offset), Some(limit), Some(from), Some(to)) = (
        number("offset", 0),
        number("limit", 10),
        number("start_time", 0),
        number("end_time", i64::MAX),
    ) else {
        return error(
            st,
            400,
            "DBS.200001",
            "offset, limit and the times are numbers.",
        );
    };
    if offset < 0 || !(1..=50).contains(&limit) {
        return error(st, 400, "DBS.200001", "limit must be within 1..50.");
    }
    if target.targets.is_empty() {
        let message = format!("The DB instance {instance} does not exist.");
        return error(st, 404, "DBS.200823", &message);
    }
    let mut items = Vec::new();
    for &idx in &target.targets {
        if hidden.contains(&idx) {
            continue;
        }
        let Some(view) = st.view(idx, now) else {
            continue;
        };
        let created = view.start.as_millisecond();
        if created < from || created > to {
            continue;
        }
        let rj = RenderJob {
            job: &st.jobs[idx].spec,
            state: &view.state,
            start: view.start,
            end: view.end,
        };
        items.push(render::task(&rj));
    }
    let total = items.len();
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let page: Vec<_> = items.into_iter().skip(skip).take(limit as usize).collect();
    let id = st.request_id();
    let body = serde_json::json!({"total_count": total, "actions": [], "tasks": page});
    Reply::json(200, &body).with_header("x-request-id", id)
}

#[cfg(test)]
mod tests {
    use super::{parse_path, parse_tasklist_path};

    #[test]
    fn tasklist_paths() {
        assert_eq!(
            parse_tasklist_path("/v3/p1/tasklist").as_deref(),
            Some("p1")
        );
        assert_eq!(parse_tasklist_path("/v3//tasklist"), None);
        assert_eq!(parse_tasklist_path("/v3/p1/jobs"), None);
    }

    #[test]
    fn jobs_paths() {
        assert_eq!(parse_path("/v3/p1/jobs"), Some((false, "p1".into())));
        assert_eq!(parse_path("/mysql/v3/p1/jobs"), Some((true, "p1".into())));
        assert_eq!(parse_path("/v3/p1/jobs/"), Some((false, "p1".into())));
        assert_eq!(parse_path("/v3//jobs"), None);
        assert_eq!(parse_path("/v3/a/b/jobs"), None);
        assert_eq!(parse_path("/v2/p1/jobs"), None);
    }
}
