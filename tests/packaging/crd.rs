//! The committed CRD matches the code, and its CEL admission rules reject bad specs with
//! messages a person understands (evaluated client-side with kube's CEL engine, since no
//! API server is available here).

use clouddb_job_operator::api::CloudDbJob;
use clouddb_job_operator::cli::crd::crd_yaml;
use serde_json::{json, Value};

#[test]
fn committed_crd_matches_the_crd_command() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/crds/clouddbjob.yaml"))
            .expect("crds/clouddbjob.yaml exists");
    assert_eq!(
        committed,
        crd_yaml().unwrap(),
        "crds/clouddbjob.yaml is stale: run `cargo run -- crd > crds/clouddbjob.yaml`"
    );
}

#[test]
fn crd_has_the_contracted_names_and_columns() {
    let crd: Value = serde_norway::from_str(&crd_yaml().unwrap()).unwrap();
    let spec = &crd["spec"];
    assert_eq!(spec["group"], "clouddb.io");
    assert_eq!(spec["names"]["kind"], "CloudDbJob");
    assert_eq!(spec["names"]["plural"], "clouddbjobs");
    assert_eq!(spec["names"]["shortNames"], json!(["cdbjob", "dbjob"]));
    assert_eq!(spec["names"]["categories"], json!(["clouddb"]));
    assert_eq!(spec["scope"], "Namespaced");
    let version = &spec["versions"][0];
    assert_eq!(version["name"], "v1alpha1");
    assert_eq!(version["subresources"]["status"], json!({}));
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in ["Provider", "Job", "Type", "Phase", "Progress", "Age"] {
        assert!(
            columns.contains(&name),
            "missing column {name}: {columns:?}"
        );
    }
    let status = &version["schema"]["openAPIV3Schema"]["properties"]["status"];
    let conditions = &status["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    assert_eq!(conditions["x-kubernetes-list-map-keys"], json!(["type"]));
    let spec_schema = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
    for (field, schema) in spec_schema["properties"].as_object().unwrap() {
        assert!(
            schema["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "spec.{field} has no description for kubectl explain"
        );
    }
}

fn job(spec: Value) -> CloudDbJob {
    serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": "j", "namespace": "default"},
        "spec": spec
    }))
    .unwrap()
}

