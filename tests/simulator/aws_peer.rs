//! The AWS calls the peer controller (ACK's RDS controller, `benches/scale/peer.rs`) makes
//! besides `DescribeDBSnapshots`: RDS `ListTagsForResource` and STS `GetCallerIdentity`,
//! each signed with the official `aws-sigv4` crate (RDS for service `rds`, STS for `sts`),
//! answered in the shapes of the service models, refused as AWS refuses a bad signature,
//! and counted by action.

use clouddb_job_operator::providers::aws::errors::parse_error_envelope;
use clouddb_job_operator::providers::aws::sign::{sign, Request};
use clouddb_job_operator::providers::http::HttpResponse;
use clouddb_job_operator::simulator::auth::{
    TemporaryKey, DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY,
};
use clouddb_job_operator::simulator::{Scenario, SimConfig, Simulator};
use std::time::Duration;

use super::*;

const SCENARIO: &str = r#"
jobs:
  - provider: aws
    api: db-snapshot
    jobId: peer-snap-1
    instanceId: peer-db
    timeline:
      - {after: 0s, status: RUNNING, progress: 10}
  - provider: aws
    api: cluster-snapshot
    jobId: peer-cluster-snap-1
    instanceId: peer-aurora
    timeline:
      - {after: 0s, status: RUNNING, progress: 10}
  - provider: aws
    api: db-snapshot
    jobId: peer-snap-later
    instanceId: peer-db
    timeline:
      - {after: 1h, status: RUNNING, progress: 10}
"#;

const SNAPSHOT_ARN: &str = "arn:aws:rds:us-east-1:123456789012:snapshot:peer-snap-1";
const STS_TEMP_ID: &str = "ASIASIMULATOR0000009";
const STS_TEMP_SECRET: &str = "SimulatorTemporarySecret/000000000000009";
const STS_TEMP_TOKEN: &str = "SimulatorSessionToken/009+=";

async fn sim() -> Simulator {
    let mut config = SimConfig {
        scenarios: vec![Scenario::from_yaml(SCENARIO).unwrap()],
        ..SimConfig::empty()
    };
    config.credentials.aws_temporary = vec![TemporaryKey {
        id: STS_TEMP_ID.into(),
        secret: STS_TEMP_SECRET.into(),
        token: STS_TEMP_TOKEN.into(),
    }];
    start(config).await
}

/// A request's form parameters.
type Form<'a> = &'a [(&'a str, &'a str)];

/// How a test signs: key, secret, token, service.
struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    service: &'a str,
}

const RDS: Signer<'static> = Signer {
    key: DEFAULT_AWS_ACCESS_KEY_ID,
    secret: DEFAULT_AWS_SECRET_ACCESS_KEY,
    token: None,
    service: "rds",
};
const STS: Signer<'static> = Signer {
    service: "sts",
    ..RDS
};

/// `POST /` of the form `params`, signed by `signer` (or unsigned), as the SDKs send it.
async fn call(
    sim: &Simulator,
    params: &[(&str, &str)],
    signer: Option<&Signer<'_>>,
) -> HttpResponse {
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            form.append_pair(k, v);
        }
        form.finish()
    };
    let url = format!("{}/", sim.url());
    let host = sim.addr().to_string();
    let ct = "application/x-www-form-urlencoded; charset=utf-8";
    let http = client(Duration::from_secs(5));
    let mut builder = http
        .reqwest()
        .post(&url)
        .header("content-type", ct)
        .body(body.clone());
    if let Some(s) = signer {
        let signed = sign(
            &Request {
                method: "POST",
                uri: &url,
                headers: &[("content-type", ct), ("host", &host)],
                body: body.as_bytes(),
                region: "us-east-1",
                service: s.service,
                time: jiff::Timestamp::now(),
                content_sha256: false,
            },
            s.key,
            s.secret,
            s.token,
        )
        .unwrap();
        for (k, v) in signed.headers {
            builder = builder.header(k, v);
        }
    }
    http.send(builder).await.unwrap()
}

fn text(resp: &HttpResponse) -> String {
    String::from_utf8_lossy(&resp.body).into_owned()
}

/// The content of the first element `name` (with or without attributes), if any.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = xml
        .find(&format!("<{name}>"))
        .or_else(|| xml.find(&format!("<{name} ")))?;
    let body = &xml[open..];
    let start = body.find('>')? + 1;
    let end = body.find(&format!("</{name}>"))?;
    body.get(start..end)
}

