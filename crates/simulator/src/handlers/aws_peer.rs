//! The AWS calls a peer controller makes besides the describes of `aws.rs` (AWS Controllers
//! for Kubernetes' RDS controller, measured side by side with the operator by
//! `benches/scale/peer.rs`):
//!
//! * RDS `ListTagsForResource` (`ResourceName=<arn>`, signed for service `rds` like the other
//!   RDS actions): `<ListTagsForResourceResult><TagList/>` for a snapshot or cluster
//!   snapshot that exists (the simulated jobs carry no tags), RDS's not-found fault
//!   otherwise;
//! * STS `GetCallerIdentity` (`Version=2011-06-15`, signed for service `sts`): the caller's
//!   `<Arn>`, `<UserId>` and `<Account>` in STS's namespace.
//!
//! Shapes from the service models (botocore `rds/2014-10-31` `ListTagsForResource` →
//! `TagListMessage`, result wrapper `ListTagsForResourceResult`, list `TagList` of `Tag`
//! {`Key`, `Value`}; `sts/2011-06-15` `GetCallerIdentity` → `GetCallerIdentityResponse`
//! {`UserId`, `Account`, `Arn`}, wrapper `GetCallerIdentityResult`). Both are recorded
//! under their action's name; fault rules do not apply to them.

use quick_xml::escape::escape;

use super::aws::{form, param};
use super::{aws, lock, unix_now, Handled, Incoming, Reply, Shared};
use crate::auth::{verify_aws, verify_aws_service, AwsError, AwsInput, SimCredentials};
use crate::render::aws::{response, ACCOUNT, NAMESPACE};
use crate::state::{Clock, SimState};
use crate::verify::sigv4;
use clouddb_api::ProviderKind;

/// STS's XML namespace.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The RDS action.
pub const LIST_TAGS: &str = "ListTagsForResource";
/// The STS action.
pub const CALLER_IDENTITY: &str = "GetCallerIdentity";

const XML: &str = "text/xml";

/// Answers the request if it is one of this module's actions (`POST /`, an AWS form).
pub(crate) fn handle(state: &Shared, req: &Incoming<'_>) -> Option<Handled> {
    if req.path != "/" || !aws::speaks(req) {
        return None;
    }
    let form = form(req);
    let action = param(&form, "Action")?;
    let reply = match action {
        LIST_TAGS => list_tags(&mut lock(state), req, &form),
        CALLER_IDENTITY => caller_identity(&mut lock(state), req, &form),
        _ => return None,
    };
    let job_id = match action {
        LIST_TAGS => param(&form, "ResourceName").and_then(resource_name),
        _ => None,
    };
    Some(Handled {
        reply,
        provider: Some(ProviderKind::Aws),
        api: action.to_string(),
        job_id: job_id.map(|(_, name)| name.to_string()),
        fault: None,
    })
}

fn xml_reply(st: &mut SimState, status: u16, body: impl FnOnce(&str) -> String) -> Reply {
    let id = st.request_id();
    Reply::Http {
        status,
        body: body(&id).into_bytes(),
        content_type: XML,
        headers: vec![("x-amzn-RequestId", id)],
    }
}

/// `<ErrorResponse>` in `namespace`: `Sender` faults for 4xx, `Receiver` for 5xx.
fn error(st: &mut SimState, namespace: &str, e: &AwsError) -> Reply {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    xml_reply(st, e.status, |id| {
        format!(
            "<ErrorResponse xmlns=\"{namespace}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            escape(e.code),
            escape(&e.message),
            escape(id)
        )
    })
}

fn fail(status: u16, code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError {
        status,
        code,
        message: message.into(),
    }
}

/// The request as the SigV4 check reads it, with the region a host
/// `<service>.<region>.amazonaws.com[.cn]` names (none on loopback).
fn input<'a>(req: &Incoming<'a>, service: &str) -> AwsInput<'a> {
    let host = req.host.split(':').next().unwrap_or(req.host);
    let region = host
        .strip_prefix(service)
        .and_then(|h| h.strip_prefix('.'))
        .and_then(|h| {
            h.strip_suffix(".amazonaws.com")
                .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
        });
    AwsInput {
        method: req.method.as_str(),
        path: req.path,
        query: req.query,
        headers: req.headers,
        body: req.body,
        region,
    }
}

/// The keys a request may be signed with now, or `ExpiredToken` for an STS key past its
/// expiry.
fn accepted(st: &SimState, req: &Incoming<'_>, unix: i64) -> Result<SimCredentials, AwsError> {
    let key_id = req
        .header("authorization")
        .and_then(sigv4::parse_authorization)
        .map(|a| a.key_id);
    if key_id.is_some_and(|k| st.sts.expired(ProviderKind::Aws, &k, unix)) {
        return Err(fail(
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        ));
    }
    Ok(st
        .sts
        .accepted(&st.config.credentials, ProviderKind::Aws, unix))
}

