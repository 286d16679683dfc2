//! Google Cloud SQL Admin API v1 `operations.get` (`GET /v1/projects/{project}/operations/
//! {operation}`, bearer token), `operations.list` by `instance` with `maxResults` and
//! `pageToken` (discovery) and the OAuth2 token endpoint (`POST /token`, the JWT-bearer
//! grant) at the same address, as `token_uri` and `spec.endpoint` point both here.
//!
//! Tokens come from the token endpoint only, live `gcp_token_lifetime_secs`, and can be
//! revoked all at once (control API); an unknown, expired or revoked token is Google's 401
//! `UNAUTHENTICATED`. The token endpoint is not subject to fault rules (they concern the
//! API and its jobs) but every token request is counted.

use super::gcp_error::google_error;
use super::{gcp_list, unix_now, Handled, Incoming, Reply, Shared, Target};
use crate::auth::{verify_jwt_bearer, IssuedToken, TokenCheck};
use crate::render::{gcp as render, RenderJob};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

/// The token endpoint's path (the default key's `token_uri` is `<simulator>/token`).
pub const TOKEN_PATH: &str = "/token";
/// The `api` name recorded for token requests.
pub const TOKEN_API: &str = "gcp-token";
/// The Security Token Service's token-exchange path (workload identity federation).
pub const STS_PATH: &str = "/v1/token";
/// The `api` name recorded for federation requests.
pub const FEDERATION_API: &str = "gcp-federation";
/// The prefix the simulator gives a federated principal in its token store.
const PRINCIPAL: &str = "principal:";

const MISSING_CREDENTIALS: &str = "Request is missing required authentication credential. \
    Expected OAuth 2 access token, login cookie or other valid authentication credential. \
    See https://developers.google.com/identity/sign-in/web/devconsole-project.";
const INVALID_CREDENTIALS: &str = "Request had invalid authentication credentials. \
    Expected OAuth 2 access token, login cookie or other valid authentication credential. \
    See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/// `(project, operation)` of an operations path, after any prefix.
fn parse_path(path: &str) -> Option<(String, String)> {
    let at = path.find("/v1/projects/")?;
    let rest = &path[at + "/v1/projects/".len()..];
    let mut parts = rest.split('/');
    let project = parts.next()?;
    if parts.next()? != "operations" {
        return None;
    }
    let operation = parts.next()?;
    if parts.next().is_some() || project.is_empty() || operation.is_empty() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((decode(project), decode(operation)))
}

/// Whether a request is for this API.
pub(crate) fn speaks(req: &Incoming<'_>) -> bool {
    parse_path(req.path).is_some()
        || gcp_list::parse_list_path(req.path).is_some()
        || gcp_list::parse_instance_path(req.path).is_some()
}

/// The job the path names, if the simulator has it for that project; for a list, the jobs
/// of the `instance` filter.
pub(crate) fn target(st: &SimState, req: &Incoming<'_>) -> Target {
    if let Some((project, instance)) = gcp_list::parse_instance_path(req.path) {
        return Target {
            provider: ProviderKind::Gcp,
            api: gcp_list::INSTANCE_API.to_string(),
            job_id: None,
            targets: gcp_list::listed(st, &project, Some(&instance)),
        };
    }
    if let Some(project) = gcp_list::parse_list_path(req.path) {
        let instance = gcp_list::query_param(req, "instance");
        return Target {
            provider: ProviderKind::Gcp,
            api: gcp_list::LIST_API.to_string(),
            job_id: None,
            targets: gcp_list::listed(st, &project, instance.as_deref()),
        };
    }
    let (project, operation) = parse_path(req.path).unwrap_or_default();
    let targets = st.find(|j| {
        j.provider == ProviderKind::Gcp
            && j.job_id == operation
            && j.project_id.as_deref().is_none_or(|p| p == project)
    });
    Target {
        provider: ProviderKind::Gcp,
        api: ProviderKind::Gcp.default_api().to_string(),
        job_id: Some(operation),
        targets,
    }
}

/// The scopes a caller of the IAM Credentials API's `generateAccessToken` needs (one of).
const IAM_CALLER_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/iam",
    "https://www.googleapis.com/auth/cloud-platform",
];

/// HTTP 429 `RESOURCE_EXHAUSTED`, as the API answers a quota overrun.
pub(crate) fn throttled(retry_after: Option<u64>) -> Reply {
    google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "rateLimitExceeded",
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of \
         service 'sqladmin.googleapis.com'.",
    )
    .with_header("retry-after", retry_after.unwrap_or(1).to_string())
}

