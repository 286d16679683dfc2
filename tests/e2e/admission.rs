//! The CRD as the real kube-apiserver takes it: established, explained, examples admitted,
//! bad manifests refused with the message of their rule (structural schema, CEL rules and
//! their cost budget are the apiserver's, not a copy of them).

use serde_json::{json, Value};

use super::cluster::{self, kubectl_stdin, Cluster};
use super::harness::{output_text, Harness, Options};

/// A valid job to start each bad case from.
fn valid_job(name: &str) -> Value {
    json!({
        "apiVersion": "clouddb.io/v1alpha1",
        "kind": "CloudDbJob",
        "metadata": {"name": name},
        "spec": {
            "provider": "tencent",
            "api": "DescribeTasks",
            "jobId": "15964",
            "region": "ap-guangzhou",
            "credentialsSecretRef": {"name": "creds"},
        }
    })
}

fn options() -> Options {
    Options {
        builtins: false,
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crd_is_established_and_kubectl_explain_shows_its_docs() {
    let h = Harness::start_without_operator("explain", options()).await;
    let established = h
        .kubectl_ok(&[
            "get",
            "crd/clouddbjobs.clouddb.io",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Established\")].status}",
        ])
        .await;
    assert_eq!(established, "True");
    // The doc comments of the Rust types, as the apiserver publishes them (OpenAPI v3).
    for (field, words) in [
        ("cdbjob.spec.pollInterval", "How often to poll the provider"),
        ("cdbjob.spec.credentialsSecretRef.name", "Secret"),
        ("cdbjob.status.conditions", "lastTransitionTime"),
        (
            "cdbjob.status.upgrade.before",
            "Instance specification before the upgrade",
        ),
    ] {
        let text = h.kubectl_ok(&["explain", field]).await;
        assert!(
            text.contains(words),
            "kubectl explain {field} lacks {words:?}:\n{text}"
        );
    }
    // Short names and the category work against the real discovery.
    for name in ["cdbjob", "dbjob", "clouddbjob", "clouddbjobs", "clouddb"] {
        h.kubectl_ok(&["get", name]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_is_admitted_dry_run_then_for_real() {
    let cluster = Cluster::shared();
    let kubeconfig = &cluster.kubeconfig;
    let h = Harness::start_without_operator("examples", options()).await;
    let examples = cluster::root().join("examples");
    // The examples create their own namespace first (00-namespace.yaml).
    let namespace = examples.join("00-namespace.yaml");
    cluster::kubectl_sync_ok(kubeconfig, &["apply", "-f", namespace.to_str().unwrap()]);
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && *p != namespace)
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    let mut jobs = Vec::new();
    for file in &files {
        let path = file.to_str().unwrap();
        let dry = cluster::kubectl_sync(kubeconfig, &["apply", "--dry-run=server", "-f", path]);
        assert!(dry.status.success(), "{path}: {}", output_text(&dry));
        let real = cluster::kubectl_sync_ok(kubeconfig, &["apply", "-f", path]);
        jobs.extend(
            real.lines()
                .filter_map(|l| l.split_whitespace().next())
                .filter(|o| o.starts_with("clouddbjob"))
                .map(str::to_string),
        );
    }
    assert_eq!(
        jobs.len(),
        files.len(),
        "one CloudDbJob per example: {jobs:?}"
    );
    let listed = cluster::kubectl_sync_ok(
        kubeconfig,
        &["get", "cdbjob", "-n", "databases", "-o", "name"],
    );
    for job in &jobs {
        assert!(listed.contains(job.as_str()), "{job} not listed:\n{listed}");
    }
    drop(h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_manifests_are_refused_by_the_apiserver_with_the_rules_message() {
    let h = Harness::start_without_operator("admission", options()).await;
    let kubeconfig = h.kubeconfig.clone();
    let create = |doc: &Value| kubectl_stdin(&kubeconfig, &["create", "-f", "-"], &doc.to_string());

    type Mutate = fn(&mut Value);
    let cases: Vec<(&str, Mutate, &str)> = vec![
        (
            "api of another provider",
            |d| d["spec"]["api"] = json!("GetCdbTaskInfo"),
            "for provider tencent, api must be DescribeTasks or DescribeAsyncRequestInfo",
        ),
        (
            "huawei without projectId",
            |d| {
                d["spec"]["provider"] = json!("huawei");
                d["spec"]["api"] = json!("rds");
                d["spec"]["jobId"] = json!("5b7d9f1a-3c5e-4a7b-9d1f-3a5c7e9b1d3f");
            },
            "projectId is required for providers huawei and gcp",
        ),
        (
            "gcp without projectId",
            |d| {
                d["spec"]["provider"] = json!("gcp");
                d["spec"]["api"] = json!("cloudsql");
                d["spec"]["jobId"] = json!("6b9f4b5e-2a1d-4c7e-9f0a-1d2c3b4a5f60");
            },
            "projectId is required for providers huawei and gcp",
        ),
        (
            "gcp with another provider's api",
            |d| {
                d["spec"]["provider"] = json!("gcp");
                d["spec"]["api"] = json!("rds");
                d["spec"]["projectId"] = json!("my-project");
            },
            "for provider gcp, api must be cloudsql",
        ),
        (
            "non-integer Tencent task ID",
            |d| d["spec"]["jobId"] = json!("task-15964"),
            "jobId must be an integer task ID",
        ),
        (
            "pollInterval below 1s",
            |d| d["spec"]["pollInterval"] = json!("500ms"),
            "pollInterval must be at least 1s",
        ),
        (
            "missing region",
            |d| {
                d["spec"].as_object_mut().unwrap().remove("region");
            },
            "region is required for providers tencent, tencent-legacy, alibaba, aws (a signed request parameter) and azure",
        ),
        (
            "azure without subscriptionId",
            |d| {
                d["spec"]["provider"] = json!("azure");
                d["spec"]["api"] = json!("postgresql-flexible");
                d["spec"]["jobId"] = json!("0ec0de9b-4a56-4b3c-8a9b-6f7e2c1d0e11");
            },
            "subscriptionId is required for provider azure",
        ),
        (
            "azure subscriptionId that is not a GUID",
            |d| {
                d["spec"]["provider"] = json!("azure");
                d["spec"]["api"] = json!("mysql-flexible");
                d["spec"]["subscriptionId"] = json!("my-subscription");
            },
            "spec.subscriptionId in body should match",
        ),
        (
            "azure with an api of another provider",
            |d| {
                d["spec"]["provider"] = json!("azure");
                d["spec"]["api"] = json!("rds");
                d["spec"]["subscriptionId"] = json!("00000000-0000-0000-0000-000000000001");
            },
            "for provider azure, api must be postgresql-flexible or mysql-flexible",
        ),
        (
            "azure without a location",
            |d| {
                d["spec"]["provider"] = json!("azure");
                d["spec"]["api"] = json!("postgresql-flexible");
                d["spec"]["subscriptionId"] = json!("00000000-0000-0000-0000-000000000001");
                d["spec"].as_object_mut().unwrap().remove("region");
            },
            "region is required for providers",
        ),
        (
            "subscriptionId on another provider",
            |d| d["spec"]["subscriptionId"] = json!("00000000-0000-0000-0000-000000000001"),
            "subscriptionId applies to provider azure only",
        ),
        (
            "unknown provider",
            |d| d["spec"]["provider"] = json!("oracle"),
            "Unsupported value: \"oracle\"",
        ),
        (
            "unknown field",
            |d| d["spec"]["pollEvery"] = json!("10s"),
            "unknown field \"spec.pollEvery\"",
        ),
    ];
    for (i, (what, mutate, message)) in cases.iter().enumerate() {
        let mut doc = valid_job(&format!("bad-{i}"));
        mutate(&mut doc);
        let out = create(&doc);
        let text = output_text(&out);
        assert!(!out.status.success(), "{what}: admitted\n{text}");
        assert!(
            text.contains(message),
            "{what}: expected {message:?} in\n{text}"
        );
    }

    // Immutable fields: admitted once, then every change refused by its rule.
    let out = create(&valid_job("fixed"));
    assert!(out.status.success(), "{}", output_text(&out));
    for (patch, message) in [
        (
            json!({"spec": {"provider": "tencent-legacy", "api": "GetCdbTaskInfo"}}),
            "provider is immutable",
        ),
        (
            json!({"spec": {"api": "DescribeAsyncRequestInfo"}}),
            "api is immutable",
        ),
        (json!({"spec": {"jobId": "15965"}}), "jobId is immutable"),
    ] {
        let out = h
            .kubectl(&[
                "patch",
                "cdbjob/fixed",
                "--type=merge",
                "-p",
                &patch.to_string(),
            ])
            .await;
        let text = output_text(&out);
        assert!(!out.status.success(), "{patch}: admitted\n{text}");
        assert!(
            text.contains(message),
            "{patch}: expected {message:?} in\n{text}"
        );
    }
    // A change to a mutable field is admitted.
    h.kubectl_ok(&[
        "patch",
        "cdbjob/fixed",
        "--type=merge",
        "-p",
        r#"{"spec":{"pollInterval":"30s"}}"#,
    ])
    .await;
}