/// The status, error code and message of a refusal, read by the operator's own envelope
/// parser, checking the envelope's namespace and fault type.
fn refusal(resp: &HttpResponse, namespace: &str) -> (u16, String, String) {
    let body = text(resp);
    assert!(
        body.starts_with(&format!("<ErrorResponse xmlns=\"{namespace}\">")),
        "{body}"
    );
    assert_eq!(element(&body, "Type"), Some("Sender"), "{body}");
    let e = parse_error_envelope(&resp.body).unwrap_or_else(|| panic!("no envelope: {body}"));
    assert!(e.request_id.is_some_and(|id| !id.is_empty()), "{body}");
    (
        resp.status,
        e.code.unwrap_or_default(),
        e.message.unwrap_or_default(),
    )
}

const RDS_NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

struct CallerIdentity {
    arn: String,
    user_id: String,
    account: String,
}

/// `GetCallerIdentityResponse` {`GetCallerIdentityResult` {`UserId`, `Account`, `Arn`},
/// `ResponseMetadata` {`RequestId`}} in STS's namespace.
fn caller_identity(resp: &HttpResponse) -> CallerIdentity {
    let body = text(resp);
    assert_eq!(resp.status, 200, "{body}");
    assert!(
        body.starts_with(&format!("<GetCallerIdentityResponse xmlns=\"{STS_NS}\">")),
        "{body}"
    );
    let result = element(&body, "GetCallerIdentityResult").expect("result");
    let metadata = element(&body, "ResponseMetadata").expect("metadata");
    assert_eq!(
        resp.header("x-amzn-requestid"),
        element(metadata, "RequestId")
    );
    let field = |name| element(result, name).unwrap_or_else(|| panic!("no {name}: {body}"));
    CallerIdentity {
        arn: field("Arn").to_string(),
        user_id: field("UserId").to_string(),
        account: field("Account").to_string(),
    }
}

const CALLER: [(&str, &str); 2] = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];

#[tokio::test]
async fn get_caller_identity_names_the_caller_when_signed_for_sts() {
    let sim = sim().await;
    let me = caller_identity(&call(&sim, &CALLER, Some(&STS)).await);
    // The peer parses the ARN and reads the account (it does not start otherwise).
    let parts: Vec<&str> = me.arn.splitn(6, ':').collect();
    assert_eq!(parts[..3], ["arn", "aws", "iam"], "{}", me.arn);
    assert_eq!(parts[4], me.account);
    assert!(parts[5].starts_with("user/"), "{}", me.arn);
    assert!(me.account.len() == 12 && me.account.bytes().all(|b| b.is_ascii_digit()));
    assert!(me.user_id.starts_with("AIDA"), "{}", me.user_id);

    // An STS key with its token is an assumed role.
    let temp = Signer {
        key: STS_TEMP_ID,
        secret: STS_TEMP_SECRET,
        token: Some(STS_TEMP_TOKEN),
        service: "sts",
    };
    let role = caller_identity(&call(&sim, &CALLER, Some(&temp)).await);
    assert!(
        role.arn
            .starts_with("arn:aws:sts::123456789012:assumed-role/"),
        "{}",
        role.arn
    );
    assert!(role.user_id.starts_with("AROA"), "{}", role.user_id);
}

