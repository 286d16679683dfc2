//! The CloudDbInstance CRD (issue 30): committed YAML matches the code, names and columns
//! are the contracted ones, and its CEL rules refuse what cannot be discovered with
//! messages a person understands (kube's CEL engine, client-side).

use clouddb_job_operator::api::{CloudDbInstance, CloudDbJob};
use clouddb_job_operator::cli::crd::{instance_crd_yaml, yaml_for, CrdKind};
use serde_json::{json, Value};

#[test]
fn committed_instance_crd_matches_the_crd_command() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crds/clouddbinstance.yaml"
    ))
    .expect("crds/clouddbinstance.yaml exists");
    assert_eq!(
        committed,
        instance_crd_yaml().unwrap(),
        "crds/clouddbinstance.yaml is stale: run \
         `cargo run -- crd --kind instance > crds/clouddbinstance.yaml`"
    );
}

#[test]
fn crd_all_is_both_documents() {
    let all = yaml_for(CrdKind::All).unwrap();
    let docs = super::common::parse_yaml_stream(&all);
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["clouddbjobs.clouddb.io", "clouddbinstances.clouddb.io"]
    );
}

#[test]
fn instance_crd_has_the_contracted_names_columns_and_defaults() {
    let crd: Value = serde_norway::from_str(&instance_crd_yaml().unwrap()).unwrap();
    let spec = &crd["spec"];
    assert_eq!(spec["group"], "clouddb.io");
    assert_eq!(spec["names"]["kind"], "CloudDbInstance");
    assert_eq!(spec["names"]["plural"], "clouddbinstances");
    assert_eq!(spec["names"]["shortNames"], json!(["cdbinst"]));
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
    assert_eq!(
        columns,
        ["Provider", "Instance", "Active", "Idle", "Ready", "Reason", "Age"]
    );
    let schema = &version["schema"]["openAPIV3Schema"]["properties"];
    let status = &schema["status"];
    assert_eq!(status["default"], json!({"observedGeneration": 0}));
    let conditions = &status["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    let discover = &schema["spec"]["properties"]["discover"]["properties"];
    assert_eq!(discover["window"]["default"], "24h");
    assert_eq!(discover["recordFinished"]["default"], true);
    for (field, s) in schema["spec"]["properties"].as_object().unwrap() {
        assert!(
            s["description"].as_str().is_some_and(|d| !d.is_empty()),
            "spec.{field} has no description for kubectl explain"
        );
    }
}

fn instance(spec: Value) -> CloudDbInstance {
    serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbInstance",
        "metadata": {"name": "orders", "namespace": "default"},
        "spec": spec
    }))
    .unwrap()
}