fn base() -> Value {
    json!({"provider": "tencent", "jobId": "15967", "region": "ap-guangzhou", "credentialsSecretRef": {"name": "creds"}})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn rejection(spec: Value) -> String {
    match job(spec).validate_cel() {
        Ok(()) => panic!("spec was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn valid_specs_pass() {
    job(base()).validate_cel().unwrap();
    job(with(base(), "api", json!("DescribeAsyncRequestInfo")))
        .validate_cel()
        .unwrap();
    job(with(
        with(base(), "api", json!("DescribeAsyncRequestInfo")),
        "jobId",
        json!("f3ab-77c1"),
    ))
    .validate_cel()
    .unwrap();
    job(json!({"provider": "tencent-legacy", "api": "GetCdbRollbackJobTask", "jobId": "12782", "region": "gz", "credentialsSecretRef": {"name": "c"}}))
        .validate_cel()
        .unwrap();
    job(json!({"provider": "huawei", "api": "taurusdb-legacy", "jobId": "a9767ede-fe0f", "projectId": "0483b6b1", "region": "cn-north-4", "credentialsSecretRef": {"name": "c"}, "pollInterval": "1s", "timeout": "2h"}))
        .validate_cel()
        .unwrap();
}

#[test]
fn api_must_belong_to_the_provider() {
    let msg = rejection(with(base(), "api", json!("GetCdbTaskInfo")));
    assert!(
        msg.contains("for provider tencent, api must be DescribeTasks or DescribeAsyncRequestInfo"),
        "{msg}"
    );
    let legacy = json!({"provider": "tencent-legacy", "api": "rds", "jobId": "1", "region": "gz", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(legacy).contains("for provider tencent-legacy"));
    let hw = json!({"provider": "huawei", "api": "DescribeTasks", "jobId": "x", "projectId": "p", "region": "r", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(hw).contains("for provider huawei"));
}

#[test]
fn alibaba_and_aws_apis_regions_and_job_ids() {
    // Valid: string job IDs, each provider's APIs, Alibaba's `rds` is not Huawei's.
    for (provider, api, job_id) in [
        ("alibaba", Some("rds"), "t-83br18hloy3faf0s1"),
        ("alibaba", Some("polardb"), "t-9g2k1xpolardb0001"),
        ("alibaba", None, "t-1"),
        ("aws", None, "orders-export-2026-11-29"),
        ("aws", Some("db-snapshot"), "rds:orders-db-2026-11-29-03-10"),
        (
            "aws",
            Some("cluster-snapshot"),
            "orders-cluster-before-upgrade",
        ),
        ("aws", Some("blue-green"), "bgd-v53303651eexfake"),
        ("aws", Some("blue-green-switchover"), "bgd-v53303651eexfake"),
    ] {
        let mut spec = json!({"provider": provider, "jobId": job_id, "region": "us-east-1", "credentialsSecretRef": {"name": "c"}});
        if let Some(api) = api {
            spec["api"] = json!(api);
        }
        job(spec.clone())
            .validate_cel()
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
    }
    let wrong = json!({"provider": "alibaba", "api": "taurusdb", "jobId": "t-1", "region": "cn-hangzhou", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(wrong).contains("for provider alibaba, api must be rds or polardb"));
    let wrong = json!({"provider": "aws", "api": "rds", "jobId": "x", "region": "us-east-1", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(wrong).contains("for provider aws, api must be export-task"));
    for provider in ["alibaba", "aws"] {
        let no_region =
            json!({"provider": provider, "jobId": "x", "credentialsSecretRef": {"name": "c"}});
        assert!(rejection(no_region).contains("region is required for providers"));
    }
    let not_bgd = json!({"provider": "aws", "api": "blue-green", "jobId": "orders-green", "region": "us-east-1", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(not_bgd).contains("starts with bgd-"));
}

#[test]
fn huawei_needs_a_project_and_a_region_or_endpoint() {
    let hw = json!({"provider": "huawei", "jobId": "x", "region": "cn-north-4", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(hw.clone()).contains("projectId is required for providers huawei and gcp"));
    let no_region = json!({"provider": "huawei", "jobId": "x", "projectId": "p", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(no_region.clone())
        .contains("region is required for provider huawei unless endpoint is set"));
    job(with(
        no_region,
        "endpoint",
        json!("https://gaussdb.example.com"),
    ))
    .validate_cel()
    .unwrap();
}

#[test]
fn tencent_needs_a_region_and_integer_task_ids() {
    let mut no_region = base();
    no_region.as_object_mut().unwrap().remove("region");
    assert!(rejection(no_region)
        .contains("region is required for providers tencent, tencent-legacy, alibaba, aws (a signed request parameter) and azure"));
    let msg = rejection(with(base(), "jobId", json!("abc")));
    assert!(msg.contains("jobId must be an integer task ID"), "{msg}");
}

#[test]
fn durations_have_floors() {
    let msg = rejection(with(base(), "pollInterval", json!("500ms")));
    assert!(msg.contains("pollInterval must be at least 1s"), "{msg}");
    let msg = rejection(with(base(), "timeout", json!("0s")));
    assert!(msg.contains("timeout must be greater than zero"), "{msg}");
}

#[test]
fn identity_fields_are_immutable() {
    let old = job(base());
    let changed_id = job(with(base(), "jobId", json!("15968")));
    let msg = changed_id
        .validate_cel_update(&old)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("jobId is immutable"), "{msg}");
    let changed_api = job(with(base(), "api", json!("DescribeAsyncRequestInfo")));
    let msg = changed_api
        .validate_cel_update(&old)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("api is immutable"), "{msg}");
    let changed_provider = job(
        json!({"provider": "tencent-legacy", "jobId": "15967", "region": "gz", "credentialsSecretRef": {"name": "creds"}}),
    );
    let msg = changed_provider
        .validate_cel_update(&old)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("provider is immutable"), "{msg}");
    // Other fields may change.
    let new_interval = job(with(base(), "pollInterval", json!("1m")));
    new_interval.validate_cel_update(&old).unwrap();
}
