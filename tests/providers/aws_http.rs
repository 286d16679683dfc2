//! HTTP-level tests of the AWS provider against a local axum server that checks the SigV4
//! signature the way AWS does, with the simulator's independent verifier
//! (`simulator::auth::verify_aws`, not the client's `aws-sigv4` signer), and answers with
//! canned RDS Query API responses.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::{SignedDuration, Timestamp};

use clouddb_job_operator::api::{JobPhase, ProviderKind};
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason, JobTarget, Provider};
use clouddb_job_operator::simulator::auth::{
    verify_aws, AwsInput, KeyPair, SimCredentials, TemporaryKey,
};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const STS_KEY_ID: &str = "ASIAIOSFODNN7EXAMPLE";
const STS_SECRET: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
const STS_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLETOKEN/+=";
const NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    body: String,
    headers: HeaderMap,
}

#[derive(Default)]
struct Server {
    seen: Mutex<Vec<Seen>>,
}

fn credentials() -> SimCredentials {
    SimCredentials {
        aws: vec![KeyPair {
            id: KEY_ID.into(),
            secret: SECRET.into(),
        }],
        aws_temporary: vec![TemporaryKey {
            id: STS_KEY_ID.into(),
            secret: STS_SECRET.into(),
            token: STS_TOKEN.into(),
        }],
        ..SimCredentials::default()
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            ("content-type", "text/xml"),
            ("x-amzn-RequestId", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"),
        ],
        body,
    )
        .into_response()
}

fn fault(status: StatusCode, code: &str, message: &str) -> Response {
    xml(
        status,
        format!("<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>body-request-id</RequestId></ErrorResponse>"),
    )
}

fn ok(action: &str, list: &str) -> Response {
    xml(
        StatusCode::OK,
        format!("<{action}Response xmlns=\"{NS}\"><{action}Result>{list}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"),
    )
}

