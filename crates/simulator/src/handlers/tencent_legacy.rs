//! Tencent API 2.0: `GET /v2/index.php?Action=...&jobId=...` signed with HmacSHA1 or
//! HmacSHA256; errors are HTTP 200 with `{code, message, codeDesc}`.

use super::{unix_now, Incoming, Reply, Target};
use crate::auth::verify_v2;
use crate::render::{tencent_legacy as render, RenderJob};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

fn get(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

/// The job named by `Action` and `jobId`.
pub(crate) fn target(st: &SimState, req: &Incoming<'_>) -> Target {
    let pairs = req.query_pairs();
    let action = get(&pairs, "Action").unwrap_or_else(|| "(no Action)".into());
    let job_id = get(&pairs, "jobId");
    let targets = match &job_id {
        Some(id) => st.find(|j| {
            j.provider == ProviderKind::TencentLegacy && j.api() == action && j.job_id == *id
        }),
        None => Vec::new(),
    };
    Target {
        provider: ProviderKind::TencentLegacy,
        api: action,
        job_id,
        targets,
    }
}

fn error(code: i64, code_desc: &str, message: &str) -> Reply {
    Reply::json(200, &render::error(code, code_desc, message))
}

/// Code 4400.
pub(crate) fn throttled() -> Reply {
    error(
        4400,
        "RequestLimitExceeded",
        "(4400) request frequency limit exceeded",
    )
}

/// Checks the signature and nonce, then answers the action.
pub(crate) fn answer(
    st: &mut SimState,
    req: &Incoming<'_>,
    target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    if req.method != http::Method::GET && req.method != http::Method::POST {
        return error(4600, "UnsupportedProtocol", "(4600) use GET or POST");
    }
    let pairs = req.query_pairs();
    let unix = unix_now(st.config.clock_skew_secs);
    let (creds, nonces) = (&st.config.credentials, &mut st.nonces);
    if let Err(e) = verify_v2(
        creds,
        req.method.as_str(),
        req.host,
        req.path,
        &pairs,
        unix,
        nonces,
    ) {
        return error(e.code, e.code_desc, &e.message);
    }
    if !ProviderKind::TencentLegacy
        .apis()
        .contains(&target.api.as_str())
    {
        return error(4000, "InvalidAction", "(4000) unsupported Action");
    }
    if target.job_id.is_none() {
        return error(4000, "MissingParameter", "(4000) missing parameter jobId");
    }
    let found = target
        .targets
        .iter()
        .copied()
        .filter(|idx| !hidden.contains(idx))
        .find_map(|idx| st.view(idx, now).map(|v| (idx, v)));
    let Some((idx, view)) = found else {
        return error(5000, "ResourceNotFound", "(5000) the job does not exist");
    };
    let job = &st.jobs[idx].spec;
    let rj = RenderJob {
        job,
        state: &view.state,
        start: view.start,
        end: view.end,
    };
    let body = match target.api.as_str() {
        "GetCdbUpgradeJobInfo" => render::upgrade_job_info(&rj),
        "GetCdbRollbackJobTask" => render::rollback_job_task(&rj),
        _ => render::task_info(&rj),
    };
    Reply::json(200, &body)
}
