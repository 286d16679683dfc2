//! Tencent Cloud API 3.0: `POST /` with `X-TC-*` headers and a TC3-signed JSON body;
//! `DescribeTasks` (with its `InstanceId`, `AsyncRequestId`, type, status and start-time
//! filters and `Offset`/`Limit` paging, also what discovery lists) and
//! `DescribeAsyncRequestInfo`. Errors are HTTP 200 with `Response.Error`; an instance no
//! Tencent job names is `InvalidParameter.InstanceNotFound`.

use serde_json::Value;

use super::{unix_now, Incoming, Reply, Target};
use crate::auth::{verify_tc3, Tc3Input};
use crate::render::{tencent as render, RenderJob};
use crate::scenario::Shape;
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;
use clouddb_providers::decode::{parse_tencent_time, value_to_i64, value_to_string};

/// The API version this simulator serves.
pub const VERSION: &str = "2017-03-20";

fn body_json(req: &Incoming<'_>) -> Option<serde_json::Map<String, Value>> {
    serde_json::from_slice::<Value>(req.body)
        .ok()
        .and_then(|v| v.as_object().cloned())
}

fn param(body: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    body.get(name)
        .and_then(value_to_string)
        .filter(|s| !s.is_empty())
}

/// The SecretId of a TC3 `Authorization` header.
fn secret_id(req: &Incoming<'_>) -> Option<String> {
    crate::verify::tc3::parse_authorization(req.header("authorization")?).map(|a| a.secret_id)
}

/// Whether a request to `/` is STS `AssumeRoleWithWebIdentity` (API 3.0 style, unsigned).
pub(crate) fn speaks_sts(req: &Incoming<'_>) -> bool {
    req.header("x-tc-action").map(str::trim) == Some("AssumeRoleWithWebIdentity")
}

/// STS `AssumeRoleWithWebIdentity` (2018-08-13) against the workload identity configuration.
pub(crate) fn assume_role_with_web_identity(st: &mut SimState, req: &Incoming<'_>) -> Reply {
    if req.header("authorization").map(str::trim) != Some("SKIP") {
        return error(
            st,
            "AuthFailure.InvalidAuthorization",
            "AssumeRoleWithWebIdentity takes Authorization: SKIP.",
        );
    }
    if req.header("x-tc-version").map(str::trim) != Some(crate::sts::TENCENT_STS_VERSION) {
        return error(
            st,
            "NoSuchVersion",
            "The API version does not exist; sts serves 2018-08-13.",
        );
    }
    if req
        .header("x-tc-region")
        .is_none_or(|r| r.trim().is_empty())
    {
        return error(
            st,
            "MissingParameter",
            "The request is missing a required header `X-TC-Region`.",
        );
    }
    let body = body_json(req).unwrap_or_default();
    let (Some(provider), Some(token), Some(role), Some(_session)) = (
        param(&body, "ProviderId"),
        param(&body, "WebIdentityToken"),
        param(&body, "RoleArn"),
        param(&body, "RoleSessionName"),
    ) else {
        return error(
            st,
            "InvalidParameter.ParamError",
            "ProviderId, WebIdentityToken, RoleArn and RoleSessionName are required.",
        );
    };
    let now = unix_now(st.config.clock_skew_secs);
    let grant = match st
        .sts
        .verify(&role, Some(&provider), &token, "sts.cloud.tencent.com", now)
    {
        Ok(grant) => grant,
        Err(crate::sts::Refusal::NoProvider) | Err(crate::sts::Refusal::InvalidToken(_)) => {
            return error(
                st,
                "InvalidParameter.WebIdentityTokenError",
                "The WebIdentityToken is invalid or does not match the identity provider.",
            )
        }
        Err(crate::sts::Refusal::NotTrusted) => {
            return error(
                st,
                "ResourceNotFound.RoleNotFound",
                "The role does not exist or its trust policy does not allow this identity.",
            )
        }
    };
    let SimState { rng, .. } = st;
    let mut random = || rand::Rng::random::<u128>(rng);
    let key = crate::auth::TemporaryKey {
        id: format!("AKID{:032X}", random()),
        secret: format!("{:032x}", random()),
        token: format!("{:032x}{:032x}", random(), random()),
    };
    st.sts
        .issue(ProviderKind::Tencent, key.clone(), &grant, now);
    let id = st.request_id();
    let expiration = jiff::Timestamp::from_second(grant.expires)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    Reply::json(
        200,
        &serde_json::json!({"Response": {
            "Credentials": {"Token": key.token, "TmpSecretId": key.id, "TmpSecretKey": key.secret},
            "ExpiredTime": grant.expires,
            "Expiration": expiration,
            "RequestId": id,
        }}),
    )
}

