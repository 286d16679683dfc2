//! AWS discovery against a local server that checks SigV4 with the simulator's independent
//! verifier: `DescribeDBInstances` for the ARN, `DescribeDBSnapshots` by instance over two
//! `Marker` pages, blue/green deployments by `source`, pending maintenance by
//! `db-instance-id`, the not-found instance and an error echoing the credentials.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jiff::Timestamp;

use clouddb_job_operator::api::{JobPhase, ProviderApi, ProviderKind};
use clouddb_job_operator::providers::aws::AwsProvider;
use clouddb_job_operator::providers::credentials::SecretString;
use clouddb_job_operator::providers::discovery::{InstanceTarget, JobLister};
use clouddb_job_operator::providers::http::{HttpClient, HttpOptions};
use clouddb_job_operator::providers::{Credentials, ErrorClass, ErrorReason};
use clouddb_job_operator::simulator::auth::{
    verify_aws, AwsInput, SimCredentials, DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY,
};

const ARN: &str = "arn:aws:rds:us-east-1:123456789012:db:orders";

#[derive(Default)]
struct Server {
    forms: Mutex<Vec<Vec<(String, String)>>>,
}

fn xml(action: &str, result: &str) -> Response {
    let body = format!(
        "<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"
    );
    (StatusCode::OK, body).into_response()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>e</RequestId></ErrorResponse>"
    );
    (status, body).into_response()
}

fn snapshot(id: &str, status: &str) -> String {
    format!(
        "<DBSnapshot><DBSnapshotIdentifier>{id}</DBSnapshotIdentifier><DBInstanceIdentifier>orders</DBInstanceIdentifier><SnapshotCreateTime>{}</SnapshotCreateTime><Status>{status}</Status><PercentProgress>50</PercentProgress><SnapshotType>automated</SnapshotType></DBSnapshot>",
        Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    )
}

async fn handler(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input = AwsInput {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
        region: None,
    };
    if let Err(e) = verify_aws(
        &SimCredentials::default(),
        &input,
        Timestamp::now().as_second(),
    ) {
        return error(StatusCode::from_u16(e.status).unwrap(), e.code, &e.message);
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    server.forms.lock().unwrap().push(form.clone());
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    match (get("Action"), get("DBInstanceIdentifier")) {
        ("DescribeDBInstances", "orders") => xml(
            "DescribeDBInstances",
            &format!("<DBInstances><DBInstance><DBInstanceIdentifier>orders</DBInstanceIdentifier><DBInstanceArn>{ARN}</DBInstanceArn></DBInstance></DBInstances>"),
        ),
        ("DescribeDBInstances", "gone") => error(
            StatusCode::NOT_FOUND,
            "DBInstanceNotFound",
            "DBInstance gone not found.",
        ),
        ("DescribeDBInstances", other) => error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            &format!("echo {other} {}", headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default()),
        ),
        ("DescribeDBSnapshots", "orders") if get("Marker").is_empty() => xml(
            "DescribeDBSnapshots",
            &format!("<DBSnapshots>{}</DBSnapshots><Marker>m-2</Marker>", snapshot("rds:orders-1", "available")),
        ),
        ("DescribeDBSnapshots", "orders") => xml(
            "DescribeDBSnapshots",
            &format!("<DBSnapshots>{}</DBSnapshots>", snapshot("manual-2", "creating")),
        ),
        ("DescribeBlueGreenDeployments", _) if get("Filters.Filter.1.Values.Value.1") == ARN => xml(
            "DescribeBlueGreenDeployments",
            &format!("<BlueGreenDeployments><member><BlueGreenDeploymentIdentifier>bgd-1</BlueGreenDeploymentIdentifier><Source>{ARN}</Source><Status>PROVISIONING</Status></member></BlueGreenDeployments>"),
        ),
        ("DescribePendingMaintenanceActions", _) if get("Filters.Filter.1.Values.Value.1") == ARN => xml(
            "DescribePendingMaintenanceActions",
            &format!("<PendingMaintenanceActions><ResourcePendingMaintenanceActions><ResourceIdentifier>{ARN}</ResourceIdentifier><PendingMaintenanceActionDetails><PendingMaintenanceAction><Action>db-upgrade</Action><ForcedApplyDate>2030-01-01T00:00:00Z</ForcedApplyDate></PendingMaintenanceAction></PendingMaintenanceActionDetails></ResourcePendingMaintenanceActions></PendingMaintenanceActions>"),
        ),
        _ => error(StatusCode::BAD_REQUEST, "InvalidParameterCombination", "unexpected"),
    }
}

