//! AWS RDS Query API: `POST /` with a form body `Action=...&Version=2014-10-31&...`, signed
//! with SigV4 (service `rds`); `DescribeExportTasks`, `DescribeDBSnapshots`,
//! `DescribeDBClusterSnapshots` and `DescribeBlueGreenDeployments`, and discovery's calls
//! (`aws_list.rs`). Answers are XML with
//! `x-amzn-RequestId`; errors are `<ErrorResponse>` with AWS's HTTP statuses.

use super::{aws_list, unix_now, Incoming, Reply, Target};
use crate::auth::{verify_aws, AwsInput};
use crate::render::{aws as render, RenderJob};
use crate::state::{Clock, SimState};
use clouddb_api::ProviderKind;

/// The API version this simulator serves.
pub const VERSION: &str = "2014-10-31";

const XML: &str = "text/xml";

/// The request's form parameters (the Query protocol's body).
pub(super) fn form(req: &Incoming<'_>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A form parameter's value, trimmed; `None` when absent or blank.
pub(super) fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
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
        // Discovery's calls (`aws_list.rs`): about an instance, not a job.
        "DescribeDBInstances" | "DescribePendingMaintenanceActions" => (&[], ""),
        _ => return None,
    })
}

/// The job identifiers a job describe names: its identifier parameter, and the values of
/// its identifier filter (both: a job must match both, as RDS ANDs them). `None`: it names
/// none (a listing).
fn named_ids(
    form: &[(String, String)],
    action: &str,
) -> Option<(Option<String>, Option<Vec<String>>)> {
    let (_, parameter) = apis(action)?;
    let (filter, _) = aws_list::filters(action)?;
    let id = param(form, parameter).map(String::from);
    let values = aws_list::filter_values(form, filter);
    (id.is_some() || values.is_some()).then_some((id, values))
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
        Some((names, _)) => {
            let asked = named_ids(&form, &action);
            // One job named: the request is about it (recorded with its ID).
            let id = match &asked {
                Some((Some(id), _)) => Some(id.clone()),
                Some((None, Some(values))) if values.len() == 1 => values.first().cloned(),
                _ => None,
            };
            let targets = match &asked {
                Some(asked) => st.find(|j| {
                    j.provider == ProviderKind::Aws
                        && names.contains(&j.api())
                        && aws_list::named(&j.job_id, asked)
                }),
                None => Vec::new(),
            };
            let api = match (targets.first(), names.first()) {
                (Some(idx), _) => st.jobs[*idx].spec.api().to_string(),
                (None, Some(name)) => name.to_string(),
                (None, None) => action.clone(),
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
    let paging = match aws_list::paging(&form) {
        Ok(p) => p,
        Err(message) => return error(st, 400, "InvalidParameterValue", &message),
    };
    let instance = param(&form, "DBInstanceIdentifier").map(String::from);
    match action.as_str() {
        "DescribeDBInstances" => return describe_instances(st, instance.as_deref()),
        "DescribePendingMaintenanceActions" => {
            let instances: Vec<String> = aws_list::filter_values(&form, "db-instance-id")
                .unwrap_or_default()
                .iter()
                .map(|i| aws_list::instance_of(i).to_string())
                .collect();
            let items = aws_list::pending_actions(st, &instances, st.started.wall);
            let (shown, marker) = aws_list::page(items, paging);
            let list = if shown.is_empty() {
                "<PendingMaintenanceActions/>".to_string()
            } else {
                format!(
                    "<PendingMaintenanceActions>{}</PendingMaintenanceActions>",
                    shown.concat()
                )
            };
            return ok(st, &action, &(list + &marker));
        }
        _ => {}
    }
    if let Err(message) = aws_list::check_filters(&form, &action) {
        let code = match message.starts_with("Only up to") {
            true => "InvalidParameterCombination",
            false => "InvalidParameterValue",
        };
        return error(st, 400, code, &message);
    }
    let sources = aws_list::filter_values(&form, "source");
    let asked = named_ids(&form, &action);
    // The identifier parameter names one job: RDS answers a fault when it does not exist.
    // A filter only narrows the list, which may end up empty.
    let by_parameter = asked.as_ref().and_then(|(id, _)| id.clone());
    let candidates = match &asked {
        Some(_) => target.targets.clone(),
        None => st.find(|j| {
            j.provider == ProviderKind::Aws
                && names.contains(&j.api())
                && (action != "DescribeDBSnapshots"
                    || instance.as_ref().is_none_or(|i| {
                        j.instance_id
                            .as_deref()
                            .is_some_and(|mine| mine.eq_ignore_ascii_case(i))
                    }))
                && sources.as_ref().is_none_or(|arns| {
                    arns.iter().any(|arn| match &j.detail.source_arn {
                        Some(source) => source == arn,
                        None => j.instance_id.as_deref() == Some(aws_list::instance_of(arn)),
                    })
                })
        }),
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
    if let (true, Some(id)) = (items.is_empty(), &by_parameter) {
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
    let (shown, marker) = aws_list::page(items, paging);
    ok(st, &action, &(render::list(&action, &shown) + &marker))
}

/// A 200 answer with `result` inside `<{action}Result>`.
fn ok(st: &mut SimState, action: &str, result: &str) -> Reply {
    let id = st.request_id();
    let body = render::response(action, result, &id);
    Reply::Http {
        status: 200,
        body: body.into_bytes(),
        content_type: XML,
        headers: vec![("x-amzn-RequestId", id)],
    }
}

/// `DescribeDBInstances` of one instance (discovery reads its ARN); the simulator serves
/// only the filtered form.
fn describe_instances(st: &mut SimState, instance: Option<&str>) -> Reply {
    let Some(instance) = instance else {
        return error(
            st,
            400,
            "InvalidParameterCombination",
            "The simulator serves DescribeDBInstances with DBInstanceIdentifier only.",
        );
    };
    if !aws_list::known_instance(st, instance) {
        let message = format!("DBInstance {instance} not found.");
        return error(st, 404, "DBInstanceNotFound", &message);
    }
    ok(st, "DescribeDBInstances", &aws_list::db_instances(instance))
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