/// The jobs a request concerns: the AsyncRequestId's job, or the jobs of the instance.
pub(crate) fn target(st: &SimState, req: &Incoming<'_>) -> Target {
    let action = req.header("x-tc-action").unwrap_or("").to_string();
    let body = body_json(req).unwrap_or_default();
    let async_id = param(&body, "AsyncRequestId");
    let instance = param(&body, "InstanceId");
    let targets = match (action.as_str(), &async_id, &instance) {
        ("DescribeAsyncRequestInfo", Some(id), _) => {
            st.find(|j| j.provider == ProviderKind::Tencent && j.async_id() == Some(id.as_str()))
        }
        ("DescribeTasks", Some(id), _) => st.find(|j| {
            j.provider == ProviderKind::Tencent
                && j.api() == "DescribeTasks"
                && j.async_request_id.as_deref() == Some(id.as_str())
        }),
        ("DescribeTasks", None, Some(inst)) => st.find(|j| {
            j.provider == ProviderKind::Tencent
                && j.api() == "DescribeTasks"
                && (j.instance_id.as_deref() == Some(inst.as_str())
                    || j.detail.instance_ids.contains(inst))
        }),
        _ => Vec::new(),
    };
    let job_id = match (action.as_str(), targets.as_slice()) {
        ("DescribeAsyncRequestInfo", _) => async_id,
        (_, [one]) => Some(st.jobs[*one].spec.job_id.clone()),
        _ => None,
    };
    Target {
        provider: ProviderKind::Tencent,
        api: if action.is_empty() {
            "(no X-TC-Action)".into()
        } else {
            action
        },
        job_id,
        targets,
    }
}

fn error(st: &mut SimState, code: &str, message: &str) -> Reply {
    let id = st.request_id();
    Reply::json(200, &render::error(code, message, &id))
}

/// `RequestLimitExceeded`.
pub(crate) fn throttled(st: &mut SimState) -> Reply {
    error(
        st,
        "RequestLimitExceeded",
        "Your current request times equals to `100` in a second, which exceeds the frequency limit `100` for a second. Please reduce the frequency of calls.",
    )
}

/// Checks the envelope and signature, then answers the action.
pub(crate) fn answer(
    st: &mut SimState,
    req: &Incoming<'_>,
    target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    if req.method != http::Method::POST {
        return error(
            st,
            "UnsupportedProtocol",
            "The simulator serves API 3.0 as POST / with a JSON body.",
        );
    }
    for name in [
        "x-tc-action",
        "x-tc-version",
        "x-tc-region",
        "x-tc-timestamp",
    ] {
        if req.header(name).is_none_or(|v| v.trim().is_empty()) {
            return error(
                st,
                "MissingParameter",
                &format!("The request is missing a required header `{name}`."),
            );
        }
    }
    let input = Tc3Input {
        authorization: req.header("authorization"),
        timestamp: req.header("x-tc-timestamp"),
        host: Some(req.host),
        content_type: req.header("content-type"),
        body: req.body,
    };
    let unix = unix_now(st.config.clock_skew_secs);
    // Temporary keys from workload identity: valid only unexpired and with their own token.
    if let Some(secret_id) = secret_id(req) {
        if st.sts.expired(ProviderKind::Tencent, &secret_id, unix) {
            return error(st, "AuthFailure.TokenFailure", "The token has expired.");
        }
        let token = st
            .sts
            .valid_keys(ProviderKind::Tencent, unix)
            .find(|k| k.id == secret_id)
            .map(|k| k.token.clone());
        if token.is_some_and(|t| req.header("x-tc-token").map(str::trim) != Some(t.as_str())) {
            return error(
                st,
                "AuthFailure.TokenFailure",
                "The token is invalid for this SecretId.",
            );
        }
    }
    let accepted = st
        .sts
        .accepted(&st.config.credentials, ProviderKind::Tencent, unix);
    if let Err(e) = verify_tc3(&accepted, &input, unix) {
        return error(st, e.code, &e.message);
    }
    if req.header("x-tc-version") != Some(VERSION) {
        return error(
            st,
            "NoSuchVersion",
            &format!("The API version does not exist; cdb serves {VERSION}."),
        );
    }
    let Some(body) = body_json(req) else {
        return error(
            st,
            "InvalidParameter",
            "The request body is not a JSON object.",
        );
    };
    match target.api.as_str() {
        "DescribeTasks" => describe_tasks(st, &body, hidden, now),
        "DescribeAsyncRequestInfo" => describe_async(st, &body, target, hidden, now),
        other => error(
            st,
            "InvalidAction",
            &format!("The action `{other}` is not supported by the simulator."),
        ),
    }
}