fn base() -> Value {
    json!({"provider": "tencent", "instanceId": "cdb-c1nl9rpv", "region": "ap-guangzhou", "credentialsSecretRef": {"name": "creds"}})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn rejection(spec: Value) -> String {
    match instance(spec.clone()).validate_cel() {
        Ok(()) => panic!("spec was accepted: {spec}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn listing_providers_pass() {
    for spec in [
        base(),
        with(base(), "api", json!("DescribeTasks")),
        json!({"provider": "alibaba", "api": "polardb", "instanceId": "pc-bp1", "region": "cn-hangzhou", "credentialsSecretRef": {"name": "c"}}),
        json!({"provider": "gcp", "instanceId": "orders", "projectId": "p", "credentialsSecretRef": {"name": "c"}}),
        json!({"provider": "aws", "api": "db-snapshot", "instanceId": "orders", "region": "us-east-1", "identity": {"serviceAccountName": "db", "roleArn": "arn:aws:iam::1:role/r"}}),
        json!({"provider": "huawei", "api": "rds", "instanceId": "i", "projectId": "p", "region": "cn-north-4", "credentialsSecretRef": {"name": "c"}}),
        json!({"provider": "tencent", "instanceId": "cdb-1", "region": "ap-guangzhou", "credentialsSecretRef": {"name": "c"}, "pollInterval": "1s",
               "discover": {"types": ["upgrade", "maintenance"], "window": "72h", "recordFinished": false},
               "jobTemplate": {"labels": {"team": "db"}, "pollInterval": "5s", "ttlSecondsAfterFinished": 3600, "suspend": false}}),
    ] {
        instance(spec.clone())
            .validate_cel()
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
    }
}

#[test]
fn providers_and_apis_that_cannot_list_are_refused() {
    let legacy = json!({"provider": "tencent-legacy", "instanceId": "cdb-1", "region": "gz", "credentialsSecretRef": {"name": "c"}});
    let msg = rejection(legacy);
    assert!(
        msg.contains("provider tencent-legacy (CDB API 2.0) has no call that lists"),
        "{msg}"
    );
    let azure = json!({"provider": "azure", "instanceId": "orders", "region": "eastus", "subscriptionId": "00000000-0000-0000-0000-000000000000", "credentialsSecretRef": {"name": "c"}});
    let msg = rejection(azure);
    assert!(
        msg.contains("provider azure cannot list an instance's jobs"),
        "{msg}"
    );
    let msg = rejection(with(base(), "api", json!("DescribeAsyncRequestInfo")));
    assert!(
        msg.contains("for provider tencent, api must be DescribeTasks"),
        "{msg}"
    );
    let aws_export = json!({"provider": "aws", "api": "export-task", "instanceId": "o", "region": "us-east-1", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(aws_export).contains("for provider aws, api must be db-snapshot"));
    let hw_legacy = json!({"provider": "huawei", "api": "taurusdb-legacy", "instanceId": "i", "projectId": "p", "region": "r", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(hw_legacy).contains("for provider huawei, api must be rds"));
    // No lister for these (yet): refused at admission, not stalled after.
    let aurora = json!({"provider": "aws", "api": "cluster-snapshot", "instanceId": "o", "region": "us-east-1", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(aurora).contains("Aurora clusters are not listed yet"));
    let taurus = json!({"provider": "huawei", "api": "taurusdb", "instanceId": "i", "projectId": "p", "region": "r", "credentialsSecretRef": {"name": "c"}});
    assert!(rejection(taurus).contains("TaurusDB has no call that lists"));
}

#[test]
fn credentials_rules_and_messages_are_the_jobs() {
    // Exactly one of credentialsSecretRef and identity, with CloudDbJob's message.
    let mut neither = base();
    neither
        .as_object_mut()
        .unwrap()
        .remove("credentialsSecretRef");
    let msg = rejection(neither.clone());
    let job_msg =
        job_rejection(json!({"provider": "tencent", "jobId": "1", "region": "ap-guangzhou"}));
    let expected = "set exactly one of credentialsSecretRef (stored keys) and identity";
    assert!(msg.contains(expected), "{msg}");
    assert!(job_msg.contains(expected), "{job_msg}");
    let both = with(
        base(),
        "identity",
        json!({"serviceAccountName": "db", "roleArn": "r", "oidcProvider": "p"}),
    );
    assert!(rejection(both).contains(expected));
    let tencent_identity = with(
        neither,
        "identity",
        json!({"serviceAccountName": "db", "roleArn": "r"}),
    );
    assert!(rejection(tencent_identity)
        .contains("identity.roleArn and identity.oidcProvider are required for provider tencent"));
    let gcp_no_project =
        json!({"provider": "gcp", "instanceId": "orders", "credentialsSecretRef": {"name": "c"}});
    assert!(
        rejection(gcp_no_project).contains("projectId is required for providers huawei and gcp")
    );
    let mut no_region = base();
    no_region.as_object_mut().unwrap().remove("region");
    assert!(rejection(no_region).contains("region is required for providers tencent"));
}

fn job_rejection(spec: Value) -> String {
    let job: CloudDbJob = serde_json::from_value(json!({
        "apiVersion": "clouddb.io/v1alpha1", "kind": "CloudDbJob",
        "metadata": {"name": "j", "namespace": "default"}, "spec": spec
    }))
    .unwrap();
    match job.validate_cel() {
        Ok(()) => panic!("job spec was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn durations_have_floors() {
    let msg = rejection(with(base(), "pollInterval", json!("500ms")));
    assert!(msg.contains("pollInterval must be at least 1s"), "{msg}");
    let msg = rejection(with(base(), "discover", json!({"window": "30s"})));
    assert!(msg.contains("discover.window must be at least 1m"), "{msg}");
    let msg = rejection(with(base(), "jobTemplate", json!({"pollInterval": "10ms"})));
    assert!(
        msg.contains("jobTemplate.pollInterval must be at least 1s"),
        "{msg}"
    );
}

#[test]
fn the_instance_is_immutable() {
    let old = instance(base());
    let moved = instance(with(base(), "instanceId", json!("cdb-other")));
    let msg = moved.validate_cel_update(&old).unwrap_err().to_string();
    assert!(msg.contains("instanceId is immutable"), "{msg}");
    let api = instance(with(base(), "api", json!("DescribeTasks")));
    let msg = api.validate_cel_update(&old).unwrap_err().to_string();
    assert!(msg.contains("api is immutable"), "{msg}");
    // Discovery settings may change.
    let longer = instance(with(base(), "discover", json!({"window": "48h"})));
    longer.validate_cel_update(&old).unwrap();
}

#[test]
fn instance_cel_rules_compile_within_budget() {
    let crd = super::common::parse_yaml_stream(&instance_crd_yaml().unwrap()).remove(0);
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let compiled = kube::core::cel::compile_schema(schema);
    let mut findings = Vec::new();
    let rules = super::examples::cel_rule_findings(&compiled, "", &mut findings);
    let expected = crd.to_string().matches("\"rule\":").count();
    assert!(expected >= 10, "the CRD has its CEL rules ({expected})");
    assert_eq!(rules, expected, "every rule in the CRD was compiled");
    assert!(findings.is_empty(), "{findings:#?}");
}
