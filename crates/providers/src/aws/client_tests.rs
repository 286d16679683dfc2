//! Request building, endpoint choice, response interpretation and secret scrubbing.

use super::*;
use crate::credentials::SecretString;
use crate::redact::MAX_MESSAGE_CHARS;
use crate::ErrorClass;
use clouddb_api::ProviderKind;

fn target(api: &str, job_id: &str, region: &str, endpoint: Option<&str>) -> JobTarget {
    JobTarget::new(
        ProviderKind::Aws,
        Some(api),
        job_id,
        Some(region),
        None,
        None,
        endpoint,
    )
    .unwrap()
}

fn creds(token: Option<&str>) -> Credentials {
    Credentials::Aws {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: SecretString::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: token.map(SecretString::new),
    }
}

fn now() -> Timestamp {
    "2026-11-29T10:00:00Z".parse().unwrap()
}

fn response(status: u16, body: &str, headers: &[(&'static str, &str)]) -> HttpResponse {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, v.parse().unwrap());
    }
    HttpResponse {
        status,
        headers: map,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn every_api_names_its_action_and_identifier() {
    let cases = [
        ("export-task", "Action=DescribeExportTasks&Version=2014-10-31&ExportTaskIdentifier=orders-export-2026-11-29"),
        ("db-snapshot", "Action=DescribeDBSnapshots&Version=2014-10-31&DBSnapshotIdentifier=orders-export-2026-11-29"),
        ("cluster-snapshot", "Action=DescribeDBClusterSnapshots&Version=2014-10-31&DBClusterSnapshotIdentifier=orders-export-2026-11-29"),
        ("blue-green", "Action=DescribeBlueGreenDeployments&Version=2014-10-31&BlueGreenDeploymentIdentifier=orders-export-2026-11-29"),
        ("blue-green-switchover", "Action=DescribeBlueGreenDeployments&Version=2014-10-31&BlueGreenDeploymentIdentifier=orders-export-2026-11-29"),
    ];
    for (api, body) in cases {
        let t = target(api, "orders-export-2026-11-29", "us-east-1", None);
        let p = AwsProvider::prepare(&t, &creds(None), now()).unwrap();
        assert_eq!(p.body, body, "{api}");
    }
    assert_eq!(
        form_body(ProviderApi::DbSnapshot, "a b&c=d"),
        "Action=DescribeDBSnapshots&Version=2014-10-31&DBSnapshotIdentifier=a+b%26c%3Dd"
    );
}

#[test]
fn the_request_is_signed_for_rds_in_the_target_region() {
    let t = target("db-snapshot", "orders-before-upgrade", "eu-west-1", None);
    let p = AwsProvider::prepare(&t, &creds(None), now()).unwrap();
    assert_eq!(p.url.as_str(), "https://rds.eu-west-1.amazonaws.com/");
    assert_eq!(p.header("content-type"), Some(CONTENT_TYPE));
    assert_eq!(p.header("x-amz-date"), Some("20261129T100000Z"));
    let auth = p.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/eu-west-1/rds/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="),
        "{auth}"
    );
    assert!(auth.ends_with(&p.signature));
    assert_eq!(p.signature.len(), 64);
    assert_eq!(p.header("x-amz-security-token"), None);
    let shown = format!("{p:?}");
    assert!(!shown.contains(&p.signature), "{shown}");
}

#[test]
fn a_session_token_is_sent_signed_and_never_shown() {
    let t = target("export-task", "x", "us-east-1", None);
    let p = AwsProvider::prepare(&t, &creds(Some("FwoGZXIvYXdzEXAMPLE")), now()).unwrap();
    assert_eq!(
        p.header("x-amz-security-token"),
        Some("FwoGZXIvYXdzEXAMPLE")
    );
    assert!(p
        .header("authorization")
        .unwrap()
        .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
    let shown = format!("{p:?}");
    assert!(!shown.contains("FwoGZXIvYXdzEXAMPLE"), "{shown}");
}

#[test]
fn china_regions_and_endpoint_overrides() {
    assert_eq!(
        default_endpoint("cn-north-1").unwrap().as_str(),
        "https://rds.cn-north-1.amazonaws.com.cn/"
    );
    assert_eq!(
        default_endpoint("cn-northwest-1").unwrap().as_str(),
        "https://rds.cn-northwest-1.amazonaws.com.cn/"
    );
    assert_eq!(
        default_endpoint("us-gov-west-1").unwrap().as_str(),
        "https://rds.us-gov-west-1.amazonaws.com/"
    );
    assert!(default_endpoint("us-east-1/evil").is_err());
    assert!(default_endpoint("").is_err());
    let t = target(
        "export-task",
        "x",
        "ap-southeast-2",
        Some("http://127.0.0.1:8443"),
    );
    let p = AwsProvider::prepare(&t, &creds(None), now()).unwrap();
    assert_eq!(p.url.as_str(), "http://127.0.0.1:8443/");
    // The signing region stays the spec's region.
    assert!(p
        .header("authorization")
        .unwrap()
        .contains("/ap-southeast-2/rds/aws4_request"));
}

#[test]
fn other_providers_credentials_are_refused() {
    let t = target("export-task", "x", "us-east-1", None);
    let e = AwsProvider::prepare(
        &t,
        &Credentials::HuaweiToken {
            token: SecretString::new("tok"),
        },
        now(),
    )
    .unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Permanent, "WrongCredentials")
    );
}

#[test]
fn interpret_success_not_found_and_errors() {
    let empty = "<DescribeExportTasksResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><DescribeExportTasksResult><ExportTasks/></DescribeExportTasksResult></DescribeExportTasksResponse>";
    let o = interpret(ProviderApi::ExportTask, &response(200, empty, &[]), "x").unwrap();
    assert!(o.is_not_found_yet());

    let fault = "<ErrorResponse><Error><Type>Sender</Type><Code>DBSnapshotNotFound</Code><Message>DBSnapshot x not found.</Message></Error><RequestId>r1</RequestId></ErrorResponse>";
    let o = interpret(ProviderApi::DbSnapshot, &response(404, fault, &[]), "x").unwrap();
    assert!(o.is_not_found_yet());
    assert!(o.message.unwrap().contains("DB snapshot x"));

    let throttled = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>body-id</RequestId></ErrorResponse>";
    let e = interpret(
        ProviderApi::BlueGreen,
        &response(400, throttled, &[("x-amzn-requestid", "hdr-id")]),
        "bgd-1",
    )
    .unwrap_err();
    assert_eq!(e.class, ErrorClass::Throttled);
    assert_eq!(e.request_id.as_deref(), Some("hdr-id"));

    let bad = interpret(
        ProviderApi::ExportTask,
        &response(
            200,
            "<DescribeExportTasksResponse><DescribeExport",
            &[("x-amzn-requestid", "r9")],
        ),
        "x",
    )
    .unwrap_err();
    assert_eq!(bad.class, ErrorClass::Transient);
    assert_eq!(bad.request_id.as_deref(), Some("r9"));
}

#[test]
fn secrets_never_reach_errors() {
    let creds = creds(Some("session-token-value"));
    let e = ProviderError::permanent(
        ErrorReason::AuthenticationFailed,
        "c-session-token-value",
        "bad wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY; AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/rds/aws4_request, Signature=abcdef0123",
    )
    .with_request_id(Some("abcdef0123".into()));
    let clean = sanitize(e, &creds, &["abcdef0123"]);
    let shown = clean.describe();
    for secret in [
        "wJalrXUtnFEMI",
        "session-token-value",
        "abcdef0123",
        "Signature=",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert_eq!(clean.code, "c-[REDACTED]");
    let long = sanitize(ProviderError::transient("X", "y".repeat(5000)), &creds, &[]);
    assert!(long.message.chars().count() <= MAX_MESSAGE_CHARS + 1);
}
