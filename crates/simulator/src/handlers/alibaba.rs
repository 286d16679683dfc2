//! Alibaba Cloud RDS (2014-08-15) and PolarDB (2017-08-01) `DescribeHistoryTasks`: RPC
//! style, `POST /` (or GET) with the parameters in the query, ACS3-HMAC-SHA256 signed.
//! The action and version come in `x-acs-action` / `x-acs-version`; the version tells the
//! two APIs apart (behind an endpoint override the host cannot). Errors are HTTP 4xx/5xx
//! with `{RequestId, HostId, Code, Message, Recommend}`; throttling is HTTP 400
//! `Throttling.User`, as documented. Listing by `InstanceId` without `TaskId` (discovery)
//! pages through the instance's tasks; an instance no job names is HTTP 404
//! `InvalidDBInstanceId.NotFound` (PolarDB: `InvalidDBClusterId.NotFound`).

use jiff::{SignedDuration, Timestamp};

use super::{unix_now, Incoming, Reply, Target};
use crate::auth::{verify_alibaba, AlibabaInput};
use crate::render::{alibaba as render, RenderJob};
use crate::state::{Clock, SimState};
use crate::timeline;
use clouddb_api::ProviderKind;

pub const ACTION: &str = "DescribeHistoryTasks";
/// `x-acs-version` → `spec.api`.
pub const VERSIONS: [(&str, &str); 2] =
    [("2014-08-15", render::RDS), ("2017-08-01", render::POLARDB)];
/// How far back the API looks; an earlier `FromStartTime` is moved up to it.
pub const LOOKBACK: SignedDuration = SignedDuration::from_hours(30 * 24);
/// Most IDs a comma list may carry.
const MAX_IDS: usize = 30;

/// Whether a request to `/` is for this API.
pub(crate) fn speaks(req: &Incoming<'_>) -> bool {
    req.header("x-acs-action").is_some()
}

fn api_of(req: &Incoming<'_>) -> Option<&'static str> {
    let version = req.header("x-acs-version")?.trim();
    VERSIONS
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, api)| *api)
}

