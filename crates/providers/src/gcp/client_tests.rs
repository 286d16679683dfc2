use super::*;
use clouddb_api::{ProviderApi, ProviderKind};

fn target(endpoint: Option<&str>, project: Option<&str>, job: &str) -> JobTarget {
    JobTarget {
        provider: ProviderKind::Gcp,
        api: ProviderApi::CloudSql,
        job_id: job.into(),
        region: None,
        instance_id: None,
        project_id: project.map(String::from),
        subscription_id: None,
        endpoint: endpoint.map(|e| Url::parse(e).unwrap()),
    }
}

#[test]
fn the_default_host_and_the_documented_path() {
    let url = GcpProvider::operation_url(&target(None, Some("my-project"), "6b9f-1")).unwrap();
    assert_eq!(
        url.as_str(),
        "https://sqladmin.googleapis.com/v1/projects/my-project/operations/6b9f-1"
    );
}

#[test]
fn an_endpoint_replaces_the_host_and_keeps_its_prefix() {
    let url =
        GcpProvider::operation_url(&target(Some("http://127.0.0.1:8080/sql/"), Some("p"), "op"))
            .unwrap();
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:8080/sql/v1/projects/p/operations/op"
    );
}

#[test]
fn segments_are_encoded_not_interpreted() {
    let url = GcpProvider::operation_url(&target(None, Some("p"), "../../x?y#z")).unwrap();
    assert_eq!(url.path(), "/v1/projects/p/operations/..%2F..%2Fx%3Fy%23z");
    assert_eq!(url.query(), None);
}

#[test]
fn a_project_is_required() {
    for project in [None, Some(" ")] {
        let e = GcpProvider::operation_url(&target(None, project, "op")).unwrap_err();
        assert_eq!(e.code, "MissingProjectId");
        assert!(e.is_permanent());
    }
}

#[tokio::test]
async fn other_credentials_are_refused_without_a_request() {
    let provider = GcpProvider::new(HttpClient::new(&Default::default()).unwrap());
    let creds = Credentials::HuaweiToken {
        token: SecretString::new("t"),
    };
    let e = provider
        .observe(&target(None, Some("p"), "op"), &creds)
        .await
        .unwrap_err();
    assert_eq!(e.reason, ErrorReason::AuthenticationFailed);
    assert_eq!(provider.token_cache().fetches(), 0);
}
