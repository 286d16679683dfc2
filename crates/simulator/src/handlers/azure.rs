//! Azure: Microsoft Entra ID's token endpoint (`POST /{tenant}/oauth2/v2.0/token`) and
//! Azure Resource Manager's async-operation status resource
//! (`GET /subscriptions/{sub}/providers/{namespace}/locations/{region}/azureAsyncOperation/{id}?api-version=..`)
//! at the same address. ARM checks the bearer token first, then the path and api-version;
//! answers carry `x-ms-request-id`, `x-ms-correlation-request-id` and the remaining-reads
//! header; errors are ARM's `{"error": {"code", "message"}}` envelope.

use super::{Incoming, Reply, Target};
use crate::auth::{verify_bearer, verify_token_request, EntraError, TokenRequestInput};
use crate::render::{azure as render, RenderJob};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

/// The recorder's API name for token requests (`by_api["entra-token"]` counts them).
pub const TOKEN_API: &str = "entra-token";
/// Reads left in the subscription's window, as ARM reports them (never exhausted here).
const REMAINING_READS: &str = "11999";

/// Whether a request is for the token endpoint.
pub(crate) fn speaks_token(req: &Incoming<'_>) -> bool {
    req.path.ends_with("/oauth2/v2.0/token")
}

/// Whether a request is for ARM.
pub(crate) fn speaks_arm(req: &Incoming<'_>) -> bool {
    req.path
        .get(..15)
        .is_some_and(|p| p.eq_ignore_ascii_case("/subscriptions/"))
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// The parts of a status path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OperationPath {
    subscription: String,
    namespace: String,
    region: String,
    job_id: String,
}

fn parse_path(path: &str) -> Option<OperationPath> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let [s, sub, p, ns, l, region, a, job] = segments.as_slice() else {
        return None;
    };
    let literal = [
        (s, "subscriptions"),
        (p, "providers"),
        (l, "locations"),
        (a, "azureAsyncOperation"),
    ];
    if !literal
        .iter()
        .all(|(got, want)| got.eq_ignore_ascii_case(want))
    {
        return None;
    }
    Some(OperationPath {
        subscription: decode(sub),
        namespace: decode(ns),
        region: decode(region),
        job_id: decode(job),
    })
}

/// `spec.api` and api-version of a namespace (ARM compares namespaces case-insensitively).
fn api_of(namespace: &str) -> Option<(&'static str, &'static str)> {
    render::APIS
        .iter()
        .find(|(_, ns, _)| ns.eq_ignore_ascii_case(namespace))
        .map(|(api, _, version)| (*api, *version))
}

/// The jobs a request concerns.
pub(crate) fn target(st: &SimState, req: &Incoming<'_>) -> Target {
    if speaks_token(req) {
        return Target {
            provider: ProviderKind::Azure,
            api: TOKEN_API.into(),
            job_id: None,
            targets: Vec::new(),
        };
    }
    let parsed = parse_path(req.path);
    let api = parsed
        .as_ref()
        .and_then(|p| api_of(&p.namespace))
        .map(|(a, _)| a);
    let targets = match (&parsed, api) {
        (Some(p), Some(api)) => st.find(|j| {
            j.provider == ProviderKind::Azure
                && j.api() == api
                && j.job_id.eq_ignore_ascii_case(&p.job_id)
        }),
        _ => Vec::new(),
    };
    Target {
        provider: ProviderKind::Azure,
        api: api.map_or_else(|| format!("({})", req.path), String::from),
        job_id: parsed.map(|p| p.job_id),
        targets,
    }
}

fn arm_reply(st: &mut SimState, status: u16, body: &serde_json::Value) -> Reply {
    let id = st.request_id();
    let correlation = st.request_id();
    Reply::json(status, body)
        .with_header("x-ms-request-id", id)
        .with_header("x-ms-correlation-request-id", correlation)
        .with_header(
            "x-ms-ratelimit-remaining-subscription-reads",
            REMAINING_READS.into(),
        )
}

fn arm_error(st: &mut SimState, status: u16, code: &str, message: &str) -> Reply {
    arm_reply(st, status, &render::arm_error(code, message))
}