async fn handler(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    server.seen.lock().unwrap().push(Seen {
        path: uri.path().to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
        headers: headers.clone(),
    });
    let input = AwsInput {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
        region: None,
    };
    if let Err(e) = verify_aws(&credentials(), &input, Timestamp::now().as_second()) {
        return fault(StatusCode::from_u16(e.status).unwrap(), e.code, &e.message);
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("Version"), "2014-10-31");
    let id = [
        "ExportTaskIdentifier",
        "DBSnapshotIdentifier",
        "DBClusterSnapshotIdentifier",
        "BlueGreenDeploymentIdentifier",
    ]
    .iter()
    .map(|k| get(k))
    .find(|v| !v.is_empty())
    .unwrap_or_default();
    match (get("Action").as_str(), id.as_str()) {
        ("DescribeExportTasks", "orders-export") => ok(
            "DescribeExportTasks",
            "<ExportTasks><ExportTask><ExportTaskIdentifier>orders-export</ExportTaskIdentifier><SourceArn>arn:aws:rds:us-east-1:123456789012:snapshot:orders</SourceArn><S3Bucket>orders-exports</S3Bucket><Status>IN_PROGRESS</Status><PercentProgress>42</PercentProgress><TaskStartTime>2026-11-29T10:00:00.000Z</TaskStartTime></ExportTask></ExportTasks>",
        ),
        ("DescribeExportTasks", _) => ok("DescribeExportTasks", "<ExportTasks/>"),
        ("DescribeDBSnapshots", "orders-before-upgrade") => ok(
            "DescribeDBSnapshots",
            "<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>orders-before-upgrade</DBSnapshotIdentifier><DBInstanceIdentifier>orders-db</DBInstanceIdentifier><Status>available</Status><PercentProgress>100</PercentProgress><SnapshotType>manual</SnapshotType><Engine>mysql</Engine></DBSnapshot></DBSnapshots>",
        ),
        ("DescribeDBSnapshots", "snapshot-throttled") => {
            fault(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")
        }
        ("DescribeDBSnapshots", "snapshot-500") => fault(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "An internal error occurred.",
        ),
        ("DescribeDBSnapshots", "snapshot-denied") => fault(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/op is not authorized to perform: rds:DescribeDBSnapshots",
        ),
        ("DescribeDBSnapshots", "bad id!") => fault(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            "The parameter DBSnapshotIdentifier is not a valid identifier.",
        ),
        ("DescribeDBSnapshots", "snapshot-truncated") => xml(
            StatusCode::OK,
            "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnaps".into(),
        ),
        ("DescribeDBSnapshots", other) => fault(
            StatusCode::NOT_FOUND,
            "DBSnapshotNotFound",
            &format!("DBSnapshot {other} not found."),
        ),
        ("DescribeDBClusterSnapshots", _) => fault(
            StatusCode::NOT_FOUND,
            "DBClusterSnapshotNotFoundFault",
            "DBClusterSnapshot not found.",
        ),
        ("DescribeBlueGreenDeployments", "bgd-v53303651eexfake") => ok(
            "DescribeBlueGreenDeployments",
            "<BlueGreenDeployments><member><BlueGreenDeploymentIdentifier>bgd-v53303651eexfake</BlueGreenDeploymentIdentifier><Source>arn:aws:rds:us-east-1:123456789012:db:orders-db</Source><Target>arn:aws:rds:us-east-1:123456789012:db:orders-db-green-rkfbpe</Target><SwitchoverDetails><member><Status>SWITCHOVER_IN_PROGRESS</Status></member></SwitchoverDetails><Tasks><member><Name>CREATING_READ_REPLICA_OF_SOURCE</Name><Status>COMPLETED</Status></member></Tasks><Status>SWITCHOVER_IN_PROGRESS</Status><CreateTime>2026-11-29T10:00:00Z</CreateTime></member></BlueGreenDeployments>",
        ),
        ("DescribeBlueGreenDeployments", _) => fault(
            StatusCode::NOT_FOUND,
            "BlueGreenDeploymentNotFoundFault",
            "BlueGreenDeploymentIdentifier doesn't refer to an existing blue/green deployment.",
        ),
        _ => fault(StatusCode::BAD_REQUEST, "InvalidAction", "unknown action"),
    }
}

async fn start() -> (Arc<Server>, String) {
    let server = Arc::new(Server::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(handler).with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (server, format!("http://{addr}"))
}

fn provider() -> AwsProvider {
    AwsProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
}

fn target(api: &str, job: &str, endpoint: &str) -> JobTarget {
    JobTarget::new(
        ProviderKind::Aws,
        Some(api),
        job,
        Some("us-east-1"),
        None,
        None,
        Some(endpoint),
    )
    .unwrap()
}

fn keys(secret: &str) -> Credentials {
    Credentials::Aws {
        access_key_id: KEY_ID.into(),
        secret_access_key: SecretString::new(secret),
        session_token: None,
    }
}

fn sts(token: &str) -> Credentials {
    Credentials::Aws {
        access_key_id: STS_KEY_ID.into(),
        secret_access_key: SecretString::new(STS_SECRET),
        session_token: Some(SecretString::new(token)),
    }
}

#[tokio::test]
async fn every_api_is_signed_and_answered() {
    let (server, base) = start().await;
    let export = provider()
        .observe(
            &target("export-task", "orders-export", &base),
            &keys(SECRET),
        )
        .await
        .unwrap();
    assert_eq!(
        (export.phase, export.progress),
        (Some(JobPhase::Running), Some(42))
    );
    assert_eq!(
        export.detail.aws.unwrap().s3_bucket.as_deref(),
        Some("orders-exports")
    );
    let seen = server.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(seen.path, "/");
    assert_eq!(
        seen.body,
        "Action=DescribeExportTasks&Version=2014-10-31&ExportTaskIdentifier=orders-export"
    );
    assert_eq!(
        seen.headers["content-type"],
        "application/x-www-form-urlencoded; charset=utf-8"
    );
    let auth = seen.headers["authorization"].to_str().unwrap();
    assert!(
        auth.contains("/us-east-1/rds/aws4_request, SignedHeaders=content-type;host;x-amz-date,"),
        "{auth}"
    );

    let snapshot = provider()
        .observe(
            &target("db-snapshot", "orders-before-upgrade", &base),
            &keys(SECRET),
        )
        .await
        .unwrap();
    assert_eq!(snapshot.phase, Some(JobPhase::Succeeded));
    assert_eq!(snapshot.instance_ids, vec!["orders-db".to_string()]);

    let switchover = provider()
        .observe(
            &target("blue-green-switchover", "bgd-v53303651eexfake", &base),
            &keys(SECRET),
        )
        .await
        .unwrap();
    assert_eq!(switchover.phase, Some(JobPhase::Running));
    let creation = provider()
        .observe(
            &target("blue-green", "bgd-v53303651eexfake", &base),
            &keys(SECRET),
        )
        .await
        .unwrap();
    assert_eq!(creation.phase, Some(JobPhase::Succeeded));
}

#[tokio::test]
async fn unknown_ids_are_not_found_yet_for_every_api() {
    let (_server, base) = start().await;
    for (api, id) in [
        ("export-task", "orders-export-tomorrow"),
        ("db-snapshot", "no-such-snapshot"),
        ("cluster-snapshot", "no-such-cluster-snapshot"),
        ("blue-green", "bgd-unknown00000000"),
        ("blue-green-switchover", "bgd-unknown00000000"),
    ] {
        let o = provider()
            .observe(&target(api, id, &base), &keys(SECRET))
            .await
            .unwrap_or_else(|e| panic!("{api}: {e}"));
        assert!(o.is_not_found_yet(), "{api}: {o:?}");
        assert_eq!(o.phase, Some(JobPhase::Pending));
    }
}

#[tokio::test]
async fn session_tokens_are_sent_and_checked() {
    let (server, base) = start().await;
    let o = provider()
        .observe(
            &target("export-task", "orders-export", &base),
            &sts(STS_TOKEN),
        )
        .await
        .unwrap();
    assert_eq!(o.phase, Some(JobPhase::Running));
    let seen = server.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(seen.headers["x-amz-security-token"], STS_TOKEN);
    let e = provider()
        .observe(
            &target("export-task", "orders-export", &base),
            &sts("IQoJb3JpZ2luX2VjOTHERTOKEN"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.reason),
        ("InvalidClientTokenId", ErrorReason::AuthenticationFailed)
    );
    assert!(e.rejects_credentials());
    assert!(!e.describe().contains("OTHERTOKEN"), "{}", e.describe());
}

#[tokio::test]
async fn wrong_keys_and_skewed_clocks_are_rejected() {
    let (_server, base) = start().await;
    let t = target("db-snapshot", "orders-before-upgrade", &base);
    let e = provider()
        .observe(&t, &keys("not-the-right-secret-key"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.class, e.reason, e.code.as_str()),
        (
            ErrorClass::Permanent,
            ErrorReason::AuthenticationFailed,
            "SignatureDoesNotMatch"
        )
    );
    assert_eq!(
        e.request_id.as_deref(),
        Some("7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"),
        "the header's request ID"
    );
    assert!(!e.describe().contains("not-the-right-secret-key"));

    let unknown = Credentials::Aws {
        access_key_id: "AKIAUNKNOWNKEY000000".into(),
        secret_access_key: SecretString::new(SECRET),
        session_token: None,
    };
    let e = provider().observe(&t, &unknown).await.unwrap_err();
    assert_eq!(e.code, "InvalidClientTokenId");
    assert!(e.rejects_credentials());

    let skewed = provider().with_clock(Arc::new(|| {
        Timestamp::now() - SignedDuration::from_mins(10)
    }));
    let e = skewed.observe(&t, &keys(SECRET)).await.unwrap_err();
    assert_eq!(e.code, "SignatureDoesNotMatch");
    assert!(e.message.contains("clock may be skewed"), "{}", e.message);

    let slightly =
        provider().with_clock(Arc::new(|| Timestamp::now() + SignedDuration::from_mins(4)));
    assert!(slightly.observe(&t, &keys(SECRET)).await.is_ok());
}

#[tokio::test]
async fn error_classification_over_http() {
    let (_server, base) = start().await;
    let observe = |id: &'static str| {
        let t = target("db-snapshot", id, &base);
        async move { provider().observe(&t, &keys(SECRET)).await }
    };
    let e = observe("snapshot-throttled").await.unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Throttled, "Throttling")
    );
    let e = observe("snapshot-500").await.unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Transient, "InternalFailure")
    );
    let e = observe("snapshot-denied").await.unwrap_err();
    assert_eq!(e.reason, ErrorReason::AccessDenied);
    assert!(e.rejects_credentials());
    let e = observe("bad id!").await.unwrap_err();
    assert_eq!(
        (e.class, e.reason, e.code.as_str()),
        (
            ErrorClass::Permanent,
            ErrorReason::InvalidRequest,
            "InvalidParameterValue"
        )
    );
    let e = observe("snapshot-truncated").await.unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Transient, "MalformedResponse")
    );
}