/// Answers a token request (`POST /token`), recorded but never faulted.
pub(crate) fn token(state: &Shared, req: &Incoming<'_>) -> Handled {
    let mut st = super::lock(state);
    st.gcp_tokens.requests += 1;
    let reply = if req.method != http::Method::POST {
        Reply::json(
            405,
            &render::token_error("invalid_request", "The token endpoint takes POST."),
        )
    } else {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let now = unix_now(st.config.clock_skew_secs);
        match verify_jwt_bearer(&st.config.credentials, &form, req.host, now) {
            Err(e) => Reply::json(e.status, &render::token_error(e.error, &e.description)),
            Ok(grant) => {
                let lifetime = st.config.gcp_token_lifetime_secs.max(1);
                let token = format!("ya29.sim-{:032x}", rand::Rng::random::<u128>(&mut st.rng));
                let issued = IssuedToken {
                    client_email: grant.client_email,
                    scopes: grant.scopes,
                    expires_at: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
                };
                st.gcp_tokens.insert(token.clone(), issued, now);
                Reply::json(200, &render::token(&token, lifetime))
            }
        }
    };
    Handled {
        reply,
        provider: Some(ProviderKind::Gcp),
        api: TOKEN_API.to_string(),
        job_id: None,
        fault: None,
    }
}

/// Whether a request is workload identity federation: the STS token exchange, or IAM
/// Credentials `generateAccessToken` (whose path would otherwise look like an operation's).
pub(crate) fn speaks_federation(req: &Incoming<'_>) -> bool {
    req.path == STS_PATH
        || (req.path.contains("/serviceAccounts/") && req.path.ends_with(":generateAccessToken"))
}