fn token_refusal(st: &mut SimState, e: &EntraError, now: Clock) -> Reply {
    let trace = st.request_id();
    let correlation = st.request_id();
    let body = render::token_error(
        e.error,
        e.aadsts,
        &e.description,
        &trace,
        &correlation,
        now.wall,
    );
    Reply::json(e.status, &body).with_header("x-ms-request-id", trace)
}

/// Throttling: ARM's 429 `TooManyRequests` (or the token endpoint's 429) with `Retry-After`.
pub(crate) fn throttled(
    st: &mut SimState,
    target: &Target,
    retry_after: Option<u64>,
    now: Clock,
) -> Reply {
    let seconds = retry_after.unwrap_or(1).to_string();
    if target.api == TOKEN_API {
        let e = EntraError {
            status: 429,
            error: "temporarily_unavailable",
            aadsts: 50196,
            description: "The server terminated an operation because it encountered a client request loop. Please contact your app vendor.".into(),
        };
        return token_refusal(st, &e, now).with_header("retry-after", seconds);
    }
    arm_error(
        st,
        429,
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, see - https://aka.ms/srpthrottlinglimits",
    )
    .with_header("retry-after", seconds)
    .with_header("x-ms-ratelimit-remaining-subscription-reads", "0".into())
}

/// A federated client assertion (workload identity): the ServiceAccount token is checked
/// against the trusted issuer, and the app (`client_id`, a role of the workload identity
/// configuration whose identity provider is the tenant) must trust its subject. The
/// issued token's lifetime in seconds on success.
fn verify_federated(
    st: &mut SimState,
    tenant: &str,
    field: &dyn Fn(&str) -> Option<String>,
) -> Result<u64, EntraError> {
    let refuse = |status: u16, error: &'static str, aadsts: u32, description: &str| EntraError {
        status,
        error,
        aadsts,
        description: description.to_string(),
    };
    if field("client_assertion_type").as_deref()
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err(refuse(
            400,
            "invalid_request",
            70002,
            "The client_assertion_type is not supported.",
        ));
    }
    if field("grant_type").as_deref() != Some("client_credentials") {
        return Err(refuse(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        ));
    }
    if field("scope").as_deref() != Some(clouddb_providers::azure::endpoints::ARM_SCOPE) {
        return Err(refuse(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid.",
        ));
    }
    let (Some(client), Some(assertion)) = (field("client_id"), field("client_assertion")) else {
        return Err(refuse(
            400,
            "invalid_request",
            900144,
            "The request body must contain client_id and client_assertion.",
        ));
    };
    let unix = super::unix_now(st.config.clock_skew_secs);
    match st
        .sts
        .verify(&client, Some(tenant), &assertion, "api://AzureADTokenExchange", unix)
    {
        Ok(grant) => {
            st.sts.count_exchange();
            Ok(u64::try_from(grant.expires - unix).unwrap_or(1).max(1))
        }
        Err(crate::sts::Refusal::NoProvider) | Err(crate::sts::Refusal::InvalidToken(_)) => Err(refuse(
            400,
            "invalid_client",
            700211,
            "No matching federated identity record found for presented assertion issuer, or the assertion is not valid.",
        )),
        Err(crate::sts::Refusal::NotTrusted) => Err(refuse(
            400,
            "invalid_client",
            70021,
            "No matching federated identity record found for presented assertion. Check the subject of the app's federated credential.",
        )),
    }
}

