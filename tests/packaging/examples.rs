//! Every CloudDbJob under `examples/` must be accepted by the API server: it must deserialize
//! into [`CloudDbJob`], pass the CRD's `openAPIV3Schema` (checked with a JSON-schema
//! validator) and pass the CRD's CEL rules (checked client-side with `validate_cel`). Negative
//! cases prove each of the three checks rejects a broken manifest.

use crate::common;
use std::path::{Path, PathBuf};

use clouddb_job_operator::api::{CloudDbJob, ProviderKind};
use serde_json::{json, Map, Value};

/// All YAML files under `dir`, recursively, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(yaml_files(&path));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every document under `examples/`, with the file it came from.
fn example_documents() -> Vec<(PathBuf, Value)> {
    let dir = common::repo_root().join("examples");
    yaml_files(&dir)
        .into_iter()
        .flat_map(|p| {
            common::read_yaml_stream(&p)
                .into_iter()
                .map(move |d| (p.clone(), d))
        })
        .collect()
}

fn example_jobs() -> Vec<(PathBuf, Value)> {
    example_documents()
        .into_iter()
        .filter(|(_, d)| d["apiVersion"] == "clouddb.io/v1alpha1" && d["kind"] == "CloudDbJob")
        .collect()
}

/// Rewrites an OpenAPI v3.0 structural schema (as Kubernetes stores it) into a JSON schema:
/// `nullable: true` becomes a `"null"` type (and enum member), `x-kubernetes-*` extensions are
/// dropped (`int-or-string` becomes an `anyOf`), and objects with declared properties reject
/// unknown fields, as `kubectl apply` does with its default strict field validation. The root
/// object is left open: `apiVersion`, `kind` and `metadata` are not in the CRD schema.
fn openapi_to_json_schema(schema: &Value, is_root: bool) -> Value {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in obj {
        let converted = match key.as_str() {
            k if k.starts_with("x-kubernetes-") || k == "nullable" => continue,
            "properties" => Value::Object(
                value
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(name, s)| (name.clone(), openapi_to_json_schema(s, false)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => openapi_to_json_schema(value, false),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| openapi_to_json_schema(s, false))
                    .collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if obj.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        out.remove("type");
        out.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    let preserve = obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if !is_root
        && !preserve
        && obj.contains_key("properties")
        && !obj.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if obj.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(Value::String(t)) = out.get("type").cloned() {
            out.insert("type".into(), json!([t, "null"]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    Value::Object(out)
}

/// A JSON-schema validator for the CRD's (single) version.
pub(crate) fn crd_validator() -> jsonschema::Validator {
    let crd = common::generated_crd();
    let versions = crd["spec"]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    let openapi = &versions[0]["schema"]["openAPIV3Schema"];
    assert!(openapi.is_object(), "the CRD has an openAPIV3Schema");
    jsonschema::draft4::new(&openapi_to_json_schema(openapi, true)).unwrap()
}

/// Runs all three checks on one manifest; returns every problem found.
pub(crate) fn check(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    let mut problems: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("schema: {}: {e}", e.instance_path()))
        .collect();
    match serde_json::from_value::<CloudDbJob>(doc.clone()) {
        Ok(job) => {
            if let Err(errors) = job.validate_cel() {
                problems.extend(errors.iter().map(|e| format!("cel: {e}")));
            }
        }
        Err(e) => problems.push(format!("deserialize: {e}")),
    }
    problems
}

#[test]
fn every_example_job_is_valid() {
    let validator = crd_validator();
    let jobs = example_jobs();
    assert!(
        jobs.len() >= 9,
        "expected an example per provider API, found {}",
        jobs.len()
    );
    for (path, doc) in &jobs {
        let problems = check(&validator, doc);
        assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
    }
}

#[test]
fn examples_cover_every_provider_api_and_token_auth() {
    let mut seen = std::collections::HashSet::new();
    let mut token_auth = false;
    for (_, doc) in example_jobs() {
        let job: CloudDbJob = serde_json::from_value(doc).unwrap();
        let api = job
            .spec
            .api
            .clone()
            .unwrap_or_else(|| job.spec.provider.default_api().into());
        seen.insert((job.spec.provider, api));
        token_auth |= job.spec.provider == ProviderKind::Huawei
            && job
                .spec
                .credentials_secret_ref
                .as_ref()
                .is_some_and(|r| r.token_key.is_some());
    }
    for provider in [
        ProviderKind::Tencent,
        ProviderKind::TencentLegacy,
        ProviderKind::Huawei,
        ProviderKind::Gcp,
    ] {
        for api in provider.apis() {
            assert!(
                seen.contains(&(provider, api.to_owned())),
                "no example for {provider} {api}"
            );
        }
    }
    assert!(
        token_auth,
        "no Huawei example authenticating with an IAM token"
    );
    for api in ProviderKind::Azure.apis() {
        assert!(
            seen.contains(&(ProviderKind::Azure, api.to_owned())),
            "no example for azure {api}"
        );
    }
}

/// Each example's Secret sits next to its CloudDbJob (same file and namespace), uses
/// `stringData`, and holds the keys the job's provider reads.
#[test]
fn every_example_job_has_its_secret_with_the_expected_keys() {
    let docs = example_documents();
    for (path, doc) in example_jobs() {
        let job: CloudDbJob = serde_json::from_value(doc.clone()).unwrap();
        if path.starts_with(common::repo_root().join("examples/gitops")) {
            // A GitOps repository holds no plaintext Secret: it is created out of band (or
            // committed encrypted), as the example's comment says.
            continue;
        }
        let Some(r) = &job.spec.credentials_secret_ref else {
            // Workload identity: no Secret at all, by design.
            assert!(job.spec.identity.is_some(), "{}", path.display());
            continue;
        };
        let secret = docs
            .iter()
            .find(|(p, d)| {
                *p == path
                    && d["kind"] == "Secret"
                    && d["metadata"]["name"] == r.name.as_str()
                    && d["metadata"]["namespace"] == doc["metadata"]["namespace"]
            })
            .unwrap_or_else(|| panic!("{}: no Secret {} beside the job", path.display(), r.name));
        let data = secret.1["stringData"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: Secret without stringData", path.display()));
        // The operator's own reader decides: the keys it would look up must be there.
        let data: std::collections::BTreeMap<String, Vec<u8>> = data
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().unwrap_or_default().as_bytes().to_vec(),
                )
            })
            .collect();
        let ok = clouddb_job_operator::providers::Credentials::from_secret_data(
            job.spec.provider,
            r,
            &data,
        )
        .is_ok();
        assert!(
            ok,
            "{}: Secret {} lacks the credential keys",
            path.display(),
            r.name
        );
    }
}

fn example(file: &str) -> Value {
    let path = common::repo_root().join("examples").join(file);
    common::read_yaml_stream(&path)
        .into_iter()
        .find(|d| d["kind"] == "CloudDbJob")
        .unwrap()
}

fn assert_rejected(validator: &jsonschema::Validator, doc: &Value, expect: &str) {
    let problems = check(validator, doc);
    assert!(
        problems.iter().any(|p| p.contains(expect)),
        "expected a problem mentioning {expect:?}, got {problems:#?}"
    );
}

#[test]
fn cel_rules_reject_broken_jobs() {
    let v = crd_validator();

    let mut wrong_api = example("huawei-rds.yaml");
    wrong_api["spec"]["api"] = json!("DescribeTasks");
    assert_rejected(
        &v,
        &wrong_api,
        "cel: spec.api: for provider huawei, api must be",
    );

    let mut no_project = example("huawei-rds.yaml");
    no_project["spec"]
        .as_object_mut()
        .unwrap()
        .remove("projectId");
    assert_rejected(
        &v,
        &no_project,
        "projectId is required for providers huawei and gcp",
    );

    let mut short_poll = example("tencent-describetasks.yaml");
    short_poll["spec"]["pollInterval"] = json!("500ms");
    assert_rejected(&v, &short_poll, "pollInterval must be at least 1s");

    let mut non_numeric = example("tencent-legacy-getcdbtaskinfo.yaml");
    non_numeric["spec"]["jobId"] = json!("task-560");
    assert_rejected(&v, &non_numeric, "jobId must be an integer task ID");

    let mut no_region = example("tencent-describetasks.yaml");
    no_region["spec"].as_object_mut().unwrap().remove("region");
    assert_rejected(
        &v,
        &no_region,
        "region is required for providers tencent, tencent-legacy, alibaba, aws (a signed request parameter) and azure",
    );
}

#[test]
fn cel_rules_reject_broken_azure_jobs() {
    let v = crd_validator();
    let mut no_subscription = example("azure-postgresql-flexible.yaml");
    no_subscription["spec"]
        .as_object_mut()
        .unwrap()
        .remove("subscriptionId");
    assert_rejected(
        &v,
        &no_subscription,
        "subscriptionId is required for provider azure",
    );
    let mut no_location = example("azure-mysql-flexible.yaml");
    no_location["spec"]
        .as_object_mut()
        .unwrap()
        .remove("region");
    assert_rejected(&v, &no_location, "region is required for providers");
    let mut wrong_api = example("azure-mysql-flexible.yaml");
    wrong_api["spec"]["api"] = json!("cloudsql");
    assert_rejected(
        &v,
        &wrong_api,
        "for provider azure, api must be postgresql-flexible or mysql-flexible",
    );
    let mut elsewhere = example("aws-export-task.yaml");
    elsewhere["spec"]["subscriptionId"] = json!("00000000-0000-0000-0000-000000000000");
    assert_rejected(
        &v,
        &elsewhere,
        "subscriptionId applies to provider azure only",
    );
    let mut not_a_guid = example("azure-postgresql-flexible.yaml");
    not_a_guid["spec"]["subscriptionId"] = json!("my-subscription");
    assert_rejected(&v, &not_a_guid, "schema: /spec/subscriptionId");
}

#[test]
fn schema_rejects_broken_jobs() {
    let v = crd_validator();

    let mut bad_poll = example("tencent-describetasks.yaml");
    bad_poll["spec"]["pollInterval"] = json!("soon");
    assert_rejected(&v, &bad_poll, "schema: /spec/pollInterval");

    let mut bad_provider = example("tencent-describetasks.yaml");
    bad_provider["spec"]["provider"] = json!("oracle");
    assert_rejected(&v, &bad_provider, "schema: /spec/provider");

    let mut typo = example("huawei-taurusdb.yaml");
    typo["spec"]["pollIntervall"] = json!("15s");
    assert_rejected(&v, &typo, "schema: /spec");

    let mut plain_http = example("huawei-taurusdb.yaml");
    plain_http["spec"]["endpoint"] = json!("http://gaussdb.example.com");
    assert_rejected(&v, &plain_http, "schema: /spec/endpoint");

    let mut no_secret = example("huawei-rds.yaml");
    no_secret["spec"]
        .as_object_mut()
        .unwrap()
        .remove("credentialsSecretRef");
    // Optional since workload identity: exactly one of the two is required (a CEL rule).
    assert_rejected(
        &v,
        &no_secret,
        "set exactly one of credentialsSecretRef (stored keys) and identity",
    );
    let mut both = example("aws-export-task.yaml");
    both["spec"]["identity"] =
        json!({"serviceAccountName": "reader", "roleArn": "arn:aws:iam::1:role/r"});
    assert_rejected(&v, &both, "set exactly one of credentialsSecretRef");
    let mut not_yet = example("tencent-legacy-getcdbtaskinfo.yaml");
    not_yet["spec"]
        .as_object_mut()
        .unwrap()
        .remove("credentialsSecretRef");
    not_yet["spec"]["identity"] = json!({"serviceAccountName": "reader"});
    assert_rejected(
        &v,
        &not_yet,
        "supported for providers aws, alibaba, huawei, tencent, azure and gcp",
    );
    let mut no_role = example("aws-export-task.yaml");
    no_role["spec"]
        .as_object_mut()
        .unwrap()
        .remove("credentialsSecretRef");
    no_role["spec"]["identity"] = json!({"serviceAccountName": "reader"});
    assert_rejected(
        &v,
        &no_role,
        "identity.roleArn is required for provider aws",
    );
    let mut qualified = no_role.clone();
    qualified["spec"]["identity"] =
        json!({"serviceAccountName": "team-b/reader", "roleArn": "arn:aws:iam::1:role/r"});
    assert_rejected(&v, &qualified, "schema: /spec/identity/serviceAccountName");
}

#[test]
fn transition_rules_keep_the_job_identity_immutable() {
    let old: CloudDbJob = serde_json::from_value(example("tencent-describetasks.yaml")).unwrap();
    let mut new = old.clone();
    new.spec.poll_interval = Some("30s".into());
    assert!(
        new.validate_cel_update(&old).is_ok(),
        "pollInterval may change"
    );
    new.spec.job_id = "15967".into();
    let errors = new.validate_cel_update(&old).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("jobId is immutable")),
        "{errors}"
    );
}

#[test]
fn schema_conversion_handles_nullable_and_extensions() {
    let converted = openapi_to_json_schema(
        &json!({
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": true, "enum": ["x"]},
                "b": {"x-kubernetes-int-or-string": true},
                "c": {"type": "object", "properties": {}, "x-kubernetes-preserve-unknown-fields": true}
            },
            "x-kubernetes-validations": [{"rule": "true"}]
        }),
        false,
    );
    let v = jsonschema::draft4::new(&converted).unwrap();
    assert!(v.is_valid(&json!({"a": null, "b": 1, "c": {"z": 1}})));
    assert!(v.is_valid(&json!({"a": "x", "b": "50%"})));
    assert!(!v.is_valid(&json!({"a": "y"})));
    assert!(!v.is_valid(&json!({"d": 1})));
}