async fn serve() -> (String, Arc<Server>) {
    let server = Arc::new(Server::default());
    let app = Router::new().fallback(handler).with_state(server.clone());
    let addr = crate::serve_app(app).await;
    (format!("http://{addr}"), server)
}

fn creds(secret: &str) -> Credentials {
    Credentials::Aws {
        access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::new(secret),
        session_token: None,
    }
}

fn target(url: &str, instance: &str) -> InstanceTarget {
    InstanceTarget {
        provider: ProviderKind::Aws,
        api: ProviderApi::DbSnapshot,
        instance_id: instance.into(),
        region: Some("us-east-1".into()),
        project_id: None,
        subscription_id: None,
        endpoint: Some(url.parse().unwrap()),
    }
}

fn lister() -> AwsProvider {
    AwsProvider::new(HttpClient::new(&HttpOptions::default()).unwrap())
}

fn hour_ago() -> Timestamp {
    Timestamp::now() - jiff::SignedDuration::from_hours(1)
}

#[tokio::test]
async fn lists_snapshots_deployments_and_pending_maintenance_of_the_instance() {
    let (url, server) = serve().await;
    let found = lister()
        .list_jobs(
            &target(&url, "orders"),
            &creds(DEFAULT_AWS_SECRET_ACCESS_KEY),
            hour_ago(),
        )
        .await
        .unwrap();
    let ids: Vec<(&str, ProviderApi)> = found
        .jobs
        .iter()
        .map(|j| (j.job_id.as_str(), j.api))
        .collect();
    assert_eq!(
        ids,
        [
            ("rds:orders-1", ProviderApi::DbSnapshot),
            ("manual-2", ProviderApi::DbSnapshot),
            ("bgd-1", ProviderApi::BlueGreen),
        ]
    );
    assert_eq!(found.jobs[1].observation.phase, Some(JobPhase::Running));
    assert_eq!(found.upcoming.len(), 1);
    assert_eq!(found.upcoming[0].action, "db-upgrade");
    assert_eq!(
        found.upcoming[0].forced_after,
        Some("2030-01-01T00:00:00Z".parse().unwrap())
    );
    assert_eq!(found.clamped, None);
    let forms = server.forms.lock().unwrap().clone();
    let actions: Vec<String> = forms
        .iter()
        .map(|f| {
            let get = |k: &str| {
                f.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            assert_eq!(get("Version"), "2014-10-31");
            format!("{} {}", get("Action"), get("Marker"))
        })
        .collect();
    assert_eq!(
        actions,
        [
            "DescribeDBInstances ",
            "DescribeDBSnapshots ",
            "DescribeDBSnapshots m-2",
            "DescribeBlueGreenDeployments ",
            "DescribePendingMaintenanceActions ",
        ]
    );
    let filter =
        |f: &Vec<(String, String)>, k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(
        filter(&forms[3], "Filters.Filter.1.Name").as_deref(),
        Some("source")
    );
    assert_eq!(
        filter(&forms[4], "Filters.Filter.1.Name").as_deref(),
        Some("db-instance-id")
    );
}

#[tokio::test]
async fn unknown_instance_is_permanent_and_nothing_secret_is_returned() {
    let (url, server) = serve().await;
    let e = lister()
        .list_jobs(
            &target(&url, "gone"),
            &creds(DEFAULT_AWS_SECRET_ACCESS_KEY),
            hour_ago(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(e.code, "DBInstanceNotFound");
    assert!(e.message.contains("gone not found"), "{e:?}");
    assert_eq!(
        server.forms.lock().unwrap().len(),
        1,
        "nothing listed after the refusal"
    );
    let e = lister()
        .list_jobs(
            &target(&url, "echo"),
            &creds(DEFAULT_AWS_SECRET_ACCESS_KEY),
            hour_ago(),
        )
        .await
        .unwrap_err();
    let shown = e.describe();
    assert!(
        shown.contains("echo") && !shown.contains("Signature="),
        "{shown}"
    );
    let e = lister()
        .list_jobs(&target(&url, "orders"), &creds("wrong"), hour_ago())
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed, "{e:?}");
}
