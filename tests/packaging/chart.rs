//! Renders the Helm chart with the real `helm` (built by testenv/build.sh from helm.sh/helm/v4) and
//! checks what it would apply: least-privilege RBAC, the pod's security settings, controller
//! arguments and probes, optional resources, and that the chart's CRD is the binary's CRD.

use crate::common;
use std::path::PathBuf;
use std::process::{Command, Output};

use clap::Parser;
use clouddb_job_operator::cli::{Cli, Command as CliCommand};
use clouddb_job_operator::providers::endpoints::EndpointPolicy;
use serde_json::{json, Value};

pub(crate) const RELEASE: &str = "rel";
pub(crate) const NAMESPACE: &str = "ops";
const FULLNAME: &str = "rel-clouddb-job-operator";

pub(crate) fn chart_dir() -> PathBuf {
    common::repo_root().join("charts/clouddb-job-operator")
}

fn helm(args: &[&str]) -> Output {
    let helm = common::required_tool("HELM", "helm");
    Command::new(&helm)
        .args(args)
        // Keep helm away from the user's config, cache and any kubeconfig.
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("clouddb-helm-config"),
        )
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("clouddb-helm-cache"),
        )
        .env(
            "HELM_DATA_HOME",
            std::env::temp_dir().join("clouddb-helm-data"),
        )
        .env("KUBECONFIG", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", helm.display()))
}