#[tokio::test]
async fn get_caller_identity_refuses_what_sts_refuses() {
    let sim = sim().await;
    let cases: [(Option<Signer<'_>>, Form, u16, &str, &str); 6] = [
        (
            Some(RDS),
            &CALLER,
            403,
            "SignatureDoesNotMatch",
            "correct service: 'sts'",
        ),
        (
            Some(Signer {
                secret: "wrong",
                ..STS
            }),
            &CALLER,
            403,
            "SignatureDoesNotMatch",
            "does not match",
        ),
        (
            Some(Signer {
                key: "AKIANOSUCHKEY0000000",
                ..STS
            }),
            &CALLER,
            403,
            "InvalidClientTokenId",
            "security token",
        ),
        (
            Some(Signer {
                key: STS_TEMP_ID,
                secret: STS_TEMP_SECRET,
                token: None,
                service: "sts",
            }),
            &CALLER,
            403,
            "InvalidClientTokenId",
            "security token",
        ),
        (None, &CALLER, 403, "MissingAuthenticationToken", "Missing"),
        (
            Some(STS),
            &[("Action", "GetCallerIdentity"), ("Version", "2014-10-31")],
            400,
            "InvalidAction",
            "GetCallerIdentity for version 2014-10-31",
        ),
    ];
    for (i, (signer, params, status, code, message)) in cases.iter().enumerate() {
        let resp = call(&sim, params, signer.as_ref()).await;
        let (got_status, got_code, got_message) = refusal(&resp, STS_NS);
        assert_eq!(
            (got_status, got_code.as_str()),
            (*status, *code),
            "case {i}"
        );
        assert!(got_message.contains(message), "case {i}: {got_message}");
    }
}

fn list_tags(arn: &str) -> [(&str, &str); 3] {
    [
        ("Action", "ListTagsForResource"),
        ("Version", "2014-10-31"),
        ("ResourceName", arn),
    ]
}

#[tokio::test]
async fn list_tags_for_resource_answers_an_existing_snapshot_with_its_tag_list() {
    let sim = sim().await;
    for arn in [
        SNAPSHOT_ARN,
        // RDS identifiers are case-insensitive.
        "arn:aws:rds:us-east-1:123456789012:snapshot:PEER-SNAP-1",
        "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:peer-cluster-snap-1",
    ] {
        let resp = call(&sim, &list_tags(arn), Some(&RDS)).await;
        assert_eq!(resp.status, 200, "{arn}: {}", text(&resp));
        // `TagListMessage` {`TagList` of `Tag` {`Key`, `Value`}} in its result wrapper: the
        // simulated snapshots carry no tags.
        let body = text(&resp);
        assert!(
            body.starts_with(&format!("<ListTagsForResourceResponse xmlns=\"{RDS_NS}\">")),
            "{body}"
        );
        let result = element(&body, "ListTagsForResourceResult").expect("result");
        assert_eq!(result.trim(), "<TagList/>");
        let metadata = element(&body, "ResponseMetadata").expect("metadata");
        assert_eq!(
            resp.header("x-amzn-requestid"),
            element(metadata, "RequestId")
        );
    }
}

#[tokio::test]
async fn list_tags_for_resource_refuses_what_rds_refuses() {
    let sim = sim().await;
    let missing = "arn:aws:rds:us-east-1:123456789012:snapshot:no-such-snapshot";
    let later = "arn:aws:rds:us-east-1:123456789012:snapshot:peer-snap-later";
    let cases: [(Form, Signer<'_>, u16, &str, &str); 7] = [
        (
            &list_tags(missing),
            RDS,
            404,
            "DBSnapshotNotFound",
            "no-such-snapshot not found",
        ),
        // Not made yet: its first step is an hour away.
        (
            &list_tags(later),
            RDS,
            404,
            "DBSnapshotNotFound",
            "peer-snap-later",
        ),
        (
            &list_tags("orders"),
            RDS,
            400,
            "InvalidParameterValue",
            "resource name",
        ),
        (
            &[("Action", "ListTagsForResource"), ("Version", "2014-10-31")],
            RDS,
            400,
            "MissingParameter",
            "ResourceName",
        ),
        (
            &list_tags(SNAPSHOT_ARN),
            STS,
            403,
            "SignatureDoesNotMatch",
            "correct service: 'rds'",
        ),
        (
            &list_tags(SNAPSHOT_ARN),
            Signer {
                secret: "wrong",
                ..RDS
            },
            403,
            "SignatureDoesNotMatch",
            "does not match",
        ),
        (
            &[
                ("Action", "ListTagsForResource"),
                ("ResourceName", SNAPSHOT_ARN),
            ],
            RDS,
            400,
            "MissingParameter",
            "Version",
        ),
    ];
    for (i, (params, signer, status, code, message)) in cases.iter().enumerate() {
        let resp = call(&sim, params, Some(signer)).await;
        let (got_status, got_code, got_message) = refusal(&resp, RDS_NS);
        assert_eq!(
            (got_status, got_code.as_str()),
            (*status, *code),
            "case {i}"
        );
        assert!(got_message.contains(message), "case {i}: {got_message}");
    }
}

#[tokio::test]
async fn calls_are_counted_by_action_and_resource() {
    let sim = sim().await;
    for _ in 0..3 {
        call(&sim, &list_tags(SNAPSHOT_ARN), Some(&RDS)).await;
    }
    call(&sim, &CALLER, Some(&STS)).await;
    call(&sim, &CALLER, Some(&RDS)).await;
    let c = sim.counters();
    assert_eq!(c.by_api.get("ListTagsForResource"), Some(&3));
    assert_eq!(c.by_api.get("GetCallerIdentity"), Some(&2));
    assert_eq!(c.by_job.get("peer-snap-1"), Some(&3));
    assert_eq!(c.by_provider.get("aws"), Some(&5));
    assert_eq!(c.by_status.get("403"), Some(&1));
    let log = sim.requests();
    assert_eq!(log.len(), 5);
    assert!(log.iter().all(|r| r.fault.is_none()));
}
