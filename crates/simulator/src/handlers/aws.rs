//! AWS RDS Query API: `POST /` with a form body `Action=...&Version=2014-10-31&...`, signed
//! with SigV4 (service `rds`); `DescribeExportTasks`, `DescribeDBSnapshots`,
//! `DescribeDBClusterSnapshots` and `DescribeBlueGreenDeployments`. Answers are XML with
//! `x-amzn-RequestId`; errors are `<ErrorResponse>` with AWS's HTTP statuses.

use super::{unix_now, Incoming, Reply, Target};
use crate::auth::{verify_aws, AwsInput};
use crate::render::{aws as render, RenderJob};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

/// The API version this simulator serves.
pub const VERSION: &str = "2014-10-31";

const XML: &str = "text/xml";

fn form(req: &Incoming<'_>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The spec APIs an action serves and the parameter naming the job.
fn apis(action: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match action {
        "DescribeExportTasks" => (&["export-task"], "ExportTaskIdentifier"),
        "DescribeDBSnapshots" => (&["db-snapshot"], "DBSnapshotIdentifier"),
        "DescribeDBClusterSnapshots" => (&["cluster-snapshot"], "DBClusterSnapshotIdentifier"),
        "DescribeBlueGreenDeployments" => (
            &["blue-green", "blue-green-switchover"],
            "BlueGreenDeploymentIdentifier",
        ),
        _ => return None,
    })
}

/// Whether a request to `/` is for this API: a form `POST` naming an `Action`, without
/// Tencent's `X-TC-Action` header.
pub(crate) fn speaks(req: &Incoming<'_>) -> bool {
    req.header("x-tc-action").is_none()
        && req.method == http::Method::POST
        && !req.body.starts_with(b"{")
        && form(req).iter().any(|(k, _)| k == "Action")
}

/// The jobs the identifier names (case-insensitively, as RDS treats identifiers).
pub(crate) fn target(st: &SimState, req: &Incoming<'_>) -> Target {
    let form = form(req);
    let action = param(&form, "Action").unwrap_or_default().to_string();
    let (targets, job_id, api) = match apis(&action) {
        Some((names, parameter)) => {
            let id = param(&form, parameter).map(String::from);
            let targets = match &id {
                Some(id) => st.find(|j| {
                    j.provider == ProviderKind::Aws
                        && names.contains(&j.api())
                        && j.job_id.eq_ignore_ascii_case(id)
                }),
                None => Vec::new(),
            };
            let api = match targets.first() {
                Some(idx) => st.jobs[*idx].spec.api().to_string(),
                None => names[0].to_string(),
            };
            (targets, id, api)
        }
        None => (Vec::new(), None, format!("({action})")),
    };
    Target {
        provider: ProviderKind::Aws,
        api,
        job_id,
        targets,
    }
}

fn error(st: &mut SimState, status: u16, code: &str, message: &str) -> Reply {
    let id = st.request_id();
    Reply::Http {
        status,
        body: render::error(status, code, message, &id).into_bytes(),
        content_type: XML,
        headers: vec![("x-amzn-RequestId", id)],
    }
}

/// The access key ID of a SigV4 `Authorization` header.
fn access_key_id(req: &Incoming<'_>) -> Option<String> {
    crate::verify::sigv4::parse_authorization(req.header("authorization")?).map(|a| a.key_id)
}

/// Whether a request to `/` is an AWS STS `AssumeRoleWithWebIdentity` (unsigned: the token
/// in the form is the credential).
pub(crate) fn speaks_sts(req: &Incoming<'_>) -> bool {
    speaks(req) && param(&form(req), "Action") == Some("AssumeRoleWithWebIdentity")
}

/// AWS STS `AssumeRoleWithWebIdentity` against the workload identity configuration.
pub(crate) fn assume_role_with_web_identity(st: &mut SimState, req: &Incoming<'_>) -> Reply {
    let form = form(req);
    if param(&form, "Version") != Some(crate::sts::AWS_STS_VERSION) {
        return error(
            st,
            400,
            "InvalidAction",
            "Could not find operation AssumeRoleWithWebIdentity for that version",
        );
    }
    let (Some(role), Some(_session), Some(token)) = (
        param(&form, "RoleArn"),
        param(&form, "RoleSessionName"),
        param(&form, "WebIdentityToken"),
    ) else {
        return error(
            st,
            400,
            "MissingParameter",
            "RoleArn, RoleSessionName and WebIdentityToken are required",
        );
    };
    let now = unix_now(st.config.clock_skew_secs);
    let SimState { sts, rng, .. } = st;
    let mut random = || rand::Rng::random::<u128>(rng);
    match sts.assume_role_with_web_identity(role, token, now, &mut random) {
        Ok((key, expires, subject)) => {
            let id = st.request_id();
            let body = render::assume_role_with_web_identity(&key, expires, role, &subject, &id);
            Reply::Http {
                status: 200,
                body: body.into_bytes(),
                content_type: XML,
                headers: vec![("x-amzn-RequestId", id)],
            }
        }
        Err(refusal) => error(st, refusal.status, refusal.code, &refusal.message),
    }
}