/// The Flux example (`examples/gitops/flux/`, the files tests/e2e/flux.rs applies): one
/// Kustomization waits on what it applies, the next depends on it and health-checks the
/// CloudDbJob that the first one applies (by name, in its target namespace).
#[test]
fn flux_example_waits_on_its_own_job() {
    let dir = common::repo_root().join("examples/gitops/flux");
    let docs = common::read_yaml_stream(&dir.join("pipeline.yaml"));
    let kustomizations: Vec<&Value> = docs
        .iter()
        .filter(|d| {
            d["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1" && d["kind"] == "Kustomization"
        })
        .collect();
    assert!(docs.iter().any(|d| d["kind"] == "GitRepository"));
    let upgrade = kustomizations
        .iter()
        .find(|d| d["spec"]["wait"] == true)
        .expect("one Kustomization uses wait: true");
    let path = upgrade["spec"]["path"].as_str().unwrap();
    let applied: Vec<(Value, Value)> = yaml_files(&dir.join(path))
        .iter()
        .flat_map(|p| common::read_yaml_stream(p))
        .filter(|d| d["kind"] == "CloudDbJob")
        .map(|d| {
            (
                d["metadata"]["name"].clone(),
                upgrade["spec"]["targetNamespace"].clone(),
            )
        })
        .collect();
    assert!(!applied.is_empty(), "{path} holds a CloudDbJob");
    let app = kustomizations
        .iter()
        .find(|d| d["spec"]["dependsOn"].is_array())
        .expect("one Kustomization depends on the upgrade");
    assert_eq!(
        app["spec"]["dependsOn"][0]["name"],
        upgrade["metadata"]["name"]
    );
    let checks = app["spec"]["healthChecks"]
        .as_array()
        .expect("healthChecks");
    for c in checks {
        assert_eq!(c["apiVersion"], "clouddb.io/v1alpha1");
        assert_eq!(c["kind"], "CloudDbJob");
        assert!(
            applied.contains(&(c["name"].clone(), c["namespace"].clone())),
            "health check on a job the upgrade does not apply: {c}"
        );
    }
}

/// Walks the compiled CRD schema and returns, per rule, compilation errors and the CEL
/// analyzer's warnings (wrong variables, estimated cost over the API server's budget, missing
/// bounds).
pub(crate) fn cel_rule_findings(
    node: &kube::core::cel::CompiledSchema,
    path: &str,
    out: &mut Vec<String>,
) -> usize {
    use kube::core::cel::{analyze_rule, ScopeContext};
    let mut rules = node.validations.len();
    for compiled in &node.validations {
        match compiled {
            Ok(result) => {
                for w in analyze_rule(&result.rule.rule, node, ScopeContext::CrdValidation) {
                    out.push(format!("{path}: {:?}: {}", w.kind, w.message));
                }
            }
            Err(e) => out.push(format!("{path}: compile error: {e:?}")),
        }
    }
    for (name, child) in &node.properties {
        rules += cel_rule_findings(child, &format!("{path}.{name}"), out);
    }
    if let Some(items) = &node.items {
        rules += cel_rule_findings(items, &format!("{path}[]"), out);
    }
    if let Some(ap) = &node.additional_properties {
        rules += cel_rule_findings(ap, &format!("{path}{{}}"), out);
    }
    rules
}

#[test]
fn crd_cel_rules_compile_within_budget() {
    let crd = common::generated_crd();
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let compiled = kube::core::cel::compile_schema(schema);
    let mut findings = Vec::new();
    let rules = cel_rule_findings(&compiled, "", &mut findings);
    let expected = crd.to_string().matches("\"rule\":").count();
    assert!(expected >= 10, "the CRD has its CEL rules ({expected})");
    assert_eq!(rules, expected, "every rule in the CRD was compiled");
    assert!(findings.is_empty(), "{findings:#?}");
}