/// `helm template` with extra arguments; returns the rendered documents.
pub(crate) fn render(extra: &[&str]) -> Vec<Value> {
    let chart = chart_dir();
    let chart = chart.to_str().unwrap();
    let mut args = vec!["template", RELEASE, chart, "--namespace", NAMESPACE];
    args.extend_from_slice(extra);
    let out = helm(&args);
    assert!(
        out.status.success(),
        "helm {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::parse_yaml_stream(&String::from_utf8(out.stdout).unwrap())
}

fn ci_values(name: &str) -> String {
    chart_dir()
        .join("ci")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

fn render_namespaced() -> Vec<Value> {
    render(&["-f", &ci_values("namespaced-values.yaml")])
}

fn render_keep() -> Vec<Value> {
    render(&["-f", &ci_values("keep-crds-values.yaml")])
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<_> = of_kind(docs, kind)
        .into_iter()
        .filter(|d| d["metadata"]["name"] == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} {name}, found {}",
        found.len()
    );
    found[0]
}

pub(crate) fn container(docs: &[Value]) -> &Value {
    let deploy = one(docs, "Deployment", FULLNAME);
    let containers = deploy["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    &containers[0]
}

fn args(docs: &[Value]) -> Vec<String> {
    container(docs)["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// The exact rules the controller needs on CloudDbJobs, CloudDbInstances, Secrets and
/// Events: `create` on CloudDbJobs is for the jobs an instance discovers.
fn controller_rules() -> Value {
    json!([
        {"apiGroups": ["clouddb.io"], "resources": ["clouddbjobs"], "verbs": ["list", "watch", "create", "delete"]},
        {"apiGroups": ["clouddb.io"], "resources": ["clouddbjobs/status"], "verbs": ["patch"]},
        {"apiGroups": ["clouddb.io"], "resources": ["clouddbinstances"], "verbs": ["list", "watch"]},
        {"apiGroups": ["clouddb.io"], "resources": ["clouddbinstances/status"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    ])
}

fn lease_rules() -> Value {
    json!([{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "patch"]}])
}

/// No rule anywhere may use a wildcard, and lease rules may appear only in namespaced Roles.
fn assert_no_wildcards_and_leases_only_in_roles(docs: &[Value]) {
    for kind in ["Role", "ClusterRole"] {
        for role in of_kind(docs, kind) {
            for rule in role["rules"].as_array().unwrap() {
                for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
                    for v in rule[field].as_array().into_iter().flatten() {
                        assert_ne!(v, "*", "wildcard in {kind} {}", role["metadata"]["name"]);
                    }
                }
                let leases = rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "leases");
                if leases {
                    assert_eq!(kind, "Role", "leases granted by a ClusterRole");
                    assert_eq!(
                        role["metadata"]["namespace"], NAMESPACE,
                        "leases outside the release namespace"
                    );
                }
            }
        }
    }
}

fn assert_binds_service_account(binding: &Value, role_kind: &str, role_name: &str) {
    assert_eq!(binding["roleRef"]["kind"], role_kind);
    assert_eq!(binding["roleRef"]["name"], role_name);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
    );
}

#[test]
fn lint_passes_for_default_and_ci_values() {
    let chart = chart_dir();
    let chart = chart.to_str().unwrap();
    for values in [
        None,
        Some("namespaced-values.yaml"),
        Some("keep-crds-values.yaml"),
    ] {
        let mut args = vec!["lint", "--strict", chart];
        let path;
        if let Some(v) = values {
            path = ci_values(v);
            args.extend(["-f", &path]);
        }
        let out = helm(&args);
        assert!(
            out.status.success(),
            "helm lint with {values:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn default_rbac_is_a_least_privilege_cluster_role_plus_a_lease_role() {
    let docs = render(&[]);
    let cr = one(&docs, "ClusterRole", FULLNAME);
    assert_eq!(cr["rules"], controller_rules());
    assert_binds_service_account(
        one(&docs, "ClusterRoleBinding", FULLNAME),
        "ClusterRole",
        FULLNAME,
    );

    let lease_name = format!("{FULLNAME}-leader-election");
    let roles = of_kind(&docs, "Role");
    assert_eq!(roles.len(), 1, "only the lease Role in cluster mode");
    let lease_role = one(&docs, "Role", &lease_name);
    assert_eq!(lease_role["metadata"]["namespace"], NAMESPACE);
    assert_eq!(lease_role["rules"], lease_rules());
    let lease_binding = one(&docs, "RoleBinding", &lease_name);
    assert_eq!(lease_binding["metadata"]["namespace"], NAMESPACE);
    assert_binds_service_account(lease_binding, "Role", &lease_name);

    assert_no_wildcards_and_leases_only_in_roles(&docs);
    let sa = one(&docs, "ServiceAccount", FULLNAME);
    assert_eq!(sa["metadata"]["namespace"], NAMESPACE);
}

#[test]
fn namespaced_mode_uses_a_role_in_the_watched_namespace() {
    let docs = render_namespaced();
    assert!(
        of_kind(&docs, "ClusterRole").is_empty(),
        "no ClusterRole in namespaced mode"
    );
    assert!(of_kind(&docs, "ClusterRoleBinding").is_empty());

    let role = one(&docs, "Role", FULLNAME);
    assert_eq!(role["metadata"]["namespace"], "databases");
    assert_eq!(role["rules"], controller_rules());
    let binding = one(&docs, "RoleBinding", FULLNAME);
    assert_eq!(binding["metadata"]["namespace"], "databases");
    assert_binds_service_account(binding, "Role", FULLNAME);

    let lease_role = one(&docs, "Role", &format!("{FULLNAME}-leader-election"));
    assert_eq!(lease_role["metadata"]["namespace"], NAMESPACE);
    assert_eq!(lease_role["rules"], lease_rules());
    assert_no_wildcards_and_leases_only_in_roles(&docs);

    assert!(args(&docs).contains(&"--namespace=databases".to_owned()));
}

#[test]
fn leader_election_disabled_drops_the_lease_role_and_flags() {
    let docs = render_keep();
    assert!(
        of_kind(&docs, "Role").is_empty(),
        "no lease Role without leader election"
    );
    assert!(of_kind(&docs, "RoleBinding").is_empty());
    assert!(
        args(&docs).iter().all(|a| !a.contains("lease")),
        "{:?}",
        args(&docs)
    );
}

#[test]
fn default_args_probes_and_env() {
    let docs = render(&[]);
    assert_eq!(
        args(&docs),
        [
            "--metrics-addr=0.0.0.0:8080",
            "--log-format=json",
            "--leader-election",
            "--lease-name=clouddb-job-operator",
            "--lease-namespace=ops",
        ]
    );
    let c = container(&docs);
    assert_eq!(
        c["image"], "clouddb-job-operator:0.1.0",
        "tag defaults to appVersion"
    );
    assert_eq!(
        c["ports"],
        json!([{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        c["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "metrics"})
    );
    assert_eq!(
        c["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "metrics"})
    );
    let env = c["env"].as_array().unwrap();
    let pod_ns = env
        .iter()
        .find(|e| e["name"] == "POD_NAMESPACE")
        .expect("POD_NAMESPACE env");
    assert_eq!(
        pod_ns["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    let rust_log = env
        .iter()
        .find(|e| e["name"] == "RUST_LOG")
        .expect("RUST_LOG env");
    assert_eq!(rust_log["value"], "info");
    assert!(c["resources"]["limits"]["memory"].is_string());
    assert!(
        c.get("volumeMounts").is_none(),
        "no mounts without an extra CA"
    );

    let deploy = one(&docs, "Deployment", FULLNAME);
    assert_eq!(deploy["spec"]["replicas"], 1);
    assert!(
        of_kind(&docs, "PodDisruptionBudget").is_empty(),
        "no PDB for one replica"
    );
    assert!(of_kind(&docs, "ServiceMonitor").is_empty());
    let svc = one(&docs, "Service", &format!("{FULLNAME}-metrics"));
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "metrics");
    assert_eq!(
        svc["spec"]["selector"], deploy["spec"]["selector"]["matchLabels"],
        "the Service selects the controller pods"
    );
}

#[test]
fn non_default_args_ha_service_monitor_and_extra_ca() {
    let docs = render_namespaced();
    assert_eq!(
        args(&docs),
        [
            "--metrics-addr=0.0.0.0:9090",
            "--log-format=text",
            "--namespace=databases",
            "--leader-election",
            "--lease-name=clouddb-job-operator",
            "--lease-namespace=ops",
            "--allowed-endpoints=sqladmin-*.p.googleapis.com,**.db-gateway.corp.example",
            "--extra-ca-file=/etc/clouddb-job-operator/extra-ca/bundle.pem",
            "--max-concurrent-polls=16",
        ]
    );
    // The rendered flag means what the values say: `run` splits it into the two patterns,
    // which extend the built-in provider hosts (`*` within one label, `**.` any depth).
    let CliCommand::Run(run) = Cli::try_parse_from(
        ["clouddb-job-operator", "run"]
            .map(String::from)
            .into_iter()
            .chain(args(&docs)),
    )
    .unwrap()
    .command
    else {
        panic!("not the run command");
    };
    let policy = EndpointPolicy::with_defaults(run.allowed_endpoints);
    let allows = |host: &str| policy.check(&url::Url::parse(host).unwrap()).is_ok();
    assert!(allows("https://sqladmin-psc1.p.googleapis.com"));
    assert!(allows("https://pg.eu.db-gateway.corp.example"));
    assert!(
        allows("https://rds.us-east-1.amazonaws.com"),
        "built-in hosts stay"
    );
    assert!(!allows("https://db-gateway.corp.example"));
    assert!(!allows("https://sqladmin-x.a.p.googleapis.com"));
    assert!(!allows("https://bucket.storage.googleapis.com"));
    let c = container(&docs);
    assert_eq!(
        c["image"],
        "registry.example.com/platform/clouddb-job-operator:0.1.0-rc1"
    );
    assert_eq!(
        c["volumeMounts"],
        json!([{"name": "extra-ca", "mountPath": "/etc/clouddb-job-operator/extra-ca", "readOnly": true}])
    );
    let deploy = one(&docs, "Deployment", FULLNAME);
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert_eq!(
        deploy["spec"]["template"]["spec"]["volumes"],
        json!([{"name": "extra-ca", "configMap": {"name": "corporate-ca", "items": [{"key": "bundle.pem", "path": "bundle.pem"}]}}])
    );

    let pdb = one(&docs, "PodDisruptionBudget", FULLNAME);
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(pdb["spec"]["selector"], deploy["spec"]["selector"]);

    let sm = one(&docs, "ServiceMonitor", FULLNAME);
    assert_eq!(sm["metadata"]["labels"]["release"], "kube-prometheus-stack");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(sm["spec"]["endpoints"][0]["path"], "/metrics");
    assert_eq!(
        sm["spec"]["selector"]["matchLabels"],
        deploy["spec"]["selector"]["matchLabels"]
    );

    // Extra CA from a Secret, image pinned by digest.
    let docs = render_keep();
    let deploy = one(&docs, "Deployment", FULLNAME);
    assert_eq!(
        deploy["spec"]["template"]["spec"]["volumes"][0]["secret"],
        json!({"secretName": "provider-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]})
    );
    assert!(args(&docs)
        .contains(&"--extra-ca-file=/etc/clouddb-job-operator/extra-ca/ca.crt".to_owned()));
    assert_eq!(
        container(&docs)["image"],
        "clouddb-job-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
}

#[test]
fn pod_and_container_security_context_defaults() {
    let docs = render(&[]);
    let pod = &one(&docs, "Deployment", FULLNAME)["spec"]["template"]["spec"];
    let psc = &pod["securityContext"];
    assert_eq!(psc["runAsNonRoot"], true);
    assert_eq!(psc["runAsUser"], 65532);
    assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault");

    let sc = &container(&docs)["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["runAsUser"], 65532);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"], json!({"drop": ["ALL"]}));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
}

/// The CRDs the chart installs: CloudDbJob and CloudDbInstance.
const CRD_NAMES: [&str; 2] = ["clouddbjobs.clouddb.io", "clouddbinstances.clouddb.io"];

#[test]
fn crd_follows_install_and_keep() {
    // Kept by default: `helm uninstall` must not delete every CloudDbJob in the cluster.
    let default = render(&[]);
    let not_kept = render(&["--set", "crds.keep=false"]);
    let keep = render_keep();
    for name in CRD_NAMES {
        let crd = one(&default, "CustomResourceDefinition", name);
        assert_eq!(
            crd["metadata"]["annotations"],
            json!({"helm.sh/resource-policy": "keep"}),
            "{name} kept by default"
        );
        let crd = one(&not_kept, "CustomResourceDefinition", name);
        assert!(
            crd["metadata"].get("annotations").is_none(),
            "no keep annotation on {name} with crds.keep=false: {}",
            crd["metadata"]
        );
        let crd = one(&keep, "CustomResourceDefinition", name);
        assert_eq!(
            crd["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
        assert_eq!(
            crd["metadata"]["annotations"]["example.com/owner"],
            "platform-team"
        );
    }
    assert_eq!(of_kind(&default, "CustomResourceDefinition").len(), 2);

    let namespaced = render_namespaced();
    assert!(
        of_kind(&namespaced, "CustomResourceDefinition").is_empty(),
        "crds.install=false"
    );
}

#[test]
fn chart_crds_match_the_binary() {
    let docs = render(&["--set", "crds.keep=true"]);
    let instance_yaml = clouddb_job_operator::cli::crd::instance_crd_yaml().unwrap();
    let mut instance = common::parse_yaml_stream(&instance_yaml);
    assert_eq!(instance.len(), 1, "one document");
    for (name, mut generated, template) in [
        (CRD_NAMES[0], common::generated_crd(), "crd.yaml"),
        (CRD_NAMES[1], instance.remove(0), "crd-instance.yaml"),
    ] {
        let mut chart_crd = one(&docs, "CustomResourceDefinition", name).clone();
        // Helm adds labels and annotations; everything else must be identical.
        for crd in [&mut chart_crd, &mut generated] {
            let meta = crd["metadata"].as_object_mut().unwrap();
            meta.remove("labels");
            meta.remove("annotations");
        }
        assert!(
            chart_crd == generated,
            "charts/clouddb-job-operator/templates/{template} is out of date with \
             `clouddb-job-operator crd`: run scripts/gen-chart-crd.sh"
        );
    }
}

#[test]
fn schema_and_template_checks_reject_bad_values() {
    let chart = chart_dir();
    let chart = chart.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (&["--set", "replicaCount=abc"], "replicaCount"),
        (&["--set", "unknownKey=1"], "unknownKey"),
        (&["--set", "logFormat=xml"], "logFormat"),
        (&["--set", "image.pullPolicy=Sometimes"], "pullPolicy"),
        (
            &[
                "--set",
                "extraCA.configMapName=a",
                "--set",
                "extraCA.secretName=b",
            ],
            "extraCA",
        ),
        (
            &[
                "--set",
                "replicaCount=2",
                "--set",
                "leaderElection.enabled=false",
            ],
            "leaderElection",
        ),
        // An STS override for a provider that does not exist (a typo would otherwise
        // leave the real cloud's STS in use without a word).
        (
            &[
                "--set",
                "workloadIdentity.stsEndpoints.amazon=https://sts.example.com",
            ],
            "amazon",
        ),
        (
            &[
                "--set",
                "workloadIdentity.stsEndpoints.aws=sts.amazonaws.com",
            ],
            "stsEndpoints",
        ),
    ];
    for (set, mention) in cases {
        let mut args = vec!["template", RELEASE, chart];
        args.extend_from_slice(set);
        let out = helm(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "helm template {set:?} should fail");
        assert!(
            stderr.contains(mention),
            "error for {set:?} should mention {mention}: {stderr}"
        );
    }
    // The same mechanism accepts a good value.
    let docs = render(&["--set", "replicaCount=3"]);
    assert_eq!(one(&docs, "Deployment", FULLNAME)["spec"]["replicas"], 3);
}

const VAP: &str = "ValidatingAdmissionPolicy";
const VAP_BINDING: &str = "ValidatingAdmissionPolicyBinding";

/// The policy's CEL expressions (variables, validations, messages) in one text, to look for
/// the checks it makes.
fn policy_expressions(policy: &Value) -> String {
    let spec = &policy["spec"];
    let mut text = Vec::new();
    for v in spec["variables"].as_array().unwrap() {
        text.push(format!("{}: {}", v["name"], v["expression"]));
    }
    for v in spec["validations"].as_array().unwrap() {
        text.push(v["expression"].as_str().unwrap().to_owned());
        text.push(v["messageExpression"].as_str().unwrap().to_owned());
    }
    text.join("\n")
}

#[test]
fn admission_policy_is_on_by_default_and_bound_to_every_namespace() {
    let docs = render(&[]);
    let policy = one(&docs, VAP, FULLNAME);
    assert_eq!(policy["apiVersion"], "admissionregistration.k8s.io/v1");
    let spec = &policy["spec"];
    assert_eq!(spec["failurePolicy"], "Fail");
    // CREATE and UPDATE of the resource itself: not the status subresource (the operator's
    // writes), not DELETE.
    assert_eq!(
        spec["matchConstraints"]["resourceRules"],
        json!([{
            "apiGroups": ["clouddb.io"],
            "apiVersions": ["*"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["clouddbjobs"],
        }])
    );
    let validations = spec["validations"].as_array().unwrap();
    assert_eq!(validations.len(), 2, "{validations:?}");
    for v in validations {
        assert_eq!(v["reason"], "Forbidden", "{v}");
    }
    let cel = policy_expressions(policy);
    for needle in [
        "object.spec.credentialsSecretRef.name",
        "oldObject.spec.credentialsSecretRef.name",
        "object.spec.identity.serviceAccountName",
        "oldObject.spec.identity.serviceAccountName",
        "authorizer.group('').resource('secrets').namespace(request.namespace).name(variables.secret).check('get').allowed()",
        "authorizer.group('').resource('serviceaccounts').namespace(request.namespace).name(variables.serviceAccount).check('get').allowed()",
        "variables.secret == variables.oldSecret",
        "variables.serviceAccount == variables.oldServiceAccount",
        "may not get Secret",
        "may not get ServiceAccount",
        "request.userInfo.username",
    ] {
        assert!(cel.contains(needle), "the policy lacks {needle:?}:\n{cel}");
    }

    let binding = one(&docs, VAP_BINDING, FULLNAME);
    assert_eq!(binding["spec"]["policyName"], FULLNAME);
    assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
    assert!(
        binding["spec"].get("matchResources").is_none(),
        "cluster-wide mode: every namespace: {}",
        binding["spec"]
    );
}

#[test]
fn admission_policy_in_namespaced_mode_binds_the_watched_namespace_only() {
    let docs = render_namespaced();
    let name = format!("{FULLNAME}-databases");
    assert_eq!(of_kind(&docs, VAP).len(), 1);
    let policy = one(&docs, VAP, &name);
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
    let binding = one(&docs, VAP_BINDING, &name);
    assert_eq!(binding["spec"]["policyName"], name.as_str());
    assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
    assert_eq!(
        binding["spec"]["matchResources"],
        json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "databases"}}})
    );
}

#[test]
fn admission_policy_off_when_disabled_and_refused_on_a_cluster_without_the_api() {
    for docs in [
        render(&["--set", "admissionPolicy.enabled=false"]),
        render_keep(),
    ] {
        assert!(of_kind(&docs, VAP).is_empty());
        assert!(of_kind(&docs, VAP_BINDING).is_empty());
    }
    // Kubernetes 1.29 has no admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy: the
    // install stops and says how to go on, rather than installing no check.
    let chart = chart_dir();
    let out = helm(&[
        "template",
        RELEASE,
        chart.to_str().unwrap(),
        "--kube-version",
        "1.29.4",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "rendered for Kubernetes 1.29");
    assert!(
        stderr.contains("admissionPolicy.enabled=false") && stderr.contains("1.30"),
        "{stderr}"
    );
    let docs = render(&[
        "--kube-version",
        "1.29.4",
        "--set",
        "admissionPolicy.enabled=false",
    ]);
    assert!(of_kind(&docs, VAP).is_empty());
    one(&docs, "Deployment", FULLNAME);
}