/// The STS token exchange (RFC 8693) and IAM Credentials impersonation, against the workload
/// identity configuration: the pool provider's resource name stands for a role, the
/// ServiceAccount subjects it trusts; a service account is a role too, trusting the subjects
/// that may impersonate it.
pub(crate) fn federation(st: &mut SimState, req: &Incoming<'_>) -> Reply {
    let now = unix_now(st.config.clock_skew_secs);
    if req.method != http::Method::POST {
        return Reply::json(405, &render::token_error("invalid_request", "POST only."));
    }
    if req.path == STS_PATH {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if field("grant_type") != Some("urn:ietf:params:oauth:grant-type:token-exchange")
            || field("subject_token_type") != Some("urn:ietf:params:oauth:token-type:jwt")
        {
            return Reply::json(
                400,
                &render::token_error(
                    "invalid_request",
                    "Invalid value for \"grant_type\" or \"subject_token_type\".",
                ),
            );
        }
        let (Some(audience), Some(subject_token)) = (field("audience"), field("subject_token"))
        else {
            return Reply::json(
                400,
                &render::token_error(
                    "invalid_request",
                    "audience and subject_token are required.",
                ),
            );
        };
        let provider = audience.trim_start_matches("//iam.googleapis.com/");
        return match st.sts.verify(provider, None, subject_token, audience, now) {
            Ok(grant) => {
                st.sts.count_exchange();
                let token = format!(
                    "ya29.sim-federated-{:032x}",
                    rand::Rng::random::<u128>(&mut st.rng)
                );
                let issued = IssuedToken {
                    client_email: format!("{PRINCIPAL}{}", grant.subject),
                    // The scopes asked for, as Google STS grants them.
                    scopes: field("scope")
                        .unwrap_or("https://www.googleapis.com/auth/cloud-platform")
                        .split_whitespace()
                        .map(String::from)
                        .collect(),
                    expires_at: grant.expires,
                };
                st.gcp_tokens.insert(token.clone(), issued, now);
                let lifetime = u64::try_from(grant.expires - now).unwrap_or(1);
                let mut body = render::token(&token, lifetime);
                body["issued_token_type"] = "urn:ietf:params:oauth:token-type:access_token".into();
                Reply::json(200, &body)
            }
            Err(crate::sts::Refusal::NotTrusted) => Reply::json(
                400,
                &render::token_error(
                    "unauthorized_client",
                    "The given credential is rejected by the attribute condition.",
                ),
            ),
            Err(_) => Reply::json(
                400,
                &render::token_error(
                    "invalid_grant",
                    "The audience or the subject token is invalid.",
                ),
            ),
        };
    }
    // IAM Credentials: .../serviceAccounts/<email>:generateAccessToken
    let email = req
        .path
        .rsplit("/serviceAccounts/")
        .next()
        .and_then(|rest| rest.strip_suffix(":generateAccessToken"))
        .map(|e| {
            percent_encoding::percent_decode_str(e)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let Some(holder) = st.gcp_tokens.holder(req.header("authorization"), now) else {
        return google_error(401, "UNAUTHENTICATED", "authError", INVALID_CREDENTIALS);
    };
    // generateAccessToken needs a caller token scoped for IAM (`iam` or `cloud-platform`),
    // as Google checks: a federated token asked only for Cloud SQL's scope is refused.
    if !holder
        .scopes
        .iter()
        .any(|s| IAM_CALLER_SCOPES.contains(&s.as_str()))
    {
        return google_error(
            403,
            "PERMISSION_DENIED",
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "Request had insufficient authentication scopes.",
        );
    }
    let subject = holder
        .client_email
        .strip_prefix(PRINCIPAL)
        .unwrap_or_default()
        .to_string();
    if !st.sts.trusts(&email, &subject) {
        return google_error(
            403,
            "PERMISSION_DENIED",
            "IAM_PERMISSION_DENIED",
            &format!("Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist): {email}"),
        );
    }
    let scopes: Vec<String> = serde_json::from_slice::<serde_json::Value>(req.body)
        .ok()
        .and_then(|b| b["scope"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(String::from))
        .collect();
    let expires = now + st.sts.lifetime_secs();
    let token = format!("ya29.sim-{:032x}", rand::Rng::random::<u128>(&mut st.rng));
    st.gcp_tokens.insert(
        token.clone(),
        IssuedToken {
            client_email: email,
            scopes,
            expires_at: expires,
        },
        now,
    );
    let expire_time = jiff::Timestamp::from_second(expires)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    Reply::json(
        200,
        &serde_json::json!({"accessToken": token, "expireTime": expire_time}),
    )
}

/// Checks the bearer token, then answers with the operation (404 when unknown or hidden).
pub(crate) fn answer(
    st: &mut SimState,
    req: &Incoming<'_>,
    target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    let server_now = unix_now(st.config.clock_skew_secs);
    let unauthenticated = |message| {
        google_error(401, "UNAUTHENTICATED", "authError", message).with_header(
            "www-authenticate",
            "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"".to_string(),
        )
    };
    match st.gcp_tokens.check(req.header("authorization"), server_now) {
        TokenCheck::Valid => {}
        TokenCheck::Missing => return unauthenticated(MISSING_CREDENTIALS),
        TokenCheck::Invalid => return unauthenticated(INVALID_CREDENTIALS),
        TokenCheck::InsufficientScope => {
            return google_error(
                403,
                "PERMISSION_DENIED",
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
            )
        }
    }
    if req.method != http::Method::GET {
        return google_error(
            405,
            "INVALID_ARGUMENT",
            "badRequest",
            "operations.get takes GET.",
        );
    }
    if let Some((project, instance)) = gcp_list::parse_instance_path(req.path) {
        return gcp_list::get_instance(st, &project, &instance);
    }
    if let Some(project) = gcp_list::parse_list_path(req.path) {
        return gcp_list::list_operations(st, req, &project, target, (hidden, now));
    }
    let (project, _) = parse_path(req.path).unwrap_or_default();
    let base = format!("http://{}", req.host);
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
        return Reply::json(200, &render::operation(&rj, &project, &base));
    }
    google_error(
        404,
        "NOT_FOUND",
        "operationDoesNotExist",
        "The Cloud SQL operation does not exist.",
    )
}

#[cfg(test)]
mod tests {
    use super::parse_path;

    #[test]
    fn operation_paths_parse_after_any_prefix() {
        assert_eq!(
            parse_path("/v1/projects/p-1/operations/op%2F1"),
            Some(("p-1".into(), "op/1".into()))
        );
        assert_eq!(
            parse_path("/sql/v1/projects/p/operations/o"),
            Some(("p".into(), "o".into()))
        );
        for bad in [
            "/v1/projects/p/instances/i",
            "/v1/projects//operations/o",
            "/v1/projects/p/operations/",
            "/v1/projects/p/operations/o/x",
            "/token",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }
}