fn param(query: &[(String, String)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn list(query: &[(String, String)], name: &str) -> Vec<String> {
    param(query, name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The jobs a request concerns: those of its API with a listed `TaskId` (all of the API's
/// jobs when there is none), narrowed by `InstanceId`.
pub(crate) fn target(st: &SimState, req: &Incoming<'_>) -> Target {
    let query = req.query_pairs();
    let api = api_of(req);
    let tasks = list(&query, "TaskId");
    let instances = list(&query, "InstanceId");
    let targets = match api {
        Some(api) => st.find(|j| {
            j.provider == ProviderKind::Alibaba
                && j.api() == api
                && (tasks.is_empty() || tasks.contains(&j.job_id))
                && (instances.is_empty()
                    || j.instance_id
                        .as_ref()
                        .is_some_and(|i| instances.contains(i)))
        }),
        None => Vec::new(),
    };
    let job_id = match tasks.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    Target {
        provider: ProviderKind::Alibaba,
        api: api.map_or_else(
            || {
                format!(
                    "(x-acs-version {})",
                    req.header("x-acs-version").unwrap_or("missing")
                )
            },
            String::from,
        ),
        job_id,
        targets,
    }
}

fn error(st: &mut SimState, req: &Incoming<'_>, status: u16, code: &str, message: &str) -> Reply {
    let id = st.request_id();
    let host = req.host.to_string();
    Reply::json(status, &render::error(code, message, &id, &host))
        .with_header("x-acs-request-id", id)
}

/// The AccessKey ID of an ACS3 `Authorization` header.
fn access_key_id(req: &Incoming<'_>) -> Option<String> {
    crate::verify::acs3::parse_authorization(req.header("authorization")?).map(|a| a.access_key_id)
}

/// Whether a request to `/` is STS `AssumeRoleWithOIDC` (RPC style, action in the query,
/// unsigned).
pub(crate) fn speaks_sts(req: &Incoming<'_>) -> bool {
    req.header("x-acs-action").is_none()
        && param(&req.query_pairs(), "Action").as_deref() == Some("AssumeRoleWithOIDC")
}

/// STS `AssumeRoleWithOIDC` (2015-04-01) against the workload identity configuration.
pub(crate) fn assume_role_with_oidc(st: &mut SimState, req: &Incoming<'_>) -> Reply {
    let query = req.query_pairs();
    if param(&query, "Version").as_deref() != Some(crate::sts::ALIBABA_STS_VERSION) {
        return error(
            st,
            req,
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        );
    }
    if param(&query, "Timestamp").is_none() {
        return error(
            st,
            req,
            400,
            "MissingTimestamp",
            "Timestamp is mandatory for this action.",
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (Some(role), Some(provider), Some(token), Some(_session)) = (
        param(&form, "RoleArn"),
        param(&form, "OIDCProviderArn"),
        param(&form, "OIDCToken"),
        param(&form, "RoleSessionName"),
    ) else {
        return error(
            st,
            req,
            400,
            "MissingParameter",
            "RoleArn, OIDCProviderArn, OIDCToken and RoleSessionName are mandatory for this action.",
        );
    };
    let now = unix_now(st.config.clock_skew_secs);
    let grant = match st.sts.verify(&role, Some(&provider), &token, "sts.aliyuncs.com", now) {
        Ok(grant) => grant,
        Err(crate::sts::Refusal::NoProvider) => {
            return error(st, req, 404, "EntityNotExist.OIDCProvider", "The specified OIDC provider does not exist.")
        }
        Err(crate::sts::Refusal::InvalidToken(why)) => {
            return error(st, req, 400, "AuthenticationFail.OIDCToken.Invalid", &format!("The OIDC token is invalid: {why}"))
        }
        Err(crate::sts::Refusal::NotTrusted) => {
            return error(
                st,
                req,
                403,
                "AuthenticationFail.NoPermission",
                "You are not authorized to assume the role: its trust policy does not allow this OIDC token.",
            )
        }
    };
    let SimState { rng, .. } = st;
    let mut random = || rand::Rng::random::<u128>(rng);
    let key = crate::auth::TemporaryKey {
        id: format!("STS.{:020X}", random() as u64),
        secret: format!("{:032x}", random()),
        token: format!("CAIS{:032x}{:032x}", random(), random()),
    };
    st.sts
        .issue(ProviderKind::Alibaba, key.clone(), &grant, now);
    let id = st.request_id();
    let expiration = Timestamp::from_second(grant.expires)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let body = serde_json::json!({
        "RequestId": id,
        "OIDCTokenInfo": {"Subject": grant.subject, "ClientIds": "sts.aliyuncs.com"},
        "AssumedRoleUser": {"Arn": format!("{role}/clouddb"), "AssumedRoleId": "33157794895460****:clouddb"},
        "Credentials": {
            "SecurityToken": key.token,
            "Expiration": expiration,
            "AccessKeySecret": key.secret,
            "AccessKeyId": key.id,
        },
    });
    Reply::json(200, &body).with_header("x-acs-request-id", id)
}

/// HTTP 400 `Throttling.User`, as the OpenAPI gateway answers flow control.
pub(crate) fn throttled(st: &mut SimState) -> Reply {
    let id = st.request_id();
    let body = render::error(
        "Throttling.User",
        "Request was denied due to user flow control.",
        &id,
        "rds.aliyuncs.com",
    );
    Reply::json(400, &body).with_header("x-acs-request-id", id)
}

fn parse_time(raw: &str) -> Option<Timestamp> {
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%SZ", raw.trim())
        .and_then(|p| p.to_datetime())
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
        .ok()
}

/// Scenario seconds until the job's first terminal step, in real seconds (rounded up).
fn remain_secs(st: &SimState, idx: usize, now: Clock) -> i64 {
    let speed = st.config.speed;
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    let Some(entry) = st.jobs.get(idx) else {
        return 0;
    };
    let Some(origin) = entry.origin else {
        return 0;
    };
    let elapsed =
        timeline::scenario_elapsed(now.instant.saturating_duration_since(origin.instant), speed);
    entry
        .spec
        .timeline
        .iter()
        .find(|s| s.status.is_terminal())
        .and_then(|s| s.after.checked_sub(elapsed))
        .map_or(0, |left| (left.as_secs_f64() / speed).ceil() as i64)
}

/// Checks the signature, action, version and parameters, then answers with a page.
pub(crate) fn answer(
    st: &mut SimState,
    req: &Incoming<'_>,
    _target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    if req.method != http::Method::POST && req.method != http::Method::GET {
        return error(
            st,
            req,
            400,
            "UnsupportedHTTPMethod",
            "Specified http method is not supported.",
        );
    }
    let query = req.query_pairs();
    let input = AlibabaInput {
        method: req.method.as_str(),
        path: req.path,
        query: &query,
        headers: req.headers,
        host: req.host,
        body: req.body,
    };
    let server_now = unix_now(st.config.clock_skew_secs);
    if let Some(key_id) = access_key_id(req) {
        if st.sts.expired(ProviderKind::Alibaba, &key_id, server_now) {
            return error(
                st,
                req,
                400,
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            );
        }
    }
    // The configured keys, and the STS keys workload identity has issued and not expired.
    let accepted = st
        .sts
        .accepted(&st.config.credentials, ProviderKind::Alibaba, server_now);
    if let Err(e) = verify_alibaba(&accepted, &input, server_now, &mut st.nonces) {
        return error(st, req, e.status, e.code, &e.message);
    }
    if req.header("x-acs-action").map(str::trim) != Some(ACTION) {
        return error(
            st,
            req,
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        );
    }
    let Some(api) = api_of(req) else {
        return error(
            st,
            req,
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid: RDS serves 2014-08-15, PolarDB 2017-08-01.",
        );
    };
    for name in ["RegionId", "FromStartTime", "ToStartTime"] {
        if param(&query, name).is_none() {
            let code = match name {
                "RegionId" => "MissingRegionId",
                "FromStartTime" => "MissingFromStartTime",
                _ => "MissingToStartTime",
            };
            return error(
                st,
                req,
                400,
                code,
                &format!("{name} is mandatory for this action."),
            );
        }
    }
    let region = param(&query, "RegionId").unwrap_or_default();
    let (Some(from), Some(to)) = (
        param(&query, "FromStartTime")
            .as_deref()
            .and_then(parse_time),
        param(&query, "ToStartTime").as_deref().and_then(parse_time),
    ) else {
        return error(
            st,
            req,
            400,
            "InvalidParameter",
            "FromStartTime and ToStartTime must be yyyy-MM-ddTHH:mm:ssZ (UTC).",
        );
    };
    if to < from {
        return error(
            st,
            req,
            400,
            "InvalidParameter",
            "ToStartTime must not be earlier than FromStartTime.",
        );
    }
    let number = |name: &str, default: u64| -> Option<u64> {
        param(&query, name).map_or(Some(default), |v| v.parse().ok())
    };
    let (Some(size), Some(page)) = (number("PageSize", 10), number("PageNumber", 1)) else {
        return error(
            st,
            req,
            400,
            "InvalidParameter",
            "PageSize and PageNumber must be integers.",
        );
    };
    if !(10..=100).contains(&size) || page == 0 {
        return error(
            st,
            req,
            400,
            "InvalidParameter",
            "PageSize must be within 10..100 and PageNumber at least 1.",
        );
    }
    let tasks = list(&query, "TaskId");
    let instances = list(&query, "InstanceId");
    if tasks.len() > MAX_IDS || instances.len() > MAX_IDS {
        return error(
            st,
            req,
            400,
            "InvalidParameter",
            "TaskId and InstanceId take at most 30 comma-separated IDs.",
        );
    }
    // Listing an instance's tasks (discovery, no TaskId): an instance no job of the API
    // names does not exist, as the API answers for a wrong ID.
    let unknown = instances.iter().find(|i| {
        !st.jobs.iter().any(|j| {
            j.spec.provider == ProviderKind::Alibaba
                && j.spec.api() == api
                && j.spec.instance_id.as_ref() == Some(*i)
        })
    });
    if let (true, Some(unknown)) = (tasks.is_empty(), unknown) {
        let code = if api == render::POLARDB {
            "InvalidDBClusterId.NotFound"
        } else {
            "InvalidDBInstanceId.NotFound"
        };
        let message = format!("The specified instance {unknown} is not found.");
        return error(st, req, 404, code, &message);
    }
    let statuses = list(&query, "Status");
    // Documented: an earlier FromStartTime is moved up to 30 days before now.
    let floor = now.wall.checked_sub(LOOKBACK).unwrap_or(now.wall);
    let from = from.max(floor);
    let candidates = st.find(|j| {
        j.provider == ProviderKind::Alibaba
            && j.api() == api
            && (tasks.is_empty() || tasks.contains(&j.job_id))
            && (instances.is_empty()
                || j.instance_id
                    .as_ref()
                    .is_some_and(|i| instances.contains(i)))
    });
    let mut items = Vec::new();
    for idx in candidates {
        if hidden.contains(&idx) {
            continue;
        }
        let Some(view) = st.view(idx, now) else {
            continue;
        };
        if view.start < from || view.start > to {
            continue;
        }
        let status = render::status(view.state.phase);
        if !statuses.is_empty() && !statuses.iter().any(|s| s == status) {
            continue;
        }
        let remain = remain_secs(st, idx, now);
        let job = &st.jobs[idx].spec;
        let rj = RenderJob {
            job,
            state: &view.state,
            start: view.start,
            end: view.end,
        };
        items.push(render::item(&rj, remain, &region));
    }
    let total = items.len();
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let shown: Vec<_> = items.into_iter().skip(skip).take(size as usize).collect();
    let id = st.request_id();
    Reply::json(200, &render::page(api, shown, total, page, size, &id))
        .with_header("x-acs-request-id", id)
}