/// `Throttling` "Rate exceeded", HTTP 400, as the Query APIs throttle.
pub(crate) fn throttled(st: &mut SimState) -> Reply {
    error(st, 400, "Throttling", "Rate exceeded")
}

/// The region a host names: `rds.<region>.amazonaws.com[.cn]`.
fn host_region(host: &str) -> Option<&str> {
    let host = host.split(':').next().unwrap_or(host);
    let rest = host.strip_prefix("rds.")?;
    rest.strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
}

/// Checks the signature, then answers the action.
pub(crate) fn answer(
    st: &mut SimState,
    req: &Incoming<'_>,
    target: &Target,
    hidden: &[usize],
    now: Clock,
) -> Reply {
    let input = AwsInput {
        method: req.method.as_str(),
        path: req.path,
        query: req.query,
        headers: req.headers,
        body: req.body,
        region: host_region(req.host),
    };
    let unix = unix_now(st.config.clock_skew_secs);
    if let Some(key_id) = access_key_id(req) {
        if st.sts.expired(ProviderKind::Aws, &key_id, unix) {
            return error(
                st,
                400,
                "ExpiredToken",
                "The security token included in the request is expired",
            );
        }
    }
    // The configured keys, and the STS keys workload identity has issued and not expired.
    let accepted = st
        .sts
        .accepted(&st.config.credentials, ProviderKind::Aws, unix);
    if let Err(e) = verify_aws(&accepted, &input, unix) {
        return error(st, e.status, e.code, &e.message);
    }
    let form = form(req);
    let action = param(&form, "Action").unwrap_or_default().to_string();
    let Some((names, _)) = apis(&action) else {
        return error(
            st,
            400,
            "InvalidAction",
            &format!("The action {action} is not valid for this web service."),
        );
    };
    match param(&form, "Version") {
        Some(VERSION) => {}
        None => {
            return error(
                st,
                400,
                "MissingParameter",
                "The request must contain the parameter Version.",
            )
        }
        Some(other) => {
            return error(
                st,
                400,
                "InvalidAction",
                &format!("Could not find operation {action} for version {other}"),
            )
        }
    }
    // Without an identifier, RDS lists every job of the kind.
    let candidates = match target.job_id {
        Some(_) => target.targets.clone(),
        None => st.find(|j| j.provider == ProviderKind::Aws && names.contains(&j.api())),
    };
    let mut items = Vec::new();
    for idx in candidates {
        if hidden.contains(&idx) {
            continue;
        }
        let Some(view) = st.view(idx, now) else {
            continue;
        };
        let job = &st.jobs[idx].spec;
        let rj = RenderJob {
            job,
            state: &view.state,
            start: view.start,
            end: view.end,
        };
        items.push(match action.as_str() {
            "DescribeDBSnapshots" => render::snapshot(&rj, false),
            "DescribeDBClusterSnapshots" => render::snapshot(&rj, true),
            "DescribeBlueGreenDeployments" => render::blue_green(&rj),
            _ => render::export_task(&rj),
        });
    }
    if let (true, Some(id)) = (items.is_empty(), &target.job_id) {
        // Exports answer an empty list; the others a not-found fault.
        let fault = match action.as_str() {
            "DescribeDBSnapshots" => Some((
                "DBSnapshotNotFound",
                format!("DBSnapshot {id} not found."),
            )),
            "DescribeDBClusterSnapshots" => Some((
                "DBClusterSnapshotNotFoundFault",
                format!("DBClusterSnapshot {id} not found."),
            )),
            "DescribeBlueGreenDeployments" => Some((
                "BlueGreenDeploymentNotFoundFault",
                format!("BlueGreenDeploymentIdentifier {id} doesn't refer to an existing blue/green deployment."),
            )),
            _ => None,
        };
        if let Some((code, message)) = fault {
            return error(st, 404, code, &message);
        }
    }
    let id = st.request_id();
    let body = render::response(&action, &render::list(&action, &items), &id);
    Reply::Http {
        status: 200,
        body: body.into_bytes(),
        content_type: XML,
        headers: vec![("x-amzn-RequestId", id)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_hosts() {
        assert_eq!(
            host_region("rds.us-east-1.amazonaws.com"),
            Some("us-east-1")
        );
        assert_eq!(
            host_region("rds.cn-north-1.amazonaws.com.cn:443"),
            Some("cn-north-1")
        );
        assert_eq!(host_region("127.0.0.1:8086"), None);
        assert_eq!(host_region("ec2.us-east-1.amazonaws.com"), None);
    }

    #[test]
    fn actions_name_their_apis() {
        assert_eq!(
            apis("DescribeExportTasks").unwrap().1,
            "ExportTaskIdentifier"
        );
        assert_eq!(
            apis("DescribeBlueGreenDeployments").unwrap().0,
            ["blue-green", "blue-green-switchover"]
        );
        assert!(apis("DeleteDBSnapshot").is_none());
    }
}