/// Whether any Tencent job names the instance (started or not): the simulator knows the
/// instances its scenarios mention, so a job due later makes an idle instance listable.
fn instance_known(st: &SimState, instance: &str) -> bool {
    st.jobs.iter().any(|j| {
        j.spec.provider == ProviderKind::Tencent
            && (j.spec.instance_id.as_deref() == Some(instance)
                || j.spec.detail.instance_ids.iter().any(|i| i == instance))
    })
}

fn int_list(body: &serde_json::Map<String, Value>, name: &str) -> Option<Vec<i64>> {
    body.get(name)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(value_to_i64).collect())
}

fn describe_tasks(
    st: &mut SimState,
    body: &serde_json::Map<String, Value>,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    let offset = body.get("Offset").and_then(value_to_i64).unwrap_or(0);
    let limit = body.get("Limit").and_then(value_to_i64).unwrap_or(20);
    if offset < 0 || !(0..=100).contains(&limit) {
        return error(
            st,
            "InvalidParameterValue",
            "Offset must be >= 0 and Limit within 0..100.",
        );
    }
    let instance = param(body, "InstanceId");
    let async_id = param(body, "AsyncRequestId");
    let types = int_list(body, "TaskTypes");
    let statuses = int_list(body, "TaskStatus");
    // The documented window on the task's start time (`YYYY-MM-DD HH:MM:SS`, UTC+08:00).
    let mut window = [None, None];
    for (slot, name) in window.iter_mut().zip(["StartTimeBegin", "StartTimeEnd"]) {
        if let Some(text) = param(body, name) {
            match parse_tencent_time(&text) {
                Some(t) => *slot = Some(t),
                None => {
                    return error(
                        st,
                        "InvalidParameterValue",
                        &format!("{name} must be a time like 2017-12-31 10:40:01."),
                    )
                }
            }
        }
    }
    let [begin, end] = window;
    if let Some(inst) = &instance {
        if !instance_known(st, inst) {
            return error(
                st,
                "InvalidParameter.InstanceNotFound",
                &format!("The instance {inst} does not exist."),
            );
        }
    }
    let candidates = st.find(|j| {
        j.provider == ProviderKind::Tencent
            && j.api() == "DescribeTasks"
            && instance.as_ref().is_none_or(|i| {
                j.instance_id.as_ref() == Some(i) || j.detail.instance_ids.contains(i)
            })
            && async_id
                .as_ref()
                .is_none_or(|a| j.async_request_id.as_ref() == Some(a))
            && types.as_ref().is_none_or(|t| t.contains(&j.kind.code()))
    });
    let mut items = Vec::new();
    for idx in candidates {
        if hidden.contains(&idx) {
            continue;
        }
        let Some(view) = st.view(idx, now) else {
            continue;
        };
        if statuses
            .as_ref()
            .is_some_and(|s| !s.contains(&render::seed_status(view.state.phase)))
            || begin.is_some_and(|b| view.start < b)
            || end.is_some_and(|e| view.start > e)
        {
            continue;
        }
        let job = &st.jobs[idx].spec;
        let rj = RenderJob {
            job,
            state: &view.state,
            start: view.start,
            end: view.end,
        };
        items.push(match job.shape.unwrap_or_default() {
            Shape::Real => render::real_item(&rj),
            Shape::Seed => render::seed_item(&rj),
        });
    }
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    let id = st.request_id();
    Reply::json(200, &render::describe_tasks(page, total, &id))
}

fn describe_async(
    st: &mut SimState,
    body: &serde_json::Map<String, Value>,
    target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    if param(body, "AsyncRequestId").is_none() {
        return error(
            st,
            "MissingParameter",
            "The parameter `AsyncRequestId` is missing.",
        );
    }
    let found = target
        .targets
        .iter()
        .copied()
        .filter(|idx| !hidden.contains(idx))
        .find_map(|idx| st.view(idx, now).map(|v| (idx, v)));
    let Some((idx, view)) = found else {
        return error(
            st,
            "InvalidParameter.InvalidAsyncRequestId",
            "The AsyncRequestId does not exist.",
        );
    };
    let id = st.request_id();
    let job = &st.jobs[idx].spec;
    let rj = RenderJob {
        job,
        state: &view.state,
        start: view.start,
        end: view.end,
    };
    Reply::json(200, &render::async_request_info(&rj, &id))
}