/// Issues a token, or refuses the request as Entra does.
fn token(st: &mut SimState, req: &Incoming<'_>, now: Clock) -> Reply {
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let tenant = segments
        .len()
        .checked_sub(4)
        .and_then(|i| segments.get(i))
        .map(|t| decode(t))
        .unwrap_or_default();
    let input = TokenRequestInput {
        method: req.method.as_str(),
        tenant: &tenant,
        content_type: req.header("content-type"),
        body: req.body,
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let mut lifetime = st.config.azure_token_lifetime;
    if field("client_assertion_type").is_some() {
        // Workload identity: a federated credential of the app trusts the assertion; the
        // token lives as long as the workload identity configuration says.
        match verify_federated(st, &tenant, &field) {
            Ok(secs) => lifetime = std::time::Duration::from_secs(secs),
            Err(e) => return token_refusal(st, &e, now),
        }
    } else if let Err(e) = verify_token_request(&st.config.credentials, &input) {
        return token_refusal(st, &e, now);
    }
    let random: u128 = rand::Rng::random(&mut st.rng);
    let token = st
        .azure_tokens
        .issue(lifetime, now.instant, now.wall, random);
    let id = st.request_id();
    Reply::json(200, &render::token(&token, lifetime.as_secs()))
        .with_header("x-ms-request-id", id)
        .with_header("cache-control", "no-store, no-cache".into())
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Answers a token request or a status read.
pub(crate) fn answer(
    st: &mut SimState,
    req: &Incoming<'_>,
    target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    if target.api == TOKEN_API {
        return token(st, req, now);
    }
    if let Err(e) = verify_bearer(
        &st.azure_tokens,
        req.header("authorization"),
        now.instant,
        now.wall,
    ) {
        let challenge = format!(
            "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{}\"",
            e.message.replace('"', "'")
        );
        return arm_error(st, 401, e.code, &e.message).with_header("www-authenticate", challenge);
    }
    if req.method != http::Method::GET {
        return arm_error(
            st,
            405,
            "MethodNotAllowed",
            &format!(
                "The requested resource does not support http method '{}'.",
                req.method
            ),
        );
    }
    let Some(path) = parse_path(req.path) else {
        return arm_error(
            st,
            400,
            "InvalidResourceType",
            &format!(
                "The resource type could not be found for the request path '{}'.",
                req.path
            ),
        );
    };
    if !is_guid(&path.subscription) {
        return arm_error(
            st,
            400,
            "InvalidSubscriptionId",
            &format!(
                "The provided subscription identifier '{}' is malformed or invalid.",
                path.subscription
            ),
        );
    }
    let Some((api, version)) = api_of(&path.namespace) else {
        return arm_error(
            st,
            404,
            "InvalidResourceNamespace",
            &format!("The resource namespace '{}' is invalid.", path.namespace),
        );
    };
    let versions: Vec<String> = req
        .query_pairs()
        .into_iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(_, v)| v)
        .collect();
    match versions.as_slice() {
        [] => {
            return arm_error(
                st,
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        }
        [v] if v == version => {}
        [v, ..] => {
            return arm_error(
                st,
                400,
                "InvalidApiVersionParameter",
                &format!(
                    "The api-version '{v}' is invalid. The supported versions are '{version}'."
                ),
            )
        }
    }
    let resource = format!(
        "{}/locations/{}/azureAsyncOperation/{}",
        path.namespace, path.region, path.job_id
    );
    let not_found = |st: &mut SimState| {
        arm_error(
            st,
            404,
            "ResourceNotFound",
            &format!("The Resource '{resource}' under resource group '<null>' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
        )
    };
    let Some(&idx) = target.targets.iter().find(|i| !hidden.contains(i)) else {
        return not_found(st);
    };
    debug_assert_eq!(st.jobs[idx].spec.api(), api);
    let Some(view) = st.view(idx, now) else {
        return not_found(st);
    };
    let operation_path = format!(
        "/subscriptions/{}/providers/{}/locations/{}/azureAsyncOperation/{}",
        path.subscription, path.namespace, path.region, st.jobs[idx].spec.job_id
    );
    let job = &st.jobs[idx].spec;
    let rj = RenderJob {
        job,
        state: &view.state,
        start: view.start,
        end: view.end,
    };
    let body = render::operation(&rj, &operation_path);
    arm_reply(st, 200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_paths() {
        let p = parse_path("/subscriptions/s/providers/Microsoft.DBforMySQL/locations/westeurope/AzureAsyncOperation/a%2Fb").unwrap();
        assert_eq!(p.job_id, "a/b");
        assert_eq!(p.namespace, "Microsoft.DBforMySQL");
        assert_eq!(
            api_of("microsoft.dbforpostgresql"),
            Some(("postgresql-flexible", "2024-08-01"))
        );
        assert!(
            parse_path("/subscriptions/s/providers/x/locations/r/operationResults/j").is_none()
        );
        assert!(parse_path("/subscriptions/s").is_none());
        assert!(is_guid("5a1e0000-0000-4000-8000-000000005ab0"));
        assert!(!is_guid("5a1e0000-0000-4000-8000-000000005ab"));
        assert!(!is_guid("zzzzzzzz-0000-4000-8000-000000005ab0"));
    }
}