/// `(resource type, name)` of an RDS ARN `arn:<partition>:rds:<region>:<account>:<type>:<name>`.
fn resource_name(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(7, ':');
    let (Some("arn"), Some(_), Some("rds"), Some(_), Some(_), Some(kind), Some(name)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (!kind.is_empty() && !name.is_empty()).then_some((kind, name))
}

/// RDS `ListTagsForResource`.
fn list_tags(st: &mut SimState, req: &Incoming<'_>, form: &[(String, String)]) -> Reply {
    let unix = unix_now(st.config.clock_skew_secs);
    let checked =
        accepted(st, req, unix).and_then(|creds| verify_aws(&creds, &input(req, "rds"), unix));
    if let Err(e) = checked {
        return error(st, NAMESPACE, &e);
    }
    if let Some(e) = version_error(form, LIST_TAGS, aws::VERSION) {
        return error(st, NAMESPACE, &e);
    }
    let Some(arn) = param(form, "ResourceName") else {
        let e = fail(
            400,
            "MissingParameter",
            "The request must contain the parameter ResourceName.",
        );
        return error(st, NAMESPACE, &e);
    };
    let Some((kind, name)) = resource_name(arn) else {
        let message = format!(
            "The specified resource name does not match an RDS resource in this region: {arn}"
        );
        return error(st, NAMESPACE, &fail(400, "InvalidParameterValue", message));
    };
    let (api, code, what) = match kind {
        "snapshot" => ("db-snapshot", "DBSnapshotNotFound", "DBSnapshot"),
        "cluster-snapshot" => (
            "cluster-snapshot",
            "DBClusterSnapshotNotFoundFault",
            "DBClusterSnapshot",
        ),
        _ => {
            let message = format!(
                "The simulator lists tags of snapshots and cluster snapshots only, not {kind:?}."
            );
            return error(st, NAMESPACE, &fail(400, "InvalidParameterValue", message));
        }
    };
    let now = Clock::now();
    let found = st.find(|j| {
        j.provider == ProviderKind::Aws && j.api() == api && j.job_id.eq_ignore_ascii_case(name)
    });
    // A snapshot exists from its first step on.
    if !found.into_iter().any(|idx| st.view(idx, now).is_some()) {
        let message = format!("{what} {name} not found.");
        return error(st, NAMESPACE, &fail(404, code, message));
    }
    xml_reply(st, 200, |id| response(LIST_TAGS, "<TagList/>", id))
}

/// `InvalidAction` for a version other than `version`, `MissingParameter` without one.
fn version_error(form: &[(String, String)], action: &str, version: &str) -> Option<AwsError> {
    match param(form, "Version") {
        Some(v) if v == version => None,
        None => Some(fail(
            400,
            "MissingParameter",
            "The request must contain the parameter Version.",
        )),
        Some(other) => Some(fail(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version {other}"),
        )),
    }
}

/// STS `GetCallerIdentity`: a long-term key is an IAM user of the simulated account, an
/// STS key the role session workload identity named.
fn caller_identity(st: &mut SimState, req: &Incoming<'_>, form: &[(String, String)]) -> Reply {
    let unix = unix_now(st.config.clock_skew_secs);
    let creds = accepted(st, req, unix);
    let key = creds.and_then(|creds| {
        verify_aws_service("sts", &creds, &input(req, "sts"), unix).map(|k| (creds, k))
    });
    let (creds, key_id) = match key {
        Ok(found) => found,
        Err(e) => return error(st, STS_NAMESPACE, &e),
    };
    if let Some(e) = version_error(form, CALLER_IDENTITY, crate::sts::AWS_STS_VERSION) {
        return error(st, STS_NAMESPACE, &e);
    }
    let (arn, user_id) = if creds.aws.iter().any(|k| k.id == key_id) {
        (
            format!("arn:aws:iam::{ACCOUNT}:user/clouddb-simulator"),
            "AIDASIMULATOR00000000".to_string(),
        )
    } else {
        (
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/clouddb-simulator/clouddb"),
            "AROASIMULATOR00000000:clouddb".to_string(),
        )
    };
    xml_reply(st, 200, |id| {
        format!(
            "<GetCallerIdentityResponse xmlns=\"{STS_NAMESPACE}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{ACCOUNT}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
            escape(&arn),
            escape(&user_id),
            escape(id)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rds_arns_name_their_resource() {
        assert_eq!(
            resource_name("arn:aws:rds:us-east-1:123456789012:snapshot:s-1"),
            Some(("snapshot", "s-1"))
        );
        assert_eq!(
            resource_name("arn:aws-cn:rds:cn-north-1:123456789012:cluster-snapshot:rds:c-1"),
            Some(("cluster-snapshot", "rds:c-1"))
        );
        assert_eq!(resource_name("arn:aws:s3:::bucket"), None);
        assert_eq!(resource_name("snapshot:s-1"), None);
        assert_eq!(
            resource_name("arn:aws:rds:us-east-1:123456789012:snapshot:"),
            None
        );
    }
}
